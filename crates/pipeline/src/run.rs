//! A run: what one collect planned, cut into pages of units that the state machine works through.
//!
//! Step Functions limits a state to 256 KiB and an execution's history to 25,000 events, whatever
//! the size of the plan. So the state carries only small cursors, and everything else is in the
//! plan bucket:
//!
//! ```text
//! {prefix}{execution}/plan.json                       written once (If-None-Match): the run's record
//! {prefix}{execution}/{attempt}/receipts.json         the drained messages, to delete
//! {prefix}{execution}/{attempt}/too-broad.json        keys not sent, for a person to decide
//! {prefix}{execution}/{attempt}/{dist}/distribution.json   its counts and first event time
//! {prefix}{execution}/{attempt}/{dist}/set-0001.json  a set's items (and its markers, see `sets`)
//!                                                      ({dist}: a distribution id, or a tenant's
//!                                                      target key `E1_dt_...`)
//! {prefix}{execution}/{attempt}/{pass}/page-0001.json one page of units
//! ```
//!
//! A **unit** is a range of one distribution's sets, submitted in order by one Map iteration; a
//! **page** holds at most [`PAGE_UNITS`] units and [`PAGE_SETS`] sets; a **pass** is the pages of
//! the first attempt (`p`) or of the re-attempt after the n-th redrive (`g1`, `g2`...). A
//! distribution's sets are cut into units page by page, so its sets keep their order across pages
//! while different distributions run side by side.
//!
//! The **attempt** is the collect invocation that planned the run: two collects of one execution
//! (a retry while the first still runs) write under different attempts, and only the one whose
//! `plan.json` is written first is used.

use serde::{Deserialize, Serialize};

use crate::execution::ExecutionName;

/// At most this many units in a page: one Map state's items.
pub const PAGE_UNITS: usize = 40;
/// At most this many sets in a page (over its units), which bounds the history one page writes.
pub const PAGE_SETS: usize = 200;

/// The first pass of a run.
pub const FIRST_PASS: &str = "p";

/// Where one attempt of one execution keeps its run in the plan bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunKeys {
    /// `{prefix}{execution}/`
    execution_root: String,
    /// `{prefix}{execution}/{attempt}/`
    attempt_root: String,
}

impl RunKeys {
    pub fn new(plan_prefix: &str, execution: &str, attempt: &str) -> Self {
        let execution_root = format!("{plan_prefix}{execution}/");
        let attempt_root = format!("{execution_root}{attempt}/");
        RunKeys { execution_root, attempt_root }
    }

    /// The keys of a run as the state carries it.
    pub fn of(plan_prefix: &str, run: &Run) -> Self {
        RunKeys::new(plan_prefix, run.execution.as_str(), &run.attempt)
    }

    /// The run's record, written once, last, by the collect attempt that wins.
    pub fn plan(&self) -> String {
        format!("{}plan.json", self.execution_root)
    }

    /// Everything of this attempt (for listing).
    pub fn attempt_root(&self) -> &str {
        &self.attempt_root
    }

    pub fn receipts(&self) -> String {
        format!("{}receipts.json", self.attempt_root)
    }

    /// Keys whose only cover was too broad to send (`too-broad`), for the report to tell a person.
    pub fn too_broad(&self) -> String {
        format!("{}too-broad.json", self.attempt_root)
    }

    /// One distribution's folder: its sets, their markers, `distribution.json`.
    pub fn distribution_root(&self, distribution_id: &str) -> String {
        format!("{}{distribution_id}/", self.attempt_root)
    }

    pub fn distribution(&self, distribution_id: &str) -> String {
        format!("{}distribution.json", self.distribution_root(distribution_id))
    }

    /// `set-0001.json`: the items of set `set` (1-based).
    pub fn set(&self, distribution_id: &str, set: usize) -> String {
        format!("{}set-{set:04}.json", self.distribution_root(distribution_id))
    }

    /// `set-0001.{mark}.json`: what became of a set (see [`crate::sets::Mark`]).
    pub fn marker(&self, distribution_id: &str, set: usize, mark: &str) -> String {
        format!("{}set-{set:04}.{mark}.json", self.distribution_root(distribution_id))
    }

    /// Written once the distribution's `Invalidation Completed` event is on the bus.
    pub fn completed_event(&self, distribution_id: &str) -> String {
        format!("{}completed-event.json", self.distribution_root(distribution_id))
    }

