//! Sessions, session resources and threads (reference `sessions.md` §1–§9, §13).
//!
//! Field names, optionality and enum values follow the Python SDK `anthropic` 2.10.0
//! (`BetaManagedAgentsSession`, `session_create_params`, `session_update_params`, …). Events are
//! in [`super::events`].

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};

use super::agents::{
    AgentSkill, ExecutionIdentity, McpServer, ModelConfig, ModelParam, SkillParams, Tool, ToolParam,
};
use super::common::{
    AgentId, EnvironmentId, FileId, Metadata, MetadataPatch, ModelId, Money, Order, ResourceId,
    SessionId, ThreadId, Timestamp, VaultId,
};
use super::events::{CreatedAtRange, EventParam, OutcomeId, push_created_at};
use super::macros::{open_enum, string_id, tagged_union};

string_id! {
    /// A memory store id (`memstore_…`).
    MemoryStoreId;
}

// ---------------------------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------------------------

open_enum! {
    /// Status of a session or a session thread (reference §2).
    pub enum SessionStatus {
        /// A transient error occurred; retrying automatically.
        "rescheduling" => Rescheduling,
        /// The agent is executing.
        "running" => Running,
        /// Waiting for input (the last `session.status_idle` says why).
        "idle" => Idle,
        /// Ended irreversibly (unrecoverable error, or archived).
        "terminated" => Terminated,
    }
}

/// Status of a session thread: the same values as [`SessionStatus`].
pub type SessionThreadStatus = SessionStatus;

/// A Managed Agents session (`GET /v1/sessions/{id}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// `sesn_…`.
    pub id: SessionId,
    /// Always `session`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Current status.
    pub status: SessionStatus,
    /// Human-readable title.
    #[serde(default)]
    pub title: Option<String>,
    /// The environment the session runs in.
    pub environment_id: EnvironmentId,
    /// Snapshot of the agent at creation (plus session-local updates).
    pub agent: SessionAgent,
    /// Mounted resources.
    #[serde(default)]
    pub resources: Vec<SessionResource>,
    /// Vaults attached at creation (empty if none).
    #[serde(default)]
    pub vault_ids: Vec<VaultId>,
    /// Metadata.
    #[serde(default)]
    pub metadata: Metadata,
    /// Enforced spend ceiling, or `None`.
    #[serde(default)]
    pub budget: Option<Budget>,
    /// One entry per `user.define_outcome` sent.
    #[serde(default)]
    pub outcome_evaluations: Vec<OutcomeEvaluation>,
    /// Timing statistics.
    #[serde(default)]
    pub stats: SessionStats,
    /// Cumulative usage.
    #[serde(default)]
    pub usage: SessionUsage,
    /// Set when created by a scheduled deployment.
    #[serde(default)]
    pub deployment_id: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
    /// When archived, or `None`.
    #[serde(default)]
    pub archived_at: Option<Timestamp>,
}

/// The agent snapshot on a session (`BetaManagedAgentsSessionAgent`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionAgent {
    /// `agent_…`.
    pub id: AgentId,
    /// Always `agent`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Pinned agent version.
    pub version: u64,
    /// Agent name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Model and its configuration.
    pub model: ModelConfig,
    /// System prompt.
    #[serde(default)]
    pub system: Option<String>,
    /// Tools.
    #[serde(default)]
    pub tools: Vec<Tool>,
    /// MCP servers.
    #[serde(default)]
    pub mcp_servers: Vec<McpServer>,
    /// Skills.
    #[serde(default)]
    pub skills: Vec<AgentSkill>,
    /// Execution principal (`service_account` when none is named).
    pub execution_identity: ExecutionIdentity,
    /// Multiagent configuration with the roster expanded to full agent definitions, or `None`
    /// for a single-threaded agent. (Not [`super::agents::Multiagent`]: the agent resource's
    /// roster holds references, the session's holds snapshots.)
    #[serde(default)]
    pub multiagent: Option<SessionMultiagent>,
}

