//! Workspace API keys: the Anthropic keys a workspace's agents use. [`ProviderKeys`] adds a
//! key (checking it against the API first), lists and reads the masked records, re-checks,
//! rotates and deletes keys, tells which agents use a key, and builds API clients from a
//! stored key. [`check_agent_key`] is the cross-object check that an agent's key exists in its
//! workspace.
//!
//! This module owns the pairing of a [`ProviderKey`] record (in the [`Store`]) with its secret
//! (in the [`SecretStore`]): it orchestrates `api` (listing models with the key), `store` and
//! `domain`. The secret only ever travels as a [`SecretString`]: it is never in a record, a
//! log line, an error, or the `Debug` of anything here.
//!
//! # Guarantees
//!
//! * **Nothing is stored for a key the API did not accept.** `add` lists the models with the
//!   key (every page) before writing anything; a rejected key (401), a key without permission
//!   (403), an unreachable API or any other failure returns a [`KeyError`] and leaves both
//!   stores untouched.
//! * **No record ever points to a missing secret** because of a crash in the middle of an
//!   operation: `add` writes the secret first, then the record (and removes the secret if the
//!   record write fails); `delete` removes the record first, then the secret. The worst a crash
//!   leaves is an orphan secret that no record references.
//! * **Updates never lose a concurrent change.** Every record update is a compare-and-swap on
//!   the revision read before the secret was read; see [`ProviderKeys::revalidate`] and
//!   [`ProviderKeys::rotate`] for how each resolves a lost race.
//!
//! # Caveats
//!
//! * Records and secrets live in two stores without a shared transaction: the ordering above
//!   keeps them consistent for readers, not atomic.
//! * `delete` without [`DeleteMode::Force`] checks usage, then deletes: an agent spec saved in
//!   between may still name the deleted key. Run [`check_agent_key`] when saving or launching an
//!   agent to catch it.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), claude_agents::keys::KeyError> {
//! use std::sync::Arc;
//!
//! use claude_agents::api::Client;
//! use claude_agents::domain::WorkspaceId;
//! use claude_agents::keys::{DeleteMode, ProviderKeys};
//! use claude_agents::store::{MemorySecretStore, MemoryStore};
//! use secrecy::SecretString;
//!
//! let keys = ProviderKeys::new(
//!     Arc::new(MemoryStore::new()),
//!     Arc::new(MemorySecretStore::new()),
//!     Client::builder(), // base URL, HTTP client, timeouts, retries: shared by every key
//! );
//! let ws = WorkspaceId::from("acme");
//! let key = keys
//!     .add(&ws, "Team key", SecretString::from("sk-ant-api03-…".to_owned()))
//!     .await?;
//! println!("{} {} {:?}", key.label, key.masked, key.models);
//! let key = keys
//!     .rotate(&ws, &key.id, SecretString::from("sk-ant-api03-…".to_owned()))
//!     .await?;
//! keys.delete(&ws, &key.id, DeleteMode::IfUnused).await?;
//! # Ok(())
//! # }
//! ```

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use futures_util::TryStreamExt;
use secrecy::{ExposeSecret, SecretString};

use crate::api::types::models::ListModels;
use crate::api::{self, Client, ClientBuilder};
use crate::domain::{
    AgentSpec, AgentSpecId, DomainError, KeyStatus, ProviderKey, ProviderKeyId, SecretRef,
    Timestamp, WorkspaceId,
};
use crate::store::{
    Expected, Record, RecordError, RecordKey, RecordStore, SecretStore, Store, StoreError,
};

/// How often a record update that lost a compare-and-swap is re-tried before giving up with
/// [`KeyError::Conflict`]. Each retry means another writer succeeded, so this bounds only
/// pathological contention.
const CAS_ATTEMPTS: usize = 8;
/// Longest server message kept in an error or an `Invalid` reason.
const MESSAGE_MAX: usize = 300;

/// Whether [`ProviderKeys::delete`] may delete a key that agents still use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeleteMode {
    /// Refuse with [`KeyError::InUse`] (listing the agents) while any agent spec of the
    /// workspace uses the key.
    #[default]
    IfUnused,
    /// Delete even if agents use it. Those agents keep naming the deleted key:
    /// [`check_agent_key`] fails for them until the host gives them another key, so they
    /// cannot be reconciled or launched.
    Force,
}

