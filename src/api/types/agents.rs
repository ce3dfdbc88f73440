//! Agents and agent versions (reference `agents.md`; SDK `anthropic` 2.10.0 `types/beta`).
//!
//! * Responses: [`Agent`] and everything it contains ([`ModelConfig`], [`Tool`], [`McpServer`],
//!   [`AgentSkill`], [`Multiagent`], [`ExecutionIdentity`]).
//! * Requests: [`AgentCreate`], [`AgentUpdate`] and their parts ([`ModelParam`], [`ToolParam`],
//!   [`SkillParams`], [`MultiagentParams`]); list/retrieve query parameters ([`ListAgents`],
//!   [`GetAgent`], [`ListAgentVersions`]).
//!
//! Request parts that other request bodies embed (session overrides) also derive `Deserialize`,
//! so they can sit inside `type`-tagged unions and round-trip in tests.

use serde::{Deserialize, Deserializer, Serialize};

use super::common::{AgentId, Metadata, MetadataPatch, ModelId, SkillId, Timestamp};
use super::macros::{open_enum, tagged_union};

/// Deserialises an `Option<Option<T>>` request field so that an explicit `null` becomes
/// `Some(None)` (use with `#[serde(default, deserialize_with = "double_option")]`).
fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

// ---------------------------------------------------------------------------------------------
// Agent (response)
// ---------------------------------------------------------------------------------------------

/// A Managed Agents `agent`: a persisted, versioned configuration (reference agents.md §2).
///
/// Every update creates a new immutable version; `GET /v1/agents/{id}?version=N` and
/// `GET /v1/agents/{id}/versions` return past ones in this same shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    /// Object type, always `agent`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Agent id (`agent_…`).
    pub id: AgentId,
    /// Human-readable name.
    pub name: String,
    /// Description of what the agent does; `None` when unset.
    #[serde(default)]
    pub description: Option<String>,
    /// Model and its configuration; always the object form in responses, even when the agent
    /// was created with a bare model id.
    pub model: ModelConfig,
    /// System prompt; `None` when unset.
    #[serde(default)]
    pub system: Option<String>,
    /// Tools, fully resolved (defaults filled in). Whether the server echoes every built-in tool
    /// in `configs` or only overridden ones is UNCONFIRMED; both are accepted.
    #[serde(default)]
    pub tools: Vec<Tool>,
    /// MCP servers the agent connects to (no credentials: those come from session vaults).
    #[serde(default)]
    pub mcp_servers: Vec<McpServer>,
    /// Skills, each resolved to a concrete version string.
    #[serde(default)]
    pub skills: Vec<AgentSkill>,
    /// Multiagent orchestration; `None` for single-threaded agents.
    #[serde(default)]
    pub multiagent: Option<Multiagent>,
    /// Execution principal for runs; always present (`service_account` by default).
    pub execution_identity: ExecutionIdentity,
    /// Arbitrary key/value metadata (≤ 16 pairs, keys ≤ 64 chars, values ≤ 512 chars).
    #[serde(default)]
    pub metadata: Metadata,
    /// The agent's current version: starts at 1 and increments on every modification.
    pub version: u64,
    /// When the agent was created.
    pub created_at: Timestamp,
    /// When the agent was last updated.
    pub updated_at: Timestamp,
    /// When the agent was archived; `None` unless archived (archiving is permanent).
    #[serde(default)]
    pub archived_at: Option<Timestamp>,
}

impl Agent {
    /// Whether the agent has been archived (read-only; no new sessions may reference it).
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

// ---------------------------------------------------------------------------------------------
// Model configuration
// ---------------------------------------------------------------------------------------------

open_enum! {
    /// Inference speed mode (`model.speed`). Not every model supports `fast`; invalid
    /// combinations are rejected at create time.
    pub enum Speed {
        /// Default speed.
        "standard" => Standard,
        /// Significantly faster output token generation at premium pricing.
        "fast" => Fast,
    }
}

open_enum! {
    /// How hard Claude works on each inference call (`model.effort`, bare-string form).
    /// `xhigh` is not accepted by every model.
    pub enum EffortLevel {
        /// Low effort.
        "low" => Low,
        /// Medium effort.
        "medium" => Medium,
        /// High effort; favours reasoning depth.
        "high" => High,
        /// Extra-high effort.
        "xhigh" => Xhigh,
        /// Maximum effort.
        "max" => Max,
    }
}

tagged_union! {
    /// Effort level in object form `{ "type": "<level>" }` (always this form in responses).
    pub enum Effort {
        /// `{"type":"low"}`.
        "low" => Low,
        /// `{"type":"medium"}`.
        "medium" => Medium,
        /// `{"type":"high"}`.
        "high" => High,
        /// `{"type":"xhigh"}`.
        "xhigh" => Xhigh,
        /// `{"type":"max"}`.
        "max" => Max,
    }
}

impl Effort {
    /// The level as an [`EffortLevel`] (an unknown object form maps to `EffortLevel::Other`).
    pub fn level(&self) -> EffortLevel {
        EffortLevel::from(self.type_name())
    }
}

impl From<EffortLevel> for Effort {
    fn from(level: EffortLevel) -> Self {
        match level {
            EffortLevel::Low => Effort::Low,
            EffortLevel::Medium => Effort::Medium,
            EffortLevel::High => Effort::High,
            EffortLevel::Xhigh => Effort::Xhigh,
            EffortLevel::Max => Effort::Max,
            EffortLevel::Other(s) => Effort::Other(serde_json::json!({ "type": s })),
        }
    }
}

/// Response `model` object: model id and its resolved configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// The model powering the agent (open set, e.g. `claude-sonnet-4-6`).
    pub id: ModelId,
    /// Inference speed; the API documents `standard` as default (tolerant on input: may be
    /// absent or null).
    #[serde(default)]
    pub speed: Option<Speed>,
    /// Effort, in object form. The SDK says "always present; resolved to the per-model default
    /// at save time" — tolerant on input: absent or null is accepted.
    #[serde(default)]
    pub effort: Option<Effort>,
    /// Geographic region for inference (`us`, `global`, …); `None` falls through to the
    /// workspace's `default_inference_geo`.
    #[serde(default)]
    pub inference_geo: Option<String>,
}

