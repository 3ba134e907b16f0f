//! In-memory ports for the handlers' unit tests.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use cfinv_core::{CachePolicy, Distribution};

use crate::ports::*;
use crate::Clock;

pub fn fixed_clock(at: &str) -> Clock {
    let t = chrono::DateTime::parse_from_rfc3339(at).unwrap().with_timezone(&chrono::Utc);
    Arc::new(move || t)
}

fn err(kind: ErrorKind) -> PortError {
    PortError::new(kind, format!("injected {kind:?}"))
}

#[derive(Default)]
pub struct FakeQueue {
    sent: Mutex<Vec<String>>,
    refuse_calls: AtomicUsize,
    pub waiting: Mutex<VecDeque<ReceivedMessage>>,
    /// Received, neither deleted nor released, by receipt handle.
    pub in_flight: Mutex<HashMap<String, ReceivedMessage>>,
    pub deleted: Mutex<Vec<String>>,
    /// Receipt handles made visible again.
    pub released: Mutex<Vec<String>>,
    pub receives: AtomicUsize,
    /// When above zero, the receive with this number (1-based) and every later one fail.
    pub fail_receives_from: AtomicUsize,
}

impl FakeQueue {
    /// The first `n` SendMessageBatch calls refuse every entry.
    pub fn refusing(self, n: usize) -> Self {
        self.refuse_calls.store(n, Ordering::SeqCst);
        self
    }
    pub fn sent(&self) -> Vec<String> {
        self.sent.lock().unwrap().clone()
    }
    pub fn with_messages(self, bodies: impl IntoIterator<Item = String>) -> Self {
        {
            let mut w = self.waiting.lock().unwrap();
            for (i, body) in bodies.into_iter().enumerate() {
                w.push_back(ReceivedMessage {
                    message_id: format!("m{i}"),
                    receipt_handle: format!("r{i}"),
                    body,
                    receive_count: 1,
                });
            }
        }
        self
    }
}

impl Queue for FakeQueue {
    async fn send_batch(&self, messages: &[OutgoingMessage]) -> Result<Vec<String>, PortError> {
        if self.refuse_calls.load(Ordering::SeqCst) > 0 {
            self.refuse_calls.fetch_sub(1, Ordering::SeqCst);
            return Ok(messages.iter().map(|m| m.id.clone()).collect());
        }
        self.sent.lock().unwrap().extend(messages.iter().map(|m| m.body.clone()));
        Ok(vec![])
    }
    async fn receive(&self, max: u32, _wait: u32, _vis: u32) -> Result<Vec<ReceivedMessage>, PortError> {
        let number = self.receives.fetch_add(1, Ordering::SeqCst) + 1;
        let from = self.fail_receives_from.load(Ordering::SeqCst);
        if from > 0 && number >= from {
            return Err(err(ErrorKind::Unavailable));
        }
        let mut w = self.waiting.lock().unwrap();
        let n = (max as usize).min(w.len());
        let got: Vec<ReceivedMessage> = w.drain(..n).collect();
        let mut in_flight = self.in_flight.lock().unwrap();
        for m in &got {
            in_flight.insert(m.receipt_handle.clone(), m.clone());
        }
        Ok(got)
    }
    async fn delete_batch(&self, messages: &[Delete]) -> Result<Vec<String>, PortError> {
        let mut in_flight = self.in_flight.lock().unwrap();
        for m in messages {
            in_flight.remove(&m.receipt_handle);
        }
        self.deleted.lock().unwrap().extend(messages.iter().map(|m| m.receipt_handle.clone()));
        Ok(vec![])
    }
    async fn release_batch(&self, messages: &[Delete]) -> Result<Vec<String>, PortError> {
        let mut in_flight = self.in_flight.lock().unwrap();
        let mut waiting = self.waiting.lock().unwrap();
        for m in messages {
            if let Some(back) = in_flight.remove(&m.receipt_handle) {
                waiting.push_back(back);
            }
            self.released.lock().unwrap().push(m.receipt_handle.clone());
        }
        Ok(vec![])
    }
    async fn depth(&self) -> Result<QueueDepth, PortError> {
        Ok(QueueDepth {
            visible: self.waiting.lock().unwrap().len() as u64,
            in_flight: self.in_flight.lock().unwrap().len() as u64,
        })
    }
}

#[derive(Default)]
pub struct FakeExecutions {
    starts: Mutex<Vec<(String, String, String)>>,
    fail: Option<ErrorKind>,
    pub redrives: AtomicUsize,
    /// Names of executions that have closed: starting one again answers AlreadyExists.
    pub closed: Mutex<std::collections::HashSet<String>>,
    /// Names of executions running (besides those started here).
    pub running: Mutex<Vec<String>>,
    /// What `history_events` answers.
    pub history: AtomicUsize,
}

