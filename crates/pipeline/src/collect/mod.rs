//! The collect function: drain the queue, plan, store the run, and only then delete the messages.
//!
//! [`Collect::handle`] in steps, one module each where there is more than a line to it:
//!
//! 1. if this execution's `plan.json` exists, an earlier attempt finished planning: finish what it
//!    may not have (its deletes and its hand-off, [`handoff`]) and answer as it did (a retried
//!    collect must not drain again and orphan the first attempt's run);
//! 2. drain the queue ([`drain`]): long polls until a few consecutive empty ones (an empty receive
//!    is not proof of an empty queue), or a message or time budget;
//! 3. plan with the distributions ([`distributions`]: listed with every page, custom cache
//!    policies fetched, reused by a warm container for a short while);
//! 4. store the run under this attempt's own keys, `plan.json` last and only if no other attempt
//!    wrote it first (S3 `If-None-Match`, [`store`]): of two collects of one execution, one run is
//!    used and the other gives its messages back;
//! 5. delete the drained messages, moving unreadable ones to the dead-letter queue ([`handoff`]);
//! 6. if a budget stopped the drain, start the next execution for the rest ([`handoff`]); if that
//!    fails, fail (the state machine retries, and step 1 tries the hand-off again).
//!
//! Any failure after messages were received gives them back (ChangeMessageVisibility 0) before
//! failing: the next collect, or the sweeper's execution, drains them at once instead of after the
//! visibility timeout, when no execution may be coming.

mod distributions;
mod drain;
mod handoff;
mod store;

use cfinv_core::{Exceptions, Plan};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::execution::ExecutionName;
use crate::expiring::Expiring;
use crate::ports::{Buckets, CloudFront, ErrorKind, Executions, Objects, PortError, Queue};
use crate::run::{PageCursor, Run, RunKeys};
use crate::settings::CollectSettings;
use crate::{Clock, ErrorName, ErrorType};

use distributions::PlannerCache;

/// The collect step's input (from the state machine).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectInput {
    /// `$$.Execution.Name`.
    pub execution: ExecutionName,
    /// `$$.StateMachine.Id`, to start the next execution when a backlog is left.
    #[serde(default)]
    pub state_machine: Option<String>,
}

/// The collect step's output: the run the state machine works through (`$.run`, `$.page`), and
/// what was collected, in counts (`$.collected`). Small, whatever the number of items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectOutput {
    pub run: Run,
    pub page: PageCursor,
    pub collected: Collected,
}

