//! Connecting a bucket to the ingest function, and disconnecting it.
//!
//! `PutBucketNotificationConfiguration` replaces a bucket's whole notification configuration, so a
//! tool that just writes its own drops whatever the bucket already notified (a search indexer, a
//! thumbnailer). Connecting reads the configuration, replaces only cfinv's entry (by its id), keeps
//! every other topic, queue, function and EventBridge setting, and writes the result back; the
//! `exceptionPaths` tag is merged into the bucket's tags the same way.

use aws_sdk_s3::types::{Event, LambdaFunctionConfiguration, NotificationConfiguration, Tag, Tagging};
use cfinv_pipeline::ingest::EXCEPTION_PATHS_TAG;
use cfinv_pipeline::ports::{ErrorKind, PortError};

use crate::errors::port_error;

/// The id of cfinv's notification entry on a bucket.
pub const NOTIFICATION_ID: &str = "cfinv-ingest";

/// What connecting or disconnecting changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Other notification entries kept as they were.
    pub kept: usize,
    /// Whether cfinv's entry was there before.
    pub replaced: bool,
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

/// Sends the bucket's object creations and removals to `function_arn`, keeping every other
/// notification; with `exception_paths`, sets the bucket's `exceptionPaths` tag (other tags kept).
pub async fn connect(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    function_arn: &str,
    exception_paths: Option<&str>,
) -> Result<Outcome, PortError> {
    let existing = current(s3, bucket).await?;
    let (builder, mut functions, kept, replaced) = others(&existing);
    let ours = LambdaFunctionConfiguration::builder()
        .id(NOTIFICATION_ID)
        .lambda_function_arn(function_arn)
        .events(Event::from("s3:ObjectCreated:*"))
        .events(Event::from("s3:ObjectRemoved:*"))
        .build()
        .map_err(|e| PortError::new(ErrorKind::InvalidArgument, e.to_string()))?;
    functions.push(ours);
    write(s3, bucket, builder.set_lambda_function_configurations(Some(functions)).build()).await?;
    if let Some(paths) = exception_paths {
        set_tag(s3, bucket, EXCEPTION_PATHS_TAG, paths).await?;
    }
    Ok(Outcome { kept, replaced })
}

/// Removes cfinv's notification from the bucket, keeping every other one.
pub async fn disconnect(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<Outcome, PortError> {
    let existing = current(s3, bucket).await?;
    let (builder, functions, kept, replaced) = others(&existing);
    if replaced {
        write(s3, bucket, builder.set_lambda_function_configurations(Some(functions)).build()).await?;
    }
    Ok(Outcome { kept, replaced })
}

async fn set_tag(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, value: &str) -> Result<(), PortError> {
    let mut tags: Vec<Tag> = match s3.get_bucket_tagging().bucket(bucket).send().await {
        Ok(out) => out.tag_set().to_vec(),
        Err(e) => {
            let e = port_error(e);
            if e.kind == ErrorKind::NotFound && e.message.contains("NoSuchTagSet") {
                Vec::new()
            } else {
                return Err(e);
            }
        }
    };
    tags.retain(|t| t.key() != key);
    let build = |e: aws_sdk_s3::error::BuildError| PortError::new(ErrorKind::InvalidArgument, e.to_string());
    tags.push(Tag::builder().key(key).value(value).build().map_err(build)?);
    let tagging = Tagging::builder().set_tag_set(Some(tags)).build().map_err(build)?;
    s3.put_bucket_tagging().bucket(bucket).tagging(tagging).send().await.map_err(port_error)?;
    Ok(())
}
