//! The distributions a plan is made with: every page of ListDistributions, the custom cache
//! policies their behaviors name (GetCachePolicy), compiled into a [`Planner`] that a warm
//! container reuses for `CFINV_DISTRIBUTION_CACHE_SECONDS`.

use std::sync::Arc;

use cfinv_core::plan::Planner;
use cfinv_core::{CachePolicies, ObjectEvent, TtlSettings};
use tracing::{info, warn};

use crate::expiring::Expiring;
use crate::ports::{CloudFront, ErrorKind, Executions, Objects, Queue};

use super::{Collect, CollectError};

/// The compiled distributions of the account, kept for a while.
pub(super) type PlannerCache = Expiring<(), Arc<Planner>>;

impl<Q: Queue, O: Objects, C: CloudFront, E: Executions> Collect<Q, O, C, E> {
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
        let planner = Arc::new(Planner::new(&listed.distributions, &policies, self.settings.plan_options));
        for w in planner.warnings() {
            warn!(distribution = %w.distribution_id, "{}", w.message);
        }
        info!(distributions = listed.distributions.len(), "listed distributions");
        self.planners.insert((), planner.clone());
        Ok(planner)
    }
}
