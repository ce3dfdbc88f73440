//! Pure mapping domain → wire (DESIGN decision 2): what the remote agent, environment, vault
//! and credentials of a managed agent spec should look like, with their fingerprints and the
//! normalised shapes drift detection compares.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ReconcileError;
use super::fingerprint::{SecretFingerprinter, fingerprint};
use super::tools::task_tools;
use crate::api::types::Metadata;
use crate::api::types::SkillId;
use crate::api::types::agents::{
    Agent, AgentCreate, AgentSkill, AgentToolsetParams, McpServer as WireMcpServer,
    McpToolsetParams, PermissionPolicy, SkillParams, Tool, ToolConfigParams, ToolParam,
};
use crate::api::types::environments::{
    CloudConfigParams, Environment, EnvironmentConfig, EnvironmentConfigParams,
    LimitedNetworkParams, Networking as WireNetworking, NetworkingParams, PackagesParams,
};
use crate::api::types::vaults::{
    CredentialAuthCreate, CredentialAuthUpdate, CredentialCreate, CredentialUpdate, McpOAuthCreate,
    McpOAuthRefreshCreate, McpOAuthRefreshUpdate, McpOAuthUpdate, StaticBearerCreate,
    StaticBearerUpdate, TokenEndpointAuthCreate, TokenEndpointAuthUpdate,
};
use crate::domain::{
    AgentSpec, AgentSpecId, CustomSkillId, ManagedAgent, McpAuth, Networking, OAuthClientAuth,
    SecretRef, SkillRef, TaskBridge, Timestamp, WorkspaceId,
};
use crate::store::SecretStore;

/// Metadata key: the installation that owns the object ([`ReconcilerConfig::owner`]).
///
/// [`ReconcilerConfig::owner`]: super::ReconcilerConfig::owner
pub const META_OWNER: &str = "claude_agents.owner";
/// Metadata key: the workspace id.
pub const META_WORKSPACE: &str = "claude_agents.workspace";
/// Metadata key: the agent spec id (the local key).
pub const META_SPEC: &str = "claude_agents.spec";
/// Metadata key: the fingerprint of the desired shape the object was written from.
pub const META_FINGERPRINT: &str = "claude_agents.fingerprint";
/// Metadata key: the nonce of the create that made the object.
pub const META_NONCE: &str = "claude_agents.nonce";
/// Metadata key (credentials): the MCP server name the credential is for.
pub const META_SERVER: &str = "claude_agents.mcp_server";

/// The host's MCP server exposing its full API (full task bridge).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostMcpServer {
    /// The server name on the agent (must not clash with a spec's server names).
    pub name: String,
    /// The server URL.
    pub url: String,
}

/// A custom skill as uploaded through the Skills API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteSkill {
    /// The remote skill id (`skill_…`).
    pub skill_id: SkillId,
    /// The version to pin.
    pub version: String,
}

/// What [`desired`] needs besides the spec.
#[derive(Clone, Debug, Default)]
pub struct DesiredContext {
    /// The installation id written as [`META_OWNER`].
    pub owner: String,
    /// The host's MCP server, for the full task bridge.
    pub host_mcp: Option<HostMcpServer>,
    /// Custom skills already uploaded, by local id.
    pub skills: BTreeMap<CustomSkillId, RemoteSkill>,
}

/// The desired remote agent.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredAgent {
    /// Name.
    pub name: String,
    /// System prompt (instructions as Markdown); `None` when empty.
    pub system: Option<String>,
    /// Model id.
    pub model: String,
    /// Tools: the agent toolset, one `mcp_toolset` per MCP server, the task tools.
    pub tools: Vec<ToolParam>,
    /// MCP servers.
    pub mcp_servers: Vec<WireMcpServer>,
    /// Skills.
    pub skills: Vec<SkillParams>,
    /// The normalised shape (what drift detection compares).
    pub shape: AgentShape,
    /// Fingerprint of `shape`.
    pub fingerprint: String,
}

