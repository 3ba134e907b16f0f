//! Sets and their fate, in the plan bucket beside them.
//!
//! A set's items are in `set-0001.json` (a 3,000-path set is larger than a Step Functions
//! payload). What became of it is written beside it, one small marker per step, as it happens:
//!
//! - `set-0001.accepted.json`: CloudFront accepted it (as which invalidations, when);
//! - `set-0001.completed.json`: every one of those invalidations is `Completed`;
//! - `set-0001.refused.json`: paths CloudFront refused (`InvalidArgument`), isolated from the rest;
//! - `set-0001.failed.json`: it could not be invalidated (`AccessDenied`...), and why.
//!
//! The state machine's payloads stay small, a retried step finds what an earlier attempt did by
//! listing the distribution's folder, and `cfinv status` and the report read the same markers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ports::{Objects, PortError};
use crate::run::RunKeys;

/// One set as stored.
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

/// One distribution of a run as collect stored it (`distribution.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DistributionRecord {
    pub distribution_id: String,
    /// Items sent (wildcards included) and the exact paths they stand for.
    pub items: usize,
    pub exact_items: usize,
    pub sets: usize,
    /// Events that gave the distribution an item.
    pub events: usize,
    /// The earliest S3 `eventTime` among them (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_event_time: Option<String>,
    pub estimated_cost_usd: f64,
}

/// A key whose only cover was a wildcard broader than one top-level directory (`*`, `a*` at the
/// top): not sent unless the stack allows it (`AllowBroadWildcards`); the report tells a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TooBroad {
    pub bucket: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_id: Option<String>,
}

/// The markers of a set, by the word in their key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mark {
    Accepted,
    Completed,
    Refused,
    Failed,
}

impl Mark {
    pub const ALL: [Mark; 4] = [Mark::Accepted, Mark::Completed, Mark::Refused, Mark::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Mark::Accepted => "accepted",
            Mark::Completed => "completed",
            Mark::Refused => "refused",
            Mark::Failed => "failed",
        }
    }
}

/// `set-NNNN.accepted.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    /// One invalidation, or one per part when refused paths were split out.
    pub invalidation_ids: Vec<String>,
    /// RFC 3339.
    pub accepted_at: String,
    /// Items CloudFront accepted (the set's, less any refused).
    pub items: usize,
}

/// `set-NNNN.completed.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Completed {
    pub invalidation_ids: Vec<String>,
    pub accepted_at: String,
    /// When cfinv first saw every invalidation of the set `Completed` (within one poll interval of
    /// CloudFront's own moment).
    pub completed_at: String,
    pub items: usize,
}

/// One path CloudFront refused, with its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefusedPath {
    pub path: String,
    /// CloudFront's message.
    pub message: String,
}

/// `set-NNNN.refused.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refused {
    pub paths: Vec<RefusedPath>,
}

/// `set-NNNN.failed.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failed {
    /// The error name (`AccessDenied`...), one of [`crate::ErrorType`].
    pub error: String,
    /// What AWS said.
    pub cause: String,
    /// The pass that failed it (`p`, `g1`...): a later pass tries it again.
    pub pass: String,
    pub failed_at: String,
}

/// Why a stored file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// S3 did not answer: worth retrying.
    #[error("plan storage unavailable: {0}")]
    Storage(#[source] PortError),
    /// The file is missing, or is not what it should be: retrying will not help.
    #[error("{key} cannot be read: {why}")]
    Unreadable { key: String, why: String },
}

/// Reads a JSON file of the plan bucket.
pub async fn read_json<O: Objects, T: serde::de::DeserializeOwned>(
    objects: &O,
    bucket: &str,
    key: &str,
) -> Result<T, ReadError> {
    let unreadable = |why: String| ReadError::Unreadable { key: key.to_owned(), why };
    let text =
        objects.get(bucket, key).await.map_err(ReadError::Storage)?.ok_or_else(|| unreadable("no such key".into()))?;
    serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()))
}

/// Reads set `set` of a distribution, and checks that it is the set its key names.
pub async fn read_set<O: Objects>(
    objects: &O,
    bucket: &str,
    keys: &RunKeys,
    distribution_id: &str,
    set: usize,
) -> Result<SetFile, ReadError> {
    let key = keys.set(distribution_id, set);
    let file: SetFile = read_json(objects, bucket, &key).await?;
    if file.distribution_id != distribution_id || file.set != set || file.paths.is_empty() {
        return Err(ReadError::Unreadable {
            key,
            why: format!("holds set {} of {} with {} paths", file.set, file.distribution_id, file.paths.len()),
        });
    }
    Ok(file)
}

