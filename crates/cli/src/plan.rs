//! `cfinv plan`: read the inputs, plan, print. The distributions come from the AWS CLI's JSON, or
//! with `--live` from the account itself (`cfinv_pipeline::live`, what collect plans with).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use std::collections::HashMap;

use cfinv_core::aws_json::{
    read_cache_policies, read_distribution_tags, read_distribution_tenants, read_distributions, read_object_metadata,
    AwsJsonError,
};
use cfinv_core::event::parse_events_json;
use cfinv_core::event::EventError;
use cfinv_core::plan::OptionsError;
use cfinv_core::plan::{CacheTags, Policy};
use cfinv_core::{CachePolicies, ExceptionPaths, Exceptions, ObjectMetadata, PlanOptions, Planner};
use cfinv_pipeline::ports::PortError;
use clap::{Args, ValueEnum};

use crate::bucket::runtime;
use crate::connection::{parameters, Connection, Stack, StackArgs, StackError};
use crate::render;

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Output of `aws cloudfront list-distributions` or `get-distribution` (repeatable).
    #[arg(long = "distributions", value_name = "FILE", required_unless_present = "live", conflicts_with = "live")]
    distributions: Vec<PathBuf>,
    /// S3 notification or EventBridge events exactly as delivered, or a JSON array of them
    /// (repeatable).
    #[arg(long = "events", value_name = "FILE", required = true)]
    events: Vec<PathBuf>,
    /// Output of `aws cloudfront list-cache-policies`, for behaviors that use custom policies
    /// (repeatable).
    #[arg(long = "cache-policies", value_name = "FILE", conflicts_with = "live")]
    cache_policies: Vec<PathBuf>,
    /// A bucket's `exceptionPaths` tag value, as BUCKET=PREFIX[,PREFIX...] (repeatable; with
    /// --live it wins over the bucket's tag).
    #[arg(long = "exception-paths", value_name = "BUCKET=PREFIXES")]
    exception_paths: Vec<String>,
    #[command(flatten)]
    planning: PlanningArgs,
    /// A bucket's website index document, as BUCKET=NAME (repeatable; default index.html).
    #[arg(long = "index-document", value_name = "BUCKET=NAME", conflicts_with = "live")]
    index_documents: Vec<String>,
    /// A JSON object from distribution id to the output of `aws cloudfront list-tags-for-resource`
    /// for that distribution (its `cfinv:policy`, `cfinv:max-items`, `cfinv:index-document` tags).
    #[arg(long = "distribution-tags", value_name = "FILE", conflicts_with = "live")]
    distribution_tags: Option<PathBuf>,
    /// Output of `aws cloudfront list-distribution-tenants` or `get-distribution-tenant` (repeatable;
    /// the get output carries the tenant's `Parameters`): multi-tenant distributions are planned per
    /// tenant.
    #[arg(long = "distribution-tenants", value_name = "FILE", conflicts_with = "live")]
    distribution_tenants: Vec<PathBuf>,
    /// A JSON object from `bucket/key` to that object's `Metadata` as `aws s3api head-object` prints
    /// it: the cache tags of created objects, for distributions sent them (--cache-tags, the
    /// `cfinv:cache-tags` tag). With --live too: the account's objects are not read.
    #[arg(long = "object-metadata", value_name = "FILE")]
    object_metadata: Option<PathBuf>,
    /// Read the distributions, cache policies, distribution tags, website index documents and the
    /// buckets' `exceptionPaths` tags from the account (as collect does) instead of files.
    #[arg(long)]
    live: bool,
    /// With --live: `exceptionPaths` for buckets without the tag (default: the stack's
    /// `DefaultExceptionPaths` with --stack, else none). Without --live it is an error (`run`
    /// checks it: clap's `requires = "live"` is waived when --distributions, which conflicts with
    /// --live, is given).
    #[arg(long, value_name = "PREFIXES")]
    default_exception_paths: Option<String>,
    /// Output format; text on a terminal, json otherwise.
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[command(flatten)]
    stack: StackArgs,
    #[command(flatten)]
    connection: Connection,
}

