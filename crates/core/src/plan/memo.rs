//! A speed-up, not a rule: the decisions of a group's routes depend only on which of the group's
//! patterns match a path, and a batch has few distinct match sets (dozens, for tens of thousands
//! of paths). So each route's outcome is computed once per distinct match set ([`super::decide`])
//! and looked up for every other path with the same matches.

use std::collections::HashMap;

use crate::behavior::Matches;

use super::decide::Outcome;

/// Per group: where each distinct match set's decisions are.
#[derive(Default)]
pub(super) struct Memo {
    pub(super) offsets: HashMap<MemoKey, usize, foldhash::fast::RandomState>,
    /// Per route: (outcome of a creation, outcome of a removal), `routes` entries per match set.
    pub(super) outcomes: Vec<(Outcome, Outcome)>,
}

/// A set of matches as a memo key: inline for up to 128 patterns (the common case), boxed beyond.
#[derive(PartialEq, Eq, Hash)]
pub(super) enum MemoKey {
    Small(u128),
    Large(Box<[u64]>),
}

impl MemoKey {
    pub(super) fn of(matches: &Matches) -> Self {
        match matches.words() {
            [] => MemoKey::Small(0),
            [a] => MemoKey::Small(u128::from(*a)),
            [a, b] => MemoKey::Small(u128::from(*a) | (u128::from(*b) << 64)),
            more => MemoKey::Large(more.into()),
        }
    }
}

/// A memo never grows past this many distinct match sets (a safeguard; batches have dozens).
pub(super) const MEMO_LIMIT: usize = 1 << 16;

impl Memo {
    /// Where this match set's decisions start, if they were made already.
    pub(super) fn get(&self, key: &MemoKey) -> Option<usize> {
        self.offsets.get(key).copied()
    }

    /// Stores one decision per route for a new match set; returns where they start.
    pub(super) fn insert(&mut self, key: MemoKey, decisions: impl Iterator<Item = (Outcome, Outcome)>) -> usize {
        if self.offsets.len() >= MEMO_LIMIT {
            self.offsets.clear();
            self.outcomes.clear();
        }
        let base = self.outcomes.len();
        self.outcomes.extend(decisions);
        self.offsets.insert(key, base);
        base
    }
}
