//! Persistence seams: the [`Store`], [`SecretStore`] and [`EventSink`] traits, their
//! [`StoreError`], and their `# Contract` sections; the typed record layer of [`records`]
//! ([`Record`], [`RecordKey`], [`RecordStore`]); the [`memory`] implementations and, with
//! feature `sqlite`, the SQLite ones (`sqlite::SqliteStore`, one file, embedded migrations;
//! `SqliteSecretStore`, encrypted at rest).
//!
//! The traits are domain-agnostic on purpose: records are JSON values in named
//! [`Collection`]s with a [`Revision`] each, so a typed layer (specs, status records, session
//! cards, …) can sit on top without the traits knowing about it. No backend type (SQL rows,
//! driver errors) appears in a signature: backends map their failures to
//! [`StoreError::Backend`].
//!
//! Every implementation — ours and the host's — runs the conformance suite in
//! `testkit::conformance` (feature `testkit`), one test per numbered contract item, in the
//! manner of `object_store`'s exported integration tests:
//!
//! ```ignore
//! claude_agents::store_conformance_tests!(|| async { std::sync::Arc::new(MyStore::new()) });
//! ```
//!
//! All three traits are object safe (`Arc<dyn Store>`, `Arc<dyn SecretStore>`,
//! `Arc<dyn EventSink>`) and use [`#[async_trait]`](macro@async_trait).

pub mod memory;
pub mod records;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(feature = "sqlite")]
pub mod sqlite_secrets;

use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

pub use memory::{MemorySecretStore, MemorySink, MemoryStore};
pub use records::{Record, RecordError, RecordKey, RecordStore};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteOptions, SqliteStore};
#[cfg(feature = "sqlite")]
pub use sqlite_secrets::{RekeyReport, SqliteSecretStore};

/// The result type of every store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A named set of records. The [`name`](Collection::name) is stable: it is what backends
/// persist (table discriminator, key prefix), so it never changes once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Collection {
    /// Desired agent specs (`agent_specs`).
    AgentSpecs,
    /// The reconciler's status record per spec (`reconcile_status`).
    ReconcileStatus,
    /// Skills (`skills`).
    Skills,
    /// Per-project overrides (`overrides`).
    Overrides,
    /// Session cards (`session_cards`).
    SessionCards,
    /// Provider keys' metadata — never their secret values (`provider_keys`).
    ProviderKeys,
    /// The trigger ledger used by [`Store::record_trigger`]'s default implementation
    /// (`triggers`).
    Triggers,
    /// The leases used by the default lease methods of [`Store`] (`leases`).
    Leases,
    /// Any other collection, by its stable name (should not clash with the names above).
    Other(&'static str),
}

impl Collection {
    /// The stable name backends persist.
    pub fn name(&self) -> &'static str {
        match self {
            Self::AgentSpecs => "agent_specs",
            Self::ReconcileStatus => "reconcile_status",
            Self::Skills => "skills",
            Self::Overrides => "overrides",
            Self::SessionCards => "session_cards",
            Self::ProviderKeys => "provider_keys",
            Self::Triggers => "triggers",
            Self::Leases => "leases",
            Self::Other(name) => name,
        }
    }
}

impl fmt::Display for Collection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The revision of a record: assigned by the store on every write, and strictly greater than
/// every revision the same key had before (also across a delete and re-create).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Revision(pub u64);

impl Revision {
    /// The raw number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// What a write expects to find: the compare half of compare-and-swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expected {
    /// The key must not exist (create). Otherwise [`StoreError::AlreadyExists`].
    Absent,
    /// The key must exist at exactly this revision. Otherwise [`StoreError::Conflict`].
    Revision(Revision),
    /// No check: an explicit force-write. Use only where overwriting a concurrent change is
    /// known to be correct.
    Any,
}

