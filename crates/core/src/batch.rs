//! What CloudFront accepts in one invalidation batch, for sets that come from outside the planner:
//! an error file a person edited and gives to `cfinv resubmit`. A set CloudFront can never take
//! must be refused at once, naming the item, not sent to wait for room that never comes (a set of
//! 3,001 paths never fits the 3,000 in progress) or to be refused whole by CloudFront.
//!
//! The rules (CloudFront guide, "Invalidating files": "Specifying the files to invalidate" and
//! "Concurrent invalidation request maximum"; the cache tag rules as in [`crate::cache_tags`]):
//!
//! - at least one item; at most 3,000, of which at most 15 wildcards: one batch larger than the
//!   in-progress limits can never be in progress;
//! - a path starts with `/`, is at most 4,000 characters, and is URL-encoded: printable ASCII
//!   only (no space, no control character, nothing non-ASCII), none of the characters CloudFront
//!   wants encoded (`"`, `<`, `>`, `#`, `{`, `}`, `|`, `\`, `^`, `[`, `]`, backtick: unencoded,
//!   the invalidation misses), `%` only as the start of an escape (`%20`), `*` only as its last
//!   character (anywhere else CloudFront refuses it), and no `~`: CloudFront refuses a literal `~`
//!   with `InvalidArgument`, failing the whole batch, and accepts `%7E` but is reported not to
//!   evict with it (`docs/aws-facts.md`; the planner cuts such a path before the `~`, see
//!   [`crate::path::to_invalidation_path`]);
//! - a cache tag item is `#` and a tag of ASCII 33-126 without commas, at most 256 characters.
//!
//! The planner makes only such sets (the `plan` fuzz target checks its output against the same
//! rules, written out separately).

use crate::cache_tags::{is_tag_item, is_wildcard_item, MAX_TAG_LEN};
use crate::path::MAX_PATH_LEN;
use crate::plan::{MAX_SET_SIZE, MAX_WILDCARDS_IN_PROGRESS};

/// Why CloudFront would never accept a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("the set holds no path")]
    Empty,
    #[error("{0} items: CloudFront takes at most {MAX_SET_SIZE} in progress on a distribution, so one batch may hold no more; split the set")]
    TooManyItems(usize),
    #[error("{0} wildcard paths: CloudFront takes at most {MAX_WILDCARDS_IN_PROGRESS} in progress on a distribution, so one batch may hold no more; split the set")]
    TooManyWildcards(usize),
    #[error("{item:?}: {why}")]
    Item { item: String, why: &'static str },
}

/// Checks one invalidation batch: `items` are paths (`/a.html`, `/img/*`) and cache tag items
/// (`#product:123`), as CreateInvalidation would receive them. The first problem found is returned.
pub fn check_batch<S: AsRef<str>>(items: &[S]) -> Result<(), BatchError> {
    if items.is_empty() {
        return Err(BatchError::Empty);
    }
    if items.len() > MAX_SET_SIZE {
        return Err(BatchError::TooManyItems(items.len()));
    }
    let wildcards = items.iter().filter(|i| is_wildcard_item(i.as_ref())).count();
    if wildcards > MAX_WILDCARDS_IN_PROGRESS {
        return Err(BatchError::TooManyWildcards(wildcards));
    }
    for item in items {
        let item = item.as_ref();
        if let Some(why) = item_problem(item) {
            return Err(BatchError::Item { item: item.to_owned(), why });
        }
    }
    Ok(())
}

