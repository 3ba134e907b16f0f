//! # cfinv-aws: the pipeline's ports, implemented with the AWS SDK
//!
//! Everything the Lambdas share lives here, once: the SDK clients ([`Clients`], built from the
//! environment, `AWS_ENDPOINT_URL` included, so the same binaries run against the emulator),
//! logging as Lambda's logging controls ask ([`init_tracing`]), the Lambda loop that turns handler errors into `Diagnostic`s
//! with stable `errorType`s ([`run`]), and one small adapter per service.

#[cfg(feature = "operator")]
pub mod cloudformation;
pub mod cloudfront;
#[cfg(feature = "operator")]
pub mod cloudwatch;
pub mod connect;
pub mod errors;
pub mod events;
pub mod s3;
pub mod sfn;
pub mod sns;
pub mod sqs;

use std::fmt::Display;
use std::future::Future;

use cfinv_pipeline::{ErrorName, ErrorType};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub use cloudfront::CloudFrontClient;
pub use events::EventsClient;
pub use s3::S3Client;
pub use sfn::SfnClient;
pub use sns::SnsClient;
pub use sqs::SqsQueue;

/// The SDK clients of one process, built once in `main` and shared by every invocation.
#[derive(Clone)]
pub struct Clients {
    pub config: aws_config::SdkConfig,
    /// Path-style S3 addressing: an emulator has no per-bucket host names.
    pub s3_path_style: bool,
}

impl Clients {
    /// Loads region, credentials and endpoint the standard way (environment, profile, container
    /// role). With `AWS_ENDPOINT_URL` set, every client talks to that endpoint (the emulator).
    pub async fn from_env() -> Self {
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let s3_path_style =
            std::env::var_os("AWS_ENDPOINT_URL").is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        Clients { config, s3_path_style }
    }

    /// The operator's connection (the CLI's `--profile`, `--region`, `--endpoint-url`): each given
    /// value wins over the standard configuration, which supplies the rest (credentials included).
    pub async fn connect(profile: Option<&str>, region: Option<&str>, endpoint: Option<&str>) -> Self {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(profile) = profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = region {
            loader = loader.region(aws_config::Region::new(region.to_owned()));
        }
        if let Some(endpoint) = endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let config = loader.load().await;
        let s3_path_style = endpoint.is_some()
            || std::env::var_os("AWS_ENDPOINT_URL").is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        Clients { config, s3_path_style }
    }

    /// Clients for an emulator at `endpoint`, with fixed test credentials (tests and local runs).
    pub async fn for_endpoint(endpoint: &str, region: &str) -> Self {
        let credentials = aws_sdk_sqs::config::Credentials::new("cfinv", "cfinv", None, None, "cfinv-local");
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new(region.to_owned()))
            .credentials_provider(credentials)
            .load()
            .await;
        Clients { config, s3_path_style: true }
    }

    pub fn sqs(&self, queue_url: impl Into<String>) -> SqsQueue {
        SqsQueue::new(aws_sdk_sqs::Client::new(&self.config), queue_url.into())
    }

    pub fn s3(&self) -> S3Client {
        S3Client::new(self.s3_sdk())
    }

    /// The plain S3 SDK client (for what is not a port, such as connecting buckets).
    pub fn s3_sdk(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.config).force_path_style(self.s3_path_style).build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub fn cloudfront(&self) -> CloudFrontClient {
        CloudFrontClient::new(aws_sdk_cloudfront::Client::new(&self.config))
    }

    pub fn sfn(&self) -> SfnClient {
        SfnClient::new(aws_sdk_sfn::Client::new(&self.config))
    }

    pub fn events(&self) -> EventsClient {
        EventsClient::new(aws_sdk_eventbridge::Client::new(&self.config))
    }

    pub fn sns(&self) -> SnsClient {
        SnsClient::new(aws_sdk_sns::Client::new(&self.config))
    }

    #[cfg(feature = "operator")]
    pub fn cloudformation(&self) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.config)
    }

    #[cfg(feature = "operator")]
    pub fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.config)
    }

    /// The region the clients talk to, if one is configured.
    pub fn region(&self) -> Option<&str> {
        self.config.region().map(|r| r.as_ref())
    }
}

