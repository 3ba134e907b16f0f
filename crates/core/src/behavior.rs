//! Which cache behavior serves a viewer path.
//!
//! CloudFront tests a request path against the cache behaviors in their listed order and the first
//! match wins; the default behavior (`*`) comes last and matches everything. The seed instead took
//! *any* behavior whose pattern "contains" the key, which invalidates paths that another behavior
//! (and another origin) actually serves.
//!
//! A planner asks this for every event and every distribution that serves its bucket, and the
//! distributions of one bucket mostly share their patterns. So the question is split in two:
//! - a [`PatternSet`] (built once by a [`PatternSetBuilder`]) holds the *distinct* patterns of several distributions and answers, once per
//!   path, which of them match (a bit per pattern);
//! - a [`BehaviorOrder`] is one distribution's behaviors as pattern ids in evaluation order, and its
//!   first match is the first id whose bit is set.
//!
//! Within a pattern set, patterns are indexed by the first character after the leading `/`: a
//! pattern that starts with a literal `/x` can only match paths whose second character is `x`, and
//! most real patterns (`/images/*`, `/api/*`) do. The rest (`*.jpg`, `/*`, `/?x`) are candidates for
//! every path. Simple shapes (`/a/b`, `/a/*`, `/a/*.js`, `*.js`) are matched without the general
//! glob.

use crate::bytes::same;
use crate::pattern::PathPattern;

/// How a pattern is matched, from cheapest to most general.
#[derive(Debug, Clone)]
enum Shape {
    /// No wildcard: the whole path.
    Exact(Box<[u8]>),
    /// `literal*`.
    Prefix(Box<[u8]>),
    /// `prefix*suffix` (one star, no `?`), prefix possibly empty.
    PrefixSuffix(Box<[u8]>, Box<[u8]>),
    /// Anything else: the general matcher, after a literal-prefix check.
    General(Box<[u8]>, PathPattern),
}

impl Shape {
    fn of(source: &str) -> Self {
        let pattern = PathPattern::new(source);
        let rooted = pattern.rooted();
        let bytes = rooted.as_bytes();
        let stars = bytes.iter().filter(|&&b| b == b'*').count();
        let has_any = bytes.contains(&b'?');
        if !rooted.is_ascii() || has_any || stars > 1 {
            return Shape::General(pattern.literal_prefix().into_bytes().into(), pattern);
        }
        match rooted.split_once('*') {
            None => Shape::Exact(bytes.into()),
            Some((p, "")) => Shape::Prefix(p.as_bytes().into()),
            Some((p, s)) => Shape::PrefixSuffix(p.as_bytes().into(), s.as_bytes().into()),
        }
    }

    /// The literal every matching path starts with.
    fn prefix(&self) -> &[u8] {
        match self {
            Shape::Exact(p) | Shape::Prefix(p) | Shape::PrefixSuffix(p, _) | Shape::General(p, _) => p,
        }
    }

    #[inline]
    fn matches(&self, path: &[u8], text: &str) -> bool {
        match self {
            Shape::Exact(p) => path.len() == p.len() && same(path, p),
            Shape::Prefix(p) => path.len() >= p.len() && same(&path[..p.len()], p),
            Shape::PrefixSuffix(p, s) => {
                path.len() >= p.len() + s.len() && same(&path[..p.len()], p) && same(&path[path.len() - s.len()..], s)
            }
            Shape::General(p, pattern) => path.len() >= p.len() && same(&path[..p.len()], p) && pattern.matches(text),
        }
    }
}

/// Distinct path patterns being collected: ids are handed out as patterns are interned, and
/// [`PatternSetBuilder::build`] compiles the index once every pattern is in. Only the built
/// [`PatternSet`] can match, so a set can never be matched half-built (the shape of globset's
/// `GlobSetBuilder` and `GlobSet`).
#[derive(Debug, Clone, Default)]
pub struct PatternSetBuilder {
    sources: Vec<String>,
    shapes: Vec<Shape>,
}

impl PatternSetBuilder {
    pub fn new() -> Self {
        PatternSetBuilder::default()
    }

    /// The id of a pattern, adding it if it is new.
    pub fn intern(&mut self, source: &str) -> u16 {
        if let Some(i) = self.sources.iter().position(|s| s == source) {
            return i as u16;
        }
        self.sources.push(source.to_owned());
        self.shapes.push(Shape::of(source));
        (self.sources.len() - 1) as u16
    }

    /// How many distinct patterns so far.
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Compiles the second-byte index: for each possible second byte of a path, the patterns that
    /// could match it.
    pub fn build(self) -> PatternSet {
        let PatternSetBuilder { sources, shapes } = self;
        let mut candidates = Vec::new();
        let mut offsets = Vec::with_capacity(257);
        offsets.push(0);
        for b in 0..=255u8 {
            for (i, shape) in shapes.iter().enumerate() {
                let p = shape.prefix();
                if p.len() < 2 || p[1] == b {
                    candidates.push(i as u16);
                }
            }
            offsets.push(candidates.len() as u32);
        }
        let all = (0..sources.len() as u16).collect();
        PatternSet { sources, shapes, candidates, offsets, all }
    }
}

/// Distinct path patterns, compiled ([`PatternSetBuilder::build`]) and matched together.
#[derive(Debug, Clone)]
pub struct PatternSet {
    sources: Vec<String>,
    shapes: Vec<Shape>,
    /// For each possible second byte of a path, the patterns that could match (flattened:
    /// `candidates[offsets[b]..offsets[b + 1]]`, 257 offsets).
    candidates: Vec<u16>,
    offsets: Vec<u32>,
    /// Every pattern (for the path `/`).
    all: Vec<u16>,
}

