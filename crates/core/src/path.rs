//! From S3 keys to CloudFront invalidation paths, and back from S3 event keys to S3 keys.
//!
//! Two encodings meet here and most public tools confuse them:
//! - S3 event notifications carry the key **form-encoded** (`red flower.jpg` arrives as
//!   `red+flower.jpg`, Hangul as UTF-8 `%XX` escapes). [`decode_event_key`] undoes that.
//! - CloudFront wants invalidation paths **percent-encoded** where, and only where, a browser would
//!   encode them: non-ASCII characters as UTF-8 bytes and a short list of unsafe characters.
//!   Encoding anything else (`/`, `+`, `!`...) makes the invalidation miss. [`push_encoded`]
//!   does exactly that, and [`to_invalidation_path`] never produces a path CloudFront would reject:
//!   not even a `~`, which CloudFront refuses literally and, as `%7E`, accepts without evicting (below).

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The longest invalidation path CloudFront accepts.
pub const MAX_PATH_LEN: usize = 4000;

/// Characters CloudFront requires to be percent-encoded in an invalidation path (aws-facts.md),
/// plus control characters and `?`: a literal `?` would start a query string, and browsers send a
/// key's `?` as `%3F` (inferred; aws-facts.md does not list it). Non-ASCII is always encoded.
pub const CLOUDFRONT_UNSAFE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'#')
    .add(b'%')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^')
    .add(b'[')
    .add(b']')
    .add(b'`')
    .add(b'?');

/// Why a path had to become a wildcard to cover its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum WildcardReason {
    /// The key contains `*`, which CloudFront reads as a wildcard and allows only at the end.
    Asterisk,
    /// The encoded path is longer than CloudFront's 4000-character limit.
    TooLong,
    /// The key contains `~`. CloudFront refuses a literal `~` in an invalidation path with
    /// `InvalidArgument`, which fails every other path of the batch (aws-sdk-js-v3#4042,
    /// bep/s3deploy#46, apancutt/deploy-aws-s3-cloudfront#6, s3_website#63), and its guide says `~`
    /// is not supported "whether it's URL-encoded or not" (one report has `%7E` accepted but not
    /// evicting, aws/aws-sdk#525). So the path stops before the `~`, as the narrowest wildcard.
    Tilde,
}

impl WildcardReason {
    /// The stable name used in output, the same as its JSON.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A path ready for CreateInvalidation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidationPath {
    /// Starts with `/`, at most [`MAX_PATH_LEN`] characters, `*` only as the last character.
    pub path: String,
    /// `Some` when the path is a wildcard covering more than the one key.
    pub wildcard: Option<WildcardReason>,
}

/// Error from [`decode_event_key`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key {0:?} decodes to bytes that are not UTF-8")]
    NotUtf8(String),
    #[error("the key is empty")]
    Empty,
}

/// Decodes a key as S3 event notifications deliver it: `+` is a space and `%XX` are UTF-8 bytes
/// ("unquote plus"). A stray `%` that starts no escape is kept literally, as S3 never sends one.
pub fn decode_event_key(raw: &str) -> Result<String, KeyError> {
    if raw.is_empty() {
        return Err(KeyError::Empty);
    }
    let plus_decoded: Cow<'_, str> =
        if raw.contains('+') { Cow::Owned(raw.replace('+', " ")) } else { Cow::Borrowed(raw) };
    percent_decode_str(&plus_decoded).decode_utf8().map(Cow::into_owned).map_err(|_| KeyError::NotUtf8(raw.to_owned()))
}

/// Appends `text` (a viewer path, or part of one), percent-encoded as CloudFront expects it both
/// in requests (for behavior matching) and in invalidation batches.
pub fn push_encoded(text: &str, out: &mut String) {
    out.extend(utf8_percent_encode(text, CLOUDFRONT_UNSAFE));
}

