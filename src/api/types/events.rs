//! Session events (reference `sessions.md` §10–§13): content blocks, the persisted
//! [`SessionEvent`] union, the SSE [`StreamEvent`] union, the [`EventParam`] send-events request
//! union, stop reasons, `session.error` objects, usage, workflow runs and the list / stream query
//! parameters.
//!
//! Field names, optionality and enum values follow the Python SDK `anthropic` 2.10.0
//! (`anthropic.types.beta.sessions`). Every `type`-tagged union keeps unknown variants as raw
//! JSON in an `Other` variant, so an event type this crate does not model yet still decodes.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::common::{CredentialId, EventId, FileId, Metadata, Order, ThreadId, Timestamp, VaultId};
use super::macros::{string_id, tagged_union};
use super::sessions::{Budget, SessionAgent, SessionUsageSnapshot};

// ---------------------------------------------------------------------------------------------
// Helpers shared with `sessions.rs`
// ---------------------------------------------------------------------------------------------

/// Declares an open string enum: known values as variants plus `Other(String)` keeping any value
/// this version of the crate does not know (the API adds enum values without notice).
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $lit:literal => $variant:ident
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )+
            /// A value this version of the crate does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every value this crate models, in declaration order.
            pub const KNOWN_VALUES: &'static [&'static str] = &[$($lit),+];

            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $lit, )+
                    Self::Other(s) => s,
                }
            }

            /// Whether this is a value the crate does not know.
            pub fn is_other(&self) -> bool {
                matches!(self, Self::Other(_))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $lit => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $( $lit => Self::$variant, )+
                    _ => Self::Other(s),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                <String as serde::Deserialize>::deserialize(deserializer).map(Self::from)
            }
        }
    };
}
pub(crate) use open_enum;

/// Deserialises a field that distinguishes "absent" (outer `None`, via `#[serde(default)]`) from
/// "present and `null`" (`Some(None)`).
pub(crate) fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Formats a timestamp for a query string (`2026-03-15T10:00:00Z`).
fn query_time(t: &Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Pushes the `created_at[gt|gte|lt|lte]` keys that are set.
pub(crate) fn push_created_at(query: &mut Vec<(String, String)>, range: &CreatedAtRange) {
    for (key, value) in [
        ("created_at[gt]", &range.gt),
        ("created_at[gte]", &range.gte),
        ("created_at[lt]", &range.lt),
        ("created_at[lte]", &range.lte),
    ] {
        if let Some(t) = value {
            query.push((key.to_owned(), query_time(t)));
        }
    }
}

/// A `created_at[…]` range filter for list endpoints; each bound is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreatedAtRange {
    /// `created_at[gt]`: strictly after.
    pub gt: Option<Timestamp>,
    /// `created_at[gte]`: at or after.
    pub gte: Option<Timestamp>,
    /// `created_at[lt]`: strictly before.
    pub lt: Option<Timestamp>,
    /// `created_at[lte]`: at or before.
    pub lte: Option<Timestamp>,
}

string_id! {
    /// An outcome id (`outc_…`), generated by the server for each `user.define_outcome`.
    OutcomeId;
}

// ---------------------------------------------------------------------------------------------
// Content blocks
// ---------------------------------------------------------------------------------------------

tagged_union! {
    /// A content block in events and event requests (the same shapes both ways).
    ///
    /// Where each may appear: `user.message`: text, image, document, redacted; tool results
    /// (`user.custom_tool_result`, `user.tool_result`, `agent.tool_result`,
    /// `agent.mcp_tool_result`): text, image, document, search_result; `agent.message`: text,
    /// redacted; `agent.thread_message_*`: text, image, document, redacted; `system.message`:
    /// text only.
    pub enum ContentBlock {
        /// `{"type":"text","text":…}`.
        "text" => Text(TextBlock),
        /// An image from base64 data, a URL or a Files API file.
        "image" => Image(ImageBlock),
        /// A document (PDF, plain text, …) from base64 data, text, a URL or a file.
        "document" => Document(DocumentBlock),
        /// A search result (only in tool results).
        "search_result" => SearchResult(SearchResultBlock),
        /// Placeholder for content withheld by Anthropic model policy; no fields.
        "redacted" => Redacted,
    }
}

impl ContentBlock {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(TextBlock { text: text.into() })
    }

    /// The text of a text block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(&t.text),
            _ => None,
        }
    }
}

/// Fields of a `text` content block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextBlock {
    /// The text content.
    pub text: String,
}

/// Fields of an `image` content block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageBlock {
    /// Where the image data comes from.
    pub source: ImageSource,
}

/// Fields of a `document` content block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentBlock {
    /// Where the document data comes from.
    pub source: DocumentSource,
    /// Additional context about the document for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The title of the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Fields of a `search_result` content block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchResultBlock {
    /// Citation settings for this result.
    pub citations: SearchResultCitations,
    /// Text blocks (`{"type":"text","text":…}`) from the result.
    pub content: Vec<ContentBlock>,
    /// The URL the result came from.
    pub source: String,
    /// The title of the result.
    pub title: String,
}

/// Citation settings of a search result block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResultCitations {
    /// Whether citations are enabled for this result.
    pub enabled: bool,
}

tagged_union! {
    /// The `source` of an image block.
    pub enum ImageSource {
        /// Inline base64 data.
        "base64" => Base64(Base64Source),
        /// An image fetched from a URL.
        "url" => Url(UrlSource),
        /// A file uploaded through the Files API.
        "file" => File(FileSource),
    }
}

tagged_union! {
    /// The `source` of a document block.
    pub enum DocumentSource {
        /// Inline base64 data (e.g. `application/pdf`).
        "base64" => Base64(Base64Source),
        /// Inline plain text (`media_type` must be `text/plain`).
        "text" => Text(PlainTextSource),
        /// A document fetched from a URL.
        "url" => Url(UrlSource),
        /// A file uploaded through the Files API.
        "file" => File(FileSource),
    }
}

/// Fields of a `base64` image or document source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Base64Source {
    /// Base64-encoded data.
    pub data: String,
    /// MIME type: `image/png`, `image/jpeg`, `image/gif`, `image/webp` for images;
    /// e.g. `application/pdf` for documents.
    pub media_type: String,
}

/// Fields of a `text` document source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlainTextSource {
    /// The plain text content.
    pub data: String,
    /// Always `text/plain`.
    pub media_type: String,
}

/// Fields of a `url` image or document source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlSource {
    /// URL to fetch.
    pub url: String,
}

/// Fields of a `file` image or document source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSource {
    /// Id of a file uploaded through the Files API.
    pub file_id: FileId,
}

// ---------------------------------------------------------------------------------------------
// Small enums and unions used by events
// ---------------------------------------------------------------------------------------------

open_enum! {
    /// The answer in a `user.tool_confirmation`.
    pub enum ToolConfirmationResult {
        /// Run the tool.
        "allow" => Allow,
        /// Do not run it (an optional `deny_message` is delivered to the agent).
        "deny" => Deny,
    }
}

