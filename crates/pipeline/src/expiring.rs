//! Values a warm container may reuse for a while: the distributions collect listed, the tags of a
//! bucket ingest read. Time is `tokio::time::Instant`, so tests can advance it
//! (`#[tokio::test(start_paused = true)]`).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Cached values by key, each given back while younger than `ttl` (a `ttl` of zero caches nothing).
pub struct Expiring<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> Expiring<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Expiring { ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The value stored under `key` less than `ttl` ago.
    pub fn get<Q: ?Sized + Eq + Hash>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
    {
        let entries = self.entries.lock().ok()?;
        let (at, value) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    /// Stores a value under `key`, now.
    pub fn insert(&self, key: K, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(key, (Instant::now(), value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_value_expires_after_its_ttl() {
        let e = Expiring::new(Duration::from_secs(60));
        assert_eq!(e.get(&"b"), None::<u32>);
        e.insert("b", 7);
        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(e.get(&"b"), Some(7));
        assert_eq!(e.get(&"c"), None);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(e.get(&"b"), None);
        let never = Expiring::new(Duration::ZERO);
        never.insert((), 1);
        assert_eq!(never.get(&()), None);
    }
}
