//! The collect handler against in-memory ports.

use super::*;
use crate::fakes::*;
use crate::ports::ReceivedMessage;
use crate::run::{Page, RunKeys};
use crate::sets::{DistributionRecord, SetFile};
use crate::settings::{CollectSettings, Vars};
use cfinv_core::ObjectEvent;
use cfinv_core::{CacheBehavior, Change, Distribution, Origin};
use std::sync::atomic::Ordering;

fn settings(vars: &[(&str, &str)]) -> CollectSettings {
    let mut all = vec![
        ("CFINV_QUEUE_URL", "q"),
        ("CFINV_PLAN_BUCKET", "plans"),
        ("CFINV_MAX_SET_SIZE", "3"),
        ("CFINV_COST_POLICY", "exact"),
    ];
    all.extend_from_slice(vars);
    let map: std::collections::HashMap<String, String> =
        all.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    CollectSettings::read(&Vars(move |k: &str| map.get(k).cloned())).unwrap()
}

fn dist(id: &str) -> Distribution {
    Distribution {
        id: id.into(),
        origins: vec![Origin {
            id: "s3".into(),
            domain_name: "site.s3.amazonaws.com".into(),
            origin_path: String::new(),
        }],
        origin_groups: vec![],
        behaviors: vec![],
        default_behavior: CacheBehavior::legacy("*", "s3", None),
        ..Default::default()
    }
}

fn body(key: &str) -> String {
    serde_json::to_string(&ObjectEvent::new("site", key, Change::Created)).unwrap()
}

type C = Collect<FakeQueue, FakeObjects, FakeCloudFront, FakeExecutions>;

fn collect_with(queue: FakeQueue, dlq: Option<FakeQueue>, s: CollectSettings, cf: FakeCloudFront) -> C {
    let ports = CollectPorts {
        queue,
        dead_letter: dlq,
        objects: FakeObjects::default(),
        cloudfront: cf,
        executions: FakeExecutions::default(),
    };
    Collect::new(ports, s, fixed_clock("2026-11-26T05:40:25Z"))
}

fn collect(queue: FakeQueue, dlq: Option<FakeQueue>, s: CollectSettings) -> C {
    let cf = FakeCloudFront { distributions: vec![dist("E1"), dist("E2")], ..Default::default() };
    collect_with(queue, dlq, s, cf)
}

fn name(n: &str) -> ExecutionName {
    ExecutionName::try_from(n).unwrap()
}

const EXECUTION: &str = "cfinv-10s-20261126T054010Z";

fn input() -> CollectInput {
    CollectInput { execution: name(EXECUTION), state_machine: Some("arn:sm".into()) }
}

fn more(c: &C, keys: &[&str]) {
    let extra = FakeQueue::default().with_messages(keys.iter().map(|k| body(k)));
    let mut waiting = c.ports.queue.waiting.lock().unwrap();
    for (i, mut m) in extra.waiting.lock().unwrap().drain(..).enumerate() {
        m.message_id = format!("later{i}");
        m.receipt_handle = format!("later-r{i}");
        waiting.push_back(m);
    }
}

/// The stored paths of set `n` of distribution `d`.
fn stored_set(c: &C, out: &CollectOutput, d: &str, n: usize) -> Vec<String> {
    let keys = RunKeys::of("plans/", &out.run);
    let file: SetFile = serde_json::from_str(&c.ports.objects.get_now("plans", &keys.set(d, n)).unwrap()).unwrap();
    file.paths
}