open_enum! {
    /// The permission the server evaluated for a tool call (`evaluated_permission`).
    pub enum EvaluatedPermission {
        /// Executes without asking.
        "allow" => Allow,
        /// Held for a `user.tool_confirmation`; the session goes idle with `requires_action`.
        "ask" => Ask,
        /// Never executes; a synthetic error tool result is appended.
        "deny" => Deny,
    }
}

tagged_union! {
    /// Which resolved permission policy produced `evaluated_permission` (`evaluation`).
    pub enum ToolEvaluation {
        /// The policy was `always_allow` (accompanies `allow`).
        "always_allow" => AlwaysAllow,
        /// The policy was `always_ask` (accompanies `ask`).
        "always_ask" => AlwaysAsk,
        /// The policy was `auto`: the server judged this invocation individually.
        "auto" => Auto(AutoEvaluation),
    }
}

/// Fields of an `auto` tool evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AutoEvaluation {
    /// The server's judgement for this invocation.
    pub evaluated_permission: AutoEvaluatedPermission,
}

tagged_union! {
    /// The server's per-invocation judgement under an `auto` permission policy.
    pub enum AutoEvaluatedPermission {
        /// Judged safe to execute without approval.
        "allow" => Allow,
        /// No judgement reached; held for client approval.
        "ask" => Ask(PermissionReason),
        /// Judged high-risk (or not held for approval); does not execute.
        "deny" => Deny(PermissionReason),
    }
}

/// Fields of an `ask` / `deny` auto judgement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionReason {
    /// Open set, for branching and audit: currently `indeterminate` (ask, deny) and `high_risk`
    /// (deny).
    pub reason_code: String,
}

tagged_union! {
    /// Why a session or thread went idle (`stop_reason`, reference §12.0).
    pub enum StopReason {
        /// The turn completed (also after an interrupt).
        "end_turn" => EndTurn,
        /// Blocked on tool confirmations / custom tool results; the turn is still open.
        "requires_action" => RequiresAction(RequiresAction),
        /// Repeated errors exhausted the retry budget (or tool-round / compaction limits).
        "retries_exhausted" => RetriesExhausted,
        /// Paused at the session budget; raise or remove the budget to continue.
        "budget_reached" => BudgetReached,
        /// The model's response was refused; see `stop_details`.
        "refusal" => Refusal,
    }
}

impl StopReason {
    /// Whether the turn is still open (`requires_action`). Every other reason, including ones
    /// this crate does not know, ends the turn.
    pub fn is_requires_action(&self) -> bool {
        matches!(self, Self::RequiresAction(_))
    }
}

/// Fields of a `requires_action` stop reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiresAction {
    /// Ids of the events the agent is blocked on; resolving only some re-emits the idle event
    /// with the rest.
    #[serde(default)]
    pub event_ids: Vec<EventId>,
}

tagged_union! {
    /// Structured information about why a session or thread stopped (`stop_details`).
    pub enum StopDetails {
        /// The response was refused.
        "refusal" => Refusal(RefusalStopDetails),
    }
}

/// Fields of `refusal` stop details.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalStopDetails {
    /// Policy category, or `None` when there is no named category.
    #[serde(default)]
    pub category: Option<RefusalCategory>,
    /// Human-readable explanation; the wording changes, do not parse it.
    #[serde(default)]
    pub explanation: Option<String>,
}

open_enum! {
    /// The policy category of a refusal.
    pub enum RefusalCategory {
        /// Cyber.
        "cyber" => Cyber,
        /// Bio.
        "bio" => Bio,
        /// Frontier LLM.
        "frontier_llm" => FrontierLlm,
        /// Reasoning extraction.
        "reasoning_extraction" => ReasoningExtraction,
        /// General harms.
        "general_harms" => GeneralHarms,
    }
}

tagged_union! {
    /// What the client should do after a `session.error` (`retry_status`).
    pub enum RetryStatus {
        /// The server is retrying automatically; wait.
        "retrying" => Retrying,
        /// This turn is dead, queued inputs are flushed, the session returns to idle.
        "exhausted" => Exhausted,
        /// The session will become `terminated`.
        "terminal" => Terminal,
    }
}

tagged_union! {
    /// The `error` object of a `session.error` event (reference §12.1).
    pub enum SessionErrorObject {
        /// Fallback for errors without a type of their own.
        "unknown_error" => UnknownError(ErrorDetails),
        /// The model is overloaded (after automatic retries).
        "model_overloaded_error" => ModelOverloadedError(ErrorDetails),
        /// The model request was rate-limited.
        "model_rate_limited_error" => ModelRateLimitedError(ErrorDetails),
        /// A model request failed for another reason.
        "model_request_failed_error" => ModelRequestFailedError(ErrorDetails),
        /// Could not connect to an MCP server.
        "mcp_connection_failed_error" => McpConnectionFailedError(McpErrorDetails),
        /// An MCP server rejected the credential (or none matched, or refresh failed).
        "mcp_authentication_failed_error" => McpAuthenticationFailedError(McpErrorDetails),
        /// Out of credits or at a spend limit.
        "billing_error" => BillingError(ErrorDetails),
        /// An `environment_variable` credential's allowed host is blocked by the network policy.
        "credential_host_unreachable_error" => CredentialHostUnreachableError(CredentialHostUnreachableDetails),
        /// The tool-use round limit was hit; idle with `retries_exhausted`.
        "tool_use_limit_reached_error" => ToolUseLimitReachedError(ErrorDetails),
        /// Too many consecutive compactions; idle with `retries_exhausted`.
        "compaction_limit_reached_error" => CompactionLimitReachedError(ErrorDetails),
        /// The repository host rejected the credentials.
        "repository_authentication_error" => RepositoryAuthenticationError(RepositoryErrorDetails),
        /// The repository host refused access.
        "repository_forbidden_error" => RepositoryForbiddenError(RepositoryErrorDetails),
        /// The repository was not found.
        "repository_not_found_error" => RepositoryNotFoundError(RepositoryErrorDetails),
        /// The branch or commit does not exist.
        "repository_checkout_error" => RepositoryCheckoutError(RepositoryErrorDetails),
        /// The repository could not be cloned.
        "repository_clone_error" => RepositoryCloneError(RepositoryErrorDetails),
    }
}

impl SessionErrorObject {
    /// The human-readable message (also read from the raw JSON of an unknown error type).
    pub fn message(&self) -> Option<&str> {
        Some(match self {
            Self::UnknownError(e)
            | Self::ModelOverloadedError(e)
            | Self::ModelRateLimitedError(e)
            | Self::ModelRequestFailedError(e)
            | Self::BillingError(e)
            | Self::ToolUseLimitReachedError(e)
            | Self::CompactionLimitReachedError(e) => &e.message,
            Self::McpConnectionFailedError(e) | Self::McpAuthenticationFailedError(e) => &e.message,
            Self::CredentialHostUnreachableError(e) => &e.message,
            Self::RepositoryAuthenticationError(e)
            | Self::RepositoryForbiddenError(e)
            | Self::RepositoryNotFoundError(e)
            | Self::RepositoryCheckoutError(e)
            | Self::RepositoryCloneError(e) => &e.message,
            Self::Other(v) => return v.get("message").and_then(Value::as_str),
        })
    }

