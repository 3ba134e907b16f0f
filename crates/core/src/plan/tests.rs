//! The planner's rules, case by case, and its invariants as properties.

use super::sets::drop_covered;
use super::*;
use crate::cache::CachePolicies;
use crate::cache_tags::ObjectMetadata;
use crate::distribution::{CacheBehavior, CachePolicy, Distribution, DistributionTenant, Origin, OriginGroup, Target};
use crate::exception::ExceptionPaths;
use crate::path::push_encoded;
use proptest::prelude::*;
use std::collections::HashMap;

fn origin(id: &str, domain: &str, origin_path: &str) -> Origin {
    Origin { id: id.into(), domain_name: domain.into(), origin_path: origin_path.into() }
}

fn dist(id: &str, origins: Vec<Origin>, behaviors: Vec<CacheBehavior>, default_target: &str) -> Distribution {
    Distribution {
        id: id.into(),
        origins,
        behaviors,
        default_behavior: CacheBehavior::legacy("*", default_target, None),
        ..Default::default()
    }
}

fn ev(bucket: &str, key: &str, change: Change) -> ObjectEvent {
    ObjectEvent::new(bucket, key, change)
}

fn plan_of(dists: &[Distribution], events: &[ObjectEvent]) -> Plan {
    Planner::new(dists, &CachePolicies::managed(), PlanOptions::default()).plan(events, &Exceptions::new())
}

fn paths(plan: &Plan, id: &str) -> Vec<String> {
    plan.invalidations
        .iter()
        .find(|d| &*d.distribution_id == id)
        .map(|d| {
            let mut items: Vec<String> = d.items.iter().map(|p| p.to_string()).collect();
            items.sort();
            items
        })
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
    d.origin_groups = vec![OriginGroup { id: "failover".into(), members: vec!["primary".into(), "replica".into()] }];
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
    let mut events: Vec<ObjectEvent> = (0..20).map(|i| ev("site", &format!("d/w{i:02}*x"), Change::Created)).collect();
    events.push(ev("site", "d/w05*", Change::Created)); // same wildcard as w05*x
    events.push(ev("site", "d/w07/plain.txt", Change::Created)); // covered by /d/w07*
    events.push(ev("site", "x/plain.txt", Change::Created)); // not covered
    events.push(ev("site", "d/w07*/covered.txt", Change::Created)); // covered by /d/w07*
    let planner = Planner::new(&[d], &CachePolicies::managed(), PlanOptions::new(10, 15).unwrap());
    let plan = planner.plan(&events, &Exceptions::new());
    let e1 = &plan.invalidations[0];
    assert_eq!(e1.items.len(), 21, "20 wildcards and one exact path");
    let sets: Vec<&[Arc<str>]> = e1.sets().collect();
    assert_eq!(sets.len(), 3);
    for s in &sets {
        assert!(s.len() <= 10);
        assert!(s.iter().filter(|p| p.ends_with('*')).count() <= 15);
        assert!(s.windows(2).all(|w| w[0] < w[1]), "sorted within a set");
    }
    assert!(e1.notes.iter().all(|w| w.reason == ItemReason::Asterisk));
    assert_eq!(e1.notes.len(), 22, "each key that needed a wildcard is noted");
}

#[test]
fn fifteen_wildcards_at_most_per_set() {
    let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
    let events: Vec<ObjectEvent> = (0..40).map(|i| ev("site", &format!("keys/k{i:02}*"), Change::Created)).collect();
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
    let plan = plan_of(&[d], &[ev("site", "promo/a*x", Change::Created), ev("site", "promo/ab*c", Change::Created)]);
    let events = [ev("site", "promo/a*x", Change::Created), ev("site", "promo/ab*c", Change::Created)];
    let e1 = &plan.invalidations[0];
    assert_eq!(e1.items.iter().map(|p| &**p).collect::<Vec<_>>(), ["/promo/a*"]);
    let notes: Vec<(&str, &str)> = e1.note_rows(&events).map(|n| (n.item, n.key)).collect();
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
            prop_assert_eq!(covered, inv.items.len());
            let ranges_cover = inv.sets.iter().map(|r| r.len()).sum::<usize>();
            prop_assert_eq!(ranges_cover, inv.items.len());
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
        // Notes name events by index: compare them by what they say.
        let said = |p: &Plan, evs: &[ObjectEvent]| -> Vec<Vec<(String, ItemReason, String)>> {
            p.invalidations.iter().map(|d| d.note_rows(evs).map(|n| (n.item.to_owned(), n.reason, n.key.to_owned())).collect()).collect()
        };
        prop_assert_eq!(said(&a, &events), said(&b, &reversed));
        let strip = |p: &Plan| -> Vec<DistributionPlan> {
            p.invalidations.iter().map(|d| DistributionPlan { notes: vec![], ..d.clone() }).collect()
        };
        prop_assert_eq!(strip(&a), strip(&b));
    }

    #[test]
    fn every_served_key_is_covered(events in any_events()) {
        let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
        let plan = plan_of(&[d], &events);
        for (i, e) in events.iter().enumerate() {
            let mut enc = String::from("/");
            push_encoded(&e.key, &mut enc);
            let all = plan.invalidations.first().map(|d| &d.items[..]).unwrap_or(&[]);
            let reported = plan.skipped.iter().any(|s| s.event == i && s.reason == Reason::TooBroad);
            prop_assert!(reported || all.iter().any(|p| crate::path::covers(p, &enc)), "{} not covered", enc);
        }
    }
}

