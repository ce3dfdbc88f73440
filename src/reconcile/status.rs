//! The reconciler's record of what it applied: [`ReconcileStatus`], one per agent spec, in
//! [`Collection::ReconcileStatus`] under `{workspace}/{spec id}`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::api::types::{AgentId, CredentialId, EnvironmentId, VaultId};
use crate::domain::{AgentSpecId, ProviderKeyId, Timestamp, WorkspaceId};
use crate::store::{Collection, Record, RecordKey};

/// The kinds of remote objects the reconciler owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ObjectKind {
    /// A Managed Agents agent.
    Agent,
    /// A cloud environment.
    Environment,
    /// A credential vault.
    Vault,
    /// A credential in the vault.
    Credential,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Agent => "agent",
            Self::Environment => "environment",
            Self::Vault => "vault",
            Self::Credential => "credential",
        })
    }
}

/// Where a spec's reconciliation stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Phase {
    /// Never applied (or only partly: see the recorded objects and pending creates).
    #[default]
    Pending,
    /// The remote objects match the spec that was last applied.
    Ready,
    /// The last attempt failed; see [`ReconcileStatus::last_error`].
    Failed,
    /// The spec was deleted; archiving what was created is in progress.
    Deleting,
    /// Everything created for the spec is archived.
    Deleted,
}

/// The remote agent as last applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteAgent {
    /// The agent id.
    pub id: AgentId,
    /// The agent version after our last write (or the last version seen in sync).
    pub version: u64,
    /// Fingerprint of the desired shape last applied.
    pub fingerprint: String,
}

/// The remote environment as last applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteEnvironment {
    /// The environment id.
    pub id: EnvironmentId,
    /// Fingerprint of the desired shape last applied.
    pub fingerprint: String,
}

/// One credential in the vault, per MCP server (keyed by server name in
/// [`RemoteVault::credentials`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteCredential {
    /// The credential id.
    pub id: CredentialId,
    /// The MCP server URL it authenticates (immutable on the remote side).
    pub mcp_server_url: String,
    /// Fingerprint of the non-secret shape (type, URL, OAuth client settings that cannot be
    /// updated): a change means archive and create.
    pub shape_fingerprint: String,
    /// HMAC fingerprint of the secret material (and settings that rotate with it): a change
    /// means rotate in place. Never the secret itself.
    pub secret_fingerprint: String,
}

/// The remote vault as last applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteVault {
    /// The vault id.
    pub id: VaultId,
    /// Fingerprint of the desired shape last applied.
    pub fingerprint: String,
    /// Credentials by MCP server name.
    #[serde(default)]
    pub credentials: BTreeMap<String, RemoteCredential>,
}

/// A create about to be sent: written to the status *before* the request, so that if the
/// outcome is lost (crash, cut response) the next reconcile searches for the object by its
/// ownership metadata and adopts it instead of creating a duplicate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCreate {
    /// What is being created.
    pub kind: ObjectKind,
    /// For credentials: the MCP server name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Random nonce sent in the object's metadata (and in the environment's unique name).
    pub nonce: String,
    /// When the create was started.
    pub at: Timestamp,
}

/// The last failure, fit for a settings screen (never a secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastError {
    /// What went wrong.
    pub message: String,
    /// HTTP status, for API errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The API's request id, for support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// When it happened.
    pub at: Timestamp,
}

/// What the reconciler applied for one agent spec: remote ids, the agent version, the
/// fingerprints of what was applied, pending creates and the last error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReconcileStatus {
    /// The workspace.
    pub workspace: WorkspaceId,
    /// The agent spec.
    pub spec: AgentSpecId,
    /// The provider key the objects were created with (deleting a spec needs it after the
    /// spec itself is gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_key: Option<ProviderKeyId>,
    /// Where it stands.
    #[serde(default)]
    pub phase: Phase,
    /// The remote agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<RemoteAgent>,
    /// The remote environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<RemoteEnvironment>,
    /// The remote vault and its credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<RemoteVault>,
    /// Creates whose outcome is not recorded yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingCreate>,
    /// The spec revision last applied completely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_revision: Option<u64>,
    /// Fingerprint of the whole desired state last applied completely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_fingerprint: Option<String>,
    /// Whether the agent may call the host's API directly (for the launcher).
    #[serde(default)]
    pub direct_api_access: bool,
    /// The last failure (cleared by a successful reconcile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<LastError>,
    /// The lease fencing token of the last writer.
    #[serde(default)]
    pub fencing_token: u64,
    /// When the record was last written.
    pub updated_at: Timestamp,
}

impl ReconcileStatus {
    /// An empty status for a spec.
    pub fn new(workspace: WorkspaceId, spec: AgentSpecId, now: Timestamp) -> Self {
        Self {
            workspace,
            spec,
            provider_key: None,
            phase: Phase::Pending,
            agent: None,
            environment: None,
            vault: None,
            pending: Vec::new(),
            applied_revision: None,
            applied_fingerprint: None,
            direct_api_access: false,
            last_error: None,
            fencing_token: 0,
            updated_at: now,
        }
    }

    /// The store key of a spec's status.
    pub fn key_of(workspace: &WorkspaceId, spec: &AgentSpecId) -> RecordKey {
        RecordKey::of(workspace, spec)
    }

    /// Whether a create of `kind` (and credential `server`) is pending.
    pub fn pending_for(&self, kind: ObjectKind, server: Option<&str>) -> Option<&PendingCreate> {
        self.pending
            .iter()
            .find(|p| p.kind == kind && p.server.as_deref() == server)
    }

    /// Removes the pending marker of `kind` / `server`.
    pub(crate) fn clear_pending(&mut self, kind: ObjectKind, server: Option<&str>) {
        self.pending
            .retain(|p| !(p.kind == kind && p.server.as_deref() == server));
    }
}

impl Record for ReconcileStatus {
    const COLLECTION: Collection = Collection::ReconcileStatus;

    /// `{workspace}/{spec id}`.
    fn key(&self) -> RecordKey {
        Self::key_of(&self.workspace, &self.spec)
    }
}
