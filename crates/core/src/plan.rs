//! The plan: for a batch of S3 events, which paths of which distributions to invalidate, in which
//! sets, and why every other (event, distribution) was left alone.
//!
//! A [`Planner`] is compiled once from the distributions (it indexes them by bucket, then by the
//! OriginPath through which they reach it) and then plans any number of batches. For each event:
//!
//! 1. a test event, or one that changes no content, is skipped (`test-event`, `not-a-change`);
//! 2. a creation under the bucket's `exceptionPaths` is skipped (`exception-path`);
//! 3. every origin that reaches the bucket, and whose OriginPath holds the key, gives a viewer path;
//!    none gives `no-origin`;
//! 4. in each distribution, the first matching behavior must target that origin (or a group that
//!    holds it), otherwise `not-served`; and if it caches nothing, a creation is `not-cached`;
//! 5. what remains is encoded ([`crate::path`]) and added to the distribution's paths.
//!
//! Paths are unique per distribution and sorted, so the same events in any order give the same
//! sets (and the same CallerReferences downstream). Sets hold at most `max_set_size` paths and at
//! most `max_wildcards_per_set` wildcards: CloudFront refuses more than 3000 paths, or 15 wildcard
//! paths, in progress per distribution. An exact path already covered by a wildcard in the same
//! distribution is dropped, since it would be billed for nothing.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use serde::Serialize;

use crate::behavior::Behaviors;
use crate::cache::{CachePolicies, Caching};
use crate::distribution::Distribution;
use crate::event::{Change, ObjectEvent};
use crate::exception::Exceptions;
use crate::origin::{bucket_of_domain, key_prefix};
use crate::path::{push_encoded, to_invalidation_path, WildcardReason, MAX_PATH_LEN};

/// CloudFront's limit on paths in progress per distribution, hence on one invalidation.
pub const MAX_SET_SIZE: usize = 3000;
/// CloudFront's limit on wildcard paths in progress per distribution.
pub const MAX_WILDCARDS_IN_PROGRESS: usize = 15;

/// Why an (event, distribution) gives no path. The names are stable: they appear in the CLI's
/// output and in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// A creation under the bucket's `exceptionPaths`.
    ExceptionPath,
    /// A creation on a behavior that caches nothing (MaxTTL 0).
    NotCached,
    /// The distribution reaches the bucket, but the behavior that serves the path targets another
    /// origin.
    NotServed,
    /// No distribution reaches the bucket under this key (no origin, or outside every OriginPath).
    NoOrigin,
    /// The `s3:TestEvent` sent when a notification is configured.
    TestEvent,
    /// An event that does not change the object's content (restore, tags, ACL...).
    NotAChange,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::ExceptionPath => "exception-path",
            Reason::NotCached => "not-cached",
            Reason::NotServed => "not-served",
            Reason::NoOrigin => "no-origin",
            Reason::TestEvent => "test-event",
            Reason::NotAChange => "not-a-change",
        }
    }
}

/// How many paths a set may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanOptions {
    max_set_size: usize,
    max_wildcards_per_set: usize,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            max_set_size: MAX_SET_SIZE,
            max_wildcards_per_set: MAX_WILDCARDS_IN_PROGRESS,
        }
    }
}

/// A set-size limit out of CloudFront's range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error("set size must be between 1 and {MAX_SET_SIZE}, not {0}")]
    SetSize(usize),
    #[error("wildcards per set must be between 1 and {MAX_WILDCARDS_IN_PROGRESS}, not {0}")]
    Wildcards(usize),
}

impl PlanOptions {
    /// Sets of at most `max_set_size` paths (1..=3000) and `max_wildcards_per_set` wildcard paths
    /// (1..=15).
    pub fn new(max_set_size: usize, max_wildcards_per_set: usize) -> Result<Self, OptionsError> {
        if !(1..=MAX_SET_SIZE).contains(&max_set_size) {
            return Err(OptionsError::SetSize(max_set_size));
        }
        if !(1..=MAX_WILDCARDS_IN_PROGRESS).contains(&max_wildcards_per_set) {
            return Err(OptionsError::Wildcards(max_wildcards_per_set));
        }
        Ok(PlanOptions {
            max_set_size,
            max_wildcards_per_set,
        })
    }

