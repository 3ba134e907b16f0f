//! The plan: for a batch of S3 events, which paths of which distributions to invalidate, in which
//! sets, and why every other (event, distribution) was left alone.
//!
//! A [`Planner`] is compiled once from the distributions and then plans any number of batches. For
//! each event:
//!
//! 1. a test event, or one that changes no content, is skipped (`test-event`, `not-a-change`);
//! 2. a creation under the bucket's `exceptionPaths` is skipped (`exception-path`);
//! 3. every origin that reaches the bucket, and whose OriginPath holds the key, gives a viewer path;
//!    none gives `no-origin`;
//! 4. in each distribution, the first matching behavior must target that origin (or a group that
//!    holds it), otherwise `not-served`; and if it caches nothing, a creation is `not-cached`;
//! 5. what remains is encoded ([`crate::path`]) and added to the distribution's paths.
//!
//! Cache tags (opt-in, [`CacheTags`]): a distribution whose `cfinv:cache-tags` tag (or the stack's
//! default) is `add` or `instead`, and whose `CacheTagConfig` names S3 metadata, is also sent the
//! `#tag` items of each created or overwritten object it would be sent paths for
//! ([`crate::cache_tags`]); with `instead`, in place of those paths when the object has a valid
//! tag. A removal gets paths only: S3 keeps no metadata of a removed object in an unversioned
//! bucket, and cfinv does not read the previous version of a versioned one (its paths already
//! purge every cached copy of the removed object; what its tags would add is other objects that
//! share them). Tags are unique per distribution (case-insensitive, sent in lower case), count as
//! billed items, never as wildcards, and are never compacted.
//!
//! Tenants: a multi-tenant distribution (`ConnectionMode: tenant-only`) has no viewers of its own;
//! each of its distribution tenants is planned as a distribution of its own, with the origins'
//! `{{parameter}}` placeholders filled with the tenant's parameters (else the parameter's default),
//! and its plan names the tenant ([`DistributionPlan::tenant`]).
//!
//! Paths are unique per distribution and sorted, so the same events in any order give the same
//! sets (and the same CallerReferences downstream). Sets hold at most `max_set_size` paths and at
//! most `max_wildcards_per_set` wildcards: CloudFront refuses more than 3000 paths, or 15 wildcard
//! paths, in progress per distribution. An exact path already covered by a wildcard in the same
//! distribution is dropped, since it would be billed for nothing.
//!
//! Read the submodules in this order: the rules, then what makes them fast.
//! - [`route`](self::route): the batch loop, steps 1 to 5 for every event;
//! - [`decide`](self::decide): the decision of one origin of one distribution (steps 4);
//! - [`explain`](self::explain): the same rules for one event, route by route, in words
//!   ([`Planner::explain`]);
//! - [`sets`](self::sets): covered paths dropped, sets cut within CloudFront's limits;
//! - [`compile`](self::compile): the indexes by bucket and OriginPath, and the pattern sets;
//! - [`memo`](self::memo) and [`output`](self::output): speed-ups (decisions memoised by match
//!   set, paths interned and ranked once).
//!
//! ```
//! use cfinv_core::{CacheBehavior, CachePolicies, Change, Distribution, Exceptions, ObjectEvent,
//!                  Origin, PlanOptions, Planner};
//! let site = Distribution {
//!     id: "E1".into(),
//!     origins: vec![Origin { id: "s3".into(), domain_name: "site.s3.amazonaws.com".into(),
//!                            origin_path: String::new() }],
//!     behaviors: vec![CacheBehavior::legacy("/live/*", "s3", Some(0))],
//!     default_behavior: CacheBehavior::legacy("*", "s3", None),
//!     ..Default::default()
//! };
//! let planner = Planner::new(&[site], &CachePolicies::managed(), PlanOptions::default());
//! let events = [ObjectEvent::new("site", "red flower.jpg", Change::Created),
//!               ObjectEvent::new("site", "live/feed.m3u8", Change::Created)];
//! let plan = planner.plan(&events, &Exceptions::new());
//! let sets: Vec<Vec<&str>> = plan.invalidations[0].sets().map(|s| s.iter().map(|p| &**p).collect()).collect();
//! assert_eq!(sets, [["/red%20flower.jpg"]]);
//! assert_eq!(plan.skipped[0].reason.as_str(), "not-cached"); // a creation on a TTL-0 behavior
//! assert_eq!(plan.cost().estimated_cost_usd, 0.005); // one item, at most half a cent
//! ```