/// The details of an error answer of the API, as far as they help a user (never anything from
/// the request, so never the key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiFailure {
    /// HTTP status.
    pub status: u16,
    /// `error.type` (`authentication_error`, `permission_error`, …), if the body had one.
    pub error_type: Option<String>,
    /// `error.details.error_code`, if any.
    pub error_code: Option<String>,
    /// `error.message` (shortened; any echo of the key is redacted).
    pub message: String,
    /// The `request-id` of the answer, for support.
    pub request_id: Option<String>,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(t) = &self.error_type {
            write!(f, " {t}")?;
            if let Some(c) = &self.error_code {
                write!(f, "/{c}")?;
            }
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request-id {id}]")?;
        }
        Ok(())
    }
}

/// Errors of [`ProviderKeys`] and [`check_agent_key`]. They carry the workspace, the key id
/// (when there is one) and the API's status and request id — never a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The input was refused before any network call or write (blank label, blank secret,
    /// whitespace inside the secret, invalid workspace id, …). `field` names the input.
    #[error("invalid provider key input: {0}")]
    Invalid(#[source] DomainError),

    /// The API rejected the key (HTTP 401 `authentication_error`): it is wrong, revoked or
    /// malformed. Nothing was stored or changed.
    #[error("{}: the API rejected the key ({failure})", scope(.workspace, .key))]
    Rejected {
        /// The workspace.
        workspace: WorkspaceId,
        /// The key being changed (`None` when adding a new one).
        key: Option<ProviderKeyId>,
        /// The API's answer.
        failure: Box<ApiFailure>,
    },

    /// The key is genuine but lacks permission (HTTP 403 `permission_error`). Nothing was
    /// stored or changed.
    #[error("{}: the key lacks permission ({failure})", scope(.workspace, .key))]
    Forbidden {
        /// The workspace.
        workspace: WorkspaceId,
        /// The key being changed (`None` when adding a new one).
        key: Option<ProviderKeyId>,
        /// The API's answer.
        failure: Box<ApiFailure>,
    },

    /// The API answered with another error (rate limit, overload, server error, …) after the
    /// client's retries. Nothing was stored or changed; trying again later may succeed.
    #[error("{}: checking the key failed ({failure})", scope(.workspace, .key))]
    Api {
        /// The workspace.
        workspace: WorkspaceId,
        /// The key being checked (`None` when adding a new one).
        key: Option<ProviderKeyId>,
        /// The API's answer.
        failure: Box<ApiFailure>,
    },

    /// The API could not be reached (connection refused or reset, DNS, TLS, timeout): nothing
    /// is known about the key. Nothing was stored or changed.
    #[error("{}: the API is unreachable: {message}", scope(.workspace, .key))]
    Unreachable {
        /// The workspace.
        workspace: WorkspaceId,
        /// The key being checked (`None` when adding a new one).
        key: Option<ProviderKeyId>,
        /// What the transport reported.
        message: String,
    },

    /// The API answered with something that is not a models list. Nothing was stored or
    /// changed.
    #[error("{}: unexpected API answer: {message}", scope(.workspace, .key))]
    BadResponse {
        /// The workspace.
        workspace: WorkspaceId,
        /// The key being checked (`None` when adding a new one).
        key: Option<ProviderKeyId>,
        /// What was wrong.
        message: String,
        /// The `request-id` of the answer.
        request_id: Option<String>,
    },

    /// The API client could not be configured (base URL, HTTP client).
    #[error("API client configuration: {0}")]
    Config(String),

    /// No such key in the workspace.
    #[error("workspace {workspace}: no provider key {key}")]
    NotFound {
        /// The workspace.
        workspace: WorkspaceId,
        /// The key id.
        key: ProviderKeyId,
    },

    /// [`ProviderKeys::delete`] refused: agents use the key (pass [`DeleteMode::Force`] to
    /// delete anyway).
    #[error("workspace {workspace}: provider key {key} is used by agents {}", join(.agents))]
    InUse {
        /// The workspace.
        workspace: WorkspaceId,
        /// The key id.
        key: ProviderKeyId,
        /// The agent specs using it, ordered by id.
        agents: Vec<AgentSpecId>,
    },

    /// An agent spec names a provider key that does not exist in its workspace
    /// ([`check_agent_key`]).
    #[error(
        "workspace {workspace}: agent {agent} uses provider key {key}, which does not exist in the workspace"
    )]
    MissingForAgent {
        /// The workspace.
        workspace: WorkspaceId,
        /// The agent spec.
        agent: AgentSpecId,
        /// The key it names.
        key: ProviderKeyId,
    },

    /// The key's record exists but its secret is missing from the secret store (removed
    /// behind this module's back). Re-add the key.
    #[error("workspace {workspace}: the secret of provider key {key} is missing")]
    SecretMissing {
        /// The workspace.
        workspace: WorkspaceId,
        /// The key id.
        key: ProviderKeyId,
    },

    /// A concurrent change of the same key won (the record changed or was deleted, or another
    /// rotation replaced the secret after this one). Reload and decide again.
    #[error("workspace {workspace}: provider key {key} was changed concurrently")]
    Conflict {
        /// The workspace.
        workspace: WorkspaceId,
        /// The key id.
        key: ProviderKeyId,
    },

    /// The record store failed, or a stored record is unreadable.
    #[error(transparent)]
    Record(#[from] RecordError),

    /// The secret store failed.
    #[error("secret store: {0}")]
    Secrets(#[source] StoreError),
}

impl KeyError {
    /// The HTTP status of an API error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Rejected { failure, .. }
            | Self::Forbidden { failure, .. }
            | Self::Api { failure, .. } => Some(failure.status),
            _ => None,
        }
    }

    /// The `request-id` of the API's answer, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Rejected { failure, .. }
            | Self::Forbidden { failure, .. }
            | Self::Api { failure, .. } => failure.request_id.as_deref(),
            Self::BadResponse { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// Whether a concurrent change won ([`KeyError::Conflict`], or a record-level conflict).
    pub fn is_conflict(&self) -> bool {
        match self {
            Self::Conflict { .. } => true,
            Self::Record(e) => e.is_conflict(),
            _ => false,
        }
    }
}