    /// What to do next (also read from the raw JSON of an unknown error type, which is how the
    /// API asks clients to handle error types they do not know).
    pub fn retry_status(&self) -> Option<RetryStatus> {
        Some(match self {
            Self::UnknownError(e)
            | Self::ModelOverloadedError(e)
            | Self::ModelRateLimitedError(e)
            | Self::ModelRequestFailedError(e)
            | Self::BillingError(e)
            | Self::ToolUseLimitReachedError(e)
            | Self::CompactionLimitReachedError(e) => e.retry_status.clone(),
            Self::McpConnectionFailedError(e) | Self::McpAuthenticationFailedError(e) => {
                e.retry_status.clone()
            }
            Self::CredentialHostUnreachableError(e) => e.retry_status.clone(),
            Self::RepositoryAuthenticationError(e)
            | Self::RepositoryForbiddenError(e)
            | Self::RepositoryNotFoundError(e)
            | Self::RepositoryCheckoutError(e)
            | Self::RepositoryCloneError(e) => e.retry_status.clone(),
            Self::Other(v) => {
                return v
                    .get("retry_status")
                    .and_then(|r| RetryStatus::deserialize(r).ok());
            }
        })
    }
}

/// Fields of a `session.error` object that carries no extra detail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetails {
    /// Human-readable description.
    pub message: String,
    /// What the client should do next.
    pub retry_status: RetryStatus,
}

/// Fields of an MCP `session.error` object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McpErrorDetails {
    /// Name of the MCP server concerned.
    pub mcp_server_name: String,
    /// Human-readable description.
    pub message: String,
    /// What the client should do next.
    pub retry_status: RetryStatus,
}

/// Fields of a `credential_host_unreachable_error`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CredentialHostUnreachableDetails {
    /// The affected credential.
    pub credential_id: CredentialId,
    /// Human-readable description.
    pub message: String,
    /// What the client should do next.
    pub retry_status: RetryStatus,
    /// The vault holding the credential.
    pub vault_id: VaultId,
}

/// Fields of a `repository_*_error` (always `retrying`: the session continues without the repo).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepositoryErrorDetails {
    /// Human-readable description.
    pub message: String,
    /// URL of the repository, or `None` when it could not be identified.
    #[serde(default)]
    pub repository_url: Option<String>,
    /// What the client should do next.
    pub retry_status: RetryStatus,
}

open_enum! {
    /// Inference speed tier a model request ran at.
    pub enum InferenceSpeed {
        /// Standard speed.
        "standard" => Standard,
        /// Fast mode (premium pricing).
        "fast" => Fast,
    }
}

/// Token usage of one model request (`span.model_request_end`) or one outcome evaluation
/// cycle (`span.outcome_evaluation_end`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanModelUsage {
    /// Tokens used to create prompt cache entries.
    pub cache_creation_input_tokens: u64,
    /// Tokens read from prompt cache.
    pub cache_read_input_tokens: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Speed tier actually used; only present with the fast-mode beta.
    #[serde(default)]
    pub speed: Option<InferenceSpeed>,
}

open_enum! {
    /// Verdict of an outcome evaluation cycle (`span.outcome_evaluation_end.result`).
    pub enum OutcomeVerdict {
        /// Criteria met; the session goes idle.
        "satisfied" => Satisfied,
        /// Criteria not met; another revision cycle follows.
        "needs_revision" => NeedsRevision,
        /// Evaluation budget exhausted; one final acknowledgement turn follows.
        "max_iterations_reached" => MaxIterationsReached,
        /// The rubric does not apply to the deliverables.
        "failed" => Failed,
        /// An interrupt arrived during evaluation.
        "interrupted" => Interrupted,
    }
}

tagged_union! {
    /// How an outcome is graded (`rubric`), in requests and echoes.
    pub enum Rubric {
        /// Inline text or markdown (≤ 262,144 chars).
        "text" => Text(TextRubric),
        /// A file uploaded through the Files API (echoed resolved to text today).
        "file" => File(FileRubric),
    }
}

/// Fields of a `text` rubric.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextRubric {
    /// Rubric content.
    pub content: String,
}

/// Fields of a `file` rubric.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRubric {
    /// The rubric file.
    pub file_id: FileId,
}

/// A phase that a workflow run's plan declares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowRunPhase {
    /// Phase id.
    pub id: String,
    /// Description given by the agent, if any.
    #[serde(default)]
    pub description: Option<String>,
    /// Name given by the agent.
    pub name: String,
}

tagged_union! {
    /// Why a workflow run did not finish or was not created.
    pub enum WorkflowRunError {
        /// The run reached its time limit.
        "timeout_error" => TimeoutError(WorkflowRunErrorDetails),
        /// The plan (a program the agent wrote) failed or was refused.
        "program_error" => ProgramError(WorkflowRunErrorDetails),
        /// A failure with no type of its own.
        "unknown_error" => UnknownError(WorkflowRunErrorDetails),
        /// The run exceeded its thread limit.
        "thread_limit_error" => ThreadLimitError(WorkflowRunErrorDetails),
        /// No run was created: too many open runs (only on `workflow_run.error`).
        "max_workflow_runs_error" => MaxWorkflowRunsError(WorkflowRunErrorDetails),
    }
}

impl WorkflowRunError {
    /// The server's short explanation (also read from an unknown error type's raw JSON).
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::TimeoutError(e)
            | Self::ProgramError(e)
            | Self::UnknownError(e)
            | Self::ThreadLimitError(e)
            | Self::MaxWorkflowRunsError(e) => Some(&e.message),
            Self::Other(v) => v.get("message").and_then(Value::as_str),
        }
    }
}

/// Fields of a workflow run error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowRunErrorDetails {
    /// Short explanation written by the server (never contains run content).
    pub message: String,
}

tagged_union! {
    /// How a workflow run ended (`workflow_run.status_ended.result`).
    pub enum WorkflowRunResult {
        /// The plan finished (which does not say whether the work succeeded).
        "completed" => Completed,
        /// The run failed or reached its time limit.
        "error" => Error(WorkflowRunResultError),
        /// The agent stopped the run.
        "stopped" => Stopped,
    }
}

/// Fields of an `error` workflow run result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRunResultError {
    /// Why the run did not finish.
    pub error: WorkflowRunError,
}

// ---------------------------------------------------------------------------------------------
// Persisted events
// ---------------------------------------------------------------------------------------------

/// Declares an event payload struct with the common `id` and `processed_at` fields.
macro_rules! event_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            /// Unique id of this event (`sevt_…`; may be empty on interrupt echoes).
            pub id: EventId,
            $( $(#[$fmeta])* pub $field: $ty, )*
            /// When the event was processed. `None` on a user/system event still queued behind
            /// earlier ones (the same event is then seen again with a timestamp).
            #[serde(default)]
            pub processed_at: Option<Timestamp>,
        }
    };
}