/// A resolved agent definition of one thread or roster entry (`BetaManagedAgentsSessionThreadAgent`):
/// [`SessionAgent`] without the roster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionThreadAgent {
    /// `agent_…`.
    pub id: AgentId,
    /// Always `agent` (kept so plain lists such as `predefined_agents` re-encode it).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Agent version.
    pub version: u64,
    /// Agent name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Model and its configuration.
    pub model: ModelConfig,
    /// System prompt.
    #[serde(default)]
    pub system: Option<String>,
    /// Tools.
    #[serde(default)]
    pub tools: Vec<Tool>,
    /// MCP servers.
    #[serde(default)]
    pub mcp_servers: Vec<McpServer>,
    /// Skills.
    #[serde(default)]
    pub skills: Vec<AgentSkill>,
    /// Execution principal.
    pub execution_identity: ExecutionIdentity,
}

/// An agent defined inline (no id / version), in a workflow plan or when a thread is spawned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InlineAgent {
    /// Name given by the definition, or assigned by the server.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Model and its configuration.
    pub model: ModelConfig,
    /// System prompt.
    #[serde(default)]
    pub system: Option<String>,
    /// Tools.
    #[serde(default)]
    pub tools: Vec<Tool>,
    /// MCP servers.
    #[serde(default)]
    pub mcp_servers: Vec<McpServer>,
    /// Skills.
    #[serde(default)]
    pub skills: Vec<AgentSkill>,
    /// Execution principal.
    pub execution_identity: ExecutionIdentity,
}

/// Fields of an `advisor` roster entry or thread agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisorAgent {
    /// The advisor model.
    pub model: ModelId,
}

tagged_union! {
    /// The multiagent configuration copied to a session, roster expanded.
    pub enum SessionMultiagent {
        /// A coordinator with a roster of callable agents.
        "coordinator" => Coordinator(SessionCoordinator),
        /// The three-member configuration (advisor, subagents, workflows).
        "multiagent_20261001" => Multiagent20261001(SessionMultiagent20261001),
    }
}

/// Fields of a `coordinator` session multiagent configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionCoordinator {
    /// Full definitions of the agents the coordinator may spawn.
    #[serde(default)]
    pub agents: Vec<SessionRosterAgent>,
}

tagged_union! {
    /// A coordinator roster entry on a session.
    // A roster holds a handful of entries, almost all `agent`s: boxing would buy nothing.
    #[allow(clippy::large_enum_variant)]
    pub enum SessionRosterAgent {
        /// A saved agent.
        "agent" => Agent(SessionThreadAgent),
        /// The platform advisor.
        "advisor" => Advisor(AdvisorAgent),
    }
}

/// Fields of a `multiagent_20261001` session multiagent configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionMultiagent20261001 {
    /// Whether the primary thread can consult an advisor model.
    pub advisor: AdvisorSetting,
    /// Whether the agent can spawn session threads.
    pub subagents: SessionRosterSetting,
    /// Whether the agent can start workflow runs.
    pub workflows: SessionRosterSetting,
}

tagged_union! {
    /// The `advisor` member of a `multiagent_20261001` configuration.
    pub enum AdvisorSetting {
        /// The primary thread can consult `model`.
        "enabled" => Enabled(AdvisorAgent),
        /// No advisor.
        "disabled" => Disabled,
    }
}

tagged_union! {
    /// The `subagents` / `workflows` member of a session's `multiagent_20261001` configuration.
    pub enum SessionRosterSetting {
        /// Enabled, with the predefined agents expanded.
        "enabled" => Enabled(SessionRoster),
        /// Disabled.
        "disabled" => Disabled,
    }
}

/// Fields of an enabled `subagents` / `workflows` member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRoster {
    /// Whether inline (unsaved) agents may be defined.
    pub inline_agents: InlineAgentsSetting,
    /// Full definitions of the saved agents that can be used.
    #[serde(default)]
    pub predefined_agents: Vec<SessionThreadAgent>,
}

tagged_union! {
    /// Whether inline agents may be defined.
    pub enum InlineAgentsSetting {
        /// They may.
        "enabled" => Enabled,
        /// They may not.
        "disabled" => Disabled,
    }
}

tagged_union! {
    /// A spend ceiling (`budget`), in responses and requests.
    pub enum Budget {
        /// A hard cap on tracked list cost.
        "limit" => Limit(BudgetLimit),
    }
}

impl Budget {
    /// A `limit` budget.
    pub fn limit(max_list_cost: Money) -> Self {
        Self::Limit(BudgetLimit { max_list_cost })
    }