mod compact;
mod compile;
mod decide;
mod explain;
mod memo;
mod output;
mod route;
mod sets;
mod strategy;

pub use explain::{DistributionExplanation, Explanation, PathOutcome, RouteExplanation, ViewerPath};
pub use strategy::{
    CacheTags, Cost, Policy, CACHE_TAGS_TAG, DEFAULT_MAX_ITEMS, DEFAULT_WINDOW_SECONDS, PRICE_PER_ITEM_USD,
};

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use serde::Serialize;

use crate::event::{Change, ObjectEvent};
use crate::exception::Exceptions;
use crate::path::WildcardReason;

use compile::{Compiled, PrefixGroup};

/// CloudFront's limit on paths in progress per distribution, hence on one invalidation.
pub const MAX_SET_SIZE: usize = 3000;
/// CloudFront's limit on wildcard paths in progress per distribution.
pub const MAX_WILDCARDS_IN_PROGRESS: usize = 15;

/// Why an (event, distribution) gives no item. The names are stable: they appear in the CLI's
/// output, in `plan.json` and in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Reason {
    /// A creation under the bucket's `exceptionPaths`.
    ExceptionPath,
    /// A creation on a behavior that caches nothing (MaxTTL 0), where no cached error outlives the
    /// batch window either.
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
    /// An event that does not change what CloudFront serves (restore, tags, ACL, the lifecycle
    /// expiry of a noncurrent version...).
    NotAChange,
    /// The only cover of the key is a wildcard broader than one top-level directory (a key `*` or
    /// `a*` at the top): not sent unless allowed ([`PlanOptions::allowing_broad_wildcards`]); a
    /// person decides.
    TooBroad,
}

impl Reason {
    /// The stable name (`not-cached`), the same as its JSON.
    pub fn as_str(self) -> &'static str {
        self.into()
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

/// How a plan is shaped: CloudFront's limits per set, and the strategy ([`Policy`], the batch
/// window for cached errors, broad wildcards). [`PlanOptions::default`] is the exact policy with
/// CloudFront's own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanOptions {
    max_set_size: usize,
    max_wildcards_per_set: usize,
    policy: Policy,
    max_items: usize,
    window_seconds: u32,
    allow_broad_wildcards: bool,
    cache_tags: CacheTags,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            max_set_size: MAX_SET_SIZE,
            max_wildcards_per_set: MAX_WILDCARDS_IN_PROGRESS,
            policy: Policy::Exact,
            max_items: DEFAULT_MAX_ITEMS,
            window_seconds: DEFAULT_WINDOW_SECONDS,
            allow_broad_wildcards: false,
            cache_tags: CacheTags::Off,
        }
    }
}

/// A limit out of CloudFront's range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error("set size must be between 1 and {MAX_SET_SIZE}, not {0}")]
    SetSize(usize),
    #[error("wildcards per set must be between 1 and {MAX_WILDCARDS_IN_PROGRESS}, not {0}")]
    Wildcards(usize),
    #[error("max items must be at least 1, not {0}")]
    MaxItems(usize),
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
        Ok(PlanOptions { max_set_size, max_wildcards_per_set, ..PlanOptions::default() })
    }

    /// The default policy and item threshold; a distribution's `cfinv:policy` and
    /// `cfinv:max-items` tags override them for that distribution.
    pub fn with_policy(mut self, policy: Policy, max_items: usize) -> Result<Self, OptionsError> {
        if max_items == 0 {
            return Err(OptionsError::MaxItems(max_items));
        }
        self.policy = policy;
        self.max_items = max_items;
        Ok(self)
    }

    /// The batch window, in seconds: an error CloudFront caches for longer than this (a 404 for a
    /// key requested before it was created) is still cached when the window's execution runs.
    pub fn with_window_seconds(mut self, seconds: u32) -> Self {
        self.window_seconds = seconds;
        self
    }

    /// Whether a key whose only cover is a broad wildcard ([`crate::path::is_too_broad`]) is sent
    /// as that wildcard (`true`) or reported as [`Reason::TooBroad`] (`false`, the default).
    pub fn allowing_broad_wildcards(mut self, allow: bool) -> Self {
        self.allow_broad_wildcards = allow;
        self
    }

    /// Whether distributions are sent their objects' cache tags by default ([`CacheTags`]; `off`
    /// unless set); a distribution's `cfinv:cache-tags` tag wins.
    pub fn with_cache_tags(mut self, cache_tags: CacheTags) -> Self {
        self.cache_tags = cache_tags;
        self
    }

    pub fn cache_tags(&self) -> CacheTags {
        self.cache_tags
    }

    pub fn max_set_size(&self) -> usize {
        self.max_set_size
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    pub fn max_items(&self) -> usize {
        self.max_items
    }

    pub fn window_seconds(&self) -> u32 {
        self.window_seconds
    }
}

