//! Errors of the API client: [`Error`] and the details of an HTTP error response ([`ApiError`]).

use std::time::Duration;

use serde::Deserialize;

/// What the client was doing when an error happened: `"POST /v1/agents"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// HTTP method.
    pub method: String,
    /// Request path (no query string, no host).
    pub path: String,
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// An error response from the API (HTTP status ≥ 400, or an `event: error` frame in a stream).
///
/// Branch on [`status`](Self::status) and [`error_code`](Self::error_code), never on the message.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// The request that failed.
    pub operation: Operation,
    /// HTTP status (`0` when the error arrived inside an SSE stream).
    pub status: u16,
    /// `error.type` (`invalid_request_error`, `not_found_error`, …), if the body had one.
    pub error_type: Option<String>,
    /// `error.details.error_code` (`invalid_metadata`, …): the stable machine-readable cause.
    pub error_code: Option<String>,
    /// `error.message`: human readable, wording may change.
    pub message: String,
    /// The `request-id` header (or `request_id` in the body).
    pub request_id: Option<String>,
    /// Parsed `retry-after-ms` / `retry-after`, when the server sent one.
    pub retry_after: Option<Duration>,
    /// The raw `error.details` object, for codes that carry extra fields.
    pub details: Option<serde_json::Value>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed", self.operation)?;
        if self.status != 0 {
            write!(f, " with HTTP {}", self.status)?;
        }
        if let Some(t) = &self.error_type {
            write!(f, " ({t}")?;
            if let Some(c) = &self.error_code {
                write!(f, "/{c}")?;
            }
            write!(f, ")")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request-id {id}]")?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<ErrorObject>,
    request_id: Option<String>,
}

#[derive(Deserialize)]
struct ErrorObject {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<String>,
    details: Option<serde_json::Value>,
}

impl ApiError {
    /// Builds an error from a status and a body in the reference's error shape (README §6). A
    /// body that is not in that shape is kept (truncated) as the message.
    pub(crate) fn from_body(
        operation: Operation,
        status: u16,
        body: &[u8],
        request_id: Option<String>,
        retry_after: Option<Duration>,
    ) -> Self {
        let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
        let (error_type, message, details, body_request_id) = match parsed {
            Some(ErrorBody {
                error: Some(e),
                request_id,
            }) => (e.kind, e.message.unwrap_or_default(), e.details, request_id),
            Some(ErrorBody {
                error: None,
                request_id,
            }) => (None, lossy_prefix(body), None, request_id),
            None => (None, lossy_prefix(body), None, None),
        };
        let error_code = details
            .as_ref()
            .and_then(|d| d.get("error_code"))
            .and_then(|c| c.as_str())
            .map(str::to_owned);
        ApiError {
            operation,
            status,
            error_type,
            error_code,
            message,
            request_id: request_id.or(body_request_id),
            retry_after,
            details,
        }
    }
}

fn lossy_prefix(body: &[u8]) -> String {
    const MAX: usize = 512;
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX)]);
    text.trim().to_owned()
}

/// Every error the API client returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with an error status (after any retries the policy allowed).
    #[error("{0}")]
    Api(Box<ApiError>),

    /// HTTP 409 on a write: the object changed (stale agent `version`), a name or credential URL
    /// is taken, or the session is archived. Never retried: re-read, re-plan, try again.
    #[error("conflict: {0}")]
    Conflict(Box<ApiError>),

    /// A non-idempotent write (a create, or sending events) may or may not have reached the
    /// server: the connection failed or timed out after the request was sent, or the server
    /// answered 500/502/504. It was **not** re-sent. Resolve it by looking the object up (e.g. by
    /// the metadata you gave it) before trying again.
    #[error("outcome unknown for {operation}: {reason}")]
    OutcomeUnknown {
        /// The write whose outcome is unknown.
        operation: Operation,
        /// What went wrong.
        reason: String,
        /// The `request-id`, if a response arrived.
        request_id: Option<String>,
    },

    /// No response could be obtained (connection refused, reset, TLS failure, read timeout)
    /// after the retries the policy allowed.
    #[error("transport error for {operation}: {message}")]
    Transport {
        /// The request.
        operation: Operation,
        /// What the transport reported.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// The call's total deadline passed (including retries and waits).
    #[error("{operation} did not complete within its deadline of {deadline:?}")]
    Deadline {
        /// The request.
        operation: Operation,
        /// The configured total deadline.
        deadline: Duration,
    },

    /// A response body did not match the expected type. `path` names the JSON path.
    #[error("could not decode the response of {operation} at `{path}`: {message}")]
    Decode {
        /// The request.
        operation: Operation,
        /// JSON path of the offending value (`data[3].content[0].source`).
        path: String,
        /// What was wrong.
        message: String,
        /// The `request-id` of the response.
        request_id: Option<String>,
    },

    /// An event stream received nothing (not even a heartbeat) for longer than the idle timeout.
    #[error("event stream of {operation} stalled: nothing received for {idle:?}")]
    StreamStalled {
        /// The stream request.
        operation: Operation,
        /// The idle timeout that elapsed.
        idle: Duration,
        /// The `request-id` of the stream's response.
        request_id: Option<String>,
    },

    /// The event stream was cut or could not be decoded as SSE.
    #[error("event stream of {operation} broke: {message}")]
    Stream {
        /// The stream request.
        operation: Operation,
        /// What happened.
        message: String,
        /// The `request-id` of the stream's response.
        request_id: Option<String>,
    },

    /// The client is misconfigured (missing key, bad base URL, …).
    #[error("configuration error: {0}")]
    Config(String),

    /// A request was rejected locally before anything was sent.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl Error {
    /// The API error details, for [`Error::Api`] and [`Error::Conflict`].
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) | Error::Conflict(e) => Some(e),
            _ => None,
        }
    }

    /// HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        self.api().map(|e| e.status)
    }

    /// The request id, when one is known.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) | Error::Conflict(e) => e.request_id.as_deref(),
            Error::OutcomeUnknown { request_id, .. }
            | Error::Decode { request_id, .. }
            | Error::Stream { request_id, .. }
            | Error::StreamStalled { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// Sets the request id of an error that arose while reading a response (stream errors,
    /// decode errors, error frames) when it has none yet.
    pub(crate) fn with_request_id(mut self, id: Option<&str>) -> Self {
        let slot = match &mut self {
            Error::Api(e) | Error::Conflict(e) => &mut e.request_id,
            Error::Decode { request_id, .. }
            | Error::Stream { request_id, .. }
            | Error::StreamStalled { request_id, .. }
            | Error::OutcomeUnknown { request_id, .. } => request_id,
            _ => return self,
        };
        if slot.is_none() {
            *slot = id.map(str::to_owned);
        }
        self
    }

    /// Whether this is a 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Whether this is a 409 conflict.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict(_))
    }

    /// Whether the failure is transient and the same call may succeed later (rate limits,
    /// overload, 5xx on reads, transport errors, stalls). `OutcomeUnknown` is not: resolve it first.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Api(e) => matches!(e.status, 408 | 429 | 500..=599),
            Error::Transport { .. }
            | Error::Deadline { .. }
            | Error::StreamStalled { .. }
            | Error::Stream { .. } => true,
            _ => false,
        }
    }
}

/// `Result` with the client's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
