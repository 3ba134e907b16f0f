//! Explaining one event: the question operators ask most, "why was (or wasn't) this key
//! invalidated?".
//!
//! [`Planner::explain`] answers it with the planner's own rules, not a second copy of them: for
//! every origin of every distribution that reaches the event's bucket, the viewer path the key has
//! through it ([`crate::origin`]), the behavior that serves that path (the first match,
//! [`crate::behavior`]), and what [`Planner::decide_behavior`] and [`Planner::cover`] make of it (an
//! item, or a [`Reason`]), plus the other viewer paths the origin serves the key at (index
//! documents, the default root object, [`Planner::derived_paths`]). Then, per distribution, what
//! [`Planner::plan`] gives for this event alone: the items one CreateInvalidation would receive,
//! or why there are none.

use std::sync::Arc;

use serde::Serialize;

use crate::behavior::Matches;
use crate::event::{Change, ObjectEvent};
use crate::exception::Exceptions;
use crate::path::push_encoded;

use super::compile::Route;
use super::decide::Outcome;
use super::route::item_note;
use super::{pre_filter, ItemReason, Planner, Reason};

/// What one event gives, route by route and distribution by distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// Set when the event is dropped before any distribution is looked at: a test event, an event
    /// that changes nothing, or a creation under the bucket's `exceptionPaths`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<Reason>,
    /// Every origin that reaches the bucket, by distribution (in the order given to the planner),
    /// then by OriginPath.
    pub routes: Vec<RouteExplanation>,
    /// Every distribution that reaches the bucket, in the same order: what this event alone makes
    /// it receive.
    pub distributions: Vec<DistributionExplanation>,
}

/// One origin of one distribution that reaches the event's bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteExplanation {
    pub distribution_id: Arc<str>,
    /// The distribution tenant this route is for, when the distribution is multi-tenant: each
    /// tenant fills the origins' `{{parameter}}` placeholders with its own values, so each has
    /// routes of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_tenant_id: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_tenant_name: Option<Arc<str>>,
    pub origin_id: Arc<str>,
    /// The key prefix the origin's OriginPath stands for (`production/` for `/production`), empty
    /// without one.
    pub key_prefix: String,
    /// How the key is served through this origin at its own viewer path; `None` when the key lies
    /// outside the OriginPath (`no-origin`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served: Option<ViewerPath>,
    /// The other viewer paths the origin serves the key at (an index document's directory, `/` for
    /// the default root object).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub derived: Vec<ViewerPath>,
}

/// One viewer path, the behavior that serves it, and what that gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewerPath {
    /// Percent-encoded, as the behaviors' patterns are matched against it.
    pub path: String,
    /// The pattern of the behavior that serves it (`*` for the default behavior).
    pub behavior: String,
    pub default_behavior: bool,
    /// The origin (or origin group) that behavior targets.
    pub target: Arc<str>,
    #[serde(flatten)]
    pub outcome: PathOutcome,
}

/// What a viewer path gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum PathOutcome {
    /// This item is invalidated; `note` says why it is not simply the path.
    Item {
        item: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<ItemReason>,
    },
    /// Nothing is invalidated for this path, for this reason.
    Skipped { reason: Reason },
}

/// One distribution that reaches the event's bucket, and what this event alone gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DistributionExplanation {
    pub distribution_id: Arc<str>,
    /// The distribution tenant that would receive the items (CreateInvalidationForDistributionTenant),
    /// when the distribution is multi-tenant; one entry per tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_tenant_id: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_tenant_name: Option<Arc<str>>,
    /// What CreateInvalidation would receive for this event alone (after the distribution's
    /// policy); empty when `reason` says why.
    pub items: Vec<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
}