/// `workspace ws_1` or `workspace ws_1, provider key pk_1`.
fn scope(workspace: &WorkspaceId, key: &Option<ProviderKeyId>) -> String {
    match key {
        Some(k) => format!("workspace {workspace}, provider key {k}"),
        None => format!("workspace {workspace}"),
    }
}

fn join(ids: &[AgentSpecId]) -> String {
    ids.iter()
        .map(AgentSpecId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The outcome of checking a secret against the API, before it is tied to a workspace/key.
enum CheckFailure {
    Rejected(Box<ApiFailure>),
    Forbidden(Box<ApiFailure>),
    Api(Box<ApiFailure>),
    Unreachable(String),
    BadResponse(String, Option<String>),
    Config(String),
}

impl CheckFailure {
    fn from_api(err: api::Error, secret: &SecretString) -> Self {
        let redact = |text: &str| redact(text, secret);
        match err {
            api::Error::Api(e) | api::Error::Conflict(e) => {
                let failure = Box::new(ApiFailure {
                    status: e.status,
                    error_type: e.error_type.clone(),
                    error_code: e.error_code.clone(),
                    message: redact(&e.message),
                    request_id: e.request_id.clone(),
                });
                match e.status {
                    401 => Self::Rejected(failure),
                    403 => Self::Forbidden(failure),
                    _ => Self::Api(failure),
                }
            }
            api::Error::Decode {
                path,
                message,
                request_id,
                ..
            } => Self::BadResponse(
                redact(&format!(
                    "the models list does not decode at `{path}`: {message}"
                )),
                request_id,
            ),
            api::Error::Config(message) | api::Error::InvalidRequest(message) => {
                Self::Config(redact(&message))
            }
            // Transport, deadline, outcome unknown (not for reads), stream errors (not for
            // lists), and whatever the client may add later: the API was not heard from.
            other => Self::Unreachable(redact(&other.to_string())),
        }
    }

    fn into_error(self, workspace: &WorkspaceId, key: Option<&ProviderKeyId>) -> KeyError {
        let workspace = workspace.clone();
        let key = key.cloned();
        match self {
            Self::Rejected(failure) => KeyError::Rejected {
                workspace,
                key,
                failure,
            },
            Self::Forbidden(failure) => KeyError::Forbidden {
                workspace,
                key,
                failure,
            },
            Self::Api(failure) => KeyError::Api {
                workspace,
                key,
                failure,
            },
            Self::Unreachable(message) => KeyError::Unreachable {
                workspace,
                key,
                message,
            },
            Self::BadResponse(message, request_id) => KeyError::BadResponse {
                workspace,
                key,
                message,
                request_id,
            },
            Self::Config(message) => KeyError::Config(message),
        }
    }

    /// The reason shown for a key the API refused (401, 402, 403); `None` for failures that
    /// say nothing about the key (unreachable API, server errors, rate limits, …).
    fn invalid_reason(&self) -> Option<String> {
        let (what, failure) = match self {
            Self::Rejected(f) => ("the API rejected the key", f),
            Self::Forbidden(f) => ("the key lacks permission", f),
            Self::Api(f) if f.status == 402 => ("the API refused the key for billing", f),
            _ => return None,
        };
        // Without the request id: the reason is for the settings screen.
        let detail = ApiFailure {
            request_id: None,
            ..(**failure).clone()
        };
        Some(format!("{what} ({detail})"))
    }
}

/// `text` with every occurrence of the secret replaced, shortened to [`MESSAGE_MAX`] chars.
fn redact(text: &str, secret: &SecretString) -> String {
    let raw = secret.expose_secret();
    let text = if raw.is_empty() {
        text.to_owned()
    } else {
        text.replace(raw, "[REDACTED]")
    };
    if text.chars().count() <= MESSAGE_MAX {
        return text;
    }
    let mut short: String = text.chars().take(MESSAGE_MAX).collect();
    short.push('…');
    short
}

/// Trims surrounding whitespace (a pasted newline) and checks what is left: not blank, and
/// only printable ASCII without spaces (Anthropic keys are; anything else could not be sent in
/// a header anyway). The error never quotes the secret.
fn normalise_secret(secret: SecretString) -> Result<SecretString, KeyError> {
    let raw = secret.expose_secret();
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(KeyError::Invalid(DomainError::Empty {
            field: "secret".to_owned(),
        }));
    }
    if trimmed.chars().any(char::is_whitespace) {
        return Err(KeyError::Invalid(DomainError::Invalid {
            field: "secret".to_owned(),
            rule: "must not contain whitespace".to_owned(),
        }));
    }
    if !trimmed.chars().all(|c| c.is_ascii_graphic()) {
        return Err(KeyError::Invalid(DomainError::Invalid {
            field: "secret".to_owned(),
            rule: "must be printable ASCII".to_owned(),
        }));
    }
    if trimmed.len() == raw.len() {
        return Ok(secret);
    }
    Ok(SecretString::from(trimmed.to_owned()))
}

/// A fresh key id: `pk_` + the creation time in milliseconds (hex) + 64 random bits, so ids
/// sort by creation time and listing is in creation order.
fn new_key_id(now: Timestamp) -> ProviderKeyId {
    let millis = u64::try_from(now.timestamp_millis()).unwrap_or_default();
    ProviderKeyId(format!("pk_{millis:012x}{:016x}", rand::random::<u64>()))
}

/// Where the secret of a key is held: `provider_key/{workspace}/{id}` (segments escaped as in
/// [`RecordKey`]).
fn secret_ref(workspace: &WorkspaceId, id: &ProviderKeyId) -> SecretRef {
    SecretRef(format!("provider_key/{}", RecordKey::of(workspace, id)))
}

/// Model ids in the API's order, each once.
fn dedupe(models: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    models
        .into_iter()
        .filter(|m| seen.insert(m.clone()))
        .collect()
}

/// Checks that the provider key `spec` names exists in the spec's own workspace, and returns
/// it. Keys are looked up by `(spec.workspace, spec.provider_key)`, so another workspace's key
/// with the same id never satisfies the check.
///
/// # Errors
/// [`KeyError::MissingForAgent`] when there is no such key; [`KeyError::Record`] when the store
/// fails.
pub async fn check_agent_key(store: &dyn Store, spec: &AgentSpec) -> Result<ProviderKey, KeyError> {
    let key = RecordKey::of(&spec.workspace, &spec.provider_key);
    match store.load::<ProviderKey>(&key).await? {
        Some((record, _)) => Ok(record),
        None => Err(KeyError::MissingForAgent {
            workspace: spec.workspace.clone(),
            agent: spec.id.clone(),
            key: spec.provider_key.clone(),
        }),
    }
}

/// The workspace API keys service: see the [module docs](self).
///
/// Cheap to clone (`Arc`s and the client settings inside); share one per process.
#[derive(Clone)]
pub struct ProviderKeys {
    store: Arc<dyn Store>,
    secrets: Arc<dyn SecretStore>,
    /// The settings every per-key client is built from (any API key in it is replaced).
    api: ClientBuilder,
    models_page_size: Option<u32>,
}

impl fmt::Debug for ProviderKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `ClientBuilder`'s Debug redacts any API key; the stores are not printed.
        f.debug_struct("ProviderKeys")
            .field("api", &self.api)
            .field("models_page_size", &self.models_page_size)
            .finish_non_exhaustive()
    }
}

