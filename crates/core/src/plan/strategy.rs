//! The invalidation strategy: how many items a distribution may be sent, and what they cost.
//!
//! CloudFront bills *items*: after the first 1,000 paths a month per account, every path costs
//! $0.005, and a wildcard counts as one path however much it covers (CloudFront pricing;
//! CloudFront guide, "Pay for file invalidation"). A deploy of 10,000 files costs $50 per
//! distribution path by path, and needs four invalidations one after another (3,000 paths in
//! progress at most); `/*` costs $0.005 and finishes in one. Two policies:
//!
//! - [`Policy::Exact`]: every variant of every changed key, nothing more;
//! - [`Policy::Compact`]: when a distribution's plan holds more than `max_items` items, cover them
//!   with fewer prefix wildcards, deepest prefixes first, until at most `max_items` remain, never
//!   reaching a path another origin serves and never broader than one top-level directory
//!   ([`super::compact`]).
//!
//! The stack's `CostPolicy` and `MaxItems` parameters (the CLI's `--policy` and `--max-items`) set
//! the default; a distribution's `cfinv:policy` and `cfinv:max-items` resource tags override it for
//! that distribution.

use serde::Serialize;

/// The default item threshold of the compact policy: 15 wildcards is what one invalidation may
/// hold in progress per distribution (CloudFront guide, "Concurrent invalidation request maximum"),
/// so a compacted window is one invalidation, done in about 25 s at p95, costing at most $0.075.
pub const DEFAULT_MAX_ITEMS: usize = 15;
/// The stack's default batch window, in seconds.
pub const DEFAULT_WINDOW_SECONDS: u32 = 10;
/// CloudFront's price per invalidation path after the first 1,000 a month per account, in US
/// dollars (CloudFront pricing, "Invalidation requests").
pub const PRICE_PER_ITEM_USD: f64 = 0.005;

/// The distribution tag that sets its policy (`exact` or `compact`).
pub const POLICY_TAG: &str = "cfinv:policy";
/// The distribution tag that sets its compact threshold (a whole number, at least 1).
pub const MAX_ITEMS_TAG: &str = "cfinv:max-items";
/// The distribution tag that names the index document of its S3 website origins.
pub const INDEX_DOCUMENT_TAG: &str = "cfinv:index-document";
/// The distribution tag that sets whether its objects' cache tags are sent (`off`, `add`,
/// `instead`).
pub const CACHE_TAGS_TAG: &str = "cfinv:cache-tags";

/// Whether a distribution is sent the cache tags (`#tag` items) of the objects that change, when
/// its `CacheTagConfig` names S3 metadata ([`crate::cache_tags`]). Each tag is billed as one path,
/// as a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, strum::IntoStaticStr, strum::EnumString, Default)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum CacheTags {
    /// Paths only (the default): tags cost items and change nothing unless pages share them.
    #[default]
    Off,
    /// A created or overwritten object's tags beside its paths: every page tagged like it goes too.
    Add,
    /// A created or overwritten object's tags in place of its paths, when it has any: one item per
    /// tag however many URLs (variants, index directories) serve the object. A removal still gets
    /// its paths: a removed object's metadata is gone ([`crate::plan`] module docs).
    Instead,
}

impl CacheTags {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How a distribution's items are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, strum::IntoStaticStr, strum::EnumString, Default)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Policy {
    /// Every variant of every changed key, nothing more.
    #[default]
    Exact,
    /// At most `max_items` items, covering the rest with prefix wildcards where that is safe.
    Compact,
}

impl Policy {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A distribution's strategy after its tags: what its `cfinv:*` tags set, and what they got wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Tagged {
    pub(super) policy: Policy,
    pub(super) max_items: usize,
    pub(super) index_document: Option<String>,
    pub(super) cache_tags: CacheTags,
    pub(super) problems: Vec<String>,
}

