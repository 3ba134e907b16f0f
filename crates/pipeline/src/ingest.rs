//! The ingest function: S3 events in, queued events and a started execution out.
//!
//! 1. Parse the event (S3 notification or EventBridge); a malformed one fails, so Lambda retries it
//!    and then hands it to the function's failure destination: never dropped in silence.
//! 2. Drop what needs no planning (test events, non-changes, creations under the bucket's
//!    `exceptionPaths` tag), with the core's own rule ([`cfinv_core::plan::pre_filter`]).
//! 3. SendMessageBatch the rest, retrying refused entries; fail if any stays unsent.
//! 4. Start the execution of the current window; `ExecutionAlreadyExists` is success, and a warm
//!    container that already started this window does not call again.
//!
//! Only after the messages are queued is the window chosen, so the execution that drains them
//! always starts after they are in the queue.

use std::collections::HashMap;
use std::sync::Mutex;

use cfinv_core::event::EventError;
use cfinv_core::plan::pre_filter;
use cfinv_core::{parse_events, ExceptionPaths, Exceptions, ObjectEvent};
use serde::Serialize;
use serde_json::Value;
use tracing::{info, warn};

use crate::expiring::Expiring;
use crate::ports::{Buckets, Executions, OutgoingMessage, PortError, Queue};
use crate::queue::send_until_accepted;
use crate::settings::IngestSettings;
use crate::window::{start_execution, Started, Window};
use crate::{Clock, ErrorName, ErrorType};

/// The tag that lists a bucket's exception prefixes.
pub const EXCEPTION_PATHS_TAG: &str = "exceptionPaths";

/// Why ingest failed. Lambda retries a failed asynchronous invocation, and the messages it already
/// queued are harmless duplicates (the planner deduplicates paths).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("malformed event: {0}")]
    MalformedEvent(#[from] EventError),
    #[error("{unsent} of {total} events could not be queued: {last_error}")]
    QueueFailed { unsent: usize, total: usize, last_error: String },
    #[error("could not start execution {name}: {source}")]
    StartFailed {
        name: String,
        #[source]
        source: PortError,
    },
}

impl ErrorName for IngestError {
    fn error_type(&self) -> ErrorType {
        match self {
            IngestError::MalformedEvent(_) => ErrorType::MalformedEvent,
            IngestError::QueueFailed { .. } => ErrorType::QueueFailed,
            IngestError::StartFailed { .. } => ErrorType::StartFailed,
        }
    }
}

/// What one invocation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestReport {
    pub received: usize,
    pub queued: usize,
    /// Reason name and count, for what was dropped.
    pub skipped: Vec<(String, usize)>,
    /// The execution started or found, when anything was queued.
    pub execution: Option<String>,
}

/// The ingest handler, built once per container.
pub struct Ingest<Q, E, T> {
    queue: Q,
    executions: E,
    tags: T,
    settings: IngestSettings,
    clock: Clock,
    tag_cache: Expiring<String, ExceptionPaths>,
    /// The last window this container started: its start and its execution's name.
    started_window: Mutex<Option<(i64, String)>>,
}

impl<Q: Queue, E: Executions, T: Buckets> Ingest<Q, E, T> {
    pub fn new(queue: Q, executions: E, tags: T, settings: IngestSettings, clock: Clock) -> Self {
        Ingest {
            queue,
            executions,
            tags,
            tag_cache: Expiring::new(settings.tag_cache),
            settings,
            clock,
            started_window: Mutex::new(None),
        }
    }

    /// Handles one Lambda event.
    #[tracing::instrument(name = "ingest", skip_all)]
    pub async fn handle(&self, payload: &Value) -> Result<IngestReport, IngestError> {
        let events = parse_events(payload)?;
        let exceptions = self.exceptions_for(&events).await;
        let mut skipped: HashMap<&'static str, usize> = HashMap::new();
        let mut keep: Vec<&ObjectEvent> = Vec::new();
        for ev in &events {
            match pre_filter(ev, &exceptions) {
                Some(reason) => *skipped.entry(reason.as_str()).or_default() += 1,
                None => keep.push(ev),
            }
        }
        let mut skipped: Vec<(String, usize)> = skipped.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        skipped.sort();

        let mut report = IngestReport { received: events.len(), queued: 0, skipped, execution: None };
        if keep.is_empty() {
            info!(received = report.received, "nothing to queue");
            return Ok(report);
        }
        self.enqueue(&keep).await?;
        report.queued = keep.len();
        report.execution = Some(self.start_window().await?);
        info!(received = report.received, queued = report.queued, execution = ?report.execution, "queued");
        Ok(report)
    }

