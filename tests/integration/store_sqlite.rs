//! `SqliteStore`: the conformance suite on a fresh file per test and on one file shared by
//! every test, then what the suite cannot see — two stores (as two processes would) on one
//! file, persistence across a reopen, a database left by an older schema, files that are not
//! databases, and a cancelled append.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use claude_agents::store::{
    AppendOutcome, Collection, Expected, LogEvent, Result, Revision, SqliteOptions, SqliteStore,
    Store, StoreError, Versioned,
};
use serde_json::{Value, json};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, SqlSafeStr, SqliteConnection, SqlitePool};
use tempfile::TempDir;

const MIGRATION_1: &str = include_str!("../../migrations/sqlite/0001_records_and_session_log.sql");
const MIGRATION_2: &str = include_str!("../../migrations/sqlite/0002_secrets.sql");

/// A `SqliteStore` on `store.db` in its own temporary directory, removed on drop. Forwards
/// every method `SqliteStore` implements (leases and triggers stay on the trait defaults, as
/// on `SqliteStore`).
struct TempStore {
    store: SqliteStore,
    _dir: TempDir,
}

impl TempStore {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("store.db"))
            .await
            .unwrap();
        Self { store, _dir: dir }
    }
}

#[async_trait]
impl Store for TempStore {
    async fn get(&self, collection: Collection, key: &str) -> Result<Option<Versioned>> {
        self.store.get(collection, key).await
    }
    async fn put(
        &self,
        collection: Collection,
        key: &str,
        value: Value,
        expected: Expected,
    ) -> Result<Revision> {
        self.store.put(collection, key, value, expected).await
    }
    async fn delete(&self, collection: Collection, key: &str, expected: Expected) -> Result<()> {
        self.store.delete(collection, key, expected).await
    }
    async fn list(&self, collection: Collection, prefix: &str) -> Result<Vec<(String, Versioned)>> {
        self.store.list(collection, prefix).await
    }
    async fn append_events(&self, session: &str, events: &[LogEvent]) -> Result<AppendOutcome> {
        self.store.append_events(session, events).await
    }
    async fn read_events(
        &self,
        session: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, LogEvent)>> {
        self.store.read_events(session, after, limit).await
    }
    async fn cursor(&self, session: &str) -> Result<Option<u64>> {
        self.store.cursor(session).await
    }
    async fn seen_events(&self, session: &str) -> Result<HashSet<(String, bool)>> {
        self.store.seen_events(session).await
    }
}

mod fresh_file {
    use std::sync::Arc;

    claude_agents::store_conformance_tests!(|| async { Arc::new(super::TempStore::new().await) });
}

/// One database for every test of this binary run (each test opens its own store on it, as
/// separate processes would), under cargo's per-target temporary directory; reset once per
/// run and kept afterwards for inspection.
static SHARED: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("store_sqlite");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("shared.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
});

mod shared_file {
    use std::sync::Arc;

    use claude_agents::store::SqliteStore;

    claude_agents::store_conformance_tests!(|| async {
        Arc::new(SqliteStore::open(&*super::SHARED).await.unwrap())
    });
}

fn ev(id: &str, processed: bool) -> LogEvent {
    let payload = json!({ "id": id, "type": "agent.message", "processed": processed });
    LogEvent::from_value(id, processed, &payload).unwrap()
}