/// How a plan is shaped, shared by `plan` and `explain`. Each flag left out takes the stack's
/// parameter (with --stack), else the stack's default.
#[derive(Args, Debug, Default)]
pub struct PlanningArgs {
    /// Most paths per invalidation, 1-3000 (default: the stack's `MaxSetSize`, else 3000).
    #[arg(long, value_name = "N")]
    max_set_size: Option<usize>,
    /// `exact`: every cached variant of every change, nothing more. `compact`: past --max-items
    /// items, cover them with prefix wildcards that reach no other origin's paths (default: the
    /// stack's `CostPolicy`, else compact; a distribution's `cfinv:policy` tag overrides it).
    #[arg(long, value_enum)]
    policy: Option<PolicyArg>,
    /// The compact policy's threshold: at most this many items per distribution (default: the
    /// stack's `MaxItems`, else 15; a distribution's `cfinv:max-items` tag overrides it).
    #[arg(long, value_name = "N")]
    max_items: Option<usize>,
    /// The batch window, in seconds: a creation on a behavior that caches nothing is invalidated
    /// when the distribution caches errors for longer (default: the stack's `WindowSeconds`, else
    /// 10).
    #[arg(long, value_name = "SECONDS")]
    window_seconds: Option<u32>,
    /// Send a key whose only cover is a broad wildcard (`*`, `a*` at the top) as that wildcard,
    /// instead of reporting it as `too-broad` (also when the stack's `AllowBroadWildcards` is true).
    #[arg(long)]
    allow_broad_wildcards: bool,
    /// Cache tags of created objects for distributions whose CacheTagConfig names S3 metadata:
    /// `off`, `add` (beside the paths) or `instead` (in place of the paths of objects that have
    /// tags) (default: the stack's `CacheTags`, else off; a distribution's `cfinv:cache-tags` tag
    /// overrides it).
    #[arg(long, value_enum)]
    cache_tags: Option<CacheTagsArg>,
}