impl Expected {
    /// The compare half of a write (contract items 1, 2, 4): `Ok` if a key whose current
    /// revision is `current` (`None`: absent) matches this expectation; otherwise
    /// [`StoreError::AlreadyExists`] or [`StoreError::Conflict`] for `collection`/`key`.
    ///
    /// Deletes additionally treat `Any` on an absent key as [`StoreError::NotFound`] and
    /// `Absent` as a no-op; that part is the caller's. Backends (ours and host adapters) call
    /// this inside the transaction that writes.
    pub fn check(self, collection: Collection, key: &str, current: Option<Revision>) -> Result<()> {
        match (self, current) {
            (Self::Any, _) | (Self::Absent, None) => Ok(()),
            (Self::Revision(want), Some(have)) if want == have => Ok(()),
            (Self::Absent, Some(_)) => Err(StoreError::AlreadyExists {
                collection: collection.name().to_owned(),
                key: key.to_owned(),
            }),
            (Self::Revision(_), current) => Err(StoreError::Conflict {
                collection: collection.name().to_owned(),
                key: key.to_owned(),
                expected: self,
                current,
            }),
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Absent => f.write_str("absent"),
            Self::Revision(r) => write!(f, "{r}"),
            Self::Any => f.write_str("any"),
        }
    }
}

/// A stored value and its revision.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    /// The value as last written.
    pub value: Value,
    /// The revision of that write.
    pub revision: Revision,
}

/// One event of a session's log: a Managed Agents event as received, with the identity the
/// log de-duplicates on.
///
/// Two log events are equal when their ids, flags and payload texts are equal (texts are
/// compared as written, not as parsed JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogEvent {
    /// The API's event id.
    pub event_id: String,
    /// Whether the API reported the event as processed (`processed_at` set). The API sends a
    /// user event twice — queued (`processed_at: null`), then processed — with the same id;
    /// both sightings are kept, so this flag is part of the de-duplication key.
    pub processed: bool,
    /// The event as received: its exact JSON text (see
    /// [`Received`](crate::api::types::events::Received)). Backends store and return it
    /// unchanged; make one from a value with [`LogEvent::from_value`].
    pub payload: Box<RawValue>,
}

impl PartialEq for LogEvent {
    fn eq(&self, other: &Self) -> bool {
        self.event_id == other.event_id
            && self.processed == other.processed
            && self.payload.get() == other.payload.get()
    }
}

impl Eq for LogEvent {}

impl LogEvent {
    /// A log event whose payload is `value` serialised (for hosts and tests that hold a
    /// value rather than received text).
    pub fn from_value(
        event_id: impl Into<String>,
        processed: bool,
        value: &impl Serialize,
    ) -> std::result::Result<Self, serde_json::Error> {
        Ok(Self {
            event_id: event_id.into(),
            processed,
            payload: serde_json::value::to_raw_value(value)?,
        })
    }

    /// The de-duplication key within a session: `(event id, processed)`.
    pub fn key(&self) -> (&str, bool) {
        (&self.event_id, self.processed)
    }
}

/// What [`Store::append_events`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppendOutcome {
    /// The events that were new, as `(index in the input batch, assigned sequence number)`,
    /// in input order.
    pub appended: Vec<(usize, u64)>,
    /// The session's cursor after the append: the sequence number of its last stored event
    /// (`None` while the log is empty).
    pub cursor: Option<u64>,
}

/// A lease held by one holder, with its fencing token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The lease's name (what it protects, e.g. `reconcile:agent_1`).
    pub name: String,
    /// Who holds it (unique per process instance).
    pub holder: String,
    /// Fencing token: strictly greater for every new acquisition of this name, so a write
    /// carrying an older token can be refused.
    pub token: u64,
    /// When the lease lapses unless renewed.
    pub expires_at: DateTime<Utc>,
}

/// Errors of [`Store`], [`SecretStore`] and [`EventSink`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The record does not exist.
    #[error("{collection}/{key}: not found")]
    NotFound {
        /// The collection's stable name.
        collection: String,
        /// The key.
        key: String,
    },
    /// A create ([`Expected::Absent`]) found the key present.
    #[error("{collection}/{key}: already exists")]
    AlreadyExists {
        /// The collection's stable name.
        collection: String,
        /// The key.
        key: String,
    },
    /// A compare-and-swap failed: the record changed (or vanished) since it was read. Re-read
    /// and retry, never force.
    #[error("{collection}/{key}: conflict (expected {expected}, current {})",
        current.map_or_else(|| "absent".to_owned(), |r| r.to_string()))]
    Conflict {
        /// The collection's stable name.
        collection: String,
        /// The key.
        key: String,
        /// What the write expected.
        expected: Expected,
        /// The current revision (`None`: absent). For leases, the current fencing token.
        current: Option<Revision>,
    },
    /// The backend does not support this operation.
    #[error("unsupported by this store: {0}")]
    Unsupported(String),
    /// The backend failed (I/O, driver, encoding); `context` says what was being done.
    #[error("store backend: {context}: {source}")]
    Backend {
        /// What was being done.
        context: String,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StoreError {
    /// A [`StoreError::Backend`] from any error, with context.
    pub fn backend(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Backend {
            context: context.into(),
            source: source.into(),
        }
    }

    /// Whether this is a [`StoreError::Conflict`].
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }
}

