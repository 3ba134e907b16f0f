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

use crate::behavior::{BehaviorOrder, Matches, PatternSet};
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
    /// No origin reaches the bucket under this key (none at all, or the key lies outside its
    /// OriginPath). Without a distribution id: no distribution serves the key; with one: that
    /// distribution reaches the bucket, but not at this key, while another does.
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

/// The reasons an event is dropped before any distribution is looked at: it is a test event, it
/// changes no content, or it is a creation under its bucket's `exceptionPaths`. The ingest Lambda
/// drops these before queueing; the planner gives the same answer for events that reach it anyway.
pub fn pre_filter(event: &ObjectEvent, exceptions: &Exceptions) -> Option<Reason> {
    match event.change {
        Change::Test => Some(Reason::TestEvent),
        Change::Unchanged => Some(Reason::NotAChange),
        _ if exceptions.skips(event) => Some(Reason::ExceptionPath),
        _ => None,
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
        PlanOptions { max_set_size: MAX_SET_SIZE, max_wildcards_per_set: MAX_WILDCARDS_IN_PROGRESS }
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
        Ok(PlanOptions { max_set_size, max_wildcards_per_set })
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
    /// Per behavior index (evaluation order, default last): caches nothing.
    not_cached: Vec<bool>,
}

/// One origin of one distribution that reaches a bucket.
#[derive(Debug)]
struct Route {
    dist: usize,
    /// The distribution's behaviors, as ids in the group's pattern set.
    order: BehaviorOrder,
    /// Per behavior index: the behavior targets this origin, or a group that holds it.
    serves: Vec<bool>,
}

/// The routes into a bucket that share one OriginPath (hence one viewer path per key), and the
/// distinct patterns of their distributions.
#[derive(Debug)]
struct PrefixGroup {
    key_prefix: String,
    routes: Vec<Route>,
    patterns: PatternSet,
    /// Index of this group's decision memo in a plan.
    index: usize,
}

/// What each route of a group decides for a path, by which of the group's patterns match it: the
/// same matches always give the same decisions, and a batch has few distinct ones.
#[derive(Default)]
struct Memo {
    offsets: HashMap<MemoKey, usize, foldhash::fast::RandomState>,
    /// Per route: (outcome of a creation, outcome of a removal).
    outcomes: Vec<(Outcome, Outcome)>,
}

/// A set of matches as a memo key: inline for up to 128 patterns (the common case), boxed beyond.
#[derive(PartialEq, Eq, Hash)]
enum MemoKey {
    Small(u128),
    Large(Box<[u64]>),
}

impl MemoKey {
    fn of(matches: &Matches) -> Self {
        match matches.words() {
            [] => MemoKey::Small(0),
            [a] => MemoKey::Small(u128::from(*a)),
            [a, b] => MemoKey::Small(u128::from(*a) | (u128::from(*b) << 64)),
            more => MemoKey::Large(more.into()),
        }
    }
}

/// A memo never grows past this many distinct match sets (a safeguard; batches have dozens).
const MEMO_LIMIT: usize = 1 << 16;

/// Distributions compiled for planning; see the module documentation.
#[derive(Debug)]
pub struct Planner {
    dists: Vec<Compiled>,
    buckets: HashMap<String, Vec<PrefixGroup>>,
    groups: usize,
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
    pub fn new(distributions: &[Distribution], policies: &CachePolicies, options: PlanOptions) -> Self {
        let mut planner = Planner {
            dists: Vec::with_capacity(distributions.len()),
            buckets: HashMap::new(),
            groups: 0,
            warnings: Vec::new(),
            options,
        };
        // The same distribution may be given twice (list and get output): plan it once.
        let mut seen: HashMap<&str, &Distribution> = HashMap::new();
        for d in distributions {
            match seen.get(d.id.as_str()) {
                Some(first) if *first == d => {}
                Some(_) => planner.warn(d, "given twice with different configs; the first is used".to_owned()),
                None => {
                    seen.insert(&d.id, d);
                    planner.add(d, policies);
                }
            }
        }
        for g in planner.buckets.values_mut().flatten() {
            g.patterns.build();
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
        self.warnings.push(Warning { distribution_id: d.id.clone(), message });
    }

    fn add(&mut self, d: &Distribution, policies: &CachePolicies) {
        let ordered = d.behaviors.iter().chain(std::iter::once(&d.default_behavior));
        let mut not_cached = Vec::new();
        let mut warned_policies: Vec<&str> = Vec::new();
        for b in ordered.clone() {
            let caching = policies.caching(&b.ttl);
            if caching == Caching::UnknownPolicy {
                if let crate::distribution::TtlSettings::Policy { id } = &b.ttl {
                    if !warned_policies.contains(&id.as_str()) {
                        warned_policies.push(id);
                        self.warn(d, format!("cache policy {id} is unknown; assuming its behaviors cache"));
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
                    self.warn(d, format!("origin group {:?} names unknown origin {m:?}", g.id));
                }
            }
        }
        if d.behaviors.len() >= usize::from(u16::MAX) {
            self.warn(d, format!("{} cache behaviors is more than we index; skipped", d.behaviors.len()));
            return;
        }

        let dist = self.dists.len();
        for origin in &d.origins {
            let Some((bucket, _kind)) = bucket_of_domain(&origin.domain_name) else {
                continue;
            };
            // This origin serves a behavior that targets it directly or through a group.
            let targets: Vec<&str> = std::iter::once(origin.id.as_str())
                .chain(d.origin_groups.iter().filter(|g| g.members.contains(&origin.id)).map(|g| g.id.as_str()))
                .collect();
            let serves = ordered.clone().map(|b| targets.contains(&b.target_origin_id.as_str())).collect();
            let prefix = key_prefix(&origin.origin_path);
            let groups = self.buckets.entry(bucket).or_default();
            let at = match groups.iter().position(|g| g.key_prefix == prefix) {
                Some(at) => at,
                None => {
                    let index = self.groups;
                    self.groups += 1;
                    groups.push(PrefixGroup { key_prefix: prefix, routes: vec![], patterns: PatternSet::new(), index });
                    groups.len() - 1
                }
            };
            let g = &mut groups[at];
            let order = BehaviorOrder::new(&mut g.patterns, d.behaviors.iter().map(|b| b.path_pattern.as_str()));
            g.routes.push(Route { dist, order, serves });
        }
        self.dists.push(Compiled { id: Arc::from(d.id.as_str()), not_cached });
    }

    /// Plans a batch.
    pub fn plan(&self, events: &[ObjectEvent], exceptions: &Exceptions) -> Plan {
        let mut b = Builder::new(self.dists.len());
        let mut encoded = String::with_capacity(256);
        // Per distribution: the last event that touched it, and its best outcome for that event.
        let mut stamp = vec![usize::MAX; self.dists.len()];
        let mut best = vec![Outcome::NotServed; self.dists.len()];
        let mut touched: Vec<usize> = Vec::new();
        let mut matches = Matches::default();
        let mut memos: Vec<Memo> = (0..self.groups).map(|_| Memo::default()).collect();

        for (i, ev) in events.iter().enumerate() {
            if let Some(reason) = pre_filter(ev, exceptions) {
                b.skip(i, None, reason);
                continue;
            }
            touched.clear();
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
                let base = match memo.offsets.get(&key) {
                    Some(&base) => base,
                    None => self.decide(group, &matches, key, memo),
                };
                let mut path: Option<u32> = None;
                for (k, route) in group.routes.iter().enumerate() {
                    let (created, removed) = memo.outcomes[base + k];
                    let outcome = if ev.change == Change::Created { created } else { removed };
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
                continue;
            }
            // Distributions that reach the bucket, but through no origin that holds this key.
            for route in groups.iter().flat_map(|g| &g.routes) {
                if stamp[route.dist] != i {
                    stamp[route.dist] = i;
                    b.skip(i, Some(self.dists[route.dist].id.clone()), Reason::NoOrigin);
                }
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

    /// Every route's outcome for a set of matches, stored in the memo; returns where.
    fn decide(&self, group: &PrefixGroup, matches: &Matches, key: MemoKey, memo: &mut Memo) -> usize {
        if memo.offsets.len() >= MEMO_LIMIT {
            memo.offsets.clear();
            memo.outcomes.clear();
        }
        let base = memo.outcomes.len();
        for route in &group.routes {
            let bi = route.order.first_match(matches);
            let pair = if !route.serves[bi] {
                (Outcome::NotServed, Outcome::NotServed)
            } else if self.dists[route.dist].not_cached[bi] {
                (Outcome::NotCached, Outcome::Path)
            } else {
                (Outcome::Path, Outcome::Path)
            };
            memo.outcomes.push(pair);
        }
        memo.offsets.insert(key, base);
        base
    }
}

/// Accumulates one plan: an interner for paths, and per distribution the ids of its paths.
struct Builder {
    /// The same strings as `table`, shared, by id.
    ids: HashMap<Arc<str>, u32, foldhash::fast::RandomState>,
    /// Invalidation path and wildcard reason, by id.
    table: Vec<(Arc<str>, Option<WildcardReason>)>,
    per_dist: Vec<Vec<u32>>,
    /// Per distribution: some path is a wildcard (most plans have none, and skip that work).
    has_wildcards: Vec<bool>,
    /// (distribution, path id, bucket, key) for wildcard paths.
    notes: Vec<(usize, u32, String, String)>,
    skipped: Vec<Skip>,
}

impl Builder {
    fn new(dists: usize) -> Self {
        Builder {
            ids: HashMap::default(),
            table: Vec::new(),
            per_dist: vec![Vec::new(); dists],
            has_wildcards: vec![false; dists],
            notes: Vec::new(),
            skipped: Vec::new(),
        }
    }

    fn skip(&mut self, event: usize, distribution_id: Option<Arc<str>>, reason: Reason) {
        self.skipped.push(Skip { event, distribution_id, reason });
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
        let path: Arc<str> = Arc::from(key.as_ref());
        self.table.push((path.clone(), wildcard));
        self.ids.insert(path, id);
        id
    }

    fn add(&mut self, dist: usize, id: u32, ev: &ObjectEvent) {
        self.per_dist[dist].push(id);
        if self.table[id as usize].1.is_some() {
            self.has_wildcards[dist] = true;
            self.notes.push((dist, id, ev.bucket.clone(), ev.key.clone()));
        }
    }

    fn finish(self, planner: &Planner) -> Plan {
        let Builder { table, ids, mut per_dist, has_wildcards, mut notes, skipped } = self;
        drop(ids);
        // Rank every path once; each distribution then sorts small integers, not strings.
        let mut order: Vec<u32> = (0..table.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| compare(table[a as usize].0.as_bytes(), table[b as usize].0.as_bytes()));
        let mut rank = vec![0u32; table.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        notes.sort_unstable_by(|a, b| (a.0, rank[a.1 as usize], &a.3).cmp(&(b.0, rank[b.1 as usize], &b.3)));
        notes.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.3 == b.3);

        let mut invalidations = Vec::new();
        // A distribution's paths, unique and in rank order, through a bitset over the ranks:
        // cheaper than sorting its (often repeated) ids, and reused across distributions.
        let mut bits = vec![0u64; table.len().div_ceil(64)];
        for (dist, ids) in per_dist.iter_mut().enumerate() {
            if ids.is_empty() {
                continue;
            }
            for &id in ids.iter() {
                let r = rank[id as usize] as usize;
                bits[r / 64] |= 1 << (r % 64);
            }
            ids.clear();
            for (w, word) in bits.iter_mut().enumerate() {
                let mut v = std::mem::take(word);
                while v != 0 {
                    ids.push((w * 64) as u32 + v.trailing_zeros());
                    v &= v - 1;
                }
            }
            let ids = std::mem::take(ids);
            let path_of = |r: u32| &table[order[r as usize] as usize].0;
            // Most distributions have no wildcard path: nothing to drop, nothing to note.
            let wild = has_wildcards[dist];
            let ranks = if wild { drop_covered(ids, path_of) } else { ids };
            let is_wild = |r: u32| wild && table[order[r as usize] as usize].1.is_some();
            let (sets, ordered) = split_sets(ranks, is_wild, planner.options);
            let paths: Vec<Arc<str>> = ordered.iter().map(|&r| path_of(r).clone()).collect();
            // Every key that needed a wildcard is noted, with the path that covers it in the end
            // (a broader wildcard of the same distribution may have replaced its own).
            let kept = Wildcards::new(paths.iter().map(|p| &**p).filter(|_| wild));
            let wildcards = notes
                .iter()
                .filter(|n| n.0 == dist)
                .map(|n| {
                    let own = &table[n.1 as usize].0;
                    let path = match kept.covering(own) {
                        Some(q) if own.strip_suffix('*') != Some(q) => Arc::from(format!("{q}*")),
                        _ => own.clone(),
                    };
                    WildcardNote {
                        path,
                        bucket: n.2.clone(),
                        key: n.3.clone(),
                        reason: table[n.1 as usize].1.unwrap_or(WildcardReason::Asterisk),
                    }
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
        Plan { invalidations, skipped }
    }
}

/// The wildcard paths of one distribution, reduced to a prefix-free sorted set of prefixes: then
/// the only one that can cover a path is the greatest one not after it.
struct Wildcards<'a> {
    reduced: Vec<&'a str>,
}

impl<'a> Wildcards<'a> {
    fn new(paths: impl Iterator<Item = &'a str>) -> Self {
        let mut prefixes: Vec<&str> = paths.filter_map(|p| p.strip_suffix('*')).collect();
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
    fn covering(&self, path: &str) -> Option<&'a str> {
        let at = self.reduced.partition_point(|q| *q <= path);
        at.checked_sub(1).map(|i| self.reduced[i]).filter(|q| path.starts_with(q))
    }
}

/// Byte-wise order of two strings (the same as `Ord` for `str`), eight bytes at a time: paths share
/// long prefixes, and a call into the C library's `memcmp` per comparison dominated the sort.
fn compare(mut a: &[u8], mut b: &[u8]) -> std::cmp::Ordering {
    while let (Some(x), Some(y)) = (a.first_chunk::<8>(), b.first_chunk::<8>()) {
        let (x, y) = (u64::from_be_bytes(*x), u64::from_be_bytes(*y));
        if x != y {
            return x.cmp(&y);
        }
        a = &a[8..];
        b = &b[8..];
    }
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

/// Drops every path covered by a wildcard path of the same list (sorted, unique ranks).
fn drop_covered<'a>(ranks: Vec<u32>, path: impl Fn(u32) -> &'a Arc<str>) -> Vec<u32> {
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
fn split_sets(ranks: Vec<u32>, is_wild: impl Fn(u32) -> bool, options: PlanOptions) -> (Vec<Range<usize>>, Vec<u32>) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distribution::{CacheBehavior, Origin, OriginGroup};
    use crate::exception::ExceptionPaths;
    use proptest::prelude::*;

    fn origin(id: &str, domain: &str, origin_path: &str) -> Origin {
        Origin { id: id.into(), domain_name: domain.into(), origin_path: origin_path.into() }
    }

    fn dist(id: &str, origins: Vec<Origin>, behaviors: Vec<CacheBehavior>, default_target: &str) -> Distribution {
        Distribution {
            id: id.into(),
            origins,
            origin_groups: vec![],
            behaviors,
            default_behavior: CacheBehavior::legacy("*", default_target, None),
        }
    }

    fn ev(bucket: &str, key: &str, change: Change) -> ObjectEvent {
        ObjectEvent {
            bucket: bucket.into(),
            key: key.into(),
            change,
            event_name: match change {
                Change::Created => "ObjectCreated:Put",
                Change::Removed => "ObjectRemoved:Delete",
                Change::Unchanged => "ObjectRestore:Completed",
                Change::Test => "s3:TestEvent",
            }
            .into(),
            event_time: None,
            sequencer: None,
        }
    }

    fn plan_of(dists: &[Distribution], events: &[ObjectEvent]) -> Plan {
        Planner::new(dists, &CachePolicies::managed(), PlanOptions::default()).plan(events, &Exceptions::new())
    }

    fn paths(plan: &Plan, id: &str) -> Vec<String> {
        plan.invalidations
            .iter()
            .find(|d| &*d.distribution_id == id)
            .map(|d| d.paths.iter().map(|p| p.to_string()).collect())
            .unwrap_or_default()
    }

    fn reasons(plan: &Plan) -> Vec<(usize, Option<&str>, Reason)> {
        plan.skipped.iter().map(|s| (s.event, s.distribution_id.as_deref(), s.reason)).collect()
    }

    #[test]
    fn first_match_decides_and_other_origins_are_not_served() {
        let d = dist(
            "E1",
            vec![origin("s3", "site.s3.amazonaws.com", ""), origin("app", "app.example.com", "")],
            vec![CacheBehavior::legacy("/app/*", "app", None), CacheBehavior::legacy("/app/static/*", "s3", None)],
            "s3",
        );
        let events = [
            ev("site", "app/static/x.js", Change::Created), // first match is /app/* -> app origin
            ev("site", "index.html", Change::Created),
        ];
        let plan = plan_of(&[d], &events);
        assert_eq!(paths(&plan, "E1"), ["/index.html"]);
        assert_eq!(reasons(&plan), [(0, Some("E1"), Reason::NotServed)]);
    }

    #[test]
    fn ttl_zero_skips_creations_but_not_removals() {
        let mut d = dist(
            "E1",
            vec![origin("s3", "site.s3.amazonaws.com", "")],
            vec![
                CacheBehavior::legacy("/live/*", "s3", Some(0)),
                CacheBehavior::with_policy("/nocache/*", "s3", "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"),
            ],
            "s3",
        );
        d.default_behavior = CacheBehavior::with_policy("*", "s3", "658327ea-f89d-4fab-a63d-7e88639e58f6");
        let events = [
            ev("site", "live/a", Change::Created),
            ev("site", "live/b", Change::Removed),
            ev("site", "nocache/c", Change::Created),
            ev("site", "nocache/d", Change::Removed),
        ];
        let plan = plan_of(&[d], &events);
        assert_eq!(paths(&plan, "E1"), ["/live/b", "/nocache/d"]);
        assert_eq!(reasons(&plan), [(0, Some("E1"), Reason::NotCached), (2, Some("E1"), Reason::NotCached)]);
    }

    #[test]
    fn origin_path_and_two_origins_on_one_bucket() {
        let d = dist(
            "E1",
            vec![
                origin("prod", "site.s3.us-east-1.amazonaws.com", "/production"),
                origin("raw", "site.s3-website-us-east-1.amazonaws.com", ""),
            ],
            vec![CacheBehavior::legacy("/raw/*", "raw", None)],
            "prod",
        );
        let events = [
            // Reachable as /acme/i.html through prod, and as /raw/... only if under raw/.
            ev("site", "production/acme/i.html", Change::Created),
            ev("site", "raw/production/x", Change::Created),
            ev("site", "elsewhere/y", Change::Created),
        ];
        let plan = plan_of(&[d], &events);
        assert_eq!(paths(&plan, "E1"), ["/acme/i.html", "/raw/production/x"]);
        // Event 0 through `raw` gives /production/acme/i.html, served by the default (prod) behavior
        // through a different origin: not-served there, but the distribution got a path, so no skip.
        // Event 2 reaches E1 only through `raw` (outside /production), and the default behavior
        // sends /elsewhere/y to prod: not served.
        assert_eq!(reasons(&plan), [(2, Some("E1"), Reason::NotServed)]);
    }

    #[test]
    fn origin_groups_serve_through_each_member() {
        let mut d = dist(
            "E1",
            vec![
                origin("primary", "site.s3.us-east-1.amazonaws.com", ""),
                origin("replica", "site-dr.s3.us-west-2.amazonaws.com", ""),
            ],
            vec![],
            "failover",
        );
        d.origin_groups =
            vec![OriginGroup { id: "failover".into(), members: vec!["primary".into(), "replica".into()] }];
        let events = [ev("site", "a", Change::Created), ev("site-dr", "b", Change::Created)];
        let plan = plan_of(&[d], &events);
        assert_eq!(paths(&plan, "E1"), ["/a", "/b"]);
        assert!(plan.skipped.is_empty());
    }

    #[test]
    fn early_reasons_and_no_origin() {
        let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "/p")], vec![], "s3");
        let mut exceptions = Exceptions::new();
        exceptions.insert("site", ExceptionPaths::parse("p/up/"));
        let events = [
            ev("site", "", Change::Test),
            ev("site", "p/x", Change::Unchanged),
            ev("site", "p/up/1.jpg", Change::Created),
            ev("site", "p/up/1.jpg", Change::Removed),
            ev("site", "outside", Change::Created),
            ev("logs", "p/x", Change::Created),
        ];
        let planner = Planner::new(&[d], &CachePolicies::managed(), PlanOptions::default());
        let plan = planner.plan(&events, &exceptions);
        assert_eq!(paths(&plan, "E1"), ["/up/1.jpg"]);
        assert_eq!(
            reasons(&plan),
            [
                (0, None, Reason::TestEvent),
                (1, None, Reason::NotAChange),
                (2, None, Reason::ExceptionPath),
                (4, None, Reason::NoOrigin),
                (5, None, Reason::NoOrigin),
            ]
        );
    }

    #[test]
    fn wildcards_cover_and_are_limited_per_set() {
        let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
        let mut events: Vec<ObjectEvent> =
            (0..20).map(|i| ev("site", &format!("w{i:02}*x"), Change::Created)).collect();
        events.push(ev("site", "w05*", Change::Created)); // same wildcard as w05*x
        events.push(ev("site", "w07/plain.txt", Change::Created)); // covered by /w07*
        events.push(ev("site", "x/plain.txt", Change::Created)); // not covered
        events.push(ev("site", "w07*/covered.txt", Change::Created)); // covered by /w07*
        let planner = Planner::new(&[d], &CachePolicies::managed(), PlanOptions::new(10, 15).unwrap());
        let plan = planner.plan(&events, &Exceptions::new());
        let e1 = &plan.invalidations[0];
        assert_eq!(e1.paths.len(), 21, "20 wildcards and one exact path");
        let sets: Vec<&[Arc<str>]> = e1.sets().collect();
        assert_eq!(sets.len(), 3);
        for s in &sets {
            assert!(s.len() <= 10);
            assert!(s.iter().filter(|p| p.ends_with('*')).count() <= 15);
            assert!(s.windows(2).all(|w| w[0] < w[1]), "sorted within a set");
        }
        assert!(e1.wildcards.iter().all(|w| w.reason == WildcardReason::Asterisk));
        assert_eq!(e1.wildcards.len(), 22, "each key that needed a wildcard is noted");
    }

    #[test]
    fn fifteen_wildcards_at_most_per_set() {
        let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
        let events: Vec<ObjectEvent> = (0..40).map(|i| ev("site", &format!("k{i:02}*"), Change::Created)).collect();
        let plan = plan_of(&[d], &events);
        let counts: Vec<usize> = plan.invalidations[0].sets().map(<[_]>::len).collect();
        assert_eq!(counts, [15, 15, 10]);
    }

    #[test]
    fn a_distribution_that_reaches_the_bucket_elsewhere_says_no_origin() {
        let prod = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "/production")], vec![], "s3");
        let all = dist("E2", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
        let plan = plan_of(&[prod, all], &[ev("site", "staging/x.html", Change::Created)]);
        assert_eq!(paths(&plan, "E2"), ["/staging/x.html"]);
        assert_eq!(reasons(&plan), [(0, Some("E1"), Reason::NoOrigin)]);
    }

    #[test]
    fn a_distribution_given_twice_is_planned_once() {
        let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
        let mut other = d.clone();
        other.default_behavior.target_origin_id = "x".into();
        let planner = Planner::new(&[d.clone(), d.clone(), other], &CachePolicies::managed(), PlanOptions::default());
        let plan = planner.plan(&[ev("site", "a", Change::Created)], &Exceptions::new());
        assert_eq!(plan.invalidations.len(), 1);
        assert_eq!(planner.warnings().len(), 1, "a conflicting duplicate is reported");
    }

    #[test]
    fn notes_follow_the_wildcard_that_covers_them() {
        let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
        let plan =
            plan_of(&[d], &[ev("site", "promo/a*x", Change::Created), ev("site", "promo/ab*c", Change::Created)]);
        let e1 = &plan.invalidations[0];
        assert_eq!(e1.paths.iter().map(|p| &**p).collect::<Vec<_>>(), ["/promo/a*"]);
        let notes: Vec<(&str, &str)> = e1.wildcards.iter().map(|w| (&*w.path, w.key.as_str())).collect();
        assert_eq!(notes, [("/promo/a*", "promo/a*x"), ("/promo/a*", "promo/ab*c")]);
    }

    #[test]
    fn covered_exact_paths_are_dropped() {
        let ranks: Vec<&str> = vec!["/a%20b", "/a*", "/ab", "/ab*", "/b", "/b*x"];
        let arcs: Vec<Arc<str>> = ranks.iter().map(|s| Arc::from(*s)).collect();
        let kept = drop_covered(vec![0, 1, 2, 3, 4, 5], |r| &arcs[r as usize]);
        let kept: Vec<&str> = kept.iter().map(|&r| ranks[r as usize]).collect();
        assert_eq!(kept, ["/a*", "/b", "/b*x"]);
    }

    fn any_events() -> impl Strategy<Value = Vec<ObjectEvent>> {
        let key = "[a-c]{1,2}(/[a-c*]{1,3}){0,2}";
        let change = prop_oneof![Just(Change::Created), Just(Change::Removed)];
        proptest::collection::vec((key, change), 0..300)
            .prop_map(|v| v.into_iter().map(|(k, c)| ev("site", &k, c)).collect())
    }

    proptest! {
        #[test]
        fn sets_partition_the_paths_within_limits(events in any_events(), size in 1usize..20, wild in 1usize..16) {
            let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")],
                vec![CacheBehavior::legacy("/a/*", "s3", Some(0))], "s3");
            let planner = Planner::new(&[d], &CachePolicies::managed(), PlanOptions::new(size, wild).unwrap());
            let plan = planner.plan(&events, &Exceptions::new());
            for inv in &plan.invalidations {
                let mut seen = std::collections::HashSet::new();
                let mut covered = 0;
                for set in inv.sets() {
                    prop_assert!(!set.is_empty() && set.len() <= size);
                    prop_assert!(set.iter().filter(|p| p.ends_with('*')).count() <= wild);
                    for p in set {
                        prop_assert!(seen.insert(p.clone()), "duplicate {}", p);
                        covered += 1;
                    }
                }
                prop_assert_eq!(covered, inv.paths.len());
                let ranges_cover = inv.sets.iter().map(|r| r.len()).sum::<usize>();
                prop_assert_eq!(ranges_cover, inv.paths.len());
            }
        }

        #[test]
        fn order_of_events_does_not_change_the_plan(events in any_events()) {
            let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
            let planner = Planner::new(&[d], &CachePolicies::managed(), PlanOptions::new(7, 3).unwrap());
            let mut reversed = events.clone();
            reversed.reverse();
            let a = planner.plan(&events, &Exceptions::new());
            let b = planner.plan(&reversed, &Exceptions::new());
            prop_assert_eq!(a.invalidations, b.invalidations.iter().map(|d| DistributionPlan {
                wildcards: { let mut w = d.wildcards.clone(); w.sort_by(|x, y| (&x.path, &x.key).cmp(&(&y.path, &y.key))); w },
                ..d.clone()
            }).collect::<Vec<_>>());
        }

        #[test]
        fn every_served_key_is_covered(events in any_events()) {
            let d = dist("E1", vec![origin("s3", "site.s3.amazonaws.com", "")], vec![], "s3");
            let plan = plan_of(&[d], &events);
            for e in &events {
                let mut enc = String::from("/");
                push_encoded(&e.key, &mut enc);
                let all = plan.invalidations.first().map(|d| &d.paths[..]).unwrap_or(&[]);
                prop_assert!(all.iter().any(|p| crate::path::covers(p, &enc)), "{} not covered", enc);
            }
        }
    }
}
