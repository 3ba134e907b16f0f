//! Cache tags: the `#tag` invalidation items of an object's tags.
//!
//! A distribution with `CacheTagConfig { HeaderName }` stores the tags its origin sends in that
//! response header with each cached object; the invalidation item `#tag` then invalidates every
//! cached object (every variant) carrying the tag, whatever its URL. An S3 origin sends its
//! objects' user metadata as `x-amz-meta-<key>` headers, so `HeaderName: x-amz-meta-cache-tag`
//! makes the metadata `cache-tag` the object's tags. The rules, from CloudFront's guide
//! ("Invalidating content by cache tags", "What you need to know when invalidating tags"):
//!
//! - the header value is a comma-separated list; whitespace around each tag is trimmed;
//! - a tag is ASCII 33-126 (visible characters) without commas, at most 256 characters;
//! - tags are case-insensitive (`#Product:TV` and `#product:tv` are one tag): cfinv sends them in
//!   lower case, so the same tags in any case and any order give the same item;
//! - CloudFront stores at most 50 tags per object and ignores the rest: they invalidate nothing;
//! - a `#` item is not a wildcard (`*` in a tag is a character like any other), and counts as one
//!   path toward the 3,000 paths in progress and on the bill.
//!
//! A tag that breaks a rule is not sent: it is named in a [`TagProblem`], for the plan's warnings.

use std::collections::{BTreeMap, HashMap};

/// The most tags CloudFront stores with one cached object.
pub const MAX_TAGS_PER_OBJECT: usize = 50;
/// The longest tag, in characters.
pub const MAX_TAG_LEN: usize = 256;
/// S3 user metadata travels as response headers named this prefix and the metadata key.
pub const S3_METADATA_HEADER_PREFIX: &str = "x-amz-meta-";

/// A cache tag invalidation item (`#product:123`), as opposed to a path (`/a.js`): the one test
/// for it, since a tag may end with `*` and is still not a wildcard.
pub fn is_tag_item(item: &str) -> bool {
    item.starts_with('#')
}

/// A path ending with `*`: CloudFront's wildcard, counted against the 15 wildcards in progress. A
/// tag item is never one.
pub fn is_wildcard_item(item: &str) -> bool {
    item.ends_with('*') && !is_tag_item(item)
}

/// The S3 user metadata key that a `CacheTagConfig.HeaderName` reads, lower case
/// (`x-amz-meta-Cache-Tag` gives `cache-tag`); `None` for a header that is not S3 metadata (a
/// Lambda@Edge function may set such a header: cfinv cannot know its tags).
pub fn metadata_key(header_name: &str) -> Option<String> {
    let name = header_name.trim();
    let prefix = S3_METADATA_HEADER_PREFIX.len();
    if name.len() > prefix
        && name.is_char_boundary(prefix)
        && name[..prefix].eq_ignore_ascii_case(S3_METADATA_HEADER_PREFIX)
    {
        Some(name[prefix..].to_ascii_lowercase())
    } else {
        None
    }
}

/// A tag CloudFront would not use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagProblem {
    /// A character outside ASCII 33-126 (a space inside, a control character, non-ASCII).
    Character { tag: String },
    /// Longer than 256 characters.
    TooLong { tag: String },
    /// Beyond the 50th tag of the object: CloudFront does not store it.
    BeyondFifty { tag: String },
}

impl std::fmt::Display for TagProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TagProblem::Character { tag } => {
                write!(f, "cache tag {tag:?} has a character outside ASCII 33-126; not sent")
            }
            TagProblem::TooLong { tag } => {
                write!(f, "cache tag {:?}... is longer than {MAX_TAG_LEN} characters; not sent", tag_prefix(tag))
            }
            TagProblem::BeyondFifty { tag } => write!(
                f,
                "cache tag {tag:?} is beyond the {MAX_TAGS_PER_OBJECT} tags CloudFront stores per object; not sent"
            ),
        }
    }
}

fn tag_prefix(tag: &str) -> &str {
    let mut end = 40.min(tag.len());
    while !tag.is_char_boundary(end) {
        end -= 1;
    }
    &tag[..end]
}

/// An object's tags, read from its metadata value: the items to send (`#tag`, lower case, unique,
/// in the order they first appear) and what was left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectTags {
    pub items: Vec<String>,
    pub problems: Vec<TagProblem>,
}

