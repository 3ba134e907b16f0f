//! Distributions as the AWS CLI prints them.
//!
//! Accepted: `aws cloudfront list-distributions` (`DistributionList.Items`), `get-distribution`
//! (`Distribution`, whose settings are under `DistributionConfig`), a bare summary or a bare
//! `{Id, DistributionConfig}`, and JSON arrays of any of these. `get-distribution-config` output
//! has no id and is refused with a hint.

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{id_of, item, read_all, AwsJsonError, List, Read};
use crate::distribution::{
    CacheBehavior, CustomErrorResponse, Distribution, EdgeFunction, Origin, OriginGroup, TtlSettings,
};

/// Reads every distribution in a document (the text of a file).
pub fn read_distributions(text: &str) -> Result<Read<Distribution>, AwsJsonError> {
    read_all(text, find, convert, |i, raw, problem| {
        let id = id_of(raw);
        format!("distribution {} ({id}): {problem}; skipped", i + 1)
    })
}

/// The top-level fields that tell the document's shape.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Head<'a> {
    #[serde(borrow)]
    distribution_list: Option<List<&'a RawValue>>,
    #[serde(borrow)]
    distribution: Option<&'a RawValue>,
    id: Option<IgnoredAny>,
    origins: Option<IgnoredAny>,
    distribution_config: Option<IgnoredAny>,
}

/// The items one object of the document holds.
fn find<'a>(raw: &'a RawValue, out: &mut Vec<&'a RawValue>) -> Result<(), AwsJsonError> {
    let head: Head = serde_json::from_str(raw.get()).map_err(|_| AwsJsonError::NoDistribution)?;
    if let Some(list) = head.distribution_list {
        out.extend(list.items);
    } else if let Some(d) = head.distribution {
        out.push(d);
    } else if head.id.is_some() && (head.origins.is_some() || head.distribution_config.is_some()) {
        out.push(raw);
    } else if head.distribution_config.is_some() {
        return Err(AwsJsonError::ConfigWithoutId);
    } else {
        return Err(AwsJsonError::NoDistribution);
    }
    Ok(())
}

/// A summary has its settings inline; a `get-distribution` body has them under
/// `DistributionConfig`. The item is read twice: its id and where the settings are, then the
/// settings (skipping past unknown fields costs no allocation).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ItemHead<'a> {
    id: Option<String>,
    #[serde(rename = "ARN")]
    arn: Option<String>,
    #[serde(borrow)]
    distribution_config: Option<&'a RawValue>,
}

fn convert(raw: &RawValue) -> Result<Distribution, String> {
    let head: ItemHead = item(raw)?;
    let id = head.id.ok_or("the distribution has no `Id`")?;
    if id.trim().is_empty() {
        // It could be neither invalidated (CreateInvalidation needs it) nor named in a report.
        return Err("the distribution's `Id` is empty".to_owned());
    }
    let config: ConfigJson = match head.distribution_config {
        Some(config) => item(config).map_err(|e| format!("DistributionConfig.{e}"))?,
        None => item(raw)?,
    };
    let mut d = config.into_core(id)?;
    d.arn = head.arn.unwrap_or_default();
    Ok(d)
}

/// The settings that decide what to invalidate; everything else in the document is skipped.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ConfigJson {
    origins: Option<List<OriginJson>>,
    origin_groups: List<OriginGroupJson>,
    default_cache_behavior: Option<BehaviorJson>,
    cache_behaviors: List<BehaviorJson>,
    default_root_object: Option<String>,
    custom_error_responses: List<ErrorResponseJson>,
    staging: Option<bool>,
    connection_mode: Option<String>,
    cache_tag_config: Option<CacheTagConfigJson>,
    tenant_config: Option<TenantConfigJson>,
}

/// `CacheTagConfig` (DistributionConfig; not in ListDistributions' summaries).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CacheTagConfigJson {
    header_name: String,
}

