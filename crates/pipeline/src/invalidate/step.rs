//! One step of a unit: the state machine calls it, waits as long as it says, and calls it again
//! until it says the unit is done.
//!
//! A step reads where every set of its distribution stands from the markers beside the sets (one
//! listing), so it holds no progress of its own in the state: a retried step, a redrive or a
//! continuation picks up exactly where the last one left. Then:
//!
//! 1. every accepted set whose invalidations are all `Completed` (GetInvalidation) is marked
//!    completed;
//! 2. the unit's sets are submitted in order, while each fits beside what the distribution has in
//!    progress ([`crate::capacity`]); the first that does not fit stops the round (a later set never
//!    overtakes an earlier one);
//! 3. when nothing is left to submit or to wait for, the unit is done ([`super::finish`]);
//!    otherwise the answer says how long to wait:
//!    - while the unit's own sets are in progress (the next set waits for them, or nothing is left to
//!      submit), the poll interval: their completion is what frees the room, CloudFront states 25 s
//!      at p95, and a longer wait only leaves the room empty; doubling every six polls without
//!      progress, up to `CFINV_MAX_WAIT_SECONDS`;
//!    - while others' invalidations (another execution, another tool) hold the room, the capacity
//!      interval, unchanged for [`FAIR_WAITS`] waits: a unit that has waited long must not ask less
//!      often than one that has just started to (which, growing its waits, an older execution's unit
//!      would, and be overtaken by every newer one); only then doubling, to bound the history.

use serde::{Deserialize, Serialize};
use tracing::info;

use crate::ports::{CloudFront, Events, Executions, Objects};
use crate::run::{Run, RunKeys, Unit};
use crate::sets::{put_marker, read_json, Accepted, Completed, Failed, Mark, Marks, SetState};

use super::submit::Submitted;
use super::{Invalidate, InvalidateError};

/// A unit's step, in and out: the state of one Map iteration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitStep {
    pub run: Run,
    pub unit: Unit,
    /// Steps in a row that changed nothing (the waits grow with it).
    #[serde(default)]
    pub idle: u32,
    /// Seconds the state machine waits before the next step.
    #[serde(default)]
    pub wait: u32,
    /// Why it waits: `capacity` or `completion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_for: Option<String>,
    /// Sets of the unit that failed in this pass (not submitted again until the next one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<usize>,
    /// The unit is done.
    #[serde(default)]
    pub done: bool,
}

/// Waits for others' invalidations at the capacity interval before they start to grow: 180 waits,
/// 30 minutes at the default 10 s (a distribution busy for longer is busy with something else).
pub const FAIR_WAITS: u32 = 180;

/// How long to wait: `base` seconds, doubled every six idle steps, at most `max`.
pub fn backoff(base: u32, idle: u32, max: u32) -> u32 {
    base.saturating_mul(1 << (idle / 6).min(8)).min(max).max(1)
}

