//! The collect function: drain the queue, plan, store the sets, and only then delete the messages.
//!
//! - Draining uses long polls and stops after a few consecutive empty ones (an empty receive is not
//!   proof of an empty queue), or at the message or time budget, leaving the rest for the next
//!   execution, which it starts.
//! - Distributions are listed (every page) and custom cache policies fetched, then reused by a warm
//!   container for a short while.
//! - Sets go to S3 (a 3000-path set is larger than a Step Functions payload); the output carries
//!   one small reference per set. `plan.json` is written last: its presence means this execution's
//!   collect finished, so a retried collect returns the stored answer instead of draining again and
//!   orphaning the sets of the first attempt.
//! - A message that cannot be read is moved to the dead-letter queue (or, without one, left for the
//!   queue's redrive policy): it never blocks the others.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use cfinv_core::plan::Planner;
use cfinv_core::{CachePolicies, Exceptions, ObjectEvent, Plan, TtlSettings};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::{info, warn};

use crate::ports::{
    CloudFront, Delete, ErrorKind, Executions, Objects, OutgoingMessage, PortError, Queue, ReceivedMessage,
};
use crate::sets::{plan_key, set_key, SetFile, SetRef};
use crate::settings::CollectSettings;
use crate::window::{start_execution, Started};
use crate::{Clock, ErrorName, ErrorType};

/// How many paths of each set the Map item shows, and how many characters of each: enough to
/// recognise a set in the console, small enough that hundreds of sets fit a 256 KiB payload.
const PREVIEW: usize = 2;
const PREVIEW_CHARS: usize = 100;
/// How many skipped entries `plan.json` lists one by one (all are counted).
const SKIPPED_LISTED: usize = 1000;

/// The collect step's input (from the state machine).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectInput {
    /// `$$.Execution.Name`.
    pub execution: String,
    /// `$$.StateMachine.Id`, to start the next execution when a backlog is left.
    #[serde(default)]
    pub state_machine: Option<String>,
}

