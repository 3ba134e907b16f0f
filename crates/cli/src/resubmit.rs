//! `cfinv resubmit FILE|s3://BUCKET/KEY ...`: the sets of the seed's error files, each as one
//! invalidation, as `cfinv_pipeline::resubmit` paces them. For the runbook "an invalidation
//! failed", when a redrive is no longer possible.
//!
//! Sources: a local file; `s3://BUCKET/KEY`; `s3://BUCKET/PREFIX` (every `.txt` under it, when no
//! object has that exact key); and, with `--stack`, a key or prefix of the stack's error bucket as
//! the alert mail lists them (`invalidation_error/...`) when no local file has that name.
//!
//! Exit codes: 0 when every set is with CloudFront; 1 when a set was refused or still waiting when
//! `--max-wait-seconds` ran out (each named on stdout, and together on one stderr line); 2 when an
//! input cannot be read or parsed, or AWS refused a call the command needs.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use cfinv_aws::S3Client;
use cfinv_core::batch::{check_batch, BatchError};
use cfinv_core::report::{parse_error_file, ReportError};
use cfinv_pipeline::ports::{CloudFront, ErrorKind, Objects, PortError};
use cfinv_pipeline::resubmit::{resubmit, Outcome, Pacing, Progress, ResubmitSet};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::bucket::runtime;
use crate::connection::{outputs, Connection, Stack, StackArgs, StackError};

#[derive(Args, Debug)]
pub struct ResubmitArgs {
    /// Error files: local paths, s3://BUCKET/KEY, s3://BUCKET/PREFIX (every .txt under it), or with
    /// --stack a key or prefix in the stack's error bucket (invalidation_error/...).
    #[arg(value_name = "FILE|s3://BUCKET/KEY", required = true)]
    files: Vec<String>,
    /// Print each set with its CallerReference and paths; send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Seconds between two questions to a distribution with too much in progress for the next set.
    #[arg(long, value_name = "SECONDS", default_value_t = 15)]
    poll_seconds: u64,
    /// The most the whole run waits for capacity, in seconds; sets still waiting then are named,
    /// and the exit code is 1 (run it again later: it creates nothing twice).
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    max_wait_seconds: u64,
    #[command(flatten)]
    stack: StackArgs,
    #[command(flatten)]
    connection: Connection,
}

impl ResubmitArgs {
    /// `--dry-run`: nothing is sent.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResubmitError {
    #[error("cannot reach CloudFront (check the credentials, the region and --endpoint-url): {0}")]
    Unreachable(#[source] PortError),
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {source}")]
    S3 {
        file: String,
        #[source]
        source: PortError,
    },
    #[error("{file}: no such file{}", if *.s3 { " or prefix" } else { "" })]
    Missing { file: String, s3: bool },
    #[error("{file}: no such local file, nor key or prefix {url} in the stack's error bucket")]
    MissingAnywhere { file: String, url: String },
    #[error("{file}: not an error file: {source}")]
    Parse {
        file: String,
        #[source]
        source: ReportError,
    },
    #[error("{file}: set {set} cannot be sent as it is, nothing was submitted: {source}")]
    BadSet {
        file: String,
        set: usize,
        #[source]
        source: BatchError,
    },
    #[error(
        "{file}: its Distribution Tenant Id [{tenant}] belongs to distribution {parent}, not to {distribution} \
         (its CloudFront Id line): nothing was submitted"
    )]
    TenantOfAnotherDistribution { file: String, tenant: String, distribution: String, parent: String },
    #[error("{0}: expected s3://BUCKET/KEY")]
    BadUrl(String),
    #[error(transparent)]
    Stack(#[from] StackError),
}

/// One error file, read.
struct Source {
    /// Where it was read from, for messages.
    from: String,
    sets: Vec<ResubmitSet>,
}

/// `s3://BUCKET/KEY` as (bucket, key).
fn s3_url(arg: &str) -> Option<Result<(&str, &str), ResubmitError>> {
    let rest = arg.strip_prefix("s3://")?;
    Some(match rest.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() => Ok((bucket, key)),
        None if !rest.is_empty() => Ok((rest, "")),
        _ => Err(ResubmitError::BadUrl(arg.to_owned())),
    })
}

