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
use crate::cache::{error_caching_seconds, BehaviorCache, CachePolicies, Caching};
use crate::cache_tags::metadata_key;
use crate::distribution::{Distribution, DistributionTenant, TtlSettings};
use crate::origin::{bucket_of_domain, key_prefix, EndpointKind};
use crate::pattern::PathPattern;

use super::strategy::{read_tags, CacheTags, Policy, CACHE_TAGS_TAG};
use super::{PlanOptions, Planner, TenantRef, Warning};

/// S3's usual index document name, when the bucket's website configuration is not known.
pub const DEFAULT_INDEX_DOCUMENT: &str = "index.html";

/// A distribution compiled for planning.
#[derive(Debug)]
pub(super) struct Compiled {
    pub(super) id: Arc<str>,
    /// Per behavior (evaluation order, default last): what it caches.
    pub(super) caches: Vec<BehaviorCache>,
    /// Per behavior: its pattern, for asking what a wildcard reaches (compaction).
    pub(super) patterns: Vec<PathPattern>,
    /// Per behavior: the origin (or origin group) it targets, for explaining a decision.
    pub(super) targets: Vec<Arc<str>>,
    /// Per behavior: the buckets its target origin (or group) reaches.
    pub(super) behavior_buckets: Vec<Vec<Arc<str>>>,
    /// How long a missing key's error stays cached ([`error_caching_seconds`]).
    pub(super) error_caching_seconds: i64,
    /// `DefaultRootObject`, served at `/` too.
    pub(super) default_root_object: Option<String>,
    pub(super) policy: Policy,
    pub(super) max_items: usize,
    /// The tenant this entry plans for, when the distribution is multi-tenant (each tenant is an
    /// entry of its own).
    pub(super) tenant: Option<TenantRef>,
    pub(super) staging: bool,
    /// Where its objects' cache tags come from, when it is sent them.
    pub(super) cache_tags: Option<TagSource>,
}

/// A distribution that is sent its objects' cache tags: how, and the S3 metadata key they are in.
#[derive(Debug, Clone)]
pub(super) struct TagSource {
    pub(super) mode: CacheTags,
    pub(super) metadata_key: Arc<str>,
}

/// One origin of one distribution that reaches a bucket.
#[derive(Debug)]
pub(super) struct Route {
    pub(super) dist: usize,
    /// The origin's id in its distribution, for explaining a decision.
    pub(super) origin_id: Arc<str>,
    /// The distribution's behaviors, as ids in the group's pattern set.
    pub(super) order: BehaviorOrder,
    /// Per behavior index: the behavior targets this origin, or a group that holds it.
    pub(super) serves: Vec<bool>,
    /// For an S3 website endpoint: the bucket's index document, which it also serves at the
    /// directory (`guide/index.html` at `/guide/`, and `/guide` redirected there).
    pub(super) index_document: Option<Arc<str>>,
    /// The route serves a key at other viewer paths too (an index document, the default root
    /// object): [`Planner::derived`] looks.
    pub(super) derives: bool,
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

/// Two copies of a distribution have the same config, but for what one shape of AWS output leaves
/// out (the ARN, `DefaultRootObject`, tags).
fn same_config(a: &Distribution, b: &Distribution) -> bool {
    let strip = |d: &Distribution| Distribution {
        arn: String::new(),
        default_root_object: None,
        tags: Default::default(),
        cache_tag_header: None,
        parameter_defaults: Default::default(),
        ..d.clone()
    };
    strip(a) == strip(b)
}

/// A multi-tenant distribution as one tenant sees it: every `{{name}}` in its origins' domain names
/// and paths replaced by the tenant's parameter `name`, else the parameter's default; and the names
/// that had neither (an origin that uses one serves no bucket for this tenant).
pub(super) fn resolve(d: &Distribution, tenant: &DistributionTenant) -> (Distribution, Vec<String>) {
    let mut unresolved = Vec::new();
    let mut fill = |text: &str| -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest[start + 2..].find("}}") else {
                break;
            };
            let name = &rest[start + 2..start + 2 + len];
            out.push_str(&rest[..start]);
            match tenant.parameters.get(name).or_else(|| d.parameter_defaults.get(name)) {
                Some(value) => out.push_str(value),
                None => {
                    if !unresolved.iter().any(|u: &String| u == name) {
                        unresolved.push(name.to_owned());
                    }
                    out.push_str(&rest[start..start + 4 + len]);
                }
            }
            rest = &rest[start + 4 + len..];
        }
        out.push_str(rest);
        out
    };
    let mut resolved = d.clone();
    for o in &mut resolved.origins {
        o.domain_name = fill(&o.domain_name);
        o.origin_path = fill(&o.origin_path);
        if o.domain_name.contains("{{") || o.origin_path.contains("{{") {
            // Not a bucket's endpoint whatever the rest says: the origin serves no bucket.
            o.domain_name = format!("unresolved.{}", o.domain_name.replace(['{', '}'], ""));
            o.domain_name.push_str(".invalid");
        }
    }
    (resolved, unresolved)
}

