//! A stored set as invalidate and report read it from the plan bucket; what parses round-trips.
#![no_main]

use cfinv_pipeline::sets::SetFile;
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    let Some(text) = cfinv_fuzz::text(data) else { return Corpus::Reject };
    if let Ok(set) = serde_json::from_str::<SetFile>(text) {
        let json = serde_json::to_string(&set).expect("a set serializes");
        assert_eq!(serde_json::from_str::<SetFile>(&json).expect("a serialized set parses"), set);
    }
    Corpus::Keep
});
