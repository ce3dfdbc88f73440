//! Agent specs: what an agent is (managed by us, or an existing remote agent we connect to),
//! with its MCP servers, tool mode, environment settings and default repositories.

use serde::{Deserialize, Serialize};

use super::{
    AgentSpecId, DomainError, ProviderKeyId, SecretRef, SkillRef, Timestamp, WorkspaceId, validate,
};

/// Limit for rich-editor instructions (HTML, before conversion to Markdown).
pub(crate) const INSTRUCTIONS_MAX: usize = 200_000;
/// Limit for custom guidance.
pub(crate) const GUIDANCE_MAX: usize = 20_000;
/// Limit for one agent rule.
pub(crate) const RULE_MAX: usize = 2_000;
/// Limit for the number of agent rules.
pub(crate) const RULES_MAX: usize = 100;
/// Limit for the number of repositories.
pub(crate) const REPOSITORIES_MAX: usize = 20;
/// Limit for the number of MCP servers (the API's limit).
const MCP_SERVERS_MAX: usize = 20;
/// Limit for the number of skills.
const SKILLS_MAX: usize = 20;
/// Limit for allowed hosts and per-manager package lists.
const LIST_MAX: usize = 256;

/// An agent the host configured, in a workspace, using one provider key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentSpec {
    /// Local id.
    pub id: AgentSpecId,
    /// The workspace the agent belongs to.
    pub workspace: WorkspaceId,
    /// Display name (1–256 chars, single line).
    pub name: String,
    /// The provider key the agent's API calls use.
    pub provider_key: ProviderKeyId,
    /// Managed by this crate, or connected to an existing remote agent.
    pub kind: AgentKind,
    /// Bumped by the host on every edit.
    #[serde(default)]
    pub revision: u64,
}

/// How an agent exists on the Anthropic side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
#[non_exhaustive]
// Settings values, built and moved rarely: boxing would only make them awkward to construct.
#[allow(clippy::large_enum_variant)]
pub enum AgentKind {
    /// This crate creates and updates the remote agent, environment and vaults from the spec.
    Managed(ManagedAgent),
    /// The remote agent already exists and is managed elsewhere; sessions just use it.
    Connected(ConnectedAgent),
}

/// The settings of a managed agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManagedAgent {
    /// Instructions as rich-editor HTML (≤ 200,000 chars); the `instructions` module turns
    /// them into safe Markdown for the system prompt.
    #[serde(default)]
    pub instructions_html: String,
    /// Model id (`claude-sonnet-4-6`), non-empty, no whitespace.
    pub model: String,
    /// Extra guidance appended to every task prompt (≤ 20,000 chars).
    #[serde(default)]
    pub guidance: String,
    /// Agent rules, one per entry (each 1–2,000 chars; ≤ 100).
    #[serde(default)]
    pub rules: Vec<String>,
    /// Selected skills (unique; ≤ 20).
    #[serde(default)]
    pub skills: Vec<SkillRef>,
    /// MCP servers (names unique; ≤ 20).
    #[serde(default)]
    pub mcp_servers: Vec<McpServer>,
    /// Which task tools the agent gets.
    #[serde(default)]
    pub tool_mode: ToolMode,
    /// Repositories mounted in every session unless a project overrides them (≤ 20, unique
    /// URLs).
    #[serde(default)]
    pub repositories: Vec<Repository>,
    /// The sandbox the sessions run in.
    #[serde(default)]
    pub environment: EnvironmentSettings,
}

/// An existing remote agent this crate only starts sessions with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectedAgent {
    /// The remote agent id (`agent_…`).
    pub agent_id: String,
    /// The remote environment id (`env_…`) sessions run in.
    pub environment_id: String,
    /// Vault ids (`vlt_…`) the user supplies for every session (unique).
    #[serde(default)]
    pub vault_ids: Vec<String>,
}

/// An MCP server an agent can use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McpServer {
    /// Name, unique within the agent: 1–64 of `A–Z a–z 0–9 _ -`.
    pub name: String,
    /// Absolute `https` URL (plain `http` only for loopback hosts).
    pub url: String,
    /// How sessions authenticate to it.
    #[serde(default)]
    pub auth: McpAuth,
}