/// Durable state: versioned records, the append-only session event log, the trigger ledger
/// and leases.
///
/// Required: [`get`](Store::get), [`put`](Store::put), [`delete`](Store::delete),
/// [`list`](Store::list), [`append_events`](Store::append_events),
/// [`read_events`](Store::read_events). Everything else has a default built on those (leases
/// and the trigger ledger on compare-and-swap records); backends may override them with
/// native equivalents that keep the contract.
///
/// # Contract
///
/// The conformance suite (`testkit::conformance`) checks each item with one test.
///
/// 1. **Create is exclusive.** `put(.., Expected::Absent)` creates the key and returns its
///    revision; if the key exists it fails with [`StoreError::AlreadyExists`] and changes
///    nothing. `get` returns what was written, with that revision.
/// 2. **Writes are compare-and-swap.** `put(.., Expected::Revision(r))` succeeds only if the
///    key's current revision is `r`; otherwise [`StoreError::Conflict`] with the current
///    revision (`None` if absent), and nothing is written — never a silent overwrite. A
///    successful write returns a revision greater than `r`.
/// 3. **Revisions never repeat.** A key's revisions strictly increase, also across a delete
///    and a re-create.
/// 4. **Deletes are compare-and-swap.** `delete(.., Expected::Revision(r))` on a stale `r`
///    is a `Conflict`; `delete(.., Expected::Any)` on an absent key is
///    [`StoreError::NotFound`]; `delete(.., Expected::Absent)` on an absent key is a no-op.
/// 5. **Listing** returns the keys of one collection starting with a prefix, ordered by key
///    (byte order), each with its current value and revision; collections are disjoint.
/// 6. **One CAS winner.** Of concurrent writes expecting the same revision, exactly one
///    succeeds; the others get `Conflict`.
/// 7. **The event log is idempotent and ordered.** `append_events` stores, in input order,
///    only the events whose `(session, event id, processed)` it has not stored before
///    (duplicates inside one batch included), assigning sequence numbers `1, 2, 3, …` per
///    session without gaps. `read_events(session, after, limit)` returns events with
///    sequence `> after`, ascending, at most `limit`.
/// 8. **The cursor moves with the append.** A session's cursor is the sequence of its last
///    stored event, advanced in the same atomic write as the append (no reader ever sees an
///    event without the cursor covering it, or the reverse); `AppendOutcome::cursor` equals
///    `cursor(session)` after the call; an all-duplicate append leaves it unchanged.
/// 9. **Concurrent appends stay exact.** Concurrent overlapping appends to one session store
///    each key exactly once, with dense ascending sequence numbers.
/// 10. **The trigger ledger de-duplicates.** `record_trigger(key, ..)` returns `true` the
///     first time and `false` for every repeat until `ttl` has passed since the recording
///     (judged at the `now` passed in); concurrent recordings of one key yield one `true`.
/// 11. **Leases are exclusive and fenced.** While a lease is held and unexpired, another
///     holder's `acquire_lease` returns `None`; the same holder re-acquiring gets the same
///     token with a later expiry. Every new acquisition has a token greater than all before
///     it. `renew_lease` of a lease no longer held (released, expired or taken) is
///     `Conflict`; `release_lease` of such a lease is a no-op that never releases another
///     holder's lease.
/// 12. **Expired leases can be taken over**, with a greater fencing token; concurrent
///     acquisitions of one free lease yield exactly one holder.
///
/// Time is passed in (`now`) rather than read from a clock, so behaviour around expiry is
/// deterministic and testable; callers pass [`Utc::now`]. Times are kept to the millisecond.
#[async_trait]
pub trait Store: Send + Sync {
    /// The current value and revision of `key`, or `None`.
    async fn get(&self, collection: Collection, key: &str) -> Result<Option<Versioned>>;

