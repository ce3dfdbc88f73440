//! A stateful fake of the Managed Agents API: a real HTTP server on loopback that behaves like
//! the service described in `shared/reference` — objects with their rules (immutable agent
//! versions, optimistic concurrency, archive, write-only secrets, one credential per MCP URL),
//! the reference's error shape with a `request-id`, pagination per scheme, sessions driven by
//! scripts, fault injection, and inspection for tests.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use claude_agents::testkit::FakeApi;
//!
//! let fake = FakeApi::start().await?;
//! let client = fake.client(); // an `api::Client` pointed at it
//! # let _ = client;
//! println!("serving on {}", fake.base_url());
//! # Ok(())
//! # }
//! ```
//!
//! It is for tests, examples and benchmarks (ours and the host's); library code never needs it.

pub mod faults;
mod http;
mod routes;
mod state;

pub use http::LoggedRequest;
pub use state::FakeConfig;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use secrecy::SecretString;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::api::Client;

/// The API key [`FakeApi::client`] uses (any key is accepted unless
/// [`FakeConfig::api_key`] is set).
pub const TEST_API_KEY: &str = "sk-ant-fake-test-key";

/// A running fake API server. Stops when dropped.
pub struct FakeApi {
    addr: SocketAddr,
    base_url: String,
    shared: Arc<state::Shared>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for FakeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApi")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl FakeApi {
    /// Starts a fake on an ephemeral loopback port with the default configuration.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(FakeConfig::default()).await
    }

    /// Starts a fake with `config` (port 0 picks an ephemeral port).
    pub async fn start_with(config: FakeConfig) -> std::io::Result<Self> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], config.port))).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(state::Shared::new(config));
        let app = routes::router(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "fake API server stopped");
            }
        });
        Ok(Self {
            addr,
            base_url: format!("http://{addr}"),
            shared,
            shutdown: Some(tx),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// An API client pointed at this fake (key [`TEST_API_KEY`], or the configured one).
    pub fn client(&self) -> Client {
        let key = self
            .shared
            .config
            .api_key
            .clone()
            .unwrap_or_else(|| TEST_API_KEY.to_owned());
        match Client::builder()
            .api_key(SecretString::from(key))
            .base_url(self.base_url.as_str())
            .build()
        {
            Ok(client) => client,
            // The URL and key are ours and always valid; keep the signature infallible.
            Err(e) => unreachable!("fake API client config is valid: {e}"),
        }
    }

    /// Every request served so far, in order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.log_snapshot()
    }

    /// Successful writes (POST/DELETE answered 2xx) per resource family (`agents`,
    /// `environments`, `sessions`, `events`, `vaults`, `credentials`, `skills`, `files`).
    pub fn writes(&self) -> BTreeMap<String, usize> {
        self.shared.writes_snapshot()
    }

    /// The total of [`writes`](Self::writes).
    pub fn write_count(&self) -> usize {
        self.writes().values().sum()
    }

    /// The current state of one object by id (the latest version for agents), as the API
    /// would return it.
    pub fn object(&self, id: &str) -> Option<Value> {
        self.shared.object(id)
    }

    /// Every object of one kind (`agent`, `environment`, `session`, `vault`,
    /// `vault_credential`, `skill`, `skill_version`, `file`), archived ones included, oldest
    /// first.
    pub fn objects(&self, kind: &str) -> Vec<Value> {
        self.shared.objects(kind)
    }

    /// Adds a file as if the agent of `session_id` had written it to `/mnt/session/outputs/`:
    /// scoped to the session (listed with `scope_id`) and downloadable, unlike uploads.
    /// Returns its metadata as `GET /v1/files/{id}` would.
    pub fn add_session_output(
        &self,
        session_id: &str,
        filename: &str,
        mime_type: &str,
        bytes: impl Into<bytes::Bytes>,
    ) -> Value {
        routes::files::session_output(&self.shared, session_id, filename, mime_type, bytes.into())
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