/// Writes a marker. Markers are small structs of strings: they serialise without fail.
pub async fn put_marker<O: Objects, T: Serialize>(
    objects: &O,
    bucket: &str,
    keys: &RunKeys,
    distribution_id: &str,
    set: usize,
    mark: Mark,
    body: &T,
) -> Result<(), PortError> {
    let key = keys.marker(distribution_id, set, mark.as_str());
    objects.put(bucket, &key, serde_json::to_string(body).unwrap_or_default(), "application/json").await
}

/// Which markers each set of one distribution has, from one listing of its folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks(BTreeMap<usize, Vec<Mark>>);

impl SetState {
    /// The state's name, as its JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SetState::NotSubmitted => "planned",
            SetState::Accepted => "accepted",
            SetState::Completed => "completed",
            SetState::Refused => "refused",
            SetState::Failed => "failed",
        }
    }
}

impl Marks {
    /// Lists the distribution's folder.
    pub async fn list<O: Objects>(
        objects: &O,
        bucket: &str,
        keys: &RunKeys,
        distribution_id: &str,
    ) -> Result<Marks, PortError> {
        let root = keys.distribution_root(distribution_id);
        let listed = objects.list(bucket, &root).await?;
        Ok(Marks::from_keys(listed.iter().filter_map(|k| k.strip_prefix(&root))))
    }

    /// From key names relative to a distribution's folder (`set-0001.accepted.json`).
    pub fn from_keys<'a>(names: impl IntoIterator<Item = &'a str>) -> Marks {
        let mut marks: BTreeMap<usize, Vec<Mark>> = BTreeMap::new();
        for name in names {
            let Some(rest) = name.strip_prefix("set-").and_then(|r| r.strip_suffix(".json")) else {
                continue;
            };
            let Some((number, word)) = rest.split_once('.') else {
                continue;
            };
            let (Ok(number), Some(mark)) =
                (number.parse::<usize>(), Mark::ALL.into_iter().find(|m| m.as_str() == word))
            else {
                continue;
            };
            marks.entry(number).or_default().push(mark);
        }
        Marks(marks)
    }

    pub fn has(&self, set: usize, mark: Mark) -> bool {
        self.0.get(&set).is_some_and(|m| m.contains(&mark))
    }

    /// Records a marker written since the listing.
    pub fn add(&mut self, set: usize, mark: Mark) {
        let marks = self.0.entry(set).or_default();
        if !marks.contains(&mark) {
            marks.push(mark);
        }
    }

    /// Where set `set` stands.
    pub fn state(&self, set: usize) -> SetState {
        if self.has(set, Mark::Completed) {
            SetState::Completed
        } else if self.has(set, Mark::Accepted) {
            SetState::Accepted
        } else if self.has(set, Mark::Refused) {
            // Refused with nothing accepted: every path of the set was refused.
            SetState::Refused
        } else if self.has(set, Mark::Failed) {
            SetState::Failed
        } else {
            SetState::NotSubmitted
        }
    }
}

/// Where a set stands (as `status` prints it: `planned`, `accepted`, `completed`, `refused`,
/// `failed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SetState {
    #[serde(rename = "planned")]
    /// Not yet submitted (or its step never ran).
    NotSubmitted,
    /// CloudFront has it, in progress.
    Accepted,
    Completed,
    /// Every path refused: nothing to submit again.
    Refused,
    /// Could not be invalidated; a later pass tries again.
    Failed,
}