// ---- the cached variants (issue: the invalidation strategy) -----------------------------------

fn plan_with(dists: &[Distribution], policies: &CachePolicies, options: PlanOptions, events: &[ObjectEvent]) -> Plan {
    Planner::new(dists, policies, options).plan(events, &Exceptions::new())
}

fn notes_of<'a>(plan: &'a Plan, events: &'a [ObjectEvent]) -> Vec<(&'a str, ItemReason, &'a str)> {
    plan.invalidations.iter().flat_map(|d| d.note_rows(events)).map(|n| (n.item, n.reason, n.key)).collect()
}

#[test]
fn query_strings_in_the_cache_key_give_every_variant() {
    // The case: a default behavior forwarding query strings, and /img/* on a custom policy
    // that whitelists `v`.
    let mut d = dist(
        "E1",
        vec![origin("s3", "site.s3.amazonaws.com", "")],
        vec![CacheBehavior::with_policy("/img/*", "s3", "custom-v")],
        "s3",
    );
    d.default_behavior.forwards_query_strings = true;
    let mut policies = CachePolicies::managed();
    policies.insert(
        CachePolicy::from_fields("custom-v".into(), "v".into(), None, None, None)
            .with_query_string_behavior(Some("whitelist")),
    );
    let events = [ev("site", "app.js", Change::Created), ev("site", "img/logo.png", Change::Created)];
    let plan = plan_with(&[d], &policies, PlanOptions::default(), &events);
    assert_eq!(paths(&plan, "E1"), ["/app.js*", "/img/logo.png*"]);
    assert_eq!(
        notes_of(&plan, &events),
        [
            ("/app.js*", ItemReason::QueryStrings, "app.js"),
            ("/img/logo.png*", ItemReason::QueryStrings, "img/logo.png")
        ]
    );
}

#[test]
fn a_query_string_wildcard_too_broad_to_send_falls_back_to_the_path() {
    let mut d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
    d.default_behavior.forwards_query_strings = true;
    let events = [ev("site", "js", Change::Created)];
    let plan = plan_of(&[d], &events);
    assert_eq!(paths(&plan, "E1"), ["/js"], "/js* would reach the /js/ directory");
    assert_eq!(notes_of(&plan, &events), [("/js", ItemReason::QueryStringsTooBroad, "js")]);
}

#[test]
fn website_endpoints_serve_index_documents_at_their_directory() {
    // The case: the only origin is the bucket's website endpoint.
    let d = dist("E1", vec![origin("web", "handbook.s3-website-us-east-1.amazonaws.com", "")], vec![], "web");
    let events = [
        ev("handbook", "index.html", Change::Created),
        ev("handbook", "guide/index.html", Change::Created),
        ev("handbook", "old/index.html", Change::Removed),
        ev("handbook", "guide/page.html", Change::Created),
    ];
    let plan = plan_of(&[d], &events);
    assert_eq!(
        paths(&plan, "E1"),
        [
            "/",
            "/guide",
            "/guide/",
            "/guide/index.html",
            "/guide/page.html",
            "/index.html",
            "/old",
            "/old/",
            "/old/index.html"
        ]
    );
    let why: Vec<(&str, ItemReason)> = notes_of(&plan, &events).into_iter().map(|(i, r, _)| (i, r)).collect();
    assert!(why.contains(&("/guide", ItemReason::IndexDocument)) && why.contains(&("/", ItemReason::IndexDocument)));
}

