//! Which cache behavior serves a viewer path.
//!
//! CloudFront tests a request path against the cache behaviors in their listed order and the first
//! match wins; the default behavior (`*`) comes last and matches everything. The seed instead took
//! *any* behavior whose pattern "contains" the key, which invalidates paths that another behavior
//! (and another origin) actually serves.
//!
//! A planner asks this question for every event and every distribution that serves its bucket, so
//! the ordered list is indexed by the first character after the leading `/`: a behavior whose
//! pattern starts with a literal `/x` can only match paths whose second character is `x`, and most
//! real patterns (`/images/*`, `/api/*`) do. The rest (`*.jpg`, `/*`, `/?x`) are candidates for
//! every path. Order is preserved within each list, so the first match is still the first match.

use crate::pattern::PathPattern;

/// Behaviors of one distribution, in evaluation order, the default last.
#[derive(Debug, Clone)]
pub struct Behaviors {
    patterns: Vec<PathPattern>,
    /// Each pattern's literal prefix, checked before the full match.
    prefixes: Vec<Box<[u8]>>,
    /// For each possible second byte of a path, the behaviors that could match, in order.
    by_second_byte: Vec<Box<[u16]>>,
    /// Every behavior, in order (for the path `/`).
    all: Box<[u16]>,
}

impl Behaviors {
    /// Compiles the ordered non-default patterns followed by the default behavior's `*`.
    /// The index returned by [`Behaviors::first_match`] is the position in `ordered`, or
    /// `ordered.len()` for the default behavior.
    pub fn new<'a>(ordered: impl IntoIterator<Item = &'a str>) -> Self {
        let mut patterns: Vec<PathPattern> = ordered.into_iter().map(PathPattern::new).collect();
        patterns.push(PathPattern::new("*"));
        let prefixes: Vec<Box<[u8]>> =
            patterns.iter().map(|p| p.literal_prefix().into_bytes().into_boxed_slice()).collect();
        let index = |i: usize| u16::try_from(i).unwrap_or(u16::MAX);
        let all: Box<[u16]> = (0..patterns.len()).map(index).collect();
        let by_second_byte = (0..=255u8)
            .map(|b| {
                prefixes.iter().enumerate().filter(|(_, p)| p.len() < 2 || p[1] == b).map(|(i, _)| index(i)).collect()
            })
            .collect();
        Behaviors { patterns, prefixes, by_second_byte, all }
    }

    /// How many behaviors, the default included.
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The pattern of behavior `i`.
    pub fn pattern(&self, i: usize) -> &PathPattern {
        &self.patterns[i]
    }

    /// The index of the behavior that serves `path` (a viewer path starting with `/`).
    /// Always answers: the default behavior matches every path.
    pub fn first_match(&self, path: &str) -> usize {
        let bytes = path.as_bytes();
        let candidates = match bytes.get(1) {
            Some(&b) => &self.by_second_byte[usize::from(b)],
            None => &self.all,
        };
        for &i in candidates.iter() {
            let i = usize::from(i);
            if bytes.starts_with(&self.prefixes[i]) && self.patterns[i].matches(path) {
                return i;
            }
        }
        self.patterns.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn first_match_wins_default_last() {
        let b = Behaviors::new(["/images/*.png", "/images/*", "*.png", "api/*"]);
        assert_eq!(b.first_match("/images/a.png"), 0);
        assert_eq!(b.first_match("/images/a.jpg"), 1);
        assert_eq!(b.first_match("/b.png"), 2);
        assert_eq!(b.first_match("/api/v1"), 3);
        assert_eq!(b.first_match("/other"), 4);
        assert_eq!(b.first_match("/"), 4);
        assert_eq!(b.len(), 5);
    }

    proptest! {
        #[test]
        fn index_agrees_with_the_linear_scan(
            patterns in proptest::collection::vec("[ab/*?]{0,6}", 0..8),
            path in "/[ab/]{0,8}",
        ) {
            let b = Behaviors::new(patterns.iter().map(String::as_str));
            let linear = patterns.iter().position(|p| PathPattern::new(p).matches(&path))
                .unwrap_or(patterns.len());
            prop_assert_eq!(b.first_match(&path), linear);
        }
    }
}
