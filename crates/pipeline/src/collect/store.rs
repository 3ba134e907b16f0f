//! Storing a plan: every set in the plan bucket, then `plan.json` last.
//!
//! `plan.json` is the run's record for operators (every skipped event with its reason, counts by
//! reason, the wildcards) and the marker that collect finished: a retried collect that finds it
//! returns its `output` instead of draining again.

use std::collections::BTreeMap;

use cfinv_core::plan::{Compaction, Cost, NoteRow, Plan, Policy, Reason, SkipRow};
use cfinv_core::ObjectEvent;
use serde::{Deserialize, Serialize};

use crate::execution::ExecutionName;
use crate::ports::{Buckets, CloudFront, Executions, Objects, Queue};
use crate::sets::{set_key, SetFile, SetRef};

use super::{Collect, CollectError, CollectOutput};

/// How many paths of each set the Map item shows, and how many characters of each: enough to
/// recognise a set in the console, small enough that hundreds of sets fit a 256 KiB payload.
const PREVIEW: usize = 2;
const PREVIEW_CHARS: usize = 100;
/// How many skipped entries `plan.json` lists one by one (all are counted).
pub const SKIPPED_LISTED: usize = 1000;

/// `plan.json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanSummary<'a> {
    output: &'a CollectOutput,
    /// All distributions together; `estimatedCostUsd` is at most (the first 1,000 paths a month
    /// per account are free).
    cost: Cost,
    distributions: Vec<DistributionSummary<'a>>,
    skipped_by_reason: BTreeMap<Reason, usize>,
    /// The first [`SKIPPED_LISTED`].
    skipped: Vec<SkipRow<'a>>,
    warnings: Vec<String>,
}

/// One distribution's plan, without its items (those are in its set files).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DistributionSummary<'a> {
    distribution_id: &'a str,
    policy: Policy,
    max_items: usize,
    #[serde(flatten)]
    cost: Cost,
    /// Why items that are not simply a key's path are there (the first [`SKIPPED_LISTED`]).
    notes: Vec<NoteRow<'a>>,
    compacted: &'a [Compaction],
}

/// What a retried collect reads back from `plan.json`.
#[derive(Deserialize)]
struct StoredSummary {
    output: CollectOutput,
}

impl<Q: Queue, O: Objects + Buckets, C: CloudFront, E: Executions> Collect<Q, O, C, E> {
    /// The output a previous attempt stored in `plan.json`, if it finished.
    pub(super) async fn stored_output(&self, key: &str) -> Result<Option<CollectOutput>, CollectError> {
        let stored =
            self.ports.objects.get(&self.settings.plan_bucket, key).await.map_err(CollectError::StorageUnavailable)?;
        Ok(stored.and_then(|text| serde_json::from_str::<StoredSummary>(&text).ok()).map(|s| s.output))
    }

    /// Stores every set; returns one reference per set, first sets of every distribution first.
    pub(super) async fn store_sets(&self, execution: &ExecutionName, plan: &Plan) -> Result<Vec<SetRef>, CollectError> {
        let s = &self.settings;
        let mut refs = Vec::new();
        for inv in &plan.invalidations {
            let of = inv.sets.len();
            for (i, set) in inv.sets().enumerate() {
                let number = i + 1;
                let key = set_key(&s.plan_prefix, execution.as_str(), &inv.distribution_id, number);
                let file = SetFile {
                    distribution_id: inv.distribution_id.to_string(),
                    set: number,
                    of,
                    paths: set.iter().map(|p| p.to_string()).collect(),
                };
                // A struct of strings serialises without fail.
                let body = serde_json::to_string(&file).unwrap_or_default();
                self.ports
                    .objects
                    .put(&s.plan_bucket, &key, body, "application/json")
                    .await
                    .map_err(CollectError::StorageUnavailable)?;
                refs.push(SetRef {
                    distribution_id: file.distribution_id,
                    set: number,
                    of,
                    path_count: set.len(),
                    preview: set.iter().take(PREVIEW).map(|p| p.chars().take(PREVIEW_CHARS).collect()).collect(),
                });
            }
        }
        // First sets of every distribution first: with low Map concurrency, every distribution
        // gets its first invalidation early, and a distribution's next set waits for its previous
        // one (CloudFront's in-progress limit) while others proceed.
        refs.sort_by(|a, b| (a.set, &a.distribution_id).cmp(&(b.set, &b.distribution_id)));
        Ok(refs)
    }

    /// Writes `plan.json`, last.
    pub(super) async fn store_summary(
        &self,
        key: &str,
        output: &CollectOutput,
        plan: &Plan,
        events: &[ObjectEvent],
    ) -> Result<(), CollectError> {
        let mut skipped_by_reason: BTreeMap<Reason, usize> = BTreeMap::new();
        for s in &plan.skipped {
            *skipped_by_reason.entry(s.reason).or_default() += 1;
        }
        let summary = PlanSummary {
            output,
            cost: plan.cost(),
            distributions: plan
                .invalidations
                .iter()
                .map(|d| DistributionSummary {
                    distribution_id: &d.distribution_id,
                    policy: d.policy,
                    max_items: d.max_items,
                    cost: d.cost(),
                    notes: d.note_rows(events).take(SKIPPED_LISTED).collect(),
                    compacted: &d.compacted,
                })
                .collect(),
            skipped_by_reason,
            skipped: plan.skip_rows(events).take(SKIPPED_LISTED).collect(),
            warnings: plan
                .warnings
                .iter()
                .map(|w| format!("distribution {}: {}", w.distribution_id, w.message))
                .collect(),
        };
        // Borrowed strings and counts serialise without fail.
        let body = serde_json::to_string(&summary).unwrap_or_default();
        self.ports
            .objects
            .put(&self.settings.plan_bucket, key, body, "application/json")
            .await
            .map_err(CollectError::StorageUnavailable)
    }
}
