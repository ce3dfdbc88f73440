//! Connected mode: the host connects an agent spec to a remote agent, environment and vaults
//! that are managed elsewhere. This module serves the settings UI's pickers (one page per call)
//! and checks a saved [`ConnectedAgent`] before sessions use it.
//!
//! Nothing here writes: every function only reads (`GET`).
//!
//! Pickers return small display structs ([`AgentItem`], [`EnvironmentItem`], [`VaultItem`]),
//! never wire DTOs. Archived objects are excluded unless [`PickerQuery::include_archived`] is
//! set: the list asks the server with `include_archived=false` and drops any archived item it
//! still gets, so a page may hold fewer than `limit` items; keep paging while
//! [`Page::next_page`] is `Some`.

use std::fmt;

use futures_util::stream::{self, StreamExt};

use crate::api::types::agents::{Agent, ListAgents};
use crate::api::types::environments::{Environment, ListEnvironments};
use crate::api::types::vaults::{ListVaults, Vault};
use crate::api::types::{AgentId, CursorPage, EnvironmentId, Timestamp, VaultId};
use crate::api::{Client, Error as ApiError};
use crate::domain::{ConnectedAgent, DomainError};

/// How many vaults [`validate_connected`] fetches at once.
const VAULT_FETCH_CONCURRENCY: usize = 8;

/// What a picker page asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PickerQuery {
    /// Page size (1–100); `None`: the API's default (20).
    pub limit: Option<u32>,
    /// Also list archived objects (default `false`).
    pub include_archived: bool,
}

/// One page of a picker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in the API's order.
    pub items: Vec<T>,
    /// The cursor for the next page (pass it back as `page`); `None` on the last page.
    pub next_page: Option<String>,
}

/// A remote agent in the picker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentItem {
    /// Agent id (`agent_…`).
    pub id: String,
    /// Name.
    pub name: String,
    /// The model id of its current version.
    pub model: String,
    /// Its current version.
    pub version: u64,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was archived (only listed with [`PickerQuery::include_archived`]).
    pub archived_at: Option<Timestamp>,
}

/// A remote environment in the picker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvironmentItem {
    /// Environment id (`env_…`).
    pub id: String,
    /// Name.
    pub name: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was archived (only listed with [`PickerQuery::include_archived`]).
    pub archived_at: Option<Timestamp>,
}

/// A vault in the picker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultItem {
    /// Vault id (`vlt_…`).
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was archived (only listed with [`PickerQuery::include_archived`]).
    pub archived_at: Option<Timestamp>,
}

impl From<Agent> for AgentItem {
    fn from(a: Agent) -> Self {
        Self {
            id: a.id.0,
            name: a.name,
            model: a.model.id.0,
            version: a.version,
            created_at: a.created_at,
            archived_at: a.archived_at,
        }
    }
}

impl From<Environment> for EnvironmentItem {
    fn from(e: Environment) -> Self {
        Self {
            id: e.id.0,
            name: e.name,
            created_at: e.created_at,
            archived_at: e.archived_at,
        }
    }
}

impl From<Vault> for VaultItem {
    fn from(v: Vault) -> Self {
        Self {
            id: v.id.0,
            display_name: v.display_name,
            created_at: v.created_at,
            archived_at: v.archived_at,
        }
    }
}

/// The kind of remote object a connected agent refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResourceKind {
    /// An agent.
    Agent,
    /// An environment.
    Environment,
    /// A vault.
    Vault,
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceKind::Agent => "agent",
            ResourceKind::Environment => "environment",
            ResourceKind::Vault => "vault",
        })
    }
}