    /// The `exceptionPaths` of every bucket in the event, from the warm cache or the bucket's tags.
    async fn exceptions_for(&self, events: &[ObjectEvent]) -> Exceptions {
        let mut out = Exceptions::new();
        let mut buckets: Vec<&str> = events.iter().map(|e| e.bucket.as_str()).collect();
        buckets.sort_unstable();
        buckets.dedup();
        for bucket in buckets {
            if let Some(paths) = self.tag_cache.get(bucket) {
                out.insert(bucket, paths);
                continue;
            }
            match self.tags.tag(bucket, EXCEPTION_PATHS_TAG).await {
                Ok(value) => {
                    let paths = match value {
                        Some(v) => ExceptionPaths::parse(&v),
                        None => self.settings.default_exception_paths.clone(),
                    };
                    self.tag_cache.insert(bucket.to_owned(), paths.clone());
                    out.insert(bucket, paths);
                }
                // Over-invalidating is safe, missing an invalidation is not: no exceptions.
                Err(e) => {
                    warn!(bucket, error = %e, "cannot read the exceptionPaths tag; treating the bucket as having none")
                }
            }
        }
        out
    }

    async fn enqueue(&self, events: &[&ObjectEvent]) -> Result<(), IngestError> {
        let messages = events
            .iter()
            .enumerate()
            .map(|(i, ev)| OutgoingMessage {
                id: i.to_string(),
                // Serialising a plain struct of strings cannot fail.
                body: serde_json::to_string(ev).unwrap_or_default(),
            })
            .collect();
        send_until_accepted(&self.queue, messages, self.settings.send_attempts, self.settings.retry_base)
            .await
            .map_err(|u| IngestError::QueueFailed { unsent: u.count, total: events.len(), last_error: u.last_error })
    }

