//! `read_distributions`: `aws cloudfront list-distributions` / `get-distribution` output, then
//! compiled into a planner as every caller does next.
#![no_main]

use cfinv_core::aws_json::read_distributions;
use cfinv_core::{CachePolicies, PlanOptions, Planner};
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    let Some(text) = cfinv_fuzz::text(data) else { return Corpus::Reject };
    // A list with Quantity 0 (an account without any) is Ok and empty; only the shape is checked.
    if let Ok(read) = read_distributions(text) {
        let planner = Planner::new(&read.items, &CachePolicies::managed(), PlanOptions::default());
        let _ = planner.warnings();
    }
    Corpus::Keep
});
