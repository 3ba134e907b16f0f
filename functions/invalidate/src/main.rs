//! The invalidate Lambda: the state machine's steps between collect and the report (load a page,
//! step a unit, the redrive gate); see `cfinv_pipeline::invalidate`.

// The handler's instrumented future inside the runtime's service layers nests deeper than the
// compiler's default layout query depth.
#![recursion_limit = "256"]

use cfinv_aws::{init_tracing, run, settings, Clients};
use cfinv_pipeline::invalidate::{Invalidate, InvalidateInput};
use cfinv_pipeline::settings::{env, InvalidateSettings};
use cfinv_pipeline::system_clock;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let settings = settings(|| InvalidateSettings::read(&env()))?;
    let clients = Clients::from_env().await;
    let invalidate =
        Invalidate::new(clients.s3(), clients.cloudfront(), clients.sfn(), clients.events(), settings, system_clock());
    let invalidate = &invalidate;
    run(|input: InvalidateInput, _| async move { invalidate.handle(input).await }).await
}