    /// `{pass}/page-0001.json` (pages are 0-based in the state, 1-based in keys, as sets).
    pub fn page(&self, pass: &str, page: usize) -> String {
        format!("{}{pass}/page-{:04}.json", self.attempt_root, page + 1)
    }
}

/// The run as the state machine carries it (`$.run`): which plan, which pass, which pages this
/// execution works through. A few hundred bytes, whatever the size of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// The execution whose collect planned the run: keys and CallerReferences derive from it,
    /// also in its continuations.
    pub execution: ExecutionName,
    pub attempt: String,
    /// `p`, then `g1`, `g2`... after each redrive.
    pub pass: String,
    /// Pages in this pass.
    pub pages: usize,
    /// The first page this execution works on (a continuation starts where its parent stopped).
    pub first_page: usize,
    /// Redrives already answered by a re-attempt pass.
    pub round: u32,
    /// The Map's `MaxConcurrencyPath`: units worked on at once.
    pub map_concurrency: u32,
}

impl Run {
    /// The pass that re-attempts what is still unfinished after redrive `round`.
    pub fn redrive_pass(round: u32) -> String {
        format!("g{round}")
    }
}

/// `$.page`: the next page to load, and the units of the page loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageCursor {
    /// The next page to load (0-based).
    pub next: usize,
    #[serde(default)]
    pub units: Vec<Unit>,
    /// The history budget is spent: a continuation execution works on the remaining pages.
    #[serde(default)]
    pub handed_off: bool,
}

/// A range of one distribution's sets (1-based, inclusive), worked on in order by one Map
/// iteration. For a distribution tenant, `distribution_id` is the tenant's target key
/// `{distribution id}_{tenant id}` ([`cfinv_core::Target`]), which also names its folder
/// (`{attempt}/E1_dt_.../set-0001.json`) and is what the CloudFront port is given: the Map item
/// names the tenant.
///
/// Read from outside (a state, a page in the plan bucket), a unit must be a range of its
/// distribution's sets, `1 <= first <= last <= of <= MAX_SETS`; anything else is refused when it
/// is read, before a loop over its sets or a cut into pages could run away with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "UnitJson")]
pub struct Unit {
    pub distribution_id: String,
    pub first: usize,
    pub last: usize,
    /// How many sets the distribution has in the run.
    pub of: usize,
}

/// The most sets one distribution can have in a run: a drain is at most `CFINV_MAX_MESSAGES`
/// (at most 1,000,000) changes, each a few items, in sets of at least one item, so no plan comes
/// near it; a larger number read back is not one cfinv wrote.
pub const MAX_SETS: usize = 10_000_000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnitJson {
    distribution_id: String,
    first: usize,
    last: usize,
    of: usize,
}

impl TryFrom<UnitJson> for Unit {
    type Error = String;

    fn try_from(u: UnitJson) -> Result<Self, String> {
        if u.first == 0 || u.first > u.last || u.last > u.of || u.of > MAX_SETS {
            return Err(format!(
                "unit of {:?} is not a range of its sets: first {}, last {}, of {} (1 <= first <= last <= of <= {MAX_SETS})",
                u.distribution_id, u.first, u.last, u.of
            ));
        }
        Ok(Unit { distribution_id: u.distribution_id, first: u.first, last: u.last, of: u.of })
    }
}

impl Unit {
    pub fn sets(&self) -> std::ops::RangeInclusive<usize> {
        self.first..=self.last
    }

    /// How many sets (0 for a range read from outside that is upside down).
    pub fn len(&self) -> usize {
        self.last.saturating_add(1).saturating_sub(self.first)
    }

    pub fn is_empty(&self) -> bool {
        self.last < self.first
    }
}

/// One page as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    pub units: Vec<Unit>,
}

/// Cuts ranges of distributions' sets into pages: `ranges` holds at most one range per
/// distribution, in plan order. Every distribution's first [`PAGE_SETS`] sets come before anyone's
/// next ones, so each distribution gets its first invalidation early; a distribution's later sets
/// follow on later pages, in order.
pub fn paginate(ranges: &[Unit]) -> Vec<Page> {
    let mut pages: Vec<Page> = Vec::new();
    let mut current = Page::default();
    let mut current_sets = 0;
    let rounds = ranges.iter().map(|u| u.len().div_ceil(PAGE_SETS)).max().unwrap_or(0);
    for round in 0..rounds {
        for range in ranges {
            let first = range.first + round * PAGE_SETS;
            if first > range.last {
                continue;
            }
            let last = (first + PAGE_SETS - 1).min(range.last);
            let unit = Unit { first, last, ..range.clone() };
            if current.units.len() == PAGE_UNITS || current_sets + unit.len() > PAGE_SETS {
                pages.push(std::mem::take(&mut current));
                current_sets = 0;
            }
            current_sets += unit.len();
            current.units.push(unit);
        }
        // A distribution's next unit must be on a later page than its previous one.
        if !current.units.is_empty() {
            pages.push(std::mem::take(&mut current));
            current_sets = 0;
        }
    }
    pages
}