event_struct! {
    /// `user.message`: a user turn.
    pub struct UserMessageEvent {
        /// Text, image, document or redacted blocks.
        #[serde(default)]
        pub content: Vec<ContentBlock>,
    }
}

event_struct! {
    /// `user.interrupt`: stop mid-execution.
    pub struct UserInterruptEvent {
        /// The one thread interrupted; absent ⇒ every non-archived thread.
        #[serde(default)]
        pub session_thread_id: Option<ThreadId>,
    }
}

event_struct! {
    /// `user.tool_confirmation`: the answer to a tool call whose permission was `ask`.
    pub struct UserToolConfirmationEvent {
        /// The `agent.tool_use` / `agent.mcp_tool_use` event answered.
        pub tool_use_id: EventId,
        /// `allow` or `deny`.
        pub result: ToolConfirmationResult,
        /// Context for a deny.
        #[serde(default)]
        pub deny_message: Option<String>,
        /// Set by the server to the subagent thread it was routed to (absent for the primary).
        #[serde(default)]
        pub session_thread_id: Option<ThreadId>,
    }
}

event_struct! {
    /// `user.custom_tool_result`: the result of a custom tool run by the client.
    pub struct UserCustomToolResultEvent {
        /// The `agent.custom_tool_use` event answered.
        pub custom_tool_use_id: EventId,
        /// Text, image, document or search_result blocks.
        #[serde(default)]
        pub content: Option<Vec<ContentBlock>>,
        /// Whether the tool failed.
        #[serde(default)]
        pub is_error: Option<bool>,
        /// Set by the server to the subagent thread it was routed to (absent for the primary).
        #[serde(default)]
        pub session_thread_id: Option<ThreadId>,
    }
}

event_struct! {
    /// `user.tool_result`: the result of a built-in tool run by the client (self-hosted only).
    pub struct UserToolResultEvent {
        /// The `agent.tool_use` event answered.
        pub tool_use_id: EventId,
        /// Text, image, document or search_result blocks.
        #[serde(default)]
        pub content: Option<Vec<ContentBlock>>,
        /// Whether the tool failed.
        #[serde(default)]
        pub is_error: Option<bool>,
        /// Set by the server to the subagent thread it was routed to (absent for the primary).
        #[serde(default)]
        pub session_thread_id: Option<ThreadId>,
    }
}

event_struct! {
    /// `user.define_outcome` (echo): starts a rubric-graded iterate loop.
    pub struct UserDefineOutcomeEvent {
        /// What the agent should produce.
        pub description: String,
        /// Evaluate-then-revise cycles before giving up (default 3, max 20).
        #[serde(default)]
        pub max_iterations: Option<u32>,
        /// Server-generated id referenced by `span.outcome_evaluation_*` events.
        pub outcome_id: OutcomeId,
        /// How to grade (file rubrics are currently echoed resolved to text).
        pub rubric: Rubric,
    }
}

event_struct! {
    /// `system.message`: system-role content appended for this and later turns.
    pub struct SystemMessageEvent {
        /// Text blocks.
        #[serde(default)]
        pub content: Vec<ContentBlock>,
    }
}

event_struct! {
    /// `agent.message`: buffered assistant text (authoritative over any preview).
    pub struct AgentMessageEvent {
        /// Text or redacted blocks.
        #[serde(default)]
        pub content: Vec<ContentBlock>,
    }
}

impl AgentMessageEvent {
    /// The text blocks joined (redacted blocks skipped).
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(ContentBlock::as_text)
            .collect()
    }
}

event_struct! {
    /// `agent.thinking`: a progress signal; carries no thinking content.
    pub struct AgentThinkingEvent {}
}

event_struct! {
    /// `agent.tool_use`: a built-in toolset call.
    pub struct AgentToolUseEvent {
        /// Tool name (`bash`, `read`, …).
        pub name: String,
        /// Tool input.
        #[serde(default)]
        pub input: Map<String, Value>,
        /// The evaluated permission.
        #[serde(default)]
        pub evaluated_permission: Option<EvaluatedPermission>,
        /// Which policy produced it (absent when refused before any policy applied).
        #[serde(default)]
        pub evaluation: Option<ToolEvaluation>,
        /// Set when cross-posted from a subagent thread (informational; answer by event id).
        #[serde(default)]
        pub session_thread_id: Option<ThreadId>,
    }
}

event_struct! {
    /// `agent.tool_result`: the result of a built-in tool.
    pub struct AgentToolResultEvent {
        /// The `agent.tool_use` event this answers.
        pub tool_use_id: EventId,
        /// Text, image, document or search_result blocks.
        #[serde(default)]
        pub content: Option<Vec<ContentBlock>>,
        /// Whether the tool failed.
        #[serde(default)]
        pub is_error: Option<bool>,
    }
}

event_struct! {
    /// `agent.mcp_tool_use`: a call to a tool of an MCP server.
    pub struct AgentMcpToolUseEvent {
        /// The MCP server.
        pub mcp_server_name: String,
        /// Tool name.
        pub name: String,
        /// Tool input.
        #[serde(default)]
        pub input: Map<String, Value>,
        /// The evaluated permission.
        #[serde(default)]
        pub evaluated_permission: Option<EvaluatedPermission>,
        /// Which policy produced it (absent when refused before any policy applied).
        #[serde(default)]
        pub evaluation: Option<ToolEvaluation>,
        /// Set when cross-posted from a subagent thread (informational; answer by event id).
        #[serde(default)]
        pub session_thread_id: Option<ThreadId>,
    }
}

event_struct! {
    /// `agent.mcp_tool_result`: the result of an MCP tool.
    pub struct AgentMcpToolResultEvent {
        /// The `agent.mcp_tool_use` event this answers.
        pub mcp_tool_use_id: EventId,
        /// Text, image, document or search_result blocks.
        #[serde(default)]
        pub content: Option<Vec<ContentBlock>>,
        /// Whether the tool failed.
        #[serde(default)]
        pub is_error: Option<bool>,
    }
}

event_struct! {
    /// `agent.custom_tool_use`: a call to a custom tool; reply with `user.custom_tool_result`.
    pub struct AgentCustomToolUseEvent {
        /// Tool name.
        pub name: String,
        /// Tool input.
        #[serde(default)]
        pub input: Map<String, Value>,
        /// Set when cross-posted from a subagent thread (informational; answer by event id).
        #[serde(default)]
        pub session_thread_id: Option<ThreadId>,
    }
}

event_struct! {
    /// `agent.thread_message_sent`: an agent-to-agent message was sent.
    pub struct AgentThreadMessageSentEvent {
        /// Text, image, document or redacted blocks.
        #[serde(default)]
        pub content: Vec<ContentBlock>,
        /// The receiving thread.
        pub to_session_thread_id: ThreadId,
        /// The receiving agent; absent ⇒ the primary agent.
        #[serde(default)]
        pub to_agent_name: Option<String>,
    }
}

