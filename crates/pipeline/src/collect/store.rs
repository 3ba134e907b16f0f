//! Storing a run: every set, every distribution's record, the pages and the receipts under the
//! attempt's own keys, then `plan.json` last, only if it does not exist yet.
//!
//! `plan.json` is the run's record for operators (every skipped event with its reason, counts by
//! reason, the wildcards) and the arbiter between attempts: written with `If-None-Match: *`, so of
//! two collects of one execution exactly one writes it, and a retried collect that finds it
//! answers with its `output` instead of draining again.

use std::collections::BTreeMap;

use cfinv_core::plan::{Compaction, Cost, NoteRow, Plan, Policy, Reason, SkipRow};
use cfinv_core::ObjectEvent;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::ports::{Buckets, CloudFront, Delete, Executions, Objects, Queue};
use crate::run::{paginate, whole, RunKeys};
use crate::sets::{DistributionRecord, SetFile, TooBroad};

use super::{Collect, CollectError, CollectOutput};

/// How many skipped entries `plan.json` lists one by one (all are counted).
pub const SKIPPED_LISTED: usize = 1000;
/// Objects written at once.
const PARALLEL_PUTS: usize = 16;

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
    #[serde(skip_serializing_if = "Option::is_none")]
    distribution_tenant_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    distribution_tenant_name: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    staging: bool,
    /// How many items are cache tags.
    #[serde(skip_serializing_if = "is_zero")]
    tag_items: usize,
    policy: Policy,
    max_items: usize,
    events: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_event_time: Option<&'a str>,
    #[serde(flatten)]
    cost: Cost,
    /// Why items that are not simply a key's path are there (the first [`SKIPPED_LISTED`]).
    notes: Vec<NoteRow<'a>>,
    compacted: &'a [Compaction],
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What a retried collect reads back from `plan.json`.
#[derive(Deserialize)]
struct StoredSummary {
    output: CollectOutput,
}

/// One drained message, to delete once the run is stored (`receipts.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Receipt {
    id: String,
    receipt_handle: String,
}

impl<Q: Queue, O: Objects + Buckets, C: CloudFront, E: Executions> Collect<Q, O, C, E> {
    /// The output the attempt that wrote `plan.json` answered with, if one did.
    pub(super) async fn stored_output(&self, key: &str) -> Result<Option<CollectOutput>, CollectError> {
        let stored =
            self.ports.objects.get(&self.settings.plan_bucket, key).await.map_err(CollectError::StorageUnavailable)?;
        Ok(stored.and_then(|text| serde_json::from_str::<StoredSummary>(&text).ok()).map(|s| s.output))
    }

    /// Stores every set and distribution record, then the pages; returns the number of pages.
    pub(super) async fn store_run(&self, keys: &RunKeys, plan: &Plan) -> Result<usize, CollectError> {
        let mut files: Vec<(String, String)> = Vec::new();
        for inv in &plan.invalidations {
            // A tenant's sets live under its target key (`E1_dt_...`), which also goes into its
            // units, CallerReferences and error file; a distribution's under its id, as before.
            let target = inv.target().key();
            let of = inv.sets.len();
            for (i, set) in inv.sets().enumerate() {
                let file = SetFile {
                    distribution_id: target.clone(),
                    set: i + 1,
                    of,
                    paths: set.iter().map(|p| p.to_string()).collect(),
                };
                // A struct of strings serialises without fail.
                files.push((keys.set(&target, i + 1), serde_json::to_string(&file).unwrap_or_default()));
            }
            let cost = inv.cost();
            let record = DistributionRecord {
                distribution_id: target.clone(),
                items: inv.items.len(),
                exact_items: inv.exact_items,
                sets: of,
                events: inv.events,
                first_event_time: inv.first_event_time.clone(),
                estimated_cost_usd: cost.estimated_cost_usd,
            };
            files.push((keys.distribution(&target), serde_json::to_string(&record).unwrap_or_default()));
        }
        let distributions: Vec<(String, usize)> =
            plan.invalidations.iter().map(|d| (d.target().key(), d.sets.len())).collect();
        let pages = paginate(&whole(&distributions));
        for (n, page) in pages.iter().enumerate() {
            files.push((keys.page(crate::run::FIRST_PASS, n), serde_json::to_string(page).unwrap_or_default()));
        }
        self.put_all(files).await?;
        Ok(pages.len())
    }

    /// Writes `too-broad.json` when the plan skipped keys as too broad (the first
    /// [`SKIPPED_LISTED`]).
    pub(super) async fn store_too_broad(
        &self,
        keys: &RunKeys,
        plan: &Plan,
        events: &[ObjectEvent],
    ) -> Result<(), CollectError> {
        let rows: Vec<TooBroad> = plan
            .skip_rows(events)
            .filter(|r| r.reason == Reason::TooBroad)
            .take(SKIPPED_LISTED)
            .map(|r| TooBroad {
                bucket: r.bucket.to_owned(),
                key: r.key.to_owned(),
                distribution_id: r.distribution_id.map(str::to_owned),
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        self.put_all(vec![(keys.too_broad(), serde_json::to_string(&rows).unwrap_or_default())]).await
    }

    /// Writes `receipts.json`: a retried collect that finds `plan.json` deletes these.
    pub(super) async fn store_receipts(&self, keys: &RunKeys, receipts: &[Delete]) -> Result<(), CollectError> {
        let receipts: Vec<Receipt> =
            receipts.iter().map(|d| Receipt { id: d.id.clone(), receipt_handle: d.receipt_handle.clone() }).collect();
        self.put_all(vec![(keys.receipts(), serde_json::to_string(&receipts).unwrap_or_default())]).await
    }

    /// The receipts an attempt stored.
    pub(super) async fn stored_receipts(&self, keys: &RunKeys) -> Result<Vec<Delete>, CollectError> {
        let text = self
            .ports
            .objects
            .get(&self.settings.plan_bucket, &keys.receipts())
            .await
            .map_err(CollectError::StorageUnavailable)?;
        let receipts: Vec<Receipt> = text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        Ok(receipts.into_iter().map(|r| Delete { id: r.id, receipt_handle: r.receipt_handle }).collect())
    }

    async fn put_all(&self, files: Vec<(String, String)>) -> Result<(), CollectError> {
        let bucket = &self.settings.plan_bucket;
        let objects = &self.ports.objects;
        futures::stream::iter(files)
            .map(|(key, body)| async move { objects.put(bucket, &key, body, "application/json").await })
            .buffer_unordered(PARALLEL_PUTS)
            .try_collect::<Vec<()>>()
            .await
            .map_err(CollectError::StorageUnavailable)?;
        Ok(())
    }

    /// Writes `plan.json`, last, if no other attempt did: `false` when one did.
    pub(super) async fn store_summary(
        &self,
        keys: &RunKeys,
        output: &CollectOutput,
        plan: &Plan,
        events: &[ObjectEvent],
    ) -> Result<bool, CollectError> {
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
                    distribution_tenant_id: d.tenant.as_ref().map(|t| &*t.id),
                    distribution_tenant_name: d.tenant.as_ref().map(|t| &*t.name),
                    staging: d.staging,
                    tag_items: d.tag_items(),
                    policy: d.policy,
                    max_items: d.max_items,
                    events: d.events,
                    first_event_time: d.first_event_time.as_deref(),
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
            .put_new(&self.settings.plan_bucket, &keys.plan(), body, "application/json")
            .await
            .map_err(CollectError::StorageUnavailable)
    }
}