/// The desired environment.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredEnvironment {
    /// Name prefix; a create appends the create's nonce (names are unique, archived
    /// environments included, so a recreated environment needs a new one).
    pub name_prefix: String,
    /// The cloud configuration sent.
    pub config: CloudConfigParams,
    /// The normalised shape.
    pub shape: EnvironmentShape,
    /// Fingerprint of `shape`.
    pub fingerprint: String,
}

/// The desired vault.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredVault {
    /// Display name.
    pub display_name: String,
    /// Fingerprint of the display name.
    pub fingerprint: String,
}

/// Secret material of a credential, read from the `SecretStore` at apply time.
#[derive(Clone, Debug)]
pub enum CredentialSecret {
    /// `static_bearer`.
    Bearer {
        /// The token.
        token: SecretString,
    },
    /// `mcp_oauth` with a stored token.
    OAuth {
        /// The access token.
        access_token: SecretString,
        /// Its expiry.
        expires_at: Option<Timestamp>,
        /// Refresh settings.
        refresh: Option<OAuthRefreshSecret>,
    },
}

/// Refresh settings of an `mcp_oauth` credential, with its secrets.
#[derive(Clone, Debug)]
pub struct OAuthRefreshSecret {
    /// Refresh token.
    pub refresh_token: SecretString,
    /// Client id.
    pub client_id: String,
    /// Token endpoint.
    pub token_endpoint: String,
    /// Client authentication (`None`: public client; `(basic?, secret)`).
    pub client_secret: Option<(bool, SecretString)>,
    /// Scope.
    pub scope: Option<String>,
    /// Resource indicator.
    pub resource: Option<String>,
}

/// The desired credential for one MCP server.
#[derive(Clone, Debug)]
pub struct DesiredCredential {
    /// MCP server name.
    pub server: String,
    /// MCP server URL.
    pub url: String,
    /// The secret material.
    pub secret: CredentialSecret,
    /// Fingerprint of the non-secret, non-updatable shape.
    pub shape_fingerprint: String,
    /// HMAC fingerprint of the secret material.
    pub secret_fingerprint: String,
}

/// Everything a managed agent spec should be remotely.
#[derive(Clone, Debug)]
pub struct Desired {
    /// Workspace.
    pub workspace: WorkspaceId,
    /// Spec id.
    pub spec: AgentSpecId,
    /// Spec revision.
    pub revision: u64,
    /// The owner written in metadata.
    pub owner: String,
    /// The agent.
    pub agent: DesiredAgent,
    /// The environment.
    pub environment: DesiredEnvironment,
    /// The vault.
    pub vault: DesiredVault,
    /// Credentials by MCP server name.
    pub credentials: BTreeMap<String, DesiredCredential>,
    /// Direct API access, recorded for the launcher.
    pub direct_api_access: bool,
}

impl Desired {
    /// Ownership metadata for a new object (owner, workspace, spec, fingerprint, nonce).
    pub fn ownership(&self, fingerprint: &str, nonce: &str) -> Metadata {
        let mut m = Metadata::new();
        m.insert(META_OWNER.to_owned(), self.owner.clone());
        m.insert(META_WORKSPACE.to_owned(), self.workspace.to_string());
        m.insert(META_SPEC.to_owned(), self.spec.to_string());
        m.insert(META_FINGERPRINT.to_owned(), fingerprint.to_owned());
        m.insert(META_NONCE.to_owned(), nonce.to_owned());
        m
    }

    /// Fingerprint of everything desired (secrets only through their HMAC fingerprints).
    pub fn fingerprint(&self) -> String {
        let creds: BTreeMap<&str, (&str, &str)> = self
            .credentials
            .iter()
            .map(|(k, c)| {
                (
                    k.as_str(),
                    (c.shape_fingerprint.as_str(), c.secret_fingerprint.as_str()),
                )
            })
            .collect();
        fingerprint(&json!({
            "agent": self.agent.fingerprint,
            "environment": self.environment.fingerprint,
            "vault": self.vault.fingerprint,
            "credentials": creds,
            "direct_api_access": self.direct_api_access,
        }))
    }

