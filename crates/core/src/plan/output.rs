//! The output of a plan: every distinct invalidation path once (interned), each distribution's
//! paths as ids, and at the end per distribution its unique paths, in rank order, cut into sets.
//!
//! Most of this file is speed, not rules (see `docs/BENCHMARKS.md`): paths are interned once per
//! batch and shared (`Arc<str>`), ranked once globally so that each distribution sorts small
//! integers, and deduplicated through a bitset over the ranks. The rules it applies are in
//! [`super::sets`]: covered paths dropped, sets within CloudFront's limits.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::DateTime;

use crate::bytes::compare;
use crate::cache_tags::{is_tag_item, is_wildcard_item};
use crate::event::ObjectEvent;

use super::compact::{compact, Compacted};
use super::sets::{drop_covered, split_sets, Wildcards};
use super::{DistributionPlan, ItemNote, ItemReason, Plan, Planner, Policy, Reason, Skip, Warning};

/// Accumulates one plan: an interner for items, and per distribution the ids of its items.
pub(super) struct Builder {
    /// The same strings as `table`, shared, by id.
    ids: HashMap<Arc<str>, u32, foldhash::fast::RandomState>,
    /// Items, by id.
    table: Vec<Arc<str>>,
    per_dist: Vec<Vec<u32>>,
    /// Per distribution: some item is a wildcard (most plans have none, and skip that work).
    has_wildcards: Vec<bool>,
    /// Per distribution: the buckets (the planner's indexes) whose changes gave it items (a
    /// compaction wildcard may only reach paths that origins of these serve).
    buckets: Vec<Vec<u32>>,
    /// (distribution, item id, event, why) for items that are not simply a key's path.
    notes: Vec<(usize, u32, usize, ItemReason)>,
    skipped: Vec<Skip>,
    /// Problems found while planning (cache tags not sent), each once.
    warnings: Vec<Warning>,
    /// Per distribution: the last event that gave it an item, how many events did, and the one
    /// with the earliest `eventTime` (the start of its upload-to-live latency).
    last_event: Vec<usize>,
    event_count: Vec<usize>,
    first_event: Vec<Option<usize>>,
}

impl Builder {
    pub(super) fn new(dists: usize) -> Self {
        Builder {
            ids: HashMap::default(),
            table: Vec::new(),
            per_dist: vec![Vec::new(); dists],
            has_wildcards: vec![false; dists],
            buckets: vec![Vec::new(); dists],
            notes: Vec::new(),
            skipped: Vec::new(),
            warnings: Vec::new(),
            last_event: vec![usize::MAX; dists],
            event_count: vec![0; dists],
            first_event: vec![None; dists],
        }
    }

    pub(super) fn skip(
        &mut self,
        event: usize,
        distribution_id: Option<Arc<str>>,
        distribution_tenant_id: Option<Arc<str>>,
        reason: Reason,
    ) {
        self.skipped.push(Skip { event, distribution_id, distribution_tenant_id, reason });
    }