impl<O: Objects, C: CloudFront, E: Executions, V: Events> Invalidate<O, C, E, V> {
    #[tracing::instrument(name = "step", skip_all, fields(execution = %st.run.execution, pass = %st.run.pass, distribution = %st.unit.distribution_id, first = st.unit.first, last = st.unit.last))]
    pub(super) async fn step(&self, mut st: UnitStep) -> Result<UnitStep, InvalidateError> {
        if st.unit.is_empty() || st.unit.first == 0 || st.unit.last > st.unit.of {
            return Err(InvalidateError::InvalidInput(format!("unit {:?} is not a range of its sets", st.unit)));
        }
        let s = &self.settings;
        let keys = RunKeys::of(&s.plan_prefix, &st.run);
        let d = st.unit.distribution_id.clone();
        let mut marks =
            Marks::list(&self.objects, &s.plan_bucket, &keys, &d).await.map_err(InvalidateError::StorageUnavailable)?;
        let mut progress = false;

        // 1. Completions.
        for set in st.unit.sets() {
            if marks.state(set) != SetState::Accepted {
                continue;
            }
            let accepted: Accepted =
                read_json(&self.objects, &s.plan_bucket, &keys.marker(&d, set, Mark::Accepted.as_str())).await?;
            if !self.all_completed(&d, &accepted.invalidation_ids).await? {
                continue;
            }
            let completed = Completed {
                invalidation_ids: accepted.invalidation_ids,
                accepted_at: accepted.accepted_at,
                completed_at: crate::timestamp((self.clock)()),
                items: accepted.items,
            };
            put_marker(&self.objects, &s.plan_bucket, &keys, &d, set, Mark::Completed, &completed)
                .await
                .map_err(InvalidateError::StorageUnavailable)?;
            marks.add(set, Mark::Completed);
            info!(set, "set completed");
            progress = true;
        }

        // 2. Submissions, in order.
        let mut blocked = false;
        for set in st.unit.sets() {
            match marks.state(set) {
                SetState::Completed | SetState::Accepted | SetState::Refused => continue,
                SetState::Failed if st.failed.contains(&set) => continue,
                SetState::Failed => {
                    // Failed by an earlier attempt of this step (not in `failed`, which that
                    // attempt could not return), or in an earlier pass (tried again now).
                    let failed: Failed =
                        read_json(&self.objects, &s.plan_bucket, &keys.marker(&d, set, Mark::Failed.as_str())).await?;
                    if failed.pass == st.run.pass {
                        st.failed.push(set);
                        continue;
                    }
                }
                SetState::NotSubmitted => {}
            }
            match self.submit(&keys, &st.run, &st.unit, set).await? {
                Submitted::Accepted => marks.add(set, Mark::Accepted),
                Submitted::AllRefused => marks.add(set, Mark::Refused),
                Submitted::Failed => {
                    marks.add(set, Mark::Failed);
                    st.failed.push(set);
                }
                Submitted::NoRoom => {
                    blocked = true;
                    break;
                }
            }
            progress = true;
        }

        // 3. Done, or wait.
        let waiting = st.unit.sets().any(|set| match marks.state(set) {
            SetState::NotSubmitted | SetState::Accepted => true,
            SetState::Failed => !st.failed.contains(&set),
            SetState::Completed | SetState::Refused => false,
        });
        if !waiting {
            self.finish(&keys, &st, &marks).await?;
            st.done = true;
            st.wait = 0;
            st.waiting_for = None;
            return Ok(st);
        }
        st.idle = if progress { 0 } else { st.idle + 1 };
        let own_in_progress = st.unit.sets().any(|set| marks.state(set) == SetState::Accepted);
        if blocked && !own_in_progress {
            crate::metrics::capacity_wait(&d);
            st.wait = backoff(s.capacity_wait_seconds, st.idle.saturating_sub(FAIR_WAITS), s.max_wait_seconds);
            st.waiting_for = Some("capacity".into());
        } else if blocked {
            // The unit's own previous set holds the room: it is freed when that completes.
            crate::metrics::capacity_wait(&d);
            st.wait = backoff(s.poll_seconds, st.idle, s.max_wait_seconds);
            st.waiting_for = Some("capacity".into());
        } else {
            st.wait = backoff(s.poll_seconds, st.idle, s.max_wait_seconds);
            st.waiting_for = Some("completion".into());
        }
        info!(wait = st.wait, waiting_for = st.waiting_for.as_deref().unwrap_or(""), "waiting");
        Ok(st)
    }

    /// Whether every one of these invalidations is `Completed`. One CloudFront no longer knows
    /// (`NoSuchInvalidation`) is not in progress either.
    async fn all_completed(&self, distribution_id: &str, ids: &[String]) -> Result<bool, InvalidateError> {
        for id in ids {
            match self.cloudfront.get_invalidation(distribution_id, id).await {
                Ok(inv) if inv.completed() => {}
                Ok(_) => return Ok(false),
                Err(e) if e.kind == crate::ports::ErrorKind::NotFound && !e.is_code("NoSuchDistribution") => {}
                Err(source) => {
                    return Err(InvalidateError::CloudFront { distribution: distribution_id.to_owned(), source })
                }
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn waits_for_others_stay_the_same_for_half_an_hour_then_grow() {
        use super::FAIR_WAITS;
        let wait = |idle: u32| backoff(10, idle.saturating_sub(FAIR_WAITS), 60);
        assert_eq!((wait(1), wait(100), wait(FAIR_WAITS + 5)), (10, 10, 10));
        assert_eq!((wait(FAIR_WAITS + 6), wait(FAIR_WAITS + 12)), (20, 40));
    }

    #[test]
    fn waits_double_every_six_idle_steps_up_to_the_maximum() {
        let waits: Vec<u32> = [0, 5, 6, 11, 12, 18, 24, 60].iter().map(|&i| backoff(5, i, 60)).collect();
        assert_eq!(waits, [5, 5, 10, 10, 20, 40, 60, 60]);
        assert_eq!(backoff(0, 0, 60), 1, "never a zero wait");
    }
}
