//! Routing a batch: every event through every origin that reaches its bucket, to a path or a reason
//! per distribution.
//!
//! For each event (see the module documentation of [`super`] for the rules in order): the early
//! reasons ([`super::pre_filter`]); then each OriginPath group of the bucket whose prefix holds the
//! key gives one encoded viewer path, matched once against the group's patterns; each route of the
//! group decides ([`super::decide`], memoised by [`super::memo`]); and a distribution that got no
//! path from any of its routes is told why, by its best outcome.

use crate::behavior::Matches;
use crate::event::{Change, ObjectEvent};
use crate::exception::Exceptions;
use crate::path::push_encoded;

use super::decide::Outcome;
use super::memo::{Memo, MemoKey};
use super::output::Builder;
use super::{pre_filter, Plan, Planner, Reason};

/// Per distribution, the best outcome of the event being routed: a distribution reached through
/// several origins gets a skip only if none of them gave a path. Reused across events (stamped
/// with the event's index) instead of a map per event.
struct EventOutcomes {
    stamp: Vec<usize>,
    best: Vec<Outcome>,
    touched: Vec<usize>,
}

impl EventOutcomes {
    fn new(dists: usize) -> Self {
        EventOutcomes { stamp: vec![usize::MAX; dists], best: vec![Outcome::NotServed; dists], touched: Vec::new() }
    }

    fn start(&mut self) {
        self.touched.clear();
    }

    /// Keeps the best outcome of `dist` for event `event`.
    fn record(&mut self, event: usize, dist: usize, outcome: Outcome) {
        if self.stamp[dist] != event {
            self.stamp[dist] = event;
            self.best[dist] = outcome;
            self.touched.push(dist);
        } else if outcome < self.best[dist] {
            self.best[dist] = outcome;
        }
    }

    /// Whether `dist` was reached by event `event`; marks it reached.
    fn reach(&mut self, event: usize, dist: usize) -> bool {
        std::mem::replace(&mut self.stamp[dist], event) == event
    }
}

impl Planner {
    /// Plans a batch: per distribution its unique paths in sets, and a reason for everything
    /// skipped (in event order).
    pub fn plan(&self, events: &[ObjectEvent], exceptions: &Exceptions) -> Plan {
        let mut b = Builder::new(self.dists.len());
        let mut encoded = String::with_capacity(256);
        let mut outcomes = EventOutcomes::new(self.dists.len());
        let mut matches = Matches::default();
        let mut memos: Vec<Memo> = (0..self.groups).map(|_| Memo::default()).collect();

        for (i, ev) in events.iter().enumerate() {
            if let Some(reason) = pre_filter(ev, exceptions) {
                b.skip(i, None, reason);
                continue;
            }
            outcomes.start();
            let groups = self.buckets.get(&ev.bucket).map(Vec::as_slice).unwrap_or_default();
            for group in groups {
                let Some(rest) = ev.key.strip_prefix(group.key_prefix.as_str()) else {
                    continue;
                };
                encoded.clear();
                encoded.push('/');
                push_encoded(rest, &mut encoded);
                group.patterns.matching(&encoded, &mut matches);
                let memo = &mut memos[group.index];
                let key = MemoKey::of(&matches);
                let base = match memo.get(&key) {
                    Some(base) => base,
                    None => memo.insert(key, self.decide_group(group, &matches)),
                };
                let mut path: Option<u32> = None;
                for (k, route) in group.routes.iter().enumerate() {
                    let (created, removed) = memo.outcomes[base + k];
                    let outcome = if ev.change == Change::Created { created } else { removed };
                    if outcome == Outcome::Path {
                        let id = *path.get_or_insert_with(|| b.intern(&encoded));
                        b.add(route.dist, id, ev);
                    }
                    outcomes.record(i, route.dist, outcome);
                }
            }
            if outcomes.touched.is_empty() {
                b.skip(i, None, Reason::NoOrigin);
                continue;
            }
            // Distributions that reach the bucket, but through no origin that holds this key.
            for route in groups.iter().flat_map(|g| &g.routes) {
                if !outcomes.reach(i, route.dist) {
                    b.skip(i, Some(self.dists[route.dist].id.clone()), Reason::NoOrigin);
                }
            }
            for &d in &outcomes.touched {
                let reason = match outcomes.best[d] {
                    Outcome::Path => continue,
                    Outcome::NotCached => Reason::NotCached,
                    Outcome::NotServed => Reason::NotServed,
                };
                b.skip(i, Some(self.dists[d].id.clone()), reason);
            }
        }
        b.finish(self)
    }
}
