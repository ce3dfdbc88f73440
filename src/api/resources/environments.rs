//! `/v1/environments`: create, retrieve, update, list, delete, archive (reference
//! environments.md §1).

use crate::api::client::{Client, ItemStream, Request};
use crate::api::error::Result;
use crate::api::retry::RequestKind;
use crate::api::types::environments::{
    Environment, EnvironmentCreate, EnvironmentUpdate, ListEnvironments,
};
use crate::api::types::{CursorPage, Deleted, EnvironmentId};

use super::seg;

/// Handle for `/v1/environments`; get one with [`Client::environments`].
#[derive(Clone, Copy, Debug)]
pub struct Environments<'c> {
    pub(crate) client: &'c Client,
}

impl Environments<'_> {
    fn path(id: &EnvironmentId) -> String {
        format!("/v1/environments/{}", seg(id.as_str()))
    }

    /// `POST /v1/environments`. Names are unique: a duplicate is a
    /// [`Conflict`](crate::api::Error::Conflict).
    pub async fn create(&self, body: &EnvironmentCreate) -> Result<Environment> {
        self.client
            .call(Request::post("/v1/environments", RequestKind::Create).json(body)?)
            .await
    }

    /// `GET /v1/environments/{id}`.
    pub async fn retrieve(&self, id: &EnvironmentId) -> Result<Environment> {
        self.client.call(Request::get(Self::path(id))).await
    }

    /// `POST /v1/environments/{id}`: applies to new containers only.
    pub async fn update(
        &self,
        id: &EnvironmentId,
        body: &EnvironmentUpdate,
    ) -> Result<Environment> {
        self.client
            .call(Request::post(Self::path(id), RequestKind::Idempotent).json(body)?)
            .await
    }

    /// `DELETE /v1/environments/{id}` (a 204 answer is accepted too).
    pub async fn delete(&self, id: &EnvironmentId) -> Result<Deleted> {
        self.client
            .call_deleted(Request::delete(Self::path(id)), id.as_str())
            .await
    }

    /// `POST /v1/environments/{id}/archive`: permanent.
    pub async fn archive(&self, id: &EnvironmentId) -> Result<Environment> {
        self.client
            .call(Request::post(
                format!("{}/archive", Self::path(id)),
                RequestKind::Idempotent,
            ))
            .await
    }

    /// `GET /v1/environments`: every environment as a stream.
    pub fn list(&self, params: &ListEnvironments) -> ItemStream<Environment> {
        self.client
            .paginate(Request::get("/v1/environments").query(params.to_query()))
    }

    /// `GET /v1/environments`: one page; pass the previous `next_page`.
    pub async fn list_page(
        &self,
        params: &ListEnvironments,
        page: Option<&str>,
    ) -> Result<CursorPage<Environment>> {
        self.client
            .call(
                Request::get("/v1/environments")
                    .query(params.to_query())
                    .page(page),
            )
            .await
    }
}
