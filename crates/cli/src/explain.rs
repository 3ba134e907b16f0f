//! `cfinv explain BUCKET KEY [--removed]`: why a key was (or was not) invalidated, from the live
//! account: the distributions as collect reads them (`cfinv_pipeline::live`), the bucket's
//! `exceptionPaths` tag as ingest reads it, and the core's own decision for that one key
//! (`Planner::explain`), route by route, in words.

use std::fmt::Write as _;
use std::io::IsTerminal;

use cfinv_core::plan::{DistributionExplanation, Explanation, ItemReason, PathOutcome, Reason, ViewerPath};
use cfinv_core::{Change, ExceptionPaths, ObjectEvent};
use cfinv_pipeline::ports::PortError;
use clap::Args;
use serde::Serialize;

use crate::bucket::runtime;
use crate::connection::{Connection, StackArgs, StackError};
use crate::plan::{default_exception_paths, Format, PlanError, PlanningArgs};

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The bucket.
    bucket: String,
    /// The object's key as S3 shows it (`img/red flower.jpg`, not URL-encoded).
    key: String,
    /// Explain a removal (ObjectRemoved) instead of a creation (ObjectCreated).
    #[arg(long)]
    removed: bool,
    /// `exceptionPaths` for a bucket without the tag (default: the stack's
    /// `DefaultExceptionPaths` with --stack, else none).
    #[arg(long, value_name = "PREFIXES")]
    default_exception_paths: Option<String>,
    #[command(flatten)]
    planning: PlanningArgs,
    /// Output format; text on a terminal, json otherwise.
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[command(flatten)]
    stack: StackArgs,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error(transparent)]
    Options(#[from] PlanError),
    #[error("cannot read the distributions from the account: {0}")]
    Live(#[source] PortError),
    #[error("the {0} is empty: give the object's bucket and its key as S3 shows it")]
    Empty(&'static str),
}

/// `cfinv explain --format json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonExplanation<'a> {
    bucket: &'a str,
    key: &'a str,
    change: &'static str,
    /// The bucket's `exceptionPaths` as ingest applies them (its tag, else the default).
    exception_paths: &'a [String],
    #[serde(flatten)]
    explanation: &'a Explanation,
    warnings: &'a [String],
}

pub fn run(args: &ExplainArgs) -> Result<(), ExplainError> {
    // S3 has no object with an empty key (nor a bucket without a name); the event parser refuses
    // one too. Without this, the empty key would be explained as the path `/`.
    if args.bucket.is_empty() {
        return Err(ExplainError::Empty("bucket"));
    }
    if args.key.is_empty() {
        return Err(ExplainError::Empty("key"));
    }
    let change = if args.removed { Change::Removed } else { Change::Created };
    let event = ObjectEvent::new(&args.bucket, &args.key, change);
    let (explanation, exceptions, warnings) = runtime().block_on(async {
        let clients = args.connection.clients().await;
        let stack = args.stack.describe(&clients).await?;
        let options = args.planning.options(stack.as_ref())?;
        let default = default_exception_paths(args.default_exception_paths.as_deref(), stack.as_ref());
        let s3 = clients.s3();
        let live =
            cfinv_pipeline::live::planner(&clients.cloudfront(), &s3, options).await.map_err(ExplainError::Live)?;
        let mut warnings = live.warnings;
        let exceptions = cfinv_pipeline::live::exceptions(&s3, &[&args.bucket], &default, &mut warnings).await;
        let explanation = live.planner.explain(&event, &exceptions);
        let paths = exceptions.for_bucket(&args.bucket).cloned().unwrap_or_default();
        Ok::<_, ExplainError>((explanation, paths, warnings))
    })?;
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() { Format::Text } else { Format::Json });
    match format {
        Format::Json => {
            let doc = JsonExplanation {
                bucket: &args.bucket,
                key: &args.key,
                change: if args.removed { "removed" } else { "created" },
                exception_paths: exceptions.prefixes(),
                explanation: &explanation,
                warnings: &warnings,
            };
            // Strings, numbers and enums serialise without fail.
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Text => print!("{}", text(&event, &exceptions, &explanation, &warnings)),
    }
    Ok(())
}

/// What a reason means, for one viewer path of origin `origin`.
fn reason_words(reason: Reason, path: Option<(&ViewerPath, &str)>, exceptions: &ExceptionPaths) -> String {
    match reason {
        Reason::ExceptionPath => format!(
            "a creation under the bucket's exceptionPaths ({}) is not invalidated; its removal would be",
            exceptions.prefixes().join(", ")
        ),
        Reason::NotCached => format!(
            "behavior {} caches nothing (MaxTTL 0) and caches no error for longer than the batch window: a \
             creation has nothing stale to purge (its removal would be invalidated)",
            path.map_or("?", |(p, _)| p.behavior.as_str())
        ),
        // Another origin, which may read this bucket too (under another OriginPath) or not at all.
        Reason::NotServed => format!(
            "behavior {} sends this path to origin {}, not through origin {}",
            path.map_or("?", |(p, _)| p.behavior.as_str()),
            path.map_or("?", |(p, _)| &*p.target),
            path.map_or("?", |(_, origin)| origin)
        ),
        Reason::NoOrigin => "the key lies outside the origin's OriginPath".to_owned(),
        Reason::TooBroad => "its only cover is a wildcard too broad to send unasked (`/*` or `/a*`); \
                             --allow-broad-wildcards (the stack's AllowBroadWildcards) sends it"
            .to_owned(),
        Reason::TestEvent => "a test event".to_owned(),
        Reason::NotAChange => "the event changes nothing CloudFront serves".to_owned(),
    }
}

/// Why an item is not simply the path.
fn note_words(note: ItemReason) -> &'static str {
    match note {
        ItemReason::Asterisk => "the key holds `*`: cut after it",
        ItemReason::TooLong => "the path is over 4000 characters: cut to a wildcard",
        ItemReason::Tilde => "the key holds `~`, which CloudFront refuses: cut before it",
        ItemReason::QueryStrings => "the behavior caches query-string variants: `*` purges them all",
        ItemReason::IndexDocument => "the website endpoint serves the index document at its directory",
        ItemReason::DefaultRootObject => "the distribution's DefaultRootObject is served at /",
        ItemReason::ErrorCached => {
            "the behavior caches nothing, but the distribution caches the error an early request got for \
             longer than the window"
        }
        ItemReason::QueryStringsTooBroad => "`path*` would be too broad: only the path itself",
        ItemReason::CacheTag => "a cache tag in the object's metadata (the distribution's CacheTagConfig)",
    }
}

