//! In-memory implementations of [`Store`], [`SecretStore`] and [`EventSink`], for tests and
//! small single-process hosts. Nothing survives the process.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use secrecy::SecretString;
use serde_json::Value;

use super::{
    AppendOutcome, Collection, EventSink, Expected, LogEvent, Result, Revision, SecretRef,
    SecretStore, SinkDelivery, Store, StoreError, Versioned,
};

/// Locks a std mutex, recovering from poisoning (the data is plain maps, every critical
/// section leaves them consistent, and no `await` happens while a lock is held).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An in-memory [`Store`]. Cheap to create; share it with `Arc`.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// `(collection name, key)` → record.
    records: BTreeMap<(&'static str, String), Versioned>,
    /// One counter for the whole store: revisions never repeat for a key, even after delete.
    last_revision: u64,
    logs: HashMap<String, SessionLog>,
}

#[derive(Default)]
struct SessionLog {
    /// Sequence `i + 1` is `events[i]`; the cursor is `events.len()`. Payloads are JSON
    /// text as given, a fifth of the memory of a `Value` tree.
    events: Vec<LogEvent>,
    seen: HashSet<(String, bool)>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = lock(&self.inner);
        f.debug_struct("MemoryStore")
            .field("records", &inner.records.len())
            .field("sessions", &inner.logs.len())
            .finish()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn get(&self, collection: Collection, key: &str) -> Result<Option<Versioned>> {
        let inner = lock(&self.inner);
        Ok(inner
            .records
            .get(&(collection.name(), key.to_owned()))
            .cloned())
    }

    async fn put(
        &self,
        collection: Collection,
        key: &str,
        value: Value,
        expected: Expected,
    ) -> Result<Revision> {
        let mut inner = lock(&self.inner);
        let id = (collection.name(), key.to_owned());
        expected.check(collection, key, inner.records.get(&id).map(|v| v.revision))?;
        inner.last_revision += 1;
        let revision = Revision(inner.last_revision);
        inner.records.insert(id, Versioned { value, revision });
        Ok(revision)
    }

    async fn delete(&self, collection: Collection, key: &str, expected: Expected) -> Result<()> {
        let mut inner = lock(&self.inner);
        let id = (collection.name(), key.to_owned());
        let current = inner.records.get(&id);
        if current.is_none() {
            return match expected {
                Expected::Absent => Ok(()),
                Expected::Any => Err(StoreError::NotFound {
                    collection: collection.name().to_owned(),
                    key: key.to_owned(),
                }),
                Expected::Revision(_) => expected.check(collection, key, None),
            };
        }
        expected.check(collection, key, current.map(|v| v.revision))?;
        inner.records.remove(&id);
        Ok(())
    }

    async fn list(&self, collection: Collection, prefix: &str) -> Result<Vec<(String, Versioned)>> {
        let inner = lock(&self.inner);
        let name = collection.name();
        Ok(inner
            .records
            .range((name, prefix.to_owned())..)
            .take_while(|((c, k), _)| *c == name && k.starts_with(prefix))
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }

    async fn append_events(&self, session: &str, events: &[LogEvent]) -> Result<AppendOutcome> {
        let mut inner = lock(&self.inner);
        let log = inner.logs.entry(session.to_owned()).or_default();
        let mut appended = Vec::new();
        for (index, event) in events.iter().enumerate() {
            if log.seen.insert((event.event_id.clone(), event.processed)) {
                log.events.push(event.clone());
                appended.push((index, log.events.len() as u64));
            }
        }
        let cursor = (!log.events.is_empty()).then_some(log.events.len() as u64);
        Ok(AppendOutcome { appended, cursor })
    }

    async fn read_events(
        &self,
        session: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, LogEvent)>> {
        let inner = lock(&self.inner);
        let Some(log) = inner.logs.get(session) else {
            return Ok(Vec::new());
        };
        let start = usize::try_from(after).unwrap_or(usize::MAX);
        Ok(log
            .events
            .iter()
            .enumerate()
            .skip(start)
            .take(limit)
            .map(|(i, e)| (i as u64 + 1, e.clone()))
            .collect())
    }

    async fn cursor(&self, session: &str) -> Result<Option<u64>> {
        let inner = lock(&self.inner);
        Ok(inner
            .logs
            .get(session)
            .filter(|log| !log.events.is_empty())
            .map(|log| log.events.len() as u64))
    }

    async fn seen_events(&self, session: &str) -> Result<HashSet<(String, bool)>> {
        let inner = lock(&self.inner);
        Ok(inner
            .logs
            .get(session)
            .map(|log| log.seen.clone())
            .unwrap_or_default())
    }
}

/// An in-memory [`SecretStore`]. Values are held as [`SecretString`] (zeroized on drop);
/// `Debug` shows only how many there are.
#[derive(Default)]
pub struct MemorySecretStore {
    secrets: Mutex<HashMap<SecretRef, SecretString>>,
}

impl MemorySecretStore {
    /// An empty secret store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for MemorySecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySecretStore")
            .field("secrets", &lock(&self.secrets).len())
            .finish()
    }
}