/// Reads a cache-tag header value (`product:123, Catalog`). Empty entries (`a,,b`, a trailing
/// comma) are ignored. The 50 CloudFront stores are the first 50 it reads (inferred: the guide
/// says the additional tags beyond the limit are not stored); duplicates count once.
pub fn parse_tags(value: &str) -> ObjectTags {
    let mut out = ObjectTags::default();
    let mut seen = 0usize;
    for raw in value.split(',') {
        let tag = raw.trim();
        if tag.is_empty() {
            continue;
        }
        if !tag.bytes().all(|b| (33..=126).contains(&b)) {
            out.problems.push(TagProblem::Character { tag: tag.to_owned() });
            continue;
        }
        if tag.len() > MAX_TAG_LEN {
            out.problems.push(TagProblem::TooLong { tag: tag.to_owned() });
            continue;
        }
        let item = format!("#{}", tag.to_ascii_lowercase());
        if out.items.contains(&item) {
            continue;
        }
        seen += 1;
        if seen > MAX_TAGS_PER_OBJECT {
            out.problems.push(TagProblem::BeyondFifty { tag: tag.to_owned() });
            continue;
        }
        out.items.push(item);
    }
    out
}

/// The S3 user metadata of objects, by bucket and key, as HeadObject returns it (`Metadata`: keys
/// lower case, without `x-amz-meta-`). The pipeline reads it once per created key per window;
/// `cfinv plan --object-metadata` reads it from a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectMetadata {
    objects: HashMap<String, HashMap<String, BTreeMap<String, String>>>,
}

impl ObjectMetadata {
    pub fn new() -> Self {
        ObjectMetadata::default()
    }

    /// Records an object's metadata; the keys are lower-cased, as S3 stores them.
    pub fn insert(&mut self, bucket: &str, key: &str, metadata: BTreeMap<String, String>) {
        let metadata = metadata.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
        self.objects.entry(bucket.to_owned()).or_default().insert(key.to_owned(), metadata);
    }

    /// The value of one metadata key of an object, when the object and the key are known.
    pub fn value(&self, bucket: &str, key: &str, metadata_key: &str) -> Option<&str> {
        self.objects.get(bucket)?.get(key)?.get(metadata_key).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// How many objects.
    pub fn len(&self) -> usize {
        self.objects.values().map(HashMap::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guides_example_header() {
        // "x-amz-meta-cache-tag: product:electronics, category:tv, brand:example"
        let t = parse_tags("product:electronics, category:tv, brand:example");
        assert_eq!(t.items, ["#product:electronics", "#category:tv", "#brand:example"]);
        assert!(t.problems.is_empty());
        // "tag1,tag2,tag3 and tag1, tag2, tag3 are both valid and equivalent"
        assert_eq!(parse_tags("tag1,tag2,tag3"), parse_tags("tag1, tag2, tag3"));
    }

    #[test]
    fn case_insensitive_duplicates_count_once() {
        let t = parse_tags("Product:123, product:123 ,PRODUCT:123, catalog,");
        assert_eq!(t.items, ["#product:123", "#catalog"]);
    }

    #[test]
    fn invalid_tags_are_named_not_sent() {
        let long = "x".repeat(257);
        let t = parse_tags(&format!("ok, two words, caf\u{e9}, {long}, {}, tab\there", "y".repeat(256)));
        assert_eq!(t.items, ["#ok".to_owned(), format!("#{}", "y".repeat(256))]);
        assert_eq!(
            t.problems,
            [
                TagProblem::Character { tag: "two words".into() },
                TagProblem::Character { tag: "caf\u{e9}".into() },
                TagProblem::TooLong { tag: long.clone() },
                TagProblem::Character { tag: "tab\there".into() },
            ]
        );
        assert!(t.problems[2].to_string().contains("longer than 256"));
    }

    #[test]
    fn fifty_tags_at_most() {
        let value: Vec<String> = (1..=52).map(|i| format!("t{i}")).collect();
        let t = parse_tags(&value.join(","));
        assert_eq!(t.items.len(), 50);
        assert_eq!(t.items[49], "#t50");
        assert_eq!(
            t.problems,
            [TagProblem::BeyondFifty { tag: "t51".into() }, TagProblem::BeyondFifty { tag: "t52".into() }]
        );
    }

    #[test]
    fn a_tag_is_not_a_wildcard() {
        assert!(is_wildcard_item("/img/*"));
        assert!(!is_wildcard_item("#sale*"));
        assert!(is_tag_item("#sale*"));
    }

    #[test]
    fn metadata_keys_of_headers() {
        assert_eq!(metadata_key("x-amz-meta-cache-tag").as_deref(), Some("cache-tag"));
        assert_eq!(metadata_key("X-Amz-Meta-Cache-Tag").as_deref(), Some("cache-tag"));
        assert_eq!(metadata_key("Cache-Tag"), None);
        assert_eq!(metadata_key("x-amz-meta-"), None);
    }
}
