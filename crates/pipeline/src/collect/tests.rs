//! The collect handler against in-memory ports.

use super::*;
use crate::fakes::*;
use crate::ports::ReceivedMessage;
use crate::sets::SetFile;
use crate::settings::{CollectSettings, Vars};
use cfinv_core::ObjectEvent;
use cfinv_core::{CacheBehavior, Change, Distribution, Origin};
use std::sync::atomic::Ordering;

fn settings(vars: &[(&str, &str)]) -> CollectSettings {
    let mut all = vec![("CFINV_QUEUE_URL", "q"), ("CFINV_PLAN_BUCKET", "plans"), ("CFINV_MAX_SET_SIZE", "3")];
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

fn collect(queue: FakeQueue, dlq: Option<FakeQueue>, s: CollectSettings) -> C {
    let cf = FakeCloudFront { distributions: vec![dist("E1"), dist("E2")], ..Default::default() };
    let ports = CollectPorts {
        queue,
        dead_letter: dlq,
        objects: FakeObjects::default(),
        cloudfront: cf,
        executions: FakeExecutions::default(),
    };
    Collect::new(ports, s, fixed_clock("2026-11-26T05:40:25Z"))
}

fn name(n: &str) -> ExecutionName {
    ExecutionName::try_from(n).unwrap()
}

fn input() -> CollectInput {
    CollectInput { execution: name("cfinv-10s-20261126T054010Z"), state_machine: Some("arn:sm".into()) }
}

#[tokio::test]
async fn drains_plans_stores_then_deletes() {
    let bodies: Vec<String> = (0..7).map(|i| body(&format!("k{i}"))).collect();
    let c = collect(FakeQueue::default().with_messages(bodies), None, settings(&[]));
    let out = c.handle(input()).await.unwrap();
    assert_eq!(out.messages, 7);
    assert_eq!(out.items, 14);
    let order: Vec<(usize, &str)> = out.sets.iter().map(|s| (s.set, s.distribution_id.as_str())).collect();
    assert_eq!(order, [(1, "E1"), (1, "E2"), (2, "E1"), (2, "E2"), (3, "E1"), (3, "E2")]);
    let first = "plans/cfinv-10s-20261126T054010Z/E1/set-0001.json";
    let stored: SetFile = serde_json::from_str(&c.ports.objects.get_now("plans", first).unwrap()).unwrap();
    assert_eq!(stored.paths, ["/k0", "/k1", "/k2"]);
    assert_eq!(c.ports.queue.deleted.lock().unwrap().len(), 7);
    assert!(!out.more);
    assert!(c.ports.executions.starts().is_empty());
}

#[tokio::test]
async fn nothing_is_deleted_when_storing_fails() {
    let c = collect(FakeQueue::default().with_messages(vec![body("a")]), None, settings(&[]));
    c.ports.objects.failing_puts.store(1, Ordering::SeqCst);
    let err = c.handle(input()).await.unwrap_err();
    assert_eq!(err.error_type(), "StorageUnavailable");
    assert!(c.ports.queue.deleted.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_retried_collect_returns_the_stored_plan() {
    let c = collect(FakeQueue::default().with_messages(vec![body("a")]), None, settings(&[]));
    let first = c.handle(input()).await.unwrap();
    c.ports
        .queue
        .waiting
        .lock()
        .unwrap()
        .extend(FakeQueue::default().with_messages(vec![body("b")]).waiting.lock().unwrap().drain(..));
    let second = c.handle(input()).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(c.ports.queue.waiting.lock().unwrap().len(), 1, "the retry did not drain");
}

#[tokio::test]
async fn a_bucket_unknown_to_the_cached_distributions_makes_collect_list_again() {
    let c = collect(FakeQueue::default().with_messages(vec![body("a")]), None, settings(&[]));
    c.handle(input()).await.unwrap();
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
    c.handle(CollectInput { execution: name("cfinv-later"), state_machine: None }).await.unwrap();
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
    let ports = CollectPorts {
        queue: q,
        dead_letter: None,
        objects: FakeObjects::default(),
        cloudfront: cf,
        executions: FakeExecutions::default(),
    };
    let c = Collect::new(ports, settings(&[]), fixed_clock("2026-11-26T05:40:25Z"));
    let out = c.handle(input()).await.unwrap();
    assert_eq!((out.items, out.skipped), (1, 1), "the creation under the zero-TTL policy is not cached");
    assert_eq!(out.sets[0].preview, ["/vod/b.mp4"]);
}

#[tokio::test]
async fn a_cache_policy_that_cannot_be_read_is_assumed_to_cache() {
    let run = |kind: ErrorKind| async move {
        let mut d = dist("E1");
        d.behaviors = vec![CacheBehavior::with_policy("/live/*", "s3", "aws-managed-new")];
        let cf = FakeCloudFront { distributions: vec![d], ..Default::default() };
        cf.policy_errors.lock().unwrap().insert("aws-managed-new".into(), kind);
        let q = FakeQueue::default().with_messages(vec![body("live/a.m3u8")]);
        let (objects, executions) = (FakeObjects::default(), FakeExecutions::default());
        let clock = fixed_clock("2026-11-26T05:40:25Z");
        let ports = CollectPorts { queue: q, dead_letter: None, objects, cloudfront: cf, executions };
        Collect::new(ports, settings(&[]), clock).handle(input()).await
    };
    let out = run(ErrorKind::AccessDenied).await.unwrap();
    // Assumed to cache, with query strings in its cache key (the safe side): every variant.
    assert_eq!(out.sets[0].preview, ["/live/a.m3u8*"], "invalidated, not skipped, and the run goes on");
    let transient = run(ErrorKind::Throttled).await;
    assert!(matches!(transient, Err(CollectError::CloudFront(_))), "the state machine retries it");
}

#[tokio::test]
async fn a_message_received_twice_in_one_drain_counts_once() {
    let q = FakeQueue::default().with_messages(vec![body("a"), body("b")]);
    let again = q.waiting.lock().unwrap()[0].clone();
    q.waiting.lock().unwrap().push_back(ReceivedMessage { receipt_handle: "r-again".into(), ..again });
    let c = collect(q, None, settings(&[]));
    let out = c.handle(input()).await.unwrap();
    assert_eq!((out.messages, out.items), (2, 4));
    let deleted = c.ports.queue.deleted.lock().unwrap().clone();
    assert_eq!(deleted, ["r-again", "r1"], "the newest receipt is the one deleted");
}

#[tokio::test]
async fn unreadable_messages_go_to_the_dead_letter_queue() {
    let q = FakeQueue::default().with_messages(vec![body("a"), "{not json".into()]);
    let c = collect(q, Some(FakeQueue::default()), settings(&[]));
    let out = c.handle(input()).await.unwrap();
    assert_eq!((out.messages, out.unreadable, out.items), (2, 1, 2));
    assert_eq!(c.ports.dead_letter.as_ref().unwrap().sent(), ["{not json"]);
    assert_eq!(c.ports.queue.deleted.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_budget_leaves_the_rest_and_starts_the_next_execution() {
    let bodies: Vec<String> = (0..25).map(|i| body(&format!("k{i}"))).collect();
    let c = collect(FakeQueue::default().with_messages(bodies), None, settings(&[("CFINV_MAX_MESSAGES", "12")]));
    let out = c.handle(input()).await.unwrap();
    assert_eq!(out.messages, 12);
    assert!(out.more);
    assert_eq!(c.ports.queue.waiting.lock().unwrap().len(), 13);
    let starts = c.ports.executions.starts();
    assert_eq!(starts[0].1, "cfinv-10s-20261126T054020Z");
}

#[tokio::test]
async fn empty_receives_end_the_drain_and_distributions_are_cached() {
    let c = collect(FakeQueue::default(), None, settings(&[("CFINV_EMPTY_RECEIVES", "3")]));
    let out = c.handle(input()).await.unwrap();
    assert_eq!((out.messages, out.sets.len()), (0, 0));
    assert_eq!(c.ports.queue.receives.load(Ordering::SeqCst), 3);
    let c = collect(FakeQueue::default().with_messages(vec![body("a")]), None, settings(&[]));
    c.handle(input()).await.unwrap();
    c.ports
        .queue
        .waiting
        .lock()
        .unwrap()
        .extend(FakeQueue::default().with_messages(vec![body("b")]).waiting.lock().unwrap().drain(..));
    c.handle(CollectInput { execution: name("cfinv-next"), state_machine: None }).await.unwrap();
    assert_eq!(c.ports.cloudfront.lists.load(Ordering::SeqCst), 1);
    let bad = serde_json::from_value::<CollectInput>(serde_json::json!({"execution": "bad/name"}));
    assert!(bad.is_err(), "a bad execution name is refused");
}
