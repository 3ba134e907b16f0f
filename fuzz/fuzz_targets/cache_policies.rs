//! `read_cache_policies`: `aws cloudfront list-cache-policies` / `get-cache-policy` output.
#![no_main]

use cfinv_core::aws_json::read_cache_policies;
use cfinv_core::CachePolicies;
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    let Some(text) = cfinv_fuzz::text(data) else { return Corpus::Reject };
    if let Ok(read) = read_cache_policies(text) {
        assert!(!read.items.is_empty() || !read.skipped.is_empty(), "Ok with nothing read");
        let mut policies = CachePolicies::managed();
        for p in read.items {
            policies.insert(p);
        }
    }
    Corpus::Keep
});
