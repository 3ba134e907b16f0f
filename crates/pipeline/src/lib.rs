//! # cfinv-pipeline: what each Lambda does
//!
//! Each function of the pipeline is a handler here, written against small ports ([`ports`]) instead
//! of AWS clients, so that its decisions (what to retry, what to fail, when to delete a message) are
//! tested without AWS. `cfinv-aws` implements the ports with the AWS SDK, and each Lambda's `main`
//! wires the two together.
//!
//! - [`ingest`]: S3 events in; drops what the core skips before planning, queues the rest, starts the
//!   execution of the current batch window (idempotently).
//! - [`collect`]: drains the queue, plans with the core, stores the run ([`run`], [`sets`]), then
//!   deletes the messages; gives them back on any failure.
//! - [`invalidate`]: works through the run in small steps: submits sets as CloudFront's in-progress
//!   limits allow ([`capacity`]), waits for completion, says on the bus when content is live.
//! - [`report`]: the seed's error files and one alert for everything not invalidated; the pages a
//!   redrive re-attempts.
//! - [`sweep`]: on a schedule, starts an execution when messages wait and none is coming.
//!
//! And what the operator commands share with them: [`live`] (the account's distributions compiled
//! into a planner, as collect reads them) and [`resubmit`] (an error file's sets, submitted as
//! capacity allows).
//!
//! Every handler error has a stable name ([`ErrorName::error_type`], one of [`ErrorType`]): the
//! state machine retries and catches by these names, so they never change.

pub mod capacity;
pub mod collect;
pub mod error_type;
pub mod execution;
pub mod expiring;
pub mod ingest;
pub mod invalidate;
pub mod live;
pub mod metrics;
pub mod ports;
pub mod queue;
pub mod replay;
pub mod report;
pub mod resubmit;
pub mod run;
pub mod sets;
pub mod settings;
pub mod statemachine;
pub mod sweep;
pub mod window;

#[cfg(test)]
pub(crate) mod fakes;

pub use error_type::ErrorType;

/// An error with a stable name: it becomes the Lambda `errorType` that Step Functions matches.
pub trait ErrorName: std::error::Error {
    fn error_type(&self) -> ErrorType;
}

/// A clock, so that tests can choose the time.
pub type Clock = std::sync::Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>;

/// A moment as cfinv writes it in markers and events: RFC 3339, UTC, milliseconds
/// (`2026-11-30T05:40:24.512Z`), the format of S3's own `eventTime`.
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The system clock.
pub fn system_clock() -> Clock {
    std::sync::Arc::new(chrono::Utc::now)
}
