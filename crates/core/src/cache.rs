//! Whether a cache behavior caches anything at all, and what its cache key holds.
//!
//! The seed skips creations on a behavior whose TTL is 0 (nothing cached, nothing stale) but always
//! invalidates removals (error responses are cached even then, seed note #2). "Caches nothing"
//! means the *maximum* TTL is 0: with MinTTL 0 and DefaultTTL 0 an object that sends
//! `Cache-Control: max-age` is still cached up to MaxTTL.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::aws_json::read_cache_policies;
use crate::distribution::{CacheBehavior, CachePolicy, TtlSettings, DEFAULT_MAX_TTL};

/// The managed CachingDisabled policy: CloudFront caches no error response on a behavior that uses
/// it ("How CloudFront processes HTTP 4xx and 5xx status codes from your origin").
pub const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";

/// The AWS managed cache policies, as `aws cloudfront list-cache-policies --type managed` prints
/// them: their ids are global constants (CloudFront guide, "Use managed cache policies"). The
/// emulator serves the same file.
pub const MANAGED_POLICIES_JSON: &str = include_str!("../data/managed-cache-policies.json");

/// The managed policies, read once from [`MANAGED_POLICIES_JSON`].
fn managed_policies() -> &'static [CachePolicy] {
    static MANAGED: OnceLock<Vec<CachePolicy>> = OnceLock::new();
    // The file ships with the crate and a test reads it whole; were it ever unreadable, no policy
    // would be known, and every behavior would be assumed to cache (the safe side).
    MANAGED.get_or_init(|| read_cache_policies(MANAGED_POLICIES_JSON).map(|r| r.items).unwrap_or_default())
}

/// What we know of a behavior's caching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    Cached,
    /// MaxTTL is 0: a creation has nothing stale to invalidate.
    NotCached,
    /// The behavior names a cache policy we were not given: we assume it caches, because
    /// invalidating too much costs a little and invalidating too little serves stale content.
    UnknownPolicy,
}

/// CloudFront's error caching minimum TTL when a distribution does not set one: "CloudFront caches
/// error responses for a default duration of 10 seconds" (CloudFront guide, "Control how long
/// CloudFront caches errors").
pub const DEFAULT_ERROR_CACHING_SECONDS: i64 = 10;

/// How long a distribution keeps serving the error a request got for a key that did not exist yet,
/// in seconds: the longer of its 403 and 404 caching. S3 answers 404 for a missing key when the
/// reader may list the bucket, 403 otherwise. CloudFront caches a 404 for 10 s by default, a 403
/// only when the origin sends `Cache-Control: max-age` (S3 does not) or when a custom error
/// response for 403 sets `ErrorCachingMinTTL` (CloudFront guide, "How CloudFront processes HTTP 4xx
/// and 5xx status codes from your origin"); a custom error response without one caches for 10 s.
pub fn error_caching_seconds(d: &crate::distribution::Distribution) -> i64 {
    let custom = |code: u16| {
        d.custom_error_responses
            .iter()
            .find(|r| r.error_code == code)
            .map(|r| r.error_caching_min_ttl.unwrap_or(DEFAULT_ERROR_CACHING_SECONDS))
    };
    let not_found = custom(404).unwrap_or(DEFAULT_ERROR_CACHING_SECONDS);
    let forbidden = custom(403).unwrap_or(0);
    not_found.max(forbidden)
}

/// What a behavior caches, as far as invalidation is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BehaviorCache {
    pub caching: Caching,
    /// Query strings are in the cache key: `/a.js?v=1` and `/a.js?v=2` are cached apart, and only
    /// `/a.js*` invalidates them all (CloudFront guide, "Invalidate files", query strings).
    pub query_strings: bool,
    /// Error responses (a 404 for a key that did not exist yet) may be cached on this behavior
    /// even when it caches nothing else; false only for CachingDisabled.
    pub caches_errors: bool,
}

/// The cache policies known to a planner: the managed ones plus any custom ones supplied.
#[derive(Debug, Clone)]
pub struct CachePolicies {
    by_id: HashMap<String, CachePolicy>,
}

