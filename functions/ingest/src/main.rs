//! The ingest Lambda: S3 notification or EventBridge events in; see `cfinv_pipeline::ingest`.

// The handler's instrumented future inside the runtime's service layers nests deeper than the
// compiler's default layout query depth.
#![recursion_limit = "256"]

use cfinv_aws::{init_tracing, run, settings, Clients};
use cfinv_pipeline::ingest::Ingest;
use cfinv_pipeline::settings::{env, IngestSettings};
use cfinv_pipeline::system_clock;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let settings = settings(|| IngestSettings::read(&env()))?;
    let clients = Clients::from_env().await;
    let ingest = Ingest::new(clients.sqs(&settings.queue_url), clients.sfn(), clients.s3(), settings, system_clock());
    let ingest = &ingest;
    run(|payload: Value, _| async move { ingest.handle(&payload).await }).await
}