/// What is wrong with one item, if anything.
fn item_problem(item: &str) -> Option<&'static str> {
    if let Some(tag) = item.strip_prefix('#').filter(|_| is_tag_item(item)) {
        return if tag.is_empty() {
            Some("an empty cache tag")
        } else if tag.len() > MAX_TAG_LEN {
            Some("a cache tag longer than 256 characters")
        } else if !tag.bytes().all(|b| (33..=126).contains(&b) && b != b',') {
            Some("a cache tag may hold only ASCII 33-126 without commas")
        } else {
            None
        };
    }
    if !item.starts_with('/') {
        Some("a path must start with `/` (a cache tag with `#`)")
    } else if item.len() > MAX_PATH_LEN {
        Some("a path longer than 4000 characters")
    } else if !item.bytes().all(|b| b.is_ascii_graphic()) {
        Some("a path must be URL-encoded: a space, a control or a non-ASCII character is not")
    } else if item.contains('~') {
        Some("CloudFront refuses a literal `~`: use the wildcard before it (`/js/runtime~main.js` as `/js/runtime*`)")
    } else if item.to_ascii_uppercase().contains("%7E") {
        Some("CloudFront accepts `%7E` but is reported not to evict with it: use the wildcard before it")
    } else if item.contains(['"', '<', '>', '#', '{', '}', '|', '\\', '^', '[', ']', '`']) {
        Some(
            "a path must be URL-encoded: `\"`, `<`, `>`, `#`, `{`, `}`, `|`, `\\`, `^`, `[`, `]` and backtick as `%XX`",
        )
    } else if !percent_escapes_are_whole(item) {
        Some("`%` must start an escape of two hex digits (`%25` for a `%` itself)")
    } else if item[..item.len() - 1].contains('*') {
        Some("`*` is allowed only as a path's last character")
    } else {
        None
    }
}

/// Every `%` is followed by two hex digits.
fn percent_escapes_are_whole(item: &str) -> bool {
    let b = item.as_bytes();
    b.iter()
        .enumerate()
        .filter(|(_, &c)| c == b'%')
        .all(|(i, _)| b.len() > i + 2 && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(item: &str) -> Option<&'static str> {
        match check_batch(&[item]) {
            Ok(()) => None,
            Err(BatchError::Item { why, .. }) => Some(why),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn what_the_planner_writes_passes() {
        let set = ["/a.html", "/b%20c.jpg", "/img/*", "/", "/%E2%82%AC.txt", "#product:123", "#a*"];
        assert_eq!(check_batch(&set), Ok(()));
        assert_eq!(check_batch(&[format!("/{}", "a".repeat(3999))]), Ok(()));
    }

    #[test]
    fn a_batch_larger_than_the_in_progress_limits_never_fits() {
        let paths: Vec<String> = (0..3001).map(|i| format!("/p/{i}")).collect();
        assert_eq!(check_batch(&paths), Err(BatchError::TooManyItems(3001)));
        assert_eq!(check_batch(&paths[..3000]), Ok(()));
        let wild: Vec<String> = (0..16).map(|i| format!("/w{i}/*")).collect();
        assert_eq!(check_batch(&wild), Err(BatchError::TooManyWildcards(16)));
        assert_eq!(check_batch(&wild[..15]), Ok(()));
        // A tag ending in `*` is not a wildcard.
        let tags: Vec<String> = (0..16).map(|i| format!("#t{i}*")).collect();
        assert_eq!(check_batch(&tags), Ok(()));
        assert_eq!(check_batch::<&str>(&[]), Err(BatchError::Empty));
    }

    #[test]
    fn items_cloudfront_refuses_are_named() {
        assert!(why("a.html").is_some(), "no leading slash");
        assert!(why("/a b.html").is_some(), "unencoded space");
        assert!(why("/€.txt").is_some(), "non-ASCII");
        assert!(why("/~a.html").unwrap().contains('~'));
        assert!(why("/a*b").unwrap().contains("last"));
        assert!(why("/a#b").is_some());
        for unsafe_char in ["\"", "<", ">", "{", "}", "|", "\\", "^", "[", "]", "`"] {
            assert!(why(&format!("/a{unsafe_char}b")).is_some(), "{unsafe_char}");
        }
        assert!(why("/a%7Eb").is_some() && why("/a%7eb").is_some(), "accepted, not evicting");
        assert!(why("/a%zz").is_some() && why("/a%").is_some() && why("/a%2").is_some());
        assert_eq!(why("/a%25b%20c?x=1"), None, "escapes, and a query string a person wrote");
        assert!(why(&format!("/{}", "a".repeat(4000))).is_some(), "4001 characters");
        assert!(why("#").is_some(), "an empty tag");
        assert!(why("#a,b").is_some());
        assert!(why(&format!("#{}", "t".repeat(257))).is_some());
    }
}
