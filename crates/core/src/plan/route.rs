//! Routing a batch: every event through every origin that reaches its bucket, to items or a reason
//! per distribution.
//!
//! For each event (see the module documentation of [`super`] for the rules in order): the early
//! reasons ([`super::pre_filter`]); then each OriginPath group of the bucket whose prefix holds the
//! key gives one encoded viewer path, matched once against the group's patterns; each route of the
//! group decides ([`super::decide`], memoised by [`super::memo`]) and gives the path's item; a
//! website origin also gives the directory of an index document, and the default root object gives
//! `/` ([`Planner::derived`]); and a distribution that got no item from any of its routes is told
//! why, by its best outcome.

use std::borrow::Cow;

use crate::behavior::Matches;
use crate::cache_tags::{parse_tags, ObjectMetadata};
use crate::event::{Change, ObjectEvent};
use crate::exception::Exceptions;
use crate::path::{is_too_broad, push_encoded, to_invalidation_path, WildcardReason, MAX_PATH_LEN};

use super::compile::{Route, TagSource};
use super::decide::{Outcome, Variant};
use super::memo::{Memo, MemoKey};
use super::output::Builder;
use super::strategy::CacheTags;
use super::{pre_filter, ItemReason, Plan, Planner, Reason};

/// Per distribution, the best outcome of the event being routed: a distribution reached through
/// several origins gets a skip only if none of them gave an item. Reused across events (stamped
/// with the event's index) instead of a map per event.
struct EventOutcomes {
    stamp: Vec<usize>,
    best: Vec<Best>,
    touched: Vec<usize>,
}

/// An outcome, or an item that would have been too broad to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Best {
    Item,
    TooBroad,
    NotCached,
    NotServed,
}

impl EventOutcomes {
    fn new(dists: usize) -> Self {
        EventOutcomes { stamp: vec![usize::MAX; dists], best: vec![Best::NotServed; dists], touched: Vec::new() }
    }

    fn start(&mut self) {
        self.touched.clear();
    }

    /// Keeps the best outcome of `dist` for event `event`.
    fn record(&mut self, event: usize, dist: usize, outcome: Best) {
        if self.stamp[dist] != event {
            self.stamp[dist] = event;
            self.best[dist] = outcome;
            self.touched.push(dist);
        } else if outcome < self.best[dist] {
            self.best[dist] = outcome;
        }
    }

    /// Whether `dist` was reached by event `event`; marks it reached.
    fn reach(&mut self, event: usize, dist: usize) -> bool {
        std::mem::replace(&mut self.stamp[dist], event) == event
    }
}

/// The item for an encoded viewer path, and why it is not simply that path. The common case (no
/// `*`, `~` or query strings, not too long) is the path itself, borrowed.
fn item_for(encoded: &str, query_strings: bool) -> (Cow<'_, str>, Option<ItemReason>) {
    let plain = encoded.len() <= MAX_PATH_LEN && !encoded.bytes().any(|b| b == b'*' || b == b'~');
    if plain && !query_strings {
        return (Cow::Borrowed(encoded), None);
    }
    if !query_strings {
        let p = to_invalidation_path(encoded);
        return (Cow::Owned(p.path), p.wildcard.map(ItemReason::from));
    }
    // Every query-string variant: the path and a `*` (which also covers a `*` or `~` cut).
    let p = to_invalidation_path(&format!("{encoded}*"));
    let reason = match p.wildcard {
        Some(WildcardReason::Asterisk) if plain => ItemReason::QueryStrings,
        Some(other) => other.into(),
        None => ItemReason::QueryStrings,
    };
    (Cow::Owned(p.path), Some(reason))
}

/// The note an item gets: why its path is not simply the key's, or, for a creation invalidated
/// only because its earlier error may still be cached, `error-cached`.
pub(super) fn item_note(variant: Variant, reason: Option<ItemReason>) -> Option<ItemReason> {
    if variant.error_cached {
        reason.or(Some(ItemReason::ErrorCached))
    } else {
        reason
    }
}

impl Planner {
    /// Plans a batch: per distribution its unique items in sets, and a reason for everything
    /// skipped (in event order). No object's metadata is known, so no cache tag is sent.
    pub fn plan(&self, events: &[ObjectEvent], exceptions: &Exceptions) -> Plan {
        self.plan_with_metadata(events, exceptions, &ObjectMetadata::new())
    }

