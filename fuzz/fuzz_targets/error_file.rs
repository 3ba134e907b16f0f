//! `parse_error_file`: the seed's error file, read back to resubmit its sets. A file that parses,
//! rendered again with `error_file_body` (for its target: the distribution, or the distribution
//! tenant its second line names), parses back to the same file.
#![no_main]

use cfinv_core::report::{error_file_body, parse_error_file};
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    let Some(text) = cfinv_fuzz::text(data) else { return Corpus::Reject };
    let Ok(file) = parse_error_file(text) else { return Corpus::Keep };
    let sets: Vec<(usize, &[String])> = file.sets.iter().map(|s| (s.number, s.paths.as_slice())).collect();
    let body = error_file_body(&file.target().key(), &sets).expect("a parsed file renders");
    let again = parse_error_file(&body).expect("a rendered file parses");
    assert_eq!(again, file, "the rendered file reads back different:\n{body}");
    Corpus::Keep
});
