//! The distributions a plan is made with: the account as [`crate::live::planner`] reads it (every
//! page of ListDistributions, custom cache policies, `cfinv:*` tags, default root objects, website
//! index documents), compiled into a [`Planner`] that a warm container reuses for
//! `CFINV_DISTRIBUTION_CACHE_SECONDS`.
//!
//! Tags and website configurations that cannot be read are logged and left out: the distribution
//! takes the stack's policy, the bucket `index.html`. A run never fails for them.

use std::sync::Arc;

use cfinv_core::plan::Planner;
use cfinv_core::ObjectEvent;

use crate::expiring::Expiring;
use crate::ports::{Buckets, CloudFront, Executions, Objects, Queue};

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

    /// Lists the distributions and compiles them ([`crate::live::planner`]).
    async fn list_planner(&self) -> Result<Arc<Planner>, CollectError> {
        let live = crate::live::planner(&self.ports.cloudfront, &self.ports.objects, self.settings.plan_options)
            .await
            .map_err(CollectError::CloudFront)?;
        let planner = Arc::new(live.planner);
        self.planners.insert((), planner.clone());
        Ok(planner)
    }
}
