//! The typed record layer over [`Store`]: the [`Record`] trait (which collection a type lives
//! in, its workspace-scoped [`RecordKey`], its validation), the typed operations of
//! [`RecordStore`] (load, save with compare-and-swap, list a workspace, remove), and their
//! [`RecordError`].
//!
//! The rest of the crate (and hosts) never build store keys by hand: a record knows its key,
//! and a key is always `{workspace}/{part}/…`, so listing a workspace is a prefix list.
//!
//! # Key encoding
//!
//! Ids are opaque strings and may contain `/` (the domain only forbids whitespace and control
//! characters), so each segment is escaped before the segments are joined with `/`: `%`
//! becomes `%25` and `/` becomes `%2F`; nothing else changes. The encoding is injective (two
//! different segment lists never give the same key) and an escaped segment never contains
//! `/`, so the prefix `{workspace}/` matches exactly the records of that workspace — never
//! those of a workspace whose id merely starts with the same characters (`ws_1` vs `ws_10`).
//!
//! ```
//! use claude_agents::domain::WorkspaceId;
//! use claude_agents::store::RecordKey;
//!
//! let key = RecordKey::of(&WorkspaceId::from("acme"), "pk/1");
//! assert_eq!(key.as_str(), "acme/pk%2F1");
//! assert_eq!(key.segments(), vec!["acme".to_owned(), "pk/1".to_owned()]);
//! ```
//!
//! # Example
//!
//! ```
//! # async fn demo() -> Result<(), claude_agents::store::RecordError> {
//! use claude_agents::domain::{KeyStatus, ProviderKey, WorkspaceId};
//! use claude_agents::store::{Expected, MemoryStore, RecordKey, RecordStore};
//!
//! let store = MemoryStore::new();
//! let key = ProviderKey {
//!     id: "pk_1".into(),
//!     workspace: "acme".into(),
//!     label: "Team key".into(),
//!     secret: "provider_key/acme/pk_1".into(),
//!     masked: "sk-ant-…Wxyz".into(),
//!     status: KeyStatus::Unvalidated,
//!     models: vec![],
//! };
//! let revision = store.save(&key, Expected::Absent).await?;
//! let (loaded, at) = store
//!     .load::<ProviderKey>(&RecordKey::of(&key.workspace, "pk_1"))
//!     .await?
//!     .expect("just saved");
//! assert_eq!((loaded, at), (key, revision));
//! let all = store.list_workspace::<ProviderKey>(&WorkspaceId::from("acme")).await?;
//! assert_eq!(all.len(), 1);
//! # Ok(())
//! # }
//! ```

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Collection, Expected, Revision, Store, StoreError};
use crate::domain::{
    AgentSpec, CustomSkill, DomainError, ProjectOverride, ProviderKey, SessionCard, WorkspaceId,
};

/// A type stored as JSON records in one [`Collection`], under a workspace-scoped key.
///
/// Implemented for the domain's stored objects: [`ProviderKey`], [`AgentSpec`],
/// [`CustomSkill`] (a workspace's custom skills; Anthropic's built-in skills are referenced by
/// id and not stored per workspace), [`ProjectOverride`] (keyed
/// `{workspace}/{project}/{agent}`) and [`SessionCard`]. Other modules (the reconciler's
/// status record) and hosts implement it for their own records.
///
/// # Contract
///
/// * [`key`](Record::key) is a pure function of the record's identity fields: saving a record
///   and loading it back by the same key gives a record with the same key. The layer checks
///   this on every load ([`RecordError::KeyMismatch`]).
/// * Every record lives in exactly one workspace — [`RecordKey::new`] starts with it — so
///   [`RecordStore::list_workspace`] finds it.
pub trait Record: Serialize + DeserializeOwned + Send + Sync {
    /// The collection records of this type live in.
    const COLLECTION: Collection;

    /// The record's key, built with [`RecordKey::new`] / [`RecordKey::of`].
    fn key(&self) -> RecordKey;

    /// Checks the record before it is written ([`RecordStore::save`] refuses an invalid
    /// record with [`RecordError::Invalid`] and writes nothing). The default accepts every
    /// record.
    fn validate(&self) -> Result<(), DomainError> {
        Ok(())
    }
}

/// A store key: escaped segments joined with `/`, the first one being the workspace (see the
/// [module docs](self) for the encoding).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey(String);

impl RecordKey {
    /// The key of a workspace with no further segment; add them with
    /// [`with`](RecordKey::with).
    pub fn new(workspace: &WorkspaceId) -> Self {
        let mut key = String::with_capacity(workspace.as_str().len());
        escape_into(&mut key, workspace.as_str());
        Self(key)
    }

    /// `{workspace}/{id}`: the key of most records.
    pub fn of(workspace: &WorkspaceId, id: impl AsRef<str>) -> Self {
        Self::new(workspace).with(id)
    }

    /// This key with one more segment.
    pub fn with(mut self, segment: impl AsRef<str>) -> Self {
        self.0.push('/');
        escape_into(&mut self.0, segment.as_ref());
        self
    }