#[test]
fn rest_endpoints_have_no_index_documents_but_a_default_root_object() {
    let mut d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
    let events = [ev("site", "guide/index.html", Change::Created), ev("site", "index.html", Change::Created)];
    assert_eq!(paths(&plan_of(&[d.clone()], &events), "E1"), ["/guide/index.html", "/index.html"]);
    d.default_root_object = Some("index.html".into());
    let plan = plan_of(&[d], &events);
    assert_eq!(paths(&plan, "E1"), ["/", "/guide/index.html", "/index.html"]);
    assert_eq!(notes_of(&plan, &events), [("/", ItemReason::DefaultRootObject, "index.html")]);
}

#[test]
fn the_index_document_is_the_buckets_or_the_distributions_tag() {
    let d = dist("E1", vec![origin("web", "site.s3-website.eu-central-1.amazonaws.com", "")], vec![], "web");
    let events = [ev("site", "docs/default.htm", Change::Created), ev("site", "docs/index.html", Change::Created)];
    let docs: HashMap<String, String> = [("site".to_owned(), "default.htm".to_owned())].into();
    let planner = Planner::with_index_documents(
        std::slice::from_ref(&d),
        &CachePolicies::managed(),
        PlanOptions::default(),
        &docs,
    );
    assert_eq!(
        paths(&planner.plan(&events, &Exceptions::new()), "E1"),
        ["/docs", "/docs/", "/docs/default.htm", "/docs/index.html"]
    );
    let mut tagged = d;
    tagged.tags.insert("cfinv:index-document".into(), "index.html".into());
    let planner = Planner::with_index_documents(&[tagged], &CachePolicies::managed(), PlanOptions::default(), &docs);
    assert_eq!(
        paths(&planner.plan(&events, &Exceptions::new()), "E1"),
        ["/docs", "/docs/", "/docs/default.htm", "/docs/index.html"]
    );
    let plan = planner.plan(&events[..1], &Exceptions::new());
    assert_eq!(paths(&plan, "E1"), ["/docs/default.htm"], "the tag names index.html: default.htm is a page");
}

#[test]
fn a_tilde_is_never_sent() {
    let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
    let events = [ev("site", "static/js/runtime~main.4f2a9c1e.js", Change::Created)];
    let plan = plan_of(&[d], &events);
    assert_eq!(paths(&plan, "E1"), ["/static/js/runtime*"]);
    assert_eq!(
        notes_of(&plan, &events),
        [("/static/js/runtime*", ItemReason::Tilde, "static/js/runtime~main.4f2a9c1e.js")]
    );
}

#[test]
fn a_creation_is_invalidated_where_its_earlier_error_is_still_cached() {
    let behaviors = vec![
        CacheBehavior::legacy("/live/*", "s3", Some(0)),
        CacheBehavior::with_policy("/nocache/*", "s3", crate::cache::CACHING_DISABLED),
    ];
    let mut d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], behaviors, "s3");
    let events = [ev("site", "live/a.m3u8", Change::Created), ev("site", "nocache/b", Change::Created)];
    // The default: a 404 is cached 10 s, gone when a 10 s window closes.
    let plan = plan_of(std::slice::from_ref(&d), &events);
    assert_eq!(reasons(&plan), [(0, Some("E1"), Reason::NotCached), (1, Some("E1"), Reason::NotCached)]);
    // A custom error response caches 404 for 300 s.
    d.custom_error_responses =
        vec![crate::distribution::CustomErrorResponse { error_code: 404, error_caching_min_ttl: Some(300) }];
    let plan = plan_of(&[d.clone()], &events);
    assert_eq!(paths(&plan, "E1"), ["/live/a.m3u8"]);
    assert_eq!(notes_of(&plan, &events), [("/live/a.m3u8", ItemReason::ErrorCached, "live/a.m3u8")]);
    assert_eq!(reasons(&plan), [(1, Some("E1"), Reason::NotCached)], "CachingDisabled caches no errors");
    // A window longer than the error caching: gone again by the time the window closes.
    let long = PlanOptions::default().with_window_seconds(300);
    assert!(plan_with(&[d], &CachePolicies::managed(), long, &events).invalidations.is_empty());
}

