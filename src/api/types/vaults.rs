//! Vaults and vault credentials (reference `vaults.md`; SDK `types/beta/vault_*`,
//! `types/beta/vaults/*`).
//!
//! Responses never carry secrets. Every write-only secret (`access_token`,
//! `refresh.refresh_token`, `client_secret`, `token`, `secret_value`) exists only on request types,
//! as a [`SecretString`] that `Debug` redacts and that is exposed only while serialising.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::common::{CredentialId, Metadata, MetadataPatch, Timestamp, VaultId};
use super::macros::{open_enum, tagged_union};

fn vault_type() -> String {
    "vault".to_owned()
}

fn credential_type() -> String {
    "vault_credential".to_owned()
}

fn validation_type() -> String {
    "vault_credential_validation".to_owned()
}

// ---------------------------------------------------------------------------------------------
// Vaults
// ---------------------------------------------------------------------------------------------

/// A vault: a workspace-scoped collection of credentials, typically one per end user
/// (`BetaManagedAgentsVault`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Vault {
    /// Always `"vault"`.
    #[serde(rename = "type", default = "vault_type")]
    pub kind: String,
    /// The vault id (`vlt_…`).
    pub id: VaultId,
    /// Human-readable name (1–255 chars).
    pub display_name: String,
    /// Arbitrary key-value metadata.
    #[serde(default)]
    pub metadata: Metadata,
    /// When the vault was created.
    pub created_at: Timestamp,
    /// When the vault was last updated.
    pub updated_at: Timestamp,
    /// When the vault was archived; `None` if not archived.
    #[serde(default)]
    pub archived_at: Option<Timestamp>,
}

impl Vault {
    /// Whether the vault is archived (permanent, read-only).
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

/// Body of `POST /v1/vaults`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VaultCreate {
    /// Human-readable name (required, 1–255 chars).
    pub display_name: String,
    /// Metadata to attach (≤ 16 pairs, keys ≤ 64 chars, values ≤ 512 chars).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

impl VaultCreate {
    /// A vault with this display name and no metadata.
    pub fn new(display_name: impl Into<String>) -> Self {
        Self {
            display_name: display_name.into(),
            metadata: None,
        }
    }

    /// Adds one metadata pair.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata
            .get_or_insert_with(Metadata::new)
            .insert(key.into(), value.into());
        self
    }
}

/// Body of `POST /v1/vaults/{vault_id}` (update). Omitted fields are preserved.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VaultUpdate {
    /// `None` omits (preserve), `Some(None)` sends `null`, `Some(Some(name))` renames.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<Option<String>>,
    /// Metadata patch: a string upserts a key, `None` (JSON `null`) deletes it, absent keys are
    /// preserved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataPatch>,
}

impl VaultUpdate {
    /// An update that changes nothing (add fields with the `with_*` methods).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a new display name.
    pub fn with_display_name(mut self, display_name: impl Into<String>) -> Self {
        self.display_name = Some(Some(display_name.into()));
        self
    }

    /// Upserts one metadata key.
    pub fn set_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata
            .get_or_insert_with(MetadataPatch::new)
            .insert(key.into(), Some(value.into()));
        self
    }

    /// Deletes one metadata key (sends `"key": null`).
    pub fn remove_metadata(mut self, key: impl Into<String>) -> Self {
        self.metadata
            .get_or_insert_with(MetadataPatch::new)
            .insert(key.into(), None);
        self
    }
}

/// Query parameters of `GET /v1/vaults` (the paginator adds `page`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListVaults {
    /// Page size (default 20, max 100).
    pub limit: Option<u32>,
    /// Include archived vaults (server default `false`).
    pub include_archived: Option<bool>,
}

impl ListVaults {
    /// The query string pairs, with the exact wire keys.
    pub fn to_query(&self) -> Vec<(String, String)> {
        limit_archived_query(self.limit, self.include_archived)
    }
}

