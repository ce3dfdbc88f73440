//! Models list for a model picker (reference `models-webhooks-files.md` §A; SDK
//! `types/beta/beta_model_info.py`, `beta_model_capabilities.py` and the capability types).
//!
//! Capability objects are typed for the keys SDK 2.10.0 knows, and every level keeps unknown keys
//! in an `extra` map, so a [`ModelInfo`] re-encodes losslessly even when the API adds
//! capabilities, effort levels, thinking types or context-management strategies.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{ModelId, Timestamp};
use super::macros::open_enum;

fn model_type() -> String {
    "model".to_owned()
}

open_enum! {
    /// A model's lifecycle stage.
    pub enum ModelLifecycle {
        /// Available, open to new adopters, not scheduled for retirement.
        "active" => Active,
        /// Callable for organisations with existing access; closed to new adopters.
        "deprecated" => Deprecated,
        /// No longer usable; kept in the catalogue as a record.
        "retired" => Retired,
    }
}

open_enum! {
    /// The model line (family). More lines may be added; never infer it from the id.
    pub enum ModelLine {
        /// Haiku.
        "haiku" => Haiku,
        /// Sonnet.
        "sonnet" => Sonnet,
        /// Opus.
        "opus" => Opus,
        /// Fable.
        "fable" => Fable,
        /// Mythos.
        "mythos" => Mythos,
    }
}

/// A model (`BetaModelInfo`), from `GET /v1/models` and `GET /v1/models/{model_id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Always `"model"`.
    #[serde(rename = "type", default = "model_type")]
    pub kind: String,
    /// The model id to put in an agent's `model`.
    pub id: ModelId,
    /// Human-readable name for a picker.
    pub display_name: String,
    /// Release date (may be the epoch if unknown).
    pub created_at: Timestamp,
    /// Lifecycle stage. Required by SDK 2.10.0; optional here so older responses still decode.
    #[serde(default)]
    pub lifecycle: Option<ModelLifecycle>,
    /// The model line; `None` when the model belongs to no line.
    #[serde(default)]
    pub line: Option<ModelLine>,
    /// Most recent deprecation; set for deprecated and retired models.
    #[serde(default)]
    pub deprecated_at: Option<Timestamp>,
    /// Currently scheduled retirement (may be revised; `lifecycle` is the signal).
    #[serde(default)]
    pub retires_at: Option<Timestamp>,
    /// Context window in tokens.
    #[serde(default)]
    pub max_input_tokens: Option<u64>,
    /// Maximum `max_tokens` value.
    #[serde(default)]
    pub max_tokens: Option<u64>,
    /// Models accepted as Messages-API `fallbacks[i].model` (empty: fallbacks unsupported).
    #[serde(default)]
    pub allowed_fallback_models: Option<Vec<ModelId>>,
    /// Capability support details.
    #[serde(default)]
    pub capabilities: Option<ModelCapabilities>,
}

impl ModelInfo {
    /// Whether the model is `active` (what a picker should offer).
    pub fn is_active(&self) -> bool {
        self.lifecycle == Some(ModelLifecycle::Active)
    }
}

/// `{"supported": bool, …}` (`BetaCapabilitySupport`); unknown keys are kept in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CapabilitySupport {
    /// Whether the capability is supported.
    #[serde(default)]
    pub supported: bool,
    /// Keys this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Whether an optional sub-capability is present and supported.
fn supported(c: &Option<CapabilitySupport>) -> bool {
    c.as_ref().is_some_and(|c| c.supported)
}

