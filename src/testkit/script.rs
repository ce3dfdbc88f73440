//! Scripts: what the agent of a fake session does with each turn.
//!
//! A [`Script`] is a list of [`Step`]s the fake runs for every `user.message` (and
//! `user.define_outcome`) a session processes. The turn is framed by the fake itself: it
//! starts with `session.status_running` and the processed echo of the user event, and ends
//! with `session.status_idle` (`end_turn`, or `retries_exhausted` after an `exhausted` error),
//! unless a step terminated the session or a `user.interrupt` ended the turn early.
//!
//! Scripts are plain values and deserialize from JSON (`fake_api --script file.json`):
//!
//! ```json
//! { "delay_ms": 0,
//!   "steps": [
//!     { "type": "model_request_start" },
//!     { "type": "thinking" },
//!     { "type": "custom_tool_use", "name": "get_weather", "input": { "city": "Paris" } },
//!     { "type": "message", "text": "It is sunny." },
//!     { "type": "model_request_end", "usage": { "input_tokens": 100, "output_tokens": 50 } }
//!   ] }
//! ```
//!
//! Set one with [`FakeApi::set_default_script`](super::FakeApi::set_default_script) (every
//! session without its own) or [`FakeApi::set_script`](super::FakeApi::set_script) (one
//! session).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The behaviour of a session's agent: the steps run for each turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// Run in order for every processed `user.message` / `user.define_outcome`.
    pub steps: Vec<Step>,
    /// Pause before each step, in milliseconds (default 0: as fast as possible).
    #[serde(default)]
    pub delay_ms: u64,
}

impl Default for Script {
    /// `span.model_request_start` → `agent.thinking` → `agent.message` ("Hello from the fake
    /// agent.") → `span.model_request_end` (between the turn's `session.status_running` and
    /// `session.status_idle {end_turn}`).
    fn default() -> Self {
        Self::reply("Hello from the fake agent.")
    }
}

impl Script {
    /// A script of these steps, without delays.
    pub fn new(steps: Vec<Step>) -> Self {
        Self { steps, delay_ms: 0 }
    }

    /// The default turn answering with `text`.
    pub fn reply(text: impl Into<String>) -> Self {
        Self::new(vec![
            Step::ModelRequestStart,
            Step::Thinking,
            Step::message(text),
            Step::ModelRequestEnd {
                usage: ModelUsage::default(),
                is_error: false,
            },
        ])
    }

    /// Pause `delay` before each step.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// The pause before each step.
    pub fn delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms)
    }
}

/// One thing the agent does. JSON: an object whose `type` is the snake_case variant name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Step {
    /// `span.model_request_start`.
    ModelRequestStart,
    /// `span.model_request_end` closing the open model request (one is opened first if none
    /// is); `usage` is added to the session's usage.
    ModelRequestEnd {
        /// Token counts of the request.
        #[serde(default)]
        usage: ModelUsage,
        /// Whether the request failed.
        #[serde(default)]
        is_error: bool,
    },
    /// `agent.thinking` (after an `event_start` preview on streams that asked for
    /// `agent.thinking` deltas).
    Thinking,
    /// `agent.message` with one text block (after `event_start` + one `event_delta` per word on
    /// streams that asked for `agent.message` deltas).
    Message {
        /// The message text.
        text: String,
    },
    /// A built-in tool call: `agent.tool_use` then `agent.tool_result`. With permission `ask`
    /// the session goes idle (`requires_action`) until a `user.tool_confirmation` answers it
    /// (deny ⇒ an error tool result carrying the deny message); with `deny` an error result
    /// follows at once. On a `self_hosted` environment an allowed call waits for the client's
    /// `user.tool_result` instead of producing `result`.
    ToolUse {
        /// Tool name (`bash`, `read`, …).
        name: String,
        /// Tool input.
        #[serde(default)]
        input: Map<String, Value>,
        /// Text of the tool result.
        #[serde(default)]
        result: String,
        /// Whether the result is an error.
        #[serde(default)]
        is_error: bool,
        /// Evaluated permission; `None` derives it from the session agent's toolset
        /// (`always_allow` ⇒ allow, `always_ask` ⇒ ask, disabled ⇒ deny; no toolset ⇒ allow).
        #[serde(default)]
        permission: Option<Permission>,
    },
    /// An MCP tool call: `agent.mcp_tool_use` then `agent.mcp_tool_result`, with the same
    /// permission handling as [`Step::ToolUse`].
    McpToolUse {
        /// The MCP server's name.
        server: String,
        /// Tool name.
        name: String,
        /// Tool input.
        #[serde(default)]
        input: Map<String, Value>,
        /// Text of the tool result.
        #[serde(default)]
        result: String,
        /// Whether the result is an error.
        #[serde(default)]
        is_error: bool,
        /// Evaluated permission; `None` derives it from the session agent's `mcp_toolset` for
        /// `server` (default policy `always_ask`; no toolset ⇒ allow).
        #[serde(default)]
        permission: Option<Permission>,
    },
    /// `agent.custom_tool_use`, then `session.status_idle {requires_action}` naming it; waits
    /// for the `user.custom_tool_result` (which may already have been sent), then
    /// `session.status_running` and the next step.
    CustomToolUse {
        /// Tool name.
        name: String,
        /// Tool input.
        #[serde(default)]
        input: Map<String, Value>,
    },
    /// `session.error`. `retrying`: the turn goes on; `exhausted`: the turn ends with
    /// `session.status_idle {retries_exhausted}`; `terminal`: `session.status_terminated`.
    Error {
        /// `error.type`, e.g. `model_overloaded_error`.
        error_type: String,
        /// `error.message`.
        #[serde(default = "default_error_message")]
        message: String,
        /// `error.retry_status.type` (default `exhausted`).
        #[serde(default)]
        retry_status: RetryStatus,
        /// Extra fields of the error object (`mcp_server_name`, `repository_url`, …).
        #[serde(default)]
        details: Map<String, Value>,
    },
    /// `session.status_rescheduled` (status `rescheduling`), then `session.status_running`.
    Rescheduled,
    /// `session.usage`: the session's cumulative usage and budget.
    Usage,
    /// Wait this long (a `user.interrupt` cuts it short).
    Pause {
        /// Milliseconds.
        ms: u64,
    },
    /// `session.status_terminated`: the session accepts no further work; streams close.
    Terminate,
    /// Any other persisted event, emitted as given (`id` and `processed_at` are added when
    /// missing). The caller is responsible for its shape.
    Event {
        /// The event object (with its `type`).
        event: Value,
    },
}

