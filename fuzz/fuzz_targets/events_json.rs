//! `parse_events_json`: S3 notifications, EventBridge events, test events and arrays of them, as
//! text (a file for `cfinv plan`, a message replayed from the ingest failure queue).
#![no_main]

use cfinv_core::event::parse_events_json;
use cfinv_core::Change;
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    let Some(text) = cfinv_fuzz::text(data) else { return Corpus::Reject };
    // A document of the right shape may hold no event (`{"Records": []}`, `[]`): Ok and empty.
    if let Ok(events) = parse_events_json(text) {
        for e in &events {
            // Only a test event has no key: a record's key is decoded and never empty.
            assert!(e.change == Change::Test || !e.key.is_empty(), "an empty key: {e:?}");
        }
    }
    Corpus::Keep
});