#[test]
fn keys_whose_cover_is_too_broad_are_reported_unless_allowed() {
    let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
    let events =
        [ev("site", "*", Change::Created), ev("site", "a*b", Change::Created), ev("site", "docs/a*b", Change::Created)];
    let plan = plan_of(std::slice::from_ref(&d), &events);
    assert_eq!(paths(&plan, "E1"), ["/docs/a*"]);
    assert_eq!(reasons(&plan), [(0, Some("E1"), Reason::TooBroad), (1, Some("E1"), Reason::TooBroad)]);
    let allowed = PlanOptions::default().allowing_broad_wildcards(true);
    let plan = plan_with(&[d], &CachePolicies::managed(), allowed, &events);
    assert_eq!(paths(&plan, "E1"), ["/*"], "everything, and the rest covered by it");
}

#[test]
fn functions_that_may_rewrite_the_uri_are_named_once() {
    let mut img = CacheBehavior::legacy("/img/*", "s3", None);
    img.edge_functions = vec![crate::distribution::EdgeFunction {
        event_type: "origin-request".into(),
        arn: "arn:aws:lambda:us-east-1:1:function:resize:3".into(),
    }];
    let mut d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![img], "s3");
    d.default_behavior.edge_functions = vec![crate::distribution::EdgeFunction {
        event_type: "viewer-response".into(),
        arn: "arn:aws:cloudfront::1:function/headers".into(),
    }];
    let planner = Planner::new(&[d], &CachePolicies::managed(), PlanOptions::default());
    assert_eq!(planner.warnings().len(), 1);
    assert!(planner.warnings()[0].message.contains("\"/img/*\""), "{:?}", planner.warnings());
    assert!(!planner.warnings()[0].message.contains("\"*\""), "a viewer-response function rewrites nothing");
}

// ---- the compact policy --------------------------------------------------------------------------

fn compact(max: usize) -> PlanOptions {
    PlanOptions::default().with_policy(Policy::Compact, max).unwrap()
}

/// A site: the bucket behind the default behavior, `/api/*` on an API origin.
fn site_with_api() -> Distribution {
    dist(
        "E1",
        vec![origin("s3", "site.s3.amazonaws.com", ""), origin("api", "api.example.com", "")],
        vec![CacheBehavior::legacy("/api/*", "api", None)],
        "s3",
    )
}

#[test]
fn a_burst_under_one_folder_is_compacted_and_explained() {
    let events: Vec<ObjectEvent> = (0..500)
        .map(|i| ev("site", &format!("assets/v2/chunk-{i:03}.js"), Change::Created))
        .chain([ev("site", "index.html", Change::Created)])
        .collect();
    // Deepest first: the 50 prefixes chunk-00..chunk-49 (10 keys each) make 51 items; then the
    // five chunk-0..chunk-4 (each replacing ten covers, saving 9), in byte order, until at most 15
    // remain: chunk-0..chunk-3 (51 - 4 x 9 = 15).
    let plan = plan_with(&[site_with_api()], &CachePolicies::managed(), compact(15), &events);
    let e1 = &plan.invalidations[0];
    let mut expected: Vec<String> = (0..4).map(|d| format!("/assets/v2/chunk-{d}*")).collect();
    expected.extend((40..50).map(|d| format!("/assets/v2/chunk-{d}*")));
    expected.push("/index.html".into());
    assert_eq!(paths(&plan, "E1"), expected);
    assert_eq!((e1.exact_items, e1.items.len(), e1.sets.len()), (501, 15, 1));
    assert_eq!(e1.compacted.len(), 14);
    assert_eq!((&*e1.compacted[0].item, e1.compacted[0].replaced), ("/assets/v2/chunk-0*", 100));
    let examples: Vec<&str> = e1.compacted[0].examples.iter().map(|e| &**e).collect();
    assert_eq!(examples, ["/assets/v2/chunk-000.js", "/assets/v2/chunk-001.js", "/assets/v2/chunk-002.js"]);
    assert_eq!(e1.cost(), Cost::of(501, 15, 1));
    assert_eq!(e1.cost().estimated_cost_usd, 0.075);
    // With a threshold of 2, the deepest cover of everything under the folder.
    let plan = plan_with(&[site_with_api()], &CachePolicies::managed(), compact(2), &events);
    assert_eq!(paths(&plan, "E1"), ["/assets/v2/chunk-*", "/index.html"]);
}