    /// The prefix shared by every key of `workspace` (`{workspace}/`).
    pub fn workspace_prefix(workspace: &WorkspaceId) -> String {
        let mut prefix = Self::new(workspace).0;
        prefix.push('/');
        prefix
    }

    /// The encoded key, as the store sees it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The decoded segments, workspace first.
    pub fn segments(&self) -> Vec<String> {
        self.0.split('/').map(unescape).collect()
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RecordKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

fn escape_into(out: &mut String, segment: &str) {
    for c in segment.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            c => out.push(c),
        }
    }
}

/// Inverse of [`escape_into`] (any other `%` sequence is kept as it is: it cannot come from
/// the escaping).
fn unescape(segment: &str) -> String {
    segment.replace("%2F", "/").replace("%25", "%")
}

/// Errors of the typed record layer. Every variant names the collection and the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// [`Record::validate`] refused the record; nothing was written.
    #[error("{collection}/{key}: invalid record: {source}")]
    Invalid {
        /// The collection's stable name.
        collection: &'static str,
        /// The record's key.
        key: String,
        /// The broken rule.
        source: DomainError,
    },
    /// A stored value is not valid JSON for the record type.
    #[error("{collection}/{key}: stored record does not decode at `{path}`: {message}")]
    Decode {
        /// The collection's stable name.
        collection: &'static str,
        /// The key it was stored under.
        key: String,
        /// JSON path of the offending value (`.` for the whole value).
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The record could not be encoded as JSON (a map with non-string keys, a failing
    /// `Serialize`); nothing was written.
    #[error("{collection}/{key}: record does not encode: {message}")]
    Encode {
        /// The collection's stable name.
        collection: &'static str,
        /// The record's key.
        key: String,
        /// What was wrong.
        message: String,
    },
    /// A stored record decodes, but its own identity gives another key than the one it is
    /// stored under (a record copied by hand, or moved between workspaces).
    #[error("{collection}/{key}: stored record belongs under `{found}`")]
    KeyMismatch {
        /// The collection's stable name.
        collection: &'static str,
        /// The key it was stored under.
        key: String,
        /// The key its content gives.
        found: String,
    },
    /// The store failed, or a compare-and-swap did not match ([`StoreError::Conflict`],
    /// [`StoreError::AlreadyExists`], [`StoreError::NotFound`]).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RecordError {
    /// Whether a compare-and-swap lost: [`StoreError::Conflict`] or
    /// [`StoreError::AlreadyExists`]. Re-read and retry.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Self::Store(StoreError::Conflict { .. } | StoreError::AlreadyExists { .. })
        )
    }

    /// Whether the record was not found ([`StoreError::NotFound`]).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Store(StoreError::NotFound { .. }))
    }
}

/// Decodes a stored value as `T`, naming the JSON path on failure, and checks that it belongs
/// under `key`.
fn decode<T: Record>(key: &str, value: Value) -> Result<T, RecordError> {
    // The fast path decodes from the borrowed value; only a record that does not decode pays
    // for the path tracking that names the failing field.
    let record: T = match T::deserialize(&value) {
        Ok(record) => record,
        Err(_) => serde_path_to_error::deserialize(value).map_err(|e| RecordError::Decode {
            collection: T::COLLECTION.name(),
            key: key.to_owned(),
            path: e.path().to_string(),
            message: e.into_inner().to_string(),
        })?,
    };
    let found = record.key();
    if found.as_str() != key {
        return Err(RecordError::KeyMismatch {
            collection: T::COLLECTION.name(),
            key: key.to_owned(),
            found: found.0,
        });
    }
    Ok(record)
}

/// Typed operations over any [`Store`] (`dyn Store` included), for types implementing
/// [`Record`]. A separate trait, like [`StoreExt`](super::StoreExt), because generic methods
/// would break the object safety of `Store`.
pub trait RecordStore: Store {
    /// The record stored under `key`, with its revision, or `None`.
    ///
    /// # Errors
    /// [`RecordError::Decode`] / [`RecordError::KeyMismatch`] for a stored value that is not a
    /// `T` stored under its own key; [`RecordError::Store`] when the store fails.
    fn load<T: Record>(
        &self,
        key: &RecordKey,
    ) -> impl Future<Output = Result<Option<(T, Revision)>, RecordError>> + Send {
        async move {
            let Some(found) = self.get(T::COLLECTION, key.as_str()).await? else {
                return Ok(None);
            };
            Ok(Some((decode(key.as_str(), found.value)?, found.revision)))
        }
    }

