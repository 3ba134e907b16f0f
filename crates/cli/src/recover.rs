//! Recovery commands, for the README's runbooks. With `--stack NAME` they read the queues, the
//! state machine and the window from the stack's outputs and parameters; flags override them.
//! Both work against the emulator too (`--endpoint-url`, or `AWS_ENDPOINT_URL`).
//!
//! - `cfinv replay-ingest-failures` hands the S3 events parked in the ingest failure queue to ingest
//!   again, once the cause of the failure is fixed (see `cfinv_pipeline::replay`). It runs the
//!   ingest handler in this process, with the stack's queue and state machine.
//! - `cfinv start-window` starts the current window's execution, which drains the event queue.
//!   Messages moved back into the queue by hand (the console's DLQ redrive) are in the queue but no
//!   execution is coming for them: executions start when ingest queues something.

use cfinv_pipeline::ingest::Ingest;
use cfinv_pipeline::replay::{replay, ReplayError};
use cfinv_pipeline::settings::{ConfigError, IngestSettings, Vars, WindowSettings, WINDOW_SECONDS_RANGE};
use cfinv_pipeline::system_clock;
use cfinv_pipeline::window::{start_execution, Started};
use clap::Args;

use crate::bucket::runtime;
use crate::connection::{outputs, parameters, required, Connection, Stack, StackArgs, StackError};

/// The state machine and its window, shared by the commands that start or join executions.
#[derive(Args, Debug)]
pub struct WindowArgs {
    /// The state machine (default: the stack's `StateMachineArn` output).
    #[arg(long, env = "CFINV_STATE_MACHINE_ARN", value_name = "ARN")]
    state_machine_arn: Option<String>,
    /// The stack's `WindowSeconds`, so executions are the ones ingest starts (default: the stack's
    /// parameter, else 10).
    #[arg(long, env = "CFINV_WINDOW_SECONDS", value_name = "SECONDS")]
    window_seconds: Option<u32>,
}

impl WindowArgs {
    /// The state machine and the window's length, each checked where it came from: the flag (or
    /// its variable), else the stack.
    fn resolve(&self, stack: Option<&Stack>) -> Result<(String, u32), RecoverError> {
        let arn =
            required(self.state_machine_arn.as_deref(), stack, "--state-machine-arn", outputs::STATE_MACHINE_ARN)?;
        let expected =
            || format!("a whole number from {} to {}", WINDOW_SECONDS_RANGE.start(), WINDOW_SECONDS_RANGE.end());
        let seconds = match (self.window_seconds, stack) {
            (Some(s), _) if !WINDOW_SECONDS_RANGE.contains(&s) => {
                return Err(RecoverError::Flag {
                    flag: "--window-seconds",
                    variable: "CFINV_WINDOW_SECONDS",
                    value: s.to_string(),
                    expected: expected(),
                })
            }
            (Some(s), _) => s,
            (None, Some(stack)) => match stack.number::<u32>(parameters::WINDOW_SECONDS)? {
                Some(s) if !WINDOW_SECONDS_RANGE.contains(&s) => {
                    return Err(RecoverError::Stack(StackError::BadParameter {
                        stack: stack.name().to_owned(),
                        parameter: parameters::WINDOW_SECONDS,
                        value: s.to_string(),
                        expected: "a whole number from 1 to 3600",
                    }))
                }
                s => s.unwrap_or(10),
            },
            (None, None) => 10,
        };
        Ok((arn, seconds))
    }
}

/// The flag (and its variable) whose value the CLI hands the pipeline's settings under the name of
/// the variable its functions read; `None` for a variable read from the environment as it is.
fn flag_of(variable: &str) -> Option<(&'static str, &'static str)> {
    match variable {
        "CFINV_QUEUE_URL" => Some(("--queue-url", "CFINV_QUEUE_URL")),
        "CFINV_STATE_MACHINE_ARN" => Some(("--state-machine-arn", "CFINV_STATE_MACHINE_ARN")),
        "CFINV_WINDOW_SECONDS" => Some(("--window-seconds", "CFINV_WINDOW_SECONDS")),
        "CFINV_DEFAULT_EXCEPTION_PATHS" => Some(("--default-exception-paths", "CFINV_DEFAULT_EXCEPTION_PATHS")),
        _ => None,
    }
}

/// A settings error, naming the flag the value came from when it came from one.
impl From<ConfigError> for RecoverError {
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::Invalid { name, value, expected } => match flag_of(name) {
                Some((flag, variable)) => RecoverError::Flag { flag, variable, value, expected },
                None => RecoverError::Settings(ConfigError::Invalid { name, value, expected }),
            },
            ConfigError::Missing(name) => match flag_of(name) {
                Some((flag, variable)) => RecoverError::EmptyFlag { flag, variable },
                None => RecoverError::Settings(ConfigError::Missing(name)),
            },
        }
    }
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// The ingest failure queue (default: the stack's `IngestFailureQueueUrl` output).
    #[arg(long, value_name = "URL")]
    from: Option<String>,
    /// The event queue (default: the stack's `EventQueueUrl` output).
    #[arg(long, env = "CFINV_QUEUE_URL", value_name = "URL")]
    queue_url: Option<String>,
    #[command(flatten)]
    window: WindowArgs,
    /// The stack's `DefaultExceptionPaths`, for buckets without an `exceptionPaths` tag (default:
    /// the stack's parameter, else none).
    #[arg(long, env = "CFINV_DEFAULT_EXCEPTION_PATHS", value_name = "PREFIXES")]
    default_exception_paths: Option<String>,
    /// Replay at most this many messages.
    #[arg(long, default_value_t = 100_000)]
    max_messages: usize,
    #[command(flatten)]
    stack: StackArgs,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Args, Debug)]
