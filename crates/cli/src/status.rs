//! `cfinv status`: the stack at a glance, from its outputs (`--stack NAME`): the last executions
//! (with the counts of their `plan.json`), the invalidations in progress per distribution, the
//! queues' depths (and the oldest message's age, when CloudWatch has the metric), and the stack's
//! alarms that are in alarm. `--execution NAME` shows one run: its plan summary, each set's state,
//! its error files.
//!
//! A set's state is what the run wrote beside it in the plan bucket (`set-NNNN.accepted.json`,
//! `.completed.json`, `.refused.json`, `.failed.json`; `cfinv_pipeline::sets::run_sets`):
//! `planned` until a step submits it, then `accepted`, `completed`, `refused` (every path refused)
//! or `failed`. Error files are found by name: the report writes
//! `invalidation_error/{execution start, yyyyMMddHHmmss}..._{distribution}.txt`.
//!
//! Every part is asked for separately: one that cannot be read (a missing permission, a metric the
//! emulator does not have) is a warning, and the rest is still shown.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal;

use cfinv_aws::cloudformation::stack_resources;
use cfinv_aws::cloudwatch::{alarms_in_alarm, oldest_message_age, Alarm};
use cfinv_aws::sfn::Execution;
use cfinv_aws::{Clients, S3Client};
use cfinv_core::origin::bucket_of_domain;
use cfinv_core::report::{parse_error_file, ERROR_KEY_PREFIX};
use cfinv_core::Target;
use cfinv_pipeline::ports::{CloudFront, Objects, PortError};
use cfinv_pipeline::ports::{Queue, QueueDepth};
use cfinv_pipeline::run::{Run, RunKeys};
use cfinv_pipeline::sets::{run_sets, SetState, SetView};
use chrono::{DateTime, Duration, Utc};
use clap::Args;
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

use crate::bucket::runtime;
use crate::connection::{outputs, Connection, Stack, StackArgs, StackError};
use crate::plan::Format;

/// Where collect stores plans (its `CFINV_PLAN_PREFIX`, which the stack leaves at the default).
const PLAN_PREFIX: &str = "plans/";

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Show one run: its plan summary, each set's state, its error files.
    #[arg(long, value_name = "NAME")]
    execution: Option<String>,
    /// How many of the last executions to list (1 or more).
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    executions: usize,
    /// Output format; text on a terminal, json otherwise.
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[command(flatten)]
    stack: StackArgs,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("--stack NAME (or CFINV_STACK) is required: status reads the stack's outputs")]
    NoStack,
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error("cannot list the executions of {arn}: {source}")]
    Executions {
        arn: String,
        #[source]
        source: PortError,
    },
    #[error("execution {name}: {source}")]
    Execution {
        name: String,
        #[source]
        source: PortError,
    },
    #[error("{0:?} is not an execution name (letters, digits, - and _)")]
    BadExecution(String),
}

