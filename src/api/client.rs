//! [`Client`]: configuration, authentication headers, request execution with retries and a
//! total deadline, response decoding, and pagination.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt, stream};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::{ApiError, Error, Operation, Result};
use super::retry::{
    AttemptOutcome, Decision, RequestKind, RetryPolicy, parse_retry_after, parse_should_retry,
};
use super::types::{CursorPage, IdPage};

/// The default API base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The beta header value of the Managed Agents endpoints.
pub const MANAGED_AGENTS_BETA: &str = "managed-agents-2026-04-01";
/// The Files API beta. Sent (with [`MANAGED_AGENTS_BETA`]) on `/v1/files*` by default: see
/// [`ClientBuilder::files_betas`].
pub const FILES_API_BETA: &str = "files-api-2025-04-14";
/// The legacy Skills API beta (switches skills to the legacy wire shape, reference skills.md §0).
pub const SKILLS_LEGACY_BETA: &str = "skills-2025-10-02";
/// `anthropic-version` the Managed Agents guides send. The official SDK 2.10.0 sends
/// `2026-10-21`; both are accepted (reference README §2). Configurable on the builder.
pub const DEFAULT_API_VERSION: &str = "2023-06-01";

/// A boxed stream of items from a list endpoint, fetching pages on demand.
pub type ItemStream<T> = Pin<Box<dyn Stream<Item = Result<T>> + Send + 'static>>;

/// How the API key is sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthStyle {
    /// `x-api-key: <key>` — what the Managed Agents docs use.
    #[default]
    ApiKeyHeader,
    /// `Authorization: Bearer <key>` — what the official SDK 2.10.0 sends; also the form for
    /// OAuth / federated tokens.
    Bearer,
}

/// Which beta header an endpoint family carries (reference README §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// agents, environments, sessions, vaults.
    ManagedAgents,
    /// skills: no beta, unless the legacy shape is configured.
    Skills,
    /// models: no beta.
    Models,
    /// files: [`ClientBuilder::files_betas`].
    Files,
}

impl Family {
    /// The family of a request path (`/v1/skills…` → skills, `/v1/models…` → models).
    pub(crate) fn of_path(path: &str) -> Self {
        let path = path.trim_start_matches('/');
        let resource = path
            .strip_prefix("v1/")
            .unwrap_or(path)
            .split(['/', '?'])
            .next()
            .unwrap_or_default();
        match resource {
            "skills" => Family::Skills,
            "models" => Family::Models,
            "files" => Family::Files,
            _ => Family::ManagedAgents,
        }
    }
}

/// Builder for [`Client`].
#[derive(Clone)]
pub struct ClientBuilder {
    api_key: Option<SecretString>,
    base_url: String,
    auth_style: AuthStyle,
    api_version: String,
    extra_betas: Vec<String>,
    legacy_skills: bool,
    files_betas: Vec<String>,
    workspace_id: Option<String>,
    http: Option<reqwest::Client>,
    retry: RetryPolicy,
    timeout: Duration,
    connect_timeout: Duration,
    stream_idle_timeout: Duration,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("base_url", &self.base_url)
            .field("auth_style", &self.auth_style)
            .field("api_version", &self.api_version)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            auth_style: AuthStyle::default(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            extra_betas: Vec::new(),
            legacy_skills: false,
            files_betas: vec![FILES_API_BETA.to_owned(), MANAGED_AGENTS_BETA.to_owned()],
            workspace_id: None,
            http: None,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(5),
            stream_idle_timeout: Duration::from_secs(90),
        }
    }
}

