//! The output of a plan: every distinct invalidation path once (interned), each distribution's
//! paths as ids, and at the end per distribution its unique paths, in rank order, cut into sets.
//!
//! Most of this file is speed, not rules (see `docs/BENCHMARKS.md`): paths are interned once per
//! batch and shared (`Arc<str>`), ranked once globally so that each distribution sorts small
//! integers, and deduplicated through a bitset over the ranks. The rules it applies are in
//! [`super::sets`]: covered paths dropped, sets within CloudFront's limits.

use std::collections::HashMap;
use std::sync::Arc;

use crate::bytes::compare;
use crate::event::ObjectEvent;
use crate::path::{to_invalidation_path, WildcardReason, MAX_PATH_LEN};

use super::sets::{drop_covered, split_sets, Wildcards};
use super::{DistributionPlan, Plan, Planner, Reason, Skip, WildcardNote};

/// Accumulates one plan: an interner for paths, and per distribution the ids of its paths.
pub(super) struct Builder {
    /// The same strings as `table`, shared, by id.
    ids: HashMap<Arc<str>, u32, foldhash::fast::RandomState>,
    /// Invalidation path and wildcard reason, by id.
    table: Vec<(Arc<str>, Option<WildcardReason>)>,
    per_dist: Vec<Vec<u32>>,
    /// Per distribution: some path is a wildcard (most plans have none, and skip that work).
    has_wildcards: Vec<bool>,
    /// (distribution, path id, bucket, key) for wildcard paths.
    notes: Vec<(usize, u32, String, String)>,
    skipped: Vec<Skip>,
}

impl Builder {
    pub(super) fn new(dists: usize) -> Self {
        Builder {
            ids: HashMap::default(),
            table: Vec::new(),
            per_dist: vec![Vec::new(); dists],
            has_wildcards: vec![false; dists],
            notes: Vec::new(),
            skipped: Vec::new(),
        }
    }

    pub(super) fn skip(&mut self, event: usize, distribution_id: Option<Arc<str>>, reason: Reason) {
        self.skipped.push(Skip { event, distribution_id, reason });
    }

    /// The id of the invalidation path for an encoded viewer path.
    pub(super) fn intern(&mut self, encoded: &str) -> u32 {
        // Most paths are their own invalidation path; only `*` and length need the slow way.
        let exact = encoded.len() <= MAX_PATH_LEN && !encoded.contains('*');
        let (key, wildcard): (std::borrow::Cow<'_, str>, _) = if exact {
            (encoded.into(), None)
        } else {
            let p = to_invalidation_path(encoded);
            (p.path.into(), p.wildcard)
        };
        if let Some(&id) = self.ids.get(key.as_ref()) {
            return id;
        }
        let id = u32::try_from(self.table.len()).unwrap_or(u32::MAX);
        let path: Arc<str> = Arc::from(key.as_ref());
        self.table.push((path.clone(), wildcard));
        self.ids.insert(path, id);
        id
    }

    pub(super) fn add(&mut self, dist: usize, id: u32, ev: &ObjectEvent) {
        self.per_dist[dist].push(id);
        if self.table[id as usize].1.is_some() {
            self.has_wildcards[dist] = true;
            self.notes.push((dist, id, ev.bucket.clone(), ev.key.clone()));
        }
    }

    pub(super) fn finish(self, planner: &Planner) -> Plan {
        let Builder { table, ids, mut per_dist, has_wildcards, mut notes, skipped } = self;
        drop(ids);
        // Rank every path once; each distribution then sorts small integers, not strings.
        let mut order: Vec<u32> = (0..table.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| compare(table[a as usize].0.as_bytes(), table[b as usize].0.as_bytes()));
        let mut rank = vec![0u32; table.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        notes.sort_unstable_by(|a, b| (a.0, rank[a.1 as usize], &a.3).cmp(&(b.0, rank[b.1 as usize], &b.3)));
        notes.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.3 == b.3);

        let mut invalidations = Vec::new();
        // A distribution's paths, unique and in rank order, through a bitset over the ranks:
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
            let path_of = |r: u32| &table[order[r as usize] as usize].0;
            // Most distributions have no wildcard path: nothing to drop, nothing to note.
            let wild = has_wildcards[dist];
            let ranks = if wild { drop_covered(ids, path_of) } else { ids };
            let is_wild = |r: u32| wild && table[order[r as usize] as usize].1.is_some();
            let (sets, ordered) = split_sets(ranks, is_wild, planner.options);
            let paths: Vec<Arc<str>> = ordered.iter().map(|&r| path_of(r).clone()).collect();
            // Every key that needed a wildcard is noted, with the path that covers it in the end
            // (a broader wildcard of the same distribution may have replaced its own).
            let kept = Wildcards::new(paths.iter().map(|p| &**p).filter(|_| wild));
            let wildcards = notes
                .iter()
                .filter(|n| n.0 == dist)
                .map(|n| {
                    let own = &table[n.1 as usize].0;
                    let path = match kept.covering(own) {
                        Some(q) if own.strip_suffix('*') != Some(q) => Arc::from(format!("{q}*")),
                        _ => own.clone(),
                    };
                    WildcardNote {
                        path,
                        bucket: n.2.clone(),
                        key: n.3.clone(),
                        reason: table[n.1 as usize].1.unwrap_or(WildcardReason::Asterisk),
                    }
                })
                .collect();
            invalidations.push(DistributionPlan {
                distribution_id: planner.dists[dist].id.clone(),
                paths,
                sets,
                wildcards,
            });
        }
        invalidations.sort_by(|a, b| a.distribution_id.cmp(&b.distribution_id));
        Plan { invalidations, skipped }
    }
}
