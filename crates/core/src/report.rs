//! The seed's error report: the file each failed distribution's paths are saved to, and the alert
//! that lists those files. Operators have runbooks and habits built on these exact formats, so
//! they are kept to the letter (`../shared/seed/translation-en.md`, "Runbook: an invalidation
//! failed"):
//!
//! ```text
//! key:   invalidation_error/201809030429388315187glzee2k6l_E29EXP7S5VQKAW.txt
//! body:  CloudFront Id [E29EXP7S5VQKAW]
//!        (Set 1 Start)
//!        /path/one
//!        (Set 1 End)
//! alert: subject "[Error] CloudFront Invalidation",
//!        body "bucket : error-bucket", a blank line, one key per line
//! ```
//!
//! The file name is a `yyyyMMddHHmmss` UTC timestamp, seven digits and nine random lowercase
//! characters, `_` and the distribution id.
//!
//! A distribution tenant's file (cfinv's extension; a plain distribution's file is the seed's, byte
//! for byte) is named by its target key, `{distribution id}_{tenant id}` ([`crate::Target`]), so
//! that what follows the first `_` still starts with the distribution id, and its body names the
//! tenant on a second line: `Distribution Tenant Id [dt_...]`. Cache tag items (`#tag`) are listed
//! as paths are. The "random" part is derived from a caller-given seed,
//! so a retried report writes the same key instead of a second file.

use chrono::{DateTime, Utc};

/// Where error files go in the error bucket.
pub const ERROR_KEY_PREFIX: &str = "invalidation_error/";
/// The alert's subject.
pub const ALERT_SUBJECT: &str = "[Error] CloudFront Invalidation";

/// A problem with a report's input or with an error file being read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("distribution id {0:?} is not a CloudFront id (letters and digits, with `_` and a tenant id for a distribution tenant)")]
    BadDistributionId(String),
    #[error("line {line}: expected {expected}, found {found:?}")]
    Unexpected { line: usize, expected: &'static str, found: String },
    #[error("line {line}: set {found} ends while set {open} is open")]
    MismatchedEnd { line: usize, open: usize, found: usize },
    #[error("the file ends inside set {0}")]
    Unterminated(usize),
    #[error("line {line}: set {set} is in the file twice (its CallerReference would name two batches)")]
    DuplicateSet { line: usize, set: usize },
    #[error("the file is empty")]
    Empty,
}

/// One set of an error file: its number in the distribution's plan, and its paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorSet {
    pub number: usize,
    pub paths: Vec<String>,
}

/// An error file, read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorFile {
    pub distribution_id: String,
    /// The `Distribution Tenant Id [...]` line, in a distribution tenant's file.
    pub distribution_tenant_id: Option<String>,
    pub sets: Vec<ErrorSet>,
}

impl ErrorFile {
    /// Where its sets go.
    pub fn target(&self) -> crate::Target {
        crate::Target { distribution_id: self.distribution_id.clone(), tenant_id: self.distribution_tenant_id.clone() }
    }
}

const TENANT_LINE: &str = "Distribution Tenant Id [";

