//! Fault injection for the fake (per instance): added latency, error bursts, responses dropped
//! after the write was committed, and cut or stalled event streams.
//!
//! Every [`FakeApi`](super::FakeApi) has one [`Faults`] (see
//! [`FakeApi::faults`](super::FakeApi::faults)); faults are armed by a test and fire on the
//! next matching requests or streams, then disarm themselves.
//!
//! What a client observes:
//!
//! * **Latency** ([`Faults::set_latency`]): every response (errors, faults and event streams
//!   included) is held back by the latency after the handler ran, so a write is committed
//!   before its answer is delayed.
//! * **Delay** ([`Faults::delay`]): the same, for the next `count` matching requests only —
//!   e.g. to hold one create in flight, committed but unanswered, while a test crashes the
//!   client. It adds to the latency and to any other request fault of the same request (a
//!   dropped response is held, then cut). [`Faults::injected`] records it once the handler
//!   has run, before the hold: a test can wait for that record to know the write happened.
//! * **Error burst** ([`Faults::error_burst`]): the next `count` matching requests are answered
//!   with the chosen status and the reference's error body (`{"type": "error", "error": {"type":
//!   …, "message": …}, "request_id": …}`, `error.type` derived from the status), a `request-id`
//!   header and the chosen `retry-after` / `retry-after-ms` / `x-should-retry` headers. The
//!   handler never runs: nothing is written.
//! * **Drop after commit** ([`Faults::drop_after_commit`]): the handler runs (the write is
//!   committed, counted in [`FakeApi::writes`](super::FakeApi::writes) and logged with the
//!   handler's status), then the client gets the status line and headers (`request-id`
//!   included) with a `content-length` larger than what follows, the first half of the body,
//!   and the connection is closed. An HTTP client's request *succeeds* (status and headers
//!   arrive) but reading the body fails ("connection closed before message completed"). Our
//!   client turns that into [`Error::OutcomeUnknown`](crate::api::Error::OutcomeUnknown) for
//!   creates and event sends, and into a (not retried)
//!   [`Error::Transport`](crate::api::Error::Transport) for everything else. A streamed
//!   handler response (no known length) is cut right after its headers, with chunked
//!   framing left unterminated. A response that cannot have a body (204, 304) is not cut.
//! * **Stream faults** ([`Faults::stream_fault`]), applied by the SSE route through
//!   `wrap_sse`: *cut* — the response's bytes up to the cut point arrive, then the
//!   connection is closed without the chunked body's terminator, which an HTTP client reports
//!   as a body error (our client: [`Error::Stream`](crate::api::Error::Stream), "connection
//!   cut"); *stall* — the bytes up to the stall point arrive, then nothing more (no heartbeats
//!   either) while the connection stays open (our client: `StreamStalled` after its idle
//!   timeout).
//!
//! An SSE *event*, for counting, is a blank-line-terminated frame with a non-empty `data` field
//! whose `event` field is not `ping`: heartbeats (comment lines such as `: ping`, `event: ping`
//! frames, frames without data) do not count.

use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream::{self, BoxStream, Stream, StreamExt};

use super::http::error_body;
use super::state::{Shared, lock};

/// How long a cut waits, after the last bytes before it were handed to the server, before it
/// errors the body: hyper drops what it has not flushed yet when a body errors, so the wait
/// lets the bytes before the cut reach the client.
const FLUSH_GRACE: Duration = Duration::from_millis(50);

/// Which requests a request-level fault applies to: a method (or any, or any write) and an
/// optional path prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestMatch {
    method: MethodMatch,
    path_prefix: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum MethodMatch {
    #[default]
    Any,
    Writes,
    Exactly(String),
}

impl RequestMatch {
    /// Every request.
    pub fn any() -> Self {
        Self::default()
    }

    /// Every write: any method but `GET` and `HEAD`.
    pub fn writes() -> Self {
        Self {
            method: MethodMatch::Writes,
            path_prefix: None,
        }
    }

    /// Requests with this method (case-insensitive), any path.
    pub fn method(method: impl Into<String>) -> Self {
        Self {
            method: MethodMatch::Exactly(method.into().to_ascii_uppercase()),
            path_prefix: None,
        }
    }

    /// Requests with this method whose path starts with `path_prefix`.
    pub fn new(method: impl Into<String>, path_prefix: impl Into<String>) -> Self {
        Self::method(method).path_prefix(path_prefix)
    }

    /// Restricts to paths (without the query string) starting with `prefix`, compared as
    /// plain strings: `/v1/agents` matches `/v1/agents`, `/v1/agents/agent_1/archive`, …
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }

    /// Whether a request with `method` and `path` matches.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = match &self.method {
            MethodMatch::Any => true,
            MethodMatch::Writes => {
                !method.eq_ignore_ascii_case("GET") && !method.eq_ignore_ascii_case("HEAD")
            }
            MethodMatch::Exactly(m) => method.eq_ignore_ascii_case(m),
        };
        method_ok
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|prefix| path.starts_with(prefix))
    }
}

/// The `retry-after` an error burst sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetryAfter {
    /// A delay: `retry-after: <whole seconds, rounded up>`, plus `retry-after-ms: <millis>` when
    /// the delay is not a whole number of seconds (clients that read `retry-after-ms` first,
    /// as ours and the SDKs do, then wait exactly the delay).
    Delay(Duration),
    /// A `retry-after` value sent verbatim (an HTTP date, garbage, …).
    Raw(String),
}

impl From<Duration> for RetryAfter {
    fn from(delay: Duration) -> Self {
        Self::Delay(delay)
    }
}

impl From<&str> for RetryAfter {
    fn from(raw: &str) -> Self {
        Self::Raw(raw.to_owned())
    }
}

impl From<String> for RetryAfter {
    fn from(raw: String) -> Self {
        Self::Raw(raw)
    }
}