    pub fn max_set_size(&self) -> usize {
        self.max_set_size
    }
}

/// Something odd in a distribution's config: it is planned as well as it can be, and the operator
/// is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    pub distribution_id: String,
    pub message: String,
}

/// A distribution compiled for planning.
#[derive(Debug)]
struct Compiled {
    id: Arc<str>,
    behaviors: Behaviors,
    /// Per behavior index: caches nothing.
    not_cached: Vec<bool>,
}

/// One origin of one distribution that reaches a bucket.
#[derive(Debug)]
struct Route {
    dist: usize,
    /// Per behavior index: the behavior targets this origin, or a group that holds it.
    serves: Vec<bool>,
}

/// The routes into a bucket that share one OriginPath (hence one viewer path per key).
#[derive(Debug)]
struct PrefixGroup {
    key_prefix: String,
    routes: Vec<Route>,
}

/// Distributions compiled for planning; see the module documentation.
#[derive(Debug)]
pub struct Planner {
    dists: Vec<Compiled>,
    buckets: HashMap<String, Vec<PrefixGroup>>,
    warnings: Vec<Warning>,
    options: PlanOptions,
}

/// An (event, distribution) that gives no path, or an event that gives none at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// Index of the event in the planned slice.
    pub event: usize,
    /// Set when the reason concerns one distribution (`not-served`, `not-cached`).
    pub distribution_id: Option<Arc<str>>,
    pub reason: Reason,
}

/// A path that had to become a wildcard, and the key it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WildcardNote {
    pub path: Arc<str>,
    pub bucket: String,
    pub key: String,
    pub reason: WildcardReason,
}

/// What one distribution is to receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributionPlan {
    pub distribution_id: Arc<str>,
    /// Every path, unique; ordered set by set, sorted within each set.
    pub paths: Vec<Arc<str>>,
    /// The sets, as ranges of `paths`; each is one CreateInvalidation.
    pub sets: Vec<Range<usize>>,
    /// Paths that are wildcards, and why.
    pub wildcards: Vec<WildcardNote>,
}

impl DistributionPlan {
    /// The sets, in order.
    pub fn sets(&self) -> impl Iterator<Item = &[Arc<str>]> + '_ {
        self.sets.iter().map(|r| &self.paths[r.clone()])
    }
}

/// The answer for one batch of events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Distributions with at least one path, by id.
    pub invalidations: Vec<DistributionPlan>,
    /// In event order.
    pub skipped: Vec<Skip>,
}

impl Plan {
    /// Total paths over all distributions.
    pub fn path_count(&self) -> usize {
        self.invalidations.iter().map(|d| d.paths.len()).sum()
    }
}

/// The outcome of one (event, distribution), best first: a path beats a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Path,
    NotCached,
    NotServed,
}

impl Planner {
    /// Compiles the distributions. Custom cache policies the distributions use should be in
    /// `policies`; a behavior naming one that is not is assumed to cache (and warned about).
    pub fn new(
        distributions: &[Distribution],
        policies: &CachePolicies,
        options: PlanOptions,
    ) -> Self {
        let mut planner = Planner {
            dists: Vec::with_capacity(distributions.len()),
            buckets: HashMap::new(),
            warnings: Vec::new(),
            options,
        };
        for d in distributions {
            planner.add(d, policies);
        }
        planner
    }

