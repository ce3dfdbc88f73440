//! What the launcher works with: the task context handed to an agent, the session card the host
//! shows on the task, and the activities appended to the task's history.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{
    ActivityKey, AgentSpecId, CommentId, DomainError, ProjectId, SessionCardId, TaskId, Timestamp,
    UserId, WorkspaceId, validate,
};

/// A task as the agent gets to see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskContext {
    /// The workspace.
    pub workspace: WorkspaceId,
    /// The project the task belongs to.
    pub project: ProjectId,
    /// The task.
    pub task: TaskId,
    /// Title (1–1,000 chars).
    pub title: String,
    /// Description (Markdown or plain text, ≤ 100,000 chars).
    #[serde(default)]
    pub description: String,
    /// Status name as the host shows it (`In progress`).
    #[serde(default)]
    pub status: String,
    /// Other fields (priority, labels, due date…), by display name.
    #[serde(default)]
    pub fields: BTreeMap<String, serde_json::Value>,
    /// Recent comments, oldest first.
    #[serde(default)]
    pub comments: Vec<TaskComment>,
    /// Links attached to the task.
    #[serde(default)]
    pub links: Vec<TaskLink>,
}

/// A comment on a task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskComment {
    /// The comment id.
    pub id: CommentId,
    /// Author's display name.
    pub author: String,
    /// Body (≤ 100,000 chars).
    pub body: String,
    /// When it was written.
    pub at: Timestamp,
}

/// A link attached to a task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskLink {
    /// Link text.
    #[serde(default)]
    pub title: String,
    /// The URL.
    pub url: String,
}

/// Limit for task descriptions and comment bodies.
const BODY_MAX: usize = 100_000;

impl TaskContext {
    /// Checks the ids, the title (1–1,000 chars), description and comment sizes, comment
    /// authors (non-empty) and link URLs (absolute URLs).
    pub fn validate(&self) -> Result<(), DomainError> {
        validate::id("workspace", self.workspace.as_str())?;
        validate::id("project", self.project.as_str())?;
        validate::id("task", self.task.as_str())?;
        validate::required_text("title", &self.title, 1_000)?;
        validate::text("description", &self.description, BODY_MAX)?;
        validate::text("status", &self.status, 256)?;
        for (i, c) in self.comments.iter().enumerate() {
            let f = validate::at("comments", i);
            validate::id(&format!("{f}.id"), c.id.as_str())?;
            validate::name(&format!("{f}.author"), &c.author, 256)?;
            validate::text(&format!("{f}.body"), &c.body, BODY_MAX)?;
        }
        for (i, l) in self.links.iter().enumerate() {
            let f = format!("{}.url", validate::at("links", i));
            if l.url.is_empty() {
                return Err(validate::empty(&f));
            }
            url::Url::parse(&l.url)
                .map_err(|e| validate::invalid(&f, format!("not an absolute URL ({e})")))?;
        }
        Ok(())
    }
}

/// The state of a session card.
///
/// ```text
/// queued → starting → running ⇄ awaiting_input
///                        ↓ ↑           ↓
///                        idle ─────────┘ (→ running on a follow-up)
/// any non-terminal → completed | failed | stopped   (terminal)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SessionState {
    /// Waiting to be started (e.g. for a lease or a concurrency slot).
    Queued,
    /// The session is being created.
    Starting,
    /// The agent is working.
    Running,
    /// The agent waits for the user (a question or a tool approval).
    AwaitingInput,
    /// The agent finished its turn; a follow-up resumes it.
    Idle,
    /// Done (terminal).
    Completed,
    /// Failed (terminal).
    Failed,
    /// Stopped by a user (terminal).
    Stopped,
}

impl SessionState {
    /// The snake_case name (`awaiting_input`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Starting => "starting",
            Self::Running => "running",
            Self::AwaitingInput => "awaiting_input",
            Self::Idle => "idle",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Stopped => "stopped",
        }
    }

    /// Whether no further transition is possible.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Stopped)
    }

    /// Whether `self → to` is a legal move. Staying in the same state is legal (events are
    /// delivered at least once); terminal states accept nothing else.
    pub fn can_transition(self, to: Self) -> bool {
        use SessionState::*;
        if self == to {
            return true;
        }
        if self.is_terminal() {
            return false;
        }
        match to {
            Failed | Stopped => true,
            Queued => false,
            Starting => self == Queued,
            Running => matches!(self, Starting | AwaitingInput | Idle),
            AwaitingInput => self == Running,
            Idle => matches!(self, Running | AwaitingInput),
            Completed => matches!(self, Running | AwaitingInput | Idle),
        }
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What started a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Trigger {
    /// The task was assigned to the agent.
    Assignment {
        /// Who assigned it, if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<UserId>,
    },
    /// The agent was @mentioned in a comment.
    Mention {
        /// The comment.
        comment: CommentId,
        /// Who wrote it, if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<UserId>,
    },
}

/// Token usage and cost of a session so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens.
    #[serde(default)]
    pub input_tokens: u64,
    /// Output tokens.
    #[serde(default)]
    pub output_tokens: u64,
    /// Input tokens read from the prompt cache.
    #[serde(default)]
    pub cache_read_input_tokens: u64,
    /// Input tokens written to the prompt cache.
    #[serde(default)]
    pub cache_creation_input_tokens: u64,
    /// Cost in US cents.
    #[serde(default)]
    pub cost_cents: u64,
}