impl Planner {
    /// Why `event` gives the items it gives, or none; see the module documentation.
    pub fn explain(&self, event: &ObjectEvent, exceptions: &Exceptions) -> Explanation {
        let skipped = pre_filter(event, exceptions);
        let created = event.change == Change::Created;
        let groups = self.buckets.get(&event.bucket).map(|(_, groups)| groups.as_slice()).unwrap_or_default();
        let mut routes = Vec::new();
        for group in groups {
            for route in &group.routes {
                let rest = event.key.strip_prefix(group.key_prefix.as_str());
                let served = rest.map(|rest| {
                    let outcome = |o| skipped.map_or(o, |reason| PathOutcome::Skipped { reason });
                    let mut own = self.viewer_path(route, &group.patterns, &format!("/{rest}"), created, None);
                    own.outcome = outcome(own.outcome);
                    let derived = self
                        .derived_paths(route, rest)
                        .into_iter()
                        .map(|(path, why)| {
                            let mut p = self.viewer_path(route, &group.patterns, &path, created, Some(why));
                            p.outcome = outcome(p.outcome);
                            p
                        })
                        .collect();
                    (own, derived)
                });
                let (served, derived) = match served {
                    Some((own, derived)) => (Some(own), derived),
                    None => (None, Vec::new()),
                };
                let tenant = self.dists[route.dist].tenant.as_ref();
                routes.push((
                    route.dist,
                    RouteExplanation {
                        distribution_id: self.dists[route.dist].id.clone(),
                        distribution_tenant_id: tenant.map(|t| t.id.clone()),
                        distribution_tenant_name: tenant.map(|t| t.name.clone()),
                        origin_id: route.origin_id.clone(),
                        key_prefix: group.key_prefix.clone(),
                        served,
                        derived,
                    },
                ));
            }
        }
        // Stable: a distribution's origins stay in OriginPath-group order.
        routes.sort_by_key(|(dist, _)| *dist);
        // One answer per distribution, or per tenant of a multi-tenant one (each a planner entry).
        let mut entries: Vec<usize> = routes.iter().map(|(dist, _)| *dist).collect();
        entries.dedup();
        let routes: Vec<RouteExplanation> = routes.into_iter().map(|(_, r)| r).collect();

        // Each answer is the plan's own, for this event alone.
        let plan = self.plan(std::slice::from_ref(event), exceptions);
        let distributions = entries
            .into_iter()
            .map(|entry| {
                let id = &self.dists[entry].id;
                let tenant = self.dists[entry].tenant.as_ref();
                let tenant_id = tenant.map(|t| &t.id);
                let items = plan
                    .invalidations
                    .iter()
                    .find(|d| d.distribution_id == *id && d.tenant.as_ref().map(|t| &t.id) == tenant_id)
                    .map(|d| d.items.clone())
                    .unwrap_or_default();
                let reason = if items.is_empty() {
                    plan.skipped
                        .iter()
                        .find(|s| {
                            s.distribution_id.as_ref() == Some(id) && s.distribution_tenant_id.as_ref() == tenant_id
                        })
                        .or_else(|| plan.skipped.iter().find(|s| s.distribution_id.is_none()))
                        .map(|s| s.reason)
                } else {
                    None
                };
                DistributionExplanation {
                    distribution_id: id.clone(),
                    distribution_tenant_id: tenant_id.cloned(),
                    distribution_tenant_name: tenant.map(|t| t.name.clone()),
                    items,
                    reason,
                }
            })
            .collect();
        Explanation { skipped, routes, distributions }
    }