fn limit_archived_query(
    limit: Option<u32>,
    include_archived: Option<bool>,
) -> Vec<(String, String)> {
    let mut q = Vec::new();
    if let Some(limit) = limit {
        q.push(("limit".to_owned(), limit.to_string()));
    }
    if let Some(include) = include_archived {
        q.push(("include_archived".to_owned(), include.to_string()));
    }
    q
}

// ---------------------------------------------------------------------------------------------
// Credentials: responses
// ---------------------------------------------------------------------------------------------

/// A credential stored in a vault (`BetaManagedAgentsCredential`). Secrets are never returned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    /// Always `"vault_credential"`.
    #[serde(rename = "type", default = "credential_type")]
    pub kind: String,
    /// The credential id (`vcrd_…`).
    pub id: CredentialId,
    /// The vault this credential belongs to.
    pub vault_id: VaultId,
    /// Human-readable name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Authentication configuration (without secrets).
    pub auth: CredentialAuth,
    /// Arbitrary key-value metadata.
    #[serde(default)]
    pub metadata: Metadata,
    /// When the credential was created.
    pub created_at: Timestamp,
    /// When the credential was last updated.
    pub updated_at: Timestamp,
    /// When the credential was archived; `None` if not archived.
    #[serde(default)]
    pub archived_at: Option<Timestamp>,
}

impl Credential {
    /// Whether the credential is archived (permanent, read-only).
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }

    /// The MCP server URL for `mcp_oauth` / `static_bearer` credentials.
    pub fn mcp_server_url(&self) -> Option<&str> {
        match &self.auth {
            CredentialAuth::McpOAuth(a) => Some(&a.mcp_server_url),
            CredentialAuth::StaticBearer(a) => Some(&a.mcp_server_url),
            _ => None,
        }
    }
}

tagged_union! {
    /// `auth` of a [`Credential`] response, by `type`. Carries no secrets.
    pub enum CredentialAuth {
        /// OAuth credential for an MCP server.
        "mcp_oauth" => McpOAuth(McpOAuthAuth),
        /// Static bearer token for an MCP server.
        "static_bearer" => StaticBearer(StaticBearerAuth),
        /// A secret substituted into the sandbox's outbound HTTP requests.
        "environment_variable" => EnvironmentVariable(EnvironmentVariableAuth),
    }
}

/// Response `auth` of an `mcp_oauth` credential (`BetaManagedAgentsMCPOAuthAuthResponse`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McpOAuthAuth {
    /// URL of the MCP server this credential authenticates against.
    pub mcp_server_url: String,
    /// When the access token expires; `None` if unknown.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    /// Refresh configuration, if the credential supports token refresh.
    #[serde(default)]
    pub refresh: Option<McpOAuthRefresh>,
}

/// Refresh configuration in responses (`BetaManagedAgentsMCPOAuthRefreshResponse`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McpOAuthRefresh {
    /// OAuth client id used for refreshing.
    pub client_id: String,
    /// Token endpoint URL.
    pub token_endpoint: String,
    /// How the client authenticates to the token endpoint.
    pub token_endpoint_auth: TokenEndpointAuth,
    /// OAuth scope for refresh requests.
    #[serde(default)]
    pub scope: Option<String>,
    /// OAuth resource indicator.
    #[serde(default)]
    pub resource: Option<String>,
}

tagged_union! {
    /// Token-endpoint client authentication method, as returned (no secret).
    pub enum TokenEndpointAuth {
        /// Public client: no client authentication.
        "none" => None,
        /// HTTP Basic with client credentials.
        "client_secret_basic" => ClientSecretBasic,
        /// Client secret in the POST body.
        "client_secret_post" => ClientSecretPost,
    }
}

/// Response `auth` of a `static_bearer` credential (`BetaManagedAgentsStaticBearerAuthResponse`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaticBearerAuth {
    /// URL of the MCP server this credential authenticates against.
    pub mcp_server_url: String,
}