event_struct! {
    /// `agent.thread_message_received`: an agent-to-agent message arrived.
    pub struct AgentThreadMessageReceivedEvent {
        /// Text, image, document or redacted blocks.
        #[serde(default)]
        pub content: Vec<ContentBlock>,
        /// The sending thread.
        pub from_session_thread_id: ThreadId,
        /// The sending agent; absent ⇒ the primary agent.
        #[serde(default)]
        pub from_agent_name: Option<String>,
    }
}

event_struct! {
    /// `agent.thread_context_compacted`: the context was summarized.
    pub struct AgentThreadContextCompactedEvent {}
}

event_struct! {
    /// `session.error`: a problem during execution; see `error.retry_status`.
    pub struct SessionErrorEvent {
        /// The error.
        pub error: SessionErrorObject,
    }
}

event_struct! {
    /// `session.status_rescheduled`: recovering from a transient error.
    pub struct SessionStatusRescheduledEvent {}
}

event_struct! {
    /// `session.status_running`: the agent is working.
    pub struct SessionStatusRunningEvent {}
}

event_struct! {
    /// `session.status_idle`: waiting for input; `stop_reason` says why.
    pub struct SessionStatusIdleEvent {
        /// Why the session stopped.
        pub stop_reason: StopReason,
        /// More detail (refusals), or `None`.
        #[serde(default)]
        pub stop_details: Option<StopDetails>,
    }
}

impl SessionStatusIdleEvent {
    /// Whether the turn is over: any stop reason except `requires_action` (unknown ones too).
    pub fn turn_ended(&self) -> bool {
        !self.stop_reason.is_requires_action()
    }
}

event_struct! {
    /// `session.status_terminated`: the session ended irreversibly.
    pub struct SessionStatusTerminatedEvent {}
}

event_struct! {
    /// `session.thread_created`: a child thread was created.
    pub struct SessionThreadCreatedEvent {
        /// Name of the agent the thread runs.
        pub agent_name: String,
        /// The new thread.
        pub session_thread_id: ThreadId,
        /// The workflow run that created it, if any.
        #[serde(default)]
        pub workflow_run_id: Option<String>,
    }
}

event_struct! {
    /// `session.thread_status_running`: a thread began executing.
    pub struct SessionThreadStatusRunningEvent {
        /// Name of the agent the thread runs.
        pub agent_name: String,
        /// The thread.
        pub session_thread_id: ThreadId,
    }
}

event_struct! {
    /// `session.thread_status_idle`: a thread yielded.
    pub struct SessionThreadStatusIdleEvent {
        /// Name of the agent the thread runs.
        pub agent_name: String,
        /// The thread.
        pub session_thread_id: ThreadId,
        /// Why the thread stopped.
        pub stop_reason: StopReason,
        /// More detail (refusals), or `None`.
        #[serde(default)]
        pub stop_details: Option<StopDetails>,
    }
}

impl SessionThreadStatusIdleEvent {
    /// Whether the thread's turn is over: any stop reason except `requires_action`.
    pub fn turn_ended(&self) -> bool {
        !self.stop_reason.is_requires_action()
    }
}

event_struct! {
    /// `session.thread_status_rescheduled`: a thread is retrying after a transient error.
    pub struct SessionThreadStatusRescheduledEvent {
        /// Name of the agent the thread runs.
        pub agent_name: String,
        /// The thread.
        pub session_thread_id: ThreadId,
    }
}

event_struct! {
    /// `session.thread_status_terminated`: a thread accepts no further input.
    pub struct SessionThreadStatusTerminatedEvent {
        /// Name of the agent the thread runs.
        pub agent_name: String,
        /// The thread.
        pub session_thread_id: ThreadId,
    }
}

event_struct! {
    /// `session.updated`: a session update changed something; carries only changed fields.
    pub struct SessionUpdatedEvent {
        /// Full agent snapshot, present only when tools / MCP servers changed (boxed: it is
        /// rare and large, and would otherwise size every [`SessionEvent`]).
        #[serde(default)]
        pub agent: Option<Box<SessionAgent>>,
        /// Outer `None`: budget unchanged (field absent); `Some(None)`: budget removed (`null`);
        /// `Some(Some(b))`: new budget.
        #[serde(
            default,
            deserialize_with = "double_option",
            skip_serializing_if = "Option::is_none"
        )]
        pub budget: Option<Option<Budget>>,
        /// Full metadata after the update; absent when unchanged or cleared to empty.
        #[serde(default)]
        pub metadata: Option<Metadata>,
        /// New title, present only when changed.
        #[serde(default)]
        pub title: Option<String>,
    }
}

event_struct! {
    /// `session.usage`: periodic cumulative usage snapshot.
    pub struct SessionUsageEvent {
        /// Cumulative usage.
        pub usage: SessionUsageSnapshot,
        /// The configured budget, or `None` when the session has none.
        #[serde(default)]
        pub budget: Option<Budget>,
    }
}

event_struct! {
    /// `session.deleted`: the session was deleted; no further events follow.
    pub struct SessionDeletedEvent {}
}

event_struct! {
    /// `span.model_request_start`: a model request began.
    pub struct SpanModelRequestStartEvent {}
}

event_struct! {
    /// `span.model_request_end`: a model request completed (closes any open preview).
    pub struct SpanModelRequestEndEvent {
        /// Whether the request failed.
        #[serde(default)]
        pub is_error: Option<bool>,
        /// The matching `span.model_request_start`.
        pub model_request_start_id: EventId,
        /// Token usage of this request.
        pub model_usage: SpanModelUsage,
    }
}

event_struct! {
    /// `span.outcome_evaluation_start`: an evaluation cycle began.
    pub struct SpanOutcomeEvaluationStartEvent {
        /// 0-based revision cycle.
        pub iteration: u32,
        /// The outcome evaluated.
        pub outcome_id: OutcomeId,
    }
}

event_struct! {
    /// `span.outcome_evaluation_ongoing`: heartbeat while grading.
    pub struct SpanOutcomeEvaluationOngoingEvent {
        /// 0-based revision cycle.
        pub iteration: u32,
        /// The outcome evaluated.
        pub outcome_id: OutcomeId,
    }
}

event_struct! {
    /// `span.outcome_evaluation_end`: an evaluation cycle completed with a verdict.
    pub struct SpanOutcomeEvaluationEndEvent {
        /// Explanation of the verdict.
        pub explanation: String,
        /// 0-based revision cycle.
        pub iteration: u32,
        /// The matching `span.outcome_evaluation_start`.
        pub outcome_evaluation_start_id: EventId,
        /// The outcome evaluated.
        pub outcome_id: OutcomeId,
        /// The verdict (`needs_revision` ⇒ another cycle follows; the others are terminal).
        pub result: OutcomeVerdict,
        /// Aggregate grader usage of this cycle.
        pub usage: SpanModelUsage,
    }
}

