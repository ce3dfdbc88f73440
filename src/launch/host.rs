//! The host's side of a running session: the [`TaskHost`] hook the launcher calls to answer the
//! agent's task tools (basic tool mode, DESIGN decision 10) and to fetch run-time inputs.

use async_trait::async_trait;
use secrecy::SecretString;

use crate::domain::{Repository, SessionCard, TaskContext};

/// Why a host hook failed. The message is shown to the agent as an `is_error` tool result, so
/// it must be safe to show: no secrets, no internal details the agent should not see.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HostError {
    /// What went wrong, for the agent and the task history.
    pub message: String,
}

impl HostError {
    /// A host error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// What the launcher asks of the host while a session runs.
///
/// # Contract
///
/// 1. Every method may be called more than once for the same request (after a crash, a stream
///    resume or a retry); `add_comment` and `update_status` should be idempotent on
///    `(card, tool_use_id)` where the host can manage it — `tool_use_id` is the stable id of the
///    agent's tool call.
/// 2. Errors are answered to the agent as `is_error` results and never stop the session; keep
///    their messages free of secrets.
/// 3. Methods should return promptly (the session's events wait while a tool call is
///    answered); the launcher gives up after its configured tool timeout and answers with an
///    error.
#[async_trait]
pub trait TaskHost: Send + Sync {
    /// The task as the agent should see it now (the `get_task` tool).
    async fn task(&self, card: &SessionCard) -> Result<TaskContext, HostError>;

    /// Adds a comment written by the agent to the card's task (the `add_comment` tool).
    async fn add_comment(
        &self,
        card: &SessionCard,
        tool_use_id: &str,
        body: &str,
    ) -> Result<(), HostError>;

    /// Changes the status of the card's task (the `update_status` tool). Refuse an unknown
    /// status with a message listing the valid ones; the agent reads it.
    async fn update_status(
        &self,
        card: &SessionCard,
        tool_use_id: &str,
        status: &str,
    ) -> Result<(), HostError>;

    /// A token for this session to reach the host — its MCP server (agents using the full
    /// API bridge) and its REST API (agents allowed direct API access) — scoped by the host to
    /// the card's task and revocable when the card ends. Called once per session start, only
    /// for such agents; the token goes into the session's run vault, never into a message or
    /// a stored record. `None` (the default) makes such a start fail with a clear error.
    async fn session_token(&self, card: &SessionCard) -> Result<Option<SecretString>, HostError> {
        let _ = card;
        Ok(None)
    }

    /// A token to clone `repository` with (a GitHub App installation token), or `None` for a
    /// public repository. Called on every session start; the token goes into the session's
    /// resource and never into a message or a stored record. The default returns `None`.
    async fn repository_token(
        &self,
        card: &SessionCard,
        repository: &Repository,
    ) -> Result<Option<SecretString>, HostError> {
        let _ = (card, repository);
        Ok(None)
    }
}
