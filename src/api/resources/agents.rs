//! `/v1/agents`: create, retrieve (optionally a version), update with optimistic concurrency,
//! archive, list, and list versions (reference agents.md §1).

use crate::api::client::{Client, ItemStream, Request};
use crate::api::error::Result;
use crate::api::retry::RequestKind;
use crate::api::types::agents::{
    Agent, AgentCreate, AgentUpdate, GetAgent, ListAgentVersions, ListAgents,
};
use crate::api::types::{AgentId, CursorPage};

use super::seg;

/// Handle for `/v1/agents`; get one with [`Client::agents`].
#[derive(Clone, Copy, Debug)]
pub struct Agents<'c> {
    pub(crate) client: &'c Client,
}

impl Agents<'_> {
    /// `POST /v1/agents`. A create is never re-sent when it may have reached the server
    /// ([`Error::OutcomeUnknown`](crate::api::Error::OutcomeUnknown)); give it metadata you can
    /// find it by.
    pub async fn create(&self, body: &AgentCreate) -> Result<Agent> {
        self.client
            .call(Request::post("/v1/agents", RequestKind::Create).json(body)?)
            .await
    }

    /// `GET /v1/agents/{id}` — the latest version.
    pub async fn retrieve(&self, id: &AgentId) -> Result<Agent> {
        self.retrieve_with(id, &GetAgent::default()).await
    }

    /// `GET /v1/agents/{id}?version=N`.
    pub async fn retrieve_with(&self, id: &AgentId, params: &GetAgent) -> Result<Agent> {
        self.client
            .call(Request::get(format!("/v1/agents/{}", seg(id.as_str()))).query(params.to_query()))
            .await
    }

    /// `POST /v1/agents/{id}`: every successful update mints a new immutable version. Send the
    /// current `version` in `body`: if the agent changed meanwhile the call fails with
    /// [`Error::Conflict`](crate::api::Error::Conflict) (never retried) — re-read and re-apply.
    pub async fn update(&self, id: &AgentId, body: &AgentUpdate) -> Result<Agent> {
        self.client
            .call(
                Request::post(
                    format!("/v1/agents/{}", seg(id.as_str())),
                    RequestKind::Idempotent,
                )
                .json(body)?,
            )
            .await
    }

    /// `POST /v1/agents/{id}/archive`: permanent; there is no unarchive and no delete.
    pub async fn archive(&self, id: &AgentId) -> Result<Agent> {
        self.client
            .call(Request::post(
                format!("/v1/agents/{}/archive", seg(id.as_str())),
                RequestKind::Idempotent,
            ))
            .await
    }

    /// `GET /v1/agents`: every agent, page after page, as a stream.
    pub fn list(&self, params: &ListAgents) -> ItemStream<Agent> {
        self.client
            .paginate(Request::get("/v1/agents").query(params.to_query()))
    }

    /// `GET /v1/agents`: one page (for a paged picker); pass the previous `next_page`.
    pub async fn list_page(
        &self,
        params: &ListAgents,
        page: Option<&str>,
    ) -> Result<CursorPage<Agent>> {
        self.client
            .call(
                Request::get("/v1/agents")
                    .query(params.to_query())
                    .page(page),
            )
            .await
    }

    /// `GET /v1/agents/{id}/versions`: every version of an agent.
    pub fn versions(&self, id: &AgentId, params: &ListAgentVersions) -> ItemStream<Agent> {
        self.client.paginate(
            Request::get(format!("/v1/agents/{}/versions", seg(id.as_str())))
                .query(params.to_query()),
        )
    }
}
