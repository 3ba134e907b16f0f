//! Distribution tenants as the AWS CLI prints them.
//!
//! Accepted: `aws cloudfront list-distribution-tenants` (`DistributionTenantList`, summaries without
//! `Parameters`), `get-distribution-tenant` (`DistributionTenant`, with `Parameters`), a bare tenant,
//! and JSON arrays of any of these. The same tenant given twice (a list and a get) is merged: the
//! parameters of the copy that has them win (CloudFront API reference, DistributionTenant,
//! DistributionTenantSummary).

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{id_of, item, read_all, AwsJsonError, Read};
use crate::distribution::DistributionTenant;

/// Reads every distribution tenant in a document (the text of a file), each id once.
pub fn read_distribution_tenants(text: &str) -> Result<Read<DistributionTenant>, AwsJsonError> {
    let read = read_all(text, find, convert, |i, raw, problem| {
        let id = id_of(raw);
        format!("distribution tenant {} ({id}): {problem}; skipped", i + 1)
    })?;
    Ok(Read { items: merge(read.items), skipped: read.skipped })
}

/// Tenants given twice merged, in the order first seen: parameters from the copy that has them.
pub fn merge(tenants: Vec<DistributionTenant>) -> Vec<DistributionTenant> {
    let mut out: Vec<DistributionTenant> = Vec::with_capacity(tenants.len());
    for t in tenants {
        match out.iter_mut().find(|o| o.id == t.id) {
            Some(o) => {
                if o.parameters.is_empty() {
                    o.parameters = t.parameters;
                }
            }
            None => out.push(t),
        }
    }
    out
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Head<'a> {
    #[serde(borrow)]
    distribution_tenant_list: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    distribution_tenant: Option<&'a RawValue>,
    id: Option<IgnoredAny>,
    distribution_id: Option<IgnoredAny>,
}

/// The items one object of the document holds.
fn find<'a>(raw: &'a RawValue, out: &mut Vec<&'a RawValue>) -> Result<(), AwsJsonError> {
    let head: Head = serde_json::from_str(raw.get()).map_err(|_| AwsJsonError::NoDistributionTenant)?;
    if let Some(list) = head.distribution_tenant_list {
        out.extend(list);
    } else if let Some(t) = head.distribution_tenant {
        out.push(t);
    } else if head.id.is_some() && head.distribution_id.is_some() {
        out.push(raw);
    } else {
        return Err(AwsJsonError::NoDistributionTenant);
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TenantJson {
    id: String,
    distribution_id: String,
    name: String,
    #[serde(default)]
    domains: Vec<DomainJson>,
    #[serde(default)]
    parameters: Vec<ParameterJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DomainJson {
    domain: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParameterJson {
    name: String,
    value: String,
}

fn convert(raw: &RawValue) -> Result<DistributionTenant, String> {
    let t: TenantJson = item(raw)?;
    let parameters: BTreeMap<String, String> = t.parameters.into_iter().map(|p| (p.name, p.value)).collect();
    Ok(DistributionTenant {
        id: t.id,
        distribution_id: t.distribution_id,
        name: t.name,
        domains: t.domains.into_iter().map(|d| d.domain).collect(),
        parameters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A summary as ListDistributionTenants returns it (no Parameters).
    fn summary(id: &str, name: &str) -> serde_json::Value {
        json!({"Id": id, "DistributionId": "EMT1", "Name": name,
               "Arn": format!("arn:aws:cloudfront::123456789012:distribution-tenant/{id}"),
               "Domains": [{"Domain": format!("{name}.example.com"), "Status": "active"}],
               "CreatedTime": "2026-11-30T05:00:00Z", "LastModifiedTime": "2026-11-30T05:00:00Z",
               "ETag": "E2QWRUHEXAMPLE", "Enabled": true, "Status": "Deployed"})
    }

    #[test]
    fn list_and_get_shapes_merge() {
        let list = json!({"DistributionTenantList": [summary("dt_a", "acme"), summary("dt_b", "globex")]});
        let mut full = summary("dt_a", "acme");
        full["Parameters"] = json!([{"Name": "tenant", "Value": "acme"}]);
        full["Tags"] = json!({"Items": []});
        let get = json!({"ETag": "E2QWRUHEXAMPLE", "DistributionTenant": full});
        let r = read_distribution_tenants(&json!([list, get]).to_string()).unwrap();
        assert_eq!(r.items.len(), 2);
        assert_eq!(r.items[0].id, "dt_a");
        assert_eq!(r.items[0].domains, ["acme.example.com"]);
        assert_eq!(r.items[0].parameters, [("tenant".to_owned(), "acme".to_owned())].into());
        assert!(r.items[1].parameters.is_empty());
    }

    #[test]
    fn documents_without_tenants() {
        assert_eq!(read_distribution_tenants("{\"x\": 1}"), Err(AwsJsonError::NoDistributionTenant));
        // `list-distribution-tenants` for a distribution without tenants: an empty list, valid.
        assert_eq!(read_distribution_tenants("{\"DistributionTenantList\": []}"), Ok(Read::default()));
        let r = read_distribution_tenants(&json!({"DistributionTenantList": [{"Id": "dt_x"}]}).to_string()).unwrap();
        assert_eq!(r.skipped.len(), 1);
    }
}