    /// The cap of a `limit` budget.
    pub fn max_list_cost(&self) -> Option<&Money> {
        match self {
            Self::Limit(l) => Some(&l.max_list_cost),
            Self::Other(_) => None,
        }
    }
}

/// Fields of a `limit` budget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetLimit {
    /// Maximum list cost the session may accrue (list price, before discounts).
    pub max_list_cost: Money,
}

/// Timing statistics of a session.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionStats {
    /// Seconds spent `running` (summed per thread).
    #[serde(default)]
    pub active_seconds: Option<f64>,
    /// Seconds since creation (frozen when terminated).
    #[serde(default)]
    pub duration_seconds: Option<f64>,
}

/// Timing statistics of a session thread.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionThreadStats {
    /// Seconds spent running.
    #[serde(default)]
    pub active_seconds: Option<f64>,
    /// Seconds since creation (frozen when archived).
    #[serde(default)]
    pub duration_seconds: Option<f64>,
    /// Seconds until the thread began running (0 for child threads).
    #[serde(default)]
    pub startup_seconds: Option<f64>,
}

/// Cumulative usage of a session (also the `session.usage` snapshot and a thread's usage, which
/// have the same fields). Every field may be absent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionUsage {
    /// Seconds with at least one thread running (overlap counted once); runtime is priced on it.
    #[serde(default)]
    pub active_seconds: Option<f64>,
    /// Prompt-cache creation tokens by cache lifetime.
    #[serde(default)]
    pub cache_creation: Option<CacheCreationUsage>,
    /// Tokens read from prompt cache.
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
    /// Input tokens.
    #[serde(default)]
    pub input_tokens: Option<u64>,
    /// List cost, rounded to the cent; absent until cost tracking is available.
    #[serde(default)]
    pub list_cost: Option<Money>,
    /// Output tokens.
    #[serde(default)]
    pub output_tokens: Option<u64>,
    /// Server-executed tool counts.
    #[serde(default)]
    pub server_tool_use: Option<ServerToolUsage>,
}

/// The `usage` of a `session.usage` event.
pub type SessionUsageSnapshot = SessionUsage;

/// The `usage` of a session thread (per-thread costs do not sum to the session's).
pub type SessionThreadUsage = SessionUsage;

/// Prompt-cache creation tokens by cache lifetime.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheCreationUsage {
    /// Tokens for 1-hour entries.
    #[serde(default)]
    pub ephemeral_1h_input_tokens: Option<u64>,
    /// Tokens for 5-minute entries.
    #[serde(default)]
    pub ephemeral_5m_input_tokens: Option<u64>,
}

/// Counts of server-executed tool invocations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerToolUsage {
    /// Web fetches (not metered today).
    #[serde(default)]
    pub web_fetch_requests: Option<u64>,
    /// Web searches.
    #[serde(default)]
    pub web_search_requests: Option<u64>,
}

open_enum! {
    /// State of an outcome (`OutcomeEvaluation.result`).
    pub enum OutcomeResult {
        /// Before the agent begins work.
        "pending" => Pending,
        /// Producing or revising.
        "running" => Running,
        /// The grader is scoring.
        "evaluating" => Evaluating,
        /// Terminal: criteria met.
        "satisfied" => Satisfied,
        /// Terminal: iterations exhausted.
        "max_iterations_reached" => MaxIterationsReached,
        /// Terminal: the rubric does not apply.
        "failed" => Failed,
        /// Terminal: interrupted.
        "interrupted" => Interrupted,
    }
}

/// Evaluation state of one outcome defined by `user.define_outcome`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutcomeEvaluation {
    /// Always `outcome_evaluation`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `outc_…`.
    pub outcome_id: OutcomeId,
    /// What the agent should produce.
    pub description: String,
    /// 0-based revision cycle.
    pub iteration: u32,
    /// Current state.
    pub result: OutcomeResult,
    /// The grader's latest verdict text.
    #[serde(default)]
    pub explanation: Option<String>,
    /// When a terminal result was reached.
    #[serde(default)]
    pub completed_at: Option<Timestamp>,
}

// ---------------------------------------------------------------------------------------------
// Session resources
// ---------------------------------------------------------------------------------------------

tagged_union! {
    /// Where to check out a repository, in requests and responses.
    pub enum Checkout {
        /// A branch.
        "branch" => Branch(BranchCheckout),
        /// A commit (full SHA).
        "commit" => Commit(CommitCheckout),
    }
}