/// How sessions authenticate to an MCP server. Secrets are [`SecretRef`]s.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum McpAuth {
    /// No authentication.
    #[default]
    None,
    /// A static bearer token (API key, personal access token).
    BearerToken {
        /// The token.
        secret: SecretRef,
    },
    /// OAuth with a login flow; the login state (and the tokens it yields) is owned by the
    /// `oauth` module, not stored here.
    OAuth {
        /// Scopes to request, space-separated, if the server needs specific ones.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
    },
    /// An OAuth access token obtained elsewhere and stored by hand, optionally with what is
    /// needed to refresh it (client credentials).
    OAuthToken {
        /// The access token.
        access_token: SecretRef,
        /// When the access token expires, if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<Timestamp>,
        /// How to refresh it; without it the token works until it expires.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh: Option<OAuthRefresh>,
    },
}

/// What is needed to refresh a stored OAuth access token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OAuthRefresh {
    /// The refresh token.
    pub refresh_token: SecretRef,
    /// The OAuth client id.
    pub client_id: String,
    /// The token endpoint (absolute `https` URL).
    pub token_endpoint: String,
    /// How the client authenticates at the token endpoint.
    #[serde(default)]
    pub client_auth: OAuthClientAuth,
    /// Scopes, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// OAuth resource indicator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

/// How an OAuth client authenticates at the token endpoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum OAuthClientAuth {
    /// A public client (no secret).
    #[default]
    None,
    /// Client secret in HTTP Basic auth.
    ClientSecretBasic {
        /// The client secret.
        client_secret: SecretRef,
    },
    /// Client secret in the form body.
    ClientSecretPost {
        /// The client secret.
        client_secret: SecretRef,
    },
}

/// Which task tools an agent gets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolMode {
    /// Basic task tools, or the full API bridge.
    #[serde(default)]
    pub bridge: TaskBridge,
    /// Whether the agent may also call the host's API directly (with a per-session token).
    #[serde(default)]
    pub allow_direct_api_access: bool,
}

/// How the agent reaches the host's tasks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TaskBridge {
    /// A few custom tools (read the task, comment, update status) answered by the host.
    #[default]
    Basic,
    /// The host's MCP server exposing its full API, with a per-session token.
    FullApi,
}

/// The sandbox sessions run in.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentSettings {
    /// Outbound network access.
    #[serde(default)]
    pub networking: Networking,
    /// Packages installed before the agent starts.
    #[serde(default)]
    pub packages: Packages,
}

/// Outbound network access from the sandbox.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Networking {
    /// Full egress.
    #[default]
    Unrestricted,
    /// Only the listed hosts (plus, optionally, package registries and the agent's MCP
    /// servers).
    Limited {
        /// Bare hostnames the sandbox may reach (unique; ≤ 256).
        #[serde(default)]
        allowed_hosts: Vec<String>,
        /// Allow public package registries (required when packages are listed).
        #[serde(default)]
        allow_package_managers: bool,
        /// Allow the agent's MCP servers.
        #[serde(default)]
        allow_mcp_servers: bool,
    },
}

/// Packages per package manager, in each manager's own syntax (`pandas==2.2.2`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Packages {
    /// `apt` packages.
    #[serde(default)]
    pub apt: Vec<String>,
    /// `cargo` crates.
    #[serde(default)]
    pub cargo: Vec<String>,
    /// Ruby gems.
    #[serde(default)]
    pub gem: Vec<String>,
    /// Go modules.
    #[serde(default)]
    pub go: Vec<String>,
    /// npm packages.
    #[serde(default)]
    pub npm: Vec<String>,
    /// pip packages.
    #[serde(default)]
    pub pip: Vec<String>,
}

impl Packages {
    /// Whether no package is listed.
    pub fn is_empty(&self) -> bool {
        self.lists().iter().all(|(_, l)| l.is_empty())
    }

    fn lists(&self) -> [(&'static str, &Vec<String>); 6] {
        [
            ("apt", &self.apt),
            ("cargo", &self.cargo),
            ("gem", &self.gem),
            ("go", &self.go),
            ("npm", &self.npm),
            ("pip", &self.pip),
        ]
    }

    /// Each entry is 1–200 chars without whitespace or control characters; ≤ 256 per manager.
    pub fn validate(&self) -> Result<(), DomainError> {
        for (name, list) in self.lists() {
            validate::max_count(name, list, LIST_MAX)?;
            for (i, p) in list.iter().enumerate() {
                let field = validate::at(name, i);
                validate::id(&field, p)?;
                validate::max_len(&field, p, 200)?;
            }
        }
        Ok(())
    }
}

impl EnvironmentSettings {
    /// Checks allowed hosts (bare hostnames, unique), packages, and that `limited` networking
    /// allows package managers when packages are listed (the API requires it).
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Networking::Limited {
            allowed_hosts,
            allow_package_managers,
            ..
        } = &self.networking
        {
            validate::max_count("networking.allowed_hosts", allowed_hosts, LIST_MAX)?;
            for (i, h) in allowed_hosts.iter().enumerate() {
                validate::hostname(&validate::at("networking.allowed_hosts", i), h)?;
            }
            validate::unique("networking.allowed_hosts", allowed_hosts, String::as_str)?;
            if !allow_package_managers && !self.packages.is_empty() {
                return Err(validate::invalid(
                    "networking.allow_package_managers",
                    "must be true when packages are listed under limited networking",
                ));
            }
        }
        self.packages.validate().map_err(|e| e.within("packages"))
    }
}

