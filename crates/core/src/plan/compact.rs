//! The `compact` policy: cover a distribution's items with fewer prefix wildcards.
//!
//! The items (unique, none covered by another: [`super::sets::drop_covered`] ran first) are sorted
//! by their prefix (a wildcard's is the part before `*`, a path's is the whole path). Every prefix
//! that two or more of them share is a candidate cover `prefix*`; those are the nodes of the tree
//! that sorted strings and their longest common prefixes form. Candidates are taken deepest
//! (longest) first, the ones that replace most items first among equally deep ones, then in byte
//! order, and each replaces the items (and earlier covers) under it, until at most `max_items`
//! remain. A candidate is never taken when:
//!
//! - it is not inside a top-level directory (`/*`, `/assets*`:
//!   [`crate::path::reaches_beyond_a_directory`]): which top-level names share a prefix is chance, and
//!   the root is a person's decision, not a threshold's;
//! - it would end inside a `%XX` escape (it is cut before the `%`);
//! - `safe` says no: the wildcard reaches a viewer path that, by the behaviors' patterns and order,
//!   an origin not reaching the changed bucket serves ([`super::Planner`] decides).
//!
//! The answer depends only on the set of items, so the same events in any order compact the same
//! way (and give the same CallerReferences downstream).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::path::reaches_beyond_a_directory;

use super::Compaction;

/// How many replaced items a compaction note shows.
const EXAMPLES: usize = 3;

/// An item after compaction: one of the inputs, or a new wildcard over a range of them.
pub(super) enum Compacted {
    Kept(usize),
    Cover(Arc<str>),
}

/// A candidate cover: the prefix of `items[first..=last]` (sorted by prefix), `depth` bytes long.
struct Candidate {
    depth: usize,
    first: usize,
    last: usize,
}

/// The prefix an item contributes: a wildcard's part before `*`, a path whole.
fn prefix_of(item: &str) -> &str {
    item.strip_suffix('*').unwrap_or(item)
}

/// The longest common prefix of two strings, in bytes, never ending inside a `%XX` escape.
fn common_prefix(a: &str, b: &str) -> usize {
    let n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let bytes = a.as_bytes();
    // An escape is `%` and two hex digits: a cut 1 or 2 bytes after a `%` is inside it.
    match (n.checked_sub(1).map(|i| bytes[i]), n.checked_sub(2).map(|i| bytes[i])) {
        (Some(b'%'), _) => n - 1,
        (_, Some(b'%')) => n - 2,
        _ => n,
    }
}

/// Compacts `items` (sorted by [`prefix_of`], unique, none covering another) to at most `max_items`
/// where safe covers allow. Returns the compacted items in order, and a note per new wildcard.
pub(super) fn compact(
    items: &[&str],
    max_items: usize,
    safe: impl Fn(&str) -> bool,
) -> (Vec<Compacted>, Vec<Compaction>) {
    let n = items.len();
    if n <= max_items {
        return ((0..n).map(Compacted::Kept).collect(), Vec::new());
    }
    let candidates = candidates(items);
    // Live entities: ranges of items that are one item now (a kept item, or a cover), by start.
    let mut live: BTreeMap<usize, usize> = (0..n).map(|i| (i, i)).collect();
    let mut covers: BTreeMap<usize, Arc<str>> = BTreeMap::new();
    let mut count = n;
    for c in &candidates {
        if count <= max_items {
            break;
        }
        let prefix = &prefix_of(items[c.first])[..c.depth];
        if prefix.is_empty() || reaches_beyond_a_directory(&format!("{prefix}*")) || !safe(prefix) {
            continue;
        }
        let inside: Vec<usize> = live.range(c.first..=c.last).map(|(&start, _)| start).collect();
        if inside.len() < 2 {
            continue;
        }
        for start in &inside {
            live.remove(start);
            covers.remove(start);
        }
        live.insert(c.first, c.last);
        covers.insert(c.first, Arc::from(format!("{prefix}*")));
        count -= inside.len() - 1;
    }
    let mut out = Vec::with_capacity(count);
    let mut notes = Vec::new();
    for (&first, &last) in &live {
        match covers.remove(&first) {
            Some(item) => {
                let examples = items[first..=last].iter().take(EXAMPLES).map(|&s| Arc::from(s)).collect();
                notes.push(Compaction { item: item.clone(), replaced: last - first + 1, examples });
                out.push(Compacted::Cover(item));
            }
            None => out.push(Compacted::Kept(first)),
        }
    }
    (out, notes)
}