/// Turns an encoded viewer path into an invalidation path, using the narrowest wildcard that
/// covers the key when the exact path cannot be expressed:
/// - a `*` in the key: CloudFront allows `*` only last and always reads it as a wildcard, so the
///   path is cut after the first `*` (`/a*b.jpg` becomes `/a*`; `/a*` stays `/a*`);
/// - a `~` in the key: CloudFront refuses it ([`WildcardReason::Tilde`]), so the path is cut before
///   it (`/js/runtime~main.js` becomes `/js/runtime*`);
/// - longer than 4000 characters: cut to 3999 characters (never inside a `%XX` escape) plus `*`.
///
/// Whichever of `*` and `~` comes first decides.
pub fn to_invalidation_path(encoded: &str) -> InvalidationPath {
    match encoded.find(['*', '~']) {
        Some(at) if encoded.as_bytes()[at] == b'*' && at < MAX_PATH_LEN => {
            return InvalidationPath { path: encoded[..=at].to_owned(), wildcard: Some(WildcardReason::Asterisk) };
        }
        Some(at) if at < MAX_PATH_LEN => {
            return InvalidationPath { path: format!("{}*", &encoded[..at]), wildcard: Some(WildcardReason::Tilde) };
        }
        None if encoded.len() <= MAX_PATH_LEN => {
            return InvalidationPath { path: encoded.to_owned(), wildcard: None };
        }
        _ => {}
    }
    // Too long (with or without a star or tilde beyond the limit). The encoded path is ASCII, so
    // byte offsets are character offsets; step back over a partial escape.
    let mut cut = MAX_PATH_LEN - 1;
    let bytes = encoded.as_bytes();
    if bytes[cut - 1] == b'%' {
        cut -= 1;
    } else if bytes[cut - 2] == b'%' {
        cut -= 2;
    }
    InvalidationPath { path: format!("{}*", &encoded[..cut]), wildcard: Some(WildcardReason::TooLong) }
}

/// The fewest characters of a top-level name a wildcard must keep (`/abcd*`); see [`is_too_broad`].
pub const MIN_TOP_LEVEL_PREFIX: usize = 4;

/// True for a wildcard that may reach much of a site: `/*` (everything), or a top-level prefix
/// shorter than [`MIN_TOP_LEVEL_PREFIX`] characters (`/a*` reaches every top-level name and
/// directory that starts with `a`). A key such as `*`, `a*` or `~x` yields one; cfinv does not
/// send it unless the operator allows broad wildcards, but reports the key for a person to decide.
pub fn is_too_broad(invalidation: &str) -> bool {
    match invalidation.strip_suffix('*') {
        Some(prefix) => {
            let name = &prefix[1.min(prefix.len())..];
            !name.contains('/') && name.len() < MIN_TOP_LEVEL_PREFIX
        }
        None => false,
    }
}

/// True for a wildcard that is not inside a top-level directory (`/assets*`, as against
/// `/assets/*`). Compaction never makes one: which top-level names share a prefix is chance.
pub fn reaches_beyond_a_directory(invalidation: &str) -> bool {
    invalidation.strip_suffix('*').is_some_and(|prefix| !prefix[1.min(prefix.len())..].contains('/'))
}

/// Convenience: the invalidation path for a viewer path (encoding plus wildcard rules).
pub fn invalidation_path(viewer_path: &str) -> InvalidationPath {
    let mut encoded = String::with_capacity(viewer_path.len() + 8);
    push_encoded(viewer_path, &mut encoded);
    to_invalidation_path(&encoded)
}