// ---- what is shown ---------------------------------------------------------------------------

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub stack: String,
    pub stack_status: String,
    pub executions: Vec<ExecutionRow>,
    pub invalidations_in_progress: Vec<InProgressRow>,
    pub queues: Vec<QueueRow>,
    pub alarms_in_alarm: Vec<AlarmRow>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionRow {
    pub name: String,
    pub status: String,
    pub started: Option<String>,
    pub stopped: Option<String>,
    /// From `plan.json`: absent until collect has finished.
    pub events: Option<usize>,
    pub items: Option<usize>,
    pub sets: Option<usize>,
    /// Sets not invalidated; absent when unknown.
    pub failed_sets: Option<usize>,
    pub console: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InProgressRow {
    pub distribution_id: String,
    /// The distribution tenant, for a tenant of a multi-tenant distribution (its invalidations are
    /// its own: ListInvalidationsForDistributionTenant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_tenant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_tenant_name: Option<String>,
    /// (invalidation id, paths)
    pub invalidations: Vec<(String, usize)>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueRow {
    /// `events`, `dead letters`, `ingest failures`.
    pub queue: &'static str,
    pub url: String,
    #[serde(flatten)]
    pub depth: Option<QueueDepth>,
    /// Seconds; absent when CloudWatch has no data for the metric.
    pub oldest_message_age_seconds: Option<f64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmRow {
    pub name: String,
    pub reason: String,
    pub since: Option<String>,
}

impl From<Alarm> for AlarmRow {
    fn from(a: Alarm) -> Self {
        AlarmRow { name: a.name, reason: a.reason, since: a.since }
    }
}

/// `status --execution NAME`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunStatus {
    pub name: String,
    pub status: String,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub started: Option<String>,
    pub stopped: Option<String>,
    pub redrives: u32,
    pub console: String,
    /// Absent until collect has stored it.
    pub plan: Option<PlanSummary>,
    pub sets: Vec<SetRow>,
    pub error_files: Vec<String>,
    pub warnings: Vec<String>,
}

/// What `plan.json` says, as far as `status` reads it (lenient: fields it lacks are absent).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PlanSummary {
    pub output: RunOutput,
    pub distributions: Vec<DistributionSummary>,
    pub skipped_by_reason: BTreeMap<String, usize>,
    pub warnings: Vec<String>,
}

/// collect's answer, as `plan.json` keeps it: the run (which attempt's keys) and its counts.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RunOutput {
    pub run: Option<Run>,
    pub collected: Collected,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Collected {
    pub messages: Option<usize>,
    /// Messages that were no S3 event cfinv reads, set aside in the dead-letter queue.
    pub unreadable: Option<usize>,
    pub items: Option<usize>,
    pub exact_items: Option<usize>,
    pub estimated_cost_usd: Option<f64>,
    pub skipped: Option<usize>,
    pub distributions: Option<usize>,
    pub sets: Option<usize>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DistributionSummary {
    pub distribution_id: String,
    pub distribution_tenant_id: Option<String>,
    pub distribution_tenant_name: Option<String>,
    pub policy: Option<String>,
    pub billed_items: Option<usize>,
    pub exact_items: Option<usize>,
    pub set_count: Option<usize>,
    pub estimated_cost_usd: Option<f64>,
}

/// One set of the run: see [`SetView`].
pub type SetRow = SetView;

// ---- the rules that are ours ----------------------------------------------------------------

/// Whether every set of a run is with CloudFront (accepted or completed).
fn settled(sets: &[SetRow]) -> bool {
    !sets.is_empty() && sets.iter().all(|s| matches!(s.state, SetState::Accepted | SetState::Completed))
}

/// The execution's ARN, from its state machine's and its name.
pub fn execution_arn(state_machine_arn: &str, name: &str) -> String {
    format!("{}:{name}", state_machine_arn.replacen(":stateMachine:", ":execution:", 1))
}

/// The Step Functions console page of an execution.
pub fn console_link(execution_arn: &str) -> String {
    let region = execution_arn.split(':').nth(3).unwrap_or("us-east-1");
    format!(
        "https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"
    )
}

/// The error-file key prefixes of a run that started at `start`: the report names files after the
/// execution's start time, to the second; a second either side absorbs rounding.
pub fn error_file_prefixes(start: DateTime<Utc>) -> Vec<String> {
    [-1, 0, 1]
        .iter()
        .map(|d| format!("{ERROR_KEY_PREFIX}{}", (start + Duration::seconds(*d)).format("%Y%m%d%H%M%S")))
        .collect()
}

/// Whether an error file's key names one of the run's distributions (`..._{id}.txt`).
pub fn names_distribution(key: &str, distributions: &[&str]) -> bool {
    distributions.iter().any(|d| key.ends_with(&format!("_{d}.txt")))
}

fn rfc3339(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

// ---- reading the account --------------------------------------------------------------------

/// The names every part needs.
struct Names {
    state_machine_arn: String,
    plan_bucket: String,
    error_bucket: String,
}

impl Names {
    fn of(stack: &Stack) -> Result<Names, StackError> {
        Ok(Names {
            state_machine_arn: stack.required_output(outputs::STATE_MACHINE_ARN)?,
            plan_bucket: stack.required_output(outputs::PLAN_BUCKET_NAME)?,
            error_bucket: stack.required_output(outputs::ERROR_BUCKET_NAME)?,
        })
    }
}

async fn read_plan(s3: &S3Client, names: &Names, execution: &str) -> Result<Option<PlanSummary>, String> {
    match s3.get(&names.plan_bucket, &RunKeys::new(PLAN_PREFIX, execution, "").plan()).await {
        Ok(Some(text)) => serde_json::from_str(&text).map(Some).map_err(|e| format!("plan of {execution}: {e}")),
        Ok(None) => Ok(None),
        Err(e) => Err(format!("plan of {execution}: {e}")),
    }
}

/// The run's error files, with how many sets each holds.
async fn error_files(
    s3: &S3Client,
    names: &Names,
    start: Option<DateTime<Utc>>,
    distributions: &[&str],
) -> Result<Vec<(String, usize)>, String> {
    let Some(start) = start else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for prefix in error_file_prefixes(start) {
        let keys = s3.list_keys(&names.error_bucket, &prefix, 1000).await.map_err(|e| format!("error files: {e}"))?;
        for key in keys.into_iter().filter(|k| names_distribution(k, distributions)) {
            let sets = match s3.get(&names.error_bucket, &key).await {
                Ok(Some(text)) => parse_error_file(&text).map(|f| f.sets.len()).unwrap_or(0),
                _ => 0,
            };
            out.push((key, sets));
        }
    }
    Ok(out)
}

/// Where every set of the run stands (one listing; `details`: ids and errors too).
async fn sets_of(s3: &S3Client, names: &Names, plan: &PlanSummary, details: bool) -> Result<Vec<SetView>, String> {
    let Some(run) = &plan.output.run else { return Ok(Vec::new()) };
    run_sets(s3, &names.plan_bucket, &RunKeys::of(PLAN_PREFIX, run), details)
        .await
        .map_err(|e| format!("sets of {}: {e}", run.execution))
}

async fn execution_row(s3: &S3Client, names: &Names, e: &Execution, warnings: &mut Vec<String>) -> ExecutionRow {
    let plan = read_plan(s3, names, &e.name).await.unwrap_or_else(|w| {
        warnings.push(w);
        None
    });
    let output = plan.as_ref().map(|p| &p.output.collected);
    let failed_sets = match &plan {
        Some(plan) => match sets_of(s3, names, plan, false).await {
            Ok(sets) => Some(sets.iter().filter(|s| matches!(s.state, SetState::Failed | SetState::Refused)).count()),
            Err(w) => {
                warnings.push(w);
                None
            }
        },
        None => None,
    };
    ExecutionRow {
        name: e.name.clone(),
        status: e.status.clone(),
        started: rfc3339(e.start),
        stopped: rfc3339(e.stop),
        events: output.and_then(|o| o.messages),
        items: output.and_then(|o| o.items),
        sets: output.and_then(|o| o.sets),
        failed_sets,
        console: console_link(&e.arn),
    }
}

/// Invalidations in progress of the distributions that reach the stack's buckets (its
/// `ConnectedBuckets` output; every distribution with an S3 origin when it has none), and of every
/// distribution tenant of the multi-tenant distributions (a tenant's origins are its parent's with
/// its parameters filled in, so any tenant may reach a bucket): their summaries, 100 a call, without
/// the parameters that would cost a GetDistributionTenant each. Up to 8 targets are asked at once.
async fn in_progress(clients: &Clients, stack: &Stack) -> Result<Vec<InProgressRow>, PortError> {
    let cloudfront = clients.cloudfront();
    let connected: Vec<&str> = stack
        .output(outputs::CONNECTED_BUCKETS)
        .map(|b| b.split(',').map(str::trim).filter(|b| !b.is_empty()).collect())
        .unwrap_or_default();
    let listed = cloudfront.list_distributions().await?;
    let mut targets: Vec<(Target, Option<String>)> = Vec::new();
    for d in &listed.distributions {
        if d.multi_tenant {
            for t in cloudfront.distribution_tenant_summaries(&d.id).await? {
                targets.push((Target { distribution_id: d.id.clone(), tenant_id: Some(t.id) }, Some(t.name)));
            }
            continue;
        }
        let reaches = d
            .origins
            .iter()
            .filter_map(|o| bucket_of_domain(&o.domain_name))
            .any(|(bucket, _)| connected.is_empty() || connected.contains(&bucket.as_str()));
        if reaches {
            targets.push((Target { distribution_id: d.id.clone(), tenant_id: None }, None));
        }
    }
    let cloudfront = &cloudfront;
    let asked: Vec<Result<InProgressRow, PortError>> = stream::iter(targets)
        .map(|(target, tenant_name)| async move {
            let key = target.key();
            let mut invalidations = Vec::new();
            for id in cloudfront.invalidations_in_progress(&key).await? {
                let inv = cloudfront.get_invalidation(&key, &id).await?;
                if !inv.completed() {
                    invalidations.push((inv.id, inv.paths.len()));
                }
            }
            Ok(InProgressRow {
                distribution_id: target.distribution_id,
                distribution_tenant_id: target.tenant_id,
                distribution_tenant_name: tenant_name,
                invalidations,
            })
        })
        .buffered(8)
        .collect()
        .await;
    let mut rows = Vec::new();
    for row in asked {
        let row = row?;
        if !row.invalidations.is_empty() {
            rows.push(row);
        }
    }
    Ok(rows)
}

async fn queues(clients: &Clients, stack: &Stack, warnings: &mut Vec<String>) -> Vec<QueueRow> {
    let cloudwatch = clients.cloudwatch();
    let now = Utc::now().timestamp();
    let mut rows = Vec::new();
    for (queue, output) in [
        ("events", outputs::EVENT_QUEUE_URL),
        ("dead letters", outputs::DEAD_LETTER_QUEUE_URL),
        ("ingest failures", outputs::INGEST_FAILURE_QUEUE_URL),
    ] {
        let Some(url) = stack.output(output) else {
            warnings.push(format!("stack {} has no output {output}", stack.name()));
            continue;
        };
        let sqs = clients.sqs(url);
        let depth = sqs.depth().await.map_err(|e| warnings.push(format!("{queue} queue: {e}"))).ok();
        let age = oldest_message_age(&cloudwatch, sqs.name(), now)
            .await
            .map_err(|e| warnings.push(format!("{queue} queue's oldest message age: {e}")))
            .ok()
            .flatten();
        rows.push(QueueRow { queue, url: url.to_owned(), depth, oldest_message_age_seconds: age });
    }
    rows
}

async fn alarms(clients: &Clients, stack: &Stack) -> Result<Vec<AlarmRow>, PortError> {
    let names: Vec<String> = match stack.output(outputs::ALARM_NAMES) {
        Some(names) => names.split(',').map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned).collect(),
        // A stack deployed before the AlarmNames output: its resources name them.
        None => stack_resources(&clients.cloudformation(), stack.name(), "AWS::CloudWatch::Alarm").await?,
    };
    Ok(alarms_in_alarm(&clients.cloudwatch(), &names).await?.into_iter().map(AlarmRow::from).collect())
}

async fn status(clients: &Clients, stack: &Stack, last: usize) -> Result<Status, StatusError> {
    let names = Names::of(stack)?;
    let mut warnings = Vec::new();
    let s3 = clients.s3();
    let executions = clients
        .sfn()
        .list_executions(&names.state_machine_arn, last)
        .await
        .map_err(|source| StatusError::Executions { arn: names.state_machine_arn.clone(), source })?;
    let mut rows = Vec::new();
    for e in &executions {
        rows.push(execution_row(&s3, &names, e, &mut warnings).await);
    }
    let invalidations_in_progress = in_progress(clients, stack).await.unwrap_or_else(|e| {
        warnings.push(format!("invalidations in progress: {e}"));
        Vec::new()
    });
    let queues = queues(clients, stack, &mut warnings).await;
    let alarms_in_alarm = alarms(clients, stack).await.unwrap_or_else(|e| {
        warnings.push(format!("alarms: {e}"));
        Vec::new()
    });
    Ok(Status {
        stack: stack.name().to_owned(),
        stack_status: stack.info.status.clone(),
        executions: rows,
        invalidations_in_progress,
        queues,
        alarms_in_alarm,
        warnings,
    })
}

async fn run_status(clients: &Clients, stack: &Stack, name: &str) -> Result<RunStatus, StatusError> {
    let names = Names::of(stack)?;
    cfinv_pipeline::execution::ExecutionName::try_from(name.to_owned())
        .map_err(|_| StatusError::BadExecution(name.to_owned()))?;
    let arn = execution_arn(&names.state_machine_arn, name);
    let e = clients
        .sfn()
        .describe_execution(&arn)
        .await
        .map_err(|source| StatusError::Execution { name: name.to_owned(), source })?;
    let s3 = clients.s3();
    let mut warnings = Vec::new();
    let plan = read_plan(&s3, &names, name).await.unwrap_or_else(|w| {
        warnings.push(w);
        None
    });
    let sets = match &plan {
        Some(plan) => sets_of(&s3, &names, plan, true).await.unwrap_or_else(|w| {
            warnings.push(w);
            Vec::new()
        }),
        None => Vec::new(),
    };
    let mut ids: Vec<&str> = sets.iter().map(|s| s.distribution_id.as_str()).collect();
    ids.dedup();
    let files = error_files(&s3, &names, e.start, &ids).await.unwrap_or_else(|w| {
        warnings.push(w);
        Vec::new()
    });
    Ok(RunStatus {
        name: e.name.clone(),
        status: e.status.clone(),
        error: e.error.clone(),
        cause: e.cause.clone(),
        started: rfc3339(e.start),
        stopped: rfc3339(e.stop),
        redrives: e.redrive_count,
        console: console_link(&e.arn),
        plan,
        sets,
        error_files: files.into_iter().map(|(k, _)| format!("s3://{}/{k}", names.error_bucket)).collect(),
        warnings,
    })
}

pub fn run(args: &StatusArgs) -> Result<(), StatusError> {
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() { Format::Text } else { Format::Json });
    runtime().block_on(async {
        let clients = args.connection.clients().await;
        let stack = args.stack.describe(&clients).await?.ok_or(StatusError::NoStack)?;
        let out = match &args.execution {
            Some(name) => {
                let run = run_status(&clients, &stack, name).await?;
                match format {
                    Format::Json => serde_json::to_string_pretty(&run).unwrap_or_default() + "\n",
                    Format::Text => run_text(&run),
                }
            }
            None => {
                let status = status(&clients, &stack, args.executions).await?;
                match format {
                    Format::Json => serde_json::to_string_pretty(&status).unwrap_or_default() + "\n",
                    Format::Text => text(&status),
                }
            }
        };
        print!("{out}");
        Ok(())
    })
}

// ---- for a person -----------------------------------------------------------------------------

fn count(n: Option<usize>) -> String {
    n.map_or_else(|| "-".to_owned(), |n| n.to_string())
}

fn age(seconds: Option<f64>) -> String {
    match seconds {
        Some(s) => format!("{s:.0} s"),
        None => "unknown (CloudWatch has no data)".to_owned(),
    }
}

pub fn text(s: &Status) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "stack {}: {}", s.stack, s.stack_status);
    let _ = writeln!(out, "\nlast {} execution(s)", s.executions.len());
    if !s.executions.is_empty() {
        let w = s.executions.iter().map(|e| e.name.len()).max().unwrap_or(9).max(9);
        let _ = writeln!(
            out,
            "  {:w$}  {:15}  {:>6}  {:>6}  {:>5}  {:>6}  STARTED",
            "EXECUTION", "STATUS", "EVENTS", "ITEMS", "SETS", "FAILED"
        );
        for e in &s.executions {
            let _ = writeln!(
                out,
                "  {:w$}  {:15}  {:>6}  {:>6}  {:>5}  {:>6}  {}",
                e.name,
                e.status,
                count(e.events),
                count(e.items),
                count(e.sets),
                count(e.failed_sets),
                e.started.as_deref().unwrap_or("-")
            );
            let _ = writeln!(out, "  {:w$}  {}", "", e.console);
        }
    }
    let _ = writeln!(out, "\ninvalidations in progress");
    if s.invalidations_in_progress.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for d in &s.invalidations_in_progress {
        let list: Vec<String> = d
            .invalidations
            .iter()
            .map(|(id, n)| format!("{id} ({})", crate::render::counted(*n, "path", "paths")))
            .collect();
        let target = crate::render::target_name(
            &d.distribution_id,
            d.distribution_tenant_id.as_deref(),
            d.distribution_tenant_name.as_deref(),
        );
        let _ = writeln!(out, "  {target}: {}", list.join(", "));
    }
    let _ = writeln!(out, "\nqueues");
    for q in &s.queues {
        let depth = match q.depth {
            Some(d) => format!("{} waiting, {} in flight", d.visible, d.in_flight),
            None => "unknown".to_owned(),
        };
        let _ = writeln!(out, "  {:16} {depth}; oldest message: {}", q.queue, age(q.oldest_message_age_seconds));
    }
    let _ = writeln!(out, "\nalarms in alarm");
    if s.alarms_in_alarm.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for a in &s.alarms_in_alarm {
        let _ = writeln!(out, "  {} (since {}): {}", a.name, a.since.as_deref().unwrap_or("?"), a.reason);
    }
    warnings(&mut out, &s.warnings);
    out
}