fn behavior_words(p: &ViewerPath) -> String {
    if p.default_behavior {
        format!("the default behavior (*), to origin {}", p.target)
    } else {
        format!("behavior {}, to origin {}", p.behavior, p.target)
    }
}

fn outcome_words(p: &ViewerPath, origin: &str, exceptions: &ExceptionPaths) -> String {
    match &p.outcome {
        PathOutcome::Item { item, note: None } => format!("invalidated as {item}"),
        PathOutcome::Item { item, note: Some(n) } => format!("invalidated as {item} ({})", note_words(*n)),
        PathOutcome::Skipped { reason } => {
            format!("not invalidated: {} ({})", reason.as_str(), reason_words(*reason, Some((p, origin)), exceptions))
        }
    }
}

fn distribution_words(d: &DistributionExplanation, exceptions: &ExceptionPaths) -> String {
    if d.items.is_empty() {
        let reason = d.reason.unwrap_or(Reason::NoOrigin);
        let words = match reason {
            Reason::NotServed | Reason::NotCached => "see below".to_owned(),
            other => reason_words(other, None, exceptions),
        };
        format!("nothing to invalidate: {} ({words})", reason.as_str())
    } else {
        let items: Vec<&str> = d.items.iter().map(|i| &**i).collect();
        format!("invalidates {}", items.join(" "))
    }
}

