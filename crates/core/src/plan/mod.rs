//! The plan: for a batch of S3 events, which paths of which distributions to invalidate, in which
//! sets, and why every other (event, distribution) was left alone.
//!
//! A [`Planner`] is compiled once from the distributions and then plans any number of batches. For
//! each event:
//!
//! 1. a test event, or one that changes no content, is skipped (`test-event`, `not-a-change`);
//! 2. a creation under the bucket's `exceptionPaths` is skipped (`exception-path`);
//! 3. every origin that reaches the bucket, and whose OriginPath holds the key, gives a viewer path;
//!    none gives `no-origin`;
//! 4. in each distribution, the first matching behavior must target that origin (or a group that
//!    holds it), otherwise `not-served`; and if it caches nothing, a creation is `not-cached`;
//! 5. what remains is encoded ([`crate::path`]) and added to the distribution's paths.
//!
//! Paths are unique per distribution and sorted, so the same events in any order give the same
//! sets (and the same CallerReferences downstream). Sets hold at most `max_set_size` paths and at
//! most `max_wildcards_per_set` wildcards: CloudFront refuses more than 3000 paths, or 15 wildcard
//! paths, in progress per distribution. An exact path already covered by a wildcard in the same
//! distribution is dropped, since it would be billed for nothing.
//!
//! Read the submodules in this order: the rules, then what makes them fast.
//! - [`route`](self::route): the batch loop, steps 1 to 5 for every event;
//! - [`decide`](self::decide): the decision of one origin of one distribution (steps 4);
//! - [`sets`](self::sets): covered paths dropped, sets cut within CloudFront's limits;
//! - [`compile`](self::compile): the indexes by bucket and OriginPath, and the pattern sets;
//! - [`memo`](self::memo) and [`output`](self::output): speed-ups (decisions memoised by match
//!   set, paths interned and ranked once).
//!
//! ```
//! use cfinv_core::{CacheBehavior, CachePolicies, Change, Distribution, Exceptions, ObjectEvent,
//!                  Origin, PlanOptions, Planner};
//! let site = Distribution {
//!     id: "E1".into(),
//!     origins: vec![Origin { id: "s3".into(), domain_name: "site.s3.amazonaws.com".into(),
//!                            origin_path: String::new() }],
//!     origin_groups: vec![],
//!     behaviors: vec![CacheBehavior::legacy("/live/*", "s3", Some(0))],
//!     default_behavior: CacheBehavior::legacy("*", "s3", None),
//! };
//! let planner = Planner::new(&[site], &CachePolicies::managed(), PlanOptions::default());
//! let events = [ObjectEvent::new("site", "red flower.jpg", Change::Created),
//!               ObjectEvent::new("site", "live/feed.m3u8", Change::Created)];
//! let plan = planner.plan(&events, &Exceptions::new());
//! let sets: Vec<Vec<&str>> = plan.invalidations[0].sets().map(|s| s.iter().map(|p| &**p).collect()).collect();
//! assert_eq!(sets, [["/red%20flower.jpg"]]);
//! assert_eq!(plan.skipped[0].reason.as_str(), "not-cached"); // a creation on a TTL-0 behavior
//! ```

mod compile;
mod decide;
mod memo;
mod output;
mod route;
mod sets;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use serde::Serialize;

use crate::event::{Change, ObjectEvent};
use crate::exception::Exceptions;
use crate::path::WildcardReason;

use compile::{Compiled, PrefixGroup};

/// CloudFront's limit on paths in progress per distribution, hence on one invalidation.
pub const MAX_SET_SIZE: usize = 3000;
/// CloudFront's limit on wildcard paths in progress per distribution.
pub const MAX_WILDCARDS_IN_PROGRESS: usize = 15;

/// Why an (event, distribution) gives no path. The names are stable: they appear in the CLI's
/// output, in `plan.json` and in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Reason {
    /// A creation under the bucket's `exceptionPaths`.
    ExceptionPath,
    /// A creation on a behavior that caches nothing (MaxTTL 0).
    NotCached,
    /// The distribution reaches the bucket, but the behavior that serves the path targets another
    /// origin.
    NotServed,
    /// No origin reaches the bucket under this key (none at all, or the key lies outside its
    /// OriginPath). Without a distribution id: no distribution serves the key; with one: that
    /// distribution reaches the bucket, but not at this key, while another does.
    NoOrigin,
    /// The `s3:TestEvent` sent when a notification is configured.
    TestEvent,
    /// An event that does not change the object's content (restore, tags, ACL...).
    NotAChange,
}