async fn two_stores(dir: &TempDir) -> (Arc<SqliteStore>, Arc<SqliteStore>) {
    let path = dir.path().join("store.db");
    let a = SqliteStore::open(&path).await.unwrap();
    let b = SqliteStore::open(&path).await.unwrap();
    (Arc::new(a), Arc::new(b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_have_one_cas_winner_per_round() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_stores(&dir).await;
    let c = Collection::ReconcileStatus;
    a.put(c, "race", json!(-1), Expected::Absent).await.unwrap();
    for round in 0..40 {
        let reader = if round % 2 == 0 { &a } else { &b };
        let current = reader.get(c, "race").await.unwrap().unwrap().revision;
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = if i % 2 == 0 { a.clone() } else { b.clone() };
                tokio::spawn(async move {
                    store
                        .put(c, "race", json!([round, i]), Expected::Revision(current))
                        .await
                })
            })
            .collect();
        let mut winners = Vec::new();
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Ok(rev) => winners.push((i, rev)),
                Err(StoreError::Conflict { current: now, .. }) => assert!(now > Some(current)),
                Err(e) => panic!("round {round}: a losing CAS must be Conflict, got {e}"),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "round {round}: one winner, got {winners:?}"
        );
        let (i, rev) = winners[0];
        assert!(rev > current);
        for store in [&a, &b] {
            let got = store.get(c, "race").await.unwrap().unwrap();
            assert_eq!((got.value, got.revision), (json!([round, i]), rev));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_append_each_key_once_densely() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_stores(&dir).await;
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let store = if t % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                // Overlapping windows of one stream, appended in small batches.
                let events: Vec<_> = (t * 10..t * 10 + 40)
                    .flat_map(|i| {
                        [
                            ev(&format!("e{i:03}"), true),
                            ev(&format!("u{i:03}"), false),
                        ]
                    })
                    .collect();
                let mut mine = Vec::new();
                for batch in events.chunks(7) {
                    let out = store.append_events("s", batch).await.unwrap();
                    let cursor = out.cursor.unwrap();
                    assert!(out.appended.iter().all(|(_, seq)| *seq <= cursor));
                    mine.extend(out.appended.iter().map(|(_, seq)| *seq));
                }
                mine
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    claimed.sort_unstable();
    let distinct_keys = (0..70 + 40).count() * 2;
    assert_eq!(
        claimed,
        (1..=distinct_keys as u64).collect::<Vec<_>>(),
        "every sequence number reported appended exactly once"
    );
    for store in [&a, &b] {
        let all = store.read_events("s", 0, 10_000).await.unwrap();
        assert_eq!(all.len(), distinct_keys);
        let mut keys = HashSet::new();
        for (i, (seq, e)) in all.iter().enumerate() {
            assert_eq!(*seq, i as u64 + 1, "dense, ascending");
            assert!(keys.insert((e.event_id.clone(), e.processed)), "once");
        }
        assert_eq!(store.cursor("s").await.unwrap(), Some(distinct_keys as u64));
        assert_eq!(store.seen_events("s").await.unwrap(), keys);
    }
}

#[tokio::test]
async fn data_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let c = Collection::AgentSpecs;
    let (kept, gone, events) = {
        let store = SqliteStore::open(&path).await.unwrap();
        let r1 = store
            .put(c, "kept", json!({"name": "a", "n": 1.5}), Expected::Absent)
            .await
            .unwrap();
        let kept = store
            .put(c, "kept", json!({"name": "b"}), Expected::Revision(r1))
            .await
            .unwrap();
        let gone = store
            .put(c, "gone", json!(1), Expected::Absent)
            .await
            .unwrap();
        store
            .delete(c, "gone", Expected::Revision(gone))
            .await
            .unwrap();
        let events = [ev("e1", true), ev("u1", false), ev("u1", true)];
        store.append_events("s", &events).await.unwrap();
        store.close().await;
        (kept, gone, events)
    };
    let store = SqliteStore::open(&path).await.unwrap();
    let got = store.get(c, "kept").await.unwrap().unwrap();
    assert_eq!((got.value, got.revision), (json!({"name": "b"}), kept));
    assert_eq!(store.get(c, "gone").await.unwrap(), None);
    assert_eq!(store.list(c, "").await.unwrap().len(), 1);
    let log = store.read_events("s", 0, 100).await.unwrap();
    assert_eq!(
        log,
        vec![
            (1, events[0].clone()),
            (2, events[1].clone()),
            (3, events[2].clone())
        ]
    );
    assert_eq!(store.cursor("s").await.unwrap(), Some(3));
    let next = store
        .put(c, "kept", json!({"name": "c"}), Expected::Revision(kept))
        .await
        .unwrap();
    assert!(next > kept, "revisions keep increasing after a reopen");
    let again = store
        .put(c, "gone", json!(2), Expected::Absent)
        .await
        .unwrap();
    assert!(
        again > gone,
        "a re-create after a reopen continues from the tombstone"
    );
    let out = store
        .append_events("s", &[ev("u1", true), ev("e2", true)])
        .await
        .unwrap();
    assert_eq!(out.appended, vec![(1, 4)], "the dedupe keys survived too");
    assert_eq!(out.cursor, Some(4));
}

fn migration(version: i64, description: &'static str, sql: &'static str) -> Migration {
    Migration::new(
        version,
        description.into(),
        MigrationType::Simple,
        sql.into_sql_str(),
        false,
    )
}

/// A plain sqlx pool on `path`, as an older (or newer) release of this crate would have used.
async fn raw_pool(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    SqlitePool::connect_with(options).await.unwrap()
}

