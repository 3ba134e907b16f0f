"""cfinv's emulated AWS: moto in server mode, with the fidelity fixes and test controls cfinv needs.

Run:  python tests/emulator/emulator.py --port 5000 [--parent-pid PID]
 (or: cd tests/emulator && python -m cfinv_emulator --port 5000 [--parent-pid PID])

On top of stock moto (pinned in tests/emulator/requirements.txt) this adds:
- Step Functions executions actually run (moto's ASL interpreter); RedriveExecution resumes a failed,
  timed-out or aborted execution at the state that did not complete, rerunning only an Inline Map's
  iterations that did not succeed, and DescribeExecution/ListExecutions give redriveCount (0 when
  never redriven), redriveDate and redriveStatus; aws-sdk:s3:getObject gives Body as a string;
- CloudFront invalidations behave like AWS: status InProgress, then Completed after
  CFINV_EMU_INVALIDATION_SECONDS (default 2); the same CallerReference with the same paths returns the
  same invalidation, with other paths InvalidationBatchAlreadyExists; more than 3000 paths (or 15
  wildcard paths) in progress per distribution is TooManyInvalidationsInProgress (an item starting
  with "#" is a cache tag: one item, never a wildcard); ListInvalidations lists newest first; POST
  /_cfinv/cloudfront/completion {"distributionId", "seconds"} sets the completion time per
  distribution at run time;
- CloudFront distributions keep their Lambda@Edge and CloudFront Functions associations, summaries
  carry Staging and ConnectionMode, and ListDistributionsByConnectionMode answers;
- CloudFront distribution tenants (Create/Get/List/Update/DeleteDistributionTenant) and their
  invalidations (Create/Get/ListInvalidations...ForDistributionTenant), which moto lacks;
- CloudFront cache policies: the managed ones (crates/core/data/managed-cache-policies.json, which
  the Rust core reads too), and custom ones made with CreateCachePolicy (GetCachePolicy,
  GetCachePolicyConfig, ListCachePolicies; moto has none);
- fault injection: POST /_cfinv/faults {"service": "cloudfront", "operation": "CreateInvalidation",
  "code": "Throttling", "count": 3, "match": "E123"} makes the next 3 matching calls fail with that
  error, serialised by moto for the service's protocol ("match", optional, must occur in the request
  path or body); for SQS, operation "SendMessageBatchEntry" fails only the first entry of a batch (a
  partial failure), matching on the queue name; DELETE /_cfinv/faults clears them;
- GET /_cfinv/sns lists every message published to SNS (topic, subject, message);
- EventBridge delivers as AWS does: only enabled rules, each target on its own (a target it cannot
  deliver to is logged, never failing PutEvents), Lambda targets invoked asynchronously, SQS and SNS
  targets sent the event in AWS's shape; GET /_cfinv/events lists every event put on any bus;
- CloudWatch alarms start in INSUFFICIENT_DATA and are driven by SetAlarmState (moto never evaluates
  them), whose change of state publishes AWS's alarm message to the new state's SNS actions;
- GET /_cfinv/health answers once the server is up;
- SQS stays fast with ten thousand messages in a queue (moto's clock is swapped for a cheaper one);
- with CFINV_LAMBDA_ENDPOINT (cargo lambda watch), Lambda invocations run the real function binaries,
  at most CFINV_LAMBDA_CONCURRENCY (default 4) of one function at a time: the others wait in the
  emulator, in order, the asynchronous ones (S3 notifications, EventBridge targets) in a queue per
  function, never dropped (cargo lambda watch hangs for good with 100 invocations of a function
  waiting, which one burst of uploads reached);
- S3 notifications to Lambda have the fields and key encoding AWS sends, and arrive asynchronously;
- GetBucketNotificationConfiguration answers with AWS's root element and with the bucket's
  EventBridgeConfiguration, also when EventBridge is its only notification;
- on a versioned bucket, notifications carry versionId (EventBridge: version-id), a delete marker
  sends ObjectRemoved:DeleteMarkerCreated and each version deleted ObjectRemoved:Delete; POST
  /_cfinv/s3/lifecycle-expiration expires an object or a version with its LifecycleExpiration event;
- a bucket with EventBridge delivery on sends its object changes to EventBridge in AWS's shape
  (detail-type, reason, deletion-type, encoded key), delivered to the default bus's rules as above.

With --parent-pid, the server exits when that process does, so a test run never leaves it behind.

One module per patch, each applied by its install(); importing any of them patches nothing.
`install()` here applies them all, in order (the server's __main__ also turns on Step Functions
executions, with its port). MOTO_INTERNALS.md beside this package lists every moto private the
modules patch or read, for the pinned moto.
"""

from . import (
    cloudfront_cache_policies,
    cloudfront_distributions,
    cloudfront_invalidations,
    cloudfront_tenants,
    cloudwatch_alarms,
    events_delivery,
    faults,
    lambda_bridge,
    s3_eventbridge,
    s3_notification_config,
    s3_notifications,
    s3_versions,
    sqs_fast,
    stepfunctions_redrive,
    stepfunctions_sdk,
)


def install(lambda_endpoint=None, invalidation_seconds=None, lambda_concurrency=None):
    """Every moto patch, in order. The arguments default to CFINV_LAMBDA_ENDPOINT,
    CFINV_EMU_INVALIDATION_SECONDS and CFINV_LAMBDA_CONCURRENCY."""
    faults.install()
    cloudfront_invalidations.install(seconds=invalidation_seconds)
    cloudfront_cache_policies.install()
    cloudfront_distributions.install()
    cloudfront_tenants.install()
    cloudwatch_alarms.install()
    sqs_fast.install()
    lambda_bridge.install(endpoint=lambda_endpoint, concurrency=lambda_concurrency)
    s3_notifications.install()
    s3_versions.install()
    events_delivery.install()
    s3_eventbridge.install()
    s3_notification_config.install()
    stepfunctions_redrive.install()
    stepfunctions_sdk.install()
