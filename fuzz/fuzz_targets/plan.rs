//! The planner on whatever the readers accept. The input is up to five documents separated by NUL
//! bytes: distributions, events, and optionally distribution tags, cache policies and
//! `exceptionPaths` lines (`bucket=prefix,prefix`). When the first two read, they are planned with
//! the default options and with the compact policy at 3 items, and every plan must keep the
//! invariants of `cfinv_fuzz::check_plan`.
#![no_main]

use cfinv_core::aws_json::{read_cache_policies, read_distribution_tags, read_distributions};
use cfinv_core::event::parse_events_json;
use cfinv_core::plan::Policy;
use cfinv_core::{CachePolicies, ExceptionPaths, Exceptions, PlanOptions, Planner};
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    let mut parts = data.split(|&b| b == 0).map(cfinv_fuzz::text);
    let (Some(Some(dists)), Some(Some(events))) = (parts.next(), parts.next()) else { return Corpus::Reject };
    let (tags, policies_doc, exception_lines) =
        (parts.next().flatten(), parts.next().flatten(), parts.next().flatten());
    let Ok(read) = read_distributions(dists) else { return Corpus::Keep };
    let Ok(events) = parse_events_json(events) else { return Corpus::Keep };
    let mut dists = read.items;
    if let Some(Ok(tags)) = tags.map(read_distribution_tags) {
        for d in &mut dists {
            if let Some(t) = tags.get(&d.id) {
                d.tags = t.clone();
            }
        }
    }
    let mut policies = CachePolicies::managed();
    if let Some(Ok(read)) = policies_doc.map(read_cache_policies) {
        for p in read.items {
            policies.insert(p);
        }
    }
    let mut exceptions = Exceptions::new();
    for line in exception_lines.unwrap_or_default().lines() {
        if let Some((bucket, prefixes)) = line.split_once('=') {
            exceptions.insert(bucket, ExceptionPaths::parse(prefixes));
        }
    }
    let compact = PlanOptions::default().with_policy(Policy::Compact, 3).expect("valid options");
    for options in [PlanOptions::default(), compact] {
        let planner = Planner::new(&dists, &policies, options);
        cfinv_fuzz::check_plan(&planner.plan(&events, &exceptions), &events);
    }
    Corpus::Keep
});
