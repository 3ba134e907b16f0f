//! `cfinv plan` on bad input: exit code 2, one stderr line naming the file (or the argument) and
//! the problem, never a panic. Plus the human-readable `--format text` and the JSON default when
//! stdout is not a terminal. And `connect-bucket` arguments that cannot work, and what the operator
//! commands refuse before any AWS call.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh scratch directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-errors-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const DISTRIBUTIONS: &str = r#"{
  "DistributionList": {
    "Items": [
      {
        "Id": "E1TEXTFORMAT01",
        "ARN": "arn:aws:cloudfront::123456789012:distribution/E1TEXTFORMAT01",
        "Status": "Deployed",
        "DomainName": "d1a2b3c4d5e6f7.cloudfront.net",
        "Aliases": {"Quantity": 1, "Items": ["www.example.com"]},
        "Origins": {"Quantity": 2, "Items": [
          {"Id": "site", "DomainName": "site.s3.us-east-1.amazonaws.com", "OriginPath": "",
           "CustomHeaders": {"Quantity": 0}, "S3OriginConfig": {"OriginAccessIdentity": ""},
           "ConnectionAttempts": 3, "ConnectionTimeout": 10, "OriginShield": {"Enabled": false},
           "OriginAccessControlId": "E2QWRUHEXAMPLE"},
          {"Id": "app", "DomainName": "app.example.com", "OriginPath": "",
           "CustomHeaders": {"Quantity": 0},
           "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
             "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
             "OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5},
           "ConnectionAttempts": 3, "ConnectionTimeout": 10, "OriginShield": {"Enabled": false},
           "OriginAccessControlId": ""}
        ]},
        "OriginGroups": {"Quantity": 0},
        "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
          "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
        "CacheBehaviors": {"Quantity": 1, "Items": [
          {"PathPattern": "/api/*", "TargetOriginId": "app", "ViewerProtocolPolicy": "https-only",
           "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}
        ]},
        "Comment": "",
        "PriceClass": "PriceClass_All",
        "Enabled": true
      }
    ],
    "IsTruncated": false,
    "Marker": "",
    "MaxItems": 100,
    "Quantity": 1
  }
}"#;

fn record(event: &str, key: &str) -> String {
    format!(
        r#"{{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
  "eventTime": "2026-11-26T05:12:31.482Z", "eventName": "{event}",
  "userIdentity": {{"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"}},
  "requestParameters": {{"sourceIPAddress": "203.0.113.25"}},
  "responseElements": {{"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"}},
  "s3": {{"s3SchemaVersion": "1.0", "configurationId": "cfinv",
    "bucket": {{"name": "site", "ownerIdentity": {{"principalId": "A3NL1KOZZKExample"}}, "arn": "arn:aws:s3:::site"}},
    "object": {{"key": "{key}", "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0055AED6DCD90281E5"}}}}}}"#
    )
}

fn events() -> String {
    format!(
        r#"{{"Records": [{}, {}, {}, {}]}}"#,
        record("ObjectCreated:Put", "index.html"),
        record("ObjectCreated:Put", "red+flower.jpg"),
        record("ObjectCreated:Put", "resources/upload/1.jpg"),
        record("ObjectCreated:Put", "api/spec.json"),
    )
}