    /// Validates `record`, then writes it under its key if the key matches `expected`
    /// (compare-and-swap); returns the new revision.
    ///
    /// # Errors
    /// [`RecordError::Invalid`] (nothing written) when [`Record::validate`] fails;
    /// [`RecordError::Store`] with [`StoreError::AlreadyExists`] / [`StoreError::Conflict`]
    /// when `expected` does not match.
    fn save<T: Record>(
        &self,
        record: &T,
        expected: Expected,
    ) -> impl Future<Output = Result<Revision, RecordError>> + Send {
        let key = record.key();
        let prepared = record
            .validate()
            .map_err(|source| RecordError::Invalid {
                collection: T::COLLECTION.name(),
                key: key.0.clone(),
                source,
            })
            .and_then(|()| {
                serde_json::to_value(record).map_err(|e| RecordError::Encode {
                    collection: T::COLLECTION.name(),
                    key: key.0.clone(),
                    message: e.to_string(),
                })
            });
        async move {
            Ok(self
                .put(T::COLLECTION, key.as_str(), prepared?, expected)
                .await?)
        }
    }

    /// Every record of `workspace` in `T`'s collection, ordered by key, with revisions.
    ///
    /// # Errors
    /// The first record that does not decode ([`RecordError::Decode`] naming its key), or a
    /// store failure.
    fn list_workspace<T: Record>(
        &self,
        workspace: &WorkspaceId,
    ) -> impl Future<Output = Result<Vec<(T, Revision)>, RecordError>> + Send {
        let prefix = RecordKey::workspace_prefix(workspace);
        async move {
            self.list(T::COLLECTION, &prefix)
                .await?
                .into_iter()
                .map(|(key, found)| Ok((decode(&key, found.value)?, found.revision)))
                .collect()
        }
    }

    /// Deletes the record of type `T` under `key` if it matches `expected` (see
    /// [`Store::delete`] for the outcomes per [`Expected`]).
    fn remove<T: Record>(
        &self,
        key: &RecordKey,
        expected: Expected,
    ) -> impl Future<Output = Result<(), RecordError>> + Send {
        async move { Ok(self.delete(T::COLLECTION, key.as_str(), expected).await?) }
    }
}

impl<S: Store + ?Sized> RecordStore for S {}

impl Record for ProviderKey {
    const COLLECTION: Collection = Collection::ProviderKeys;

    /// `{workspace}/{id}`.
    fn key(&self) -> RecordKey {
        RecordKey::of(&self.workspace, &self.id)
    }

    fn validate(&self) -> Result<(), DomainError> {
        ProviderKey::validate(self)
    }
}

impl Record for AgentSpec {
    const COLLECTION: Collection = Collection::AgentSpecs;

    /// `{workspace}/{id}`.
    fn key(&self) -> RecordKey {
        RecordKey::of(&self.workspace, &self.id)
    }

    fn validate(&self) -> Result<(), DomainError> {
        AgentSpec::validate(self)
    }
}

impl Record for CustomSkill {
    const COLLECTION: Collection = Collection::Skills;

    /// `{workspace}/{id}`.
    fn key(&self) -> RecordKey {
        RecordKey::of(&self.workspace, &self.id)
    }

    fn validate(&self) -> Result<(), DomainError> {
        CustomSkill::validate(self)
    }
}

impl Record for ProjectOverride {
    const COLLECTION: Collection = Collection::Overrides;

    /// `{workspace}/{project}/{agent}`: listing `{workspace}/{project}/` gives a project's
    /// overrides.
    fn key(&self) -> RecordKey {
        RecordKey::new(&self.workspace)
            .with(&self.project)
            .with(&self.agent)
    }

    fn validate(&self) -> Result<(), DomainError> {
        ProjectOverride::validate(self)
    }
}

impl Record for SessionCard {
    const COLLECTION: Collection = Collection::SessionCards;

    /// `{workspace}/{id}`.
    fn key(&self) -> RecordKey {
        RecordKey::of(&self.workspace, &self.id)
    }

    fn validate(&self) -> Result<(), DomainError> {
        SessionCard::validate(self)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn keys_escape_slashes_and_percent() {
        let ws = WorkspaceId::from("a/b");
        let key = RecordKey::of(&ws, "c%2Fd");
        assert_eq!(key.as_str(), "a%2Fb/c%252Fd");
        assert_eq!(key.segments(), vec!["a/b", "c%2Fd"]);
        assert_eq!(RecordKey::workspace_prefix(&ws), "a%2Fb/");
        // `a/b` + `c` and `a` + `b/c` differ.
        assert_ne!(
            RecordKey::of(&"a/b".into(), "c"),
            RecordKey::new(&"a".into()).with("b/c")
        );
    }

    proptest! {
        #[test]
        fn key_encoding_round_trips(parts in proptest::collection::vec(".*", 1..4)) {
            let mut key = RecordKey::new(&WorkspaceId::from(parts[0].as_str()));
            for p in &parts[1..] {
                key = key.with(p);
            }
            prop_assert_eq!(key.segments(), parts.clone());
            // A workspace's prefix never matches another workspace's keys.
            let prefix = RecordKey::workspace_prefix(&WorkspaceId::from(parts[0].as_str()));
            prop_assert!(parts.len() == 1 || key.as_str().starts_with(&prefix));
            let other = RecordKey::workspace_prefix(&WorkspaceId::from(format!("{}x", parts[0])));
            prop_assert!(!key.as_str().starts_with(&other));
        }
    }
}
