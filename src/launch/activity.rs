//! Turning a session's events into task-history activities.
//!
//! [`ActivityMapper`] is a small state machine: the pump feeds it a session's events in order,
//! one at a time, and delivers what it returns. Keys are `{session}:{event_id}` (plus a suffix
//! when one event yields several activities, or the id of the tool use an activity is about),
//! so a replayed event yields the same keys and sinks dedupe on `(card, key)`. Unknown event
//! types, and events with nothing to show, yield nothing — never an error.
//!
//! | Event | Activity |
//! |---|---|
//! | `agent.message` (non-empty text) | [`AgentMessage`](ActivityKind::AgentMessage) with the text |
//! | `agent.thinking` | [`Thinking`](ActivityKind::Thinking) `Thinking…`, once per run of thinking (until another activity is emitted) |
//! | `agent.tool_use` | [`ToolAction`](ActivityKind::ToolAction), one line: ``Ran `cargo test` ``, ``Read `src/lib.rs` ``, ``Edited `src/lib.rs` ``, ``Searched the web for `…` ``, … |
//! | `agent.mcp_tool_use` | `ToolAction` `Called linear.create_issue` |
//! | `agent.custom_tool_use` | `ToolAction` `Used get_task` |
//! | a tool use with `evaluated_permission: deny` | `ToolAction` ``Not allowed to run `…` `` |
//! | a tool use with `evaluated_permission: ask` | nothing yet; remembered as awaiting approval |
//! | `session.status_idle`, `requires_action` | one [`ApprovalNeeded`](ActivityKind::ApprovalNeeded) per listed id that is a tool use awaiting approval (key from the tool use id, so a re-emitted idle event repeats the key), then `StatusChange → awaiting_input` if there was any (ids of custom tool uses are answered by the launcher: no approval, no status change) |
//! | `user.tool_confirmation` for a remembered tool use | `ToolAction` with the line (allowed) or ``Denied permission to run `…` `` |
//! | `session.error` | [`Error`](ActivityKind::Error) `{type}: {message} ({retry status})` |
//! | `session.status_running` | `StatusChange → running` |
//! | `session.status_idle`, `end_turn` | [`FinalResult`](ActivityKind::FinalResult) with the last agent message of the turn (key from that message's id), then `StatusChange → idle` |
//! | `session.status_idle`, `budget_reached` | `StatusChange → awaiting_input` (someone must raise the budget) |
//! | `session.status_idle`, `retries_exhausted` / `refusal` / unknown | `StatusChange → idle` with the reason |
//! | `session.status_terminated`, `session.deleted` | `StatusChange → failed` after a terminal `session.error`, else `→ stopped` (archived) |
//! | anything else | nothing |
//!
//! Status changes are emitted only when the state differs from the last one emitted. An
//! activity's time is the event's `processed_at` (or the last one seen, or the mapper's start).
//! The mapper holds no secrets and shows tool inputs only as one shortened line.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::api::types::events::{
    EvaluatedPermission, RetryStatus, SessionEvent, StopDetails, StopReason, ToolConfirmationResult,
};
use crate::domain::{Activity, ActivityKind, SessionCardId, SessionState, Timestamp};

/// Longest one-line tool detail shown, in characters.
const DETAIL_MAX: usize = 80;

/// Maps one session's events to activities, in order (see the module docs).
#[derive(Clone, Debug)]
pub struct ActivityMapper {
    card: SessionCardId,
    session: String,
    last_at: Timestamp,
    /// A `Thinking` activity was the last one emitted.
    thinking: bool,
    /// The last status emitted.
    state: Option<SessionState>,
    /// Tool uses awaiting approval: event id → action.
    pending: HashMap<String, Action>,
    /// The last agent message of the current turn: (event id, text).
    last_message: Option<(String, String)>,
    /// A `session.error` said the session will terminate.
    terminal_error: bool,
}

/// A one-line description of a tool call.
#[derive(Clone, Debug)]
struct Action {
    /// `Ran`, `Edited`, …
    past: &'static str,
    /// `run`, `edit`, …
    verb: &'static str,
    /// `` `cargo test` ``, `linear.create_issue`, …
    object: String,
}

impl Action {
    fn line(&self) -> String {
        join(self.past, &self.object)
    }

    fn with_prefix(&self, prefix: &str) -> String {
        join(&format!("{prefix} {}", self.verb), &self.object)
    }
}

fn join(a: &str, b: &str) -> String {
    if b.is_empty() {
        a.to_owned()
    } else {
        format!("{a} {b}")
    }
}

