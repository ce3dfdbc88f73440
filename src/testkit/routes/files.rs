//! `/v1/files`: multipart upload (`file`, optional `expires_in_seconds`), page-cursor list
//! (newest first; `scope_id`, `ids[]`), metadata, content and delete (reference
//! models-webhooks-files.md §C).
//!
//! As on the real API, uploads are not downloadable (`GET …/content` answers 400
//! `file_not_downloadable`); files an agent writes to `/mnt/session/outputs/` are, and are
//! created with [`session_output`] (tests reach it through
//! [`FakeApi::add_session_output`](crate::testkit::FakeApi::add_session_output)).

use axum::Router;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::AppState;
use crate::api::types::skills::guess_content_type;
use crate::testkit::http::{ApiErr, ApiResult, QueryExt, cursor_page, ok, query_pairs};
use crate::testkit::state::{Shared, lock, now};

/// Largest multipart body the upload routes accept.
pub(crate) const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/files", post(upload).get(list))
        .route("/v1/files/{id}", get(retrieve).delete(delete))
        .route("/v1/files/{id}/content", get(content))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
}

/// A multipart extractor failure as the API's 400.
pub(crate) fn multipart_error(e: impl std::fmt::Display) -> ApiErr {
    ApiErr::bad_request(format!("invalid multipart/form-data body: {e}"))
}

/// The extension of a file named after its MIME type (`unnamed.png`).
fn extension_for(mime: &str) -> &'static str {
    match mime {
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/gif" => ".gif",
        "image/webp" => ".webp",
        "application/pdf" => ".pdf",
        "application/json" => ".json",
        "application/zip" => ".zip",
        "text/plain" => ".txt",
        "text/markdown" => ".md",
        "text/csv" => ".csv",
        "text/html" => ".html",
        _ => "",
    }
}

/// Stores a file and returns its metadata (every optional field present).
fn insert(
    shared: &Shared,
    filename: &str,
    mime_type: &str,
    bytes: Bytes,
    downloadable: bool,
    expires_at: Option<String>,
    scope: Value,
) -> Value {
    let id = shared.new_id("file");
    let file = json!({
        "type": "file",
        "id": id,
        "filename": filename,
        "mime_type": mime_type,
        "size_bytes": bytes.len(),
        "created_at": now(),
        "downloadable": downloadable,
        "expires_at": expires_at,
        "scope": scope,
    });
    let mut state = lock(&shared.state);
    state.files.insert(id.clone(), file.clone());
    state.file_contents.insert(id, bytes);
    file
}

/// A file the agent of `session_id` wrote to `/mnt/session/outputs/`: scoped to the session
/// and downloadable.
pub(crate) fn session_output(
    shared: &Shared,
    session_id: &str,
    filename: &str,
    mime_type: &str,
    bytes: Bytes,
) -> Value {
    insert(
        shared,
        filename,
        mime_type,
        bytes,
        true,
        None,
        json!({"type": "session", "id": session_id}),
    )
}

async fn upload(
    State(shared): State<AppState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult {
    let mut multipart = multipart.map_err(multipart_error)?;
    let mut file: Option<(String, Option<String>, Bytes)> = None;
    let mut expires_in: Option<i64> = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let mime = field.content_type().map(str::to_owned);
                let bytes = field.bytes().await.map_err(multipart_error)?;
                file = Some((name, mime, bytes));
            }
            Some("expires_in_seconds") => {
                let text = field.text().await.map_err(multipart_error)?;
                let seconds = text
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|s| (3_600..=7_776_000).contains(s))
                    .ok_or_else(|| {
                        ApiErr::bad_request(
                            "expires_in_seconds: must be an integer between 3600 and 7776000",
                        )
                    })?;
                expires_in = Some(seconds);
            }
            _ => {}
        }
    }
    let (name, mime, bytes) = file.ok_or_else(|| ApiErr::bad_request("file: field required"))?;
    // Only the final path component is kept.
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let mime = mime
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| guess_content_type(base).to_owned());
    let filename = if base.is_empty() {
        format!("unnamed{}", extension_for(&mime))
    } else {
        base.to_owned()
    };
    let expires_at = expires_in.map(|s| {
        (chrono::Utc::now() + chrono::Duration::seconds(s))
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    });
    ok(insert(
        &shared,
        &filename,
        &mime,
        bytes,
        false,
        expires_at,
        Value::Null,
    ))
}

async fn list(State(shared): State<AppState>, RawQuery(query): RawQuery) -> ApiResult {
    let query = query_pairs(query.as_deref());
    let ids = query.params("ids[]");
    let scope = query.param("scope_id");
    let state = lock(&shared.state);
    let in_scope = |f: &&Value| scope.is_none_or(|s| f["scope"]["id"] == s);
    if !ids.is_empty() {
        if query.param("page").is_some() || query.param("limit").is_some() {
            return Err(ApiErr::bad_request(
                "ids is mutually exclusive with page and limit",
            ));
        }
        let mut unique: Vec<&str> = Vec::new();
        for id in ids {
            if !unique.contains(&id) {
                unique.push(id);
            }
        }
        if unique.len() > 100 {
            return Err(ApiErr::bad_request("ids: at most 100 ids"));
        }
        // Unknown or deleted ids are silently left out.
        let data: Vec<Value> = unique
            .iter()
            .filter_map(|id| state.files.get(*id))
            .filter(in_scope)
            .cloned()
            .collect();
        return ok(json!({"data": data, "next_page": null}));
    }
    let items: Vec<Value> = state
        .files
        .values()
        .rev()
        .filter(in_scope)
        .cloned()
        .collect();
    ok(cursor_page(items, &query, 1000, false)?)
}

async fn retrieve(State(shared): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let state = lock(&shared.state);
    ok(state
        .files
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiErr::not_found("file", &id))?)
}

async fn content(State(shared): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let state = lock(&shared.state);
    let file = state
        .files
        .get(&id)
        .ok_or_else(|| ApiErr::not_found("file", &id))?;
    if file["downloadable"] != true {
        return Err(
            ApiErr::bad_request(format!("file {id} is not downloadable"))
                .code("file_not_downloadable"),
        );
    }
    let expired = file["expires_at"]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .is_some_and(|t| t <= chrono::Utc::now());
    if expired {
        return Err(ApiErr::new(
            StatusCode::NOT_FOUND,
            "not_found_error",
            format!("file {id} has expired"),
        )
        .code("file_expired"));
    }
    let bytes = state.file_contents.get(&id).cloned().unwrap_or_default();
    let mime = file["mime_type"]
        .as_str()
        .unwrap_or("application/octet-stream")
        .to_owned();
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, mime)], bytes).into_response())
}

async fn delete(State(shared): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let mut state = lock(&shared.state);
    state
        .files
        .remove(&id)
        .ok_or_else(|| ApiErr::not_found("file", &id))?;
    state.file_contents.remove(&id);
    ok(json!({"id": id, "type": "file_deleted"}))
}
