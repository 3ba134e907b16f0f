//! SDK errors, reduced to the kinds the handlers decide on.
//!
//! Services spell the same condition differently (`Throttling`, `ThrottlingException`,
//! `SlowDown`...), so the classification goes by error code, then by HTTP status, and a request
//! that never got an answer (timeout, connection) is `Unavailable`.

// Every service crate re-exports the same smithy error types; any one will do.
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use cfinv_pipeline::ports::{ErrorKind, PortError};

/// The kind of an error code (as AWS services return them).
pub fn kind_of_code(code: &str) -> Option<ErrorKind> {
    use ErrorKind::*;
    Some(match code {
        "Throttling"
        | "ThrottlingException"
        | "ThrottledException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "RequestThrottled"
        | "RequestThrottledException"
        | "SlowDown"
        | "ProvisionedThroughputExceededException" => Throttled,
        "TooManyInvalidationsInProgress" => TooManyInvalidationsInProgress,
        "AccessDenied"
        | "AccessDeniedException"
        | "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "AuthorizationError"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "KMS.AccessDeniedException" => AccessDenied,
        "NoSuchDistribution"
        | "EntityNotFound"
        | "NoSuchInvalidation"
        | "NoSuchCachePolicy"
        | "NoSuchKey"
        | "NoSuchBucket"
        | "NoSuchTagSet"
        | "NoSuchTagSetError"
        | "NotFound"
        | "ResourceNotFoundException"
        | "StateMachineDoesNotExist"
        | "QueueDoesNotExist"
        | "AWS.SimpleQueueService.NonExistentQueue"
        | "NotFoundException" => NotFound,
        "InvalidArgument"
        | "InvalidParameterValue"
        | "InvalidParameter"
        | "ValidationException"
        | "ValidationError"
        | "InconsistentQuantities"
        | "BatchTooLarge"
        | "MissingBody"
        | "InvalidInput"
        | "InvalidName"
        | "InvalidExecutionInput"
        | "InvalidArn" => InvalidArgument,
        "ExecutionAlreadyExists" => AlreadyExists,
        "InvalidationBatchAlreadyExists" => BatchMismatch,
        "ServiceUnavailable"
        | "InternalError"
        | "InternalFailure"
        | "InternalServerError"
        | "ServiceFailure"
        | "RequestTimeout"
        | "RequestTimeoutException" => Unavailable,
        _ => return None,
    })
}

/// Classifies any SDK error.
pub fn port_error<E>(err: SdkError<E>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().map(str::to_owned);
    let message = match (err.code(), err.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_owned(),
        _ => one_line(&err),
    };
    let kind = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => ErrorKind::Unavailable,
        SdkError::ResponseError(_) => ErrorKind::Unavailable,
        _ => match (code.as_deref().and_then(kind_of_code), status) {
            (Some(kind), _) => kind,
            (None, Some(500..=599)) => ErrorKind::Unavailable,
            (None, Some(403)) => ErrorKind::AccessDenied,
            (None, Some(404)) => ErrorKind::NotFound,
            (None, _) => ErrorKind::Other,
        },
    };
    PortError::new(kind, message).with_code(code)
}

/// An error and its causes on one line, `error: cause: cause...`, for a message a person reads.
/// Like smithy's `DisplayErrorContext` without the `Debug` dump it appends (a screenful of
/// `DispatchFailure { source: ConnectorError { ... } }`); a cause whose words its error already
/// says is left out.
pub fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() && !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        next = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sqs::operation::send_message::SendMessageError;

    #[test]
    fn an_error_without_an_answer_is_one_line_without_a_debug_dump() {
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "tcp connect error:\nConnection refused");
        let err: SdkError<SendMessageError> = SdkError::timeout_error(refused);
        let e = port_error(err);
        assert_eq!(e.kind, ErrorKind::Unavailable);
        assert!(!e.message.contains('\n'), "one line: {}", e.message);
        assert!(!e.message.contains("TimeoutError") && !e.message.contains('{'), "no Debug dump: {}", e.message);
        assert!(e.message.ends_with(": tcp connect error: Connection refused"), "the cause: {}", e.message);
    }

    #[test]
    fn a_cause_already_said_is_left_out() {
        #[derive(Debug, thiserror::Error)]
        #[error("dispatch failure: {0}")]
        struct Outer(#[source] Inner);
        #[derive(Debug, thiserror::Error)]
        #[error("connection refused")]
        struct Inner;
        assert_eq!(one_line(&Outer(Inner)), "dispatch failure: connection refused");
    }

    #[test]
    fn codes() {
        assert_eq!(kind_of_code("Throttling"), Some(ErrorKind::Throttled));
        assert_eq!(kind_of_code("TooManyInvalidationsInProgress"), Some(ErrorKind::TooManyInvalidationsInProgress));
        assert_eq!(kind_of_code("AccessDenied"), Some(ErrorKind::AccessDenied));
        assert_eq!(kind_of_code("NoSuchDistribution"), Some(ErrorKind::NotFound));
        assert_eq!(kind_of_code("ExecutionAlreadyExists"), Some(ErrorKind::AlreadyExists));
        assert_eq!(kind_of_code("InvalidationBatchAlreadyExists"), Some(ErrorKind::BatchMismatch));
        assert_eq!(kind_of_code("Whatever"), None);
    }
}