/// Request `model.effort`: a bare level string (`"high"`) or the object form (`{"type":"high"}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EffortParam {
    /// Bare level string.
    Level(EffortLevel),
    /// Object form.
    Object(Effort),
}

impl From<EffortLevel> for EffortParam {
    fn from(level: EffortLevel) -> Self {
        EffortParam::Level(level)
    }
}

impl From<Effort> for EffortParam {
    fn from(effort: Effort) -> Self {
        EffortParam::Object(effort)
    }
}

/// Request model object (`BetaManagedAgentsModelConfigParams`).
///
/// On update the object is whole-object replacement (omitting `inference_geo` clears it),
/// except `effort`: omitted on update ⇒ the stored value is kept; omitted on create ⇒ the
/// per-model default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfigParams {
    /// Model id (any string is accepted by the type).
    pub id: ModelId,
    /// Inference speed (`standard` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<Speed>,
    /// Effort level (string or object form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<EffortParam>,
    /// Inference region (e.g. `us`, `global`); multiagent rosters must use a uniform geo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference_geo: Option<String>,
}

impl ModelConfigParams {
    /// A model object with only its id.
    pub fn new(id: impl Into<ModelId>) -> Self {
        Self {
            id: id.into(),
            speed: None,
            effort: None,
            inference_geo: None,
        }
    }

    /// Sets `speed`.
    pub fn with_speed(mut self, speed: Speed) -> Self {
        self.speed = Some(speed);
        self
    }

    /// Sets `effort`.
    pub fn with_effort(mut self, effort: impl Into<EffortParam>) -> Self {
        self.effort = Some(effort.into());
        self
    }

    /// Sets `inference_geo`.
    pub fn with_inference_geo(mut self, geo: impl Into<String>) -> Self {
        self.inference_geo = Some(geo.into());
        self
    }
}

/// Request `model`: a bare model id string or a [`ModelConfigParams`] object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ModelParam {
    /// Bare model id, e.g. `"claude-sonnet-4-6"`.
    Id(ModelId),
    /// Model object with additional configuration.
    Config(ModelConfigParams),
}

impl From<ModelId> for ModelParam {
    fn from(id: ModelId) -> Self {
        ModelParam::Id(id)
    }
}

impl From<&str> for ModelParam {
    fn from(id: &str) -> Self {
        ModelParam::Id(ModelId::from(id))
    }
}

impl From<String> for ModelParam {
    fn from(id: String) -> Self {
        ModelParam::Id(ModelId::from(id))
    }
}

impl From<ModelConfigParams> for ModelParam {
    fn from(config: ModelConfigParams) -> Self {
        ModelParam::Config(config)
    }
}

// ---------------------------------------------------------------------------------------------
// Permission policies
// ---------------------------------------------------------------------------------------------

tagged_union! {
    /// `permission_policy` of toolsets and tools (request and response). Defaults: agent
    /// toolset ⇒ `always_allow`; MCP toolsets ⇒ `always_ask`. Custom tools have none.
    pub enum PermissionPolicy {
        /// Tool calls execute automatically.
        "always_allow" => AlwaysAllow,
        /// The session emits the tool-use event and goes idle (`requires_action`) until a
        /// `user.tool_confirmation` allows or denies it.
        "always_ask" => AlwaysAsk,
        /// The server judges each call: safe ⇒ allow, high-risk ⇒ deny, no judgement ⇒ ask (or
        /// deny for some causes, e.g. out of credits).
        "auto" => Auto,
    }
}

// ---------------------------------------------------------------------------------------------
// Tools (response)
// ---------------------------------------------------------------------------------------------

tagged_union! {
    /// Response tool union: the built-in agent toolset, an MCP toolset, or a custom tool.
    pub enum Tool {
        /// Built-in agent toolset (bash, read, write, edit, glob, grep, web_fetch, web_search).
        "agent_toolset_20260401" => AgentToolset20260401(AgentToolset),
        /// Tools from an MCP server named in the agent's `mcp_servers`.
        "mcp_toolset" => McpToolset(McpToolset),
        /// A client-executed custom tool.
        "custom" => Custom(CustomTool),
    }
}

/// Resolved default configuration of a toolset (agent toolset and MCP toolset).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolsetDefaultConfig {
    /// Whether the toolset's tools are enabled by default.
    pub enabled: bool,
    /// Default permission policy for the toolset's tools.
    pub permission_policy: PermissionPolicy,
}

/// Response form of `agent_toolset_20260401` (fields other than `type`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentToolset {
    /// Resolved default configuration for the built-in tools.
    pub default_config: ToolsetDefaultConfig,
    /// Resolved per-tool configurations.
    #[serde(default)]
    pub configs: Vec<AgentToolConfig>,
}