/// Every shared prefix of the sorted items, as (depth, range), deepest first, then largest, then
/// in byte order: the internal nodes of the tree of the items' longest common prefixes.
fn candidates(items: &[&str]) -> Vec<Candidate> {
    let n = items.len();
    // lcp[i]: common prefix of items i and i + 1.
    let lcp: Vec<usize> =
        (0..n.saturating_sub(1)).map(|i| common_prefix(prefix_of(items[i]), prefix_of(items[i + 1]))).collect();
    let mut out = Vec::new();
    // The classic stack walk over the LCP array: each popped (depth, start) is one node whose
    // items are start..=i.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for i in 0..=lcp.len() {
        let here = lcp.get(i).copied().unwrap_or(0);
        let mut start = i;
        while let Some(&(depth, s)) = stack.last() {
            if depth <= here {
                break;
            }
            stack.pop();
            out.push(Candidate { depth, first: s, last: i });
            start = s;
        }
        if stack.last().is_none_or(|&(depth, _)| depth < here) {
            stack.push((here, start));
        }
    }
    out.sort_by(|a, b| {
        b.depth
            .cmp(&a.depth)
            .then((b.last - b.first).cmp(&(a.last - a.first)))
            .then_with(|| prefix_of(items[a.first])[..a.depth].cmp(&prefix_of(items[b.first])[..b.depth]))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `foreign`: a viewer path another origin serves; a cover whose prefix it starts with is unsafe.
    fn run(items: &[&str], max: usize, foreign: Option<&str>) -> Vec<String> {
        let (out, _) = compact(items, max, |p| foreign.is_none_or(|f| !f.starts_with(p)));
        out.into_iter()
            .map(|c| match c {
                Compacted::Kept(i) => items[i].to_owned(),
                Compacted::Cover(item) => item.to_string(),
            })
            .collect()
    }

    #[test]
    fn deepest_prefixes_first_until_the_threshold() {
        let items = ["/a/b/c/1.js", "/a/b/c/2.js", "/a/b/d.js", "/a/e.js", "/x/y.js"];
        assert_eq!(run(&items, 5, None), items, "at the threshold: nothing to do");
        // The deepest shared prefix is /a/b/c/ (and its 1.js/2.js share nothing deeper).
        assert_eq!(run(&items, 4, None), ["/a/b/c/*", "/a/b/d.js", "/a/e.js", "/x/y.js"]);
        assert_eq!(run(&items, 3, None), ["/a/b/*", "/a/e.js", "/x/y.js"]);
        assert_eq!(run(&items, 2, None), ["/a/*", "/x/y.js"]);
        // Never broader than one top-level directory: /a/ and /x/ share only "/".
        assert_eq!(run(&items, 1, None), ["/a/*", "/x/y.js"]);
    }

    #[test]
    fn within_a_directory_by_file_name_prefix() {
        let items = ["/js/app.1a.js", "/js/app.2b.js", "/js/chunk-1.js", "/js/chunk-2.js", "/js/main.js"];
        assert_eq!(run(&items, 3, None), ["/js/app.*", "/js/chunk-*", "/js/main.js"]);
    }

    #[test]
    fn an_unsafe_prefix_and_its_ancestors_are_skipped() {
        let items = ["/a/api/1", "/a/api/2", "/a/b/1", "/a/b/2", "/a/c"];
        // Another origin serves /a/apx: /a/* would reach it, /a/api/* would not.
        assert_eq!(run(&items, 2, Some("/a/apx")), ["/a/api/*", "/a/b/*", "/a/c"], "stays above 2: no safe cover");
        // It serves /a/api/9: neither /a/api/* nor /a/* may be sent.
        assert_eq!(run(&items, 2, Some("/a/api/9")), ["/a/api/1", "/a/api/2", "/a/b/*", "/a/c"]);
    }

    #[test]
    fn never_cut_inside_an_escape() {
        let items = ["/d/%E2%82%AC.txt", "/d/%E2%82%B0.txt", "/d/z.txt"];
        assert_eq!(run(&items, 2, None), ["/d/%E2%82*", "/d/z.txt"]);
        assert_eq!(common_prefix("/x%2Fa", "/x%2Ab"), 2);
    }

    #[test]
    fn notes_say_what_each_cover_replaced() {
        let items = ["/p/1", "/p/2", "/p/3", "/p/4", "/q/1"];
        let (_, notes) = compact(&items, 2, |_| true);
        assert_eq!(notes.len(), 1);
        assert_eq!((&*notes[0].item, notes[0].replaced), ("/p/*", 4));
        assert_eq!(notes[0].examples.iter().map(|e| &**e).collect::<Vec<_>>(), ["/p/1", "/p/2", "/p/3"]);
    }
}
