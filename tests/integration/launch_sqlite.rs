//! The launcher over the SQLite store: the store with one writer connection, real
//! transactions and a file, under concurrent sessions.

use std::sync::Arc;

use claude_agents::domain::SessionState;
use claude_agents::launch::LauncherConfig;
use claude_agents::store::{DeliveryKind, SqliteStore, Store};

use crate::launch::{H, started, trickle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sessions_over_sqlite_all_run_and_store_what_the_fake_sent() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(dir.path().join("launch.db"))
            .await
            .unwrap(),
    );
    let h = H::with_store(store).await;
    // Events trickle in while first messages are flushed and other sessions write.
    h.fake.set_default_script(trickle(12));
    let mut config = LauncherConfig::default();
    config.max_concurrent_per_agent = 16;
    let l = h.launcher(config);
    let mut cards = Vec::new();
    for i in 0..16 {
        let out = l
            .on_assigned(h.assign(&format!("sqlite-{i}"), &format!("T-{i}")))
            .await
            .unwrap();
        cards.push(started(&out));
    }
    for card in &cards {
        let run = h.wait_state(card, SessionState::Idle).await;
        let session = h.remote_session(&run);
        h.assert_log_matches_fake(&session).await;
        // Every activity once, the last message among them.
        let acts = h.activities(card);
        let mut keys: Vec<&str> = acts.iter().map(|a| a.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), acts.len(), "card {card}: an activity repeated");
        assert!(acts.iter().any(|a| a.text == "step 11"), "card {card}");
    }
    let changes = h
        .sink
        .deliveries()
        .iter()
        .filter(|d| d.kind == DeliveryKind::CardChanged)
        .count();
    assert!(changes >= 3 * cards.len(), "{changes} card changes");
}