impl Checkout {
    /// A branch checkout.
    pub fn branch(name: impl Into<String>) -> Self {
        Self::Branch(BranchCheckout { name: name.into() })
    }

    /// A commit checkout (full SHA).
    pub fn commit(sha: impl Into<String>) -> Self {
        Self::Commit(CommitCheckout { sha: sha.into() })
    }
}

/// Fields of a `branch` checkout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchCheckout {
    /// Branch name.
    pub name: String,
}

/// Fields of a `commit` checkout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitCheckout {
    /// Full commit SHA.
    pub sha: String,
}

open_enum! {
    /// Access mode of a mounted memory store.
    pub enum MemoryStoreAccess {
        /// Read and write (the default).
        "read_write" => ReadWrite,
        /// Read-only filesystem.
        "read_only" => ReadOnly,
    }
}

tagged_union! {
    /// A resource mounted in a session (response).
    pub enum SessionResource {
        /// A GitHub repository (the token is never returned).
        "github_repository" => GithubRepository(GithubRepositoryResource),
        /// A Files API file.
        "file" => File(FileResource),
        /// A memory store.
        "memory_store" => MemoryStore(MemoryStoreResource),
    }
}

/// Fields of a `github_repository` session resource.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GithubRepositoryResource {
    /// `sesrsc_…`.
    pub id: ResourceId,
    /// Repository URL.
    pub url: String,
    /// Where it is mounted.
    pub mount_path: String,
    /// What is checked out (`None` ⇒ default branch).
    #[serde(default)]
    pub checkout: Option<Checkout>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

/// Fields of a `file` session resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileResource {
    /// `sesrsc_…`.
    pub id: ResourceId,
    /// The session's copy of the file.
    pub file_id: FileId,
    /// Where it is mounted (server-defined; read it from here).
    pub mount_path: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

/// Fields of a `memory_store` session resource (the SDK type has no id or timestamps).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryStoreResource {
    /// `memstore_…`.
    pub memory_store_id: MemoryStoreId,
    /// Access mode (`None` ⇒ read_write).
    #[serde(default)]
    pub access: Option<MemoryStoreAccess>,
    /// Store description snapshotted at attach time (may be empty).
    #[serde(default)]
    pub description: Option<String>,
    /// Per-attachment guidance for the agent.
    #[serde(default)]
    pub instructions: Option<String>,
    /// Where it is mounted, e.g. `/mnt/memory/user-preferences`.
    #[serde(default)]
    pub mount_path: Option<String>,
    /// Store name snapshotted at attach time.
    #[serde(default)]
    pub name: Option<String>,
}

tagged_union! {
    /// A resource to mount at session creation (request; reference §4.2).
    pub enum ResourceParam {
        /// A GitHub repository.
        "github_repository" => GithubRepository(GithubRepositoryResourceParam),
        /// A Files API file.
        "file" => File(FileResourceParam),
        /// A memory store (create-time only).
        "memory_store" => MemoryStore(MemoryStoreResourceParam),
    }
}

impl ResourceParam {
    /// A public GitHub repository on its default branch (see [`GithubRepositoryResourceParam`]
    /// for a token, checkout or mount path).
    pub fn github_repository(url: impl Into<String>) -> Self {
        GithubRepositoryResourceParam::new(url).into()
    }

    /// A file at its default mount path.
    pub fn file(file_id: impl Into<FileId>) -> Self {
        Self::File(FileResourceParam {
            file_id: file_id.into(),
            mount_path: None,
        })
    }

    /// A memory store with default access.
    pub fn memory_store(memory_store_id: impl Into<MemoryStoreId>) -> Self {
        Self::MemoryStore(MemoryStoreResourceParam {
            memory_store_id: memory_store_id.into(),
            access: None,
            instructions: None,
        })
    }
}

/// Fields of a `github_repository` resource request. The token is write-only: it is never
/// returned and never appears in `Debug` output.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GithubRepositoryResourceParam {
    /// `https://github.com/<owner>/<repo>` (no `.git`).
    pub url: String,
    /// Token used to clone (and push); required for private repositories.
    #[serde(
        default,
        deserialize_with = "secret_opt",
        serialize_with = "super::common::expose_secret_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub authorization_token: Option<SecretString>,
    /// What to check out (default branch when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout: Option<Checkout>,
    /// Mount path (default `/workspace/<repo-name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,
}

