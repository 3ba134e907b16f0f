//! The plan, for a program (`--format json`) or for a person (`--format text`).

use std::fmt::Write as _;
use std::sync::Arc;

use cfinv_core::plan::{Plan, SkipRow, WildcardNote};
use cfinv_core::ObjectEvent;
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonPlan<'a> {
    invalidations: Vec<JsonInvalidation<'a>>,
    skipped: Vec<SkipRow<'a>>,
    warnings: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonInvalidation<'a> {
    distribution_id: &'a str,
    paths: &'a [Arc<str>],
    sets: Vec<&'a [Arc<str>]>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    wildcards: &'a [WildcardNote],
}

/// The plan as JSON, one document, newline-terminated, written as it is serialised (plans of a
/// large deploy are tens of megabytes).
pub fn json(
    out: &mut impl std::io::Write,
    plan: &Plan,
    events: &[ObjectEvent],
    warnings: &[String],
) -> std::io::Result<()> {
    let doc = JsonPlan {
        invalidations: plan
            .invalidations
            .iter()
            .map(|d| JsonInvalidation {
                distribution_id: &d.distribution_id,
                paths: &d.paths,
                sets: d.sets().collect(),
                wildcards: &d.wildcards,
            })
            .collect(),
        skipped: plan.skip_rows(events).collect(),
        warnings,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

/// The plan as a person reads it: per distribution its sets and paths, then what was skipped and
/// why, then warnings.
pub fn text(plan: &Plan, events: &[ObjectEvent], warnings: &[String]) -> String {
    let mut out = String::new();
    let n = plan.invalidations.len();
    let _ = writeln!(
        out,
        "{} event(s): {} path(s) to invalidate in {} distribution(s)",
        events.len(),
        plan.path_count(),
        n
    );
    for d in &plan.invalidations {
        let _ = writeln!(out, "\n{}  {} path(s) in {} set(s)", d.distribution_id, d.paths.len(), d.sets.len());
        for (i, set) in d.sets().enumerate() {
            let _ = writeln!(out, "  set {} ({} paths)", i + 1, set.len());
            for p in set {
                let _ = writeln!(out, "    {p}");
            }
        }
        for w in &d.wildcards {
            let _ = writeln!(
                out,
                "  note: {} is a wildcard ({}) covering {}/{}",
                w.path,
                w.reason.as_str(),
                w.bucket,
                w.key
            );
        }
    }
    let rows: Vec<SkipRow> = plan.skip_rows(events).collect();
    if !rows.is_empty() {
        let w_reason = rows.iter().map(|r| r.reason.as_str().len()).max().unwrap_or(0).max(6);
        let w_dist = rows.iter().map(|r| r.distribution_id.map_or(1, str::len)).max().unwrap_or(0).max(12);
        let w_event = rows.iter().map(|r| r.event.len()).max().unwrap_or(0).max(5);
        let _ = writeln!(out, "\nskipped ({})", rows.len());
        let _ = writeln!(out, "  {:w_reason$}  {:w_dist$}  {:w_event$}  OBJECT", "REASON", "DISTRIBUTION", "EVENT");
        for r in &rows {
            let _ = writeln!(
                out,
                "  {:w_reason$}  {:w_dist$}  {:w_event$}  {}/{}",
                r.reason.as_str(),
                r.distribution_id.unwrap_or("-"),
                r.event,
                r.bucket,
                r.key
            );
        }
    }
    if !warnings.is_empty() {
        let _ = writeln!(out, "\nwarnings ({})", warnings.len());
        for w in warnings {
            let _ = writeln!(out, "  {w}");
        }
    }
    out
}
