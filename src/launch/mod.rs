//! The session launcher: from a task assignment or an @mention to a running Managed Agents
//! session whose progress streams into the task's history.
//!
//! [`Launcher`] (in [`launcher`]) owns the I/O: triggers, session cards, the per-session run
//! vault, the session start, the event pump, follow-ups, approvals, stop, the concurrency queue,
//! the watchdog and resume. Its state per session is a [`SessionRun`] record ([`run`]); the host
//! answers the agent's task tools through [`TaskHost`] ([`host`]).
//!
//! The pure parts do no I/O: deciding whether a comment mentions an agent ([`mention`]),
//! composing the messages a session starts and continues with ([`prompt`]), turning a session's
//! events into task-history activities ([`activity`]), and verifying incoming Managed Agents
//! webhooks ([`webhook`]).

pub mod activity;
pub mod host;
pub mod launcher;
pub mod mention;
pub mod prompt;
pub mod run;
pub mod webhook;

pub use activity::ActivityMapper;
pub use host::{HostError, TaskHost};
pub use launcher::{
    Approval, AssignTrigger, CommentTrigger, HostApi, Launcher, LauncherConfig, LauncherError,
    ResumeReport, TriggerOutcome, card_id_for,
};
pub use mention::{Handle, mentions};
pub use prompt::{ApiAccess, FirstMessage, PromptOptions, first_message, follow_up};
pub use run::{LaunchState, LiveIndex, Outgoing, SessionRun, Stage};

/// What the launcher's pure parts can refuse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// An agent handle breaks the handle rules (see [`Handle::new`]).
    #[error("invalid agent handle {handle:?}: {rule}")]
    InvalidHandle {
        /// The handle as given.
        handle: String,
        /// The broken rule, in words.
        rule: &'static str,
    },
    /// A boundary token given in [`PromptOptions::boundary`] breaks the token rules.
    #[error("invalid boundary token {token:?}: {rule}")]
    InvalidBoundary {
        /// The token as given.
        token: String,
        /// The broken rule, in words.
        rule: &'static str,
    },
    /// The parts of a message that cannot be shortened (our instructions, guidance, rules,
    /// title, fields, links and the structure) already exceed the size budget.
    #[error("message needs at least {needed} characters, over the budget of {budget}")]
    OverBudget {
        /// Characters needed once everything that can be truncated is.
        needed: usize,
        /// The budget.
        budget: usize,
    },
}