#[test]
fn compaction_never_reaches_another_origins_paths() {
    // Top-level files and directories: no cover stays inside a directory except per directory.
    let events: Vec<ObjectEvent> =
        ["a/1", "a/2", "b/1", "b/2", "c", "d", "e"].iter().map(|k| ev("site", k, Change::Created)).collect();
    let plan = plan_with(&[site_with_api()], &CachePolicies::managed(), compact(3), &events);
    assert_eq!(paths(&plan, "E1"), ["/a/*", "/b/*", "/c", "/d", "/e"]);
    assert_eq!(plan.warnings.len(), 1, "5 items, not 3: {:?}", plan.warnings);
    // Under /api/-like names, a cover that would reach /api/* is not taken.
    let events: Vec<ObjectEvent> =
        ["ap/1", "ap/2", "apx/1", "apx/2"].iter().map(|k| ev("site", k, Change::Created)).collect();
    let plan = plan_with(&[site_with_api()], &CachePolicies::managed(), compact(2), &events);
    assert_eq!(paths(&plan, "E1"), ["/ap/*", "/apx/*"]);
}

#[test]
fn a_tag_sets_a_distributions_policy() {
    let mut d = site_with_api();
    d.tags.insert("cfinv:policy".into(), "exact".into());
    let events: Vec<ObjectEvent> = (0..40).map(|i| ev("site", &format!("x/{i}"), Change::Created)).collect();
    let plan = plan_with(&[d.clone()], &CachePolicies::managed(), compact(15), &events);
    assert_eq!((plan.invalidations[0].policy, plan.invalidations[0].items.len()), (Policy::Exact, 40));
    d.tags.insert("cfinv:policy".into(), "compact".into());
    d.tags.insert("cfinv:max-items".into(), "50".into());
    let plan = plan_with(&[d], &CachePolicies::managed(), PlanOptions::default(), &events);
    assert_eq!((plan.invalidations[0].max_items, plan.invalidations[0].items.len()), (50, 40));
}

/// The reference for "a viewer path is served by the API origin": the behaviors' patterns in
/// order, read with the general matcher, one by one.
fn served_by_api(d: &Distribution, path: &str) -> bool {
    let b = d
        .behaviors
        .iter()
        .find(|b| crate::pattern::PathPattern::new(&b.path_pattern).matches(path))
        .unwrap_or(&d.default_behavior);
    b.target_origin_id == "api"
}

fn compact_events() -> impl Strategy<Value = Vec<ObjectEvent>> {
    let key = "(a|b|api|ap|x)(/(a|b|api|c)){0,2}/[a-c]{1,3}(\\.js|~x|\\*)?";
    proptest::collection::vec(key, 1..120)
        .prop_map(|keys| keys.into_iter().map(|k| ev("site", &k, Change::Created)).collect())
}

proptest! {
    #[test]
    fn compaction_covers_every_item_reaches_no_api_path_and_keeps_the_limits(
        events in compact_events(), max in 1usize..12, reversed in any::<bool>(),
    ) {
        let mut d = site_with_api();
        d.behaviors.push(CacheBehavior::legacy("*/api/*", "api", None));
        let exact = plan_with(&[d.clone()], &CachePolicies::managed(), PlanOptions::default(), &events);
        let plan = plan_with(&[d.clone()], &CachePolicies::managed(), compact(max), &events);
        let (Some(before), Some(after)) = (exact.invalidations.first(), plan.invalidations.first()) else {
            prop_assert_eq!(exact.invalidations.len(), plan.invalidations.len());
            return Ok(());
        };
        // Every exact item is covered by an emitted one.
        for item in &before.items {
            let probe = item.strip_suffix('*').unwrap_or(item);
            prop_assert!(after.items.iter().any(|w| crate::path::covers(w, probe)), "{} lost", item);
        }
        // No new wildcard reaches a path the API origin serves.
        for c in &after.compacted {
            let prefix = c.item.strip_suffix('*').unwrap();
            for tail in ["", "x", "api/x", "a/api/x", "x.js"] {
                let probe = format!("{prefix}{tail}");
                prop_assert!(!served_by_api(&d, &probe), "{} reaches {} (API)", c.item, probe);
            }
            prop_assert!(!crate::path::reaches_beyond_a_directory(&c.item), "{}", c.item);
        }
        // Set limits, and the exact plan when nothing needed compacting.
        for set in after.sets() {
            prop_assert!(set.len() <= MAX_SET_SIZE);
            prop_assert!(set.iter().filter(|p| p.ends_with('*')).count() <= MAX_WILDCARDS_IN_PROGRESS);
        }
        if before.items.len() <= max {
            prop_assert_eq!(&before.items, &after.items);
        }
        prop_assert_eq!(after.exact_items, before.items.len());
        // The same events in another order: the same items and sets.
        if reversed {
            let mut rev = events.clone();
            rev.reverse();
            let again = plan_with(&[d], &CachePolicies::managed(), compact(max), &rev);
            prop_assert_eq!(&again.invalidations[0].items, &after.items);
            prop_assert_eq!(&again.invalidations[0].sets, &after.sets);
            prop_assert_eq!(&again.invalidations[0].compacted, &after.compacted);
        }
    }
}

