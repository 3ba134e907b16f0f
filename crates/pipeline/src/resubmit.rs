//! Resubmitting the sets of the seed's error files, when a redrive is no longer possible (`cfinv
//! resubmit`, README "Runbook: an invalidation failed").
//!
//! Each set becomes one CreateInvalidation with CallerReference `cfinv-resubmit/{file}/{set}`
//! ([`caller_reference`]), `file` being the error file's name without `.txt`: the same for every
//! rerun, so CloudFront answers a rerun with the invalidation it already created (same reference,
//! same batch) and a second resubmission creates, and bills, nothing new.
//!
//! CloudFront allows 3,000 paths (15 wildcards) in progress per distribution, counting everyone's
//! invalidations. So a distribution's sets go one after another, each when it fits
//! ([`crate::capacity::check`], which also recognises a set already submitted and still in
//! progress), while different distributions proceed side by side. A busy distribution is asked
//! again every `poll` until the whole run has waited `max_wait`; then its remaining sets are given
//! up, named, for a later rerun. A set CloudFront refuses (`AccessDenied`, `NoSuchDistribution`,
//! `InvalidArgument`, `BatchMismatch`) is named with the refusal and the other sets go on.

use std::time::Duration;

use cfinv_core::report::ErrorFile;
use futures::future::join_all;
use tokio::time::Instant;

use crate::capacity::{self, Capacity, InProgress};
use crate::ports::{CloudFront, ErrorKind, PortError};
use crate::ErrorType;

/// `cfinv-resubmit/{file}/{set}`: `file` is the error file's name without `.txt`.
pub fn caller_reference(file: &str, set: usize) -> String {
    format!("cfinv-resubmit/{file}/{set}")
}

/// One set of one error file, to submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResubmitSet {
    /// The error file's name without `.txt` (its CallerReference's middle part).
    pub file: String,
    /// The distribution id, or a distribution tenant's target key (`E1_dt_...`, from the file's
    /// `Distribution Tenant Id` line): the CloudFront port sends it to the tenant.
    pub distribution_id: String,
    /// The set's number in the file.
    pub set: usize,
    pub paths: Vec<String>,
}

impl ResubmitSet {
    /// The sets of one error file, named after it (`file`: the name without `.txt`). Empty sets
    /// are left out: CloudFront refuses an invalidation without paths, and there is nothing to do.
    pub fn of_file(file: &str, parsed: &ErrorFile) -> Vec<ResubmitSet> {
        parsed
            .sets
            .iter()
            .filter(|s| !s.paths.is_empty())
            .map(|s| ResubmitSet {
                file: file.to_owned(),
                distribution_id: parsed.target().key(),
                set: s.number,
                paths: s.paths.clone(),
            })
            .collect()
    }

    pub fn caller_reference(&self) -> String {
        caller_reference(&self.file, self.set)
    }
}

/// How long to wait for capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// Between two questions to a busy distribution.
    pub poll: Duration,
    /// The most the whole run waits, over all distributions (they wait side by side).
    pub max_wait: Duration,
}

/// What became of one set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// CloudFront accepted it now, or answered with the invalidation an earlier run created for the
    /// same CallerReference and paths.
    Submitted { invalidation_id: String, status: String },
    /// An earlier run submitted it and it is still in progress.
    InProgress { invalidation_id: String },
    /// CloudFront refused it: `error` is the stable name (`AccessDenied`...), `message` its words.
    Refused { error: ErrorType, message: String },
    /// The distribution stayed busy (or CloudFront unavailable) until the run's `max_wait` was up.
    GaveUp { waited: Duration, why: String },
}

impl Outcome {
    /// Whether the set is with CloudFront now.
    pub fn is_submitted(&self) -> bool {
        matches!(self, Outcome::Submitted { .. } | Outcome::InProgress { .. })
    }
}

/// What is happening, for a progress display.
#[derive(Debug)]
pub enum Progress<'a> {
    /// The distribution has too much in progress for this set; asked again after `poll`.
    Waiting { set: &'a ResubmitSet, in_progress: &'a InProgress },
    /// CloudFront answered with an error that may pass (throttling, unavailable); asked again
    /// after `poll`. `why` is its message.
    Retrying { set: &'a ResubmitSet, why: &'a str },
    /// A set is done with.
    Done { set: &'a ResubmitSet, outcome: &'a Outcome },
}

