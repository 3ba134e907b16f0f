//! What the state machine hands the functions (collect's, the invalidate steps', the report's
//! inputs), the pages and markers they read back from the plan bucket, and the plan bucket's key
//! names: every one parses or is refused, never panics, and what parses round-trips.
#![no_main]

use cfinv_pipeline::collect::CollectInput;
use cfinv_pipeline::invalidate::InvalidateInput;
use cfinv_pipeline::report::ReportInput;
use cfinv_pipeline::run::{paginate, Page};
use cfinv_pipeline::sets::{Accepted, Completed, DistributionRecord, Failed, Marks, Refused};
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    let Some(text) = cfinv_fuzz::text(data) else { return Corpus::Reject };
    if let Ok(input) = serde_json::from_str::<InvalidateInput>(text) {
        let json = serde_json::to_string(&input).expect("an input serializes");
        assert_eq!(serde_json::from_str::<InvalidateInput>(&json).expect("a serialized input parses"), input);
    }
    let _ = serde_json::from_str::<CollectInput>(text);
    let _ = serde_json::from_str::<ReportInput>(text);
    if let Ok(page) = serde_json::from_str::<Page>(text) {
        // Pages of a redrive are cut from ranges read back: any range must cut without panic.
        for p in paginate(&page.units) {
            assert!(p.units.len() <= cfinv_pipeline::run::PAGE_UNITS);
        }
    }
    let _ = serde_json::from_str::<Accepted>(text);
    let _ = serde_json::from_str::<Completed>(text);
    let _ = serde_json::from_str::<Failed>(text);
    let _ = serde_json::from_str::<Refused>(text);
    let _ = serde_json::from_str::<DistributionRecord>(text);
    let marks = Marks::from_keys(text.lines());
    for set in 0..4 {
        let _ = marks.state(set);
    }
    Corpus::Keep
});
