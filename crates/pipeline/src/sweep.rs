//! The sweeper: on a schedule (every minute by default), makes sure queued changes have an
//! execution coming for them.
//!
//! Every path that strands messages without this (a collect that failed and gave them back, a
//! backlog whose hand-off failed, messages moved back from the dead-letter queue, an execution
//! that died) ends the same way: messages visible in the queue, and no execution that will drain
//! them. Ingest starts executions only when a new event arrives, which on a quiet bucket may be
//! never. So the sweeper asks two questions: does the queue hold visible messages, and is an
//! execution running that has not drained yet (its window's end, plus the settle margin and the
//! drain budget, is still ahead)? Messages and no such execution, still so after a few seconds
//! (ingest queues, then starts its window's execution: a sweep in between must not start another):
//! it starts the current window's execution, the same one ingest would start.
//!
//! Messages in flight (received by a collect that died) are not visible: they come back after the
//! queue's visibility timeout, and the next sweep finds them.

use serde::Serialize;
use tracing::info;

use crate::ports::{Executions, PortError, Queue};
use crate::settings::SweepSettings;
use crate::window::{start_execution, Started, Window};
use crate::{Clock, ErrorName, ErrorType};

/// What one sweep saw and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepOutput {
    /// Messages visible, and in flight, as SQS approximates them.
    pub visible: u64,
    pub in_flight: u64,
    /// Running executions that will still drain the queue.
    pub pending: Vec<String>,
    /// The execution started (or found running) for the messages, if one was needed.
    pub started: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("cannot read the queue's depth: {0}")]
    QueueUnavailable(#[source] PortError),
    #[error("cannot list or start executions: {0}")]
    StatesUnavailable(#[source] PortError),
}

impl ErrorName for SweepError {
    fn error_type(&self) -> ErrorType {
        match self {
            SweepError::QueueUnavailable(_) => ErrorType::QueueUnavailable,
            SweepError::StatesUnavailable(_) => ErrorType::StatesUnavailable,
        }
    }
}

pub struct Sweep<Q, E> {
    pub queue: Q,
    pub executions: E,
    settings: SweepSettings,
    clock: Clock,
}

impl<Q: Queue, E: Executions> Sweep<Q, E> {
    pub fn new(queue: Q, executions: E, settings: SweepSettings, clock: Clock) -> Self {
        Sweep { queue, executions, settings, clock }
    }

    #[tracing::instrument(name = "sweep", skip_all)]
    pub async fn handle(&self) -> Result<SweepOutput, SweepError> {
        let s = &self.settings;
        let depth = self.queue.depth().await.map_err(SweepError::QueueUnavailable)?;
        let mut out =
            SweepOutput { visible: depth.visible, in_flight: depth.in_flight, pending: Vec::new(), started: None };
        if depth.visible == 0 {
            return Ok(out);
        }
        out.pending = self.pending().await?;
        if out.pending.is_empty() && !s.confirm.is_zero() {
            tokio::time::sleep(s.confirm).await;
            out.pending = self.pending().await?;
        }
        if !out.pending.is_empty() {
            info!(visible = out.visible, pending = ?out.pending, "messages queued; an execution will drain them");
            return Ok(out);
        }
        let now = (self.clock)();
        let (name, started) = start_execution(&self.executions, &s.state_machine_arn, &s.window, now)
            .await
            .map_err(|(_, e)| SweepError::StatesUnavailable(e))?;
        info!(visible = out.visible, execution = %name, started = matches!(started, Started::Started), "messages queued and no execution coming for them; started the window's");
        out.started = Some(name);
        Ok(out)
    }
}

impl<Q: Queue, E: Executions> Sweep<Q, E> {
    /// The running executions that will still drain the queue: their window's end, plus the settle
    /// margin and the drain budget, is ahead.
    async fn pending(&self) -> Result<Vec<String>, SweepError> {
        let s = &self.settings;
        let now = (self.clock)().timestamp();
        let running = self.executions.running(&s.state_machine_arn).await.map_err(SweepError::StatesUnavailable)?;
        let grace = i64::from(s.window.settle_seconds) + i64::from(s.drain_budget_seconds);
        Ok(running
            .into_iter()
            .filter(|name| {
                Window::of_execution_name(&s.window.execution_prefix, name).is_some_and(|w| w.end() + grace > now)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::*;
    use crate::settings::Vars;

    fn sweep(visible: u64, running: &[&str]) -> Sweep<FakeQueue, FakeExecutions> {
        let vars = Vars(|k: &str| match k {
            "CFINV_QUEUE_URL" => Some("q".to_owned()),
            "CFINV_STATE_MACHINE_ARN" => Some("arn:aws:states:us-east-1:1:stateMachine:sm".to_owned()),
            "CFINV_SWEEP_CONFIRM_SECONDS" => Some("2".to_owned()),
            _ => None,
        });
        let settings = SweepSettings::read(&vars).unwrap();
        let queue = FakeQueue::default().with_messages((0..visible).map(|i| format!("m{i}")));
        let executions = FakeExecutions::default();
        executions.running.lock().unwrap().extend(running.iter().map(|s| s.to_string()));
        Sweep::new(queue, executions, settings, fixed_clock("2026-11-26T05:40:25Z"))
    }

    #[tokio::test(start_paused = true)]
    async fn an_execution_ingest_starts_just_after_queueing_is_waited_for() {
        let s = sweep(1, &[]);
        let ingest = async {
            // Ingest queued the message a moment ago and starts its window's execution now.
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            s.executions.running.lock().unwrap().push("cfinv-10s-20261126T054020Z".to_owned());
        };
        let (out, ()) = tokio::join!(s.handle(), ingest);
        let out = out.unwrap();
        assert_eq!((out.pending.len(), out.started), (1, None));
        assert!(s.executions.starts().is_empty(), "no second execution");
    }

    #[tokio::test(start_paused = true)]
    async fn an_empty_queue_needs_nothing() {
        let s = sweep(0, &[]);
        assert_eq!(s.handle().await.unwrap().started, None);
        assert!(s.executions.starts().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn messages_and_no_execution_coming_start_the_current_windows() {
        // The window of 05:40:00 closed at 05:40:10; settle 2 s and drain 60 s: it may drain until
        // 05:41:12. At 05:40:25 it is still coming.
        let s = sweep(3, &["cfinv-10s-20261126T054000Z"]);
        let out = s.handle().await.unwrap();
        assert_eq!((out.pending.len(), out.started), (1, None));

        // One that closed long ago, a continuation, and a name of another shape drain nothing now.
        let s = sweep(3, &["cfinv-10s-20261126T050000Z", "cfinv-10s-20261126T050000Z-p-2", "manual"]);
        let out = s.handle().await.unwrap();
        assert_eq!(out.started.as_deref(), Some("cfinv-10s-20261126T054020Z"));
        assert_eq!(s.executions.starts()[0].1, "cfinv-10s-20261126T054020Z");
    }
}
