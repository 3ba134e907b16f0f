//! The invalidate function: one stored set, one CreateInvalidation.
//!
//! The CallerReference is derived from the execution, the distribution and the set number, so a
//! retried or redriven set gets back the invalidation it already created instead of a second,
//! billed one (CloudFront returns the existing invalidation for the same reference and batch).
//!
//! Errors get stable names that the state machine retries or catches: `Throttled`,
//! `TooManyInvalidationsInProgress`, `CloudFrontUnavailable` and `StorageUnavailable` are worth
//! retrying; `AccessDenied`, `NoSuchDistribution`, `InvalidArgument`, `BatchMismatch` and
//! `SetUnreadable` are not.
//!
//! In `gate` mode (the state machine's redrive gate, see `statemachine/README.md`) a set fails with
//! `SetNotInvalidated`, without calling CloudFront, unless the execution has been redriven: so the
//! execution ends failed after reporting, and a console redrive re-attempts exactly these sets.

use serde::Deserialize;
use tracing::{info, warn};

use crate::execution::ExecutionName;
use crate::ports::{CloudFront, ErrorKind, Executions, Objects, PortError};
use crate::sets::{read_set, ReadSetError, SetDone, SetRef};
use crate::settings::InvalidateSettings;
use crate::{ErrorName, ErrorType};

