//! The fake's state: every object as the JSON the API returns, the request log, write counts,
//! id and timestamp generation.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Map, Value};

use super::faults::Faults;
use super::http::LoggedRequest;

/// Configuration of a [`FakeApi`](super::FakeApi).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FakeConfig {
    /// Port to bind on 127.0.0.1; `0` picks an ephemeral one.
    pub port: u16,
    /// When set, only this key (as `x-api-key` or `Authorization: Bearer`) is accepted;
    /// otherwise any non-empty key is.
    pub api_key: Option<String>,
    /// Per-key answers that override [`api_key`](Self::api_key) for the keys listed (empty by
    /// default): a [`Rejected`](KeyAccess::Rejected) key gets 401 `authentication_error`, a
    /// [`Forbidden`](KeyAccess::Forbidden) key 403 `permission_error` on every request, an
    /// [`Accepted`](KeyAccess::Accepted) key is served even when `api_key` names another.
    /// Change it while the fake runs with [`FakeApi::set_key_access`](super::FakeApi::set_key_access).
    pub key_access: BTreeMap<String, KeyAccess>,
    /// Print one line per request (`METHOD PATH STATUS`) to stderr.
    pub log: bool,
    /// Interval of the heartbeat comments (`: ping`) on event streams (default 15 s; zero
    /// sends none).
    pub heartbeat: Duration,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            port: 0,
            api_key: None,
            key_access: BTreeMap::new(),
            log: false,
            heartbeat: Duration::from_secs(15),
        }
    }
}

impl FakeConfig {
    /// The default configuration on `port`.
    pub fn with_port(port: u16) -> Self {
        Self {
            port,
            ..Self::default()
        }
    }

    /// This configuration with `key` answered as `access` (see
    /// [`key_access`](Self::key_access)).
    pub fn with_key_access(mut self, key: impl Into<String>, access: KeyAccess) -> Self {
        self.key_access.insert(key.into(), access);
        self
    }
}

/// How the fake answers requests carrying one particular API key
/// ([`FakeConfig::key_access`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyAccess {
    /// Served normally (even when [`FakeConfig::api_key`] names another key).
    Accepted,
    /// 401 `authentication_error`: the key is unknown, revoked or malformed.
    Rejected,
    /// 403 `permission_error`: the key is genuine but not allowed to use the API.
    Forbidden,
}

/// Objects by kind, then by id (ids are generated in increasing order, so id order is
/// creation order).
#[derive(Default)]
pub(crate) struct State {
    /// Agent id → every version, oldest first.
    pub agents: BTreeMap<String, Vec<Value>>,
    pub environments: BTreeMap<String, Value>,
    pub vaults: BTreeMap<String, Value>,
    pub credentials: BTreeMap<String, Value>,
    pub sessions: BTreeMap<String, Value>,
    pub skills: BTreeMap<String, Value>,
    /// Skill id → versions, oldest first.
    pub skill_versions: BTreeMap<String, Vec<Value>>,
    pub files: BTreeMap<String, Value>,
    /// What runs behind the sessions: event histories, live subscribers, queues, scripts.
    pub runtime: super::engine::Runtimes,
    /// Credential id → its write-only secrets (`access_token`, `refresh_token`,
    /// `client_secret`, `token`, `secret_value`). Never part of any response.
    pub credential_secrets: BTreeMap<String, Map<String, Value>>,
    /// Skill version id → the uploaded files (`dir/path`, bytes), in upload order.
    pub skill_files: BTreeMap<String, Vec<(String, Bytes)>>,
    /// File id → its bytes.
    pub file_contents: BTreeMap<String, Bytes>,
}

pub(crate) struct Shared {
    pub config: FakeConfig,
    /// [`FakeConfig::key_access`], changeable at run time.
    pub key_access: Mutex<BTreeMap<String, KeyAccess>>,
    pub state: Mutex<State>,
    log: Mutex<Vec<LoggedRequest>>,
    writes: Mutex<BTreeMap<String, usize>>,
    counter: AtomicU64,
    /// The faults armed on this fake.
    pub faults: Faults,
}

/// Locks a mutex, recovering the data if a holder panicked (the fake must keep serving).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub fn new(config: FakeConfig) -> Self {
        Self {
            key_access: Mutex::new(config.key_access.clone()),
            config,
            state: Mutex::new(State::default()),
            log: Mutex::new(Vec::new()),
            writes: Mutex::new(BTreeMap::new()),
            counter: AtomicU64::new(1),
            faults: Faults::default(),
        }
    }

    /// A fresh id with the API's prefix: `agent_011CZfake00000000000042`. Increasing, so
    /// lexical order is creation order.
    pub fn new_id(&self, prefix: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}_011CZfake{n:016}")
    }

    /// A request id for the `request-id` header and error bodies.
    pub fn new_request_id(&self) -> String {
        self.new_id("req")
    }

    pub fn record(&self, entry: LoggedRequest) {
        if self.config.log {
            eprintln!("{} {} {}", entry.method, entry.path, entry.status);
        }
        let is_write = entry.method != "GET" && (200..300).contains(&entry.status);
        if is_write && let Some(family) = write_family(&entry.path) {
            *lock(&self.writes).entry(family.to_owned()).or_default() += 1;
        }
        lock(&self.log).push(entry);
    }

    pub fn log_snapshot(&self) -> Vec<LoggedRequest> {
        lock(&self.log).clone()
    }

    pub fn writes_snapshot(&self) -> BTreeMap<String, usize> {
        lock(&self.writes).clone()
    }

    pub fn object(&self, id: &str) -> Option<Value> {
        let s = lock(&self.state);
        s.agents
            .get(id)
            .and_then(|v| v.last())
            .or_else(|| s.environments.get(id))
            .or_else(|| s.vaults.get(id))
            .or_else(|| s.credentials.get(id))
            .or_else(|| s.sessions.get(id))
            .or_else(|| s.skills.get(id))
            .or_else(|| s.files.get(id))
            .or_else(|| s.skill_versions.values().flatten().find(|v| v["id"] == id))
            .cloned()
    }

    pub fn objects(&self, kind: &str) -> Vec<Value> {
        let s = lock(&self.state);
        match kind {
            "agent" => s
                .agents
                .values()
                .filter_map(|v| v.last().cloned())
                .collect(),
            "environment" => s.environments.values().cloned().collect(),
            "vault" => s.vaults.values().cloned().collect(),
            "vault_credential" => s.credentials.values().cloned().collect(),
            "session" => s.sessions.values().cloned().collect(),
            "skill" => s.skills.values().cloned().collect(),
            "skill_version" => s.skill_versions.values().flatten().cloned().collect(),
            "file" => s.files.values().cloned().collect(),
            _ => Vec::new(),
        }
    }
}

/// The resource family a write path belongs to, for write counts.
fn write_family(path: &str) -> Option<&'static str> {
    let mut parts = path.trim_start_matches('/').split('/');
    let _v1 = parts.next();
    let family = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    Some(match (family, rest.as_slice()) {
        ("agents", _) => "agents",
        ("environments", _) => "environments",
        ("sessions", [_, "events", ..]) => "events",
        ("sessions", [_, "resources", ..]) => "session_resources",
        ("sessions", [_, "threads", ..]) => "threads",
        ("sessions", _) => "sessions",
        ("vaults", [_, "credentials", ..]) => "credentials",
        ("vaults", _) => "vaults",
        ("skills", _) => "skills",
        ("files", _) => "files",
        _ => return None,
    })
}

/// Now as the API formats timestamps (RFC 3339, UTC, microseconds).
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
