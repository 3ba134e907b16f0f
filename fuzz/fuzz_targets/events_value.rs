//! `parse_events` on a `serde_json::Value`: what ingest does with the payload Lambda hands it. On
//! the same text it must read what `parse_events_json` reads.
#![no_main]

use cfinv_core::event::parse_events_json;
use cfinv_core::parse_events;
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    let Some(text) = cfinv_fuzz::text(data) else { return Corpus::Reject };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else { return Corpus::Reject };
    let from_value = parse_events(&value);
    if let (Ok(a), Ok(b)) = (&from_value, parse_events_json(text)) {
        assert_eq!(*a, b, "parse_events and parse_events_json disagree");
    }
    Corpus::Keep
});