fn warnings(out: &mut String, warnings: &[String]) {
    if !warnings.is_empty() {
        let _ = writeln!(out, "\nwarnings ({})", warnings.len());
        for w in warnings {
            let _ = writeln!(out, "  {w}");
        }
    }
}

pub fn run_text(r: &RunStatus) -> String {
    let mut out = String::new();
    let error = r.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default();
    let _ = writeln!(
        out,
        "execution {}: {}{error}, started {}, stopped {}{}",
        r.name,
        r.status,
        r.started.as_deref().unwrap_or("-"),
        r.stopped.as_deref().unwrap_or("-"),
        if r.redrives > 0 { format!(", redriven {} time(s)", r.redrives) } else { String::new() }
    );
    let _ = writeln!(out, "  {}", r.console);
    match &r.plan {
        None => {
            let _ = writeln!(out, "\nplan: not stored yet (collect has not finished)");
        }
        Some(p) => {
            let o = &p.output.collected;
            let _ = writeln!(
                out,
                "\nplan: {} event(s), {} item(s) ({} exactly), at most ${:.3}, {} set(s), {} skipped",
                count(o.messages),
                count(o.items),
                count(o.exact_items),
                o.estimated_cost_usd.unwrap_or(0.0),
                count(o.sets),
                count(o.skipped)
            );
            if let Some(n) = o.unreadable.filter(|n| *n > 0) {
                let _ = writeln!(
                    out,
                    "  unreadable: {} (set aside in the dead-letter queue; see the runbook for its events)",
                    crate::render::counted(n, "message", "messages")
                );
            }
            for d in &p.distributions {
                let _ = writeln!(
                    out,
                    "  {}: {} policy, {} item(s) in {} set(s)",
                    crate::render::target_name(
                        &d.distribution_id,
                        d.distribution_tenant_id.as_deref(),
                        d.distribution_tenant_name.as_deref()
                    ),
                    d.policy.as_deref().unwrap_or("?"),
                    count(d.billed_items),
                    count(d.set_count)
                );
            }
            if !p.skipped_by_reason.is_empty() {
                let reasons: Vec<String> = p.skipped_by_reason.iter().map(|(r, n)| format!("{r} {n}")).collect();
                let _ = writeln!(out, "  skipped: {}", reasons.join(", "));
            }
            for w in &p.warnings {
                let _ = writeln!(out, "  warning: {w}");
            }
        }
    }
    if !r.sets.is_empty() {
        let _ = writeln!(out, "\nsets");
        let w = r.sets.iter().map(|s| s.distribution_id.len()).max().unwrap_or(12).max(12);
        let _ = writeln!(
            out,
            "  {:w$}  {:>4}  {:>5}  {:11}  {:14}  ERROR",
            "DISTRIBUTION", "SET", "ITEMS", "STATE", "INVALIDATION"
        );
        for s in &r.sets {
            let ids = if s.invalidation_ids.is_empty() { "-".to_owned() } else { s.invalidation_ids.join(",") };
            let _ = writeln!(
                out,
                "  {:w$}  {:>4}  {:>5}  {:11}  {:14}  {}",
                s.distribution_id,
                s.set,
                count(s.items),
                s.state.as_str(),
                ids,
                s.error.as_deref().unwrap_or("")
            );
        }
    }
    let _ = writeln!(out, "\nerror files");
    if r.error_files.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for f in &r.error_files {
        let _ = writeln!(out, "  {f}");
    }
    if !r.error_files.is_empty() {
        let refused: usize = r.sets.iter().map(|s| s.refused_paths).sum();
        if settled(&r.sets) && refused > 0 {
            // The paths CloudFront refused stay refused whatever is redriven or resubmitted; the
            // rest of their sets is invalidated.
            let _ = writeln!(
                out,
                "  (every set is with CloudFront but for {} it refused (InvalidArgument), which no redrive \
                 or resubmission changes: invalidate them by hand once written another way)",
                crate::render::counted(refused, "path", "paths")
            );
        } else if settled(&r.sets) {
            // Written when a set failed; a redrive has invalidated every set since. Resubmitting
            // them now would invalidate (and bill) the same paths again.
            let _ = writeln!(out, "  (every set has been invalidated since, by a redrive: nothing to resubmit)");
        } else {
            let _ = writeln!(out, "  (resubmit them with: cfinv resubmit {})", r.error_files.join(" "));
        }
    }
    warnings(&mut out, &r.warnings);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn arns_links_and_error_file_names() {
        let sm = "arn:aws:states:eu-west-1:123456789012:stateMachine:cfinv-Abc";
        let arn = execution_arn(sm, "cfinv-20261126T054010Z");
        assert_eq!(arn, "arn:aws:states:eu-west-1:123456789012:execution:cfinv-Abc:cfinv-20261126T054010Z");
        assert!(
            console_link(&arn).starts_with("https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#")
        );
        let start = Utc.with_ymd_and_hms(2026, 11, 26, 5, 40, 12).unwrap();
        assert_eq!(
            error_file_prefixes(start),
            [
                "invalidation_error/20261126054011",
                "invalidation_error/20261126054012",
                "invalidation_error/20261126054013"
            ]
        );
        assert!(names_distribution("invalidation_error/20261126054012123abcdefghi_E2.txt", &["E1", "E2"]));
        assert!(!names_distribution("invalidation_error/20261126054012123abcdefghi_XE2.txt", &["E2"]));
    }

    #[test]
    fn plan_json_is_read_leniently() {
        let doc = r#"{"output": {"run": {"execution": "x", "attempt": "a1", "pass": "p", "pages": 1,
            "firstPage": 0, "round": 0, "mapConcurrency": 4}, "page": {"next": 0},
            "collected": {"messages": 3, "unreadable": 1, "items": 2, "sets": 1, "more": false}},
            "cost": {}, "distributions": [{"distributionId": "E1", "policy": "compact", "setCount": 1, "extra": 1},
                {"distributionId": "EMT", "distributionTenantId": "dt_acme", "distributionTenantName": "acme",
                 "policy": "exact", "billedItems": 1, "setCount": 1}],
            "skippedByReason": {"exception-path": 1}}"#;
        let p: PlanSummary = serde_json::from_str(doc).unwrap();
        let c = &p.output.collected;
        assert_eq!((c.messages, c.items, c.sets), (Some(3), Some(2), Some(1)));
        assert_eq!(p.output.run.as_ref().map(|r| r.attempt.as_str()), Some("a1"));
        assert_eq!(p.distributions[0].set_count, Some(1));
        let text =
            run_text(&RunStatus { name: "x".into(), status: "RUNNING".into(), plan: Some(p), ..Default::default() });
        assert!(text.contains("plan: 3 event(s), 2 item(s)"), "{text}");
        assert!(text.contains("\n  unreadable: 1 message (set aside in the dead-letter queue"), "{text}");
        assert!(text.contains("skipped: exception-path 1"), "{text}");
        assert!(text.contains("\n  EMT tenant acme (dt_acme): exact policy, 1 item(s) in 1 set(s)\n"), "{text}");
    }

    #[test]
    fn the_overview_reads_for_a_person() {
        let s = Status {
            stack: "cfinv".into(),
            stack_status: "CREATE_COMPLETE".into(),
            executions: vec![ExecutionRow {
                name: "cfinv-20261126T054010Z".into(),
                status: "FAILED".into(),
                events: Some(2),
                items: Some(2),
                sets: Some(2),
                failed_sets: Some(1),
                ..Default::default()
            }],
            queues: vec![QueueRow {
                queue: "events",
                url: "u".into(),
                depth: Some(QueueDepth { visible: 3, in_flight: 1 }),
                oldest_message_age_seconds: None,
            }],
            invalidations_in_progress: vec![
                InProgressRow {
                    distribution_id: "E1".into(),
                    distribution_tenant_id: None,
                    distribution_tenant_name: None,
                    invalidations: vec![("I1".into(), 1), ("I2".into(), 2)],
                },
                InProgressRow {
                    distribution_id: "EMT".into(),
                    distribution_tenant_id: Some("dt_acme".into()),
                    distribution_tenant_name: Some("acme".into()),
                    invalidations: vec![("I3".into(), 3)],
                },
            ],
            ..Default::default()
        };
        let t = text(&s);
        assert!(t.contains("  E1: I1 (1 path), I2 (2 paths)\n  EMT tenant acme (dt_acme): I3 (3 paths)\n"), "{t}");
        assert!(t.contains("cfinv-20261126T054010Z  FAILED"), "{t}");
        assert!(t.contains("events           3 waiting, 1 in flight; oldest message: unknown"), "{t}");
        assert!(t.contains("alarms in alarm\n  none"), "{t}");
    }
}
