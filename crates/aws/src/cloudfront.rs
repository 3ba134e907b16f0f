//! CloudFront: listing distributions (into the core's model), cache policies, invalidations.

use std::collections::BTreeMap;

use aws_sdk_cloudfront::types::{ConnectionMode, DistributionTenantAssociationFilter, InvalidationBatch, Paths};
use cfinv_core::distribution::{CustomErrorResponse, EdgeFunction};
use cfinv_core::{
    CacheBehavior, CachePolicy, Distribution, DistributionTenant, Origin, OriginGroup, Target, TtlSettings,
};
use cfinv_pipeline::ports::{
    CloudFront, DistributionDetails, ErrorKind, Invalidation, InvalidationDetails, Listed, PortError,
};

use crate::errors::port_error;

#[derive(Clone)]
pub struct CloudFrontClient {
    client: aws_sdk_cloudfront::Client,
}

impl CloudFrontClient {
    pub fn new(client: aws_sdk_cloudfront::Client) -> Self {
        CloudFrontClient { client }
    }

    /// ListDistributionTenants of one multi-tenant distribution, every page (the SDK's paginator,
    /// 100 a call), as summaries: ids, names and domains, without `Parameters` (each needs a
    /// GetDistributionTenant, which [`CloudFront::distribution_tenants`] adds). Enough to address
    /// each tenant's invalidations, as `cfinv status` does.
    pub async fn distribution_tenant_summaries(
        &self,
        distribution_id: &str,
    ) -> Result<Vec<DistributionTenant>, PortError> {
        let filter = DistributionTenantAssociationFilter::builder().distribution_id(distribution_id).build();
        let summaries = self
            .client
            .list_distribution_tenants()
            .association_filter(filter)
            .into_paginator()
            .page_size(100)
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(port_error)?;
        Ok(summaries
            .iter()
            .map(|t| DistributionTenant {
                id: t.id().to_owned(),
                distribution_id: t.distribution_id().to_owned(),
                name: t.name().to_owned(),
                domains: t.domains().iter().map(|d| d.domain().to_owned()).collect(),
                parameters: BTreeMap::new(),
            })
            .collect())
    }

