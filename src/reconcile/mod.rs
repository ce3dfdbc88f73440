//! Keeps managed agents in sync with Anthropic: for every managed [`AgentSpec`](crate::domain::AgentSpec) exactly one
//! remote agent, one cloud environment and one credential vault (with a credential per MCP
//! server that has a stored token), repaired when they drift and archived when the spec is
//! deleted.
//!
//! This module owns the mapping of a spec to its desired remote state ([`desired`]), stable
//! [`fingerprint`]s of what was applied, the pure [`plan`](plan::plan) (desired × recorded
//! status × observed remote → [`Plan`]), applying a plan ([`Reconciler`]), the status record
//! ([`ReconcileStatus`]), adopting objects whose create outcome was lost, and the task tools
//! basic task mode puts on the agent ([`tools`]). It is built like a kube-runtime controller:
//! level-triggered (each run looks at the whole state, not at what changed) and idempotent
//! (running it again on an unchanged spec writes nothing).
//!
//! ```no_run
//! # async fn demo(
//! #     store: std::sync::Arc<dyn claude_agents::store::Store>,
//! #     secrets: std::sync::Arc<dyn claude_agents::store::SecretStore>,
//! #     keys: claude_agents::keys::ProviderKeys,
//! # ) -> Result<(), claude_agents::reconcile::ReconcileError> {
//! use std::sync::Arc;
//! use claude_agents::reconcile::{Reconciler, ReconcilerConfig};
//!
//! let reconciler = Reconciler::new(
//!     store,
//!     secrets,
//!     Arc::new(keys),
//!     ReconcilerConfig::new("acme-prod"),
//! );
//! let outcome = reconciler.reconcile(&"ws_1".into(), &"agent_spec_1".into()).await?;
//! print!("{}", outcome.plan); // like a terraform plan
//! # Ok(())
//! # }
//! ```
//!
//! # Guarantees
//!
//! * **No write without a change.** An unchanged spec with no remote drift plans nothing and
//!   makes zero write requests (a no-op agent update would mint a new version, so none is ever
//!   sent).
//! * **Optimistic concurrency.** Every agent update carries the version it was computed
//!   against; a 409 makes the reconciler re-read, re-plan and retry, at most
//!   [`ReconcilerConfig::max_conflict_retries`] times.
//! * **No duplicates after a lost create.** Before each create a pending marker is written to
//!   the status record; every created object carries ownership metadata
//!   ([`desired::META_OWNER`], workspace, spec, fingerprint, nonce). A create whose outcome was
//!   lost (crash, cut response, [`api::Error::OutcomeUnknown`](crate::api::Error)) is found by
//!   that metadata on the next run and adopted; if several are found, the oldest is adopted
//!   and the others archived.
//! * **Drift is repaired.** A remote object edited in the Console is restored with one update
//!   of the differing fields; one archived or deleted is recreated and the new id recorded.
//! * **Finalizer semantics.** Deleting a spec archives every agent, environment and vault
//!   recorded for it or carrying its ownership metadata — idempotently, and also when apply
//!   never completed.
//! * **One reconcile per spec at a time**: an in-process mutex per spec (callers in one
//!   process queue) and a store lease (another process gets [`ReconcileError::Busy`]); the
//!   status record is written with compare-and-swap, and a lost CAS re-reads and re-plans.
//! * **Connected agents are never written to**: reconciling one only reads its agent,
//!   environment and vaults to check they exist and are not archived.
//! * **Secrets stay secret.** They are read from the `SecretStore` at apply time and only sent
//!   in credential writes; the status and metadata hold HMAC fingerprints under a
//!   per-installation key, never values. No error carries a secret.
//!
//! # Assumptions
//!
//! * The ownership metadata of our objects is not removed by hand between a lost create and
//!   the next run (a Console edit that removes it from a *recorded* object is restored).
//! * One installation id ([`ReconcilerConfig::owner`]) per deployment sharing a workspace's
//!   API keys: two installations with the same owner adopt each other's objects.
//! * The API lists newly created objects promptly (read-after-write on lists).
//!
//! # Caveats
//!
//! * A run longer than the lease TTL may overlap with another process's run; the lease is
//!   renewed before every create and the status CAS prevents lost records, but a duplicate
//!   created in that window is only archived by a later run.
//! * Drift detection compares only the fields we set, normalised (the response form differs
//!   from the request form). An agent whose version and fingerprint match the status is
//!   trusted without a deep compare.
//! * Environment names are unique (archived ones included), so each created environment's
//!   name ends with its create nonce.
//! * Custom skills are uploaded by [`skill_sync`] before the agent is planned (one remote skill
//!   per workspace skill and provider key; agents pin its version).
//!
//! Also here: connected-mode pickers and validation ([`connected`]), the model picker
//! ([`models`]) and bounded, rate-limited fan-out over many agents ([`fanout`]).

pub mod apply;
pub mod connected;
pub mod desired;
pub mod fanout;
pub mod fingerprint;
pub mod models;
pub mod plan;
pub mod skill_sync;
pub mod status;
pub mod tools;

use std::time::Duration;

pub use apply::{ClientProvider, Outcome, Reconciler};
pub use desired::{Desired, DesiredContext, HostMcpServer, RemoteSkill};
pub use plan::{Action, FieldChange, Observed, Op, Plan, plan, plan_delete};
pub use status::{ObjectKind, Phase, ReconcileStatus};