    /// The agent create body (ownership metadata included).
    pub fn agent_create(&self, nonce: &str) -> AgentCreate {
        let a = &self.agent;
        let mut body = AgentCreate::new(a.name.clone(), a.model.as_str());
        body.system = a.system.clone();
        body.tools = a.tools.clone();
        body.mcp_servers = a.mcp_servers.clone();
        body.skills = a.skills.clone();
        body.metadata = self.ownership(&a.fingerprint, nonce);
        body
    }
}

/// Whether remote metadata says the object belongs to this owner, workspace and spec.
pub fn owned_by(
    metadata: &Metadata,
    owner: &str,
    workspace: &WorkspaceId,
    spec: &AgentSpecId,
) -> bool {
    metadata.get(META_OWNER).map(String::as_str) == Some(owner)
        && metadata.get(META_WORKSPACE).map(String::as_str) == Some(workspace.as_str())
        && metadata.get(META_SPEC).map(String::as_str) == Some(spec.as_str())
}

// ---------------------------------------------------------------------------------------------
// Normalised shapes
// ---------------------------------------------------------------------------------------------

/// The agent fields we set, in a form both the request and the response map to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AgentShape {
    /// Name.
    pub name: String,
    /// System prompt (empty = none).
    pub system: String,
    /// Model id.
    pub model: String,
    /// Normalised tools (see [`normalise_tool`]), sorted.
    pub tools: Vec<Value>,
    /// `(name, url)` pairs, sorted.
    pub mcp_servers: Vec<(String, String)>,
    /// `(type, skill_id, pinned version)`, sorted.
    pub skills: Vec<(String, String, Option<String>)>,
}

fn norm_policy(p: Option<&PermissionPolicy>, default: &str) -> String {
    match p {
        Some(PermissionPolicy::AlwaysAllow) => "always_allow".to_owned(),
        Some(PermissionPolicy::AlwaysAsk) => "always_ask".to_owned(),
        Some(PermissionPolicy::Auto) => "auto".to_owned(),
        Some(other) => serde_json::to_value(other)
            .ok()
            .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| "other".to_owned()),
        None => default.to_owned(),
    }
}

/// A request tool in normalised form: toolsets as `{kind, enabled, policy, overrides}` with
/// the server defaults filled in, custom tools as `{kind, name, description, schema}`.
pub fn normalise_tool(tool: &ToolParam) -> Value {
    match tool {
        ToolParam::AgentToolset20260401(t) => {
            let dc = t.default_config.clone().unwrap_or_default();
            json!({
                "kind": "agent_toolset",
                "enabled": dc.enabled.unwrap_or(true),
                "policy": norm_policy(dc.permission_policy.as_ref(), "always_allow"),
                "overrides": t.configs.len(),
            })
        }
        ToolParam::McpToolset(t) => {
            let dc = t.default_config.clone().unwrap_or_default();
            json!({
                "kind": "mcp_toolset",
                "server": t.mcp_server_name,
                "enabled": dc.enabled.unwrap_or(true),
                "policy": norm_policy(dc.permission_policy.as_ref(), "always_ask"),
                "overrides": t.configs.len(),
            })
        }
        ToolParam::Custom(c) => json!({
            "kind": "custom",
            "name": c.name,
            "description": c.description,
            "schema": serde_json::to_value(&c.input_schema).unwrap_or(Value::Null),
        }),
        other => {
            json!({"kind": "other", "raw": serde_json::to_value(other).unwrap_or(Value::Null)})
        }
    }
}

