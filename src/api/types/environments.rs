//! Environments: reusable sandbox templates (reference `environments.md`; SDK `anthropic`
//! 2.10.0 `types/beta`).
//!
//! * Response: [`Environment`] with its [`EnvironmentConfig`] (`cloud` | `self_hosted`),
//!   [`Networking`] and [`Packages`].
//! * Requests: [`EnvironmentCreate`], [`EnvironmentUpdate`] with [`EnvironmentConfigParams`];
//!   list query [`ListEnvironments`]. `DELETE` answers with [`super::common::Deleted`]
//!   (`type: "environment_deleted"`).

use serde::{Deserialize, Serialize};

use super::common::{EnvironmentId, Metadata, MetadataPatch, Timestamp};
use super::macros::open_enum;
use super::macros::tagged_union;

/// A Managed Agents `environment` (reference environments.md §2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// Object type, always `environment`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Environment id (`env_…`).
    pub id: EnvironmentId,
    /// Human-readable name, unique within the organization / workspace.
    pub name: String,
    /// Description; `None` when unset.
    #[serde(default)]
    pub description: Option<String>,
    /// Sandbox configuration (`cloud` or `self_hosted`; the type cannot change after creation).
    pub config: EnvironmentConfig,
    /// Key/value metadata (the standard 16/64/512 limits presumably apply — UNCONFIRMED).
    #[serde(default)]
    pub metadata: Metadata,
    /// Visibility scope; optional in the SDK (tolerant on input: absent or null accepted).
    #[serde(default)]
    pub scope: Option<EnvironmentScope>,
    /// When the environment was created (the SDK types these timestamps as plain strings; the
    /// API sends RFC 3339).
    pub created_at: Timestamp,
    /// When the environment was last updated.
    pub updated_at: Timestamp,
    /// When the environment was archived; `None` unless archived (archiving is permanent).
    #[serde(default)]
    pub archived_at: Option<Timestamp>,
}

impl Environment {
    /// Whether the environment has been archived (read-only; no new sessions).
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

open_enum! {
    /// Visibility scope of an environment.
    pub enum EnvironmentScope {
        /// Visible to all accounts of the organization (the only scope API organizations
        /// support).
        "organization" => Organization,
        /// Visible only to the owning account.
        "account" => Account,
    }
}

tagged_union! {
    /// Response environment configuration.
    pub enum EnvironmentConfig {
        /// Anthropic-hosted sandbox.
        "cloud" => Cloud(CloudConfig),
        /// Tool execution on your own infrastructure via the environment work queue.
        "self_hosted" => SelfHosted,
    }
}

/// Response `cloud` configuration (fields other than `type`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CloudConfig {
    /// Network policy of the container (never governs `web_search` / `web_fetch`).
    pub networking: Networking,
    /// Packages installed before the agent starts (always present; tolerant on input).
    #[serde(default)]
    pub packages: Packages,
}

tagged_union! {
    /// Response network policy.
    pub enum Networking {
        /// Full egress (except a legal blocklist).
        "unrestricted" => Unrestricted,
        /// Egress only to the listed hosts, plus optional package registries / MCP servers.
        "limited" => Limited(LimitedNetwork),
    }
}

/// Response `limited` network policy: all fields resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LimitedNetwork {
    /// Domains the container can reach.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Whether public package registries (PyPI, npm, …) are reachable beyond `allowed_hosts`.
    pub allow_package_managers: bool,
    /// Whether the agent's MCP server endpoints are reachable beyond `allowed_hosts`.
    pub allow_mcp_servers: bool,
}

/// Response package lists (every list present, possibly empty). Installed in alphabetical
/// manager order (apt, cargo, gem, go, npm, pip) and cached across sessions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Packages {
    /// `packages` when present; the SDK marks it optional (may be absent or null).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Ubuntu/Debian packages.
    #[serde(default)]
    pub apt: Vec<String>,
    /// Rust crates.
    #[serde(default)]
    pub cargo: Vec<String>,
    /// Ruby gems.
    #[serde(default)]
    pub gem: Vec<String>,
    /// Go packages.
    #[serde(default)]
    pub go: Vec<String>,
    /// Node.js packages.
    #[serde(default)]
    pub npm: Vec<String>,
    /// Python packages (e.g. `pandas==2.2.2`).
    #[serde(default)]
    pub pip: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

