//! `cfinv replay-ingest-failures`: hand the S3 events parked in the ingest failure queue to ingest
//! again, once the cause of the failure is fixed (see `cfinv_pipeline::replay`). It runs the ingest
//! handler in this process, with the stack's queue and state machine, so it needs no Lambda
//! permission and works against the emulator too (`AWS_ENDPOINT_URL`).

use cfinv_aws::Clients;
use cfinv_pipeline::ingest::Ingest;
use cfinv_pipeline::replay::{replay, ReplayError};
use cfinv_pipeline::settings::{ConfigError, IngestSettings, Vars};
use cfinv_pipeline::system_clock;
use clap::Args;

use crate::bucket::runtime;

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// The ingest failure queue (the stack's `IngestFailureQueueUrl` output).
    #[arg(long)]
    from: String,
    /// The event queue (the stack's `EventQueueUrl` output).
    #[arg(long, env = "CFINV_QUEUE_URL")]
    queue_url: String,
    /// The state machine (the stack's `StateMachineArn` output).
    #[arg(long, env = "CFINV_STATE_MACHINE_ARN")]
    state_machine_arn: String,
    /// The stack's `WindowSeconds`, so replayed events join the executions ingest starts.
    #[arg(long, default_value_t = 10)]
    window_seconds: u32,
    /// Replay at most this many messages.
    #[arg(long, default_value_t = 100_000)]
    max_messages: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayCommandError {
    #[error(transparent)]
    Settings(#[from] ConfigError),
    #[error(transparent)]
    Replay(#[from] ReplayError),
}

pub fn run(args: &ReplayArgs) -> Result<(), ReplayCommandError> {
    let window = args.window_seconds.to_string();
    let settings = IngestSettings::read(&Vars(|name: &str| match name {
        "CFINV_QUEUE_URL" => Some(args.queue_url.clone()),
        "CFINV_STATE_MACHINE_ARN" => Some(args.state_machine_arn.clone()),
        "CFINV_WINDOW_SECONDS" => Some(window.clone()),
        // The tag is reread for every event: a replay may run long after the events.
        "CFINV_TAG_CACHE_SECONDS" => Some("0".to_owned()),
        other => std::env::var(other).ok(),
    }))?;
    runtime().block_on(async {
        let clients = Clients::from_env().await;
        let ingest = Ingest::new(clients.sqs(&args.queue_url), clients.sfn(), clients.s3(), settings, system_clock());
        let report = replay(&clients.sqs(&args.from), &ingest, args.max_messages).await?;
        println!(
            "replayed {} event message(s): {} event(s) queued, the rest skipped by ingest's filters",
            report.replayed, report.queued
        );
        for (id, why) in &report.unreadable {
            println!("left in the failure queue: message {id}: {why}");
        }
        Ok(())
    })
}
