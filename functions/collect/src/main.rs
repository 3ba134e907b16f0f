//! The collect Lambda: drains the queue, plans, stores the sets; see `cfinv_pipeline::collect`.

// The handler's instrumented future inside the runtime's service layers nests deeper than the
// compiler's default layout query depth.
#![recursion_limit = "256"]

use cfinv_aws::{init_tracing, run, settings, Clients};
use cfinv_pipeline::collect::{Collect, CollectInput, CollectPorts};
use cfinv_pipeline::settings::{env, CollectSettings};
use cfinv_pipeline::system_clock;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let settings = settings(|| CollectSettings::read(&env()))?;
    let clients = Clients::from_env().await;
    let dead_letter = settings.dead_letter_queue_url.as_ref().map(|url| clients.sqs(url));
    let ports = CollectPorts {
        queue: clients.sqs(&settings.queue_url),
        dead_letter,
        objects: clients.s3(),
        cloudfront: clients.cloudfront(),
        executions: clients.sfn(),
    };
    let collect = Collect::new(ports, settings, system_clock());
    let collect = &collect;
    run(|input: CollectInput, request_id: String| async move { collect.handle(input, &request_id).await }).await
}
