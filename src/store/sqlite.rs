//! The SQLite [`Store`] (feature `sqlite`): one database file holding the versioned records,
//! the session event logs and their cursors — and the `secrets` table of the encrypted SQLite
//! secret store, which shares this store's connections. Owns the schema (embedded
//! migrations, applied on open) and the connection discipline below.
//!
//! # Connections
//!
//! SQLite has one writer per file. A [`SqliteStore`] keeps a writer pool of exactly one
//! connection, so its own writes queue in-process instead of failing with `SQLITE_BUSY`, and
//! a pool of read-only connections for reads (the file is in WAL mode, where readers never
//! block the writer nor wait for it). Every write is a transaction opened with
//! `BEGIN IMMEDIATE`, which takes the file's write lock up front: several stores on one file
//! — other processes included — serialise on it, waiting up to
//! [`SqliteOptions::busy_timeout`] for each other, and a transaction never has to be retried
//! for a lock it could not upgrade. A write whose future is dropped (cancelled) is rolled
//! back before its connection serves anything else.
//!
//! # Schema
//!
//! - `records(collection, key, value, revision)`: values as JSON text. A delete keeps the row
//!   as a tombstone (`value` NULL) with its last revision, so revisions are per key and keep
//!   increasing across delete and re-create (contract item 3) without a global counter.
//! - `session_events(session, seq, event_id, processed, payload)`, unique on
//!   `(session, event_id, processed)`, and `session_cursors(session, cursor)`: an append is
//!   one transaction that inserts the new events and moves the cursor (items 7–9).
//! - `secrets(reference, key_version, nonce, ciphertext, updated_at)` (migration 2), for the
//!   encrypted secret store.
//!
//! Migrations (`migrations/sqlite/NNNN_*.sql`) are compiled into the library and applied in
//! order by [`SqliteStore::open`], inside one `BEGIN IMMEDIATE` transaction, so concurrent
//! opens of a fresh file do not race. A file migrated by a newer release (a migration this
//! build does not know) is refused rather than used.
//!
//! # Appends
//!
//! [`Store::append_events`] is one transaction per call, whatever the batch size: read the
//! cursor, look up which of the batch's event ids are already stored, decide in Rust which
//! events are new (repeats inside the batch included), insert those with multi-row `INSERT`s
//! and move the cursor. Statements come in a fixed set of row counts (256, 128, …, 1), so
//! each connection prepares and caches a bounded number of them. `examples/store_bench.rs`
//! measures it against [`MemoryStore`](super::MemoryStore).
//!
//! There is no in-memory mode: the writer/reader split needs a file (tests use temporary
//! files).

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use serde_json::value::RawValue;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row, SqlSafeStr, Sqlite, Transaction};

use super::{
    AppendOutcome, Collection, Expected, LogEvent, Result, Revision, Store, StoreError, Versioned,
};

/// The embedded migrations, in order: `(version, description, SQL)`. Released entries never
/// change (sqlx records each one's checksum); a schema change is a new entry.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "records and session log",
        include_str!("../../migrations/sqlite/0001_records_and_session_log.sql"),
    ),
    (
        2,
        "secrets",
        include_str!("../../migrations/sqlite/0002_secrets.sql"),
    ),
];

fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// How [`SqliteStore::open_with`] opens a database.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// How long a write waits for another connection's (or process's) write lock, and a read
    /// for a lock it needs, before failing with [`StoreError::Backend`]. Default 5 s.
    pub busy_timeout: Duration,
    /// How long an operation waits for a free connection of this store before failing with
    /// [`StoreError::Backend`]; writes queue for the single writer here. Default 30 s.
    pub acquire_timeout: Duration,
    /// The number of read-only connections (at least 1). Default 4.
    pub max_readers: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(30),
            max_readers: 4,
        }
    }
}

/// A [`Store`] in one SQLite file. Cheap to share with `Arc`; several stores (and processes)
/// may open the same file. See the [module docs](crate::store::sqlite) for the concurrency
/// design and the schema.
///
/// `Debug` shows the path and pool sizes only. Clones share the connections (and
/// [`close`](Self::close) closes them for every clone).
#[derive(Clone)]
pub struct SqliteStore {
    path: PathBuf,
    writer: SqlitePool,
    reader: SqlitePool,
    max_readers: u32,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("writers", &1)
            .field("max_readers", &self.max_readers)
            .finish()
    }
}

/// Maps a driver error to [`StoreError::Backend`] with what was being done.
fn backend(context: impl fmt::Display) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| StoreError::backend(format!("sqlite: {context}"), e)
}