    /// Odd things found in the distributions' configs.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Ids of the distributions that reach this bucket through some origin.
    pub fn distributions_for_bucket(&self, bucket: &str) -> Vec<&str> {
        let mut ids: Vec<&str> = self
            .buckets
            .get(bucket)
            .into_iter()
            .flatten()
            .flat_map(|g| g.routes.iter().map(|r| &*self.dists[r.dist].id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    fn warn(&mut self, d: &Distribution, message: String) {
        self.warnings.push(Warning {
            distribution_id: d.id.clone(),
            message,
        });
    }

    fn add(&mut self, d: &Distribution, policies: &CachePolicies) {
        let ordered = d
            .behaviors
            .iter()
            .chain(std::iter::once(&d.default_behavior));
        let mut not_cached = Vec::new();
        let mut warned_policies: Vec<&str> = Vec::new();
        for b in ordered.clone() {
            let caching = policies.caching(&b.ttl);
            if caching == Caching::UnknownPolicy {
                if let crate::distribution::TtlSettings::Policy { id } = &b.ttl {
                    if !warned_policies.contains(&id.as_str()) {
                        warned_policies.push(id);
                        self.warn(
                            d,
                            format!("cache policy {id} is unknown; assuming its behaviors cache"),
                        );
                    }
                }
            }
            not_cached.push(caching == Caching::NotCached);
            let known = d.origins.iter().any(|o| o.id == b.target_origin_id)
                || d.origin_groups.iter().any(|g| g.id == b.target_origin_id);
            if !known {
                self.warn(
                    d,
                    format!(
                        "behavior {:?} targets unknown origin {:?}; its paths are served by no bucket",
                        b.path_pattern, b.target_origin_id
                    ),
                );
            }
        }
        for g in &d.origin_groups {
            for m in &g.members {
                if !d.origins.iter().any(|o| &o.id == m) {
                    self.warn(
                        d,
                        format!("origin group {:?} names unknown origin {m:?}", g.id),
                    );
                }
            }
        }
        if d.behaviors.len() >= usize::from(u16::MAX) {
            self.warn(
                d,
                format!(
                    "{} cache behaviors is more than we index; skipped",
                    d.behaviors.len()
                ),
            );
            return;
        }

        let dist = self.dists.len();
        let behaviors = Behaviors::new(d.behaviors.iter().map(|b| b.path_pattern.as_str()));
        for origin in &d.origins {
            let Some((bucket, _kind)) = bucket_of_domain(&origin.domain_name) else {
                continue;
            };
            // This origin serves a behavior that targets it directly or through a group.
            let targets: Vec<&str> = std::iter::once(origin.id.as_str())
                .chain(
                    d.origin_groups
                        .iter()
                        .filter(|g| g.members.iter().any(|m| *m == origin.id))
                        .map(|g| g.id.as_str()),
                )
                .collect();
            let serves = ordered
                .clone()
                .map(|b| targets.contains(&b.target_origin_id.as_str()))
                .collect();
            let prefix = key_prefix(&origin.origin_path);
            let groups = self.buckets.entry(bucket).or_default();
            let route = Route { dist, serves };
            match groups.iter_mut().find(|g| g.key_prefix == prefix) {
                Some(g) => g.routes.push(route),
                None => groups.push(PrefixGroup {
                    key_prefix: prefix,
                    routes: vec![route],
                }),
            }
        }
        self.dists.push(Compiled {
            id: Arc::from(d.id.as_str()),
            behaviors,
            not_cached,
        });
    }

    /// Plans a batch.
    pub fn plan(&self, events: &[ObjectEvent], exceptions: &Exceptions) -> Plan {
        let mut b = Builder::new(self.dists.len());
        let mut encoded = String::with_capacity(256);
        // Per distribution: the last event that touched it, and its best outcome for that event.
        let mut stamp = vec![usize::MAX; self.dists.len()];
        let mut best = vec![Outcome::NotServed; self.dists.len()];
        let mut touched: Vec<usize> = Vec::new();

        for (i, ev) in events.iter().enumerate() {
            let early = match ev.change {
                Change::Test => Some(Reason::TestEvent),
                Change::Unchanged => Some(Reason::NotAChange),
                _ if exceptions.skips(ev) => Some(Reason::ExceptionPath),
                _ => None,
            };
            if let Some(reason) = early {
                b.skip(i, None, reason);
                continue;
            }
            touched.clear();
            for group in self.buckets.get(&ev.bucket).into_iter().flatten() {
                let Some(rest) = ev.key.strip_prefix(group.key_prefix.as_str()) else {
                    continue;
                };
                encoded.clear();
                encoded.push('/');
                push_encoded(rest, &mut encoded);
                let mut path: Option<u32> = None;
                for route in &group.routes {
                    let d = &self.dists[route.dist];
                    let bi = d.behaviors.first_match(&encoded);
                    let outcome = if !route.serves[bi] {
                        Outcome::NotServed
                    } else if ev.change == Change::Created && d.not_cached[bi] {
                        Outcome::NotCached
                    } else {
                        Outcome::Path
                    };
                    if outcome == Outcome::Path {
                        let id = *path.get_or_insert_with(|| b.intern(&encoded));
                        b.add(route.dist, id, ev);
                    }
                    if stamp[route.dist] != i {
                        stamp[route.dist] = i;
                        best[route.dist] = outcome;
                        touched.push(route.dist);
                    } else if outcome < best[route.dist] {
                        best[route.dist] = outcome;
                    }
                }
            }
            if touched.is_empty() {
                b.skip(i, None, Reason::NoOrigin);
            }
            for &d in &touched {
                let reason = match best[d] {
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

/// Accumulates one plan: an interner for paths, and per distribution the ids of its paths.
struct Builder {
    ids: HashMap<Box<str>, u32>,
    /// Invalidation path and wildcard reason, by id.
    table: Vec<(Arc<str>, Option<WildcardReason>)>,
    per_dist: Vec<Vec<u32>>,
    /// (distribution, path id, bucket, key) for wildcard paths.
    notes: Vec<(usize, u32, String, String)>,
    skipped: Vec<Skip>,
}

impl Builder {
    fn new(dists: usize) -> Self {
        Builder {
            ids: HashMap::new(),
            table: Vec::new(),
            per_dist: vec![Vec::new(); dists],
            notes: Vec::new(),
            skipped: Vec::new(),
        }
    }

    fn skip(&mut self, event: usize, distribution_id: Option<Arc<str>>, reason: Reason) {
        self.skipped.push(Skip {
            event,
            distribution_id,
            reason,
        });
    }

    /// The id of the invalidation path for an encoded viewer path.
    fn intern(&mut self, encoded: &str) -> u32 {
        // Most paths are their own invalidation path; only `*` and length need the slow way.
        let exact = encoded.len() <= MAX_PATH_LEN && !encoded.contains('*');
        let (key, wildcard): (std::borrow::Cow<'_, str>, _) = if exact {
            (encoded.into(), None)
        } else {
            let p = to_invalidation_path(encoded);
            (p.path.into(), p.wildcard)
        };
        if let Some(&id) = self.ids.get(key.as_ref()) {
            return id;
        }
        let id = u32::try_from(self.table.len()).unwrap_or(u32::MAX);
        self.table.push((Arc::from(key.as_ref()), wildcard));
        self.ids.insert(key.into_owned().into_boxed_str(), id);
        id
    }

    fn add(&mut self, dist: usize, id: u32, ev: &ObjectEvent) {
        self.per_dist[dist].push(id);
        if self.table[id as usize].1.is_some() {
            self.notes
                .push((dist, id, ev.bucket.clone(), ev.key.clone()));
        }
    }

    fn finish(self, planner: &Planner) -> Plan {
        let Builder {
            table,
            mut per_dist,
            mut notes,
            skipped,
            ..
        } = self;
        // Rank every path once; each distribution then sorts small integers, not strings.
        let mut order: Vec<u32> = (0..table.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| table[a as usize].0.cmp(&table[b as usize].0));
        let mut rank = vec![0u32; table.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        notes.sort_unstable_by(|a, b| {
            (a.0, rank[a.1 as usize], &a.3).cmp(&(b.0, rank[b.1 as usize], &b.3))
        });
        notes.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.3 == b.3);

        let mut invalidations = Vec::new();
        for (dist, ids) in per_dist.iter_mut().enumerate() {
            if ids.is_empty() {
                continue;
            }
            for id in ids.iter_mut() {
                *id = rank[*id as usize];
            }
            ids.sort_unstable();
            ids.dedup();
            let ranks = drop_covered(ids, |r| &table[order[r as usize] as usize].0);
            let is_wild = |r: u32| table[order[r as usize] as usize].1.is_some();
            let (sets, ordered) = split_sets(&ranks, is_wild, planner.options);
            let paths: Vec<Arc<str>> = ordered
                .iter()
                .map(|&r| table[order[r as usize] as usize].0.clone())
                .collect();
            let wildcards = notes
                .iter()
                .filter(|n| n.0 == dist)
                .filter(|n| ranks.binary_search(&rank[n.1 as usize]).is_ok())
                .map(|n| WildcardNote {
                    path: table[n.1 as usize].0.clone(),
                    bucket: n.2.clone(),
                    key: n.3.clone(),
                    reason: table[n.1 as usize].1.unwrap_or(WildcardReason::Asterisk),
                })
                .collect();
            invalidations.push(DistributionPlan {
                distribution_id: planner.dists[dist].id.clone(),
                paths,
                sets,
                wildcards,
            });
        }
        invalidations.sort_by(|a, b| a.distribution_id.cmp(&b.distribution_id));
        Plan {
            invalidations,
            skipped,
        }
    }
}

/// Drops every path covered by a wildcard path of the same list (sorted, unique ranks).
fn drop_covered<'a>(ranks: &[u32], path: impl Fn(u32) -> &'a Arc<str>) -> Vec<u32> {
    // The wildcard prefixes, reduced to a prefix-free sorted set: then the only one that can be a
    // prefix of a path is the greatest one not after it.
    let mut prefixes: Vec<&str> = ranks
        .iter()
        .filter_map(|&r| path(r).strip_suffix('*'))
        .collect();
    if prefixes.is_empty() {
        return ranks.to_vec();
    }
    prefixes.sort_unstable();
    let mut reduced: Vec<&str> = Vec::with_capacity(prefixes.len());
    for p in prefixes {
        if reduced.last().is_none_or(|last| !p.starts_with(last)) {
            reduced.push(p);
        }
    }
    ranks
        .iter()
        .copied()
        .filter(|&r| {
            let p: &str = path(r);
            let at = reduced.partition_point(|q| *q <= p);
            match at.checked_sub(1).map(|i| reduced[i]) {
                // Keep the wildcard itself (its own prefix precedes it), drop what it covers.
                Some(q) if p.starts_with(q) => p.strip_suffix('*') == Some(q),
                _ => true,
            }
        })
        .collect()
}

/// Splits sorted ranks into sets: each at most `max_set_size` paths, of which at most
/// `max_wildcards_per_set` wildcards. Returns the ranges and the paths in set order.
fn split_sets(
    ranks: &[u32],
    is_wild: impl Fn(u32) -> bool,
    options: PlanOptions,
) -> (Vec<Range<usize>>, Vec<u32>) {
    let (wild, exact): (Vec<u32>, Vec<u32>) = ranks.iter().partition(|&&r| is_wild(r));
    if wild.is_empty() {
        let sets = (0..exact.len())
            .step_by(options.max_set_size)
            .map(|s| s..(s + options.max_set_size).min(exact.len()))
            .collect();
        return (sets, exact);
    }
    let (mut w, mut e) = (&wild[..], &exact[..]);
    let mut ordered = Vec::with_capacity(ranks.len());
    let mut sets = Vec::new();
    while !w.is_empty() || !e.is_empty() {
        let nw = w
            .len()
            .min(options.max_wildcards_per_set)
            .min(options.max_set_size);
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
