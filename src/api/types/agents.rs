//! Agents and agent versions (reference `agents.md`).
//!
//! PLACEHOLDER: the names below are a contract other modules compile against; the agents-family
//! work replaces each with its real definition under the same name.

use serde::{Deserialize, Serialize};

macro_rules! placeholder {
    ($($(#[$m:meta])* $name:ident;)+) => {$(
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub serde_json::Value);
    )+};
}

placeholder! {
    /// Response `model` object.
    ModelConfig;
    /// Request `model`: id string or object.
    ModelParam;
    /// Response tool union (`agent_toolset_20260401` | `mcp_toolset` | `custom`).
    Tool;
    /// Request tool union.
    ToolParam;
    /// `{type:"url", name, url}` (request and response).
    McpServer;
    /// Response skill reference `{type, skill_id, version}`.
    AgentSkill;
    /// Request skill reference.
    SkillParams;
    /// `{type:"service_account"}` | `{type:"aws_role", role_arn}`.
    ExecutionIdentity;
    /// Response `multiagent` object.
    Multiagent;
}
