//! The metrics cfinv records, by name, in one place.
//!
//! Handlers record through the `metrics` facade; the Lambdas install a recorder that writes
//! CloudWatch Embedded Metric Format documents to the function's log after each invocation
//! (`metrics_cloudwatch_embedded`, see `cfinv_aws::run`), from which CloudWatch extracts the
//! metrics with no API call. Namespace [`NAMESPACE`], dimension `Stack` on every metric; those
//! recorded per distribution also carry `DistributionId`, and the latencies are recorded a second
//! time without it, so one alarm watches every distribution of the stack.
//!
//! | metric | unit | recorded by | when |
//! |---|---|---|---|
//! | `Events` | count | collect | events that gave a distribution an item, per run |
//! | `Items` | count | collect | items planned (what CreateInvalidation receives) |
//! | `BilledItems` | count | collect | items CloudFront bills (a wildcard counts as one) |
//! | `EstimatedCostUsd` | none | collect | what the items cost at most ($0.005 each) |
//! | `SkippedEvents` | count | collect | events skipped, with dimension `Reason` |
//! | `CapacityWaits` | count | invalidate | a set waited for CloudFront's in-progress limits |
//! | `TooManyInvalidationsInProgress` | count | invalidate | CloudFront refused a set for them |
//! | `FailedSets` | count | invalidate | a set could not be invalidated |
//! | `RefusedPaths` | count | invalidate | paths CloudFront refused (`InvalidArgument`) |
//! | `EventToAcceptedSeconds` | seconds | invalidate | first S3 event to the last set accepted |
//! | `EventToCompletedSeconds` | seconds | invalidate | first S3 event to the last set completed |

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit};

/// The CloudWatch namespace.
pub const NAMESPACE: &str = "cfinv";

/// Gives every metric its unit (once per process, before the first is recorded).
pub fn describe() {
    for name in ["Events", "Items", "BilledItems", "SkippedEvents", "CapacityWaits", "FailedSets", "RefusedPaths"] {
        describe_counter!(name, Unit::Count, "");
    }
    describe_counter!("TooManyInvalidationsInProgress", Unit::Count, "");
    describe_gauge!("EstimatedCostUsd", Unit::Count, "US dollars, at most");
    describe_histogram!("EventToAcceptedSeconds", Unit::Seconds, "");
    describe_histogram!("EventToCompletedSeconds", Unit::Seconds, "");
}

/// What collect planned for one distribution.
pub fn planned(distribution_id: &str, events: usize, items: usize, billed_items: usize, estimated_cost_usd: f64) {
    let d = distribution_id.to_owned();
    counter!("Events", "DistributionId" => d.clone()).increment(events as u64);
    counter!("Items", "DistributionId" => d.clone()).increment(items as u64);
    counter!("BilledItems", "DistributionId" => d.clone()).increment(billed_items as u64);
    gauge!("EstimatedCostUsd", "DistributionId" => d).set(estimated_cost_usd);
}

/// Events collect skipped for one reason (`not-cached`...).
pub fn skipped(reason: &'static str, count: usize) {
    counter!("SkippedEvents", "Reason" => reason).increment(count as u64);
}

/// A unit waited for CloudFront's in-progress limits.
pub fn capacity_wait(distribution_id: &str) {
    counter!("CapacityWaits", "DistributionId" => distribution_id.to_owned()).increment(1);
}

/// CreateInvalidation answered `TooManyInvalidationsInProgress` (another caller's invalidations
/// filled the limits between the check and the call).
pub fn too_many_in_progress(distribution_id: &str) {
    counter!("TooManyInvalidationsInProgress", "DistributionId" => distribution_id.to_owned()).increment(1);
}

pub fn set_failed(distribution_id: &str) {
    counter!("FailedSets", "DistributionId" => distribution_id.to_owned()).increment(1);
}

pub fn refused_paths(distribution_id: &str, count: usize) {
    counter!("RefusedPaths", "DistributionId" => distribution_id.to_owned()).increment(count as u64);
}

/// A distribution's upload-to-live latency, in seconds: per distribution, and for the stack.
pub fn latency(distribution_id: &str, to_accepted: f64, to_completed: f64) {
    let d = distribution_id.to_owned();
    histogram!("EventToAcceptedSeconds", "DistributionId" => d.clone()).record(to_accepted);
    histogram!("EventToCompletedSeconds", "DistributionId" => d).record(to_completed);
    histogram!("EventToAcceptedSeconds").record(to_accepted);
    histogram!("EventToCompletedSeconds").record(to_completed);
}
