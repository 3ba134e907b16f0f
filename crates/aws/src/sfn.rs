//! Step Functions: starting the window's execution.

use cfinv_pipeline::ports::{Executions, PortError};

use crate::errors::port_error;

#[derive(Clone)]
pub struct SfnClient {
    client: aws_sdk_sfn::Client,
}

impl SfnClient {
    pub fn new(client: aws_sdk_sfn::Client) -> Self {
        SfnClient { client }
    }
}

impl Executions for SfnClient {
    async fn start(&self, state_machine_arn: &str, name: &str, input: &str) -> Result<(), PortError> {
        self.client
            .start_execution()
            .state_machine_arn(state_machine_arn)
            .name(name)
            .input(input)
            .send()
            .await
            .map_err(port_error)?;
        Ok(())
    }

    async fn redrive_count(&self, execution_arn: &str) -> Result<u32, PortError> {
        let out = self.client.describe_execution().execution_arn(execution_arn).send().await.map_err(port_error)?;
        Ok(out.redrive_count().unwrap_or(0).max(0) as u32)
    }
}