/// A response tool in the same normalised form: per-tool `configs` count as overrides only
/// when they differ from the toolset's default (the API may echo every built-in tool).
pub fn normalise_remote_tool(tool: &Tool) -> Value {
    match tool {
        Tool::AgentToolset20260401(t) => {
            let enabled = t.default_config.enabled;
            let policy = norm_policy(Some(&t.default_config.permission_policy), "always_allow");
            let overrides = t
                .configs
                .iter()
                .filter(|c| {
                    let v = serde_json::to_value(c).unwrap_or(Value::Null);
                    v.get("enabled").and_then(Value::as_bool).unwrap_or(enabled) != enabled
                        || v.get("permission_policy")
                            .and_then(|p| p.get("type"))
                            .and_then(Value::as_str)
                            .is_some_and(|p| p != policy)
                })
                .count();
            json!({"kind": "agent_toolset", "enabled": enabled, "policy": policy, "overrides": overrides})
        }
        Tool::McpToolset(t) => {
            let enabled = t.default_config.enabled;
            let policy = norm_policy(Some(&t.default_config.permission_policy), "always_ask");
            let overrides = t
                .configs
                .iter()
                .filter(|c| {
                    c.enabled != enabled
                        || norm_policy(Some(&c.permission_policy), "always_ask") != policy
                })
                .count();
            json!({
                "kind": "mcp_toolset",
                "server": t.mcp_server_name,
                "enabled": enabled,
                "policy": policy,
                "overrides": overrides,
            })
        }
        Tool::Custom(c) => json!({
            "kind": "custom",
            "name": c.name,
            "description": c.description,
            "schema": serde_json::to_value(&c.input_schema).unwrap_or(Value::Null),
        }),
        other => {
            json!({"kind": "other", "raw": serde_json::to_value(other).unwrap_or(Value::Null)})
        }
    }
}

fn sorted_values(mut v: Vec<Value>) -> Vec<Value> {
    v.sort_by_key(|x| x.to_string());
    v
}

impl AgentShape {
    /// The shape of a desired agent.
    pub fn of_desired(
        name: &str,
        system: Option<&str>,
        model: &str,
        tools: &[ToolParam],
        servers: &[WireMcpServer],
        skills: &[SkillParams],
    ) -> Self {
        let mut mcp: Vec<(String, String)> = servers
            .iter()
            .filter_map(|s| match s {
                WireMcpServer::Url(u) => Some((u.name.clone(), u.url.clone())),
                _ => None,
            })
            .collect();
        mcp.sort();
        let mut sk: Vec<(String, String, Option<String>)> = skills
            .iter()
            .filter_map(|s| match s {
                SkillParams::Anthropic(r) => Some((
                    "anthropic".to_owned(),
                    r.skill_id.to_string(),
                    r.version.clone(),
                )),
                SkillParams::Custom(r) => Some((
                    "custom".to_owned(),
                    r.skill_id.to_string(),
                    r.version.clone(),
                )),
                _ => None,
            })
            .collect();
        sk.sort();
        Self {
            name: name.to_owned(),
            system: system.unwrap_or_default().to_owned(),
            model: model.to_owned(),
            tools: sorted_values(tools.iter().map(normalise_tool).collect()),
            mcp_servers: mcp,
            skills: sk,
        }
    }

    /// The shape of a remote agent, as far as `desired` sets fields: a skill's version is
    /// compared only where the desired reference pins one.
    pub fn of_remote(agent: &Agent, desired: &AgentShape) -> Self {
        let mut mcp: Vec<(String, String)> = agent
            .mcp_servers
            .iter()
            .filter_map(|s| match s {
                WireMcpServer::Url(u) => Some((u.name.clone(), u.url.clone())),
                _ => None,
            })
            .collect();
        mcp.sort();
        let mut sk: Vec<(String, String, Option<String>)> = agent
            .skills
            .iter()
            .filter_map(|s| {
                let (kind, r) = match s {
                    AgentSkill::Anthropic(r) => ("anthropic", r),
                    AgentSkill::Custom(r) => ("custom", r),
                    _ => return None,
                };
                let pinned = desired
                    .skills
                    .iter()
                    .any(|(k, id, v)| k == kind && id == r.skill_id.as_str() && v.is_some());
                Some((
                    kind.to_owned(),
                    r.skill_id.to_string(),
                    pinned.then(|| r.version.clone()),
                ))
            })
            .collect();
        sk.sort();
        Self {
            name: agent.name.clone(),
            system: agent.system.clone().unwrap_or_default(),
            model: agent.model.id.to_string(),
            tools: sorted_values(agent.tools.iter().map(normalise_remote_tool).collect()),
            mcp_servers: mcp,
            skills: sk,
        }
    }
}

