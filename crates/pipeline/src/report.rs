//! The report function: what the pages an execution worked through did not invalidate goes into
//! the seed's error file (one per distribution, in the error bucket), and one alert lists the
//! files, with why.
//!
//! The report reads where each set stands from the markers beside the sets (see [`crate::sets`]),
//! not from the state machine's results, so its input is a few hundred bytes whatever the run's
//! size, and a unit whose iteration died is still accounted for (its sets are "not submitted").
//!
//! - A set that **failed** or was **never submitted** is written whole to the error file, and goes
//!   on the next pass's pages (`g1`...), which a redrive of the execution works through.
//! - **Refused paths** (CloudFront's `InvalidArgument`, isolated from their set) are written alone,
//!   as their set, and reasoned with CloudFront's message in the alert; a redrive would not change
//!   CloudFront's answer, so they are not re-attempted.
//! - A set file or page that cannot be read is listed by key in the alert; everything else is still
//!   written.
//! - Keys whose only cover was too broad to send (a key `*`: its cover is `/*`) are listed in the
//!   alert, once, by the first pass's report: a person decides (invalidate by hand, or allow broad
//!   wildcards).
//!
//! The file keys are derived from the execution (its start time and a hash of its name and the
//! distribution), so a retried report, or the report after a redrive, overwrites its own files
//! instead of adding new ones.

use std::collections::BTreeMap;

use cfinv_core::report::{alert_body, alert_body_with_reasons, error_file_body, error_file_key, ALERT_SUBJECT};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tracing::{error, info};

use crate::execution::ExecutionName;
use crate::ports::{Alerts, Objects, PortError};
use crate::run::{paginate, Page, PageCursor, Run, RunKeys, Unit};
use crate::sets::{read_json, read_set, Failed, Mark, Marks, ReadError, Refused, SetState, TooBroad};
use crate::settings::ReportSettings;
use crate::{Clock, ErrorName, ErrorType};