/// An error burst: the next `count` requests matching `matching` are answered with `status`
/// without reaching their handler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorBurst {
    /// How many matching requests fail.
    pub count: usize,
    /// The HTTP status (an invalid one, outside 100–999, is sent as 500).
    pub status: u16,
    /// The `retry-after` header, if any.
    pub retry_after: Option<RetryAfter>,
    /// The `x-should-retry` header, if any.
    pub should_retry: Option<bool>,
    /// Which requests fail.
    pub matching: RequestMatch,
}

impl Default for ErrorBurst {
    /// One 500 for any request, without retry headers.
    fn default() -> Self {
        Self::new(500, 1)
    }
}

impl ErrorBurst {
    /// `count` requests (any) answered with `status`, without retry headers.
    pub fn new(status: u16, count: usize) -> Self {
        Self {
            count,
            status,
            retry_after: None,
            should_retry: None,
            matching: RequestMatch::any(),
        }
    }

    /// Sets the `retry-after` header: a [`Duration`] or a verbatim string.
    pub fn retry_after(mut self, retry_after: impl Into<RetryAfter>) -> Self {
        self.retry_after = Some(retry_after.into());
        self
    }

    /// Sets the `x-should-retry` header.
    pub fn should_retry(mut self, should_retry: bool) -> Self {
        self.should_retry = Some(should_retry);
        self
    }

    /// Restricts the burst to matching requests.
    pub fn matching(mut self, matching: RequestMatch) -> Self {
        self.matching = matching;
        self
    }

    /// The response: the reference's error body (the middleware adds `request_id`) and the
    /// retry headers.
    fn response(&self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let reason = match status.as_u16() {
            429 => "Rate limited",
            529 => "Overloaded",
            _ => status.canonical_reason().unwrap_or("Error"),
        };
        let message = format!("{reason} (fault injected by the fake API)");
        let body = error_body(error_type(status.as_u16()), &message, None);
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match &self.retry_after {
            Some(RetryAfter::Delay(delay)) => {
                let secs = delay
                    .as_secs()
                    .saturating_add(u64::from(delay.subsec_nanos() > 0));
                headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
                if delay.subsec_nanos() > 0 {
                    let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
                    headers.insert("retry-after-ms", HeaderValue::from(millis));
                }
            }
            Some(RetryAfter::Raw(raw)) => {
                if let Ok(value) = HeaderValue::from_str(raw) {
                    headers.insert(header::RETRY_AFTER, value);
                }
            }
            None => {}
        }
        if let Some(should_retry) = self.should_retry {
            headers.insert(
                "x-should-retry",
                HeaderValue::from_static(if should_retry { "true" } else { "false" }),
            );
        }
        response
    }
}

/// The reference's `error.type` for a status (README §6).
fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        408 | 504 => "timeout_error",
        409 => "conflict_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        s if s >= 500 => "api_error",
        _ => "invalid_request_error",
    }
}

/// What a stream fault does to one event stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamAction {
    /// Pass `n` events (heartbeats around them included) through, then cut the stream right
    /// after the blank line ending the `n`-th event (`0`: before the first byte).
    CutAfterEvents(usize),
    /// Pass exactly this many bytes of the stream through, then cut it (`0`: before the first
    /// byte). A stream that ends before is not cut.
    CutAtByte(u64),
    /// Cut at a byte offset drawn uniformly from `0..=max`, deterministically from `seed`
    /// (each stream the fault applies to draws the next offset of the same sequence).
    /// [`Faults::injected`] reports the offset drawn, as [`StreamAction::CutAtByte`].
    CutAtRandomByte {
        /// The seed of the sequence of offsets.
        seed: u64,
        /// The largest offset.
        max: u64,
    },
    /// Pass `n` events through, then send nothing more — heartbeats included — while keeping
    /// the connection open (`0`: nothing after the headers).
    StallAfterEvents(usize),
}

/// A stream fault: an action, the session(s) it targets, and how many streams it applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamFault {
    /// What happens to the stream.
    pub action: StreamAction,
    /// Only streams of this session (`None`: any session).
    pub session_id: Option<String>,
    /// How many streams it applies to, the next ones served (`None`: every stream from now
    /// on). Default 1.
    pub streams: Option<usize>,
}

impl StreamFault {
    /// `action` on the next stream of any session.
    pub fn new(action: StreamAction) -> Self {
        Self {
            action,
            session_id: None,
            streams: Some(1),
        }
    }

    /// Cut after `n` events ([`StreamAction::CutAfterEvents`]).
    pub fn cut_after_events(n: usize) -> Self {
        Self::new(StreamAction::CutAfterEvents(n))
    }

    /// Cut after `offset` bytes ([`StreamAction::CutAtByte`]).
    pub fn cut_at_byte(offset: u64) -> Self {
        Self::new(StreamAction::CutAtByte(offset))
    }

    /// Cut at a seeded random offset in `0..=max` ([`StreamAction::CutAtRandomByte`]).
    pub fn cut_at_random_byte(seed: u64, max: u64) -> Self {
        Self::new(StreamAction::CutAtRandomByte { seed, max })
    }

    /// Stall after `n` events ([`StreamAction::StallAfterEvents`]).
    pub fn stall_after_events(n: usize) -> Self {
        Self::new(StreamAction::StallAfterEvents(n))
    }

    /// Only streams of session `session_id`.
    pub fn session(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }

    /// Applies to the next `k` matching streams.
    pub fn streams(mut self, k: usize) -> Self {
        self.streams = Some(k);
        self
    }

    /// Applies to every matching stream from now on.
    pub fn every_stream(mut self) -> Self {
        self.streams = None;
        self
    }
}

/// A fault that fired, as [`Faults::injected`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Injected {
    /// An error burst answered a request.
    ErrorBurst {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
        /// The status answered.
        status: u16,
    },
    /// A request's response was dropped after its handler ran.
    DropAfterCommit {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
        /// The status the handler answered (the client never gets the body).
        status: u16,
    },
    /// A request's response was held back by a [`Faults::delay`] (recorded when its handler
    /// has run, before the hold).
    Delay {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
        /// The status the handler answered.
        status: u16,
        /// How long the response is held.
        delay: Duration,
    },
    /// A stream fault was applied to an event stream.
    Stream {
        /// The session whose stream it was.
        session_id: String,
        /// The action (a random cut reported with the offset drawn, as `CutAtByte`).
        action: StreamAction,
    },
}

