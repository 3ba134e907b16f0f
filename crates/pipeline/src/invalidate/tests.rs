//! The invalidate steps, driven the way the state machine drives them: page by page, each unit
//! stepped until done, then the report and the gate; CloudFront in memory.

use std::sync::Arc;

use super::*;
use crate::execution::ExecutionName;
use crate::fakes::*;
use crate::report::{Report, ReportInput, ReportOutput};
use crate::run::{paginate, whole, Run, RunKeys, FIRST_PASS};
use crate::sets::{DistributionRecord, Marks, SetFile, SetState};
use crate::settings::{InvalidateSettings, ReportSettings};

const EXECUTION: &str = "cfinv-10s-20261126T054010Z";
const ARN: &str = "arn:aws:states:us-east-1:1:execution:cfinv:cfinv-10s-20261126T054010Z";
const SM: &str = "arn:aws:states:us-east-1:1:stateMachine:cfinv";

fn paths(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("/{prefix}/{i:05}")).collect()
}

struct H {
    inv: Invalidate<Arc<FakeObjects>, FakeCloudFront, FakeExecutions, FakeEvents>,
    report: Report<Arc<FakeObjects>, FakeAlerts>,
    objects: Arc<FakeObjects>,
    run: Run,
}

/// What a drive saw.
#[derive(Debug, Default)]
struct Drive {
    steps: usize,
    capacity_waits: usize,
    reports: Vec<ReportOutput>,
    /// The gate's answer at the end: `None` when the run succeeded without it.
    gate_error: Option<String>,
}

fn harness(dists: &[(&str, Vec<Vec<String>>)]) -> H {
    let objects = Arc::new(FakeObjects::default());
    let run = Run {
        execution: ExecutionName::try_from(EXECUTION).unwrap(),
        attempt: "a1".into(),
        pass: FIRST_PASS.into(),
        pages: 0,
        first_page: 0,
        round: 0,
        map_concurrency: 10,
    };
    let keys = RunKeys::of("plans/", &run);
    let put = |key: String, body: String| objects.objects.lock().unwrap().insert(("plans".into(), key), body);
    for (d, sets) in dists {
        for (i, set) in sets.iter().enumerate() {
            let file = SetFile { distribution_id: d.to_string(), set: i + 1, of: sets.len(), paths: set.clone() };
            put(keys.set(d, i + 1), serde_json::to_string(&file).unwrap());
        }
        let record = DistributionRecord {
            distribution_id: d.to_string(),
            items: sets.iter().map(Vec::len).sum(),
            exact_items: sets.iter().map(Vec::len).sum(),
            sets: sets.len(),
            events: 1,
            first_event_time: Some("2026-11-26T05:40:11.000Z".into()),
            estimated_cost_usd: 0.0,
        };
        put(keys.distribution(d), serde_json::to_string(&record).unwrap());
    }
    let counts: Vec<(String, usize)> = dists.iter().map(|(d, s)| (d.to_string(), s.len())).collect();
    let pages = paginate(&whole(&counts));
    for (n, page) in pages.iter().enumerate() {
        put(keys.page(FIRST_PASS, n), serde_json::to_string(page).unwrap());
    }
    let run = Run { pages: pages.len(), ..run };
    let settings = InvalidateSettings {
        plan_bucket: "plans".into(),
        plan_prefix: "plans/".into(),
        reference_scope: "stack".into(),
        poll_seconds: 5,
        capacity_wait_seconds: 10,
        max_wait_seconds: 60,
        history_budget: 15_000,
    };
    let clock = ticking_clock("2026-11-26T05:40:22Z", 1);
    let inv = Invalidate::new(
        objects.clone(),
        FakeCloudFront::default(),
        FakeExecutions::default(),
        FakeEvents::default(),
        settings,
        clock.clone(),
    );
    let report_settings = ReportSettings {
        plan_bucket: "plans".into(),
        plan_prefix: "plans/".into(),
        error_bucket: "errors".into(),
        topic_arn: "arn:t".into(),
    };
    let report = Report::new(objects.clone(), FakeAlerts::default(), report_settings, clock);
    H { inv, report, objects, run }
}

impl H {
    /// The state machine: pages, units stepped until done (`tick` between steps stands for the
    /// waits), the report, the gate; stops when the gate fails or nothing failed.
    async fn drive(&self, tick: impl Fn(&H)) -> Drive {
        self.drive_from(self.run.clone(), None, tick).await
    }

