//! EventBridge: cfinv's events on the account's default bus.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use cfinv_pipeline::ports::{ErrorKind, Events, PortError};

use crate::errors::port_error;

/// The `source` of every event cfinv puts.
pub const SOURCE: &str = "cfinv";

#[derive(Clone)]
pub struct EventsClient {
    client: aws_sdk_eventbridge::Client,
}

impl EventsClient {
    pub fn new(client: aws_sdk_eventbridge::Client) -> Self {
        EventsClient { client }
    }
}

impl Events for EventsClient {
    async fn put(&self, detail_type: &str, detail: &str) -> Result<(), PortError> {
        let entry = PutEventsRequestEntry::builder().source(SOURCE).detail_type(detail_type).detail(detail).build();
        let out = self.client.put_events().entries(entry).send().await.map_err(port_error)?;
        // PutEvents answers 200 and reports refused entries one by one.
        match out.entries().first() {
            Some(e) if e.error_code().is_some() => Err(PortError::new(
                ErrorKind::Unavailable,
                format!(
                    "PutEvents refused the event: {}: {}",
                    e.error_code().unwrap_or(""),
                    e.error_message().unwrap_or("")
                ),
            )
            .with_code(e.error_code().map(str::to_owned))),
            _ if out.failed_entry_count() > 0 => {
                Err(PortError::new(ErrorKind::Unavailable, "PutEvents refused the event"))
            }
            _ => Ok(()),
        }
    }
}