/// Logs as Lambda's advanced logging controls ask, as `lambda_runtime`'s own subscriber reads them
/// (`lambda_runtime::tracing::init_default_subscriber`), with two differences: the function's
/// `AWS_LAMBDA_LOG_LEVEL` wins over `RUST_LOG` as documented (the runtime's lets `RUST_LOG`
/// directives override it), and the AWS SDK's own chatter is kept at `warn`.
///
/// - level: `AWS_LAMBDA_LOG_LEVEL` (the function's `LoggingConfig.ApplicationLogLevel`), else
///   `RUST_LOG` (which may hold per-module directives), else `info`;
/// - format: JSON objects, one per line, when `AWS_LAMBDA_LOG_FORMAT` is `JSON` (the template sets
///   `LoggingConfig.LogFormat: JSON`), plain text otherwise (local runs). Each JSON line carries
///   the spans it was logged in: the runtime's, with the Lambda `requestId`, and the handler's,
///   with the execution name.
pub fn init_tracing() {
    let quiet = "aws_config=warn,aws_smithy_runtime=warn,aws_smithy_runtime_api=warn,hyper=warn";
    let directives = match std::env::var("AWS_LAMBDA_LOG_LEVEL") {
        Ok(level) if !level.trim().is_empty() => format!("{},{quiet}", lambda_level(&level)),
        _ => std::env::var("RUST_LOG").unwrap_or_else(|_| format!("info,{quiet}")),
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("info,{quiet}")));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_target(false).with_env_filter(filter);
    let _ = if json {
        builder.json().flatten_event(true).with_current_span(false).with_span_list(true).try_init()
    } else {
        builder.without_time().try_init()
    };
}

/// Lambda's log levels (`TRACE` ... `FATAL`) as tracing's; `FATAL` is `error`, the most severe.
fn lambda_level(level: &str) -> &'static str {
    match level.trim().to_ascii_uppercase().as_str() {
        "TRACE" => "trace",
        "DEBUG" => "debug",
        "WARN" => "warn",
        "ERROR" | "FATAL" => "error",
        _ => "info",
    }
}

/// A handler's error as Lambda reports it: `errorType` is the stable name the state machine
/// matches, `errorMessage` says what happened.
#[derive(Debug)]
pub struct LambdaError {
    pub error_type: ErrorType,
    pub message: String,
}

impl LambdaError {
    pub fn from_handler<E: ErrorName + Display>(e: &E) -> Self {
        LambdaError { error_type: e.error_type(), message: e.to_string() }
    }
}

impl From<LambdaError> for Diagnostic {
    fn from(e: LambdaError) -> Self {
        Diagnostic { error_type: e.error_type.as_str().to_owned(), error_message: e.message }
    }
}

/// The metrics recorder of the process: CloudWatch Embedded Metric Format documents, namespace
/// [`cfinv_pipeline::metrics::NAMESPACE`], dimension `Stack` (`CFINV_STACK`, the stack's name),
/// written to stdout (the function's log, where CloudWatch extracts them) after each invocation.
fn metrics() -> Option<&'static metrics_cloudwatch_embedded::Collector> {
    static COLLECTOR: std::sync::OnceLock<Option<&'static metrics_cloudwatch_embedded::Collector>> =
        std::sync::OnceLock::new();
    *COLLECTOR.get_or_init(|| {
        let stack = std::env::var("CFINV_STACK").unwrap_or_else(|_| "cfinv".to_owned());
        let collector = metrics_cloudwatch_embedded::Builder::new()
            .cloudwatch_namespace(cfinv_pipeline::metrics::NAMESPACE)
            .with_dimension("Stack", stack)
            .init();
        match collector {
            Ok(c) => {
                cfinv_pipeline::metrics::describe();
                Some(c)
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics recorder not installed; no metrics from this process");
                None
            }
        }
    })
}

/// Runs a handler in the Lambda loop: the payload is deserialised into its input (a payload that
/// does not fit fails with `InvalidInput`), the handler gets it and the invocation's request id,
/// its error becomes a [`LambdaError`], and the metrics it recorded are written after it.
pub async fn run<I, O, E, F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    I: DeserializeOwned,
    O: Serialize,
    E: ErrorName + Display,
    F: Fn(I, String) -> Fut,
    Fut: Future<Output = Result<O, E>>,
{
    let handler = &handler;
    let collector = metrics();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let input: I = serde_json::from_value(event.payload).map_err(|e| LambdaError {
            error_type: ErrorType::InvalidInput,
            message: format!("the payload does not fit this function: {e}"),
        })?;
        let answer = handler(input, event.context.request_id).await;
        if let Some(c) = collector {
            if let Err(e) = c.flush(std::io::stdout()) {
                tracing::warn!(error = %e, "cannot write the metrics");
            }
        }
        match answer {
            Ok(output) => serde_json::to_value(output)
                .map_err(|e| LambdaError { error_type: ErrorType::InternalError, message: e.to_string() }),
            Err(e) => {
                tracing::error!(error_type = %e.error_type(), error = %e, "invocation failed");
                Err(LambdaError::from_handler(&e))
            }
        }
    }))
    .await
}

/// Reads a function's settings, logging and returning the one clear error when a variable is
/// missing or wrong (the function then fails its init, and the log says which variable).
pub fn settings<T>(
    read: impl FnOnce() -> Result<T, cfinv_pipeline::settings::ConfigError>,
) -> Result<T, lambda_runtime::Error> {
    read().map_err(|e| {
        tracing::error!(error_type = %ErrorType::Misconfigured, error = %e, "invalid configuration");
        lambda_runtime::Error::from(e.to_string())
    })
}