event_struct! {
    /// `workflow_run.created`: a workflow run was created.
    pub struct WorkflowRunCreatedEvent {
        /// Description given by the agent, if any.
        #[serde(default)]
        pub description: Option<String>,
        /// Name of the run.
        pub name: String,
        /// Declared phases, in plan order (may be empty).
        #[serde(default)]
        pub phases: Vec<WorkflowRunPhase>,
        /// The run.
        pub workflow_run_id: String,
    }
}

event_struct! {
    /// `workflow_run.status_running`: a run started or resumed.
    pub struct WorkflowRunStatusRunningEvent {
        /// The run.
        pub workflow_run_id: String,
    }
}

event_struct! {
    /// `workflow_run.status_idle`: a run went idle.
    pub struct WorkflowRunStatusIdleEvent {
        /// The run.
        pub workflow_run_id: String,
    }
}

event_struct! {
    /// `workflow_run.status_ended`: a run ended (its last event).
    pub struct WorkflowRunStatusEndedEvent {
        /// How it ended.
        pub result: WorkflowRunResult,
        /// The run.
        pub workflow_run_id: String,
    }
}

event_struct! {
    /// `workflow_run.error`: a run met an error, or an error kept a run from being created.
    pub struct WorkflowRunErrorEvent {
        /// The error.
        pub error: WorkflowRunError,
        /// The run, or `None` when no run was created.
        #[serde(default)]
        pub workflow_run_id: Option<String>,
    }
}

event_struct! {
    /// `workflow_run.phase_started`: a run's plan entered a phase.
    pub struct WorkflowRunPhaseStartedEvent {
        /// The run.
        pub workflow_run_id: String,
        /// The phase (as in `workflow_run.created.phases`).
        pub workflow_run_phase_id: String,
    }
}

event_struct! {
    /// `workflow_run.phase_ended`: a run's plan left a phase.
    pub struct WorkflowRunPhaseEndedEvent {
        /// The `workflow_run.phase_started` event that opened the phase.
        pub phase_started_id: EventId,
        /// The run.
        pub workflow_run_id: String,
        /// The phase.
        pub workflow_run_phase_id: String,
    }
}

// ---------------------------------------------------------------------------------------------
// Stream-only preview events
// ---------------------------------------------------------------------------------------------

/// Fields of `event_start`: opens a preview of a buffered event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventStart {
    /// The previewed event's type and id.
    pub event: EventPreview,
}

tagged_union! {
    /// The event an `event_start` previews.
    pub enum EventPreview {
        /// An `agent.message`; `event_delta`s follow.
        "agent.message" => AgentMessage(PreviewRef),
        /// An `agent.thinking`; start-only, no deltas.
        "agent.thinking" => AgentThinking(PreviewRef),
    }
}

/// Fields of a preview reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewRef {
    /// The id the buffered event will carry.
    pub id: EventId,
}

/// Fields of `event_delta`: one fragment of a previewed event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventDelta {
    /// The fragment.
    pub delta: Delta,
    /// The previewed event's id.
    pub event_id: EventId,
}

tagged_union! {
    /// A preview fragment.
    pub enum Delta {
        /// A partial element of the previewed event's `content` array.
        "content_delta" => ContentDelta(ContentDelta),
    }
}

/// Fields of a `content_delta`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContentDelta {
    /// The fragment, typed like the content element (a text block today).
    pub content: ContentBlock,
    /// Which entry of `content` it lands in (new index ⇒ new entry; missing ⇒ 0).
    #[serde(default)]
    pub index: Option<u32>,
}

// ---------------------------------------------------------------------------------------------
// SessionEvent / StreamEvent
// ---------------------------------------------------------------------------------------------