#[test]
fn each_distribution_counts_its_events_and_keeps_the_earliest_event_time() {
    let site = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
    let other = dist("E2", vec![origin("s3", "other.s3.amazonaws.com", "")], vec![], "s3");
    let at = |key: &str, bucket: &str, time: Option<&str>| ObjectEvent {
        event_time: time.map(str::to_owned),
        ..ev(bucket, key, Change::Created)
    };
    let events = [
        at("b.js", "site", Some("2026-11-30T05:53:45.123Z")),
        // EventBridge's `time` has no milliseconds: 05:53:45.000, earlier than .123.
        at("a.js", "site", Some("2026-11-30T05:53:45Z")),
        at("a.js", "site", Some("2026-11-30T05:53:46.000Z")),
        at("x.js", "other", None),
        at("nope.js", "elsewhere", Some("2026-11-30T00:00:00.000Z")),
    ];
    let plan = plan_of(&[site, other], &events);
    let d = |id: &str| plan.invalidations.iter().find(|d| &*d.distribution_id == id).unwrap();
    assert_eq!(d("E1").events, 3, "events, not distinct items");
    assert_eq!(d("E1").first_event_time.as_deref(), Some("2026-11-30T05:53:45Z"));
    assert_eq!((d("E2").events, d("E2").first_event_time.as_deref()), (1, None));
}

// Cache tags: expected items derived from CloudFront's guide ("Invalidating content by cache tags":
// comma-separated, trimmed, case-insensitive, `#` prefix, not wildcards, billed as paths).