impl FakeExecutions {
    pub fn failing(mut self, kind: ErrorKind) -> Self {
        self.fail = Some(kind);
        self
    }
    pub fn starts(&self) -> Vec<(String, String, String)> {
        self.starts.lock().unwrap().clone()
    }
}

impl Executions for FakeExecutions {
    async fn is_running(&self, execution_arn: &str) -> Result<bool, PortError> {
        let name = execution_arn.rsplit(':').next().unwrap_or_default();
        Ok(!self.closed.lock().unwrap().contains(name))
    }
    async fn running(&self, _arn: &str) -> Result<Vec<String>, PortError> {
        let mut names = self.running.lock().unwrap().clone();
        names.extend(self.starts.lock().unwrap().iter().map(|s| s.1.clone()));
        names.retain(|n| !self.closed.lock().unwrap().contains(n));
        Ok(names)
    }
    async fn start(&self, arn: &str, name: &str, input: &str) -> Result<(), PortError> {
        self.starts.lock().unwrap().push((arn.into(), name.into(), input.into()));
        if self.closed.lock().unwrap().contains(name) {
            return Err(err(ErrorKind::AlreadyExists));
        }
        match self.fail {
            Some(kind) => Err(err(kind)),
            None => Ok(()),
        }
    }
    async fn redrive_count(&self, _arn: &str) -> Result<u32, PortError> {
        Ok(self.redrives.load(Ordering::SeqCst) as u32)
    }
    async fn history_events(&self, _arn: &str) -> Result<u64, PortError> {
        Ok(self.history.load(Ordering::SeqCst) as u64)
    }
}

#[derive(Default)]
pub struct FakeTags {
    tags: HashMap<(String, String), String>,
    broken: bool,
    calls: AtomicUsize,
}

impl FakeTags {
    pub fn with(mut self, bucket: &str, key: &str, value: &str) -> Self {
        self.tags.insert((bucket.into(), key.into()), value.into());
        self
    }
    pub fn broken(mut self) -> Self {
        self.broken = true;
        self
    }
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Buckets for FakeTags {
    async fn tag(&self, bucket: &str, key: &str) -> Result<Option<String>, PortError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.broken {
            return Err(err(ErrorKind::AccessDenied));
        }
        Ok(self.tags.get(&(bucket.to_owned(), key.to_owned())).cloned())
    }

    /// The bucket's `index-document` "tag", standing for its website configuration.
    async fn index_document(&self, bucket: &str) -> Result<Option<String>, PortError> {
        if self.broken {
            return Err(err(ErrorKind::AccessDenied));
        }
        Ok(self.tags.get(&(bucket.to_owned(), "website:index-document".to_owned())).cloned())
    }
}

#[derive(Default)]
pub struct FakeObjects {
    pub objects: Mutex<HashMap<(String, String), String>>,
    /// Puts fail while this is above zero (decremented per failed put).
    pub failing_puts: AtomicUsize,
    /// Buckets' website index documents.
    pub index_documents: Mutex<HashMap<String, String>>,
    /// Objects another writer is writing: invisible to `get` until a `put_new` of the same key
    /// meets them (and fails), as when two collects of one execution race.
    pub racing: Mutex<HashMap<(String, String), String>>,
    /// User metadata per (bucket, key), for HeadObject; and how many HeadObject calls were made.
    pub metadata: Mutex<HashMap<(String, String), std::collections::BTreeMap<String, String>>>,
    pub heads: AtomicUsize,
}

impl Buckets for FakeObjects {
    async fn tag(&self, _bucket: &str, _key: &str) -> Result<Option<String>, PortError> {
        Ok(None)
    }
    async fn index_document(&self, bucket: &str) -> Result<Option<String>, PortError> {
        Ok(self.index_documents.lock().unwrap().get(bucket).cloned())
    }
}

impl FakeObjects {
    pub fn get_now(&self, bucket: &str, key: &str) -> Option<String> {
        self.objects.lock().unwrap().get(&(bucket.to_owned(), key.to_owned())).cloned()
    }
}

