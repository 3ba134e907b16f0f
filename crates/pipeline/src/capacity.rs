//! CloudFront's in-progress limits, and whether a set fits them now.
//!
//! A distribution may have at most 3,000 paths, of which 15 wildcard paths, in invalidations in
//! progress at once; CreateInvalidation beyond that fails with `TooManyInvalidationsInProgress`
//! (CloudFront guide, "Concurrent invalidation request maximum"). The limits count every caller's
//! invalidations: other executions, other tools, people in the console. So before a set is
//! submitted cfinv asks CloudFront what is in progress (ListInvalidations, then GetInvalidation for
//! each one in progress) and submits only when the set fits; otherwise the caller waits (the state
//! machine, in a Wait state) and asks again. An invalidation in progress that carries this set's
//! own CallerReference is this set, submitted by an earlier attempt: it is the answer, not a
//! competitor; unless its paths differ (an error file edited between two resubmissions, a set
//! number given twice), which CloudFront would refuse as `InvalidationBatchAlreadyExists` once it
//! completes: it is that refusal now (`BatchMismatch`), never taken for the set.
//!
//! A distribution tenant (a target key `E1_dt_...`) is asked about its own invalidations
//! (ListInvalidationsForDistributionTenant, GetInvalidationForDistributionTenant). Whether CloudFront
//! counts the limits per tenant or over the whole multi-tenant distribution is not documented (the
//! quota pages name distributions only); cfinv counts the tenant's own. Where the limit is in fact
//! shared, CreateInvalidationForDistributionTenant answers `TooManyInvalidationsInProgress`, which the
//! step waits out as it does another caller's, so no set fails for it: the guess costs waiting,
//! never a lost set. Cache tag items count as paths, never as wildcards.

use crate::ports::{CloudFront, ErrorKind, InvalidationDetails, PortError};

/// CloudFront's limit on paths in progress per distribution.
pub const MAX_PATHS_IN_PROGRESS: usize = 3000;
/// CloudFront's limit on wildcard paths in progress per distribution.
pub const MAX_WILDCARDS_IN_PROGRESS: usize = 15;

/// What a distribution has in progress.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InProgress {
    /// Paths of every invalidation in progress (wildcards included), and of those the wildcards.
    pub paths: usize,
    pub wildcards: usize,
    /// Invalidations in progress.
    pub invalidations: usize,
}

/// Whether a set can be submitted now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capacity {
    /// It fits beside what is in progress.
    Fits(InProgress),
    /// It does not fit yet.
    Full(InProgress),
    /// An invalidation in progress already carries this set's CallerReference.
    AlreadySubmitted(InvalidationDetails),
}

/// Items that count as wildcard paths: ending in `*`, cache tags (`#...`) excepted (a tag is
/// never a wildcard; it counts as one path: CloudFront guide, "What you need to know when
/// invalidating tags").
pub fn wildcards(items: &[String]) -> usize {
    items.iter().filter(|i| cfinv_core::cache_tags::is_wildcard_item(i)).count()
}

/// Whether `items` may be submitted to a distribution with `in_progress` now. A set larger than
/// the limits on its own (which cfinv never plans) fits only when nothing is in progress.
pub fn fits(items: &[String], in_progress: &InProgress) -> bool {
    if in_progress.invalidations == 0 {
        return true;
    }
    in_progress.paths + items.len() <= MAX_PATHS_IN_PROGRESS
        && in_progress.wildcards + wildcards(items) <= MAX_WILDCARDS_IN_PROGRESS
}

/// Asks CloudFront whether `items`, with `caller_reference`, fit distribution `distribution_id` now.
///
/// Errors: the port's; and [`ErrorKind::BatchMismatch`] when an invalidation in progress carries
/// `caller_reference` with other paths than `items` (compared as sets: CloudFront keeps a batch's
/// paths, not their order).
pub async fn check<C: CloudFront>(
    cloudfront: &C,
    distribution_id: &str,
    caller_reference: &str,
    items: &[String],
) -> Result<Capacity, PortError> {
    let mut now = InProgress::default();
    for id in cloudfront.invalidations_in_progress(distribution_id).await? {
        let inv = cloudfront.get_invalidation(distribution_id, &id).await?;
        if inv.completed() {
            continue;
        }
        if inv.caller_reference == caller_reference {
            if !same_paths(&inv.paths, items) {
                return Err(PortError::new(
                    ErrorKind::BatchMismatch,
                    format!(
                        "invalidation {} in progress already has CallerReference {caller_reference} with other paths ({} against {} here)",
                        inv.id,
                        inv.paths.len(),
                        items.len()
                    ),
                ));
            }
            return Ok(Capacity::AlreadySubmitted(inv));
        }
        now.invalidations += 1;
        now.paths += inv.paths.len();
        now.wildcards += wildcards(&inv.paths);
    }
    Ok(if fits(items, &now) { Capacity::Fits(now) } else { Capacity::Full(now) })
}

fn same_paths(a: &[String], b: &[String]) -> bool {
    let mut a: Vec<&String> = a.iter().collect();
    let mut b: Vec<&String> = b.iter().collect();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::FakeCloudFront;

    fn items(exact: usize, wild: usize) -> Vec<String> {
        (0..exact).map(|i| format!("/p/{i}")).chain((0..wild).map(|i| format!("/w/{i}*"))).collect()
    }

    #[test]
    fn the_limits_are_3000_paths_and_15_wildcards_in_progress() {
        let busy = InProgress { paths: 2000, wildcards: 10, invalidations: 2 };
        assert!(fits(&items(1000, 0), &busy));
        assert!(!fits(&items(1001, 0), &busy));
        assert!(fits(&items(0, 5), &busy));
        assert!(!fits(&items(0, 6), &busy));
        assert!(fits(&items(3000, 0), &InProgress::default()), "an idle distribution takes a full set");
    }

    #[tokio::test]
    async fn what_is_in_progress_is_asked_and_our_own_set_recognised() {
        let cf = FakeCloudFront::default();
        cf.create_invalidation("E1", "other-tool", &items(2990, 0)).await.unwrap();
        cf.create_invalidation("E1", "cfinv/x/E1/1", &items(5, 1)).await.unwrap();
        let full = check(&cf, "E1", "cfinv/x/E1/2", &items(20, 0)).await.unwrap();
        assert_eq!(full, Capacity::Full(InProgress { paths: 2996, wildcards: 1, invalidations: 2 }));
        let again = check(&cf, "E1", "cfinv/x/E1/1", &items(5, 1)).await.unwrap();
        assert!(matches!(again, Capacity::AlreadySubmitted(inv) if inv.caller_reference == "cfinv/x/E1/1"));
        // The same paths in another order are the same batch; other paths under the reference are not.
        let mut reordered = items(5, 1);
        reordered.reverse();
        assert!(matches!(check(&cf, "E1", "cfinv/x/E1/1", &reordered).await.unwrap(), Capacity::AlreadySubmitted(_)));
        let edited = check(&cf, "E1", "cfinv/x/E1/1", &items(6, 1)).await.unwrap_err();
        assert_eq!(edited.kind, ErrorKind::BatchMismatch, "{edited:?}");
        cf.complete_all("E1");
        assert!(matches!(check(&cf, "E1", "cfinv/x/E1/2", &items(20, 0)).await.unwrap(), Capacity::Fits(_)));
    }
}