impl ClientBuilder {
    /// The API key (required).
    pub fn api_key(mut self, key: impl Into<SecretString>) -> Self {
        self.api_key = Some(key.into());
        self
    }
    /// Base URL (default `https://api.anthropic.com`); paths are appended to it.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }
    /// How the key is sent (default `x-api-key`).
    pub fn auth_style(mut self, style: AuthStyle) -> Self {
        self.auth_style = style;
        self
    }
    /// `anthropic-version` header (default [`DEFAULT_API_VERSION`]).
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }
    /// Extra beta names appended (comma-joined) to every request's `anthropic-beta`.
    pub fn extra_beta(mut self, beta: impl Into<String>) -> Self {
        self.extra_betas.push(beta.into());
        self
    }
    /// Send the legacy `skills-2025-10-02` beta on skills endpoints (legacy wire shape).
    pub fn legacy_skills(mut self, on: bool) -> Self {
        self.legacy_skills = on;
        self
    }
    /// The betas sent on `/v1/files*` (before any [`extra_beta`](Self::extra_beta)). Default:
    /// [`FILES_API_BETA`] and [`MANAGED_AGENTS_BETA`], the combination Anthropic's guide uses
    /// for session-scoped listing (`scope_id`) and older docs require; an empty list sends no
    /// beta header, as the official SDK 2.10.0 does (reference models-webhooks-files.md §C).
    pub fn files_betas<I, S>(mut self, betas: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.files_betas = betas
            .into_iter()
            .map(Into::into)
            .filter(|b: &String| !b.trim().is_empty())
            .collect();
        self
    }
    /// `anthropic-workspace-id` header, for credentials that span workspaces.
    pub fn workspace_id(mut self, id: impl Into<String>) -> Self {
        self.workspace_id = Some(id.into());
        self
    }
    /// Use the host's own `reqwest::Client` (connection pool, proxy, TLS settings). Its own
    /// timeouts apply in addition to the deadline set here.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }
    /// Retry policy (default: the official SDKs', see [`RetryPolicy`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }
    /// Shorthand for the number of retries.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.retry.max_retries = n;
        self
    }
    /// Total deadline of one call, retries and waits included (default 600 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Connect timeout of the built-in HTTP client (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
    /// An event stream that delivers no bytes (not even a heartbeat) for this long is treated as
    /// stalled (default 90 s).
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.stream_idle_timeout = timeout;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let api_key = self
            .api_key
            .ok_or_else(|| Error::Config("no API key given (set ANTHROPIC_API_KEY)".into()))?;
        let auth = match self.auth_style {
            AuthStyle::ApiKeyHeader => (
                HeaderName::from_static("x-api-key"),
                sensitive_header(api_key.expose_secret())?,
            ),
            AuthStyle::Bearer => (
                reqwest::header::AUTHORIZATION,
                sensitive_header(&format!("Bearer {}", api_key.expose_secret()))?,
            ),
        };
        let mut base = Url::parse(&self.base_url)
            .map_err(|e| Error::Config(format!("invalid base URL {:?}: {e}", self.base_url)))?;
        if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "base URL must be http(s): {:?}",
                self.base_url
            )));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = match self.http {
            Some(http) => http,
            None => default_http(self.connect_timeout)?,
        };
        let header = |v: &str| {
            HeaderValue::from_str(v).map_err(|_| Error::Config(format!("invalid header {v:?}")))
        };
        let betas = |first: Option<&str>| -> Result<Option<HeaderValue>> {
            let all: Vec<&str> = first
                .into_iter()
                .chain(self.extra_betas.iter().map(String::as_str))
                .collect();
            if all.is_empty() {
                Ok(None)
            } else {
                header(&all.join(",")).map(Some)
            }
        };
        let beta_managed = betas(Some(MANAGED_AGENTS_BETA))?;
        let beta_skills = betas(self.legacy_skills.then_some(SKILLS_LEGACY_BETA))?;
        let beta_models = betas(None)?;
        let files = self.files_betas.join(",");
        let beta_files = betas(Some(files.as_str()).filter(|f| !f.is_empty()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                auth,
                version: header(&self.api_version)?,
                workspace: self.workspace_id.as_deref().map(header).transpose()?,
                beta_managed,
                beta_skills,
                beta_models,
                beta_files,
                retry: self.retry,
                timeout: self.timeout,
                stream_idle_timeout: self.stream_idle_timeout,
            }),
        })
    }
}

impl ClientBuilder {
    /// This builder with its HTTP client built now when none was given, so that every
    /// [`Client`] built from clones of it shares one connection pool (a service that builds a
    /// client per API key, such as `keys::ProviderKeys`, uses this).
    pub(crate) fn with_shared_http(mut self) -> Result<Self> {
        if self.http.is_none() {
            self.http = Some(default_http(self.connect_timeout)?);
        }
        Ok(self)
    }
}

