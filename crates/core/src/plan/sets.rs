//! The rules that shape a distribution's paths into invalidations.
//!
//! - A path already covered by a wildcard path of the same distribution is dropped: it would be
//!   billed for nothing.
//! - Sets hold at most `max_set_size` paths, of which at most `max_wildcards_per_set` wildcards:
//!   CloudFront refuses more than 3000 paths, or 15 wildcard paths, in progress per distribution
//!   (CloudFront guide, "Concurrent invalidation request maximum").

use std::ops::Range;
use std::sync::Arc;

use super::PlanOptions;

/// The wildcard paths of one distribution, reduced to a prefix-free sorted set of prefixes: then
/// the only one that can cover a path is the greatest one not after it.
pub(super) struct Wildcards<'a> {
    pub(super) reduced: Vec<&'a str>,
}

impl<'a> Wildcards<'a> {
    /// The wildcards among `items`; cache tags (`#...`) are never wildcards, even ending with `*`.
    pub(super) fn new(items: impl Iterator<Item = &'a str>) -> Self {
        let mut prefixes: Vec<&str> =
            items.filter(|p| !crate::cache_tags::is_tag_item(p)).filter_map(|p| p.strip_suffix('*')).collect();
        prefixes.sort_unstable();
        let mut reduced: Vec<&str> = Vec::with_capacity(prefixes.len());
        for p in prefixes {
            if reduced.last().is_none_or(|last| !p.starts_with(last)) {
                reduced.push(p);
            }
        }
        Wildcards { reduced }
    }

    /// The prefix of the wildcard that covers `path` (possibly `path`'s own, if it is a wildcard).
    pub(super) fn covering(&self, path: &str) -> Option<&'a str> {
        let at = self.reduced.partition_point(|q| *q <= path);
        at.checked_sub(1).map(|i| self.reduced[i]).filter(|q| path.starts_with(q))
    }
}

/// Drops every path covered by a wildcard path of the same list (sorted, unique ranks).
pub(super) fn drop_covered<'a>(ranks: Vec<u32>, path: impl Fn(u32) -> &'a Arc<str>) -> Vec<u32> {
    let wildcards = Wildcards::new(ranks.iter().map(|&r| &**path(r)));
    if wildcards.reduced.is_empty() {
        return ranks;
    }
    ranks
        .into_iter()
        .filter(|&r| {
            let p: &str = path(r);
            match wildcards.covering(p) {
                // Keep the wildcard itself, drop what it covers.
                Some(q) => p.strip_suffix('*') == Some(q),
                None => true,
            }
        })
        .collect()
}

/// Splits sorted ranks into sets: each at most `max_set_size` paths, of which at most
/// `max_wildcards_per_set` wildcards. Returns the ranges and the paths in set order.
pub(super) fn split_sets(
    ranks: Vec<u32>,
    is_wild: impl Fn(u32) -> bool,
    options: PlanOptions,
) -> (Vec<Range<usize>>, Vec<u32>) {
    if !ranks.iter().any(|&r| is_wild(r)) {
        let size = options.max_set_size;
        let sets = (0..ranks.len()).step_by(size).map(|s| s..(s + size).min(ranks.len())).collect();
        return (sets, ranks);
    }
    let (wild, exact): (Vec<u32>, Vec<u32>) = ranks.iter().partition(|&&r| is_wild(r));
    let (mut w, mut e) = (&wild[..], &exact[..]);
    let mut ordered = Vec::with_capacity(ranks.len());
    let mut sets = Vec::new();
    while !w.is_empty() || !e.is_empty() {
        let nw = w.len().min(options.max_wildcards_per_set).min(options.max_set_size);
        let ne = e.len().min(options.max_set_size - nw);
        let start = ordered.len();
        ordered.extend_from_slice(&w[..nw]);
        ordered.extend_from_slice(&e[..ne]);
        ordered[start..].sort_unstable();
        sets.push(start..ordered.len());
        w = &w[nw..];
        e = &e[ne..];
    }
    (sets, ordered)
}
