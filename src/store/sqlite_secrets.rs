//! The encrypted SQLite [`SecretStore`] (feature `sqlite`): secrets sealed with the
//! [`secrets`](crate::secrets) scheme (XChaCha20-Poly1305, bound to the row and the key
//! version) in the `secrets` table of a [`SqliteStore`]'s file, and master-key rotation
//! ([`SqliteSecretStore::rekey`]) that re-encrypts row by row while the store stays in use.
//!
//! Plaintext never reaches SQLite — not in a row, a bound parameter, the WAL or a log line:
//! values are sealed in memory before the write and opened in memory after the read.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{SecondsFormat, Utc};
use secrecy::SecretString;
use sqlx::Row;

use super::sqlite::SqliteStore;
use super::{Result, SecretRef, SecretStore, StoreError};
use crate::secrets::{Keyring, NONCE_LEN, Sealed, SecretsError};

/// A [`SecretStore`] in a [`SqliteStore`]'s file, encrypting every value at rest.
///
/// Built from the store (sharing its connections) and a [`Keyring`]: new values are sealed
/// under the keyring's current key; values sealed under a retired key still open, and
/// [`rekey`](Self::rekey) moves them to the current one.
///
/// # Errors
///
/// A row that fails authentication (tampered, copied from another row, or sealed under a key
/// with the same version number but different bytes) or that names a key version the keyring
/// lacks is a [`StoreError::Backend`] whose source is the [`SecretsError`] (downcast it to
/// tell them apart); nothing is ever returned for such a row. Errors carry the reference,
/// never a value.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use claude_agents::secrets::{Keyring, load_or_create_key_file};
/// use claude_agents::store::{SecretRef, SecretStore, SqliteSecretStore, SqliteStore};
/// use secrecy::SecretString;
///
/// let store = SqliteStore::open("agents.db").await?;
/// let key = load_or_create_key_file("agents.key")?; // or from the host's secret manager
/// let secrets = SqliteSecretStore::new(&store, Keyring::new(1, key));
/// secrets.put(&SecretRef::from("token/1"), SecretString::from("s3cr3t")).await?;
/// # Ok(()) }
/// ```
pub struct SqliteSecretStore {
    store: SqliteStore,
    keyring: Arc<Keyring>,
}

impl fmt::Debug for SqliteSecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteSecretStore")
            .field("store", &self.store)
            .field("keyring", &self.keyring)
            .finish()
    }
}

/// What [`SqliteSecretStore::rekey`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RekeyReport {
    /// Rows re-encrypted under the current key.
    pub resealed: u64,
    /// Rows that changed while being re-encrypted (a concurrent `put`, `rotate` or `delete`
    /// won; the new value is already under the current key or gone) — left as they are.
    pub raced: u64,
    /// Rows that could not be opened (tampered, or sealed under a key the keyring lacks),
    /// by reference; they are left untouched and keep failing on `get`.
    pub failed: Vec<String>,
}

fn backend(context: impl fmt::Display) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| StoreError::backend(format!("sqlite secrets: {context}"), e)
}

fn sealing(reference: &str) -> impl FnOnce(SecretsError) -> StoreError + '_ {
    move |e| StoreError::backend(format!("sqlite secrets: {reference}"), e)
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn version_column(version: u32) -> i64 {
    i64::from(version)
}

/// Rebuilds a [`Sealed`] from a row's columns.
fn sealed_from_row(
    reference: &str,
    version: i64,
    nonce: &[u8],
    ciphertext: Vec<u8>,
) -> Result<Sealed> {
    let malformed = |what: &'static str| sealing(reference)(SecretsError::Malformed(what));
    let key_version = u32::try_from(version).map_err(|_| malformed("key version out of range"))?;
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| malformed("nonce length"))?;
    Ok(Sealed {
        key_version,
        nonce,
        ciphertext,
    })
}

impl SqliteSecretStore {
    /// A secret store in `store`'s file (sharing its connections), sealing with `keyring`.
    pub fn new(store: &SqliteStore, keyring: Keyring) -> Self {
        Self {
            store: store.clone(),
            keyring: Arc::new(keyring),
        }
    }

