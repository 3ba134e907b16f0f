//! Batches of ten, retried entry by entry.
//!
//! SendMessageBatch and DeleteMessageBatch take at most 10 entries and may refuse some of them
//! while accepting the others (SQS API reference: "check every entry"). Three layers retry:
//! the SDK retries whole calls that fail (throttling, 5xx); these helpers retry the *entries* a
//! call refused; and the state machine retries a function that gives up. The helpers here are the
//! only place that loops over refused entries, for ingest, collect and the replay command.

use std::time::Duration;

use tracing::warn;

use crate::ports::{Delete, OutgoingMessage, Queue};

/// Messages that stayed unsent, and the last error a call gave (or that the queue refused them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsent {
    pub count: usize,
    pub last_error: String,
}

/// Sends `messages` in batches of ten; entries a call refused are sent again, `attempts` times at
/// most, after `base_delay`, doubled after each attempt.
pub async fn send_until_accepted<Q: Queue>(
    queue: &Q,
    messages: Vec<OutgoingMessage>,
    attempts: u32,
    base_delay: Duration,
) -> Result<(), Unsent> {
    let mut unsent = 0;
    let mut last_error = String::new();
    let mut messages = messages.into_iter().peekable();
    while messages.peek().is_some() {
        let mut pending: Vec<OutgoingMessage> = messages.by_ref().take(10).collect();
        let mut delay = base_delay;
        for attempt in 1..=attempts.max(1) {
            match queue.send_batch(&pending).await {
                Ok(failed) => pending.retain(|m| failed.contains(&m.id)),
                Err(e) => last_error = e.to_string(),
            }
            if pending.is_empty() {
                break;
            }
            if attempt < attempts {
                warn!(attempt, remaining = pending.len(), "SendMessageBatch left entries unsent; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
        if !pending.is_empty() && last_error.is_empty() {
            last_error = "SendMessageBatch refused the entries".to_owned();
        }
        unsent += pending.len();
    }
    if unsent > 0 {
        return Err(Unsent { count: unsent, last_error });
    }
    Ok(())
}

/// Deletes messages in batches of ten, retrying refused entries `attempts` times; returns how many
/// stayed undeleted. An undeleted message comes back after its visibility timeout and is planned
/// again: a duplicate invalidation, never a lost one.
pub async fn delete_until_accepted<Q: Queue>(queue: &Q, receipts: &[Delete], attempts: u32) -> usize {
    by_receipt(queue, receipts, attempts, ByReceipt::Delete).await
}

/// Makes received messages visible again at once (ChangeMessageVisibilityBatch, timeout 0), in
/// batches of ten, retrying refused entries `attempts` times; returns how many stayed hidden (they
/// come back after their visibility timeout instead).
pub async fn release_until_accepted<Q: Queue>(queue: &Q, receipts: &[Delete], attempts: u32) -> usize {
    by_receipt(queue, receipts, attempts, ByReceipt::Release).await
}

#[derive(Clone, Copy)]
enum ByReceipt {
    Delete,
    Release,
}

async fn by_receipt<Q: Queue>(queue: &Q, receipts: &[Delete], attempts: u32, op: ByReceipt) -> usize {
    let mut left = 0;
    for chunk in receipts.chunks(10) {
        let mut pending: Vec<Delete> = chunk.to_vec();
        for _ in 0..attempts.max(1) {
            let answer = match op {
                ByReceipt::Delete => queue.delete_batch(&pending).await,
                ByReceipt::Release => queue.release_batch(&pending).await,
            };
            match answer {
                Ok(failed) => pending.retain(|d| failed.contains(&d.id)),
                Err(e) => match op {
                    ByReceipt::Delete => warn!(error = %e, "DeleteMessageBatch failed"),
                    ByReceipt::Release => warn!(error = %e, "ChangeMessageVisibilityBatch failed"),
                },
            }
            if pending.is_empty() {
                break;
            }
        }
        left += pending.len();
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::FakeQueue;

    fn messages(n: usize) -> Vec<OutgoingMessage> {
        (0..n).map(|i| OutgoingMessage { id: format!("m{i}"), body: format!("b{i}") }).collect()
    }

    #[tokio::test]
    async fn refused_entries_are_sent_again_in_batches_of_ten() {
        let q = FakeQueue::default().refusing(1);
        send_until_accepted(&q, messages(25), 3, Duration::ZERO).await.unwrap();
        assert_eq!(q.sent().len(), 25, "each message sent once in the end");
        let q = FakeQueue::default().refusing(100);
        let err = send_until_accepted(&q, messages(12), 2, Duration::ZERO).await.unwrap_err();
        assert_eq!(err.count, 12);
    }
}
