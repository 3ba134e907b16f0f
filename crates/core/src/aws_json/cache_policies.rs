//! Cache policies as the AWS CLI prints them: `aws cloudfront list-cache-policies`
//! (`CachePolicyList.Items[].CachePolicy`), `get-cache-policy` (`CachePolicy`), a bare policy
//! (`{Id, CachePolicyConfig}`), and arrays of these. The AWS managed policies ship in this shape
//! too (`crates/core/data/managed-cache-policies.json`, read by [`crate::cache`]).

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{item, read_all, AwsJsonError, List, Read};
use crate::distribution::CachePolicy;

/// Reads every cache policy in a document (the text of a file).
pub fn read_cache_policies(text: &str) -> Result<Read<CachePolicy>, AwsJsonError> {
    read_all(
        text,
        find,
        |raw| item::<PolicyJson>(raw).and_then(PolicyJson::into_core),
        |i, _raw, problem| format!("cache policy {}: {problem}; skipped", i + 1),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Head<'a> {
    #[serde(borrow)]
    cache_policy_list: Option<List<ListItem<'a>>>,
    #[serde(borrow)]
    cache_policy: Option<&'a RawValue>,
    cache_policy_config: Option<IgnoredAny>,
}

/// `{"Type": "managed" | "custom", "CachePolicy": {...}}`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListItem<'a> {
    #[serde(borrow)]
    cache_policy: Option<&'a RawValue>,
}

/// The items one object of the document holds.
fn find<'a>(raw: &'a RawValue, out: &mut Vec<&'a RawValue>) -> Result<(), AwsJsonError> {
    let head: Head = serde_json::from_str(raw.get()).map_err(|_| AwsJsonError::NoCachePolicy)?;
    if let Some(list) = head.cache_policy_list {
        out.extend(list.items.into_iter().filter_map(|i| i.cache_policy));
    } else if let Some(p) = head.cache_policy {
        out.push(p);
    } else if head.cache_policy_config.is_some() {
        out.push(raw);
    } else {
        return Err(AwsJsonError::NoCachePolicy);
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyJson {
    id: String,
    cache_policy_config: Option<PolicyConfigJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyConfigJson {
    #[serde(default)]
    name: String,
    #[serde(rename = "MinTTL")]
    min_ttl: Option<i64>,
    #[serde(rename = "DefaultTTL")]
    default_ttl: Option<i64>,
    #[serde(rename = "MaxTTL")]
    max_ttl: Option<i64>,
    parameters_in_cache_key_and_forwarded_to_origin: Option<CacheKeyJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CacheKeyJson {
    query_strings_config: Option<QueryStringsJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QueryStringsJson {
    query_string_behavior: Option<String>,
}

impl PolicyJson {
    fn into_core(self) -> Result<CachePolicy, String> {
        let c = self.cache_policy_config.ok_or_else(|| format!("{} has no `CachePolicyConfig`", self.id))?;
        let query_strings = c
            .parameters_in_cache_key_and_forwarded_to_origin
            .and_then(|k| k.query_strings_config)
            .and_then(|q| q.query_string_behavior);
        Ok(CachePolicy::from_fields(self.id, c.name, c.min_ttl, c.default_ttl, c.max_ttl)
            .with_query_string_behavior(query_strings.as_deref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cache_policies() {
        let list = json!({"CachePolicyList": {"Items": [
            {"Type": "custom", "CachePolicy": {"Id": "c1", "CachePolicyConfig": {"Name": "nocache", "MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 0}}},
            {"Type": "custom", "CachePolicy": {"Id": "c2", "CachePolicyConfig": {"Name": "short", "MinTTL": 0}}}
        ]}});
        let r = read_cache_policies(&list.to_string()).unwrap();
        assert_eq!(r.items[0].max_ttl, 0);
        assert_eq!(r.items[1].max_ttl, 31_536_000);
        assert_eq!(read_cache_policies("{}"), Err(AwsJsonError::NoCachePolicy));
        // `list-cache-policies --type custom` in an account without custom policies.
        let none = json!({"CachePolicyList": {"MaxItems": 100, "Quantity": 0}});
        assert_eq!(read_cache_policies(&none.to_string()), Ok(Read::default()));
        let get = json!({"ETag": "E", "CachePolicy": {"Id": "c3", "CachePolicyConfig": {"Name": "x", "MinTTL": 1, "MaxTTL": 60}}});
        assert_eq!(read_cache_policies(&get.to_string()).unwrap().items[0].default_ttl, 86_400);
        let qs = json!({"CachePolicy": {"Id": "c4", "CachePolicyConfig": {"Name": "v", "MaxTTL": 60,
            "ParametersInCacheKeyAndForwardedToOrigin": {"QueryStringsConfig": {"QueryStringBehavior": "whitelist",
                "QueryStrings": {"Quantity": 1, "Items": ["v"]}}}}}});
        assert!(read_cache_policies(&qs.to_string()).unwrap().items[0].query_strings_in_cache_key);
        assert!(!r.items[0].query_strings_in_cache_key, "no QueryStringsConfig: none");
    }
}