impl McpServer {
    /// Checks the name (1–64 of `A–Z a–z 0–9 _ -`), the URL (absolute `https`, `http` only for
    /// loopback, no credentials) and the auth settings.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.name.is_empty() {
            return Err(validate::empty("name"));
        }
        validate::max_len("name", &self.name, 64)?;
        if !self
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(validate::invalid(
                "name",
                "only letters, digits, `_` and `-`",
            ));
        }
        validate::service_url("url", &self.url)?;
        self.auth.validate().map_err(|e| e.within("auth"))
    }
}

impl McpAuth {
    /// Checks secret references, client ids and the token endpoint URL.
    pub fn validate(&self) -> Result<(), DomainError> {
        match self {
            Self::None => Ok(()),
            Self::BearerToken { secret } => validate::id("secret", secret.as_str()),
            Self::OAuth { scope } => {
                if let Some(s) = scope {
                    validate::name("scope", s, 2048)?;
                }
                Ok(())
            }
            Self::OAuthToken {
                access_token,
                refresh,
                ..
            } => {
                validate::id("access_token", access_token.as_str())?;
                let Some(r) = refresh else { return Ok(()) };
                validate::id("refresh.refresh_token", r.refresh_token.as_str())?;
                validate::id("refresh.client_id", &r.client_id)?;
                validate::service_url("refresh.token_endpoint", &r.token_endpoint)?;
                match &r.client_auth {
                    OAuthClientAuth::None => {}
                    OAuthClientAuth::ClientSecretBasic { client_secret }
                    | OAuthClientAuth::ClientSecretPost { client_secret } => {
                        validate::id("refresh.client_auth.client_secret", client_secret.as_str())?
                    }
                }
                if let Some(s) = &r.scope {
                    validate::name("refresh.scope", s, 2048)?;
                }
                if let Some(res) = &r.resource {
                    validate::service_url("refresh.resource", res)?;
                }
                Ok(())
            }
        }
    }
}

/// A GitHub repository mounted into sessions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Repository {
    /// `https://github.com/<owner>/<repo>` (no `.git`, no trailing slash).
    pub url: String,
    /// Branch to check out (default branch when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Absolute path inside the sandbox (default chosen by the launcher when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,
}

impl Repository {
    /// A repository on its default branch at the default mount path.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            branch: None,
            mount_path: None,
        }
    }

    /// `(owner, repo)` when the URL is valid.
    pub fn owner_and_name(&self) -> Option<(&str, &str)> {
        let rest = self.url.strip_prefix("https://github.com/")?;
        let (owner, name) = rest.split_once('/')?;
        (valid_owner(owner) && valid_repo(name)).then_some((owner, name))
    }

    /// Checks the URL (`https://github.com/<owner>/<repo>`: owner 1–39 letters, digits or
    /// inner hyphens; repo 1–100 of letters, digits, `.`, `_`, `-`, not `.`/`..`, no `.git`
    /// suffix), the branch (a plausible git branch name) and the mount path (absolute, no `..`
    /// segments, no control characters).
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.url.is_empty() {
            return Err(validate::empty("url"));
        }
        if self.url.ends_with(".git") {
            return Err(validate::invalid("url", "must not end with `.git`"));
        }
        if self.owner_and_name().is_none() {
            return Err(validate::invalid(
                "url",
                "must be `https://github.com/<owner>/<repo>`",
            ));
        }
        if let Some(b) = &self.branch {
            validate_branch(b)?;
        }
        if let Some(p) = &self.mount_path {
            if p.is_empty() {
                return Err(validate::empty("mount_path"));
            }
            validate::max_len("mount_path", p, 1024)?;
            if !p.starts_with('/')
                || p.split('/').any(|s| s == "..")
                || p.chars().any(char::is_control)
            {
                return Err(validate::invalid(
                    "mount_path",
                    "must be an absolute path without `..` segments or control characters",
                ));
            }
        }
        Ok(())
    }
}