    /// The same, with the S3 metadata of the created objects, for the distributions that are sent
    /// their cache tags ([`Planner::wants_object_metadata`]).
    pub fn plan_with_metadata(
        &self,
        events: &[ObjectEvent],
        exceptions: &Exceptions,
        metadata: &ObjectMetadata,
    ) -> Plan {
        let mut b = Builder::new(self.dists.len());
        let mut encoded = String::with_capacity(256);
        let mut outcomes = EventOutcomes::new(self.dists.len());
        let mut matches = Matches::default();
        let mut memos: Vec<Memo> = (0..self.groups).map(|_| Memo::default()).collect();

        for (i, ev) in events.iter().enumerate() {
            if let Some(reason) = pre_filter(ev, exceptions) {
                b.skip(i, None, None, reason);
                continue;
            }
            outcomes.start();
            let created = ev.change == Change::Created;
            let (bucket, groups) = match self.buckets.get(&ev.bucket) {
                Some((index, groups)) => (*index, groups.as_slice()),
                None => (u32::MAX, &[][..]),
            };
            for group in groups {
                let Some(rest) = ev.key.strip_prefix(group.key_prefix.as_str()) else {
                    continue;
                };
                encoded.clear();
                encoded.push('/');
                push_encoded(rest, &mut encoded);
                group.patterns.matching(&encoded, &mut matches);
                let memo = &mut memos[group.index];
                let key = MemoKey::of(&matches);
                let base = match memo.get(&key) {
                    Some(base) => base,
                    None => memo.insert(key, self.decide_group(group, &matches)),
                };
                // The item of this path, once per variant (routes of a group mostly agree).
                let mut ids: [Option<(u32, Option<ItemReason>)>; 2] = [None, None];
                for (k, route) in group.routes.iter().enumerate() {
                    let (on_create, on_remove) = memo.outcomes[base + k];
                    let outcome = if created { on_create } else { on_remove };
                    // Cache tags of a created object, for a distribution sent them; with `instead`
                    // and a tag to send, they stand for every path of the object.
                    let mut instead = false;
                    if let (Outcome::Item(_), true, Some(source)) =
                        (outcome, created, self.dists[route.dist].cache_tags.as_ref())
                    {
                        instead = self.tags(route.dist, source, (i, bucket, events), metadata, &mut b);
                    }
                    let best = match outcome {
                        Outcome::Item(_) if instead => Best::Item,
                        Outcome::Item(variant) => {
                            let slot = &mut ids[usize::from(variant.query_strings)];
                            let (id, reason) = *slot.get_or_insert_with(|| match self.cover(&encoded, variant) {
                                Some((item, reason)) => (b.intern(&item), reason),
                                None => (u32::MAX, None),
                            });
                            if id == u32::MAX {
                                Best::TooBroad
                            } else {
                                b.add(route.dist, id, (i, events), bucket, item_note(variant, reason));
                                Best::Item
                            }
                        }
                        Outcome::NotCached => Best::NotCached,
                        Outcome::NotServed => Best::NotServed,
                    };
                    outcomes.record(i, route.dist, best);
                    if route.derives
                        && !instead
                        && self.derived(route, &group.patterns, rest, created, (i, bucket, events), &mut b)
                    {
                        outcomes.record(i, route.dist, Best::Item);
                    }
                }
            }
            if outcomes.touched.is_empty() {
                b.skip(i, None, None, Reason::NoOrigin);
                continue;
            }
            // Distributions that reach the bucket, but through no origin that holds this key.
            for route in groups.iter().flat_map(|g| &g.routes) {
                if !outcomes.reach(i, route.dist) {
                    b.skip(i, Some(self.dists[route.dist].id.clone()), self.tenant_id(route.dist), Reason::NoOrigin);
                }
            }
            for &d in &outcomes.touched {
                let reason = match outcomes.best[d] {
                    Best::Item => continue,
                    Best::TooBroad => Reason::TooBroad,
                    Best::NotCached => Reason::NotCached,
                    Best::NotServed => Reason::NotServed,
                };
                b.skip(i, Some(self.dists[d].id.clone()), self.tenant_id(d), reason);
            }
        }
        b.finish(self, events)
    }

    /// The tenant id of compiled distribution `dist`, when it is a tenant.
    fn tenant_id(&self, dist: usize) -> Option<std::sync::Arc<str>> {
        self.dists[dist].tenant.as_ref().map(|t| t.id.clone())
    }

