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
