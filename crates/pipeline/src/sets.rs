//! What travels between the functions: the sets collect stores in S3 (path lists are too large for
//! Step Functions' 256 KiB payloads), the small references the Map iterates over, and what each
//! iteration returns.

use serde::{Deserialize, Serialize};

use crate::execution::ExecutionName;
use crate::ports::{Objects, PortError};

/// Where one execution's plan lives: `{prefix}{execution}/`.
pub fn execution_prefix(plan_prefix: &str, execution: &str) -> String {
    format!("{plan_prefix}{execution}/")
}

/// The key of one set: `{prefix}{execution}/{distributionId}/set-0001.json`.
pub fn set_key(plan_prefix: &str, execution: &str, distribution_id: &str, set: usize) -> String {
    format!("{}{distribution_id}/set-{set:04}.json", execution_prefix(plan_prefix, execution))
}

/// The key of a set's outcome: `{prefix}{execution}/{distributionId}/set-0001.result.json`.
pub fn result_key(plan_prefix: &str, execution: &str, distribution_id: &str, set: usize) -> String {
    format!("{}{distribution_id}/set-{set:04}.result.json", execution_prefix(plan_prefix, execution))
}

/// What became of one set, written beside it in the plan bucket as it happens: when CloudFront
/// accepted it (and as which invalidation), when it completed, or why it failed. `cfinv status`
/// and the report read these; the state machine's payloads stay small.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetOutcome {
    pub distribution_id: String,
    pub set: usize,
    /// `accepted` (CloudFront has it, in progress), `completed`, or `failed`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalidation_id: Option<String>,
    /// RFC 3339 times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// The error name (`AccessDenied`...) and CloudFront's message, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// The key of an execution's plan summary, written last: its presence means collect finished.
pub fn plan_key(plan_prefix: &str, execution: &str) -> String {
    format!("{}plan.json", execution_prefix(plan_prefix, execution))
}

/// One set as stored in S3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetFile {
    pub distribution_id: String,
    /// 1-based, in the distribution's plan.
    pub set: usize,
    /// How many sets the distribution has.
    pub of: usize,
    pub paths: Vec<String>,
}

/// A reference to a stored set: one Map item. Its [`SetFile`] is at
/// [`set_key`]`(plan prefix, execution, distribution, set)` in the plan bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetRef {
    pub distribution_id: String,
    pub set: usize,
    pub of: usize,
    pub path_count: usize,
    /// The first few paths, so the console shows what a set is about.
    pub preview: Vec<String>,
}

/// Why a stored set could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadSetError {
    /// S3 did not answer: worth retrying.
    #[error("plan storage unavailable: {0}")]
    Storage(#[source] PortError),
    /// The set is missing, or is not the set it should be: retrying will not help.
    #[error("set {key} cannot be read: {why}")]
    Unreadable { key: String, why: String },
}

/// Reads the stored set `set` of an execution, and checks that it is the set the reference names.
/// Invalidate (to send it) and report (to write its paths to the error file) both read sets so.
pub async fn read_set<O: Objects>(
    objects: &O,
    plan_bucket: &str,
    plan_prefix: &str,
    execution: &ExecutionName,
    set: &SetRef,
) -> Result<SetFile, ReadSetError> {
    let key = set_key(plan_prefix, execution.as_str(), &set.distribution_id, set.set);
    let unreadable = |why: String| ReadSetError::Unreadable { key: key.clone(), why };
    let text = objects
        .get(plan_bucket, &key)
        .await
        .map_err(ReadSetError::Storage)?
        .ok_or_else(|| unreadable("no such key".into()))?;
    let file: SetFile = serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()))?;
    if file.distribution_id != set.distribution_id || file.set != set.set || file.paths.is_empty() {
        return Err(unreadable(format!(
            "holds set {} of {} with {} paths",
            file.set,
            file.distribution_id,
            file.paths.len()
        )));
    }
    Ok(file)
}

/// What an invalidate iteration returns when the set was invalidated: small, because the Map
/// collects one per set into a payload limited to 256 KiB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetDone {
    pub distribution_id: String,
    pub set: usize,
    pub invalidation_id: String,
    pub status: String,
}

/// The error Step Functions adds with a Catch (`ResultPath: $.error`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaughtError {
    #[serde(rename = "Error", default)]
    pub error: String,
    #[serde(rename = "Cause", default)]
    pub cause: String,
}

/// What a Map iteration whose set failed returns (the Catch's Pass state shapes it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetFailed {
    pub failed: bool,
    pub set: SetRef,
    pub error: CaughtError,
}

/// One Map iteration's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SetResult {
    Failed(SetFailed),
    Done(SetDone),
}
