//! Compiling distributions into the indexes a [`Planner`] plans with.
//!
//! Planning asks, for every event, "which origins of which distributions reach this bucket at this
//! key, and which behavior serves the resulting viewer path". The answer is indexed once:
//! - by **bucket**: only the origins that reach an event's bucket are looked at;
//! - then by **OriginPath**: the origins that share one OriginPath give a key the same viewer path,
//!   so the path is encoded and matched once per group, not once per origin (a [`PrefixGroup`]);
//! - within a group, the distinct path patterns of all its distributions form one
//!   [`PatternSet`], matched once per path; each distribution keeps its behaviors as pattern ids in
//!   evaluation order ([`BehaviorOrder`]).
//!
//! The compilation is a builder ([`Compiler`]) separate from what it builds ([`Planner`]), as a
//! [`PatternSetBuilder`] is separate from the [`PatternSet`] it builds: nothing can plan with a
//! half-compiled index.

use std::collections::HashMap;
use std::sync::Arc;

use crate::behavior::{BehaviorOrder, PatternSet, PatternSetBuilder};
use crate::cache::{CachePolicies, Caching};
use crate::distribution::{Distribution, TtlSettings};
use crate::origin::{bucket_of_domain, key_prefix};

use super::{PlanOptions, Planner, Warning};

/// A distribution compiled for planning.
#[derive(Debug)]
pub(super) struct Compiled {
    pub(super) id: Arc<str>,
    /// Per behavior index (evaluation order, default last): caches nothing.
    pub(super) not_cached: Vec<bool>,
}

/// One origin of one distribution that reaches a bucket.
#[derive(Debug)]
pub(super) struct Route {
    pub(super) dist: usize,
    /// The distribution's behaviors, as ids in the group's pattern set.
    pub(super) order: BehaviorOrder,
    /// Per behavior index: the behavior targets this origin, or a group that holds it.
    pub(super) serves: Vec<bool>,
}

/// The routes into a bucket that share one OriginPath (hence one viewer path per key), and the
/// distinct patterns of their distributions.
#[derive(Debug)]
pub(super) struct PrefixGroup {
    pub(super) key_prefix: String,
    pub(super) routes: Vec<Route>,
    pub(super) patterns: PatternSet,
    /// Index of this group's decision memo in a plan.
    pub(super) index: usize,
}

/// A [`PrefixGroup`] while its distributions are being added.
struct GroupBuilder {
    key_prefix: String,
    routes: Vec<Route>,
    patterns: PatternSetBuilder,
}

/// Collects distributions, then builds a [`Planner`].
pub(super) struct Compiler {
    dists: Vec<Compiled>,
    buckets: HashMap<String, Vec<GroupBuilder>>,
    warnings: Vec<Warning>,
}

impl Compiler {
    pub(super) fn new() -> Self {
        Compiler { dists: Vec::new(), buckets: HashMap::new(), warnings: Vec::new() }
    }

    /// Compiles every distribution, each id once: the same distribution may be given twice (list
    /// and get output), and a conflicting second config is ignored with a warning.
    pub(super) fn add_all(&mut self, distributions: &[Distribution], policies: &CachePolicies) {
        let mut seen: HashMap<&str, &Distribution> = HashMap::new();
        for d in distributions {
            match seen.get(d.id.as_str()) {
                Some(first) if *first == d => {}
                Some(_) => self.warn(d, "given twice with different configs; the first is used".to_owned()),
                None => {
                    seen.insert(&d.id, d);
                    self.add(d, policies);
                }
            }
        }
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
                if let TtlSettings::Policy { id } = &b.ttl {
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
                    groups.push(GroupBuilder {
                        key_prefix: prefix,
                        routes: vec![],
                        patterns: PatternSetBuilder::new(),
                    });
                    groups.len() - 1
                }
            };
            let g = &mut groups[at];
            let order = BehaviorOrder::new(&mut g.patterns, d.behaviors.iter().map(|b| b.path_pattern.as_str()));
            g.routes.push(Route { dist, order, serves });
        }
        self.dists.push(Compiled { id: Arc::from(d.id.as_str()), not_cached });
    }

    /// Builds every group's pattern set and numbers the groups.
    pub(super) fn finish(self, options: PlanOptions) -> Planner {
        let mut groups = 0;
        let mut buckets: Vec<(String, Vec<GroupBuilder>)> = self.buckets.into_iter().collect();
        // Group numbers only index per-plan memos; sorting makes them independent of hashing.
        buckets.sort_by(|a, b| a.0.cmp(&b.0));
        let buckets = buckets
            .into_iter()
            .map(|(bucket, builders)| {
                let built = builders
                    .into_iter()
                    .map(|g| {
                        groups += 1;
                        PrefixGroup {
                            key_prefix: g.key_prefix,
                            routes: g.routes,
                            patterns: g.patterns.build(),
                            index: groups - 1,
                        }
                    })
                    .collect();
                (bucket, built)
            })
            .collect();
        Planner { dists: self.dists, buckets, groups, warnings: self.warnings, options }
    }
}

impl Planner {
    /// Compiles the distributions. Custom cache policies the distributions use should be in
    /// `policies`; a behavior naming one that is not is assumed to cache (and warned about).
    pub fn new(distributions: &[Distribution], policies: &CachePolicies, options: PlanOptions) -> Self {
        let mut compiler = Compiler::new();
        compiler.add_all(distributions, policies);
        compiler.finish(options)
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
}
