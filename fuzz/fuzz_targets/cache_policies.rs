//! `read_cache_policies`: `aws cloudfront list-cache-policies` / `get-cache-policy` output.
#![no_main]

use cfinv_core::aws_json::read_cache_policies;
use cfinv_core::CachePolicies;
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    let Some(text) = cfinv_fuzz::text(data) else { return Corpus::Reject };
    // A list with Quantity 0 (an account without any) is Ok and empty; only the shape is checked.
    if let Ok(read) = read_cache_policies(text) {
        let mut policies = CachePolicies::managed();
        for p in read.items {
            policies.insert(p);
        }
    }
    Corpus::Keep
});