#[async_trait]
impl SecretStore for MemorySecretStore {
    async fn put(&self, reference: &SecretRef, value: SecretString) -> Result<()> {
        lock(&self.secrets).insert(reference.clone(), value);
        Ok(())
    }

    async fn get(&self, reference: &SecretRef) -> Result<Option<SecretString>> {
        Ok(lock(&self.secrets).get(reference).cloned())
    }

    async fn delete(&self, reference: &SecretRef) -> Result<bool> {
        Ok(lock(&self.secrets).remove(reference).is_some())
    }

    async fn rotate(&self, reference: &SecretRef, value: SecretString) -> Result<()> {
        match lock(&self.secrets).get_mut(reference) {
            Some(slot) => {
                *slot = value;
                Ok(())
            }
            None => Err(StoreError::NotFound {
                collection: "secrets".to_owned(),
                key: reference.as_str().to_owned(),
            }),
        }
    }
}

/// An in-memory [`EventSink`] that keeps the first delivery of every key, in arrival order,
/// and counts raw deliveries (repeats included) — for asserting exactly-once-out in tests.
#[derive(Debug, Default)]
pub struct MemorySink {
    inner: Mutex<SinkInner>,
}

#[derive(Debug, Default)]
struct SinkInner {
    deliveries: Vec<SinkDelivery>,
    keys: HashSet<String>,
    raw: usize,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// The distinct deliveries (first of each key), in arrival order.
    pub fn deliveries(&self) -> Vec<SinkDelivery> {
        lock(&self.inner).deliveries.clone()
    }

    /// How many times [`EventSink::deliver`] was called, repeats included.
    pub fn raw_count(&self) -> usize {
        lock(&self.inner).raw
    }
}

#[async_trait]
impl EventSink for MemorySink {
    async fn deliver(&self, delivery: SinkDelivery) -> Result<()> {
        let mut inner = lock(&self.inner);
        inner.raw += 1;
        if inner.keys.insert(delivery.key.clone()) {
            inner.deliveries.push(delivery);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use secrecy::ExposeSecret;
    use serde_json::json;

    use super::*;
    use crate::store::{DeliveryKind, StoreExt};

    #[test]
    fn traits_are_object_safe() {
        let _store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let _secrets: Arc<dyn SecretStore> = Arc::new(MemorySecretStore::new());
        let _sink: Arc<dyn EventSink> = Arc::new(MemorySink::new());
    }

    #[tokio::test]
    async fn store_ext_round_trips_typed_values_through_dyn_store() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Spec {
            name: String,
        }
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let spec = Spec { name: "a".into() };
        let rev = store
            .put_json(Collection::AgentSpecs, "k", &spec, Expected::Absent)
            .await
            .unwrap();
        let (back, r): (Spec, _) = store
            .get_json(Collection::AgentSpecs, "k")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((back, r), (spec, rev));
        store
            .put(Collection::AgentSpecs, "bad", json!(1), Expected::Absent)
            .await
            .unwrap();
        let err = store
            .get_json::<Spec>(Collection::AgentSpecs, "bad")
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Backend { .. }), "{err}");
    }

    #[tokio::test]
    async fn debug_never_prints_secret_values() {
        let secrets = MemorySecretStore::new();
        let r = SecretRef::from("secret:provider_key:ws_1:pk_1");
        secrets
            .put(&r, SecretString::from("sk-very-secret"))
            .await
            .unwrap();
        let shown = format!("{secrets:?}");
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        let got = secrets.get(&r).await.unwrap().unwrap();
        assert!(!format!("{got:?}").contains("sk-very-secret"));
        assert_eq!(got.expose_secret(), "sk-very-secret");
    }

    #[tokio::test]
    async fn memory_sink_dedupes_by_key_and_counts_raw() {
        let sink = MemorySink::new();
        let a = SinkDelivery::activity("s1", "ev_1", json!({"n": 1}));
        sink.deliver(a.clone()).await.unwrap();
        sink.deliver(a.clone()).await.unwrap();
        sink.deliver(SinkDelivery::card_changed("s1", Revision(3), json!({})))
            .await
            .unwrap();
        assert_eq!(sink.raw_count(), 3);
        let got = sink.deliveries();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], a);
        assert_eq!(got[1].kind, DeliveryKind::CardChanged);
        assert_eq!(got[1].key, "card:s1:3");
    }

    #[test]
    fn conflict_error_reads_well() {
        let e = StoreError::Conflict {
            collection: "skills".into(),
            key: "k".into(),
            expected: Expected::Revision(Revision(2)),
            current: Some(Revision(3)),
        };
        assert_eq!(
            e.to_string(),
            "skills/k: conflict (expected r2, current r3)"
        );
        assert!(e.is_conflict());
    }
}