impl Objects for FakeObjects {
    async fn put(&self, bucket: &str, key: &str, body: String, _ct: &str) -> Result<(), PortError> {
        if self.failing_puts.load(Ordering::SeqCst) > 0 {
            self.failing_puts.fetch_sub(1, Ordering::SeqCst);
            return Err(err(ErrorKind::Unavailable));
        }
        self.objects.lock().unwrap().insert((bucket.into(), key.into()), body);
        Ok(())
    }
    async fn put_new(&self, bucket: &str, key: &str, body: String, ct: &str) -> Result<bool, PortError> {
        if let Some(theirs) = self.racing.lock().unwrap().remove(&(bucket.to_owned(), key.to_owned())) {
            self.objects.lock().unwrap().insert((bucket.into(), key.into()), theirs);
        }
        if self.get_now(bucket, key).is_some() {
            return Ok(false);
        }
        self.put(bucket, key, body, ct).await.map(|()| true)
    }
    async fn get(&self, bucket: &str, key: &str) -> Result<Option<String>, PortError> {
        Ok(self.get_now(bucket, key))
    }
    async fn metadata(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<std::collections::BTreeMap<String, String>>, PortError> {
        self.heads.fetch_add(1, Ordering::SeqCst);
        Ok(self.metadata.lock().unwrap().get(&(bucket.to_owned(), key.to_owned())).cloned())
    }
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, PortError> {
        let mut keys: Vec<String> = self
            .objects
            .lock()
            .unwrap()
            .keys()
            .filter(|(b, k)| b == bucket && k.starts_with(prefix))
            .map(|(_, k)| k.clone())
            .collect();
        keys.sort();
        Ok(keys)
    }
}

#[derive(Default)]
pub struct FakeCloudFront {
    pub distributions: Vec<Distribution>,
    /// Distribution tenants (with their parameters), of every multi-tenant distribution.
    pub tenants: Vec<cfinv_core::DistributionTenant>,
    /// Tags per distribution ARN.
    pub tags: HashMap<String, std::collections::BTreeMap<String, String>>,
    pub policies: Vec<CachePolicy>,
    /// Errors GetCachePolicy returns, per policy id.
    pub policy_errors: Mutex<HashMap<String, ErrorKind>>,
    pub lists: AtomicUsize,
    /// (distribution, caller reference, paths) per CreateInvalidation that succeeded.
    pub created: Mutex<Vec<(String, String, Vec<String>)>>,
    /// Indexes into `created` that have completed.
    pub completed: Mutex<std::collections::HashSet<usize>>,
    /// Errors to return, per distribution, in order.
    pub errors: Mutex<HashMap<String, VecDeque<ErrorKind>>>,
    /// Errors every CreateInvalidation of a distribution returns.
    pub always: Mutex<HashMap<String, ErrorKind>>,
    /// Paths CloudFront refuses: a batch holding one fails with `InvalidArgument`.
    pub refused: Mutex<std::collections::HashSet<String>>,
}

impl FakeCloudFront {
    pub fn fail(&self, distribution: &str, kinds: &[ErrorKind]) {
        self.errors.lock().unwrap().insert(distribution.into(), kinds.iter().copied().collect());
    }
}

impl FakeCloudFront {
    /// Every invalidation of `d` completes.
    pub fn complete_all(&self, d: &str) {
        let created = self.created.lock().unwrap();
        let mut completed = self.completed.lock().unwrap();
        completed.extend((0..created.len()).filter(|i| created[*i].0 == d));
    }
}

impl CloudFront for FakeCloudFront {
    async fn list_distributions(&self) -> Result<Listed, PortError> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        Ok(Listed { distributions: self.distributions.clone(), skipped: vec![] })
    }
    async fn distribution_tags(&self, arn: &str) -> Result<std::collections::BTreeMap<String, String>, PortError> {
        Ok(self.tags.get(arn).cloned().unwrap_or_default())
    }
    async fn distribution_details(&self, id: &str) -> Result<DistributionDetails, PortError> {
        let d = self.distributions.iter().find(|d| d.id == id);
        Ok(DistributionDetails {
            default_root_object: d.and_then(|d| d.default_root_object.clone()),
            cache_tag_header: d.and_then(|d| d.cache_tag_header.clone()),
            parameter_defaults: d.map(|d| d.parameter_defaults.clone()).unwrap_or_default(),
        })
    }
    async fn distribution_tenants(
        &self,
        distribution_id: &str,
    ) -> Result<Vec<cfinv_core::DistributionTenant>, PortError> {
        Ok(self.tenants.iter().filter(|t| t.distribution_id == distribution_id).cloned().collect())
    }
    async fn cache_policy(&self, id: &str) -> Result<Option<CachePolicy>, PortError> {
        if let Some(kind) = self.policy_errors.lock().unwrap().get(id) {
            return Err(err(*kind));
        }
        Ok(self.policies.iter().find(|p| p.id == id).cloned())
    }
    async fn invalidations_in_progress(&self, d: &str) -> Result<Vec<String>, PortError> {
        let created = self.created.lock().unwrap();
        let completed = self.completed.lock().unwrap();
        Ok((0..created.len())
            .rev()
            .filter(|i| created[*i].0 == d && !completed.contains(i))
            .map(|i| format!("I{i}"))
            .collect())
    }
    async fn get_invalidation(&self, d: &str, id: &str) -> Result<InvalidationDetails, PortError> {
        let i: usize = id.trim_start_matches('I').parse().map_err(|_| err(ErrorKind::NotFound))?;
        let created = self.created.lock().unwrap();
        let (dist, caller, paths) = created.get(i).filter(|c| c.0 == d).ok_or_else(|| err(ErrorKind::NotFound))?;
        let status = if self.completed.lock().unwrap().contains(&i) { "Completed" } else { "InProgress" };
        let _ = dist;
        Ok(InvalidationDetails {
            id: id.into(),
            status: status.into(),
            caller_reference: caller.clone(),
            paths: paths.clone(),
        })
    }
    async fn create_invalidation(&self, d: &str, caller: &str, paths: &[String]) -> Result<Invalidation, PortError> {
        if let Some(kind) = self.errors.lock().unwrap().get_mut(d).and_then(VecDeque::pop_front) {
            return Err(err(kind));
        }
        if let Some(kind) = self.always.lock().unwrap().get(d) {
            return Err(err(*kind));
        }
        if let Some(bad) = paths.iter().find(|p| self.refused.lock().unwrap().contains(*p)) {
            let message = format!("Your request contains one or more invalid invalidation paths: {bad}");
            return Err(PortError::new(ErrorKind::InvalidArgument, message).with_code(Some("InvalidArgument".into())));
        }
        let mut created = self.created.lock().unwrap();
        if let Some(i) = created.iter().position(|(dd, c, _)| dd == d && c == caller) {
            if created[i].2 != paths {
                return Err(err(ErrorKind::BatchMismatch));
            }
            return Ok(Invalidation { id: format!("I{i}"), status: "InProgress".into() });
        }
        created.push((d.into(), caller.into(), paths.to_vec()));
        Ok(Invalidation { id: format!("I{}", created.len() - 1), status: "InProgress".into() })
    }
}