/// A request-level fault, as the middleware applies it.
#[derive(Clone, Debug)]
pub(crate) enum RequestFault {
    /// Answer with this error without running the handler.
    Error(ErrorBurst),
    /// Run the handler, then cut the response.
    DropAfterCommit,
}

impl RequestFault {
    /// The error response, for [`RequestFault::Error`].
    pub(crate) fn error_response(&self) -> Option<Response> {
        match self {
            Self::Error(burst) => Some(burst.response()),
            Self::DropAfterCommit => None,
        }
    }
}

#[derive(Debug)]
struct ArmedRequest {
    remaining: usize,
    matching: RequestMatch,
    fault: RequestFault,
}

#[derive(Debug)]
struct ArmedStream {
    fault: StreamFault,
    /// The state of the offset sequence of a random cut.
    rng: u64,
}

#[derive(Debug)]
struct ArmedDelay {
    remaining: usize,
    matching: RequestMatch,
    delay: Duration,
}

#[derive(Debug, Default)]
struct Inner {
    latency: Duration,
    requests: Vec<ArmedRequest>,
    delays: Vec<ArmedDelay>,
    streams: Vec<ArmedStream>,
    injected: Vec<Injected>,
}

/// The faults armed on one fake; see the [module docs](self) for what clients observe.
///
/// Faults of one kind fire in the order they were armed: a request (or stream) gets the first
/// armed fault that matches it, and at most one.
#[derive(Debug, Default)]
pub struct Faults {
    inner: Mutex<Inner>,
}

impl Faults {
    /// Adds `latency` before every response from now on (`Duration::ZERO` turns it off).
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.inner).latency = latency;
    }

    /// The current added latency.
    pub fn latency(&self) -> Duration {
        lock(&self.inner).latency
    }

    /// Arms an error burst: the next `burst.count` matching requests get `burst.status`
    /// without reaching their handler.
    pub fn error_burst(&self, burst: ErrorBurst) {
        if burst.count == 0 {
            return;
        }
        lock(&self.inner).requests.push(ArmedRequest {
            remaining: burst.count,
            matching: burst.matching.clone(),
            fault: RequestFault::Error(burst),
        });
    }

    /// Arms a drop after commit: the next `count` matching requests run their handler (the
    /// write is committed), then their response is cut after the headers.
    pub fn drop_after_commit(&self, count: usize, matching: RequestMatch) {
        if count == 0 {
            return;
        }
        lock(&self.inner).requests.push(ArmedRequest {
            remaining: count,
            matching,
            fault: RequestFault::DropAfterCommit,
        });
    }

    /// Arms a delay: the responses of the next `count` matching requests are held back by
    /// `delay` after their handler ran (the write is committed first), on top of the
    /// [latency](Self::set_latency) and of any other request fault they get. Delays fire in
    /// the order they were armed, at most one per request.
    pub fn delay(&self, count: usize, matching: RequestMatch, delay: Duration) {
        if count == 0 {
            return;
        }
        lock(&self.inner).delays.push(ArmedDelay {
            remaining: count,
            matching,
            delay,
        });
    }

    /// Arms a stream fault.
    pub fn stream_fault(&self, fault: StreamFault) {
        if fault.streams == Some(0) {
            return;
        }
        let rng = match fault.action {
            StreamAction::CutAtRandomByte { seed, .. } => seed,
            _ => 0,
        };
        lock(&self.inner).streams.push(ArmedStream { fault, rng });
    }

    /// Cuts the next event stream (any session) after `n_events` events.
    pub fn cut_stream_after(&self, n_events: usize) {
        self.stream_fault(StreamFault::cut_after_events(n_events));
    }

    /// Cuts the next event stream (any session) after `offset` bytes.
    pub fn cut_stream_at_byte(&self, offset: u64) {
        self.stream_fault(StreamFault::cut_at_byte(offset));
    }

    /// Cuts the next event stream (any session) at an offset drawn from `0..=max` with `seed`.
    pub fn cut_stream_at_random_byte(&self, seed: u64, max: u64) {
        self.stream_fault(StreamFault::cut_at_random_byte(seed, max));
    }

    /// Stalls the next event stream (any session) after `n_events` events.
    pub fn stall_stream_after(&self, n_events: usize) {
        self.stream_fault(StreamFault::stall_after_events(n_events));
    }

    /// Disarms every fault and removes the latency (the [`injected`](Self::injected) record is
    /// kept).
    pub fn clear(&self) {
        let mut inner = lock(&self.inner);
        inner.latency = Duration::ZERO;
        inner.requests.clear();
        inner.delays.clear();
        inner.streams.clear();
    }

    /// Whether any request fault, delay or stream fault is still armed.
    pub fn armed(&self) -> bool {
        let inner = lock(&self.inner);
        !inner.requests.is_empty() || !inner.delays.is_empty() || !inner.streams.is_empty()
    }

    /// Every fault that fired so far, in order.
    pub fn injected(&self) -> Vec<Injected> {
        lock(&self.inner).injected.clone()
    }

    /// Takes one use of the first armed request fault matching the request.
    pub(crate) fn take_request_fault(&self, method: &str, path: &str) -> Option<RequestFault> {
        let mut inner = lock(&self.inner);
        let index = inner
            .requests
            .iter()
            .position(|armed| armed.matching.matches(method, path))?;
        let armed = inner.requests.get_mut(index)?;
        armed.remaining = armed.remaining.saturating_sub(1);
        let fault = armed.fault.clone();
        if armed.remaining == 0 {
            inner.requests.remove(index);
        }
        Some(fault)
    }

    /// Takes one use of the first armed delay matching a request whose handler answered
    /// `status`, and records it; returns how long to hold the response.
    pub(crate) fn take_delay(&self, method: &str, path: &str, status: u16) -> Option<Duration> {
        let mut inner = lock(&self.inner);
        let index = inner
            .delays
            .iter()
            .position(|armed| armed.matching.matches(method, path))?;
        let armed = inner.delays.get_mut(index)?;
        armed.remaining = armed.remaining.saturating_sub(1);
        let delay = armed.delay;
        if armed.remaining == 0 {
            inner.delays.remove(index);
        }
        inner.injected.push(Injected::Delay {
            method: method.to_owned(),
            path: path.to_owned(),
            status,
            delay,
        });
        Some(delay)
    }

    /// Records that a request fault fired.
    pub(crate) fn record_request(
        &self,
        fault: &RequestFault,
        method: &str,
        path: &str,
        status: u16,
    ) {
        let (method, path) = (method.to_owned(), path.to_owned());
        let entry = match fault {
            RequestFault::Error(_) => Injected::ErrorBurst {
                method,
                path,
                status,
            },
            RequestFault::DropAfterCommit => Injected::DropAfterCommit {
                method,
                path,
                status,
            },
        };
        lock(&self.inner).injected.push(entry);
    }

    /// Takes one use of the first armed stream fault for `session_id`, resolved to a plan.
    fn take_stream_fault(&self, session_id: &str) -> Option<Plan> {
        let mut inner = lock(&self.inner);
        let index = inner.streams.iter().position(|armed| {
            armed
                .fault
                .session_id
                .as_deref()
                .is_none_or(|s| s == session_id)
        })?;
        let armed = inner.streams.get_mut(index)?;
        let plan = match armed.fault.action {
            StreamAction::CutAfterEvents(n) => Plan::CutAfterEvents(n),
            StreamAction::CutAtByte(offset) => Plan::CutAtByte(offset),
            StreamAction::CutAtRandomByte { max, .. } => {
                let draw = splitmix64(&mut armed.rng);
                Plan::CutAtByte(match max.checked_add(1) {
                    Some(bound) => draw % bound,
                    None => draw,
                })
            }
            StreamAction::StallAfterEvents(n) => Plan::StallAfterEvents(n),
        };
        let exhausted = match &mut armed.fault.streams {
            Some(k) => {
                *k = k.saturating_sub(1);
                *k == 0
            }
            None => false,
        };
        if exhausted {
            inner.streams.remove(index);
        }
        inner.injected.push(Injected::Stream {
            session_id: session_id.to_owned(),
            action: plan.action(),
        });
        Some(plan)
    }

    /// See [`wrap_sse`].
    pub(crate) fn wrap_sse(
        &self,
        session_id: &str,
        body: BoxStream<'static, Bytes>,
    ) -> BoxStream<'static, Result<Bytes, io::Error>> {
        match self.take_stream_fault(session_id) {
            Some(plan) => Box::pin(Faulted::new(body, plan)),
            None => body.map(Ok).boxed(),
        }
    }
}

