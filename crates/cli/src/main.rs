//! `cfinv`: the operator's command line.
//!
//! `cfinv plan` answers, offline, what the pipeline would invalidate for a set of S3 events, from
//! the JSON that the AWS CLI prints (or, with `--live`, from the account). It runs the same core as
//! the Lambdas. The operator commands (`status`, `explain`, `resubmit`, and the recovery commands)
//! find the deployed stack by its name (`--stack`), and share the connection flags
//! (`--profile`, `--region`, `--endpoint-url`).
//!
//! Exit codes: 0 success; 1 `resubmit` could not submit every set (each named), or
//! `replay-ingest-failures` left messages that are not S3 events in the failure queue (each
//! named); 2 bad input, or an AWS call the command needs failed (one stderr line naming it).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `println!` that never panics, for the commands that change things: when their reader has gone
/// (`cfinv resubmit FILE | head -1`) they finish their work and only the output is lost. The
/// commands that only read end at once instead (see [`restore_sigpipe`]).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod bucket;
mod connection;
mod explain;
mod plan;
mod recover;
mod render;
mod resubmit;
mod statemachine;
mod status;

#[derive(Parser)]
#[command(name = "cfinv", version, about = "CloudFront invalidations for S3 origins, planned and explained")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Plan the invalidations for S3 events, offline from AWS CLI JSON, or --live from the account.
    Plan(plan::PlanArgs),
    /// Why a key is (or is not) invalidated: every distribution that reaches its bucket, from the
    /// live account.
    Explain(explain::ExplainArgs),
    /// The stack at a glance: last executions, invalidations in progress, queues, alarms; or one
    /// run with --execution.
    Status(status::StatusArgs),
    /// Submit the sets of the seed's error files again, one invalidation per set (exit 1 if any is
    /// refused).
    Resubmit(resubmit::ResubmitArgs),
    /// Print the state machine definition with its ${...} placeholders filled.
    Statemachine(statemachine::StatemachineArgs),
    /// Send a bucket's object changes to the ingest function, keeping its other notifications.
    ConnectBucket(bucket::ConnectArgs),
    /// Remove cfinv's notification from a bucket, keeping the others.
    DisconnectBucket(bucket::DisconnectArgs),
    /// Hand the S3 events parked in the ingest failure queue to ingest again.
    ReplayIngestFailures(recover::ReplayArgs),
    /// Start the current window's execution, to drain messages put back in the queue by hand.
    StartWindow(recover::StartWindowArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.command.only_reads() {
        restore_sigpipe();
    }
    let result = match cli.command {
        Command::Plan(args) => plan::run(&args).map_err(|e| e.to_string()),
        Command::Explain(args) => explain::run(&args).map_err(|e| e.to_string()),
        Command::Status(args) => status::run(&args).map_err(|e| e.to_string()),
        Command::Resubmit(args) => match resubmit::run(&args) {
            // The sets not submitted are named on stdout and stderr already.
            Ok(false) => return ExitCode::from(1),
            Ok(true) => Ok(()),
            Err(e) => Err(e.to_string()),
        },
        Command::Statemachine(args) => statemachine::run(&args).map_err(|e| e.to_string()),
        Command::ConnectBucket(args) => bucket::connect_bucket(&args).map_err(|e| e.to_string()),
        Command::DisconnectBucket(args) => bucket::disconnect_bucket(&args).map_err(|e| e.to_string()),
        Command::ReplayIngestFailures(args) => match recover::replay_ingest_failures(&args) {
            // The messages left are named on stdout, their count on stderr.
            Ok(false) => return ExitCode::from(1),
            Ok(true) => Ok(()),
            Err(e) => Err(e.to_string()),
        },
        Command::StartWindow(args) => recover::start_window(&args).map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cfinv: {e}");
            ExitCode::from(2)
        }
    }
}

impl Command {
    /// Whether the command only reads and prints: those end as any Unix tool when their output is
    /// cut short. The others (`resubmit`, the bucket and recovery commands) must not stop half
    /// way through their changes: they keep SIGPIPE ignored and print with `say!`.
    fn only_reads(&self) -> bool {
        match self {
            Command::Plan(_) | Command::Explain(_) | Command::Status(_) | Command::Statemachine(_) => true,
            Command::Resubmit(args) => args.is_dry_run(),
            Command::ConnectBucket(_)
            | Command::DisconnectBucket(_)
            | Command::ReplayIngestFailures(_)
            | Command::StartWindow(_) => false,
        }
    }
}

/// Output cut short by its reader (`cfinv plan ... | head -1`) ends a command that only reads
/// quietly, as it ends any Unix tool. Rust ignores SIGPIPE, so `println!` would panic on the
/// closed pipe instead.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: the first thing `main` does, before any thread starts; it only puts back the
    // default disposition of one signal.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