/// Response `auth` of an `environment_variable` credential
/// (`BetaManagedAgentsEnvironmentVariableAuthResponse`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentVariableAuth {
    /// Name of the environment variable (immutable).
    pub secret_name: String,
    /// Outbound hosts the secret is substituted on.
    pub networking: CredentialNetworking,
    /// Where in the outbound request the secret is substituted.
    pub injection_location: InjectionLocation,
}

tagged_union! {
    /// Where an `environment_variable` secret may be substituted (requests and responses).
    pub enum CredentialNetworking {
        /// Any host the session environment's network policy permits.
        "unrestricted" => Unrestricted,
        /// Only the listed hosts.
        "limited" => Limited(LimitedCredentialNetworking),
    }
}

impl CredentialNetworking {
    /// `{"type": "limited", "allowed_hosts": [...]}`.
    pub fn limited<I, S>(allowed_hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::Limited(LimitedCredentialNetworking {
            allowed_hosts: allowed_hosts.into_iter().map(Into::into).collect(),
        })
    }
}

/// Fields of the `limited` networking variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitedCredentialNetworking {
    /// Bare hostnames, IPv4 addresses or `*.example.com` wildcards (subdomains only, not the
    /// apex); no URLs, ports, paths or IPv6; ≤ 16 entries.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
}

/// Response injection location (`BetaManagedAgentsInjectionLocationResponse`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InjectionLocation {
    /// Whether the placeholder is substituted in request header values.
    #[serde(default)]
    pub header: bool,
    /// Whether the placeholder is substituted in the request body.
    #[serde(default)]
    pub body: bool,
}

/// Request injection location, for create and update (`BetaManagedAgentsInjectionLocationParams`,
/// `…UpdateParams`). On update an omitted location keeps its current setting; at least one must
/// remain enabled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InjectionLocationParams {
    /// Substitute when the placeholder appears in a request header value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<bool>,
    /// Substitute when the placeholder appears in the request body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<bool>,
}

