//! The rules for one route: given which patterns match a viewer path, what one origin of one
//! distribution decides for a creation and for a removal.
//!
//! 1. The first behavior (in evaluation order, default last) whose pattern matches serves the path
//!    (CloudFront guide, "Path pattern").
//! 2. If that behavior targets another origin, the path is `not-served` through this one.
//! 3. If it caches nothing (MaxTTL 0), a creation has nothing stale: `not-cached`. A removal is
//!    still invalidated, because error answers are cached even there (seed, note #2).

use crate::behavior::Matches;

use super::compile::{PrefixGroup, Route};
use super::Planner;

/// The outcome of one (event, distribution), best first: a path beats a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Outcome {
    Path,
    NotCached,
    NotServed,
}

impl Planner {
    /// One route's (creation, removal) outcomes for a path with these matches.
    pub(super) fn decide(&self, route: &Route, matches: &Matches) -> (Outcome, Outcome) {
        let bi = route.order.first_match(matches);
        if !route.serves[bi] {
            (Outcome::NotServed, Outcome::NotServed)
        } else if self.dists[route.dist].not_cached[bi] {
            (Outcome::NotCached, Outcome::Path)
        } else {
            (Outcome::Path, Outcome::Path)
        }
    }

    /// Every route's outcomes in a group, in route order.
    pub(super) fn decide_group<'a>(
        &'a self,
        group: &'a PrefixGroup,
        matches: &'a Matches,
    ) -> impl Iterator<Item = (Outcome, Outcome)> + 'a {
        group.routes.iter().map(move |route| self.decide(route, matches))
    }
}
