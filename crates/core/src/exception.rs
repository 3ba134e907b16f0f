//! The `exceptionPaths` bucket tag.
//!
//! Its value is a comma-separated list of key prefixes (`resources/upload/,tmp`). Under them,
//! objects are invalidated only when removed: they are user uploads with names never reused, so a
//! creation has nothing stale to clear, while a deletion must still clear a cached error page
//! (seed note #1).

use std::collections::HashMap;

use crate::event::{Change, ObjectEvent};

/// The parsed value of one bucket's `exceptionPaths` tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExceptionPaths {
    prefixes: Vec<String>,
}

impl ExceptionPaths {
    /// Parses the tag value: entries are trimmed, empty ones ignored, a leading `/` dropped (keys
    /// never start with the `/` that viewers see).
    pub fn parse(tag_value: &str) -> Self {
        let prefixes = tag_value
            .split(',')
            .map(|p| p.trim())
            .map(|p| p.strip_prefix('/').unwrap_or(p))
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        ExceptionPaths { prefixes }
    }

    /// The prefixes, in the tag's order.
    pub fn prefixes(&self) -> &[String] {
        &self.prefixes
    }

    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty()
    }

    /// True when the key lies under one of the prefixes.
    pub fn covers(&self, key: &str) -> bool {
        self.prefixes.iter().any(|p| key.starts_with(p.as_str()))
    }

    /// True when this event is to be dropped: a creation (or other non-removal) under a prefix.
    /// A removal is never dropped.
    pub fn skips(&self, event: &ObjectEvent) -> bool {
        event.change != Change::Removed && self.covers(&event.key)
    }
}

/// `exceptionPaths` for every bucket that has the tag; a bucket without one has no exceptions.
#[derive(Debug, Clone, Default)]
pub struct Exceptions {
    by_bucket: HashMap<String, ExceptionPaths>,
}

impl Exceptions {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets one bucket's tag value (replacing any earlier one).
    pub fn insert(&mut self, bucket: impl Into<String>, paths: ExceptionPaths) {
        self.by_bucket.insert(bucket.into(), paths);
    }

    pub fn for_bucket(&self, bucket: &str) -> Option<&ExceptionPaths> {
        self.by_bucket.get(bucket)
    }

    /// True when the event is dropped by its bucket's tag.
    pub fn skips(&self, event: &ObjectEvent) -> bool {
        self.for_bucket(&event.bucket).is_some_and(|p| p.skips(event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(key: &str, change: Change) -> ObjectEvent {
        ObjectEvent { event_name: "x".into(), ..ObjectEvent::new("b", key, change) }
    }

    #[test]
    fn parses_the_tag_leniently() {
        let p = ExceptionPaths::parse(" resources/upload/ ,, /tmp ,");
        assert_eq!(p.prefixes(), ["resources/upload/", "tmp"]);
        assert!(ExceptionPaths::parse("").is_empty());
        assert!(ExceptionPaths::parse(" , ").is_empty());
    }

    #[test]
    fn creations_under_a_prefix_are_skipped_removals_never() {
        let p = ExceptionPaths::parse("resources/upload/");
        assert!(p.skips(&ev("resources/upload/1.jpg", Change::Created)));
        assert!(!p.skips(&ev("resources/upload/1.jpg", Change::Removed)));
        assert!(!p.skips(&ev("resources/1.jpg", Change::Created)));
        assert!(!p.skips(&ev("Resources/upload/1.jpg", Change::Created)), "case-sensitive");
    }

    #[test]
    fn buckets_without_the_tag_have_no_exceptions() {
        let mut all = Exceptions::new();
        all.insert("b", ExceptionPaths::parse("up/"));
        assert!(all.skips(&ev("up/x", Change::Created)));
        let mut other = ev("up/x", Change::Created);
        other.bucket = "c".into();
        assert!(!all.skips(&other));
    }
}
