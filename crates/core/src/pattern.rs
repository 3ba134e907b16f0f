//! CloudFront cache-behavior path patterns.
//!
//! CloudFront's pattern language is tiny: `*` matches zero or more characters *including* `/`, `?`
//! matches exactly one character, everything else matches itself, case-sensitively. There is no
//! escaping and no character class. A leading `/` is optional (`images/*` is `/images/*`).
//!
//! We match against the **encoded** viewer path (the string a browser sends and that
//! CreateInvalidation receives), so the text is normally ASCII and matching runs on bytes. A
//! non-ASCII text is still matched correctly, one `char` per `?`, on a slower path.
//!
//! A pattern is split at its stars into fixed-length segments. The first segment must match at the
//! start, the last at the end, and each middle one at its leftmost possible place after the one
//! before: for patterns whose only variable-length token is `*` that greedy choice is optimal, so
//! the matcher never backtracks and runs in O(text × pattern) at worst, O(text) in practice.

use std::fmt;

/// One position of a segment: a literal, or `?` (any one character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<T> {
    Lit(T),
    Any,
}

/// A compiled path pattern.
#[derive(Clone, PartialEq, Eq)]
pub struct PathPattern {
    /// The pattern as written in the distribution config (for messages and output).
    source: String,
    /// The pattern as matched (rooted).
    rooted: String,
    /// Segments between stars, over chars (used for non-ASCII texts).
    chars: Vec<Vec<Tok<char>>>,
    /// The same segments over bytes; `None` when the pattern itself is not ASCII, in which case
    /// it cannot match an ASCII text at any literal position and the char path decides.
    bytes: Option<Vec<Vec<Tok<u8>>>>,
    /// Bytes of `rooted` before its first `*` or `?`.
    literal_len: usize,
}

impl fmt::Debug for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PathPattern({:?})", self.source)
    }
}

