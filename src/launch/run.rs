//! What the launcher persists per session: the [`SessionRun`] record (the host-visible
//! [`SessionCard`] plus the launcher's progress through the start path, its outbox and its
//! delivery cursor) and the [`LiveIndex`] of non-terminal cards.
//!
//! A `SessionRun` is stored in [`Collection::SessionCards`] under the card's own key, with the
//! card's fields at the top level and the launcher's state under `launch`: a host that loads a
//! [`SessionCard`] from the store gets the card (the extra field is ignored), and every change
//! is one compare-and-swap write.

use serde::{Deserialize, Serialize};

use crate::domain::{
    AgentSpecId, DomainError, ProjectId, ProviderKeyId, SessionCard, SessionCardId, TaskId,
    Timestamp, WorkspaceId,
};
use crate::store::{Collection, Record, RecordKey};

/// Where a session is on its start path. Each step is recorded before the next begins, so a
/// restarted launcher continues from the last recorded step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stage {
    /// The card exists; nothing remote yet.
    #[default]
    Queued,
    /// The per-session run vault exists.
    VaultCreated,
    /// The remote session exists (its id is on the card).
    SessionCreated,
    /// The first message was sent; the session runs.
    Running,
}

/// A message waiting to be sent to the session (the first message, then follow-ups).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    /// The trigger it came from (idempotency key).
    pub key: String,
    /// The text (task data and our instructions; never a secret).
    pub text: String,
    /// Set while the message is being sent: a restart checks the session's history for it
    /// before sending it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sending_at: Option<Timestamp>,
}

/// The launcher's state of one session (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LaunchState {
    /// The task's project (to resolve overrides again on a restart).
    pub project: ProjectId,
    /// The provider key the session's API calls use.
    pub provider_key: ProviderKeyId,
    /// The start path's progress.
    #[serde(default)]
    pub stage: Stage,
    /// The per-session run vault (`vlt_…`) once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_vault: Option<String>,
    /// Whether the run vault was archived (after the session ended).
    #[serde(default)]
    pub run_vault_archived: bool,
    /// The agent version the session is pinned to (`None`: latest, for connected agents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<u64>,
    /// When a remote create (vault or session) was last attempted: a restart looks for an
    /// object created since then before creating another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_attempted_at: Option<Timestamp>,
    /// Messages not yet sent, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbox: Vec<Outgoing>,
    /// The last log sequence number whose activities reached the sink.
    #[serde(default)]
    pub delivered: u64,
    /// Trigger keys already applied to this card (bounded; the ledger is the primary record).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<String>,
}

impl LaunchState {
    /// The state of a new card: nothing remote yet, nothing to send.
    pub fn new(project: ProjectId, provider_key: ProviderKeyId) -> Self {
        Self {
            project,
            provider_key,
            stage: Stage::Queued,
            run_vault: None,
            run_vault_archived: false,
            agent_version: None,
            create_attempted_at: None,
            outbox: Vec::new(),
            delivered: 0,
            triggers: Vec::new(),
        }
    }
}

/// A session card with the launcher's state (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRun {
    /// The card, as the host sees it.
    #[serde(flatten)]
    pub card: SessionCard,
    /// The launcher's state.
    pub launch: LaunchState,
}

impl Record for SessionRun {
    const COLLECTION: Collection = Collection::SessionCards;

    /// `{workspace}/{card id}`, the card's own key.
    fn key(&self) -> RecordKey {
        RecordKey::of(&self.card.workspace, &self.card.id)
    }

    fn validate(&self) -> Result<(), DomainError> {
        self.card.validate()
    }
}

/// The collection of [`LiveIndex`] entries.
pub const LIVE_CARDS: Collection = Collection::Other("live_cards");

/// One non-terminal card of a (task, agent) pair: at most one exists per pair, which is what
/// routes a mention to the live session as a follow-up. Deleted when the card ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveIndex {
    /// The workspace.
    pub workspace: WorkspaceId,
    /// The task.
    pub task: TaskId,
    /// The agent.
    pub agent: AgentSpecId,
    /// The live card.
    pub card: SessionCardId,
}

impl LiveIndex {
    /// `{workspace}/{task}/{agent}`.
    pub fn key_of(workspace: &WorkspaceId, task: &TaskId, agent: &AgentSpecId) -> RecordKey {
        RecordKey::new(workspace).with(task).with(agent)
    }
}

impl Record for LiveIndex {
    const COLLECTION: Collection = LIVE_CARDS;

    fn key(&self) -> RecordKey {
        Self::key_of(&self.workspace, &self.task, &self.agent)
    }
}
