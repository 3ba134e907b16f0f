//! What the fuzz targets share: reading an input as text, and the invariants every plan must
//! keep whatever it was made from.

use std::collections::HashSet;

use cfinv_core::path::MAX_PATH_LEN;
use cfinv_core::plan::{MAX_SET_SIZE, MAX_WILDCARDS_IN_PROGRESS};
use cfinv_core::{ObjectEvent, Plan};

/// The input as text; `None` (the target rejects it) when it is not UTF-8: every reader under
/// test takes a `&str`, and its callers get one from S3, SQS or a file read as UTF-8.
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Panics (a crash for the fuzzer) when `plan`, made from `events`, breaks what CloudFront and
/// the pipeline rely on:
/// - every set has at most 3000 items and at most 15 wildcards;
/// - every item starts with `/`, is at most 4000 characters, is printable ASCII (so no space and
///   nothing unencoded), holds no `~` or `#`, and has `*` only as its last character;
/// - items are unique per distribution, and a distribution in the plan has at least one;
/// - the sets are consecutive, non-empty ranges covering the items exactly;
/// - skips and notes name events of the batch.
pub fn check_plan(plan: &Plan, events: &[ObjectEvent]) {
    for d in &plan.invalidations {
        let id = &d.distribution_id;
        assert!(!d.items.is_empty(), "{id}: a distribution in the plan without items");
        let mut next = 0;
        for r in &d.sets {
            assert!(r.start == next && r.end > r.start, "{id}: sets {:?} do not partition the items", d.sets);
            next = r.end;
        }
        assert_eq!(next, d.items.len(), "{id}: the sets do not cover the items");
        for (n, set) in d.sets().enumerate() {
            assert!(set.len() <= MAX_SET_SIZE, "{id}: set {n} has {} items", set.len());
            let wildcards = set.iter().filter(|i| i.ends_with('*')).count();
            assert!(wildcards <= MAX_WILDCARDS_IN_PROGRESS, "{id}: set {n} has {wildcards} wildcards");
        }
        let mut seen = HashSet::with_capacity(d.items.len());
        for item in &d.items {
            assert!(item.starts_with('/'), "{id}: item {item:?} does not start with `/`");
            assert!(item.len() <= MAX_PATH_LEN, "{id}: item of {} characters", item.len());
            assert!(item.bytes().all(|b| b.is_ascii_graphic()), "{id}: item {item:?} is not printable ASCII");
            assert!(!item.contains(['~', '#']), "{id}: item {item:?} holds `~` or `#`");
            assert!(!item[..item.len() - 1].contains('*'), "{id}: item {item:?} has a `*` before its end");
            assert!(seen.insert(item), "{id}: item {item:?} twice");
        }
        for n in &d.notes {
            assert!(n.event < events.len(), "{id}: note for event {} of {}", n.event, events.len());
        }
        let _ = d.note_rows(events).count();
        let _ = d.cost();
    }
    for s in &plan.skipped {
        assert!(s.event < events.len(), "skip for event {} of {}", s.event, events.len());
    }
    let _ = plan.skip_rows(events).count();
    let _ = plan.cost();
}
