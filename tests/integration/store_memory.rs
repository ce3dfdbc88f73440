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

/// `run_store_suite` (the suite as a value, for examples and host runners) passes on a
/// conforming store and names exactly the contract checks a broken one fails.
mod suite_runner {
    use std::sync::Arc;

    use async_trait::async_trait;
    use claude_agents::store::{
        AppendOutcome, Collection, Expected, LogEvent, MemoryStore, Result, Revision, Store,
        Versioned,
    };
    use claude_agents::testkit::conformance::run_store_suite;
    use serde_json::Value;

    /// Forwards to a `MemoryStore` but appends every event, duplicates included.
    struct NoDedupeLog(
        MemoryStore,
        std::sync::Mutex<std::collections::HashMap<String, u64>>,
    );

    #[async_trait]
    impl Store for NoDedupeLog {
        async fn get(&self, c: Collection, key: &str) -> Result<Option<Versioned>> {
            self.0.get(c, key).await
        }
        async fn put(&self, c: Collection, k: &str, v: Value, e: Expected) -> Result<Revision> {
            self.0.put(c, k, v, e).await
        }
        async fn delete(&self, c: Collection, key: &str, e: Expected) -> Result<()> {
            self.0.delete(c, key, e).await
        }
        async fn list(&self, c: Collection, prefix: &str) -> Result<Vec<(String, Versioned)>> {
            self.0.list(c, prefix).await
        }
        async fn append_events(&self, session: &str, events: &[LogEvent]) -> Result<AppendOutcome> {
            // Make every event unique by suffixing a counter: the log stops de-duplicating.
            let renamed: Vec<LogEvent> = {
                let mut n = self.1.lock().unwrap();
                let n = n.entry(session.to_owned()).or_default();
                events
                    .iter()
                    .map(|e| {
                        *n += 1;
                        LogEvent {
                            event_id: format!("{}#{n}", e.event_id),
                            ..e.clone()
                        }
                    })
                    .collect()
            };
            self.0.append_events(session, &renamed).await
        }
        async fn read_events(
            &self,
            s: &str,
            after: u64,
            limit: usize,
        ) -> Result<Vec<(u64, LogEvent)>> {
            self.0.read_events(s, after, limit).await
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn passes_on_memory_and_names_what_a_broken_store_fails() {
        let good =
            run_store_suite(|| async { Arc::new(MemoryStore::new()) as Arc<dyn Store> }).await;
        assert_eq!(good.len(), 12);
        assert!(good.iter().all(|o| o.passed()), "{good:?}");

        let bad = run_store_suite(|| async {
            Arc::new(NoDedupeLog(MemoryStore::new(), Default::default())) as Arc<dyn Store>
        })
        .await;
        let failed: Vec<&str> = bad.iter().filter(|o| !o.passed()).map(|o| o.name).collect();
        assert_eq!(
            failed,
            [
                "event_log_idempotent_and_ordered",
                "cursor_advances_with_append",
                "concurrent_duplicate_appends"
            ]
        );
        let why = bad
            .iter()
            .find_map(|o| o.failure.clone())
            .unwrap_or_default();
        assert!(
            why.contains("[7]"),
            "the failure names the contract item: {why}"
        );
    }
}