/// `TenantConfig.ParameterDefinitions[]`: `{Name, Definition: {StringSchema: {DefaultValue,
/// Required, Comment}}}`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct TenantConfigJson {
    parameter_definitions: Vec<ParameterDefinitionJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParameterDefinitionJson {
    name: String,
    #[serde(default)]
    definition: Option<ParameterSchemaJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParameterSchemaJson {
    string_schema: Option<StringSchemaJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StringSchemaJson {
    default_value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorResponseJson {
    error_code: u16,
    #[serde(rename = "ErrorCachingMinTTL")]
    error_caching_min_ttl: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OriginJson {
    id: String,
    domain_name: String,
    #[serde(default)]
    origin_path: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OriginGroupJson {
    id: String,
    members: List<MemberJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MemberJson {
    origin_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BehaviorJson {
    path_pattern: Option<String>,
    target_origin_id: String,
    cache_policy_id: Option<String>,
    #[serde(rename = "MinTTL")]
    min_ttl: Option<i64>,
    #[serde(rename = "DefaultTTL")]
    default_ttl: Option<i64>,
    #[serde(rename = "MaxTTL")]
    max_ttl: Option<i64>,
    forwarded_values: Option<ForwardedValuesJson>,
    #[serde(default)]
    lambda_function_associations: List<AssociationJson>,
    #[serde(default)]
    function_associations: List<AssociationJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ForwardedValuesJson {
    #[serde(default)]
    query_string: bool,
}

/// A Lambda@Edge association (`LambdaFunctionARN`) or a CloudFront Functions one (`FunctionARN`).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssociationJson {
    event_type: String,
    #[serde(rename = "LambdaFunctionARN")]
    lambda_function_arn: Option<String>,
    #[serde(rename = "FunctionARN")]
    function_arn: Option<String>,
}

impl ConfigJson {
    fn into_core(self, id: String) -> Result<Distribution, String> {
        let config = self;
        let origins: Vec<Origin> = config
            .origins
            .unwrap_or_default()
            .items
            .into_iter()
            .map(|o| Origin { id: o.id, domain_name: o.domain_name, origin_path: o.origin_path.unwrap_or_default() })
            .collect();
        if origins.is_empty() {
            return Err("no origins".to_owned());
        }
        let origin_groups = config
            .origin_groups
            .items
            .into_iter()
            .map(|g| OriginGroup { id: g.id, members: g.members.items.into_iter().map(|m| m.origin_id).collect() })
            .collect();
        let default = config.default_cache_behavior.ok_or("no `DefaultCacheBehavior`")?;
        let default_behavior = default.into_core("*".to_owned());
        let behaviors = config
            .cache_behaviors
            .items
            .into_iter()
            .map(|b| {
                let pattern = b.path_pattern.clone().ok_or("a cache behavior has no `PathPattern`")?;
                Ok(b.into_core(pattern))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let custom_error_responses = config
            .custom_error_responses
            .items
            .into_iter()
            .map(|r| CustomErrorResponse { error_code: r.error_code, error_caching_min_ttl: r.error_caching_min_ttl })
            .collect();
        let default_root_object = config.default_root_object.filter(|o| !o.is_empty());
        let parameter_defaults = config
            .tenant_config
            .unwrap_or_default()
            .parameter_definitions
            .into_iter()
            .filter_map(|p| Some((p.name, p.definition?.string_schema?.default_value?)))
            .collect();
        Ok(Distribution {
            id,
            arn: String::new(),
            origins,
            origin_groups,
            behaviors,
            default_behavior,
            default_root_object,
            custom_error_responses,
            tags: Default::default(),
            staging: config.staging.unwrap_or(false),
            cache_tag_header: config.cache_tag_config.map(|c| c.header_name).filter(|h| !h.is_empty()),
            multi_tenant: config.connection_mode.as_deref() == Some(crate::distribution::TENANT_ONLY),
            parameter_defaults,
        })
    }
}

impl BehaviorJson {
    fn into_core(self, path_pattern: String) -> CacheBehavior {
        let ttl =
            TtlSettings::from_fields(self.cache_policy_id.as_deref(), self.min_ttl, self.default_ttl, self.max_ttl);
        let edge_functions = self
            .lambda_function_associations
            .items
            .into_iter()
            .chain(self.function_associations.items)
            .map(|a| EdgeFunction {
                event_type: a.event_type,
                arn: a.lambda_function_arn.or(a.function_arn).unwrap_or_default(),
            })
            .collect();
        CacheBehavior {
            path_pattern,
            target_origin_id: self.target_origin_id,
            ttl,
            forwards_query_strings: self.forwarded_values.is_some_and(|f| f.query_string),
            edge_functions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

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

    fn read(v: &Value) -> Result<Read<Distribution>, AwsJsonError> {
        read_distributions(&v.to_string())
    }

    #[test]
    fn list_and_get_shapes() {
        let list = json!({"DistributionList": {"Items": [summary("E1"), summary("E2")]}});
        let r = read(&list).unwrap();
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
        assert_eq!(read(&get).unwrap().items[0].id, "E3");
        assert_eq!(read(&json!([list, get])).unwrap().items.len(), 3);
    }

    #[test]
    fn staging_cache_tags_and_tenant_config() {
        // DistributionSummary carries Staging and ConnectionMode; DistributionConfig (get-distribution)
        // CacheTagConfig and TenantConfig (CloudFront API reference, DistributionConfig).
        let mut s = summary("E5");
        s["Staging"] = json!(true);
        let r = read(&json!({"DistributionList": {"Items": [s]}})).unwrap();
        assert!(r.items[0].staging && !r.items[0].multi_tenant && r.items[0].cache_tag_header.is_none());

        let mut config = summary("E6");
        config.as_object_mut().unwrap().remove("Id");
        config["ConnectionMode"] = json!("tenant-only");
        config["CacheTagConfig"] = json!({"HeaderName": "x-amz-meta-cache-tag"});
        config["TenantConfig"] = json!({"ParameterDefinitions": [
            {"Name": "bucket", "Definition": {"StringSchema": {"Required": false, "DefaultValue": "shared"}}},
            {"Name": "prefix", "Definition": {"StringSchema": {"Required": true}}}]});
        let d = read(&json!({"Distribution": {"Id": "E6", "DistributionConfig": config}})).unwrap().items.remove(0);
        assert!(d.multi_tenant && !d.staging);
        assert_eq!(d.cache_tag_header.as_deref(), Some("x-amz-meta-cache-tag"));
        assert_eq!(d.parameter_defaults, [("bucket".to_owned(), "shared".to_owned())].into());
    }

    #[test]
    fn odd_distributions_are_skipped_not_fatal() {
        let mut bad = summary("E9");
        bad.as_object_mut().unwrap().remove("DefaultCacheBehavior");
        let r = read(&json!({"DistributionList": {"Items": [summary("E1"), bad]}})).unwrap();
        assert_eq!(r.items.len(), 1);
        assert_eq!(r.skipped, ["distribution 2 (E9): no `DefaultCacheBehavior`; skipped"]);
    }

    #[test]
    fn a_distribution_with_an_empty_id_is_skipped() {
        let r = read(&json!({"DistributionList": {"Items": [summary("E1"), summary(""), summary(" ")]}})).unwrap();
        assert_eq!(r.items.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["E1"]);
        assert_eq!(
            r.skipped,
            [
                "distribution 2 (?): the distribution's `Id` is empty; skipped",
                "distribution 3 (?): the distribution's `Id` is empty; skipped"
            ]
        );
        let mut config = summary("E2");
        config.as_object_mut().unwrap().remove("Id");
        let get = json!({"Distribution": {"Id": "", "DistributionConfig": config}});
        assert_eq!(read(&get).unwrap().skipped, ["distribution 1 (?): the distribution's `Id` is empty; skipped"]);
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named() {
        let mut bad = summary("E8");
        bad["Origins"]["Items"][0]["DomainName"] = json!(42);
        let r = read(&json!({"DistributionList": {"Items": [bad, summary("E1")]}})).unwrap();
        assert_eq!(r.items.len(), 1);
        assert_eq!(r.skipped.len(), 1);
        let msg = &r.skipped[0];
        assert!(msg.starts_with("distribution 1 (E8): Origins.Items[0].DomainName: invalid type"), "{msg}");
    }

    #[test]
    fn an_account_without_distributions() {
        // `aws cloudfront list-distributions` for an account with none: `Quantity` 0 and no `Items`
        // (CloudFront API reference, DistributionList: Items is present only when Quantity > 0).
        let none = json!({"DistributionList": {"Marker": "", "MaxItems": 100, "IsTruncated": false, "Quantity": 0}});
        assert_eq!(read(&none), Ok(Read::default()));
        assert_eq!(read(&json!({"DistributionList": {"Quantity": 0, "Items": []}})), Ok(Read::default()));
        assert_eq!(read(&json!([])), Ok(Read::default()));
    }

    #[test]
    fn documents_without_distributions() {
        assert_eq!(read(&json!({"x": 1})), Err(AwsJsonError::NoDistribution));
        assert_eq!(read(&json!({"Records": []})), Err(AwsJsonError::NoDistribution));
        assert_eq!(read(&json!([{"DistributionList": {"Quantity": 0}}, {}])), Err(AwsJsonError::NoDistribution));
        assert_eq!(read(&json!({"ETag": "x", "DistributionConfig": {}})), Err(AwsJsonError::ConfigWithoutId));
        assert_eq!(read(&json!("text")), Err(AwsJsonError::NoDistribution));
        assert!(matches!(read_distributions("{\"DistributionList\": "), Err(AwsJsonError::NotJson(_))));
    }
}
