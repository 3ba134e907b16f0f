//! The AWS operations the handlers need, as small traits. `cfinv-aws` implements them with the SDK;
//! the tests implement them in memory. Every method says exactly what it needs and nothing more.

use std::future::Future;

use cfinv_core::{CachePolicy, Distribution, DistributionTenant};

/// What went wrong in a call to AWS, reduced to what the handlers decide on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Rate exceeded: try again later.
    Throttled,
    /// CloudFront: too many invalidations (or wildcard paths) in progress for this distribution.
    TooManyInvalidationsInProgress,
    /// A service or network error that may pass.
    Unavailable,
    AccessDenied,
    NotFound,
    InvalidArgument,
    /// StartExecution: an execution with this name exists (closed, or with another input).
    AlreadyExists,
    /// CreateInvalidation: this CallerReference was used for a different batch.
    BatchMismatch,
    Other,
}

/// An AWS call's failure: its kind, the service's error code when it gave one (`NoSuchTagSet`,
/// `Throttling`...; the code is the service's contract, its message is not), and its message (for
/// logs and error causes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PortError {
    pub kind: ErrorKind,
    pub code: Option<String>,
    pub message: String,
}

impl PortError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        PortError { kind, code: None, message: message.into() }
    }

    /// The same error, with the service's error code.
    pub fn with_code(mut self, code: Option<String>) -> Self {
        self.code = code;
        self
    }

    /// True when the service answered with this error code.
    pub fn is_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// What the service said, without its error code in front (the adapters write
    /// `Code: message`): for reports that name the error apart.
    pub fn detail(&self) -> &str {
        self.code
            .as_deref()
            .and_then(|c| self.message.strip_prefix(c))
            .and_then(|m| m.strip_prefix(": "))
            .unwrap_or(&self.message)
    }
}

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// Unique within a batch; failures are reported by it.
    pub id: String,
    pub body: String,
}

/// One message received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    /// How many times it has been received, this time included.
    pub receive_count: u32,
}

/// A message to delete: the id is only for reporting failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete {
    pub id: String,
    pub receipt_handle: String,
}

/// An SQS queue.
pub trait Queue: Send + Sync {
    /// SendMessageBatch (at most 10). Returns the ids of the entries that failed.
    fn send_batch(&self, messages: &[OutgoingMessage]) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
    /// ReceiveMessage: at most `max` (1-10), long polling for `wait_seconds`, hidden from other
    /// receivers for `visibility_timeout` seconds.
    fn receive(
        &self,
        max: u32,
        wait_seconds: u32,
        visibility_timeout: u32,
    ) -> impl Future<Output = Result<Vec<ReceivedMessage>, PortError>> + Send;
    /// DeleteMessageBatch (at most 10). Returns the ids of the entries that failed.
    fn delete_batch(&self, messages: &[Delete]) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
    /// ChangeMessageVisibilityBatch to 0 (at most 10): received messages become visible again at
    /// once, for the next receiver. Returns the ids of the entries that failed.
    fn release_batch(&self, messages: &[Delete]) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
    /// GetQueueAttributes: how many messages are visible, and how many are in flight (received,
    /// not yet deleted or visible again). Both approximate, as SQS says.
    fn depth(&self) -> impl Future<Output = Result<QueueDepth, PortError>> + Send;
}

/// How many messages a queue holds (GetQueueAttributes; approximate, as SQS counts them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueDepth {
    /// `ApproximateNumberOfMessages`: waiting to be received.
    pub visible: u64,
    /// `ApproximateNumberOfMessagesNotVisible`: received, not yet deleted (a run holds them).
    pub in_flight: u64,
}