impl PathPattern {
    /// Compiles a pattern as CloudFront reads it.
    ///
    /// A pattern that starts with neither `/` nor `*` is rooted (`images/*` means `/images/*`). A
    /// pattern that starts with `*` is left alone: its star may also consume the leading `/`, so
    /// `*.jpg` matches `/a/b.jpg` and `*/a` matches `/a` (inferred from the documented examples).
    pub fn new(source: &str) -> Self {
        let rooted: String =
            if source.starts_with('/') || source.starts_with('*') { source.to_owned() } else { format!("/{source}") };
        let chars: Vec<Vec<Tok<char>>> = rooted
            .split('*')
            .map(|seg| seg.chars().map(|c| if c == '?' { Tok::Any } else { Tok::Lit(c) }).collect())
            .collect();
        let bytes = rooted.is_ascii().then(|| {
            rooted
                .split('*')
                .map(|seg| seg.bytes().map(|b| if b == b'?' { Tok::Any } else { Tok::Lit(b) }).collect())
                .collect()
        });
        let literal_len = rooted.find(['*', '?']).unwrap_or(rooted.len());
        PathPattern { source: source.to_owned(), rooted, chars, bytes, literal_len }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The pattern as matched: with the leading `/` CloudFront assumes.
    pub fn rooted(&self) -> &str {
        &self.rooted
    }

    /// True when `path` (a viewer path starting with `/`) is matched by this pattern.
    pub fn matches(&self, path: &str) -> bool {
        if path.is_ascii() {
            match &self.bytes {
                Some(segs) => glob(segs, path.as_bytes()),
                // A non-ASCII literal can never equal an ASCII character; but `?`/`*` alone could
                // still match, so fall through to the general path.
                None => glob(&self.chars, &path.chars().collect::<Vec<_>>()),
            }
        } else {
            glob(&self.chars, &path.chars().collect::<Vec<_>>())
        }
    }

    /// True when some path that starts with `prefix` matches this pattern: the wildcard `prefix*`
    /// reaches a path this pattern serves. (The pattern, read as an automaton, still has a live state
    /// after `prefix`; from any state of a glob some ending leads to a match.)
    pub fn matches_some_path_starting_with(&self, prefix: &str) -> bool {
        // Quick answer: the literal text before the first wildcard must agree with the prefix as
        // far as both go. Most patterns (`/api/*`) are decided here.
        let literal = self.literal_len;
        let n = literal.min(prefix.len());
        if self.rooted.as_bytes()[..n] != prefix.as_bytes()[..n] {
            return false;
        }
        if literal >= prefix.len() {
            return true;
        }
        match self.rooted.as_bytes().get(literal) {
            // No wildcard: the pattern is one path, shorter than the prefix.
            None => return false,
            // The first wildcard is a `*`: it takes the rest of the prefix, and the pattern's
            // remaining tokens are then spelled after it.
            Some(b'*') => return true,
            Some(_) => {}
        }
        let tokens: Vec<char> = self.rooted.chars().collect();
        // States are positions in `tokens`; a `*` loops and may be skipped.
        let close = |states: &mut Vec<bool>| {
            for i in 0..tokens.len() {
                if states[i] && tokens[i] == '*' {
                    states[i + 1] = true;
                }
            }
        };
        let mut states = vec![false; tokens.len() + 1];
        states[0] = true;
        close(&mut states);
        let mut next = vec![false; tokens.len() + 1];
        for c in prefix.chars() {
            next.iter_mut().for_each(|s| *s = false);
            for (i, &t) in tokens.iter().enumerate() {
                if !states[i] {
                    continue;
                }
                match t {
                    '*' => next[i] = true,
                    '?' => next[i + 1] = true,
                    l if l == c => next[i + 1] = true,
                    _ => {}
                }
            }
            close(&mut next);
            if !next.iter().any(|&s| s) {
                return false;
            }
            std::mem::swap(&mut states, &mut next);
        }
        true
    }

    /// True when every path that starts with `prefix` matches this pattern, as far as a pattern of
    /// the shape `literal*` (with `?`s, then only stars) can show it: `/img/*` holds every path
    /// under `/img/a`, `*` every path. Other shapes answer `false`, which is the safe side for the
    /// caller (it then keeps looking at later behaviors).
    pub fn matches_every_path_starting_with(&self, prefix: &str) -> bool {
        let Some(star) = self.rooted.find('*') else {
            return false;
        };
        if self.rooted[star..].chars().any(|c| c != '*') {
            return false;
        }
        let head: Vec<char> = self.rooted[..star].chars().collect();
        let text: Vec<char> = prefix.chars().collect();
        text.len() >= head.len() && head.iter().zip(&text).all(|(h, t)| *h == '?' || h == t)
    }

    /// The literal text every matching path starts with (up to the first wildcard), rooted.
    /// Used by [`crate::behavior`] to skip behaviors that cannot match without running them.
    pub fn literal_prefix(&self) -> String {
        let mut out = String::new();
        if let Some(first) = self.chars.first() {
            for t in first {
                match t {
                    Tok::Lit(c) => out.push(*c),
                    Tok::Any => break,
                }
            }
        }
        out
    }
}

/// `seg` matches `text[at..at + seg.len()]` exactly.
#[inline]
fn seg_at<T: Copy + Eq>(seg: &[Tok<T>], text: &[T], at: usize) -> bool {
    match text.get(at..at + seg.len()) {
        Some(window) => seg.iter().zip(window).all(|(t, c)| match t {
            Tok::Lit(l) => l == c,
            Tok::Any => true,
        }),
        None => false,
    }
}

fn glob<T: Copy + Eq>(segs: &[Vec<Tok<T>>], text: &[T]) -> bool {
    let (first, rest) = match segs.split_first() {
        Some(split) => split,
        None => return text.is_empty(),
    };
    let Some((last, middle)) = rest.split_last() else {
        // No star: the whole text is one fixed-length segment.
        return first.len() == text.len() && seg_at(first, text, 0);
    };
    if text.len() < first.len() + last.len() {
        return false;
    }
    let end = text.len() - last.len();
    if !seg_at(first, text, 0) || !seg_at(last, text, end) {
        return false;
    }
    let mut pos = first.len();
    for seg in middle {
        if seg.is_empty() {
            continue; // `**`
        }
        let mut found = None;
        let mut p = pos;
        while p + seg.len() <= end {
            if seg_at(seg, text, p) {
                found = Some(p);
                break;
            }
            p += 1;
        }
        match found {
            Some(p) => pos = p + seg.len(),
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(p: &str, t: &str) -> bool {
        PathPattern::new(p).matches(t)
    }

    #[test]
    fn documented_examples() {
        assert!(m("images/*.jpg", "/images/a.jpg"));
        assert!(m("/images/*.jpg", "/images/sub/dir/a.jpg"), "* crosses /");
        assert!(!m("/images/*.jpg", "/images/a.JPG"), "case-sensitive");
        assert!(m("*.gif", "/a/b/c.gif"));
        assert!(m("/images/?.jpg", "/images/a.jpg"));
        assert!(!m("/images/?.jpg", "/images/ab.jpg"));
        assert!(m("*", "/anything/at/all"));
        assert!(m("/a*", "/a"), "* matches nothing");
        assert!(!m("/a", "/ab"));
        assert!(m("/a/*/c/*.js", "/a/x/y/c/d/e.js"));
        assert!(!m("/a/*/c/*.js", "/a/c/e.js"));
    }

    #[test]
    fn what_a_wildcard_prefix_reaches() {
        let api = PathPattern::new("/api/*");
        assert!(api.matches_some_path_starting_with("/a"), "/a* reaches /api/x");
        assert!(api.matches_some_path_starting_with("/api/v1/"));
        assert!(!api.matches_some_path_starting_with("/assets/"));
        assert!(api.matches_every_path_starting_with("/api/v1/"));
        assert!(!api.matches_every_path_starting_with("/ap"));
        let json = PathPattern::new("*.json");
        assert!(json.matches_some_path_starting_with("/assets/"), "*.json reaches /assets/x.json");
        assert!(!json.matches_every_path_starting_with("/assets/"));
        assert!(PathPattern::new("*").matches_every_path_starting_with("/x"));
        assert!(!PathPattern::new("/exact.txt").matches_some_path_starting_with("/exact.txt2"));
        assert!(PathPattern::new("/a?c/*").matches_every_path_starting_with("/abc/d"));
    }

    #[test]
    fn star_first_may_consume_the_root_slash() {
        assert!(m("*/a", "/a"));
        assert!(m("*a", "/a"));
        assert!(!m("?a", "/a"), "a ?-pattern is rooted, so ? cannot be the /");
        assert!(m("?a", "/xa"));
    }

    #[test]
    fn non_ascii_text_and_pattern() {
        assert!(m("/사진/*", "/사진/a.jpg"));
        assert!(m("/?.jpg", "/한.jpg"), "? is one character, not one byte");
        assert!(!m("/사진/*", "/%EC%82%AC%EC%A7%84/a.jpg"));
        assert!(m("/*", "/한"));
    }

    /// The reference: CloudFront's documented semantics as a regular expression.
    fn reference(pattern: &str, text: &str) -> bool {
        let rooted = if pattern.starts_with('/') || pattern.starts_with('*') {
            pattern.to_owned()
        } else {
            format!("/{pattern}")
        };
        let mut re = String::from("(?s)^");
        for c in rooted.chars() {
            match c {
                '*' => re.push_str(".*"),
                '?' => re.push('.'),
                c => re.push_str(&regex::escape(&c.to_string())),
            }
        }
        re.push('$');
        regex::Regex::new(&re).unwrap().is_match(text)
    }

    /// A second reference, from a well-kept glob library: ripgrep's globset, set to CloudFront's
    /// semantics (`*` crosses `/`, no escapes) on the same rooted pattern. Its `**` has special
    /// meanings around `/`, and CloudFront's `**` is just `*`, so runs of stars are collapsed first;
    /// CloudFront patterns have no `[` or `{`. Compiled in byte mode, so it judges ASCII texts:
    /// what the planner matches (encoded viewer paths are ASCII).
    fn globset_reference(pattern: &str, text: &str) -> bool {
        let rooted = if pattern.starts_with('/') || pattern.starts_with('*') {
            pattern.to_owned()
        } else {
            format!("/{pattern}")
        };
        let mut single = String::new();
        for c in rooted.chars() {
            if !(c == '*' && single.ends_with('*')) {
                single.push(c);
            }
        }
        globset::GlobBuilder::new(&single)
            .literal_separator(false)
            .backslash_escape(false)
            .build()
            .unwrap()
            .compile_matcher()
            .is_match(text)
    }

    fn alphabet() -> impl Strategy<Value = String> {
        // Few distinct characters so that matches are frequent; includes the wildcard characters
        // (as literals in texts) and a non-ASCII one.
        proptest::string::string_regex("[ab/.*?한]{0,12}").unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn agrees_with_the_regex_reference(pattern in alphabet(), text in "/[ab/.한]{0,14}") {
            prop_assert_eq!(m(&pattern, &text), reference(&pattern, &text),
                "pattern {:?} text {:?}", pattern, text);
        }

        #[test]
        fn agrees_with_globset(pattern in "[ab/.*?]{0,12}", text in "/[ab/.]{0,14}") {
            prop_assert_eq!(m(&pattern, &text), globset_reference(&pattern, &text),
                "pattern {:?} text {:?}", pattern, text);
        }

        #[test]
        fn prefix_questions_agree_with_matching(pattern in "[ab/*?]{0,6}", prefix in "/[ab/]{0,4}",
                                                 tails in proptest::collection::vec("[ab/]{0,4}", 1..12)) {
            let p = PathPattern::new(&pattern);
            let some = p.matches_some_path_starting_with(&prefix);
            let every = p.matches_every_path_starting_with(&prefix);
            for tail in &tails {
                let path = format!("{prefix}{tail}");
                if p.matches(&path) {
                    prop_assert!(some, "{:?} matches {:?} but claims no path under {:?}", pattern, path, prefix);
                } else {
                    prop_assert!(!every, "{:?} claims every path under {:?} but not {:?}", pattern, prefix, path);
                }
            }
        }

        #[test]
        fn a_literal_pattern_matches_itself(text in "/[a-z0-9/._-]{0,30}") {
            prop_assert!(m(&text, &text));
        }

        #[test]
        fn literal_prefix_is_a_prefix_of_every_match(pattern in alphabet(), text in "/[ab/.]{0,14}") {
            let p = PathPattern::new(&pattern);
            if p.matches(&text) {
                prop_assert!(text.starts_with(&p.literal_prefix()));
            }
        }
    }
}