    /// Writes `value` under `key` if the key matches `expected` (contract items 1, 2, 6);
    /// returns the new revision.
    async fn put(
        &self,
        collection: Collection,
        key: &str,
        value: Value,
        expected: Expected,
    ) -> Result<Revision>;

    /// Deletes `key` if it matches `expected` (contract item 4).
    async fn delete(&self, collection: Collection, key: &str, expected: Expected) -> Result<()>;

    /// The records of `collection` whose key starts with `prefix`, ordered by key.
    async fn list(&self, collection: Collection, prefix: &str) -> Result<Vec<(String, Versioned)>>;

    /// Appends the new events of `events` to the log of `session` and advances its cursor in
    /// the same write (contract items 7–9).
    async fn append_events(&self, session: &str, events: &[LogEvent]) -> Result<AppendOutcome>;

    /// Up to `limit` events of `session` with a sequence number greater than `after`,
    /// ascending.
    async fn read_events(
        &self,
        session: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, LogEvent)>>;

    /// The sequence number of the last stored event of `session` (`None`: empty log).
    ///
    /// The default pages through [`read_events`](Store::read_events); backends should
    /// override it with a direct read.
    async fn cursor(&self, session: &str) -> Result<Option<u64>> {
        let mut last = None;
        loop {
            let page = self.read_events(session, last.unwrap_or(0), 1000).await?;
            match page.last() {
                Some((seq, _)) => last = Some(*seq),
                None => return Ok(last),
            }
        }
    }

    /// The de-duplication keys `(event id, processed)` already stored for `session`, so a
    /// resumed stream can skip what it has seen.
    ///
    /// The default pages through [`read_events`](Store::read_events).
    async fn seen_events(&self, session: &str) -> Result<HashSet<(String, bool)>> {
        let mut seen = HashSet::new();
        let mut after = 0;
        loop {
            let page = self.read_events(session, after, 1000).await?;
            let Some((last, _)) = page.last() else {
                return Ok(seen);
            };
            after = *last;
            seen.extend(page.into_iter().map(|(_, e)| (e.event_id, e.processed)));
        }
    }