/// A distribution id is letters and digits; a tenant id (after the first `_` of a target key)
/// letters, digits, `_` and `-`.
fn check_id(target_key: &str) -> Result<crate::Target, ReportError> {
    let target = crate::Target::parse(target_key);
    let dist_ok =
        !target.distribution_id.is_empty() && target.distribution_id.bytes().all(|b| b.is_ascii_alphanumeric());
    let tenant_ok = target
        .tenant_id
        .as_deref()
        .is_none_or(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    if dist_ok && tenant_ok {
        Ok(target)
    } else {
        Err(ReportError::BadDistributionId(target_key.to_owned()))
    }
}

/// The error file's key: `invalidation_error/{yyyyMMddHHmmss}{7 digits}{9 random}_{id}.txt`, `id`
/// a distribution id or a tenant's target key (`E1_dt_abc`).
pub fn error_file_key(at: DateTime<Utc>, seed: u64, distribution_id: &str) -> Result<String, ReportError> {
    check_id(distribution_id)?;
    // splitmix64: spreads any seed (a hash, a counter) over the 16 characters.
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let digits = z % 10_000_000;
    let mut rest = z / 10_000_000;
    let mut random = String::with_capacity(9);
    for _ in 0..9 {
        let c = b"abcdefghijklmnopqrstuvwxyz0123456789"[(rest % 36) as usize];
        random.push(char::from(c));
        rest /= 36;
    }
    Ok(format!("{ERROR_KEY_PREFIX}{}{digits:07}{random}_{distribution_id}.txt", at.format("%Y%m%d%H%M%S")))
}

/// The error file's body for one distribution (or tenant, by its target key): each set with its
/// number in the plan.
pub fn error_file_body<S: AsRef<str>>(distribution_id: &str, sets: &[(usize, &[S])]) -> Result<String, ReportError> {
    let target = check_id(distribution_id)?;
    let mut out = format!("CloudFront Id [{}]\n", target.distribution_id);
    if let Some(tenant) = &target.tenant_id {
        out.push_str(&format!("{TENANT_LINE}{tenant}]\n"));
    }
    for (number, paths) in sets {
        out.push_str(&format!("(Set {number} Start)\n"));
        for p in paths.iter() {
            out.push_str(p.as_ref());
            out.push('\n');
        }
        out.push_str(&format!("(Set {number} End)\n"));
    }
    Ok(out)
}

fn set_marker(line: &str, word: &str) -> Option<usize> {
    line.strip_prefix("(Set ")?.strip_suffix(&format!(" {word})"))?.parse().ok()
}

/// Reads an error file back into its sets (for resubmitting them). Tolerates a byte order mark,
/// CRLF line ends, trailing blank lines and surrounding whitespace; anything else out of place is an error naming
/// the line.
pub fn parse_error_file(text: &str) -> Result<ErrorFile, ReportError> {
    // An editor may save the file with a UTF-8 byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().map(str::trim).enumerate().map(|(i, l)| (i + 1, l));
    let (n, header) = lines.by_ref().find(|(_, l)| !l.is_empty()).ok_or(ReportError::Empty)?;
    let distribution_id = header
        .strip_prefix("CloudFront Id [")
        .and_then(|r| r.strip_suffix(']'))
        .ok_or_else(|| ReportError::Unexpected { line: n, expected: "`CloudFront Id [ID]`", found: header.to_owned() })?
        .to_owned();
    // The first line names the distribution alone: a tenant is on the second line, so a `_` here
    // (a target key) would read back as a different file than the one written.
    if check_id(&distribution_id)?.tenant_id.is_some() {
        return Err(ReportError::BadDistributionId(distribution_id));
    }
    let mut distribution_tenant_id = None;
    let mut sets = Vec::new();
    let mut open: Option<ErrorSet> = None;
    for (n, line) in lines {
        match open.take() {
            None if line.is_empty() => {}
            None if sets.is_empty() && distribution_tenant_id.is_none() && line.starts_with(TENANT_LINE) => {
                let tenant =
                    line[TENANT_LINE.len()..].strip_suffix(']').filter(|t| !t.is_empty()).ok_or_else(|| {
                        ReportError::Unexpected {
                            line: n,
                            expected: "`Distribution Tenant Id [ID]`",
                            found: line.to_owned(),
                        }
                    })?;
                check_id(&format!("{distribution_id}_{tenant}"))?;
                distribution_tenant_id = Some(tenant.to_owned());
            }
            None => {
                let number = set_marker(line, "Start").ok_or_else(|| ReportError::Unexpected {
                    line: n,
                    expected: "`(Set N Start)`",
                    found: line.to_owned(),
                })?;
                if sets.iter().any(|s: &ErrorSet| s.number == number) {
                    return Err(ReportError::DuplicateSet { line: n, set: number });
                }
                open = Some(ErrorSet { number, paths: Vec::new() });
            }
            Some(mut set) => {
                if let Some(end) = set_marker(line, "End") {
                    if end != set.number {
                        return Err(ReportError::MismatchedEnd { line: n, open: set.number, found: end });
                    }
                    sets.push(set);
                } else if line.starts_with('/') || line.starts_with('#') {
                    set.paths.push(line.to_owned());
                    open = Some(set);
                } else {
                    return Err(ReportError::Unexpected {
                        line: n,
                        expected: "a path starting with `/`, a cache tag starting with `#`, or `(Set N End)`",
                        found: line.to_owned(),
                    });
                }
            }
        }
    }
    if let Some(set) = open {
        return Err(ReportError::Unterminated(set.number));
    }
    Ok(ErrorFile { distribution_id, distribution_tenant_id, sets })
}

/// The alert's body: `bucket : NAME`, a blank line, then the error files' keys.
pub fn alert_body<S: AsRef<str>>(error_bucket: &str, keys: &[S]) -> String {
    let mut out = format!("bucket : {error_bucket}\n\n");
    for k in keys {
        out.push_str(k.as_ref());
        out.push('\n');
    }
    out
}

/// The line that opens the alert's reasons, after the seed's body and a blank line.
pub const REASONS_HEADING: &str = "Reasons:";

/// The alert's body with why each file is there: the seed's body unchanged (the bucket, a blank
/// line, one key per line), then, when there are reasons, a blank line, [`REASONS_HEADING`] and
/// one reason per line (`E1 set 2: AccessDenied: ...`). A reader of the seed's format stops at the
/// first blank line after the keys.
pub fn alert_body_with_reasons<S: AsRef<str>, R: AsRef<str>>(error_bucket: &str, keys: &[S], reasons: &[R]) -> String {
    let mut out = alert_body(error_bucket, keys);
    if !reasons.is_empty() {
        out.push('\n');
        out.push_str(REASONS_HEADING);
        out.push('\n');
        for r in reasons {
            // One reason per line, whatever the service's message held.
            out.push_str(&r.as_ref().replace(['\r', '\n'], " "));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn reasons_follow_the_seed_body_after_a_blank_line() {
        let keys = ["invalidation_error/x_E1.txt"];
        assert_eq!(
            alert_body_with_reasons("errors", &keys, &[] as &[&str]),
            "bucket : errors\n\ninvalidation_error/x_E1.txt\n"
        );
        assert_eq!(
            alert_body_with_reasons("errors", &keys, &["E1 set 2: AccessDenied: no\nmore"]),
            "bucket : errors\n\ninvalidation_error/x_E1.txt\n\nReasons:\nE1 set 2: AccessDenied: no more\n"
        );
    }
    use proptest::prelude::*;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2018, 9, 3, 4, 29, 38).unwrap()
    }

    #[test]
    fn key_has_the_seed_shape() {
        let k = error_file_key(at(), 42, "E29EXP7S5VQKAW").unwrap();
        let name = k.strip_prefix("invalidation_error/").unwrap();
        let (stem, id) = name.strip_suffix(".txt").unwrap().split_once('_').unwrap();
        assert_eq!(id, "E29EXP7S5VQKAW");
        assert_eq!(stem.len(), 14 + 7 + 9, "{stem}");
        assert!(stem.starts_with("20180903042938"));
        assert!(stem[14..21].bytes().all(|b| b.is_ascii_digit()));
        assert!(stem[21..].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        assert_eq!(k, error_file_key(at(), 42, "E29EXP7S5VQKAW").unwrap(), "same seed, same key");
        assert_ne!(k, error_file_key(at(), 43, "E29EXP7S5VQKAW").unwrap());
        assert!(error_file_key(at(), 1, "../x").is_err());
    }

    #[test]
    fn body_matches_the_seed_exactly() {
        let s1 = ["/a.jpg", "/b%20c.jpg"];
        let s3 = ["/z"];
        let body = error_file_body("E1", &[(1, &s1[..]), (3, &s3[..])]).unwrap();
        assert_eq!(
            body,
            "CloudFront Id [E1]\n(Set 1 Start)\n/a.jpg\n/b%20c.jpg\n(Set 1 End)\n(Set 3 Start)\n/z\n(Set 3 End)\n"
        );
        let back = parse_error_file(&body).unwrap();
        assert_eq!(back.distribution_id, "E1");
        assert_eq!(back.sets[1], ErrorSet { number: 3, paths: vec!["/z".into()] });
    }

    #[test]
    fn a_tenants_file_names_the_tenant_and_a_distributions_stays_the_seeds() {
        let k = error_file_key(at(), 42, "EMT1_dt_2wjDZi3hD1ivOXf6rpZJOSNE1AB").unwrap();
        let name = k.strip_prefix("invalidation_error/").unwrap().strip_suffix(".txt").unwrap();
        let (_, target) = name.split_once('_').unwrap();
        assert_eq!(target, "EMT1_dt_2wjDZi3hD1ivOXf6rpZJOSNE1AB");
        // The same seed gives the same 30 characters for a distribution's file as before.
        let plain = error_file_key(at(), 42, "EMT1").unwrap();
        assert_eq!(
            plain[..plain.len() - "EMT1.txt".len()],
            k[..k.len() - "EMT1_dt_2wjDZi3hD1ivOXf6rpZJOSNE1AB.txt".len()]
        );
        let set = ["#product:123", "/a.html"];
        let body = error_file_body("EMT1_dt_a", &[(1, &set[..])]).unwrap();
        assert_eq!(
            body,
            "CloudFront Id [EMT1]\nDistribution Tenant Id [dt_a]\n(Set 1 Start)\n#product:123\n/a.html\n(Set 1 End)\n"
        );
        let back = parse_error_file(&body).unwrap();
        assert_eq!((back.distribution_id.as_str(), back.distribution_tenant_id.as_deref()), ("EMT1", Some("dt_a")));
        assert_eq!(back.target().key(), "EMT1_dt_a");
        assert_eq!(back.sets[0].paths, set);
        assert!(error_file_key(at(), 1, "E1_").is_err());
        assert!(error_file_key(at(), 1, "E1_dt/x").is_err());
        assert!(parse_error_file("CloudFront Id [E1]\nDistribution Tenant Id []\n").is_err());
        let bom = parse_error_file("\u{feff}CloudFront Id [E1]\r\n(Set 1 Start)\r\n/a\r\n(Set 1 End)\r\n").unwrap();
        assert_eq!((bom.distribution_id.as_str(), bom.sets[0].paths.as_slice()), ("E1", &["/a".to_owned()][..]));
        // A set's number names its CallerReference: a number twice would send one of them never.
        assert_eq!(
            parse_error_file("CloudFront Id [E1]\n(Set 1 Start)\n/a\n(Set 1 End)\n(Set 1 Start)\n/b\n(Set 1 End)\n"),
            Err(ReportError::DuplicateSet { line: 5, set: 1 })
        );
        // A tenant is named on its own line; a target key on the first line is not a file cfinv
        // writes (it would read back as the tenant's file, a different one). Found by fuzzing.
        assert_eq!(
            parse_error_file("CloudFront Id [E1_dt_a]\n(Set 1 Start)\n/a\n(Set 1 End)\n"),
            Err(ReportError::BadDistributionId("E1_dt_a".into()))
        );
    }

    #[test]
    fn parser_tolerates_crlf_and_names_bad_lines() {
        let f = parse_error_file("CloudFront Id [E2]\r\n(Set 1 Start)\r\n/x\r\n(Set 1 End)\r\n\r\n").unwrap();
        assert_eq!(f.sets[0].paths, ["/x"]);
        assert_eq!(parse_error_file("  \n"), Err(ReportError::Empty));
        assert!(matches!(parse_error_file("hello"), Err(ReportError::Unexpected { line: 1, .. })));
        assert_eq!(
            parse_error_file("CloudFront Id [E2]\n(Set 1 Start)\n/x\n(Set 2 End)\n"),
            Err(ReportError::MismatchedEnd { line: 4, open: 1, found: 2 })
        );
        assert_eq!(parse_error_file("CloudFront Id [E2]\n(Set 1 Start)\n/x\n"), Err(ReportError::Unterminated(1)));
        assert!(matches!(
            parse_error_file("CloudFront Id [E2]\n(Set 1 Start)\nx\n(Set 1 End)\n"),
            Err(ReportError::Unexpected { line: 3, .. })
        ));
    }

    #[test]
    fn alert_matches_the_seed() {
        assert_eq!(ALERT_SUBJECT, "[Error] CloudFront Invalidation");
        assert_eq!(
            alert_body("error-bucket", &["invalidation_error/a_E1.txt", "invalidation_error/b_E2.txt"]),
            "bucket : error-bucket\n\ninvalidation_error/a_E1.txt\ninvalidation_error/b_E2.txt\n"
        );
    }

    proptest! {
        #[test]
        fn body_round_trips(sets in proptest::collection::btree_map(
            1usize..50, proptest::collection::vec("/[a-z%0-9*/]{0,20}", 0..5), 0..5)) {
            // A plan numbers its sets once each.
            let borrowed: Vec<(usize, &[String])> = sets.iter().map(|(n, p)| (*n, &p[..])).collect();
            let body = error_file_body("EABC123", &borrowed).unwrap();
            let back = parse_error_file(&body).unwrap();
            prop_assert_eq!(back.sets.len(), sets.len());
            for (got, (n, paths)) in back.sets.iter().zip(&sets) {
                prop_assert_eq!(got.number, *n);
                prop_assert_eq!(&got.paths, paths);
            }
        }

        #[test]
        fn keys_are_always_well_formed(seed in any::<u64>()) {
            let k = error_file_key(at(), seed, "E1").unwrap();
            prop_assert_eq!(k.len(), "invalidation_error/".len() + 30 + "_E1.txt".len());
        }
    }
}