tagged_union! {
    /// Resolved configuration of one built-in tool (response; `type` equals `name`).
    pub enum AgentToolConfig {
        /// Shell commands.
        "bash" => Bash(BuiltinToolConfig),
        /// String-replace edits.
        "edit" => Edit(BuiltinToolConfig),
        /// Read files (incl. images, PDFs, notebooks).
        "read" => Read(BuiltinToolConfig),
        /// Write files.
        "write" => Write(BuiltinToolConfig),
        /// Glob file search.
        "glob" => Glob(BuiltinToolConfig),
        /// Grep content search.
        "grep" => Grep(BuiltinToolConfig),
        /// Fetch web pages.
        "web_fetch" => WebFetch(WebFetchToolConfig),
        /// Web search.
        "web_search" => WebSearch(WebSearchToolConfig),
    }
}

/// Resolved configuration of a built-in tool without extra settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuiltinToolConfig {
    /// Tool name (same as the `type` tag).
    pub name: String,
    /// Whether the tool is enabled.
    pub enabled: bool,
    /// Permission policy for the tool.
    pub permission_policy: PermissionPolicy,
}

/// Resolved `web_fetch` configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebFetchToolConfig {
    /// Tool name, `web_fetch`.
    pub name: String,
    /// Whether the tool is enabled.
    pub enabled: bool,
    /// Permission policy for the tool.
    pub permission_policy: PermissionPolicy,
    /// Only fetch from these hosts (and their subdomains); `None` when unset.
    #[serde(default)]
    pub allowed_domains: Option<Vec<String>>,
    /// Never fetch from these hosts (and their subdomains); `None` when unset.
    #[serde(default)]
    pub blocked_domains: Option<Vec<String>>,
    /// Cap on fetched text tokens per call (not binary/PDF content); `None` when unset.
    #[serde(default)]
    pub max_content_tokens: Option<u64>,
    /// Which sources contribute fetchable URLs (object form); `None` allows every source.
    #[serde(default)]
    pub url_sources: Option<UrlSources>,
}

/// Resolved `web_search` configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebSearchToolConfig {
    /// Tool name, `web_search`.
    pub name: String,
    /// Whether the tool is enabled.
    pub enabled: bool,
    /// Permission policy for the tool.
    pub permission_policy: PermissionPolicy,
    /// Only return results from these hosts; `None` when unset.
    #[serde(default)]
    pub allowed_domains: Option<Vec<String>>,
    /// Never return results from these hosts; `None` when unset.
    #[serde(default)]
    pub blocked_domains: Option<Vec<String>>,
    /// Approximate user location for result localisation; `None` when unset.
    #[serde(default)]
    pub user_location: Option<UserLocation>,
}

/// Approximate user location for `web_search` (request and response).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserLocation {
    /// Location precision; only `approximate` exists.
    #[serde(rename = "type")]
    pub kind: String,
    /// City name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Two-letter ISO 3166-1 country code, uppercase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Region or state name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// IANA timezone, e.g. `America/New_York`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

impl UserLocation {
    /// An `approximate` location with no fields set.
    pub fn approximate() -> Self {
        Self {
            kind: "approximate".to_owned(),
            city: None,
            country: None,
            region: None,
            timezone: None,
        }
    }
}

/// Which sources contribute URLs `web_fetch` may fetch (response: always the object forms;
/// a `None` key was not set and allows every URL from that source).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UrlSources {
    /// Which custom tools' results contribute URLs.
    #[serde(default)]
    pub client_tool_results: Option<UrlSourceToolFilter>,
    /// Which of `web_search` / `web_fetch` results contribute URLs.
    #[serde(default)]
    pub server_tool_results: Option<UrlSourceToolFilter>,
    /// Whether URLs in user messages may be fetched.
    #[serde(default)]
    pub user_input: Option<UrlSourceUserInput>,
}

tagged_union! {
    /// A tool-results URL source filter (object form).
    pub enum UrlSourceToolFilter {
        /// Every tool's results contribute (the default).
        "all" => All,
        /// No tool's results contribute.
        "none" => None,
        /// Only the named tools' results contribute.
        "only" => Only(UrlSourceToolList),
        /// Every tool's results except the named ones contribute.
        "except" => Except(UrlSourceToolList),
    }
}

tagged_union! {
    /// The user-input URL source filter (object form).
    pub enum UrlSourceUserInput {
        /// URLs in user messages may be fetched (the default).
        "all" => All,
        /// URLs in user messages may not be fetched.
        "none" => None,
    }
}

/// Tool list of an `only` / `except` filter: 1–128 entries with distinct names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UrlSourceToolList {
    /// The named tools.
    pub tools: Vec<ToolReference>,
}

impl UrlSourceToolList {
    /// A list of `tool_reference`s with these names.
    pub fn names<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            tools: names.into_iter().map(ToolReference::new).collect(),
        }
    }
}

/// `{ "type": "tool_reference", "name": … }`: names one tool in an `only` / `except` list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolReference {
    /// Always `tool_reference`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Tool name, compared case-sensitively.
    pub name: String,
}

impl ToolReference {
    /// A reference to the tool with this name.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            kind: "tool_reference".to_owned(),
            name: name.into(),
        }
    }
}

/// Response form of `mcp_toolset` (fields other than `type`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McpToolset {
    /// Name of the MCP server (a `name` in the agent's `mcp_servers`).
    pub mcp_server_name: String,
    /// Resolved default configuration for this server's tools.
    pub default_config: ToolsetDefaultConfig,
    /// Resolved per-tool configurations.
    #[serde(default)]
    pub configs: Vec<McpToolConfig>,
}