/// One set of a run as an operator sees it (`cfinv status --execution`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetView {
    pub distribution_id: String,
    pub set: usize,
    pub state: SetState,
    /// Items CloudFront accepted (from the accepted or completed marker).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalidation_ids: Vec<String>,
    /// `AccessDenied: ...` for a failed set; the refused paths' count for a set with refusals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Paths of the set CloudFront refused (InvalidArgument), which a redrive does not change; 0
    /// when none were, or without `details`.
    #[serde(skip_serializing_if = "is_zero")]
    pub refused_paths: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Where every set of one attempt of a run stands, from one listing of the attempt (and, with
/// `details`, one GET per marker that holds invalidation ids or an error). Sets in distribution and
/// set order.
pub async fn run_sets<O: Objects>(
    objects: &O,
    bucket: &str,
    keys: &RunKeys,
    details: bool,
) -> Result<Vec<SetView>, PortError> {
    let root = keys.attempt_root();
    let listed = objects.list(bucket, root).await?;
    let mut by_distribution: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for key in &listed {
        if let Some((d, name)) = key.strip_prefix(root).and_then(|rest| rest.split_once('/')) {
            by_distribution.entry(d).or_default().push(name);
        }
    }
    let mut out = Vec::new();
    for (d, names) in by_distribution {
        let marks = Marks::from_keys(names.iter().copied());
        let sets: Vec<usize> =
            names.iter().filter_map(|n| n.strip_prefix("set-")?.strip_suffix(".json")?.parse().ok()).collect();
        for set in sets {
            let state = marks.state(set);
            let mut view = SetView {
                distribution_id: d.to_owned(),
                set,
                state,
                items: None,
                invalidation_ids: vec![],
                error: None,
                refused_paths: 0,
            };
            if details {
                let marker = |m: Mark| keys.marker(d, set, m.as_str());
                if marks.has(set, Mark::Completed) {
                    if let Ok(c) = read_json::<O, Completed>(objects, bucket, &marker(Mark::Completed)).await {
                        (view.items, view.invalidation_ids) = (Some(c.items), c.invalidation_ids);
                    }
                } else if marks.has(set, Mark::Accepted) {
                    if let Ok(a) = read_json::<O, Accepted>(objects, bucket, &marker(Mark::Accepted)).await {
                        (view.items, view.invalidation_ids) = (Some(a.items), a.invalidation_ids);
                    }
                }
                if state == SetState::Failed {
                    if let Ok(f) = read_json::<O, Failed>(objects, bucket, &marker(Mark::Failed)).await {
                        view.error = Some(format!("{}: {}", f.error, f.cause));
                    }
                } else if marks.has(set, Mark::Refused) {
                    if let Ok(r) = read_json::<O, Refused>(objects, bucket, &marker(Mark::Refused)).await {
                        view.error = Some(format!("{} path(s) refused (InvalidArgument)", r.paths.len()));
                        view.refused_paths = r.paths.len();
                    }
                }
            }
            out.push(view);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_runs_sets_from_one_listing() {
        let objects = crate::fakes::FakeObjects::default();
        let keys = RunKeys::new("plans/", "x", "a1");
        for (key, body) in [
            (keys.set("E1", 1), "{}".to_owned()),
            (keys.set("E1", 2), "{}".to_owned()),
            (keys.set("E2", 1), "{}".to_owned()),
            (keys.marker("E1", 1, "accepted"), r#"{"invalidationIds":["I1"],"acceptedAt":"t","items":3}"#.to_owned()),
            (
                keys.marker("E2", 1, "failed"),
                r#"{"error":"AccessDenied","cause":"no","pass":"p","failedAt":"t"}"#.to_owned(),
            ),
            (keys.page("p", 0), "{}".to_owned()),
            (keys.distribution("E1"), "{}".to_owned()),
        ] {
            objects.objects.lock().unwrap().insert(("b".into(), key), body);
        }
        let sets = run_sets(&objects, "b", &keys, true).await.unwrap();
        let got: Vec<String> = sets
            .iter()
            .map(|s| format!("{} {} {} {:?} {:?}", s.distribution_id, s.set, s.state.as_str(), s.items, s.error))
            .collect();
        assert_eq!(
            got,
            ["E1 1 accepted Some(3) None", "E1 2 planned None None", "E2 1 failed None Some(\"AccessDenied: no\")",]
        );
    }

    #[test]
    fn marks_from_a_listing() {
        let marks = Marks::from_keys([
            "distribution.json",
            "set-0001.json",
            "set-0001.accepted.json",
            "set-0001.completed.json",
            "set-0002.json",
            "set-0002.accepted.json",
            "set-0002.refused.json",
            "set-0003.failed.json",
            "set-0004.refused.json",
            "set-0005.json",
            "set-x.failed.json",
        ]);
        let states: Vec<SetState> = (1..=5).map(|s| marks.state(s)).collect();
        assert_eq!(
            states,
            [SetState::Completed, SetState::Accepted, SetState::Failed, SetState::Refused, SetState::NotSubmitted]
        );
        assert!(marks.has(2, Mark::Refused));
    }
}