impl GithubRepositoryResourceParam {
    /// A repository on its default branch, without a token (public repositories).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            authorization_token: None,
            checkout: None,
            mount_path: None,
        }
    }

    /// Sets the token.
    pub fn token(mut self, token: SecretString) -> Self {
        self.authorization_token = Some(token);
        self
    }

    /// Sets the checkout.
    pub fn checkout(mut self, checkout: Checkout) -> Self {
        self.checkout = Some(checkout);
        self
    }

    /// Sets the mount path.
    pub fn mount_path(mut self, mount_path: impl Into<String>) -> Self {
        self.mount_path = Some(mount_path.into());
        self
    }
}

impl From<GithubRepositoryResourceParam> for ResourceParam {
    fn from(param: GithubRepositoryResourceParam) -> Self {
        Self::GithubRepository(param)
    }
}

/// Compares every field; the tokens are compared by value (`SecretString` has no `PartialEq`).
impl PartialEq for GithubRepositoryResourceParam {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url
            && self.checkout == other.checkout
            && self.mount_path == other.mount_path
            && self.authorization_token.as_ref().map(|s| s.expose_secret())
                == other
                    .authorization_token
                    .as_ref()
                    .map(|s| s.expose_secret())
    }
}

fn secret_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SecretString>, D::Error> {
    Option::<String>::deserialize(deserializer).map(|s| s.map(SecretString::from))
}

/// Fields of a `file` resource request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileResourceParam {
    /// A Files API file (1–128 chars).
    pub file_id: FileId,
    /// Mount path (default `/mnt/session/uploads/<file_id>`; the effective path is server-defined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,
}

/// Fields of a `memory_store` resource request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryStoreResourceParam {
    /// `memstore_…` in the same organization and workspace.
    pub memory_store_id: MemoryStoreId,
    /// Access mode (default read_write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<MemoryStoreAccess>,
    /// Guidance rendered into the system prompt's memory section (≤ 4096 chars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}

/// Body of `POST /v1/sessions/{id}/resources`: mount a file into a live session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename = "file")]
pub struct AddFileResource {
    /// A Files API file.
    pub file_id: FileId,
    /// Mount path (default `/mnt/session/uploads/<file_id>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,
}

impl AddFileResource {
    /// Mount `file_id` at its default path.
    pub fn new(file_id: impl Into<FileId>) -> Self {
        Self {
            file_id: file_id.into(),
            mount_path: None,
        }
    }
}

/// Body of `POST /v1/sessions/{id}/resources/{resource_id}`: rotate a `github_repository`
/// token. The token never appears in `Debug` output.
#[derive(Clone, Debug, Serialize)]
pub struct RotateResourceToken {
    /// The new token.
    #[serde(serialize_with = "super::common::expose_secret")]
    pub authorization_token: SecretString,
}

impl RotateResourceToken {
    /// A body carrying `token`.
    pub fn new(token: SecretString) -> Self {
        Self {
            authorization_token: token,
        }
    }
}

/// Query of `GET /v1/sessions/{id}/resources` (the pagination layer adds `page`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListResources {
    /// Page size (≤ 1000); `None` returns all resources.
    pub limit: Option<u32>,
}