/// Resolved configuration of one MCP tool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McpToolConfig {
    /// MCP tool name.
    pub name: String,
    /// Whether the tool is enabled.
    pub enabled: bool,
    /// Permission policy for the tool.
    pub permission_policy: PermissionPolicy,
}

/// A custom (client-executed) tool; the same shape in requests and responses.
///
/// The agent emits `agent.custom_tool_use`, the session goes idle with `requires_action`, and
/// the client answers with `user.custom_tool_result`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomTool {
    /// Unique name: 1–128 chars of letters, digits, `_` and `-`.
    pub name: String,
    /// Description shown to the model.
    pub description: String,
    /// JSON Schema of the tool input.
    pub input_schema: CustomToolInputSchema,
}

/// JSON Schema of a custom tool's input: `type` must be `object`; extra JSON-Schema keywords
/// are allowed and echoed back (kept in `extra`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomToolInputSchema {
    /// Always `object`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Property schemas by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<serde_json::Map<String, serde_json::Value>>,
    /// Names of required properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<Vec<String>>,
    /// Any other JSON-Schema keywords (`additionalProperties`, `description`, …).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl CustomToolInputSchema {
    /// An object schema with these properties and required names.
    pub fn object(
        properties: serde_json::Map<String, serde_json::Value>,
        required: Vec<String>,
    ) -> Self {
        Self {
            kind: "object".to_owned(),
            properties: Some(properties),
            required: Some(required),
            extra: serde_json::Map::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tools (request)
// ---------------------------------------------------------------------------------------------

tagged_union! {
    /// Request tool union (`tools` on create/update, session overrides).
    pub enum ToolParam {
        /// Built-in agent toolset.
        "agent_toolset_20260401" => AgentToolset20260401(AgentToolsetParams),
        /// Tools from an MCP server in `mcp_servers` (every server must be referenced by one).
        "mcp_toolset" => McpToolset(McpToolsetParams),
        /// A client-executed custom tool.
        "custom" => Custom(CustomTool),
    }
}

impl ToolParam {
    /// The built-in agent toolset with server defaults (all tools enabled, `always_allow`).
    pub fn agent_toolset() -> Self {
        ToolParam::AgentToolset20260401(AgentToolsetParams::default())
    }

    /// An MCP toolset for the named server with server defaults (`always_ask`).
    pub fn mcp_toolset(mcp_server_name: impl Into<String>) -> Self {
        ToolParam::McpToolset(McpToolsetParams::new(mcp_server_name))
    }

    /// A custom tool.
    pub fn custom(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: CustomToolInputSchema,
    ) -> Self {
        ToolParam::Custom(CustomTool {
            name: name.into(),
            description: description.into(),
            input_schema,
        })
    }
}

/// Request default / per-tool configuration: `enabled` and `permission_policy`, both optional.
///
/// Used for `default_config` of both toolsets and for built-in tool overrides without extras.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolConfigParams {
    /// Whether enabled (defaults to true; a per-tool value overrides `default_config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Permission policy (a per-tool value overrides `default_config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_policy: Option<PermissionPolicy>,
}

impl ToolConfigParams {
    /// Sets `enabled`.
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// Sets `permission_policy`.
    pub fn with_policy(mut self, policy: PermissionPolicy) -> Self {
        self.permission_policy = Some(policy);
        self
    }
}

/// Request form of `agent_toolset_20260401` (fields other than `type`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentToolsetParams {
    /// Default configuration for every built-in tool (enabled: true, policy: `always_allow`
    /// when unset). To enable only some tools, set `enabled: false` here and enable tools in
    /// `configs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_config: Option<ToolConfigParams>,
    /// Per-tool overrides (omitted when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<AgentToolConfigParams>,
}

/// A per-tool override of the built-in toolset, discriminated by `name` (request; the optional
/// `type` the SDK allows is never sent).
///
/// Decoding mirrors the `type`-tagged unions: a known `name` with a bad payload is an error
/// naming the path; an unknown or missing `name` is kept whole as `Other`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "name")]
#[non_exhaustive]
pub enum AgentToolConfigParams {
    /// `bash`.
    #[serde(rename = "bash")]
    Bash(ToolConfigParams),
    /// `edit`.
    #[serde(rename = "edit")]
    Edit(ToolConfigParams),
    /// `read`.
    #[serde(rename = "read")]
    Read(ToolConfigParams),
    /// `write`.
    #[serde(rename = "write")]
    Write(ToolConfigParams),
    /// `glob`.
    #[serde(rename = "glob")]
    Glob(ToolConfigParams),
    /// `grep`.
    #[serde(rename = "grep")]
    Grep(ToolConfigParams),
    /// `web_fetch`, with its domain lists, token cap and URL sources.
    #[serde(rename = "web_fetch")]
    WebFetch(WebFetchConfigParams),
    /// `web_search`, with its domain lists and user location.
    #[serde(rename = "web_search")]
    WebSearch(WebSearchConfigParams),
    /// A tool this crate does not model, sent as given (should contain `name`).
    #[serde(untagged)]
    Other(serde_json::Value),
}