fn tagged_site(id: &str, mode: &str) -> Distribution {
    let mut d = dist("E0", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
    d.id = id.into();
    d.cache_tag_header = Some("x-amz-meta-cache-tag".into());
    d.tags = [("cfinv:cache-tags".to_owned(), mode.to_owned())].into();
    d
}

fn metadata(entries: &[(&str, &str)]) -> ObjectMetadata {
    let mut m = ObjectMetadata::new();
    for (key, tags) in entries {
        m.insert("site", key, [("cache-tag".to_owned(), (*tags).to_owned())].into());
    }
    m
}

fn plan_tags(dists: &[Distribution], options: PlanOptions, events: &[ObjectEvent], m: &ObjectMetadata) -> Plan {
    Planner::new(dists, &CachePolicies::managed(), options).plan_with_metadata(events, &Exceptions::new(), m)
}

#[test]
fn cache_tags_add_beside_paths_instead_in_place_of_them_and_off_not_at_all() {
    let dists = [tagged_site("EADD", "add"), tagged_site("EINS", "instead"), tagged_site("EOFF", "off")];
    let events = [
        ev("site", "products/123.json", Change::Created),
        ev("site", "products/124.json", Change::Created), // no metadata known: paths only
        ev("site", "products/125.json", Change::Removed), // a removal: paths only
    ];
    let m = metadata(&[("products/123.json", "product:123, Catalog"), ("products/125.json", "product:125")]);
    let plan = plan_tags(&dists, PlanOptions::default(), &events, &m);
    assert_eq!(
        paths(&plan, "EADD"),
        ["#catalog", "#product:123", "/products/123.json", "/products/124.json", "/products/125.json"]
    );
    assert_eq!(paths(&plan, "EINS"), ["#catalog", "#product:123", "/products/124.json", "/products/125.json"]);
    assert_eq!(paths(&plan, "EOFF"), ["/products/123.json", "/products/124.json", "/products/125.json"]);
    let add = plan.invalidations.iter().find(|d| &*d.distribution_id == "EADD").unwrap();
    // Each tag billed as one path; the tags come first in byte order ('#' < '/').
    assert_eq!((add.cost().billed_items, add.tag_items()), (5, 2));
    assert_eq!(&*add.items[0], "#catalog");
    assert!(add.notes.iter().any(|n| &*n.item == "#product:123" && n.reason == ItemReason::CacheTag));
    // The same without metadata: no tags anywhere, and the planner says it needs none elsewhere.
    let plain = plan_tags(&dists, PlanOptions::default(), &events, &ObjectMetadata::new());
    assert_eq!(paths(&plain, "EINS"), paths(&plain, "EOFF"));
}

#[test]
fn the_stack_default_applies_and_needs_cache_tag_config() {
    let mut with = tagged_site("E1", "add");
    with.tags.clear();
    let mut without = with.clone();
    without.id = "E2".into();
    without.cache_tag_header = None;
    let options = PlanOptions::default().with_cache_tags(CacheTags::Add);
    let m = metadata(&[("a.html", "page")]);
    let plan = plan_tags(&[with.clone(), without], options, &[ev("site", "a.html", Change::Created)], &m);
    assert_eq!(paths(&plan, "E1"), ["#page", "/a.html"]);
    assert_eq!(paths(&plan, "E2"), ["/a.html"]);
    let planner = Planner::new(&[with.clone()], &CachePolicies::managed(), options);
    assert!(planner.warnings().is_empty(), "{:?}", planner.warnings());
    assert!(planner.wants_object_metadata("site") && !planner.wants_object_metadata("other"));
    // Off by default: nothing is read.
    assert!(!Planner::new(&[with], &CachePolicies::managed(), PlanOptions::default()).wants_object_metadata("site"));
}

#[test]
fn cache_tags_a_distribution_cannot_use_are_warned_about() {
    let mut lambda_header = tagged_site("E1", "add");
    lambda_header.cache_tag_header = Some("Cache-Tag".into());
    let mut no_config = tagged_site("E2", "instead");
    no_config.cache_tag_header = None;
    let planner = Planner::new(&[lambda_header, no_config], &CachePolicies::managed(), PlanOptions::default());
    let messages: Vec<&str> = planner.warnings().iter().map(|w| w.message.as_str()).collect();
    assert!(messages[0].contains("not S3 metadata"), "{messages:?}");
    assert!(messages[1].contains("no CacheTagConfig"), "{messages:?}");
    assert!(!planner.wants_object_metadata("site"));
}

#[test]
fn invalid_tags_are_warned_about_and_not_sent_and_tags_are_not_wildcards() {
    let d = tagged_site("E1", "add");
    let m = metadata(&[("a.html", "sale*, two words"), ("b.html", "SALE*")]);
    let events = [ev("site", "a.html", Change::Created), ev("site", "b.html", Change::Created)];
    let plan = plan_tags(&[d], PlanOptions::default(), &events, &m);
    assert_eq!(paths(&plan, "E1"), ["#sale*", "/a.html", "/b.html"]);
    assert_eq!(plan.warnings.len(), 1);
    assert_eq!(
        plan.warnings[0].message,
        "object site/a.html: cache tag \"two words\" has a character outside ASCII 33-126; not sent"
    );
    // `#sale*` is no wildcard: it does not cover `#sale-x`, and 20 tags ending in `*` fit one set
    // (a set holds at most 15 wildcards).
    let many: Vec<String> = (0..20).map(|i| format!("t{i:02}*")).collect();
    let m = metadata(&[("a.html", &many.join(","))]);
    let plan = plan_tags(
        &[tagged_site("E1", "instead")],
        PlanOptions::default(),
        &[ev("site", "a.html", Change::Created)],
        &m,
    );
    assert_eq!(plan.invalidations[0].sets.len(), 1);
    assert_eq!(plan.invalidations[0].items.len(), 20);
}

#[test]
fn tags_are_never_compacted_and_do_not_count_toward_the_threshold() {
    let mut d = tagged_site("E1", "add");
    d.tags.insert("cfinv:policy".into(), "compact".into());
    d.tags.insert("cfinv:max-items".into(), "2".into());
    let keys = ["docs/a/1.html", "docs/a/2.html", "docs/a/3.html"];
    let events: Vec<ObjectEvent> = keys.iter().map(|k| ev("site", k, Change::Created)).collect();
    let m = metadata(&[("docs/a/1.html", "t1, t2"), ("docs/a/2.html", "t3")]);
    let plan = plan_tags(&[d], PlanOptions::default(), &events, &m);
    assert_eq!(paths(&plan, "E1"), ["#t1", "#t2", "#t3", "/docs/a/*"]);
    assert_eq!(plan.invalidations[0].exact_items, 6);
}

// Tenants: a multi-tenant distribution's origins may use `{{parameter}}` placeholders that each
// tenant's parameters fill (CloudFront guide, "Distribution tenant customizations").

fn multi_tenant() -> Distribution {
    let mut d = dist("EMT", vec![origin("s3", "{{bucket}}.s3.amazonaws.com", "/{{site}}")], vec![], "s3");
    d.multi_tenant = true;
    d.parameter_defaults = [("bucket".to_owned(), "shared".to_owned())].into();
    d
}

fn tenant(id: &str, name: &str, params: &[(&str, &str)]) -> DistributionTenant {
    DistributionTenant {
        id: id.into(),
        distribution_id: "EMT".into(),
        name: name.into(),
        domains: vec![format!("{name}.example.com")],
        parameters: params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    }
}

#[test]
fn each_tenant_is_planned_with_its_parameters_and_named() {
    let tenants = [
        tenant("dt_acme", "acme", &[("site", "acme")]),
        tenant("dt_globex", "globex", &[("site", "globex"), ("bucket", "globex-assets")]),
        tenant("dt_none", "none", &[]),
    ];
    let planner = Planner::with_tenants(
        &[multi_tenant()],
        &CachePolicies::managed(),
        PlanOptions::default(),
        &HashMap::new(),
        &tenants,
    );
    assert_eq!(planner.warnings().len(), 1, "{:?}", planner.warnings());
    assert!(planner.warnings()[0].message.contains("tenant none (dt_none): parameter {{site}}"));
    let events = [
        ev("shared", "acme/index.html", Change::Created),
        ev("globex-assets", "globex/logo.png", Change::Created),
        ev("shared", "globex/logo.png", Change::Created), // globex reads another bucket
    ];
    let plan = planner.plan(&events, &Exceptions::new());
    let targets: Vec<(String, Vec<String>)> = plan
        .invalidations
        .iter()
        .map(|d| (d.target().key(), d.items.iter().map(|i| i.to_string()).collect()))
        .collect();
    assert_eq!(
        targets,
        [
            ("EMT_dt_acme".to_owned(), vec!["/index.html".to_owned()]),
            ("EMT_dt_globex".to_owned(), vec!["/logo.png".to_owned()]),
        ]
    );
    assert_eq!(plan.invalidations[0].tenant.as_ref().map(|t| &*t.name), Some("acme"));
    // The third event: acme reaches the bucket, not under that key; no tenant serves it.
    assert_eq!(
        plan.skipped.iter().map(|s| (s.event, s.distribution_tenant_id.as_deref(), s.reason)).collect::<Vec<_>>(),
        [(2, None, Reason::NoOrigin)]
    );
}

#[test]
fn a_multi_tenant_distribution_without_tenants_is_not_planned() {
    let planner = Planner::new(&[multi_tenant()], &CachePolicies::managed(), PlanOptions::default());
    assert!(planner.warnings()[0].message.contains("without distribution tenants"));
    assert!(planner.plan(&[ev("shared", "a", Change::Created)], &Exceptions::new()).invalidations.is_empty());
}

#[test]
fn a_staging_distribution_is_planned_as_its_own() {
    let primary = dist("EPRIMARY", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
    let mut staging = primary.clone();
    staging.id = "ESTAGING".into();
    staging.staging = true;
    let plan = plan_of(&[primary, staging], &[ev("site", "a.html", Change::Created)]);
    let got: Vec<(&str, bool, usize)> =
        plan.invalidations.iter().map(|d| (&*d.distribution_id, d.staging, d.items.len())).collect();
    assert_eq!(got, [("EPRIMARY", false, 1), ("ESTAGING", true, 1)]);
}

#[test]
fn target_keys_round_trip() {
    let t = Target { distribution_id: "EMT".into(), tenant_id: Some("dt_a_b".into()) };
    assert_eq!(t.key(), "EMT_dt_a_b");
    assert_eq!(Target::parse(&t.key()), t);
    assert_eq!(Target::parse("E1"), Target::distribution("E1"));
}
