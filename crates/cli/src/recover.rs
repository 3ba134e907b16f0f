//! Recovery commands, for the README's runbooks. Both work against the emulator too
//! (`AWS_ENDPOINT_URL`).
//!
//! - `cfinv replay-ingest-failures` hands the S3 events parked in the ingest failure queue to ingest
//!   again, once the cause of the failure is fixed (see `cfinv_pipeline::replay`). It runs the
//!   ingest handler in this process, with the stack's queue and state machine.
//! - `cfinv start-window` starts the current window's execution, which drains the event queue.
//!   Messages moved back into the queue by hand (the console's DLQ redrive) are in the queue but no
//!   execution is coming for them: executions start when ingest queues something.

use cfinv_aws::Clients;
use cfinv_pipeline::ingest::Ingest;
use cfinv_pipeline::replay::{replay, ReplayError};
use cfinv_pipeline::settings::{ConfigError, IngestSettings, Vars, WindowSettings};
use cfinv_pipeline::system_clock;
use cfinv_pipeline::window::{start_execution, Started};
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
    #[arg(long, env = "CFINV_WINDOW_SECONDS", default_value_t = 10)]
    window_seconds: u32,
    /// The stack's `DefaultExceptionPaths`, for buckets without an `exceptionPaths` tag.
    #[arg(long, env = "CFINV_DEFAULT_EXCEPTION_PATHS", default_value = "")]
    default_exception_paths: String,
    /// Replay at most this many messages.
    #[arg(long, default_value_t = 100_000)]
    max_messages: usize,
}

#[derive(Args, Debug)]
pub struct StartWindowArgs {
    /// The state machine (the stack's `StateMachineArn` output).
    #[arg(long, env = "CFINV_STATE_MACHINE_ARN")]
    state_machine_arn: String,
    /// The stack's `WindowSeconds`: the execution is the one ingest would start now.
    #[arg(long, env = "CFINV_WINDOW_SECONDS", default_value_t = 10)]
    window_seconds: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    #[error(transparent)]
    Settings(#[from] ConfigError),
    #[error(transparent)]
    Replay(#[from] ReplayError),
    #[error("could not start execution {name}: {source}")]
    Start { name: String, source: cfinv_pipeline::ports::PortError },
}

pub fn replay_ingest_failures(args: &ReplayArgs) -> Result<(), RecoverError> {
    let window = args.window_seconds.to_string();
    let settings = IngestSettings::read(&Vars(|name: &str| match name {
        "CFINV_QUEUE_URL" => Some(args.queue_url.clone()),
        "CFINV_STATE_MACHINE_ARN" => Some(args.state_machine_arn.clone()),
        "CFINV_WINDOW_SECONDS" => Some(window.clone()),
        "CFINV_DEFAULT_EXCEPTION_PATHS" => Some(args.default_exception_paths.clone()),
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

pub fn start_window(args: &StartWindowArgs) -> Result<(), RecoverError> {
    let window = args.window_seconds.to_string();
    let settings = WindowSettings::read(&Vars(|name: &str| match name {
        "CFINV_WINDOW_SECONDS" => Some(window.clone()),
        other => std::env::var(other).ok(),
    }))?;
    runtime().block_on(async {
        let sfn = Clients::from_env().await.sfn();
        let now = (system_clock())();
        match start_execution(&sfn, &args.state_machine_arn, &settings, now).await {
            Ok((name, Started::Started)) => {
                println!("started {name}: it drains the event queue when its window closes")
            }
            Ok((name, Started::Existed)) => println!(
                "{name} already exists: if it is still waiting it drains the queue; if it has finished, \
                 run start-window again after {} s (the next window)",
                args.window_seconds
            ),
            Err((name, source)) => return Err(RecoverError::Start { name, source }),
        }
        Ok(())
    })
}