/// Why a picker page or a connected-agent check failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectedError {
    /// The connected agent's settings are not valid (checked before any request).
    #[error("invalid connected agent: {0}")]
    Invalid(#[source] DomainError),
    /// The object does not exist (HTTP 404), or the key cannot see it.
    #[error("{kind} `{id}` does not exist{}", request_suffix(.request_id))]
    Missing {
        /// What was looked up.
        kind: ResourceKind,
        /// Its id.
        id: String,
        /// The `request-id` of the 404.
        request_id: Option<String>,
    },
    /// The object exists but is archived (permanent): sessions cannot use it.
    #[error("{kind} `{id}` is archived (since {archived_at})")]
    Archived {
        /// What was looked up.
        kind: ResourceKind,
        /// Its id.
        id: String,
        /// When it was archived.
        archived_at: Timestamp,
    },
    /// Fetching or listing failed for another reason (auth, rate limit, transport, …); status
    /// and request id are in the source.
    #[error("{}: {source}", match .id { Some(id) => format!("fetching {kind} `{id}` failed"), None => format!("listing {kind}s failed") })]
    Api {
        /// What was fetched or listed.
        kind: ResourceKind,
        /// The id fetched; `None` for a list.
        id: Option<String>,
        /// The client's error.
        #[source]
        source: ApiError,
    },
}

fn request_suffix(request_id: &Option<String>) -> String {
    request_id
        .as_ref()
        .map(|id| format!(" [request-id {id}]"))
        .unwrap_or_default()
}

impl ConnectedError {
    /// The kind of object the error is about (`None` for [`Invalid`](Self::Invalid)).
    pub fn kind(&self) -> Option<ResourceKind> {
        match self {
            ConnectedError::Invalid(_) => None,
            ConnectedError::Missing { kind, .. }
            | ConnectedError::Archived { kind, .. }
            | ConnectedError::Api { kind, .. } => Some(*kind),
        }
    }

    /// The id of the object the error is about, when there is one.
    pub fn id(&self) -> Option<&str> {
        match self {
            ConnectedError::Invalid(_) => None,
            ConnectedError::Missing { id, .. } | ConnectedError::Archived { id, .. } => Some(id),
            ConnectedError::Api { id, .. } => id.as_deref(),
        }
    }

    /// The request id of the failed call, when one is known.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ConnectedError::Missing { request_id, .. } => request_id.as_deref(),
            ConnectedError::Api { source, .. } => source.request_id(),
            ConnectedError::Invalid(_) | ConnectedError::Archived { .. } => None,
        }
    }

    fn fetch(kind: ResourceKind, id: &str, e: ApiError) -> Self {
        if e.is_not_found() {
            ConnectedError::Missing {
                kind,
                id: id.to_owned(),
                request_id: e.request_id().map(str::to_owned),
            }
        } else {
            ConnectedError::Api {
                kind,
                id: Some(id.to_owned()),
                source: e,
            }
        }
    }

    fn list(kind: ResourceKind, e: ApiError) -> Self {
        ConnectedError::Api {
            kind,
            id: None,
            source: e,
        }
    }
}

fn page_of<W, T: From<W>>(
    page: CursorPage<W>,
    include_archived: bool,
    archived: impl Fn(&W) -> bool,
) -> Page<T> {
    Page {
        items: page
            .data
            .into_iter()
            .filter(|w| include_archived || !archived(w))
            .map(T::from)
            .collect(),
        next_page: page.next_page,
    }
}

/// One page of remote agents for the agent picker; pass the previous page's
/// [`next_page`](Page::next_page) as `page` (`None` for the first).
///
/// # Errors
/// [`ConnectedError::Api`] when the list call fails.
pub async fn list_agents(
    client: &Client,
    query: &PickerQuery,
    page: Option<&str>,
) -> Result<Page<AgentItem>, ConnectedError> {
    let params = ListAgents {
        limit: query.limit,
        include_archived: Some(query.include_archived),
        ..ListAgents::default()
    };
    let page = client
        .agents()
        .list_page(&params, page)
        .await
        .map_err(|e| ConnectedError::list(ResourceKind::Agent, e))?;
    Ok(page_of(page, query.include_archived, Agent::is_archived))
}

/// One page of environments for the environment picker (see [`list_agents`]).
///
/// # Errors
/// [`ConnectedError::Api`] when the list call fails.
pub async fn list_environments(
    client: &Client,
    query: &PickerQuery,
    page: Option<&str>,
) -> Result<Page<EnvironmentItem>, ConnectedError> {
    let params = ListEnvironments {
        limit: query.limit,
        include_archived: Some(query.include_archived),
    };
    let page = client
        .environments()
        .list_page(&params, page)
        .await
        .map_err(|e| ConnectedError::list(ResourceKind::Environment, e))?;
    Ok(page_of(page, query.include_archived, |e: &Environment| {
        e.archived_at.is_some()
    }))
}

