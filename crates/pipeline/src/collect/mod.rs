//! The collect function: drain the queue, plan, store the sets, and only then delete the messages.
//!
//! [`Collect::handle`] is six steps, one module each where there is more than a line to it:
//!
//! 1. if this execution's `plan.json` exists, a previous attempt finished: return its answer
//!    (a retried collect must not drain again and orphan the sets of the first attempt);
//! 2. drain the queue ([`drain`]): long polls until a few consecutive empty ones (an empty receive
//!    is not proof of an empty queue), or a message or time budget;
//! 3. plan with the distributions ([`distributions`]: listed with every page, custom cache
//!    policies fetched, reused by a warm container for a short while);
//! 4. store every set in S3 and `plan.json` last ([`store`]): a 3000-path set is larger than a
//!    Step Functions payload, so the output carries one small reference per set, and `plan.json`'s
//!    presence means this execution's collect finished;
//! 5. delete the drained messages, moving unreadable ones to the dead-letter queue ([`handoff`]);
//! 6. if a budget stopped the drain, start the next execution for the rest ([`handoff`]).

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
use crate::sets::{plan_key, SetRef};
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

/// The collect step's output: small, whatever the number of items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectOutput {
    pub execution: String,
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
    /// Events or (event, distribution) pairs that gave no path.
    pub skipped: usize,
    /// One per set, first sets of every distribution first.
    pub sets: Vec<SetRef>,
    /// True when the drain stopped at a budget; the next execution was started.
    pub more: bool,
    /// Where the full plan is.
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
}

impl ErrorName for CollectError {
    fn error_type(&self) -> ErrorType {
        match self {
            CollectError::QueueUnavailable(_) => ErrorType::QueueUnavailable,
            CollectError::CloudFront(e) if e.kind == ErrorKind::AccessDenied => ErrorType::AccessDenied,
            CollectError::CloudFront(e) if e.kind == ErrorKind::Throttled => ErrorType::Throttled,
            CollectError::CloudFront(_) => ErrorType::CloudFrontUnavailable,
            CollectError::StorageUnavailable(_) => ErrorType::StorageUnavailable,
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

    #[tracing::instrument(name = "collect", skip_all, fields(execution = %input.execution))]
    pub async fn handle(&self, input: CollectInput) -> Result<CollectOutput, CollectError> {
        let s = &self.settings;
        let summary_key = plan_key(&s.plan_prefix, input.execution.as_str());
        if let Some(stored) = self.stored_output(&summary_key).await? {
            info!(sets = stored.sets.len(), "collect already finished for this execution; returning its plan");
            return Ok(stored);
        }

        let drained = self.drain().await?;
        let plan = if drained.events.is_empty() {
            Plan::default()
        } else {
            self.planner_for(&drained.events).await?.plan(&drained.events, &Exceptions::new())
        };

        let sets = self.store_sets(&input.execution, &plan).await?;
        let output = CollectOutput {
            execution: input.execution.to_string(),
            messages: drained.messages,
            unreadable: drained.unreadable.len(),
            items: plan.item_count(),
            exact_items: plan.cost().exact_items,
            estimated_cost_usd: plan.cost().estimated_cost_usd,
            skipped: plan.skipped.len(),
            sets,
            more: drained.more,
            plan_key: summary_key.clone(),
        };
        self.store_summary(&summary_key, &output, &plan, &drained.events).await?;

        // Stored: now, and only now, the messages may go.
        self.set_aside(&drained.unreadable).await;
        let undeleted = crate::queue::delete_until_accepted(&self.ports.queue, &drained.receipts, 3).await;
        if undeleted > 0 {
            warn!(undeleted, "messages not deleted; they will be planned again");
        }
        if drained.more {
            self.start_next(input.state_machine.as_deref()).await;
        }
        for inv in &plan.invalidations {
            let cost = inv.cost();
            info!(
                distribution = %inv.distribution_id,
                policy = inv.policy.as_str(),
                exact_items = cost.exact_items,
                billed_items = cost.billed_items,
                sets = cost.set_count,
                estimated_cost_usd = cost.estimated_cost_usd,
                "planned"
            );
        }
        for w in &plan.warnings {
            warn!(distribution = %w.distribution_id, "{}", w.message);
        }
        info!(
            messages = output.messages,
            unreadable = output.unreadable,
            items = output.items,
            exact_items = output.exact_items,
            estimated_cost_usd = output.estimated_cost_usd,
            skipped = output.skipped,
            sets = output.sets.len(),
            more = output.more,
            "collected"
        );
        Ok(output)
    }
}

#[cfg(test)]
mod tests;
