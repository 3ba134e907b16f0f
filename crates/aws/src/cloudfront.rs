//! CloudFront: listing distributions (into the core's model), cache policies, invalidations.

use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
use cfinv_core::{CacheBehavior, CachePolicy, Distribution, Origin, OriginGroup, TtlSettings};
use cfinv_pipeline::ports::{CloudFront, ErrorKind, Invalidation, Listed, PortError};

use crate::errors::port_error;

#[derive(Clone)]
pub struct CloudFrontClient {
    client: aws_sdk_cloudfront::Client,
}

impl CloudFrontClient {
    pub fn new(client: aws_sdk_cloudfront::Client) -> Self {
        CloudFrontClient { client }
    }
}

fn ttl(cache_policy_id: Option<&str>, min: Option<i64>, default: Option<i64>, max: Option<i64>) -> TtlSettings {
    match cache_policy_id {
        // With a cache policy, CloudFront ignores the legacy fields (and some tools report them 0).
        Some(id) if !id.is_empty() => TtlSettings::Policy { id: id.to_owned() },
        _ => TtlSettings::Legacy { min_ttl: min, default_ttl: default, max_ttl: max },
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
        ttl: ttl(default.cache_policy_id(), default.min_ttl(), default.default_ttl(), default.max_ttl()),
    };
    let behaviors = d
        .cache_behaviors()
        .map(|b| b.items())
        .unwrap_or_default()
        .iter()
        .map(|b| CacheBehavior {
            path_pattern: b.path_pattern().to_owned(),
            target_origin_id: b.target_origin_id().to_owned(),
            ttl: ttl(b.cache_policy_id(), b.min_ttl(), b.default_ttl(), b.max_ttl()),
        })
        .collect();
    Ok(Distribution { id: d.id().to_owned(), origins, origin_groups, behaviors, default_behavior })
}

impl CloudFront for CloudFrontClient {
    async fn list_distributions(&self) -> Result<Listed, PortError> {
        let mut listed = Listed::default();
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .client
                .list_distributions()
                .set_marker(marker.take())
                .max_items(100)
                .send()
                .await
                .map_err(port_error)?;
            let Some(list) = out.distribution_list() else {
                break;
            };
            for d in list.items() {
                match to_distribution(d) {
                    Ok(d) => listed.distributions.push(d),
                    Err(problem) => listed.skipped.push(format!("distribution {}: {problem}; skipped", d.id())),
                }
            }
            match list.next_marker() {
                Some(next) if list.is_truncated() && !next.is_empty() => marker = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(listed)
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
            Some(CachePolicy {
                id: p.id().to_owned(),
                name: c.name().to_owned(),
                min_ttl: c.min_ttl(),
                default_ttl: c.default_ttl().unwrap_or(86_400),
                max_ttl: c.max_ttl().unwrap_or(31_536_000),
            })
        }))
    }

    async fn create_invalidation(
        &self,
        distribution_id: &str,
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
        let out = self
            .client
            .create_invalidation()
            .distribution_id(distribution_id)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(port_error)?;
        let inv = out
            .invalidation()
            .ok_or_else(|| PortError::new(ErrorKind::Unavailable, "CreateInvalidation returned no invalidation"))?;
        Ok(Invalidation { id: inv.id().to_owned(), status: inv.status().to_owned() })
    }
}