impl ListResources {
    /// The query pairs.
    pub fn to_query(&self) -> Vec<(String, String)> {
        self.limit
            .map(|l| ("limit".to_owned(), l.to_string()))
            .into_iter()
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Create / update / list sessions
// ---------------------------------------------------------------------------------------------

/// The `agent` of a session create: an id string, a reference, or a reference with overrides.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum SessionAgentParam {
    /// `"agent_…"`: the latest version at creation (pinned for the session's life).
    Id(AgentId),
    /// `{"type":"agent","id":…,"version":…}`.
    Ref(AgentRef),
    /// `{"type":"agent_with_overrides",…}`: session-local overrides.
    WithOverrides(AgentWithOverrides),
}

impl From<AgentId> for SessionAgentParam {
    fn from(id: AgentId) -> Self {
        Self::Id(id)
    }
}

impl From<&str> for SessionAgentParam {
    fn from(id: &str) -> Self {
        Self::Id(id.into())
    }
}

impl From<String> for SessionAgentParam {
    fn from(id: String) -> Self {
        Self::Id(id.into())
    }
}

impl From<AgentRef> for SessionAgentParam {
    fn from(r: AgentRef) -> Self {
        Self::Ref(r)
    }
}

impl From<AgentWithOverrides> for SessionAgentParam {
    fn from(o: AgentWithOverrides) -> Self {
        Self::WithOverrides(o)
    }
}

/// `{"type":"agent","id":…,"version":…}`: an agent, optionally pinned to a version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename = "agent")]
pub struct AgentRef {
    /// `agent_…`.
    pub id: AgentId,
    /// Version (≥ 1); `None` ⇒ latest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

impl AgentRef {
    /// A reference to a specific version.
    pub fn new(id: impl Into<AgentId>, version: u64) -> Self {
        Self {
            id: id.into(),
            version: Some(version),
        }
    }
}

/// `{"type":"agent_with_overrides",…}`: an agent plus session-local overrides (the agent resource
/// is unchanged). Each `Some` field replaces the agent's value; `None` preserves it.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename = "agent_with_overrides")]
pub struct AgentWithOverrides {
    /// `agent_…`.
    pub id: AgentId,
    /// Version; `None` ⇒ latest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// Replacement model (an `effort` inside is ignored; omitting `inference_geo` clears it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelParam>,
    /// Replacement system prompt: `Some(None)` sends `null` (clears), `None` omits (preserves).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<Option<String>>,
    /// Replacement tools (`Some(vec![])` clears).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ToolParam>>,
    /// Replacement MCP servers (`Some(vec![])` clears).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_servers: Option<Vec<McpServer>>,
    /// Replacement skills (`Some(vec![])` clears).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skills: Option<Vec<SkillParams>>,
}

impl AgentWithOverrides {
    /// No overrides yet, latest version.
    pub fn new(id: impl Into<AgentId>) -> Self {
        Self {
            id: id.into(),
            version: None,
            model: None,
            system: None,
            tools: None,
            mcp_servers: None,
            skills: None,
        }
    }
}

/// Body of `POST /v1/sessions` (reference §4). Empty lists and maps are omitted.
#[derive(Clone, Debug, Serialize)]
pub struct SessionCreate {
    /// The agent to run.
    pub agent: SessionAgentParam,
    /// The environment (must not be archived).
    pub environment_id: EnvironmentId,
    /// Human-readable title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Resources to mount (creation blocks until all are mounted).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceParam>,
    /// Vaults whose credentials the session may use, in match priority (create-only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vault_ids: Vec<VaultId>,
    /// Events processed in order at creation (≤ 50): only `user.message` and
    /// `user.define_outcome` are accepted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub initial_events: Vec<EventParam>,
    /// Spend ceiling (can be changed or removed later, never added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    /// Metadata (≤ 16 pairs).
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
}

impl SessionCreate {
    /// A session of `agent` (an id, [`AgentRef`] or [`AgentWithOverrides`]) in `environment_id`.
    pub fn new(
        agent: impl Into<SessionAgentParam>,
        environment_id: impl Into<EnvironmentId>,
    ) -> Self {
        Self {
            agent: agent.into(),
            environment_id: environment_id.into(),
            title: None,
            resources: Vec::new(),
            vault_ids: Vec::new(),
            initial_events: Vec::new(),
            budget: None,
            metadata: Metadata::new(),
        }
    }
}

/// Body of `POST /v1/sessions/{id}` (reference §5). `None` fields are omitted (preserved).
#[derive(Clone, Debug, Default, Serialize)]
pub struct SessionUpdate {
    /// `Some(None)` sends `null`, `Some(Some(t))` sets the title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Option<String>>,
    /// Metadata patch: a `None` value deletes that key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataPatch>,
    /// Replace tools / MCP servers (session must not be running; applies from the next turn).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<SessionAgentUpdate>,
    /// `Some(None)` removes the budget (one-way); `Some(Some(b))` replaces it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<Option<Budget>>,
}

/// The `agent` of a session update: only tools and MCP servers are updatable, each as a full
/// replacement (`Some(vec![])` clears, `None` preserves).
#[derive(Clone, Debug, Default, Serialize)]
pub struct SessionAgentUpdate {
    /// Replacement MCP servers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_servers: Option<Vec<McpServer>>,
    /// Replacement tools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ToolParam>>,
}

/// Query of `GET /v1/sessions` (the pagination layer adds `page`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListSessions {
    /// Page size.
    pub limit: Option<u32>,
    /// By `created_at`; server default `desc`. Cursors remember the order they were made with.
    pub order: Option<Order>,
    /// Include archived sessions (server default false).
    pub include_archived: Option<bool>,
    /// Sessions of this agent.
    pub agent_id: Option<AgentId>,
    /// Sessions of this agent version (only with `agent_id`).
    pub agent_version: Option<u64>,
    /// Sessions created by this deployment.
    pub deployment_id: Option<String>,
    /// Sessions whose resources include this memory store.
    pub memory_store_id: Option<MemoryStoreId>,
    /// Any of these statuses (`statuses[]`).
    pub statuses: Vec<SessionStatus>,
    /// Filter on `created_at`.
    pub created_at: CreatedAtRange,
}

impl ListSessions {
    /// The query pairs, with `statuses[]` repeated and `created_at[…]` bracket keys.
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut query = Vec::new();
        let mut push = |key: &str, value: String| query.push((key.to_owned(), value));
        if let Some(limit) = self.limit {
            push("limit", limit.to_string());
        }
        if let Some(order) = self.order {
            push("order", order.as_str().to_owned());
        }
        if let Some(include) = self.include_archived {
            push("include_archived", include.to_string());
        }
        if let Some(id) = &self.agent_id {
            push("agent_id", id.to_string());
        }
        if let Some(version) = self.agent_version {
            push("agent_version", version.to_string());
        }
        if let Some(id) = &self.deployment_id {
            push("deployment_id", id.clone());
        }
        if let Some(id) = &self.memory_store_id {
            push("memory_store_id", id.to_string());
        }
        for status in &self.statuses {
            push("statuses[]", status.as_str().to_owned());
        }
        push_created_at(&mut query, &self.created_at);
        query
    }
}