/// What one collect drained and planned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Collected {
    /// Messages drained.
    pub messages: usize,
    /// Messages that could not be read (moved aside).
    pub unreadable: usize,
    /// Items planned (what CreateInvalidation receives), over all distributions.
    pub items: usize,
    /// Items the exact policy would send: `items` is smaller when the compact policy worked.
    pub exact_items: usize,
    /// What the items cost at most, in US dollars ($0.005 each after the first 1,000 paths a
    /// month per account).
    pub estimated_cost_usd: f64,
    /// Events or (event, distribution) pairs that gave no item.
    pub skipped: usize,
    pub distributions: usize,
    pub sets: usize,
    /// True when the drain stopped at a budget; the next execution was started.
    pub more: bool,
    /// Where the run's record is.
    pub plan_key: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("cannot receive from the queue: {0}")]
    QueueUnavailable(#[source] PortError),
    #[error("cannot list distributions: {0}")]
    CloudFront(#[source] PortError),
    #[error("cannot store the plan: {0}")]
    StorageUnavailable(#[source] PortError),
    #[error("a backlog is left and the next execution could not be started: {0}")]
    HandOff(#[source] PortError),
}

impl ErrorName for CollectError {
    fn error_type(&self) -> ErrorType {
        match self {
            CollectError::QueueUnavailable(_) => ErrorType::QueueUnavailable,
            CollectError::CloudFront(e) if e.kind == ErrorKind::AccessDenied => ErrorType::AccessDenied,
            CollectError::CloudFront(e) if e.kind == ErrorKind::Throttled => ErrorType::Throttled,
            CollectError::CloudFront(_) => ErrorType::CloudFrontUnavailable,
            CollectError::StorageUnavailable(_) => ErrorType::StorageUnavailable,
            CollectError::HandOff(_) => ErrorType::StatesUnavailable,
        }
    }
}

/// The AWS services collect talks to.
pub struct CollectPorts<Q, O, C, E> {
    /// The event queue.
    pub queue: Q,
    /// Where unreadable messages go; without it, the queue's redrive policy takes them.
    pub dead_letter: Option<Q>,
    /// The plan bucket.
    pub objects: O,
    pub cloudfront: C,
    /// To start the next execution when a backlog is left.
    pub executions: E,
}

/// The collect handler, built once per container.
pub struct Collect<Q, O, C, E> {
    pub ports: CollectPorts<Q, O, C, E>,
    settings: CollectSettings,
    clock: Clock,
    planners: PlannerCache,
}

impl<Q: Queue, O: Objects + Buckets, C: CloudFront, E: Executions> Collect<Q, O, C, E> {
    pub fn new(ports: CollectPorts<Q, O, C, E>, settings: CollectSettings, clock: Clock) -> Self {
        let planners = Expiring::new(settings.distribution_cache);
        Collect { ports, settings, clock, planners }
    }

    /// Collects for `input.execution`; `attempt` names this invocation (the Lambda request id):
    /// its run is stored under its own keys.
    #[tracing::instrument(name = "collect", skip_all, fields(execution = %input.execution, attempt))]
    pub async fn handle(&self, input: CollectInput, attempt: &str) -> Result<CollectOutput, CollectError> {
        let s = &self.settings;
        let keys = RunKeys::new(&s.plan_prefix, input.execution.as_str(), attempt);
        if let Some(stored) = self.stored_output(&keys.plan()).await? {
            info!(attempt = %stored.run.attempt, "an earlier attempt planned this execution; finishing its deletes and hand-off");
            self.finish_stored(&stored, input.state_machine.as_deref()).await?;
            return Ok(stored);
        }

        let drained = self.drain().await;
        if let Some(e) = drained.failure.clone() {
            self.give_back(&drained).await;
            return Err(CollectError::QueueUnavailable(e));
        }
        let stored = match self.plan_and_store(&input, &keys, attempt, &drained).await {
            Ok(stored) => stored,
            Err(e) => {
                self.give_back(&drained).await;
                return Err(e);
            }
        };
        let Some((output, plan)) = stored else {
            // Another attempt of this execution stored its run first: that run is used.
            self.give_back(&drained).await;
            let winner = self.stored_output(&keys.plan()).await?;
            return winner.ok_or_else(|| {
                CollectError::StorageUnavailable(PortError::new(
                    ErrorKind::Unavailable,
                    format!("{} exists but cannot be read", keys.plan()),
                ))
            });
        };

        // Stored: now, and only now, the messages may go.
        self.set_aside(&drained.unreadable).await;
        let undeleted = crate::queue::delete_until_accepted(&self.ports.queue, &drained.receipts, 3).await;
        if undeleted > 0 {
            warn!(undeleted, "messages not deleted; they will be planned again");
        }
        if drained.more {
            self.start_next(input.state_machine.as_deref()).await?;
        }
        log_plan(&plan);
        let c = &output.collected;
        info!(
            messages = c.messages,
            unreadable = c.unreadable,
            items = c.items,
            exact_items = c.exact_items,
            estimated_cost_usd = c.estimated_cost_usd,
            skipped = c.skipped,
            sets = c.sets,
            pages = output.run.pages,
            more = c.more,
            "collected"
        );
        Ok(output)
    }

    /// Plans what was drained and stores the run; `None` when another attempt's `plan.json` was
    /// there first.
    async fn plan_and_store(
        &self,
        input: &CollectInput,
        keys: &RunKeys,
        attempt: &str,
        drained: &drain::Drained,
    ) -> Result<Option<(CollectOutput, Plan)>, CollectError> {
        let plan = if drained.events.is_empty() {
            Plan::default()
        } else {
            let planner = self.planner_for(&drained.events).await?;
            // The cache tags of the window's created objects, for the distributions sent them:
            // HeadObject once per key (none when no distribution asks).
            let mut warnings = Vec::new();
            let metadata =
                crate::live::object_metadata(&self.ports.objects, &planner, &drained.events, &mut warnings).await;
            planner.plan_with_metadata(&drained.events, &Exceptions::new(), &metadata)
        };
        let pages = self.store_run(keys, &plan).await?;
        let output = CollectOutput {
            run: Run {
                execution: input.execution.clone(),
                attempt: attempt.to_owned(),
                pass: crate::run::FIRST_PASS.to_owned(),
                pages,
                first_page: 0,
                round: 0,
                map_concurrency: self.settings.map_concurrency,
            },
            page: PageCursor::default(),
            collected: Collected {
                messages: drained.messages,
                unreadable: drained.unreadable.len(),
                items: plan.item_count(),
                exact_items: plan.cost().exact_items,
                estimated_cost_usd: plan.cost().estimated_cost_usd,
                skipped: plan.skipped.len(),
                distributions: plan.invalidations.len(),
                sets: plan.invalidations.iter().map(|d| d.sets.len()).sum(),
                more: drained.more,
                plan_key: keys.plan(),
            },
        };
        self.store_too_broad(keys, &plan, &drained.events).await?;
        self.store_receipts(keys, &drained.receipts).await?;
        let won = self.store_summary(keys, &output, &plan, &drained.events).await?;
        Ok(won.then_some((output, plan)))
    }
}

/// What was planned, distribution by distribution, in the log and in the metrics.
fn log_plan(plan: &Plan) {
    for inv in &plan.invalidations {
        let cost = inv.cost();
        crate::metrics::planned(
            &inv.target().key(),
            inv.events,
            inv.items.len(),
            cost.billed_items,
            cost.estimated_cost_usd,
        );
        info!(
            distribution = %inv.target().key(),
            policy = inv.policy.as_str(),
            events = inv.events,
            exact_items = cost.exact_items,
            billed_items = cost.billed_items,
            sets = cost.set_count,
            estimated_cost_usd = cost.estimated_cost_usd,
            first_event_time = inv.first_event_time.as_deref().unwrap_or(""),
            "planned"
        );
    }
    let mut by_reason: std::collections::BTreeMap<&'static str, usize> = std::collections::BTreeMap::new();
    for s in &plan.skipped {
        *by_reason.entry(s.reason.as_str()).or_default() += 1;
    }
    for (reason, count) in by_reason {
        crate::metrics::skipped(reason, count);
    }
    for w in &plan.warnings {
        warn!(distribution = %w.distribution_id, "{}", w.message);
    }
}

#[cfg(test)]
mod tests;