impl<'de> Deserialize<'de> for AgentToolConfigParams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        fn variant<T, E>(name: &str, value: serde_json::Value) -> Result<T, E>
        where
            T: serde::de::DeserializeOwned,
            E: serde::de::Error,
        {
            serde_path_to_error::deserialize::<_, T>(value).map_err(|err| {
                let path = err.path().to_string();
                if path == "." {
                    E::custom(format_args!("in `{name}`: {}", err.inner()))
                } else {
                    E::custom(format_args!("in `{name}` at `{path}`: {}", err.inner()))
                }
            })
        }

        let value = serde_json::Value::deserialize(deserializer)?;
        let name = value
            .get("name")
            .and_then(|n| n.as_str())
            .map(str::to_owned);
        match name.as_deref() {
            Some(n @ "bash") => variant(n, value).map(Self::Bash),
            Some(n @ "edit") => variant(n, value).map(Self::Edit),
            Some(n @ "read") => variant(n, value).map(Self::Read),
            Some(n @ "write") => variant(n, value).map(Self::Write),
            Some(n @ "glob") => variant(n, value).map(Self::Glob),
            Some(n @ "grep") => variant(n, value).map(Self::Grep),
            Some(n @ "web_fetch") => variant(n, value).map(Self::WebFetch),
            Some(n @ "web_search") => variant(n, value).map(Self::WebSearch),
            _ => Ok(Self::Other(value)),
        }
    }
}

/// Request override for `web_fetch`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WebFetchConfigParams {
    /// Whether enabled (overrides `default_config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Permission policy (overrides `default_config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_policy: Option<PermissionPolicy>,
    /// Bare hostnames (no scheme/port/path) to allow, subdomains included; ≤ 64, non-empty,
    /// exclusive with `blocked_domains`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_domains: Option<Vec<String>>,
    /// Bare hostnames to block; same rules, exclusive with `allowed_domains`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_domains: Option<Vec<String>>,
    /// Cap on fetched text tokens per call (not binary/PDF content).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_content_tokens: Option<u64>,
    /// Which sources contribute fetchable URLs; omit to allow every source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_sources: Option<UrlSourcesParams>,
}

/// Request override for `web_search`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WebSearchConfigParams {
    /// Whether enabled (overrides `default_config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Permission policy (overrides `default_config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_policy: Option<PermissionPolicy>,
    /// Hostnames (optional path suffix accepted) to allow; ≤ 64, non-empty, exclusive with
    /// `blocked_domains`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_domains: Option<Vec<String>>,
    /// Hostnames to block; same rules, exclusive with `allowed_domains`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_domains: Option<Vec<String>>,
    /// Approximate user location for result localisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_location: Option<UserLocation>,
}

/// Request `url_sources` of `web_fetch`. Setting all three to `none` is rejected.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UrlSourcesParams {
    /// Which custom tools' results contribute URLs; list names must be custom tools in the same
    /// `tools` array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_tool_results: Option<UrlSourceToolFilterParam>,
    /// Which of `web_search` / `web_fetch` results contribute URLs; list names must be one of
    /// those two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_tool_results: Option<UrlSourceToolFilterParam>,
    /// Whether URLs in user messages may be fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_input: Option<UrlSourceUserInputParam>,
}

/// Shorthand URL-source filter accepted in requests: `"all"` or `"none"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UrlSourceShorthand {
    /// Every URL from this source may be fetched.
    All,
    /// No URL from this source may be fetched.
    None,
}

/// Request tool-results filter: shorthand string or object form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UrlSourceToolFilterParam {
    /// `"all"` / `"none"`.
    Shorthand(UrlSourceShorthand),
    /// `{type:"all"|"none"|"only"|"except", …}`.
    Filter(UrlSourceToolFilter),
}

/// Request user-input filter: shorthand string or object form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UrlSourceUserInputParam {
    /// `"all"` / `"none"`.
    Shorthand(UrlSourceShorthand),
    /// `{type:"all"|"none"}`.
    Filter(UrlSourceUserInput),
}

/// Request form of `mcp_toolset` (fields other than `type`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McpToolsetParams {
    /// Name of a server in `mcp_servers` (1–255 chars).
    pub mcp_server_name: String,
    /// Default configuration for this server's tools (enabled: true, policy: `always_ask`
    /// when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_config: Option<ToolConfigParams>,
    /// Per-tool overrides by MCP tool name (omitted when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<McpToolConfigParams>,
}

impl McpToolsetParams {
    /// A toolset for the named server with server defaults.
    pub fn new(mcp_server_name: impl Into<String>) -> Self {
        Self {
            mcp_server_name: mcp_server_name.into(),
            default_config: None,
            configs: Vec::new(),
        }
    }
}

/// Request override for one MCP tool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McpToolConfigParams {
    /// MCP tool name (1–128 chars).
    pub name: String,
    /// Whether enabled (overrides `default_config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Permission policy (overrides `default_config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_policy: Option<PermissionPolicy>,
}

// ---------------------------------------------------------------------------------------------
// MCP servers, skills, execution identity
// ---------------------------------------------------------------------------------------------

tagged_union! {
    /// An MCP server the agent connects to (request and response). Only `url` (Streamable
    /// HTTP) servers exist today. Credentials are never on the agent: session vaults supply
    /// them, matched by URL.
    pub enum McpServer {
        /// `{type:"url", name, url}`.
        "url" => Url(UrlMcpServer),
    }
}

impl McpServer {
    /// A `url` server.
    pub fn url(name: impl Into<String>, url: impl Into<String>) -> Self {
        McpServer::Url(UrlMcpServer {
            name: name.into(),
            url: url.into(),
        })
    }

    /// The server's name, if this is a modelled variant.
    pub fn name(&self) -> Option<&str> {
        match self {
            McpServer::Url(s) => Some(&s.name),
            _ => None,
        }
    }
}