    /// The keyring in use.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// How many rows are sealed under each key version — a retired key can be dropped from
    /// the keyring once no row uses it.
    pub async fn key_versions_in_use(&self) -> Result<BTreeMap<u32, u64>> {
        let rows = sqlx::query(
            "SELECT key_version, COUNT(*) FROM secrets GROUP BY key_version ORDER BY key_version",
        )
        .fetch_all(self.store.reader())
        .await
        .map_err(backend("count key versions"))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let version: i64 = row.try_get(0).map_err(backend("count key versions"))?;
            let count: i64 = row.try_get(1).map_err(backend("count key versions"))?;
            let version = u32::try_from(version).map_err(|_| {
                StoreError::backend(
                    "sqlite secrets: count key versions",
                    "key version out of range",
                )
            })?;
            out.insert(version, u64::try_from(count).unwrap_or(0));
        }
        Ok(out)
    }

    /// Master-key rotation: re-encrypts every row not sealed under the keyring's current key,
    /// `batch` rows per write transaction, while the store stays fully usable (reads of
    /// not-yet-rekeyed rows open with the retired key; writes seal with the current one).
    ///
    /// Each row is replaced only if it still holds the ciphertext that was re-encrypted (a
    /// compare-and-swap on its nonce), so a concurrent `put`/`rotate`/`delete` is never
    /// overwritten with the old value. Rows that fail to open are reported in
    /// [`RekeyReport::failed`] and skipped. Safe to run again (idempotent) and to interrupt:
    /// every committed batch stays rekeyed.
    pub async fn rekey(&self, batch: usize) -> Result<RekeyReport> {
        let batch = i64::try_from(batch.max(1)).unwrap_or(i64::MAX);
        let current = version_column(self.keyring.current_version());
        let mut report = RekeyReport::default();
        let mut after = String::new();
        loop {
            let rows = sqlx::query(
                "SELECT reference, key_version, nonce, ciphertext FROM secrets \
                 WHERE key_version <> ? AND reference > ? ORDER BY reference LIMIT ?",
            )
            .bind(current)
            .bind(&after)
            .bind(batch)
            .fetch_all(self.store.reader())
            .await
            .map_err(backend("rekey: scan"))?;
            if rows.is_empty() {
                return Ok(report);
            }
            let mut updates = Vec::with_capacity(rows.len());
            for row in &rows {
                let reference: String = row.try_get(0).map_err(backend("rekey: scan"))?;
                let version: i64 = row.try_get(1).map_err(backend("rekey: scan"))?;
                let nonce: Vec<u8> = row.try_get(2).map_err(backend("rekey: scan"))?;
                let ciphertext: Vec<u8> = row.try_get(3).map_err(backend("rekey: scan"))?;
                after.clone_from(&reference);
                let resealed =
                    sealed_from_row(&reference, version, &nonce, ciphertext).and_then(|old| {
                        self.keyring
                            .reseal(&reference, &old)
                            .map_err(sealing(&reference))
                    });
                match resealed {
                    Ok(Some(new)) => updates.push((reference, version, nonce, new)),
                    Ok(None) => {}
                    Err(_) => report.failed.push(reference),
                }
            }
            if updates.is_empty() {
                continue;
            }
            let mut tx = self.store.begin_write("rekey").await?;
            for (reference, version, old_nonce, new) in &updates {
                let done = sqlx::query(
                    "UPDATE secrets SET key_version = ?, nonce = ?, ciphertext = ?, updated_at = ? \
                     WHERE reference = ? AND key_version = ? AND nonce = ?",
                )
                .bind(version_column(new.key_version))
                .bind(&new.nonce[..])
                .bind(&new.ciphertext[..])
                .bind(now())
                .bind(reference)
                .bind(version)
                .bind(&old_nonce[..])
                .execute(&mut *tx)
                .await
                .map_err(backend(format_args!("rekey {reference}")))?;
                if done.rows_affected() == 1 {
                    report.resealed += 1;
                } else {
                    report.raced += 1;
                }
            }
            tx.commit().await.map_err(backend("rekey: commit"))?;
        }
    }
}

#[async_trait]
impl SecretStore for SqliteSecretStore {
    async fn put(&self, reference: &SecretRef, value: SecretString) -> Result<()> {
        let r = reference.as_str();
        let sealed = self.keyring.seal(r, &value).map_err(sealing(r))?;
        let mut tx = self.store.begin_write("put secret").await?;
        sqlx::query(
            "INSERT INTO secrets (reference, key_version, nonce, ciphertext, updated_at) \
             VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (reference) DO UPDATE SET key_version = excluded.key_version, \
             nonce = excluded.nonce, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
        )
        .bind(r)
        .bind(version_column(sealed.key_version))
        .bind(&sealed.nonce[..])
        .bind(&sealed.ciphertext[..])
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(backend(format_args!("put {r}")))?;
        tx.commit().await.map_err(backend(format_args!("put {r}")))
    }

    async fn get(&self, reference: &SecretRef) -> Result<Option<SecretString>> {
        let r = reference.as_str();
        let row =
            sqlx::query("SELECT key_version, nonce, ciphertext FROM secrets WHERE reference = ?")
                .bind(r)
                .fetch_optional(self.store.reader())
                .await
                .map_err(backend(format_args!("get {r}")))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let version: i64 = row.try_get(0).map_err(backend(format_args!("get {r}")))?;
        let nonce: Vec<u8> = row.try_get(1).map_err(backend(format_args!("get {r}")))?;
        let ciphertext: Vec<u8> = row.try_get(2).map_err(backend(format_args!("get {r}")))?;
        let sealed = sealed_from_row(r, version, &nonce, ciphertext)?;
        self.keyring.open(r, &sealed).map(Some).map_err(sealing(r))
    }

    async fn delete(&self, reference: &SecretRef) -> Result<bool> {
        let r = reference.as_str();
        let mut tx = self.store.begin_write("delete secret").await?;
        let done = sqlx::query("DELETE FROM secrets WHERE reference = ?")
            .bind(r)
            .execute(&mut *tx)
            .await
            .map_err(backend(format_args!("delete {r}")))?;
        tx.commit()
            .await
            .map_err(backend(format_args!("delete {r}")))?;
        Ok(done.rows_affected() > 0)
    }

    /// A conditional write: replaces the value only if the reference exists, atomically.
    async fn rotate(&self, reference: &SecretRef, value: SecretString) -> Result<()> {
        let r = reference.as_str();
        let sealed = self.keyring.seal(r, &value).map_err(sealing(r))?;
        let mut tx = self.store.begin_write("rotate secret").await?;
        let done = sqlx::query(
            "UPDATE secrets SET key_version = ?, nonce = ?, ciphertext = ?, updated_at = ? \
             WHERE reference = ?",
        )
        .bind(version_column(sealed.key_version))
        .bind(&sealed.nonce[..])
        .bind(&sealed.ciphertext[..])
        .bind(now())
        .bind(r)
        .execute(&mut *tx)
        .await
        .map_err(backend(format_args!("rotate {r}")))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                collection: "secrets".to_owned(),
                key: r.to_owned(),
            });
        }
        tx.commit()
            .await
            .map_err(backend(format_args!("rotate {r}")))
    }
}