/// The stable name of a refusal, as the invalidate function would fail with it; `None` for what
/// may pass (throttling, the in-progress limits, unavailability), which is waited out.
fn refusal(e: &PortError) -> Option<ErrorType> {
    match e.kind {
        ErrorKind::AccessDenied => Some(ErrorType::AccessDenied),
        ErrorKind::NotFound => Some(ErrorType::NoSuchDistribution),
        ErrorKind::InvalidArgument => Some(ErrorType::InvalidArgument),
        ErrorKind::BatchMismatch | ErrorKind::AlreadyExists => Some(ErrorType::BatchMismatch),
        ErrorKind::Throttled
        | ErrorKind::TooManyInvalidationsInProgress
        | ErrorKind::Unavailable
        | ErrorKind::Other => None,
    }
}

/// Submits every set; returns each with its outcome, in the order given. Sets of one distribution
/// go one after another, in the order given; distributions side by side.
pub async fn resubmit<'s, C, F>(
    cloudfront: &C,
    sets: &'s [ResubmitSet],
    pacing: Pacing,
    progress: F,
) -> Vec<(&'s ResubmitSet, Outcome)>
where
    C: CloudFront,
    F: Fn(Progress<'_>),
{
    let deadline = Instant::now() + pacing.max_wait;
    let mut distributions: Vec<&str> = Vec::new();
    for s in sets {
        if !distributions.contains(&s.distribution_id.as_str()) {
            distributions.push(&s.distribution_id);
        }
    }
    let progress = &progress;
    let runs = distributions.into_iter().map(|d| async move {
        let mut done = Vec::new();
        // Once a set gave up, the distribution's later sets are not sent before it: they wait
        // with it, for the next run, so a distribution's sets stay in order.
        let mut behind: Option<usize> = None;
        for set in sets.iter().filter(|s| s.distribution_id == d) {
            let outcome = match behind {
                Some(first) => Outcome::GaveUp {
                    waited: Duration::ZERO,
                    why: format!("behind set {first} of this distribution, which is still waiting"),
                },
                None => submit(cloudfront, set, pacing, deadline, progress).await,
            };
            if behind.is_none() && matches!(outcome, Outcome::GaveUp { .. }) {
                behind = Some(set.set);
            }
            progress(Progress::Done { set, outcome: &outcome });
            done.push((set, outcome));
        }
        done
    });
    let mut out: Vec<(&ResubmitSet, Outcome)> = join_all(runs).await.into_iter().flatten().collect();
    // Back in the order given.
    out.sort_by_key(|(s, _)| sets.iter().position(|x| std::ptr::eq(x, *s)));
    out
}

/// One set: wait until it fits, then create it.
async fn submit<C: CloudFront, F: Fn(Progress<'_>)>(
    cloudfront: &C,
    set: &ResubmitSet,
    pacing: Pacing,
    deadline: Instant,
    progress: &F,
) -> Outcome {
    let reference = set.caller_reference();
    let started = Instant::now();
    loop {
        let why = match capacity::check(cloudfront, &set.distribution_id, &reference, &set.paths).await {
            Ok(Capacity::AlreadySubmitted(inv)) => return Outcome::InProgress { invalidation_id: inv.id },
            Ok(Capacity::Full(in_progress)) => {
                progress(Progress::Waiting { set, in_progress: &in_progress });
                format!(
                    "{} invalidation(s) with {} path(s), {} wildcard(s), still in progress",
                    in_progress.invalidations, in_progress.paths, in_progress.wildcards
                )
            }
            Ok(Capacity::Fits(_)) => {
                match cloudfront.create_invalidation(&set.distribution_id, &reference, &set.paths).await {
                    Ok(inv) => return Outcome::Submitted { invalidation_id: inv.id, status: inv.status },
                    Err(e) => match refusal(&e) {
                        Some(error) => return Outcome::Refused { error, message: e.detail().to_owned() },
                        None => {
                            progress(Progress::Retrying { set, why: &e.message });
                            e.message
                        }
                    },
                }
            }
            Err(e) => match refusal(&e) {
                Some(error) => return Outcome::Refused { error, message: e.detail().to_owned() },
                None => {
                    progress(Progress::Retrying { set, why: &e.message });
                    e.message
                }
            },
        };
        if Instant::now() + pacing.poll > deadline {
            return Outcome::GaveUp { waited: started.elapsed(), why };
        }
        tokio::time::sleep(pacing.poll).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::FakeCloudFront;
    use cfinv_core::report::parse_error_file;
    use std::sync::Mutex;

    fn file(name: &str, body: &str) -> Vec<ResubmitSet> {
        ResubmitSet::of_file(name, &parse_error_file(body).unwrap())
    }

    const PACING: Pacing = Pacing { poll: Duration::from_secs(10), max_wait: Duration::from_secs(60) };

    #[test]
    fn references_are_derived_from_the_file_and_the_set() {
        let sets = file(
            "20260101000000123abcdefghi_E1",
            "CloudFront Id [E1]\n(Set 2 Start)\n/a\n(Set 2 End)\n(Set 3 Start)\n(Set 3 End)\n",
        );
        assert_eq!(sets.len(), 1, "an empty set is left out");
        assert_eq!(sets[0].caller_reference(), "cfinv-resubmit/20260101000000123abcdefghi_E1/2");
    }

    #[tokio::test(start_paused = true)]
    async fn a_rerun_creates_nothing_new() {
        let cf = FakeCloudFront::default();
        let sets = file("f_E1", "CloudFront Id [E1]\n(Set 1 Start)\n/a\n/b*\n(Set 1 End)\n");
        let first = resubmit(&cf, &sets, PACING, |_| {}).await;
        assert_eq!(first[0].1, Outcome::Submitted { invalidation_id: "I0".into(), status: "InProgress".into() });
        // Still in progress: recognised by its reference.
        let again = resubmit(&cf, &sets, PACING, |_| {}).await;
        assert_eq!(again[0].1, Outcome::InProgress { invalidation_id: "I0".into() });
        // Completed: CloudFront answers with the same invalidation.
        cf.complete_all("E1");
        let third = resubmit(&cf, &sets, PACING, |_| {}).await;
        assert!(matches!(&third[0].1, Outcome::Submitted { invalidation_id, .. } if invalidation_id == "I0"));
        assert_eq!(cf.created.lock().unwrap().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_distributions_sets_wait_for_capacity_and_others_go_on() {
        let cf = FakeCloudFront::default();
        let full: Vec<String> = (0..3000).map(|i| format!("/p{i}")).collect();
        let mut sets = file("f_E1", "CloudFront Id [E1]\n(Set 1 Start)\n/x\n(Set 1 End)\n");
        sets[0].paths = full.clone();
        sets.push(ResubmitSet { set: 2, paths: vec!["/y".into()], ..sets[0].clone() });
        sets.extend(file("g_E2", "CloudFront Id [E2]\n(Set 1 Start)\n/z\n(Set 1 End)\n"));
        let waited = Mutex::new(Vec::new());
        let order = Mutex::new(Vec::new());
        let cf = &cf;
        let run = resubmit(cf, &sets, PACING, |p| match p {
            Progress::Waiting { set, in_progress } => waited.lock().unwrap().push((set.set, in_progress.paths)),
            Progress::Done { set, .. } => order.lock().unwrap().push(format!("{}/{}", set.distribution_id, set.set)),
            Progress::Retrying { why, .. } => panic!("no error here: {why}"),
        });
        // Set 2 of E1 waits for set 1 (3000 paths in progress) to complete.
        let complete = async {
            tokio::time::sleep(Duration::from_secs(25)).await;
            cf.complete_all("E1");
        };
        let (out, ()) = tokio::join!(run, complete);
        assert!(out.iter().all(|(_, o)| o.is_submitted()), "{out:?}");
        assert_eq!(out.iter().map(|(s, _)| s.set).collect::<Vec<_>>(), [1, 2, 1], "in the order given");
        assert_eq!(*waited.lock().unwrap(), [(2, 3000), (2, 3000), (2, 3000)]);
        assert_eq!(*order.lock().unwrap(), ["E1/1", "E2/1", "E1/2"], "E2 did not wait for E1");
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_set_is_named_and_the_others_go_on() {
        let cf = FakeCloudFront::default();
        cf.fail("E1", &[ErrorKind::AccessDenied]);
        let mut sets =
            file("f_E1", "CloudFront Id [E1]\n(Set 1 Start)\n/a\n(Set 1 End)\n(Set 2 Start)\n/b\n(Set 2 End)\n");
        sets.extend(file("g_E2", "CloudFront Id [E2]\n(Set 1 Start)\n/z\n(Set 1 End)\n"));
        let out = resubmit(&cf, &sets, PACING, |_| {}).await;
        assert!(matches!(&out[0].1, Outcome::Refused { error: ErrorType::AccessDenied, .. }), "{out:?}");
        assert!(out[1].1.is_submitted() && out[2].1.is_submitted(), "{out:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_is_waited_out_and_a_busy_distribution_given_up_after_max_wait() {
        let cf = FakeCloudFront::default();
        cf.fail("E1", &[ErrorKind::Throttled, ErrorKind::TooManyInvalidationsInProgress]);
        let sets = file("f_E1", "CloudFront Id [E1]\n(Set 1 Start)\n/a\n(Set 1 End)\n");
        let out = resubmit(&cf, &sets, PACING, |_| {}).await;
        assert!(out[0].1.is_submitted(), "{out:?}");

        let busy = FakeCloudFront::default();
        let full: Vec<String> = (0..3000).map(|i| format!("/p{i}")).collect();
        busy.create_invalidation("E1", "someone-else", &full).await.unwrap();
        let started = Instant::now();
        let out = resubmit(&busy, &sets, PACING, |_| {}).await;
        assert!(matches!(&out[0].1, Outcome::GaveUp { why, .. } if why.contains("3000 path(s)")), "{out:?}");
        assert!(started.elapsed() <= PACING.max_wait, "bounded: {:?}", started.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_set_gives_up_the_distributions_later_sets_wait_with_it() {
        // README: "its remaining sets are then named as still waiting". A smaller set 2 would fit
        // beside what is in progress, but must not go before set 1.
        let busy = FakeCloudFront::default();
        let held: Vec<String> = (0..2000).map(|i| format!("/p{i}")).collect();
        busy.create_invalidation("E1", "someone-else", &held).await.unwrap();
        let big: Vec<String> = (0..1500).map(|i| format!("/big/{i}")).collect();
        let text = format!(
            "CloudFront Id [E1]\n(Set 1 Start)\n{}\n(Set 1 End)\n(Set 2 Start)\n/small\n(Set 2 End)\n",
            big.join("\n")
        );
        let sets = file("f_E1", &text);
        let out = resubmit(&busy, &sets, PACING, |_| {}).await;
        assert!(matches!(&out[0].1, Outcome::GaveUp { .. }), "{out:?}");
        assert!(matches!(&out[1].1, Outcome::GaveUp { why, .. } if why.contains("behind set 1")), "{out:?}");
        assert_eq!(busy.invalidations_in_progress("E1").await.unwrap().len(), 1, "nothing of ours was sent");
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_that_may_pass_is_shown_each_time_it_is_met() {
        let cf = FakeCloudFront::default();
        cf.fail("E1", &[ErrorKind::Unavailable, ErrorKind::Unavailable]);
        let sets = file("f_E1", "CloudFront Id [E1]\n(Set 1 Start)\n/a\n(Set 1 End)\n");
        let seen = std::sync::Mutex::new(Vec::new());
        let out = resubmit(&cf, &sets, PACING, |p| {
            if let Progress::Retrying { why, .. } = p {
                seen.lock().unwrap().push(why.to_owned());
            }
        })
        .await;
        assert!(out[0].1.is_submitted(), "{out:?}");
        assert_eq!(seen.lock().unwrap().len(), 2, "{seen:?}");
    }
}