/// SplitMix64: a tiny generator whose sequence never changes across versions, so a seed
/// reproduces the same cut everywhere.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Wraps the byte stream of an SSE response with the stream fault armed for it, if any (the
/// first armed fault whose session matches `session_id`; it uses up one of its streams).
///
/// Contract for the SSE route: call it once per event-stream response, on the stream of bytes
/// you would have sent (SSE frames and heartbeats, in any chunking; it never ends unless the
/// session's stream ends), and serve the result with `axum::body::Body::from_stream(..)`,
/// without a `content-length`. Without a fault the bytes pass through unchanged. With one:
///
/// * a **cut** yields the bytes before the cut point, then (after a short wait that lets hyper
///   flush them) one `Err`, on which hyper aborts the chunked response and closes the
///   connection: the client sees a broken body, never a clean end. The input stream is dropped
///   at the cut point.
/// * a **stall** yields the bytes before the stall point, then stays pending forever (the input
///   stream, and so its heartbeats, is dropped); the connection stays open until the client
///   closes it.
pub(crate) fn wrap_sse(
    shared: &Shared,
    session_id: &str,
    body: BoxStream<'static, Bytes>,
) -> BoxStream<'static, Result<Bytes, io::Error>> {
    shared.faults.wrap_sse(session_id, body)
}

/// Cuts a handler's response for a drop after commit: headers (with a `content-length` larger
/// than what follows, when the body's length is known), half the body, then a body error.
pub(crate) async fn drop_response(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let known_length = HttpBody::size_hint(&body).exact().is_some();
    parts.headers.remove(header::CONTENT_LENGTH);
    let prefix = if known_length {
        let full = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(full.len().max(1)));
        full.slice(..full.len() / 2)
    } else {
        Bytes::new()
    };
    let cut = stream::once(async move { Ok::<_, io::Error>(prefix) }).chain(stream::once(async {
        tokio::time::sleep(FLUSH_GRACE).await;
        Err(cut_error("response dropped after the write was committed"))
    }));
    Response::from_parts(parts, Body::from_stream(cut))
}

fn cut_error(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        format!("fake API fault: {what}"),
    )
}

/// A stream fault resolved for one stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    CutAfterEvents(usize),
    CutAtByte(u64),
    StallAfterEvents(usize),
}

impl Plan {
    fn action(self) -> StreamAction {
        match self {
            Plan::CutAfterEvents(n) => StreamAction::CutAfterEvents(n),
            Plan::CutAtByte(offset) => StreamAction::CutAtByte(offset),
            Plan::StallAfterEvents(n) => StreamAction::StallAfterEvents(n),
        }
    }

    /// What happens at the fault point.
    fn at_fault(self) -> Phase {
        match self {
            Plan::StallAfterEvents(_) => Phase::Stalled,
            Plan::CutAfterEvents(_) | Plan::CutAtByte(_) => {
                Phase::Cutting(Box::pin(tokio::time::sleep(FLUSH_GRACE)))
            }
        }
    }
}

enum Phase {
    /// Bytes pass through until the fault point.
    Passing,
    /// The bytes before the cut were handed out; the error follows once the sleep is over.
    Cutting(Pin<Box<tokio::time::Sleep>>),
    /// Pending forever.
    Stalled,
    /// The error was yielded, or the input ended before the fault point.
    Done,
}

