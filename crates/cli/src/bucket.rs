//! `cfinv connect-bucket` / `cfinv disconnect-bucket`: point a bucket's notifications at the ingest
//! function without dropping the notifications it already has (see `cfinv_aws::connect`). Uses the
//! standard AWS configuration (profile, region, credentials; `AWS_ENDPOINT_URL` for the emulator).

use cfinv_aws::{connect, Clients};
use clap::Args;

#[derive(Args, Debug)]
pub struct ConnectArgs {
    /// The bucket whose object creations and removals cfinv should invalidate.
    #[arg(long)]
    bucket: String,
    /// ARN of the ingest function (default: $CFINV_INGEST_FUNCTION_ARN, which `make deploy` prints).
    #[arg(long, env = "CFINV_INGEST_FUNCTION_ARN")]
    function_arn: String,
    /// Also set the bucket's `exceptionPaths` tag (comma-separated key prefixes).
    #[arg(long)]
    exception_paths: Option<String>,
}

#[derive(Args, Debug)]
pub struct DisconnectArgs {
    /// The bucket to disconnect.
    #[arg(long)]
    bucket: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{bucket}: {source}")]
pub struct BucketError {
    bucket: String,
    #[source]
    source: cfinv_pipeline::ports::PortError,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| {
        eprintln!("cfinv: cannot start the async runtime: {e}");
        std::process::exit(1)
    })
}

pub fn connect_bucket(args: &ConnectArgs) -> Result<(), BucketError> {
    runtime().block_on(async {
        let s3 = Clients::from_env().await.s3_sdk();
        let out = connect::connect(&s3, &args.bucket, &args.function_arn, args.exception_paths.as_deref())
            .await
            .map_err(|source| BucketError { bucket: args.bucket.clone(), source })?;
        println!(
            "{}: object creations and removals now go to {} ({}; {} other notification(s) kept){}",
            args.bucket,
            args.function_arn,
            if out.replaced { "replaced cfinv's earlier entry" } else { "added" },
            out.kept,
            args.exception_paths.as_deref().map(|p| format!("; exceptionPaths = {p}")).unwrap_or_default()
        );
        Ok(())
    })
}

pub fn disconnect_bucket(args: &DisconnectArgs) -> Result<(), BucketError> {
    runtime().block_on(async {
        let s3 = Clients::from_env().await.s3_sdk();
        let out = connect::disconnect(&s3, &args.bucket)
            .await
            .map_err(|source| BucketError { bucket: args.bucket.clone(), source })?;
        if out.replaced {
            println!("{}: cfinv's notification removed ({} other notification(s) kept)", args.bucket, out.kept);
        } else {
            println!("{}: was not connected; nothing changed", args.bucket);
        }
        Ok(())
    })
}