    /// GetDistributionTenant: the id of the multi-tenant distribution a tenant belongs to, `None`
    /// when CloudFront knows no such tenant (`EntityNotFound`).
    pub async fn tenant_distribution(&self, tenant_id: &str) -> Result<Option<String>, PortError> {
        match self.client.get_distribution_tenant().identifier(tenant_id).send().await {
            Ok(out) => Ok(out.distribution_tenant().and_then(|t| t.distribution_id()).map(str::to_owned)),
            Err(e) => {
                let e = port_error(e);
                if e.code.as_deref() == Some("EntityNotFound") {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }
}

/// The core's view of a distribution summary; `Err` names what is missing.
///
/// The legacy TTL fields are deprecated in the SDK but still what older behaviors use, and the
/// only way to know that such a behavior caches nothing.
#[allow(deprecated)]
pub fn to_distribution(d: &aws_sdk_cloudfront::types::DistributionSummary) -> Result<Distribution, String> {
    let origins: Vec<Origin> = d
        .origins()
        .map(|o| o.items())
        .unwrap_or_default()
        .iter()
        .map(|o| Origin {
            id: o.id().to_owned(),
            domain_name: o.domain_name().to_owned(),
            origin_path: o.origin_path().unwrap_or_default().to_owned(),
        })
        .collect();
    if origins.is_empty() {
        return Err("no origins".to_owned());
    }
    let origin_groups = d
        .origin_groups()
        .map(|g| g.items())
        .unwrap_or_default()
        .iter()
        .map(|g| OriginGroup {
            id: g.id().to_owned(),
            members: g
                .members()
                .map(|m| m.items())
                .unwrap_or_default()
                .iter()
                .map(|m| m.origin_id().to_owned())
                .collect(),
        })
        .collect();
    let default = d.default_cache_behavior().ok_or("no default cache behavior")?;
    let default_behavior = CacheBehavior {
        path_pattern: "*".to_owned(),
        target_origin_id: default.target_origin_id().to_owned(),
        ttl: TtlSettings::from_fields(
            default.cache_policy_id(),
            default.min_ttl(),
            default.default_ttl(),
            default.max_ttl(),
        ),
        forwards_query_strings: default.forwarded_values().is_some_and(|f| f.query_string()),
        edge_functions: edge_functions(default.lambda_function_associations(), default.function_associations()),
    };
    let behaviors = d
        .cache_behaviors()
        .map(|b| b.items())
        .unwrap_or_default()
        .iter()
        .map(|b| CacheBehavior {
            path_pattern: b.path_pattern().to_owned(),
            target_origin_id: b.target_origin_id().to_owned(),
            ttl: TtlSettings::from_fields(b.cache_policy_id(), b.min_ttl(), b.default_ttl(), b.max_ttl()),
            forwards_query_strings: b.forwarded_values().is_some_and(|f| f.query_string()),
            edge_functions: edge_functions(b.lambda_function_associations(), b.function_associations()),
        })
        .collect();
    let custom_error_responses = d
        .custom_error_responses()
        .map(|r| r.items())
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            Some(CustomErrorResponse {
                error_code: u16::try_from(r.error_code()).ok()?,
                error_caching_min_ttl: r.error_caching_min_ttl(),
            })
        })
        .collect();
    Ok(Distribution {
        id: d.id().to_owned(),
        arn: d.arn().to_owned(),
        origins,
        origin_groups,
        behaviors,
        default_behavior,
        custom_error_responses,
        staging: d.staging(),
        multi_tenant: d.connection_mode() == Some(&ConnectionMode::TenantOnly),
        ..Default::default()
    })
}

/// One page of ListInvalidations or ListInvalidationsForDistributionTenant: the ids in progress,
/// and the next marker when the list goes on.
fn in_progress_page(list: Option<&aws_sdk_cloudfront::types::InvalidationList>) -> (Vec<String>, Option<String>) {
    let Some(list) = list else { return (Vec::new(), None) };
    let ids = list.items().iter().filter(|i| i.status() != "Completed").map(|i| i.id().to_owned()).collect();
    let next = list.next_marker().filter(|n| list.is_truncated() && !n.is_empty()).map(str::to_owned);
    (ids, next)
}

/// GetInvalidation's (or its tenant twin's) invalidation, in the port's words.
fn details(inv: Option<&aws_sdk_cloudfront::types::Invalidation>) -> Result<InvalidationDetails, PortError> {
    let inv = inv.ok_or_else(|| PortError::new(ErrorKind::Unavailable, "GetInvalidation returned no invalidation"))?;
    let batch = inv.invalidation_batch();
    Ok(InvalidationDetails {
        id: inv.id().to_owned(),
        status: inv.status().to_owned(),
        caller_reference: batch.map(|b| b.caller_reference().to_owned()).unwrap_or_default(),
        paths: batch.and_then(|b| b.paths()).map(|p| p.items().to_vec()).unwrap_or_default(),
    })
}

/// A behavior's Lambda@Edge and CloudFront Functions associations.
fn edge_functions(
    lambda: Option<&aws_sdk_cloudfront::types::LambdaFunctionAssociations>,
    functions: Option<&aws_sdk_cloudfront::types::FunctionAssociations>,
) -> Vec<EdgeFunction> {
    let lambda = lambda.map(|l| l.items()).unwrap_or_default().iter().map(|a| EdgeFunction {
        event_type: a.event_type().as_str().to_owned(),
        arn: a.lambda_function_arn().to_owned(),
    });
    let functions = functions
        .map(|f| f.items())
        .unwrap_or_default()
        .iter()
        .map(|a| EdgeFunction { event_type: a.event_type().as_str().to_owned(), arn: a.function_arn().to_owned() });
    lambda.chain(functions).collect()
}

impl CloudFront for CloudFrontClient {
    async fn list_distributions(&self) -> Result<Listed, PortError> {
        // Every page (the SDK's paginator, 100 a call).
        let summaries = self
            .client
            .list_distributions()
            .into_paginator()
            .page_size(100)
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(port_error)?;
        let mut listed = Listed::default();
        for d in &summaries {
            match to_distribution(d) {
                Ok(d) => listed.distributions.push(d),
                Err(problem) => listed.skipped.push(format!("distribution {}: {problem}; skipped", d.id())),
            }
        }
        Ok(listed)
    }

    async fn distribution_tags(&self, arn: &str) -> Result<BTreeMap<String, String>, PortError> {
        let out = self.client.list_tags_for_resource().resource(arn).send().await.map_err(port_error)?;
        Ok(out
            .tags()
            .map(|t| t.items())
            .unwrap_or_default()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
            .collect())
    }

    async fn distribution_details(&self, id: &str) -> Result<DistributionDetails, PortError> {
        let out = self.client.get_distribution_config().id(id).send().await.map_err(port_error)?;
        let config = out.distribution_config();
        Ok(DistributionDetails {
            default_root_object: config
                .and_then(|c| c.default_root_object())
                .filter(|o| !o.is_empty())
                .map(str::to_owned),
            cache_tag_header: config
                .and_then(|c| c.cache_tag_config())
                .map(|t| t.header_name().to_owned())
                .filter(|h| !h.is_empty()),
            parameter_defaults: config
                .and_then(|c| c.tenant_config())
                .map(|t| t.parameter_definitions())
                .unwrap_or_default()
                .iter()
                .filter_map(|p| {
                    let default = p.definition()?.string_schema()?.default_value()?;
                    Some((p.name().to_owned(), default.to_owned()))
                })
                .collect(),
        })
    }

