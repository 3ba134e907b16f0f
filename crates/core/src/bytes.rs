//! Byte-string comparisons, eight bytes at a time.
//!
//! Paths and patterns are tens of bytes and share long prefixes. In the planner's profile
//! (`docs/BENCHMARKS.md`, "What made it faster"), a call into the C library's `memcmp` for each
//! short comparison cost more than the comparison itself: a third of all planning time. These two
//! loops compare a word at a time, inline. They are speed-ups only: each gives exactly the answer of
//! the standard operation it replaces, which the tests check.

use std::cmp::Ordering;

/// Equality of two equally long byte strings (`a == b`).
#[inline]
pub fn same(mut a: &[u8], mut b: &[u8]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    while let (Some(x), Some(y)) = (a.first_chunk::<8>(), b.first_chunk::<8>()) {
        if u64::from_ne_bytes(*x) != u64::from_ne_bytes(*y) {
            return false;
        }
        a = &a[8..];
        b = &b[8..];
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    diff == 0
}

/// Byte-wise order of two strings: the same as `Ord` for `[u8]` (and for `str`).
#[inline]
pub fn compare(mut a: &[u8], mut b: &[u8]) -> Ordering {
    while let (Some(x), Some(y)) = (a.first_chunk::<8>(), b.first_chunk::<8>()) {
        let (x, y) = (u64::from_be_bytes(*x), u64::from_be_bytes(*y));
        if x != y {
            return x.cmp(&y);
        }
        a = &a[8..];
        b = &b[8..];
    }
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn compare_is_the_standard_order(a in proptest::collection::vec(0u8..4, 0..40),
                                          b in proptest::collection::vec(0u8..4, 0..40)) {
            prop_assert_eq!(compare(&a, &b), a.cmp(&b));
        }

        #[test]
        fn same_is_equality(a in proptest::collection::vec(0u8..3, 0..40), flip in any::<prop::sample::Index>()) {
            prop_assert!(same(&a, &a));
            if !a.is_empty() {
                let mut b = a.clone();
                let i = flip.index(b.len());
                b[i] ^= 1;
                prop_assert!(!same(&a, &b));
            }
        }
    }
}
