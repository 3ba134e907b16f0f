//! `read_distribution_tags`: `list-tags-for-resource` output by distribution id.
#![no_main]

use cfinv_core::aws_json::read_distribution_tags;
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    let Some(text) = cfinv_fuzz::text(data) else { return Corpus::Reject };
    let _ = read_distribution_tags(text);
    Corpus::Keep
});
