//! The fake's HTTP layer: the error shape, `request-id`, authentication and beta checks, the
//! request log, query parsing, pagination and metadata validation shared by every route.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::faults::{self, RequestFault};
use super::state::{KeyAccess, Shared, lock};

/// One request the fake served.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedRequest {
    /// `GET`, `POST`, `DELETE`.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Raw query string (may be empty).
    pub query: String,
    /// Status answered.
    pub status: u16,
    /// Request body (JSON bodies as sent; multipart bodies raw).
    pub body: Bytes,
    /// The `request-id` answered.
    pub request_id: String,
}

/// An error in the reference's shape (README §6).
#[derive(Debug)]
pub(crate) struct ApiErr {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    pub code: Option<&'static str>,
}

impl ApiErr {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            code: None,
        }
    }
    pub fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found_error",
            format!("{what} {id} not found"),
        )
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict_error", message)
    }
}

/// The JSON error body (the middleware adds `request_id`).
pub(crate) fn error_body(kind: &str, message: &str, code: Option<&str>) -> Value {
    let mut error = json!({"type": kind, "message": message});
    if let Some(code) = code {
        error["details"] = json!({"error_code": code});
    }
    json!({"type": "error", "error": error})
}

impl IntoResponse for ApiErr {
    fn into_response(self) -> Response {
        let body = error_body(self.kind, &self.message, self.code);
        (self.status, axum::Json(body)).into_response()
    }
}

/// Route result.
pub(crate) type ApiResult<T = Response> = Result<T, ApiErr>;

/// A JSON response with status 200.
pub(crate) fn ok(value: Value) -> ApiResult {
    Ok((StatusCode::OK, axum::Json(value)).into_response())
}

/// Parses a JSON request body into an object, with the API's 400 on anything else.
pub(crate) fn json_object(body: &Bytes) -> ApiResult<Map<String, Value>> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiErr::bad_request("request body must be a JSON object")),
        Err(e) => Err(ApiErr::bad_request(format!("invalid JSON body: {e}"))),
    }
}

/// The query string as ordered pairs (bracket keys such as `statuses[]` kept verbatim).
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// Helpers over query pairs.
pub(crate) trait QueryExt {
    fn param(&self, key: &str) -> Option<&str>;
    fn params(&self, key: &str) -> Vec<&str>;
    fn flag(&self, key: &str) -> bool;
}

impl QueryExt for [(String, String)] {
    fn param(&self, key: &str) -> Option<&str> {
        self.iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn params(&self, key: &str) -> Vec<&str> {
        self.iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn flag(&self, key: &str) -> bool {
        self.param(key) == Some("true")
    }
}

/// One page of a page-cursor list (reference README §5.1): `limit` (default 20, clamped to
/// `max`), `page` = an opaque cursor the fake mints (`page_<offset>`).
pub(crate) fn cursor_page(
    items: Vec<Value>,
    query: &[(String, String)],
    max: usize,
    with_prev: bool,
) -> ApiResult<Value> {
    let limit = match query.param("limit") {
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| ApiErr::bad_request(format!("limit must be between 1 and {max}")))?,
        None => 20.min(max),
    };
    let offset = match query.param("page") {
        Some(p) => p
            .strip_prefix("page_")
            .and_then(|o| o.parse::<usize>().ok())
            .ok_or_else(|| ApiErr::bad_request("invalid page cursor"))?,
        None => 0,
    };
    let end = (offset + limit).min(items.len());
    let data: Vec<Value> = items
        .get(offset..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    let next = (end < items.len()).then(|| format!("page_{end}"));
    let mut page = json!({"data": data, "next_page": next});
    if with_prev {
        let prev = (offset > 0).then(|| format!("page_{}", offset.saturating_sub(limit)));
        page["prev_page"] = json!(prev);
    }
    Ok(page)
}

/// Validates `metadata` (≤ 16 pairs, keys ≤ 64 chars, values ≤ 512 chars): 400
/// `invalid_metadata` otherwise. `patch` allows `null` values (deletions).
pub(crate) fn check_metadata(value: Option<&Value>, patch: bool) -> ApiResult<()> {
    let Some(value) = value else { return Ok(()) };
    let invalid = |m: String| Err(ApiErr::bad_request(m).code("invalid_metadata"));
    let Value::Object(map) = value else {
        if patch && value.is_null() {
            return Ok(());
        }
        return invalid("metadata: must be an object".into());
    };
    if map.len() > 16 {
        return invalid(format!("metadata: {} keys, at most 16 allowed", map.len()));
    }
    for (k, v) in map {
        if k.is_empty() || k.chars().count() > 64 {
            return invalid(format!("metadata: key '{k}' must be 1 to 64 characters"));
        }
        match v {
            Value::String(s) if s.chars().count() > 512 => {
                return invalid(format!("metadata: value of '{k}' exceeds 512 characters"));
            }
            Value::String(_) => {}
            Value::Null if patch => {}
            _ => return invalid(format!("metadata: value of '{k}' must be a string")),
        }
    }
    Ok(())
}

/// Applies a metadata patch (string upserts, `null` deletes) to `target["metadata"]`.
pub(crate) fn patch_metadata(target: &mut Value, patch: Option<&Value>) {
    let Some(Value::Object(patch)) = patch else {
        return;
    };
    if !target["metadata"].is_object() {
        target["metadata"] = json!({});
    }
    if let Value::Object(meta) = &mut target["metadata"] {
        for (k, v) in patch {
            match v {
                Value::String(s) => {
                    meta.insert(k.clone(), Value::String(s.clone()));
                }
                _ => {
                    meta.remove(k);
                }
            }
        }
    }
}

/// Whether a request path belongs to the Managed Agents beta.
fn needs_managed_beta(path: &str) -> bool {
    [
        "/v1/agents",
        "/v1/environments",
        "/v1/sessions",
        "/v1/vaults",
    ]
    .iter()
    .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

/// The key a request carries (`x-api-key`, else `Authorization: Bearer`).
fn request_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
        })
}