/// Collects distributions, then builds a [`Planner`].
pub(super) struct Compiler<'a> {
    dists: Vec<Compiled>,
    buckets: HashMap<String, Vec<GroupBuilder>>,
    warnings: Vec<Warning>,
    options: PlanOptions,
    index_documents: &'a HashMap<String, String>,
}

impl<'a> Compiler<'a> {
    pub(super) fn new(options: PlanOptions, index_documents: &'a HashMap<String, String>) -> Self {
        Compiler { dists: Vec::new(), buckets: HashMap::new(), warnings: Vec::new(), options, index_documents }
    }

    /// Compiles every distribution, each id once: the same distribution may be given twice (list
    /// and get output). A list summary lacks what only GetDistribution returns (its
    /// `DefaultRootObject`) and a get lacks tags and, in some shapes, the ARN: such copies are
    /// merged. A copy whose config differs otherwise is ignored with a warning.
    ///
    /// A multi-tenant distribution is compiled once per tenant of `tenants` that belongs to it
    /// ([`resolve`]), and not on its own: it has no viewer endpoint.
    pub(super) fn add_all(
        &mut self,
        distributions: &[Distribution],
        policies: &CachePolicies,
        tenants: &[DistributionTenant],
    ) {
        let mut merged: Vec<Distribution> = Vec::new();
        for d in distributions {
            match merged.iter_mut().find(|m| m.id == d.id) {
                Some(first) if same_config(first, d) => {
                    if first.arn.is_empty() {
                        first.arn = d.arn.clone();
                    }
                    if first.default_root_object.is_none() {
                        first.default_root_object = d.default_root_object.clone();
                    }
                    if first.tags.is_empty() {
                        first.tags = d.tags.clone();
                    }
                    if first.cache_tag_header.is_none() {
                        first.cache_tag_header = d.cache_tag_header.clone();
                    }
                    if first.parameter_defaults.is_empty() {
                        first.parameter_defaults = d.parameter_defaults.clone();
                    }
                }
                Some(_) => self.warn(d, "given twice with different configs; the first is used".to_owned()),
                None => merged.push(d.clone()),
            }
        }
        for d in &merged {
            if !d.multi_tenant {
                self.add(d, policies, None);
                continue;
            }
            let mut any = false;
            for t in tenants.iter().filter(|t| t.distribution_id == d.id) {
                any = true;
                let (resolved, unresolved) = resolve(d, t);
                for name in unresolved {
                    self.warn(
                        d,
                        format!(
                            "tenant {} ({}): parameter {{{{{name}}}}} has no value and no default; the origins that use it serve no bucket for this tenant",
                            t.name, t.id
                        ),
                    );
                }
                let tenant = TenantRef { id: Arc::from(t.id.as_str()), name: Arc::from(t.name.as_str()) };
                self.add(&resolved, policies, Some(tenant));
            }
            if !any {
                self.warn(
                    d,
                    "multi-tenant distribution (ConnectionMode tenant-only) without distribution tenants: no viewer reaches it; nothing planned for it".to_owned(),
                );
            }
        }
    }