    /// A viewer path (not yet encoded) of one route: the behavior that serves it and what the
    /// rules decide. `why` is set for a derived path (its item's note).
    fn viewer_path(
        &self,
        route: &Route,
        patterns: &crate::behavior::PatternSet,
        viewer: &str,
        created: bool,
        why: Option<ItemReason>,
    ) -> ViewerPath {
        let mut encoded = String::with_capacity(viewer.len());
        push_encoded(viewer, &mut encoded);
        let mut matches = Matches::default();
        patterns.matching(&encoded, &mut matches);
        let bi = route.order.first_match(&matches);
        let dist = &self.dists[route.dist];
        let (on_create, on_remove) = self.decide_behavior(route, bi);
        let outcome = match if created { on_create } else { on_remove } {
            Outcome::Item(variant) => match self.cover(&encoded, variant) {
                Some((item, reason)) => {
                    PathOutcome::Item { item: item.into_owned(), note: why.or(item_note(variant, reason)) }
                }
                None => PathOutcome::Skipped { reason: Reason::TooBroad },
            },
            Outcome::NotCached => PathOutcome::Skipped { reason: Reason::NotCached },
            Outcome::NotServed => PathOutcome::Skipped { reason: Reason::NotServed },
        };
        ViewerPath {
            behavior: dist.patterns[bi].as_str().to_owned(),
            default_behavior: bi + 1 == dist.patterns.len(),
            target: dist.targets[bi].clone(),
            path: encoded,
            outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::CachePolicies;
    use crate::distribution::{CacheBehavior, Distribution, Origin};
    use crate::exception::ExceptionPaths;
    use crate::plan::PlanOptions;
    use proptest::prelude::*;

    const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
    const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

    fn origin(id: &str, domain: &str, origin_path: &str) -> Origin {
        Origin { id: id.into(), domain_name: domain.into(), origin_path: origin_path.into() }
    }

    /// A site on bucket `site`, `/api/*` to an API, `/live/*` caching nothing.
    fn site() -> Distribution {
        Distribution {
            id: "E1".into(),
            origins: vec![origin("s3", "site.s3.amazonaws.com", ""), origin("api", "api.example.com", "")],
            behaviors: vec![
                CacheBehavior::with_policy("/api/*", "api", CACHING_DISABLED),
                CacheBehavior::with_policy("/live/*", "s3", CACHING_DISABLED),
            ],
            default_behavior: CacheBehavior::with_policy("*", "s3", CACHING_OPTIMIZED),
            ..Default::default()
        }
    }

    /// The same bucket under `/public` through a second distribution.
    fn public() -> Distribution {
        Distribution {
            id: "E2".into(),
            origins: vec![origin("pub", "site.s3.us-east-1.amazonaws.com", "/public")],
            default_behavior: CacheBehavior::legacy("*", "pub", None),
            ..Default::default()
        }
    }

    fn planner(dists: &[Distribution]) -> Planner {
        Planner::new(dists, &CachePolicies::managed(), PlanOptions::default())
    }

    fn exceptions() -> Exceptions {
        let mut e = Exceptions::new();
        e.insert("site", ExceptionPaths::parse("up/"));
        e
    }

    fn explain(key: &str, change: Change) -> Explanation {
        planner(&[site(), public()]).explain(&ObjectEvent::new("site", key, change), &exceptions())
    }

    fn item(item: &str) -> PathOutcome {
        PathOutcome::Item { item: item.into(), note: None }
    }

    fn skipped(reason: Reason) -> PathOutcome {
        PathOutcome::Skipped { reason }
    }

    #[test]
    fn a_served_key_names_its_origin_path_and_behavior() {
        let x = explain("index.html", Change::Created);
        assert_eq!(x.skipped, None);
        assert_eq!(x.routes.len(), 2);
        let r = &x.routes[0];
        assert_eq!((&*r.distribution_id, &*r.origin_id, r.key_prefix.as_str()), ("E1", "s3", ""));
        let served = r.served.as_ref().unwrap();
        assert_eq!(
            served,
            &ViewerPath {
                path: "/index.html".into(),
                behavior: "*".into(),
                default_behavior: true,
                target: "s3".into(),
                outcome: item("/index.html"),
            }
        );
        // Outside /public: the second distribution reaches the bucket, but not at this key.
        assert_eq!((&*x.routes[1].distribution_id, &x.routes[1].served), ("E2", &None));
        assert_eq!(x.distributions[0].items, [Arc::from("/index.html")]);
        assert_eq!(
            x.distributions[1],
            DistributionExplanation {
                distribution_id: "E2".into(),
                distribution_tenant_id: None,
                distribution_tenant_name: None,
                items: vec![],
                reason: Some(Reason::NoOrigin)
            }
        );
    }

    #[test]
    fn a_key_another_origin_serves_is_not_served() {
        let x = explain("api/spec json", Change::Removed);
        let served = x.routes[0].served.as_ref().unwrap();
        assert_eq!(served.path, "/api/spec%20json");
        assert_eq!((served.behavior.as_str(), served.default_behavior, &*served.target), ("/api/*", false, "api"));
        assert_eq!(served.outcome, skipped(Reason::NotServed));
        assert_eq!(x.distributions[0].reason, Some(Reason::NotServed));
    }

    #[test]
    fn an_exception_path_skips_creations_only() {
        let x = explain("up/a.jpg", Change::Created);
        assert_eq!(x.skipped, Some(Reason::ExceptionPath));
        assert_eq!(x.routes[0].served.as_ref().unwrap().outcome, skipped(Reason::ExceptionPath));
        assert_eq!(x.distributions[0].reason, Some(Reason::ExceptionPath));
        let x = explain("up/a.jpg", Change::Removed);
        assert_eq!(x.skipped, None);
        assert_eq!(x.routes[0].served.as_ref().unwrap().outcome, item("/up/a.jpg"));
        assert_eq!(x.distributions[0].items, [Arc::from("/up/a.jpg")]);
    }

    #[test]
    fn a_behavior_that_caches_nothing_skips_creations_only() {
        let x = explain("live/feed.m3u8", Change::Created);
        let served = x.routes[0].served.as_ref().unwrap();
        assert_eq!((served.behavior.as_str(), &served.outcome), ("/live/*", &skipped(Reason::NotCached)));
        assert_eq!(x.distributions[0].reason, Some(Reason::NotCached));
        let x = explain("live/feed.m3u8", Change::Removed);
        assert_eq!(x.routes[0].served.as_ref().unwrap().outcome, item("/live/feed.m3u8"));
    }

    #[test]
    fn an_origin_path_shifts_the_viewer_path() {
        let x = explain("public/app.js", Change::Created);
        let r = x.routes.iter().find(|r| &*r.distribution_id == "E2").unwrap();
        assert_eq!(r.key_prefix, "public/");
        assert_eq!(r.served.as_ref().unwrap().outcome, item("/app.js"));
        assert_eq!(x.distributions[1].items, [Arc::from("/app.js")]);
    }

    #[test]
    fn a_bucket_no_distribution_reaches_has_no_routes() {
        let x = planner(&[site()]).explain(&ObjectEvent::new("other", "a", Change::Created), &Exceptions::new());
        assert!(x.routes.is_empty() && x.distributions.is_empty() && x.skipped.is_none());
    }

    #[test]
    fn index_documents_and_the_default_root_object_are_derived_paths_with_their_notes() {
        let web = Distribution {
            id: "E3".into(),
            origins: vec![origin("web", "site.s3-website-us-east-1.amazonaws.com", "")],
            default_behavior: CacheBehavior::legacy("*", "web", None),
            default_root_object: Some("guide/index.html".into()),
            ..Default::default()
        };
        let x = planner(&[web]).explain(&ObjectEvent::new("site", "guide/index.html", Change::Created), &exceptions());
        let derived: Vec<(&str, &PathOutcome)> =
            x.routes[0].derived.iter().map(|p| (p.path.as_str(), &p.outcome)).collect();
        let note = |i: &str, why| PathOutcome::Item { item: i.into(), note: Some(why) };
        assert_eq!(
            derived,
            [
                ("/guide/", &note("/guide/", ItemReason::IndexDocument)),
                ("/guide", &note("/guide", ItemReason::IndexDocument)),
                ("/", &note("/", ItemReason::DefaultRootObject)),
            ]
        );
        let items: Vec<&str> = x.distributions[0].items.iter().map(|i| &**i).collect();
        assert_eq!(items, ["/", "/guide", "/guide/", "/guide/index.html"]);
    }

    #[test]
    fn query_strings_in_the_cache_key_are_noted() {
        let mut d = site();
        d.default_behavior = CacheBehavior::with_policy("*", "s3", "4cc15a8a-d715-48a4-82b8-cc0b614638fe");
        let x = planner(&[d]).explain(&ObjectEvent::new("site", "app.js", Change::Created), &exceptions());
        assert_eq!(
            x.routes[0].served.as_ref().unwrap().outcome,
            PathOutcome::Item { item: "/app.js*".into(), note: Some(ItemReason::QueryStrings) }
        );
    }

    /// A multi-tenant distribution on bucket `shared`, its origin's path `/{{site}}`, and two
    /// tenants: each has routes and an answer of its own, named, and the items of one tenant are
    /// never shown as the other's.
    #[test]
    fn each_tenant_of_a_multi_tenant_distribution_is_explained_on_its_own() {
        let mut d = Distribution {
            id: "EMT".into(),
            origins: vec![origin("s3", "shared.s3.amazonaws.com", "/{{site}}")],
            default_behavior: CacheBehavior::with_policy("*", "s3", CACHING_OPTIMIZED),
            ..Default::default()
        };
        d.multi_tenant = true;
        let tenant = |id: &str, name: &str| crate::distribution::DistributionTenant {
            id: id.into(),
            distribution_id: "EMT".into(),
            name: name.into(),
            domains: vec![],
            parameters: [("site".to_owned(), name.to_owned())].into(),
        };
        let planner = Planner::with_tenants(
            &[d],
            &CachePolicies::managed(),
            PlanOptions::default(),
            &Default::default(),
            &[tenant("dt_acme", "acme"), tenant("dt_globex", "globex")],
        );
        let x = planner.explain(&ObjectEvent::new("shared", "globex/about.html", Change::Created), &Exceptions::new());
        type Answer<'a> = (Option<&'a str>, Option<&'a str>, Vec<&'a str>, Option<Reason>);
        let answers: Vec<Answer> = x
            .distributions
            .iter()
            .map(|d| {
                assert_eq!(&*d.distribution_id, "EMT");
                (
                    d.distribution_tenant_id.as_deref(),
                    d.distribution_tenant_name.as_deref(),
                    d.items.iter().map(|i| &**i).collect(),
                    d.reason,
                )
            })
            .collect();
        assert_eq!(
            answers,
            [
                (Some("dt_acme"), Some("acme"), vec![], Some(Reason::NoOrigin)),
                (Some("dt_globex"), Some("globex"), vec!["/about.html"], None),
            ]
        );
        // acme's origin reads acme/: the key is outside it; globex serves it at /about.html.
        let routes: Vec<(Option<&str>, &str, Option<&str>)> = x
            .routes
            .iter()
            .map(|r| {
                (r.distribution_tenant_id.as_deref(), r.key_prefix.as_str(), r.served.as_ref().map(|p| p.path.as_str()))
            })
            .collect();
        assert_eq!(routes, [(Some("dt_acme"), "acme/", None), (Some("dt_globex"), "globex/", Some("/about.html"))]);
    }

    fn any_event() -> impl Strategy<Value = ObjectEvent> {
        let key = "(api/|live/|up/|public/)?[a-c ~*]{1,3}(/index.html)?";
        let change = prop_oneof![Just(Change::Created), Just(Change::Removed)];
        (key, change).prop_map(|(k, c)| ObjectEvent::new("site", &k, c))
    }

    proptest! {
        /// The routes' items are the plan's, for any key: every item a route gives is covered by
        /// what its distribution receives, and everything it receives comes from some route.
        #[test]
        fn the_routes_agree_with_the_plan(event in any_event()) {
            let x = planner(&[site(), public()]).explain(&event, &exceptions());
            for d in &x.distributions {
                let from_routes: Vec<&str> = x
                    .routes
                    .iter()
                    .filter(|r| r.distribution_id == d.distribution_id && r.distribution_tenant_id == d.distribution_tenant_id)
                    .flat_map(|r| r.served.iter().chain(&r.derived))
                    .filter_map(|p| match &p.outcome {
                        PathOutcome::Item { item, .. } => Some(item.as_str()),
                        PathOutcome::Skipped { .. } => None,
                    })
                    .collect();
                for i in &from_routes {
                    prop_assert!(d.items.iter().any(|p| crate::path::covers(p, i)), "{} not sent", i);
                }
                for p in &d.items {
                    prop_assert!(from_routes.contains(&&**p), "{} from no route", p);
                }
                prop_assert_eq!(d.items.is_empty(), d.reason.is_some());
            }
        }
    }
}
