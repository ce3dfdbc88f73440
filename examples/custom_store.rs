//! A host implementing [`Store`] over its own tables, then running the conformance suite.
//!
//! ```text
//! cargo run --example custom_store --features testkit
//! ```
//!
//! The "host database" here is two in-process tables of plain rows (`kv_rows`,
//! `event_rows`) behind one async mutex, standing in for the host's SQL tables and its
//! transactions. What carries over to a real adapter:
//!
//! * only the six required methods are written — leases, the trigger ledger, `cursor` and
//!   `seen_events` come from the trait's defaults, built on compare-and-swap;
//! * every write checks the [`Expected`] revision ([`Expected::check`]) and writes in the same
//!   transaction (`UPDATE … WHERE version = ?` in SQL), returning `Conflict`/`AlreadyExists`/
//!   `NotFound` exactly as the contract says;
//! * deleted rows stay as tombstones so a key's revisions keep increasing after a re-create;
//! * the event log's uniqueness is `(session, event_id, processed)`, sequence numbers are
//!   dense per session, and the append happens in one transaction;
//! * backend failures map to [`StoreError::Backend`] with context.
//!
//! It then runs [`run_store_suite`] (the same checks `store_conformance_tests!` expands to) and
//! prints one line per contract check, exiting non-zero if any failed.

use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use claude_agents::store::{
    AppendOutcome, Collection, Expected, LogEvent, Revision, Store, StoreError, StoreExt, Versioned,
};
use claude_agents::testkit::conformance::run_store_suite;
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// A row of the host's key-value table (think `CREATE TABLE app_kv (collection, key,
/// body_json, version, deleted, PRIMARY KEY (collection, key))`).
struct KvRow {
    collection: String,
    key: String,
    body_json: String,
    version: u64,
    deleted: bool,
}

/// A row of the host's event table (`UNIQUE (session, event_id, processed)`).
struct EventRow {
    session: String,
    seq: u64,
    event_id: String,
    processed: bool,
    body_json: String,
}

#[derive(Default)]
struct Tables {
    kv_rows: Vec<KvRow>,
    event_rows: Vec<EventRow>,
    /// The host's sequence for record versions (a database sequence in SQL).
    version_seq: u64,
}

/// The host's adapter: its own tables, the crate's `Store` contract.
#[derive(Default)]
struct HostStore {
    db: Mutex<Tables>,
}

fn decode(row: &KvRow) -> Result<Versioned, StoreError> {
    let value = serde_json::from_str(&row.body_json)
        .map_err(|e| StoreError::backend(format!("decode {}/{}", row.collection, row.key), e))?;
    Ok(Versioned {
        value,
        revision: Revision(row.version),
    })
}

impl Tables {
    fn row(&mut self, c: Collection, key: &str) -> Option<&mut KvRow> {
        self.kv_rows
            .iter_mut()
            .find(|r| r.collection == c.name() && r.key == key)
    }
}

#[async_trait]
impl Store for HostStore {
    async fn get(&self, c: Collection, key: &str) -> Result<Option<Versioned>, StoreError> {
        let mut db = self.db.lock().await;
        match db.row(c, key) {
            Some(row) if !row.deleted => decode(row).map(Some),
            _ => Ok(None),
        }
    }

    async fn put(
        &self,
        c: Collection,
        key: &str,
        value: Value,
        expected: Expected,
    ) -> Result<Revision, StoreError> {
        let body_json = serde_json::to_string(&value)
            .map_err(|e| StoreError::backend(format!("encode {c}/{key}"), e))?;
        let mut db = self.db.lock().await; // BEGIN
        let live = db.row(c, key).filter(|r| !r.deleted).map(|r| r.version);
        expected.check(c, key, live.map(Revision))?;
        db.version_seq += 1;
        let version = db.version_seq;
        match db.row(c, key) {
            Some(row) => {
                row.body_json = body_json;
                row.version = version;
                row.deleted = false;
            }
            None => db.kv_rows.push(KvRow {
                collection: c.name().to_owned(),
                key: key.to_owned(),
                body_json,
                version,
                deleted: false,
            }),
        }
        Ok(Revision(version)) // COMMIT
    }

