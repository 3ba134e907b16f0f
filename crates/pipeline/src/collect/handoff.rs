//! After the plan is stored: unreadable messages to the dead-letter queue, and the next execution
//! when a budget left messages in the queue.

use tracing::{info, warn};

use crate::ports::{Buckets, CloudFront, Delete, Executions, Objects, OutgoingMessage, Queue, ReceivedMessage};
use crate::queue::{delete_until_accepted, send_until_accepted};
use crate::window::{start_execution, Started};

use super::Collect;

impl<Q: Queue, O: Objects + Buckets, C: CloudFront, E: Executions> Collect<Q, O, C, E> {
    /// Moves unreadable messages to the dead-letter queue (or, without one, leaves them for the
    /// queue's redrive policy): they never block the others. A message is deleted from the event
    /// queue only once the dead-letter queue accepted it.
    pub(super) async fn set_aside(&self, unreadable: &[ReceivedMessage]) {
        let Some(dlq) = &self.ports.dead_letter else {
            if !unreadable.is_empty() {
                warn!(count = unreadable.len(), "unreadable messages left for the queue's redrive policy");
            }
            return;
        };
        for m in unreadable {
            let out = vec![OutgoingMessage { id: m.message_id.clone(), body: m.body.clone() }];
            if let Err(e) = send_until_accepted(dlq, out, 1, std::time::Duration::ZERO).await {
                warn!(message_id = %m.message_id, error = %e.last_error, "cannot move an unreadable message to the dead-letter queue; left in the queue");
                continue;
            }
            let moved = [Delete { id: m.message_id.clone(), receipt_handle: m.receipt_handle.clone() }];
            warn!(message_id = %m.message_id, "unreadable message moved to the dead-letter queue");
            delete_until_accepted(&self.ports.queue, &moved, 3).await;
        }
    }

    /// Starts the execution of the current window, which drains what this one left.
    pub(super) async fn start_next(&self, from_input: Option<&str>) {
        let w = &self.settings.window;
        let Some(arn) = from_input.or(w.state_machine_arn.as_deref()) else {
            warn!("a backlog is left but no state machine ARN is known to start the next execution");
            return;
        };
        match start_execution(&self.ports.executions, arn, w, (self.clock)()).await {
            Ok((name, Started::Started)) => info!(next = %name, "backlog left; next execution started"),
            Ok((name, Started::Existed)) => info!(next = %name, "backlog left; next execution exists"),
            Err((name, e)) => {
                warn!(next = %name, error = %e, "backlog left and the next execution could not be started")
            }
        }
    }
}