    /// A warning about a distribution, once (the tenants of one distribution share its config).
    fn warn(&mut self, d: &Distribution, message: String) {
        let w = Warning { distribution_id: d.id.clone(), message };
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    fn add(&mut self, d: &Distribution, policies: &CachePolicies, tenant: Option<TenantRef>) {
        let ordered = d.behaviors.iter().chain(std::iter::once(&d.default_behavior));
        let mut caches = Vec::new();
        let mut warned_policies: Vec<&str> = Vec::new();
        let mut rewriting: Vec<&str> = Vec::new();
        for b in ordered.clone() {
            let cache = policies.behavior(b);
            if cache.caching == Caching::UnknownPolicy {
                if let TtlSettings::Policy { id } = &b.ttl {
                    if !warned_policies.contains(&id.as_str()) {
                        warned_policies.push(id);
                        self.warn(
                            d,
                            format!(
                                "cache policy {id} is unknown; assuming its behaviors cache, with query strings in the cache key"
                            ),
                        );
                    }
                }
            }
            caches.push(cache);
            if b.edge_functions.iter().any(|f| f.may_rewrite_uri()) {
                rewriting.push(&b.path_pattern);
            }
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
        if !rewriting.is_empty() {
            let names: Vec<String> = rewriting.iter().map(|p| format!("{p:?}")).collect();
            self.warn(
                d,
                format!(
                    "behaviors {} run a viewer-request or origin-request function (Lambda@Edge or CloudFront Functions) that may rewrite the URI; paths are planned as the objects' keys give them",
                    names.join(", ")
                ),
            );
        }
        if d.behaviors.len() >= usize::from(u16::MAX) {
            self.warn(d, format!("{} cache behaviors is more than we index; skipped", d.behaviors.len()));
            return;
        }
        let tagged = read_tags(&d.tags, self.options.policy(), self.options.max_items(), self.options.cache_tags());
        for problem in &tagged.problems {
            self.warn(d, problem.clone());
        }
        let cache_tags = match (tagged.cache_tags, d.cache_tag_header.as_deref()) {
            (CacheTags::Off, _) => None,
            (mode, Some(header)) => match metadata_key(header) {
                Some(key) => Some(TagSource { mode, metadata_key: Arc::from(key.as_str()) }),
                None => {
                    self.warn(
                        d,
                        format!(
                            "CacheTagConfig reads the header {header:?}, not S3 metadata (x-amz-meta-*): cfinv cannot know the objects' cache tags; paths only"
                        ),
                    );
                    None
                }
            },
            // Only a distribution that asked for tags itself is told why it gets none: a stack
            // default of add or instead applies to the distributions that have CacheTagConfig.
            (mode, None) => {
                if d.tags.contains_key(CACHE_TAGS_TAG) {
                    self.warn(
                        d,
                        format!(
                            "tag {CACHE_TAGS_TAG}={} but the distribution has no CacheTagConfig; paths only",
                            mode.as_str()
                        ),
                    );
                }
                None
            }
        };

        // Per behavior, the buckets its target reaches (directly or through an origin group).
        let bucket_of = |origin_id: &str| {
            d.origins.iter().find(|o| o.id == origin_id).and_then(|o| bucket_of_domain(&o.domain_name)).map(|(b, _)| b)
        };
        let behavior_buckets = ordered
            .clone()
            .map(|b| {
                let members: Vec<&str> = match d.origin_groups.iter().find(|g| g.id == b.target_origin_id) {
                    Some(g) => g.members.iter().map(String::as_str).collect(),
                    None => vec![b.target_origin_id.as_str()],
                };
                members.into_iter().filter_map(bucket_of).map(|b| Arc::from(b.as_str())).collect()
            })
            .collect();
        let patterns = ordered.clone().map(|b| PathPattern::new(&b.path_pattern)).collect();
        let behavior_targets = ordered.clone().map(|b| Arc::from(b.target_origin_id.as_str())).collect();

        let dist = self.dists.len();
        for origin in &d.origins {
            let Some((bucket, kind)) = bucket_of_domain(&origin.domain_name) else {
                continue;
            };
            let index_document = (kind == EndpointKind::Website).then(|| {
                let name = tagged
                    .index_document
                    .as_deref()
                    .or_else(|| self.index_documents.get(&bucket).map(String::as_str))
                    .unwrap_or(DEFAULT_INDEX_DOCUMENT);
                Arc::from(name)
            });
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
            let derives = index_document.is_some() || d.default_root_object.is_some();
            let origin_id = Arc::from(origin.id.as_str());
            g.routes.push(Route { dist, origin_id, order, serves, index_document, derives });
        }
        self.dists.push(Compiled {
            id: Arc::from(d.id.as_str()),
            caches,
            patterns,
            targets: behavior_targets,
            behavior_buckets,
            error_caching_seconds: error_caching_seconds(d),
            default_root_object: d.default_root_object.clone(),
            policy: tagged.policy,
            max_items: tagged.max_items,
            tenant,
            staging: d.staging,
            cache_tags,
        });
    }

    /// Builds every group's pattern set and numbers the groups.
    pub(super) fn finish(self) -> Planner {
        let options = self.options;
        let mut groups = 0;
        let mut buckets: Vec<(String, Vec<GroupBuilder>)> = self.buckets.into_iter().collect();
        // Group numbers only index per-plan memos; sorting makes them independent of hashing.
        buckets.sort_by(|a, b| a.0.cmp(&b.0));
        let mut bucket_names = Vec::with_capacity(buckets.len());
        let buckets = buckets
            .into_iter()
            .map(|(bucket, builders)| {
                let index = bucket_names.len() as u32;
                bucket_names.push(Arc::from(bucket.as_str()));
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
                (bucket, (index, built))
            })
            .collect();
        Planner { dists: self.dists, buckets, bucket_names, groups, warnings: self.warnings, options }
    }
}

impl Planner {
    /// Compiles the distributions. Custom cache policies the distributions use should be in
    /// `policies`; a behavior naming one that is not is assumed to cache (and warned about). S3
    /// website origins serve the index document `index.html`; see [`Planner::with_index_documents`].
    pub fn new(distributions: &[Distribution], policies: &CachePolicies, options: PlanOptions) -> Self {
        Planner::with_index_documents(distributions, policies, options, &HashMap::new())
    }

    /// The same, with the index document of each bucket that has a website configuration
    /// (GetBucketWebsite's `IndexDocument.Suffix`, by bucket name); other buckets' website origins
    /// use `index.html`, and a distribution's `cfinv:index-document` tag wins over both.
    pub fn with_index_documents(
        distributions: &[Distribution],
        policies: &CachePolicies,
        options: PlanOptions,
        index_documents: &HashMap<String, String>,
    ) -> Self {
        Planner::with_tenants(distributions, policies, options, index_documents, &[])
    }

    /// The same, with the distribution tenants of the multi-tenant distributions
    /// (ListDistributionTenants, with each tenant's `Parameters` from GetDistributionTenant): each
    /// tenant is planned as a distribution of its own, its origins' `{{parameter}}` placeholders
    /// filled. A multi-tenant distribution without tenants here is not planned (and warned about).
    pub fn with_tenants(
        distributions: &[Distribution],
        policies: &CachePolicies,
        options: PlanOptions,
        index_documents: &HashMap<String, String>,
        tenants: &[DistributionTenant],
    ) -> Self {
        let mut compiler = Compiler::new(options, index_documents);
        compiler.add_all(distributions, policies, tenants);
        compiler.finish()
    }

    /// Whether some distribution that reaches `bucket` is sent its objects' cache tags: then the
    /// pipeline reads the metadata of the bucket's created keys (HeadObject) before planning.
    pub fn wants_object_metadata(&self, bucket: &str) -> bool {
        self.buckets.get(bucket).is_some_and(|(_, groups)| {
            groups.iter().flat_map(|g| &g.routes).any(|r| self.dists[r.dist].cache_tags.is_some())
        })
    }

    /// Whether the wildcard `prefix*` may be sent to distribution `dist`: no viewer path it reaches
    /// is served, by the behaviors' patterns and order, by an origin that reaches none of
    /// `buckets` (the buckets whose changes the distribution's plan holds). Behaviors are asked in
    /// order: one that reaches no path under the prefix is passed; one that does must target such
    /// an origin; one that takes every path under the prefix ends the question. Reading a
    /// pattern's reach is conservative, so an unclear case answers `false` (stay exact).
    pub(super) fn safe_cover(&self, dist: usize, prefix: &str, buckets: &[u32]) -> bool {
        let d = &self.dists[dist];
        for (pattern, reached) in d.patterns.iter().zip(&d.behavior_buckets) {
            if !pattern.matches_some_path_starting_with(prefix) {
                continue;
            }
            if !reached.iter().any(|b| buckets.iter().any(|&i| self.bucket_names[i as usize] == *b)) {
                return false;
            }
            if pattern.matches_every_path_starting_with(prefix) {
                return true;
            }
        }
        true
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
            .flat_map(|(_, groups)| groups)
            .flat_map(|g| g.routes.iter().map(|r| &*self.dists[r.dist].id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}