/// Model capabilities (`BetaModelCapabilities`). Every key is optional here (the API promises
/// all known keys, but a missing one must not break decoding); unknown capabilities are kept in
/// `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelCapabilities {
    /// Batch API support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<CapabilitySupport>,
    /// Citation generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations: Option<CapabilitySupport>,
    /// Whether code run by the code execution tool can call the request's other tools
    /// (support for the tool itself is `server_tools.code_execution`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_execution: Option<CapabilitySupport>,
    /// Server-side compaction (top-level `compaction` parameter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compaction: Option<CompactionCapability>,
    /// Context management and its strategies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_management: Option<ContextManagementCapability>,
    /// Effort levels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<EffortCapability>,
    /// Image content blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_input: Option<CapabilitySupport>,
    /// PDF content blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf_input: Option<CapabilitySupport>,
    /// Web search and code execution server tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_tools: Option<ServerToolsCapability>,
    /// Structured outputs / JSON mode / strict tool schemas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_outputs: Option<CapabilitySupport>,
    /// Thinking and the accepted `thinking.type` values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<ThinkingCapability>,
    /// Capabilities this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Compaction support (`BetaCompactionCapability`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CompactionCapability {
    /// Whether the top-level `compaction` parameter is accepted.
    #[serde(default)]
    pub supported: bool,
    /// The `summarize` compaction type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summarize: Option<CapabilitySupport>,
    /// Compaction types this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Context-management support (`BetaContextManagementCapability`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContextManagementCapability {
    /// Whether context management is supported.
    #[serde(default)]
    pub supported: bool,
    /// The `clear_thinking_20251015` strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_thinking_20251015: Option<CapabilitySupport>,
    /// The `clear_tool_uses_20250919` strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_tool_uses_20250919: Option<CapabilitySupport>,
    /// The `compact_20260112` strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compact_20260112: Option<CapabilitySupport>,
    /// Strategies this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Effort support and levels (`BetaEffortCapability`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EffortCapability {
    /// Whether effort is supported.
    #[serde(default)]
    pub supported: bool,
    /// `low`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<CapabilitySupport>,
    /// `medium`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<CapabilitySupport>,
    /// `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<CapabilitySupport>,
    /// `max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<CapabilitySupport>,
    /// `xhigh` (not on every model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xhigh: Option<CapabilitySupport>,
    /// Levels this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EffortCapability {
    /// Whether the effort level named `level` (`low` … `xhigh`, or a newer one) is supported.
    pub fn supports(&self, level: &str) -> bool {
        if !self.supported {
            return false;
        }
        match level {
            "low" => supported(&self.low),
            "medium" => supported(&self.medium),
            "high" => supported(&self.high),
            "max" => supported(&self.max),
            "xhigh" => supported(&self.xhigh),
            other => extra_supported(&self.extra, other),
        }
    }
}

/// Server-tool support (`BetaServerToolsCapability`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerToolsCapability {
    /// True when at least one of the tools is supported.
    #[serde(default)]
    pub supported: bool,
    /// The web search tool (some version of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_search: Option<CapabilitySupport>,
    /// The code execution tool (some version of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_execution: Option<CapabilitySupport>,
    /// Tools this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Thinking support (`BetaThinkingCapability`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThinkingCapability {
    /// Whether thinking is supported.
    #[serde(default)]
    pub supported: bool,
    /// Which `thinking.type` values are accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub types: Option<ThinkingTypes>,
    /// Keys this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Accepted `thinking.type` values (`BetaThinkingTypes`); read each key on its own.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThinkingTypes {
    /// `adaptive` (the model decides whether and how much to think).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<CapabilitySupport>,
    /// `enabled` (extended thinking with a caller-set `budget_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<CapabilitySupport>,
    /// `disabled` (thinking off; true on models without thinking).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<CapabilitySupport>,
    /// `between_tools` (thinking off, progress updates between tool calls as thinking blocks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub between_tools: Option<CapabilitySupport>,
    /// Types this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `extra[key].supported == true`.
fn extra_supported(extra: &Map<String, Value>, key: &str) -> bool {
    extra
        .get(key)
        .and_then(|v| v.get("supported"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Query parameters of `GET /v1/models` (the paginator adds `after_id` / `before_id`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListModels {
    /// Page size (1–1000, default 20).
    pub limit: Option<u32>,
    /// Lifecycle filter, up to 3 values; empty ⇒ server default (active + deprecated).
    pub lifecycle: Vec<ModelLifecycle>,
}

impl ListModels {
    /// Only `active` models (what a Managed Agents model picker should offer).
    pub fn active() -> Self {
        Self {
            limit: None,
            lifecycle: vec![ModelLifecycle::Active],
        }
    }

    /// The query string pairs, with the exact wire keys (`lifecycle[]` repeated).
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        if let Some(limit) = self.limit {
            q.push(("limit".to_owned(), limit.to_string()));
        }
        for l in &self.lifecycle {
            q.push(("lifecycle[]".to_owned(), l.as_str().to_owned()));
        }
        q
    }
}
