//! CloudFormation: a stack's outputs and parameters, so that the operator commands find the
//! stack's queues, buckets and state machine by the stack's name (`cfinv status --stack NAME`)
//! instead of ARNs and URLs pasted from the console.

use std::collections::BTreeMap;

use cfinv_pipeline::ports::PortError;

use crate::errors::port_error;

/// What DescribeStacks says of one stack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackInfo {
    pub name: String,
    /// `CREATE_COMPLETE`, `UPDATE_IN_PROGRESS`...
    pub status: String,
    /// Output key to value.
    pub outputs: BTreeMap<String, String>,
    /// Parameter key to value (as deployed; `NoEcho` ones are masked by CloudFormation).
    pub parameters: BTreeMap<String, String>,
}

/// DescribeStacks for one stack, by name or id. A stack that does not exist is CloudFormation's
/// `ValidationError` (an `InvalidArgument` here).
pub async fn describe_stack(client: &aws_sdk_cloudformation::Client, name: &str) -> Result<StackInfo, PortError> {
    let out = client.describe_stacks().stack_name(name).send().await.map_err(port_error)?;
    let Some(stack) = out.stacks().first() else {
        return Err(PortError::new(cfinv_pipeline::ports::ErrorKind::NotFound, format!("no stack {name}")));
    };
    Ok(StackInfo {
        name: stack.stack_name().unwrap_or(name).to_owned(),
        status: stack.stack_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        outputs: stack
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value().unwrap_or_default().to_owned())))
            .collect(),
        parameters: stack
            .parameters()
            .iter()
            .filter_map(|p| Some((p.parameter_key()?.to_owned(), p.parameter_value().unwrap_or_default().to_owned())))
            .collect(),
    })
}

/// The physical ids (names, for alarms) of the stack's resources of one type
/// (`AWS::CloudWatch::Alarm`), from DescribeStackResources.
pub async fn stack_resources(
    client: &aws_sdk_cloudformation::Client,
    name: &str,
    resource_type: &str,
) -> Result<Vec<String>, PortError> {
    let out = client.describe_stack_resources().stack_name(name).send().await.map_err(port_error)?;
    Ok(out
        .stack_resources()
        .iter()
        .filter(|r| r.resource_type() == Some(resource_type))
        .filter_map(|r| r.physical_resource_id().map(str::to_owned))
        .collect())
}
