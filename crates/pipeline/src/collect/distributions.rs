//! The distributions a plan is made with: every page of ListDistributions, the custom cache
//! policies their behaviors name (GetCachePolicy), the `cfinv:*` tags of the distributions that
//! reach an S3 bucket (ListTagsForResource), and the index document of every bucket reached through
//! a website endpoint (GetBucketWebsite), compiled into a [`Planner`] that a warm container reuses
//! for `CFINV_DISTRIBUTION_CACHE_SECONDS`.
//!
//! Tags and website configurations that cannot be read are logged and left out: the distribution
//! takes the stack's policy, the bucket `index.html`. A run never fails for them.

use std::collections::HashMap;
use std::sync::Arc;

use cfinv_core::origin::{bucket_of_domain, EndpointKind};
use cfinv_core::plan::Planner;
use cfinv_core::{CachePolicies, Distribution, ObjectEvent, TtlSettings};
use tracing::{info, warn};

use crate::expiring::Expiring;
use crate::ports::{Buckets, CloudFront, ErrorKind, Executions, Objects, Queue};

use super::{Collect, CollectError};

/// The compiled distributions of the account, kept for a while.
pub(super) type PlannerCache = Expiring<(), Arc<Planner>>;

impl<Q: Queue, O: Objects + Buckets, C: CloudFront, E: Executions> Collect<Q, O, C, E> {
    /// The planner for these events: from the warm cache when fresh, unless an event's bucket is
    /// one no cached distribution reaches (it may belong to a distribution created since the cache
    /// was filled: look again before calling its events `no-origin`).
    pub(super) async fn planner_for(&self, events: &[ObjectEvent]) -> Result<Arc<Planner>, CollectError> {
        if let Some(cached) = self.planners.get(&()) {
            if events.iter().all(|e| !cached.distributions_for_bucket(&e.bucket).is_empty()) {
                return Ok(cached);
            }
        }
        self.list_planner().await
    }

    /// Lists the distributions and compiles them.
    async fn list_planner(&self) -> Result<Arc<Planner>, CollectError> {
        let cloudfront = &self.ports.cloudfront;
        let listed = cloudfront.list_distributions().await.map_err(CollectError::CloudFront)?;
        for s in &listed.skipped {
            warn!(problem = %s, "distribution skipped");
        }
        let mut policies = CachePolicies::managed();
        let mut custom: Vec<&str> = listed
            .distributions
            .iter()
            .flat_map(|d| d.behaviors.iter().chain(std::iter::once(&d.default_behavior)))
            .filter_map(|b| match &b.ttl {
                TtlSettings::Policy { id } if policies.get(id).is_none() => Some(id.as_str()),
                _ => None,
            })
            .collect();
        custom.sort_unstable();
        custom.dedup();
        for id in custom {
            match cloudfront.cache_policy(id).await {
                Ok(Some(p)) => policies.insert(p),
                Ok(None) => warn!(policy = id, "cache policy not found; assuming it caches"),
                // A policy we may not read (an AWS-managed one newer than our list, or a narrower
                // role) is assumed to cache, as an unknown one is: invalidating too much costs a
                // little, failing the whole run would invalidate nothing.
                Err(e)
                    if matches!(e.kind, ErrorKind::AccessDenied | ErrorKind::NotFound | ErrorKind::InvalidArgument) =>
                {
                    warn!(policy = id, error = %e, "cannot read the cache policy; assuming it caches")
                }
                Err(e) => return Err(CollectError::CloudFront(e)),
            }
        }
        let mut distributions = listed.distributions;
        let reaches_s3 = |d: &Distribution| d.origins.iter().any(|o| bucket_of_domain(&o.domain_name).is_some());
        for d in distributions.iter_mut().filter(|d| reaches_s3(d) && !d.arn.is_empty()) {
            match cloudfront.distribution_tags(&d.arn).await {
                Ok(tags) => d.tags = tags,
                Err(e) => {
                    warn!(distribution = %d.id, error = %e, "cannot read the distribution's tags; using the stack's policy")
                }
            }
            match cloudfront.distribution_details(&d.id).await {
                Ok(details) => d.default_root_object = details.default_root_object,
                Err(e) => {
                    warn!(distribution = %d.id, error = %e, "cannot read the distribution's config; planning without its default root object")
                }
            }
        }
        let mut websites: Vec<String> = distributions
            .iter()
            .flat_map(|d| &d.origins)
            .filter_map(|o| bucket_of_domain(&o.domain_name))
            .filter(|(_, kind)| *kind == EndpointKind::Website)
            .map(|(bucket, _)| bucket)
            .collect();
        websites.sort_unstable();
        websites.dedup();
        let mut index_documents = HashMap::new();
        for bucket in websites {
            match self.ports.objects.index_document(&bucket).await {
                Ok(Some(name)) => {
                    index_documents.insert(bucket, name);
                }
                Ok(None) => {}
                Err(e) => {
                    info!(bucket, error = %e, "cannot read the bucket's website configuration; its index document is taken to be index.html")
                }
            }
        }
        let planner = Arc::new(Planner::with_index_documents(
            &distributions,
            &policies,
            self.settings.plan_options,
            &index_documents,
        ));
        for w in planner.warnings() {
            warn!(distribution = %w.distribution_id, "{}", w.message);
        }
        info!(distributions = distributions.len(), "listed distributions");
        self.planners.insert((), planner.clone());
        Ok(planner)
    }
}