/// Fields of a `url` MCP server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UrlMcpServer {
    /// Unique name within the agent (1–255 chars), referenced by `mcp_toolset.mcp_server_name`.
    pub name: String,
    /// Server endpoint URL.
    pub url: String,
}

tagged_union! {
    /// Response skill reference, always resolved to a concrete version string.
    pub enum AgentSkill {
        /// An Anthropic-managed skill (`xlsx`, `docx`, `pptx`, `pdf`, …).
        "anthropic" => Anthropic(ResolvedSkill),
        /// A custom skill from the Skills API (`skill_…`).
        "custom" => Custom(ResolvedSkill),
    }
}

impl AgentSkill {
    /// The skill id / short name, if this is a modelled variant.
    pub fn skill_id(&self) -> Option<&SkillId> {
        match self {
            AgentSkill::Anthropic(s) | AgentSkill::Custom(s) => Some(&s.skill_id),
            _ => None,
        }
    }
}

/// Fields of a resolved skill reference.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedSkill {
    /// Skill id (`skill_…`) or Anthropic short name (`xlsx`).
    pub skill_id: SkillId,
    /// Resolved version (always a string; its value for an unpinned reference is UNCONFIRMED,
    /// e.g. `latest` or a concrete version).
    pub version: String,
}

tagged_union! {
    /// Request skill reference (`BetaManagedAgentsSkillParams`).
    pub enum SkillParams {
        /// An Anthropic-managed skill by short name.
        "anthropic" => Anthropic(SkillRef),
        /// A custom skill by id.
        "custom" => Custom(SkillRef),
    }
}

impl SkillParams {
    /// An Anthropic skill (latest version).
    pub fn anthropic(skill_id: impl Into<SkillId>) -> Self {
        SkillParams::Anthropic(SkillRef::new(skill_id))
    }

    /// A custom skill (latest version).
    pub fn custom(skill_id: impl Into<SkillId>) -> Self {
        SkillParams::Custom(SkillRef::new(skill_id))
    }

    /// Pins a version (no effect on `Other`).
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        if let SkillParams::Anthropic(s) | SkillParams::Custom(s) = &mut self {
            s.version = Some(version.into());
        }
        self
    }
}

/// Fields of a request skill reference.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkillRef {
    /// Skill id (`skill_…`) or Anthropic short name (`xlsx`).
    pub skill_id: SkillId,
    /// Version to pin (`latest`, a version id, or a date-like Anthropic version); omitted ⇒
    /// latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl SkillRef {
    /// A reference to the latest version.
    pub fn new(skill_id: impl Into<SkillId>) -> Self {
        Self {
            skill_id: skill_id.into(),
            version: None,
        }
    }
}

tagged_union! {
    /// Execution principal for runs of an agent (request and response).
    pub enum ExecutionIdentity {
        /// The Anthropic-managed service account (the default); carries no identifier.
        "service_account" => ServiceAccount,
        /// A customer-named AWS IAM role.
        "aws_role" => AwsRole(AwsRoleIdentity),
    }
}

impl ExecutionIdentity {
    /// An `aws_role` identity.
    pub fn aws_role(role_arn: impl Into<String>) -> Self {
        ExecutionIdentity::AwsRole(AwsRoleIdentity {
            role_arn: role_arn.into(),
        })
    }
}

/// Fields of an `aws_role` execution identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AwsRoleIdentity {
    /// The IAM role's ARN (≤ 2048 chars), e.g. `arn:aws:iam::123456789012:role/my-agent-runner`.
    pub role_arn: String,
}

// ---------------------------------------------------------------------------------------------
// Multiagent (response)
// ---------------------------------------------------------------------------------------------

tagged_union! {
    /// Response `multiagent` object, fully resolved.
    pub enum Multiagent {
        /// Older coordinator topology with a concrete roster.
        "coordinator" => Coordinator(Coordinator),
        /// Advisor / subagents / workflows configuration.
        "multiagent_20261001" => Multiagent20261001(Multiagent20261001),
    }
}

/// Resolved `coordinator` topology.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coordinator {
    /// Agents the coordinator may spawn as threads, each at a concrete version, plus at most
    /// one advisor.
    #[serde(default)]
    pub agents: Vec<RosterAgent>,
}

tagged_union! {
    /// A resolved coordinator roster entry.
    pub enum RosterAgent {
        /// A saved agent at a concrete version.
        "agent" => Agent(AgentReference),
        /// The platform advisor (roster name `anthropic.advisor`).
        "advisor" => Advisor(AdvisorModel),
    }
}

/// A resolved agent reference `{type:"agent", id, version}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentReference {
    /// Always `agent` (inside [`RosterAgent`] the union writes the tag instead).
    #[serde(rename = "type", default = "agent_kind")]
    pub kind: String,
    /// Agent id.
    pub id: AgentId,
    /// Concrete agent version.
    pub version: u64,
}

fn agent_kind() -> String {
    "agent".to_owned()
}

impl AgentReference {
    /// A reference to `id` at `version`.
    pub fn new(id: impl Into<AgentId>, version: u64) -> Self {
        Self {
            kind: agent_kind(),
            id: id.into(),
            version,
        }
    }
}

/// An advisor model `{model}` (coordinator roster entry and enabled `advisor` member).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdvisorModel {
    /// Advisor model id; must be permitted as an advisor for the agent's model.
    pub model: ModelId,
}

