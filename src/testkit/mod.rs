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
//!
//! [`conformance`] is the contract suite of the `store` traits, for every implementation.

pub mod conformance;
mod engine;
pub mod faults;
mod http;
mod routes;
pub mod script;
mod state;

pub use faults::{
    ErrorBurst, Faults, Injected, RequestMatch, RetryAfter, StreamAction, StreamFault,
};
pub use http::LoggedRequest;
pub use script::Script;
pub use state::{FakeConfig, KeyAccess};

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

    /// The fault injection of this fake: latency, error bursts, responses dropped after
    /// commit, cut and stalled event streams (see [`faults`]).
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
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

    /// Answers requests carrying `key` as `access` from now on (see
    /// [`FakeConfig::key_access`]); e.g. [`KeyAccess::Rejected`] to revoke a key mid-test.
    pub fn set_key_access(&self, key: impl Into<String>, access: KeyAccess) {
        state::lock(&self.shared.key_access).insert(key.into(), access);
    }

    /// The script every session without its own runs (initially [`Script::default`]).
    pub fn set_default_script(&self, script: Script) {
        state::lock(&self.shared.state).runtime.default_script = Some(script);
    }

    /// The script of one session (takes effect from its next turn; may be set before the
    /// session's first event, e.g. right after creating it).
    pub fn set_script(&self, session_id: impl AsRef<str>, script: Script) {
        state::lock(&self.shared.state)
            .runtime
            .scripts
            .insert(session_id.as_ref().to_owned(), script);
    }

    /// The persisted event history of a session (each event once, in its latest form), as
    /// `GET /v1/sessions/{id}/events` lists it; empty for an unknown or deleted session.
    pub fn session_events(&self, session_id: impl AsRef<str>) -> Vec<Value> {
        state::lock(&self.shared.state)
            .runtime
            .sessions
            .get(session_id.as_ref())
            .map(|rt| rt.history.clone())
            .unwrap_or_default()
    }

    /// Test hook: stores `value` (which must carry an `id`) as an object of `kind`
    /// (`agent`, `environment`, `vault`, `vault_credential`, `skill`, `file`) without going
    /// through the API. Returns whether it was stored.
    #[doc(hidden)]
    pub fn insert_object(&self, kind: &str, value: Value) -> bool {
        let Some(id) = value.get("id").and_then(Value::as_str).map(str::to_owned) else {
            return false;
        };
        let mut s = state::lock(&self.shared.state);
        match kind {
            "agent" => s.agents.entry(id).or_default().push(value),
            "environment" => {
                s.environments.insert(id, value);
            }
            "vault" => {
                s.vaults.insert(id, value);
            }
            "vault_credential" => {
                s.credentials.insert(id, value);
            }
            "skill" => {
                s.skills.insert(id, value);
            }
            "file" => {
                s.files.insert(id, value);
            }
            _ => return false,
        }
        true
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
        // End the live event streams, and the session scripts waiting for input.
        for rt in state::lock(&self.shared.state)
            .runtime
            .sessions
            .values_mut()
        {
            rt.shut_down();
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
