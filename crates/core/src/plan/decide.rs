//! The rules for one route: given which patterns match a viewer path, what one origin of one
//! distribution decides for a creation and for a removal.
//!
//! 1. The first behavior (in evaluation order, default last) whose pattern matches serves the path
//!    (CloudFront guide, "Path pattern").
//! 2. If that behavior targets another origin, the path is `not-served` through this one.
//! 3. A removal is always invalidated: error answers are cached even on a behavior that caches
//!    nothing else (seed, note #2).
//! 4. A creation on a behavior that caches nothing (MaxTTL 0) has nothing stale, unless the
//!    distribution caches the error a request for the missing key got (a 404, or a 403 with a
//!    custom error response) for longer than the batch window: then it is invalidated
//!    (`error-cached`). CachingDisabled caches no errors at all. Otherwise it is `not-cached`.
//! 5. When the behavior's cache key holds query strings, every variant `path?...` is cached apart,
//!    and the item is `path*` (CloudFront guide, "Invalidate files": "include the query string or
//!    end the path with *").

use crate::behavior::Matches;
use crate::cache::Caching;

use super::compile::{PrefixGroup, Route};
use super::Planner;

/// How the path of a served key becomes an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Variant {
    /// The behavior caches query-string variants: the item is `path*`.
    pub(super) query_strings: bool,
    /// A creation invalidated only because its earlier error may still be cached.
    pub(super) error_cached: bool,
}

/// The outcome of one (event, distribution), best first: an item beats a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Outcome {
    Item(Variant),
    NotCached,
    NotServed,
}

impl Planner {
    /// One route's (creation, removal) outcomes for a path served by behavior `bi`.
    pub(super) fn decide_behavior(&self, route: &Route, bi: usize) -> (Outcome, Outcome) {
        if !route.serves[bi] {
            return (Outcome::NotServed, Outcome::NotServed);
        }
        let dist = &self.dists[route.dist];
        let cache = dist.caches[bi];
        let cached = Variant { query_strings: cache.query_strings, error_cached: false };
        let creation = if cache.caching != Caching::NotCached {
            Outcome::Item(cached)
        } else if cache.caches_errors && dist.error_caching_seconds > i64::from(self.options.window_seconds()) {
            Outcome::Item(Variant { error_cached: true, ..cached })
        } else {
            Outcome::NotCached
        };
        (creation, Outcome::Item(cached))
    }

    /// One route's outcomes for a path with these matches.
    pub(super) fn decide(&self, route: &Route, matches: &Matches) -> (Outcome, Outcome) {
        self.decide_behavior(route, route.order.first_match(matches))
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