/// Declares [`SessionEvent`] and [`StreamEvent`] from one list of persisted event types.
macro_rules! session_events {
    ($( $(#[$vmeta:meta])* $tag:literal => $variant:ident($inner:ty), )+) => {
        tagged_union! {
            /// A persisted session event, as listed by `GET …/events` and echoed on the stream
            /// (reference §11). Unknown types decode as `Other` with their raw JSON.
            pub enum SessionEvent {
                $( $(#[$vmeta])* $tag => $variant($inner), )+
            }
        }

        tagged_union! {
            /// One decoded SSE frame of an event stream: a persisted event or a stream-only
            /// preview (`event_start`, `event_delta`). Unknown types decode as `Other`.
            pub enum StreamEvent {
                $( $(#[$vmeta])* $tag => $variant($inner), )+
                /// Opens a preview of a buffered event (only with `event_deltas[]`).
                "event_start" => EventStart(EventStart),
                /// A preview fragment (only with `event_deltas[]`).
                "event_delta" => EventDelta(EventDelta),
            }
        }

        impl SessionEvent {
            /// The event id (`None` for an unknown type; see [`SessionEvent::raw_id`]).
            pub fn id(&self) -> Option<&EventId> {
                match self {
                    $( Self::$variant(e) => Some(&e.id), )+
                    Self::Other(_) => None,
                }
            }

            /// The event id as a string, for unknown types too.
            pub fn raw_id(&self) -> Option<&str> {
                match self {
                    Self::Other(v) => v.get("id").and_then(Value::as_str),
                    known => known.id().map(EventId::as_str),
                }
            }

            /// When the event was processed (`None` while a user/system event is queued; for an
            /// unknown type read from its raw `processed_at`).
            pub fn processed_at(&self) -> Option<Timestamp> {
                match self {
                    $( Self::$variant(e) => e.processed_at, )+
                    Self::Other(v) => v
                        .get("processed_at")
                        .and_then(Value::as_str)
                        .and_then(|s| s.parse().ok()),
                }
            }
        }

        impl StreamEvent {
            /// The persisted event, or `None` for `event_start` / `event_delta`. Moves, no copy.
            /// An unknown type becomes [`SessionEvent::Other`].
            pub fn into_session_event(self) -> Option<SessionEvent> {
                match self {
                    $( Self::$variant(e) => Some(SessionEvent::$variant(e)), )+
                    Self::EventStart(_) | Self::EventDelta(_) => None,
                    Self::Other(v) => Some(SessionEvent::Other(v)),
                }
            }
        }

        impl From<SessionEvent> for StreamEvent {
            fn from(event: SessionEvent) -> Self {
                match event {
                    $( SessionEvent::$variant(e) => Self::$variant(e), )+
                    SessionEvent::Other(v) => Self::Other(v),
                }
            }
        }
    };
}

session_events! {
    /// `user.message`.
    "user.message" => UserMessage(UserMessageEvent),
    /// `user.interrupt`.
    "user.interrupt" => UserInterrupt(UserInterruptEvent),
    /// `user.tool_confirmation`.
    "user.tool_confirmation" => UserToolConfirmation(UserToolConfirmationEvent),
    /// `user.custom_tool_result`.
    "user.custom_tool_result" => UserCustomToolResult(UserCustomToolResultEvent),
    /// `user.tool_result`.
    "user.tool_result" => UserToolResult(UserToolResultEvent),
    /// `user.define_outcome`.
    "user.define_outcome" => UserDefineOutcome(UserDefineOutcomeEvent),
    /// `system.message`.
    "system.message" => SystemMessage(SystemMessageEvent),
    /// `agent.message`.
    "agent.message" => AgentMessage(AgentMessageEvent),
    /// `agent.thinking`.
    "agent.thinking" => AgentThinking(AgentThinkingEvent),
    /// `agent.tool_use`.
    "agent.tool_use" => AgentToolUse(AgentToolUseEvent),
    /// `agent.tool_result`.
    "agent.tool_result" => AgentToolResult(AgentToolResultEvent),
    /// `agent.mcp_tool_use`.
    "agent.mcp_tool_use" => AgentMcpToolUse(AgentMcpToolUseEvent),
    /// `agent.mcp_tool_result`.
    "agent.mcp_tool_result" => AgentMcpToolResult(AgentMcpToolResultEvent),
    /// `agent.custom_tool_use`.
    "agent.custom_tool_use" => AgentCustomToolUse(AgentCustomToolUseEvent),
    /// `agent.thread_message_sent`.
    "agent.thread_message_sent" => AgentThreadMessageSent(AgentThreadMessageSentEvent),
    /// `agent.thread_message_received`.
    "agent.thread_message_received" => AgentThreadMessageReceived(AgentThreadMessageReceivedEvent),
    /// `agent.thread_context_compacted`.
    "agent.thread_context_compacted" => AgentThreadContextCompacted(AgentThreadContextCompactedEvent),
    /// `session.error`.
    "session.error" => SessionError(SessionErrorEvent),
    /// `session.status_rescheduled`.
    "session.status_rescheduled" => SessionStatusRescheduled(SessionStatusRescheduledEvent),
    /// `session.status_running`.
    "session.status_running" => SessionStatusRunning(SessionStatusRunningEvent),
    /// `session.status_idle`.
    "session.status_idle" => SessionStatusIdle(SessionStatusIdleEvent),
    /// `session.status_terminated`.
    "session.status_terminated" => SessionStatusTerminated(SessionStatusTerminatedEvent),
    /// `session.thread_created`.
    "session.thread_created" => SessionThreadCreated(SessionThreadCreatedEvent),
    /// `session.thread_status_running`.
    "session.thread_status_running" => SessionThreadStatusRunning(SessionThreadStatusRunningEvent),
    /// `session.thread_status_idle`.
    "session.thread_status_idle" => SessionThreadStatusIdle(SessionThreadStatusIdleEvent),
    /// `session.thread_status_rescheduled`.
    "session.thread_status_rescheduled" => SessionThreadStatusRescheduled(SessionThreadStatusRescheduledEvent),
    /// `session.thread_status_terminated`.
    "session.thread_status_terminated" => SessionThreadStatusTerminated(SessionThreadStatusTerminatedEvent),
    /// `session.updated`.
    "session.updated" => SessionUpdated(SessionUpdatedEvent),
    /// `session.usage`.
    "session.usage" => SessionUsage(SessionUsageEvent),
    /// `session.deleted`.
    "session.deleted" => SessionDeleted(SessionDeletedEvent),
    /// `span.model_request_start`.
    "span.model_request_start" => SpanModelRequestStart(SpanModelRequestStartEvent),
    /// `span.model_request_end`.
    "span.model_request_end" => SpanModelRequestEnd(SpanModelRequestEndEvent),
    /// `span.outcome_evaluation_start`.
    "span.outcome_evaluation_start" => SpanOutcomeEvaluationStart(SpanOutcomeEvaluationStartEvent),
    /// `span.outcome_evaluation_ongoing`.
    "span.outcome_evaluation_ongoing" => SpanOutcomeEvaluationOngoing(SpanOutcomeEvaluationOngoingEvent),
    /// `span.outcome_evaluation_end`.
    "span.outcome_evaluation_end" => SpanOutcomeEvaluationEnd(SpanOutcomeEvaluationEndEvent),
    /// `workflow_run.created`.
    "workflow_run.created" => WorkflowRunCreated(WorkflowRunCreatedEvent),
    /// `workflow_run.status_running`.
    "workflow_run.status_running" => WorkflowRunStatusRunning(WorkflowRunStatusRunningEvent),
    /// `workflow_run.status_idle`.
    "workflow_run.status_idle" => WorkflowRunStatusIdle(WorkflowRunStatusIdleEvent),
    /// `workflow_run.status_ended`.
    "workflow_run.status_ended" => WorkflowRunStatusEnded(WorkflowRunStatusEndedEvent),
    /// `workflow_run.error`.
    "workflow_run.error" => WorkflowRunError(WorkflowRunErrorEvent),
    /// `workflow_run.phase_started`.
    "workflow_run.phase_started" => WorkflowRunPhaseStarted(WorkflowRunPhaseStartedEvent),
    /// `workflow_run.phase_ended`.
    "workflow_run.phase_ended" => WorkflowRunPhaseEnded(WorkflowRunPhaseEndedEvent),
}

impl SessionEvent {
    /// Whether nothing more will happen on this session: `session.status_terminated` or
    /// `session.deleted`. Close the stream on these.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::SessionStatusTerminated(_) | Self::SessionDeleted(_)
        )
    }
}

impl StreamEvent {
    /// The persisted event behind this frame, cloned (`None` for `event_start` /
    /// `event_delta`). Prefer [`StreamEvent::into_session_event`], which moves.
    pub fn as_session_event(&self) -> Option<SessionEvent> {
        self.clone().into_session_event()
    }

    /// Whether this is a stream-only preview frame (`event_start` / `event_delta`).
    pub fn is_preview(&self) -> bool {
        matches!(self, Self::EventStart(_) | Self::EventDelta(_))
    }
}

// ---------------------------------------------------------------------------------------------
// Send events
// ---------------------------------------------------------------------------------------------

tagged_union! {
    /// One event of a send-events request (`POST /v1/sessions/{id}/events`, reference §10.1).
    pub enum EventParam {
        /// Start or continue work (queued).
        "user.message" => UserMessage(UserMessageParam),
        /// Stop mid-execution (jumps the queue).
        "user.interrupt" => UserInterrupt(UserInterruptParam),
        /// Answer a tool call whose permission was `ask`.
        "user.tool_confirmation" => UserToolConfirmation(UserToolConfirmationParam),
        /// Result of a custom tool.
        "user.custom_tool_result" => UserCustomToolResult(UserCustomToolResultParam),
        /// Result of a built-in tool executed by the client (self-hosted environments only).
        "user.tool_result" => UserToolResult(UserToolResultParam),
        /// Start a rubric-graded iterate loop (instead of a kickoff `user.message`).
        "user.define_outcome" => UserDefineOutcome(UserDefineOutcomeParam),
        /// System-role content; at most one per request, last, right after the event it
        /// accompanies; model-gated.
        "system.message" => SystemMessage(SystemMessageParam),
    }
}

impl EventParam {
    /// A `user.message` with one text block.
    pub fn user_message(text: impl Into<String>) -> Self {
        Self::user_message_blocks(vec![ContentBlock::text(text)])
    }

    /// A `user.message` with the given blocks (text, image, document, redacted).
    pub fn user_message_blocks(content: Vec<ContentBlock>) -> Self {
        Self::UserMessage(UserMessageParam { content })
    }

    /// A `user.interrupt` of every non-archived thread.
    pub fn interrupt() -> Self {
        Self::UserInterrupt(UserInterruptParam::default())
    }

    /// A `user.interrupt` of one thread.
    pub fn interrupt_thread(session_thread_id: impl Into<ThreadId>) -> Self {
        Self::UserInterrupt(UserInterruptParam {
            session_thread_id: Some(session_thread_id.into()),
        })
    }

    /// A `user.tool_confirmation`; `deny_message` is only allowed with
    /// [`ToolConfirmationResult::Deny`].
    pub fn tool_confirmation(
        tool_use_id: impl Into<EventId>,
        result: ToolConfirmationResult,
        deny_message: Option<String>,
    ) -> Self {
        Self::UserToolConfirmation(UserToolConfirmationParam {
            tool_use_id: tool_use_id.into(),
            result,
            deny_message,
        })
    }

    /// A `user.custom_tool_result` with one text block.
    pub fn custom_tool_result(
        custom_tool_use_id: impl Into<EventId>,
        text: impl Into<String>,
        is_error: bool,
    ) -> Self {
        Self::UserCustomToolResult(UserCustomToolResultParam {
            custom_tool_use_id: custom_tool_use_id.into(),
            content: Some(vec![ContentBlock::text(text)]),
            is_error: Some(is_error),
        })
    }

    /// A `user.tool_result` with one text block (self-hosted environments only).
    pub fn tool_result(
        tool_use_id: impl Into<EventId>,
        text: impl Into<String>,
        is_error: bool,
    ) -> Self {
        Self::UserToolResult(UserToolResultParam {
            tool_use_id: tool_use_id.into(),
            content: Some(vec![ContentBlock::text(text)]),
            is_error: Some(is_error),
        })
    }

    /// A `user.define_outcome` with the default iteration limit.
    pub fn define_outcome(description: impl Into<String>, rubric: Rubric) -> Self {
        Self::UserDefineOutcome(UserDefineOutcomeParam {
            description: description.into(),
            rubric,
            max_iterations: None,
        })
    }

    /// A `system.message` with one text block.
    pub fn system_message(text: impl Into<String>) -> Self {
        Self::SystemMessage(SystemMessageParam {
            content: vec![ContentBlock::text(text)],
        })
    }
}

/// Fields of a `user.message` request event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserMessageParam {
    /// Text, image, document or redacted blocks.
    pub content: Vec<ContentBlock>,
}

/// Fields of a `user.interrupt` request event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInterruptParam {
    /// Interrupt only this thread; `None` interrupts every non-archived thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_thread_id: Option<ThreadId>,
}

/// Fields of a `user.tool_confirmation` request event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserToolConfirmationParam {
    /// The id of the `agent.tool_use` / `agent.mcp_tool_use` event answered.
    pub tool_use_id: EventId,
    /// `allow` or `deny`.
    pub result: ToolConfirmationResult,
    /// Context for a deny, delivered to the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny_message: Option<String>,
}

/// Fields of a `user.custom_tool_result` request event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserCustomToolResultParam {
    /// The id of the `agent.custom_tool_use` event answered.
    pub custom_tool_use_id: EventId,
    /// Text, image, document or search_result blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<ContentBlock>>,
    /// Whether the tool failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
}