/// An error of our own (not the driver's) as a [`StoreError::Backend`].
fn corrupt(context: impl fmt::Display, what: impl Into<String>) -> StoreError {
    StoreError::backend(format!("sqlite: {context}"), what.into())
}

fn to_i64(n: u64, context: impl fmt::Display) -> Result<i64> {
    i64::try_from(n).map_err(|_| corrupt(context, format!("{n} exceeds the SQLite integer range")))
}

fn to_u64(n: i64, context: impl fmt::Display) -> Result<u64> {
    u64::try_from(n).map_err(|_| corrupt(context, format!("negative stored number {n}")))
}

/// The least string greater than every string starting with `prefix` (`None`: no bound).
/// SQLite compares TEXT bytewise, and UTF-8 byte order is code point order.
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Row counts of the multi-row statements of an append: a batch is cut greedily into chunks
/// of these sizes, so a connection prepares (and caches) at most one statement per size and
/// kind, whatever the batch sizes.
const CHUNK_ROWS: [usize; 9] = [256, 128, 64, 32, 16, 8, 4, 2, 1];

/// The chunks, largest first, whose sizes add up to `n`: `(shape, rows)` with
/// `rows == CHUNK_ROWS[shape]`.
fn chunks(mut n: usize) -> impl Iterator<Item = (usize, usize)> {
    std::iter::from_fn(move || {
        let (shape, rows) = CHUNK_ROWS
            .into_iter()
            .enumerate()
            .find(|&(_, rows)| rows <= n)?;
        n -= rows;
        Some((shape, rows))
    })
}

/// One SQL text per chunk shape, built once per process.
type Shapes = LazyLock<[Arc<str>; CHUNK_ROWS.len()]>;

// The multi-row statements use anonymous `?` parameters, bound in order: sqlx resolves a
// numbered `?NNN` through `sqlite3_bind_parameter_name`, a linear search per parameter, which
// made binding quadratic in the row count.

/// `SELECT` of the stored `(event_id, processed)` of one session among `CHUNK_ROWS[shape]`
/// event ids. Binds: session, then the ids.
static SELECT_STORED: Shapes = LazyLock::new(|| {
    CHUNK_ROWS.map(|rows| {
        format!(
            "SELECT event_id, processed FROM session_events \
             WHERE session = ? AND event_id IN ({})",
            vec!["?"; rows].join(", ")
        )
        .into()
    })
});

/// `INSERT` of `CHUNK_ROWS[shape]` events. Binds per row: session, seq, event id, processed,
/// payload.
static INSERT_EVENTS: Shapes = LazyLock::new(|| {
    CHUNK_ROWS.map(|rows| {
        format!(
            "INSERT INTO session_events (session, seq, event_id, processed, payload) VALUES {}",
            vec!["(?, ?, ?, ?, ?)"; rows].join(", ")
        )
        .into()
    })
});

impl SqliteStore {
    /// Opens (creating it if missing) the database file at `path` with default
    /// [`SqliteOptions`], and applies the embedded migrations it lacks.
    ///
    /// Fails with [`StoreError::Backend`] if the file cannot be opened or created (e.g. its
    /// directory does not exist), is not a SQLite database, or was migrated by a newer
    /// release.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, SqliteOptions::default()).await
    }

    /// [`open`](Self::open) with explicit options.
    pub async fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let shown = path.display().to_string();
        let base = SqliteConnectOptions::new()
            .filename(&path)
            .busy_timeout(options.busy_timeout)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Normal);
        let pool = |max: u32| {
            SqlitePoolOptions::new()
                .max_connections(max)
                .min_connections(0)
                .acquire_timeout(options.acquire_timeout)
                // Local connections do not go stale; keeping them keeps their statement caches.
                .idle_timeout(None)
                .max_lifetime(None)
                .test_before_acquire(false)
        };
        let writer = pool(1)
            .connect_with(
                base.clone()
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal),
            )
            .await
            .map_err(backend(format_args!("open {shown}")))?;
        {
            let mut tx = writer
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(backend(format_args!("open {shown}: lock for migrations")))?;
            migrator()
                .run(&mut *tx)
                .await
                .map_err(|e| StoreError::backend(format!("sqlite: open {shown}: migrations"), e))?;
            tx.commit()
                .await
                .map_err(backend(format_args!("open {shown}: commit migrations")))?;
        }
        let max_readers = options.max_readers.max(1);
        let reader = pool(max_readers)
            // Reads of a log page stream up to a page of rows from the connection's thread:
            // buffer them instead of handing over one at a time.
            .connect_with(base.read_only(true).row_buffer_size(1024))
            .await
            .map_err(backend(format_args!("open {shown}: readers")))?;
        Ok(Self {
            path,
            writer,
            reader,
            max_readers,
        })
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes every connection, waiting for operations in flight to finish; later operations
    /// fail with [`StoreError::Backend`]. Dropping the store also closes them, in the
    /// background.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    /// The read-only pool (WAL readers: they see the last committed state and never block
    /// writers).
    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Opens a write transaction (`BEGIN IMMEDIATE`) on the single writer connection: the
    /// file's write lock is held from here to commit. Dropping the transaction without
    /// committing rolls it back. `context` names the operation for the error.
    pub(crate) async fn begin_write(&self, context: &str) -> Result<Transaction<'static, Sqlite>> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend(format_args!("{context}: begin")))
    }
}

