//! The invalidate function: everything the state machine does between collect and the report,
//! one small step per invocation, so that every wait happens in Step Functions (Wait states), not
//! in a sleeping Lambda.
//!
//! - `page` ([`page`]): loads the next page of units; when the execution's history nears its
//!   25,000-event limit, starts a continuation execution for the remaining pages instead.
//! - `step` ([`step`]): one step of one unit (a range of one distribution's sets, in order): note
//!   which accepted sets have completed, submit the next sets while they fit CloudFront's
//!   in-progress limits ([`crate::capacity`]), and say how long to wait before the next step, or
//!   that the unit is done. A refused path is split out of its set ([`submit`]). When every set of
//!   a distribution has completed, its `Invalidation Completed` event goes on the bus and its
//!   latency into the metrics ([`finish`]).
//! - `gate` ([`gate`]): after the report, fails the execution (`SetNotInvalidated`) until it is
//!   redriven; on a redrive, opens the pass that re-attempts every unfinished set.
//!
//! The CallerReference of a set is derived from the stack, the execution and the set, so a
//! retried, redriven or continued step gets back the invalidation it already created instead of a
//! second, billed one (CloudFront returns the existing invalidation for the same reference and
//! batch).

mod finish;
mod gate;
mod page;
mod step;
mod submit;

pub use gate::{GateInput, GateOutput, GateReport};
pub use page::PageInput;
pub use step::UnitStep;

use serde::{Deserialize, Serialize};

use crate::ports::{CloudFront, ErrorKind, Events, Executions, Objects, PortError};
use crate::run::PageCursor;
use crate::sets::ReadError;
use crate::settings::InvalidateSettings;
use crate::{Clock, ErrorName, ErrorType};

/// One invocation's input, by `action`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum InvalidateInput {
    Page(PageInput),
    Step(UnitStep),
    Gate(GateInput),
}

/// One invocation's output. A step answers with the next step's input (`action` included), so
/// the state machine's loop passes it on as it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum InvalidateOutput {
    Page(PageCursor),
    Step(InvalidateInput),
    Gate(GateOutput),
}

#[derive(Debug, thiserror::Error)]
pub enum InvalidateError {
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("distribution {distribution}: {source}")]
    CloudFront {
        distribution: String,
        #[source]
        source: PortError,
    },
    #[error("plan storage unavailable: {0}")]
    StorageUnavailable(#[source] PortError),
    #[error("{0}")]
    PlanUnreadable(String),
    #[error("cannot ask Step Functions: {0}")]
    StatesUnavailable(#[source] PortError),
    #[error("cannot put the event on the bus: {0}")]
    EventsUnavailable(#[source] PortError),
    #[error("{count} sets were not invalidated; redrive the execution to try them again")]
    SetNotInvalidated { count: usize },
}

impl ErrorName for InvalidateError {
    fn error_type(&self) -> ErrorType {
        match self {
            InvalidateError::InvalidInput(_) => ErrorType::InvalidInput,
            InvalidateError::CloudFront { source, .. } => cloudfront_error_type(source.kind),
            InvalidateError::StorageUnavailable(_) => ErrorType::StorageUnavailable,
            InvalidateError::PlanUnreadable(_) => ErrorType::PlanUnreadable,
            InvalidateError::StatesUnavailable(_) => ErrorType::StatesUnavailable,
            InvalidateError::EventsUnavailable(_) => ErrorType::EventsUnavailable,
            InvalidateError::SetNotInvalidated { .. } => ErrorType::SetNotInvalidated,
        }
    }
}

/// The stable name of a CloudFront failure.
pub fn cloudfront_error_type(kind: ErrorKind) -> ErrorType {
    match kind {
        ErrorKind::Throttled => ErrorType::Throttled,
        ErrorKind::TooManyInvalidationsInProgress => ErrorType::TooManyInvalidationsInProgress,
        ErrorKind::AccessDenied => ErrorType::AccessDenied,
        ErrorKind::NotFound => ErrorType::NoSuchDistribution,
        ErrorKind::InvalidArgument => ErrorType::InvalidArgument,
        ErrorKind::BatchMismatch | ErrorKind::AlreadyExists => ErrorType::BatchMismatch,
        ErrorKind::Unavailable | ErrorKind::Other => ErrorType::CloudFrontUnavailable,
    }
}

impl From<ReadError> for InvalidateError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Storage(e) => InvalidateError::StorageUnavailable(e),
            unreadable => InvalidateError::PlanUnreadable(unreadable.to_string()),
        }
    }
}

/// `{scope}/{execution}/{distribution}/{set}`: the same for every retry, redrive and continuation
/// of a set, and different for every set, execution and stack (`scope` is the stack's name, so two
/// stacks that share a distribution never collide with `InvalidationBatchAlreadyExists`). For a
/// distribution tenant, `distribution` is its target key (`E1_dt_...`): its references differ from
/// its distribution's and from every other tenant's.
pub fn caller_reference(scope: &str, execution: &str, distribution_id: &str, set: usize) -> String {
    format!("{scope}/{execution}/{distribution_id}/{set}")
}

/// The invalidate handler, built once per container.
pub struct Invalidate<O, C, E, V> {
    pub objects: O,
    pub cloudfront: C,
    pub executions: E,
    pub events: V,
    settings: InvalidateSettings,
    clock: Clock,
}

impl<O: Objects, C: CloudFront, E: Executions, V: Events> Invalidate<O, C, E, V> {
    pub fn new(
        objects: O,
        cloudfront: C,
        executions: E,
        events: V,
        settings: InvalidateSettings,
        clock: Clock,
    ) -> Self {
        Invalidate { objects, cloudfront, executions, events, settings, clock }
    }

    pub async fn handle(&self, input: InvalidateInput) -> Result<InvalidateOutput, InvalidateError> {
        match input {
            InvalidateInput::Page(p) => self.page(p).await.map(InvalidateOutput::Page),
            InvalidateInput::Step(s) => self.step(s).await.map(|s| InvalidateOutput::Step(InvalidateInput::Step(s))),
            InvalidateInput::Gate(g) => self.gate(g).await.map(InvalidateOutput::Gate),
        }
    }
}

#[cfg(test)]
mod tests;