#[tokio::test]
async fn a_database_at_an_older_schema_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        // What the release with only migration 1 left behind.
        let pool = raw_pool(&path).await;
        Migrator::with_migrations(vec![migration(1, "records and session log", MIGRATION_1)])
            .run(&pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO records (collection, key, value, revision) VALUES \
             ('agent_specs', 'a1', '{\"name\":\"old\"}', 7), ('skills', 'gone', NULL, 3)",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO session_events (session, seq, event_id, processed, payload) VALUES \
             ('s', 1, 'e1', 1, '{\"id\":\"e1\"}'), ('s', 2, 'u1', 0, '{\"id\":\"u1\"}')",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO session_cursors (session, cursor) VALUES ('s', 2)")
            .execute(&pool)
            .await
            .unwrap();
        let secrets: Option<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'secrets'",
        )
        .fetch_optional(&pool)
        .await
        .unwrap();
        assert_eq!(secrets, None, "the old schema has no secrets table");
        pool.close().await;
    }

    let store = SqliteStore::open(&path).await.unwrap();
    let got = store
        .get(Collection::AgentSpecs, "a1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.value, got.revision),
        (json!({"name": "old"}), Revision(7))
    );
    let rev = store
        .put(
            Collection::AgentSpecs,
            "a1",
            json!({"name": "new"}),
            Expected::Revision(Revision(7)),
        )
        .await
        .unwrap();
    assert_eq!(rev, Revision(8));
    let recreated = store
        .put(Collection::Skills, "gone", json!(1), Expected::Absent)
        .await
        .unwrap();
    assert_eq!(recreated, Revision(4), "old tombstones keep their revision");
    let out = store
        .append_events("s", &[ev("u1", false), ev("u1", true)])
        .await
        .unwrap();
    assert_eq!(out.appended, vec![(1, 3)]);
    assert_eq!(store.read_events("s", 0, 10).await.unwrap().len(), 3);
    store.close().await;

    let pool = raw_pool(&path).await;
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(versions, vec![1, 2]);
    let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info('secrets')")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(
        columns,
        [
            "reference",
            "key_version",
            "nonce",
            "ciphertext",
            "updated_at"
        ]
    );
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(journal, "wal", "open switched the file to WAL");
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_release_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    SqliteStore::open(&path).await.unwrap().close().await;
    let pool = raw_pool(&path).await;
    Migrator::with_migrations(vec![
        migration(1, "records and session log", MIGRATION_1),
        migration(2, "secrets", MIGRATION_2),
        migration(9999, "from the future", "CREATE TABLE future (x INTEGER);"),
    ])
    .run(&pool)
    .await
    .unwrap();
    pool.close().await;
    match SqliteStore::open(&path).await {
        Err(StoreError::Backend { context, .. }) => {
            assert!(context.contains("migrations"), "{context}");
        }
        other => panic!("expected a Backend error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.db");
    std::fs::write(&path, b"this is not a database, just bytes\n".repeat(200)).unwrap();
    match SqliteStore::open(&path).await {
        Err(e @ StoreError::Backend { .. }) => {
            assert!(e.to_string().contains("garbage.db"), "names the file: {e}");
        }
        other => panic!("expected a Backend error, got {other:?}"),
    }
    let contents = std::fs::read(&path).unwrap();
    assert!(
        contents.starts_with(b"this is not a database"),
        "left untouched"
    );
}

#[tokio::test]
async fn a_path_in_a_missing_directory_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/store.db");
    match SqliteStore::open(&path).await {
        Err(StoreError::Backend { .. }) => {}
        other => panic!("expected a Backend error, got {other:?}"),
    }
    assert!(!path.exists());
}

