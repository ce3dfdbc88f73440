//! What the host edits: the plain, validated types a task tracker stores and shows in its
//! settings and task views.
//!
//! This module owns typed ids ([`WorkspaceId`], [`AgentSpecId`], …), [`Workspace`] (the tenant
//! boundary for everything below), [`ProviderKey`], [`AgentSpec`] (either
//! [`Managed`](AgentKind::Managed) or [`Connected`](AgentKind::Connected)), [`Skill`],
//! [`McpServer`] + [`McpAuth`], [`ToolMode`], [`EnvironmentSettings`], [`Repository`],
//! [`ProjectOverride`] with its single resolution function [`resolve`], and the launcher's
//! [`TaskContext`], [`SessionCard`] and [`Activity`].
//!
//! It does no I/O and knows nothing of the wire format: the reconciler maps these types to
//! the API's DTOs (`crate::api::types`). Secrets never live here — only [`SecretRef`]s, opaque
//! references into the host's `SecretStore`.
//!
//! Every type is `Clone + Debug + PartialEq + Serialize + Deserialize` (stores persist them as
//! JSON). `validate()` methods return the first broken rule as a [`DomainError`] naming the
//! field (with its path, e.g. `mcp_servers[1].url`) and the rule; they never panic.

mod agent;
mod error;
mod project;
mod provider_key;
mod skill;
mod task;
pub(crate) mod validate;

pub use agent::{
    AgentKind, AgentSpec, ConnectedAgent, EnvironmentSettings, ManagedAgent, McpAuth, McpServer,
    Networking, OAuthClientAuth, OAuthRefresh, Packages, Repository, TaskBridge, ToolMode,
};
pub use error::DomainError;
pub use project::{AgentDefaults, Override, ProjectOverride, Resolved, resolve};
pub use provider_key::{KeyStatus, ProviderKey};
pub use skill::{CustomSkill, Skill, SkillRef};
pub use task::{
    Activity, ActivityKind, SessionCard, SessionState, TaskComment, TaskContext, TaskLink, Trigger,
    Usage,
};

use serde::{Deserialize, Serialize};

use crate::api::types::macros::string_id;

/// A point in time (UTC), serialised as RFC 3339.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

string_id! {
    /// A workspace: the tenant boundary. Every other object belongs to exactly one workspace.
    WorkspaceId;
    /// A stored Anthropic API key ([`ProviderKey`]).
    ProviderKeyId;
    /// An agent the host configured ([`AgentSpec`]).
    AgentSpecId;
    /// A workspace's custom skill ([`CustomSkill`]).
    CustomSkillId;
    /// A project of the host's task tracker.
    ProjectId;
    /// A task of the host's task tracker.
    TaskId;
    /// A comment on a task (the one that mentioned an agent, or one shown in [`TaskContext`]).
    CommentId;
    /// A user of the host's task tracker.
    UserId;
    /// A session card ([`SessionCard`]): one agent working on one task.
    SessionCardId;
    /// An opaque reference to a secret held by the `SecretStore`. It is not the secret and
    /// reveals nothing about it; domain types hold these instead of secrets.
    SecretRef;
    /// A stable key identifying one [`Activity`] so at-least-once delivery can be deduplicated
    /// (for example the session id and event id it was derived from).
    ActivityKey;
}

/// A workspace: the tenant boundary. Provider keys, agent specs, skills, overrides and session
/// cards all carry the [`WorkspaceId`] they belong to and never reference another workspace's
/// objects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    /// The workspace id.
    pub id: WorkspaceId,
    /// Human-readable name (1–256 chars).
    pub name: String,
}

impl Workspace {
    /// Checks the name (non-empty, ≤ 256 chars, single line) and the id (non-empty).
    pub fn validate(&self) -> Result<(), DomainError> {
        validate::id("id", self.id.as_str())?;
        validate::name("name", &self.name, validate::NAME_MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_validation() {
        let ws = Workspace {
            id: "ws_1".into(),
            name: "Acme".into(),
        };
        assert!(ws.validate().is_ok());
        let bad = Workspace {
            name: " ".into(),
            ..ws.clone()
        };
        assert!(matches!(bad.validate(), Err(DomainError::Empty { .. })));
        let bad = Workspace {
            id: "".into(),
            ..ws
        };
        assert!(matches!(bad.validate(), Err(DomainError::Empty { .. })));
    }

    #[test]
    fn errors_name_the_field_and_rule() {
        let e = DomainError::TooLong {
            field: "name".into(),
            max: 3,
            len: 4,
        }
        .within("kind");
        assert_eq!(e.field(), Some("kind.name"));
        assert_eq!(
            e.to_string(),
            "`kind.name` must be at most 3 characters (got 4)"
        );
    }

    #[test]
    fn ids_are_transparent() {
        let id = SecretRef::from("sec_1");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"sec_1\"");
    }
}
