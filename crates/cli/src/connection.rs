//! What every command that calls AWS shares: where the account is ([`Connection`]: profile,
//! region, endpoint, declared once and flattened into each command, as cargo-lambda's
//! `RemoteConfig`), and which cfinv stack to work on ([`StackArgs`]: `--stack NAME` or
//! `CFINV_STACK`, whose CloudFormation outputs and parameters stand in for the ARNs and URLs the
//! commands would otherwise need pasted).

use cfinv_aws::cloudformation::{describe_stack, StackInfo};
use cfinv_aws::Clients;
use cfinv_pipeline::ports::PortError;
use clap::Args;

/// Where the AWS account is. Each flag left out comes from the standard configuration
/// (environment, `~/.aws/config`, SSO, a container role).
#[derive(Args, Debug, Clone, Default)]
pub struct Connection {
    /// The AWS profile to use (default: `AWS_PROFILE`, else `default`).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The AWS region (default: `AWS_REGION`, else the profile's).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// One endpoint for every service, such as the emulator's (default: `AWS_ENDPOINT_URL`).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

impl Connection {
    /// The SDK clients, built in one place.
    pub async fn clients(&self) -> Clients {
        Clients::connect(self.profile.as_deref(), self.region.as_deref(), self.endpoint_url.as_deref()).await
    }
}

/// The deployed cfinv stack.
#[derive(Args, Debug, Clone, Default)]
pub struct StackArgs {
    /// The cfinv stack's name: its outputs (StateMachineArn, EventQueueUrl, ...) and parameters
    /// (WindowSeconds, ...) stand in for the flags that name them; a flag given wins.
    #[arg(long = "stack", env = "CFINV_STACK", value_name = "NAME")]
    pub name: Option<String>,
}

/// Why a command could not learn what it needs about the stack.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("stack {name}: {source}")]
    Describe {
        name: String,
        #[source]
        source: PortError,
    },
    #[error("{flag} is required, or --stack NAME (CFINV_STACK) whose {output} output gives it")]
    Missing { flag: &'static str, output: &'static str },
    #[error("stack {stack} has no output {output}: give {flag}")]
    NoOutput { stack: String, output: &'static str, flag: &'static str },
    #[error("stack {stack} has no output {output}: is it a cfinv stack (infra/template.yaml)?")]
    NotOurs { stack: String, output: &'static str },
    #[error("stack {stack}: parameter {parameter} is {value:?}: {expected}")]
    BadParameter { stack: String, parameter: &'static str, value: String, expected: &'static str },
}

/// A stack's outputs and parameters.
#[derive(Debug, Clone, Default)]
pub struct Stack {
    pub info: StackInfo,
}

impl StackArgs {
    /// The stack's name; an empty one (`CFINV_STACK=`) names none.
    pub fn given(&self) -> Option<&str> {
        self.name.as_deref().map(str::trim).filter(|n| !n.is_empty())
    }

    /// DescribeStacks, when a stack is named.
    pub async fn describe(&self, clients: &Clients) -> Result<Option<Stack>, StackError> {
        let Some(name) = self.given() else {
            return Ok(None);
        };
        let info = describe_stack(&clients.cloudformation(), name)
            .await
            .map_err(|source| StackError::Describe { name: name.to_owned(), source })?;
        Ok(Some(Stack { info }))
    }
}

impl Stack {
    pub fn name(&self) -> &str {
        &self.info.name
    }