/// True when an invalidation path covers the given encoded viewer path: exact, or a wildcard
/// whose prefix the path starts with.
pub fn covers(invalidation: &str, encoded_path: &str) -> bool {
    match invalidation.strip_suffix('*') {
        Some(prefix) => encoded_path.starts_with(prefix),
        None => invalidation == encoded_path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_like_s3_sends() {
        assert_eq!(decode_event_key("red+flower.jpg").unwrap(), "red flower.jpg");
        assert_eq!(decode_event_key("a%2Bb.jpg").unwrap(), "a+b.jpg");
        assert_eq!(decode_event_key("%ED%95%9C%EA%B8%80/%EC%82%AC%EC%A7%84.png").unwrap(), "한글/사진.png");
        assert_eq!(decode_event_key("a%2Ab").unwrap(), "a*b");
        assert_eq!(decode_event_key("dir/sub/x.js").unwrap(), "dir/sub/x.js");
        assert_eq!(decode_event_key("100%").unwrap(), "100%");
        assert!(matches!(decode_event_key("%FF"), Err(KeyError::NotUtf8(_))));
        assert_eq!(decode_event_key(""), Err(KeyError::Empty));
    }

    #[test]
    fn encodes_only_what_cloudfront_requires() {
        let p = |s| invalidation_path(s).path;
        assert_eq!(p("/red flower.jpg"), "/red%20flower.jpg");
        assert_eq!(p("/a+b.jpg"), "/a+b.jpg", "+ is not encoded");
        assert_eq!(p("/한글.png"), "/%ED%95%9C%EA%B8%80.png");
        assert_eq!(p("/user/!$&'()@:,;=.txt"), "/user/!$&'()@:,;=.txt");
        assert_eq!(p("/\"<>#%{}|\\^[]`.txt"), "/%22%3C%3E%23%25%7B%7D%7C%5C%5E%5B%5D%60.txt");
        assert_eq!(p("/what?.html"), "/what%3F.html");
        assert_eq!(p("/tab\there"), "/tab%09here");
    }

    #[test]
    fn star_becomes_the_narrowest_wildcard() {
        let a = invalidation_path("/a*b.jpg");
        assert_eq!(a.path, "/a*");
        assert_eq!(a.wildcard, Some(WildcardReason::Asterisk));
        let b = invalidation_path("/ends-with*");
        assert_eq!(b.path, "/ends-with*");
        assert_eq!(b.wildcard, Some(WildcardReason::Asterisk));
    }

    #[test]
    fn tilde_becomes_the_narrowest_wildcard_before_it() {
        let p = invalidation_path("/static/js/runtime~main.4f2a9c1e.js");
        assert_eq!(p.path, "/static/js/runtime*");
        assert_eq!(p.wildcard, Some(WildcardReason::Tilde));
        assert_eq!(invalidation_path("/a~b*c").path, "/a*", "the ~ comes first");
        assert_eq!(invalidation_path("/a*b~c").wildcard, Some(WildcardReason::Asterisk));
    }

    #[test]
    fn broad_wildcards() {
        assert!(is_too_broad("/*"));
        assert!(is_too_broad("/a*"));
        assert!(is_too_broad("/abc*"));
        assert!(!is_too_broad("/abcd*"));
        assert!(!is_too_broad("/a/*"));
        assert!(!is_too_broad("/a"));
        assert!(reaches_beyond_a_directory("/assets*"));
        assert!(!reaches_beyond_a_directory("/assets/*"));
        assert!(!reaches_beyond_a_directory("/assets/a*"));
    }

    #[test]
    fn too_long_never_cuts_an_escape() {
        for pad in 0..4 {
            let key = format!("/{}{}", "a".repeat(3990 + pad), "한".repeat(10));
            let p = invalidation_path(&key);
            assert_eq!(p.wildcard, Some(WildcardReason::TooLong));
            assert!(p.path.len() <= MAX_PATH_LEN);
            let stem = p.path.strip_suffix('*').unwrap();
            assert!(!stem.ends_with('%') && !stem[..stem.len() - 1].ends_with('%'));
            let mut enc = String::new();
            push_encoded(&key, &mut enc);
            assert!(covers(&p.path, &enc));
        }
    }

    proptest! {
        #[test]
        fn encode_then_decode_round_trips(key in "\\PC{1,40}") {
            let viewer = format!("/{key}");
            let p = invalidation_path(&viewer);
            if !key.contains('*') && !key.contains('~') {
                prop_assert_eq!(p.wildcard, None);
                let back = percent_decode_str(&p.path).decode_utf8().unwrap();
                prop_assert_eq!(back, viewer.as_str());
            }
        }

        #[test]
        fn every_path_is_acceptable_to_cloudfront(key in "\\PC{1,60}|[a*~]{1,8}") {
            let p = invalidation_path(&format!("/{key}"));
            prop_assert!(p.path.starts_with('/'));
            prop_assert!(p.path.len() <= MAX_PATH_LEN);
            prop_assert!(p.path.is_ascii());
            let star = p.path.find('*');
            prop_assert!(star.is_none() || star == Some(p.path.len() - 1));
            prop_assert!(!p.path.contains(' ') && !p.path.contains('?') && !p.path.contains('#'));
            prop_assert!(!p.path.contains('~'), "never a literal ~: {}", p.path);
        }

        #[test]
        fn the_path_always_covers_its_key(key in "[a-z*~/ 한]{1,30}") {
            let viewer = format!("/{key}");
            let mut enc = String::new();
            push_encoded(&viewer, &mut enc);
            let p = to_invalidation_path(&enc);
            prop_assert!(covers(&p.path, &enc));
        }

        #[test]
        fn s3_form_encoding_decodes_back(key in "\\PC{1,40}") {
            // How S3 encodes keys in notifications: quote_plus.
            let form: String = percent_encoding::utf8_percent_encode(
                &key, percent_encoding::NON_ALPHANUMERIC).to_string();
            let form = form.replace("%20", "+");
            prop_assert_eq!(decode_event_key(&form).unwrap(), key);
        }
    }
}