/// The auth answer for a request: `None` to serve it, else the 401 or 403 error.
fn check_key(headers: &HeaderMap, shared: &Shared) -> Option<ApiErr> {
    let unauthenticated = || {
        ApiErr::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid x-api-key",
        )
    };
    let Some(key) = request_key(headers) else {
        return Some(unauthenticated());
    };
    let access = lock(&shared.key_access).get(key).copied();
    match access {
        Some(KeyAccess::Accepted) => None,
        Some(KeyAccess::Rejected) => Some(unauthenticated()),
        Some(KeyAccess::Forbidden) => Some(ApiErr::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        )),
        None => match shared.config.api_key.as_deref() {
            Some(expected) if key != expected => Some(unauthenticated()),
            None if key.trim().is_empty() => Some(unauthenticated()),
            _ => None,
        },
    }
}

/// Every request passes here: request id, auth, beta check, request faults (error bursts
/// instead of the handler, drops after it), added latency and delays, request log.
pub(crate) async fn middleware(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let request_id = shared.new_request_id();
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();

    let early = if let Some(err) = check_key(&parts.headers, &shared) {
        Some(err)
    } else if needs_managed_beta(&path)
        && !parts
            .headers
            .get_all("anthropic-beta")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|b| b.trim() == crate::api::MANAGED_AGENTS_BETA)
    {
        // Without the beta header the endpoints behave as if they did not exist.
        Some(ApiErr::new(
            StatusCode::NOT_FOUND,
            "not_found_error",
            format!("Not found: {path}"),
        ))
    } else {
        None
    };

    // Request faults apply to requests the service would have accepted.
    let fault = match early {
        Some(_) => None,
        None => shared.faults.take_request_fault(&method, &path),
    };
    let mut response = match (early, fault.as_ref().and_then(RequestFault::error_response)) {
        (Some(err), _) => err.into_response(),
        (None, Some(injected_error)) => injected_error,
        (None, None) => {
            let request = Request::from_parts(parts, Body::from(body.clone()));
            next.run(request).await
        }
    };
    let status = response.status().as_u16();
    if status >= 400 {
        response = with_request_id_in_body(response, &request_id).await;
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("request-id", v);
    }
    if let Some(fault) = &fault {
        if matches!(fault, RequestFault::DropAfterCommit) {
            response = faults::drop_response(response).await;
        }
        shared.faults.record_request(fault, &method, &path, status);
    }
    let latency = shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(delay) = shared.faults.take_delay(&method, &path, status) {
        tokio::time::sleep(delay).await;
    }
    shared.record(LoggedRequest {
        method,
        path,
        query,
        status,
        body,
        request_id,
    });
    response
}

/// Adds `request_id` to a JSON error body.
async fn with_request_id_in_body(response: Response, request_id: &str) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1024 * 1024)
        .await
        .unwrap_or_default();
    let body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(mut v) if v.is_object() => {
            v["request_id"] = Value::String(request_id.to_owned());
            Bytes::from(v.to_string())
        }
        _ => bytes,
    };
    let mut response = Response::from_parts(parts, Body::from(body));
    response
        .headers_mut()
        .remove(axum::http::header::CONTENT_LENGTH);
    response
}