#[tokio::test]
async fn drains_plans_stores_the_run_then_deletes() {
    let bodies: Vec<String> = (0..7).map(|i| body(&format!("k{i}"))).collect();
    let c = collect(FakeQueue::default().with_messages(bodies), None, settings(&[]));
    let out = c.handle(input(), "a1").await.unwrap();
    let got = &out.collected;
    assert_eq!((got.messages, got.items, got.distributions, got.sets), (7, 14, 2, 6));
    assert_eq!(stored_set(&c, &out, "E1", 1), ["/k0", "/k1", "/k2"]);
    assert_eq!(stored_set(&c, &out, "E2", 3), ["/k6"]);
    assert_eq!(
        (out.run.execution.as_str(), out.run.attempt.as_str(), out.run.pass.as_str(), out.run.pages),
        (EXECUTION, "a1", "p", 1)
    );
    assert_eq!((out.run.map_concurrency, out.page.next), (10, 0));
    let keys = RunKeys::of("plans/", &out.run);
    let page: Page = serde_json::from_str(&c.ports.objects.get_now("plans", &keys.page("p", 0)).unwrap()).unwrap();
    let units: Vec<(&str, usize, usize, usize)> =
        page.units.iter().map(|u| (u.distribution_id.as_str(), u.first, u.last, u.of)).collect();
    assert_eq!(units, [("E1", 1, 3, 3), ("E2", 1, 3, 3)]);
    let record: DistributionRecord =
        serde_json::from_str(&c.ports.objects.get_now("plans", &keys.distribution("E1")).unwrap()).unwrap();
    assert_eq!((record.items, record.sets, record.events), (7, 3, 7));
    assert_eq!(got.plan_key, format!("plans/{EXECUTION}/plan.json"));
    assert_eq!(c.ports.queue.deleted.lock().unwrap().len(), 7);
    assert!(!got.more);
    assert!(c.ports.executions.starts().is_empty());
}

