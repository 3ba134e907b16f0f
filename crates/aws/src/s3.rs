//! S3: bucket tags (ingest), plans and sets (collect, invalidate, report), error files (report).

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::Tag;
use cfinv_pipeline::ports::{Buckets, ErrorKind, Objects, PortError};

use crate::errors::port_error;

#[derive(Clone)]
pub struct S3Client {
    client: aws_sdk_s3::Client,
}

impl S3Client {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        S3Client { client }
    }
}

/// A bucket's tags; a bucket without any tag has none (S3 answers `NoSuchTagSet`).
pub async fn bucket_tags(client: &aws_sdk_s3::Client, bucket: &str) -> Result<Vec<Tag>, PortError> {
    match client.get_bucket_tagging().bucket(bucket).send().await {
        Ok(out) => Ok(out.tag_set().to_vec()),
        Err(e) => {
            let e = port_error(e);
            if e.is_code("NoSuchTagSet") {
                Ok(Vec::new())
            } else {
                Err(e)
            }
        }
    }
}

impl Buckets for S3Client {
    async fn tag(&self, bucket: &str, key: &str) -> Result<Option<String>, PortError> {
        let tags = bucket_tags(&self.client, bucket).await?;
        Ok(tags.iter().find(|t| t.key() == key).map(|t| t.value().to_owned()))
    }

    async fn index_document(&self, bucket: &str) -> Result<Option<String>, PortError> {
        match self.client.get_bucket_website().bucket(bucket).send().await {
            Ok(out) => Ok(out.index_document().map(|i| i.suffix().to_owned())),
            Err(e) => {
                let e = port_error(e);
                // A bucket that is not a website answers NoSuchWebsiteConfiguration.
                if e.is_code("NoSuchWebsiteConfiguration") {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }
}

impl Objects for S3Client {
    async fn put(&self, bucket: &str, key: &str, body: String, content_type: &str) -> Result<(), PortError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body.into_bytes()))
            .send()
            .await
            .map_err(port_error)?;
        Ok(())
    }

    async fn put_new(&self, bucket: &str, key: &str, body: String, content_type: &str) -> Result<bool, PortError> {
        let sent = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .if_none_match("*")
            .body(ByteStream::from(body.into_bytes()))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = port_error(e);
                if e.is_code("PreconditionFailed") || e.is_code("ConditionalRequestConflict") {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, PortError> {
        self.list_keys(bucket, prefix, usize::MAX).await
    }

    async fn metadata(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<std::collections::BTreeMap<String, String>>, PortError> {
        match self.client.head_object().bucket(bucket).key(key).send().await {
            Ok(out) => Ok(Some(
                out.metadata()
                    .map(|m| m.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect())
                    .unwrap_or_default(),
            )),
            Err(e) => {
                let e = port_error(e);
                // HEAD answers 404 without a body: the SDK names it NotFound.
                if e.kind == ErrorKind::NotFound || e.is_code("NotFound") || e.is_code("NoSuchKey") {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Option<String>, PortError> {
        let out = match self.client.get_object().bucket(bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) => {
                let e = port_error(e);
                return if e.is_code("NoSuchKey") { Ok(None) } else { Err(e) };
            }
        };
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| PortError::new(ErrorKind::Unavailable, format!("reading s3://{bucket}/{key}: {e}")))?
            .into_bytes();
        String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|_| PortError::new(ErrorKind::InvalidArgument, format!("s3://{bucket}/{key} is not UTF-8")))
    }
}

impl S3Client {
    /// The keys under `prefix`, in key order, at most `max` (ListObjectsV2, page by page with the
    /// SDK's paginator).
    pub async fn list_keys(&self, bucket: &str, prefix: &str, max: usize) -> Result<Vec<String>, PortError> {
        let mut keys = Vec::new();
        let mut pages = self.client.list_objects_v2().bucket(bucket).prefix(prefix).into_paginator().send();
        while keys.len() < max {
            let Some(page) = pages.next().await else { break };
            let page = page.map_err(port_error)?;
            keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
        }
        keys.truncate(max);
        Ok(keys)
    }
}
