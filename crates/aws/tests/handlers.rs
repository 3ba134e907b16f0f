//! The handlers, with the real AWS SDK, over real HTTP, against the emulated AWS.

mod emulator;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use cfinv_core::report::parse_error_file;
use cfinv_core::{Change, ObjectEvent};
use cfinv_pipeline::collect::{Collect, CollectInput, CollectPorts};
use cfinv_pipeline::execution::ExecutionName;
use cfinv_pipeline::ingest::Ingest;
use cfinv_pipeline::invalidate::{Invalidate, InvalidateInput, InvalidateOutput, UnitStep};
use cfinv_pipeline::ports::{Events, Executions, Objects, Queue};
use cfinv_pipeline::report::{Report, ReportInput};
use cfinv_pipeline::run::{Page, PageCursor, Run, RunKeys, Unit};
use cfinv_pipeline::sets::{Mark, SetFile};
use cfinv_pipeline::settings::{CollectSettings, IngestSettings, InvalidateSettings, ReportSettings, Vars};
use cfinv_pipeline::{Clock, ErrorName};
use emulator::{create_cache_policy, create_distribution, create_distribution_with, emulator, s3, unique};
use serde_json::{json, Value};

/// A fresh execution name.
fn exec() -> ExecutionName {
    ExecutionName::try_from(unique("exec")).expect("a valid execution name")
}

fn vars(pairs: &[(&str, &str)]) -> Vars<impl Fn(&str) -> Option<String>> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Vars(move |k: &str| map.get(k).cloned())
}

fn frozen_clock() -> Clock {
    let now = chrono::Utc::now();
    Arc::new(move || now)
}

async fn create_queue(clients: &cfinv_aws::Clients, name: &str) -> String {
    let sqs = aws_sdk_sqs::Client::new(&clients.config);
    sqs.create_queue().queue_name(name).send().await.expect("create queue").queue_url().expect("url").to_owned()
}

async fn create_bucket(clients: &cfinv_aws::Clients, name: &str) {
    s3(clients).create_bucket().bucket(name).send().await.expect("create bucket");
}

/// A site bucket behind a new distribution, and a plan bucket: (site, plans, distribution id).
async fn site_behind_a_distribution(clients: &cfinv_aws::Clients, name: &str) -> (String, String, String) {
    let (site, plans) = (unique(name), unique("plans"));
    create_bucket(clients, &site).await;
    create_bucket(clients, &plans).await;
    let dist = create_distribution(clients, &site, "").await;
    (site, plans, dist)
}

/// Receives everything visible in a queue (bodies), without deleting.
async fn receive_all(clients: &cfinv_aws::Clients, url: &str) -> Vec<String> {
    let sqs = aws_sdk_sqs::Client::new(&clients.config);
    let mut out = Vec::new();
    loop {
        let r = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(30)
            .wait_time_seconds(0)
            .send()
            .await
            .expect("receive");
        if r.messages().is_empty() {
            return out;
        }
        out.extend(r.messages().iter().filter_map(|m| m.body().map(str::to_owned)));
    }
}

fn record(name: &str, bucket: &str, key: &str) -> Value {
    json!({"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
           "eventTime": "2026-11-26T05:40:15.000Z", "eventName": name,
           "userIdentity": {"principalId": "AWS:AIDA"}, "requestParameters": {"sourceIPAddress": "10.0.0.1"},
           "responseElements": {"x-amz-request-id": "R", "x-amz-id-2": "I"},
           "s3": {"s3SchemaVersion": "1.0", "configurationId": "cfinv",
                  "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A"}, "arn": format!("arn:aws:s3:::{bucket}")},
                  "object": {"key": key, "size": 1, "eTag": "e", "sequencer": "0055AED6DCD90281E5"}}})
}

