//! The parts of a CloudFront distribution that decide what to invalidate.
//!
//! These are our own types, not the SDK's: the Lambdas convert SDK output into them, the CLI reads
//! them from AWS CLI JSON ([`crate::aws_json`]), and the tests build them by hand.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A distribution, reduced to what decides what to invalidate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Distribution {
    pub id: String,
    /// `arn:aws:cloudfront::ACCOUNT:distribution/ID`, when known (for its tags).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub arn: String,
    pub origins: Vec<Origin>,
    #[serde(default)]
    pub origin_groups: Vec<OriginGroup>,
    /// The ordered cache behaviors, without the default one.
    #[serde(default)]
    pub behaviors: Vec<CacheBehavior>,
    /// The default cache behavior (path pattern `*`), evaluated after all others.
    pub default_behavior: CacheBehavior,
    /// `DefaultRootObject` (`index.html`): the object CloudFront returns for `/`, which is then
    /// cached under `/` too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_root_object: Option<String>,
    /// `CustomErrorResponses`: how long CloudFront caches an error code (`ErrorCachingMinTTL`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_error_responses: Vec<CustomErrorResponse>,
    /// The distribution's resource tags (ListTagsForResource); cfinv reads its own `cfinv:*` ones.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// `Staging`: a continuous-deployment staging distribution. It has a cache of its own (CloudFront
    /// guide, "Use CloudFront continuous deployment"), so it is planned and invalidated as any other
    /// distribution; the flag only names it in plans.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub staging: bool,
    /// `CacheTagConfig.HeaderName` (GetDistributionConfig; the summaries of ListDistributions leave
    /// it out): the response header CloudFront reads cache tags from. For an S3 origin it is
    /// `x-amz-meta-<key>`, the object's user metadata `<key>` (CloudFront guide, "Invalidating
    /// content by cache tags").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_tag_header: Option<String>,
    /// `ConnectionMode` is `tenant-only`: a multi-tenant distribution. It has no viewer endpoint of its
    /// own; its distribution tenants serve viewers, each invalidated on its own (CloudFront guide,
    /// "Understand how multi-tenant distributions work").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multi_tenant: bool,
    /// `TenantConfig.ParameterDefinitions`: each parameter's `StringSchema.DefaultValue`, by name,
    /// where it has one; a tenant that sets no value for a parameter takes it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameter_defaults: BTreeMap<String, String>,
}

/// The `ConnectionMode` of a multi-tenant distribution (CloudFront API reference, DistributionConfig).
pub const TENANT_ONLY: &str = "tenant-only";

/// A distribution tenant of a multi-tenant distribution (ListDistributionTenants,
/// GetDistributionTenant): it serves its own domains with its parent's configuration, filled with
/// its parameters, and is invalidated with CreateInvalidationForDistributionTenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DistributionTenant {
    /// `Id` (`dt_` and 27 letters and digits in AWS's examples).
    pub id: String,
    /// `DistributionId`: the multi-tenant distribution it belongs to.
    pub distribution_id: String,
    /// `Name`, unique in the account.
    pub name: String,
    /// `Domains[].Domain`.
    #[serde(default)]
    pub domains: Vec<String>,
    /// `Parameters` (`Name` to `Value`): they fill the `{{name}}` placeholders of the origins' domain
    /// names and paths (CloudFront guide, "Distribution tenant customizations"). GetDistributionTenant
    /// returns them; ListDistributionTenants' summaries do not.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
}

/// What an invalidation is sent to: a distribution (CreateInvalidation), or one tenant of a
/// multi-tenant distribution (CreateInvalidationForDistributionTenant).
///
/// Its key names it in the run's layout (S3 folders, CallerReferences, error files): the
/// distribution id for a distribution, `{distribution id}_{tenant id}` for a tenant. A distribution
/// id is letters and digits, so a key with `_` is a tenant's and never collides with a
/// distribution's; the part before the first `_` is always the distribution id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    pub distribution_id: String,
    pub tenant_id: Option<String>,
}

impl Target {
    /// A distribution.
    pub fn distribution(id: &str) -> Self {
        Target { distribution_id: id.to_owned(), tenant_id: None }
    }

    /// The key: `E123` or `E123_dt_abc`.
    pub fn key(&self) -> String {
        match &self.tenant_id {
            Some(t) => format!("{}_{t}", self.distribution_id),
            None => self.distribution_id.clone(),
        }
    }

    /// Reads a key back: the part before the first `_` is the distribution id, the rest (when
    /// there is a `_`) the tenant id.
    pub fn parse(key: &str) -> Self {
        match key.split_once('_') {
            Some((d, t)) => Target { distribution_id: d.to_owned(), tenant_id: Some(t.to_owned()) },
            None => Target::distribution(key),
        }
    }
}