pub struct StartWindowArgs {
    #[command(flatten)]
    window: WindowArgs,
    #[command(flatten)]
    stack: StackArgs,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error(transparent)]
    Settings(ConfigError),
    #[error("{flag} (or {variable}) is {value:?}: {expected}")]
    Flag { flag: &'static str, variable: &'static str, value: String, expected: String },
    #[error("{flag} (or {variable}) is empty")]
    EmptyFlag { flag: &'static str, variable: &'static str },
    #[error(transparent)]
    Replay(#[from] ReplayError),
    #[error("could not start execution {name}: {source}")]
    Start { name: String, source: cfinv_pipeline::ports::PortError },
}

/// Replays the failure queue; `Ok(false)` when messages were left in it (each named on stdout,
/// the count on stderr): the command could not do all of it, exit 1.
pub fn replay_ingest_failures(args: &ReplayArgs) -> Result<bool, RecoverError> {
    runtime().block_on(async {
        let clients = args.connection.clients().await;
        let stack = args.stack.describe(&clients).await?;
        let stack = stack.as_ref();
        let from = required(args.from.as_deref(), stack, "--from", outputs::INGEST_FAILURE_QUEUE_URL)?;
        let queue_url = required(args.queue_url.as_deref(), stack, "--queue-url", outputs::EVENT_QUEUE_URL)?;
        let (state_machine_arn, window_seconds) = args.window.resolve(stack)?;
        let default_exception_paths = match (&args.default_exception_paths, stack) {
            (Some(p), _) => p.clone(),
            (None, Some(stack)) => stack.parameter(parameters::DEFAULT_EXCEPTION_PATHS).unwrap_or_default().to_owned(),
            (None, None) => String::new(),
        };
        let window = window_seconds.to_string();
        let settings = IngestSettings::read(&Vars(|name: &str| match name {
            "CFINV_QUEUE_URL" => Some(queue_url.clone()),
            "CFINV_STATE_MACHINE_ARN" => Some(state_machine_arn.clone()),
            "CFINV_WINDOW_SECONDS" => Some(window.clone()),
            "CFINV_DEFAULT_EXCEPTION_PATHS" => Some(default_exception_paths.clone()),
            // The tag is reread for every event: a replay may run long after the events.
            "CFINV_TAG_CACHE_SECONDS" => Some("0".to_owned()),
            other => std::env::var(other).ok(),
        }))?;
        let ingest = Ingest::new(clients.sqs(&queue_url), clients.sfn(), clients.s3(), settings, system_clock());
        let report = replay(&clients.sqs(&from), &ingest, args.max_messages).await?;
        let skipped = match report.skipped {
            0 => String::new(),
            n => format!(", {n} skipped by ingest's filters"),
        };
        say!("replayed {} event message(s): {} event(s) queued{skipped}", report.replayed, report.queued);
        for (id, why) in &report.unreadable {
            say!("left in the failure queue: message {id}: {why}");
        }
        if report.still_hidden > 0 {
            say!(
                "{} of them could not be made visible again: they are in flight for up to {} s",
                report.still_hidden,
                cfinv_pipeline::replay::REPLAY_VISIBILITY_SECONDS
            );
        }
        if !report.unreadable.is_empty() {
            eprintln!(
                "cfinv: {} message(s) left in the ingest failure queue: not S3 events (listed above); look at them \
                 in the SQS console, then delete them",
                report.unreadable.len()
            );
            return Ok(false);
        }
        Ok(true)
    })
}

pub fn start_window(args: &StartWindowArgs) -> Result<(), RecoverError> {
    runtime().block_on(async {
        let clients = args.connection.clients().await;
        let stack = args.stack.describe(&clients).await?;
        let (state_machine_arn, window_seconds) = args.window.resolve(stack.as_ref())?;
        let window = window_seconds.to_string();
        let settings = WindowSettings::read(&Vars(|name: &str| match name {
            "CFINV_WINDOW_SECONDS" => Some(window.clone()),
            other => std::env::var(other).ok(),
        }))?;
        let now = (system_clock())();
        match start_execution(&clients.sfn(), &state_machine_arn, &settings, now).await {
            Ok((name, Started::Started)) => {
                say!("started {name}: it drains the event queue when its window closes")
            }
            Ok((name, Started::Existed)) => say!(
                "{name} already exists: if it is still waiting it drains the queue; if it has finished, \
                 run start-window again after {window_seconds} s (the next window)"
            ),
            Err((name, source)) => return Err(RecoverError::Start { name, source }),
        }
        Ok(())
    })
}