impl Reason {
    /// The stable name (`not-cached`), the same as its JSON.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The reasons an event is dropped before any distribution is looked at: it is a test event, it
/// changes no content, or it is a creation under its bucket's `exceptionPaths`. The ingest Lambda
/// drops these before queueing; the planner gives the same answer for events that reach it anyway.
pub fn pre_filter(event: &ObjectEvent, exceptions: &Exceptions) -> Option<Reason> {
    match event.change {
        Change::Test => Some(Reason::TestEvent),
        Change::Unchanged => Some(Reason::NotAChange),
        _ if exceptions.skips(event) => Some(Reason::ExceptionPath),
        _ => None,
    }
}

/// How many paths a set may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanOptions {
    max_set_size: usize,
    max_wildcards_per_set: usize,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions { max_set_size: MAX_SET_SIZE, max_wildcards_per_set: MAX_WILDCARDS_IN_PROGRESS }
    }
}

/// A set-size limit out of CloudFront's range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error("set size must be between 1 and {MAX_SET_SIZE}, not {0}")]
    SetSize(usize),
    #[error("wildcards per set must be between 1 and {MAX_WILDCARDS_IN_PROGRESS}, not {0}")]
    Wildcards(usize),
}

impl PlanOptions {
    /// Sets of at most `max_set_size` paths (1..=3000) and `max_wildcards_per_set` wildcard paths
    /// (1..=15).
    pub fn new(max_set_size: usize, max_wildcards_per_set: usize) -> Result<Self, OptionsError> {
        if !(1..=MAX_SET_SIZE).contains(&max_set_size) {
            return Err(OptionsError::SetSize(max_set_size));
        }
        if !(1..=MAX_WILDCARDS_IN_PROGRESS).contains(&max_wildcards_per_set) {
            return Err(OptionsError::Wildcards(max_wildcards_per_set));
        }
        Ok(PlanOptions { max_set_size, max_wildcards_per_set })
    }

    pub fn max_set_size(&self) -> usize {
        self.max_set_size
    }
}

/// Something odd in a distribution's config: it is planned as well as it can be, and the operator
/// is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    pub distribution_id: String,
    pub message: String,
}

/// Distributions compiled for planning; see the module documentation.
#[derive(Debug)]
pub struct Planner {
    dists: Vec<Compiled>,
    buckets: HashMap<String, Vec<PrefixGroup>>,
    groups: usize,
    warnings: Vec<Warning>,
    options: PlanOptions,
}

/// An (event, distribution) that gives no path, or an event that gives none at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// Index of the event in the planned slice.
    pub event: usize,
    /// Set when the reason concerns one distribution (`not-served`, `not-cached`).
    pub distribution_id: Option<Arc<str>>,
    pub reason: Reason,
}

/// A path that had to become a wildcard, and the key it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WildcardNote {
    pub path: Arc<str>,
    pub bucket: String,
    pub key: String,
    pub reason: WildcardReason,
}

/// What one distribution is to receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributionPlan {
    pub distribution_id: Arc<str>,
    /// Every path, unique; ordered set by set, sorted within each set.
    pub paths: Vec<Arc<str>>,
    /// The sets, as ranges of `paths`; each is one CreateInvalidation.
    pub sets: Vec<Range<usize>>,
    /// Paths that are wildcards, and why.
    pub wildcards: Vec<WildcardNote>,
}

impl DistributionPlan {
    /// The sets, in order.
    pub fn sets(&self) -> impl Iterator<Item = &[Arc<str>]> + '_ {
        self.sets.iter().map(|r| &self.paths[r.clone()])
    }
}

/// One skipped (event, distribution) as a person or a program reads it: the event's bucket, key
/// and S3 event name, and why. The CLI's JSON and collect's `plan.json` both list these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkipRow<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub event: &'a str,
    pub reason: Reason,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_id: Option<&'a str>,
}

/// The answer for one batch of events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Distributions with at least one path, by id.
    pub invalidations: Vec<DistributionPlan>,
    /// In event order.
    pub skipped: Vec<Skip>,
}