    /// From the first page of `run`, or, with `at_gate`, from the gate after a report (a redrive
    /// resumes there).
    async fn drive_from(&self, mut run: Run, mut at_gate: Option<GateReport>, tick: impl Fn(&H)) -> Drive {
        let mut d = Drive::default();
        let mut page = PageCursor::default();
        loop {
            if let Some(report) = at_gate.take() {
                let gate = GateInput { run: run.clone(), report, execution_arn: ARN.into() };
                match self.inv.handle(InvalidateInput::Gate(gate)).await {
                    Ok(InvalidateOutput::Gate(g)) => {
                        run = g.run;
                        page = g.page;
                    }
                    Ok(other) => panic!("{other:?}"),
                    Err(e) => {
                        d.gate_error = Some(e.error_type().to_string());
                        return d;
                    }
                }
            }
            while page.next < run.pages {
                let input = PageInput {
                    run: run.clone(),
                    page: page.clone(),
                    execution_arn: ARN.into(),
                    state_machine: SM.into(),
                };
                page = match self.inv.handle(InvalidateInput::Page(input)).await.unwrap() {
                    InvalidateOutput::Page(p) => p,
                    other => panic!("{other:?}"),
                };
                if page.handed_off {
                    break;
                }
                for unit in page.units.clone() {
                    let mut st = UnitStep {
                        run: run.clone(),
                        unit,
                        idle: 0,
                        wait: 0,
                        waiting_for: None,
                        failed: vec![],
                        done: false,
                    };
                    for _ in 0..1000 {
                        st = match self.inv.handle(InvalidateInput::Step(st)).await.unwrap() {
                            InvalidateOutput::Step(InvalidateInput::Step(next)) => next,
                            other => panic!("{other:?}"),
                        };
                        d.steps += 1;
                        if st.done {
                            break;
                        }
                        if st.waiting_for.as_deref() == Some("capacity") {
                            d.capacity_waits += 1;
                        }
                        tick(self);
                    }
                    assert!(st.done, "the unit finished: {st:?}");
                }
            }
            let input = ReportInput {
                execution: ExecutionName::try_from(EXECUTION).unwrap(),
                start_time: Some("2026-11-26T05:40:12Z".into()),
                run: run.clone(),
                page: page.clone(),
            };
            let report = self.report.handle(input).await.unwrap();
            d.reports.push(report.clone());
            if report.failed_count == 0 {
                return d;
            }
            at_gate = Some(GateReport { failed_count: report.failed_count, gate_pages: report.gate_pages });
        }
    }

    fn events(&self, detail_type: &str) -> Vec<serde_json::Value> {
        let put = self.inv.events.put.lock().unwrap();
        put.iter().filter(|(t, _)| t == detail_type).map(|(_, d)| serde_json::from_str(d).unwrap()).collect()
    }

    fn created(&self) -> Vec<(String, String, usize)> {
        let created = self.inv.cloudfront.created.lock().unwrap();
        created.iter().map(|(d, r, p)| (d.clone(), r.clone(), p.len())).collect()
    }

    fn marks(&self, d: &str) -> Marks {
        let keys = RunKeys::of("plans/", &self.run);
        let root = keys.distribution_root(d);
        let listed: Vec<String> = self
            .objects
            .objects
            .lock()
            .unwrap()
            .keys()
            .filter_map(|(_, k)| k.strip_prefix(&root).map(str::to_owned))
            .collect();
        Marks::from_keys(listed.iter().map(String::as_str))
    }
}

/// CloudFront completes everything in progress between two steps.
fn complete_everything(h: &H) {
    for d in ["E1", "E2", "E3"] {
        h.inv.cloudfront.complete_all(d);
    }
}

