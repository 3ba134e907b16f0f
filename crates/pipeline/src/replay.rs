//! Replaying the ingest failure queue.
//!
//! S3 events that never reached the event queue are parked, whole, in the ingest failure queue:
//! EventBridge could not invoke ingest, or ingest failed after Lambda's retries (a queue or Step
//! Functions outage). Once the cause is fixed, an operator replays them (`cfinv
//! replay-ingest-failures`): each parked event goes through the same [`Ingest`] handler again, and
//! its message is deleted only after ingest has queued it. An event is therefore never lost; at
//! worst it is ingested twice, which costs nothing (a window's paths are deduplicated).
//!
//! A message the replay does not delete (not an S3 event, or not reached because ingest failed
//! again) is made visible again when the replay ends (ChangeMessageVisibility 0, as collect gives
//! messages back), not left hidden for [`REPLAY_VISIBILITY_SECONDS`]: `cfinv status` then counts
//! it as waiting, and a second replay sees it at once. Not during the replay: it would be received
//! again and again.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::ingest::{Ingest, IngestError};
use crate::ports::{Buckets, Delete, Executions, PortError, Queue, ReceivedMessage};
use crate::queue::release_until_accepted;
use crate::ErrorName;

/// How long a received message stays hidden while its event is replayed. Longer than one ingest
/// (its SendMessageBatch retries take well under a minute), so a message is not seen twice in a run.
pub const REPLAY_VISIBILITY_SECONDS: u32 = 120;

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Parked events handed to ingest and deleted from the failure queue.
    pub replayed: usize,
    /// Of the events in them, how many ingest queued...
    pub queued: usize,
    /// ...and how many its filters dropped (a test event, a creation under `exceptionPaths`, ...).
    pub skipped: usize,
    /// Messages left in the failure queue because they are not S3 events: (message id, why).
    pub unreadable: Vec<(String, String)>,
    /// Of the messages left, how many could not be made visible again at once: they are in flight
    /// until [`REPLAY_VISIBILITY_SECONDS`] after they were received.
    pub still_hidden: usize,
}

/// Why a replay stopped before the failure queue was empty.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot read the ingest failure queue: {source}{}", left_note(*.still_hidden))]
    FailureQueue { source: PortError, still_hidden: usize },
    #[error("ingest failed again on message {message_id} ({}): {source}; it stays in the failure queue{}", .source.error_type(), left_note(*.still_hidden))]
    Ingest {
        message_id: String,
        #[source]
        source: IngestError,
        still_hidden: usize,
    },
    #[error("message {message_id} was replayed but could not be deleted ({source}); it may be replayed again, which is harmless{}", left_note(*.still_hidden))]
    Delete { message_id: String, source: PortError, still_hidden: usize },
}

/// How many of the messages left could not be made visible again at once, when some.
fn left_note(still_hidden: usize) -> String {
    match still_hidden {
        0 => String::new(),
        n => format!(
            " ({n} message(s) left could not be made visible again: they are in flight for up to \
             {REPLAY_VISIBILITY_SECONDS} s)"
        ),
    }
}

/// The messages received and not deleted, by message id with their latest receipt handle (a
/// message received again has a new one; only the latest changes its visibility).
#[derive(Default)]
struct Left(HashMap<String, String>);

impl Left {
    fn keep(&mut self, m: &ReceivedMessage) {
        self.0.insert(m.message_id.clone(), m.receipt_handle.clone());
    }

    fn forget(&mut self, message_id: &str) {
        self.0.remove(message_id);
    }

    /// Makes them visible again; returns how many stayed hidden.
    async fn release<F: Queue>(self, failures: &F) -> usize {
        let receipts: Vec<Delete> =
            self.0.into_iter().map(|(id, receipt_handle)| Delete { id, receipt_handle }).collect();
        if receipts.is_empty() {
            return 0;
        }
        release_until_accepted(failures, &receipts, 3).await
    }
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
    let mut left = Left::default();
    let stopped = replay_into(failures, ingest, max_messages, &mut report, &mut left).await;
    // Every message received and not deleted is visible again at once, whether the replay ended
    // or stopped.
    let still_hidden = left.release(failures).await;
    match stopped {
        Ok(()) => {
            report.still_hidden = still_hidden;
            Ok(report)
        }
        Err(mut e) => {
            match &mut e {
                ReplayError::FailureQueue { still_hidden: n, .. }
                | ReplayError::Ingest { still_hidden: n, .. }
                | ReplayError::Delete { still_hidden: n, .. } => *n = still_hidden,
            }
            Err(e)
        }
    }
}

