//! The store conformance suite against the memory implementations.

use std::sync::Arc;

use claude_agents::store::{MemorySecretStore, MemorySink, MemoryStore};

claude_agents::store_conformance_tests!(|| async { Arc::new(MemoryStore::new()) });
claude_agents::secret_store_conformance_tests!(|| async { Arc::new(MemorySecretStore::new()) });
claude_agents::event_sink_conformance_tests!(|| async { Arc::new(MemorySink::new()) });

#[tokio::test]
async fn memory_sink_shows_each_key_once_after_repeats() {
    let sink = Arc::new(MemorySink::new());
    claude_agents::testkit::conformance::sink_repeat_is_harmless(&*sink).await;
    assert_eq!(sink.raw_count(), 5);
    assert_eq!(sink.deliveries().len(), 2);
}

/// A store that implements only the required methods (forwarding to a `MemoryStore`) and
/// yields to the scheduler inside every call, so the *provided* methods — the trigger ledger
/// and leases built on compare-and-swap records — run with real race windows between their
/// read and their write. The memory store itself never pauses there, so on it the concurrent
/// trigger/lease contract tests could not fail; here a default that skipped CAS would.
mod yielding {
    use std::sync::Arc;

    use async_trait::async_trait;
    use claude_agents::store::{
        AppendOutcome, Collection, Expected, LogEvent, MemoryStore, Result, Revision, Store,
        Versioned,
    };
    use serde_json::Value;

    pub struct YieldingStore(pub MemoryStore);

    async fn pause() {
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
    }

    #[async_trait]
    impl Store for YieldingStore {
        async fn get(&self, collection: Collection, key: &str) -> Result<Option<Versioned>> {
            pause().await;
            let out = self.0.get(collection, key).await;
            pause().await;
            out
        }
        async fn put(
            &self,
            collection: Collection,
            key: &str,
            value: Value,
            expected: Expected,
        ) -> Result<Revision> {
            pause().await;
            self.0.put(collection, key, value, expected).await
        }
        async fn delete(
            &self,
            collection: Collection,
            key: &str,
            expected: Expected,
        ) -> Result<()> {
            pause().await;
            self.0.delete(collection, key, expected).await
        }
        async fn list(
            &self,
            collection: Collection,
            prefix: &str,
        ) -> Result<Vec<(String, Versioned)>> {
            pause().await;
            self.0.list(collection, prefix).await
        }
        async fn append_events(&self, session: &str, events: &[LogEvent]) -> Result<AppendOutcome> {
            pause().await;
            self.0.append_events(session, events).await
        }
        async fn read_events(
            &self,
            session: &str,
            after: u64,
            limit: usize,
        ) -> Result<Vec<(u64, LogEvent)>> {
            pause().await;
            self.0.read_events(session, after, limit).await
        }
    }

    claude_agents::store_conformance_tests!(|| async {
        Arc::new(YieldingStore(MemoryStore::new()))
    });
}