    /// Records a trigger's idempotency key (e.g. a webhook delivery id): `true` the first
    /// time, `false` for a repeat within `ttl` (contract item 10).
    ///
    /// The default keeps `{ "expires_at_ms": .. }` records in [`Collection::Triggers`] with
    /// compare-and-swap; expired records are reused, not pruned.
    async fn record_trigger(&self, key: &str, ttl: Duration, now: DateTime<Utc>) -> Result<bool> {
        let expires_at = now + delta(ttl)?;
        let value = serde_json::json!({ "expires_at_ms": expires_at.timestamp_millis() });
        loop {
            let expected = match self.get(Collection::Triggers, key).await? {
                None => Expected::Absent,
                Some(existing) => {
                    let until = existing.value.get("expires_at_ms").and_then(Value::as_i64);
                    match until {
                        Some(until) if until > now.timestamp_millis() => return Ok(false),
                        _ => Expected::Revision(existing.revision),
                    }
                }
            };
            match self
                .put(Collection::Triggers, key, value.clone(), expected)
                .await
            {
                Ok(_) => return Ok(true),
                // Someone recorded (or refreshed) it between our read and write: re-judge.
                Err(StoreError::AlreadyExists { .. } | StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Acquires the lease `name` for `holder` until `now + ttl`: `Some` with a fencing token
    /// if it was free, expired, or already held by `holder`; `None` if another holder has it
    /// (contract items 11, 12).
    ///
    /// The default keeps the lease as a record in [`Collection::Leases`] (never deleted, so
    /// tokens keep increasing) and uses compare-and-swap.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Lease>> {
        let expires_at = truncate_ms(now + delta(ttl)?);
        loop {
            let current = self.get(Collection::Leases, name).await?;
            let (token, expected) = match &current {
                None => (1, Expected::Absent),
                Some(rec) => {
                    let stored = LeaseRecord::decode(name, &rec.value)?;
                    let live =
                        stored.holder.is_some() && stored.expires_at_ms > now.timestamp_millis();
                    match (&stored.holder, live) {
                        (Some(h), true) if h == holder => {
                            (stored.token, Expected::Revision(rec.revision))
                        }
                        (_, true) => return Ok(None),
                        (_, false) => (stored.token + 1, Expected::Revision(rec.revision)),
                    }
                }
            };
            let record = LeaseRecord {
                holder: Some(holder.to_owned()),
                token,
                expires_at_ms: expires_at.timestamp_millis(),
            };
            match self
                .put(Collection::Leases, name, record.encode(), expected)
                .await
            {
                Ok(_) => {
                    return Ok(Some(Lease {
                        name: name.to_owned(),
                        holder: holder.to_owned(),
                        token,
                        expires_at,
                    }));
                }
                Err(StoreError::AlreadyExists { .. } | StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Extends a held lease to `now + ttl`; [`StoreError::Conflict`] if it is no longer held
    /// with this token (released, expired at `now`, or taken over).
    async fn renew_lease(&self, lease: &Lease, ttl: Duration, now: DateTime<Utc>) -> Result<Lease> {
        let expires_at = truncate_ms(now + delta(ttl)?);
        let lost = |current: Option<u64>| StoreError::Conflict {
            collection: Collection::Leases.name().to_owned(),
            key: lease.name.clone(),
            expected: Expected::Revision(Revision(lease.token)),
            current: current.map(Revision),
        };
        let Some(rec) = self.get(Collection::Leases, &lease.name).await? else {
            return Err(lost(None));
        };
        let stored = LeaseRecord::decode(&lease.name, &rec.value)?;
        if stored.token != lease.token
            || stored.holder.as_deref() != Some(lease.holder.as_str())
            || stored.expires_at_ms <= now.timestamp_millis()
        {
            return Err(lost(Some(stored.token)));
        }
        let record = LeaseRecord {
            expires_at_ms: expires_at.timestamp_millis(),
            ..stored
        };
        match self
            .put(
                Collection::Leases,
                &lease.name,
                record.encode(),
                Expected::Revision(rec.revision),
            )
            .await
        {
            Ok(_) => Ok(Lease {
                expires_at,
                ..lease.clone()
            }),
            Err(StoreError::Conflict { .. }) => Err(lost(None)),
            Err(e) => Err(e),
        }
    }

    /// Releases a held lease; a no-op if it is no longer held with this token.
    async fn release_lease(&self, lease: &Lease) -> Result<()> {
        let Some(rec) = self.get(Collection::Leases, &lease.name).await? else {
            return Ok(());
        };
        let stored = LeaseRecord::decode(&lease.name, &rec.value)?;
        if stored.token != lease.token || stored.holder.as_deref() != Some(lease.holder.as_str()) {
            return Ok(());
        }
        let record = LeaseRecord {
            holder: None,
            ..stored
        };
        match self
            .put(
                Collection::Leases,
                &lease.name,
                record.encode(),
                Expected::Revision(rec.revision),
            )
            .await
        {
            // A concurrent change means someone else now owns the record: nothing to release.
            Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// The stored form of a lease in [`Collection::Leases`].
#[derive(Debug, Serialize, Deserialize)]
struct LeaseRecord {
    holder: Option<String>,
    token: u64,
    expires_at_ms: i64,
}

impl LeaseRecord {
    fn decode(name: &str, value: &Value) -> Result<Self> {
        serde_json::from_value(value.clone())
            .map_err(|e| StoreError::backend(format!("decode lease {name}"), e))
    }

    fn encode(&self) -> Value {
        serde_json::json!({
            "holder": self.holder,
            "token": self.token,
            "expires_at_ms": self.expires_at_ms,
        })
    }
}

fn delta(ttl: Duration) -> Result<TimeDelta> {
    TimeDelta::from_std(ttl).map_err(|e| StoreError::backend("ttl out of range", e))
}

fn truncate_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// Typed helpers over any [`Store`] (a separate trait because generic methods would break
/// the object safety of `Store`). Implemented for every `Store`, `dyn Store` included.
pub trait StoreExt: Store {
    /// [`Store::get`], decoded into `T`.
    fn get_json<T: DeserializeOwned>(
        &self,
        collection: Collection,
        key: &str,
    ) -> impl Future<Output = Result<Option<(T, Revision)>>> + Send {
        async move {
            let Some(found) = self.get(collection, key).await? else {
                return Ok(None);
            };
            let value = serde_json::from_value(found.value)
                .map_err(|e| StoreError::backend(format!("decode {collection}/{key}"), e))?;
            Ok(Some((value, found.revision)))
        }
    }

    /// [`Store::put`] of `value` encoded as JSON.
    fn put_json<T: Serialize>(
        &self,
        collection: Collection,
        key: &str,
        value: &T,
        expected: Expected,
    ) -> impl Future<Output = Result<Revision>> + Send {
        let encoded = serde_json::to_value(value)
            .map_err(|e| StoreError::backend(format!("encode {collection}/{key}"), e));
        async move { self.put(collection, key, encoded?, expected).await }
    }
}

impl<S: Store + ?Sized> StoreExt for S {}

/// Opaque references to secrets (e.g. `secret:provider_key:ws_1:pk_1`): the domain's
/// `crate::domain::SecretRef`. Records store references, never secret values.
pub use crate::domain::SecretRef;

/// Secret values (provider keys, tokens) by opaque [`SecretRef`].
///
/// Required: [`put`](SecretStore::put), [`get`](SecretStore::get),
/// [`delete`](SecretStore::delete). [`rotate`](SecretStore::rotate) has a default.
///
/// # Contract
///
/// 1. **Round trip.** `get` returns the value last `put` under a reference (`put` on an
///    existing reference replaces it), `None` for an unknown one; `delete` removes it and
///    returns whether it existed.
/// 2. **Rotation replaces, never creates.** `rotate` on an absent reference is
///    [`StoreError::NotFound`] and stores nothing; on a present one, later `get`s return the
///    new value.
/// 3. **Values stay secret.** Values are [`SecretString`]s in and out; an implementation's
///    `Debug` never prints them, and its errors never carry them.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Stores `value` under `reference`, replacing any previous value.
    async fn put(&self, reference: &SecretRef, value: SecretString) -> Result<()>;

    /// The value under `reference`, or `None`.
    async fn get(&self, reference: &SecretRef) -> Result<Option<SecretString>>;

    /// Removes `reference`; returns whether it existed.
    async fn delete(&self, reference: &SecretRef) -> Result<bool>;

    /// Replaces the value of an existing `reference`; [`StoreError::NotFound`] if absent.
    ///
    /// The default is `get` then `put`, which is not atomic against a concurrent `delete`;
    /// backends should override it with a conditional write.
    async fn rotate(&self, reference: &SecretRef, value: SecretString) -> Result<()> {
        if self.get(reference).await?.is_none() {
            return Err(StoreError::NotFound {
                collection: "secrets".to_owned(),
                key: reference.as_str().to_owned(),
            });
        }
        self.put(reference, value).await
    }
}

/// What a [`SinkDelivery`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeliveryKind {
    /// An activity for the task's history.
    Activity,
    /// A session card changed.
    CardChanged,
}

/// One delivery to the host's [`EventSink`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SinkDelivery {
    /// Stable idempotency key: a redelivery of the same thing has the same key.
    pub key: String,
    /// What it is.
    pub kind: DeliveryKind,
    /// The session it belongs to.
    pub session: String,
    /// The activity or card, as JSON.
    pub payload: Value,
}

impl SinkDelivery {
    /// An activity derived from one event; keyed `activity:{session}:{event_id}`.
    pub fn activity(session: impl Into<String>, event_id: &str, payload: Value) -> Self {
        let session = session.into();
        Self {
            key: format!("activity:{session}:{event_id}"),
            kind: DeliveryKind::Activity,
            session,
            payload,
        }
    }

    /// A card change at a revision; keyed `card:{session}:{revision}`.
    pub fn card_changed(session: impl Into<String>, revision: Revision, payload: Value) -> Self {
        let session = session.into();
        Self {
            key: format!("card:{session}:{}", revision.get()),
            kind: DeliveryKind::CardChanged,
            session,
            payload,
        }
    }
}

/// Receives activities and session-card changes for the host's task history.
///
/// # Contract
///
/// 1. **At-least-once, keyed.** The library delivers every activity and card change at least
///    once, and may deliver one again (after a crash, a retry, a stream resume) with the same
///    [`SinkDelivery::key`]. A repeat must be harmless: the sink accepts it (`Ok`) and the
///    host's history shows the thing once.
/// 2. **Errors mean "retry later".** An `Err` makes the library deliver again later; a sink
///    must not return `Err` for a repeat it has already recorded.
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Records one delivery (idempotent on its key).
    async fn deliver(&self, delivery: SinkDelivery) -> Result<()>;
}