/// The environment fields we set, normalised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnvironmentShape {
    /// `unrestricted`, `limited`, or another type name.
    pub networking: String,
    /// Allowed hosts (limited only).
    pub allowed_hosts: Vec<String>,
    /// Allow package managers (limited only).
    pub allow_package_managers: bool,
    /// Allow MCP servers (limited only).
    pub allow_mcp_servers: bool,
    /// Packages per manager (`apt`, `cargo`, `gem`, `go`, `npm`, `pip`).
    pub packages: BTreeMap<String, Vec<String>>,
}

impl EnvironmentShape {
    /// The shape of a remote environment (`None` for a self-hosted one).
    pub fn of_remote(env: &Environment) -> Option<Self> {
        let EnvironmentConfig::Cloud(c) = &env.config else {
            return None;
        };
        let (networking, hosts, pm, mcp) = match &c.networking {
            WireNetworking::Unrestricted => ("unrestricted".to_owned(), vec![], false, false),
            WireNetworking::Limited(l) => (
                "limited".to_owned(),
                l.allowed_hosts.clone(),
                l.allow_package_managers,
                l.allow_mcp_servers,
            ),
            _ => ("other".to_owned(), vec![], false, false),
        };
        let p = &c.packages;
        let packages = [
            ("apt", &p.apt),
            ("cargo", &p.cargo),
            ("gem", &p.gem),
            ("go", &p.go),
            ("npm", &p.npm),
            ("pip", &p.pip),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect();
        Some(Self {
            networking,
            allowed_hosts: hosts,
            allow_package_managers: pm,
            allow_mcp_servers: mcp,
            packages,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Mapping
// ---------------------------------------------------------------------------------------------

fn environment(spec: &AgentSpec, m: &ManagedAgent) -> DesiredEnvironment {
    let e = &m.environment;
    let p = &e.packages;
    let lists = [
        ("apt", &p.apt),
        ("cargo", &p.cargo),
        ("gem", &p.gem),
        ("go", &p.go),
        ("npm", &p.npm),
        ("pip", &p.pip),
    ];
    let (networking, shape_net, hosts, pm, mcp) = match &e.networking {
        Networking::Limited {
            allowed_hosts,
            allow_package_managers,
            allow_mcp_servers,
        } => (
            NetworkingParams::Limited(LimitedNetworkParams {
                allowed_hosts: Some(allowed_hosts.clone()),
                allow_package_managers: Some(*allow_package_managers),
                allow_mcp_servers: Some(*allow_mcp_servers),
            }),
            "limited",
            allowed_hosts.clone(),
            *allow_package_managers,
            *allow_mcp_servers,
        ),
        _ => (
            NetworkingParams::Unrestricted,
            "unrestricted",
            vec![],
            false,
            false,
        ),
    };
    // Every list is sent (an empty one too), so an update replaces what the Console added.
    let packages = PackagesParams {
        apt: Some(p.apt.clone()),
        cargo: Some(p.cargo.clone()),
        gem: Some(p.gem.clone()),
        go: Some(p.go.clone()),
        npm: Some(p.npm.clone()),
        pip: Some(p.pip.clone()),
    };
    let shape = EnvironmentShape {
        networking: shape_net.to_owned(),
        allowed_hosts: hosts,
        allow_package_managers: pm,
        allow_mcp_servers: mcp,
        packages: lists
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect(),
    };
    DesiredEnvironment {
        name_prefix: format!("claude-agents {}/{}", spec.workspace, spec.id),
        config: CloudConfigParams {
            networking: Some(networking),
            packages: Some(packages),
        },
        fingerprint: fingerprint(&shape),
        shape,
    }
}

/// The environment config request form of `config`.
pub(crate) fn env_config(config: &CloudConfigParams) -> EnvironmentConfigParams {
    EnvironmentConfigParams::Cloud(config.clone())
}

/// Maps a managed agent spec to its desired remote state. `credentials` are the spec's
/// credentials as read by [`load_credentials`].
///
/// # Errors
/// [`ReconcileError::Invalid`] for a spec that fails validation, a connected spec,
/// instructions that do not convert, a full-bridge spec without a configured host MCP
/// server (or whose server name clashes with it), a custom skill without an upload in
/// `ctx.skills`, or ids too long for metadata.
pub fn desired(
    spec: &AgentSpec,
    ctx: &DesiredContext,
    credentials: BTreeMap<String, DesiredCredential>,
) -> Result<Desired, ReconcileError> {
    spec.validate().map_err(ReconcileError::Invalid)?;
    let crate::domain::AgentKind::Managed(m) = &spec.kind else {
        return Err(ReconcileError::invalid("kind", "not a managed agent"));
    };
    let system = crate::instructions::to_markdown(&m.instructions_html)
        .map_err(|e| ReconcileError::invalid("kind.instructions_html", &e.to_string()))?
        .into_string();
    let system = (!system.trim().is_empty()).then_some(system);

    let mut tools = vec![ToolParam::AgentToolset20260401(AgentToolsetParams {
        default_config: Some(
            ToolConfigParams::default()
                .with_enabled(true)
                .with_policy(PermissionPolicy::AlwaysAllow),
        ),
        configs: vec![],
    })];
    let mut servers = Vec::new();
    let mcp_toolset = |name: &str| {
        ToolParam::McpToolset(McpToolsetParams {
            default_config: Some(
                ToolConfigParams::default()
                    .with_enabled(true)
                    .with_policy(PermissionPolicy::AlwaysAsk),
            ),
            ..McpToolsetParams::new(name)
        })
    };
    for s in &m.mcp_servers {
        servers.push(WireMcpServer::url(s.name.clone(), s.url.clone()));
        tools.push(mcp_toolset(&s.name));
    }
    for t in task_tools() {
        tools.push(ToolParam::Custom(t));
    }
    if m.tool_mode.bridge == TaskBridge::FullApi {
        let Some(host) = &ctx.host_mcp else {
            return Err(ReconcileError::invalid(
                "kind.tool_mode.bridge",
                "the full API bridge needs the host's MCP server (ReconcilerConfig::host_mcp)",
            ));
        };
        if m.mcp_servers.iter().any(|s| s.name == host.name) {
            return Err(ReconcileError::invalid(
                "kind.mcp_servers",
                "a server has the name reserved for the host's MCP server",
            ));
        }
        servers.push(WireMcpServer::url(host.name.clone(), host.url.clone()));
        tools.push(mcp_toolset(&host.name));
    }
    let mut skills = Vec::new();
    for s in &m.skills {
        match s {
            SkillRef::Anthropic { skill_id } => {
                skills.push(SkillParams::anthropic(skill_id.as_str()))
            }
            SkillRef::Custom { skill } => {
                let Some(remote) = ctx.skills.get(skill) else {
                    return Err(ReconcileError::SkillNotSynced {
                        skill: skill.clone(),
                    });
                };
                skills.push(
                    SkillParams::custom(remote.skill_id.clone())
                        .with_version(remote.version.clone()),
                );
            }
        }
    }
    for (field, v) in [
        ("workspace", spec.workspace.as_str()),
        ("id", spec.id.as_str()),
    ] {
        if v.chars().count() > 512 {
            return Err(ReconcileError::invalid(
                field,
                "too long for metadata (512)",
            ));
        }
    }
    if ctx.owner.is_empty() || ctx.owner.chars().count() > 512 {
        return Err(ReconcileError::invalid("owner", "must be 1–512 characters"));
    }
    let shape = AgentShape::of_desired(
        &spec.name,
        system.as_deref(),
        &m.model,
        &tools,
        &servers,
        &skills,
    );
    let agent = DesiredAgent {
        name: spec.name.clone(),
        system,
        model: m.model.clone(),
        tools,
        mcp_servers: servers,
        skills,
        fingerprint: fingerprint(&shape),
        shape,
    };
    let vault = DesiredVault {
        display_name: spec.name.clone(),
        fingerprint: fingerprint(&json!({"display_name": spec.name})),
    };
    Ok(Desired {
        workspace: spec.workspace.clone(),
        spec: spec.id.clone(),
        revision: spec.revision,
        owner: ctx.owner.clone(),
        agent,
        environment: environment(spec, m),
        vault,
        credentials,
        direct_api_access: m.tool_mode.allow_direct_api_access,
    })
}

// ---------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------

async fn secret(
    secrets: &dyn SecretStore,
    reference: &SecretRef,
    field: &str,
) -> Result<SecretString, ReconcileError> {
    match secrets.get(reference).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(ReconcileError::SecretMissing {
            field: field.to_owned(),
            reference: reference.clone(),
        }),
        Err(e) => Err(ReconcileError::Store(e.into())),
    }
}

/// Reads the secrets of a managed spec's MCP servers and builds their desired credentials:
/// `BearerToken` → `static_bearer`; `OAuthToken` → `mcp_oauth`; `OAuth` (login flow, owned by
/// the `oauth` module) and `None` → no credential.
///
/// # Errors
/// [`ReconcileError::SecretMissing`] naming the field and reference (never a value).
pub async fn load_credentials(
    m: &ManagedAgent,
    secrets: &dyn SecretStore,
    fp: &SecretFingerprinter,
) -> Result<BTreeMap<String, DesiredCredential>, ReconcileError> {
    let mut out = BTreeMap::new();
    for (i, s) in m.mcp_servers.iter().enumerate() {
        let field = |f: &str| format!("kind.mcp_servers[{i}].auth.{f}");
        let (secret, shape, material) = match &s.auth {
            McpAuth::BearerToken { secret: r } => {
                let token = secret(secrets, r, &field("secret")).await?;
                let material = json!({"token": token.expose_secret()});
                (
                    CredentialSecret::Bearer { token },
                    json!({"type": "static_bearer", "url": s.url}),
                    material,
                )
            }
            McpAuth::OAuthToken {
                access_token,
                expires_at,
                refresh,
            } => {
                let access = secret(secrets, access_token, &field("access_token")).await?;
                let mut refresh_secret = None;
                let mut shape = json!({"type": "mcp_oauth", "url": s.url, "refresh": null});
                let mut material = json!({
                    "access_token": access.expose_secret(),
                    "expires_at": expires_at,
                });
                if let Some(r) = refresh {
                    let rt =
                        secret(secrets, &r.refresh_token, &field("refresh.refresh_token")).await?;
                    let client_secret = match &r.client_auth {
                        OAuthClientAuth::ClientSecretBasic { client_secret } => Some((
                            true,
                            secret(
                                secrets,
                                client_secret,
                                &field("refresh.client_auth.client_secret"),
                            )
                            .await?,
                        )),
                        OAuthClientAuth::ClientSecretPost { client_secret } => Some((
                            false,
                            secret(
                                secrets,
                                client_secret,
                                &field("refresh.client_auth.client_secret"),
                            )
                            .await?,
                        )),
                        _ => None,
                    };
                    shape["refresh"] = json!({
                        "client_id": r.client_id,
                        "token_endpoint": r.token_endpoint,
                        "resource": r.resource,
                        "auth": client_secret.as_ref().map(|(basic, _)| if *basic { "basic" } else { "post" }),
                    });
                    material["refresh_token"] = json!(rt.expose_secret());
                    material["scope"] = json!(r.scope);
                    material["client_secret"] =
                        json!(client_secret.as_ref().map(|(_, s)| s.expose_secret()));
                    refresh_secret = Some(OAuthRefreshSecret {
                        refresh_token: rt,
                        client_id: r.client_id.clone(),
                        token_endpoint: r.token_endpoint.clone(),
                        client_secret,
                        scope: r.scope.clone(),
                        resource: r.resource.clone(),
                    });
                }
                (
                    CredentialSecret::OAuth {
                        access_token: access,
                        expires_at: *expires_at,
                        refresh: refresh_secret,
                    },
                    shape,
                    material,
                )
            }
            _ => continue,
        };
        let secret_fingerprint = fp.fingerprint(&material);
        // `material` holds secret values: overwrite before dropping (best effort).
        drop(zeroize::Zeroizing::new(material.to_string()));
        out.insert(
            s.name.clone(),
            DesiredCredential {
                server: s.name.clone(),
                url: s.url.clone(),
                secret,
                shape_fingerprint: fingerprint(&shape),
                secret_fingerprint,
            },
        );
    }
    Ok(out)
}

impl DesiredCredential {
    /// The create body (secrets included: send it, never log it).
    pub fn create_body(&self, metadata: Metadata) -> CredentialCreate {
        let auth = match &self.secret {
            CredentialSecret::Bearer { token } => {
                CredentialAuthCreate::StaticBearer(StaticBearerCreate {
                    mcp_server_url: self.url.clone(),
                    token: token.clone(),
                })
            }
            CredentialSecret::OAuth {
                access_token,
                expires_at,
                refresh,
            } => CredentialAuthCreate::McpOAuth(McpOAuthCreate {
                mcp_server_url: self.url.clone(),
                access_token: access_token.clone(),
                expires_at: *expires_at,
                refresh: refresh.as_ref().map(|r| McpOAuthRefreshCreate {
                    refresh_token: r.refresh_token.clone(),
                    client_id: r.client_id.clone(),
                    token_endpoint: r.token_endpoint.clone(),
                    token_endpoint_auth: match &r.client_secret {
                        None => TokenEndpointAuthCreate::None,
                        Some((true, s)) => TokenEndpointAuthCreate::client_secret_basic(s.clone()),
                        Some((false, s)) => TokenEndpointAuthCreate::client_secret_post(s.clone()),
                    },
                    scope: r.scope.clone(),
                    resource: r.resource.clone(),
                }),
            }),
        };
        CredentialCreate {
            auth,
            display_name: Some(self.server.clone()),
            metadata: Some(metadata),
        }
    }

    /// The rotate body (secrets included).
    pub fn rotate_body(&self, fingerprint_meta: &str) -> CredentialUpdate {
        let auth = match &self.secret {
            CredentialSecret::Bearer { token } => {
                CredentialAuthUpdate::StaticBearer(StaticBearerUpdate {
                    token: Some(Some(token.clone())),
                })
            }
            CredentialSecret::OAuth {
                access_token,
                expires_at,
                refresh,
            } => CredentialAuthUpdate::McpOAuth(McpOAuthUpdate {
                access_token: Some(Some(access_token.clone())),
                expires_at: Some(*expires_at),
                refresh: refresh.as_ref().map(|r| {
                    Some(McpOAuthRefreshUpdate {
                        refresh_token: Some(Some(r.refresh_token.clone())),
                        scope: Some(r.scope.clone()),
                        token_endpoint_auth: r.client_secret.as_ref().map(|(basic, s)| {
                            if *basic {
                                TokenEndpointAuthUpdate::ClientSecretBasic {
                                    client_secret: Some(Some(s.clone())),
                                }
                            } else {
                                TokenEndpointAuthUpdate::ClientSecretPost {
                                    client_secret: Some(Some(s.clone())),
                                }
                            }
                        }),
                    })
                }),
            }),
        };
        CredentialUpdate::auth(auth).set_metadata(META_FINGERPRINT, fingerprint_meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_keys_fit_the_limits() {
        for k in [
            META_OWNER,
            META_WORKSPACE,
            META_SPEC,
            META_FINGERPRINT,
            META_NONCE,
            META_SERVER,
        ] {
            assert!(k.len() <= 64, "{k}");
        }
    }
}