fn valid_owner(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 39
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn valid_repo(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s != "."
        && s != ".."
        && !s.ends_with(".git")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn validate_branch(b: &str) -> Result<(), DomainError> {
    if b.is_empty() {
        return Err(validate::empty("branch"));
    }
    validate::max_len("branch", b, 255)?;
    let bad = b.starts_with('-')
        || b.starts_with('/')
        || b.ends_with('/')
        || b.ends_with('.')
        || b.ends_with(".lock")
        || b.contains("..")
        || b.contains("//")
        || b.contains("@{")
        || b == "@"
        || b.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '~' | '^' | ':' | '?' | '*' | '[' | '\\')
        });
    if bad {
        return Err(validate::invalid("branch", "not a valid git branch name"));
    }
    Ok(())
}

impl AgentSpec {
    /// Checks the ids, the name, and the managed or connected settings. Nested errors carry
    /// their path (`kind.mcp_servers[1].url`).
    pub fn validate(&self) -> Result<(), DomainError> {
        validate::id("id", self.id.as_str())?;
        validate::id("workspace", self.workspace.as_str())?;
        validate::name("name", &self.name, validate::NAME_MAX)?;
        validate::id("provider_key", self.provider_key.as_str())?;
        match &self.kind {
            AgentKind::Managed(m) => m.validate(),
            AgentKind::Connected(c) => c.validate(),
        }
        .map_err(|e| e.within("kind"))
    }
}

/// Checks a list of agent rules (each 1–2,000 chars, ≤ 100 rules).
pub(crate) fn validate_rules(field: &str, rules: &[String]) -> Result<(), DomainError> {
    validate::max_count(field, rules, RULES_MAX)?;
    for (i, r) in rules.iter().enumerate() {
        validate::required_text(&validate::at(field, i), r, RULE_MAX)?;
    }
    Ok(())
}

/// Checks a list of repositories (each valid, unique URL+mount path, ≤ 20).
pub(crate) fn validate_repositories(field: &str, repos: &[Repository]) -> Result<(), DomainError> {
    validate::max_count(field, repos, REPOSITORIES_MAX)?;
    for (i, r) in repos.iter().enumerate() {
        r.validate()
            .map_err(|e| e.within(&validate::at(field, i)))?;
    }
    validate::unique(field, repos, |r| r.url.as_str())
}

impl ManagedAgent {
    /// Checks every setting; see the field docs for the limits.
    pub fn validate(&self) -> Result<(), DomainError> {
        validate::text(
            "instructions_html",
            &self.instructions_html,
            INSTRUCTIONS_MAX,
        )?;
        validate::id("model", &self.model)?;
        validate::text("guidance", &self.guidance, GUIDANCE_MAX)?;
        validate_rules("rules", &self.rules)?;
        validate::max_count("skills", &self.skills, SKILLS_MAX)?;
        for (i, s) in self.skills.iter().enumerate() {
            s.validate()
                .map_err(|e| e.within(&validate::at("skills", i)))?;
        }
        let keys: Vec<String> = self.skills.iter().map(SkillRef::key).collect();
        validate::unique("skills", &keys, String::as_str)?;
        validate::max_count("mcp_servers", &self.mcp_servers, MCP_SERVERS_MAX)?;
        for (i, s) in self.mcp_servers.iter().enumerate() {
            s.validate()
                .map_err(|e| e.within(&validate::at("mcp_servers", i)))?;
        }
        validate::unique("mcp_servers", &self.mcp_servers, |s| s.name.as_str())?;
        validate_repositories("repositories", &self.repositories)?;
        self.environment
            .validate()
            .map_err(|e| e.within("environment"))
    }
}

impl ConnectedAgent {
    /// Checks that the agent and environment ids are present (no whitespace) and the vault ids
    /// are valid and unique.
    pub fn validate(&self) -> Result<(), DomainError> {
        validate::id("agent_id", &self.agent_id)?;
        validate::id("environment_id", &self.environment_id)?;
        validate::max_count("vault_ids", &self.vault_ids, 50)?;
        for (i, v) in self.vault_ids.iter().enumerate() {
            validate::id(&validate::at("vault_ids", i), v)?;
        }
        validate::unique("vault_ids", &self.vault_ids, String::as_str)
    }
}

#[cfg(test)]
mod tests;
