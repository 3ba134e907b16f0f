//! # cfinv-core: which CloudFront paths to invalidate, and why
//!
//! Every decision cfinv makes lives here, free of any AWS SDK, so it can be read top to bottom and
//! tested without a network. The Lambdas, the `cfinv` CLI and the tests only move data in and out.
//!
//! Read it in the order a change flows through it:
//! - [`event`]: S3 notification / EventBridge / test events in, [`event::ObjectEvent`]s out, keys
//!   decoded;
//! - [`exception`]: the bucket's `exceptionPaths` tag (creations under it are skipped);
//! - [`distribution`] and [`aws_json`]: the parts of a distribution that matter, and reading them
//!   from the AWS CLI's JSON;
//! - [`origin`]: which origins reach a bucket, and the viewer path a key has through each;
//! - [`pattern`] and [`behavior`]: which cache behavior serves a path (first match wins);
//! - [`cache`]: whether that behavior caches at all (MaxTTL, cache policies);
//! - [`cache_tags`]: an object's cache tags (its S3 metadata), as `#tag` items;
//! - [`path`]: the encoded invalidation path, or the narrowest wildcard when none is exact;
//! - [`plan`]: all of the above for a batch: unique paths per distribution, split into sets, with a
//!   reason for everything skipped;
//! - [`report`]: the seed's error file and alert, for what could not be invalidated;
//! - [`batch`]: what CloudFront accepts in one invalidation batch, for sets from outside the
//!   planner (an edited error file).

pub mod aws_json;
pub mod batch;
pub mod behavior;
pub mod bytes;
pub mod cache;
pub mod cache_tags;
pub mod distribution;
pub mod event;
pub mod exception;
pub mod origin;
pub mod path;
pub mod pattern;
pub mod plan;
pub mod report;

pub use cache::CachePolicies;
pub use cache_tags::ObjectMetadata;
pub use distribution::{
    CacheBehavior, CachePolicy, Distribution, DistributionTenant, Origin, OriginGroup, Target, TtlSettings,
};
pub use event::{parse_events, Change, ObjectEvent};
pub use exception::{ExceptionPaths, Exceptions};
pub use plan::{Plan, PlanOptions, Planner, Reason};
