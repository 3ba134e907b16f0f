//! Golden end-to-end tests for `cfinv plan`.
//!
//! Every directory under `tests/golden/` (at the workspace root) is one case:
//! - `distributions*.json`: `aws cloudfront list-distributions` / `get-distribution` output, each
//!   file passed as one `--distributions` (sorted by name);
//! - `events*.json`: S3 notification / EventBridge / test events as AWS delivers them, each file
//!   passed as one `--events` (sorted by name);
//! - `cache-policies*.json` (optional): `aws cloudfront list-cache-policies` output;
//! - `distribution-tags.json` (optional): `list-tags-for-resource` output by distribution id
//!   (`--distribution-tags`);
//! - `distribution-tenants*.json` (optional): `list-distribution-tenants` / `get-distribution-tenant`
//!   output, each file passed as one `--distribution-tenants`;
//! - `object-metadata.json` (optional): objects' `Metadata` by `bucket/key` (`--object-metadata`);
//! - `args` (optional): extra CLI arguments, one per line, taken verbatim (spaces kept);
//! - `expected.json`: the exact JSON the plan must print, derived by hand from the rules of the
//!   spec (issue 2), never copied from the CLI's output.
//!
//! All cases run; the test fails at the end listing every case that differs, each with the JSON
//! pointers where expected and actual part ways and both documents in full.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden")
}

/// The files of a case whose name starts with `prefix` and ends in `.json`, sorted by name.
fn inputs(case: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(case)
        .unwrap_or_else(|e| panic!("{}: {e}", case.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with(prefix) && name.ends_with(".json")
        })
        .collect();
    files.sort();
    files
}

/// Extra arguments: one per line, verbatim (a trailing `\r` is dropped), blank lines ignored.
fn extra_args(case: &Path) -> Vec<String> {
    match std::fs::read_to_string(case.join("args")) {
        Ok(text) => {
            text.lines().map(|l| l.strip_suffix('\r').unwrap_or(l).to_owned()).filter(|l| !l.is_empty()).collect()
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("{}/args: {e}", case.display()),
    }
}

/// Where two JSON values differ, as JSON pointers with both sides.
fn diff(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{path}/{k}");
                match a.get(k) {
                    Some(av) => diff(&p, ev, av, out),
                    None => out.push(format!("{p}: missing from actual (expected {ev})")),
                }
            }
            for (k, av) in a {
                if !e.contains_key(k) {
                    out.push(format!("{path}/{k}: unexpected in actual: {av}"));
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            for i in 0..e.len().max(a.len()) {
                let p = format!("{path}/{i}");
                match (e.get(i), a.get(i)) {
                    (Some(ev), Some(av)) => diff(&p, ev, av, out),
                    (Some(ev), None) => out.push(format!("{p}: missing from actual (expected {ev})")),
                    (None, Some(av)) => out.push(format!("{p}: unexpected in actual: {av}")),
                    (None, None) => {}
                }
            }
        }
        (e, a) if e != a => out.push(format!("{}: expected {e}, actual {a}", if path.is_empty() { "/" } else { path })),
        _ => {}
    }
}

/// Runs one case; `Err` carries a readable report.
fn run_case(case: &Path) -> Result<(), String> {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let distributions = inputs(case, "distributions");
    let events = inputs(case, "events");
    if distributions.is_empty() || events.is_empty() {
        return Err(format!("case {name}: needs distributions*.json and events*.json"));
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cfinv"));
    cmd.arg("plan");
    for f in &distributions {
        cmd.arg("--distributions").arg(f);
    }
    for f in &events {
        cmd.arg("--events").arg(f);
    }
    for f in inputs(case, "cache-policies") {
        cmd.arg("--cache-policies").arg(f);
    }
    for f in inputs(case, "distribution-tags") {
        cmd.arg("--distribution-tags").arg(f);
    }
    for f in inputs(case, "distribution-tenants") {
        cmd.arg("--distribution-tenants").arg(f);
    }
    for f in inputs(case, "object-metadata") {
        cmd.arg("--object-metadata").arg(f);
    }
    cmd.args(extra_args(case));
    cmd.args(["--format", "json"]);
    let out = cmd.output().map_err(|e| format!("case {name}: cannot run cfinv: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() || stderr.contains("panicked") {
        return Err(format!(
            "case {name}: cfinv exited with {}\n--- stderr\n{stderr}\n--- stdout\n{stdout}",
            out.status
        ));
    }
    let actual: Value =
        serde_json::from_str(&stdout).map_err(|e| format!("case {name}: stdout is not JSON ({e}):\n{stdout}"))?;
    let expected_file = case.join("expected.json");
    let expected_text = std::fs::read_to_string(&expected_file)
        .map_err(|e| format!("case {name}: {}: {e}", expected_file.display()))?;
    let expected: Value =
        serde_json::from_str(&expected_text).map_err(|e| format!("case {name}: expected.json is not JSON: {e}"))?;
    if expected == actual {
        return Ok(());
    }
    let mut differences = Vec::new();
    diff("", &expected, &actual, &mut differences);
    let mut report = format!("case {name}: the plan differs from expected.json\n");
    for d in &differences {
        let _ = writeln!(report, "  {d}");
    }
    let _ = writeln!(
        report,
        "--- expected\n{}\n--- actual\n{}",
        serde_json::to_string_pretty(&expected).unwrap(),
        serde_json::to_string_pretty(&actual).unwrap()
    );
    Err(report)
}

#[test]
fn golden_plans() {
    let root = golden_dir();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no golden case found under {}", root.display());

    let mut failures = Vec::new();
    for case in &cases {
        match run_case(case) {
            Ok(()) => eprintln!("golden: {} ok", case.file_name().unwrap().to_string_lossy()),
            Err(report) => failures.push(report),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden case(s) failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