async fn replay_into<F, Q, E, T>(
    failures: &F,
    ingest: &Ingest<Q, E, T>,
    max_messages: usize,
    report: &mut ReplayReport,
    left: &mut Left,
) -> Result<(), ReplayError>
where
    F: Queue,
    Q: Queue,
    E: Executions,
    T: Buckets,
{
    let mut seen = 0;
    let mut listed: HashSet<String> = HashSet::new();
    while seen < max_messages {
        let batch = failures
            .receive(10, 1, REPLAY_VISIBILITY_SECONDS)
            .await
            .map_err(|source| ReplayError::FailureQueue { source, still_hidden: 0 })?;
        if batch.is_empty() {
            break;
        }
        // Held until this message is deleted: a message not reached is left too.
        batch.iter().for_each(|m| left.keep(m));
        for m in batch {
            seen += 1;
            if listed.contains(&m.message_id) {
                // Received again (a replay longer than the visibility timeout): already listed.
                continue;
            }
            let payload: Value = match serde_json::from_str(&m.body) {
                Ok(v) => v,
                Err(e) => {
                    listed.insert(m.message_id.clone());
                    report.unreadable.push((m.message_id, format!("not JSON: {e}")));
                    continue;
                }
            };
            match ingest.handle(&payload).await {
                Ok(r) => {
                    report.queued += r.queued;
                    report.skipped += r.skipped.iter().map(|(_, n)| n).sum::<usize>();
                }
                Err(IngestError::MalformedEvent(e)) => {
                    listed.insert(m.message_id.clone());
                    report.unreadable.push((m.message_id, e.to_string()));
                    continue;
                }
                Err(source) => return Err(ReplayError::Ingest { message_id: m.message_id, source, still_hidden: 0 }),
            }
            let delete = Delete { id: m.message_id.clone(), receipt_handle: m.receipt_handle };
            match failures.delete_batch(std::slice::from_ref(&delete)).await {
                Ok(failed) if failed.is_empty() => {
                    report.replayed += 1;
                    left.forget(&m.message_id);
                }
                Ok(_) => {
                    let source = PortError::new(crate::ports::ErrorKind::Unavailable, "DeleteMessageBatch refused it");
                    return Err(ReplayError::Delete { message_id: m.message_id, source, still_hidden: 0 });
                }
                Err(source) => return Err(ReplayError::Delete { message_id: m.message_id, source, still_hidden: 0 }),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{fixed_clock, FakeExecutions, FakeQueue, FakeTags};
    use crate::ports::{ErrorKind, QueueDepth};
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
        assert_eq!((report.queued, report.skipped), (1, 1), "the exceptionPaths tag still applies");
        assert_eq!(report.unreadable.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["m2", "m3"]);
        assert_eq!(*failures.deleted.lock().unwrap(), ["r0", "r1"], "unreadable messages stay");
        assert_eq!(report.still_hidden, 0);
    }

    #[tokio::test]
    async fn messages_left_are_visible_again_at_once() {
        let failures = FakeQueue::default().with_messages([
            "not json".to_owned(),
            eventbridge("Object Created", "a.html"),
            json!({"hello": "world"}).to_string(),
        ]);
        let i = ingest(FakeQueue::default(), FakeExecutions::default());
        let report = replay(&failures, &i, 100).await.unwrap();
        assert_eq!(report.replayed, 1);
        let mut released = failures.released.lock().unwrap().clone();
        released.sort();
        assert_eq!(released, ["r0", "r2"], "ChangeMessageVisibility 0 for the two left");
        assert_eq!(failures.depth().await.unwrap(), QueueDepth { visible: 2, in_flight: 0 });
        // A second replay finds and lists them again.
        let again = replay(&failures, &i, 100).await.unwrap();
        let mut listed: Vec<&str> = again.unreadable.iter().map(|(id, _)| id.as_str()).collect();
        listed.sort();
        assert_eq!(listed, ["m0", "m2"]);
        assert_eq!(again.replayed, 0);
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
        // The failed message and the one of its batch not reached are visible again at once.
        assert_eq!(failures.depth().await.unwrap(), QueueDepth { visible: 2, in_flight: 0 });
    }

    #[tokio::test]
    async fn an_empty_queue_replays_nothing() {
        let failures = FakeQueue::default();
        let report = replay(&failures, &ingest(FakeQueue::default(), FakeExecutions::default()), 100).await.unwrap();
        assert_eq!(report, ReplayReport::default());
    }
}