impl Plan {
    /// The skipped (event, distribution) pairs as rows, in event order; `events` are the events
    /// this plan was made from.
    pub fn skip_rows<'a>(&'a self, events: &'a [ObjectEvent]) -> impl Iterator<Item = SkipRow<'a>> + 'a {
        self.skipped.iter().map(move |s| {
            let e = &events[s.event];
            SkipRow {
                bucket: &e.bucket,
                key: &e.key,
                event: &e.event_name,
                reason: s.reason,
                distribution_id: s.distribution_id.as_deref(),
            }
        })
    }

    /// Total paths over all distributions.
    pub fn path_count(&self) -> usize {
        self.invalidations.iter().map(|d| d.paths.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::sets::drop_covered;
    use super::*;
    use crate::cache::CachePolicies;
    use crate::distribution::{CacheBehavior, Distribution, Origin, OriginGroup};
    use crate::exception::ExceptionPaths;
    use crate::path::push_encoded;
    use proptest::prelude::*;

    fn origin(id: &str, domain: &str, origin_path: &str) -> Origin {
        Origin { id: id.into(), domain_name: domain.into(), origin_path: origin_path.into() }
    }

    fn dist(id: &str, origins: Vec<Origin>, behaviors: Vec<CacheBehavior>, default_target: &str) -> Distribution {
        Distribution {
            id: id.into(),
            origins,
            origin_groups: vec![],
            behaviors,
            default_behavior: CacheBehavior::legacy("*", default_target, None),
        }
    }

    fn ev(bucket: &str, key: &str, change: Change) -> ObjectEvent {
        ObjectEvent {
            bucket: bucket.into(),
            key: key.into(),
            change,
            event_name: match change {
                Change::Created => "ObjectCreated:Put",
                Change::Removed => "ObjectRemoved:Delete",
                Change::Unchanged => "ObjectRestore:Completed",
                Change::Test => "s3:TestEvent",
            }
            .into(),
            event_time: None,
            sequencer: None,
        }
    }

    fn plan_of(dists: &[Distribution], events: &[ObjectEvent]) -> Plan {
        Planner::new(dists, &CachePolicies::managed(), PlanOptions::default()).plan(events, &Exceptions::new())
    }

    fn paths(plan: &Plan, id: &str) -> Vec<String> {
        plan.invalidations
            .iter()
            .find(|d| &*d.distribution_id == id)
            .map(|d| d.paths.iter().map(|p| p.to_string()).collect())
            .unwrap_or_default()
    }

    fn reasons(plan: &Plan) -> Vec<(usize, Option<&str>, Reason)> {
        plan.skipped.iter().map(|s| (s.event, s.distribution_id.as_deref(), s.reason)).collect()
    }

    #[test]
    fn first_match_decides_and_other_origins_are_not_served() {
        let d = dist(
            "E1",
            vec![origin("s3", "site.s3.amazonaws.com", ""), origin("app", "app.example.com", "")],
            vec![CacheBehavior::legacy("/app/*", "app", None), CacheBehavior::legacy("/app/static/*", "s3", None)],
            "s3",
        );
        let events = [
            ev("site", "app/static/x.js", Change::Created), // first match is /app/* -> app origin
            ev("site", "index.html", Change::Created),
        ];
        let plan = plan_of(&[d], &events);
        assert_eq!(paths(&plan, "E1"), ["/index.html"]);
        assert_eq!(reasons(&plan), [(0, Some("E1"), Reason::NotServed)]);
    }

    #[test]
    fn ttl_zero_skips_creations_but_not_removals() {
        let mut d = dist(
            "E1",
            vec![origin("s3", "site.s3.amazonaws.com", "")],
            vec![
                CacheBehavior::legacy("/live/*", "s3", Some(0)),
                CacheBehavior::with_policy("/nocache/*", "s3", "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"),
            ],
            "s3",
        );
        d.default_behavior = CacheBehavior::with_policy("*", "s3", "658327ea-f89d-4fab-a63d-7e88639e58f6");
        let events = [
            ev("site", "live/a", Change::Created),
            ev("site", "live/b", Change::Removed),
            ev("site", "nocache/c", Change::Created),
            ev("site", "nocache/d", Change::Removed),
        ];
        let plan = plan_of(&[d], &events);
        assert_eq!(paths(&plan, "E1"), ["/live/b", "/nocache/d"]);
        assert_eq!(reasons(&plan), [(0, Some("E1"), Reason::NotCached), (2, Some("E1"), Reason::NotCached)]);
    }

    #[test]
    fn origin_path_and_two_origins_on_one_bucket() {
        let d = dist(
            "E1",
            vec![
                origin("prod", "site.s3.us-east-1.amazonaws.com", "/production"),
                origin("raw", "site.s3-website-us-east-1.amazonaws.com", ""),
            ],
            vec![CacheBehavior::legacy("/raw/*", "raw", None)],
            "prod",
        );
        let events = [
            // Reachable as /acme/i.html through prod, and as /raw/... only if under raw/.
            ev("site", "production/acme/i.html", Change::Created),
            ev("site", "raw/production/x", Change::Created),
            ev("site", "elsewhere/y", Change::Created),
        ];
        let plan = plan_of(&[d], &events);
        assert_eq!(paths(&plan, "E1"), ["/acme/i.html", "/raw/production/x"]);
        // Event 0 through `raw` gives /production/acme/i.html, served by the default (prod) behavior
        // through a different origin: not-served there, but the distribution got a path, so no skip.
        // Event 2 reaches E1 only through `raw` (outside /production), and the default behavior
        // sends /elsewhere/y to prod: not served.
        assert_eq!(reasons(&plan), [(2, Some("E1"), Reason::NotServed)]);
    }

    #[test]
    fn origin_groups_serve_through_each_member() {
        let mut d = dist(
            "E1",
            vec![
                origin("primary", "site.s3.us-east-1.amazonaws.com", ""),
                origin("replica", "site-dr.s3.us-west-2.amazonaws.com", ""),
            ],
            vec![],
            "failover",
        );
        d.origin_groups =
            vec![OriginGroup { id: "failover".into(), members: vec!["primary".into(), "replica".into()] }];
        let events = [ev("site", "a", Change::Created), ev("site-dr", "b", Change::Created)];
        let plan = plan_of(&[d], &events);
        assert_eq!(paths(&plan, "E1"), ["/a", "/b"]);
        assert!(plan.skipped.is_empty());
    }

    #[test]
    fn early_reasons_and_no_origin() {
        let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "/p")], vec![], "s3");
        let mut exceptions = Exceptions::new();
        exceptions.insert("site", ExceptionPaths::parse("p/up/"));
        let events = [
            ev("site", "", Change::Test),
            ev("site", "p/x", Change::Unchanged),
            ev("site", "p/up/1.jpg", Change::Created),
            ev("site", "p/up/1.jpg", Change::Removed),
            ev("site", "outside", Change::Created),
            ev("logs", "p/x", Change::Created),
        ];
        let planner = Planner::new(&[d], &CachePolicies::managed(), PlanOptions::default());
        let plan = planner.plan(&events, &exceptions);
        assert_eq!(paths(&plan, "E1"), ["/up/1.jpg"]);
        assert_eq!(
            reasons(&plan),
            [
                (0, None, Reason::TestEvent),
                (1, None, Reason::NotAChange),
                (2, None, Reason::ExceptionPath),
                (4, None, Reason::NoOrigin),
                (5, None, Reason::NoOrigin),
            ]
        );
    }

    #[test]
    fn wildcards_cover_and_are_limited_per_set() {
        let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
        let mut events: Vec<ObjectEvent> =
            (0..20).map(|i| ev("site", &format!("w{i:02}*x"), Change::Created)).collect();
        events.push(ev("site", "w05*", Change::Created)); // same wildcard as w05*x
        events.push(ev("site", "w07/plain.txt", Change::Created)); // covered by /w07*
        events.push(ev("site", "x/plain.txt", Change::Created)); // not covered
        events.push(ev("site", "w07*/covered.txt", Change::Created)); // covered by /w07*
        let planner = Planner::new(&[d], &CachePolicies::managed(), PlanOptions::new(10, 15).unwrap());
        let plan = planner.plan(&events, &Exceptions::new());
        let e1 = &plan.invalidations[0];
        assert_eq!(e1.paths.len(), 21, "20 wildcards and one exact path");
        let sets: Vec<&[Arc<str>]> = e1.sets().collect();
        assert_eq!(sets.len(), 3);
        for s in &sets {
            assert!(s.len() <= 10);
            assert!(s.iter().filter(|p| p.ends_with('*')).count() <= 15);
            assert!(s.windows(2).all(|w| w[0] < w[1]), "sorted within a set");
        }
        assert!(e1.wildcards.iter().all(|w| w.reason == WildcardReason::Asterisk));
        assert_eq!(e1.wildcards.len(), 22, "each key that needed a wildcard is noted");
    }

    #[test]
    fn fifteen_wildcards_at_most_per_set() {
        let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
        let events: Vec<ObjectEvent> = (0..40).map(|i| ev("site", &format!("k{i:02}*"), Change::Created)).collect();
        let plan = plan_of(&[d], &events);
        let counts: Vec<usize> = plan.invalidations[0].sets().map(<[_]>::len).collect();
        assert_eq!(counts, [15, 15, 10]);
    }

    #[test]
    fn a_distribution_that_reaches_the_bucket_elsewhere_says_no_origin() {
        let prod = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "/production")], vec![], "s3");
        let all = dist("E2", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
        let plan = plan_of(&[prod, all], &[ev("site", "staging/x.html", Change::Created)]);
        assert_eq!(paths(&plan, "E2"), ["/staging/x.html"]);
        assert_eq!(reasons(&plan), [(0, Some("E1"), Reason::NoOrigin)]);
    }

    #[test]
    fn a_distribution_given_twice_is_planned_once() {
        let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
        let mut other = d.clone();
        other.default_behavior.target_origin_id = "x".into();
        let planner = Planner::new(&[d.clone(), d.clone(), other], &CachePolicies::managed(), PlanOptions::default());
        let plan = planner.plan(&[ev("site", "a", Change::Created)], &Exceptions::new());
        assert_eq!(plan.invalidations.len(), 1);
        assert_eq!(planner.warnings().len(), 1, "a conflicting duplicate is reported");
    }

    #[test]
    fn notes_follow_the_wildcard_that_covers_them() {
        let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
        let plan =
            plan_of(&[d], &[ev("site", "promo/a*x", Change::Created), ev("site", "promo/ab*c", Change::Created)]);
        let e1 = &plan.invalidations[0];
        assert_eq!(e1.paths.iter().map(|p| &**p).collect::<Vec<_>>(), ["/promo/a*"]);
        let notes: Vec<(&str, &str)> = e1.wildcards.iter().map(|w| (&*w.path, w.key.as_str())).collect();
        assert_eq!(notes, [("/promo/a*", "promo/a*x"), ("/promo/a*", "promo/ab*c")]);
    }

    #[test]
    fn covered_exact_paths_are_dropped() {
        let ranks: Vec<&str> = vec!["/a%20b", "/a*", "/ab", "/ab*", "/b", "/b*x"];
        let arcs: Vec<Arc<str>> = ranks.iter().map(|s| Arc::from(*s)).collect();
        let kept = drop_covered(vec![0, 1, 2, 3, 4, 5], |r| &arcs[r as usize]);
        let kept: Vec<&str> = kept.iter().map(|&r| ranks[r as usize]).collect();
        assert_eq!(kept, ["/a*", "/b", "/b*x"]);
    }

    fn any_events() -> impl Strategy<Value = Vec<ObjectEvent>> {
        let key = "[a-c]{1,2}(/[a-c*]{1,3}){0,2}";
        let change = prop_oneof![Just(Change::Created), Just(Change::Removed)];
        proptest::collection::vec((key, change), 0..300)
            .prop_map(|v| v.into_iter().map(|(k, c)| ev("site", &k, c)).collect())
    }

    proptest! {
        #[test]
        fn sets_partition_the_paths_within_limits(events in any_events(), size in 1usize..20, wild in 1usize..16) {
            let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")],
                vec![CacheBehavior::legacy("/a/*", "s3", Some(0))], "s3");
            let planner = Planner::new(&[d], &CachePolicies::managed(), PlanOptions::new(size, wild).unwrap());
            let plan = planner.plan(&events, &Exceptions::new());
            for inv in &plan.invalidations {
                let mut seen = std::collections::HashSet::new();
                let mut covered = 0;
                for set in inv.sets() {
                    prop_assert!(!set.is_empty() && set.len() <= size);
                    prop_assert!(set.iter().filter(|p| p.ends_with('*')).count() <= wild);
                    for p in set {
                        prop_assert!(seen.insert(p.clone()), "duplicate {}", p);
                        covered += 1;
                    }
                }
                prop_assert_eq!(covered, inv.paths.len());
                let ranges_cover = inv.sets.iter().map(|r| r.len()).sum::<usize>();
                prop_assert_eq!(ranges_cover, inv.paths.len());
            }
        }

        #[test]
        fn order_of_events_does_not_change_the_plan(events in any_events()) {
            let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
            let planner = Planner::new(&[d], &CachePolicies::managed(), PlanOptions::new(7, 3).unwrap());
            let mut reversed = events.clone();
            reversed.reverse();
            let a = planner.plan(&events, &Exceptions::new());
            let b = planner.plan(&reversed, &Exceptions::new());
            prop_assert_eq!(a.invalidations, b.invalidations.iter().map(|d| DistributionPlan {
                wildcards: { let mut w = d.wildcards.clone(); w.sort_by(|x, y| (&x.path, &x.key).cmp(&(&y.path, &y.key))); w },
                ..d.clone()
            }).collect::<Vec<_>>());
        }

        #[test]
        fn every_served_key_is_covered(events in any_events()) {
            let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
            let plan = plan_of(&[d], &events);
            for e in &events {
                let mut enc = String::from("/");
                push_encoded(&e.key, &mut enc);
                let all = plan.invalidations.first().map(|d| &d.paths[..]).unwrap_or(&[]);
                prop_assert!(all.iter().any(|p| crate::path::covers(p, &enc)), "{} not covered", enc);
            }
        }
    }
}