#[tokio::test]
async fn a_distributions_sets_go_in_order_each_when_the_last_has_made_room() {
    let h = harness(&[("E1", vec![paths("a", 3000), paths("b", 3000), paths("c", 1200)])]);
    let d = h.drive(complete_everything).await;
    let created = h.created();
    assert_eq!(
        created,
        [
            ("E1".to_owned(), format!("stack/{EXECUTION}/E1/1"), 3000),
            ("E1".to_owned(), format!("stack/{EXECUTION}/E1/2"), 3000),
            ("E1".to_owned(), format!("stack/{EXECUTION}/E1/3"), 1200),
        ],
        "one CreateInvalidation per set, in order"
    );
    assert!(d.capacity_waits >= 2, "sets 2 and 3 waited for room: {d:?}");
    assert_eq!(d.reports[0].failed_count, 0);
    assert_eq!((d.reports[0].invalidated, d.gate_error), (3, None));
    let completed = h.events("Invalidation Completed");
    assert_eq!(completed.len(), 1, "one event for the distribution");
    let e = &completed[0];
    assert_eq!(e["distributionId"], "E1");
    assert!(e.get("distributionTenantId").is_none(), "a distribution's event has no tenant field: {e}");
    assert_eq!(e["execution"], EXECUTION);
    assert_eq!(e["invalidationIds"], serde_json::json!(["I0", "I1", "I2"]));
    assert_eq!((e["items"].as_u64(), e["paths"].as_u64(), e["sets"].as_u64()), (Some(7200), Some(7200), Some(3)));
    assert_eq!(e["firstEventTime"], "2026-11-26T05:40:11.000Z");
    assert!(e["completedAt"].as_str() > e["acceptedAt"].as_str());
    assert!(e["secondsToCompleted"].as_f64() > e["secondsToAccepted"].as_f64());
    assert!(h.events("Invalidation Failed").is_empty());
}

#[tokio::test]
async fn a_tenants_event_names_the_tenant() {
    let h = harness(&[("E1_dt_abc", vec![paths("a", 2)])]);
    h.drive(|h| h.inv.cloudfront.complete_all("E1_dt_abc")).await;
    let completed = h.events("Invalidation Completed");
    assert_eq!(completed.len(), 1);
    assert_eq!(
        (completed[0]["distributionId"].as_str(), completed[0]["distributionTenantId"].as_str()),
        (Some("E1"), Some("dt_abc"))
    );
}

#[tokio::test]
async fn no_set_fails_for_capacity_however_long_others_hold_it() {
    let h = harness(&[("E1", vec![paths("a", 20)])]);
    // Another tool's invalidation fills the distribution for 50 steps.
    h.inv.cloudfront.create_invalidation("E1", "other-tool", &paths("x", 2990)).await.unwrap();
    let waited = std::sync::atomic::AtomicUsize::new(0);
    let d = h
        .drive(|h| {
            if waited.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 50 {
                complete_everything(h);
            }
        })
        .await;
    assert!(d.capacity_waits >= 50, "{d:?}");
    assert_eq!(d.reports[0].failed_count, 0);
    assert_eq!(h.created().len(), 2, "the other tool's, and ours once");
}

#[tokio::test]
async fn too_many_invalidations_in_progress_is_waited_out_not_failed() {
    let h = harness(&[("E1", vec![paths("a", 10)])]);
    let busy = vec![cfinv_core_kind_busy(); 5];
    h.inv.cloudfront.fail("E1", &busy);
    let d = h.drive(complete_everything).await;
    assert_eq!(d.reports[0].failed_count, 0);
    assert_eq!(h.created().len(), 1);
    assert!(d.capacity_waits >= 5);
}

fn cfinv_core_kind_busy() -> ErrorKind {
    ErrorKind::TooManyInvalidationsInProgress
}

#[tokio::test]
async fn a_repeated_step_creates_no_second_invalidation() {
    let h = harness(&[("E1", vec![paths("a", 10)])]);
    let st = UnitStep {
        run: h.run.clone(),
        unit: crate::run::Unit { distribution_id: "E1".into(), first: 1, last: 1, of: 1 },
        idle: 0,
        wait: 0,
        waiting_for: None,
        failed: vec![],
        done: false,
    };
    h.inv.handle(InvalidateInput::Step(st.clone())).await.unwrap();
    // The state machine retries the same input (the first answer was lost), twice.
    h.inv.handle(InvalidateInput::Step(st.clone())).await.unwrap();
    let keys = RunKeys::of("plans/", &h.run);
    h.objects.objects.lock().unwrap().remove(&("plans".to_owned(), keys.marker("E1", 1, "accepted")));
    h.inv.handle(InvalidateInput::Step(st)).await.unwrap();
    assert_eq!(h.created().len(), 1, "CloudFront has it by its CallerReference");
    assert_eq!(h.marks("E1").state(1), SetState::Accepted);
}

