//! Draining the queue: every message that is there when the window's execution runs.
//!
//! Long polls, until `CFINV_EMPTY_RECEIVES` consecutive empty receives (one empty receive is not
//! proof of an empty queue: short and long polls sample SQS's servers), or a budget: at most
//! `CFINV_MAX_MESSAGES` messages and `CFINV_COLLECT_SECONDS` seconds, after which the rest waits
//! for the next execution. Drained messages stay hidden for the visibility timeout, which must
//! outlast the run, and are deleted only after the plan is stored.

use std::collections::HashMap;

use cfinv_core::ObjectEvent;
use tokio::time::Instant;
use tracing::warn;

use crate::ports::{Buckets, CloudFront, Delete, Executions, Objects, PortError, Queue, ReceivedMessage};

use super::Collect;

/// What one drain received.
pub(super) struct Drained {
    pub(super) events: Vec<ObjectEvent>,
    /// Receipts of the messages whose events are in `events`.
    pub(super) receipts: Vec<Delete>,
    pub(super) unreadable: Vec<ReceivedMessage>,
    /// Distinct messages received.
    pub(super) messages: usize,
    /// A budget stopped the drain: messages may be left.
    pub(super) more: bool,
    /// The queue failed mid-drain: what was received so far is given back.
    pub(super) failure: Option<PortError>,
}

/// Where a message received earlier in this drain went.
#[derive(Clone, Copy)]
enum Seen {
    Event(usize),
    Unreadable(usize),
}

impl<Q: Queue, O: Objects + Buckets, C: CloudFront, E: Executions> Collect<Q, O, C, E> {
    pub(super) async fn drain(&self) -> Drained {
        let s = &self.settings;
        let started = Instant::now();
        let mut out = Drained {
            events: Vec::new(),
            receipts: Vec::new(),
            unreadable: Vec::new(),
            messages: 0,
            more: false,
            failure: None,
        };
        let mut empty = 0;
        let mut seen: HashMap<String, Seen> = HashMap::new();
        loop {
            if out.messages >= s.max_messages || started.elapsed() >= s.drain_budget {
                out.more = true;
                break;
            }
            let max = (s.max_messages - out.messages).min(10) as u32;
            let batch = match self.ports.queue.receive(max, s.receive_wait_seconds, s.visibility_timeout_seconds).await
            {
                Ok(batch) => batch,
                Err(e) => {
                    out.failure = Some(e);
                    break;
                }
            };
            if batch.is_empty() {
                empty += 1;
                if empty >= s.empty_receives {
                    break;
                }
                continue;
            }
            empty = 0;
            for m in batch {
                // Received again within this drain (its visibility timeout ran out): keep the newest
                // receipt, count and plan it once.
                if let Some(&i) = seen.get(&m.message_id) {
                    match i {
                        Seen::Event(i) => out.receipts[i].receipt_handle = m.receipt_handle,
                        Seen::Unreadable(i) => out.unreadable[i] = m,
                    }
                    continue;
                }
                out.messages += 1;
                match serde_json::from_str::<ObjectEvent>(&m.body) {
                    Ok(ev) => {
                        seen.insert(m.message_id.clone(), Seen::Event(out.receipts.len()));
                        out.events.push(ev);
                        out.receipts.push(Delete { id: m.message_id, receipt_handle: m.receipt_handle });
                    }
                    Err(e) => {
                        warn!(message_id = %m.message_id, receive_count = m.receive_count, error = %e, "unreadable message");
                        seen.insert(m.message_id.clone(), Seen::Unreadable(out.unreadable.len()));
                        out.unreadable.push(m);
                    }
                }
            }
        }
        out
    }
}
