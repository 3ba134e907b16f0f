//! The report Lambda: error files and the alert; see `cfinv_pipeline::report`.

// The handler's instrumented future inside the runtime's service layers nests deeper than the
// compiler's default layout query depth.
#![recursion_limit = "256"]

use cfinv_aws::{init_tracing, run, settings, Clients};
use cfinv_pipeline::report::{Report, ReportInput};
use cfinv_pipeline::settings::{env, ReportSettings};
use cfinv_pipeline::system_clock;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let settings = settings(|| ReportSettings::read(&env()))?;
    let clients = Clients::from_env().await;
    let report = Report::new(clients.s3(), clients.sns(), settings, system_clock());
    let report = &report;
    run(|input: ReportInput, _| async move { report.handle(input).await }).await
}