impl ProviderKeys {
    /// A service over `store` (records) and `secrets` (key values), talking to the API with
    /// the settings of `api` — base URL, HTTP client, `anthropic-version`, retries, timeouts.
    /// Each operation builds a client from a clone of `api` with the key it checks; an API key
    /// set on `api` is ignored. Without an HTTP client of the host's
    /// ([`ClientBuilder::http_client`]) one is built here and shared by every key.
    pub fn new(store: Arc<dyn Store>, secrets: Arc<dyn SecretStore>, api: ClientBuilder) -> Self {
        // If the shared HTTP client cannot be built, keep the builder as it is: every call then
        // reports the same failure as `KeyError::Config`.
        let api = match api.clone().with_shared_http() {
            Ok(shared) => shared,
            Err(e) => {
                tracing::warn!(error = %e, "could not build the shared HTTP client");
                api
            }
        };
        Self {
            store,
            secrets,
            api,
            models_page_size: None,
        }
    }

    /// Page size used when listing models to check a key (1–1000; default: the API's, 20).
    pub fn models_page_size(mut self, limit: u32) -> Self {
        self.models_page_size = Some(limit);
        self
    }

    /// An API client that uses `secret`.
    fn client(&self, secret: &SecretString) -> Result<Client, CheckFailure> {
        self.api
            .clone()
            .api_key(secret.clone())
            .build()
            .map_err(|e| CheckFailure::from_api(e, secret))
    }