/// `(live, revision)` of a record row: tombstones are not live but keep their revision.
async fn current_row(
    tx: &mut Transaction<'static, Sqlite>,
    collection: Collection,
    key: &str,
    context: &str,
) -> Result<Option<(bool, u64)>> {
    let row: Option<(bool, i64)> = sqlx::query_as(
        "SELECT value IS NOT NULL, revision FROM records WHERE collection = ?1 AND key = ?2",
    )
    .bind(collection.name())
    .bind(key)
    .fetch_optional(&mut **tx)
    .await
    .map_err(backend(context))?;
    row.map(|(live, rev)| Ok((live, to_u64(rev, context)?)))
        .transpose()
}

fn decode_value(text: &str, context: impl fmt::Display) -> Result<Value> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::backend(format!("sqlite: {context}: decode stored JSON"), e))
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, collection: Collection, key: &str) -> Result<Option<Versioned>> {
        let context = format!("get {collection}/{key}");
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT value, revision FROM records \
             WHERE collection = ?1 AND key = ?2 AND value IS NOT NULL",
        )
        .bind(collection.name())
        .bind(key)
        .fetch_optional(self.reader())
        .await
        .map_err(backend(&context))?;
        row.map(|(text, rev)| {
            Ok(Versioned {
                value: decode_value(&text, &context)?,
                revision: Revision(to_u64(rev, &context)?),
            })
        })
        .transpose()
    }

    async fn put(
        &self,
        collection: Collection,
        key: &str,
        value: Value,
        expected: Expected,
    ) -> Result<Revision> {
        let context = format!("put {collection}/{key}");
        let text = serde_json::to_string(&value)
            .map_err(|e| StoreError::backend(format!("sqlite: {context}: encode"), e))?;
        let mut tx = self.begin_write(&context).await?;
        let row = current_row(&mut tx, collection, key, &context).await?;
        let live = row.filter(|(live, _)| *live).map(|(_, rev)| Revision(rev));
        // Early returns drop `tx`, which rolls back.
        expected.check(collection, key, live)?;
        let revision = row
            .map_or(0, |(_, rev)| rev)
            .checked_add(1)
            .ok_or_else(|| corrupt(&context, "revision counter exhausted"))?;
        sqlx::query(
            "INSERT INTO records (collection, key, value, revision) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (collection, key) \
             DO UPDATE SET value = excluded.value, revision = excluded.revision",
        )
        .bind(collection.name())
        .bind(key)
        .bind(text)
        .bind(to_i64(revision, &context)?)
        .execute(&mut *tx)
        .await
        .map_err(backend(&context))?;
        tx.commit().await.map_err(backend(&context))?;
        Ok(Revision(revision))
    }

    async fn delete(&self, collection: Collection, key: &str, expected: Expected) -> Result<()> {
        let context = format!("delete {collection}/{key}");
        let mut tx = self.begin_write(&context).await?;
        let row = current_row(&mut tx, collection, key, &context).await?;
        let live = row.filter(|(live, _)| *live).map(|(_, rev)| Revision(rev));
        match (live, expected) {
            (None, Expected::Absent) => return Ok(()),
            (None, Expected::Any) => {
                return Err(StoreError::NotFound {
                    collection: collection.name().to_owned(),
                    key: key.to_owned(),
                });
            }
            _ => expected.check(collection, key, live)?,
        }
        // Keep the row as a tombstone with its revision: a re-create continues from it.
        sqlx::query("UPDATE records SET value = NULL WHERE collection = ?1 AND key = ?2")
            .bind(collection.name())
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(backend(&context))?;
        tx.commit().await.map_err(backend(&context))
    }

    async fn list(&self, collection: Collection, prefix: &str) -> Result<Vec<(String, Versioned)>> {
        let context = format!("list {collection}/{prefix}*");
        let query = match prefix_upper_bound(prefix) {
            Some(upper) => sqlx::query(
                "SELECT key, value, revision FROM records \
                 WHERE collection = ?1 AND key >= ?2 AND key < ?3 AND value IS NOT NULL \
                 ORDER BY key",
            )
            .bind(collection.name())
            .bind(prefix)
            .bind(upper),
            None => sqlx::query(
                "SELECT key, value, revision FROM records \
                 WHERE collection = ?1 AND key >= ?2 AND value IS NOT NULL \
                 ORDER BY key",
            )
            .bind(collection.name())
            .bind(prefix),
        };
        let rows = query
            .fetch_all(self.reader())
            .await
            .map_err(backend(&context))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let key: String = row.try_get(0).map_err(backend(&context))?;
            if !key.starts_with(prefix) {
                continue;
            }
            let text: String = row.try_get(1).map_err(backend(&context))?;
            let rev: i64 = row.try_get(2).map_err(backend(&context))?;
            out.push((
                key,
                Versioned {
                    value: decode_value(&text, &context)?,
                    revision: Revision(to_u64(rev, &context)?),
                },
            ));
        }
        Ok(out)
    }

    async fn append_events(&self, session: &str, events: &[LogEvent]) -> Result<AppendOutcome> {
        let context = format!("append_events {session}");
        if events.is_empty() {
            return Ok(AppendOutcome {
                appended: Vec::new(),
                cursor: self.cursor(session).await?,
            });
        }
        let mut ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();

        // Under the write lock nobody else appends, so: read what is stored, decide in Rust,
        // insert exactly the new events. A few statements per batch, not one per event.
        let mut tx = self.begin_write(&context).await?;
        let cursor: Option<i64> =
            sqlx::query_scalar("SELECT cursor FROM session_cursors WHERE session = ?1")
                .bind(session)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend(&context))?;
        // Every append that stores an event writes the cursor: no cursor, no events.
        let mut stored: Vec<(String, bool)> = Vec::new();
        if cursor.is_some() {
            let mut rest = ids.as_slice();
            for (shape, rows) in chunks(ids.len()) {
                // The chunk sizes add up to the length, so `rows <= rest.len()`.
                let (chunk, tail) = rest.split_at(rows);
                rest = tail;
                let sql = AssertSqlSafe(SELECT_STORED[shape].clone());
                let mut query = sqlx::query_as(sql).bind(session);
                for id in chunk {
                    query = query.bind(*id);
                }
                let found: Vec<(String, bool)> =
                    query.fetch_all(&mut *tx).await.map_err(backend(&context))?;
                stored.extend(found);
            }
        }
        let mut seen: HashSet<(&str, bool)> =
            stored.iter().map(|(id, p)| (id.as_str(), *p)).collect();
        let last = to_u64(cursor.unwrap_or(0), &context)?;
        let mut new = Vec::new();
        for (index, event) in events.iter().enumerate() {
            // `insert` is false for stored keys and for repeats inside this batch.
            if seen.insert(event.key()) {
                let seq = last + 1 + new.len() as u64;
                new.push((index, seq));
            }
        }
        let mut rest = new.as_slice();
        for (shape, rows) in chunks(new.len()) {
            // The chunk sizes add up to the length, so `rows <= rest.len()`.
            let (chunk, tail) = rest.split_at(rows);
            rest = tail;
            // No ON CONFLICT: a clash here would be a bug, and must fail the append.
            let sql = AssertSqlSafe(INSERT_EVENTS[shape].clone());
            let mut query = sqlx::query(sql);
            for &(index, seq) in chunk {
                let event = &events[index];
                query = query
                    .bind(session)
                    .bind(to_i64(seq, &context)?)
                    .bind(event.event_id.as_str())
                    .bind(event.processed)
                    .bind(event.payload.get());
            }
            query.execute(&mut *tx).await.map_err(backend(&context))?;
        }
        let last = new.last().map_or(last, |&(_, seq)| seq);
        if !new.is_empty() {
            sqlx::query(
                "INSERT INTO session_cursors (session, cursor) VALUES (?1, ?2) \
                 ON CONFLICT (session) DO UPDATE SET cursor = excluded.cursor",
            )
            .bind(session)
            .bind(to_i64(last, &context)?)
            .execute(&mut *tx)
            .await
            .map_err(backend(&context))?;
        }
        tx.commit().await.map_err(backend(&context))?;
        Ok(AppendOutcome {
            appended: new,
            cursor: (last > 0).then_some(last),
        })
    }

    async fn read_events(
        &self,
        session: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, LogEvent)>> {
        let context = format!("read_events {session}");
        // Past the SQLite integer range there is nothing to read.
        let Ok(after) = i64::try_from(after) else {
            return Ok(Vec::new());
        };
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<(i64, String, bool, String)> = sqlx::query_as(
            "SELECT seq, event_id, processed, payload FROM session_events \
             WHERE session = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .bind(session)
        .bind(after)
        .bind(limit)
        .fetch_all(self.reader())
        .await
        .map_err(backend(&context))?;
        rows.into_iter()
            .map(|(seq, event_id, processed, payload)| {
                Ok((
                    to_u64(seq, &context)?,
                    LogEvent {
                        event_id,
                        processed,
                        payload: RawValue::from_string(payload).map_err(|e| {
                            StoreError::backend(format!("sqlite: {context}: decode stored JSON"), e)
                        })?,
                    },
                ))
            })
            .collect()
    }

    async fn cursor(&self, session: &str) -> Result<Option<u64>> {
        let context = format!("cursor {session}");
        let cursor: Option<i64> =
            sqlx::query_scalar("SELECT cursor FROM session_cursors WHERE session = ?1")
                .bind(session)
                .fetch_optional(self.reader())
                .await
                .map_err(backend(&context))?;
        cursor.map(|c| to_u64(c, &context)).transpose()
    }

    async fn seen_events(&self, session: &str) -> Result<HashSet<(String, bool)>> {
        let context = format!("seen_events {session}");
        let rows: Vec<(String, bool)> =
            sqlx::query_as("SELECT event_id, processed FROM session_events WHERE session = ?1")
                .bind(session)
                .fetch_all(self.reader())
                .await
                .map_err(backend(&context))?;
        Ok(rows.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_upper_bound_covers_exactly_the_prefix() {
        assert_eq!(prefix_upper_bound(""), None);
        assert_eq!(prefix_upper_bound("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_upper_bound("a/").as_deref(), Some("a0"));
        let max = char::MAX.to_string();
        assert_eq!(prefix_upper_bound(&format!("a{max}")).as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound(&max), None);
        // The surrogate gap is skipped: U+D7FF is followed by U+E000.
        assert_eq!(prefix_upper_bound("\u{d7ff}").as_deref(), Some("\u{e000}"));
        for key in ["ab", "ab\u{10ffff}", "abzzz", "ab\u{7f}"] {
            assert!(("ab".."ac").contains(&key));
        }
    }

    #[test]
    fn chunks_cover_any_batch_with_few_shapes() {
        for n in 0..300 {
            let sizes: Vec<_> = chunks(n).collect();
            assert_eq!(sizes.iter().map(|(_, rows)| rows).sum::<usize>(), n);
            assert!(sizes.iter().all(|&(shape, rows)| CHUNK_ROWS[shape] == rows));
            assert!(sizes.windows(2).all(|w| w[0].1 >= w[1].1), "largest first");
        }
        assert_eq!(
            chunks(1000).map(|(_, rows)| rows).collect::<Vec<_>>(),
            [256, 256, 256, 128, 64, 32, 8]
        );
        for (shape, rows) in CHUNK_ROWS.into_iter().enumerate() {
            assert_eq!(INSERT_EVENTS[shape].matches('?').count(), 5 * rows);
            assert_eq!(SELECT_STORED[shape].matches('?').count(), 1 + rows);
        }
        assert!(INSERT_EVENTS[CHUNK_ROWS.len() - 1].ends_with("VALUES (?, ?, ?, ?, ?)"));
    }

    /// Released migrations never change: a database records each applied migration's
    /// checksum and refuses to open under a build whose text differs. A failure here means a
    /// released file was edited — revert it and add a new migration instead.
    #[test]
    fn released_migrations_are_unchanged() {
        let released = [
            (
                1,
                "d5efbf799e887d0d8e20933216f14f8d0b8555269285405cad372629d9c5d883fc8d26a7daa76dd0576c1ba23298b4c7",
            ),
            (
                2,
                "26aed7004a04dcfb526cdf62efa2c7f166bbd1e8be76105e5252842e2dba5b8f4ed8ab1a3878de076971c948f0e28502",
            ),
        ];
        let migrator = migrator();
        for (version, checksum) in released {
            let migration = migrator.iter().find(|m| m.version == version).unwrap();
            let hex: String = migration
                .checksum
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(hex, checksum, "migration {version} changed");
        }
    }

    #[test]
    fn migrations_are_ordered_and_distinct() {
        let versions: Vec<_> = MIGRATIONS.iter().map(|m| m.0).collect();
        assert_eq!(versions, (1..=MIGRATIONS.len() as i64).collect::<Vec<_>>());
        assert_eq!(migrator().iter().count(), MIGRATIONS.len());
    }
}