/// Something odd in a distribution's config, or in its plan: it is planned as well as it can be,
/// and the operator is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    pub distribution_id: String,
    pub message: String,
}

/// Distributions compiled for planning; see the module documentation.
#[derive(Debug)]
pub struct Planner {
    dists: Vec<Compiled>,
    /// By bucket name: its index (into `bucket_names`) and its OriginPath groups.
    buckets: HashMap<String, (u32, Vec<PrefixGroup>)>,
    bucket_names: Vec<Arc<str>>,
    groups: usize,
    warnings: Vec<Warning>,
    options: PlanOptions,
}

/// An (event, distribution) that gives no item, or an event that gives none at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// Index of the event in the planned slice.
    pub event: usize,
    /// Set when the reason concerns one distribution (`not-served`, `not-cached`).
    pub distribution_id: Option<Arc<str>>,
    /// Set when the reason concerns one distribution tenant of that distribution.
    pub distribution_tenant_id: Option<Arc<str>>,
    pub reason: Reason,
}

/// The distribution tenant a plan is for: its `Id` and `Name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TenantRef {
    pub id: Arc<str>,
    pub name: Arc<str>,
}

/// Why an item is not simply the path of one changed key. The names are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ItemReason {
    /// The key contains `*`: the path is cut after it ([`WildcardReason::Asterisk`]).
    Asterisk,
    /// The path is longer than 4000 characters ([`WildcardReason::TooLong`]).
    TooLong,
    /// The key contains `~`, which CloudFront refuses ([`WildcardReason::Tilde`]).
    Tilde,
    /// The behavior caches query-string variants: `path*` invalidates them all.
    QueryStrings,
    /// An S3 website endpoint serves the key, an index document, at its directory too.
    IndexDocument,
    /// The distribution's `DefaultRootObject`: CloudFront serves it at `/` too.
    DefaultRootObject,
    /// A creation on a behavior that caches nothing, but the distribution caches error answers
    /// (the 404 of a request made before the key existed) for longer than the batch window.
    ErrorCached,
    /// The behavior caches query-string variants, but `path*` would be too broad
    /// ([`crate::path::is_too_broad`]): only the path itself is invalidated.
    QueryStringsTooBroad,
    /// A cache tag of the changed object (`#tag`), from its S3 metadata ([`crate::cache_tags`]).
    CacheTag,
}

impl ItemReason {
    /// The stable name, the same as its JSON.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl From<WildcardReason> for ItemReason {
    fn from(r: WildcardReason) -> Self {
        match r {
            WildcardReason::Asterisk => ItemReason::Asterisk,
            WildcardReason::TooLong => ItemReason::TooLong,
            WildcardReason::Tilde => ItemReason::Tilde,
        }
    }
}

/// An item that is not simply the path of one changed key: why, and the event whose key it covers.
/// `item` is the item that covers it in the end (a compaction wildcard may have replaced its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemNote {
    pub item: Arc<str>,
    pub reason: ItemReason,
    /// Index of the event in the planned slice.
    pub event: usize,
}

/// A wildcard the `compact` policy made: how many items it replaced, and the first few.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Compaction {
    pub item: Arc<str>,
    pub replaced: usize,
    pub examples: Vec<Arc<str>>,
}

