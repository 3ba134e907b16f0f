//! `cfinv plan`: read the inputs, plan, print.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use std::collections::HashMap;

use cfinv_core::aws_json::{read_cache_policies, read_distribution_tags, read_distributions, AwsJsonError};
use cfinv_core::event::parse_events_json;
use cfinv_core::event::EventError;
use cfinv_core::plan::OptionsError;
use cfinv_core::plan::Policy;
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
    /// `exact`: every cached variant of every change, nothing more. `compact`: past --max-items
    /// items, cover them with prefix wildcards that reach no other origin's paths. The stack's
    /// `CostPolicy`; a distribution's `cfinv:policy` tag overrides it.
    #[arg(long, value_enum, default_value_t = PolicyArg::Compact)]
    policy: PolicyArg,
    /// The compact policy's threshold: at most this many items per distribution (the stack's
    /// `MaxItems`; a distribution's `cfinv:max-items` tag overrides it).
    #[arg(long, value_name = "N", default_value_t = cfinv_core::plan::DEFAULT_MAX_ITEMS)]
    max_items: usize,
    /// The batch window, in seconds (the stack's `WindowSeconds`): a creation on a behavior that
    /// caches nothing is invalidated when the distribution caches errors for longer.
    #[arg(long, value_name = "SECONDS", default_value_t = cfinv_core::plan::DEFAULT_WINDOW_SECONDS)]
    window_seconds: u32,
    /// A bucket's website index document, as BUCKET=NAME (repeatable; default index.html).
    #[arg(long = "index-document", value_name = "BUCKET=NAME")]
    index_documents: Vec<String>,
    /// A JSON object from distribution id to the output of `aws cloudfront list-tags-for-resource`
    /// for that distribution (its `cfinv:policy`, `cfinv:max-items`, `cfinv:index-document` tags).
    #[arg(long = "distribution-tags", value_name = "FILE")]
    distribution_tags: Option<PathBuf>,
    /// Send a key whose only cover is a broad wildcard (`*`, `a*` at the top) as that wildcard,
    /// instead of reporting it as `too-broad` (the stack's `AllowBroadWildcards`).
    #[arg(long)]
    allow_broad_wildcards: bool,
    /// Output format; text on a terminal, json otherwise.
    #[arg(long, value_enum)]
    format: Option<Format>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PolicyArg {
    Exact,
    Compact,
}

impl From<PolicyArg> for Policy {
    fn from(p: PolicyArg) -> Self {
        match p {
            PolicyArg::Exact => Policy::Exact,
            PolicyArg::Compact => Policy::Compact,
        }
    }
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
    #[error("--index-document {0:?}: expected BUCKET=NAME, NAME a file name")]
    IndexDocumentArg(String),
    #[error("--max-set-size or --max-items: {0}")]
    Options(#[from] OptionsError),
    #[error("cannot write the plan: {0}")]
    Write(#[source] std::io::Error),
}

fn read_text(path: &Path) -> Result<String, PlanError> {
    std::fs::read_to_string(path).map_err(|source| PlanError::Read { file: path.display().to_string(), source })
}

pub fn run(args: &PlanArgs) -> Result<(), PlanError> {
    let options = PlanOptions::new(args.max_set_size, cfinv_core::plan::MAX_WILDCARDS_IN_PROGRESS)?
        .with_policy(args.policy.into(), args.max_items)?
        .with_window_seconds(args.window_seconds)
        .allowing_broad_wildcards(args.allow_broad_wildcards);
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

    if let Some(path) = &args.distribution_tags {
        let tags = read_distribution_tags(&read_text(path)?)
            .map_err(|source| PlanError::Aws { file: path.display().to_string(), source })?;
        for d in &mut distributions {
            if let Some(t) = tags.get(&d.id) {
                d.tags = t.clone();
            }
        }
    }

    let mut index_documents = HashMap::new();
    for arg in &args.index_documents {
        match arg.split_once('=') {
            Some((bucket, name)) if !bucket.is_empty() && !name.is_empty() && !name.contains('/') => {
                index_documents.insert(bucket.to_owned(), name.to_owned());
            }
            _ => return Err(PlanError::IndexDocumentArg(arg.clone())),
        }
    }

    let planner = Planner::with_index_documents(&distributions, &policies, options, &index_documents);
    warnings.extend(planner.warnings().iter().map(|w| format!("distribution {}: {}", w.distribution_id, w.message)));
    let plan = planner.plan(&events, &exceptions);
    warnings.extend(plan.warnings.iter().map(|w| format!("distribution {}: {}", w.distribution_id, w.message)));

    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() { Format::Text } else { Format::Json });
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match format {
        // Indented for a person at a terminal; one line for a program (tens of megabytes for a
        // large deploy: a third smaller, and faster to write and read).
        Format::Json => render::json(&mut stdout, &plan, &events, &warnings, std::io::stdout().is_terminal()),
        Format::Text => stdout.write_all(render::text(&plan, &events, &warnings).as_bytes()),
    }
    .map_err(PlanError::Write)?;
    stdout.flush().map_err(PlanError::Write)
}