/// The explanation as a person reads it.
pub fn text(event: &ObjectEvent, exceptions: &ExceptionPaths, x: &Explanation, warnings: &[String]) -> String {
    let mut out = String::new();
    let change = if event.change == Change::Removed { "removed" } else { "created" };
    let _ = writeln!(out, "s3://{}/{} ({change})", event.bucket, event.key);
    let tag = if exceptions.is_empty() { "none".to_owned() } else { exceptions.prefixes().join(", ") };
    let _ = writeln!(out, "exceptionPaths: {tag}");
    if x.distributions.is_empty() {
        let _ = writeln!(out, "\nno distribution reaches bucket {}: nothing is invalidated (no-origin)", event.bucket);
    }
    for d in &x.distributions {
        let target = crate::render::target_name(
            &d.distribution_id,
            d.distribution_tenant_id.as_deref(),
            d.distribution_tenant_name.as_deref(),
        );
        let _ = writeln!(out, "\n{target}: {}", distribution_words(d, exceptions));
        let routes = x
            .routes
            .iter()
            .filter(|r| r.distribution_id == d.distribution_id && r.distribution_tenant_id == d.distribution_tenant_id);
        for r in routes {
            let origin_path = if r.key_prefix.is_empty() {
                String::new()
            } else {
                format!(", OriginPath /{}", r.key_prefix.trim_end_matches('/'))
            };
            match &r.served {
                None => {
                    let _ = writeln!(
                        out,
                        "  origin {}{origin_path}: the key is outside its OriginPath (no-origin)",
                        r.origin_id
                    );
                }
                Some(p) => {
                    let _ = writeln!(out, "  origin {}{origin_path}: viewer path {}", r.origin_id, p.path);
                    let _ = writeln!(
                        out,
                        "    served by {}: {}",
                        behavior_words(p),
                        outcome_words(p, &r.origin_id, exceptions)
                    );
                }
            }
            for p in &r.derived {
                let _ = writeln!(
                    out,
                    "  also at {}, served by {}: {}",
                    p.path,
                    behavior_words(p),
                    outcome_words(p, &r.origin_id, exceptions)
                );
            }
        }
    }
    if !warnings.is_empty() {
        let _ = writeln!(out, "\nwarnings ({})", warnings.len());
        for w in warnings {
            let _ = writeln!(out, "  {w}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cfinv_core::{CacheBehavior, CachePolicies, Distribution, Exceptions, Origin, PlanOptions, Planner};

    fn planner() -> Planner {
        Planner::new(&[planner_distribution()], &CachePolicies::managed(), PlanOptions::default())
    }

    fn planner_distribution() -> Distribution {
        Distribution {
            id: "E1".into(),
            origins: vec![
                Origin { id: "s3".into(), domain_name: "site.s3.amazonaws.com".into(), origin_path: String::new() },
                Origin { id: "api".into(), domain_name: "api.example.com".into(), origin_path: String::new() },
            ],
            behaviors: vec![CacheBehavior::legacy("/api/*", "api", None)],
            default_behavior: CacheBehavior::legacy("*", "s3", None),
            ..Default::default()
        }
    }

    fn explain(key: &str, change: Change) -> String {
        let paths = ExceptionPaths::parse("up/");
        let mut exceptions = Exceptions::new();
        exceptions.insert("site", paths.clone());
        let event = ObjectEvent::new("site", key, change);
        text(&event, &paths, &planner().explain(&event, &exceptions), &[])
    }

    #[test]
    fn served_not_served_and_exception_paths_in_words() {
        let served = explain("a b.html", Change::Created);
        assert!(served.contains("E1: invalidates /a%20b.html"), "{served}");
        assert!(
            served.contains("served by the default behavior (*), to origin s3: invalidated as /a%20b.html"),
            "{served}"
        );
        let api = explain("api/x", Change::Created);
        assert!(api.contains("E1: nothing to invalidate: not-served"), "{api}");
        assert!(api.contains("behavior /api/* sends this path to origin api, not through origin s3"), "{api}");
        let up = explain("up/p.jpg", Change::Created);
        assert!(
            up.contains("not invalidated: exception-path (a creation under the bucket's exceptionPaths (up/)"),
            "{up}"
        );
        assert!(explain("up/p.jpg", Change::Removed).contains("E1: invalidates /up/p.jpg"));
    }

    #[test]
    fn each_tenant_is_named_with_its_own_answer() {
        let mut d = planner_distribution();
        d.id = "EMT".into();
        d.origins = vec![Origin {
            id: "s3".into(),
            domain_name: "shared.s3.amazonaws.com".into(),
            origin_path: "/{{site}}".into(),
        }];
        d.behaviors.clear();
        d.multi_tenant = true;
        // As `aws cloudfront get-distribution-tenant` prints them, read as `cfinv plan` reads them.
        let get = |id: &str, name: &str| {
            format!(
                r#"{{"DistributionTenant": {{"Id": "{id}", "DistributionId": "EMT", "Name": "{name}",
                    "Parameters": [{{"Name": "site", "Value": "{name}"}}]}}}}"#
            )
        };
        let text_of = format!("[{}, {}]", get("dt_acme", "acme"), get("dt_globex", "globex"));
        let tenants = cfinv_core::aws_json::read_distribution_tenants(&text_of).unwrap().items;
        let planner = Planner::with_tenants(
            &[d],
            &CachePolicies::managed(),
            PlanOptions::default(),
            &Default::default(),
            &tenants,
        );
        let event = ObjectEvent::new("shared", "acme/a.html", Change::Created);
        let out = text(&event, &ExceptionPaths::default(), &planner.explain(&event, &Exceptions::new()), &[]);
        assert!(out.contains("\nEMT tenant acme (dt_acme): invalidates /a.html\n  origin s3, OriginPath /acme: viewer path /a.html\n"), "{out}");
        assert!(out.contains("\nEMT tenant globex (dt_globex): nothing to invalidate: no-origin"), "{out}");
        assert!(
            out.contains("  origin s3, OriginPath /globex: the key is outside its OriginPath (no-origin)"),
            "{out}"
        );
    }

    #[test]
    fn a_bucket_no_distribution_reaches_says_so() {
        let event = ObjectEvent::new("elsewhere", "a", Change::Created);
        let out = text(&event, &ExceptionPaths::default(), &planner().explain(&event, &Exceptions::new()), &[]);
        assert!(out.contains("no distribution reaches bucket elsewhere"), "{out}");
    }
}