    /// A warning about distribution `distribution_id`, once.
    pub(super) fn warn(&mut self, distribution_id: &str, message: String) {
        let w = Warning { distribution_id: distribution_id.to_owned(), message };
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// The id of an item.
    pub(super) fn intern(&mut self, item: &str) -> u32 {
        if let Some(&id) = self.ids.get(item) {
            return id;
        }
        let id = u32::try_from(self.table.len()).unwrap_or(u32::MAX);
        let item: Arc<str> = Arc::from(item);
        self.table.push(item.clone());
        self.ids.insert(item, id);
        id
    }

    /// Gives distribution `dist` item `id` for `event` (of `bucket`), noting why when it is not
    /// simply the key's path.
    pub(super) fn add(
        &mut self,
        dist: usize,
        id: u32,
        (event, events): (usize, &[ObjectEvent]),
        bucket: u32,
        note: Option<ItemReason>,
    ) {
        self.per_dist[dist].push(id);
        if self.last_event[dist] != event {
            self.last_event[dist] = event;
            self.event_count[dist] += 1;
            let first = &mut self.first_event[dist];
            if first.is_none_or(|f| earlier(&events[event], &events[f])) {
                *first = Some(event);
            }
        }
        if is_wildcard_item(&self.table[id as usize]) {
            self.has_wildcards[dist] = true;
        }
        if let Some(reason) = note {
            self.notes.push((dist, id, event, reason));
        }
        let buckets = &mut self.buckets[dist];
        if buckets.last() != Some(&bucket) && !buckets.contains(&bucket) {
            buckets.push(bucket);
        }
    }

    pub(super) fn finish(self, planner: &Planner, events: &[ObjectEvent]) -> Plan {
        let Builder {
            table,
            ids,
            mut per_dist,
            has_wildcards,
            buckets,
            mut notes,
            skipped,
            warnings: mut found,
            event_count,
            first_event,
            ..
        } = self;
        drop(ids);
        // Rank every item once; each distribution then sorts small integers, not strings.
        let mut order: Vec<u32> = (0..table.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| compare(table[a as usize].as_bytes(), table[b as usize].as_bytes()));
        let mut rank = vec![0u32; table.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        // Notes in an order that does not depend on the events' order.
        let key_of = |event: usize| (&events[event].bucket, &events[event].key);
        notes.sort_unstable_by(|a, b| {
            (a.0, rank[a.1 as usize], a.3, key_of(a.2)).cmp(&(b.0, rank[b.1 as usize], b.3, key_of(b.2)))
        });
        notes.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.3 == b.3 && key_of(a.2) == key_of(b.2));

        let mut invalidations = Vec::new();
        let mut warnings = Vec::new();
        warnings.append(&mut found);
        // A distribution's items, unique and in rank order, through a bitset over the ranks:
        // cheaper than sorting its (often repeated) ids, and reused across distributions.
        let mut bits = vec![0u64; table.len().div_ceil(64)];
        for (dist, ids) in per_dist.iter_mut().enumerate() {
            if ids.is_empty() {
                continue;
            }
            for &id in ids.iter() {
                let r = rank[id as usize] as usize;
                bits[r / 64] |= 1 << (r % 64);
            }
            ids.clear();
            for (w, word) in bits.iter_mut().enumerate() {
                let mut v = std::mem::take(word);
                while v != 0 {
                    ids.push((w * 64) as u32 + v.trailing_zeros());
                    v &= v - 1;
                }
            }
            let ids = std::mem::take(ids);
            let item_of = |r: u32| &table[order[r as usize] as usize];
            // Most distributions have no wildcard item: nothing to drop.
            let wild = has_wildcards[dist];
            let ranks = if wild { drop_covered(ids, item_of) } else { ids };
            let compiled = &planner.dists[dist];
            let exact_items = ranks.len();
            // Cache tags (`#`, before `/` in byte order: the first ranks) are billed like paths
            // but never compacted: the threshold is the paths'.
            let tags =
                if compiled.cache_tags.is_some() { ranks.partition_point(|&r| is_tag_item(item_of(r))) } else { 0 };
            let compact = compiled.policy == Policy::Compact && ranks.len() - tags > compiled.max_items;
            let (items, sets, compacted) = if compact {
                let exact: Vec<&str> = ranks[tags..].iter().map(|&r| &**item_of(r)).collect();
                let (mut items, compacted) =
                    compacted_items(&exact, compiled.max_items, |p| planner.safe_cover(dist, p, &buckets[dist]));
                if items.len() > compiled.max_items {
                    warnings.push(Warning {
                        distribution_id: compiled.id.to_string(),
                        message: format!(
                            "compacted {exact_items} items to {}, not {}: no cover of the rest stays inside a top-level directory without reaching paths another origin serves",
                            items.len(),
                            compiled.max_items
                        ),
                    });
                }
                // The tags sort before every path.
                items.splice(0..0, ranks[..tags].iter().map(|&r| item_of(r).clone()));
                let (sets, ordered) = split_sets(
                    (0..items.len() as u32).collect(),
                    |i| is_wildcard_item(&items[i as usize]),
                    planner.options,
                );
                (ordered.iter().map(|&i| items[i as usize].clone()).collect::<Vec<_>>(), sets, compacted)
            } else {
                // Ranks index the global order: items come from the table once, set by set.
                let (sets, ordered) = split_sets(ranks, |r| wild && is_wildcard_item(item_of(r)), planner.options);
                (ordered.iter().map(|&r| item_of(r).clone()).collect(), sets, Vec::new())
            };
            let any_wild = wild || !compacted.is_empty();
            // Every noted key, with the item that covers it in the end (a compaction wildcard, or
            // a broader wildcard of the same distribution, may have replaced its own).
            let kept = Wildcards::new(items.iter().map(|p| &**p).filter(|_| any_wild));
            let notes = notes
                .iter()
                .filter(|n| n.0 == dist)
                .map(|n| {
                    let own = &table[n.1 as usize];
                    let item = match kept.covering(own) {
                        Some(q) if own.strip_suffix('*') != Some(q) => Arc::from(format!("{q}*")),
                        _ => own.clone(),
                    };
                    ItemNote { item, reason: n.3, event: n.2 }
                })
                .collect();
            invalidations.push(DistributionPlan {
                distribution_id: compiled.id.clone(),
                tenant: compiled.tenant.clone(),
                staging: compiled.staging,
                items,
                sets,
                notes,
                compacted,
                policy: compiled.policy,
                max_items: compiled.max_items,
                exact_items,
                events: event_count[dist],
                first_event_time: first_event[dist].and_then(|e| events[e].event_time.clone()),
            });
        }
        invalidations.sort_by(|a, b| (&a.distribution_id, &a.tenant).cmp(&(&b.distribution_id, &b.tenant)));
        Plan { invalidations, skipped, warnings }
    }
}

/// Whether `a` happened before `b`, by their `eventTime`s; an event without one is never earlier.
/// S3 writes every `eventTime` in one format (`2026-11-30T05:53:45.123Z`), which compares as text;
/// times of other lengths (EventBridge's `time` has no milliseconds) are parsed.
fn earlier(a: &ObjectEvent, b: &ObjectEvent) -> bool {
    match (a.event_time.as_deref(), b.event_time.as_deref()) {
        (Some(x), Some(y)) if x.len() == y.len() => x < y,
        (Some(x), Some(y)) => match (DateTime::parse_from_rfc3339(x), DateTime::parse_from_rfc3339(y)) {
            (Ok(x), Ok(y)) => x < y,
            (Ok(_), Err(_)) => true,
            _ => false,
        },
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// The compact policy on one distribution's items (in byte order): the items after compaction, in
/// byte order, and a note per wildcard it made.
fn compacted_items(
    exact: &[&str],
    max_items: usize,
    safe: impl Fn(&str) -> bool,
) -> (Vec<Arc<str>>, Vec<super::Compaction>) {
    // Compaction reads the items in the order of their prefixes (a wildcard's `*` sorts before
    // most characters, its prefix may sort elsewhere).
    let mut by_prefix: Vec<&str> = exact.to_vec();
    if by_prefix.iter().any(|s| s.ends_with('*')) {
        let prefix = |s: &str| -> usize { s.len() - usize::from(s.ends_with('*')) };
        by_prefix.sort_by(|a, b| a[..prefix(a)].cmp(&b[..prefix(b)]).then(a.cmp(b)));
    }
    let (out, notes) = compact(&by_prefix, max_items, safe);
    let mut items: Vec<Arc<str>> = out
        .into_iter()
        .map(|c| match c {
            Compacted::Kept(i) => Arc::from(by_prefix[i]),
            Compacted::Cover(item) => item,
        })
        .collect();
    items.sort_by(|a, b| compare(a.as_bytes(), b.as_bytes()));
    (items, notes)
}