/// An SSE byte stream with a stream fault applied.
struct Faulted {
    inner: Option<BoxStream<'static, Bytes>>,
    plan: Plan,
    scanner: FrameScanner,
    sent: u64,
    phase: Phase,
}

impl Faulted {
    fn new(inner: BoxStream<'static, Bytes>, plan: Plan) -> Self {
        let at_start = matches!(
            plan,
            Plan::CutAfterEvents(0) | Plan::CutAtByte(0) | Plan::StallAfterEvents(0)
        );
        Self {
            inner: (!at_start).then_some(inner),
            plan,
            scanner: FrameScanner::default(),
            sent: 0,
            phase: if at_start {
                plan.at_fault()
            } else {
                Phase::Passing
            },
        }
    }

    /// Where in `chunk` the fault point lies (the length of the part still passed through), if
    /// it lies in this chunk.
    fn fault_point(&mut self, chunk: &[u8]) -> Option<usize> {
        match self.plan {
            Plan::CutAfterEvents(n) | Plan::StallAfterEvents(n) => self.scanner.feed(chunk, n),
            Plan::CutAtByte(offset) => {
                let left = offset.saturating_sub(self.sent);
                let len = u64::try_from(chunk.len()).unwrap_or(u64::MAX);
                if len < left {
                    self.sent = self.sent.saturating_add(len);
                    None
                } else {
                    Some(usize::try_from(left).unwrap_or(chunk.len()))
                }
            }
        }
    }
}

impl Stream for Faulted {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match &mut this.phase {
                Phase::Passing => {}
                Phase::Cutting(sleep) => {
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.phase = Phase::Done;
                    return Poll::Ready(Some(Err(cut_error("event stream cut"))));
                }
                // Never woken: nothing more is ever sent.
                Phase::Stalled => return Poll::Pending,
                Phase::Done => return Poll::Ready(None),
            }
            let Some(inner) = this.inner.as_mut() else {
                this.phase = Phase::Done;
                continue;
            };
            let chunk = match inner.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.inner = None;
                    this.phase = Phase::Done;
                    continue;
                }
                Poll::Ready(Some(chunk)) => chunk,
            };
            let Some(end) = this.fault_point(&chunk) else {
                return Poll::Ready(Some(Ok(chunk)));
            };
            this.inner = None;
            this.phase = this.plan.at_fault();
            if end > 0 {
                return Poll::Ready(Some(Ok(chunk.slice(..end.min(chunk.len())))));
            }
        }
    }
}

/// How many leading bytes of a line the scanner keeps (enough for `event: ping` and any field
/// name it cares about).
const LINE_PREFIX: usize = 16;

/// Counts SSE events in a byte stream, across chunk boundaries (`\n`, `\r\n` and `\r` line
/// endings).
#[derive(Debug, Default)]
struct FrameScanner {
    /// The first bytes of the current line.
    line: Vec<u8>,
    /// The full length of the current line.
    line_len: usize,
    /// The previous byte was a `\r`: a `\n` right after it belongs to the same line ending.
    after_cr: bool,
    /// The current frame has a non-empty `data` field.
    has_data: bool,
    /// The current frame's `event` field is `ping`.
    is_ping: bool,
    /// Events counted so far.
    events: usize,
}