/// The file's name without its folders and `.txt`: the middle of its CallerReferences.
fn stem(name: &str) -> &str {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.strip_suffix(".txt").unwrap_or(base)
}

fn parse(from: String, name: &str, text: &str) -> Result<Source, ResubmitError> {
    let parsed = parse_error_file(text).map_err(|source| ResubmitError::Parse { file: from.clone(), source })?;
    let sets = ResubmitSet::of_file(stem(name), &parsed);
    // A set CloudFront can never take (an edited file) is an input error before anything is sent,
    // not a wait for room that never comes.
    for set in &sets {
        check_batch(&set.paths).map_err(|source| ResubmitError::BadSet { file: from.clone(), set: set.set, source })?;
    }
    Ok(Source { sets, from })
}

/// An S3 key, or every `.txt` under it when no object has that key.
async fn read_s3(s3: &S3Client, bucket: &str, key: &str, out: &mut Vec<Source>) -> Result<(), ResubmitError> {
    let url = format!("s3://{bucket}/{key}");
    let s3_error = |source| ResubmitError::S3 { file: url.clone(), source };
    if !key.is_empty() && !key.ends_with('/') {
        if let Some(text) = s3.get(bucket, key).await.map_err(s3_error)? {
            out.push(parse(url.clone(), key, &text)?);
            return Ok(());
        }
    }
    let keys: Vec<String> = s3
        .list_keys(bucket, key, 100_000)
        .await
        .map_err(s3_error)?
        .into_iter()
        .filter(|k| k.ends_with(".txt"))
        .collect();
    if keys.is_empty() {
        return Err(ResubmitError::Missing { file: url, s3: true });
    }
    for k in keys {
        let from = format!("s3://{bucket}/{k}");
        let text = s3
            .get(bucket, &k)
            .await
            .map_err(|source| ResubmitError::S3 { file: from.clone(), source })?
            .ok_or_else(|| ResubmitError::Missing { file: from.clone(), s3: true })?;
        out.push(parse(from, &k, &text)?);
    }
    Ok(())
}

/// Every source, read and parsed, in the order given.
async fn read_sources(args: &ResubmitArgs) -> Result<Vec<Source>, ResubmitError> {
    let mut out = Vec::new();
    // Only what needs AWS connects: a dry run of local files works offline.
    let mut aws: Option<(S3Client, Option<Stack>)> = None;
    for arg in &args.files {
        let local = Path::new(arg);
        let s3_target = match s3_url(arg) {
            Some(parsed) => {
                let (b, k) = parsed?;
                Some((b.to_owned(), k.to_owned(), false))
            }
            None if local.exists() || args.stack.name.is_none() => None,
            None => Some((String::new(), arg.clone(), true)),
        };
        let Some((bucket, key, in_error_bucket)) = s3_target else {
            let text = std::fs::read_to_string(local).map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => ResubmitError::Missing { file: arg.clone(), s3: false },
                _ => ResubmitError::Read { file: arg.clone(), source },
            })?;
            out.push(parse(arg.clone(), arg, &text)?);
            continue;
        };
        if aws.is_none() {
            let clients = args.connection.clients().await;
            let stack = args.stack.describe(&clients).await?;
            aws = Some((clients.s3(), stack));
        }
        let Some((s3, stack)) = &aws else { continue };
        let bucket = if in_error_bucket {
            crate::connection::required(None, stack.as_ref(), "s3://BUCKET/KEY", outputs::ERROR_BUCKET_NAME)?
        } else {
            bucket
        };
        match read_s3(s3, &bucket, &key, &mut out).await {
            // A name that is neither a local file nor in the error bucket: say both were looked at.
            Err(ResubmitError::Missing { file: url, s3: true }) if in_error_bucket => {
                return Err(ResubmitError::MissingAnywhere { file: arg.clone(), url });
            }
            other => other?,
        }
    }
    Ok(out)
}

fn plain(set: &ResubmitSet) -> String {
    format!("{} set {} ({} path(s), {})", set.distribution_id, set.set, set.paths.len(), set.caller_reference())
}

