//! SNS: the alert.

use cfinv_pipeline::ports::{Alerts, PortError};

use crate::errors::port_error;

#[derive(Clone)]
pub struct SnsClient {
    client: aws_sdk_sns::Client,
}

impl SnsClient {
    pub fn new(client: aws_sdk_sns::Client) -> Self {
        SnsClient { client }
    }
}

impl Alerts for SnsClient {
    async fn publish(&self, topic_arn: &str, subject: &str, body: &str) -> Result<(), PortError> {
        self.client.publish().topic_arn(topic_arn).subject(subject).message(body).send().await.map_err(port_error)?;
        Ok(())
    }
}