    /// Starts (or finds) the execution of the window we are in now.
    async fn start_window(&self) -> Result<String, IngestError> {
        let w = &self.settings.window;
        let now = (self.clock)();
        let window_start = Window::containing(now, w.window_seconds).start;
        if let Some((start, name)) = self.started_window.lock().ok().and_then(|s| s.clone()) {
            if start == window_start {
                return Ok(name);
            }
        }
        let name = match start_execution(&self.executions, &self.settings.state_machine_arn, w, now).await {
            Ok((name, Started::Started)) => {
                info!(execution = %name, "started (or found) the window's execution");
                name
            }
            Ok((name, Started::Existed)) => {
                info!(execution = %name, "the window's execution is running already");
                name
            }
            Err((name, source)) => return Err(IngestError::StartFailed { name, source }),
        };
        if let Ok(mut started) = self.started_window.lock() {
            *started = Some((window_start, name.clone()));
        }
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{fixed_clock, FakeExecutions, FakeQueue, FakeTags};
    use crate::ports::ErrorKind;
    use crate::settings::WindowSettings;
    use serde_json::json;
    use std::time::Duration;

    fn settings() -> IngestSettings {
        IngestSettings {
            queue_url: "q".into(),
            state_machine_arn: "arn:sm".into(),
            window: WindowSettings {
                state_machine_arn: Some("arn:sm".into()),
                window_seconds: 10,
                settle_seconds: 2,
                execution_prefix: "cfinv".into(),
            },
            tag_cache: Duration::from_secs(60),
            default_exception_paths: ExceptionPaths::default(),
            send_attempts: 3,
            retry_base: Duration::ZERO,
        }
    }

    fn record(name: &str, bucket: &str, key: &str) -> Value {
        json!({"eventName": name, "eventTime": "2026-11-26T05:40:15.000Z",
               "s3": {"bucket": {"name": bucket}, "object": {"key": key, "sequencer": "01"}}})
    }

    fn ingest(queue: FakeQueue, ex: FakeExecutions, tags: FakeTags) -> Ingest<FakeQueue, FakeExecutions, FakeTags> {
        Ingest::new(queue, ex, tags, settings(), fixed_clock("2026-11-26T05:40:19Z"))
    }

    #[tokio::test]
    async fn queues_filtered_events_and_starts_the_window_once() {
        let tags = FakeTags::default().with("site", "exceptionPaths", "up/");
        let i = ingest(FakeQueue::default(), FakeExecutions::default(), tags);
        let payload = json!({"Records": [
            record("ObjectCreated:Put", "site", "a+b.jpg"),
            record("ObjectCreated:Put", "site", "up/1.jpg"),
            record("ObjectRemoved:Delete", "site", "up/2.jpg"),
        ]});
        let r = i.handle(&payload).await.unwrap();
        assert_eq!(r.queued, 2);
        assert_eq!(r.skipped, [("exception-path".to_owned(), 1)]);
        assert_eq!(r.execution.as_deref(), Some("cfinv-10s-20261126T054010Z"));
        let sent = i.queue.sent();
        assert_eq!(sent.len(), 2);
        let first: ObjectEvent = serde_json::from_str(&sent[0]).unwrap();
        assert_eq!(first.key, "a b.jpg");
        i.handle(&json!({"Records": [record("ObjectCreated:Put", "site", "c")]})).await.unwrap();
        let starts = i.executions.starts();
        assert_eq!(starts.len(), 1, "a warm container starts its window once");
        assert_eq!(starts[0].1, "cfinv-10s-20261126T054010Z");
        let input: Value = serde_json::from_str(&starts[0].2).unwrap();
        assert_eq!(input["waitUntil"], "2026-11-26T05:40:22Z");
        assert_eq!(i.tags.calls(), 1, "the tag is cached");
    }

    #[tokio::test]
    async fn already_exists_is_success_and_other_errors_fail() {
        let ex = FakeExecutions::default().failing(ErrorKind::AlreadyExists);
        let i = ingest(FakeQueue::default(), ex, FakeTags::default());
        assert!(i.handle(&json!({"Records": [record("ObjectCreated:Put", "b", "k")]})).await.is_ok());

        let ex = FakeExecutions::default().failing(ErrorKind::AccessDenied);
        let i = ingest(FakeQueue::default(), ex, FakeTags::default());
        let err = i.handle(&json!({"Records": [record("ObjectCreated:Put", "b", "k")]})).await.unwrap_err();
        assert_eq!(err.error_type(), "StartFailed");
    }

    #[tokio::test]
    async fn refused_entries_are_retried_then_fail_the_event() {
        let i = ingest(FakeQueue::default().refusing(2), FakeExecutions::default(), FakeTags::default());
        let payload =
            json!({"Records": [record("ObjectCreated:Put", "b", "k1"), record("ObjectCreated:Put", "b", "k2")]});
        assert_eq!(i.handle(&payload).await.unwrap().queued, 2);
        assert_eq!(i.queue.sent().len(), 2, "each event queued exactly once in the end");

        let i = ingest(FakeQueue::default().refusing(100), FakeExecutions::default(), FakeTags::default());
        let err = i.handle(&payload).await.unwrap_err();
        assert_eq!(err.error_type(), "QueueFailed");
        assert!(i.executions.starts().is_empty(), "no execution without queued events");
    }

    #[tokio::test]
    async fn unreadable_tags_mean_no_exceptions_and_test_events_are_ignored() {
        let i = ingest(FakeQueue::default(), FakeExecutions::default(), FakeTags::default().broken());
        let r = i.handle(&json!({"Records": [record("ObjectCreated:Put", "b", "up/1.jpg")]})).await.unwrap();
        assert_eq!(r.queued, 1);
        let r = i.handle(&json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"})).await.unwrap();
        assert_eq!((r.queued, r.execution.clone()), (0, None));
        assert_eq!(r.skipped, [("test-event".to_owned(), 1)]);
        let err = i.handle(&json!({"hello": 1})).await.unwrap_err();
        assert_eq!(err.error_type(), "MalformedEvent");
    }
}