/// The built-in HTTP client: the connect timeout and our user agent.
fn default_http(connect_timeout: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .user_agent(concat!("claude-agents/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Config(format!("could not build HTTP client: {e}")))
}

fn sensitive_header(value: &str) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        Error::Config("the API key contains characters not allowed in a header".into())
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// The Managed Agents API client. Cheap to clone (an `Arc` inside); share one per process.
///
/// Resource handles borrow it: `client.agents().create(&req)`, `client.sessions().events(&id)`.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    base: Url,
    auth: (HeaderName, HeaderValue),
    version: HeaderValue,
    workspace: Option<HeaderValue>,
    beta_managed: Option<HeaderValue>,
    beta_skills: Option<HeaderValue>,
    beta_models: Option<HeaderValue>,
    beta_files: Option<HeaderValue>,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Duration,
    pub(crate) stream_idle_timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("auth", &format_args!("{}: [REDACTED]", self.inner.auth.0))
            .field("anthropic_version", &self.inner.version)
            .field("retry", &self.inner.retry)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// A request body.
#[derive(Clone)]
pub(crate) enum Body {
    Empty,
    Json(Bytes),
    /// Multipart forms cannot be cloned, so a retry rebuilds the form.
    Multipart(Arc<dyn Fn() -> reqwest::multipart::Form + Send + Sync>),
}

/// Everything needed to send (and re-send) one request.
#[derive(Clone)]
pub(crate) struct Request {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Body,
    pub kind: RequestKind,
    pub family: Family,
    pub accept: Option<&'static str>,
}

impl Request {
    pub(crate) fn get(path: impl Into<String>) -> Self {
        let path = path.into();
        Self {
            method: Method::GET,
            family: Family::of_path(&path),
            path,
            query: Vec::new(),
            body: Body::Empty,
            kind: RequestKind::Read,
            accept: None,
        }
    }
    pub(crate) fn post(path: impl Into<String>, kind: RequestKind) -> Self {
        Self {
            method: Method::POST,
            kind,
            ..Self::get(path)
        }
    }
    pub(crate) fn delete(path: impl Into<String>) -> Self {
        Self {
            method: Method::DELETE,
            kind: RequestKind::Idempotent,
            ..Self::get(path)
        }
    }
    pub(crate) fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::InvalidRequest(format!("could not encode the body: {e}")))?;
        self.body = Body::Json(Bytes::from(bytes));
        Ok(self)
    }
    pub(crate) fn query(mut self, query: Vec<(String, String)>) -> Self {
        self.query.extend(query);
        self
    }
    /// Adds the `page` cursor of a page-cursor list, when there is one.
    pub(crate) fn page(mut self, page: Option<&str>) -> Self {
        self.query
            .extend(page.map(|p| ("page".to_owned(), p.to_owned())));
        self
    }
    pub(crate) fn operation(&self) -> Operation {
        Operation {
            method: self.method.to_string(),
            path: self.path.clone(),
        }
    }
}

/// A successful response with its body read.
pub(crate) struct Response {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Client {
    /// A builder with the defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// From the environment: `ANTHROPIC_API_KEY` (required) and `ANTHROPIC_BASE_URL` (optional).
    pub fn from_env() -> Result<Self> {
        let key = std::env::var("ANTHROPIC_API_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| Error::Config("ANTHROPIC_API_KEY is not set".into()))?;
        let mut builder = Self::builder().api_key(SecretString::from(key));
        if let Ok(base) = std::env::var("ANTHROPIC_BASE_URL")
            && !base.trim().is_empty()
        {
            builder = builder.base_url(base);
        }
        builder.build()
    }

    /// `GET` any path (e.g. `/v1/agents/agent_1`) and decode the JSON response: an escape
    /// hatch for endpoints this crate does not type yet. Beta headers follow the path's family.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T> {
        let query = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.call(Request::get(path).query(query)).await
    }

    /// `POST` a JSON body to any path and decode the JSON response. `kind` tells the retry
    /// policy whether the call may be repeated ([`RequestKind::Create`] for creates and sends).
    pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        kind: RequestKind,
    ) -> Result<T> {
        self.call(Request::post(path, kind).json(body)?).await
    }

