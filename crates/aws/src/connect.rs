//! Connecting a bucket to the ingest function, and disconnecting it.
//!
//! A bucket's changes reach ingest by one of two routes ([`Route`]):
//! - **EventBridge** (what the SAM stack deploys): the bucket sends every object change to
//!   EventBridge, and the stack's rule forwards those of the buckets it names to ingest. Turning
//!   EventBridge on never conflicts with the bucket's other notifications.
//! - **A direct S3 notification** to the function: one less hop, but S3 refuses two notifications
//!   whose event types and key filters overlap, and the function needs a Lambda permission per bucket.
//!
//! `PutBucketNotificationConfiguration` replaces a bucket's whole notification configuration, so a
//! tool that just writes its own drops whatever the bucket already notified (a search indexer, a
//! thumbnailer). Connecting reads the configuration, changes only cfinv's entry (by its id) or the
//! EventBridge switch, keeps every other topic, queue and function, and writes the result back; the
//! `exceptionPaths` tag is merged into the bucket's tags the same way.

use aws_sdk_s3::types::{
    Event, EventBridgeConfiguration, LambdaFunctionConfiguration, NotificationConfiguration, Tag, Tagging,
};
use cfinv_pipeline::ingest::EXCEPTION_PATHS_TAG;
use cfinv_pipeline::ports::{ErrorKind, PortError};

use crate::errors::port_error;

/// How a connected bucket's object changes reach the ingest function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// S3 sends them to EventBridge, where the stack's rule picks the buckets it names.
    EventBridge,
    /// S3 invokes this function directly.
    Notification { function_arn: &'a str },
}

/// The id of cfinv's notification entry on a bucket.
pub const NOTIFICATION_ID: &str = "cfinv-ingest";

/// What connecting or disconnecting changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Other notification entries kept as they were.
    pub kept: usize,
    /// Whether cfinv's notification entry was there before.
    pub replaced: bool,
    /// Whether the bucket sent its changes to EventBridge before.
    pub eventbridge_was_on: bool,
}

/// The bucket's current configuration with cfinv's entry removed (as a builder without its function
/// entries, and those entries), how many entries are kept, and whether cfinv's was there.
fn others(
    current: &aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput,
) -> (aws_sdk_s3::types::builders::NotificationConfigurationBuilder, Vec<LambdaFunctionConfiguration>, usize, bool) {
    let mut functions: Vec<LambdaFunctionConfiguration> = current.lambda_function_configurations().to_vec();
    let before = functions.len();
    functions.retain(|f| f.id() != Some(NOTIFICATION_ID));
    let replaced = functions.len() != before;
    let kept = functions.len() + current.topic_configurations().len() + current.queue_configurations().len();
    let builder = NotificationConfiguration::builder()
        .set_topic_configurations(Some(current.topic_configurations().to_vec()))
        .set_queue_configurations(Some(current.queue_configurations().to_vec()))
        .set_event_bridge_configuration(current.event_bridge_configuration().cloned());
    (builder, functions, kept, replaced)
}

async fn current(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<
    aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput,
    PortError,
> {
    s3.get_bucket_notification_configuration().bucket(bucket).send().await.map_err(port_error)
}

async fn write(s3: &aws_sdk_s3::Client, bucket: &str, config: NotificationConfiguration) -> Result<(), PortError> {
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(config)
        .send()
        .await
        .map_err(port_error)?;
    Ok(())
}

/// Routes the bucket's object creations and removals (lifecycle expirations included) to ingest,
/// keeping every other notification; with `exception_paths`, sets the bucket's `exceptionPaths` tag
/// (other tags kept). Connecting again rewrites cfinv's own entry: a bucket connected by an earlier
/// version (creations and removals only) is upgraded.
///
/// Connecting by EventBridge also removes a direct notification cfinv added earlier, so a bucket
/// switched from one route to the other is not ingested twice.
pub async fn connect(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    route: Route<'_>,
    exception_paths: Option<&str>,
) -> Result<Outcome, PortError> {
    let existing = current(s3, bucket).await?;
    let eventbridge_was_on = existing.event_bridge_configuration().is_some();
    let (builder, mut functions, kept, replaced) = others(&existing);
    let builder = match route {
        Route::EventBridge => builder.event_bridge_configuration(EventBridgeConfiguration::builder().build()),
        Route::Notification { function_arn } => {
            let ours = LambdaFunctionConfiguration::builder()
                .id(NOTIFICATION_ID)
                .lambda_function_arn(function_arn)
                .events(Event::from("s3:ObjectCreated:*"))
                .events(Event::from("s3:ObjectRemoved:*"))
                // Lifecycle deletions are not ObjectRemoved events (S3 guide, "Supported event
                // types"): without this, an expired page stays cached.
                .events(Event::from("s3:LifecycleExpiration:*"))
                .build()
                .map_err(|e| PortError::new(ErrorKind::InvalidArgument, e.to_string()))?;
            functions.push(ours);
            builder
        }
    };
    let unchanged = route == Route::EventBridge && eventbridge_was_on && !replaced;
    if !unchanged {
        write(s3, bucket, builder.set_lambda_function_configurations(Some(functions)).build()).await?;
    }
    if let Some(paths) = exception_paths {
        set_tag(s3, bucket, EXCEPTION_PATHS_TAG, paths).await?;
    }
    Ok(Outcome { kept, replaced, eventbridge_was_on })
}

/// Removes cfinv's direct notification from the bucket, keeping every other one. EventBridge
/// delivery is left as it is: other rules may rely on it, and the stack's rule stops forwarding the
/// bucket once it leaves the stack's `Buckets` parameter.
pub async fn disconnect(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<Outcome, PortError> {
    let existing = current(s3, bucket).await?;
    let eventbridge_was_on = existing.event_bridge_configuration().is_some();
    let (builder, functions, kept, replaced) = others(&existing);
    if replaced {
        write(s3, bucket, builder.set_lambda_function_configurations(Some(functions)).build()).await?;
    }
    Ok(Outcome { kept, replaced, eventbridge_was_on })
}

async fn set_tag(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, value: &str) -> Result<(), PortError> {
    let mut tags: Vec<Tag> = crate::s3::bucket_tags(s3, bucket).await?;
    tags.retain(|t| t.key() != key);
    let build = |e: aws_sdk_s3::error::BuildError| PortError::new(ErrorKind::InvalidArgument, e.to_string());
    tags.push(Tag::builder().key(key).value(value).build().map_err(build)?);
    let tagging = Tagging::builder().set_tag_set(Some(tags)).build().map_err(build)?;
    s3.put_bucket_tagging().bucket(bucket).tagging(tagging).send().await.map_err(port_error)?;
    Ok(())
}