/// The collect step's output: small, whatever the number of paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectOutput {
    pub execution: String,
    /// Messages drained.
    pub messages: usize,
    /// Messages that could not be read (moved aside).
    pub unreadable: usize,
    /// Paths planned, over all distributions.
    pub paths: usize,
    /// Events or (event, distribution) pairs that gave no path.
    pub skipped: usize,
    /// One per set, first sets of every distribution first.
    pub sets: Vec<SetRef>,
    /// True when the drain stopped at a budget; the next execution was started.
    pub more: bool,
    /// Where the full plan is.
    pub plan_key: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("cannot receive from the queue: {0}")]
    QueueUnavailable(#[source] PortError),
    #[error("cannot list distributions: {0}")]
    CloudFront(#[source] PortError),
    #[error("cannot store the plan: {0}")]
    StorageUnavailable(#[source] PortError),
}

impl ErrorName for CollectError {
    fn error_type(&self) -> ErrorType {
        match self {
            CollectError::InvalidInput(_) => ErrorType::InvalidInput,
            CollectError::QueueUnavailable(_) => ErrorType::QueueUnavailable,
            CollectError::CloudFront(e) if e.kind == ErrorKind::AccessDenied => ErrorType::AccessDenied,
            CollectError::CloudFront(e) if e.kind == ErrorKind::Throttled => ErrorType::Throttled,
            CollectError::CloudFront(_) => ErrorType::CloudFrontUnavailable,
            CollectError::StorageUnavailable(_) => ErrorType::StorageUnavailable,
        }
    }
}

/// Execution names end up in S3 keys and CallerReferences: keep them to what Step Functions names
/// may hold and logging accepts.
pub fn check_execution_name(name: &str) -> Result<(), String> {
    if !name.is_empty() && name.len() <= 80 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(())
    } else {
        Err(format!("execution name {name:?} must be 1-80 letters, digits, - or _"))
    }
}

/// The collect handler, built once per container.
pub struct Collect<Q, O, C, E> {
    queue: Q,
    dead_letter: Option<Q>,
    objects: O,
    cloudfront: C,
    executions: E,
    settings: CollectSettings,
    clock: Clock,
    planner: Mutex<Option<(Instant, Arc<Planner>)>>,
}

#[derive(Clone, Copy)]
enum Seen {
    Event(usize),
    Unreadable(usize),
}

struct Drained {
    events: Vec<ObjectEvent>,
    /// Receipts of the messages whose events are in `events`.
    receipts: Vec<Delete>,
    unreadable: Vec<ReceivedMessage>,
    messages: usize,
    more: bool,
}

impl<Q: Queue, O: Objects, C: CloudFront, E: Executions> Collect<Q, O, C, E> {
    pub fn new(
        queue: Q,
        dead_letter: Option<Q>,
        objects: O,
        cloudfront: C,
        executions: E,
        settings: CollectSettings,
        clock: Clock,
    ) -> Self {
        Collect { queue, dead_letter, objects, cloudfront, executions, settings, clock, planner: Mutex::new(None) }
    }

    pub async fn handle(&self, input: CollectInput) -> Result<CollectOutput, CollectError> {
        check_execution_name(&input.execution).map_err(CollectError::InvalidInput)?;
        let s = &self.settings;
        let summary_key = plan_key(&s.plan_prefix, &input.execution);
        if let Some(stored) = self.stored_output(&summary_key).await? {
            info!(execution = %input.execution, sets = stored.sets.len(), "collect already finished for this execution; returning its plan");
            return Ok(stored);
        }

        let drained = self.drain().await?;
        let unreadable = drained.unreadable.len();
        let plan = if drained.events.is_empty() {
            Plan::default()
        } else {
            let (mut planner, cached) = self.planner(false).await?;
            // A bucket that no cached distribution reaches may belong to a distribution created
            // since the cache was filled: look again before calling its events `no-origin`.
            if cached && drained.events.iter().any(|e| planner.distributions_for_bucket(&e.bucket).is_empty()) {
                planner = self.planner(true).await?.0;
            }
            planner.plan(&drained.events, &Exceptions::new())
        };

        let sets = self.store_sets(&input.execution, &plan).await?;
        let output = CollectOutput {
            execution: input.execution.clone(),
            messages: drained.messages,
            unreadable,
            paths: plan.path_count(),
            skipped: plan.skipped.len(),
            sets,
            more: drained.more,
            plan_key: summary_key.clone(),
        };
        let summary = summary_json(&output, &plan, &drained.events);
        self.objects
            .put(&s.plan_bucket, &summary_key, summary, "application/json")
            .await
            .map_err(CollectError::StorageUnavailable)?;

        // Stored: now, and only now, the messages may go.
        self.set_aside(&drained.unreadable).await;
        self.delete(&drained.receipts).await;
        if drained.more {
            self.start_next(input.state_machine.as_deref()).await;
        }
        for inv in &plan.invalidations {
            info!(execution = %input.execution, distribution = %inv.distribution_id, paths = inv.paths.len(), sets = inv.sets.len(), "planned");
        }
        info!(
            execution = %input.execution,
            messages = output.messages,
            unreadable,
            paths = output.paths,
            skipped = output.skipped,
            sets = output.sets.len(),
            more = output.more,
            "collected"
        );
        Ok(output)
    }

    async fn stored_output(&self, key: &str) -> Result<Option<CollectOutput>, CollectError> {
        let stored =
            self.objects.get(&self.settings.plan_bucket, key).await.map_err(CollectError::StorageUnavailable)?;
        Ok(stored.and_then(|text| {
            let v: serde_json::Value = serde_json::from_str(&text).ok()?;
            serde_json::from_value(v.get("output")?.clone()).ok()
        }))
    }

    async fn drain(&self) -> Result<Drained, CollectError> {
        let s = &self.settings;
        let started = Instant::now();
        let mut out =
            Drained { events: Vec::new(), receipts: Vec::new(), unreadable: Vec::new(), messages: 0, more: false };
        let mut empty = 0;
        let mut seen: HashMap<String, Seen> = HashMap::new();
        loop {
            if out.messages >= s.max_messages || started.elapsed() >= s.drain_budget {
                out.more = true;
                break;
            }
            let max = (s.max_messages - out.messages).min(10) as u32;
            let batch = self
                .queue
                .receive(max, s.receive_wait_seconds, s.visibility_timeout_seconds)
                .await
                .map_err(CollectError::QueueUnavailable)?;
            if batch.is_empty() {
                empty += 1;
                if empty >= s.empty_receives {
                    break;
                }
                continue;
            }
            empty = 0;
            for m in batch {
                // Received again within this drain (its visibility timeout ran out): keep the newest
                // receipt, count and plan it once.
                if let Some(&i) = seen.get(&m.message_id) {
                    match i {
                        Seen::Event(i) => out.receipts[i].receipt_handle = m.receipt_handle,
                        Seen::Unreadable(i) => out.unreadable[i] = m,
                    }
                    continue;
                }
                out.messages += 1;
                match serde_json::from_str::<ObjectEvent>(&m.body) {
                    Ok(ev) => {
                        seen.insert(m.message_id.clone(), Seen::Event(out.receipts.len()));
                        out.events.push(ev);
                        out.receipts.push(Delete { id: m.message_id, receipt_handle: m.receipt_handle });
                    }
                    Err(e) => {
                        warn!(message_id = %m.message_id, receive_count = m.receive_count, error = %e, "unreadable message");
                        seen.insert(m.message_id.clone(), Seen::Unreadable(out.unreadable.len()));
                        out.unreadable.push(m);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The planner for the current distributions, from the warm cache when fresh.
    /// The planner, and whether it came from the warm cache.
    async fn planner(&self, refresh: bool) -> Result<(Arc<Planner>, bool), CollectError> {
        if !refresh {
            if let Ok(cache) = self.planner.lock() {
                if let Some((at, p)) = cache.as_ref() {
                    if at.elapsed() < self.settings.distribution_cache {
                        return Ok((p.clone(), true));
                    }
                }
            }
        }
        let listed = self.cloudfront.list_distributions().await.map_err(CollectError::CloudFront)?;
        for s in &listed.skipped {
            warn!(problem = %s, "distribution skipped");
        }
        let mut policies = CachePolicies::managed();
        let mut custom: Vec<&str> = listed
            .distributions
            .iter()
            .flat_map(|d| d.behaviors.iter().chain(std::iter::once(&d.default_behavior)))
            .filter_map(|b| match &b.ttl {
                TtlSettings::Policy { id } if policies.get(id).is_none() => Some(id.as_str()),
                _ => None,
            })
            .collect();
        custom.sort_unstable();
        custom.dedup();
        for id in custom {
            match self.cloudfront.cache_policy(id).await {
                Ok(Some(p)) => policies.insert(p),
                Ok(None) => warn!(policy = id, "cache policy not found; assuming it caches"),
                // A policy we may not read (an AWS-managed one newer than our list, or a narrower
                // role) is assumed to cache, as an unknown one is: invalidating too much costs a
                // little, failing the whole run would invalidate nothing.
                Err(e)
                    if matches!(e.kind, ErrorKind::AccessDenied | ErrorKind::NotFound | ErrorKind::InvalidArgument) =>
                {
                    warn!(policy = id, error = %e, "cannot read the cache policy; assuming it caches")
                }
                Err(e) => return Err(CollectError::CloudFront(e)),
            }
        }
        let planner = Arc::new(Planner::new(&listed.distributions, &policies, self.settings.plan_options));
        for w in planner.warnings() {
            warn!(distribution = %w.distribution_id, "{}", w.message);
        }
        info!(distributions = listed.distributions.len(), "listed distributions");
        if let Ok(mut cache) = self.planner.lock() {
            *cache = Some((Instant::now(), planner.clone()));
        }
        Ok((planner, false))
    }

    async fn store_sets(&self, execution: &str, plan: &Plan) -> Result<Vec<SetRef>, CollectError> {
        let s = &self.settings;
        let mut refs = Vec::new();
        for inv in &plan.invalidations {
            let of = inv.sets.len();
            for (i, set) in inv.sets().enumerate() {
                let number = i + 1;
                let key = set_key(&s.plan_prefix, execution, &inv.distribution_id, number);
                let file = SetFile {
                    distribution_id: inv.distribution_id.to_string(),
                    set: number,
                    of,
                    paths: set.iter().map(|p| p.to_string()).collect(),
                };
                let body = serde_json::to_string(&file).unwrap_or_default();
                self.objects
                    .put(&s.plan_bucket, &key, body, "application/json")
                    .await
                    .map_err(CollectError::StorageUnavailable)?;
                refs.push(SetRef {
                    distribution_id: file.distribution_id,
                    set: number,
                    of,
                    key,
                    path_count: set.len(),
                    preview: set.iter().take(PREVIEW).map(|p| p.chars().take(PREVIEW_CHARS).collect()).collect(),
                });
            }
        }
        // First sets of every distribution first: with low Map concurrency, every distribution
        // gets its first invalidation early, and a distribution's next set waits for its previous
        // one (CloudFront's in-progress limit) while others proceed.
        refs.sort_by(|a, b| (a.set, &a.distribution_id).cmp(&(b.set, &b.distribution_id)));
        Ok(refs)
    }

    async fn set_aside(&self, unreadable: &[ReceivedMessage]) {
        let Some(dlq) = &self.dead_letter else {
            if !unreadable.is_empty() {
                warn!(count = unreadable.len(), "unreadable messages left for the queue's redrive policy");
            }
            return;
        };
        for chunk in unreadable.chunks(10) {
            let out: Vec<OutgoingMessage> =
                chunk.iter().map(|m| OutgoingMessage { id: m.message_id.clone(), body: m.body.clone() }).collect();
            let failed = match dlq.send_batch(&out).await {
                Ok(failed) => failed,
                Err(e) => {
                    warn!(error = %e, "cannot move unreadable messages to the dead-letter queue; left in the queue");
                    continue;
                }
            };
            let moved: Vec<Delete> = chunk
                .iter()
                .filter(|m| !failed.contains(&m.message_id))
                .map(|m| Delete { id: m.message_id.clone(), receipt_handle: m.receipt_handle.clone() })
                .collect();
            warn!(moved = moved.len(), "unreadable messages moved to the dead-letter queue");
            self.delete(&moved).await;
        }
    }

    /// Deletes messages, retrying refused entries. What stays undeleted comes back after the
    /// visibility timeout and is planned again: a duplicate invalidation, never a lost one.
    async fn delete(&self, receipts: &[Delete]) {
        let mut undeleted = 0;
        for chunk in receipts.chunks(10) {
            let mut pending: Vec<Delete> = chunk.to_vec();
            for _ in 0..3 {
                match self.queue.delete_batch(&pending).await {
                    Ok(failed) => pending.retain(|d| failed.contains(&d.id)),
                    Err(e) => warn!(error = %e, "DeleteMessageBatch failed"),
                }
                if pending.is_empty() {
                    break;
                }
            }
            undeleted += pending.len();
        }
        if undeleted > 0 {
            warn!(undeleted, "messages not deleted; they will be planned again");
        }
    }

    async fn start_next(&self, from_input: Option<&str>) {
        let w = &self.settings.window;
        let Some(arn) = from_input.or(w.state_machine_arn.as_deref()) else {
            warn!("a backlog is left but no state machine ARN is known to start the next execution");
            return;
        };
        match start_execution(&self.executions, arn, w, (self.clock)()).await {
            Ok((name, Started::Started)) => info!(execution = %name, "backlog left; next execution started"),
            Ok((name, Started::Existed)) => info!(execution = %name, "backlog left; next execution exists"),
            Err((name, e)) => {
                warn!(execution = %name, error = %e, "backlog left and the next execution could not be started")
            }
        }
    }
}

/// `plan.json`: the output, and for operators every skipped event with its reason (the first
/// [`SKIPPED_LISTED`]), counts by reason, and the wildcards.
fn summary_json(output: &CollectOutput, plan: &Plan, events: &[ObjectEvent]) -> String {
    let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &plan.skipped {
        *by_reason.entry(s.reason.as_str()).or_default() += 1;
    }
    let skipped: Vec<serde_json::Value> = plan
        .skipped
        .iter()
        .take(SKIPPED_LISTED)
        .map(|s| {
            let e = &events[s.event];
            json!({"bucket": e.bucket, "key": e.key, "event": e.event_name, "reason": s.reason.as_str(),
                   "distributionId": s.distribution_id.as_deref()})
        })
        .collect();
    let wildcards: Vec<_> = plan.invalidations.iter().flat_map(|d| d.wildcards.iter()).collect();
    json!({
        "output": output,
        "skippedByReason": by_reason,
        "skipped": skipped,
        "wildcards": wildcards,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::*;
    use crate::settings::{CollectSettings, Vars};
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
        }
    }

    fn body(key: &str) -> String {
        serde_json::to_string(&ObjectEvent {
            bucket: "site".into(),
            key: key.into(),
            change: Change::Created,
            event_name: "ObjectCreated:Put".into(),
            event_time: None,
            sequencer: None,
        })
        .unwrap()
    }

    type C = Collect<FakeQueue, FakeObjects, FakeCloudFront, FakeExecutions>;

    fn collect(queue: FakeQueue, dlq: Option<FakeQueue>, s: CollectSettings) -> C {
        let cf = FakeCloudFront { distributions: vec![dist("E1"), dist("E2")], ..Default::default() };
        Collect::new(
            queue,
            dlq,
            FakeObjects::default(),
            cf,
            FakeExecutions::default(),
            s,
            fixed_clock("2026-11-26T05:40:25Z"),
        )
    }

    fn input() -> CollectInput {
        CollectInput { execution: "cfinv-20261126T054010Z".into(), state_machine: Some("arn:sm".into()) }
    }

    #[tokio::test]
    async fn drains_plans_stores_then_deletes() {
        let bodies: Vec<String> = (0..7).map(|i| body(&format!("k{i}"))).collect();
        let c = collect(FakeQueue::default().with_messages(bodies), None, settings(&[]));
        let out = c.handle(input()).await.unwrap();
        assert_eq!(out.messages, 7);
        assert_eq!(out.paths, 14);
        let order: Vec<(usize, &str)> = out.sets.iter().map(|s| (s.set, s.distribution_id.as_str())).collect();
        assert_eq!(order, [(1, "E1"), (1, "E2"), (2, "E1"), (2, "E2"), (3, "E1"), (3, "E2")]);
        let stored: SetFile = serde_json::from_str(&c.objects.get_now("plans", &out.sets[0].key).unwrap()).unwrap();
        assert_eq!(stored.paths, ["/k0", "/k1", "/k2"]);
        assert_eq!(out.sets[0].key, "plans/cfinv-20261126T054010Z/E1/set-0001.json");
        assert_eq!(c.queue.deleted.lock().unwrap().len(), 7);
        assert!(!out.more);
        assert!(c.executions.starts().is_empty());
    }

    #[tokio::test]
    async fn nothing_is_deleted_when_storing_fails() {
        let c = collect(FakeQueue::default().with_messages(vec![body("a")]), None, settings(&[]));
        c.objects.failing_puts.store(1, Ordering::SeqCst);
        let err = c.handle(input()).await.unwrap_err();
        assert_eq!(err.error_type(), "StorageUnavailable");
        assert!(c.queue.deleted.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_retried_collect_returns_the_stored_plan() {
        let c = collect(FakeQueue::default().with_messages(vec![body("a")]), None, settings(&[]));
        let first = c.handle(input()).await.unwrap();
        c.queue
            .waiting
            .lock()
            .unwrap()
            .extend(FakeQueue::default().with_messages(vec![body("b")]).waiting.lock().unwrap().drain(..));
        let second = c.handle(input()).await.unwrap();
        assert_eq!(first, second);
        assert_eq!(c.queue.waiting.lock().unwrap().len(), 1, "the retry did not drain");
    }

    #[tokio::test]
    async fn a_bucket_unknown_to_the_cached_distributions_makes_collect_list_again() {
        let c = collect(FakeQueue::default().with_messages(vec![body("a")]), None, settings(&[]));
        c.handle(input()).await.unwrap();
        assert_eq!(c.cloudfront.lists.load(Ordering::SeqCst), 1);
        // An event for a bucket no listed distribution reaches: the cache is not trusted for it.
        let other = serde_json::to_string(&ObjectEvent {
            bucket: "new-site".into(),
            ..serde_json::from_str(&body("b")).unwrap()
        })
        .unwrap();
        c.queue
            .waiting
            .lock()
            .unwrap()
            .extend(FakeQueue::default().with_messages(vec![other]).waiting.lock().unwrap().drain(..));
        c.handle(CollectInput { execution: "cfinv-later".into(), state_machine: None }).await.unwrap();
        assert_eq!(c.cloudfront.lists.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn custom_cache_policies_are_fetched_and_decide() {
        let mut d = dist("E1");
        d.behaviors = vec![CacheBehavior::with_policy("/live/*", "s3", "custom-zero")];
        let cf = FakeCloudFront {
            distributions: vec![d],
            policies: vec![cfinv_core::CachePolicy {
                id: "custom-zero".into(),
                name: "no caching".into(),
                min_ttl: 0,
                default_ttl: 0,
                max_ttl: 0,
            }],
            ..Default::default()
        };
        let q = FakeQueue::default().with_messages(vec![body("live/a.m3u8"), body("vod/b.mp4")]);
        let c = Collect::new(
            q,
            None,
            FakeObjects::default(),
            cf,
            FakeExecutions::default(),
            settings(&[]),
            fixed_clock("2026-11-26T05:40:25Z"),
        );
        let out = c.handle(input()).await.unwrap();
        assert_eq!((out.paths, out.skipped), (1, 1), "the creation under the zero-TTL policy is not cached");
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
            Collect::new(q, None, objects, cf, executions, settings(&[]), clock).handle(input()).await
        };
        let out = run(ErrorKind::AccessDenied).await.unwrap();
        assert_eq!(out.sets[0].preview, ["/live/a.m3u8"], "invalidated, not skipped, and the run goes on");
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
        assert_eq!((out.messages, out.paths), (2, 4));
        let deleted = c.queue.deleted.lock().unwrap().clone();
        assert_eq!(deleted, ["r-again", "r1"], "the newest receipt is the one deleted");
    }

    #[tokio::test]
    async fn unreadable_messages_go_to_the_dead_letter_queue() {
        let q = FakeQueue::default().with_messages(vec![body("a"), "{not json".into()]);
        let c = collect(q, Some(FakeQueue::default()), settings(&[]));
        let out = c.handle(input()).await.unwrap();
        assert_eq!((out.messages, out.unreadable, out.paths), (2, 1, 2));
        assert_eq!(c.dead_letter.as_ref().unwrap().sent(), ["{not json"]);
        assert_eq!(c.queue.deleted.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_budget_leaves_the_rest_and_starts_the_next_execution() {
        let bodies: Vec<String> = (0..25).map(|i| body(&format!("k{i}"))).collect();
        let c = collect(FakeQueue::default().with_messages(bodies), None, settings(&[("CFINV_MAX_MESSAGES", "12")]));
        let out = c.handle(input()).await.unwrap();
        assert_eq!(out.messages, 12);
        assert!(out.more);
        assert_eq!(c.queue.waiting.lock().unwrap().len(), 13);
        let starts = c.executions.starts();
        assert_eq!(starts[0].1, "cfinv-20261126T054020Z");
    }

    #[tokio::test]
    async fn empty_receives_end_the_drain_and_distributions_are_cached() {
        let c = collect(FakeQueue::default(), None, settings(&[("CFINV_EMPTY_RECEIVES", "3")]));
        let out = c.handle(input()).await.unwrap();
        assert_eq!((out.messages, out.sets.len()), (0, 0));
        assert_eq!(c.queue.receives.load(Ordering::SeqCst), 3);
        let c = collect(FakeQueue::default().with_messages(vec![body("a")]), None, settings(&[]));
        c.handle(input()).await.unwrap();
        c.queue
            .waiting
            .lock()
            .unwrap()
            .extend(FakeQueue::default().with_messages(vec![body("b")]).waiting.lock().unwrap().drain(..));
        c.handle(CollectInput { execution: "cfinv-next".into(), state_machine: None }).await.unwrap();
        assert_eq!(c.cloudfront.lists.load(Ordering::SeqCst), 1);
        assert!(c.handle(CollectInput { execution: "bad/name".into(), state_machine: None }).await.is_err());
    }
}
