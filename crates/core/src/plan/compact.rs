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

use std::sync::Arc;

use super::Compaction;

/// How many replaced items a compaction note shows.
const EXAMPLES: usize = 3;

/// An item after compaction: one of the inputs, or a new wildcard over a range of them.
pub(super) enum Compacted {
    Kept(usize),
    Cover(Arc<str>),
}

/// A candidate cover: the prefix (`depth` bytes) shared by `items[first..=last]` (sorted by prefix),
/// a node of the tree of longest common prefixes.
struct Node {
    depth: usize,
    first: usize,
    last: usize,
    children: Vec<u32>,
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
    let nodes = tree(items);
    let prefix = |v: &Node| &prefix_of(items[v.first])[..v.depth];
    // Deepest first. Nodes of one depth never nest, and their descendants are all deeper, so when
    // a depth is reached what each would replace is known.
    let mut by_depth: Vec<u32> = (0..nodes.len() as u32).collect();
    by_depth.sort_by(|&a, &b| nodes[b as usize].depth.cmp(&nodes[a as usize].depth));
    // Per node: how many items it stands for now (1 once it is a cover).
    let mut live = vec![0usize; nodes.len()];
    let mut covered = vec![false; nodes.len()];
    let mut count = n;
    let mut level: Vec<u32> = Vec::new();
    let mut at = 0;
    while at < by_depth.len() && count > max_items {
        let depth = nodes[by_depth[at] as usize].depth;
        level.clear();
        while at < by_depth.len() && nodes[by_depth[at] as usize].depth == depth {
            let v = by_depth[at] as usize;
            let node = &nodes[v];
            let children: usize =
                node.children.iter().map(|&c| nodes[c as usize].last - nodes[c as usize].first + 1).sum();
            let direct = node.last - node.first + 1 - children;
            live[v] = direct
                + node.children.iter().map(|&c| if covered[c as usize] { 1 } else { live[c as usize] }).sum::<usize>();
            level.push(v as u32);
            at += 1;
        }
        // The covers that replace most first, then in byte order.
        level.sort_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            live[b].cmp(&live[a]).then_with(|| prefix(&nodes[a]).cmp(prefix(&nodes[b])))
        });
        for &v in &level {
            if count <= max_items {
                break;
            }
            let v = v as usize;
            let p = prefix(&nodes[v]);
            // Inside a top-level directory: a `/` after the leading one (as
            // `crate::path::reaches_beyond_a_directory` asks of the wildcard); and safe.
            if live[v] < 2 || p.len() < 2 || !p[1..].contains('/') || !safe(p) {
                continue;
            }
            covered[v] = true;
            count -= live[v] - 1;
        }
    }
    // Each item under its outermost cover: shallowest covers first.
    let mut cover_of: Vec<Option<u32>> = vec![None; n];
    for &v in by_depth.iter().rev() {
        let node = &nodes[v as usize];
        if covered[v as usize] && cover_of[node.first].is_none() {
            cover_of[node.first..=node.last].iter_mut().for_each(|c| *c = Some(v));
        }
    }
    let mut out = Vec::with_capacity(count);
    let mut notes = Vec::new();
    let mut i = 0;
    while i < n {
        match cover_of[i] {
            Some(v) => {
                let node = &nodes[v as usize];
                let item: Arc<str> = Arc::from(format!("{}*", prefix(node)));
                let examples = items[node.first..=node.last].iter().take(EXAMPLES).map(|&s| Arc::from(s)).collect();
                notes.push(Compaction { item: item.clone(), replaced: node.last - node.first + 1, examples });
                out.push(Compacted::Cover(item));
                i = node.last + 1;
            }
            None => {
                out.push(Compacted::Kept(i));
                i += 1;
            }
        }
    }
    (out, notes)
}

/// The tree of the sorted items' longest common prefixes: every prefix two or more items share,
/// with the range of items under it and its children (the classic bottom-up walk of the LCP
/// array, with the LCPs cut before `%XX` escapes so that a child is always deeper than its parent).
fn tree(items: &[&str]) -> Vec<Node> {
    let n = items.len();
    // lcp[i]: common prefix of items i - 1 and i, for i in 1..n; 0 closes every open node at n.
    let lcp = |i: usize| if i < n { common_prefix(prefix_of(items[i - 1]), prefix_of(items[i])) } else { 0 };
    let mut nodes: Vec<Node> = Vec::new();
    // Open nodes: (depth, first item, children).
    let mut stack: Vec<(usize, usize, Vec<u32>)> = vec![(0, 0, Vec::new())];
    for i in 1..=n {
        let here = lcp(i);
        let mut first = i - 1;
        let mut closed: Option<u32> = None;
        while stack.last().is_some_and(|top| here < top.0) {
            let (depth, start, children) = stack.pop().unwrap_or_default();
            nodes.push(Node { depth, first: start, last: i - 1, children });
            let id = (nodes.len() - 1) as u32;
            first = start;
            match stack.last_mut() {
                Some(top) if here <= top.0 => top.2.push(id),
                _ => closed = Some(id),
            }
        }
        if stack.last().is_none_or(|top| here > top.0) {
            stack.push((here, first, closed.into_iter().collect()));
        } else if let Some(id) = closed {
            if let Some(top) = stack.last_mut() {
                top.2.push(id);
            }
        }
    }
    // What is left open is the root (depth 0), never a cover.
    nodes
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
