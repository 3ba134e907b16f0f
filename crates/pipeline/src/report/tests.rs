//! The report against a plan bucket in memory.

use std::sync::Arc;

use super::*;
use crate::fakes::*;
use crate::run::{paginate, whole, FIRST_PASS};
use crate::sets::{put_marker, Accepted, SetFile};
use cfinv_core::report::parse_error_file;

const EXECUTION: &str = "x-1";

fn run(pages: usize) -> Run {
    Run {
        execution: ExecutionName::try_from(EXECUTION).unwrap(),
        attempt: "a1".into(),
        pass: FIRST_PASS.into(),
        pages,
        first_page: 0,
        round: 0,
        map_concurrency: 2,
    }
}

fn settings() -> ReportSettings {
    ReportSettings {
        plan_bucket: "plans".into(),
        plan_prefix: "plans/".into(),
        error_bucket: "errors".into(),
        topic_arn: "arn:t".into(),
    }
}

/// Stores the sets and pages of a run; returns it.
fn stored(objects: &FakeObjects, dists: &[(&str, &[&[&str]])]) -> Run {
    let r = run(0);
    let keys = RunKeys::of("plans/", &r);
    let put = |key: String, body: String| objects.objects.lock().unwrap().insert(("plans".into(), key), body);
    for (d, sets) in dists {
        for (i, set) in sets.iter().enumerate() {
            let paths = set.iter().map(|p| p.to_string()).collect();
            let file = SetFile { distribution_id: d.to_string(), set: i + 1, of: sets.len(), paths };
            put(keys.set(d, i + 1), serde_json::to_string(&file).unwrap());
        }
    }
    let counts: Vec<(String, usize)> = dists.iter().map(|(d, s)| (d.to_string(), s.len())).collect();
    let pages = paginate(&whole(&counts));
    for (n, p) in pages.iter().enumerate() {
        put(keys.page(FIRST_PASS, n), serde_json::to_string(p).unwrap());
    }
    run(pages.len())
}

fn input(run: Run) -> ReportInput {
    let next = run.pages;
    ReportInput {
        execution: ExecutionName::try_from(EXECUTION).unwrap(),
        start_time: Some("2026-11-26T05:40:22.123Z".into()),
        run,
        page: PageCursor { next, ..PageCursor::default() },
    }
}

async fn mark(objects: &FakeObjects, r: &Run, d: &str, set: usize, mark: Mark, body: serde_json::Value) {
    let keys = RunKeys::of("plans/", r);
    put_marker(objects, "plans", &keys, d, set, mark, &body).await.unwrap();
}

#[tokio::test]
async fn unfinished_sets_become_seed_error_files_one_alert_and_the_next_pass() {
    let objects = Arc::new(FakeObjects::default());
    let r = stored(&objects, &[("E1", &[&["/a", "/b"], &["/c"], &["/d"]]), ("E2", &[&["/z"]])]);
    let accepted =
        serde_json::to_value(Accepted { invalidation_ids: vec!["I1".into()], accepted_at: "t".into(), items: 1 })
            .unwrap();
    let failed = serde_json::json!({"error": "AccessDenied", "cause": "no", "pass": "p", "failedAt": "t"});
    mark(&objects, &r, "E1", 1, Mark::Failed, failed.clone()).await;
    // E1 set 2 never ran (its iteration died); E1 set 3 and E2 set 1 were accepted.
    mark(&objects, &r, "E1", 3, Mark::Accepted, accepted.clone()).await;
    mark(&objects, &r, "E2", 1, Mark::Accepted, accepted).await;

    let report = Report::new(objects.clone(), FakeAlerts::default(), settings(), fixed_clock("2026-11-26T06:00:00Z"));
    let out = report.handle(input(r.clone())).await.unwrap();
    assert_eq!((out.invalidated, out.failed_count, out.error_files, out.gate_pages), (2, 2, 1, 1));

    let (key, body) = {
        let all = objects.objects.lock().unwrap();
        let (k, v) = all.iter().find(|((b, _), _)| b == "errors").unwrap();
        (k.1.clone(), v.clone())
    };
    assert!(key.starts_with("invalidation_error/20261126054022") && key.ends_with("_E1.txt"), "{key}");
    let file = parse_error_file(&body).unwrap();
    assert_eq!(
        file.sets.iter().map(|s| (s.number, s.paths.clone())).collect::<Vec<_>>(),
        [(1, vec!["/a".to_owned(), "/b".to_owned()]), (2, vec!["/c".to_owned()])]
    );

    let published = report.alerts.published.lock().unwrap().clone();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].1, "[Error] CloudFront Invalidation");
    assert!(published[0].2.starts_with(&format!("bucket : errors\n\n{key}\n\nReasons:\n")), "{}", published[0].2);
    assert!(published[0].2.contains("E1 set 1: AccessDenied: no\n"));
    assert!(published[0].2.contains("E1 set 2: NotSubmitted"));

    let keys = RunKeys::of("plans/", &r);
    let next: Page = serde_json::from_str(&objects.get_now("plans", &keys.page("g1", 0)).unwrap()).unwrap();
    assert_eq!(next.units, [Unit { distribution_id: "E1".into(), first: 1, last: 2, of: 3 }]);

    let again = report.handle(input(r)).await.unwrap();
    assert_eq!(again, out, "a retried report writes the same files");
    assert_eq!(objects.objects.lock().unwrap().keys().filter(|(b, _)| b == "errors").count(), 1);
}