    async fn distribution_tenants(&self, distribution_id: &str) -> Result<Vec<DistributionTenant>, PortError> {
        let mut tenants = self.distribution_tenant_summaries(distribution_id).await?;
        // The summaries leave out Parameters: GetDistributionTenant has them.
        for t in &mut tenants {
            let full = self.client.get_distribution_tenant().identifier(&t.id).send().await.map_err(port_error)?;
            t.parameters = full
                .distribution_tenant()
                .map(|d| d.parameters())
                .unwrap_or_default()
                .iter()
                .map(|p| (p.name().to_owned(), p.value().to_owned()))
                .collect();
        }
        Ok(tenants)
    }

    async fn cache_policy(&self, id: &str) -> Result<Option<CachePolicy>, PortError> {
        let out = match self.client.get_cache_policy().id(id).send().await {
            Ok(out) => out,
            Err(e) => {
                let e = port_error(e);
                return if e.kind == ErrorKind::NotFound { Ok(None) } else { Err(e) };
            }
        };
        Ok(out.cache_policy().and_then(|p| {
            let c = p.cache_policy_config()?;
            let query_strings = c
                .parameters_in_cache_key_and_forwarded_to_origin()
                .and_then(|k| k.query_strings_config())
                .map(|q| q.query_string_behavior().as_str());
            Some(
                CachePolicy::from_fields(
                    p.id().to_owned(),
                    c.name().to_owned(),
                    Some(c.min_ttl()),
                    c.default_ttl(),
                    c.max_ttl(),
                )
                .with_query_string_behavior(query_strings),
            )
        }))
    }

    async fn invalidations_in_progress(&self, target: &str) -> Result<Vec<String>, PortError> {
        // Newest first: invalidations in progress are among the most recent. Read pages while they
        // hold any in progress (at most 10 pages of 100: 1,000 invalidations).
        let target = Target::parse(target);
        let mut ids = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..10 {
            let (page, next) = match &target.tenant_id {
                Some(tenant) => in_progress_page(
                    self.client
                        .list_invalidations_for_distribution_tenant()
                        .id(tenant)
                        .set_marker(marker.take())
                        .max_items(100)
                        .send()
                        .await
                        .map_err(port_error)?
                        .invalidation_list(),
                ),
                None => in_progress_page(
                    self.client
                        .list_invalidations()
                        .distribution_id(&target.distribution_id)
                        .set_marker(marker.take())
                        .max_items(100)
                        .send()
                        .await
                        .map_err(port_error)?
                        .invalidation_list(),
                ),
            };
            let any = !page.is_empty();
            ids.extend(page);
            match next {
                Some(next) if any => marker = Some(next),
                _ => break,
            }
        }
        Ok(ids)
    }

    async fn get_invalidation(&self, target: &str, id: &str) -> Result<InvalidationDetails, PortError> {
        let target = Target::parse(target);
        match &target.tenant_id {
            Some(tenant) => details(
                self.client
                    .get_invalidation_for_distribution_tenant()
                    .distribution_tenant_id(tenant)
                    .id(id)
                    .send()
                    .await
                    .map_err(port_error)?
                    .invalidation(),
            ),
            None => details(
                self.client
                    .get_invalidation()
                    .distribution_id(&target.distribution_id)
                    .id(id)
                    .send()
                    .await
                    .map_err(port_error)?
                    .invalidation(),
            ),
        }
    }

    async fn create_invalidation(
        &self,
        target: &str,
        caller_reference: &str,
        paths: &[String],
    ) -> Result<Invalidation, PortError> {
        let build =
            |e: aws_sdk_cloudfront::error::BuildError| PortError::new(ErrorKind::InvalidArgument, e.to_string());
        let batch = InvalidationBatch::builder()
            .paths(
                Paths::builder().quantity(paths.len() as i32).set_items(Some(paths.to_vec())).build().map_err(build)?,
            )
            .caller_reference(caller_reference)
            .build()
            .map_err(build)?;
        let target = Target::parse(target);
        let invalidation = match &target.tenant_id {
            Some(tenant) => {
                self.client
                    .create_invalidation_for_distribution_tenant()
                    .id(tenant)
                    .invalidation_batch(batch)
                    .send()
                    .await
                    .map_err(port_error)?
                    .invalidation
            }
            None => {
                self.client
                    .create_invalidation()
                    .distribution_id(&target.distribution_id)
                    .invalidation_batch(batch)
                    .send()
                    .await
                    .map_err(port_error)?
                    .invalidation
            }
        };
        let inv = invalidation
            .ok_or_else(|| PortError::new(ErrorKind::Unavailable, "CreateInvalidation returned no invalidation"))?;
        Ok(Invalidation { id: inv.id().to_owned(), status: inv.status().to_owned() })
    }
}
