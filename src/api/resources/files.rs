//! `/v1/files`: upload, list, metadata, download and delete (reference models-webhooks-files.md
//! §C; SDK `resources/beta/files.py`).
//!
//! Beta header: the client's files betas ([`ClientBuilder::files_betas`]), by default
//! `files-api-2025-04-14,managed-agents-2026-04-01`. SDK 2.10.0 sends none, older docs require
//! the files beta, and Anthropic's guide says listing by `scope_id` (a session's outputs) needs
//! the Managed Agents beta too; sending both is the reference's conservative choice, and
//! `files_betas([])` restores the SDK's behaviour.
//!
//! Listing follows the page-cursor scheme of SDK 2.10.0 (`limit`, `page` ← `next_page`) and,
//! for answers in the older shape without a `next_page` field (`has_more`, `last_id`), pages by
//! `after_id` instead.
//!
//! [`ClientBuilder::files_betas`]: crate::api::ClientBuilder::files_betas

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Deserializer};

use crate::api::client::{Body, Client, ItemStream, Request};
use crate::api::error::{Error, Result};
use crate::api::retry::RequestKind;
use crate::api::types::files::{
    EXPIRES_IN_SECONDS_FIELD, FILE_FIELD, FileMetadata, ListFiles, UploadFile,
};
use crate::api::types::{Deleted, FileId};

use super::seg;

/// Handle for `/v1/files`; get one with [`Client::files`].
#[derive(Clone, Copy, Debug)]
pub struct Files<'c> {
    pub(crate) client: &'c Client,
}

fn file_path(id: &FileId) -> String {
    format!("/v1/files/{}", seg(id.as_str()))
}

/// Builds the `multipart/form-data` body: an optional `expires_in_seconds` text part, then the
/// `file` part (its filename encoded by [`UploadFile::wire_filename`]). The bytes are shared,
/// not copied, by every (re)built form.
fn upload_body(file: &UploadFile) -> Result<Body> {
    // Checked once here so the form builder below cannot fail.
    reqwest::multipart::Part::text("")
        .mime_str(&file.content_type)
        .map_err(|_| {
            Error::InvalidRequest(format!(
                "invalid content type {:?} for file {:?}",
                file.content_type, file.filename
            ))
        })?;
    let filename = file.wire_filename();
    let content_type = file.content_type.clone();
    let bytes = file.bytes.clone();
    let expires = file.expires_in_seconds;
    Ok(Body::Multipart(Arc::new(move || {
        let mut form = reqwest::multipart::Form::new();
        if let Some(seconds) = expires {
            form = form.text(EXPIRES_IN_SECONDS_FIELD, seconds.to_string());
        }
        let part = || {
            reqwest::multipart::Part::stream_with_length(
                reqwest::Body::from(bytes.clone()),
                bytes.len() as u64,
            )
            .file_name(filename.clone())
        };
        let part = part().mime_str(&content_type).unwrap_or_else(|_| part());
        form.part(FILE_FIELD, part)
    })))
}

/// A list page in either shape: SDK 2.10.0's `{data, next_page}` or the older
/// `{data, has_more, first_id, last_id}`.
#[derive(Deserialize)]
struct FilesPage {
    #[serde(default)]
    data: Vec<FileMetadata>,
    /// Outer `None`: the field is absent (older shape); `Some(None)`: `null` (last page).
    #[serde(default, deserialize_with = "present")]
    next_page: Option<Option<String>>,
    #[serde(default)]
    has_more: Option<bool>,
    #[serde(default)]
    last_id: Option<String>,
}

fn present<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Where the next request of a list starts.
#[derive(Clone, PartialEq, Eq)]
enum Cursor {
    First,
    Page(String),
    AfterId(String),
}

