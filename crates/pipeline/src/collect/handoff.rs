//! After the run is stored: unreadable messages to the dead-letter queue, the drained messages
//! deleted, and the next execution when a budget left messages in the queue. Before it is stored,
//! on any failure: the drained messages given back.

use tracing::{info, warn};

use crate::ports::{Buckets, CloudFront, Delete, Executions, Objects, OutgoingMessage, Queue, ReceivedMessage};
use crate::queue::{delete_until_accepted, release_until_accepted, send_until_accepted};
use crate::run::RunKeys;
use crate::window::{start_execution, Started};

use super::drain::Drained;
use super::{Collect, CollectError, CollectOutput};

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

    /// Makes every drained message visible again at once (ChangeMessageVisibility 0), readable
    /// or not: this attempt stores nothing, and the next drain must find them.
    pub(super) async fn give_back(&self, drained: &Drained) {
        let mut all: Vec<Delete> = drained.receipts.clone();
        all.extend(
            drained
                .unreadable
                .iter()
                .map(|m| Delete { id: m.message_id.clone(), receipt_handle: m.receipt_handle.clone() }),
        );
        if all.is_empty() {
            return;
        }
        let kept = release_until_accepted(&self.ports.queue, &all, 3).await;
        if kept > 0 {
            warn!(
                kept,
                given_back = all.len() - kept,
                "messages not given back; they return after the visibility timeout"
            );
        } else {
            info!(given_back = all.len(), "messages given back to the queue");
        }
    }

    /// What an attempt that stored its run may not have finished: deleting its messages, and
    /// starting the next execution when it left a backlog.
    pub(super) async fn finish_stored(
        &self,
        stored: &CollectOutput,
        from_input: Option<&str>,
    ) -> Result<(), CollectError> {
        let keys = RunKeys::of(&self.settings.plan_prefix, &stored.run);
        let receipts = self.stored_receipts(&keys).await?;
        let undeleted = delete_until_accepted(&self.ports.queue, &receipts, 3).await;
        if undeleted > 0 {
            warn!(undeleted, "messages not deleted; they will be planned again");
        }
        if stored.collected.more {
            self.start_next(from_input).await?;
        }
        Ok(())
    }

    /// Starts the execution of the current window, which drains what this one left. A failure is
    /// an error: the state machine retries collect, which tries again (and the sweeper would start
    /// one within its period).
    pub(super) async fn start_next(&self, from_input: Option<&str>) -> Result<(), CollectError> {
        let w = &self.settings.window;
        let Some(arn) = from_input.or(w.state_machine_arn.as_deref()) else {
            warn!("a backlog is left but no state machine ARN is known to start the next execution; the sweeper will");
            return Ok(());
        };
        match start_execution(&self.ports.executions, arn, w, (self.clock)()).await {
            Ok((name, Started::Started)) => info!(next = %name, "backlog left; next execution started"),
            Ok((name, Started::Existed)) => info!(next = %name, "backlog left; next execution exists"),
            Err((name, e)) => {
                warn!(next = %name, error = %e, "backlog left and the next execution could not be started");
                return Err(CollectError::HandOff(e));
            }
        }
        Ok(())
    }
}