tagged_union! {
    /// Request environment configuration. On update `type` must equal the stored type (else
    /// 400 `invalid_config_type_change`).
    pub enum EnvironmentConfigParams {
        /// Anthropic-hosted sandbox.
        "cloud" => Cloud(CloudConfigParams),
        /// Self-hosted tool execution.
        "self_hosted" => SelfHosted,
    }
}

impl EnvironmentConfigParams {
    /// `{"type":"cloud","networking":{"type":"unrestricted"}}`.
    pub fn cloud_unrestricted() -> Self {
        EnvironmentConfigParams::Cloud(CloudConfigParams {
            networking: Some(NetworkingParams::Unrestricted),
            packages: None,
        })
    }
}

/// Request `cloud` configuration. On update an omitted (`None`) field preserves the stored
/// value. (The effect of an explicit `null` is UNCONFIRMED, so it cannot be sent.)
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CloudConfigParams {
    /// Network policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub networking: Option<NetworkingParams>,
    /// Packages; under `limited` networking requires `allow_package_managers: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packages: Option<PackagesParams>,
}

tagged_union! {
    /// Request network policy.
    pub enum NetworkingParams {
        /// Full egress.
        "unrestricted" => Unrestricted,
        /// Egress only to the listed hosts (plus the opted-in extras).
        "limited" => Limited(LimitedNetworkParams),
    }
}

/// Request `limited` network policy; on update omitted fields are preserved.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LimitedNetworkParams {
    /// Domains the container can reach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_hosts: Option<Vec<String>>,
    /// Allow public package registries beyond `allowed_hosts` (default false on create; must
    /// be true when `packages` are given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_package_managers: Option<bool>,
    /// Allow the agent's MCP server endpoints beyond `allowed_hosts` (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_mcp_servers: Option<bool>,
}

/// Request package lists (each optional). Pin versions with the manager's own syntax; the
/// optional `"type": "packages"` the SDK allows is never sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PackagesParams {
    /// Ubuntu/Debian packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apt: Option<Vec<String>>,
    /// Rust crates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cargo: Option<Vec<String>>,
    /// Ruby gems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gem: Option<Vec<String>>,
    /// Go packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go: Option<Vec<String>>,
    /// Node.js packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub npm: Option<Vec<String>>,
    /// Python packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pip: Option<Vec<String>>,
}

/// Body of `POST /v1/environments`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EnvironmentCreate {
    /// Name, unique within the organization / workspace (a duplicate returns 409).
    pub name: String,
    /// Configuration; omitted ⇒ a server default (UNCONFIRMED which).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<EnvironmentConfigParams>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Metadata (omitted when empty).
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
    /// Visibility scope; omitted ⇒ default by organization type (`account` is rejected for API
    /// organizations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<EnvironmentScope>,
}

impl EnvironmentCreate {
    /// A create body with only a name.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            config: None,
            description: None,
            metadata: Metadata::new(),
            scope: None,
        }
    }
}

/// Body of `POST /v1/environments/{environment_id}` (update); applies to new containers only.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EnvironmentUpdate {
    /// New name (omitted ⇒ preserved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description: omitted ⇒ preserved, `Some(None)` ⇒ cleared to null, `""` stored as is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Option<String>>,
    /// Configuration; its `type` must match the stored one; omitted inner fields are preserved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<EnvironmentConfigParams>,
    /// Metadata patch: `None` (or an empty string) deletes a key; keys not in the patch are
    /// preserved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataPatch>,
    /// New visibility scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<EnvironmentScope>,
}

/// Query of `GET /v1/environments` (the paginator adds `page`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListEnvironments {
    /// Page size (server default UNCONFIRMED).
    pub limit: Option<u32>,
    /// Include archived environments.
    pub include_archived: Option<bool>,
}

impl ListEnvironments {
    /// Query pairs, in a stable order.
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        if let Some(limit) = self.limit {
            q.push(("limit".to_owned(), limit.to_string()));
        }
        if let Some(include) = self.include_archived {
            q.push(("include_archived".to_owned(), include.to_string()));
        }
        q
    }
}
