//! A queue message as collect reads it (an `ObjectEvent`, written by ingest), then planned as
//! collect plans it: against the distributions of one golden case, with both policies. A message
//! bypasses the event parsers' checks (an empty key, any event name), so the planner must take
//! whatever deserializes.
#![no_main]

use std::sync::OnceLock;

use cfinv_core::aws_json::{read_cache_policies, read_distributions};
use cfinv_core::plan::Policy;
use cfinv_core::{CachePolicies, Exceptions, ObjectEvent, PlanOptions, Planner};
use libfuzzer_sys::{fuzz_target, Corpus};

const DISTRIBUTIONS: &str = include_str!("../../tests/golden/query-strings-variants/distributions.json");
const CACHE_POLICIES: &str = include_str!("../../tests/golden/query-strings-variants/cache-policies.json");

fn planners() -> &'static [Planner; 2] {
    static PLANNERS: OnceLock<[Planner; 2]> = OnceLock::new();
    PLANNERS.get_or_init(|| {
        let dists = read_distributions(DISTRIBUTIONS).expect("the golden distributions read").items;
        let mut policies = CachePolicies::managed();
        for p in read_cache_policies(CACHE_POLICIES).expect("the golden cache policies read").items {
            policies.insert(p);
        }
        let compact = PlanOptions::default().with_policy(Policy::Compact, 3).expect("valid options");
        [Planner::new(&dists, &policies, PlanOptions::default()), Planner::new(&dists, &policies, compact)]
    })
}

fuzz_target!(|data: &[u8]| -> Corpus {
    let Some(text) = cfinv_fuzz::text(data) else { return Corpus::Reject };
    let Ok(event) = serde_json::from_str::<ObjectEvent>(text) else { return Corpus::Keep };
    let json = serde_json::to_string(&event).expect("an event serializes");
    assert_eq!(serde_json::from_str::<ObjectEvent>(&json).expect("a serialized event parses"), event);
    let events = [event];
    for planner in planners() {
        cfinv_fuzz::check_plan(&planner.plan(&events, &Exceptions::new()), &events);
    }
    Corpus::Keep
});
