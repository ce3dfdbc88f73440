//! `SqliteSecretStore`: the secret-store conformance suite, then what it cannot see — tampered,
//! moved and relabelled ciphertext is rejected, master-key rotation re-encrypts every row
//! while writers keep writing. (The canary-secret test is its own binary, `tests/canary.rs`,
//! because it installs a process-wide TRACE subscriber.)

use std::sync::Arc;

use claude_agents::secrets::{KEY_LEN, Keyring, MasterKey, SecretsError};
use claude_agents::store::{SecretRef, SecretStore, SqliteSecretStore, SqliteStore, StoreError};
use secrecy::{ExposeSecret, SecretString};
use sqlx::SqlitePool;
use sqlx::sqlite::SqliteConnectOptions;
use tempfile::TempDir;

fn key(byte: u8) -> MasterKey {
    MasterKey::from_bytes([byte; KEY_LEN])
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

struct Fixture {
    dir: TempDir,
    store: SqliteStore,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("agents.db"))
            .await
            .unwrap();
        Self { dir, store }
    }

    fn secrets(&self, keyring: Keyring) -> SqliteSecretStore {
        SqliteSecretStore::new(&self.store, keyring)
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("agents.db")
    }

    /// A second, plain connection to the file — the "attacker" with write access to the DB.
    async fn raw(&self) -> SqlitePool {
        SqlitePool::connect_with(SqliteConnectOptions::new().filename(self.path()))
            .await
            .unwrap()
    }
}

mod conformance {
    use super::*;

    // One file per test process under the target's tmp dir (keys are randomised, so the
    // suite shares it), kept alive for the whole run.
    claude_agents::secret_store_conformance_tests!(|| async {
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("secrets-conformance-{}.db", std::process::id()));
        let store = SqliteStore::open(path).await.unwrap();
        Arc::new(SqliteSecretStore::new(&store, Keyring::new(1, key(1))))
    });
}

fn decrypt_error(e: &StoreError) -> Option<&SecretsError> {
    std::error::Error::source(e)?.downcast_ref::<SecretsError>()
}

#[tokio::test]
async fn tampered_ciphertext_is_rejected() {
    let f = Fixture::new().await;
    let secrets = f.secrets(Keyring::new(1, key(1)));
    let r = SecretRef::from("token/a");
    secrets.put(&r, secret("value-a")).await.unwrap();
    let raw = f.raw().await;
    let ciphertext: Vec<u8> =
        sqlx::query_scalar("SELECT ciphertext FROM secrets WHERE reference = 'token/a'")
            .fetch_one(&raw)
            .await
            .unwrap();
    for i in [0, ciphertext.len() / 2, ciphertext.len() - 1] {
        let mut bad = ciphertext.clone();
        bad[i] ^= 0x01;
        sqlx::query("UPDATE secrets SET ciphertext = ? WHERE reference = 'token/a'")
            .bind(&bad)
            .execute(&raw)
            .await
            .unwrap();
        let err = secrets.get(&r).await.unwrap_err();
        assert!(
            matches!(decrypt_error(&err), Some(SecretsError::Decrypt { .. })),
            "flipped byte {i}: {err:?}"
        );
    }
    // A truncated nonce is a malformed row, not a panic.
    sqlx::query("UPDATE secrets SET nonce = x'0102' WHERE reference = 'token/a'")
        .execute(&raw)
        .await
        .unwrap();
    let err = secrets.get(&r).await.unwrap_err();
    assert!(matches!(
        decrypt_error(&err),
        Some(SecretsError::Malformed(_))
    ));
}

#[tokio::test]
async fn ciphertext_moved_to_another_row_or_relabelled_is_rejected() {
    let f = Fixture::new().await;
    let ring = Keyring::new(2, key(2)).with_retired(1, key(1)).unwrap();
    let secrets = f.secrets(ring);
    let (a, b) = (SecretRef::from("token/a"), SecretRef::from("token/b"));
    secrets.put(&a, secret("value-a")).await.unwrap();
    secrets.put(&b, secret("value-b")).await.unwrap();
    let raw = f.raw().await;
    // Copy a's sealed value over b: b must not open to a's value.
    sqlx::query(
        "UPDATE secrets SET (key_version, nonce, ciphertext) = \
         (SELECT key_version, nonce, ciphertext FROM secrets WHERE reference = 'token/a') \
         WHERE reference = 'token/b'",
    )
    .execute(&raw)
    .await
    .unwrap();
    let err = secrets.get(&b).await.unwrap_err();
    match decrypt_error(&err) {
        Some(SecretsError::Decrypt { reference }) => assert_eq!(reference, "token/b"),
        other => panic!("moved ciphertext must fail authentication, got {other:?}"),
    }
    assert_eq!(
        secrets.get(&a).await.unwrap().unwrap().expose_secret(),
        "value-a"
    );
    // Relabel a's key version: the version is authenticated too.
    sqlx::query("UPDATE secrets SET key_version = 1 WHERE reference = 'token/a'")
        .execute(&raw)
        .await
        .unwrap();
    let err = secrets.get(&a).await.unwrap_err();
    assert!(matches!(
        decrypt_error(&err),
        Some(SecretsError::Decrypt { .. })
    ));
    sqlx::query("UPDATE secrets SET key_version = 9 WHERE reference = 'token/a'")
        .execute(&raw)
        .await
        .unwrap();
    let err = secrets.get(&a).await.unwrap_err();
    assert!(matches!(
        decrypt_error(&err),
        Some(SecretsError::UnknownKeyVersion { version: 9, .. })
    ));
}