#[tokio::test]
async fn a_refused_path_is_isolated_and_reported_alone_while_the_rest_is_invalidated() {
    let mut set = paths("a", 9);
    set.push("/bad%7Epath".into());
    set.sort();
    let h = harness(&[("E1", vec![set.clone()]), ("E2", vec![paths("b", 3)])]);
    h.inv.cloudfront.refused.lock().unwrap().insert("/bad%7Epath".into());
    let d = h.drive(complete_everything).await;

    let accepted: usize = h.created().iter().filter(|c| c.0 == "E1").map(|c| c.2).sum();
    assert_eq!(accepted, 9, "every good path of the set was invalidated");
    assert!(h.created().iter().filter(|c| c.0 == "E1").all(|c| c.1.starts_with(&format!("stack/{EXECUTION}/E1/1"))));
    let report = &d.reports[0];
    assert_eq!((report.failed_count, report.refused_paths, report.error_files), (0, 1, 1));
    assert_eq!(d.gate_error, None, "a redrive would not change CloudFront's answer: the run ends");

    let (key, file) = {
        let objects = h.objects.objects.lock().unwrap();
        let (k, v) = objects.iter().find(|((b, _), _)| b == "errors").unwrap();
        (k.1.clone(), v.clone())
    };
    assert_eq!(file, "CloudFront Id [E1]\n(Set 1 Start)\n/bad%7Epath\n(Set 1 End)\n", "only the refused path");
    let published = h.report.alerts.published.lock().unwrap().clone();
    assert_eq!(published.len(), 1);
    let expected_start =
        format!("bucket : errors\n\n{key}\n\nReasons:\nE1 set 1: refused /bad%7Epath: InvalidArgument: ");
    assert!(published[0].2.starts_with(&expected_start), "{}", published[0].2);
    assert!(published[0].2.contains("invalid invalidation paths"), "CloudFront's message is in the alert");

    let failed = h.events("Invalidation Failed");
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0]["refusedCount"].as_u64(), failed[0]["error"].as_str()), (Some(1), Some("InvalidArgument")));
    assert!(failed[0].get("distributionTenantId").is_none(), "{}", failed[0]);
    let completed = h.events("Invalidation Completed");
    assert_eq!(completed.len(), 1, "E2 only: E1 is not wholly live");
    assert_eq!(completed[0]["distributionId"], "E2");
}

#[tokio::test]
async fn a_failed_set_is_reported_fails_the_execution_and_is_re_attempted_on_every_redrive() {
    let h = harness(&[("E1", vec![paths("a", 5)]), ("E2", vec![paths("b", 5), paths("c", 5)])]);
    h.inv.cloudfront.always.lock().unwrap().insert("E2".into(), ErrorKind::AccessDenied);
    let d = h.drive(complete_everything).await;
    let report = &d.reports[0];
    assert_eq!((report.invalidated, report.failed_count, report.gate_pages), (1, 2, 1));
    assert_eq!(d.gate_error.as_deref(), Some("SetNotInvalidated"), "the execution ends failed");
    assert_eq!(h.events("Invalidation Failed").len(), 2);
    assert_eq!(h.events("Invalidation Completed").len(), 1, "E1 is live");
    let published = h.report.alerts.published.lock().unwrap().clone();
    assert!(published[0].2.contains("E2 set 1: AccessDenied: injected AccessDenied"), "{}", published[0].2);

    // A redrive while CloudFront still refuses: the execution resumes at the gate, every set is
    // re-attempted, and it fails again.
    h.inv.executions.redrives.store(1, std::sync::atomic::Ordering::SeqCst);
    let at_gate = GateReport { failed_count: report.failed_count, gate_pages: report.gate_pages };
    let again = h.drive_from(h.run.clone(), Some(at_gate), complete_everything).await;
    assert_eq!(again.reports.last().unwrap().failed_count, 2);
    assert_eq!(again.gate_error.as_deref(), Some("SetNotInvalidated"));
    assert_eq!(h.events("Invalidation Failed").len(), 4, "both sets were tried again");

    // The permission is fixed; the next redrive invalidates both.
    h.inv.cloudfront.always.lock().unwrap().clear();
    h.inv.executions.redrives.store(2, std::sync::atomic::Ordering::SeqCst);
    let second = again.reports.last().unwrap();
    let after_first_redrive = Run { pass: Run::redrive_pass(1), round: 1, pages: 1, ..h.run.clone() };
    let at_gate = GateReport { failed_count: second.failed_count, gate_pages: second.gate_pages };
    let fixed = h.drive_from(after_first_redrive, Some(at_gate), complete_everything).await;
    assert_eq!((fixed.reports.last().unwrap().failed_count, fixed.gate_error), (0, None));
    assert_eq!(h.marks("E2").state(2), SetState::Completed);
    assert_eq!(h.events("Invalidation Completed").len(), 2, "E2 is live now");
    assert_eq!(h.created().iter().filter(|c| c.0 == "E2").count(), 2, "each set once");
}