    pub fn output(&self, key: &str) -> Option<&str> {
        self.info.outputs.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// An output the command cannot do without.
    pub fn required_output(&self, key: &'static str) -> Result<String, StackError> {
        self.output(key)
            .map(str::to_owned)
            .ok_or_else(|| StackError::NotOurs { stack: self.name().to_owned(), output: key })
    }

    /// A parameter as deployed (`None` when the stack has no such parameter).
    pub fn parameter(&self, key: &str) -> Option<&str> {
        self.info.parameters.get(key).map(String::as_str)
    }

    /// A numeric parameter, or `None` when the stack has none by that name.
    pub fn number<T: std::str::FromStr>(&self, key: &'static str) -> Result<Option<T>, StackError> {
        match self.parameter(key) {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| StackError::BadParameter {
                stack: self.name().to_owned(),
                parameter: key,
                value: v.to_owned(),
                expected: "a whole number",
            }),
        }
    }
}

/// A value the command needs: the flag's, else the stack's output `output`.
pub fn required(
    flag_value: Option<&str>,
    stack: Option<&Stack>,
    flag: &'static str,
    output: &'static str,
) -> Result<String, StackError> {
    if let Some(v) = flag_value {
        return Ok(v.to_owned());
    }
    let stack = stack.ok_or(StackError::Missing { flag, output })?;
    stack.output(output).map(str::to_owned).ok_or_else(|| StackError::NoOutput {
        stack: stack.name().to_owned(),
        output,
        flag,
    })
}

/// The output names of `infra/template.yaml` the commands read.
pub mod outputs {
    pub const STATE_MACHINE_ARN: &str = "StateMachineArn";
    pub const EVENT_QUEUE_URL: &str = "EventQueueUrl";
    pub const DEAD_LETTER_QUEUE_URL: &str = "DeadLetterQueueUrl";
    pub const INGEST_FAILURE_QUEUE_URL: &str = "IngestFailureQueueUrl";
    pub const PLAN_BUCKET_NAME: &str = "PlanBucketName";
    pub const ERROR_BUCKET_NAME: &str = "ErrorBucketName";
    pub const CONNECTED_BUCKETS: &str = "ConnectedBuckets";
    pub const ALARM_NAMES: &str = "AlarmNames";
}

/// The parameter names of `infra/template.yaml` the commands read.
pub mod parameters {
    pub const WINDOW_SECONDS: &str = "WindowSeconds";
    pub const DEFAULT_EXCEPTION_PATHS: &str = "DefaultExceptionPaths";
    pub const MAX_SET_SIZE: &str = "MaxSetSize";
    pub const COST_POLICY: &str = "CostPolicy";
    pub const MAX_ITEMS: &str = "MaxItems";
    pub const ALLOW_BROAD_WILDCARDS: &str = "AllowBroadWildcards";
    pub const CACHE_TAGS: &str = "CacheTags";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack() -> Stack {
        Stack {
            info: StackInfo {
                name: "cfinv".into(),
                outputs: [("StateMachineArn".to_owned(), "arn:sm".to_owned())].into(),
                parameters: [("WindowSeconds".to_owned(), "12".to_owned()), ("MaxItems".to_owned(), "x".to_owned())]
                    .into(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn a_flag_wins_then_the_stack_then_an_error_naming_both() {
        let s = stack();
        assert_eq!(required(Some("arn:flag"), Some(&s), "--state-machine-arn", "StateMachineArn").unwrap(), "arn:flag");
        assert_eq!(required(None, Some(&s), "--state-machine-arn", "StateMachineArn").unwrap(), "arn:sm");
        let e = required(None, None, "--queue-url", "EventQueueUrl").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--queue-url is required, or --stack NAME (CFINV_STACK) whose EventQueueUrl output gives it"
        );
        let e = required(None, Some(&s), "--queue-url", "EventQueueUrl").unwrap_err();
        assert_eq!(e.to_string(), "stack cfinv has no output EventQueueUrl: give --queue-url");
    }

    #[test]
    fn an_empty_stack_name_names_no_stack() {
        assert_eq!(StackArgs { name: Some(String::new()) }.given(), None);
        assert_eq!(StackArgs { name: Some(" ".into()) }.given(), None);
        assert_eq!(StackArgs { name: Some("cfinv".into()) }.given(), Some("cfinv"));
    }

    #[test]
    fn parameters_are_read_as_deployed() {
        let s = stack();
        assert_eq!(s.number::<u32>("WindowSeconds").unwrap(), Some(12));
        assert_eq!(s.number::<u32>("Nope").unwrap(), None);
        assert!(s.number::<u32>("MaxItems").unwrap_err().to_string().contains("parameter MaxItems is \"x\""));
        assert_eq!(
            s.required_output("PlanBucketName").unwrap_err().to_string(),
            "stack cfinv has no output PlanBucketName: is it a cfinv stack (infra/template.yaml)?"
        );
    }
}