/// Which patterns of a [`PatternSet`] matched one path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Matches {
    words: Vec<u64>,
}

impl Matches {
    #[inline]
    pub fn contains(&self, id: u16) -> bool {
        let id = usize::from(id);
        self.words.get(id / 64).is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    /// The bits as words (a compact key for memoising decisions).
    pub fn words(&self) -> &[u64] {
        &self.words
    }
}

impl PatternSet {
    /// How many distinct patterns.
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// The pattern with this id, as written.
    pub fn source(&self, id: u16) -> &str {
        &self.sources[usize::from(id)]
    }

    /// Which patterns match `path` (a viewer path starting with `/`), into `out`.
    pub fn matching(&self, path: &str, out: &mut Matches) {
        out.words.clear();
        out.words.resize(self.sources.len().div_ceil(64), 0);
        let bytes = path.as_bytes();
        let candidates: &[u16] = match bytes.get(1) {
            Some(&b) => {
                let b = usize::from(b);
                &self.candidates[self.offsets[b] as usize..self.offsets[b + 1] as usize]
            }
            None => &self.all,
        };
        for &id in candidates {
            if self.shapes[usize::from(id)].matches(bytes, path) {
                out.words[usize::from(id) / 64] |= 1 << (id % 64);
            }
        }
    }
}

/// One distribution's behaviors, as pattern ids in evaluation order, the default (`*`) last.
#[derive(Debug, Clone)]
pub struct BehaviorOrder {
    ids: Box<[u16]>,
}

impl BehaviorOrder {
    /// Interns the ordered patterns (and the default's `*`) into the set being built.
    pub fn new<'a>(set: &mut PatternSetBuilder, ordered: impl IntoIterator<Item = &'a str>) -> Self {
        let ids = ordered.into_iter().chain(std::iter::once("*")).map(|p| set.intern(p)).collect();
        BehaviorOrder { ids }
    }

    /// The index (in evaluation order) of the behavior that serves a path with these matches; the
    /// default when nothing else matches.
    #[inline]
    pub fn first_match(&self, matches: &Matches) -> usize {
        self.ids.iter().position(|&id| matches.contains(id)).unwrap_or(self.ids.len() - 1)
    }

    /// How many behaviors, the default included.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

/// One distribution's behaviors on their own: the simple way to ask which one serves a path.
#[derive(Debug, Clone)]
pub struct Behaviors {
    set: PatternSet,
    order: BehaviorOrder,
}

impl Behaviors {
    /// The ordered non-default patterns; the default behavior's `*` is added last. The index that
    /// [`Behaviors::first_match`] returns is the position in `ordered`, or `ordered.len()` for the
    /// default behavior.
    pub fn new<'a>(ordered: impl IntoIterator<Item = &'a str>) -> Self {
        let mut builder = PatternSetBuilder::new();
        let order = BehaviorOrder::new(&mut builder, ordered);
        Behaviors { set: builder.build(), order }
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The index of the behavior that serves `path` (a viewer path starting with `/`).
    pub fn first_match(&self, path: &str) -> usize {
        let mut m = Matches::default();
        self.set.matching(path, &mut m);
        self.order.first_match(&m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn first_match_wins_default_last() {
        let b = Behaviors::new(["/images/*.png", "/images/*", "*.png", "api/*", "/exact.txt", "/a/*/b/*.js"]);
        assert_eq!(b.first_match("/images/a.png"), 0);
        assert_eq!(b.first_match("/images/a.jpg"), 1);
        assert_eq!(b.first_match("/b.png"), 2);
        assert_eq!(b.first_match("/api/v1"), 3);
        assert_eq!(b.first_match("/exact.txt"), 4);
        assert_eq!(b.first_match("/exact.txt2"), 6);
        assert_eq!(b.first_match("/a/x/b/y.js"), 5);
        assert_eq!(b.first_match("/other"), 6);
        assert_eq!(b.first_match("/"), 6);
        assert_eq!(b.len(), 7);
    }

    #[test]
    fn shared_patterns_serve_several_orders() {
        let mut builder = PatternSetBuilder::new();
        let one = BehaviorOrder::new(&mut builder, ["/a/*", "*.js"]);
        let two = BehaviorOrder::new(&mut builder, ["*.js", "/a/*"]);
        let set = builder.build();
        assert_eq!(set.len(), 3, "/a/*, *.js and * once each");
        let mut m = Matches::default();
        set.matching("/a/x.js", &mut m);
        assert_eq!((one.first_match(&m), two.first_match(&m)), (0, 0));
        set.matching("/b/x.js", &mut m);
        assert_eq!((one.first_match(&m), two.first_match(&m)), (1, 0));
    }

    proptest! {
        #[test]
        fn agrees_with_the_linear_scan_of_the_general_matcher(
            patterns in proptest::collection::vec("[ab/*?.]{0,6}", 0..8),
            path in "/[ab/.]{0,8}",
        ) {
            let b = Behaviors::new(patterns.iter().map(String::as_str));
            let linear = patterns.iter().position(|p| PathPattern::new(p).matches(&path))
                .unwrap_or(patterns.len());
            prop_assert_eq!(b.first_match(&path), linear);
        }
    }
}