#[tokio::test]
async fn the_history_budget_hands_the_remaining_pages_to_a_continuation() {
    let many: Vec<(String, Vec<Vec<String>>)> = (0..45).map(|i| (format!("E{i}"), vec![paths("a", 1)])).collect();
    let borrowed: Vec<(&str, Vec<Vec<String>>)> = many.iter().map(|(d, s)| (d.as_str(), s.clone())).collect();
    let h = harness(&borrowed);
    assert_eq!(h.run.pages, 2);
    h.inv.executions.history.store(15_000, std::sync::atomic::Ordering::SeqCst);
    let first = PageInput {
        run: h.run.clone(),
        page: PageCursor::default(),
        execution_arn: ARN.into(),
        state_machine: SM.into(),
    };
    let InvalidateOutput::Page(page) = h.inv.handle(InvalidateInput::Page(first)).await.unwrap() else { panic!() };
    assert_eq!(
        (page.next, page.units.len(), page.handed_off),
        (1, 40, false),
        "an execution always does its first page"
    );
    let second = PageInput { run: h.run.clone(), page, execution_arn: ARN.into(), state_machine: SM.into() };
    let InvalidateOutput::Page(page) = h.inv.handle(InvalidateInput::Page(second)).await.unwrap() else { panic!() };
    assert_eq!((page.next, page.units.len(), page.handed_off), (1, 0, true));
    let starts = h.inv.executions.starts();
    assert_eq!(starts.len(), 1);
    assert_eq!(starts[0].1, format!("{EXECUTION}-p-2"));
    let input: serde_json::Value = serde_json::from_str(&starts[0].2).unwrap();
    assert_eq!(input["continuation"]["run"]["firstPage"], 1);
    assert_eq!(input["continuation"]["run"]["execution"], EXECUTION);
    assert_eq!(input["continuation"]["page"]["next"], 1);
}

/// Step Functions' limit on a state's input or output.
const STATE_LIMIT: usize = 262_144;