fn default_error_message() -> String {
    "An error occurred.".to_owned()
}

impl Step {
    /// [`Step::Message`].
    pub fn message(text: impl Into<String>) -> Self {
        Self::Message { text: text.into() }
    }

    /// [`Step::ToolUse`] with the permission derived from the agent; `input` should be an
    /// object (anything else becomes `{}`).
    pub fn tool_use(name: impl Into<String>, input: Value, result: impl Into<String>) -> Self {
        Self::ToolUse {
            name: name.into(),
            input: object(input),
            result: result.into(),
            is_error: false,
            permission: None,
        }
    }

    /// [`Step::McpToolUse`] with the permission derived from the agent.
    pub fn mcp_tool_use(
        server: impl Into<String>,
        name: impl Into<String>,
        input: Value,
        result: impl Into<String>,
    ) -> Self {
        Self::McpToolUse {
            server: server.into(),
            name: name.into(),
            input: object(input),
            result: result.into(),
            is_error: false,
            permission: None,
        }
    }

    /// [`Step::CustomToolUse`].
    pub fn custom_tool_use(name: impl Into<String>, input: Value) -> Self {
        Self::CustomToolUse {
            name: name.into(),
            input: object(input),
        }
    }

    /// [`Step::Error`] with a default message and no extra fields.
    pub fn error(error_type: impl Into<String>, retry_status: RetryStatus) -> Self {
        Self::Error {
            error_type: error_type.into(),
            message: default_error_message(),
            retry_status,
            details: Map::new(),
        }
    }

    /// Sets the permission of a [`Step::ToolUse`] / [`Step::McpToolUse`] (other steps are
    /// returned unchanged).
    pub fn with_permission(mut self, p: Permission) -> Self {
        if let Self::ToolUse { permission, .. } | Self::McpToolUse { permission, .. } = &mut self {
            *permission = Some(p);
        }
        self
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Token counts of one model request (`span.model_request_end.model_usage`). Missing fields
/// take the defaults: 100 input tokens, 50 output tokens, no cache tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelUsage {
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Tokens written to the prompt cache.
    pub cache_creation_input_tokens: u64,
    /// Tokens read from the prompt cache.
    pub cache_read_input_tokens: u64,
}

impl Default for ModelUsage {
    fn default() -> Self {
        Self {
            input_tokens: 100,
            output_tokens: 50,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
        }
    }
}

/// The permission a tool call was evaluated to (`evaluated_permission`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Runs at once.
    Allow,
    /// Waits for a `user.tool_confirmation`.
    Ask,
    /// Never runs; an error result follows.
    Deny,
}

/// `retry_status.type` of a scripted `session.error`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryStatus {
    /// The server retries; the turn goes on.
    Retrying,
    /// The turn is dead: idle with `retries_exhausted`.
    #[default]
    Exhausted,
    /// The session terminates.
    Terminal,
}

impl RetryStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Retrying => "retrying",
            Self::Exhausted => "exhausted",
            Self::Terminal => "terminal",
        }
    }
}