/// Reads a distribution's `cfinv:*` tags over the defaults. A value that cannot be read is named
/// in `problems` and the default is kept.
pub(super) fn read_tags(
    tags: &std::collections::BTreeMap<String, String>,
    policy: Policy,
    max_items: usize,
    cache_tags: CacheTags,
) -> Tagged {
    let mut out = Tagged { policy, max_items, index_document: None, cache_tags, problems: Vec::new() };
    if let Some(v) = tags.get(CACHE_TAGS_TAG) {
        match v.trim().parse::<CacheTags>() {
            Ok(c) => out.cache_tags = c,
            Err(_) => out
                .problems
                .push(format!("tag {CACHE_TAGS_TAG}={v:?} is not off, add or instead; using {}", cache_tags.as_str())),
        }
    }
    if let Some(v) = tags.get(POLICY_TAG) {
        match v.trim().parse::<Policy>() {
            Ok(p) => out.policy = p,
            Err(_) => {
                out.problems.push(format!("tag {POLICY_TAG}={v:?} is not exact or compact; using {}", policy.as_str()))
            }
        }
    }
    if let Some(v) = tags.get(MAX_ITEMS_TAG) {
        match v.trim().parse::<usize>() {
            Ok(n) if n >= 1 => out.max_items = n,
            _ => {
                out.problems.push(format!("tag {MAX_ITEMS_TAG}={v:?} is not a whole number from 1; using {max_items}"))
            }
        }
    }
    if let Some(v) = tags.get(INDEX_DOCUMENT_TAG) {
        let v = v.trim();
        if v.is_empty() || v.contains('/') {
            out.problems.push(format!("tag {INDEX_DOCUMENT_TAG}={v:?} is not a file name; ignored"));
        } else {
            out.index_document = Some(v.to_owned());
        }
    }
    out
}

/// What a plan bills: items before and after the policy, sets, and the cost at most.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    /// Items the exact policy sends.
    pub exact_items: usize,
    /// Items sent, each billed as one path.
    pub billed_items: usize,
    /// CreateInvalidation calls (sets).
    pub set_count: usize,
    /// `billed_items` x $0.005: at most, since the first 1,000 paths a month per account are free.
    pub estimated_cost_usd: f64,
}

impl Eq for Cost {}

impl Cost {
    pub fn of(exact_items: usize, billed_items: usize, sets: usize) -> Cost {
        // Whole tenths of a cent: no float noise such as 0.015000000000000001 in the output.
        let estimated_cost_usd = (billed_items as f64 * PRICE_PER_ITEM_USD * 1000.0).round() / 1000.0;
        Cost { exact_items, billed_items, set_count: sets, estimated_cost_usd }
    }

    pub(super) fn plus(self, other: Cost) -> Cost {
        Cost::of(
            self.exact_items + other.exact_items,
            self.billed_items + other.billed_items,
            self.set_count + other.set_count,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn tags_override_the_defaults_and_bad_ones_are_named() {
        let tags: BTreeMap<String, String> = [
            ("cfinv:policy".to_owned(), " compact ".to_owned()),
            ("cfinv:max-items".to_owned(), "100".to_owned()),
            ("cfinv:index-document".to_owned(), "default.htm".to_owned()),
            ("Name".to_owned(), "site".to_owned()),
        ]
        .into();
        let t = read_tags(&tags, Policy::Exact, 15, CacheTags::Off);
        assert_eq!((t.policy, t.max_items, t.index_document.as_deref()), (Policy::Compact, 100, Some("default.htm")));
        assert_eq!(t.cache_tags, CacheTags::Off);
        assert!(t.problems.is_empty());
        let tagged: BTreeMap<String, String> = [("cfinv:cache-tags".to_owned(), " instead".to_owned())].into();
        assert_eq!(read_tags(&tagged, Policy::Exact, 15, CacheTags::Add).cache_tags, CacheTags::Instead);
        let wrong: BTreeMap<String, String> = [("cfinv:cache-tags".to_owned(), "on".to_owned())].into();
        let t = read_tags(&wrong, Policy::Exact, 15, CacheTags::Add);
        assert_eq!((t.cache_tags, t.problems.len()), (CacheTags::Add, 1));
        let bad: BTreeMap<String, String> =
            [("cfinv:policy".to_owned(), "cheap".to_owned()), ("cfinv:max-items".to_owned(), "0".to_owned())].into();
        let t = read_tags(&bad, Policy::Compact, 15, CacheTags::Off);
        assert_eq!((t.policy, t.max_items), (Policy::Compact, 15));
        assert_eq!(t.problems.len(), 2);
    }

    #[test]
    fn cost_is_half_a_cent_an_item() {
        assert_eq!(Cost::of(10_000, 10_000, 4).estimated_cost_usd, 50.0);
        assert_eq!(Cost::of(10_000, 15, 1).estimated_cost_usd, 0.075);
        assert_eq!(Cost::of(3, 3, 1).estimated_cost_usd, 0.015);
    }
}
