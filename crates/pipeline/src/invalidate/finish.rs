//! When a unit is done: if every set of its distribution has completed, the world is told.
//!
//! One event on the account's default event bus, source `cfinv`, detail-type
//! `Invalidation Completed`, once per distribution and run:
//!
//! ```json
//! {"stack": "cfinv", "distributionId": "E1", "execution": "cfinv-10s-20261126T054010Z",
//!  "invalidationIds": ["I1", "I2"], "items": 4402, "paths": 4402, "events": 4000, "sets": 2,
//!  "firstEventTime": "2026-11-26T05:40:11.120Z", "acceptedAt": "2026-11-26T05:40:24Z",
//!  "completedAt": "2026-11-26T05:40:51Z", "secondsToAccepted": 12.9, "secondsToCompleted": 39.9}
//! ```
//!
//! `distributionTenantId` names the distribution tenant when the invalidations were a tenant's
//! (CreateInvalidationForDistributionTenant); a distribution's events have no such field (as
//! the README shows them). `items` is what CloudFront received (wildcards included), `paths` the exact paths they stand
//! for, `events` the S3 changes; `acceptedAt` and `completedAt` are the latest set's, and the
//! latencies run from `firstEventTime`, the earliest change the run covers. A deploy pipeline waits
//! for it with an EventBridge rule (README, "Waiting for content to be live"). The latencies also go
//! to the metrics. A distribution with a set that failed or a path refused gets no such event; each
//! such set gave an `Invalidation Failed` when it happened.

use chrono::DateTime;
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use tracing::info;

use crate::ports::{CloudFront, Events, Executions, Objects};
use crate::run::{Run, RunKeys};
use crate::sets::{read_json, Completed, DistributionRecord, Mark, Marks, SetState};

use super::step::UnitStep;
use super::{Invalidate, InvalidateError};

/// Markers read at once.
const PARALLEL_GETS: usize = 16;

/// Adds `distributionTenantId` to an event's detail for a tenant's invalidations; a
/// distribution's event goes without the field (not with `null`).
pub(super) fn with_tenant(detail: &mut serde_json::Value, tenant_id: Option<String>) {
    if let (Some(t), Some(fields)) = (tenant_id, detail.as_object_mut()) {
        fields.insert("distributionTenantId".to_owned(), serde_json::Value::String(t));
    }
}

fn seconds_between(from: Option<&str>, to: &str) -> Option<f64> {
    let from = DateTime::parse_from_rfc3339(from?).ok()?;
    let to = DateTime::parse_from_rfc3339(to).ok()?;
    Some(((to - from).num_milliseconds() as f64 / 1000.0).max(0.0))
}

impl<O: Objects, C: CloudFront, E: Executions, V: Events> Invalidate<O, C, E, V> {
    pub(super) async fn finish(&self, keys: &RunKeys, st: &UnitStep, marks: &Marks) -> Result<(), InvalidateError> {
        let s = &self.settings;
        let d = &st.unit.distribution_id;
        let of = st.unit.of;
        let all_completed =
            (1..=of).all(|set| marks.state(set) == SetState::Completed && !marks.has(set, Mark::Refused));
        if !all_completed {
            info!("unit done; the distribution has sets still open or not invalidated");
            return Ok(());
        }
        if self
            .objects
            .get(&s.plan_bucket, &keys.completed_event(d))
            .await
            .map_err(InvalidateError::StorageUnavailable)?
            .is_some()
        {
            return Ok(());
        }
        let completed: Vec<Completed> = futures::stream::iter(1..=of)
            .map(|set| {
                let key = keys.marker(d, set, Mark::Completed.as_str());
                async move { read_json::<O, Completed>(&self.objects, &s.plan_bucket, &key).await }
            })
            .buffered(PARALLEL_GETS)
            .try_collect()
            .await?;
        let record = self.distribution_record(&st.run, d).await;
        let accepted_at = completed.iter().map(|c| c.accepted_at.as_str()).max().unwrap_or_default().to_owned();
        let completed_at = completed.iter().map(|c| c.completed_at.as_str()).max().unwrap_or_default().to_owned();
        let first = record.as_ref().and_then(|r| r.first_event_time.clone());
        let to_accepted = seconds_between(first.as_deref(), &accepted_at);
        let to_completed = seconds_between(first.as_deref(), &completed_at);
        let target = cfinv_core::Target::parse(d);
        let mut detail = json!({
            "stack": s.reference_scope,
            "distributionId": target.distribution_id,
            "execution": st.run.execution,
            "invalidationIds": completed.iter().flat_map(|c| c.invalidation_ids.iter()).collect::<Vec<_>>(),
            "items": completed.iter().map(|c| c.items).sum::<usize>(),
            "paths": record.as_ref().map(|r| r.exact_items),
            "events": record.as_ref().map(|r| r.events),
            "sets": of,
            "firstEventTime": first,
            "acceptedAt": accepted_at,
            "completedAt": completed_at,
            "secondsToAccepted": to_accepted,
            "secondsToCompleted": to_completed,
        });
        with_tenant(&mut detail, target.tenant_id);
        self.events
            .put("Invalidation Completed", &detail.to_string())
            .await
            .map_err(InvalidateError::EventsUnavailable)?;
        if let (Some(a), Some(c)) = (to_accepted, to_completed) {
            crate::metrics::latency(d, a, c);
        }
        info!(
            accepted_at,
            completed_at,
            seconds_to_accepted = to_accepted.unwrap_or(-1.0),
            seconds_to_completed = to_completed.unwrap_or(-1.0),
            "content is live: Invalidation Completed"
        );
        let marker = json!({"at": crate::timestamp((self.clock)())}).to_string();
        self.objects
            .put(&s.plan_bucket, &keys.completed_event(d), marker, "application/json")
            .await
            .map_err(InvalidateError::StorageUnavailable)
    }

    /// The distribution's record from collect; `None` when it cannot be read (the event then has
    /// no first event time, rather than no event).
    pub(super) async fn distribution_record(&self, run: &Run, distribution_id: &str) -> Option<DistributionRecord> {
        let s = &self.settings;
        let keys = RunKeys::of(&s.plan_prefix, run);
        read_json(&self.objects, &s.plan_bucket, &keys.distribution(distribution_id)).await.ok()
    }
}