/// One agent working on one task, as shown on the task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionCard {
    /// Local id.
    pub id: SessionCardId,
    /// The workspace.
    pub workspace: WorkspaceId,
    /// The task.
    pub task: TaskId,
    /// The agent.
    pub agent: AgentSpecId,
    /// Current state; change it with [`SessionCard::transition`].
    pub state: SessionState,
    /// What started the session.
    pub trigger: Trigger,
    /// The remote session id (`sesn_…`) once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_session: Option<String>,
    /// Usage so far.
    #[serde(default)]
    pub usage: Usage,
    /// When the card was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// When it reached a terminal state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// Bumped on every change (for compare-and-swap in the store and ordering in the UI).
    #[serde(default)]
    pub revision: u64,
}

impl SessionCard {
    /// A new queued card.
    pub fn new(
        id: SessionCardId,
        workspace: WorkspaceId,
        task: TaskId,
        agent: AgentSpecId,
        trigger: Trigger,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            workspace,
            task,
            agent,
            state: SessionState::Queued,
            trigger,
            remote_session: None,
            usage: Usage::default(),
            created_at: now,
            updated_at: now,
            finished_at: None,
            revision: 0,
        }
    }

    /// Checks the ids (non-empty, no whitespace) and the remote session id when set.
    pub fn validate(&self) -> Result<(), DomainError> {
        validate::id("id", self.id.as_str())?;
        validate::id("workspace", self.workspace.as_str())?;
        validate::id("task", self.task.as_str())?;
        validate::id("agent", self.agent.as_str())?;
        if let Some(remote) = &self.remote_session {
            validate::id("remote_session", remote)?;
        }
        if let Trigger::Mention { comment, .. } = &self.trigger {
            validate::id("trigger.comment", comment.as_str())?;
        }
        Ok(())
    }

    /// Moves the card to `to` at time `at`, bumping the revision. Returns whether anything
    /// changed (`false` for a repeated move to the current state, which is a no-op).
    ///
    /// # Errors
    /// [`DomainError::IllegalTransition`] when the state machine does not allow the move (see
    /// [`SessionState`]); the card is left unchanged.
    pub fn transition(&mut self, to: SessionState, at: Timestamp) -> Result<bool, DomainError> {
        let from = self.state;
        if !from.can_transition(to) {
            return Err(DomainError::IllegalTransition { from, to });
        }
        if from == to {
            return Ok(false);
        }
        self.state = to;
        self.updated_at = at;
        if to.is_terminal() {
            self.finished_at = Some(at);
        }
        self.revision += 1;
        Ok(true)
    }
}

/// What kind of thing happened in a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ActivityKind {
    /// A message from the agent.
    AgentMessage,
    /// A one-line summary of a tool call (`Ran cargo test`).
    ToolAction,
    /// An error.
    Error,
    /// The card changed state.
    StatusChange {
        /// The new state.
        to: SessionState,
    },
    /// The agent waits for a user to approve a tool call.
    ApprovalNeeded {
        /// The id to answer the approval with (the remote tool-use event id).
        request: String,
    },
    /// The agent's final result.
    FinalResult,
    /// The agent is thinking. Carries no content (the API sends none); consecutive thinking
    /// events are coalesced into one of these, so the history shows progress, not noise.
    Thinking,
}

