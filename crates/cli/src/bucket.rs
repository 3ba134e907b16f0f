//! `cfinv connect-bucket` / `cfinv disconnect-bucket`: route a bucket's object changes to the ingest
//! function without dropping the notifications it already has (see `cfinv_aws::connect`). Uses the
//! standard AWS configuration, or the `--profile`, `--region` and `--endpoint-url` flags.

use cfinv_aws::connect::{self, Route};
use clap::{Args, ValueEnum};

use crate::connection::Connection;

/// How the bucket's changes reach ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Via {
    /// Turn on the bucket's EventBridge delivery; the stack's rule forwards the buckets it names
    /// (its `Buckets` parameter). What `make deploy` sets up.
    Eventbridge,
    /// A direct S3 notification to `--function-arn`; the function needs a Lambda permission for the
    /// bucket (see the README).
    Notification,
}

#[derive(Args, Debug)]
pub struct ConnectArgs {
    /// The bucket whose object creations and removals cfinv should invalidate.
    #[arg(long)]
    bucket: String,
    /// How changes reach ingest.
    #[arg(long, value_enum, default_value_t = Via::Eventbridge)]
    via: Via,
    /// ARN of the ingest function, for `--via notification` (the stack's `IngestFunctionArn` output).
    #[arg(long, env = "CFINV_INGEST_FUNCTION_ARN", required_if_eq("via", "notification"))]
    function_arn: Option<String>,
    /// Also set the bucket's `exceptionPaths` tag (comma-separated key prefixes).
    #[arg(long)]
    exception_paths: Option<String>,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Args, Debug)]
pub struct DisconnectArgs {
    /// The bucket to disconnect.
    #[arg(long)]
    bucket: String,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, thiserror::Error)]
#[error("{bucket}: {source}")]
pub struct BucketError {
    bucket: String,
    #[source]
    source: cfinv_pipeline::ports::PortError,
}

/// A single-threaded runtime for the commands that call AWS.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| {
        eprintln!("cfinv: cannot start the async runtime: {e}");
        std::process::exit(1)
    })
}

pub fn connect_bucket(args: &ConnectArgs) -> Result<(), BucketError> {
    let route = match (args.via, args.function_arn.as_deref()) {
        (Via::Notification, Some(function_arn)) => Route::Notification { function_arn },
        // clap requires --function-arn with --via notification; EventBridge needs none.
        _ => Route::EventBridge,
    };
    runtime().block_on(async {
        let s3 = args.connection.clients().await.s3_sdk();
        let out = connect::connect(&s3, &args.bucket, route, args.exception_paths.as_deref())
            .await
            .map_err(|source| BucketError { bucket: args.bucket.clone(), source })?;
        let tag = args.exception_paths.as_deref().map(|p| format!("; exceptionPaths = {p}")).unwrap_or_default();
        match route {
            Route::EventBridge => {
                say!(
                    "{}: object changes now go to EventBridge ({}; {} notification(s) kept{}){tag}",
                    args.bucket,
                    if out.eventbridge_was_on { "it was already on" } else { "turned on" },
                    out.kept,
                    if out.replaced { "; cfinv's direct notification removed" } else { "" },
                );
                say!(
                    "{}: a deployed stack ingests them if its Buckets parameter names this bucket (make deploy); \
                     make local-up's stack ingests every bucket",
                    args.bucket
                );
            }
            Route::Notification { function_arn } => {
                say!(
                    "{}: object creations and removals now go to {function_arn} ({}; {} other notification(s) kept){tag}",
                    args.bucket,
                    if out.replaced { "replaced cfinv's earlier entry" } else { "added" },
                    out.kept,
                );
                if out.eventbridge_was_on {
                    say!(
                        "{}: EventBridge delivery is on too; as the stack's Buckets parameter names this bucket \
                         (so that ingest may read its tags), its changes are ingested twice (harmless, but twice \
                         the work): turn EventBridge delivery off if nothing else uses it",
                        args.bucket
                    );
                }
            }
        }
        Ok(())
    })
}

pub fn disconnect_bucket(args: &DisconnectArgs) -> Result<(), BucketError> {
    runtime().block_on(async {
        let s3 = args.connection.clients().await.s3_sdk();
        let out = connect::disconnect(&s3, &args.bucket)
            .await
            .map_err(|source| BucketError { bucket: args.bucket.clone(), source })?;
        if out.replaced {
            say!("{}: cfinv's notification removed ({} other notification(s) kept)", args.bucket, out.kept);
        }
        if out.eventbridge_was_on {
            say!(
                "{}: EventBridge delivery left on (other rules may use it); remove the bucket from the \
                 stack's Buckets parameter and run make deploy to stop ingesting it",
                args.bucket
            );
        } else if !out.replaced {
            say!("{}: was not connected; nothing changed", args.bucket);
        }
        Ok(())
    })
}