/// SNS takes messages up to 256 KiB; the alert stops listing well before.
const ALERT_BUDGET_BYTES: usize = 200_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportInput {
    /// `$$.Execution.Name`: the error files' keys derive from it.
    pub execution: ExecutionName,
    /// `$$.Execution.StartTime`: the error files' timestamp.
    #[serde(default)]
    pub start_time: Option<String>,
    pub run: Run,
    /// The pages worked through are `run.firstPage` to `page.next` (excluded).
    pub page: PageCursor,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportOutput {
    /// Sets CloudFront accepted.
    pub invalidated: usize,
    /// Sets not invalidated (failed, or never submitted): a redrive re-attempts them.
    pub failed_count: usize,
    /// Paths CloudFront refused.
    pub refused_paths: usize,
    /// Stored files that could not be read (listed in the alert).
    pub unreadable: usize,
    /// Keys not sent because their only cover was too broad (listed in the alert).
    pub too_broad: usize,
    pub error_files: usize,
    /// Pages of the next pass (`g{round + 1}`), for the redrive gate.
    pub gate_pages: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("storage unavailable: {0}")]
    StorageUnavailable(#[source] PortError),
    #[error("cannot publish the alert: {0}")]
    AlertFailed(#[source] PortError),
}

impl ErrorName for ReportError {
    fn error_type(&self) -> ErrorType {
        match self {
            ReportError::InvalidInput(_) => ErrorType::InvalidInput,
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

/// What the pages say, distribution by distribution.
#[derive(Default)]
struct Findings {
    invalidated: usize,
    /// Per distribution: its sets to write, by number, with their paths.
    files: BTreeMap<String, BTreeMap<usize, Vec<String>>>,
    /// Per distribution: the sets to re-attempt, and how many sets it has.
    unfinished: BTreeMap<String, (Vec<usize>, usize)>,
    refused_paths: usize,
    reasons: Vec<String>,
    unreadable: Vec<String>,
}

pub struct Report<O, A> {
    pub objects: O,
    pub alerts: A,
    settings: ReportSettings,
    clock: Clock,
}

impl<O: Objects, A: Alerts> Report<O, A> {
    pub fn new(objects: O, alerts: A, settings: ReportSettings, clock: Clock) -> Self {
        Report { objects, alerts, settings, clock }
    }

    #[tracing::instrument(name = "report", skip_all, fields(execution = %input.execution, pass = %input.run.pass))]
    pub async fn handle(&self, input: ReportInput) -> Result<ReportOutput, ReportError> {
        let at: DateTime<Utc> = input
            .start_time
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| (self.clock)());
        let keys = RunKeys::of(&self.settings.plan_prefix, &input.run);
        let found = self.read_pages(&keys, &input.run, input.page.next).await?;

        let mut error_files = Vec::new();
        for (distribution, sets) in &found.files {
            let borrowed: Vec<(usize, &[String])> = sets.iter().map(|(n, p)| (*n, &p[..])).collect();
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

        let gate_pages = self.write_next_pass(&keys, &input.run, &found).await?;
        let failed_count: usize = found.unfinished.values().map(|(sets, _)| sets.len()).sum();
        let too_broad = self.too_broad(&keys, &input.run).await?;
        if !error_files.is_empty() || !found.unreadable.is_empty() || !too_broad.is_empty() {
            let mut reasons = found.reasons.clone();
            reasons.extend(found.unreadable.iter().map(|u| format!("unreadable: {u}")));
            reasons.extend(too_broad.iter().map(|t| {
                format!(
                    "too broad to send: s3://{}/{}{}: its only cover is a wildcard broader than one top-level directory; invalidate it by hand, or allow broad wildcards (AllowBroadWildcards)",
                    t.bucket,
                    t.key,
                    t.distribution_id.as_deref().map(|d| format!(" on {d}")).unwrap_or_default()
                )
            }));
            let body = bounded_alert(&self.settings.error_bucket, &error_files, &reasons);
            self.alerts
                .publish(&self.settings.topic_arn, ALERT_SUBJECT, &body)
                .await
                .map_err(ReportError::AlertFailed)?;
        }
        info!(
            invalidated = found.invalidated,
            failed = failed_count,
            refused_paths = found.refused_paths,
            unreadable = found.unreadable.len(),
            too_broad = too_broad.len(),
            files = error_files.len(),
            gate_pages,
            "reported"
        );
        Ok(ReportOutput {
            invalidated: found.invalidated,
            failed_count,
            refused_paths: found.refused_paths,
            unreadable: found.unreadable.len(),
            too_broad: too_broad.len(),
            error_files: error_files.len(),
            gate_pages,
        })
    }

    /// The keys collect did not send as too broad: read by the first pass's first execution only,
    /// so they are told once.
    async fn too_broad(&self, keys: &RunKeys, run: &Run) -> Result<Vec<TooBroad>, ReportError> {
        if run.pass != crate::run::FIRST_PASS || run.first_page != 0 {
            return Ok(Vec::new());
        }
        let text = self
            .objects
            .get(&self.settings.plan_bucket, &keys.too_broad())
            .await
            .map_err(ReportError::StorageUnavailable)?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default())
    }

    /// Goes through the pages `run.first_page..next` and every set of their units.
    async fn read_pages(&self, keys: &RunKeys, run: &Run, next: usize) -> Result<Findings, ReportError> {
        let bucket = &self.settings.plan_bucket;
        let mut found = Findings::default();
        let mut marks: BTreeMap<String, Marks> = BTreeMap::new();
        for number in run.first_page..next {
            let key = keys.page(&run.pass, number);
            let page: Page = match read_json(&self.objects, bucket, &key).await {
                Ok(page) => page,
                Err(ReadError::Storage(e)) => return Err(ReportError::StorageUnavailable(e)),
                Err(unreadable) => {
                    error!(error = %unreadable, "page unreadable");
                    found.unreadable.push(unreadable.to_string());
                    continue;
                }
            };
            for unit in &page.units {
                let d = &unit.distribution_id;
                if !marks.contains_key(d) {
                    let listed =
                        Marks::list(&self.objects, bucket, keys, d).await.map_err(ReportError::StorageUnavailable)?;
                    marks.insert(d.clone(), listed);
                }
                let m = &marks[d];
                for set in unit.sets() {
                    self.account(keys, unit, set, m, &mut found).await?;
                }
            }
        }
        Ok(found)
    }

    /// Where one set stands, into the findings.
    async fn account(
        &self,
        keys: &RunKeys,
        unit: &Unit,
        set: usize,
        marks: &Marks,
        found: &mut Findings,
    ) -> Result<(), ReportError> {
        let bucket = &self.settings.plan_bucket;
        let d = &unit.distribution_id;
        let storage = |e: ReadError| match e {
            ReadError::Storage(e) => Some(ReportError::StorageUnavailable(e)),
            _ => None,
        };
        let state = marks.state(set);
        if marks.has(set, Mark::Refused) {
            match read_json::<O, Refused>(&self.objects, bucket, &keys.marker(d, set, Mark::Refused.as_str())).await {
                Ok(refused) => {
                    found.refused_paths += refused.paths.len();
                    for p in &refused.paths {
                        found
                            .reasons
                            .push(format!("{d} set {set}: refused {}: InvalidArgument: {}", p.path, p.message));
                    }
                    found
                        .files
                        .entry(d.clone())
                        .or_default()
                        .insert(set, refused.paths.into_iter().map(|p| p.path).collect());
                }
                Err(e) => match storage(e) {
                    Some(e) => return Err(e),
                    None => found.unreadable.push(keys.marker(d, set, Mark::Refused.as_str())),
                },
            }
        }
        match state {
            SetState::Completed | SetState::Accepted => found.invalidated += 1,
            SetState::Refused => {}
            SetState::Failed | SetState::NotSubmitted => {
                let reason = if state == SetState::Failed {
                    match read_json::<O, Failed>(&self.objects, bucket, &keys.marker(d, set, Mark::Failed.as_str()))
                        .await
                    {
                        Ok(f) => format!("{}: {}", f.error, f.cause),
                        Err(e) => match storage(e) {
                            Some(e) => return Err(e),
                            None => "failed (its record cannot be read)".to_owned(),
                        },
                    }
                } else {
                    "NotSubmitted: its step did not run to the end (see the execution's history)".to_owned()
                };
                error!(distribution = %d, set, reason = %reason, "set not invalidated");
                found.reasons.push(format!("{d} set {set}: {reason}"));
                let entry = found.unfinished.entry(d.clone()).or_insert_with(|| (Vec::new(), unit.of));
                entry.0.push(set);
                match read_set(&self.objects, bucket, keys, d, set).await {
                    Ok(file) => {
                        found.files.entry(d.clone()).or_default().insert(set, file.paths);
                    }
                    Err(e) => match storage(e) {
                        Some(e) => return Err(e),
                        None => found.unreadable.push(keys.set(d, set)),
                    },
                }
            }
        }
        Ok(())
    }

    /// Writes the pages of the pass a redrive would work through: per distribution, one range from
    /// its first to its last unfinished set (steps skip what has completed in between).
    async fn write_next_pass(&self, keys: &RunKeys, run: &Run, found: &Findings) -> Result<usize, ReportError> {
        let ranges: Vec<Unit> = found
            .unfinished
            .iter()
            .filter_map(|(d, (sets, of))| {
                let first = *sets.iter().min()?;
                let last = *sets.iter().max()?;
                Some(Unit { distribution_id: d.clone(), first, last, of: *of })
            })
            .collect();
        let pages = paginate(&ranges);
        let pass = Run::redrive_pass(run.round + 1);
        for (n, page) in pages.iter().enumerate() {
            // Units of strings and numbers serialise without fail.
            let body = serde_json::to_string(page).unwrap_or_default();
            self.objects
                .put(&self.settings.plan_bucket, &keys.page(&pass, n), body, "application/json")
                .await
                .map_err(ReportError::StorageUnavailable)?;
        }
        Ok(pages.len())
    }
}

/// The alert, within SNS's size: reasons beyond the budget are counted, not listed (the error
/// files and the execution's log hold them all). With error files it is the seed's body (the
/// bucket, a blank line, the keys) and the reasons after it; without any (only keys too broad to
/// send, say) the seed's part would name the error bucket above an empty list, so a sentence says
/// there is nothing in it instead, and the reasons follow as always.
fn bounded_alert(bucket: &str, keys: &[String], reasons: &[String]) -> String {
    let mut listed: Vec<&String> = Vec::new();
    let mut size = 0;
    for k in keys {
        if size + k.len() + 1 > ALERT_BUDGET_BYTES / 2 {
            break;
        }
        size += k.len() + 1;
        listed.push(k);
    }
    let mut kept: Vec<String> = Vec::new();
    if listed.len() < keys.len() {
        kept.push(format!(
            "{} more error files under {} in the bucket, written at the same time",
            keys.len() - listed.len(),
            cfinv_core::report::ERROR_KEY_PREFIX
        ));
    }
    for (i, r) in reasons.iter().enumerate() {
        if size + r.len() + 1 > ALERT_BUDGET_BYTES {
            kept.push(format!("... and {} more reasons (see the error files and the report's log)", reasons.len() - i));
            break;
        }
        size += r.len() + 1;
        kept.push(r.clone());
    }
    let body = alert_body_with_reasons(bucket, &listed, &kept);
    if !listed.is_empty() {
        return body;
    }
    let reasons = body.strip_prefix(&alert_body(bucket, &listed)).unwrap_or(&body);
    format!("No error file was written to the error bucket ({bucket}): nothing there to resubmit.\n{reasons}")
}

#[cfg(test)]
mod tests;