impl std::fmt::Display for Target {
    /// `distribution E123` or `distribution E123, tenant dt_abc`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.tenant_id {
            Some(t) => write!(f, "distribution {}, tenant {t}", self.distribution_id),
            None => write!(f, "distribution {}", self.distribution_id),
        }
    }
}

/// One of a distribution's `CustomErrorResponses`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomErrorResponse {
    /// The HTTP status code from the origin (403, 404...).
    pub error_code: u16,
    /// `ErrorCachingMinTTL`, in seconds; `None` when not set.
    #[serde(default)]
    pub error_caching_min_ttl: Option<i64>,
}

/// A Lambda@Edge function or CloudFront Function attached to a behavior.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EdgeFunction {
    /// `viewer-request`, `origin-request`, `origin-response`, `viewer-response`.
    pub event_type: String,
    /// The function's ARN.
    pub arn: String,
}

impl EdgeFunction {
    /// True for the events whose function sees (and may rewrite) the request URI before the cache
    /// key is made or the origin is asked: `viewer-request` and `origin-request`.
    pub fn may_rewrite_uri(&self) -> bool {
        matches!(self.event_type.as_str(), "viewer-request" | "origin-request")
    }
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheBehavior {
    /// `*` for the default behavior.
    pub path_pattern: String,
    pub target_origin_id: String,
    pub ttl: TtlSettings,
    /// The legacy `ForwardedValues.QueryString`: query strings are part of the cache key. Ignored
    /// when the behavior uses a cache policy (the policy's `QueryStringsConfig` decides).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forwards_query_strings: bool,
    /// Lambda@Edge and CloudFront Functions associations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edge_functions: Vec<EdgeFunction>,
}

/// CloudFront's DefaultTTL when a legacy behavior or a cache policy does not set one (one day).
pub const DEFAULT_TTL: i64 = 86_400;
/// CloudFront's MaxTTL when a legacy behavior or a cache policy does not set one (one year).
pub const DEFAULT_MAX_TTL: i64 = 31_536_000;

/// Where a behavior's TTLs (and, with a policy, its cache key) come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum TtlSettings {
    /// The legacy per-behavior fields; `None` means the field was absent (AWS defaults apply).
    Legacy { min_ttl: Option<i64>, default_ttl: Option<i64>, max_ttl: Option<i64> },
    /// A cache policy by id (managed or custom); the legacy fields are then ignored by CloudFront.
    Policy { id: String },
}

impl Default for TtlSettings {
    /// No cache policy, no legacy field set: CloudFront's defaults apply.
    fn default() -> Self {
        TtlSettings::Legacy { min_ttl: None, default_ttl: None, max_ttl: None }
    }
}

/// A cache policy's TTLs and cache key, as GetCachePolicy / ListCachePolicies return them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachePolicy {
    pub id: String,
    pub name: String,
    pub min_ttl: i64,
    pub default_ttl: i64,
    pub max_ttl: i64,
    /// `QueryStringsConfig.QueryStringBehavior` is not `none`: each query string is cached apart.
    #[serde(default)]
    pub query_strings_in_cache_key: bool,
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
            query_strings_in_cache_key: false,
        }
    }

    /// The same policy with its `QueryStringsConfig.QueryStringBehavior` (`none`, `whitelist`,
    /// `allExcept`, `all`): every value but `none` puts query strings in the cache key (CloudFront
    /// API reference, CachePolicyQueryStringsConfig).
    pub fn with_query_string_behavior(mut self, behavior: Option<&str>) -> Self {
        self.query_strings_in_cache_key = behavior.is_some_and(|b| !b.eq_ignore_ascii_case("none"));
        self
    }
}

impl CacheBehavior {
    /// A behavior with legacy TTLs, as a test or a simple config would have it.
    pub fn legacy(path_pattern: &str, target_origin_id: &str, max_ttl: Option<i64>) -> Self {
        CacheBehavior {
            path_pattern: path_pattern.to_owned(),
            target_origin_id: target_origin_id.to_owned(),
            ttl: TtlSettings::Legacy { min_ttl: None, default_ttl: None, max_ttl },
            ..Default::default()
        }
    }

    /// A behavior that uses a cache policy.
    pub fn with_policy(path_pattern: &str, target_origin_id: &str, policy_id: &str) -> Self {
        CacheBehavior {
            path_pattern: path_pattern.to_owned(),
            target_origin_id: target_origin_id.to_owned(),
            ttl: TtlSettings::Policy { id: policy_id.to_owned() },
            ..Default::default()
        }
    }
}