#[tokio::test]
async fn the_state_of_a_run_of_5000_sets_all_failed_stays_far_under_256_kib() {
    use crate::collect::{Collect, CollectInput, CollectPorts};
    use cfinv_core::{CacheBehavior, Change, Distribution, ObjectEvent, Origin};

    // 5,000 changes, one item per set (CFINV_MAX_SET_SIZE=1): 5,000 sets, every one refused.
    let distribution = Distribution {
        id: "E1".into(),
        origins: vec![Origin {
            id: "s3".into(),
            domain_name: "site.s3.amazonaws.com".into(),
            origin_path: String::new(),
        }],
        default_behavior: CacheBehavior::legacy("*", "s3", None),
        ..Default::default()
    };
    let bodies = (0..5000)
        .map(|i| serde_json::to_string(&ObjectEvent::new("site", format!("k/{i:05}"), Change::Created)).unwrap());
    let vars: std::collections::HashMap<&str, &str> = [
        ("CFINV_QUEUE_URL", "q"),
        ("CFINV_PLAN_BUCKET", "plans"),
        ("CFINV_MAX_SET_SIZE", "1"),
        ("CFINV_COST_POLICY", "exact"),
        ("CFINV_STACK", "stack"),
    ]
    .into_iter()
    .collect();
    let read = crate::settings::Vars(|k: &str| vars.get(k).map(|v| v.to_string()));
    let h = harness(&[]);
    let collect = Collect::new(
        CollectPorts {
            queue: FakeQueue::default().with_messages(bodies),
            dead_letter: None,
            objects: h.objects.clone(),
            cloudfront: FakeCloudFront { distributions: vec![distribution], ..Default::default() },
            executions: FakeExecutions::default(),
        },
        crate::settings::CollectSettings::read(&read).unwrap(),
        fixed_clock("2026-11-26T05:40:25Z"),
    );
    let input = CollectInput { execution: ExecutionName::try_from(EXECUTION).unwrap(), state_machine: None };
    let collected = collect.handle(input, "a1").await.unwrap();
    assert_eq!(collected.collected.sets, 5000);
    h.inv.cloudfront.always.lock().unwrap().insert("E1".into(), ErrorKind::AccessDenied);

    // The state as the definition holds it, at its largest moment of each kind.
    let mut largest = 0;
    let mut measure = |what: &str, v: serde_json::Value| {
        let size = v.to_string().len();
        assert!(size < STATE_LIMIT, "{what}: {size} bytes");
        largest = largest.max(size);
    };
    let collected_json = serde_json::to_value(&collected.collected).unwrap();
    let run = collected.run.clone();
    measure("after Collect", serde_json::json!({"run": run, "page": collected.page, "collected": collected_json}));
    let mut page = collected.page.clone();
    while page.next < run.pages {
        let input =
            PageInput { run: run.clone(), page: page.clone(), execution_arn: ARN.into(), state_machine: SM.into() };
        page = match h.inv.handle(InvalidateInput::Page(input)).await.unwrap() {
            InvalidateOutput::Page(p) => p,
            other => panic!("{other:?}"),
        };
        measure("after LoadPage", serde_json::json!({"run": run, "page": page, "collected": collected_json}));
        for unit in page.units.clone() {
            let mut st =
                UnitStep { run: run.clone(), unit, idle: 0, wait: 0, waiting_for: None, failed: vec![], done: false };
            while !st.done {
                st = match h.inv.handle(InvalidateInput::Step(st)).await.unwrap() {
                    InvalidateOutput::Step(InvalidateInput::Step(next)) => next,
                    other => panic!("{other:?}"),
                };
                measure("a unit's step", serde_json::to_value(&st).unwrap());
            }
        }
    }
    let input = ReportInput {
        execution: ExecutionName::try_from(EXECUTION).unwrap(),
        start_time: Some("2026-11-26T05:40:12Z".into()),
        run: run.clone(),
        page: page.clone(),
    };
    let report = h.report.handle(input).await.unwrap();
    assert_eq!(report.failed_count, 5000);
    let report_json = serde_json::to_value(&report).unwrap();
    measure(
        "after Report",
        serde_json::json!({"run": run, "page": page, "collected": collected_json, "report": report_json}),
    );
    let gate = GateInput {
        run: run.clone(),
        report: GateReport { failed_count: report.failed_count, gate_pages: report.gate_pages },
        execution_arn: ARN.into(),
    };
    h.inv.executions.redrives.store(1, std::sync::atomic::Ordering::SeqCst);
    let InvalidateOutput::Gate(g) = h.inv.handle(InvalidateInput::Gate(gate)).await.unwrap() else { panic!() };
    measure("after the gate", serde_json::to_value(&g).unwrap());
    assert_eq!(g.run.pages, 25, "5,000 sets in pages of 200");
    eprintln!("largest state of the 5,000-set run: {largest} bytes");
    assert!(largest < 16 * 1024, "the largest state is {largest} bytes, whatever the run's size");
}

#[tokio::test]
async fn a_unit_blocked_by_its_own_set_polls_and_one_blocked_by_others_waits_without_falling_behind() {
    let h = harness(&[("E1", vec![paths("a", 3000), paths("b", 3000)]), ("E2", vec![paths("c", 20)])]);
    let step = |unit: crate::run::Unit, idle: u32| UnitStep {
        run: h.run.clone(),
        unit,
        idle,
        wait: 0,
        waiting_for: None,
        failed: vec![],
        done: false,
    };
    let e1 = crate::run::Unit { distribution_id: "E1".into(), first: 1, last: 2, of: 2 };
    let InvalidateOutput::Step(InvalidateInput::Step(st)) =
        h.inv.handle(InvalidateInput::Step(step(e1, 0))).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (st.waiting_for.as_deref(), st.wait),
        (Some("capacity"), 5),
        "its own set 1 frees the room: the poll interval"
    );

    // Another tool fills E2; E2's unit has waited long already: it still asks every 10 s.
    h.inv.cloudfront.create_invalidation("E2", "other-tool", &paths("x", 2990)).await.unwrap();
    let e2 = crate::run::Unit { distribution_id: "E2".into(), first: 1, last: 1, of: 1 };
    for idle in [0, 60, 170] {
        let InvalidateOutput::Step(InvalidateInput::Step(st)) =
            h.inv.handle(InvalidateInput::Step(step(e2.clone(), idle))).await.unwrap()
        else {
            panic!()
        };
        assert_eq!((st.waiting_for.as_deref(), st.wait), (Some("capacity"), 10), "after {idle} waits");
    }
}