/// One Map iteration's input.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvalidateInput {
    pub execution: ExecutionName,
    pub set: SetRef,
    #[serde(default)]
    pub gate: bool,
    /// `$$.Execution.Id`, needed by the gate to ask whether the execution was redriven.
    #[serde(default)]
    pub execution_arn: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InvalidateError {
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("distribution {distribution}, set {set}: {source}")]
    CloudFront {
        distribution: String,
        set: usize,
        #[source]
        source: PortError,
    },
    #[error("set {0} cannot be read: {1}")]
    SetUnreadable(String, String),
    #[error("plan storage unavailable: {0}")]
    StorageUnavailable(#[source] PortError),
    #[error("cannot tell whether the execution was redriven: {0}")]
    StatesUnavailable(#[source] PortError),
    #[error("distribution {distribution}, set {set} was not invalidated; redrive the execution to try again")]
    SetNotInvalidated { distribution: String, set: usize },
}

impl ErrorName for InvalidateError {
    fn error_type(&self) -> ErrorType {
        match self {
            InvalidateError::InvalidInput(_) => ErrorType::InvalidInput,
            InvalidateError::CloudFront { source, .. } => match source.kind {
                ErrorKind::Throttled => ErrorType::Throttled,
                ErrorKind::TooManyInvalidationsInProgress => ErrorType::TooManyInvalidationsInProgress,
                ErrorKind::AccessDenied => ErrorType::AccessDenied,
                ErrorKind::NotFound => ErrorType::NoSuchDistribution,
                ErrorKind::InvalidArgument => ErrorType::InvalidArgument,
                ErrorKind::BatchMismatch | ErrorKind::AlreadyExists => ErrorType::BatchMismatch,
                ErrorKind::Unavailable | ErrorKind::Other => ErrorType::CloudFrontUnavailable,
            },
            InvalidateError::SetUnreadable(..) => ErrorType::SetUnreadable,
            InvalidateError::StorageUnavailable(_) => ErrorType::StorageUnavailable,
            InvalidateError::StatesUnavailable(_) => ErrorType::StatesUnavailable,
            InvalidateError::SetNotInvalidated { .. } => ErrorType::SetNotInvalidated,
        }
    }
}

impl From<ReadSetError> for InvalidateError {
    fn from(e: ReadSetError) -> Self {
        match e {
            ReadSetError::Storage(e) => InvalidateError::StorageUnavailable(e),
            ReadSetError::Unreadable { key, why } => InvalidateError::SetUnreadable(key, why),
        }
    }
}

/// `cfinv/{execution}/{distribution}/{set}`: the same for every retry and redrive of a set, and
/// different for every set and execution.
pub fn caller_reference(execution: &str, distribution_id: &str, set: usize) -> String {
    format!("cfinv/{execution}/{distribution_id}/{set}")
}

pub struct Invalidate<O, C, E> {
    objects: O,
    cloudfront: C,
    executions: E,
    settings: InvalidateSettings,
}

impl<O: Objects, C: CloudFront, E: Executions> Invalidate<O, C, E> {
    pub fn new(objects: O, cloudfront: C, executions: E, settings: InvalidateSettings) -> Self {
        Invalidate { objects, cloudfront, executions, settings }
    }

    #[tracing::instrument(name = "invalidate", skip_all, fields(execution = %input.execution, distribution = %input.set.distribution_id, set = input.set.set))]
    pub async fn handle(&self, input: InvalidateInput) -> Result<SetDone, InvalidateError> {
        let set = &input.set;
        if input.gate {
            let arn = input
                .execution_arn
                .as_deref()
                .ok_or_else(|| InvalidateError::InvalidInput("the gate needs executionArn".into()))?;
            let redrives = self.executions.redrive_count(arn).await.map_err(InvalidateError::StatesUnavailable)?;
            if redrives == 0 {
                return Err(InvalidateError::SetNotInvalidated {
                    distribution: set.distribution_id.clone(),
                    set: set.set,
                });
            }
            info!(redrives, "redrive: invalidating a set that failed");
        }

        let s = &self.settings;
        let file = read_set(&self.objects, &s.plan_bucket, &s.plan_prefix, &input.execution, set).await?;

        let reference = caller_reference(input.execution.as_str(), &set.distribution_id, set.set);
        match self.cloudfront.create_invalidation(&set.distribution_id, &reference, &file.paths).await {
            Ok(inv) => {
                info!(
                    paths = file.paths.len(),
                    invalidation = %inv.id,
                    "invalidation created"
                );
                Ok(SetDone {
                    distribution_id: set.distribution_id.clone(),
                    set: set.set,
                    invalidation_id: inv.id,
                    status: inv.status,
                })
            }
            Err(source) => {
                let err =
                    InvalidateError::CloudFront { distribution: set.distribution_id.clone(), set: set.set, source };
                warn!(error_type = %err.error_type(), error = %err, "CreateInvalidation failed");
                Err(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::*;
    use crate::sets::{set_key, SetFile};

    fn setup(paths: &[&str]) -> (Invalidate<FakeObjects, FakeCloudFront, FakeExecutions>, InvalidateInput) {
        let key = set_key("plans/", "x-1", "E1", 1);
        let objects = FakeObjects::default();
        let file = SetFile {
            distribution_id: "E1".into(),
            set: 1,
            of: 1,
            paths: paths.iter().map(|p| p.to_string()).collect(),
        };
        objects.objects.lock().unwrap().insert(("b".into(), key.clone()), serde_json::to_string(&file).unwrap());
        let inv = Invalidate::new(
            objects,
            FakeCloudFront::default(),
            FakeExecutions::default(),
            InvalidateSettings { plan_bucket: "b".into(), plan_prefix: "plans/".into() },
        );
        let set = SetRef { distribution_id: "E1".into(), set: 1, of: 1, path_count: paths.len(), preview: vec![] };
        let execution = ExecutionName::try_from("x-1").unwrap();
        (inv, InvalidateInput { execution, set, gate: false, execution_arn: None })
    }

    #[tokio::test]
    async fn a_repeated_set_returns_the_same_invalidation() {
        let (inv, input) = setup(&["/a", "/b"]);
        let first = inv.handle(input.clone()).await.unwrap();
        let again = inv.handle(input).await.unwrap();
        assert_eq!(first.invalidation_id, again.invalidation_id);
        let created = inv.cloudfront.created.lock().unwrap();
        assert_eq!(created.len(), 1);
        assert_eq!(created[0].1, "cfinv/x-1/E1/1");
    }

    #[tokio::test]
    async fn errors_have_stable_names() {
        let (inv, input) = setup(&["/a"]);
        for (kind, name) in [
            (ErrorKind::Throttled, "Throttled"),
            (ErrorKind::TooManyInvalidationsInProgress, "TooManyInvalidationsInProgress"),
            (ErrorKind::Unavailable, "CloudFrontUnavailable"),
            (ErrorKind::AccessDenied, "AccessDenied"),
            (ErrorKind::NotFound, "NoSuchDistribution"),
            (ErrorKind::InvalidArgument, "InvalidArgument"),
            (ErrorKind::BatchMismatch, "BatchMismatch"),
        ] {
            inv.cloudfront.fail("E1", &[kind]);
            assert_eq!(inv.handle(input.clone()).await.unwrap_err().error_type(), name);
        }
        let mut missing = input.clone();
        missing.set.set = 9; // no such set stored
        assert_eq!(inv.handle(missing).await.unwrap_err().error_type(), "SetUnreadable");
    }

    #[tokio::test]
    async fn the_gate_fails_until_the_execution_is_redriven() {
        let (inv, mut input) = setup(&["/a"]);
        input.gate = true;
        assert_eq!(inv.handle(input.clone()).await.unwrap_err().error_type(), "InvalidInput");
        input.execution_arn = Some("arn:aws:states:us-east-1:1:execution:sm:x-1".into());
        assert_eq!(inv.handle(input.clone()).await.unwrap_err().error_type(), "SetNotInvalidated");
        assert_eq!(inv.handle(input.clone()).await.unwrap_err().error_type(), "SetNotInvalidated");
        assert!(inv.cloudfront.created.lock().unwrap().is_empty());
        inv.executions.redrives.store(1, std::sync::atomic::Ordering::SeqCst);
        assert!(inv.handle(input).await.is_ok(), "a redrive invalidates");
    }
}
