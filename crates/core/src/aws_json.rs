//! Reading distributions and cache policies from the JSON the AWS CLI prints.
//!
//! Accepted: `aws cloudfront list-distributions` (`DistributionList.Items`), `get-distribution`
//! (`Distribution.DistributionConfig`), a bare distribution or summary, `list-cache-policies`
//! (`CachePolicyList.Items[].CachePolicy`), `get-cache-policy` (`CachePolicy`), and JSON arrays of
//! any of these. A distribution whose config we cannot read is skipped with a problem naming it,
//! rather than failing the others: one odd distribution must not stop the invalidation of the rest.

use serde_json::Value;

use crate::distribution::{CacheBehavior, CachePolicy, Distribution, Origin, OriginGroup, TtlSettings};

/// Why a document could not be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsJsonError {
    #[error("holds no CloudFront distribution (expected the output of `aws cloudfront list-distributions` or `get-distribution`)")]
    NoDistribution,
    #[error(
        "is `get-distribution-config` output, which has no distribution id; use `aws cloudfront get-distribution`"
    )]
    ConfigWithoutId,
    #[error(
        "holds no cache policy (expected the output of `aws cloudfront list-cache-policies` or `get-cache-policy`)"
    )]
    NoCachePolicy,
}

/// What a document yielded: the items read, and one message per item that was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read<T> {
    pub items: Vec<T>,
    pub skipped: Vec<String>,
}

impl<T> Default for Read<T> {
    fn default() -> Self {
        Read { items: Vec::new(), skipped: Vec::new() }
    }
}

/// Reads every distribution in a document.
pub fn read_distributions(doc: &Value) -> Result<Read<Distribution>, AwsJsonError> {
    let mut raw = Vec::new();
    find_distributions(doc, &mut raw)?;
    let mut out = Read::default();
    for (i, item) in raw.into_iter().enumerate() {
        match distribution(item) {
            Ok(d) => out.items.push(d),
            Err(problem) => {
                let id = item.get("Id").and_then(Value::as_str).unwrap_or("?");
                out.skipped.push(format!("distribution {} ({id}): {problem}; skipped", i + 1));
            }
        }
    }
    if out.items.is_empty() && out.skipped.is_empty() {
        return Err(AwsJsonError::NoDistribution);
    }
    Ok(out)
}

fn find_distributions<'a>(v: &'a Value, out: &mut Vec<&'a Value>) -> Result<(), AwsJsonError> {
    if let Some(items) = v.as_array() {
        for item in items {
            find_distributions(item, out)?;
        }
    } else if let Some(list) = v.get("DistributionList") {
        out.extend(list.get("Items").and_then(Value::as_array).into_iter().flatten());
    } else if let Some(d) = v.get("Distribution") {
        out.push(d);
    } else if v.get("Id").is_some() && (v.get("Origins").is_some() || v.get("DistributionConfig").is_some()) {
        out.push(v);
    } else if v.get("DistributionConfig").is_some() {
        return Err(AwsJsonError::ConfigWithoutId);
    } else {
        return Err(AwsJsonError::NoDistribution);
    }
    Ok(())
}

fn str_field<'a>(v: &'a Value, field: &str, what: &str) -> Result<&'a str, String> {
    v.get(field).and_then(Value::as_str).ok_or_else(|| format!("{what} has no `{field}`"))
}

/// `{"Quantity": n, "Items": [...]}`, where Items may be absent when n is 0.
fn items<'a>(v: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    v.get(field).and_then(|l| l.get("Items")).and_then(Value::as_array).into_iter().flatten()
}