impl Default for CachePolicies {
    fn default() -> Self {
        let by_id = managed_policies().iter().map(|p| (p.id.clone(), p.clone())).collect();
        CachePolicies { by_id }
    }
}

impl CachePolicies {
    /// The managed policies only.
    pub fn managed() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a policy.
    pub fn insert(&mut self, policy: CachePolicy) {
        self.by_id.insert(policy.id.clone(), policy);
    }

    pub fn get(&self, id: &str) -> Option<&CachePolicy> {
        self.by_id.get(id)
    }

    /// What a behavior caches. An unknown policy is assumed to cache, with query strings in its
    /// cache key: invalidating a little too much costs a little, too little serves stale content.
    pub fn behavior(&self, b: &CacheBehavior) -> BehaviorCache {
        let caching = self.caching(&b.ttl);
        let query_strings = match &b.ttl {
            TtlSettings::Legacy { .. } => b.forwards_query_strings,
            TtlSettings::Policy { id } => self.get(id).is_none_or(|p| p.query_strings_in_cache_key),
        };
        let caches_errors = !matches!(&b.ttl, TtlSettings::Policy { id } if id == CACHING_DISABLED);
        BehaviorCache { caching, query_strings, caches_errors }
    }

    /// Decides whether a behavior with these settings caches anything.
    pub fn caching(&self, ttl: &TtlSettings) -> Caching {
        match ttl {
            TtlSettings::Legacy { max_ttl, .. } => {
                if max_ttl.unwrap_or(DEFAULT_MAX_TTL) <= 0 {
                    Caching::NotCached
                } else {
                    Caching::Cached
                }
            }
            TtlSettings::Policy { id } => match self.get(id) {
                Some(p) if p.max_ttl <= 0 => Caching::NotCached,
                Some(_) => Caching::Cached,
                None => Caching::UnknownPolicy,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legacy(min: Option<i64>, default: Option<i64>, max: Option<i64>) -> TtlSettings {
        TtlSettings::Legacy { min_ttl: min, default_ttl: default, max_ttl: max }
    }

    #[test]
    fn legacy_fields() {
        let p = CachePolicies::managed();
        assert_eq!(p.caching(&legacy(Some(0), Some(0), Some(0))), Caching::NotCached);
        assert_eq!(p.caching(&legacy(Some(0), Some(0), None)), Caching::Cached, "MaxTTL defaults to a year");
        assert_eq!(p.caching(&legacy(Some(0), Some(0), Some(60))), Caching::Cached);
        assert_eq!(p.caching(&legacy(None, None, None)), Caching::Cached);
    }

    #[test]
    fn the_managed_policies_file_is_read_whole() {
        let read = read_cache_policies(MANAGED_POLICIES_JSON).unwrap();
        assert!(read.skipped.is_empty(), "{:?}", read.skipped);
        assert_eq!(read.items.len(), 11);
        let p = CachePolicies::managed();
        let disabled = p.get("4135ea2d-6df8-44a3-9df3-4b5a84be39ad").unwrap();
        assert_eq!((disabled.name.as_str(), disabled.max_ttl), ("Managed-CachingDisabled", 0));
        assert_eq!(p.get("2e54312d-136d-493c-8eb9-b001f22f67d2").unwrap().max_ttl, 600, "Amplify");
    }

    #[test]
    fn policies() {
        let mut p = CachePolicies::managed();
        let pol = |id: &str| TtlSettings::Policy { id: id.into() };
        assert_eq!(p.caching(&pol("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")), Caching::NotCached);
        assert_eq!(p.caching(&pol("658327ea-f89d-4fab-a63d-7e88639e58f6")), Caching::Cached);
        assert_eq!(p.caching(&pol("custom-1")), Caching::UnknownPolicy);
        p.insert(CachePolicy::from_fields("custom-1".into(), "c".into(), Some(0), Some(0), Some(0)));
        assert_eq!(p.caching(&pol("custom-1")), Caching::NotCached);
    }
}