use crate::api;
use crate::domain::{
    AgentSpecId, CustomSkillId, DomainError, ProviderKeyId, SecretRef, WorkspaceId,
};
use crate::keys::KeyError;
use crate::store::RecordError;

/// Settings of a [`Reconciler`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReconcilerConfig {
    /// This installation's id, written as [`desired::META_OWNER`] on every created object and
    /// used to find lost creates (1–512 chars).
    pub owner: String,
    /// The host's MCP server, needed by specs using the full API task bridge.
    pub host_mcp: Option<HostMcpServer>,
    /// Re-plans after an agent version conflict (409) or a lost status compare-and-swap.
    pub max_conflict_retries: u32,
    /// How long the per-spec store lease lasts (renewed before every create).
    pub lease_ttl: Duration,
    /// Page size when searching objects by metadata (1–100).
    pub list_page_size: u32,
    /// Test hook: fail right after a remote create of this kind, before its status write.
    #[doc(hidden)]
    pub fail_after_create: Option<ObjectKind>,
}

impl ReconcilerConfig {
    /// Defaults with this owner: 5 conflict retries, a 60 s lease, pages of 100.
    pub fn new(owner: impl Into<String>) -> Self {
        Self {
            owner: owner.into(),
            host_mcp: None,
            max_conflict_retries: 5,
            lease_ttl: Duration::from_secs(60),
            list_page_size: 100,
            fail_after_create: None,
        }
    }

    /// Sets the host's MCP server (full API task bridge).
    pub fn with_host_mcp(mut self, name: impl Into<String>, url: impl Into<String>) -> Self {
        self.host_mcp = Some(HostMcpServer {
            name: name.into(),
            url: url.into(),
        });
        self
    }

    /// Sets [`max_conflict_retries`](Self::max_conflict_retries).
    pub fn with_max_conflict_retries(mut self, n: u32) -> Self {
        self.max_conflict_retries = n;
        self
    }

    /// Sets [`lease_ttl`](Self::lease_ttl).
    pub fn with_lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }

    /// Test hook: fail right after a remote create of `kind`, before the status write (as a
    /// crash would).
    #[doc(hidden)]
    pub fn with_fail_after_create(mut self, kind: ObjectKind) -> Self {
        self.fail_after_create = Some(kind);
        self
    }
}

impl Default for ReconcilerConfig {
    fn default() -> Self {
        Self::new("claude-agents")
    }
}

/// Errors of the reconciler. None carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// The spec is invalid (or cannot be mapped); nothing was written.
    #[error("invalid agent spec: {0}")]
    Invalid(#[source] DomainError),
    /// The spec's model is not among the models its provider key can use; nothing was
    /// written.
    #[error("model {model:?} is not available with provider key {key}")]
    UnknownModel {
        /// The model id.
        model: String,
        /// The provider key.
        key: ProviderKeyId,
    },
    /// The provider key is missing or unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// An API call failed (status, error code and request id are in the source).
    #[error("{kind}: {source}")]
    Api {
        /// The object kind the call was about.
        kind: ObjectKind,
        /// The API error.
        #[source]
        source: api::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] RecordError),
    /// Another process is reconciling this spec (it holds the lease).
    #[error("workspace {workspace}: agent {spec} is being reconciled elsewhere")]
    Busy {
        /// The workspace.
        workspace: WorkspaceId,
        /// The spec.
        spec: AgentSpecId,
    },
    /// Conflicts (409s or lost compare-and-swaps) kept coming after the configured retries.
    #[error("gave up after {attempts} attempts: the agent or its status kept changing")]
    ConflictRetriesExhausted {
        /// Attempts made.
        attempts: u32,
    },
    /// A secret the spec references is not in the `SecretStore`.
    #[error("secret {reference} for `{field}` is missing")]
    SecretMissing {
        /// The spec field.
        field: String,
        /// The reference (not the value).
        reference: SecretRef,
    },
    /// A custom skill the spec uses does not exist in the workspace, or (in a dry run) has
    /// not been uploaded yet.
    #[error("custom skill {skill} is unknown or not uploaded yet")]
    SkillNotSynced {
        /// The local skill id.
        skill: CustomSkillId,
    },
    /// A connected agent's agent, environment or vault is missing or archived (or could not
    /// be read).
    #[error(transparent)]
    Connected(Box<connected::ConnectedError>),
    /// Uploading a custom skill failed.
    #[error("custom skill {skill}: {source}")]
    Skill {
        /// The local skill id.
        skill: CustomSkillId,
        /// What went wrong (API error with status and request id, store conflict, busy).
        #[source]
        source: Box<skill_sync::SkillSyncError>,
    },
    /// Test hook fired ([`ReconcilerConfig::fail_after_create`]).
    #[doc(hidden)]
    #[error("injected failure after creating the {0}")]
    Injected(ObjectKind),
}

impl ReconcileError {
    pub(crate) fn invalid(field: &str, rule: &str) -> Self {
        Self::Invalid(crate::domain::validate::invalid(field, rule))
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { source, .. } => source.status(),
            _ => None,
        }
    }

    /// The API request id, when known.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api { source, .. } => source.request_id(),
            _ => None,
        }
    }
}
