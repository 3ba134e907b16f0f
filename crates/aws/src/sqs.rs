//! SQS: the queue between ingest and collect (and the dead-letter queue).

use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, MessageSystemAttributeName,
    QueueAttributeName, SendMessageBatchRequestEntry,
};
use cfinv_pipeline::ports::{Delete, ErrorKind, OutgoingMessage, PortError, Queue, QueueDepth, ReceivedMessage};

use crate::errors::port_error;

/// One queue, by URL.
#[derive(Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: String) -> Self {
        SqsQueue { client, url }
    }
}

fn build_error(e: impl std::fmt::Display) -> PortError {
    PortError::new(ErrorKind::InvalidArgument, e.to_string())
}

impl Queue for SqsQueue {
    async fn send_batch(&self, messages: &[OutgoingMessage]) -> Result<Vec<String>, PortError> {
        let entries = messages
            .iter()
            .map(|m| SendMessageBatchRequestEntry::builder().id(&m.id).message_body(&m.body).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(build_error)?;
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(port_error)?;
        for f in out.failed() {
            tracing::warn!(
                id = f.id(),
                code = f.code(),
                sender_fault = f.sender_fault(),
                "SendMessageBatch entry failed"
            );
        }
        Ok(out.failed().iter().map(|f| f.id().to_owned()).collect())
    }

    async fn receive(
        &self,
        max: u32,
        wait_seconds: u32,
        visibility_timeout: u32,
    ) -> Result<Vec<ReceivedMessage>, PortError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .wait_time_seconds(wait_seconds.min(20) as i32)
            .visibility_timeout(visibility_timeout as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(port_error)?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| {
                let receive_count = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1);
                Some(ReceivedMessage {
                    message_id: m.message_id()?.to_owned(),
                    receipt_handle: m.receipt_handle()?.to_owned(),
                    body: m.body().unwrap_or_default().to_owned(),
                    receive_count,
                })
            })
            .collect())
    }

    async fn delete_batch(&self, messages: &[Delete]) -> Result<Vec<String>, PortError> {
        if messages.is_empty() {
            return Ok(vec![]);
        }
        let entries = messages
            .iter()
            .enumerate()
            // Batch entry ids allow only letters, digits, - and _: use positions, map back below.
            .map(|(i, d)| {
                DeleteMessageBatchRequestEntry::builder().id(i.to_string()).receipt_handle(&d.receipt_handle).build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(build_error)?;
        let out = self
            .client
            .delete_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(port_error)?;
        Ok(refused(out.failed().iter().map(|f| f.id()), messages))
    }

    async fn release_batch(&self, messages: &[Delete]) -> Result<Vec<String>, PortError> {
        if messages.is_empty() {
            return Ok(vec![]);
        }
        let entries = messages
            .iter()
            .enumerate()
            .map(|(i, d)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&d.receipt_handle)
                    .visibility_timeout(0)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(build_error)?;
        let out = self
            .client
            .change_message_visibility_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(port_error)?;
        Ok(refused(out.failed().iter().map(|f| f.id()), messages))
    }

    async fn depth(&self) -> Result<QueueDepth, PortError> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(port_error)?;
        let count = |name: QueueAttributeName| {
            out.attributes().and_then(|a| a.get(&name)).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        };
        Ok(QueueDepth {
            visible: count(QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        })
    }
}

impl SqsQueue {
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The queue's name: the last segment of its URL.
    pub fn name(&self) -> &str {
        self.url.rsplit('/').next().unwrap_or_default()
    }
}

/// The ids of the messages a batch call refused: its entries' ids are positions in `messages`
/// (batch entry ids allow only letters, digits, - and _).
fn refused<'a>(failed: impl Iterator<Item = &'a str>, messages: &[Delete]) -> Vec<String> {
    failed.filter_map(|id| id.parse::<usize>().ok()).filter_map(|i| messages.get(i).map(|d| d.id.clone())).collect()
}
