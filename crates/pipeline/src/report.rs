//! The report function: every set that could not be invalidated goes into the seed's error file
//! (one per distribution, in the error bucket), and one alert lists the files.
//!
//! The file keys are derived from the execution (its start time and a hash of its name and the
//! distribution), so a retried report overwrites its own files instead of adding new ones.

use std::collections::BTreeMap;

use cfinv_core::report::{alert_body, error_file_body, error_file_key, ALERT_SUBJECT};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tracing::{error, info};

use crate::execution::ExecutionName;
use crate::ports::{Alerts, Objects, PortError};
use crate::sets::{read_set, ReadSetError, SetRef, SetResult};
use crate::settings::ReportSettings;
use crate::{Clock, ErrorName, ErrorType};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportInput {
    pub execution: ExecutionName,
    /// `$$.Execution.StartTime`: the error files' timestamp.
    #[serde(default)]
    pub start_time: Option<String>,
    /// The Map's results.
    pub results: Vec<SetResult>,
}

/// One failed set, for the output and the logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    pub distribution_id: String,
    pub set: usize,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportOutput {
    pub invalidated: usize,
    pub failed_count: usize,
    /// The sets that failed: the redrive gate iterates over them.
    pub failed: Vec<SetRef>,
    pub failures: Vec<Failure>,
    pub error_files: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("set {0} cannot be read: {1}")]
    SetUnreadable(String, String),
    #[error("storage unavailable: {0}")]
    StorageUnavailable(#[source] PortError),
    #[error("cannot publish the alert: {0}")]
    AlertFailed(#[source] PortError),
}

impl ErrorName for ReportError {
    fn error_type(&self) -> ErrorType {
        match self {
            ReportError::InvalidInput(_) => ErrorType::InvalidInput,
            ReportError::SetUnreadable(..) => ErrorType::SetUnreadable,
            ReportError::StorageUnavailable(_) => ErrorType::StorageUnavailable,
            ReportError::AlertFailed(_) => ErrorType::AlertFailed,
        }
    }
}

/// FNV-1a: a hash that is the same on every platform and Rust version, for file names that must
/// not change between a report and its retry.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

pub struct Report<O, A> {
    objects: O,
    alerts: A,
    settings: ReportSettings,
    clock: Clock,
}

impl<O: Objects, A: Alerts> Report<O, A> {
    pub fn new(objects: O, alerts: A, settings: ReportSettings, clock: Clock) -> Self {
        Report { objects, alerts, settings, clock }
    }

    #[tracing::instrument(name = "report", skip_all, fields(execution = %input.execution))]
    pub async fn handle(&self, input: ReportInput) -> Result<ReportOutput, ReportError> {
        let at: DateTime<Utc> = input
            .start_time
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| (self.clock)());

        let mut invalidated = 0;
        let mut failed: Vec<SetRef> = Vec::new();
        let mut failures = Vec::new();
        for r in input.results {
            match r {
                SetResult::Done(_) => invalidated += 1,
                SetResult::Failed(f) => {
                    error!(distribution = %f.set.distribution_id, set = f.set.set, error = %f.error.error, cause = %f.error.cause, "set not invalidated");
                    failures.push(Failure {
                        distribution_id: f.set.distribution_id.clone(),
                        set: f.set.set,
                        error: f.error.error.clone(),
                    });
                    failed.push(f.set);
                }
            }
        }

        let mut by_distribution: BTreeMap<&str, Vec<&SetRef>> = BTreeMap::new();
        for s in &failed {
            by_distribution.entry(&s.distribution_id).or_default().push(s);
        }
        let mut error_files = Vec::new();
        for (distribution, mut sets) in by_distribution {
            sets.sort_by_key(|s| s.set);
            let mut contents: Vec<(usize, Vec<String>)> = Vec::new();
            for s in sets {
                let file = read_set(
                    &self.objects,
                    &self.settings.plan_bucket,
                    &self.settings.plan_prefix,
                    &input.execution,
                    s,
                )
                .await
                .map_err(|e| match e {
                    ReadSetError::Storage(e) => ReportError::StorageUnavailable(e),
                    ReadSetError::Unreadable { key, why } => ReportError::SetUnreadable(key, why),
                })?;
                contents.push((s.set, file.paths));
            }
            let borrowed: Vec<(usize, &[String])> = contents.iter().map(|(n, p)| (*n, &p[..])).collect();
            let seed = stable_hash(&format!("{}/{distribution}", input.execution));
            let key = error_file_key(at, seed, distribution).map_err(|e| ReportError::InvalidInput(e.to_string()))?;
            let body =
                error_file_body(distribution, &borrowed).map_err(|e| ReportError::InvalidInput(e.to_string()))?;
            self.objects
                .put(&self.settings.error_bucket, &key, body, "text/plain; charset=utf-8")
                .await
                .map_err(ReportError::StorageUnavailable)?;
            error_files.push(key);
        }
        if !error_files.is_empty() {
            let body = alert_body(&self.settings.error_bucket, &error_files);
            self.alerts
                .publish(&self.settings.topic_arn, ALERT_SUBJECT, &body)
                .await
                .map_err(ReportError::AlertFailed)?;
        }
        info!(invalidated, failed = failed.len(), files = error_files.len(), "reported");
        Ok(ReportOutput { invalidated, failed_count: failed.len(), failed, failures, error_files })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::*;
    use crate::sets::{set_key, CaughtError, SetDone, SetFailed, SetFile};
    use cfinv_core::report::parse_error_file;

    fn set(d: &str, n: usize, paths: &[&str], objects: &FakeObjects) -> SetRef {
        let key = set_key("plans/", "x-1", d, n);
        let file =
            SetFile { distribution_id: d.into(), set: n, of: 2, paths: paths.iter().map(|p| p.to_string()).collect() };
        objects.objects.lock().unwrap().insert(("plans".into(), key), serde_json::to_string(&file).unwrap());
        SetRef { distribution_id: d.into(), set: n, of: 2, path_count: paths.len(), preview: vec![] }
    }

    #[tokio::test]
    async fn failed_sets_become_seed_error_files_and_one_alert() {
        let objects = FakeObjects::default();
        let e1s1 = set("E1", 1, &["/a", "/b"], &objects);
        let e1s2 = set("E1", 2, &["/c"], &objects);
        let e2s1 = set("E2", 1, &["/z"], &objects);
        let failed = |s: SetRef| {
            SetResult::Failed(SetFailed {
                failed: true,
                set: s,
                error: CaughtError { error: "AccessDenied".into(), cause: "no".into() },
            })
        };
        let input = ReportInput {
            execution: ExecutionName::try_from("x-1").unwrap(),
            start_time: Some("2026-11-26T05:40:22.123Z".into()),
            results: vec![
                failed(e1s2),
                SetResult::Done(SetDone {
                    distribution_id: e2s1.distribution_id,
                    set: 1,
                    invalidation_id: "I1".into(),
                    status: "InProgress".into(),
                }),
                failed(e1s1),
            ],
        };
        let settings = ReportSettings {
            plan_bucket: "plans".into(),
            plan_prefix: "plans/".into(),
            error_bucket: "errors".into(),
            topic_arn: "arn:t".into(),
        };
        let report = Report::new(objects, FakeAlerts::default(), settings, fixed_clock("2026-11-26T06:00:00Z"));
        let out = report.handle(input.clone()).await.unwrap();
        assert_eq!((out.invalidated, out.failed_count), (1, 2));
        assert_eq!(out.error_files.len(), 1);
        let key = &out.error_files[0];
        assert!(key.starts_with("invalidation_error/20261126054022") && key.ends_with("_E1.txt"), "{key}");
        let file = parse_error_file(&report.objects.get_now("errors", key).unwrap()).unwrap();
        assert_eq!(file.distribution_id, "E1");
        assert_eq!(file.sets.iter().map(|s| (s.number, s.paths.len())).collect::<Vec<_>>(), [(1, 2), (2, 1)]);
        let published = report.alerts.published.lock().unwrap().clone();
        assert_eq!(published.len(), 1);
        assert_eq!(published[0].1, "[Error] CloudFront Invalidation");
        assert_eq!(published[0].2, format!("bucket : errors\n\n{key}\n"));
        drop(published);
        let again = report.handle(input).await.unwrap();
        assert_eq!(again.error_files, out.error_files, "a retried report writes the same files");
    }

    #[tokio::test]
    async fn no_failures_no_alert() {
        let settings = ReportSettings {
            plan_bucket: "plans".into(),
            plan_prefix: "plans/".into(),
            error_bucket: "errors".into(),
            topic_arn: "arn:t".into(),
        };
        let report =
            Report::new(FakeObjects::default(), FakeAlerts::default(), settings, fixed_clock("2026-11-26T06:00:00Z"));
        let out = report
            .handle(ReportInput { execution: ExecutionName::try_from("x").unwrap(), start_time: None, results: vec![] })
            .await
            .unwrap();
        assert_eq!(out.failed_count, 0);
        assert!(report.alerts.published.lock().unwrap().is_empty());
    }
}