#[tokio::test]
async fn ingest_queues_what_the_tag_allows_and_starts_the_window_once() {
    let emu = emulator();
    let clients = emu.clients().await;
    let queue = create_queue(&clients, &unique("ingest")).await;
    let (site, bare) = (unique("site"), unique("bare"));
    create_bucket(&clients, &site).await;
    create_bucket(&clients, &bare).await;
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .tag_set(aws_sdk_s3::types::Tag::builder().key("exceptionPaths").value(" up/ ,tmp").build().unwrap())
        .build()
        .unwrap();
    s3(&clients).put_bucket_tagging().bucket(&site).tagging(tagging).send().await.expect("tag");
    let sfn = aws_sdk_sfn::Client::new(&clients.config);
    let definition = json!({"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 600, "End": true}}});
    let sm = sfn
        .create_state_machine()
        .name(unique("sm"))
        .definition(definition.to_string())
        .role_arn("arn:aws:iam::123456789012:role/cfinv")
        .send()
        .await
        .expect("state machine")
        .state_machine_arn()
        .to_owned();

    let settings =
        || IngestSettings::read(&vars(&[("CFINV_QUEUE_URL", &queue), ("CFINV_STATE_MACHINE_ARN", &sm)])).unwrap();
    let clock = frozen_clock();
    let ingest = Ingest::new(clients.sqs(&queue), clients.sfn(), clients.s3(), settings(), clock.clone());
    let first = ingest
        .handle(&json!({"Records": [
            record("ObjectCreated:Put", &site, "a+b.jpg"),
            record("ObjectCreated:Put", &site, "up/1.jpg"),
            record("ObjectRemoved:Delete", &site, "up/2.jpg"),
            record("ObjectCreated:Copy", &bare, "%ED%95%9C/x%2By.txt"),
        ]}))
        .await
        .expect("ingest");
    assert_eq!(first.queued, 3);
    assert_eq!(first.skipped, [("exception-path".to_owned(), 1)]);
    ingest.handle(&json!({"Records": [record("ObjectCreated:Put", &site, "b")]})).await.expect("warm");
    // A cold container in the same window calls StartExecution again: same name, same input.
    let cold = Ingest::new(clients.sqs(&queue), clients.sfn(), clients.s3(), settings(), clock);
    cold.handle(&json!({"Records": [record("ObjectCreated:Put", &site, "c")]})).await.expect("cold");

    let executions = sfn.list_executions().state_machine_arn(&sm).send().await.expect("list").executions().to_vec();
    assert_eq!(executions.len(), 1, "one execution for the window");
    assert_eq!(Some(executions[0].name()), first.execution.as_deref());
    let mut keys: Vec<String> = receive_all(&clients, &queue)
        .await
        .iter()
        .map(|b| serde_json::from_str::<ObjectEvent>(b).expect("an ObjectEvent").key)
        .collect();
    keys.sort();
    assert_eq!(keys, ["a b.jpg", "b", "c", "up/2.jpg", "한/x+y.txt"]);
}

fn event_body(bucket: &str, key: &str) -> String {
    serde_json::to_string(&ObjectEvent::new(bucket, key, Change::Created)).unwrap()
}

async fn fill_queue(clients: &cfinv_aws::Clients, url: &str, bodies: Vec<String>) {
    let sqs = aws_sdk_sqs::Client::new(&clients.config);
    for chunk in bodies.chunks(10) {
        let entries: Vec<SendMessageBatchRequestEntry> = chunk
            .iter()
            .enumerate()
            .map(|(i, b)| SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(b).build().unwrap())
            .collect();
        let out = sqs.send_message_batch().queue_url(url).set_entries(Some(entries)).send().await.expect("send");
        assert!(out.failed().is_empty());
    }
}

/// The collect handler on the emulator's clients, with these settings.
fn collector(
    clients: &cfinv_aws::Clients,
    queue: &str,
    plan_bucket: &str,
    extra: &[(&str, &str)],
) -> Collect<cfinv_aws::SqsQueue, cfinv_aws::S3Client, cfinv_aws::CloudFrontClient, cfinv_aws::SfnClient> {
    let settings = collect_settings(queue, plan_bucket, extra);
    let ports = CollectPorts {
        queue: clients.sqs(queue),
        dead_letter: None,
        objects: clients.s3(),
        cloudfront: clients.cloudfront(),
        executions: clients.sfn(),
    };
    Collect::new(ports, settings, frozen_clock())
}

fn collect_settings(queue: &str, plan_bucket: &str, extra: &[(&str, &str)]) -> CollectSettings {
    let mut all = vec![
        ("CFINV_QUEUE_URL", queue),
        ("CFINV_PLAN_BUCKET", plan_bucket),
        ("CFINV_RECEIVE_WAIT_SECONDS", "1"),
        ("CFINV_EMPTY_RECEIVES", "2"),
    ];
    all.extend_from_slice(extra);
    CollectSettings::read(&vars(&all)).unwrap()
}

#[tokio::test]
async fn collect_drains_ten_thousand_messages_into_sets_of_3000_and_deletes_them_after_storing() {
    let emu = emulator();
    let clients = emu.clients().await;
    let (site, plans, dist) = site_behind_a_distribution(&clients, "burst").await;
    let queue = create_queue(&clients, &unique("collect")).await;
    let keys: Vec<String> = (0..10_000).map(|i| format!("deploy/{i:05} file.js")).collect();
    fill_queue(&clients, &queue, keys.iter().map(|k| event_body(&site, k)).collect()).await;

    // The exact policy: this test is about draining and sets of 3000, not compaction.
    let collect = collector(
        &clients,
        &queue,
        &plans,
        &[("CFINV_VISIBILITY_TIMEOUT_SECONDS", "120"), ("CFINV_COST_POLICY", "exact")],
    );
    let out =
        collect.handle(CollectInput { execution: exec(), state_machine: None }, "attempt-1").await.expect("collect");
    assert_eq!(out.collected.messages, 10_000);
    let keys_of_run = RunKeys::of("plans/", &out.run);
    let mut stored = Vec::new();
    let mut sizes = Vec::new();
    for n in 1..=4 {
        let file: SetFile =
            serde_json::from_str(&get(&clients, &plans, &keys_of_run.set(&dist, n)).await.expect("set stored"))
                .unwrap();
        sizes.push(file.paths.len());
        stored.extend(file.paths);
    }
    assert_eq!(sizes, [3000, 3000, 3000, 1000]);
    assert!(get(&clients, &plans, &keys_of_run.set(&dist, 5)).await.is_none());
    let mut expected: Vec<String> = keys.iter().map(|k| format!("/{}", k.replace(' ', "%20"))).collect();
    expected.sort();
    stored.sort();
    assert_eq!(stored, expected, "every key planned once");

    // Deleted, not merely hidden: nothing visible, nothing in flight. (The counts are approximate
    // and refreshed lazily, as on AWS; the emulator refreshes them every half second.)
    tokio::time::sleep(Duration::from_millis(700)).await;
    let sqs = aws_sdk_sqs::Client::new(&clients.config);
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let attr = |n: aws_sdk_sqs::types::QueueAttributeName| attrs.attributes().and_then(|a| a.get(&n)).cloned();
    assert_eq!(attr(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages).as_deref(), Some("0"));
    assert_eq!(
        attr(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible).as_deref(),
        Some("0")
    );
}

/// An object's text, `None` when there is no such key.
async fn get(clients: &cfinv_aws::Clients, bucket: &str, key: &str) -> Option<String> {
    clients.s3().get(bucket, key).await.expect("get")
}

#[tokio::test]
async fn collect_gives_every_message_back_at_once_when_the_run_cannot_be_stored() {
    let emu = emulator();
    let clients = emu.clients().await;
    let (site, plans, _dist) = site_behind_a_distribution(&clients, "nostore").await;
    let queue = create_queue(&clients, &unique("nostore")).await;
    fill_queue(&clients, &queue, (0..25).map(|i| event_body(&site, &format!("k{i}"))).collect()).await;
    emu.fault("s3", "PutObject", "ServiceUnavailable", 1, &plans);

    // A visibility timeout far longer than the test: only ChangeMessageVisibility brings them back.
    let collect = collector(&clients, &queue, &plans, &[("CFINV_VISIBILITY_TIMEOUT_SECONDS", "600")]);
    let err = collect.handle(CollectInput { execution: exec(), state_machine: None }, "a1").await.unwrap_err();
    assert_eq!(err.error_type(), "StorageUnavailable");
    assert_eq!(receive_all(&clients, &queue).await.len(), 25, "every message is back in the queue, now");
}

#[tokio::test]
async fn collect_reads_custom_cache_policies() {
    let emu = emulator();
    let clients = emu.clients().await;
    let (site, plans) = (unique("live"), unique("plans"));
    create_bucket(&clients, &site).await;
    create_bucket(&clients, &plans).await;
    let zero = create_cache_policy(&clients, (0, 0, 0)).await;
    let dist = create_distribution_with(&clients, &site, "", &[("/live/*", &zero)]).await;
    let queue = create_queue(&clients, &unique("live")).await;
    fill_queue(&clients, &queue, vec![event_body(&site, "live/a.m3u8"), event_body(&site, "vod/b.mp4")]).await;

    let collect = collector(&clients, &queue, &plans, &[]);
    let out = collect.handle(CollectInput { execution: exec(), state_machine: None }, "a1").await.expect("collect");
    let keys = RunKeys::of("plans/", &out.run);
    let file: SetFile =
        serde_json::from_str(&get(&clients, &plans, &keys.set(&dist, 1)).await.expect("set 1")).unwrap();
    assert_eq!(file.paths, ["/vod/b.mp4"], "a creation on a behavior whose custom policy has MaxTTL 0 is not cached");
    assert!(get(&clients, &plans, &keys.set(&dist, 2)).await.is_none());
    let summary: Value =
        serde_json::from_str(&get(&clients, &plans, &out.collected.plan_key).await.expect("plan.json")).unwrap();
    assert_eq!(summary["skippedByReason"]["not-cached"], 1);
}

/// A run of one page, stored as collect stores it: (distribution, sets of paths).
async fn stored_run(clients: &cfinv_aws::Clients, plans: &str, sets: &[(&str, Vec<Vec<String>>)]) -> Run {
    let run = Run {
        execution: exec(),
        attempt: "a1".into(),
        pass: "p".into(),
        pages: 1,
        first_page: 0,
        round: 0,
        map_concurrency: 2,
    };
    let keys = RunKeys::of("plans/", &run);
    let s3 = clients.s3();
    let mut units = Vec::new();
    for (d, sets) in sets {
        for (i, paths) in sets.iter().enumerate() {
            let file = SetFile { distribution_id: d.to_string(), set: i + 1, of: sets.len(), paths: paths.clone() };
            s3.put(plans, &keys.set(d, i + 1), serde_json::to_string(&file).unwrap(), "application/json")
                .await
                .unwrap();
        }
        units.push(Unit { distribution_id: d.to_string(), first: 1, last: sets.len(), of: sets.len() });
    }
    let page = serde_json::to_string(&Page { units }).unwrap();
    s3.put(plans, &keys.page("p", 0), page, "application/json").await.unwrap();
    run
}

fn step_of(run: &Run, d: &str, of: usize) -> UnitStep {
    UnitStep {
        run: run.clone(),
        unit: Unit { distribution_id: d.into(), first: 1, last: of, of },
        idle: 0,
        wait: 0,
        waiting_for: None,
        failed: vec![],
        done: false,
    }
}

async fn step(
    invalidate: &Invalidate<
        cfinv_aws::S3Client,
        cfinv_aws::CloudFrontClient,
        cfinv_aws::SfnClient,
        cfinv_aws::EventsClient,
    >,
    st: UnitStep,
) -> Result<UnitStep, String> {
    match invalidate.handle(InvalidateInput::Step(st)).await {
        Ok(InvalidateOutput::Step(InvalidateInput::Step(next))) => Ok(next),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e.error_type().to_string()),
    }
}

#[tokio::test]
async fn a_step_submits_in_order_within_capacity_is_idempotent_and_names_cloudfront_errors() {
    let emu = emulator();
    let clients = emu.clients().await;
    let (_site, plans, dist) = site_behind_a_distribution(&clients, "inv").await;
    let settings =
        InvalidateSettings::read(&vars(&[("CFINV_PLAN_BUCKET", &plans), ("CFINV_STACK", "handlers")])).unwrap();
    let invalidate =
        Invalidate::new(clients.s3(), clients.cloudfront(), clients.sfn(), clients.events(), settings, frozen_clock());
    let full: Vec<String> = (0..3000).map(|i| format!("/p{i:04}")).collect();
    let run = stored_run(&clients, &plans, &[(&dist, vec![vec!["/a%20b.jpg".into(), "/c".into()], full])]).await;
    let keys = RunKeys::of("plans/", &run);
    let cf = aws_sdk_cloudfront::Client::new(&clients.config);
    let invalidations = || async {
        let listed = cf.list_invalidations().distribution_id(&dist).send().await.unwrap();
        listed.invalidation_list().map(|l| l.items().len()).unwrap_or(0)
    };

    // Transient errors are the state machine's to retry: the step fails with their name.
    emu.fault("cloudfront", "CreateInvalidation", "Throttling", 1, &dist);
    assert_eq!(step(&invalidate, step_of(&run, &dist, 2)).await.unwrap_err(), "Throttled");

    // Set 1 goes; set 2 (3000 paths) does not fit beside it: the step says to wait for capacity.
    let st = step(&invalidate, step_of(&run, &dist, 2)).await.expect("step");
    assert_eq!((st.done, st.waiting_for.as_deref()), (false, Some("capacity")));
    assert_eq!(invalidations().await, 1);
    assert!(get(&clients, &plans, &keys.marker(&dist, 1, Mark::Accepted.as_str())).await.is_some());
    // The same step again (its answer was lost): CloudFront has the set by its CallerReference.
    step(&invalidate, step_of(&run, &dist, 2)).await.expect("repeat");
    assert_eq!(invalidations().await, 1, "a repeated step creates nothing");

    // An AccessDenied is the set's, recorded, and told on the bus; the step goes on.
    let other: Vec<String> = vec!["/x".into()];
    let run2 = stored_run(&clients, &plans, &[(&dist, vec![other])]).await;
    emu.fault("cloudfront", "CreateInvalidation", "AccessDenied", 1, &dist);
    // Wait until the first run's set 1 has completed (the emulator's invalidations take a moment).
    let mut st2 = step(&invalidate, step_of(&run2, &dist, 1)).await.expect("step");
    for _ in 0..50 {
        if st2.done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        st2 = step(&invalidate, st2).await.expect("step");
    }
    assert!(st2.done);
    let failed =
        get(&clients, &plans, &RunKeys::of("plans/", &run2).marker(&dist, 1, "failed")).await.expect("failed marker");
    assert!(failed.contains("AccessDenied"), "{failed}");

    let gone = stored_run(&clients, &plans, &[("ENOSUCHDIST1", vec![vec!["/x".into()]])]).await;
    let st = step(&invalidate, step_of(&gone, "ENOSUCHDIST1", 1))
        .await
        .expect("a missing distribution is the set's failure");
    assert!(st.done);
    let failed =
        get(&clients, &plans, &RunKeys::of("plans/", &gone).marker("ENOSUCHDIST1", 1, "failed")).await.unwrap();
    assert!(failed.contains("NoSuchDistribution"), "{failed}");
}

#[tokio::test]
async fn report_writes_the_seed_error_file_and_one_alert() {
    let emu = emulator();
    let clients = emu.clients().await;
    let (plans, errors) = (unique("plans"), unique("errors"));
    create_bucket(&clients, &plans).await;
    create_bucket(&clients, &errors).await;
    let sns = aws_sdk_sns::Client::new(&clients.config);
    let topic = sns.create_topic().name(unique("alerts")).send().await.unwrap().topic_arn().unwrap().to_owned();
    let run =
        stored_run(&clients, &plans, &[("EREPORT1", vec![vec!["/a".into(), "/b%20c".into()], vec!["/d".into()]])])
            .await;
    let keys = RunKeys::of("plans/", &run);
    for n in [1, 2] {
        let failed =
            json!({"error": "AccessDenied", "cause": "not allowed", "pass": "p", "failedAt": "2026-11-26T05:40:30Z"});
        clients
            .s3()
            .put(&plans, &keys.marker("EREPORT1", n, "failed"), failed.to_string(), "application/json")
            .await
            .unwrap();
    }
    let settings = ReportSettings::read(&vars(&[
        ("CFINV_PLAN_BUCKET", &plans),
        ("CFINV_ERROR_BUCKET", &errors),
        ("CFINV_TOPIC_ARN", &topic),
    ]))
    .unwrap();
    let report = Report::new(clients.s3(), clients.sns(), settings, frozen_clock());
    let out = report
        .handle(ReportInput {
            execution: run.execution.clone(),
            start_time: Some("2026-11-26T05:40:22.5Z".into()),
            run: run.clone(),
            page: PageCursor { next: 1, ..PageCursor::default() },
        })
        .await
        .expect("report");
    assert_eq!((out.failed_count, out.error_files, out.gate_pages), (2, 1, 1));
    let listed = clients.s3().list(&errors, "invalidation_error/").await.unwrap();
    assert_eq!(listed.len(), 1);
    let key = &listed[0];
    assert!(key.starts_with("invalidation_error/20261126054022") && key.ends_with("_EREPORT1.txt"), "{key}");
    let text = get(&clients, &errors, key).await.expect("error file");
    assert_eq!(
        text,
        "CloudFront Id [EREPORT1]\n(Set 1 Start)\n/a\n/b%20c\n(Set 1 End)\n(Set 2 Start)\n/d\n(Set 2 End)\n"
    );
    assert_eq!(parse_error_file(&text).unwrap().sets.len(), 2);

    let alerts: Vec<Value> = emu.sns_messages().into_iter().filter(|m| m["topicArn"] == topic.as_str()).collect();
    assert_eq!(alerts.len(), 1, "one alert");
    assert_eq!(alerts[0]["subject"], "[Error] CloudFront Invalidation");
    assert_eq!(
        alerts[0]["message"],
        format!("bucket : {errors}\n\n{key}\n\nReasons:\nEREPORT1 set 1: AccessDenied: not allowed\nEREPORT1 set 2: AccessDenied: not allowed\n")
    );
}

/// The adapters the pipeline's newer ports rest on, against the emulator.
#[tokio::test]
async fn conditional_puts_released_messages_queue_depth_history_and_events() {
    let emu = emulator();
    let clients = emu.clients().await;
    let bucket = unique("cond");
    create_bucket(&clients, &bucket).await;
    let s3 = clients.s3();
    assert!(s3.put_new(&bucket, "plan.json", "first".into(), "application/json").await.unwrap());
    assert!(!s3.put_new(&bucket, "plan.json", "second".into(), "application/json").await.unwrap(), "If-None-Match");
    assert_eq!(get(&clients, &bucket, "plan.json").await.as_deref(), Some("first"));
    assert_eq!(s3.list(&bucket, "plan").await.unwrap(), ["plan.json"]);

    let url = create_queue(&clients, &unique("release")).await;
    fill_queue(&clients, &url, (0..12).map(|i| format!("m{i}")).collect()).await;
    let queue = clients.sqs(&url);
    let mut received = Vec::new();
    while received.len() < 12 {
        let batch = queue.receive(10, 0, 600).await.unwrap();
        assert!(!batch.is_empty());
        received.extend(batch);
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(queue.depth().await.unwrap(), cfinv_pipeline::ports::QueueDepth { visible: 0, in_flight: 12 });
    let receipts: Vec<cfinv_pipeline::ports::Delete> = received
        .iter()
        .map(|m| cfinv_pipeline::ports::Delete { id: m.message_id.clone(), receipt_handle: m.receipt_handle.clone() })
        .collect();
    assert_eq!(cfinv_pipeline::queue::release_until_accepted(&queue, &receipts, 2).await, 0);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(queue.depth().await.unwrap().visible, 12, "visible again at once");

    let sfn = aws_sdk_sfn::Client::new(&clients.config);
    let definition =
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}});
    let sm = sfn
        .create_state_machine()
        .name(unique("hist"))
        .definition(definition.to_string())
        .role_arn("arn:aws:iam::123456789012:role/cfinv")
        .send()
        .await
        .unwrap()
        .state_machine_arn()
        .to_owned();
    let name = unique("h");
    clients.sfn().start(&sm, &name, "{}").await.unwrap();
    let arn = cfinv_pipeline::window::execution_arn(&sm, &name);
    let mut events = 0;
    // Up to 30 s: a loaded machine runs the emulator's interpreter slowly.
    for _ in 0..300 {
        events = clients.sfn().history_events(&arn).await.unwrap();
        if !clients.sfn().is_running(&arn).await.unwrap() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // ExecutionStarted, PassStateEntered/Exited twice, ExecutionSucceeded.
    assert_eq!(events, 6);

    clients
        .events()
        .put("Invalidation Completed", &json!({"distributionId": "E1"}).to_string())
        .await
        .expect("PutEvents");
}