impl PlanningArgs {
    /// The options: each flag, else the stack's parameter, else the default.
    pub fn options(&self, stack: Option<&Stack>) -> Result<PlanOptions, PlanError> {
        let param = |key: &str| stack.and_then(|s| s.parameter(key)).map(str::trim).filter(|v| !v.is_empty());
        let number = |key: &'static str| -> Result<Option<usize>, PlanError> {
            Ok(match stack {
                Some(s) if param(key).is_some() => s.number(key)?,
                _ => None,
            })
        };
        let policy = match (self.policy, param(parameters::COST_POLICY)) {
            (Some(p), _) => p,
            (None, Some(v)) => PolicyArg::from_str(v, true).map_err(|_| PlanError::Parameter {
                parameter: parameters::COST_POLICY,
                value: v.to_owned(),
                expected: "exact or compact",
            })?,
            (None, None) => PolicyArg::Compact,
        };
        let window_seconds = match self.window_seconds {
            Some(w) => w,
            None => number(parameters::WINDOW_SECONDS)?
                .map(|w| w as u32)
                .unwrap_or(cfinv_core::plan::DEFAULT_WINDOW_SECONDS),
        };
        let allow_broad = self.allow_broad_wildcards
            || param(parameters::ALLOW_BROAD_WILDCARDS).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        // Each with where it came from, to name it if it is out of range.
        let flag_or_stack = |flag: Option<usize>, parameter: &'static str, default: usize, name: &'static str| {
            Ok::<_, PlanError>(match flag {
                Some(n) => (n, name.to_owned()),
                None => match number(parameter)? {
                    Some(n) => (n, format!("stack parameter {parameter}")),
                    None => (default, name.to_owned()),
                },
            })
        };
        let (max_set_size, set_size_from) = flag_or_stack(
            self.max_set_size,
            parameters::MAX_SET_SIZE,
            cfinv_core::plan::MAX_SET_SIZE,
            "--max-set-size",
        )?;
        let (max_items, max_items_from) =
            flag_or_stack(self.max_items, parameters::MAX_ITEMS, cfinv_core::plan::DEFAULT_MAX_ITEMS, "--max-items")?;
        let options_error = |source: OptionsError| {
            let from = match source {
                OptionsError::SetSize(_) => set_size_from.clone(),
                OptionsError::MaxItems(_) => max_items_from.clone(),
                OptionsError::Wildcards(_) => "wildcards per set".to_owned(),
            };
            PlanError::Options { from, source }
        };
        let cache_tags = match (self.cache_tags, param(parameters::CACHE_TAGS)) {
            (Some(c), _) => c,
            (None, Some(v)) => CacheTagsArg::from_str(v, true).map_err(|_| PlanError::Parameter {
                parameter: parameters::CACHE_TAGS,
                value: v.to_owned(),
                expected: "off, add or instead",
            })?,
            (None, None) => CacheTagsArg::Off,
        };
        Ok(PlanOptions::new(max_set_size, cfinv_core::plan::MAX_WILDCARDS_IN_PROGRESS)
            .map_err(options_error)?
            .with_policy(policy.into(), max_items)
            .map_err(options_error)?
            .with_window_seconds(window_seconds)
            .allowing_broad_wildcards(allow_broad)
            .with_cache_tags(cache_tags.into()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CacheTagsArg {
    Off,
    Add,
    Instead,
}

impl From<CacheTagsArg> for CacheTags {
    fn from(c: CacheTagsArg) -> Self {
        match c {
            CacheTagsArg::Off => CacheTags::Off,
            CacheTagsArg::Add => CacheTags::Add,
            CacheTagsArg::Instead => CacheTags::Instead,
        }
    }
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
    #[error("--default-exception-paths is read only with --live (without it, give each bucket's prefixes as --exception-paths BUCKET=PREFIXES)")]
    DefaultExceptionPathsOffline,
    /// `from`: the flag or the stack parameter that gave the value.
    #[error("{from}: {source}")]
    Options { from: String, source: OptionsError },
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error("stack parameter {parameter} is {value:?}: expected {expected}")]
    Parameter { parameter: &'static str, value: String, expected: &'static str },
    #[error("cannot read the distributions from the account: {0}")]
    Live(#[source] PortError),
    #[error("cannot write the plan: {0}")]
    Write(#[source] std::io::Error),
}

fn read_text(path: &Path) -> Result<String, PlanError> {
    std::fs::read_to_string(path).map_err(|source| PlanError::Read { file: path.display().to_string(), source })
}

/// The planner of `cfinv plan` without --live: from the AWS CLI's JSON.
fn offline_planner(args: &PlanArgs, warnings: &mut Vec<String>) -> Result<Planner, PlanError> {
    let options = args.planning.options(None)?;

    let mut distributions = Vec::new();
    for path in &args.distributions {
        let read = read_distributions(&read_text(path)?)
            .map_err(|source| PlanError::Aws { file: path.display().to_string(), source })?;
        if read.items.is_empty() && read.skipped.is_empty() {
            warnings.push(format!("{}: holds no distribution", path.display()));
        }
        distributions.extend(read.items);
        warnings.extend(read.skipped.into_iter().map(|s| format!("{}: {s}", path.display())));
    }

    let mut policies = CachePolicies::managed();
    for path in &args.cache_policies {
        let read = read_cache_policies(&read_text(path)?)
            .map_err(|source| PlanError::Aws { file: path.display().to_string(), source })?;
        if read.items.is_empty() && read.skipped.is_empty() {
            warnings.push(format!("{}: holds no cache policy", path.display()));
        }
        for p in read.items {
            policies.insert(p);
        }
        warnings.extend(read.skipped.into_iter().map(|s| format!("{}: {s}", path.display())));
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

    let mut tenants = Vec::new();
    for path in &args.distribution_tenants {
        let read = read_distribution_tenants(&read_text(path)?)
            .map_err(|source| PlanError::Aws { file: path.display().to_string(), source })?;
        if read.items.is_empty() && read.skipped.is_empty() {
            warnings.push(format!("{}: holds no distribution tenant", path.display()));
        }
        tenants.extend(read.items);
        warnings.extend(read.skipped.into_iter().map(|s| format!("{}: {s}", path.display())));
    }
    let tenants = cfinv_core::aws_json::tenants::merge(tenants);

    let planner = Planner::with_tenants(&distributions, &policies, options, &index_documents, &tenants);
    warnings.extend(planner.warnings().iter().map(|w| format!("distribution {}: {}", w.distribution_id, w.message)));
    Ok(planner)
}

/// The planner of `cfinv plan --live`, and the exceptions of the events' buckets not given by
/// flag: from the account, as collect and ingest read them.
async fn live_inputs(
    args: &PlanArgs,
    events: &[cfinv_core::ObjectEvent],
    exceptions: &mut Exceptions,
    warnings: &mut Vec<String>,
) -> Result<Planner, PlanError> {
    let clients = args.connection.clients().await;
    let stack = args.stack.describe(&clients).await?;
    let options = args.planning.options(stack.as_ref())?;
    let default = default_exception_paths(args.default_exception_paths.as_deref(), stack.as_ref());
    let s3 = clients.s3();
    let live = cfinv_pipeline::live::planner(&clients.cloudfront(), &s3, options).await.map_err(PlanError::Live)?;
    warnings.extend(live.warnings);
    let unset: Vec<&str> =
        events.iter().map(|e| e.bucket.as_str()).filter(|b| exceptions.for_bucket(b).is_none()).collect();
    let read = cfinv_pipeline::live::exceptions(&s3, &unset, &default, warnings).await;
    for bucket in unset {
        if let Some(paths) = read.for_bucket(bucket) {
            exceptions.insert(bucket, paths.clone());
        }
    }
    Ok(live.planner)
}

/// `--default-exception-paths`, else the stack's `DefaultExceptionPaths`, else none.
pub fn default_exception_paths(flag: Option<&str>, stack: Option<&Stack>) -> ExceptionPaths {
    let value = flag.or_else(|| stack.and_then(|s| s.parameter(parameters::DEFAULT_EXCEPTION_PATHS))).unwrap_or("");
    ExceptionPaths::parse(value)
}

pub fn run(args: &PlanArgs) -> Result<(), PlanError> {
    if args.default_exception_paths.is_some() && !args.live {
        return Err(PlanError::DefaultExceptionPathsOffline);
    }
    let mut warnings = Vec::new();
    let mut events = Vec::new();
    for path in &args.events {
        let parsed = parse_events_json(&read_text(path)?)
            .map_err(|source| PlanError::Events { file: path.display().to_string(), source })?;
        if parsed.is_empty() {
            warnings.push(format!("{}: holds no event", path.display()));
        }
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
    let planner = if args.live {
        runtime().block_on(live_inputs(args, &events, &mut exceptions, &mut warnings))?
    } else {
        offline_planner(args, &mut warnings)?
    };
    let metadata = match &args.object_metadata {
        Some(path) => read_object_metadata(&read_text(path)?)
            .map_err(|source| PlanError::Aws { file: path.display().to_string(), source })?,
        None => ObjectMetadata::new(),
    };
    let plan = planner.plan_with_metadata(&events, &exceptions, &metadata);
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

#[cfg(test)]
mod tests {
    use super::*;
    use cfinv_aws::cloudformation::StackInfo;

    fn stack(parameters: &[(&str, &str)]) -> Stack {
        Stack {
            info: StackInfo {
                name: "cfinv".into(),
                parameters: parameters.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn an_option_out_of_range_is_named_by_where_it_came_from() {
        let flags = PlanningArgs { max_items: Some(0), ..Default::default() };
        assert_eq!(flags.options(None).unwrap_err().to_string(), "--max-items: max items must be at least 1, not 0");
        let flags = PlanningArgs { max_set_size: Some(3001), ..Default::default() };
        assert_eq!(
            flags.options(None).unwrap_err().to_string(),
            "--max-set-size: set size must be between 1 and 3000, not 3001"
        );
        let s = stack(&[("MaxItems", "0"), ("MaxSetSize", "100")]);
        assert_eq!(
            PlanningArgs::default().options(Some(&s)).unwrap_err().to_string(),
            "stack parameter MaxItems: max items must be at least 1, not 0"
        );
        // A flag given wins over the stack's parameter.
        let flags = PlanningArgs { max_items: Some(5), ..Default::default() };
        assert!(flags.options(Some(&s)).is_ok());
    }
}
