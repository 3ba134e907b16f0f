//! The plan, for a program (`--format json`) or for a person (`--format text`).

use std::fmt::Write as _;
use std::sync::Arc;

use cfinv_core::plan::{Compaction, Cost, NoteRow, Plan, Policy, SkipRow};
use cfinv_core::ObjectEvent;
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonPlan<'a> {
    invalidations: Vec<JsonInvalidation<'a>>,
    /// All distributions together.
    cost: JsonCost,
    skipped: Vec<SkipRow<'a>>,
    warnings: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonCost {
    #[serde(flatten)]
    cost: Cost,
    note: &'static str,
}

/// Says what `estimatedCostUsd` is.
const COST_NOTE: &str =
    "at most: $0.005 per item after the first 1,000 paths a month per account, which are free; a wildcard is one item";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonInvalidation<'a> {
    distribution_id: &'a str,
    /// The distribution tenant (CreateInvalidationForDistributionTenant), when multi-tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    distribution_tenant_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    distribution_tenant_name: Option<&'a str>,
    /// A continuous-deployment staging distribution.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    staging: bool,
    policy: Policy,
    max_items: usize,
    /// What CreateInvalidation receives, set by set.
    items: &'a [Arc<str>],
    sets: Vec<&'a [Arc<str>]>,
    exact_items: usize,
    billed_items: usize,
    set_count: usize,
    estimated_cost_usd: f64,
    /// How many of the items are cache tags (`#tag`), each billed as a path.
    #[serde(skip_serializing_if = "is_zero")]
    tag_items: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<NoteRow<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    compacted: &'a [Compaction],
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// `E1`, `E1 tenant acme (dt_...)`, or `E1 tenant dt_...` when the tenant's name is not known: a
/// distribution or distribution tenant as every command names it to a person.
pub fn target_name(distribution_id: &str, tenant_id: Option<&str>, tenant_name: Option<&str>) -> String {
    match (tenant_id, tenant_name) {
        (Some(id), Some(name)) => format!("{distribution_id} tenant {name} ({id})"),
        (Some(id), None) => format!("{distribution_id} tenant {id}"),
        (None, _) => distribution_id.to_owned(),
    }
}

/// `E1`, `E1 tenant acme (dt_...)`, `E1 (staging)`: a plan's target as a person reads it.
fn target_words(d: &cfinv_core::plan::DistributionPlan) -> String {
    let mut out =
        target_name(&d.distribution_id, d.tenant.as_ref().map(|t| &*t.id), d.tenant.as_ref().map(|t| &*t.name));
    if d.staging {
        out.push_str(" (staging)");
    }
    out
}

/// The plan as JSON, one document, newline-terminated, written as it is serialised (plans of a
/// large deploy are tens of megabytes); indented when `pretty`.
pub fn json(
    out: &mut impl std::io::Write,
    plan: &Plan,
    events: &[ObjectEvent],
    warnings: &[String],
    pretty: bool,
) -> std::io::Result<()> {
    let doc = JsonPlan {
        invalidations: plan
            .invalidations
            .iter()
            .map(|d| {
                let cost = d.cost();
                JsonInvalidation {
                    distribution_id: &d.distribution_id,
                    distribution_tenant_id: d.tenant.as_ref().map(|t| &*t.id),
                    distribution_tenant_name: d.tenant.as_ref().map(|t| &*t.name),
                    staging: d.staging,
                    tag_items: d.tag_items(),
                    policy: d.policy,
                    max_items: d.max_items,
                    items: &d.items,
                    sets: d.sets().collect(),
                    exact_items: cost.exact_items,
                    billed_items: cost.billed_items,
                    set_count: cost.set_count,
                    estimated_cost_usd: cost.estimated_cost_usd,
                    notes: d.note_rows(events).collect(),
                    compacted: &d.compacted,
                }
            })
            .collect(),
        cost: JsonCost { cost: plan.cost(), note: COST_NOTE },
        skipped: plan.skip_rows(events).collect(),
        warnings,
    };
    if pretty {
        serde_json::to_writer_pretty(&mut *out, &doc)?;
    } else {
        serde_json::to_writer(&mut *out, &doc)?;
    }
    out.write_all(b"\n")
}

/// `$0.075`, `$50.00`.
fn dollars(usd: f64) -> String {
    if usd < 1.0 {
        format!("${usd:.3}")
    } else {
        format!("${usd:.2}")
    }
}

/// `1 item`, `2 items`: a count and its noun, singular or plural.
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The plan as a person reads it: per distribution its cost, sets and items and why the odd ones
/// are there, then what was skipped and why, then warnings.
pub fn text(plan: &Plan, events: &[ObjectEvent], warnings: &[String]) -> String {
    let mut out = String::new();
    let total = plan.cost();
    let _ = writeln!(
        out,
        "{} event(s): {} item(s) to invalidate in {} distribution(s), {} set(s), at most {} ({} item(s) exactly, at most {})",
        events.len(),
        total.billed_items,
        plan.invalidations.len(),
        total.set_count,
        dollars(total.estimated_cost_usd),
        total.exact_items,
        dollars(cfinv_core::plan::Cost::of(total.exact_items, total.exact_items, 0).estimated_cost_usd),
    );
    for d in &plan.invalidations {
        let cost = d.cost();
        let _ = writeln!(
            out,
            "\n{}  {} policy (max {}): {} exact item(s) -> {} billed in {} set(s), at most {}",
            target_words(d),
            d.policy.as_str(),
            d.max_items,
            cost.exact_items,
            cost.billed_items,
            cost.set_count,
            dollars(cost.estimated_cost_usd)
        );
        for (i, set) in d.sets().enumerate() {
            let _ = writeln!(out, "  set {} ({})", i + 1, counted(set.len(), "item", "items"));
            for p in set {
                let _ = writeln!(out, "    {p}");
            }
        }
        for c in &d.compacted {
            let examples: Vec<&str> = c.examples.iter().map(|e| &**e).collect();
            let _ =
                writeln!(out, "  compacted: {} replaces {} item(s), e.g. {}", c.item, c.replaced, examples.join(", "));
        }
        for n in d.note_rows(events) {
            let _ = writeln!(out, "  note: {} ({}) covers {}/{}", n.item, n.reason.as_str(), n.bucket, n.key);
        }
    }
    let rows: Vec<SkipRow> = plan.skip_rows(events).collect();
    if !rows.is_empty() {
        let w_reason = rows.iter().map(|r| r.reason.as_str().len()).max().unwrap_or(0).max(6);
        let targets: Vec<String> = rows
            .iter()
            .map(|r| r.distribution_id.map_or("-".to_owned(), |d| target_name(d, r.distribution_tenant_id, None)))
            .collect();
        let w_dist = targets.iter().map(String::len).max().unwrap_or(0).max(12);
        let w_event = rows.iter().map(|r| r.event.len()).max().unwrap_or(0).max(5);
        let _ = writeln!(out, "\nskipped ({})", rows.len());
        let _ = writeln!(out, "  {:w_reason$}  {:w_dist$}  {:w_event$}  OBJECT", "REASON", "DISTRIBUTION", "EVENT");
        for (r, target) in rows.iter().zip(&targets) {
            let _ = writeln!(
                out,
                "  {:w_reason$}  {:w_dist$}  {:w_event$}  {}/{}",
                r.reason.as_str(),
                target,
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