#[derive(Default)]
pub struct FakeEvents {
    /// (detail-type, detail) per event put.
    pub put: Mutex<Vec<(String, String)>>,
}

impl Events for FakeEvents {
    async fn put(&self, detail_type: &str, detail: &str) -> Result<(), PortError> {
        self.put.lock().unwrap().push((detail_type.into(), detail.into()));
        Ok(())
    }
}

#[derive(Default)]
pub struct FakeAlerts {
    pub published: Mutex<Vec<(String, String, String)>>,
}

impl Alerts for FakeAlerts {
    async fn publish(&self, topic: &str, subject: &str, body: &str) -> Result<(), PortError> {
        self.published.lock().unwrap().push((topic.into(), subject.into(), body.into()));
        Ok(())
    }
}

/// One plan bucket shared by several handlers in a test (invalidate and report).
impl Objects for Arc<FakeObjects> {
    async fn put(&self, bucket: &str, key: &str, body: String, ct: &str) -> Result<(), PortError> {
        (**self).put(bucket, key, body, ct).await
    }
    async fn put_new(&self, bucket: &str, key: &str, body: String, ct: &str) -> Result<bool, PortError> {
        (**self).put_new(bucket, key, body, ct).await
    }
    async fn get(&self, bucket: &str, key: &str) -> Result<Option<String>, PortError> {
        (**self).get(bucket, key).await
    }
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, PortError> {
        (**self).list(bucket, prefix).await
    }
    async fn metadata(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<std::collections::BTreeMap<String, String>>, PortError> {
        (**self).metadata(bucket, key).await
    }
}

/// A clock that moves `step` seconds forward at every reading.
pub fn ticking_clock(at: &str, step: i64) -> Clock {
    let start = chrono::DateTime::parse_from_rfc3339(at).unwrap().with_timezone(&chrono::Utc);
    let ticks = std::sync::atomic::AtomicI64::new(0);
    Arc::new(move || start + chrono::Duration::seconds(step * ticks.fetch_add(1, Ordering::SeqCst)))
}

impl Buckets for Arc<FakeObjects> {
    async fn tag(&self, bucket: &str, key: &str) -> Result<Option<String>, PortError> {
        (**self).tag(bucket, key).await
    }
    async fn index_document(&self, bucket: &str) -> Result<Option<String>, PortError> {
        (**self).index_document(bucket).await
    }
}