// ---------------------------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------------------------

/// An execution thread of a session (reference §9).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionThread {
    /// `sthr_…`.
    pub id: ThreadId,
    /// Always `session_thread`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The session.
    pub session_id: SessionId,
    /// The spawning thread; `None` for the primary thread.
    #[serde(default)]
    pub parent_thread_id: Option<ThreadId>,
    /// Current status.
    pub status: SessionThreadStatus,
    /// Agent snapshot at thread creation.
    pub agent: ThreadAgent,
    /// Timing; `None` until the first status transition.
    #[serde(default)]
    pub stats: Option<SessionThreadStats>,
    /// Usage; `None` until the first idle.
    #[serde(default)]
    pub usage: Option<SessionThreadUsage>,
    /// The workflow run that created the thread, if any.
    #[serde(default)]
    pub workflow_run_id: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
    /// When archived, or `None`.
    #[serde(default)]
    pub archived_at: Option<Timestamp>,
}

tagged_union! {
    /// The agent a thread runs.
    pub enum ThreadAgent {
        /// A saved agent.
        "agent" => Agent(SessionThreadAgent),
        /// The platform advisor.
        "advisor" => Advisor(AdvisorAgent),
        /// An inline (unsaved) agent.
        "inline" => Inline(InlineAgent),
    }
}

/// Query of `GET /v1/sessions/{id}/threads/{thread_id}/events` (the pagination layer adds
/// `page`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListThreadEvents {
    /// Page size.
    pub limit: Option<u32>,
}

impl ListThreadEvents {
    /// The query pairs.
    pub fn to_query(&self) -> Vec<(String, String)> {
        self.limit
            .map(|l| vec![("limit".to_owned(), l.to_string())])
            .unwrap_or_default()
    }
}

/// Query of `GET /v1/sessions/{id}/threads` (the pagination layer adds `page`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListThreads {
    /// Page size (server default 1000).
    pub limit: Option<u32>,
    /// Any of these statuses (`statuses[]`).
    pub statuses: Vec<SessionThreadStatus>,
}

impl ListThreads {
    /// The query pairs, with `statuses[]` repeated.
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut query: Vec<(String, String)> = self
            .limit
            .map(|l| ("limit".to_owned(), l.to_string()))
            .into_iter()
            .collect();
        query.extend(
            self.statuses
                .iter()
                .map(|s| ("statuses[]".to_owned(), s.as_str().to_owned())),
        );
        query
    }
}