    /// Lists every model (all pages) with `secret`: the check that the key works.
    async fn check(&self, secret: &SecretString) -> Result<Vec<String>, CheckFailure> {
        let client = self.client(secret)?;
        let params = ListModels {
            limit: self.models_page_size,
            ..ListModels::default()
        };
        let models: Vec<String> = client
            .models()
            .list(&params)
            .map_ok(|m| m.id.0)
            .try_collect()
            .await
            .map_err(|e| CheckFailure::from_api(e, secret))?;
        Ok(dedupe(models))
    }

    async fn load(
        &self,
        workspace: &WorkspaceId,
        id: &ProviderKeyId,
    ) -> Result<(ProviderKey, crate::store::Revision), KeyError> {
        self.store
            .load::<ProviderKey>(&RecordKey::of(workspace, id))
            .await?
            .ok_or_else(|| KeyError::NotFound {
                workspace: workspace.clone(),
                key: id.clone(),
            })
    }

    async fn secret_of(&self, record: &ProviderKey) -> Result<SecretString, KeyError> {
        self.secrets
            .get(&record.secret)
            .await
            .map_err(KeyError::Secrets)?
            .ok_or_else(|| KeyError::SecretMissing {
                workspace: record.workspace.clone(),
                key: record.id.clone(),
            })
    }

    /// Adds a key to `workspace`: checks the input, checks the key with the API by listing
    /// every model with it, then stores the secret and a [`ProviderKey`] record (masked form,
    /// status [`KeyStatus::Valid`], the model ids in the API's order). Returns the record.
    ///
    /// Surrounding whitespace of `label` and `secret` (a pasted newline) is ignored.
    ///
    /// # Write order
    /// The secret is written first, then the record with [`Expected::Absent`]; if the record
    /// write fails, the secret is removed again. A crash between the two leaves an orphan
    /// secret under a fresh reference that no record points to — never a record without its
    /// secret.
    ///
    /// # Errors
    /// [`KeyError::Invalid`] before any network call; [`KeyError::Rejected`] (401),
    /// [`KeyError::Forbidden`] (403), [`KeyError::Unreachable`], [`KeyError::Api`],
    /// [`KeyError::BadResponse`] when the check fails — in all of these nothing is stored;
    /// [`KeyError::Secrets`] / [`KeyError::Record`] when a store fails.
    pub async fn add(
        &self,
        workspace: &WorkspaceId,
        label: &str,
        secret: SecretString,
    ) -> Result<ProviderKey, KeyError> {
        let now = chrono::Utc::now();
        let id = new_key_id(now);
        let mut record = ProviderKey {
            secret: secret_ref(workspace, &id),
            id,
            workspace: workspace.clone(),
            label: label.trim().to_owned(),
            masked: String::new(),
            status: KeyStatus::Unvalidated,
            models: Vec::new(),
        };
        let secret = normalise_secret(secret)?;
        record.masked = ProviderKey::mask(&secret);
        ProviderKey::validate(&record).map_err(KeyError::Invalid)?;

        let models = self
            .check(&secret)
            .await
            .map_err(|f| f.into_error(workspace, None))?;
        record.status = KeyStatus::Valid { checked_at: now };
        record.models = models;
        // Validate the record with the API's model ids before writing anything.
        ProviderKey::validate(&record).map_err(|e| KeyError::BadResponse {
            workspace: workspace.clone(),
            key: None,
            message: format!("the models list is not usable: {e}"),
            request_id: None,
        })?;

        self.secrets
            .put(&record.secret, secret)
            .await
            .map_err(KeyError::Secrets)?;
        if let Err(e) = self.store.save(&record, Expected::Absent).await {
            // Undo the secret write so no orphan is left behind in the normal failure case.
            if let Err(cleanup) = self.secrets.delete(&record.secret).await {
                tracing::warn!(
                    workspace = %workspace, key = %record.id, secret_ref = %record.secret,
                    error = %cleanup, "could not remove the secret of a key whose record failed"
                );
            }
            return Err(e.into());
        }
        tracing::info!(
            workspace = %workspace, key = %record.id, models = record.models.len(),
            "provider key added"
        );
        Ok(record)
    }