/// Fields of a `user.tool_result` request event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserToolResultParam {
    /// The id of the `agent.tool_use` event answered.
    pub tool_use_id: EventId,
    /// Text, image, document or search_result blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<ContentBlock>>,
    /// Whether the tool failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
}

/// Fields of a `user.define_outcome` request event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserDefineOutcomeParam {
    /// What the agent should produce.
    pub description: String,
    /// How to grade it.
    pub rubric: Rubric,
    /// Evaluate-then-revise cycles (default 3, max 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_iterations: Option<u32>,
}

/// Fields of a `system.message` request event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SystemMessageParam {
    /// Text blocks (1–1000).
    pub content: Vec<ContentBlock>,
}

/// Body of `POST /v1/sessions/{id}/events`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SendEvents {
    /// The events, processed in order.
    pub events: Vec<EventParam>,
}

impl SendEvents {
    /// A body with the given events.
    pub fn new(events: Vec<EventParam>) -> Self {
        Self { events }
    }
}

impl From<EventParam> for SendEvents {
    fn from(event: EventParam) -> Self {
        Self {
            events: vec![event],
        }
    }
}

/// Response of `POST /v1/sessions/{id}/events`: the echoed events with server ids. A server
/// answering with an empty body maps to an empty `data`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SendEventsResponse {
    /// The sent events as stored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<SessionEvent>,
}

// ---------------------------------------------------------------------------------------------
// List / stream parameters
// ---------------------------------------------------------------------------------------------

/// Query of `GET /v1/sessions/{id}/events` (the pagination layer adds `page`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListEvents {
    /// Page size.
    pub limit: Option<u32>,
    /// By `processed_at`; server default `asc`.
    pub order: Option<Order>,
    /// Only these event types (`types[]`); see [`SessionEvent::KNOWN_TYPES`].
    pub types: Vec<String>,
    /// Filter on `processed_at`.
    pub created_at: CreatedAtRange,
}

impl ListEvents {
    /// The query pairs, with `types[]` repeated and `created_at[…]` bracket keys.
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut query = Vec::new();
        if let Some(limit) = self.limit {
            query.push(("limit".to_owned(), limit.to_string()));
        }
        if let Some(order) = self.order {
            query.push(("order".to_owned(), order.as_str().to_owned()));
        }
        for t in &self.types {
            query.push(("types[]".to_owned(), t.clone()));
        }
        push_created_at(&mut query, &self.created_at);
        query
    }
}

open_enum! {
    /// An event type that can be previewed on a stream (`event_deltas[]`).
    pub enum DeltaType {
        /// `agent.message`: `content_delta` fragments.
        "agent.message" => AgentMessage,
        /// `agent.thinking`: start-only.
        "agent.thinking" => AgentThinking,
    }
}

/// Query of the session / thread event streams.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamParams {
    /// Previews to receive (`event_deltas[]`); empty ⇒ none.
    pub event_deltas: Vec<DeltaType>,
}

impl StreamParams {
    /// Previews of `agent.message` and `agent.thinking`.
    pub fn with_previews() -> Self {
        Self {
            event_deltas: vec![DeltaType::AgentMessage, DeltaType::AgentThinking],
        }
    }

    /// The query pairs (`event_deltas[]` repeated).
    pub fn to_query(&self) -> Vec<(String, String)> {
        self.event_deltas
            .iter()
            .map(|d| ("event_deltas[]".to_owned(), d.as_str().to_owned()))
            .collect()
    }
}