impl InjectionLocationParams {
    /// Headers only (what the secure-deployment guide recommends).
    pub fn header_only() -> Self {
        Self {
            header: Some(true),
            body: Some(false),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Credentials: create
// ---------------------------------------------------------------------------------------------

/// Body of `POST /v1/vaults/{vault_id}/credentials`.
#[derive(Clone, Debug, Serialize)]
pub struct CredentialCreate {
    /// Authentication configuration, including its write-only secrets.
    pub auth: CredentialAuthCreate,
    /// Human-readable name (≤ 255 chars).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Metadata to attach.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

impl CredentialCreate {
    /// A credential with this `auth` and no name or metadata.
    pub fn new(auth: CredentialAuthCreate) -> Self {
        Self {
            auth,
            display_name: None,
            metadata: None,
        }
    }

    /// A `static_bearer` credential (API key / PAT) for an MCP server.
    pub fn static_bearer(
        mcp_server_url: impl Into<String>,
        token: impl Into<SecretString>,
    ) -> Self {
        Self::new(CredentialAuthCreate::StaticBearer(StaticBearerCreate {
            mcp_server_url: mcp_server_url.into(),
            token: token.into(),
        }))
    }

    /// An `mcp_oauth` credential. Without `refresh` it works until the access token expires.
    pub fn mcp_oauth(
        mcp_server_url: impl Into<String>,
        access_token: impl Into<SecretString>,
        expires_at: Option<Timestamp>,
        refresh: Option<McpOAuthRefreshCreate>,
    ) -> Self {
        Self::new(CredentialAuthCreate::McpOAuth(McpOAuthCreate {
            mcp_server_url: mcp_server_url.into(),
            access_token: access_token.into(),
            expires_at,
            refresh,
        }))
    }

    /// An `environment_variable` credential (no explicit injection location: server default).
    pub fn environment_variable(
        secret_name: impl Into<String>,
        secret_value: impl Into<SecretString>,
        networking: CredentialNetworking,
    ) -> Self {
        Self::new(CredentialAuthCreate::EnvironmentVariable(
            EnvironmentVariableCreate {
                secret_name: secret_name.into(),
                secret_value: secret_value.into(),
                networking,
                injection_location: None,
            },
        ))
    }

    /// Sets the display name.
    pub fn with_display_name(mut self, display_name: impl Into<String>) -> Self {
        self.display_name = Some(display_name.into());
        self
    }

    /// Adds one metadata pair.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata
            .get_or_insert_with(Metadata::new)
            .insert(key.into(), value.into());
        self
    }
}

/// Create-request `auth` union. Request-only (holds secrets), so it has no `Other` variant.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type")]
pub enum CredentialAuthCreate {
    /// `mcp_oauth`.
    #[serde(rename = "mcp_oauth")]
    McpOAuth(McpOAuthCreate),
    /// `static_bearer`.
    #[serde(rename = "static_bearer")]
    StaticBearer(StaticBearerCreate),
    /// `environment_variable`.
    #[serde(rename = "environment_variable")]
    EnvironmentVariable(EnvironmentVariableCreate),
}

/// `mcp_oauth` create fields (`BetaManagedAgentsMCPOAuthCreateParams`).
#[derive(Clone, Debug, Serialize)]
pub struct McpOAuthCreate {
    /// URL of the MCP server (immutable; the identity key for matching).
    pub mcp_server_url: String,
    /// Write-only: the OAuth access token sent to the MCP server.
    #[serde(serialize_with = "super::common::expose_secret")]
    pub access_token: SecretString,
    /// When `access_token` expires (must be in the future).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// Refresh configuration enabling background auto-refresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh: Option<McpOAuthRefreshCreate>,
}

/// Refresh parameters on create (`BetaManagedAgentsMCPOAuthRefreshParams`).
#[derive(Clone, Debug, Serialize)]
pub struct McpOAuthRefreshCreate {
    /// Write-only: the OAuth refresh token.
    #[serde(serialize_with = "super::common::expose_secret")]
    pub refresh_token: SecretString,
    /// OAuth client id (cannot be changed later).
    pub client_id: String,
    /// Token endpoint URL.
    pub token_endpoint: String,
    /// Client authentication at the token endpoint (may hold a secret).
    pub token_endpoint_auth: TokenEndpointAuthCreate,
    /// OAuth scope for refresh requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// OAuth resource indicator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

impl McpOAuthRefreshCreate {
    /// Refresh parameters without scope or resource.
    pub fn new(
        refresh_token: impl Into<SecretString>,
        client_id: impl Into<String>,
        token_endpoint: impl Into<String>,
        token_endpoint_auth: TokenEndpointAuthCreate,
    ) -> Self {
        Self {
            refresh_token: refresh_token.into(),
            client_id: client_id.into(),
            token_endpoint: token_endpoint.into(),
            token_endpoint_auth,
            scope: None,
            resource: None,
        }
    }

    /// Sets the OAuth scope.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Sets the OAuth resource indicator.
    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }
}

/// Token-endpoint client authentication on create. Request-only (holds secrets).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type")]
pub enum TokenEndpointAuthCreate {
    /// Public client: no client authentication.
    #[serde(rename = "none")]
    None,
    /// HTTP Basic with the client credentials.
    #[serde(rename = "client_secret_basic")]
    ClientSecretBasic {
        /// Write-only: the OAuth client secret.
        #[serde(serialize_with = "super::common::expose_secret")]
        client_secret: SecretString,
    },
    /// Client secret in the token request's POST body.
    #[serde(rename = "client_secret_post")]
    ClientSecretPost {
        /// Write-only: the OAuth client secret.
        #[serde(serialize_with = "super::common::expose_secret")]
        client_secret: SecretString,
    },
}

impl TokenEndpointAuthCreate {
    /// `client_secret_basic` with this secret.
    pub fn client_secret_basic(client_secret: impl Into<SecretString>) -> Self {
        Self::ClientSecretBasic {
            client_secret: client_secret.into(),
        }
    }

    /// `client_secret_post` with this secret.
    pub fn client_secret_post(client_secret: impl Into<SecretString>) -> Self {
        Self::ClientSecretPost {
            client_secret: client_secret.into(),
        }
    }
}

/// `static_bearer` create fields (`BetaManagedAgentsStaticBearerCreateParams`).
#[derive(Clone, Debug, Serialize)]
pub struct StaticBearerCreate {
    /// URL of the MCP server (immutable).
    pub mcp_server_url: String,
    /// Write-only: the bearer token (API key, PAT, …).
    #[serde(serialize_with = "super::common::expose_secret")]
    pub token: SecretString,
}

/// `environment_variable` create fields (`BetaManagedAgentsEnvironmentVariableCreateParams`).
#[derive(Clone, Debug, Serialize)]
pub struct EnvironmentVariableCreate {
    /// Name of the environment variable (immutable).
    pub secret_name: String,
    /// Write-only: the secret substituted into outbound requests.
    #[serde(serialize_with = "super::common::expose_secret")]
    pub secret_value: SecretString,
    /// Outbound hosts the secret is substituted on.
    pub networking: CredentialNetworking,
    /// Where in the outbound request the secret may be substituted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub injection_location: Option<InjectionLocationParams>,
}

// ---------------------------------------------------------------------------------------------
// Credentials: update
// ---------------------------------------------------------------------------------------------

/// Body of `POST /v1/vaults/{vault_id}/credentials/{credential_id}` (update / rotate).
/// Omitted fields are preserved.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CredentialUpdate {
    /// New auth settings; the `type` must match the stored one (it can never change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<CredentialAuthUpdate>,
    /// `None` omits, `Some(None)` sends `null`, `Some(Some(name))` renames.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<Option<String>>,
    /// Metadata patch: a string upserts a key, `None` (JSON `null`) deletes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataPatch>,
}

impl CredentialUpdate {
    /// An update that changes nothing (add fields with the `with_*` methods).
    pub fn new() -> Self {
        Self::default()
    }

    /// An update carrying only this `auth`.
    pub fn auth(auth: CredentialAuthUpdate) -> Self {
        Self {
            auth: Some(auth),
            ..Self::default()
        }
    }

    /// Rotates a `static_bearer` token.
    pub fn rotate_static_bearer(token: impl Into<SecretString>) -> Self {
        Self::auth(CredentialAuthUpdate::StaticBearer(StaticBearerUpdate {
            token: Some(Some(token.into())),
        }))
    }

    /// Rotates an `mcp_oauth` access token. Always sends `expires_at` too (`null` when `None`),
    /// so the new token never inherits the old token's expiry.
    pub fn rotate_mcp_oauth(
        access_token: impl Into<SecretString>,
        expires_at: Option<Timestamp>,
    ) -> Self {
        Self::auth(CredentialAuthUpdate::McpOAuth(McpOAuthUpdate {
            access_token: Some(Some(access_token.into())),
            expires_at: Some(expires_at),
            refresh: None,
        }))
    }

    /// Rotates an `environment_variable` secret value.
    pub fn rotate_environment_variable(secret_value: impl Into<SecretString>) -> Self {
        Self::auth(CredentialAuthUpdate::EnvironmentVariable(
            EnvironmentVariableUpdate {
                secret_value: Some(Some(secret_value.into())),
                ..EnvironmentVariableUpdate::default()
            },
        ))
    }

    /// Sets a new display name.
    pub fn with_display_name(mut self, display_name: impl Into<String>) -> Self {
        self.display_name = Some(Some(display_name.into()));
        self
    }

    /// Upserts one metadata key.
    pub fn set_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata
            .get_or_insert_with(MetadataPatch::new)
            .insert(key.into(), Some(value.into()));
        self
    }

    /// Deletes one metadata key (sends `"key": null`).
    pub fn remove_metadata(mut self, key: impl Into<String>) -> Self {
        self.metadata
            .get_or_insert_with(MetadataPatch::new)
            .insert(key.into(), None);
        self
    }
}

/// Update-request `auth` union, one variant per credential type. Request-only (holds secrets).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type")]
pub enum CredentialAuthUpdate {
    /// `mcp_oauth` (`mcp_server_url` is immutable and absent here).
    #[serde(rename = "mcp_oauth")]
    McpOAuth(McpOAuthUpdate),
    /// `static_bearer`.
    #[serde(rename = "static_bearer")]
    StaticBearer(StaticBearerUpdate),
    /// `environment_variable` (`secret_name` is immutable and absent here).
    #[serde(rename = "environment_variable")]
    EnvironmentVariable(EnvironmentVariableUpdate),
}

/// `mcp_oauth` update fields (`BetaManagedAgentsMCPOAuthUpdateParams`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct McpOAuthUpdate {
    /// Write-only: a new access token (`Some(None)` sends `null`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::common::expose_secret_patch"
    )]
    pub access_token: Option<Option<SecretString>>,
    /// New expiry; omit to keep the stored one. Send it whenever you send a new access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Option<Timestamp>>,
    /// Refresh changes; `Some(None)` sends `null` (clears the refresh configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<Option<McpOAuthRefreshUpdate>>,
}

