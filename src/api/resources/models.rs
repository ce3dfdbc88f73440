//! `/v1/models`: the model picker's source (reference models-webhooks-files.md §A). Id-based
//! pagination, no beta header.

use crate::api::client::{Client, ItemStream, Request};
use crate::api::error::Result;
use crate::api::types::ModelId;
use crate::api::types::models::{ListModels, ModelInfo};

use super::seg;

/// Handle for `/v1/models`; get one with [`Client::models`].
#[derive(Clone, Copy, Debug)]
pub struct Models<'c> {
    pub(crate) client: &'c Client,
}

impl Models<'_> {
    /// `GET /v1/models`: every model (newest first) as a stream, paging by `after_id`.
    pub fn list(&self, params: &ListModels) -> ItemStream<ModelInfo> {
        self.client
            .paginate_by_id(Request::get("/v1/models").query(params.to_query()))
    }

    /// `GET /v1/models/{id}` (aliases resolve to the concrete id).
    pub async fn retrieve(&self, id: &ModelId) -> Result<ModelInfo> {
        self.client
            .call(Request::get(format!("/v1/models/{}", seg(id.as_str()))))
            .await
    }
}