fn outcome_line(set: &ResubmitSet, outcome: &Outcome) -> String {
    match outcome {
        // A new invalidation is never Completed when created: CloudFront answered this
        // CallerReference with the one an earlier run created.
        Outcome::Submitted { invalidation_id, status } if status == "Completed" => {
            format!("completed  {}: invalidation {invalidation_id}, submitted by an earlier run", plain(set))
        }
        Outcome::Submitted { invalidation_id, status } => {
            format!("submitted  {}: invalidation {invalidation_id} ({status})", plain(set))
        }
        Outcome::InProgress { invalidation_id } => {
            format!("in progress {}: invalidation {invalidation_id}, submitted by an earlier run", plain(set))
        }
        Outcome::Refused { error, message } => format!("refused    {}: {}: {message}", plain(set), error.as_str()),
        Outcome::GaveUp { waited, why } => {
            format!("gave up    {} after {} s: {why}; run resubmit again later", plain(set), waited.as_secs())
        }
    }
}

/// Runs the command; `Ok(false)` when some set was not submitted (exit code 1).
pub fn run(args: &ResubmitArgs) -> Result<bool, ResubmitError> {
    runtime().block_on(async {
        let sources = read_sources(args).await?;
        let sets: Vec<ResubmitSet> = sources.iter().flat_map(|s| s.sets.iter().cloned()).collect();
        let paths: usize = sets.iter().map(|s| s.paths.len()).sum();
        if args.dry_run {
            say!("would submit {} set(s) from {} file(s), {paths} path(s):", sets.len(), sources.len());
            for source in &sources {
                for set in &source.sets {
                    say!("  {} from {}", plain(set), source.from);
                    for p in &set.paths {
                        say!("    {p}");
                    }
                }
            }
            return Ok(true);
        }
        if sets.is_empty() {
            say!("nothing to submit: the file(s) hold no set");
            return Ok(true);
        }
        let clients = args.connection.clients().await;
        let cloudfront = clients.cloudfront();
        // One question first: missing credentials or an endpoint that does not answer fail every
        // call alike, and would otherwise be waited out for --max-wait-seconds. No answer at all
        // (no error code) is exit 2 at once; an answer (AccessDenied for that distribution,
        // throttling) is left to the run, set by set.
        if let Err(e) = cloudfront.invalidations_in_progress(&sets[0].distribution_id).await {
            if e.code.is_none() && matches!(e.kind, ErrorKind::Unavailable | ErrorKind::Other) {
                return Err(ResubmitError::Unreachable(e));
            }
        }
        // A tenant's sets go to CreateInvalidationForDistributionTenant, which takes the tenant alone:
        // an edited file whose tenant is another distribution's would invalidate that one's cache.
        // A tenant CloudFront does not know is left to the run (refused, named, with the others).
        let mut checked: Vec<&str> = Vec::new();
        for source in &sources {
            for set in &source.sets {
                let target = cfinv_core::Target::parse(&set.distribution_id);
                let Some(tenant) = target.tenant_id.as_deref() else { continue };
                if checked.contains(&set.distribution_id.as_str()) {
                    continue;
                }
                checked.push(&set.distribution_id);
                let parent = cloudfront.tenant_distribution(tenant).await.map_err(ResubmitError::Unreachable)?;
                if let Some(parent) = parent.filter(|p| *p != target.distribution_id) {
                    return Err(ResubmitError::TenantOfAnotherDistribution {
                        file: source.from.clone(),
                        tenant: tenant.to_owned(),
                        distribution: target.distribution_id,
                        parent,
                    });
                }
            }
        }
        let pacing = Pacing {
            poll: Duration::from_secs(args.poll_seconds.max(1)),
            max_wait: Duration::from_secs(args.max_wait_seconds),
        };
        // A bar for a person at a terminal; a line per event otherwise (logs, CI, pipes).
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(sets.len() as u64);
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} sets  {msg}")
            {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let results = resubmit(&cloudfront, &sets, pacing, |p| match (p, &bar) {
            (Progress::Waiting { set, in_progress }, Some(bar)) => bar.set_message(format!(
                "{} set {} waits: {} path(s) in progress",
                set.distribution_id, set.set, in_progress.paths
            )),
            (Progress::Waiting { set, in_progress }, None) => say!(
                "waiting    {}: {} invalidation(s), {} path(s), {} wildcard(s) in progress; asking again in {} s",
                plain(set),
                in_progress.invalidations,
                in_progress.paths,
                in_progress.wildcards,
                pacing.poll.as_secs()
            ),
            (Progress::Retrying { set, why }, Some(bar)) => {
                bar.set_message(format!("{} set {}: {why}; asking again", set.distribution_id, set.set))
            }
            (Progress::Retrying { set, why }, None) => {
                say!("retrying   {}: {why}; asking again in {} s", plain(set), pacing.poll.as_secs())
            }
            (Progress::Done { set, outcome }, Some(bar)) => {
                bar.println(outcome_line(set, outcome));
                bar.inc(1);
            }
            (Progress::Done { set, outcome }, None) => say!("{}", outcome_line(set, outcome)),
        })
        .await;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }

        let submitted = results.iter().filter(|(_, o)| o.is_submitted()).count();
        say!("\n{submitted} of {} set(s) with CloudFront:", results.len());
        for (set, outcome) in &results {
            say!("  {}", outcome_line(set, outcome));
        }
        let failed: Vec<String> = results
            .iter()
            .filter(|(_, o)| !o.is_submitted())
            .map(|(s, o)| {
                let why = match o {
                    Outcome::Refused { error, .. } => error.as_str().to_owned(),
                    _ => "still waiting".to_owned(),
                };
                format!("{} set {} of {} ({why})", s.distribution_id, s.set, s.file)
            })
            .collect();
        if !failed.is_empty() {
            eprintln!("cfinv: {} set(s) not submitted: {}", failed.len(), failed.join(", "));
        }
        Ok(failed.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_stems() {
        assert_eq!(
            s3_url("s3://b/invalidation_error/x_E1.txt").unwrap().unwrap(),
            ("b", "invalidation_error/x_E1.txt")
        );
        assert_eq!(s3_url("s3://b").unwrap().unwrap(), ("b", ""));
        assert!(s3_url("s3:///k").unwrap().is_err());
        assert!(s3_url("./x_E1.txt").is_none());
        assert_eq!(
            stem("invalidation_error/201809030429388315187glzee2k6l_E29EXP7S5VQKAW.txt"),
            "201809030429388315187glzee2k6l_E29EXP7S5VQKAW"
        );
        assert_eq!(stem("dir/file"), "file");
    }

    #[test]
    fn a_set_cloudfront_can_never_take_is_refused_before_anything_is_sent() {
        let file = |paths: &[String]| {
            format!(
                "CloudFront Id [E1]\n(Set 1 Start)\n/ok\n(Set 1 End)\n(Set 2 Start)\n{}\n(Set 2 End)\n",
                paths.join("\n")
            )
        };
        let big: Vec<String> = (0..3001).map(|i| format!("/p/{i}")).collect();
        let e = parse("big.txt".into(), "big.txt", &file(&big)).err().expect("3001 paths refused");
        assert!(matches!(e, ResubmitError::BadSet { set: 2, source: BatchError::TooManyItems(3001), .. }), "{e}");
        let wild: Vec<String> = (0..16).map(|i| format!("/w{i}/*")).collect();
        assert!(matches!(
            parse("w.txt".into(), "w.txt", &file(&wild)),
            Err(ResubmitError::BadSet { source: BatchError::TooManyWildcards(16), .. })
        ));
        for bad in ["/~a.html", "/a*b", "/a b.html"] {
            assert!(
                matches!(parse("x.txt".into(), "x.txt", &file(&[bad.to_owned()])), Err(ResubmitError::BadSet { .. })),
                "{bad}"
            );
        }
        let ok = parse("x.txt".into(), "x.txt", &file(&["/a%20b.html".to_owned(), "/img/*".to_owned()])).unwrap();
        assert_eq!(ok.sets.len(), 2);
    }
}
