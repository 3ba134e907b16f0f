//! `cfinv plan`: read the inputs, plan, print.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use cfinv_core::aws_json::{read_cache_policies, read_distributions, AwsJsonError};
use cfinv_core::event::parse_events_json;
use cfinv_core::event::EventError;
use cfinv_core::plan::OptionsError;
use cfinv_core::{CachePolicies, ExceptionPaths, Exceptions, PlanOptions, Planner};
use clap::{Args, ValueEnum};

use crate::render;

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Output of `aws cloudfront list-distributions` or `get-distribution` (repeatable).
    #[arg(long = "distributions", value_name = "FILE", required = true)]
    distributions: Vec<PathBuf>,
    /// S3 notification or EventBridge events exactly as delivered, or a JSON array of them
    /// (repeatable).
    #[arg(long = "events", value_name = "FILE", required = true)]
    events: Vec<PathBuf>,
    /// Output of `aws cloudfront list-cache-policies`, for behaviors that use custom policies
    /// (repeatable).
    #[arg(long = "cache-policies", value_name = "FILE")]
    cache_policies: Vec<PathBuf>,
    /// A bucket's `exceptionPaths` tag value, as BUCKET=PREFIX[,PREFIX...] (repeatable).
    #[arg(long = "exception-paths", value_name = "BUCKET=PREFIXES")]
    exception_paths: Vec<String>,
    /// Most paths per invalidation (1-3000).
    #[arg(long, value_name = "N", default_value_t = cfinv_core::plan::MAX_SET_SIZE)]
    max_set_size: usize,
    /// Output format; text on a terminal, json otherwise.
    #[arg(long, value_enum)]
    format: Option<Format>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Text,
}

/// Everything that makes `cfinv plan` exit 2. Each names the input at fault.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {source}")]
    Events {
        file: String,
        #[source]
        source: EventError,
    },
    #[error("{file}: {source}")]
    Aws {
        file: String,
        #[source]
        source: AwsJsonError,
    },
    #[error("--exception-paths {0:?}: expected BUCKET=PREFIX[,PREFIX...]")]
    ExceptionArg(String),
    #[error("--max-set-size: {0}")]
    Options(#[from] OptionsError),
    #[error("cannot write the plan: {0}")]
    Write(#[source] std::io::Error),
}

fn read_text(path: &Path) -> Result<String, PlanError> {
    std::fs::read_to_string(path).map_err(|source| PlanError::Read { file: path.display().to_string(), source })
}

pub fn run(args: &PlanArgs) -> Result<(), PlanError> {
    let options = PlanOptions::new(args.max_set_size, cfinv_core::plan::MAX_WILDCARDS_IN_PROGRESS)?;
    let mut warnings = Vec::new();

    let mut distributions = Vec::new();
    for path in &args.distributions {
        let read = read_distributions(&read_text(path)?)
            .map_err(|source| PlanError::Aws { file: path.display().to_string(), source })?;
        distributions.extend(read.items);
        warnings.extend(read.skipped.into_iter().map(|s| format!("{}: {s}", path.display())));
    }

    let mut policies = CachePolicies::managed();
    for path in &args.cache_policies {
        let read = read_cache_policies(&read_text(path)?)
            .map_err(|source| PlanError::Aws { file: path.display().to_string(), source })?;
        for p in read.items {
            policies.insert(p);
        }
        warnings.extend(read.skipped.into_iter().map(|s| format!("{}: {s}", path.display())));
    }

    let mut events = Vec::new();
    for path in &args.events {
        let parsed = parse_events_json(&read_text(path)?)
            .map_err(|source| PlanError::Events { file: path.display().to_string(), source })?;
        events.extend(parsed);
    }

    let mut exceptions = Exceptions::new();
    for arg in &args.exception_paths {
        match arg.split_once('=') {
            Some((bucket, prefixes)) if !bucket.is_empty() => {
                exceptions.insert(bucket, ExceptionPaths::parse(prefixes));
            }
            _ => return Err(PlanError::ExceptionArg(arg.clone())),
        }
    }

    let planner = Planner::new(&distributions, &policies, options);
    warnings.extend(planner.warnings().iter().map(|w| format!("distribution {}: {}", w.distribution_id, w.message)));
    let plan = planner.plan(&events, &exceptions);

    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() { Format::Text } else { Format::Json });
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match format {
        Format::Json => render::json(&mut stdout, &plan, &events, &warnings),
        Format::Text => stdout.write_all(render::text(&plan, &events, &warnings).as_bytes()),
    }
    .map_err(PlanError::Write)?;
    stdout.flush().map_err(PlanError::Write)
}