/// One page of vaults for the vault picker (see [`list_agents`]).
///
/// # Errors
/// [`ConnectedError::Api`] when the list call fails.
pub async fn list_vaults(
    client: &Client,
    query: &PickerQuery,
    page: Option<&str>,
) -> Result<Page<VaultItem>, ConnectedError> {
    let params = ListVaults {
        limit: query.limit,
        include_archived: Some(query.include_archived),
    };
    let page = client
        .vaults()
        .list_page(&params, page)
        .await
        .map_err(|e| ConnectedError::list(ResourceKind::Vault, e))?;
    Ok(page_of(page, query.include_archived, Vault::is_archived))
}

/// What a launcher needs to start sessions with a connected agent, as checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectedCheck {
    /// The remote agent id.
    pub agent_id: String,
    /// The agent's current version when checked (sessions reference the latest unless pinned).
    pub agent_version: u64,
    /// The model of that version.
    pub model: String,
    /// The environment id.
    pub environment_id: String,
    /// The user's vault ids, in the configured order.
    pub vault_ids: Vec<String>,
}

/// Checks a connected agent: its settings are valid, and the agent, the environment and every
/// vault exist and are not archived. Only reads: one `GET` per object, fetched concurrently
/// (the agent, the environment and up to 8 vaults at once).
///
/// When several objects are wrong, the error names the first in this order: the agent, the
/// environment, then the vaults in the configured order.
///
/// # Errors
/// [`ConnectedError::Invalid`] (before any request), [`ConnectedError::Missing`] (404, with
/// the request id), [`ConnectedError::Archived`], [`ConnectedError::Api`] for any other
/// failure.
pub async fn validate_connected(
    client: &Client,
    connected: &ConnectedAgent,
) -> Result<ConnectedCheck, ConnectedError> {
    connected.validate().map_err(ConnectedError::Invalid)?;
    let agent_id = AgentId(connected.agent_id.clone());
    let environment_id = EnvironmentId(connected.environment_id.clone());
    let agents = client.agents();
    let environments = client.environments();
    let vaults = client.vaults();
    let (agent, environment, vault_results) = futures_util::future::join3(
        agents.retrieve(&agent_id),
        environments.retrieve(&environment_id),
        stream::iter(&connected.vault_ids)
            .map(|id| async move { (id, vaults.retrieve(&VaultId(id.clone())).await) })
            .buffered(VAULT_FETCH_CONCURRENCY)
            .collect::<Vec<_>>(),
    )
    .await;

    let agent =
        agent.map_err(|e| ConnectedError::fetch(ResourceKind::Agent, &connected.agent_id, e))?;
    if let Some(at) = agent.archived_at {
        return Err(ConnectedError::Archived {
            kind: ResourceKind::Agent,
            id: connected.agent_id.clone(),
            archived_at: at,
        });
    }
    let environment = environment.map_err(|e| {
        ConnectedError::fetch(ResourceKind::Environment, &connected.environment_id, e)
    })?;
    if let Some(at) = environment.archived_at {
        return Err(ConnectedError::Archived {
            kind: ResourceKind::Environment,
            id: connected.environment_id.clone(),
            archived_at: at,
        });
    }
    for (id, vault) in vault_results {
        let vault = vault.map_err(|e| ConnectedError::fetch(ResourceKind::Vault, id, e))?;
        if let Some(at) = vault.archived_at {
            return Err(ConnectedError::Archived {
                kind: ResourceKind::Vault,
                id: id.clone(),
                archived_at: at,
            });
        }
    }
    Ok(ConnectedCheck {
        agent_id: agent.id.0,
        agent_version: agent.version,
        model: agent.model.id.0,
        environment_id: environment.id.0,
        vault_ids: connected.vault_ids.clone(),
    })
}