    /// `DELETE` any path; an empty (204) answer yields a [`Deleted`](super::types::Deleted)
    /// with `id` set to the path's last segment.
    pub async fn delete_path(&self, path: &str) -> Result<super::types::Deleted> {
        let id = path.rsplit('/').next().unwrap_or_default().to_owned();
        self.call_deleted(Request::delete(path), &id).await
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    fn url(&self, req: &Request) -> Result<Url> {
        let path = req.path.trim_start_matches('/');
        // URL parsing resolves `.` and `..` segments, so an id such as `..` would silently
        // address another resource (`/v1/skills/{id}/versions/..` is the skill itself).
        if path
            .split('?')
            .next()
            .unwrap_or_default()
            .split('/')
            .any(is_dot_segment)
        {
            return Err(Error::InvalidRequest(format!(
                "path {:?} has a `.` or `..` segment: an id cannot be `.` or `..`",
                req.path
            )));
        }
        let mut url = self
            .inner
            .base
            .join(path)
            .map_err(|e| Error::InvalidRequest(format!("bad path {:?}: {e}", req.path)))?;
        if !req.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(req.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        Ok(url)
    }

    fn build(&self, req: &Request, url: Url, remaining: Duration) -> reqwest::RequestBuilder {
        let inner = &self.inner;
        let mut rb = inner
            .http
            .request(req.method.clone(), url)
            .header(inner.auth.0.clone(), inner.auth.1.clone())
            .header("anthropic-version", inner.version.clone());
        let beta = match req.family {
            Family::ManagedAgents => &inner.beta_managed,
            Family::Skills => &inner.beta_skills,
            Family::Models => &inner.beta_models,
            Family::Files => &inner.beta_files,
        };
        if let Some(beta) = beta {
            rb = rb.header("anthropic-beta", beta.clone());
        }
        if let Some(ws) = &inner.workspace {
            rb = rb.header("anthropic-workspace-id", ws.clone());
        }
        if let Some(accept) = req.accept {
            rb = rb.header(reqwest::header::ACCEPT, accept);
        } else {
            rb = rb.header(reqwest::header::ACCEPT, "application/json");
        }
        match &req.body {
            Body::Empty => {}
            Body::Json(bytes) => {
                rb = rb
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(bytes.clone());
            }
            Body::Multipart(form) => rb = rb.multipart(form()),
        }
        // Streams are governed by the idle timeout, not by a total timeout on the body.
        if req.accept != Some("text/event-stream") {
            rb = rb.timeout(remaining);
        }
        rb
    }

    /// Sends a request with the retry policy and the total deadline, returning the response
    /// once its status is a success (the body is not read: streams use this too).
    pub(crate) async fn send_raw(&self, req: &Request) -> Result<reqwest::Response> {
        let deadline = tokio::time::Instant::now() + self.inner.timeout;
        let operation = req.operation();
        let attempt_loop = async {
            let url = self.url(req)?;
            let mut retries = 0u32;
            loop {
                let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
                let sent = self.build(req, url.clone(), remaining).send().await;
                let (outcome, should_retry, retry_after, failure) = match sent {
                    Ok(resp) if resp.status().is_success() => return Ok(resp),
                    Ok(resp) => {
                        let status = resp.status();
                        let headers = resp.headers().clone();
                        let retry_after = parse_retry_after(&headers, SystemTime::now());
                        let request_id = request_id(&headers);
                        let body = resp.bytes().await.unwrap_or_default();
                        let api = ApiError::from_body(
                            operation.clone(),
                            status.as_u16(),
                            &body,
                            request_id,
                            retry_after,
                        );
                        (
                            AttemptOutcome::Status(status.as_u16()),
                            parse_should_retry(&headers),
                            retry_after,
                            Failure::Api(Box::new(api)),
                        )
                    }
                    Err(err) => {
                        let outcome = if err.is_connect() {
                            AttemptOutcome::ConnectFailed
                        } else {
                            AttemptOutcome::NoResponse
                        };
                        (outcome, None, None, Failure::Transport(err))
                    }
                };
                let decision = self.inner.retry.decide(
                    req.kind,
                    outcome,
                    should_retry,
                    retry_after,
                    retries,
                    rand::random::<f64>(),
                );
                match decision {
                    Decision::Retry(wait) if tokio::time::Instant::now() + wait < deadline => {
                        tracing::debug!(%operation, ?outcome, ?wait, retries, "retrying");
                        tokio::time::sleep(wait).await;
                        retries += 1;
                    }
                    Decision::OutcomeUnknown => {
                        let (reason, request_id) = match &failure {
                            Failure::Api(api) => (api.to_string(), api.request_id.clone()),
                            Failure::Transport(e) => (transport_message(e), None),
                        };
                        return Err(Error::OutcomeUnknown {
                            operation: operation.clone(),
                            reason,
                            request_id,
                        });
                    }
                    _ => return Err(failure.into_error(&operation, req.kind)),
                }
            }
        };
        match tokio::time::timeout_at(deadline, attempt_loop).await {
            Ok(result) => result,
            Err(_) if req.kind == RequestKind::Create => Err(Error::OutcomeUnknown {
                operation: operation.clone(),
                reason: format!("no answer within the deadline of {:?}", self.inner.timeout),
                request_id: None,
            }),
            Err(_) => Err(Error::Deadline {
                operation,
                deadline: self.inner.timeout,
            }),
        }
    }

    /// Sends a request and reads the whole body.
    pub(crate) async fn send(&self, req: &Request) -> Result<Response> {
        let operation = req.operation();
        let resp = self.send_raw(req).await?;
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| {
            if req.kind == RequestKind::Create {
                Error::OutcomeUnknown {
                    operation: operation.clone(),
                    reason: format!("the response body was cut: {}", transport_message(&e)),
                    request_id: request_id(&headers),
                }
            } else {
                Error::Transport {
                    operation: operation.clone(),
                    message: transport_message(&e),
                    source: Some(Box::new(e)),
                }
            }
        })?;
        Ok(Response { headers, body })
    }

    /// Sends a request and decodes the JSON response as `T`.
    pub(crate) async fn call<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        let resp = self.send(&req).await?;
        decode(&req.operation(), &resp)
    }

