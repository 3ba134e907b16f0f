//! `cfinv`: the operator's command line.
//!
//! `cfinv plan` answers, offline, what the pipeline would invalidate for a set of S3 events, from
//! the JSON that the AWS CLI prints. It runs the same core as the Lambdas.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod plan;
mod render;

#[derive(Parser)]
#[command(name = "cfinv", version, about = "CloudFront invalidations for S3 origins, planned and explained")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Plan the invalidations for S3 events, offline, from AWS CLI JSON.
    Plan(plan::PlanArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Plan(args) => plan::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cfinv: {e}");
            ExitCode::from(2)
        }
    }
}
