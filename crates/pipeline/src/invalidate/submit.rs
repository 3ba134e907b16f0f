//! Submitting one set: when it fits, CreateInvalidation; when CloudFront refuses paths, only those.
//!
//! CloudFront answers `InvalidArgument` for the whole batch when one path is wrong. Rather than
//! report 2,999 good paths with the bad one, the set is split in halves until the refused paths are
//! alone: the good halves are created as they are found (CallerReference `{set's}/{from}-{to}`, the
//! same on every retry), each refused path is recorded with CloudFront's message, and the set is
//! accepted with the rest. At most [`MAX_ISOLATION_CALLS`] calls are spent on one set; beyond that
//! (CloudFront refusing everything, for a reason no path explains) the remaining parts are
//! recorded refused as they are.

use serde_json::json;
use tracing::{info, warn};

use crate::capacity::{self, Capacity};
use crate::ports::{CloudFront, ErrorKind, Events, Executions, Objects, PortError};
use crate::run::{Run, RunKeys, Unit};
use crate::sets::{put_marker, read_set, Accepted, Failed, Mark, ReadError, Refused, RefusedPath};
use crate::ErrorType;

use super::{caller_reference, cloudfront_error_type, Invalidate, InvalidateError};

/// The most CreateInvalidation calls spent isolating the refused paths of one set: enough for a
/// dozen refused paths in a set of 3,000 (each costs about two calls per halving, 12 halvings).
pub const MAX_ISOLATION_CALLS: usize = 256;

/// What became of a set this step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Submitted {
    /// CloudFront has it (or its good paths).
    Accepted,
    /// CloudFront refused every path.
    AllRefused,
    /// It could not be invalidated (recorded, and told on the bus).
    Failed,
    /// It does not fit CloudFront's in-progress limits yet.
    NoRoom,
}

/// The parts CloudFront accepted and the paths it refused.
#[derive(Debug, Default)]
struct Parts {
    ids: Vec<String>,
    items: usize,
    refused: Vec<RefusedPath>,
}

impl<O: Objects, C: CloudFront, E: Executions, V: Events> Invalidate<O, C, E, V> {
    pub(super) async fn submit(
        &self,
        keys: &RunKeys,
        run: &Run,
        unit: &Unit,
        set: usize,
    ) -> Result<Submitted, InvalidateError> {
        let s = &self.settings;
        let d = &unit.distribution_id;
        let file = match read_set(&self.objects, &s.plan_bucket, keys, d, set).await {
            Ok(file) => file,
            Err(ReadError::Storage(e)) => return Err(InvalidateError::StorageUnavailable(e)),
            Err(unreadable) => {
                self.fail(keys, run, unit, set, ErrorType::SetUnreadable, &unreadable.to_string(), 0).await?;
                return Ok(Submitted::Failed);
            }
        };
        let reference = caller_reference(&s.reference_scope, run.execution.as_str(), d, set);
        let now = || crate::timestamp((self.clock)());
        let cf_error = |source: PortError| InvalidateError::CloudFront { distribution: d.clone(), source };
        match capacity::check(&self.cloudfront, d, &reference, &file.paths).await {
            Ok(Capacity::AlreadySubmitted(inv)) => {
                let accepted = Accepted { invalidation_ids: vec![inv.id], accepted_at: now(), items: file.paths.len() };
                put_marker(&self.objects, &s.plan_bucket, keys, d, set, Mark::Accepted, &accepted)
                    .await
                    .map_err(InvalidateError::StorageUnavailable)?;
                return Ok(Submitted::Accepted);
            }
            Ok(Capacity::Full(busy)) => {
                info!(set, paths_in_progress = busy.paths, wildcards_in_progress = busy.wildcards, "no room yet");
                return Ok(Submitted::NoRoom);
            }
            Ok(Capacity::Fits(_)) => {}
            Err(e) if is_permanent(e.kind) => {
                let error = cloudfront_error_type(e.kind);
                self.fail(keys, run, unit, set, error, e.detail(), file.paths.len()).await?;
                return Ok(Submitted::Failed);
            }
            Err(e) => return Err(cf_error(e)),
        }

        let parts = match self.create_isolating(d, &reference, &file.paths).await {
            Ok(parts) => parts,
            Err(e) if e.kind == ErrorKind::TooManyInvalidationsInProgress => {
                // Another caller filled the limits since the check: wait like any full distribution.
                crate::metrics::too_many_in_progress(d);
                warn!(set, "TooManyInvalidationsInProgress; waiting for room");
                return Ok(Submitted::NoRoom);
            }
            Err(e) if is_permanent(e.kind) => {
                self.fail(keys, run, unit, set, cloudfront_error_type(e.kind), e.detail(), file.paths.len()).await?;
                return Ok(Submitted::Failed);
            }
            Err(e) => return Err(cf_error(e)),
        };
        if !parts.refused.is_empty() {
            crate::metrics::refused_paths(d, parts.refused.len());
            warn!(
                set,
                refused = parts.refused.len(),
                accepted = parts.items,
                "CloudFront refused paths; the rest is invalidated"
            );
            let refused = Refused { paths: parts.refused };
            let cause = refused.paths.first().map(|p| p.message.clone()).unwrap_or_default();
            self.tell_failed(
                run,
                unit,
                set,
                ErrorType::InvalidArgument,
                &cause,
                file.paths.len(),
                &parts.ids,
                &refused.paths,
            )
            .await?;
            put_marker(&self.objects, &s.plan_bucket, keys, d, set, Mark::Refused, &refused)
                .await
                .map_err(InvalidateError::StorageUnavailable)?;
        }
        if parts.ids.is_empty() {
            return Ok(Submitted::AllRefused);
        }
        info!(set, items = parts.items, invalidations = ?parts.ids, "invalidation created");
        let accepted = Accepted { invalidation_ids: parts.ids, accepted_at: now(), items: parts.items };
        put_marker(&self.objects, &s.plan_bucket, keys, d, set, Mark::Accepted, &accepted)
            .await
            .map_err(InvalidateError::StorageUnavailable)?;
        Ok(Submitted::Accepted)
    }