/// Refresh changes on update (`BetaManagedAgentsMCPOAuthRefreshUpdateParams`). `client_id`,
/// `token_endpoint` and `resource` cannot be updated.
#[derive(Clone, Debug, Default, Serialize)]
pub struct McpOAuthRefreshUpdate {
    /// Write-only: a new refresh token.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::common::expose_secret_patch"
    )]
    pub refresh_token: Option<Option<SecretString>>,
    /// New scope; `Some(Some(""))` clears the stored scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Option<String>>,
    /// A new client secret for a credential that already uses basic/post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth: Option<TokenEndpointAuthUpdate>,
}

/// Token-endpoint auth on update: only a new secret for basic/post (`none` cannot be set). The
/// credential keeps its current method even if the other `type` is sent. Request-only.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type")]
pub enum TokenEndpointAuthUpdate {
    /// `client_secret_basic`.
    #[serde(rename = "client_secret_basic")]
    ClientSecretBasic {
        /// Write-only: the new client secret.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            serialize_with = "super::common::expose_secret_patch"
        )]
        client_secret: Option<Option<SecretString>>,
    },
    /// `client_secret_post`.
    #[serde(rename = "client_secret_post")]
    ClientSecretPost {
        /// Write-only: the new client secret.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            serialize_with = "super::common::expose_secret_patch"
        )]
        client_secret: Option<Option<SecretString>>,
    },
}