/// Whether some connection holds the file's write lock (is inside a write transaction),
/// probed with a `BEGIN IMMEDIATE` that does not wait.
async fn write_locked(probe: &mut SqliteConnection) -> bool {
    match sqlx::query("BEGIN IMMEDIATE").execute(&mut *probe).await {
        Ok(_) => {
            sqlx::query("ROLLBACK").execute(&mut *probe).await.unwrap();
            false
        }
        Err(e) => {
            assert!(e.to_string().contains("locked"), "{e}");
            true
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_append_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_stores(&dir).await;
    let mut probe = SqliteConnectOptions::new()
        .filename(dir.path().join("store.db"))
        .busy_timeout(Duration::ZERO)
        .connect()
        .await
        .unwrap();
    a.append_events("s", &[ev("first", true)]).await.unwrap();
    let mut stored = 1;
    let mut cancelled_inside = 0;
    for attempt in 0..5 {
        let batch: Vec<_> = (0..5_000)
            .map(|i| ev(&format!("big{attempt}-{i}"), true))
            .collect();
        let mut append = Box::pin(a.append_events("s", &batch));
        // Drive the append until it is inside its write transaction, then drop it there.
        let finished = loop {
            tokio::select! {
                biased;
                out = &mut append => break Some(out.unwrap()),
                () = tokio::time::sleep(Duration::from_millis(1)) => {}
            }
            if write_locked(&mut probe).await {
                break None;
            }
        };
        drop(append);
        match finished {
            Some(out) => stored += out.appended.len(),
            None => cancelled_inside += 1,
        }
        for store in [&a, &b] {
            let log = store.read_events("s", 0, 100_000).await.unwrap();
            assert_eq!(
                log.len(),
                stored,
                "all of a batch or none of it (attempt {attempt})"
            );
            assert_eq!(store.cursor("s").await.unwrap(), Some(stored as u64));
        }
    }
    assert!(
        cancelled_inside > 0,
        "no append was cancelled inside its transaction"
    );
    // Both stores still write: the cancelled transaction rolled back and released the lock.
    let out = b.append_events("s", &[ev("after", true)]).await.unwrap();
    assert_eq!(out.appended, vec![(0, stored as u64 + 1)]);
    let out = a
        .append_events("s", &[ev("after", true), ev("after-2", true)])
        .await
        .unwrap();
    assert_eq!(out.appended, vec![(1, stored as u64 + 2)]);
    a.put(Collection::Skills, "k", json!(1), Expected::Absent)
        .await
        .unwrap();
    assert!(!write_locked(&mut probe).await);
}

#[tokio::test]
async fn debug_shows_the_path_and_pool_sizes_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut options = SqliteOptions::default();
    options.max_readers = 3;
    let store = SqliteStore::open_with(&path, options).await.unwrap();
    store
        .put(
            Collection::ProviderKeys,
            "pk",
            json!({"label": "visible-only-in-the-db"}),
            Expected::Absent,
        )
        .await
        .unwrap();
    let shown = format!("{store:?}");
    assert!(
        shown.contains("store.db") && shown.contains("max_readers: 3"),
        "{shown}"
    );
    assert!(!shown.contains("visible-only-in-the-db"), "{shown}");
    assert_eq!(store.path(), path);
}

#[tokio::test]
async fn read_events_edges() {
    let store = TempStore::new().await;
    store
        .append_events("s", &[ev("a", true), ev("b", true)])
        .await
        .unwrap();
    assert!(store.read_events("s", 0, 0).await.unwrap().is_empty());
    assert!(
        store
            .read_events("s", u64::MAX, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.read_events("s", 0, usize::MAX).await.unwrap().len(),
        2
    );
    let out = store.append_events("s", &[]).await.unwrap();
    assert_eq!(
        out,
        AppendOutcome {
            appended: vec![],
            cursor: Some(2)
        }
    );
}

#[tokio::test]
async fn list_handles_prefixes_at_the_edges_of_the_key_space() {
    let store = TempStore::new().await;
    let c = Collection::Other("edge_keys");
    let top = char::MAX.to_string();
    for key in [
        "",
        "a",
        &format!("a{top}"),
        &format!("a{top}x"),
        "b",
        &top,
        "\u{d7ff}z",
        "\u{e000}",
    ] {
        store
            .put(c, key, json!(key), Expected::Absent)
            .await
            .unwrap();
    }
    let keys = |v: Vec<(String, Versioned)>| v.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    assert_eq!(store.list(c, "").await.unwrap().len(), 8);
    assert_eq!(
        keys(store.list(c, &format!("a{top}")).await.unwrap()),
        [format!("a{top}"), format!("a{top}x")]
    );
    assert_eq!(keys(store.list(c, &top).await.unwrap()), vec![top]);
    assert_eq!(
        keys(store.list(c, "\u{d7ff}").await.unwrap()),
        ["\u{d7ff}z"]
    );
    assert_eq!(keys(store.list(c, "a").await.unwrap()).len(), 3);
}

/// Batches of every size (across the statement chunk boundaries), mixing new events, stored
/// ones and repeats inside the batch: the outcome is the memory store's, call by call.
#[tokio::test]
async fn append_matches_the_memory_store_on_random_batches() {
    use claude_agents::store::MemoryStore;
    use rand::{Rng, SeedableRng};

    let sqlite = TempStore::new().await;
    let memory = MemoryStore::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for round in 0..60 {
        let session = format!("s{}", round % 3);
        let len = match round % 4 {
            0 => rng.random_range(0..8),
            1 => rng.random_range(60..70),
            _ => rng.random_range(200..700),
        };
        let batch: Vec<_> = (0..len)
            .map(|_| {
                ev(
                    &format!("e{}", rng.random_range(0..900)),
                    rng.random_bool(0.7),
                )
            })
            .collect();
        let want = memory.append_events(&session, &batch).await.unwrap();
        let got = sqlite.append_events(&session, &batch).await.unwrap();
        assert_eq!(got, want, "round {round} ({len} events)");
    }
    for s in ["s0", "s1", "s2"] {
        let want = memory.read_events(s, 0, usize::MAX).await.unwrap();
        assert_eq!(sqlite.read_events(s, 0, usize::MAX).await.unwrap(), want);
        assert_eq!(
            sqlite.seen_events(s).await.unwrap(),
            memory.seen_events(s).await.unwrap()
        );
        assert_eq!(
            sqlite.cursor(s).await.unwrap(),
            memory.cursor(s).await.unwrap()
        );
    }
}