/// One entry in a task's history, derived from a session's events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// The session card.
    pub card: SessionCardId,
    /// Stable key: the same activity delivered twice has the same key, so sinks dedupe on
    /// `(card, key)`.
    pub key: ActivityKey,
    /// What happened.
    pub kind: ActivityKind,
    /// Text to show (Markdown).
    #[serde(default)]
    pub text: String,
    /// When it happened.
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::SessionState::*;
    use super::*;

    const ALL: [SessionState; 8] = [
        Queued,
        Starting,
        Running,
        AwaitingInput,
        Idle,
        Completed,
        Failed,
        Stopped,
    ];

    fn t(secs: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(secs, 0).unwrap()
    }

    fn card() -> SessionCard {
        SessionCard::new(
            "card_1".into(),
            "ws".into(),
            "task_1".into(),
            "ag".into(),
            Trigger::Mention {
                comment: "c1".into(),
                by: Some("u1".into()),
            },
            t(0),
        )
    }

    #[test]
    fn transition_table() {
        let legal: &[(SessionState, &[SessionState])] = &[
            (Queued, &[Queued, Starting, Failed, Stopped]),
            (Starting, &[Starting, Running, Failed, Stopped]),
            (
                Running,
                &[Running, AwaitingInput, Idle, Completed, Failed, Stopped],
            ),
            (
                AwaitingInput,
                &[AwaitingInput, Running, Idle, Completed, Failed, Stopped],
            ),
            (Idle, &[Idle, Running, Completed, Failed, Stopped]),
            (Completed, &[Completed]),
            (Failed, &[Failed]),
            (Stopped, &[Stopped]),
        ];
        for (from, tos) in legal {
            for to in ALL {
                assert_eq!(from.can_transition(to), tos.contains(&to), "{from} → {to}");
            }
        }
    }

    #[test]
    fn transition_updates_the_card() {
        let mut c = card();
        assert_eq!(c.transition(Starting, t(1)), Ok(true));
        assert_eq!(c.transition(Running, t(2)), Ok(true));
        assert_eq!(c.transition(Running, t(3)), Ok(false));
        assert_eq!((c.revision, c.updated_at), (2, t(2)));
        assert_eq!(c.transition(Completed, t(4)), Ok(true));
        assert_eq!(c.finished_at, Some(t(4)));
        let before = c.clone();
        assert_eq!(
            c.transition(Running, t(5)),
            Err(DomainError::IllegalTransition {
                from: Completed,
                to: Running
            })
        );
        assert_eq!(c, before);
        assert_eq!(
            card().transition(Running, t(1)).unwrap_err().to_string(),
            "session card cannot go from `queued` to `running`"
        );
    }

    #[test]
    fn card_validation_both_ways() {
        assert_eq!(card().validate(), Ok(()));
        let cases: Vec<(SessionCard, &str)> = vec![
            (
                SessionCard {
                    id: "".into(),
                    ..card()
                },
                "id",
            ),
            (
                SessionCard {
                    workspace: "a b".into(),
                    ..card()
                },
                "workspace",
            ),
            (
                SessionCard {
                    task: "".into(),
                    ..card()
                },
                "task",
            ),
            (
                SessionCard {
                    agent: "\n".into(),
                    ..card()
                },
                "agent",
            ),
            (
                SessionCard {
                    remote_session: Some("".into()),
                    ..card()
                },
                "remote_session",
            ),
            (
                SessionCard {
                    trigger: Trigger::Mention {
                        comment: "".into(),
                        by: None,
                    },
                    ..card()
                },
                "trigger.comment",
            ),
        ];
        for (c, field) in cases {
            assert_eq!(c.validate().unwrap_err().field(), Some(field));
        }
    }

    #[test]
    fn serde_shapes() {
        let c = card();
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["state"], "queued");
        assert_eq!(json["trigger"]["type"], "mention");
        assert_eq!(serde_json::from_value::<SessionCard>(json).unwrap(), c);
        let a = Activity {
            card: "card_1".into(),
            key: "sesn_1/sevt_1".into(),
            kind: ActivityKind::StatusChange { to: AwaitingInput },
            text: String::new(),
            at: t(1),
        };
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(
            json["kind"],
            serde_json::json!({"type": "status_change", "to": "awaiting_input"})
        );
        assert_eq!(serde_json::from_value::<Activity>(json).unwrap(), a);
    }

    fn task() -> TaskContext {
        TaskContext {
            workspace: "ws".into(),
            project: "p1".into(),
            task: "task_1".into(),
            title: "Fix login".into(),
            description: "It breaks.".into(),
            status: "Todo".into(),
            fields: BTreeMap::from([("priority".into(), serde_json::json!("high"))]),
            comments: vec![TaskComment {
                id: "c1".into(),
                author: "Ana".into(),
                body: "@agent please".into(),
                at: t(0),
            }],
            links: vec![TaskLink {
                title: "PR".into(),
                url: "https://github.com/acme/api/pull/1".into(),
            }],
        }
    }

    #[test]
    fn task_context_validation() {
        assert_eq!(task().validate(), Ok(()));
        let mut bad = task();
        bad.title = " ".into();
        assert_eq!(bad.validate().unwrap_err().field(), Some("title"));
        let mut bad = task();
        bad.comments[0].author = "".into();
        assert_eq!(
            bad.validate().unwrap_err().field(),
            Some("comments[0].author")
        );
        let mut bad = task();
        bad.links[0].url = "not a url".into();
        assert_eq!(bad.validate().unwrap_err().field(), Some("links[0].url"));
        let mut bad = task();
        bad.description = "d".repeat(BODY_MAX + 1);
        assert_eq!(bad.validate().unwrap_err().field(), Some("description"));
    }
}