fn distribution(item: &Value) -> Result<Distribution, String> {
    let id = str_field(item, "Id", "the distribution")?.to_owned();
    let config = item.get("DistributionConfig").unwrap_or(item);
    let origins = items(config, "Origins")
        .map(|o| {
            Ok(Origin {
                id: str_field(o, "Id", "an origin")?.to_owned(),
                domain_name: str_field(o, "DomainName", "an origin")?.to_owned(),
                origin_path: o.get("OriginPath").and_then(Value::as_str).unwrap_or("").to_owned(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if origins.is_empty() {
        return Err("no origins".to_owned());
    }
    let origin_groups = items(config, "OriginGroups")
        .map(|g| {
            Ok(OriginGroup {
                id: str_field(g, "Id", "an origin group")?.to_owned(),
                members: items(g, "Members")
                    .map(|m| str_field(m, "OriginId", "an origin group member").map(str::to_owned))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let default = config.get("DefaultCacheBehavior").ok_or("no `DefaultCacheBehavior`")?;
    let default_behavior = behavior(default, Some("*"))?;
    let behaviors = items(config, "CacheBehaviors").map(|b| behavior(b, None)).collect::<Result<Vec<_>, String>>()?;
    Ok(Distribution { id, origins, origin_groups, behaviors, default_behavior })
}

fn behavior(b: &Value, pattern: Option<&str>) -> Result<CacheBehavior, String> {
    let path_pattern = match pattern {
        Some(p) => p.to_owned(),
        None => str_field(b, "PathPattern", "a cache behavior")?.to_owned(),
    };
    let target_origin_id = str_field(b, "TargetOriginId", &format!("cache behavior {path_pattern:?}"))?.to_owned();
    let ttl = match b.get("CachePolicyId").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => TtlSettings::Policy { id: id.to_owned() },
        _ => TtlSettings::Legacy {
            min_ttl: b.get("MinTTL").and_then(Value::as_i64),
            default_ttl: b.get("DefaultTTL").and_then(Value::as_i64),
            max_ttl: b.get("MaxTTL").and_then(Value::as_i64),
        },
    };
    Ok(CacheBehavior { path_pattern, target_origin_id, ttl })
}

/// Reads every cache policy in a document.
pub fn read_cache_policies(doc: &Value) -> Result<Read<CachePolicy>, AwsJsonError> {
    let mut raw = Vec::new();
    find_policies(doc, &mut raw)?;
    let mut out = Read::default();
    for (i, p) in raw.into_iter().enumerate() {
        match cache_policy(p) {
            Ok(p) => out.items.push(p),
            Err(problem) => out.skipped.push(format!("cache policy {}: {problem}; skipped", i + 1)),
        }
    }
    if out.items.is_empty() && out.skipped.is_empty() {
        return Err(AwsJsonError::NoCachePolicy);
    }
    Ok(out)
}

fn find_policies<'a>(v: &'a Value, out: &mut Vec<&'a Value>) -> Result<(), AwsJsonError> {
    if let Some(items) = v.as_array() {
        for item in items {
            find_policies(item, out)?;
        }
    } else if let Some(list) = v.get("CachePolicyList") {
        for item in list.get("Items").and_then(Value::as_array).into_iter().flatten() {
            out.push(item.get("CachePolicy").unwrap_or(item));
        }
    } else if let Some(p) = v.get("CachePolicy") {
        out.push(p);
    } else if v.get("CachePolicyConfig").is_some() {
        out.push(v);
    } else {
        return Err(AwsJsonError::NoCachePolicy);
    }
    Ok(())
}

fn cache_policy(p: &Value) -> Result<CachePolicy, String> {
    let id = str_field(p, "Id", "the cache policy")?.to_owned();
    let config = p.get("CachePolicyConfig").ok_or_else(|| format!("{id} has no `CachePolicyConfig`"))?;
    let ttl = |field: &str, default: i64| config.get(field).and_then(Value::as_i64).unwrap_or(default);
    Ok(CachePolicy {
        name: config.get("Name").and_then(Value::as_str).unwrap_or("").to_owned(),
        id,
        min_ttl: ttl("MinTTL", 0),
        default_ttl: ttl("DefaultTTL", 86_400),
        max_ttl: ttl("MaxTTL", 31_536_000),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn summary(id: &str) -> Value {
        json!({
            "Id": id, "ARN": format!("arn:aws:cloudfront::123456789012:distribution/{id}"),
            "Status": "Deployed", "DomainName": "d111111abcdef8.cloudfront.net",
            "Origins": {"Quantity": 1, "Items": [
                {"Id": "s3", "DomainName": "site.s3.us-east-1.amazonaws.com", "OriginPath": "/prod",
                 "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "OriginGroups": {"Quantity": 0},
            "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
            "CacheBehaviors": {"Quantity": 1, "Items": [
                {"PathPattern": "/api/*", "TargetOriginId": "s3", "MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 0}]}
        })
    }

    #[test]
    fn list_and_get_shapes() {
        let list = json!({"DistributionList": {"Items": [summary("E1"), summary("E2")]}});
        let r = read_distributions(&list).unwrap();
        assert_eq!(r.items.len(), 2);
        let d = &r.items[0];
        assert_eq!(d.origins[0].origin_path, "/prod");
        assert_eq!(
            d.behaviors[0].ttl,
            TtlSettings::Legacy { min_ttl: Some(0), default_ttl: Some(0), max_ttl: Some(0) }
        );
        assert!(matches!(d.default_behavior.ttl, TtlSettings::Policy { .. }));

        let mut config = summary("E3");
        let id = config.as_object_mut().unwrap().remove("Id").unwrap();
        let get = json!({"ETag": "x", "Distribution": {"Id": id, "DistributionConfig": config}});
        assert_eq!(read_distributions(&get).unwrap().items[0].id, "E3");
        assert_eq!(read_distributions(&json!([list, get])).unwrap().items.len(), 3);
    }

    #[test]
    fn odd_distributions_are_skipped_not_fatal() {
        let mut bad = summary("E9");
        bad.as_object_mut().unwrap().remove("DefaultCacheBehavior");
        let r = read_distributions(&json!({"DistributionList": {"Items": [summary("E1"), bad]}})).unwrap();
        assert_eq!(r.items.len(), 1);
        assert_eq!(r.skipped, ["distribution 2 (E9): no `DefaultCacheBehavior`; skipped"]);
    }

    #[test]
    fn documents_without_distributions() {
        assert_eq!(read_distributions(&json!({"x": 1})), Err(AwsJsonError::NoDistribution));
        assert_eq!(
            read_distributions(&json!({"DistributionList": {"Quantity": 0}})),
            Err(AwsJsonError::NoDistribution)
        );
        assert_eq!(
            read_distributions(&json!({"ETag": "x", "DistributionConfig": {}})),
            Err(AwsJsonError::ConfigWithoutId)
        );
    }

    #[test]
    fn cache_policies() {
        let list = json!({"CachePolicyList": {"Items": [
            {"Type": "custom", "CachePolicy": {"Id": "c1", "CachePolicyConfig": {"Name": "nocache", "MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 0}}},
            {"Type": "custom", "CachePolicy": {"Id": "c2", "CachePolicyConfig": {"Name": "short", "MinTTL": 0}}}
        ]}});
        let r = read_cache_policies(&list).unwrap();
        assert_eq!(r.items[0].max_ttl, 0);
        assert_eq!(r.items[1].max_ttl, 31_536_000);
        assert_eq!(read_cache_policies(&json!({})), Err(AwsJsonError::NoCachePolicy));
    }
}
