//! Objects' S3 user metadata, for `cfinv plan --object-metadata`: one JSON object from
//! `bucket/key` to that object's `Metadata` map as `aws s3api head-object` prints it (keys lower
//! case, without `x-amz-meta-`). The whole `head-object` output is accepted too: S3 lower-cases
//! user metadata keys, so a capitalised `Metadata` field can only be HeadObject's own.
//!
//! ```json
//! {"b/products/123.json": {"cache-tag": "product:123, catalog"}}
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use super::AwsJsonError;
use crate::cache_tags::ObjectMetadata;

#[derive(Deserialize)]
#[serde(untagged)]
enum Entry {
    HeadObject {
        #[serde(rename = "Metadata")]
        metadata: BTreeMap<String, String>,
    },
    Metadata(BTreeMap<String, String>),
}

/// Reads the document; the error names the object and the field at fault.
pub fn read_object_metadata(text: &str) -> Result<ObjectMetadata, AwsJsonError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let doc: BTreeMap<String, serde_json::Value> = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| AwsJsonError::NotObjectMetadata(format!("{}: {}", e.path(), e.inner())))?;
    let mut out = ObjectMetadata::new();
    for (object, value) in doc {
        let Some((bucket, key)) = object.split_once('/').filter(|(b, k)| !b.is_empty() && !k.is_empty()) else {
            return Err(AwsJsonError::NotObjectMetadata(format!("{object:?} is not BUCKET/KEY")));
        };
        let metadata = match serde_json::from_value::<Entry>(value) {
            Ok(Entry::HeadObject { metadata } | Entry::Metadata(metadata)) => metadata,
            Err(_) => {
                return Err(AwsJsonError::NotObjectMetadata(format!(
                    "{object}: expected an object of string values (the `Metadata` map)"
                )))
            }
        };
        out.insert(bucket, key, metadata);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_maps_and_head_object_output() {
        let text = r#"{"b/products/123.json": {"cache-tag": "product:123, catalog"},
                       "b/a b.html": {"AcceptRanges": "bytes", "ContentLength": 3,
                                      "Metadata": {"cache-tag": "page"}}}"#;
        let m = read_object_metadata(text).unwrap();
        assert_eq!(m.value("b", "products/123.json", "cache-tag"), Some("product:123, catalog"));
        assert_eq!(m.value("b", "a b.html", "cache-tag"), Some("page"));
        assert_eq!(m.len(), 2);
        assert!(read_object_metadata(r#"{"nokey": {}}"#).unwrap_err().to_string().contains("BUCKET/KEY"));
        assert!(read_object_metadata(r#"{"b/k": {"n": 1}}"#).is_err());
        assert!(read_object_metadata("[]").is_err());
    }
}
