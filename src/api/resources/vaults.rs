//! `/v1/vaults` and `/v1/vaults/{id}/credentials` (reference vaults.md §1). Secrets go out in
//! request bodies only; no response carries one.

use crate::api::client::{Client, ItemStream, Request};
use crate::api::error::Result;
use crate::api::retry::RequestKind;
use crate::api::types::vaults::{
    Credential, CredentialCreate, CredentialUpdate, CredentialValidation, ListCredentials,
    ListVaults, Vault, VaultCreate, VaultUpdate,
};
use crate::api::types::{CredentialId, CursorPage, Deleted, VaultId};

use super::seg;

/// Handle for `/v1/vaults`; get one with [`Client::vaults`].
#[derive(Clone, Copy, Debug)]
pub struct Vaults<'c> {
    pub(crate) client: &'c Client,
}

fn vault_path(id: &VaultId) -> String {
    format!("/v1/vaults/{}", seg(id.as_str()))
}

impl<'c> Vaults<'c> {
    /// `POST /v1/vaults`.
    pub async fn create(&self, body: &VaultCreate) -> Result<Vault> {
        self.client
            .call(Request::post("/v1/vaults", RequestKind::Create).json(body)?)
            .await
    }

    /// `GET /v1/vaults/{id}`.
    pub async fn retrieve(&self, id: &VaultId) -> Result<Vault> {
        self.client.call(Request::get(vault_path(id))).await
    }

    /// `POST /v1/vaults/{id}`.
    pub async fn update(&self, id: &VaultId, body: &VaultUpdate) -> Result<Vault> {
        self.client
            .call(Request::post(vault_path(id), RequestKind::Idempotent).json(body)?)
            .await
    }

    /// `DELETE /v1/vaults/{id}`: revokes access for every session using it.
    pub async fn delete(&self, id: &VaultId) -> Result<Deleted> {
        self.client
            .call_deleted(Request::delete(vault_path(id)), id.as_str())
            .await
    }

    /// `POST /v1/vaults/{id}/archive`: permanent.
    pub async fn archive(&self, id: &VaultId) -> Result<Vault> {
        self.client
            .call(Request::post(
                format!("{}/archive", vault_path(id)),
                RequestKind::Idempotent,
            ))
            .await
    }

    /// `GET /v1/vaults`: every vault as a stream.
    pub fn list(&self, params: &ListVaults) -> ItemStream<Vault> {
        self.client
            .paginate(Request::get("/v1/vaults").query(params.to_query()))
    }

    /// `GET /v1/vaults`: one page; pass the previous `next_page`.
    pub async fn list_page(
        &self,
        params: &ListVaults,
        page: Option<&str>,
    ) -> Result<CursorPage<Vault>> {
        self.client
            .call(
                Request::get("/v1/vaults")
                    .query(params.to_query())
                    .page(page),
            )
            .await
    }

    /// The credentials of one vault.
    pub fn credentials(&self, vault: &VaultId) -> Credentials<'c> {
        Credentials {
            client: self.client,
            base: format!("{}/credentials", vault_path(vault)),
        }
    }
}

/// Handle for `/v1/vaults/{id}/credentials`; get one with [`Vaults::credentials`].
#[derive(Clone, Debug)]
pub struct Credentials<'c> {
    client: &'c Client,
    base: String,
}

impl Credentials<'_> {
    fn path(&self, id: &CredentialId) -> String {
        format!("{}/{}", self.base, seg(id.as_str()))
    }

    /// `POST …/credentials`. One active credential per `mcp_server_url` per vault: a second
    /// one is a [`Conflict`](crate::api::Error::Conflict) — rotate the existing one instead.
    pub async fn create(&self, body: &CredentialCreate) -> Result<Credential> {
        self.client
            .call(Request::post(self.base.clone(), RequestKind::Create).json(body)?)
            .await
    }

    /// `GET …/credentials/{id}` (no secrets in the answer).
    pub async fn retrieve(&self, id: &CredentialId) -> Result<Credential> {
        self.client.call(Request::get(self.path(id))).await
    }

    /// `POST …/credentials/{id}`: rotate secrets or change display name / metadata in place.
    pub async fn update(&self, id: &CredentialId, body: &CredentialUpdate) -> Result<Credential> {
        self.client
            .call(Request::post(self.path(id), RequestKind::Idempotent).json(body)?)
            .await
    }

    /// `DELETE …/credentials/{id}`.
    pub async fn delete(&self, id: &CredentialId) -> Result<Deleted> {
        self.client
            .call_deleted(Request::delete(self.path(id)), id.as_str())
            .await
    }

    /// `POST …/credentials/{id}/archive`: permanent.
    pub async fn archive(&self, id: &CredentialId) -> Result<Credential> {
        self.client
            .call(Request::post(
                format!("{}/archive", self.path(id)),
                RequestKind::Idempotent,
            ))
            .await
    }

    /// `POST …/credentials/{id}/mcp_oauth_validate`: live-probes the MCP server with the
    /// stored token (refreshing on 401). Safe to repeat.
    pub async fn validate_mcp_oauth(&self, id: &CredentialId) -> Result<CredentialValidation> {
        self.client
            .call(Request::post(
                format!("{}/mcp_oauth_validate", self.path(id)),
                RequestKind::Idempotent,
            ))
            .await
    }

    /// `GET …/credentials`: every credential as a stream.
    pub fn list(&self, params: &ListCredentials) -> ItemStream<Credential> {
        self.client
            .paginate(Request::get(self.base.clone()).query(params.to_query()))
    }
}
