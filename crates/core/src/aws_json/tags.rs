//! Distribution tags as `aws cloudfront list-tags-for-resource --resource ARN` prints them
//! (`{"Tags": {"Items": [{"Key", "Value"}]}}`), in one document keyed by distribution id, for
//! `cfinv plan --distribution-tags`:
//!
//! ```json
//! {"E1ABC": {"Tags": {"Items": [{"Key": "cfinv:policy", "Value": "exact"}]}}}
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{AwsJsonError, List};

/// Tags by distribution id.
pub type DistributionTags = BTreeMap<String, BTreeMap<String, String>>;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagsOutput {
    tags: List<TagJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagJson {
    key: String,
    #[serde(default)]
    value: String,
}

/// Reads a document of tags by distribution id; the error names the distribution and the field.
pub fn read_distribution_tags(text: &str) -> Result<DistributionTags, AwsJsonError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let doc: BTreeMap<String, TagsOutput> = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| AwsJsonError::NotDistributionTags(format!("{}: {}", e.path(), e.inner())))?;
    Ok(doc.into_iter().map(|(id, out)| (id, out.tags.items.into_iter().map(|t| (t.key, t.value)).collect())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_by_distribution() {
        let text = r#"{"E1": {"Tags": {"Items": [{"Key": "cfinv:policy", "Value": "exact"}]}},
                       "E2": {"Tags": {"Items": []}}}"#;
        let tags = read_distribution_tags(text).unwrap();
        assert_eq!(tags["E1"]["cfinv:policy"], "exact");
        assert!(tags["E2"].is_empty());
        let err = read_distribution_tags(r#"{"E1": {"Tags": {"Items": [{"Value": "x"}]}}}"#).unwrap_err();
        assert!(err.to_string().contains("E1.Tags.Items[0]"), "{err}");
    }
}