    /// Gives distribution `dist` the cache tags of the created object of event `event`, from its
    /// metadata; the tags it cannot send become warnings. Returns whether they replace the
    /// object's paths (`instead`, and at least one tag sent). An object whose metadata is not
    /// known, or has no such key, has no tags.
    fn tags(
        &self,
        dist: usize,
        source: &TagSource,
        (event, bucket, events): (usize, u32, &[ObjectEvent]),
        metadata: &ObjectMetadata,
        b: &mut Builder,
    ) -> bool {
        let ev = &events[event];
        let Some(value) = metadata.value(&ev.bucket, &ev.key, &source.metadata_key) else {
            return false;
        };
        let tags = parse_tags(value);
        for problem in &tags.problems {
            b.warn(&self.dists[dist].id, format!("object {}/{}: {problem}", ev.bucket, ev.key));
        }
        for item in &tags.items {
            let id = b.intern(item);
            b.add(dist, id, (event, events), bucket, Some(ItemReason::CacheTag));
        }
        source.mode == CacheTags::Instead && !tags.items.is_empty()
    }

    /// The item that covers an encoded viewer path with this variant, or `None` when its only
    /// cover is too broad to send unasked ([`crate::path::is_too_broad`]). A query-string `*`
    /// that would be too broad is dropped: the path itself is still invalidated.
    pub(super) fn cover<'e>(&self, encoded: &'e str, variant: Variant) -> Option<(Cow<'e, str>, Option<ItemReason>)> {
        let (item, reason) = item_for(encoded, variant.query_strings);
        if reason.is_none() || self.options.allow_broad_wildcards || !is_too_broad(&item) {
            return Some((item, reason));
        }
        if reason == Some(ItemReason::QueryStrings) {
            let (plain, _) = item_for(encoded, false);
            return Some((plain, Some(ItemReason::QueryStringsTooBroad)));
        }
        None
    }

    /// The viewer paths besides its own at which one origin serves a key (the key with the
    /// OriginPath's prefix removed), not yet encoded, and why:
    ///
    /// - An S3 website endpoint serves an index document (`guide/index.html`) at its directory
    ///   (`/guide/`) and redirects the directory without its slash (`/guide`) there; the root's at
    ///   `/`. CloudFront caches each URL apart, and its guide says to invalidate a directory with
    ///   and without the trailing slash (S3 guide, "Configuring an index document"; CloudFront
    ///   guide, "Invalidate files").
    /// - The distribution's `DefaultRootObject` is what CloudFront answers for `/`.
    pub(super) fn derived_paths(&self, route: &Route, rest: &str) -> Vec<(String, ItemReason)> {
        let mut paths: Vec<(String, ItemReason)> = Vec::new();
        if let Some(index) = route.index_document.as_deref() {
            let dir = if rest == index { Some("") } else { rest.strip_suffix(index).filter(|d| d.ends_with('/')) };
            if let Some(dir) = dir {
                paths.push((format!("/{dir}"), ItemReason::IndexDocument));
                if let Some(bare) = dir.strip_suffix('/') {
                    paths.push((format!("/{bare}"), ItemReason::IndexDocument));
                }
            }
        }
        if self.dists[route.dist].default_root_object.as_deref() == Some(rest) {
            paths.push(("/".to_owned(), ItemReason::DefaultRootObject));
        }
        paths
    }

    /// The viewer paths besides its own at which one origin serves a key ([`Planner::derived_paths`]),
    /// each routed through the distribution's behaviors like any path; returns whether any gave an
    /// item.
    fn derived(
        &self,
        route: &Route,
        patterns: &crate::behavior::PatternSet,
        rest: &str,
        created: bool,
        (event, bucket, events): (usize, u32, &[ObjectEvent]),
        b: &mut Builder,
    ) -> bool {
        let mut any = false;
        let mut matches = Matches::default();
        let mut encoded = String::new();
        for (viewer, why) in self.derived_paths(route, rest) {
            encoded.clear();
            push_encoded(&viewer, &mut encoded);
            patterns.matching(&encoded, &mut matches);
            let (on_create, on_remove) = self.decide(route, &matches);
            let Outcome::Item(variant) = (if created { on_create } else { on_remove }) else {
                continue;
            };
            let Some((item, _)) = self.cover(&encoded, variant) else {
                continue;
            };
            let id = b.intern(&item);
            b.add(route.dist, id, (event, events), bucket, Some(why));
            any = true;
        }
        any
    }
}