/// What one distribution is to receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributionPlan {
    pub distribution_id: Arc<str>,
    /// The distribution tenant these items are for (CreateInvalidationForDistributionTenant), when
    /// the distribution is multi-tenant; `None` for a distribution (CreateInvalidation).
    pub tenant: Option<TenantRef>,
    /// A continuous-deployment staging distribution ([`crate::Distribution::staging`]).
    pub staging: bool,
    /// What CreateInvalidation receives: paths (`/a.js`) and wildcards (`/a.js*`), unique; ordered
    /// set by set, sorted within each set.
    pub items: Vec<Arc<str>>,
    /// The sets, as ranges of `items`; each is one CreateInvalidation.
    pub sets: Vec<Range<usize>>,
    /// Items that are not simply a changed key's path, and why.
    pub notes: Vec<ItemNote>,
    /// The wildcards compaction made.
    pub compacted: Vec<Compaction>,
    /// The policy and threshold this distribution was planned with.
    pub policy: Policy,
    pub max_items: usize,
    /// How many items the exact policy sends (before compaction).
    pub exact_items: usize,
    /// How many events gave this distribution at least one item.
    pub events: usize,
    /// The earliest S3 `eventTime` among those events (RFC 3339, as S3 wrote it): where the
    /// distribution's upload-to-live latency starts. `None` when no event carried a time.
    pub first_event_time: Option<String>,
}

impl DistributionPlan {
    /// Where the items go: the distribution, or its tenant.
    pub fn target(&self) -> crate::Target {
        crate::Target {
            distribution_id: self.distribution_id.to_string(),
            tenant_id: self.tenant.as_ref().map(|t| t.id.to_string()),
        }
    }

    /// How many items are cache tags (`#tag`).
    pub fn tag_items(&self) -> usize {
        self.items.iter().filter(|i| crate::cache_tags::is_tag_item(i)).count()
    }

    /// The sets, in order.
    pub fn sets(&self) -> impl Iterator<Item = &[Arc<str>]> + '_ {
        self.sets.iter().map(|r| &self.items[r.clone()])
    }

    /// What CloudFront bills, and what it costs at most.
    pub fn cost(&self) -> Cost {
        Cost::of(self.exact_items, self.items.len(), self.sets.len())
    }
}

/// One skipped (event, distribution) as a person or a program reads it: the event's bucket, key
/// and S3 event name, and why. The CLI's JSON and collect's `plan.json` both list these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkipRow<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub event: &'a str,
    pub reason: Reason,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_tenant_id: Option<&'a str>,
}

/// One [`ItemNote`] as a person or a program reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteRow<'a> {
    pub item: &'a str,
    pub reason: ItemReason,
    pub bucket: &'a str,
    pub key: &'a str,
}

/// The answer for one batch of events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Distributions with at least one item, by id.
    pub invalidations: Vec<DistributionPlan>,
    /// In event order.
    pub skipped: Vec<Skip>,
    /// What the plan could not do as asked (a distribution compaction could not bring down to its
    /// threshold without a wildcard too broad or reaching another origin's paths).
    pub warnings: Vec<Warning>,
}

impl Plan {
    /// The skipped (event, distribution) pairs as rows, in event order; `events` are the events
    /// this plan was made from.
    pub fn skip_rows<'a>(&'a self, events: &'a [ObjectEvent]) -> impl Iterator<Item = SkipRow<'a>> + 'a {
        self.skipped.iter().map(move |s| {
            let e = &events[s.event];
            SkipRow {
                bucket: &e.bucket,
                key: &e.key,
                event: &e.event_name,
                reason: s.reason,
                distribution_id: s.distribution_id.as_deref(),
                distribution_tenant_id: s.distribution_tenant_id.as_deref(),
            }
        })
    }

    /// Total items over all distributions.
    pub fn item_count(&self) -> usize {
        self.invalidations.iter().map(|d| d.items.len()).sum()
    }

    /// The cost of every distribution's invalidations together.
    pub fn cost(&self) -> Cost {
        self.invalidations.iter().map(DistributionPlan::cost).fold(Cost::default(), Cost::plus)
    }
}

impl DistributionPlan {
    /// The notes as rows; `events` are the events the plan was made from.
    pub fn note_rows<'a>(&'a self, events: &'a [ObjectEvent]) -> impl Iterator<Item = NoteRow<'a>> + 'a {
        self.notes.iter().map(move |n| {
            let e = &events[n.event];
            NoteRow { item: &n.item, reason: n.reason, bucket: &e.bucket, key: &e.key }
        })
    }
}

#[cfg(test)]
mod tests;