fn cfinv(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cfinv")).args(args).output().expect("run cfinv")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Asserts exit code 2, exactly one stderr line, containing every `needle`, and no panic.
fn assert_fails(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit code; stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "panic:\n{stderr}");
    let lines: Vec<&str> = stderr.trim_end().lines().collect();
    assert_eq!(lines.len(), 1, "one stderr line expected, got:\n{stderr}");
    for n in needles {
        assert!(lines[0].contains(n), "stderr should mention {n:?}: {stderr}");
    }
    assert!(out.stdout.is_empty(), "nothing on stdout on failure: {}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn missing_file_names_it() {
    let dir = scratch("missing");
    let ev = write(&dir, "events.json", &events());
    let missing = dir.join("no-such-distributions.json");
    let out = cfinv(&["plan", "--distributions", s(&missing), "--events", s(&ev), "--format", "json"]);
    assert_fails(&out, &["no-such-distributions.json"]);

    let dist = write(&dir, "distributions.json", DISTRIBUTIONS);
    let missing = dir.join("no-such-events.json");
    let out = cfinv(&["plan", "--distributions", s(&dist), "--events", s(&missing), "--format", "json"]);
    assert_fails(&out, &["no-such-events.json"]);

    let missing = dir.join("no-such-policies.json");
    let out = cfinv(&[
        "plan",
        "--distributions",
        s(&dist),
        "--events",
        s(&ev),
        "--cache-policies",
        s(&missing),
        "--format",
        "json",
    ]);
    assert_fails(&out, &["no-such-policies.json"]);
}

#[test]
fn bad_json_names_the_file() {
    let dir = scratch("badjson");
    let ev = write(&dir, "events.json", &events());
    let dist = write(&dir, "distributions.json", DISTRIBUTIONS);
    let truncated = write(&dir, "truncated-distributions.json", &DISTRIBUTIONS[..DISTRIBUTIONS.len() / 2]);
    let out = cfinv(&["plan", "--distributions", s(&truncated), "--events", s(&ev), "--format", "json"]);
    assert_fails(&out, &["truncated-distributions.json"]);

    let garbage = write(&dir, "garbage-events.json", "Records: [oops]\n");
    let out = cfinv(&["plan", "--distributions", s(&dist), "--events", s(&garbage), "--format", "json"]);
    assert_fails(&out, &["garbage-events.json"]);

    let empty = write(&dir, "empty-events.json", "");
    let out = cfinv(&["plan", "--distributions", s(&dist), "--events", s(&empty), "--format", "json"]);
    assert_fails(&out, &["empty-events.json"]);
}

/// Exit 0 and the plan's JSON.
fn assert_plans(out: &Output) -> serde_json::Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "exit code; stderr:\n{stderr}");
    serde_json::from_slice(&out.stdout).expect("the plan's JSON")
}