/// Every set of each distribution: `(distribution, sets)`.
pub fn whole(distributions: &[(String, usize)]) -> Vec<Unit> {
    distributions
        .iter()
        .filter(|(_, of)| *of > 0)
        .map(|(id, of)| Unit { distribution_id: id.clone(), first: 1, last: *of, of: *of })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        let k = RunKeys::new("plans/", "cfinv-10s-20261126T054010Z", "a1");
        assert_eq!(k.plan(), "plans/cfinv-10s-20261126T054010Z/plan.json");
        assert_eq!(k.set("E1", 2), "plans/cfinv-10s-20261126T054010Z/a1/E1/set-0002.json");
        assert_eq!(k.marker("E1", 2, "accepted"), "plans/cfinv-10s-20261126T054010Z/a1/E1/set-0002.accepted.json");
        assert_eq!(k.page("g1", 0), "plans/cfinv-10s-20261126T054010Z/a1/g1/page-0001.json");
    }

    #[test]
    fn pages_keep_each_distributions_sets_in_order_and_stay_small() {
        let dists = vec![("BIG".to_owned(), 450), ("E1".to_owned(), 1), ("E2".to_owned(), 3)];
        let pages = paginate(&whole(&dists));
        let units: Vec<Vec<(String, usize, usize)>> = pages
            .iter()
            .map(|p| p.units.iter().map(|u| (u.distribution_id.clone(), u.first, u.last)).collect())
            .collect();
        assert_eq!(
            units,
            vec![
                vec![("BIG".to_owned(), 1, 200)],
                vec![("E1".to_owned(), 1, 1), ("E2".to_owned(), 1, 3)],
                vec![("BIG".to_owned(), 201, 400)],
                vec![("BIG".to_owned(), 401, 450)],
            ]
        );
        let many: Vec<(String, usize)> = (0..100).map(|i| (format!("E{i}"), 1)).collect();
        let pages = paginate(&whole(&many));
        assert_eq!(pages.iter().map(|p| p.units.len()).collect::<Vec<_>>(), [40, 40, 20]);
        assert!(paginate(&[]).is_empty());
        // A range that does not start at 1 (the sets a redrive re-attempts).
        let again = paginate(&[Unit { distribution_id: "E1".into(), first: 5, last: 210, of: 300 }]);
        let ranges: Vec<(usize, usize)> =
            again.iter().flat_map(|p| p.units.iter().map(|u| (u.first, u.last))).collect();
        assert_eq!(ranges, [(5, 204), (205, 210)]);
        // A range read back upside down is empty, not a panic.
        let upside_down = Unit { distribution_id: "E1".into(), first: 5, last: 1, of: 9 };
        assert_eq!((upside_down.len(), upside_down.is_empty()), (0, true));
        assert!(paginate(&[upside_down]).is_empty());
    }

    #[test]
    fn a_unit_read_back_must_be_a_range_of_its_sets() {
        let read = |first: usize, last: usize, of: usize| {
            serde_json::from_value::<Unit>(
                serde_json::json!({"distributionId": "E1", "first": first, "last": last, "of": of}),
            )
        };
        assert_eq!(read(1, 3, 3).unwrap(), Unit { distribution_id: "E1".into(), first: 1, last: 3, of: 3 });
        assert!(read(1, MAX_SETS, MAX_SETS).is_ok());
        for (first, last, of) in [(0, 1, 1), (2, 1, 3), (1, 4, 3), (1, 1, MAX_SETS + 1)] {
            assert!(read(first, last, of).is_err(), "{first}..={last} of {of}");
        }
        // Found by fuzzing: a page with this unit made `paginate` build billions of pages.
        let page = r#"{"units":[{"distributionId":"E1","first":5,"last":455500002000,"of":30}]}"#;
        let e = serde_json::from_str::<Page>(page).unwrap_err().to_string();
        assert!(e.contains("not a range of its sets"), "{e}");
    }
}