    async fn delete(&self, c: Collection, key: &str, expected: Expected) -> Result<(), StoreError> {
        let mut db = self.db.lock().await;
        let live = db.row(c, key).filter(|r| !r.deleted).map(|r| r.version);
        match (live, expected) {
            (None, Expected::Absent) => return Ok(()),
            (None, Expected::Any) => {
                return Err(StoreError::NotFound {
                    collection: c.name().to_owned(),
                    key: key.to_owned(),
                });
            }
            (Some(_), Expected::Absent) => {}
            _ => expected.check(c, key, live.map(Revision))?,
        }
        if let Some(row) = db.row(c, key) {
            // A tombstone keeps the version, so a re-create gets a greater one.
            row.deleted = true;
            row.body_json = "null".to_owned();
        }
        Ok(())
    }

    async fn list(
        &self,
        c: Collection,
        prefix: &str,
    ) -> Result<Vec<(String, Versioned)>, StoreError> {
        let db = self.db.lock().await;
        let mut out = db
            .kv_rows
            .iter()
            .filter(|r| r.collection == c.name() && !r.deleted && r.key.starts_with(prefix))
            .map(|r| Ok((r.key.clone(), decode(r)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        Ok(out)
    }

    async fn append_events(
        &self,
        session: &str,
        events: &[LogEvent],
    ) -> Result<AppendOutcome, StoreError> {
        let mut db = self.db.lock().await; // one transaction for the batch and the cursor
        let mut last = db
            .event_rows
            .iter()
            .filter(|r| r.session == session)
            .map(|r| r.seq)
            .max()
            .unwrap_or(0);
        let mut appended = Vec::new();
        for (index, event) in events.iter().enumerate() {
            let exists = db.event_rows.iter().any(|r| {
                r.session == session
                    && r.event_id == event.event_id
                    && r.processed == event.processed
            });
            if exists {
                continue; // INSERT … ON CONFLICT DO NOTHING
            }
            // The payload is JSON text already: stored as it is.
            let body_json = event.payload.get().to_owned();
            last += 1;
            db.event_rows.push(EventRow {
                session: session.to_owned(),
                seq: last,
                event_id: event.event_id.clone(),
                processed: event.processed,
                body_json,
            });
            appended.push((index, last));
        }
        Ok(AppendOutcome {
            appended,
            cursor: (last > 0).then_some(last),
        })
    }

    async fn read_events(
        &self,
        session: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, LogEvent)>, StoreError> {
        let db = self.db.lock().await;
        let mut rows: Vec<&EventRow> = db
            .event_rows
            .iter()
            .filter(|r| r.session == session && r.seq > after)
            .collect();
        rows.sort_by_key(|r| r.seq);
        rows.into_iter()
            .take(limit)
            .map(|r| {
                let payload = serde_json::from_str(&r.body_json)
                    .map_err(|e| StoreError::backend(format!("decode event of {session}"), e))?;
                Ok((
                    r.seq,
                    LogEvent {
                        event_id: r.event_id.clone(),
                        processed: r.processed,
                        payload,
                    },
                ))
            })
            .collect()
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    // The adapter in use: typed helpers and the defaults work on it like on any store.
    let store: Arc<dyn Store> = Arc::new(HostStore::default());
    let demo = async {
        let rev = store
            .put_json(
                Collection::Skills,
                "ws_1/release-notes",
                &json!({"title": "Release notes"}),
                Expected::Absent,
            )
            .await?;
        let stale = store
            .put_json(
                Collection::Skills,
                "ws_1/release-notes",
                &json!({"title": "v2"}),
                Expected::Revision(Revision(rev.get() + 7)),
            )
            .await;
        println!(
            "created at {rev}; a stale write is a conflict: {}",
            stale.is_err_and(|e| e.is_conflict())
        );
        Ok::<_, StoreError>(())
    };
    if let Err(e) = demo.await {
        eprintln!("demo failed: {e}");
        return ExitCode::FAILURE;
    }

    let outcomes =
        run_store_suite(|| async { Arc::new(HostStore::default()) as Arc<dyn Store> }).await;
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    for o in &outcomes {
        match &o.failure {
            None => println!("ok      {}", o.name),
            Some(why) => println!("FAILED  {}: {why}", o.name),
        }
    }
    println!("passed={} failed={failed}", outcomes.len() - failed);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