/// `static_bearer` update fields (`BetaManagedAgentsStaticBearerUpdateParams`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct StaticBearerUpdate {
    /// Write-only: the new bearer token.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::common::expose_secret_patch"
    )]
    pub token: Option<Option<SecretString>>,
}

/// `environment_variable` update fields (`BetaManagedAgentsEnvironmentVariableUpdateParams`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct EnvironmentVariableUpdate {
    /// Write-only: the new secret value.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::common::expose_secret_patch"
    )]
    pub secret_value: Option<Option<SecretString>>,
    /// New networking scope, replacing the stored one as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub networking: Option<Option<CredentialNetworking>>,
    /// Injection-location changes (omitted locations keep their setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injection_location: Option<InjectionLocationParams>,
}

/// Query parameters of `GET /v1/vaults/{vault_id}/credentials` (the paginator adds `page`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListCredentials {
    /// Page size (default 20, max 100).
    pub limit: Option<u32>,
    /// Include archived credentials (server default `false`).
    pub include_archived: Option<bool>,
}

impl ListCredentials {
    /// The query string pairs, with the exact wire keys.
    pub fn to_query(&self) -> Vec<(String, String)> {
        limit_archived_query(self.limit, self.include_archived)
    }
}

// ---------------------------------------------------------------------------------------------
// Credential validation
// ---------------------------------------------------------------------------------------------