impl ActivityMapper {
    /// A mapper for the session `session` (`sesn_…`) shown on `card`; `started_at` dates
    /// activities until an event carries a time.
    pub fn new(card: SessionCardId, session: impl Into<String>, started_at: Timestamp) -> Self {
        Self {
            card,
            session: session.into(),
            last_at: started_at,
            thinking: false,
            state: None,
            pending: HashMap::new(),
            last_message: None,
            terminal_error: false,
        }
    }

    /// The activities `event` yields, in order (often none).
    pub fn push(&mut self, event: &SessionEvent) -> Vec<Activity> {
        if let Some(at) = event.processed_at() {
            self.last_at = at;
        }
        let mut out = Vec::new();
        let id = event.raw_id().unwrap_or("").to_owned();
        match event {
            SessionEvent::AgentMessage(m) => {
                let text = m.text();
                if !text.trim().is_empty() {
                    self.emit(&mut out, &id, ActivityKind::AgentMessage, text.clone());
                    self.last_message = Some((id, text));
                }
            }
            // Coalesced: only the first of a run (`emit` keeps `thinking` up to date).
            SessionEvent::AgentThinking(_) if !self.thinking => {
                self.emit(&mut out, &id, ActivityKind::Thinking, "Thinking…".into());
            }
            SessionEvent::AgentToolUse(t) => {
                let action = builtin_action(&t.name, &t.input);
                self.tool_use(&mut out, id, action, t.evaluated_permission.as_ref());
            }
            SessionEvent::AgentMcpToolUse(t) => {
                let action = Action {
                    past: "Called",
                    verb: "call",
                    object: one_line(&format!("{}.{}", t.mcp_server_name, t.name)),
                };
                self.tool_use(&mut out, id, action, t.evaluated_permission.as_ref());
            }
            SessionEvent::AgentCustomToolUse(t) => {
                let action = Action {
                    past: "Used",
                    verb: "use",
                    object: one_line(&t.name),
                };
                self.tool_use(&mut out, id, action, None);
            }
            SessionEvent::UserToolConfirmation(c) => {
                let tool = c.tool_use_id.as_str().to_owned();
                if let Some(action) = self.pending.remove(&tool) {
                    let text = match c.result {
                        ToolConfirmationResult::Deny => action.with_prefix("Denied permission to"),
                        _ => action.line(),
                    };
                    self.emit(&mut out, &tool, ActivityKind::ToolAction, text);
                }
            }
            SessionEvent::UserMessage(_) => self.last_message = None,
            SessionEvent::SessionError(e) => {
                let retry = e.error.retry_status();
                if matches!(retry, Some(RetryStatus::Terminal)) {
                    self.terminal_error = true;
                }
                let mut text = format!(
                    "{}: {}",
                    e.error.type_name(),
                    e.error.message().unwrap_or("no message")
                );
                match retry {
                    Some(RetryStatus::Retrying) => text.push_str(" (retrying)"),
                    Some(RetryStatus::Exhausted) => text.push_str(" (gave up on this turn)"),
                    Some(RetryStatus::Terminal) => text.push_str(" (the session will end)"),
                    _ => {}
                }
                self.emit(&mut out, &id, ActivityKind::Error, text);
            }
            SessionEvent::SessionStatusRunning(_) => {
                self.status(&mut out, &id, SessionState::Running, "Working".into());
            }
            SessionEvent::SessionStatusIdle(idle) => self.idle(&mut out, &id, idle),
            SessionEvent::SessionStatusTerminated(_) | SessionEvent::SessionDeleted(_) => {
                let (to, text) = if self.terminal_error {
                    (SessionState::Failed, "The session ended after an error")
                } else {
                    (SessionState::Stopped, "The session was stopped")
                };
                self.status(&mut out, &id, to, text.into());
            }
            _ => {}
        }
        out
    }

