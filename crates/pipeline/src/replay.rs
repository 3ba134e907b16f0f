//! Replaying the ingest failure queue.
//!
//! S3 events that never reached the event queue are parked, whole, in the ingest failure queue:
//! EventBridge could not invoke ingest, or ingest failed after Lambda's retries (a queue or Step
//! Functions outage). Once the cause is fixed, an operator replays them (`cfinv
//! replay-ingest-failures`): each parked event goes through the same [`Ingest`] handler again, and
//! its message is deleted only after ingest has queued it. An event is therefore never lost; at
//! worst it is ingested twice, which costs nothing (a window's paths are deduplicated).

use serde_json::Value;

use crate::ingest::{Ingest, IngestError};
use crate::ports::{Buckets, Delete, Executions, PortError, Queue};
use crate::ErrorName;

/// How long a received message stays hidden while its event is replayed. Longer than one ingest
/// (its SendMessageBatch retries take well under a minute), so a message is not seen twice in a run.
pub const REPLAY_VISIBILITY_SECONDS: u32 = 120;

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Parked events handed to ingest and deleted from the failure queue.
    pub replayed: usize,
    /// Of the events in them, how many ingest queued (the rest were skipped by its filters).
    pub queued: usize,
    /// Messages left in the failure queue because they are not S3 events: (message id, why).
    pub unreadable: Vec<(String, String)>,
}

/// Why a replay stopped before the failure queue was empty.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot read the ingest failure queue: {0}")]
    FailureQueue(PortError),
    #[error("ingest failed again on message {message_id} ({}): {source}; it stays in the failure queue", .source.error_type())]
    Ingest {
        message_id: String,
        #[source]
        source: IngestError,
    },
    #[error("message {message_id} was replayed but could not be deleted ({0}); it may be replayed again, which is harmless", .source)]
    Delete { message_id: String, source: PortError },
}

/// Replays every message of `failures` through `ingest`, at most `max_messages`.
pub async fn replay<F, Q, E, T>(
    failures: &F,
    ingest: &Ingest<Q, E, T>,
    max_messages: usize,
) -> Result<ReplayReport, ReplayError>
where
    F: Queue,
    Q: Queue,
    E: Executions,
    T: Buckets,
{
    let mut report = ReplayReport::default();
    let mut seen = 0;
    while seen < max_messages {
        let batch = failures.receive(10, 1, REPLAY_VISIBILITY_SECONDS).await.map_err(ReplayError::FailureQueue)?;
        if batch.is_empty() {
            break;
        }
        for m in batch {
            seen += 1;
            let payload: Value = match serde_json::from_str(&m.body) {
                Ok(v) => v,
                Err(e) => {
                    report.unreadable.push((m.message_id, format!("not JSON: {e}")));
                    continue;
                }
            };
            match ingest.handle(&payload).await {
                Ok(r) => report.queued += r.queued,
                Err(IngestError::MalformedEvent(e)) => {
                    report.unreadable.push((m.message_id, e.to_string()));
                    continue;
                }
                Err(source) => return Err(ReplayError::Ingest { message_id: m.message_id, source }),
            }
            let delete = Delete { id: m.message_id.clone(), receipt_handle: m.receipt_handle };
            match failures.delete_batch(std::slice::from_ref(&delete)).await {
                Ok(failed) if failed.is_empty() => report.replayed += 1,
                Ok(_) => {
                    let source = PortError::new(crate::ports::ErrorKind::Unavailable, "DeleteMessageBatch refused it");
                    return Err(ReplayError::Delete { message_id: m.message_id, source });
                }
                Err(source) => return Err(ReplayError::Delete { message_id: m.message_id, source }),
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{fixed_clock, FakeExecutions, FakeQueue, FakeTags};
    use crate::ports::ErrorKind;
    use crate::settings::{IngestSettings, Vars};
    use serde_json::json;

    fn ingest(queue: FakeQueue, ex: FakeExecutions) -> Ingest<FakeQueue, FakeExecutions, FakeTags> {
        let vars = Vars(|k: &str| match k {
            "CFINV_QUEUE_URL" => Some("q".to_owned()),
            "CFINV_STATE_MACHINE_ARN" => Some("arn:sm".to_owned()),
            _ => None,
        });
        let tags = FakeTags::default().with("site", "exceptionPaths", "up/");
        Ingest::new(queue, ex, tags, IngestSettings::read(&vars).unwrap(), fixed_clock("2026-11-26T05:40:19Z"))
    }

    fn eventbridge(detail_type: &str, key: &str) -> String {
        json!({"version": "0", "detail-type": detail_type, "source": "aws.s3",
               "detail": {"bucket": {"name": "site"}, "object": {"key": key}, "reason": "PutObject"}})
        .to_string()
    }

    #[tokio::test]
    async fn replays_parked_events_and_deletes_them_after_ingest_queued_them() {
        let failures = FakeQueue::default().with_messages([
            eventbridge("Object Created", "a.html"),
            eventbridge("Object Created", "up/skipped.jpg"),
            "not json".to_owned(),
            json!({"hello": "world"}).to_string(),
        ]);
        let i = ingest(FakeQueue::default(), FakeExecutions::default());
        let report = replay(&failures, &i, 100).await.unwrap();
        assert_eq!(report.replayed, 2);
        assert_eq!(report.queued, 1, "the exceptionPaths tag still applies");
        assert_eq!(report.unreadable.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["m2", "m3"]);
        assert_eq!(*failures.deleted.lock().unwrap(), ["r0", "r1"], "unreadable messages stay");
    }

    #[tokio::test]
    async fn stops_and_keeps_the_message_when_ingest_fails_again() {
        let failures = FakeQueue::default()
            .with_messages([eventbridge("Object Created", "a.html"), eventbridge("Object Created", "b.html")]);
        let i = ingest(FakeQueue::default(), FakeExecutions::default().failing(ErrorKind::AccessDenied));
        let err = replay(&failures, &i, 100).await.unwrap_err();
        assert!(matches!(&err, ReplayError::Ingest { message_id, .. } if message_id == "m0"), "{err}");
        assert!(err.to_string().contains("StartFailed"), "{err}");
        assert!(failures.deleted.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_empty_queue_replays_nothing() {
        let failures = FakeQueue::default();
        let report = replay(&failures, &ingest(FakeQueue::default(), FakeExecutions::default()), 100).await.unwrap();
        assert_eq!(report, ReplayReport::default());
    }
}
