//! The error names the functions fail with: the contract between the handlers and the state machine.
//!
//! A Lambda function's `errorType` is what Step Functions matches in `Retry` and `Catch`
//! (`ErrorEquals`). A name spelt differently in a handler and in `statemachine/cfinv.asl.json`
//! silently turns a retry off, so every name is spelt exactly once: as a variant of [`ErrorType`].
//! Handlers map their errors into it ([`crate::ErrorName`]), the Lambda loop turns it into the
//! `Diagnostic`'s `errorType`, and the tests in [`crate::statemachine`] fail when the definition or
//! the table in `statemachine/README.md` names an error that is not here, or when a name the table
//! calls retried has no `Retry`.

use strum::{EnumIter, IntoEnumIterator, IntoStaticStr};

/// Every `errorType` a cfinv function can fail with. The variant's name is the wire name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, IntoStaticStr, EnumIter)]
pub enum ErrorType {
    /// CloudFront (or another service) refused the rate: retried with backoff.
    Throttled,
    /// CloudFront's in-progress limits for a distribution (3000 paths, 15 wildcards).
    TooManyInvalidationsInProgress,
    /// CloudFront answered 5xx, or not at all.
    CloudFrontUnavailable,
    /// S3 (plans, sets, error files) answered 5xx, or not at all.
    StorageUnavailable,
    /// SQS could not be read.
    QueueUnavailable,
    /// Step Functions could not be asked (the redrive gate).
    StatesUnavailable,
    /// SNS refused the alert.
    AlertFailed,
    /// EventBridge refused cfinv's event (`Invalidation Completed`, `Invalidation Failed`).
    EventsUnavailable,
    /// A permission is missing: not retried, reported.
    AccessDenied,
    /// The distribution no longer exists: not retried, reported.
    NoSuchDistribution,
    /// CloudFront refused the batch's contents.
    InvalidArgument,
    /// The CallerReference was used before for another batch.
    BatchMismatch,
    /// A stored set is missing or corrupt.
    SetUnreadable,
    /// A stored page of the run, or its record, is missing or corrupt.
    PlanUnreadable,
    /// A payload that does not fit the function.
    InvalidInput,
    /// An S3 event ingest cannot read.
    MalformedEvent,
    /// Ingest could not queue every event.
    QueueFailed,
    /// Ingest could not start the window's execution.
    StartFailed,
    /// A function's settings are missing or out of range (fails its start).
    Misconfigured,
    /// The redrive gate's first run: the execution ends failed, so that a redrive retries the set.
    SetNotInvalidated,
    /// A bug: the function could not serialise its own output.
    InternalError,
}

impl ErrorType {
    /// The name Step Functions matches (`errorType`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Every name, in declaration order.
    pub fn all() -> impl Iterator<Item = ErrorType> {
        ErrorType::iter()
    }

    /// The error type with this wire name, if there is one.
    pub fn from_name(name: &str) -> Option<ErrorType> {
        ErrorType::all().find(|e| e.as_str() == name)
    }
}

impl std::fmt::Display for ErrorType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with a wire name, so a test reads `assert_eq!(err.error_type(), "Throttled")`.
impl PartialEq<&str> for ErrorType {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_variants() {
        assert_eq!(ErrorType::TooManyInvalidationsInProgress.as_str(), "TooManyInvalidationsInProgress");
        assert_eq!(ErrorType::from_name("Throttled"), Some(ErrorType::Throttled));
        assert_eq!(ErrorType::from_name("Throttling"), None);
        assert_eq!(ErrorType::all().count(), 21);
    }
}