    fn idle(
        &mut self,
        out: &mut Vec<Activity>,
        id: &str,
        idle: &crate::api::types::events::SessionStatusIdleEvent,
    ) {
        match &idle.stop_reason {
            StopReason::EndTurn => {
                if let Some((msg, text)) = self.last_message.take() {
                    self.emit_keyed(
                        out,
                        format!("{}:{msg}:result", self.session),
                        ActivityKind::FinalResult,
                        text,
                    );
                }
                self.status(out, id, SessionState::Idle, "Finished its turn".into());
            }
            StopReason::RequiresAction(ra) => {
                let mut any = false;
                for tool in &ra.event_ids {
                    let Some(action) = self.pending.get(tool.as_str()).cloned() else {
                        continue;
                    };
                    any = true;
                    self.emit_keyed(
                        out,
                        format!("{}:{}:approval", self.session, tool.as_str()),
                        ActivityKind::ApprovalNeeded {
                            request: tool.as_str().to_owned(),
                        },
                        action.with_prefix("Approval needed to"),
                    );
                }
                if any {
                    let text = "Waiting for approval".into();
                    self.status(out, id, SessionState::AwaitingInput, text);
                }
            }
            StopReason::BudgetReached => {
                let text = "Paused: the session budget is used up".into();
                self.status(out, id, SessionState::AwaitingInput, text);
            }
            StopReason::RetriesExhausted => {
                let text = "Stopped after repeated errors".into();
                self.status(out, id, SessionState::Idle, text);
            }
            StopReason::Refusal => {
                let why = match &idle.stop_details {
                    Some(StopDetails::Refusal(d)) => d.explanation.clone(),
                    _ => None,
                };
                let text = match why {
                    Some(why) => format!("Stopped: the model refused ({})", one_line(&why)),
                    None => "Stopped: the model refused".into(),
                };
                self.status(out, id, SessionState::Idle, text);
            }
            other => {
                let text = format!("Stopped ({})", one_line(other.type_name()));
                self.status(out, id, SessionState::Idle, text);
            }
        }
    }

    fn tool_use(
        &mut self,
        out: &mut Vec<Activity>,
        id: String,
        action: Action,
        permission: Option<&EvaluatedPermission>,
    ) {
        match permission {
            Some(EvaluatedPermission::Ask) => {
                self.pending.insert(id, action);
            }
            Some(EvaluatedPermission::Deny) => {
                let text = action.with_prefix("Not allowed to");
                self.emit(out, &id, ActivityKind::ToolAction, text);
            }
            _ => self.emit(out, &id, ActivityKind::ToolAction, action.line()),
        }
    }

    fn status(&mut self, out: &mut Vec<Activity>, id: &str, to: SessionState, text: String) {
        if self.state == Some(to) {
            return;
        }
        self.state = Some(to);
        self.emit(out, id, ActivityKind::StatusChange { to }, text);
    }

    fn emit(&mut self, out: &mut Vec<Activity>, id: &str, kind: ActivityKind, text: String) {
        let key = format!("{}:{id}", self.session);
        self.emit_keyed(out, key, kind, text);
    }

    fn emit_keyed(
        &mut self,
        out: &mut Vec<Activity>,
        key: String,
        kind: ActivityKind,
        text: String,
    ) {
        self.thinking = matches!(kind, ActivityKind::Thinking);
        out.push(Activity {
            card: self.card.clone(),
            key: key.into(),
            kind,
            text,
            at: self.last_at,
        });
    }
}

/// The action of a built-in toolset call.
fn builtin_action(name: &str, input: &Map<String, Value>) -> Action {
    let arg = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| input.get(*k).and_then(Value::as_str))
            .map(code)
            .unwrap_or_default()
    };
    let (past, verb, object) = match name {
        "bash" => ("Ran", "run", arg(&["command"])),
        "read" => ("Read", "read", arg(&["file_path", "path"])),
        "write" => ("Wrote", "write", arg(&["file_path", "path"])),
        "edit" => ("Edited", "edit", arg(&["file_path", "path"])),
        "glob" => ("Searched files for", "search files for", arg(&["pattern"])),
        "grep" => ("Searched for", "search for", arg(&["pattern"])),
        "web_search" => (
            "Searched the web for",
            "search the web for",
            arg(&["query"]),
        ),
        "web_fetch" => ("Fetched", "fetch", arg(&["url"])),
        other => {
            return Action {
                past: "Used",
                verb: "use",
                object: one_line(other),
            };
        }
    };
    Action { past, verb, object }
}

/// The first line of `s`, at most [`DETAIL_MAX`] characters (`…` when shortened).
fn one_line(s: &str) -> String {
    let first = s.trim().lines().next().unwrap_or("");
    let mut out: String = first.chars().take(DETAIL_MAX).collect();
    if out.len() < s.trim().len() {
        out.push('…');
    }
    out
}

/// `s` shortened to one line, as an inline code span that its own backticks cannot close.
fn code(s: &str) -> String {
    let line = one_line(s);
    if line.contains('`') {
        format!("`` {line} ``")
    } else {
        format!("`{line}`")
    }
}

#[cfg(test)]
mod tests;