#[tokio::test]
async fn the_state_machine_loads_and_runs_in_the_emulator() {
    let emu = emulator();
    let clients = emu.clients().await;
    let arn = |name: &str| format!("arn:aws:lambda:us-east-1:123456789012:function:{name}");
    let values: BTreeMap<String, String> = [
        ("CollectFunctionArn".to_owned(), arn(&unique("collect"))),
        ("InvalidateFunctionArn".to_owned(), arn("invalidate")),
        ("ReportFunctionArn".to_owned(), arn("report")),
    ]
    .into_iter()
    .collect();
    let definition =
        cfinv_pipeline::statemachine::render(cfinv_pipeline::statemachine::DEFINITION, &values).expect("render");
    let sfn = aws_sdk_sfn::Client::new(&clients.config);
    let sm = sfn
        .create_state_machine()
        .name(unique("cfinv"))
        .definition(definition)
        .role_arn("arn:aws:iam::123456789012:role/cfinv")
        .send()
        .await
        .expect("the definition loads")
        .state_machine_arn()
        .to_owned();
    // Run it: the Wait passes (its time is in the past) and Collect is attempted; the function does
    // not exist here, so the execution fails at Collect, which proves the interpreter parsed and ran it.
    let input = json!({"window": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:00:10Z", "seconds": 10},
                       "waitUntil": "2026-01-01T00:00:12Z"});
    let exec = sfn
        .start_execution()
        .state_machine_arn(&sm)
        .name(unique("run"))
        .input(input.to_string())
        .send()
        .await
        .expect("start")
        .execution_arn()
        .to_owned();
    let mut status = String::new();
    for _ in 0..100 {
        let d = sfn.describe_execution().execution_arn(&exec).send().await.expect("describe");
        status = d.status().as_str().to_owned();
        if status != "RUNNING" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "FAILED");
    let history = sfn.get_execution_history().execution_arn(&exec).send().await.expect("history");
    let entered: Vec<String> =
        history.events().iter().filter_map(|e| e.state_entered_event_details().map(|d| d.name().to_owned())).collect();
    assert_eq!(entered, ["IsContinuation", "WaitForWindow", "Collect"]);
}