/// Result of `POST …/credentials/{id}/mcp_oauth_validate` (`BetaManagedAgentsCredentialValidation`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CredentialValidation {
    /// Always `"vault_credential_validation"`.
    #[serde(rename = "type", default = "validation_type")]
    pub kind: String,
    /// The validated credential.
    pub credential_id: CredentialId,
    /// The vault containing it.
    pub vault_id: VaultId,
    /// When the probe ran.
    pub validated_at: Timestamp,
    /// Overall verdict.
    pub status: ValidationStatus,
    /// Whether a refresh token is configured.
    pub has_refresh_token: bool,
    /// The failing MCP probe step; `None` if the probe succeeded or there was no token to test.
    #[serde(default)]
    pub mcp_probe: Option<McpProbe>,
    /// The refresh-token exchange attempted on a 401; `None` when none was attempted.
    #[serde(default)]
    pub refresh: Option<RefreshAttempt>,
}

open_enum! {
    /// Verdict of a credential validation (`BetaManagedAgentsCredentialValidationStatus`).
    pub enum ValidationStatus {
        /// The MCP handshake succeeded.
        "valid" => Valid,
        /// Re-authentication is needed.
        "invalid" => Invalid,
        /// Transient failure; retry later.
        "unknown" => Unknown,
    }
}

/// The failing step of an MCP validation probe (`BetaManagedAgentsMCPProbe`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McpProbe {
    /// The MCP method that failed (`initialize`, `tools/list`, …).
    pub method: String,
    /// The server's HTTP error response; `None` after a timeout or a DNS/TLS failure.
    #[serde(default)]
    pub http_response: Option<ValidationHttpResponse>,
}

/// Outcome of a refresh-token exchange during validation (`BetaManagedAgentsRefreshObject`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefreshAttempt {
    /// Outcome of the refresh attempt.
    pub status: RefreshStatus,
    /// The token endpoint's error response; only when `status` is `failed`.
    #[serde(default)]
    pub http_response: Option<ValidationHttpResponse>,
}

open_enum! {
    /// Outcome of a refresh attempt during validation.
    pub enum RefreshStatus {
        /// The token endpoint returned a new access token.
        "succeeded" => Succeeded,
        /// The token endpoint returned an error response.
        "failed" => Failed,
        /// The token endpoint could not be reached (DNS, TLS or connection error).
        "connect_error" => ConnectError,
        /// No refresh token is stored, so no exchange was attempted.
        "no_refresh_token" => NoRefreshToken,
    }
}

/// An HTTP response captured during validation (`BetaManagedAgentsRefreshHTTPResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationHttpResponse {
    /// HTTP status code.
    pub status_code: u16,
    /// Value of the `Content-Type` response header.
    #[serde(default)]
    pub content_type: String,
    /// Response body (may be truncated; sensitive values scrubbed).
    #[serde(default)]
    pub body: String,
    /// Whether `body` was truncated.
    #[serde(default)]
    pub body_truncated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn open_enum_keeps_unknown_values() {
        let s: RefreshStatus = serde_json::from_value(json!("rate_limited")).unwrap();
        assert_eq!(s, RefreshStatus::Other("rate_limited".to_owned()));
        assert_eq!(serde_json::to_value(&s).unwrap(), json!("rate_limited"));
        let s: RefreshStatus = serde_json::from_value(json!("connect_error")).unwrap();
        assert_eq!(s, RefreshStatus::ConnectError);
        assert_eq!(s.to_string(), "connect_error");
    }
}