#[tokio::test]
async fn an_unreadable_set_is_listed_and_the_others_are_still_written() {
    let objects = Arc::new(FakeObjects::default());
    let r = stored(&objects, &[("E1", &[&["/a"]]), ("E2", &[&["/z"]])]);
    let failed = serde_json::json!({"error": "NoSuchDistribution", "cause": "gone", "pass": "p", "failedAt": "t"});
    mark(&objects, &r, "E1", 1, Mark::Failed, failed.clone()).await;
    mark(&objects, &r, "E2", 1, Mark::Failed, failed).await;
    let keys = RunKeys::of("plans/", &r);
    objects.objects.lock().unwrap().insert(("plans".into(), keys.set("E1", 1)), "{corrupt".into());

    let report = Report::new(objects.clone(), FakeAlerts::default(), settings(), fixed_clock("2026-11-26T06:00:00Z"));
    let out = report.handle(input(r)).await.unwrap();
    assert_eq!((out.failed_count, out.error_files, out.unreadable), (2, 1, 1));
    let body = report.alerts.published.lock().unwrap()[0].2.clone();
    assert!(body.contains("_E2.txt\n"), "E2's file is listed: {body}");
    assert!(body.contains(&format!("unreadable: {}", keys.set("E1", 1))), "{body}");
}

#[tokio::test]
async fn nothing_unfinished_no_alert() {
    let objects = Arc::new(FakeObjects::default());
    let r = stored(&objects, &[]);
    let report = Report::new(objects, FakeAlerts::default(), settings(), fixed_clock("2026-11-26T06:00:00Z"));
    let out = report.handle(input(r)).await.unwrap();
    assert_eq!((out.failed_count, out.gate_pages), (0, 0));
    assert!(report.alerts.published.lock().unwrap().is_empty());
}

#[test]
fn a_huge_alert_stays_within_snss_limit() {
    let keys: Vec<String> = (0..10_000).map(|i| format!("invalidation_error/20261126054022{i:016}_E{i}.txt")).collect();
    let reasons: Vec<String> = (0..10_000).map(|i| format!("E{i} set 1: AccessDenied: {}", "x".repeat(100))).collect();
    let body = bounded_alert("errors", &keys, &reasons);
    assert!(body.len() < 256 * 1024, "{}", body.len());
    assert!(body.starts_with("bucket : errors\n\ninvalidation_error/"));
    assert!(body.contains("more error files under invalidation_error/"));
    assert!(body.contains("more reasons"));
}

#[tokio::test]
async fn keys_too_broad_to_send_are_told_once_by_the_first_pass() {
    let objects = Arc::new(FakeObjects::default());
    let r = stored(&objects, &[]);
    let keys = RunKeys::of("plans/", &r);
    let rows = r#"[{"bucket":"site","key":"*","distributionId":"E1"}]"#;
    objects.objects.lock().unwrap().insert(("plans".into(), keys.too_broad()), rows.into());
    let report = Report::new(objects.clone(), FakeAlerts::default(), settings(), fixed_clock("2026-11-26T06:00:00Z"));
    let out = report.handle(input(r.clone())).await.unwrap();
    assert_eq!((out.too_broad, out.failed_count, out.error_files), (1, 0, 0));
    let body = report.alerts.published.lock().unwrap()[0].2.clone();
    // No error file: the seed's `bucket : errors` above an empty list of keys would send the reader
    // to an error bucket with nothing in it for this run.
    assert!(
        body.starts_with(
            "No error file was written to the error bucket (errors): nothing there to resubmit.\n\nReasons:\n\
             too broad to send: s3://site/* on E1: "
        ),
        "{body:?}"
    );
    assert!(!body.contains("bucket : "), "{body:?}");
    // A continuation's report, or a redrive's, does not tell it again.
    let later = Run { first_page: 1, ..r };
    let out = report.handle(input(later)).await.unwrap();
    assert_eq!(out.too_broad, 0);
}