/// Resolved `multiagent_20261001`: all three members always present.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Multiagent20261001 {
    /// Whether the primary thread can consult an advisor model mid-turn.
    pub advisor: MultiagentAdvisor,
    /// Whether the agent can spawn session threads.
    pub subagents: MultiagentAgents,
    /// Whether the agent can start workflow runs (plans).
    pub workflows: MultiagentAgents,
}

tagged_union! {
    /// The `advisor` member (request and response).
    pub enum MultiagentAdvisor {
        /// The primary thread may consult `model` mid-turn.
        "enabled" => Enabled(AdvisorModel),
        /// No advisor (the default).
        "disabled" => Disabled,
    }
}

tagged_union! {
    /// Resolved `subagents` / `workflows` member.
    pub enum MultiagentAgents {
        /// Enabled, with inline-agent setting and resolved predefined agents.
        "enabled" => Enabled(MultiagentAgentsEnabled),
        /// Disabled.
        "disabled" => Disabled,
    }
}

/// Fields of an enabled, resolved `subagents` / `workflows` member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MultiagentAgentsEnabled {
    /// Whether inline (unsaved) agents may be defined.
    pub inline_agents: InlineAgents,
    /// Saved agents that may be used, each at a concrete version.
    #[serde(default)]
    pub predefined_agents: Vec<AgentReference>,
}

tagged_union! {
    /// Whether inline (unsaved) agents may be defined (request and response).
    pub enum InlineAgents {
        /// Inline agents allowed (the default).
        "enabled" => Enabled,
        /// Inline agents not allowed; then at least one predefined agent is required.
        "disabled" => Disabled,
    }
}

// ---------------------------------------------------------------------------------------------
// Multiagent (request)
// ---------------------------------------------------------------------------------------------

tagged_union! {
    /// Request `multiagent` (`BetaManagedAgentsMultiagentParams`).
    pub enum MultiagentParams {
        /// Coordinator roster (the SDK recommends `multiagent_20261001` instead).
        "coordinator" => Coordinator(CoordinatorParams),
        /// Advisor / subagents / workflows configuration.
        "multiagent_20261001" => Multiagent20261001(Multiagent20261001Params),
    }
}

/// Request `coordinator` roster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoordinatorParams {
    /// 1–20 distinct entries: agent ids, versioned references, at most one `self`, at most
    /// one `advisor`. Referenced agents must exist, not be archived and not have `multiagent`.
    pub agents: Vec<RosterEntryParam>,
}

/// Request coordinator roster entry: an agent id string (latest version at save time) or an
/// object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RosterEntryParam {
    /// Agent id string.
    Id(AgentId),
    /// Object form.
    Entry(RosterEntry),
}

impl From<AgentId> for RosterEntryParam {
    fn from(id: AgentId) -> Self {
        RosterEntryParam::Id(id)
    }
}

impl From<RosterEntry> for RosterEntryParam {
    fn from(entry: RosterEntry) -> Self {
        RosterEntryParam::Entry(entry)
    }
}

tagged_union! {
    /// Object form of a request coordinator roster entry.
    pub enum RosterEntry {
        /// `{type:"agent", id, version?}`.
        "agent" => Agent(AgentRefParams),
        /// `{type:"self"}`: the agent that owns this configuration.
        "self" => SelfAgent,
        /// `{type:"advisor", model}`.
        "advisor" => Advisor(AdvisorModel),
    }
}

/// Request agent reference `{id, version?}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRefParams {
    /// Agent id.
    pub id: AgentId,
    /// Version to pin (≥ 1); omitted ⇒ latest at save time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

/// Request `multiagent_20261001`.
///
/// A member sent as `null` (`Some(None)`) takes its default — on create too, so
/// `"workflows": null` *enables* workflows. On update, when the stored value is also
/// `multiagent_20261001`, the object is merged level by level: omitted (`None`) members keep
/// their stored values.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Multiagent20261001Params {
    /// Advisor member (default disabled).
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub advisor: Option<Option<MultiagentAdvisor>>,
    /// Subagents member (default enabled).
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub subagents: Option<Option<MultiagentAgentsParams>>,
    /// Workflows member (default enabled).
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub workflows: Option<Option<MultiagentAgentsParams>>,
}

tagged_union! {
    /// Request `subagents` / `workflows` member.
    pub enum MultiagentAgentsParams {
        /// Enabled.
        "enabled" => Enabled(MultiagentAgentsEnabledParams),
        /// Disabled.
        "disabled" => Disabled,
    }
}

/// Fields of an enabled request `subagents` / `workflows` member.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MultiagentAgentsEnabledParams {
    /// Whether inline agents may be defined (default enabled; `Some(None)` sends `null`).
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub inline_agents: Option<Option<InlineAgents>>,
    /// Saved agents that may be used (≤ 20; `null` and `[]` both mean none). A sent list
    /// replaces the stored one on update; omitted keeps it.
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub predefined_agents: Option<Option<Vec<PredefinedAgentParam>>>,
}

/// Request predefined agent: an agent id string or an object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PredefinedAgentParam {
    /// Agent id string (latest version at save time).
    Id(AgentId),
    /// Object form.
    Entry(PredefinedAgent),
}

impl From<AgentId> for PredefinedAgentParam {
    fn from(id: AgentId) -> Self {
        PredefinedAgentParam::Id(id)
    }
}

impl From<PredefinedAgent> for PredefinedAgentParam {
    fn from(entry: PredefinedAgent) -> Self {
        PredefinedAgentParam::Entry(entry)
    }
}

