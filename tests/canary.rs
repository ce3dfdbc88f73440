//! The canary test: a unique secret written through every path that handles secrets — the
//! workspace key service (add, rotate, a refused rotation, revalidate) on the SQLite stores
//! against the fake API, the encrypted secret store directly (put, rotate, master-key
//! rotation) and its error paths (tampered row, wrong key, absent reference) — never appears
//! in the SQLite file, its WAL or shared-memory file (before and after a checkpoint), in any
//! log line at TRACE level from any thread, in any error's `Display` or `Debug`, or in the
//! `Debug` of the services.
//!
//! Its own test binary because it installs a process-wide TRACE subscriber (sqlx logs its
//! statements from its connection threads, which a thread-local subscriber would not see).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use claude_agents::api::{Client, RetryPolicy};
use claude_agents::domain::WorkspaceId;
use claude_agents::keys::ProviderKeys;
use claude_agents::secrets::{KEY_LEN, Keyring, MasterKey};
use claude_agents::store::{
    Collection, SecretRef, SecretStore, SqliteSecretStore, SqliteStore, Store,
};
use claude_agents::testkit::{FakeApi, KeyAccess};
use secrecy::{ExposeSecret, SecretString};
use sqlx::SqlitePool;
use sqlx::sqlite::SqliteConnectOptions;

/// Everything logged by any thread of this process.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        tracing::subscriber::set_global_default(
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish(),
        )
        .unwrap();
        logs
    })
}

fn key(byte: u8) -> MasterKey {
    MasterKey::from_bytes([byte; KEY_LEN])
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn file_contains(path: &Path, needle: &[u8]) -> bool {
    std::fs::read(path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
}

fn db_files(db: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| PathBuf::from(format!("{}{suffix}", db.display())))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_secrets_never_leave_memory() {
    let logs = logs();
    let nonce = format!("{:016x}", rand::random::<u64>());
    // Realistic key shapes, unique to this run.
    let canaries: Vec<String> = (0..4)
        .map(|i| format!("sk-ant-api03-CANARY{i}{nonce}zLmW2pR8tYvB4nK6dJ1hG5sE0-t{i}"))
        .collect();
    let mut shown: Vec<String> = Vec::new();

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("agents.db");
    let store = SqliteStore::open(&db).await.unwrap();
    let secrets = Arc::new(SqliteSecretStore::new(&store, Keyring::new(1, key(1))));
    let fake = FakeApi::start().await.unwrap();
    let api = Client::builder()
        .base_url(fake.base_url())
        .retry_policy(RetryPolicy {
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            ..RetryPolicy::default()
        });
    let keys = ProviderKeys::new(Arc::new(store.clone()), secrets.clone(), api);
    let ws = WorkspaceId::from("ws_canary");

    // The key service on SQLite: add, rotate, a refused rotation, a revoked key.
    let added = keys
        .add(&ws, "Team key", secret(&canaries[0]))
        .await
        .unwrap();
    let rotated = keys
        .rotate(&ws, &added.id, secret(&canaries[1]))
        .await
        .unwrap();
    fake.set_key_access(canaries[2].clone(), KeyAccess::Rejected);
    let refused = keys
        .rotate(&ws, &added.id, secret(&canaries[2]))
        .await
        .unwrap_err();
    fake.set_key_access(canaries[1].clone(), KeyAccess::Forbidden);
    let revoked = keys.revalidate(&ws, &added.id).await.unwrap();
    let in_store = secrets.get(&added.secret).await.unwrap().unwrap();
    assert_eq!(
        in_store.expose_secret(),
        canaries[1],
        "the rotated secret is stored"
    );
    shown.push(format!("{added:?} {rotated:?} {revoked:?} {keys:?}"));
    shown.push(format!("{refused} {refused:?}"));
    shown.push(format!("{:?}", keys.list(&ws).await.unwrap()));
    for (key, record) in store.list(Collection::ProviderKeys, "").await.unwrap() {
        shown.push(format!("{key} {}", record.value));
    }

    // The secret store directly, and master-key rotation.
    let r = SecretRef::from("mcp/ws_canary/agent_1/linear");
    secrets.put(&r, secret(&canaries[3])).await.unwrap();
    let v2 = SqliteSecretStore::new(
        &store,
        Keyring::new(2, key(2)).with_retired(1, key(1)).unwrap(),
    );
    let report = v2.rekey(10).await.unwrap();
    assert_eq!(report.resealed, 2, "{report:?}");
    shown.push(format!("{report:?} {v2:?} {secrets:?} {store:?}"));

    // Error paths: a tampered row, the wrong master key, a rotation of an absent reference.
    let raw = SqlitePool::connect_with(SqliteConnectOptions::new().filename(&db))
        .await
        .unwrap();
    sqlx::query(
        "UPDATE secrets SET ciphertext = substr(ciphertext, 2) || x'00' WHERE reference = ?",
    )
    .bind(r.as_str())
    .execute(&raw)
    .await
    .unwrap();
    let wrong = SqliteSecretStore::new(&store, Keyring::new(2, key(9)));
    for err in [
        v2.get(&r).await.unwrap_err(),
        wrong.get(&added.secret).await.unwrap_err(),
        v2.rotate(&SecretRef::from("absent"), secret(&canaries[3]))
            .await
            .unwrap_err(),
    ] {
        shown.push(format!("{err} {err:?}"));
    }

    for canary in &canaries {
        for file in db_files(&db) {
            assert!(
                !file_contains(&file, canary.as_bytes()),
                "canary found in {}",
                file.display()
            );
        }
    }
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&raw)
        .await
        .unwrap();
    raw.close().await;
    store.close().await;
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        text.contains("sqlx::query") && text.contains("provider key added"),
        "TRACE logs from every thread were captured (sqlx statements, the key service)"
    );
    for canary in &canaries {
        for file in db_files(&db) {
            assert!(
                !file_contains(&file, canary.as_bytes()),
                "canary found in {} after the checkpoint",
                file.display()
            );
        }
        for s in &shown {
            assert!(
                !s.contains(canary.as_str()),
                "canary in Debug/error/record output: {s}"
            );
        }
        assert!(!text.contains(canary.as_str()), "canary in TRACE logs");
        // Nor its distinctive middle part, in case something logged a truncated form.
        let middle = &canary[12..40];
        assert!(!text.contains(middle), "part of a canary in TRACE logs");
    }
}