impl FilesPage {
    /// The cursor of the following page, if any (never the one that produced this page).
    fn next(&self, current: &Cursor) -> Option<Cursor> {
        let next = match &self.next_page {
            Some(page) => Cursor::Page(page.clone().filter(|p| !p.is_empty())?),
            None => match (&self.has_more, &self.last_id) {
                (Some(true), Some(last)) if !last.is_empty() && !self.data.is_empty() => {
                    Cursor::AfterId(last.clone())
                }
                _ => return None,
            },
        };
        (&next != current).then_some(next)
    }
}

impl Files<'_> {
    /// `POST /v1/files` (multipart, field `file`): uploads `bytes` as `filename` with
    /// `content_type`; the file does not expire. Not re-sent once it may have reached the
    /// server ([`RequestKind::Create`]).
    pub async fn upload(
        &self,
        filename: &str,
        content_type: &str,
        bytes: impl Into<Bytes>,
    ) -> Result<FileMetadata> {
        self.upload_file(&UploadFile::new(filename, content_type, bytes))
            .await
    }

    /// `POST /v1/files` with every option of [`UploadFile`] (e.g. `expires_in_seconds`). An
    /// unparsable content type is rejected before anything is sent.
    pub async fn upload_file(&self, file: &UploadFile) -> Result<FileMetadata> {
        let mut req = Request::post("/v1/files", RequestKind::Create);
        req.body = upload_body(file)?;
        self.client.call(req).await
    }

    /// `GET /v1/files`: every matching file as a stream, fetching pages on demand.
    ///
    /// With `ids` the answer is one page (no cursor is followed), and `limit` must be `None`
    /// (the API makes them mutually exclusive): otherwise the stream yields one
    /// [`Error::InvalidRequest`] and sends nothing.
    pub fn list(&self, params: &ListFiles) -> ItemStream<FileMetadata> {
        if !params.ids.is_empty() && params.limit.is_some() {
            return Box::pin(stream::once(async {
                Err(Error::InvalidRequest(
                    "`ids` and `limit` are mutually exclusive when listing files".into(),
                ))
            }));
        }
        let single_page = !params.ids.is_empty();
        let req = Request::get("/v1/files").query(params.to_query());
        let client = self.client.clone();
        let pages = stream::try_unfold(Some(Cursor::First), move |cursor| {
            let client = client.clone();
            let mut req = req.clone();
            async move {
                let Some(cursor) = cursor else {
                    return Ok(None);
                };
                match &cursor {
                    Cursor::First => {}
                    Cursor::Page(page) => req.query.push(("page".to_owned(), page.clone())),
                    Cursor::AfterId(id) => req.query.push(("after_id".to_owned(), id.clone())),
                }
                let page: FilesPage = client.call(req).await?;
                let next = if single_page {
                    None
                } else {
                    page.next(&cursor)
                };
                Ok(Some((page.data, next)))
            }
        });
        pages
            .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// `GET /v1/files/{file_id}`: the file's metadata.
    pub async fn retrieve(&self, id: &FileId) -> Result<FileMetadata> {
        self.client.call(Request::get(file_path(id))).await
    }

    /// `GET /v1/files/{file_id}/content` (`Accept: application/binary`, as the SDK sends): the
    /// raw bytes. Fails with a 400 `file_not_downloadable` for files that are not
    /// [`downloadable`](FileMetadata::downloadable) and a 404 `file_expired` after expiry.
    pub async fn content(&self, id: &FileId) -> Result<Bytes> {
        let mut req = Request::get(format!("{}/content", file_path(id)));
        req.accept = Some("application/binary");
        Ok(self.client.send(&req).await?.body)
    }

    /// `DELETE /v1/files/{file_id}`: `{"id", "type": "file_deleted"}` (an absent `type` or an
    /// empty 204 answer gives an empty [`Deleted::kind`]).
    pub async fn delete(&self, id: &FileId) -> Result<Deleted> {
        self.client
            .call_deleted(Request::delete(file_path(id)), id.as_str())
            .await
    }
}
