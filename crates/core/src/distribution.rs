//! The parts of a CloudFront distribution that decide what to invalidate.
//!
//! These are our own types, not the SDK's: the Lambdas convert SDK output into them, the CLI reads
//! them from AWS CLI JSON ([`crate::aws_json`]), and the tests build them by hand.

use serde::{Deserialize, Serialize};

/// A distribution, reduced to origins and cache behaviors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Distribution {
    pub id: String,
    pub origins: Vec<Origin>,
    #[serde(default)]
    pub origin_groups: Vec<OriginGroup>,
    /// The ordered cache behaviors, without the default one.
    #[serde(default)]
    pub behaviors: Vec<CacheBehavior>,
    /// The default cache behavior (path pattern `*`), evaluated after all others.
    pub default_behavior: CacheBehavior,
}

/// One origin: where CloudFront fetches from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Origin {
    pub id: String,
    pub domain_name: String,
    /// `""` or `/some/prefix` (no trailing `/`); prepended to the viewer path on the way to S3.
    #[serde(default)]
    pub origin_path: String,
}

/// A failover pair (or more) of origins that a behavior can target by the group's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OriginGroup {
    pub id: String,
    pub members: Vec<String>,
}

/// A cache behavior: which paths it takes, where it sends them, how long it caches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheBehavior {
    /// `*` for the default behavior.
    pub path_pattern: String,
    pub target_origin_id: String,
    pub ttl: TtlSettings,
}

/// CloudFront's DefaultTTL when a legacy behavior or a cache policy does not set one (one day).
pub const DEFAULT_TTL: i64 = 86_400;
/// CloudFront's MaxTTL when a legacy behavior or a cache policy does not set one (one year).
pub const DEFAULT_MAX_TTL: i64 = 31_536_000;

/// Where a behavior's TTLs come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum TtlSettings {
    /// The legacy per-behavior fields; `None` means the field was absent (AWS defaults apply).
    Legacy { min_ttl: Option<i64>, default_ttl: Option<i64>, max_ttl: Option<i64> },
    /// A cache policy by id (managed or custom); the legacy fields are then ignored by CloudFront.
    Policy { id: String },
}

/// A cache policy's TTLs, as GetCachePolicy / ListCachePolicies return them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachePolicy {
    pub id: String,
    pub name: String,
    pub min_ttl: i64,
    pub default_ttl: i64,
    pub max_ttl: i64,
}

impl TtlSettings {
    /// A behavior's TTL settings from its fields as CloudFront returns them: a cache policy id, when
    /// there is one, wins over the legacy fields, which CloudFront then ignores (and some tools
    /// report as 0); an empty id means none. The legacy fields keep `None` when absent.
    pub fn from_fields(
        cache_policy_id: Option<&str>,
        min_ttl: Option<i64>,
        default_ttl: Option<i64>,
        max_ttl: Option<i64>,
    ) -> Self {
        match cache_policy_id {
            Some(id) if !id.is_empty() => TtlSettings::Policy { id: id.to_owned() },
            _ => TtlSettings::Legacy { min_ttl, default_ttl, max_ttl },
        }
    }
}

impl CachePolicy {
    /// A policy from its fields as GetCachePolicy returns them; absent TTLs take CloudFront's
    /// defaults (MinTTL 0, [`DEFAULT_TTL`], [`DEFAULT_MAX_TTL`]).
    pub fn from_fields(
        id: String,
        name: String,
        min_ttl: Option<i64>,
        default_ttl: Option<i64>,
        max_ttl: Option<i64>,
    ) -> Self {
        CachePolicy {
            id,
            name,
            min_ttl: min_ttl.unwrap_or(0),
            default_ttl: default_ttl.unwrap_or(DEFAULT_TTL),
            max_ttl: max_ttl.unwrap_or(DEFAULT_MAX_TTL),
        }
    }
}

impl CacheBehavior {
    /// A behavior with legacy TTLs, as a test or a simple config would have it.
    pub fn legacy(path_pattern: &str, target_origin_id: &str, max_ttl: Option<i64>) -> Self {
        CacheBehavior {
            path_pattern: path_pattern.to_owned(),
            target_origin_id: target_origin_id.to_owned(),
            ttl: TtlSettings::Legacy { min_ttl: None, default_ttl: None, max_ttl },
        }
    }

    /// A behavior that uses a cache policy.
    pub fn with_policy(path_pattern: &str, target_origin_id: &str, policy_id: &str) -> Self {
        CacheBehavior {
            path_pattern: path_pattern.to_owned(),
            target_origin_id: target_origin_id.to_owned(),
            ttl: TtlSettings::Policy { id: policy_id.to_owned() },
        }
    }
}
