//! The sweeper Lambda, on a schedule: starts an execution when messages wait in the queue and none
//! is coming for them; see `cfinv_pipeline::sweep`.

// The handler's instrumented future inside the runtime's service layers nests deeper than the
// compiler's default layout query depth.
#![recursion_limit = "256"]

use cfinv_aws::{init_tracing, run, settings, Clients};
use cfinv_pipeline::settings::{env, SweepSettings};
use cfinv_pipeline::sweep::Sweep;
use cfinv_pipeline::system_clock;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let settings = settings(|| SweepSettings::read(&env()))?;
    let clients = Clients::from_env().await;
    let sweep = Sweep::new(clients.sqs(&settings.queue_url), clients.sfn(), settings, system_clock());
    let sweep = &sweep;
    // The schedule's event says nothing the sweep needs.
    run(|_: Value, _| async move { sweep.handle().await }).await
}