    /// The keys of `workspace` (masked; records never hold secrets), ordered by id — which is
    /// creation order for keys added here.
    pub async fn list(&self, workspace: &WorkspaceId) -> Result<Vec<ProviderKey>, KeyError> {
        Ok(self
            .store
            .list_workspace::<ProviderKey>(workspace)
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }

    /// One key of `workspace`.
    ///
    /// # Errors
    /// [`KeyError::NotFound`].
    pub async fn get(
        &self,
        workspace: &WorkspaceId,
        id: &ProviderKeyId,
    ) -> Result<ProviderKey, KeyError> {
        Ok(self.load(workspace, id).await?.0)
    }

    /// Checks a stored key again (lists every model with its secret) and records the outcome:
    /// [`KeyStatus::Valid`] with the fresh model list, or [`KeyStatus::Invalid`] with a reason
    /// (never containing the key) when the API answers 401, 402 or 403 — the model list then
    /// keeps the last successful check's. The masked form is recomputed from the stored secret.
    /// Returns the updated record (an `Invalid` outcome is not an error).
    ///
    /// # Concurrency
    /// The record is read before the secret, and written back with compare-and-swap on that
    /// revision. If anything changed the record in between (a rotation, another check), the
    /// whole check is repeated with the new record and secret, so a stale outcome never
    /// overwrites a newer one; after repeated losses it gives up with [`KeyError::Conflict`].
    ///
    /// # Errors
    /// [`KeyError::Unreachable`], [`KeyError::Api`] (other than 402), [`KeyError::BadResponse`]:
    /// the status is left unchanged. [`KeyError::NotFound`], [`KeyError::SecretMissing`].
    pub async fn revalidate(
        &self,
        workspace: &WorkspaceId,
        id: &ProviderKeyId,
    ) -> Result<ProviderKey, KeyError> {
        for attempt in 0..CAS_ATTEMPTS {
            let (mut record, revision) = self.load(workspace, id).await?;
            let secret = self.secret_of(&record).await?;
            let checked_at = chrono::Utc::now();
            match self.check(&secret).await {
                Ok(models) => {
                    record.status = KeyStatus::Valid { checked_at };
                    record.models = models;
                }
                Err(failure) => match failure.invalid_reason() {
                    Some(reason) => record.status = KeyStatus::Invalid { reason, checked_at },
                    None => {
                        let err = failure.into_error(workspace, Some(id));
                        tracing::debug!(workspace = %workspace, key = %id, error = %err,
                            "provider key check failed; status unchanged");
                        return Err(err);
                    }
                },
            }
            record.masked = ProviderKey::mask(&secret);
            match self.store.save(&record, Expected::Revision(revision)).await {
                Ok(_) => {
                    tracing::info!(workspace = %workspace, key = %id,
                        valid = matches!(record.status, KeyStatus::Valid { .. }),
                        "provider key revalidated");
                    return Ok(record);
                }
                Err(e) if e.is_conflict() => {
                    tracing::debug!(workspace = %workspace, key = %id, attempt,
                        "provider key changed during revalidation; checking again");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(KeyError::Conflict {
            workspace: workspace.clone(),
            key: id.clone(),
        })
    }

    /// The agent specs of `workspace` that use key `id`, ordered by id (one key usually
    /// serves many agents). Does not require the key to exist.
    pub async fn usage(
        &self,
        workspace: &WorkspaceId,
        id: &ProviderKeyId,
    ) -> Result<Vec<AgentSpec>, KeyError> {
        Ok(self
            .store
            .list_workspace::<AgentSpec>(workspace)
            .await?
            .into_iter()
            .map(|(spec, _)| spec)
            .filter(|spec| &spec.provider_key == id)
            .collect())
    }

    /// Deletes key `id` of `workspace`: its record, then its secret. With
    /// [`DeleteMode::IfUnused`] it refuses while agent specs use the key.
    ///
    /// The record goes first: once it is gone nothing can reach the secret, and a crash before
    /// the secret is removed leaves only an unreferenced secret. The reverse order could leave a
    /// record pointing to a missing secret, which agents would fail on at launch.
    ///
    /// # Errors
    /// [`KeyError::InUse`] listing the agents (nothing deleted); [`KeyError::NotFound`];
    /// [`KeyError::Conflict`] when the record changed since it was read (nothing deleted);
    /// [`KeyError::Secrets`] when the record is deleted but removing the secret failed (the
    /// secret is orphaned).
    pub async fn delete(
        &self,
        workspace: &WorkspaceId,
        id: &ProviderKeyId,
        mode: DeleteMode,
    ) -> Result<(), KeyError> {
        let (record, revision) = self.load(workspace, id).await?;
        let users = self.usage(workspace, id).await?;
        if mode == DeleteMode::IfUnused && !users.is_empty() {
            return Err(KeyError::InUse {
                workspace: workspace.clone(),
                key: id.clone(),
                agents: users.into_iter().map(|s| s.id).collect(),
            });
        }
        match self
            .store
            .remove::<ProviderKey>(&record.key(), Expected::Revision(revision))
            .await
        {
            Ok(()) => {}
            Err(e) if e.is_conflict() => {
                return Err(KeyError::Conflict {
                    workspace: workspace.clone(),
                    key: id.clone(),
                });
            }
            Err(e) => return Err(e.into()),
        }
        self.secrets
            .delete(&record.secret)
            .await
            .map_err(KeyError::Secrets)?;
        tracing::info!(workspace = %workspace, key = %id, forced = !users.is_empty(),
            agents = users.len(), "provider key deleted");
        Ok(())
    }

    /// Replaces the secret of key `id` in place: checks `secret` with the API first (every
    /// models page); only if it is accepted, replaces the stored secret
    /// ([`SecretStore::rotate`]) and updates the record (masked form, status, models). The key
    /// id and secret reference stay, so every agent using the key picks the new secret up.
    /// Returns the updated record.
    ///
    /// # Concurrency
    /// The record update is a compare-and-swap. When it loses, the record is re-read and the
    /// stored secret compared with this rotation's: if it is still ours the update is applied
    /// to the new revision; if another rotation replaced it since, this one has been superseded
    /// and returns [`KeyError::Conflict`] (the other rotation's secret and record stand). So
    /// the last secret written is always the one the record describes.
    ///
    /// # Errors
    /// [`KeyError::Invalid`], [`KeyError::Rejected`], [`KeyError::Forbidden`],
    /// [`KeyError::Unreachable`], [`KeyError::Api`], [`KeyError::BadResponse`]: nothing changed.
    /// [`KeyError::NotFound`], [`KeyError::SecretMissing`]: nothing changed.
    /// [`KeyError::Conflict`] as above. A store failure after the secret was replaced leaves the
    /// new secret in effect with a stale record; [`revalidate`](Self::revalidate) repairs it.
    pub async fn rotate(
        &self,
        workspace: &WorkspaceId,
        id: &ProviderKeyId,
        secret: SecretString,
    ) -> Result<ProviderKey, KeyError> {
        let secret = normalise_secret(secret)?;
        let (mut record, mut revision) = self.load(workspace, id).await?;
        let models = self
            .check(&secret)
            .await
            .map_err(|f| f.into_error(workspace, Some(id)))?;
        let checked_at = chrono::Utc::now();
        let masked = ProviderKey::mask(&secret);
        // Refuse unusable model ids before the secret is touched.
        ProviderKey::validate(&ProviderKey {
            models: models.clone(),
            masked: masked.clone(),
            ..record.clone()
        })
        .map_err(|e| KeyError::BadResponse {
            workspace: workspace.clone(),
            key: Some(id.clone()),
            message: format!("the models list is not usable: {e}"),
            request_id: None,
        })?;

        self.secrets
            .rotate(&record.secret, secret.clone())
            .await
            .map_err(|e| match e {
                StoreError::NotFound { .. } => KeyError::SecretMissing {
                    workspace: workspace.clone(),
                    key: id.clone(),
                },
                other => KeyError::Secrets(other),
            })?;

        for attempt in 0..CAS_ATTEMPTS {
            record.masked = masked.clone();
            record.status = KeyStatus::Valid { checked_at };
            record.models = models.clone();
            match self.store.save(&record, Expected::Revision(revision)).await {
                Ok(_) => {
                    tracing::info!(workspace = %workspace, key = %id, "provider key rotated");
                    return Ok(record);
                }
                Err(e) if e.is_conflict() => {
                    tracing::debug!(workspace = %workspace, key = %id, attempt,
                        "provider key changed during rotation; re-reading");
                }
                Err(e) => return Err(e.into()),
            }
            // Re-read the record first, then compare the secret: a rotation that replaces the
            // secret after this comparison writes its record after our re-read, so our
            // compare-and-swap below loses to it and we come back here.
            (record, revision) = self.load(workspace, id).await?;
            let current = self.secret_of(&record).await?;
            if current.expose_secret() != secret.expose_secret() {
                tracing::debug!(workspace = %workspace, key = %id,
                    "provider key rotation superseded by a later one");
                break;
            }
        }
        Err(KeyError::Conflict {
            workspace: workspace.clone(),
            key: id.clone(),
        })
    }

    /// An API client that uses key `id` of `workspace` (built from the service's settings).
    ///
    /// # Errors
    /// [`KeyError::NotFound`], [`KeyError::SecretMissing`], [`KeyError::Config`].
    pub async fn client_for(
        &self,
        workspace: &WorkspaceId,
        id: &ProviderKeyId,
    ) -> Result<Client, KeyError> {
        let (record, _) = self.load(workspace, id).await?;
        let secret = self.secret_of(&record).await?;
        self.client(&secret)
            .map_err(|f| f.into_error(workspace, Some(id)))
    }

    /// [`check_agent_key`] against this service's store.
    pub async fn check_agent(&self, spec: &AgentSpec) -> Result<ProviderKey, KeyError> {
        check_agent_key(self.store.as_ref(), spec).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn secrets_are_normalised_or_refused_without_quoting_them() {
        let ok = normalise_secret(secret("  sk-ant-abc123\n")).unwrap();
        assert_eq!(ok.expose_secret(), "sk-ant-abc123");
        for (bad, field_rule) in [
            ("", "empty"),
            (" \n\t", "empty"),
            ("sk-ant-abc 123", "whitespace"),
            ("sk-ant-abc\t123", "whitespace"),
            ("sk-ant-abcé123", "ASCII"),
            ("sk-ant-abc\u{0}123", "ASCII"),
        ] {
            let err = normalise_secret(secret(bad)).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains(field_rule) || text.contains("must not be empty"),
                "{bad:?}: {text}"
            );
            if !bad.trim().is_empty() {
                assert!(!text.contains(bad.trim()), "{text}");
            }
            assert!(matches!(err, KeyError::Invalid(ref e) if e.field() == Some("secret")));
        }
    }

    #[test]
    fn redaction_and_shortening() {
        let s = secret("sk-ant-secret-value");
        assert_eq!(
            redact("bad key sk-ant-secret-value!", &s),
            "bad key [REDACTED]!"
        );
        let long = "x".repeat(1000);
        assert_eq!(redact(&long, &s).chars().count(), MESSAGE_MAX + 1);
    }

    #[test]
    fn ids_and_secret_refs() {
        let now = chrono::Utc::now();
        let a = new_key_id(now);
        assert!(
            a.as_str().starts_with("pk_") && a.as_str().len() == 31,
            "{a}"
        );
        assert_ne!(a, new_key_id(now));
        assert_eq!(
            secret_ref(&"ws/1".into(), &"pk_1".into()).as_str(),
            "provider_key/ws%2F1/pk_1"
        );
        assert_eq!(
            dedupe(vec!["b".into(), "a".into(), "b".into()]),
            vec!["b", "a"]
        );
    }

    #[test]
    fn invalid_reasons_only_for_refusals() {
        let failure = |status| {
            Box::new(ApiFailure {
                status,
                error_type: Some("x_error".into()),
                error_code: None,
                message: "no".into(),
                request_id: Some("req_1".into()),
            })
        };
        let reason = CheckFailure::Rejected(failure(401))
            .invalid_reason()
            .unwrap();
        assert_eq!(reason, "the API rejected the key (HTTP 401 x_error: no)");
        assert!(
            CheckFailure::Forbidden(failure(403))
                .invalid_reason()
                .is_some()
        );
        assert!(CheckFailure::Api(failure(402)).invalid_reason().is_some());
        assert!(CheckFailure::Api(failure(500)).invalid_reason().is_none());
        assert!(CheckFailure::Api(failure(429)).invalid_reason().is_none());
        assert!(
            CheckFailure::Unreachable("down".into())
                .invalid_reason()
                .is_none()
        );
    }
}