#[tokio::test]
async fn a_store_opened_with_the_wrong_master_key_returns_nothing() {
    let f = Fixture::new().await;
    let r = SecretRef::from("token/a");
    f.secrets(Keyring::new(1, key(1)))
        .put(&r, secret("value"))
        .await
        .unwrap();
    let err = f
        .secrets(Keyring::new(1, key(7)))
        .get(&r)
        .await
        .unwrap_err();
    assert!(matches!(
        decrypt_error(&err),
        Some(SecretsError::Decrypt { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_key_rotation_reencrypts_while_writers_write() {
    let f = Fixture::new().await;
    let v1 = f.secrets(Keyring::new(1, key(1)));
    let refs: Vec<SecretRef> = (0..200)
        .map(|i| SecretRef::from(format!("token/{i:03}")))
        .collect();
    for (i, r) in refs.iter().enumerate() {
        v1.put(r, secret(&format!("old-{i}"))).await.unwrap();
    }
    assert_eq!(
        v1.key_versions_in_use()
            .await
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        [(1, 200)]
    );

    // Every instance now runs with v2 current and v1 retired.
    let v2 = Arc::new(f.secrets(Keyring::new(2, key(2)).with_retired(1, key(1)).unwrap()));
    // A writer rotates every third secret while the rekey runs; readers keep reading.
    let writer = {
        let v2 = v2.clone();
        let refs = refs.clone();
        tokio::spawn(async move {
            for (i, r) in refs.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
                v2.rotate(r, secret(&format!("new-{i}"))).await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    let reader = {
        let v2 = v2.clone();
        let refs = refs.clone();
        tokio::spawn(async move {
            for r in refs.iter().rev() {
                let value = v2.get(r).await.unwrap().unwrap();
                assert!(value.expose_secret().contains('-'));
            }
        })
    };
    let report = v2.rekey(16).await.unwrap();
    writer.await.unwrap();
    reader.await.unwrap();
    assert!(report.failed.is_empty(), "{report:?}");
    assert!(report.resealed + report.raced <= 200, "{report:?}");
    // Everything is under v2 now (rekey again picks up nothing)...
    assert_eq!(v2.rekey(16).await.unwrap().resealed, 0);
    assert_eq!(
        v2.key_versions_in_use()
            .await
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        [(2, 200)]
    );
    // ...no rotation was lost to the rekey, and v1 can be retired for good.
    let v2_only = f.secrets(Keyring::new(2, key(2)));
    for (i, r) in refs.iter().enumerate() {
        let want = if i % 3 == 0 {
            format!("new-{i}")
        } else {
            format!("old-{i}")
        };
        assert_eq!(v2_only.get(r).await.unwrap().unwrap().expose_secret(), want);
    }
    assert!(
        v1.get(&refs[1]).await.is_err(),
        "the old keyring alone cannot read v2 rows"
    );
}

#[tokio::test]
async fn rekey_reports_rows_it_cannot_open_and_goes_on() {
    let f = Fixture::new().await;
    let v1 = f.secrets(Keyring::new(1, key(1)));
    for r in ["a", "b", "c"] {
        v1.put(&SecretRef::from(r), secret("v")).await.unwrap();
    }
    sqlx::query("UPDATE secrets SET ciphertext = x'00112233445566778899aabbccddeeff00' WHERE reference = 'b'")
        .execute(&f.raw().await)
        .await
        .unwrap();
    let v2 = f.secrets(Keyring::new(2, key(2)).with_retired(1, key(1)).unwrap());
    let report = v2.rekey(1).await.unwrap();
    assert_eq!(report.resealed, 2);
    assert_eq!(report.failed, ["b"]);
}
