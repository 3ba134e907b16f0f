//! Reading the JSON the AWS CLI prints, into the core's types.
//!
//! Each document is read in one pass into typed serde structs (no `serde_json::Value` in between),
//! with the AWS CLI's field names. A document holds items (distributions, cache policies); each
//! item is read on its own, from its own slice of the text, so that one item CloudFront's API
//! would never return, or that a hand-edited file got wrong, is skipped with a message naming the
//! item and the field (`serde_path_to_error`) while the others are still read: one odd
//! distribution must not stop the invalidation of the rest.
//!
//! - [`distributions`]: `list-distributions`, `get-distribution`, a bare summary, arrays of these;
//! - [`cache_policies`]: `list-cache-policies`, `get-cache-policy`, a bare policy;
//! - [`tags`]: `list-tags-for-resource` per distribution;
//! - [`tenants`]: `list-distribution-tenants`, `get-distribution-tenant`;
//! - [`object_metadata`]: objects' `Metadata` (`head-object`) by `bucket/key`.

pub mod cache_policies;
pub mod distributions;
pub mod object_metadata;
pub mod tags;
pub mod tenants;

pub use cache_policies::read_cache_policies;
pub use distributions::read_distributions;
pub use object_metadata::read_object_metadata;
pub use tags::{read_distribution_tags, DistributionTags};
pub use tenants::read_distribution_tenants;

use serde::Deserialize;
use serde_json::value::RawValue;

/// Why a document could not be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsJsonError {
    #[error("not valid JSON: {0}")]
    NotJson(String),
    #[error("holds no CloudFront distribution (expected the output of `aws cloudfront list-distributions` or `get-distribution`)")]
    NoDistribution,
    #[error(
        "is `get-distribution-config` output, which has no distribution id; use `aws cloudfront get-distribution`"
    )]
    ConfigWithoutId,
    #[error(
        "holds no cache policy (expected the output of `aws cloudfront list-cache-policies` or `get-cache-policy`)"
    )]
    NoCachePolicy,
    #[error("is not a JSON object from distribution id to `aws cloudfront list-tags-for-resource` output: {0}")]
    NotDistributionTags(String),
    #[error("holds no distribution tenant (expected the output of `aws cloudfront list-distribution-tenants` or `get-distribution-tenant`)")]
    NoDistributionTenant,
    #[error("is not a JSON object from `bucket/key` to that object's `Metadata` (as `aws s3api head-object` prints it): {0}")]
    NotObjectMetadata(String),
}

/// What a document yielded: the items read, and one message per item that was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read<T> {
    pub items: Vec<T>,
    pub skipped: Vec<String>,
}

impl<T> Default for Read<T> {
    fn default() -> Self {
        Read { items: Vec::new(), skipped: Vec::new() }
    }
}

/// The AWS list shape `{"Quantity": n, "Items": [...]}`; `Items` is absent when `n` is 0.
#[derive(Debug, Deserialize)]
#[serde(bound = "T: Deserialize<'de>")]
pub(crate) struct List<T> {
    #[serde(rename = "Items", default = "Vec::new")]
    pub(crate) items: Vec<T>,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List { items: Vec::new() }
    }
}

/// Hands each object of a document to `object`, which adds the items it holds to `out`: the
/// document itself, or, for an array (of arrays...), each of its elements in order.
fn walk<'a>(
    raw: &'a RawValue,
    object: &impl Fn(&'a RawValue, &mut Vec<&'a RawValue>) -> Result<(), AwsJsonError>,
    out: &mut Vec<&'a RawValue>,
) -> Result<(), AwsJsonError> {
    if raw.get().starts_with('[') {
        if let Ok(elements) = serde_json::from_str::<Vec<&RawValue>>(raw.get()) {
            return elements.into_iter().try_for_each(|e| walk(e, object, out));
        }
    }
    object(raw, out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IdOnly {
    id: Option<String>,
}

/// An item's `Id`, to name it in a message; `?` when it has none (or an empty one).
pub(crate) fn id_of(raw: &RawValue) -> String {
    item::<IdOnly>(raw).ok().and_then(|h| h.id).filter(|id| !id.trim().is_empty()).unwrap_or_else(|| "?".to_owned())
}

/// Parses a whole document into its top-level value, borrowing the text.
pub(crate) fn document(text: &str) -> Result<&RawValue, AwsJsonError> {
    serde_json::from_str::<&RawValue>(text).map_err(|e| AwsJsonError::NotJson(e.to_string()))
}

/// Reads one item, naming the field at fault when it does not fit `T`.
pub(crate) fn item<'a, T: Deserialize<'a>>(raw: &'a RawValue) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        }
    })
}

/// Reads every item `find` locates in the document's objects ([`walk`]): converted ones in
/// `items`, the others in `skipped` with `describe(index, raw, problem)`. A document of the right
/// shape may hold none (a list with `Quantity` 0, what the AWS CLI prints for an account with no
/// distributions; an empty array): that is an empty [`Read`], not an error. A document of another
/// shape is the error `find` gives.
pub(crate) fn read_all<'a, T>(
    text: &'a str,
    find: impl Fn(&'a RawValue, &mut Vec<&'a RawValue>) -> Result<(), AwsJsonError>,
    convert: impl Fn(&'a RawValue) -> Result<T, String>,
    describe: impl Fn(usize, &'a RawValue, &str) -> String,
) -> Result<Read<T>, AwsJsonError> {
    let mut raw = Vec::new();
    walk(document(text)?, &find, &mut raw)?;
    let mut out = Read::default();
    for (i, item) in raw.into_iter().enumerate() {
        match convert(item) {
            Ok(t) => out.items.push(t),
            Err(problem) => out.skipped.push(describe(i, item, &problem)),
        }
    }
    Ok(out)
}