    /// CreateInvalidation for `items`; on `InvalidArgument`, halves until the refused paths are
    /// alone. Any other error ends it (the caller retries the whole set: parts already created
    /// come back by their references).
    async fn create_isolating(&self, d: &str, reference: &str, items: &[String]) -> Result<Parts, PortError> {
        let mut parts = Parts::default();
        let mut pending = vec![(0, items.len())];
        let mut calls = 0;
        while let Some((from, to)) = pending.pop() {
            let part = &items[from..to];
            if calls >= MAX_ISOLATION_CALLS {
                let message = "not sent: too many paths of this set were refused to isolate them".to_owned();
                parts.refused.extend(part.iter().map(|p| RefusedPath { path: p.clone(), message: message.clone() }));
                continue;
            }
            let part_reference =
                if (from, to) == (0, items.len()) { reference.to_owned() } else { format!("{reference}/{from}-{to}") };
            calls += 1;
            match self.cloudfront.create_invalidation(d, &part_reference, part).await {
                Ok(inv) => {
                    parts.ids.push(inv.id);
                    parts.items += part.len();
                }
                Err(e) if e.kind == ErrorKind::InvalidArgument => {
                    if part.len() == 1 {
                        parts.refused.push(RefusedPath { path: part[0].clone(), message: e.detail().to_owned() });
                    } else {
                        let middle = from + part.len() / 2;
                        // Depth first, first half first: parts are created in the set's order.
                        pending.push((middle, to));
                        pending.push((from, middle));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        parts.refused.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(parts)
    }

    /// Records that set `set` could not be invalidated, and says so on the bus.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn fail(
        &self,
        keys: &RunKeys,
        run: &Run,
        unit: &Unit,
        set: usize,
        error: ErrorType,
        cause: &str,
        items: usize,
    ) -> Result<(), InvalidateError> {
        let s = &self.settings;
        let d = &unit.distribution_id;
        warn!(set, error_type = %error, cause, "set not invalidated");
        crate::metrics::set_failed(d);
        self.tell_failed(run, unit, set, error, cause, items, &[], &[]).await?;
        let failed = Failed {
            error: error.as_str().to_owned(),
            cause: cause.to_owned(),
            pass: run.pass.clone(),
            failed_at: crate::timestamp((self.clock)()),
        };
        put_marker(&self.objects, &s.plan_bucket, keys, d, set, Mark::Failed, &failed)
            .await
            .map_err(InvalidateError::StorageUnavailable)
    }

    /// `Invalidation Failed` on the bus, in the shape of `Invalidation Completed` (see
    /// [`super::finish`]), with the set, the error and the refused paths.
    #[allow(clippy::too_many_arguments)]
    async fn tell_failed(
        &self,
        run: &Run,
        unit: &Unit,
        set: usize,
        error: ErrorType,
        cause: &str,
        items: usize,
        accepted_ids: &[String],
        refused: &[RefusedPath],
    ) -> Result<(), InvalidateError> {
        let record = self.distribution_record(run, &unit.distribution_id).await;
        let target = cfinv_core::Target::parse(&unit.distribution_id);
        let mut detail = json!({
            "stack": self.settings.reference_scope,
            "distributionId": target.distribution_id,
            "execution": run.execution,
            "invalidationIds": accepted_ids,
            "items": items,
            "paths": items,
            "events": record.as_ref().map(|r| r.events),
            "firstEventTime": record.as_ref().and_then(|r| r.first_event_time.clone()),
            "acceptedAt": null,
            "completedAt": null,
            "set": set,
            "of": unit.of,
            "error": error.as_str(),
            "cause": cause,
            "refusedPaths": refused.iter().take(20).collect::<Vec<_>>(),
            "refusedCount": refused.len(),
        });
        super::finish::with_tenant(&mut detail, target.tenant_id);
        self.events.put("Invalidation Failed", &detail.to_string()).await.map_err(InvalidateError::EventsUnavailable)
    }
}

/// CloudFront answers that retrying will not change.
fn is_permanent(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::AccessDenied
            | ErrorKind::NotFound
            | ErrorKind::InvalidArgument
            | ErrorKind::BatchMismatch
            | ErrorKind::AlreadyExists
    )
}