#[test]
fn an_account_without_distributions_plans_nothing() {
    let dir = scratch("zerodist");
    let ev = write(&dir, "events.json", &events());
    // What `aws cloudfront list-distributions` prints for an account with none: Quantity 0, and
    // `Items` absent (or empty).
    for (name, text) in [
        (
            "zero-distributions.json",
            r#"{"DistributionList": {"Marker": "", "MaxItems": 100, "IsTruncated": false, "Quantity": 0}}"#,
        ),
        ("zero-items.json", r#"{"DistributionList": {"Quantity": 0, "Items": []}}"#),
    ] {
        let none = write(&dir, name, text);
        let v = assert_plans(&cfinv(&["plan", "--distributions", s(&none), "--events", s(&ev), "--format", "json"]));
        assert_eq!(v["invalidations"], serde_json::json!([]), "{name}");
        // No distribution reaches the bucket: each of the 4 events is `no-origin` (README, the rules).
        let reasons: Vec<&str> =
            v["skipped"].as_array().unwrap().iter().map(|s| s["reason"].as_str().unwrap()).collect();
        assert_eq!(reasons, ["no-origin"; 4], "{name}");
        assert_eq!(v["warnings"], serde_json::json!([format!("{}: holds no distribution", none.display())]));
    }
}

#[test]
fn a_distributions_file_without_a_distribution() {
    let dir = scratch("nodist");
    let ev = write(&dir, "events.json", &events());
    // The events file given as --distributions by mistake.
    let out = cfinv(&["plan", "--distributions", s(&ev), "--events", s(&ev), "--format", "json"]);
    assert_fails(&out, &["events.json"]);

    let empty_object = write(&dir, "object.json", "{}");
    let out = cfinv(&["plan", "--distributions", s(&empty_object), "--events", s(&ev), "--format", "json"]);
    assert_fails(&out, &["object.json"]);
}

#[test]
fn empty_cache_policy_and_tenant_lists_are_named_in_a_warning() {
    // README: a file of the right shape that holds nothing adds nothing to the plan, and a warning
    // names it (`list-cache-policies --type custom` without custom policies; no tenants).
    let dir = scratch("zeropolicies");
    let dist = write(&dir, "distributions.json", DISTRIBUTIONS);
    let ev = write(&dir, "events.json", &events());
    let policies = write(&dir, "policies.json", r#"{"CachePolicyList": {"MaxItems": 100, "Quantity": 0}}"#);
    let tenants = write(&dir, "tenants.json", r#"{"DistributionTenantList": []}"#);
    let with = |flag: &str, file: &Path| {
        assert_plans(&cfinv(&[
            "plan",
            "--distributions",
            s(&dist),
            "--events",
            s(&ev),
            flag,
            s(file),
            "--format",
            "json",
        ]))
    };
    let v = with("--cache-policies", &policies);
    assert_eq!(v["warnings"], serde_json::json!([format!("{}: holds no cache policy", policies.display())]));
    let v = with("--distribution-tenants", &tenants);
    assert_eq!(v["warnings"], serde_json::json!([format!("{}: holds no distribution tenant", tenants.display())]));
}

#[test]
fn an_events_file_without_an_event_plans_nothing() {
    let dir = scratch("zeroevents");
    let dist = write(&dir, "distributions.json", DISTRIBUTIONS);
    for (name, text) in [("no-records.json", r#"{"Records": []}"#), ("empty-array.json", "[]")] {
        let none = write(&dir, name, text);
        let v = assert_plans(&cfinv(&["plan", "--distributions", s(&dist), "--events", s(&none), "--format", "json"]));
        assert_eq!(v["invalidations"], serde_json::json!([]), "{name}");
        assert_eq!(v["skipped"], serde_json::json!([]), "{name}");
        assert_eq!(v["warnings"], serde_json::json!([format!("{}: holds no event", none.display())]));
    }
}

#[test]
fn an_events_file_without_an_event() {
    let dir = scratch("noevent");
    let dist = write(&dir, "distributions.json", DISTRIBUTIONS);
    let object = write(&dir, "object.json", "{}");
    let out = cfinv(&["plan", "--distributions", s(&dist), "--events", s(&object), "--format", "json"]);
    assert_fails(&out, &["object.json", "not an S3 event"]);

    // The distributions file given as --events by mistake.
    let out = cfinv(&["plan", "--distributions", s(&dist), "--events", s(&dist), "--format", "json"]);
    assert_fails(&out, &["distributions.json"]);
}

#[test]
fn a_malformed_record_names_the_file_and_the_field() {
    let dir = scratch("malformed");
    let dist = write(&dir, "distributions.json", DISTRIBUTIONS);
    let good = record("ObjectCreated:Put", "ok.html");
    let bad = record("ObjectCreated:Put", "x.html").replace(r#""key": "x.html", "#, "");
    assert!(!bad.contains("x.html"), "the fixture really lacks the key");
    let ev = write(&dir, "keyless-events.json", &format!(r#"{{"Records": [{good}, {bad}]}}"#));
    let out = cfinv(&["plan", "--distributions", s(&dist), "--events", s(&ev), "--format", "json"]);
    assert_fails(&out, &["keyless-events.json", "s3.object.key"]);

    // A key whose escapes are not UTF-8 cannot be a real S3 key.
    let ev = write(
        &dir,
        "not-utf8-events.json",
        &format!(r#"{{"Records": [{}]}}"#, record("ObjectCreated:Put", "%FF%FE.jpg")),
    );
    let out = cfinv(&["plan", "--distributions", s(&dist), "--events", s(&ev), "--format", "json"]);
    assert_fails(&out, &["not-utf8-events.json"]);
}

/// `cfinv plan --format json` on the standard inputs, with extra arguments.
fn plan_with(dir_name: &str, extra: &[&str]) -> std::process::Output {
    let dir = scratch(dir_name);
    let dist = write(&dir, "distributions.json", DISTRIBUTIONS);
    let ev = write(&dir, "events.json", &events());
    let mut args = vec!["plan", "--distributions", s(&dist), "--events", s(&ev), "--format", "json"];
    args.extend_from_slice(extra);
    cfinv(&args)
}

#[test]
fn a_bad_exception_paths_argument() {
    for bad in ["resources/upload/", "=resources/upload/"] {
        assert_fails(&plan_with("exceptarg", &["--exception-paths", bad]), &["--exception-paths"]);
    }
}

#[test]
fn default_exception_paths_without_live() {
    // The README: `--default-exception-paths P` is "with `--live`" (the buckets' tags are read
    // only then); offline it would be silently ignored.
    assert_fails(
        &plan_with("defaultexc", &["--default-exception-paths", "resources/upload/"]),
        &["--default-exception-paths", "--live", "--exception-paths"],
    );
}

#[test]
fn max_set_size_out_of_range() {
    for bad in ["0", "3001"] {
        assert_fails(&plan_with("setsize", &["--max-set-size", bad]), &["max-set-size", bad]);
    }
    // Only the flag that is wrong is named.
    let out = plan_with("maxitems", &["--max-items", "0"]);
    assert_fails(&out, &["--max-items: "]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("--max-set-size"));
    for ok in ["1", "3000"] {
        let out = plan_with("setsize", &["--max-set-size", ok]);
        assert!(out.status.success(), "--max-set-size {ok}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn text_format_is_a_readable_table() {
    let dir = scratch("text");
    let dist = write(&dir, "distributions.json", DISTRIBUTIONS);
    let ev = write(&dir, "events.json", &events());
    let out = cfinv(&[
        "plan",
        "--distributions",
        s(&dist),
        "--events",
        s(&ev),
        "--exception-paths",
        "site=resources/upload/",
        "--format",
        "text",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"));
    assert!(serde_json::from_str::<serde_json::Value>(&stdout).is_err(), "text, not JSON:\n{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    let has = |pred: &dyn Fn(&str) -> bool| lines.iter().any(|l| pred(l));
    assert!(has(&|l| l.contains("E1TEXTFORMAT01") && l.contains('2')), "distribution heading:\n{stdout}");
    assert!(has(&|l| l.trim() == "/index.html"), "path line:\n{stdout}");
    assert!(has(&|l| l.trim() == "/red%20flower.jpg"), "encoded path line:\n{stdout}");
    assert!(
        has(&|l| l.contains("exception-path") && l.contains("resources/upload/1.jpg") && !l.contains("E1TEXTFORMAT01")),
        "exception-path row:\n{stdout}"
    );
    assert!(
        has(&|l| l.contains("not-served") && l.contains("E1TEXTFORMAT01") && l.contains("api/spec.json")),
        "not-served row:\n{stdout}"
    );
    assert!(has(&|l| l.contains("ObjectCreated:Put")), "event column:\n{stdout}");
}

#[test]
fn a_set_of_one_item_reads_singular() {
    let dir = scratch("singular");
    let dist = write(&dir, "distributions.json", DISTRIBUTIONS);
    let ev =
        write(&dir, "one-event.json", &format!(r#"{{"Records": [{}]}}"#, record("ObjectCreated:Put", "index.html")));
    let out = cfinv(&["plan", "--distributions", s(&dist), "--events", s(&ev), "--format", "text"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("  set 1 (1 item)\n    /index.html\n"), "{stdout}");
    // Three items: plural.
    let ev = write(&dir, "events.json", &events());
    let out = cfinv(&["plan", "--distributions", s(&dist), "--events", s(&ev), "--format", "text"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("  set 1 (3 items)\n"), "{stdout}");
}

#[test]
fn json_is_the_default_off_a_terminal() {
    let dir = scratch("default");
    let dist = write(&dir, "distributions.json", DISTRIBUTIONS);
    let ev = write(&dir, "events.json", &events());
    let out = cfinv(&["plan", "--distributions", s(&dist), "--events", s(&ev)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on a pipe");
    assert_eq!(v["invalidations"][0]["distributionId"], "E1TEXTFORMAT01");
    assert_eq!(
        v["invalidations"][0]["items"],
        serde_json::json!(["/index.html", "/red%20flower.jpg", "/resources/upload/1.jpg"])
    );
    assert_eq!(v["skipped"][0]["reason"], "not-served");
    assert_eq!(v["skipped"][0]["distributionId"], "E1TEXTFORMAT01");
}

#[test]
fn connect_bucket_by_notification_needs_the_function_arn() {
    let out = Command::new(env!("CARGO_BIN_EXE_cfinv"))
        .args(["connect-bucket", "--bucket", "my-site", "--via", "notification"])
        .env_remove("CFINV_INGEST_FUNCTION_ARN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--function-arn"), "{stderr}");

    let out = Command::new(env!("CARGO_BIN_EXE_cfinv"))
        .args(["connect-bucket", "--bucket", "my-site", "--via", "sns"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("eventbridge"));
}

/// The operator commands, offline: what they refuse before any AWS call, and `resubmit --dry-run`
/// of a local file (which needs no account).
fn cfinv_offline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cfinv"))
        .args(args)
        .env_remove("CFINV_STACK")
        .env_remove("CFINV_STATE_MACHINE_ARN")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap()
}

#[test]
fn resubmit_names_a_file_it_cannot_use() {
    let dir = scratch("resubmit");
    let missing = dir.join("20261126054012123abcdefghi_E1.txt");
    assert_fails(&cfinv_offline(&["resubmit", s(&missing)]), &["20261126054012123abcdefghi_E1.txt", "no such file"]);
    let bad = write(&dir, "bad.txt", "CloudFront Id [E1]\n(Set 1 Start)\nnot-a-path\n(Set 1 End)\n");
    assert_fails(&cfinv_offline(&["resubmit", "--dry-run", s(&bad)]), &["bad.txt", "not an error file", "line 3"]);
    assert_fails(&cfinv_offline(&["resubmit", "s3:///key"]), &["s3:///key", "expected s3://BUCKET/KEY"]);
}

#[test]
fn resubmit_dry_run_prints_each_set_with_its_caller_reference() {
    let dir = scratch("dry-run");
    let file = write(
        &dir,
        "20261126054012123abcdefghi_E29EXP7S5VQKAW.txt",
        "CloudFront Id [E29EXP7S5VQKAW]\n(Set 1 Start)\n/a.html\n/b*\n(Set 1 End)\n(Set 2 Start)\n/c\n(Set 2 End)\n",
    );
    let out = cfinv_offline(&["resubmit", "--dry-run", s(&file)]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("would submit 2 set(s) from 1 file(s), 3 path(s):"), "{stdout}");
    assert!(
        stdout.contains(
            "E29EXP7S5VQKAW set 1 (2 path(s), cfinv-resubmit/20261126054012123abcdefghi_E29EXP7S5VQKAW/1) from"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("    /a.html\n    /b*\n"), "{stdout}");
}

#[test]
fn explain_refuses_an_empty_key_before_any_aws_call() {
    // S3 object keys are at least one character long; the event parser refuses an empty one.
    let unreachable = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cfinv"))
            .args(args)
            .env_remove("CFINV_STACK")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "cfinv")
            .env("AWS_SECRET_ACCESS_KEY", "cfinv")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_MAX_ATTEMPTS", "1")
            .output()
            .unwrap()
    };
    assert_fails(&unreachable(&["explain", "my-site", ""]), &["the key is empty"]);
    assert_fails(&unreachable(&["explain", "", "index.html"]), &["the bucket is empty"]);
}

#[test]
fn a_bad_flag_of_the_recovery_commands_is_named_as_the_flag() {
    const ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:cfinv";
    for window in ["0", "3601"] {
        let out = cfinv_offline(&["start-window", "--state-machine-arn", ARN, "--window-seconds", window]);
        assert_fails(&out, &[&format!("--window-seconds (or CFINV_WINDOW_SECONDS) is \"{window}\""), "1 to 3600"]);
        assert!(!String::from_utf8_lossy(&out.stderr).contains("environment variable"));
    }
    let replay = ["replay-ingest-failures", "--from", "q", "--state-machine-arn", ARN];
    let out = cfinv_offline(&[&replay[..], &["--queue-url", "q", "--window-seconds", "0"]].concat());
    assert_fails(&out, &["--window-seconds (or CFINV_WINDOW_SECONDS) is \"0\""]);
    let out = cfinv_offline(&[&replay[..], &["--queue-url", ""]].concat());
    assert_fails(&out, &["--queue-url (or CFINV_QUEUE_URL) is empty"]);
}

#[test]
fn commands_that_need_the_stack_say_so_in_one_line() {
    assert_fails(&cfinv_offline(&["status"]), &["--stack NAME (or CFINV_STACK) is required"]);
    assert_fails(&cfinv_offline(&["start-window"]), &["--state-machine-arn is required", "StateMachineArn output"]);
    assert_fails(
        &cfinv_offline(&["replay-ingest-failures", "--queue-url", "q", "--state-machine-arn", "arn"]),
        &["--from is required", "IngestFailureQueueUrl output"],
    );
}

#[test]
fn resubmit_says_at_once_when_cloudfront_cannot_be_reached() {
    // Nothing listens on port 9 here: every call fails alike, without an answer. Before, this was
    // waited out for --max-wait-seconds (1800 s by default) in silence, then exit 1.
    let dir = scratch("unreachable");
    let file = write(&dir, "20261126054012123abcdefghi_E1.txt", "CloudFront Id [E1]\n(Set 1 Start)\n/a\n(Set 1 End)\n");
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_cfinv"))
        .args(["resubmit", "--endpoint-url", "http://127.0.0.1:9", "--max-wait-seconds", "600", s(&file)])
        .env_remove("CFINV_STACK")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .output()
        .unwrap();
    assert_fails(&out, &["cannot reach CloudFront"]);
    assert!(started.elapsed().as_secs() < 300, "it did not wait for --max-wait-seconds");
}

/// A skipped row of a distribution tenant names the tenant, as the plan's headings do: two tenants
/// of one distribution would otherwise read as the same row twice.
#[test]
fn text_format_names_the_tenant_of_a_skipped_row() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/distribution-tenants");
    let file = |name: &str| golden.join(name).to_str().unwrap().to_owned();
    let (dists, list, get, events) = (
        file("distributions.json"),
        file("distribution-tenants-1-list.json"),
        file("distribution-tenants-2-get.json"),
        file("events.json"),
    );
    let out = cfinv(&[
        "plan",
        "--distributions",
        &dists,
        "--distribution-tenants",
        &list,
        "--distribution-tenants",
        &get,
        "--events",
        &events,
        "--format",
        "text",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // globex's origin reads globex/: acme's page is no-origin for it, and the other way round.
    let row = |reason: &str, target: &str, key: &str| {
        stdout.lines().any(|l| {
            let cols: Vec<&str> = l.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
            cols.first() == Some(&reason) && cols.get(1) == Some(&target) && l.ends_with(key)
        })
    };
    assert!(
        row("no-origin", "EMTSAAS0000001 tenant dt_2wjDZi3hD1ivOXf6rpZJOSNE2CD", "saas-sites/acme/index.html"),
        "{stdout}"
    );
    assert!(
        row("no-origin", "EMTSAAS0000001 tenant dt_2wjDZi3hD1ivOXf6rpZJOSNE1AB", "saas-sites/globex/img/logo.png"),
        "{stdout}"
    );
}

/// `status --executions 0` would list nothing and say "last 0 execution(s)": refused before any call.
#[test]
fn status_lists_at_least_one_execution() {
    let out = cfinv_offline(&["status", "--executions", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value '0' for '--executions <N>'"));
}