/// Step Functions executions.
pub trait Executions: Send + Sync {
    /// DescribeExecution's status: whether the execution is still running.
    fn is_running(&self, execution_arn: &str) -> impl Future<Output = Result<bool, PortError>> + Send;
    /// ListExecutions with status RUNNING: their names.
    fn running(&self, state_machine_arn: &str) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
    /// StartExecution. Succeeds when it starts the execution or finds it running with the same
    /// input; `AlreadyExists` when an execution with this name has closed or has another input.
    fn start(
        &self,
        state_machine_arn: &str,
        name: &str,
        input: &str,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// DescribeExecution's `redriveCount`: 0 until the execution is redriven.
    fn redrive_count(&self, execution_arn: &str) -> impl Future<Output = Result<u32, PortError>> + Send;
    /// How many events the execution's history holds (GetExecutionHistory, newest first, one
    /// event: its id is the count). Step Functions fails an execution at 25,000.
    fn history_events(&self, execution_arn: &str) -> impl Future<Output = Result<u64, PortError>> + Send;
}

/// S3 bucket settings: tags (ingest's `exceptionPaths`), website configuration (collect).
pub trait Buckets: Send + Sync {
    /// The value of one tag, `None` when the bucket has no such tag (or no tags at all).
    fn tag(&self, bucket: &str, key: &str) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
    /// GetBucketWebsite's `IndexDocument.Suffix`; `None` when the bucket has no website
    /// configuration.
    fn index_document(&self, bucket: &str) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
}

/// S3 objects (plans, sets, error files).
pub trait Objects: Send + Sync {
    fn put(
        &self,
        bucket: &str,
        key: &str,
        body: String,
        content_type: &str,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// PutObject with `If-None-Match: *`: writes only a key that does not exist yet. `false` when
    /// it exists (S3 answers 412 PreconditionFailed, or 409 ConditionalRequestConflict while
    /// another write of it is in flight).
    fn put_new(
        &self,
        bucket: &str,
        key: &str,
        body: String,
        content_type: &str,
    ) -> impl Future<Output = Result<bool, PortError>> + Send;
    /// `None` when there is no such key.
    fn get(&self, bucket: &str, key: &str) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
    /// ListObjectsV2: every key under `prefix`, in key order.
    fn list(&self, bucket: &str, prefix: &str) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
    /// HeadObject's `Metadata`: the object's user metadata (keys lower case, without
    /// `x-amz-meta-`); `None` when there is no such key (removed since its event). Needs
    /// `s3:GetObject` on the object.
    fn metadata(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<std::collections::BTreeMap<String, String>>, PortError>> + Send;
}

/// Every distribution of the account, as far as it could be read.
#[derive(Debug, Clone, Default)]
pub struct Listed {
    pub distributions: Vec<Distribution>,
    /// One message per distribution that could not be converted (skipped, with a warning).
    pub skipped: Vec<String>,
}

/// What a distribution's summary does not hold (GetDistributionConfig).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DistributionDetails {
    /// `DefaultRootObject`, when set.
    pub default_root_object: Option<String>,
    /// `CacheTagConfig.HeaderName`, when set.
    pub cache_tag_header: Option<String>,
    /// `TenantConfig.ParameterDefinitions`: each parameter's default value, by name.
    pub parameter_defaults: std::collections::BTreeMap<String, String>,
}

/// An invalidation CloudFront accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalidation {
    pub id: String,
    /// `InProgress` or `Completed`.
    pub status: String,
}

/// One invalidation of a distribution, as GetInvalidation returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidationDetails {
    pub id: String,
    /// `InProgress` or `Completed`.
    pub status: String,
    pub caller_reference: String,
    pub paths: Vec<String>,
}

impl InvalidationDetails {
    pub fn completed(&self) -> bool {
        self.status == "Completed"
    }
}

/// CloudFront.
///
/// The invalidation methods take a **target**: a distribution id (ListInvalidations,
/// GetInvalidation, CreateInvalidation), or a distribution tenant's target key
/// `{distribution id}_{tenant id}` ([`cfinv_core::Target`]), for which the adapter calls
/// ListInvalidationsForDistributionTenant, GetInvalidationForDistributionTenant and
/// CreateInvalidationForDistributionTenant. The run's layout, CallerReferences and error files
/// carry the key as it is.
pub trait CloudFront: Send + Sync {
    /// ListDistributions, every page.
    fn list_distributions(&self) -> impl Future<Output = Result<Listed, PortError>> + Send;
    /// ListTagsForResource on a distribution (by ARN).
    fn distribution_tags(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<std::collections::BTreeMap<String, String>, PortError>> + Send;
    /// GetDistributionConfig: what ListDistributions' summaries leave out.
    fn distribution_details(&self, id: &str) -> impl Future<Output = Result<DistributionDetails, PortError>> + Send;
    /// ListDistributionTenants of one multi-tenant distribution (every page), each with its
    /// `Parameters` (GetDistributionTenant: the summaries leave them out).
    fn distribution_tenants(
        &self,
        distribution_id: &str,
    ) -> impl Future<Output = Result<Vec<DistributionTenant>, PortError>> + Send;
    /// GetCachePolicy; `None` when there is no such policy.
    fn cache_policy(&self, id: &str) -> impl Future<Output = Result<Option<CachePolicy>, PortError>> + Send;
    /// ListInvalidations (or ListInvalidationsForDistributionTenant): the ids of the target's
    /// invalidations that are `InProgress` (CloudFront lists newest first; pages are read while
    /// they hold any in progress).
    fn invalidations_in_progress(&self, target: &str) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
    /// GetInvalidation (or GetInvalidationForDistributionTenant).
    fn get_invalidation(
        &self,
        target: &str,
        id: &str,
    ) -> impl Future<Output = Result<InvalidationDetails, PortError>> + Send;
    /// CreateInvalidation (or CreateInvalidationForDistributionTenant).
    fn create_invalidation(
        &self,
        target: &str,
        caller_reference: &str,
        paths: &[String],
    ) -> impl Future<Output = Result<Invalidation, PortError>> + Send;
}

/// The account's default EventBridge bus, where cfinv says what it did (source `cfinv`).
pub trait Events: Send + Sync {
    /// PutEvents with one entry: `detail_type` (`Invalidation Completed`...) and a JSON object.
    fn put(&self, detail_type: &str, detail: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// SNS.
pub trait Alerts: Send + Sync {
    fn publish(&self, topic_arn: &str, subject: &str, body: &str)
        -> impl Future<Output = Result<(), PortError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_is_the_message_without_its_code() {
        let e = PortError::new(ErrorKind::AccessDenied, "AccessDenied: User is not authorized")
            .with_code(Some("AccessDenied".into()));
        assert_eq!(e.detail(), "User is not authorized");
        assert_eq!(PortError::new(ErrorKind::Other, "no code here").detail(), "no code here");
    }
}