tagged_union! {
    /// Object form of a request predefined agent.
    pub enum PredefinedAgent {
        /// `{type:"agent", id, version?}`.
        "agent" => Agent(AgentRefParams),
        /// `{type:"self"}`: the agent that owns this configuration.
        "self" => SelfAgent,
    }
}

// ---------------------------------------------------------------------------------------------
// Create / update bodies
// ---------------------------------------------------------------------------------------------

/// Body of `POST /v1/agents`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AgentCreate {
    /// Human-readable name (1–256 chars per Anthropic's skill guide).
    pub name: String,
    /// Model id or model object.
    pub model: ModelParam,
    /// Description (≤ 2048 chars per Anthropic's skill guide).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// System prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Tools; at most 256 tools across all toolsets (omitted when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolParam>,
    /// MCP servers (≤ 20, unique names, each referenced by an `mcp_toolset`; omitted when
    /// empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mcp_servers: Vec<McpServer>,
    /// Skills (omitted when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<SkillParams>,
    /// Metadata (≤ 16 pairs, keys ≤ 64, values ≤ 512 chars; omitted when empty).
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
    /// Multiagent orchestration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multiagent: Option<MultiagentParams>,
    /// Execution principal; omitted ⇒ `service_account`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_identity: Option<ExecutionIdentity>,
}

impl AgentCreate {
    /// A create body with the two required fields.
    pub fn new(name: impl Into<String>, model: impl Into<ModelParam>) -> Self {
        Self {
            name: name.into(),
            model: model.into(),
            description: None,
            system: None,
            tools: Vec::new(),
            mcp_servers: Vec::new(),
            skills: Vec::new(),
            metadata: Metadata::new(),
            multiagent: None,
            execution_identity: None,
        }
    }
}

/// Body of `POST /v1/agents/{agent_id}` (update). Outer `None` omits a field (preserve);
/// `Some(None)` sends `null` (clear / restore default); every update creates a new version.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AgentUpdate {
    /// Optimistic concurrency: the version this update is based on; a mismatch fails with 409
    /// (do not blind-retry). Omitted ⇒ update unconditionally.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// New name (cannot be cleared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New model (cannot be cleared; the object form replaces the whole object except an
    /// omitted `effort`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelParam>,
    /// Description; `Some(None)` (or `""`) clears.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Option<String>>,
    /// System prompt; `Some(None)` (or `""`) clears.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<Option<String>>,
    /// Full replacement of tools; `Some(None)` or `[]` clears.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Option<Vec<ToolParam>>>,
    /// Full replacement of MCP servers; `Some(None)` or `[]` clears. The resulting tools must
    /// still reference every server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_servers: Option<Option<Vec<McpServer>>>,
    /// Full replacement of skills; `Some(None)` or `[]` clears.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skills: Option<Option<Vec<SkillParams>>>,
    /// Metadata patch: a `Some(value)` entry upserts the key, `None` deletes it; keys not in
    /// the patch are preserved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataPatch>,
    /// Multiagent: full replacement (merged level by level when both stored and sent are
    /// `multiagent_20261001`); `Some(None)` clears.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multiagent: Option<Option<MultiagentParams>>,
    /// Execution identity: full replacement; `Some(None)` restores the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_identity: Option<Option<ExecutionIdentity>>,
}

impl AgentUpdate {
    /// An empty update guarded by the agent's current `version` (optimistic concurrency).
    pub fn at_version(version: u64) -> Self {
        Self {
            version: Some(version),
            ..Self::default()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Query parameters
// ---------------------------------------------------------------------------------------------

fn query_time(t: &Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Query of `GET /v1/agents` (the paginator adds `page`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListAgents {
    /// Page size (default 20, max 100).
    pub limit: Option<u32>,
    /// Include archived agents (default false).
    pub include_archived: Option<bool>,
    /// Only agents created at or after this instant (`created_at[gte]`).
    pub created_at_gte: Option<Timestamp>,
    /// Only agents created at or before this instant (`created_at[lte]`).
    pub created_at_lte: Option<Timestamp>,
}

impl ListAgents {
    /// Query pairs, in a stable order.
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        if let Some(limit) = self.limit {
            q.push(("limit".to_owned(), limit.to_string()));
        }
        if let Some(include) = self.include_archived {
            q.push(("include_archived".to_owned(), include.to_string()));
        }
        if let Some(t) = &self.created_at_gte {
            q.push(("created_at[gte]".to_owned(), query_time(t)));
        }
        if let Some(t) = &self.created_at_lte {
            q.push(("created_at[lte]".to_owned(), query_time(t)));
        }
        q
    }
}

/// Query of `GET /v1/agents/{agent_id}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GetAgent {
    /// Version to fetch (≥ 1); `None` ⇒ the latest.
    pub version: Option<u64>,
}

impl GetAgent {
    /// Query pairs.
    pub fn to_query(&self) -> Vec<(String, String)> {
        self.version
            .map(|v| vec![("version".to_owned(), v.to_string())])
            .unwrap_or_default()
    }
}

/// Query of `GET /v1/agents/{agent_id}/versions` (the paginator adds `page`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListAgentVersions {
    /// Page size (default 20, max 100).
    pub limit: Option<u32>,
}

impl ListAgentVersions {
    /// Query pairs.
    pub fn to_query(&self) -> Vec<(String, String)> {
        self.limit
            .map(|l| vec![("limit".to_owned(), l.to_string())])
            .unwrap_or_default()
    }
}
