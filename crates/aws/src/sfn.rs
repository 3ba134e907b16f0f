//! Step Functions: starting executions, finding the running ones, the redrive count and the
//! size of an execution's history; listing and describing executions for `cfinv status`.

use cfinv_pipeline::ports::{Executions, PortError};
use chrono::{DateTime, Utc};

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
    async fn is_running(&self, execution_arn: &str) -> Result<bool, PortError> {
        let out = self.client.describe_execution().execution_arn(execution_arn).send().await.map_err(port_error)?;
        Ok(out.status() == &aws_sdk_sfn::types::ExecutionStatus::Running)
    }

    async fn running(&self, state_machine_arn: &str) -> Result<Vec<String>, PortError> {
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        // A few pages: more than a few hundred running executions is not a state cfinv is in.
        for _ in 0..5 {
            let out = self
                .client
                .list_executions()
                .state_machine_arn(state_machine_arn)
                .status_filter(aws_sdk_sfn::types::ExecutionStatus::Running)
                .set_next_token(token.take())
                .max_results(100)
                .send()
                .await
                .map_err(port_error)?;
            names.extend(out.executions().iter().map(|e| e.name().to_owned()));
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        Ok(names)
    }

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

    async fn history_events(&self, execution_arn: &str) -> Result<u64, PortError> {
        let out = self
            .client
            .get_execution_history()
            .execution_arn(execution_arn)
            .reverse_order(true)
            .max_results(1)
            .include_execution_data(false)
            .send()
            .await
            .map_err(port_error)?;
        // Newest first: the first event's id is the count. (An emulator that ignores the order
        // or the page size still answers right with the largest id.)
        Ok(out.events().iter().map(|e| e.id().max(0) as u64).max().unwrap_or(0))
    }
}

/// One execution, as ListExecutions and DescribeExecution give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    pub name: String,
    pub arn: String,
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`, `PENDING_REDRIVE`.
    pub status: String,
    pub start: Option<DateTime<Utc>>,
    pub stop: Option<DateTime<Utc>>,
    /// DescribeExecution only: the error name and cause of a failed execution, and how often it
    /// was redriven.
    pub error: Option<String>,
    pub cause: Option<String>,
    pub redrive_count: u32,
}

fn time(t: Option<&aws_sdk_sfn::primitives::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

impl SfnClient {
    /// The most recent executions of a state machine, newest first (at most `max`).
    pub async fn list_executions(&self, state_machine_arn: &str, max: usize) -> Result<Vec<Execution>, PortError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        while out.len() < max {
            let page = self
                .client
                .list_executions()
                .state_machine_arn(state_machine_arn)
                .max_results((max - out.len()).min(1000) as i32)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(port_error)?;
            out.extend(page.executions().iter().map(|e| Execution {
                name: e.name().to_owned(),
                arn: e.execution_arn().to_owned(),
                status: e.status().as_str().to_owned(),
                start: time(Some(e.start_date())),
                stop: time(e.stop_date()),
                error: None,
                cause: None,
                redrive_count: e.redrive_count().unwrap_or(0).max(0) as u32,
            }));
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
        // Newest first, whatever order the service listed them in.
        out.sort_by(|a, b| b.start.cmp(&a.start).then_with(|| b.name.cmp(&a.name)));
        out.truncate(max);
        Ok(out)
    }

    /// DescribeExecution.
    pub async fn describe_execution(&self, execution_arn: &str) -> Result<Execution, PortError> {
        let e = self.client.describe_execution().execution_arn(execution_arn).send().await.map_err(port_error)?;
        Ok(Execution {
            name: e.name().unwrap_or_default().to_owned(),
            arn: e.execution_arn().to_owned(),
            status: e.status().as_str().to_owned(),
            start: time(Some(e.start_date())),
            stop: time(e.stop_date()),
            error: e.error().map(str::to_owned),
            cause: e.cause().map(str::to_owned),
            redrive_count: e.redrive_count().unwrap_or(0).max(0) as u32,
        })
    }
}