    /// Sends a `DELETE`-like request whose body may be empty (204) or `{id, type}`.
    pub(crate) async fn call_deleted(
        &self,
        req: Request,
        id: &str,
    ) -> Result<super::types::Deleted> {
        let resp = self.send(&req).await?;
        if resp.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(super::types::Deleted {
                id: id.to_owned(),
                kind: String::new(),
            });
        }
        decode(&req.operation(), &resp)
    }

    /// All items of a page-cursor list (reference README §5.1/5.2) as a stream.
    pub(crate) fn paginate<T>(&self, req: Request) -> ItemStream<T>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let client = self.clone();
        let pages = stream::try_unfold(Some(None::<String>), move |cursor| {
            let client = client.clone();
            let req = req.clone();
            async move {
                let Some(current) = cursor else {
                    return Ok(None);
                };
                let page: CursorPage<T> = client.call(req.page(current.as_deref())).await?;
                // A cursor that repeats would loop forever: treat it as the last page.
                let next = page
                    .next_page
                    .filter(|p| !p.is_empty() && Some(p) != current.as_ref())
                    .map(Some);
                Ok(Some((page.data, next)))
            }
        });
        flatten_pages(pages)
    }

    /// All items of an id-based list (reference README §5.3) as a stream.
    pub(crate) fn paginate_by_id<T>(&self, req: Request) -> ItemStream<T>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let client = self.clone();
        let pages = stream::try_unfold(Some(None::<String>), move |cursor| {
            let client = client.clone();
            let mut req = req.clone();
            async move {
                let Some(after) = cursor else {
                    return Ok(None);
                };
                if let Some(after) = after {
                    req.query.push(("after_id".to_owned(), after));
                }
                let page: IdPage<T> = client.call(req).await?;
                let next = match (page.has_more, page.last_id) {
                    (true, Some(last)) if !last.is_empty() && !page.data.is_empty() => {
                        Some(Some(last))
                    }
                    _ => None,
                };
                Ok(Some((page.data, next)))
            }
        });
        flatten_pages(pages)
    }
}

/// A stream of pages as a stream of their items.
fn flatten_pages<T, S>(pages: S) -> ItemStream<T>
where
    T: Send + 'static,
    S: Stream<Item = Result<Vec<T>>> + Send + 'static,
{
    Box::pin(
        pages
            .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
            .try_flatten(),
    )
}

enum Failure {
    Api(Box<ApiError>),
    Transport(reqwest::Error),
}

impl Failure {
    fn into_error(self, operation: &Operation, kind: RequestKind) -> Error {
        match self {
            Failure::Api(api) if api.status == 409 && kind != RequestKind::Read => {
                Error::Conflict(api)
            }
            Failure::Api(api) => Error::Api(api),
            Failure::Transport(e) => Error::Transport {
                operation: operation.clone(),
                message: transport_message(&e),
                source: Some(Box::new(e)),
            },
        }
    }
}

/// Whether a path segment is one URL parsing resolves away (`.`, `..`, or a percent-encoded
/// form of them).
fn is_dot_segment(segment: &str) -> bool {
    let s = segment.to_ascii_lowercase().replace("%2e", ".");
    s == "." || s == ".."
}

/// A transport error's message: its kind and the chain of causes, without the URL.
fn transport_message(err: &reqwest::Error) -> String {
    let mut msg = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else if err.is_body() || err.is_decode() {
        "response body error"
    } else if err.is_request() {
        "request error"
    } else {
        "HTTP error"
    }
    .to_owned();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Decodes a JSON body, naming the JSON path on failure.
pub(crate) fn decode<T: DeserializeOwned>(operation: &Operation, resp: &Response) -> Result<T> {
    serde_json::from_slice(&resp.body).map_err(|plain| {
        // Decode again with path tracking only to name the JSON path.
        let mut de = serde_json::Deserializer::from_slice(&resp.body);
        let (path, message) = match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Err(err) => (err.path().to_string(), err.inner().to_string()),
            Ok(_) => (".".to_owned(), plain.to_string()),
        };
        Error::Decode {
            operation: operation.clone(),
            path,
            message,
            request_id: request_id(&resp.headers),
        }
    })
}