#[tokio::test]
async fn a_failure_to_store_gives_every_message_back_and_deletes_none() {
    let c = collect(FakeQueue::default().with_messages(vec![body("a"), "{not json".into()]), None, settings(&[]));
    c.ports.objects.failing_puts.store(100, Ordering::SeqCst);
    let err = c.handle(input(), "a1").await.unwrap_err();
    assert_eq!(err.error_type(), "StorageUnavailable");
    assert!(c.ports.queue.deleted.lock().unwrap().is_empty());
    let mut released = c.ports.queue.released.lock().unwrap().clone();
    released.sort();
    assert_eq!(released, ["r0", "r1"], "the readable and the unreadable message are visible again");
    assert_eq!(c.ports.queue.waiting.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_queue_failing_mid_drain_gives_back_what_was_received() {
    let bodies: Vec<String> = (0..15).map(|i| body(&format!("k{i}"))).collect();
    let c = collect(FakeQueue::default().with_messages(bodies), None, settings(&[]));
    c.ports.queue.fail_receives_from.store(2, Ordering::SeqCst);
    let err = c.handle(input(), "a1").await.unwrap_err();
    assert_eq!(err.error_type(), "QueueUnavailable");
    assert_eq!(c.ports.queue.released.lock().unwrap().len(), 10, "the first receive's ten");
    assert_eq!(c.ports.queue.waiting.lock().unwrap().len(), 15);
}

#[tokio::test]
async fn a_retried_collect_answers_with_the_stored_run_and_finishes_its_deletes() {
    let c = collect(FakeQueue::default().with_messages(vec![body("a")]), None, settings(&[]));
    let first = c.handle(input(), "a1").await.unwrap();
    // The first attempt's deletes did not happen (it died after storing): the message is back.
    c.ports.queue.deleted.lock().unwrap().clear();
    more(&c, &["b"]);
    let second = c.handle(input(), "a2").await.unwrap();
    assert_eq!(first, second);
    assert_eq!(c.ports.queue.waiting.lock().unwrap().len(), 1, "the retry did not drain");
    assert_eq!(c.ports.queue.deleted.lock().unwrap().clone(), ["r0"], "it deleted the first attempt's message");
}

#[tokio::test]
async fn of_two_collects_of_one_execution_the_one_that_stores_first_wins_and_the_other_gives_back() {
    let c = collect(FakeQueue::default().with_messages(vec![body("mine")]), None, settings(&[]));
    // Another attempt of this execution is storing its run at the same moment.
    let winner = collect(FakeQueue::default().with_messages(vec![body("theirs")]), None, settings(&[]));
    let theirs = winner.handle(input(), "a1").await.unwrap();
    let plan_key = format!("plans/{EXECUTION}/plan.json");
    let plan_json = winner.ports.objects.get_now("plans", &plan_key).unwrap();
    c.ports.objects.racing.lock().unwrap().insert(("plans".into(), plan_key), plan_json);

    let out = c.handle(input(), "a2").await.unwrap();
    assert_eq!(out, theirs, "the loser answers with the winner's run");
    assert_eq!(out.run.attempt, "a1");
    assert!(c.ports.queue.deleted.lock().unwrap().is_empty());
    assert_eq!(c.ports.queue.released.lock().unwrap().clone(), ["r0"], "its message is given back");
}

#[tokio::test]
async fn a_bucket_unknown_to_the_cached_distributions_makes_collect_list_again() {
    let c = collect(FakeQueue::default().with_messages(vec![body("a")]), None, settings(&[]));
    c.handle(input(), "a1").await.unwrap();
    assert_eq!(c.ports.cloudfront.lists.load(Ordering::SeqCst), 1);
    // An event for a bucket no listed distribution reaches: the cache is not trusted for it.
    let other =
        serde_json::to_string(&ObjectEvent { bucket: "new-site".into(), ..serde_json::from_str(&body("b")).unwrap() })
            .unwrap();
    c.ports
        .queue
        .waiting
        .lock()
        .unwrap()
        .extend(FakeQueue::default().with_messages(vec![other]).waiting.lock().unwrap().drain(..));
    c.handle(CollectInput { execution: name("cfinv-later"), state_machine: None }, "a1").await.unwrap();
    assert_eq!(c.ports.cloudfront.lists.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn custom_cache_policies_are_fetched_and_decide() {
    let mut d = dist("E1");
    d.behaviors = vec![CacheBehavior::with_policy("/live/*", "s3", "custom-zero")];
    let cf = FakeCloudFront {
        distributions: vec![d],
        policies: vec![cfinv_core::CachePolicy::from_fields(
            "custom-zero".into(),
            "no caching".into(),
            Some(0),
            Some(0),
            Some(0),
        )],
        ..Default::default()
    };
    let q = FakeQueue::default().with_messages(vec![body("live/a.m3u8"), body("vod/b.mp4")]);
    let c = collect_with(q, None, settings(&[]), cf);
    let out = c.handle(input(), "a1").await.unwrap();
    assert_eq!(
        (out.collected.items, out.collected.skipped),
        (1, 1),
        "the creation under the zero-TTL policy is not cached"
    );
    assert_eq!(stored_set(&c, &out, "E1", 1), ["/vod/b.mp4"]);
}

#[tokio::test]
async fn a_cache_policy_that_cannot_be_read_is_assumed_to_cache() {
    let run = |kind: ErrorKind| async move {
        let mut d = dist("E1");
        d.behaviors = vec![CacheBehavior::with_policy("/live/*", "s3", "aws-managed-new")];
        let cf = FakeCloudFront { distributions: vec![d], ..Default::default() };
        cf.policy_errors.lock().unwrap().insert("aws-managed-new".into(), kind);
        let q = FakeQueue::default().with_messages(vec![body("live/a.m3u8")]);
        let c = collect_with(q, None, settings(&[]), cf);
        let out = c.handle(input(), "a1").await;
        (out.as_ref().ok().map(|o| stored_set(&c, o, "E1", 1)), out.err())
    };
    let (paths, _) = run(ErrorKind::AccessDenied).await;
    // Assumed to cache, with query strings in its cache key (the safe side): every variant.
    assert_eq!(paths.unwrap(), ["/live/a.m3u8*"], "invalidated, not skipped, and the run goes on");
    let (_, transient) = run(ErrorKind::Throttled).await;
    assert!(matches!(transient, Some(CollectError::CloudFront(_))), "the state machine retries it");
}

#[tokio::test]
async fn a_message_received_twice_in_one_drain_counts_once() {
    let q = FakeQueue::default().with_messages(vec![body("a"), body("b")]);
    let again = q.waiting.lock().unwrap()[0].clone();
    q.waiting.lock().unwrap().push_back(ReceivedMessage { receipt_handle: "r-again".into(), ..again });
    let c = collect(q, None, settings(&[]));
    let out = c.handle(input(), "a1").await.unwrap();
    assert_eq!((out.collected.messages, out.collected.items), (2, 4));
    let deleted = c.ports.queue.deleted.lock().unwrap().clone();
    assert_eq!(deleted, ["r-again", "r1"], "the newest receipt is the one deleted");
}

#[tokio::test]
async fn unreadable_messages_go_to_the_dead_letter_queue() {
    let q = FakeQueue::default().with_messages(vec![body("a"), "{not json".into()]);
    let c = collect(q, Some(FakeQueue::default()), settings(&[]));
    let out = c.handle(input(), "a1").await.unwrap();
    assert_eq!((out.collected.messages, out.collected.unreadable, out.collected.items), (2, 1, 2));
    assert_eq!(c.ports.dead_letter.as_ref().unwrap().sent(), ["{not json"]);
    assert_eq!(c.ports.queue.deleted.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_budget_leaves_the_rest_and_starts_the_next_execution() {
    let bodies: Vec<String> = (0..25).map(|i| body(&format!("k{i}"))).collect();
    let c = collect(FakeQueue::default().with_messages(bodies), None, settings(&[("CFINV_MAX_MESSAGES", "12")]));
    let out = c.handle(input(), "a1").await.unwrap();
    assert_eq!(out.collected.messages, 12);
    assert!(out.collected.more);
    assert_eq!(c.ports.queue.waiting.lock().unwrap().len(), 13);
    let starts = c.ports.executions.starts();
    assert_eq!(starts[0].1, "cfinv-10s-20261126T054020Z");
}

#[tokio::test]
async fn a_hand_off_that_fails_fails_collect_and_its_retry_hands_off() {
    let bodies: Vec<String> = (0..25).map(|i| body(&format!("k{i}"))).collect();
    let s = settings(&[("CFINV_MAX_MESSAGES", "12")]);
    let cf = FakeCloudFront { distributions: vec![dist("E1")], ..Default::default() };
    let ports = CollectPorts {
        queue: FakeQueue::default().with_messages(bodies),
        dead_letter: None,
        objects: FakeObjects::default(),
        cloudfront: cf,
        executions: FakeExecutions::default().failing(ErrorKind::Unavailable),
    };
    let c = Collect::new(ports, s, fixed_clock("2026-11-26T05:40:25Z"));
    let err = c.handle(input(), "a1").await.unwrap_err();
    assert_eq!(err.error_type(), "StatesUnavailable", "retried by the state machine");
    assert_eq!(c.ports.queue.deleted.lock().unwrap().len(), 12, "what was planned is stored and deleted");
    // The retry finds plan.json and hands off again (here failing again: it keeps saying so).
    assert_eq!(c.handle(input(), "a2").await.unwrap_err().error_type(), "StatesUnavailable");
    assert_eq!(c.ports.executions.starts().len(), 2);
}

#[tokio::test]
async fn empty_receives_end_the_drain_and_distributions_are_cached() {
    let c = collect(FakeQueue::default(), None, settings(&[("CFINV_EMPTY_RECEIVES", "3")]));
    let out = c.handle(input(), "a1").await.unwrap();
    assert_eq!((out.collected.messages, out.collected.sets, out.run.pages), (0, 0, 0));
    assert_eq!(c.ports.queue.receives.load(Ordering::SeqCst), 3);
    let c = collect(FakeQueue::default().with_messages(vec![body("a")]), None, settings(&[]));
    c.handle(input(), "a1").await.unwrap();
    more(&c, &["b"]);
    c.handle(CollectInput { execution: name("cfinv-next"), state_machine: None }, "a1").await.unwrap();
    assert_eq!(c.ports.cloudfront.lists.load(Ordering::SeqCst), 1);
    let bad = serde_json::from_value::<CollectInput>(serde_json::json!({"execution": "bad/name"}));
    assert!(bad.is_err(), "a bad execution name is refused");
}

#[tokio::test]
async fn cache_tags_are_read_once_per_created_key_and_a_tenant_gets_its_own_folder() {
    // E1 is sent cache tags (the stack's default `add`, and its CacheTagConfig); EMT is a
    // multi-tenant distribution with one tenant, whose OriginPath parameter is filled.
    let mut tagged = dist("E1");
    tagged.cache_tag_header = Some("x-amz-meta-cache-tag".into());
    let mut saas = dist("EMT");
    saas.multi_tenant = true;
    saas.origins[0].origin_path = "/{{site}}".into();
    let tenant = cfinv_core::DistributionTenant {
        id: "dt_acme".into(),
        distribution_id: "EMT".into(),
        name: "acme".into(),
        domains: vec!["acme.example.com".into()],
        parameters: [("site".to_owned(), "acme".to_owned())].into(),
    };
    let cf = FakeCloudFront { distributions: vec![tagged, saas], tenants: vec![tenant], ..Default::default() };
    let bodies = vec![body("acme/a.html"), body("acme/a.html"), body("b.html")];
    let c =
        collect_with(FakeQueue::default().with_messages(bodies), None, settings(&[("CFINV_CACHE_TAGS", "add")]), cf);
    c.ports
        .objects
        .metadata
        .lock()
        .unwrap()
        .insert(("site".into(), "acme/a.html".into()), [("cache-tag".to_owned(), "Acme, page".to_owned())].into());
    let out = c.handle(input(), "a1").await.unwrap();
    // Two distinct created keys: two HeadObject calls, whatever the number of events.
    assert_eq!(c.ports.objects.heads.load(Ordering::SeqCst), 2);
    assert_eq!(stored_set(&c, &out, "E1", 1), ["#acme", "#page", "/acme/a.html"]);
    assert_eq!(stored_set(&c, &out, "E1", 2), ["/b.html"]);
    // The tenant's sets live under its target key, and its unit names it.
    assert_eq!(stored_set(&c, &out, "EMT_dt_acme", 1), ["/a.html"]);
    let keys = RunKeys::of("plans/", &out.run);
    let page: Page = serde_json::from_str(&c.ports.objects.get_now("plans", &keys.page("p", 0)).unwrap()).unwrap();
    let units: Vec<&str> = page.units.iter().map(|u| u.distribution_id.as_str()).collect();
    assert_eq!(units, ["E1", "EMT_dt_acme"]);
    let summary: serde_json::Value =
        serde_json::from_str(&c.ports.objects.get_now("plans", &keys.plan()).unwrap()).unwrap();
    assert_eq!(summary["distributions"][0]["tagItems"], 2);
    assert_eq!(summary["distributions"][1]["distributionTenantName"], "acme");
}

#[tokio::test]
async fn without_cache_tags_no_object_is_read() {
    let mut tagged = dist("E1");
    tagged.cache_tag_header = Some("x-amz-meta-cache-tag".into());
    let cf = FakeCloudFront { distributions: vec![tagged], ..Default::default() };
    let c = collect_with(FakeQueue::default().with_messages(vec![body("a.html")]), None, settings(&[]), cf);
    c.handle(input(), "a1").await.unwrap();
    assert_eq!(c.ports.objects.heads.load(Ordering::SeqCst), 0);
}