impl FrameScanner {
    /// Feeds `chunk`; returns the offset just past the blank line that ends the `target`-th
    /// event, if it is in this chunk.
    fn feed(&mut self, chunk: &[u8], target: usize) -> Option<usize> {
        for (i, &byte) in chunk.iter().enumerate() {
            if std::mem::take(&mut self.after_cr) && byte == b'\n' {
                continue;
            }
            match byte {
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    if self.end_line() && self.events >= target {
                        let mut end = i.saturating_add(1);
                        if byte == b'\r' && chunk.get(end) == Some(&b'\n') {
                            end = end.saturating_add(1);
                            self.after_cr = false;
                        }
                        return Some(end);
                    }
                }
                _ => {
                    if self.line.len() < LINE_PREFIX {
                        self.line.push(byte);
                    }
                    self.line_len = self.line_len.saturating_add(1);
                }
            }
        }
        None
    }

    /// Ends the current line; returns whether it ended an event.
    fn end_line(&mut self) -> bool {
        let ended_event = if self.line_len == 0 {
            let event = self.has_data && !self.is_ping;
            self.has_data = false;
            self.is_ping = false;
            if event {
                self.events = self.events.saturating_add(1);
            }
            event
        } else {
            self.field();
            false
        };
        self.line.clear();
        self.line_len = 0;
        ended_event
    }

    /// Interprets a field line.
    fn field(&mut self) {
        let line = self.line.as_slice();
        if line.first() == Some(&b':') {
            return; // a comment
        }
        let (name, value_start) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let after = colon.saturating_add(1);
                let skip_space = usize::from(line.get(after) == Some(&b' '));
                (line.get(..colon).unwrap_or_default(), after + skip_space)
            }
            None => (line, self.line_len),
        };
        let value_len = self.line_len.saturating_sub(value_start);
        match name {
            b"data" if value_len > 0 => self.has_data = true,
            b"event" => self.is_ping = line.get(value_start..) == Some(b"ping".as_slice()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::testkit::FakeConfig;

    const HEARTBEAT: &str = ": ping\n\n";

    fn event(n: usize) -> String {
        format!("event: message\ndata: {{\"n\":{n}}}\n\n")
    }

    /// `events` events, with heartbeats of both kinds before each one.
    fn sse_text(events: usize) -> String {
        (0..events)
            .map(|n| format!("{HEARTBEAT}event: ping\ndata: {{}}\n\n{}", event(n)))
            .collect()
    }

    /// The text as a stream of `chunk`-byte pieces.
    fn chunked(text: &str, chunk: usize) -> BoxStream<'static, Bytes> {
        let pieces: Vec<Bytes> = text
            .as_bytes()
            .chunks(chunk)
            .map(Bytes::copy_from_slice)
            .collect();
        stream::iter(pieces).boxed()
    }

    /// Collects a wrapped stream: the bytes, and whether it ended with an error.
    async fn collect(mut s: BoxStream<'static, Result<Bytes, io::Error>>) -> (String, bool) {
        let mut out = Vec::new();
        while let Some(item) = s.next().await {
            match item {
                Ok(b) => out.extend_from_slice(&b),
                Err(e) => {
                    assert_eq!(e.kind(), io::ErrorKind::ConnectionAborted);
                    assert!(s.next().await.is_none(), "nothing after the error");
                    return (String::from_utf8(out).unwrap(), true);
                }
            }
        }
        (String::from_utf8(out).unwrap(), false)
    }

    fn shared() -> Shared {
        Shared::new(FakeConfig::default())
    }

    #[tokio::test(start_paused = true)]
    async fn no_fault_passes_through_and_ends_cleanly() {
        let shared = shared();
        let text = sse_text(3);
        let (out, cut) = collect(wrap_sse(&shared, "s", chunked(&text, 7))).await;
        assert_eq!(out, text);
        assert!(!cut);
        assert!(shared.faults.injected().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn cut_after_n_events_errors_after_exactly_n_data_frames() {
        for chunk in [1, 5, 64, 10_000] {
            for n in 0..4 {
                let shared = shared();
                shared.faults.cut_stream_after(n);
                let (out, cut) =
                    collect(wrap_sse(&shared, "s", chunked(&sse_text(5), chunk))).await;
                assert!(cut, "n={n} chunk={chunk}");
                assert_eq!(out, sse_text(n), "n={n} chunk={chunk}");
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeats_and_empty_data_do_not_count_as_events() {
        let shared = shared();
        shared.faults.cut_stream_after(1);
        let text = format!(
            ": keepalive\n\nevent: ping\ndata: {{}}\n\ndata:\n\n:x\n\n{}{}",
            event(0),
            event(1)
        );
        let (out, cut) = collect(wrap_sse(&shared, "s", chunked(&text, 3))).await;
        assert!(cut);
        assert_eq!(out, text[..text.len() - event(1).len()]);
    }

    #[tokio::test(start_paused = true)]
    async fn crlf_and_cr_line_endings_are_frames_too() {
        let shared = shared();
        shared.faults.cut_stream_after(2);
        let text = "data: a\r\n\r\n: hb\r\rdata: b\r\rdata: c\r\n\r\n";
        let (out, cut) = collect(wrap_sse(&shared, "s", chunked(text, 2))).await;
        assert!(cut);
        assert_eq!(out, "data: a\r\n\r\n: hb\r\rdata: b\r\r");
        // A CRLF blank line is passed whole.
        shared.faults.cut_stream_after(1);
        let (out, _) = collect(wrap_sse(&shared, "s", chunked(text, 100))).await;
        assert_eq!(out, "data: a\r\n\r\n");
    }

    #[tokio::test(start_paused = true)]
    async fn byte_offset_cut_yields_exactly_offset_bytes() {
        let text = sse_text(4);
        for chunk in [1, 7, 50, 10_000] {
            for offset in [0u64, 1, 13, 100, text.len() as u64] {
                let shared = shared();
                shared.faults.cut_stream_at_byte(offset);
                let (out, cut) = collect(wrap_sse(&shared, "s", chunked(&text, chunk))).await;
                assert!(cut, "offset={offset} chunk={chunk}");
                assert_eq!(out.as_bytes(), &text.as_bytes()[..offset as usize]);
            }
        }
        // Past the end: the stream ends cleanly.
        let shared = shared();
        shared.faults.cut_stream_at_byte(text.len() as u64 + 1);
        let (out, cut) = collect(wrap_sse(&shared, "s", chunked(&text, 9))).await;
        assert_eq!((out.as_str(), cut), (text.as_str(), false));
    }

    #[tokio::test(start_paused = true)]
    async fn random_byte_cut_is_seeded_bounded_and_reported() {
        let text = sse_text(20);
        let max = 300u64;
        let run = |seed: u64| {
            let text = text.clone();
            async move {
                let shared = shared();
                shared
                    .faults
                    .stream_fault(StreamFault::cut_at_random_byte(seed, max).streams(3));
                let mut offsets = Vec::new();
                for _ in 0..3 {
                    let (out, cut) = collect(wrap_sse(&shared, "s", chunked(&text, 11))).await;
                    assert!(cut);
                    assert!(out.len() as u64 <= max);
                    assert_eq!(out.as_bytes(), &text.as_bytes()[..out.len()]);
                    offsets.push(out.len() as u64);
                }
                let reported: Vec<u64> = shared
                    .faults
                    .injected()
                    .into_iter()
                    .map(|i| match i {
                        Injected::Stream {
                            action: StreamAction::CutAtByte(o),
                            ..
                        } => o,
                        other => panic!("{other:?}"),
                    })
                    .collect();
                assert_eq!(reported, offsets);
                offsets
            }
        };
        let a = run(42).await;
        assert_eq!(a, run(42).await, "same seed, same offsets");
        assert_ne!(a, run(7).await, "another seed, other offsets");
        assert!(
            a.iter().any(|o| *o != a[0]),
            "each stream draws anew: {a:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stall_yields_n_events_then_pends_forever() {
        let shared = shared();
        shared.faults.stall_stream_after(2);
        // An endless source: events forever, heartbeats included.
        let source = stream::iter(0..)
            .map(|n| Bytes::from(format!("{HEARTBEAT}{}", event(n))))
            .boxed();
        let mut s = wrap_sse(&shared, "s", source);
        let mut out = String::new();
        loop {
            match tokio::time::timeout(Duration::from_secs(3600), s.next()).await {
                Ok(Some(Ok(b))) => out.push_str(std::str::from_utf8(&b).unwrap()),
                Ok(other) => panic!("unexpected {other:?}"),
                Err(_elapsed) => break,
            }
        }
        assert_eq!(
            out,
            format!("{HEARTBEAT}{}{HEARTBEAT}{}", event(0), event(1))
        );
        // Still pending, not ended.
        assert!(
            tokio::time::timeout(Duration::from_secs(86_400), s.next())
                .await
                .is_err()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stall_at_zero_sends_nothing() {
        let shared = shared();
        shared.faults.stall_stream_after(0);
        let mut s = wrap_sse(&shared, "s", chunked(&sse_text(2), 4));
        assert!(
            tokio::time::timeout(Duration::from_secs(60), s.next())
                .await
                .is_err()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn faults_apply_to_the_next_k_streams_only() {
        let shared = shared();
        let text = sse_text(3);
        shared
            .faults
            .stream_fault(StreamFault::cut_after_events(1).streams(2));
        for _ in 0..2 {
            let (out, cut) = collect(wrap_sse(&shared, "s", chunked(&text, 8))).await;
            assert_eq!((out, cut), (sse_text(1), true));
        }
        assert!(!shared.faults.armed());
        let (out, cut) = collect(wrap_sse(&shared, "s", chunked(&text, 8))).await;
        assert_eq!((out, cut), (text.clone(), false));

        // Default: one stream.
        shared.faults.cut_stream_after(0);
        assert!(collect(wrap_sse(&shared, "s", chunked(&text, 8))).await.1);
        assert!(!collect(wrap_sse(&shared, "s", chunked(&text, 8))).await.1);

        // Every stream.
        shared
            .faults
            .stream_fault(StreamFault::cut_after_events(2).every_stream());
        for _ in 0..5 {
            assert_eq!(
                collect(wrap_sse(&shared, "s", chunked(&text, 8))).await,
                (sse_text(2), true)
            );
        }
        shared.faults.clear();
        assert!(!collect(wrap_sse(&shared, "s", chunked(&text, 8))).await.1);
    }

    #[tokio::test(start_paused = true)]
    async fn session_faults_target_their_session_only() {
        let shared = shared();
        let text = sse_text(3);
        shared
            .faults
            .stream_fault(StreamFault::cut_after_events(1).session("sesn_b"));
        shared.faults.stream_fault(StreamFault::cut_after_events(2));
        // Session A gets the second (any-session) fault; B's stays armed.
        assert_eq!(
            collect(wrap_sse(&shared, "sesn_a", chunked(&text, 8))).await,
            (sse_text(2), true)
        );
        assert!(
            !collect(wrap_sse(&shared, "sesn_a", chunked(&text, 8)))
                .await
                .1
        );
        assert_eq!(
            collect(wrap_sse(&shared, "sesn_b", chunked(&text, 8))).await,
            (sse_text(1), true)
        );
        assert_eq!(
            shared.faults.injected(),
            vec![
                Injected::Stream {
                    session_id: "sesn_a".into(),
                    action: StreamAction::CutAfterEvents(2)
                },
                Injected::Stream {
                    session_id: "sesn_b".into(),
                    action: StreamAction::CutAfterEvents(1)
                },
            ]
        );
    }

    #[test]
    fn request_matching() {
        let post_agents = RequestMatch::new("post", "/v1/agents");
        assert!(post_agents.matches("POST", "/v1/agents"));
        assert!(post_agents.matches("POST", "/v1/agents/agent_1/archive"));
        assert!(!post_agents.matches("GET", "/v1/agents"));
        assert!(!post_agents.matches("POST", "/v1/sessions"));
        assert!(RequestMatch::any().matches("GET", "/anything"));
        assert!(RequestMatch::writes().matches("DELETE", "/v1/files/f"));
        assert!(!RequestMatch::writes().matches("GET", "/v1/files/f"));
        assert!(
            RequestMatch::any()
                .path_prefix("/v1/sessions")
                .matches("GET", "/v1/sessions/s/events/stream")
        );
    }

    #[test]
    fn request_faults_fire_in_order_and_disarm() {
        let faults = Faults::default();
        faults
            .error_burst(ErrorBurst::new(529, 2).matching(RequestMatch::new("POST", "/v1/agents")));
        faults.drop_after_commit(1, RequestMatch::writes());
        assert!(faults.take_request_fault("GET", "/v1/agents").is_none());
        for _ in 0..2 {
            assert!(matches!(
                faults.take_request_fault("POST", "/v1/agents"),
                Some(RequestFault::Error(ErrorBurst { status: 529, .. }))
            ));
        }
        assert!(matches!(
            faults.take_request_fault("POST", "/v1/agents"),
            Some(RequestFault::DropAfterCommit)
        ));
        assert!(faults.take_request_fault("POST", "/v1/agents").is_none());
        assert!(!faults.armed());
        faults.error_burst(ErrorBurst::new(500, 0));
        assert!(!faults.armed(), "a burst of 0 arms nothing");
    }

    #[test]
    fn delays_fire_in_order_for_matching_requests_and_disarm() {
        let faults = Faults::default();
        let post_vaults = RequestMatch::new("POST", "/v1/vaults");
        faults.delay(2, post_vaults.clone(), Duration::from_millis(30));
        faults.delay(1, RequestMatch::writes(), Duration::from_millis(5));
        assert!(faults.armed());
        assert_eq!(faults.take_delay("GET", "/v1/vaults", 200), None);
        for _ in 0..2 {
            assert_eq!(
                faults.take_delay("POST", "/v1/vaults", 200),
                Some(Duration::from_millis(30))
            );
        }
        // The first delay is used up: the next POST gets the second one.
        assert_eq!(
            faults.take_delay("POST", "/v1/vaults", 200),
            Some(Duration::from_millis(5))
        );
        assert_eq!(faults.take_delay("POST", "/v1/vaults", 200), None);
        assert!(!faults.armed());
        // Independent of the other request faults: both can fire on one request.
        faults.delay(1, post_vaults.clone(), Duration::from_millis(1));
        faults.drop_after_commit(1, post_vaults);
        assert!(matches!(
            faults.take_request_fault("POST", "/v1/vaults"),
            Some(RequestFault::DropAfterCommit)
        ));
        assert!(faults.take_delay("POST", "/v1/vaults", 200).is_some());
        let delays: Vec<_> = faults
            .injected()
            .into_iter()
            .map(|i| match i {
                Injected::Delay {
                    method,
                    path,
                    status,
                    delay,
                } => (method, path, status, delay.as_millis()),
                other => panic!("{other:?}"),
            })
            .collect();
        let post = ("POST".to_owned(), "/v1/vaults".to_owned(), 200);
        assert_eq!(
            delays,
            [30, 30, 5, 1].map(|ms| (post.0.clone(), post.1.clone(), post.2, ms))
        );
        faults.delay(0, RequestMatch::any(), Duration::from_secs(1));
        assert!(!faults.armed(), "a delay of 0 requests arms nothing");
        faults.delay(3, RequestMatch::any(), Duration::from_secs(1));
        faults.clear();
        assert!(!faults.armed());
    }

    #[test]
    fn error_types_follow_the_reference() {
        let cases = [
            (400, "invalid_request_error"),
            (401, "authentication_error"),
            (404, "not_found_error"),
            (409, "conflict_error"),
            (429, "rate_limit_error"),
            (500, "api_error"),
            (502, "api_error"),
            (503, "api_error"),
            (504, "timeout_error"),
            (529, "overloaded_error"),
        ];
        for (status, kind) in cases {
            assert_eq!(error_type(status), kind, "{status}");
        }
    }

    #[tokio::test]
    async fn burst_response_has_the_error_shape_and_retry_headers() {
        let burst = ErrorBurst::new(529, 1)
            .retry_after(Duration::from_millis(1500))
            .should_retry(true);
        let response = burst.response();
        assert_eq!(response.status().as_u16(), 529);
        let h = response.headers();
        assert_eq!(h["retry-after"], "2");
        assert_eq!(h["retry-after-ms"], "1500");
        assert_eq!(h["x-should-retry"], "true");
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "overloaded_error");

        let whole = ErrorBurst::new(429, 1).retry_after(Duration::from_secs(120));
        let response = whole.response();
        assert_eq!(response.headers()["retry-after"], "120");
        assert!(response.headers().get("retry-after-ms").is_none());
        let raw = ErrorBurst::new(503, 1).retry_after("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(
            raw.response().headers()["retry-after"],
            "Wed, 21 Oct 2015 07:28:00 GMT"
        );
    }

    /// Served through hyper, a cut is a broken body for the client, after exactly the bytes
    /// before it — never a clean end; a stall keeps the connection open and silent.
    #[tokio::test]
    async fn over_http_a_cut_breaks_the_body_and_a_stall_goes_silent() {
        use std::sync::Arc;

        let shared = Arc::new(shared());
        let app = axum::Router::new().route(
            "/stream/{session}",
            axum::routing::get(
                |axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
                 axum::extract::Path(session): axum::extract::Path<String>| async move {
                    // Every event at once (as a replay would be), then an endless live tail.
                    let replay = stream::iter(vec![Bytes::from(sse_text(5))]);
                    let live = stream::unfold(0u64, |n| async move {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        Some((Bytes::from(HEARTBEAT), n + 1))
                    });
                    let body = wrap_sse(&shared, &session, replay.chain(live).boxed());
                    (
                        [("content-type", "text/event-stream")],
                        Body::from_stream(body),
                    )
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = app.with_state(shared.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        let http = reqwest::Client::new();

        // Cut after 3 events: the client reads exactly 3 events' bytes, then a body error.
        shared.faults.cut_stream_after(3);
        let mut resp = http.get(format!("{base}/stream/s")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let mut got = Vec::new();
        let err = loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => got.extend_from_slice(&chunk),
                Ok(None) => panic!("clean end after {:?}", String::from_utf8_lossy(&got)),
                Err(e) => break e,
            }
        };
        assert_eq!(String::from_utf8(got).unwrap(), sse_text(3));
        assert!(err.is_body() || err.is_decode(), "{err:?}");

        // Stall after 1 event: the event arrives, then silence (no heartbeats), no end.
        shared.faults.stall_stream_after(1);
        let mut resp = http.get(format!("{base}/stream/s")).send().await.unwrap();
        let mut got = Vec::new();
        while got.len() < sse_text(1).len() {
            got.extend_from_slice(&resp.chunk().await.unwrap().unwrap());
        }
        assert_eq!(String::from_utf8(got).unwrap(), sse_text(1));
        assert!(
            tokio::time::timeout(Duration::from_millis(300), resp.chunk())
                .await
                .is_err(),
            "stalled: nothing more, connection open"
        );

        // No fault: the live tail's heartbeats keep coming.
        let mut resp = http.get(format!("{base}/stream/s")).send().await.unwrap();
        let mut got = Vec::new();
        while got.len() < sse_text(5).len() + 2 * HEARTBEAT.len() {
            got.extend_from_slice(&resp.chunk().await.unwrap().unwrap());
        }
        assert!(String::from_utf8(got).unwrap().starts_with(&sse_text(5)));
    }

    /// A dropped response: the status and headers arrive, the body breaks short of its
    /// `content-length`; a response that cannot have a body is sent whole.
    #[tokio::test]
    async fn over_http_a_dropped_response_breaks_its_body() {
        let app = axum::Router::new()
            .route(
                "/json",
                axum::routing::get(|| async {
                    drop_response(axum::Json(serde_json::json!({"id": "x"})).into_response()).await
                }),
            )
            .route(
                "/empty",
                axum::routing::get(|| async {
                    drop_response(StatusCode::NO_CONTENT.into_response()).await
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        let http = reqwest::Client::new();
        let resp = http.get(format!("{base}/json")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-length"], "10");
        let err = resp.bytes().await.unwrap_err();
        assert!(err.is_body() || err.is_decode(), "{err:?}");

        let resp = http.get(format!("{base}/empty")).send().await.unwrap();
        assert_eq!(resp.status(), 204);
        assert!(resp.bytes().await.unwrap().is_empty());
    }
}
