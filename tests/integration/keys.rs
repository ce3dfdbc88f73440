//! Workspace API keys (`keys::ProviderKeys`) against the fake API, the memory store and a
//! secret store that tracks which references it holds.

use std::collections::BTreeSet;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use claude_agents::api::types::models::ListModels;
use claude_agents::api::{Client, ClientBuilder, RetryPolicy};
use claude_agents::domain::{AgentSpec, KeyStatus, ProviderKey, SecretRef, WorkspaceId};
use claude_agents::keys::{DeleteMode, KeyError, ProviderKeys, check_agent_key};
use claude_agents::store::{
    AppendOutcome, Collection, Expected, LogEvent, MemorySecretStore, MemoryStore, RecordError,
    RecordStore, Result as StoreResult, Revision, SecretStore, Store, StoreError, Versioned,
};
use claude_agents::testkit::{FakeApi, FakeConfig, KeyAccess};
use futures_util::TryStreamExt;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::oneshot;

use crate::store_records::agent_spec;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Realistic-looking keys: `sk-ant-` + enough characters for the masked form to show a tail.
const KEY_A: &str = "sk-ant-api03-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-KeyA";
const KEY_B: &str = "sk-ant-api03-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-KeyB";
const KEY_C: &str = "sk-ant-api03-cccccccccccccccccccccccccccccccccccc-KeyC";

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn ws(id: &str) -> WorkspaceId {
    WorkspaceId::from(id)
}

/// Client settings for the fake: fast retries, a short deadline.
fn api(base_url: &str) -> ClientBuilder {
    Client::builder()
        .base_url(base_url)
        .retry_policy(RetryPolicy {
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            ..RetryPolicy::default()
        })
        .timeout(Duration::from_secs(10))
}

/// A loopback URL with nothing listening.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A `SecretStore` over the memory one that also tracks which references it holds.
#[derive(Debug, Default)]
struct TrackingSecrets {
    inner: MemorySecretStore,
    refs: Mutex<BTreeSet<String>>,
}

impl TrackingSecrets {
    fn refs(&self) -> Vec<String> {
        self.refs.lock().unwrap().iter().cloned().collect()
    }
}

#[async_trait]
impl SecretStore for TrackingSecrets {
    async fn put(&self, reference: &SecretRef, value: SecretString) -> StoreResult<()> {
        self.inner.put(reference, value).await?;
        self.refs
            .lock()
            .unwrap()
            .insert(reference.as_str().to_owned());
        Ok(())
    }
    async fn get(&self, reference: &SecretRef) -> StoreResult<Option<SecretString>> {
        self.inner.get(reference).await
    }
    async fn delete(&self, reference: &SecretRef) -> StoreResult<bool> {
        self.refs.lock().unwrap().remove(reference.as_str());
        self.inner.delete(reference).await
    }
    async fn rotate(&self, reference: &SecretRef, value: SecretString) -> StoreResult<()> {
        self.inner.rotate(reference, value).await
    }
}

/// A store over the memory one whose next provider-key write can be held at a gate (to force
/// an interleaving), and which counts compare-and-swap conflicts.
#[derive(Default)]
struct GatedStore {
    inner: MemoryStore,
    gate: Mutex<Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>>,
    conflicts: AtomicUsize,
    /// Provider-key writes fail with a backend error while set.
    fail_writes: std::sync::atomic::AtomicBool,
}

impl GatedStore {
    /// Holds the next provider-key write: returns (arrived, release).
    fn arm(&self) -> (oneshot::Receiver<()>, oneshot::Sender<()>) {
        let (arrived_tx, arrived_rx) = oneshot::channel();
        let (release_tx, release_rx) = oneshot::channel();
        *self.gate.lock().unwrap() = Some((arrived_tx, release_rx));
        (arrived_rx, release_tx)
    }
}

#[async_trait]
impl Store for GatedStore {
    async fn get(&self, collection: Collection, key: &str) -> StoreResult<Option<Versioned>> {
        self.inner.get(collection, key).await
    }
    async fn put(
        &self,
        collection: Collection,
        key: &str,
        value: Value,
        expected: Expected,
    ) -> StoreResult<Revision> {
        if collection == Collection::ProviderKeys && self.fail_writes.load(Ordering::SeqCst) {
            return Err(StoreError::backend("injected", "disk full"));
        }
        if collection == Collection::ProviderKeys {
            let gate = self.gate.lock().unwrap().take();
            if let Some((arrived, release)) = gate {
                let _ = arrived.send(());
                let _ = release.await;
            }
        }
        let out = self.inner.put(collection, key, value, expected).await;
        if out.as_ref().is_err_and(|e| e.is_conflict()) {
            self.conflicts.fetch_add(1, Ordering::SeqCst);
        }
        out
    }
    async fn delete(
        &self,
        collection: Collection,
        key: &str,
        expected: Expected,
    ) -> StoreResult<()> {
        self.inner.delete(collection, key, expected).await
    }
    async fn list(
        &self,
        collection: Collection,
        prefix: &str,
    ) -> StoreResult<Vec<(String, Versioned)>> {
        self.inner.list(collection, prefix).await
    }
    async fn append_events(
        &self,
        session: &str,
        events: &[LogEvent],
    ) -> StoreResult<AppendOutcome> {
        self.inner.append_events(session, events).await
    }
    async fn read_events(
        &self,
        session: &str,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<(u64, LogEvent)>> {
        self.inner.read_events(session, after, limit).await
    }
}

/// A fake, stores and the service with a models page size of 2 (the fake lists 7 models by
/// default, so every check pages 4 times).
struct Env {
    fake: FakeApi,
    store: Arc<GatedStore>,
    secrets: Arc<TrackingSecrets>,
    keys: ProviderKeys,
}

impl Env {
    async fn new() -> Self {
        Self::with_config(FakeConfig::default()).await
    }

    async fn with_config(config: FakeConfig) -> Self {
        let fake = FakeApi::start_with(config).await.unwrap();
        let store = Arc::new(GatedStore::default());
        let secrets = Arc::new(TrackingSecrets::default());
        let keys = ProviderKeys::new(store.clone(), secrets.clone(), api(fake.base_url()))
            .models_page_size(2);
        Self {
            fake,
            store,
            secrets,
            keys,
        }
    }

    /// The same stores, but the API is unreachable.
    fn unreachable(&self) -> ProviderKeys {
        ProviderKeys::new(
            self.store.clone(),
            self.secrets.clone(),
            api(&dead_url()).max_retries(1),
        )
    }

    async fn stored_secret(&self, key: &ProviderKey) -> Option<String> {
        self.secrets
            .get(&key.secret)
            .await
            .unwrap()
            .map(|s| s.expose_secret().to_owned())
    }

    /// Every record of every collection, as JSON.
    async fn dump(&self) -> String {
        let mut all = Vec::new();
        for c in [
            Collection::ProviderKeys,
            Collection::AgentSpecs,
            Collection::Skills,
            Collection::Overrides,
            Collection::SessionCards,
            Collection::ReconcileStatus,
        ] {
            for (key, v) in self.store.list(c, "").await.unwrap() {
                all.push(serde_json::json!({"collection": c.name(), "key": key, "value": v.value}));
            }
        }
        serde_json::to_string(&all).unwrap()
    }

    async fn record_count(&self) -> usize {
        self.store
            .list(Collection::ProviderKeys, "")
            .await
            .unwrap()
            .len()
    }

    async fn revision(&self, key: &ProviderKey) -> Revision {
        let (_, rev) = self
            .store
            .load::<ProviderKey>(&claude_agents::store::Record::key(key))
            .await
            .unwrap()
            .unwrap();
        rev
    }

    async fn save_spec(&self, spec: &AgentSpec) {
        self.store.save(spec, Expected::Absent).await.unwrap();
    }

    /// The model ids the fake lists by default, via our client (every page).
    async fn fake_models(&self) -> Vec<String> {
        self.fake
            .client()
            .models()
            .list(&ListModels::default())
            .map_ok(|m| m.id.0)
            .try_collect()
            .await
            .unwrap()
    }

    fn model_requests(&self) -> Vec<String> {
        self.fake
            .requests()
            .into_iter()
            .filter(|r| r.path == "/v1/models")
            .map(|r| r.query)
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The fake's key knob
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn fake_answers_401_and_403_per_key_in_the_reference_shape() {
    let fake = FakeApi::start_with(
        FakeConfig::default()
            .with_key_access("sk-rejected", KeyAccess::Rejected)
            .with_key_access("sk-forbidden", KeyAccess::Forbidden),
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let call = |key: &'static str| {
        http.get(format!("{}/v1/models", fake.base_url()))
            .header("x-api-key", key)
            .header("anthropic-version", "2023-06-01")
            .send()
    };
    // Any other key is still accepted (the default behaviour).
    assert_eq!(call("sk-anything").await.unwrap().status(), 200);

    let resp = call("sk-forbidden").await.unwrap();
    assert_eq!(resp.status(), 403);
    let header_id = resp.headers()["request-id"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "permission_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("permission")
    );
    assert_eq!(body["request_id"], header_id.as_str());

    let resp = call("sk-rejected").await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["type"], "authentication_error");

    // Changed at run time, e.g. to revoke a key mid-test.
    fake.set_key_access("sk-anything", KeyAccess::Rejected);
    assert_eq!(call("sk-anything").await.unwrap().status(), 401);
    fake.set_key_access("sk-forbidden", KeyAccess::Accepted);
    assert_eq!(call("sk-forbidden").await.unwrap().status(), 200);

    // `Accepted` also overrides a configured `api_key`.
    let mut config = FakeConfig::default();
    config.api_key = Some("sk-only".into());
    let strict = FakeApi::start_with(config).await.unwrap();
    let strict_call = |key: &'static str| {
        http.get(format!("{}/v1/models", strict.base_url()))
            .header("x-api-key", key)
            .send()
    };
    assert_eq!(strict_call("sk-other").await.unwrap().status(), 401);
    strict.set_key_access("sk-other", KeyAccess::Accepted);
    assert_eq!(strict_call("sk-other").await.unwrap().status(), 200);
    assert_eq!(strict_call("sk-only").await.unwrap().status(), 200);
}

// ---------------------------------------------------------------------------------------------
// add / list / get
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn add_valid_key_stores_masked_record_all_models_and_the_secret() {
    let env = Env::new().await;
    let w = ws("ws_1");
    let key = env
        .keys
        .add(&w, "  Team key ", secret(&format!("{KEY_A}\n")))
        .await
        .unwrap();

    assert_eq!(key.workspace, w);
    assert_eq!(key.label, "Team key");
    assert_eq!(key.masked, "sk-ant-…KeyA");
    assert!(matches!(key.status, KeyStatus::Valid { .. }));
    // Every page of the models list, in the API's order.
    let expected = env.fake_models().await;
    assert!(expected.len() > 2, "{expected:?}");
    assert_eq!(key.models, expected);
    let pages = env.model_requests();
    // Our pages (limit=2) plus the one the comparison above made.
    let ours: Vec<&String> = pages.iter().filter(|q| q.contains("limit=2")).collect();
    assert_eq!(ours.len(), expected.len().div_ceil(2), "{pages:?}");
    assert!(ours[1].contains("after_id="), "{ours:?}");

    // The secret is in the secret store (trimmed), under the record's reference.
    assert_eq!(env.stored_secret(&key).await.as_deref(), Some(KEY_A));
    assert_eq!(env.secrets.refs(), vec![key.secret.as_str().to_owned()]);
    assert!(key.secret.as_str().starts_with("provider_key/ws_1/pk_"));

    // Listed and readable, masked.
    let listed = env.keys.list(&w).await.unwrap();
    assert_eq!(listed, vec![key.clone()]);
    assert_eq!(env.keys.get(&w, &key.id).await.unwrap(), key);
    assert!(env.keys.list(&ws("ws_2")).await.unwrap().is_empty());
    assert!(matches!(
        env.keys.get(&ws("ws_2"), &key.id).await,
        Err(KeyError::NotFound { .. })
    ));
    assert!(!env.dump().await.contains(KEY_A));

    // A second key lists after the first (creation order).
    let second = env.keys.add(&w, "Second", secret(KEY_B)).await.unwrap();
    let ids: Vec<_> = env
        .keys
        .list(&w)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(ids, vec![key.id, second.id]);
}

#[tokio::test]
async fn add_removes_the_secret_again_when_the_record_write_fails() {
    let env = Env::new().await;
    env.store.fail_writes.store(true, Ordering::SeqCst);
    let err = env
        .keys
        .add(&ws("ws_1"), "Team key", secret(KEY_A))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            KeyError::Record(RecordError::Store(StoreError::Backend { .. }))
        ),
        "{err:?}"
    );
    assert_eq!(env.record_count().await, 0);
    assert!(env.secrets.refs().is_empty(), "no orphan secret");
}

#[tokio::test]
async fn add_rejected_key_401_is_typed_and_stores_nothing() {
    let env =
        Env::with_config(FakeConfig::default().with_key_access(KEY_A, KeyAccess::Rejected)).await;
    let err = env
        .keys
        .add(&ws("ws_1"), "Team key", secret(KEY_A))
        .await
        .unwrap_err();
    match &err {
        KeyError::Rejected {
            workspace,
            key,
            failure,
        } => {
            assert_eq!(workspace.as_str(), "ws_1");
            assert!(key.is_none());
            assert_eq!(failure.status, 401);
            assert_eq!(failure.error_type.as_deref(), Some("authentication_error"));
            assert!(failure.request_id.as_deref().unwrap().starts_with("req_"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.status(), Some(401));
    assert!(err.request_id().is_some());
    let text = err.to_string();
    assert!(
        text.starts_with("workspace ws_1: the API rejected the key (HTTP 401 authentication_error"),
        "{text}"
    );
    assert!(text.contains("[request-id req_"), "{text}");
    assert_eq!(env.record_count().await, 0);
    assert!(env.secrets.refs().is_empty());
}

#[tokio::test]
async fn add_forbidden_key_403_is_typed_and_stores_nothing() {
    let env =
        Env::with_config(FakeConfig::default().with_key_access(KEY_A, KeyAccess::Forbidden)).await;
    let err = env
        .keys
        .add(&ws("ws_1"), "Team key", secret(KEY_A))
        .await
        .unwrap_err();
    match &err {
        KeyError::Forbidden { failure, .. } => {
            assert_eq!(failure.status, 403);
            assert_eq!(failure.error_type.as_deref(), Some("permission_error"));
            assert!(failure.request_id.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("lacks permission"), "{err}");
    assert_eq!(env.record_count().await, 0);
    assert!(env.secrets.refs().is_empty());
}

#[tokio::test]
async fn add_with_unreachable_api_is_typed_and_stores_nothing() {
    let env = Env::new().await;
    let err = env
        .unreachable()
        .add(&ws("ws_1"), "Team key", secret(KEY_A))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, KeyError::Unreachable { workspace, key: None, .. } if workspace.as_str() == "ws_1"),
        "{err:?}"
    );
    assert_eq!(err.status(), None);
    assert_eq!(env.record_count().await, 0);
    assert!(env.secrets.refs().is_empty());
}

#[tokio::test]
async fn other_api_errors_carry_status_and_request_id_and_store_nothing() {
    use claude_agents::testkit::{ErrorBurst, RequestMatch};
    let env = Env::new().await;
    env.fake
        .faults()
        .error_burst(ErrorBurst::new(500, 10).matching(RequestMatch::new("GET", "/v1/models")));
    let err = env
        .keys
        .add(&ws("ws_1"), "Team key", secret(KEY_A))
        .await
        .unwrap_err();
    assert!(matches!(&err, KeyError::Api { .. }), "{err:?}");
    assert_eq!(err.status(), Some(500));
    assert!(err.request_id().is_some());
    assert_eq!(env.record_count().await, 0);
    assert!(env.secrets.refs().is_empty());
}

#[tokio::test]
async fn invalid_input_is_refused_before_any_request() {
    let env = Env::new().await;
    let w = ws("ws_1");
    let long = "x".repeat(101);
    let cases: Vec<(&str, &str, &str)> = vec![
        ("", KEY_A, "label"),
        ("  ", KEY_A, "label"),
        ("two\nlines", KEY_A, "label"),
        (&long, KEY_A, "label"),
        ("Team key", "", "secret"),
        ("Team key", " \n ", "secret"),
        ("Team key", "sk-ant-api03 with-space", "secret"),
        ("Team key", "sk-ant-api03\twith-tab", "secret"),
    ];
    for (label, raw, field) in cases {
        let err = env.keys.add(&w, label, secret(raw)).await.unwrap_err();
        assert!(
            matches!(&err, KeyError::Invalid(e) if e.field() == Some(field)),
            "{label:?}/{raw:?}: {err:?}"
        );
    }
    let err = env
        .keys
        .add(&ws("bad workspace"), "Team key", secret(KEY_A))
        .await
        .unwrap_err();
    assert!(matches!(&err, KeyError::Invalid(e) if e.field() == Some("workspace")));
    // Rotation validates too.
    let err = env
        .keys
        .rotate(&w, &"pk_1".into(), secret("a b"))
        .await
        .unwrap_err();
    assert!(matches!(err, KeyError::Invalid(_)));
    assert!(env.fake.requests().is_empty());
    assert_eq!(env.record_count().await, 0);
    assert!(env.secrets.refs().is_empty());
}

// ---------------------------------------------------------------------------------------------
// usage / delete / cross-object check
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn usage_lists_agents_and_delete_is_refused_unless_forced() {
    let env = Env::new().await;
    let w = ws("ws_1");
    let key = env.keys.add(&w, "Shared", secret(KEY_A)).await.unwrap();
    let other = env.keys.add(&w, "Other", secret(KEY_B)).await.unwrap();
    let k = key.id.as_str();
    env.save_spec(&agent_spec("ws_1", "ag_2", k)).await;
    env.save_spec(&agent_spec("ws_1", "ag_1", k)).await;
    env.save_spec(&agent_spec("ws_1", "ag_3", other.id.as_str()))
        .await;
    // Same key id in another workspace: not a user of this key.
    env.save_spec(&agent_spec("ws_2", "ag_9", k)).await;

    let users: Vec<String> = env
        .keys
        .usage(&w, &key.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(users, vec!["ag_1", "ag_2"]);

    let err = env
        .keys
        .delete(&w, &key.id, DeleteMode::IfUnused)
        .await
        .unwrap_err();
    match &err {
        KeyError::InUse {
            workspace,
            key: id,
            agents,
        } => {
            assert_eq!((workspace, id), (&w, &key.id));
            let agents: Vec<&str> = agents.iter().map(|a| a.as_str()).collect();
            assert_eq!(agents, vec!["ag_1", "ag_2"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("ag_1, ag_2"), "{err}");
    // Nothing was deleted.
    assert_eq!(env.keys.get(&w, &key.id).await.unwrap(), key);
    assert_eq!(env.stored_secret(&key).await.as_deref(), Some(KEY_A));
    let spec = agent_spec("ws_1", "ag_1", k);
    assert_eq!(
        check_agent_key(env.store.as_ref(), &spec).await.unwrap(),
        key
    );

    // Forced: record and secret are gone; the agents now fail the cross-object check.
    env.keys
        .delete(&w, &key.id, DeleteMode::Force)
        .await
        .unwrap();
    assert!(matches!(
        env.keys.get(&w, &key.id).await,
        Err(KeyError::NotFound { .. })
    ));
    assert_eq!(env.stored_secret(&key).await, None);
    assert_eq!(env.secrets.refs(), vec![other.secret.as_str().to_owned()]);
    let err = env.keys.check_agent(&spec).await.unwrap_err();
    assert!(
        matches!(&err, KeyError::MissingForAgent { agent, key: id, .. } if agent.as_str() == "ag_1" && id == &key.id),
        "{err:?}"
    );
    // Deleting again: not found.
    assert!(matches!(
        env.keys.delete(&w, &key.id, DeleteMode::Force).await,
        Err(KeyError::NotFound { .. })
    ));

    // An unused key is deleted without force.
    env.store
        .remove::<AgentSpec>(
            &claude_agents::store::RecordKey::of(&w, "ag_3"),
            Expected::Any,
        )
        .await
        .unwrap();
    env.keys
        .delete(&w, &other.id, DeleteMode::IfUnused)
        .await
        .unwrap();
    assert_eq!(env.record_count().await, 0);
    assert!(env.secrets.refs().is_empty());
}

#[tokio::test]
async fn check_agent_key_is_workspace_scoped() {
    let env = Env::new().await;
    let key = env
        .keys
        .add(&ws("ws_1"), "Team", secret(KEY_A))
        .await
        .unwrap();
    let ok = agent_spec("ws_1", "ag_1", key.id.as_str());
    assert_eq!(check_agent_key(env.store.as_ref(), &ok).await.unwrap(), key);
    // Another workspace's agent naming the same key id does not find it.
    let foreign = agent_spec("ws_2", "ag_2", key.id.as_str());
    let err = check_agent_key(env.store.as_ref(), &foreign)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, KeyError::MissingForAgent { workspace, .. } if workspace.as_str() == "ws_2"),
        "{err:?}"
    );
    let missing = agent_spec("ws_1", "ag_3", "pk_nope");
    assert!(matches!(
        env.keys.check_agent(&missing).await,
        Err(KeyError::MissingForAgent { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// rotate / revalidate
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn rotate_replaces_the_secret_in_place() {
    let env = Env::new().await;
    let w = ws("ws_1");
    let key = env.keys.add(&w, "Team", secret(KEY_A)).await.unwrap();
    let specs = [
        agent_spec("ws_1", "ag_1", key.id.as_str()),
        agent_spec("ws_1", "ag_2", key.id.as_str()),
    ];
    for s in &specs {
        env.save_spec(s).await;
    }
    let before = env.revision(&key).await;

    let rotated = env.keys.rotate(&w, &key.id, secret(KEY_B)).await.unwrap();
    assert_eq!(rotated.id, key.id);
    assert_eq!(rotated.secret, key.secret);
    assert_eq!(rotated.label, key.label);
    assert_eq!(rotated.masked, "sk-ant-…KeyB");
    assert!(matches!(rotated.status, KeyStatus::Valid { .. }));
    assert_eq!(rotated.models, env.fake_models().await);
    assert!(env.revision(&key).await > before);
    assert_eq!(env.keys.get(&w, &key.id).await.unwrap(), rotated);
    assert_eq!(env.stored_secret(&key).await.as_deref(), Some(KEY_B));
    assert_eq!(env.secrets.refs(), vec![key.secret.as_str().to_owned()]);

    // The agents are untouched and resolve to the rotated key.
    for s in &specs {
        let (stored, _) = env
            .store
            .load::<AgentSpec>(&claude_agents::store::Record::key(s))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&stored, s);
        assert_eq!(env.keys.check_agent(s).await.unwrap(), rotated);
    }
    // Clients built for the key use the new secret: it works after the old one is revoked.
    env.fake.set_key_access(KEY_A, KeyAccess::Rejected);
    let client = env.keys.client_for(&w, &key.id).await.unwrap();
    let first = client
        .models()
        .list(&ListModels::default())
        .try_next()
        .await
        .unwrap();
    assert!(first.is_some());
}

#[tokio::test]
async fn rotate_to_a_refused_key_changes_nothing() {
    let env = Env::with_config(
        FakeConfig::default()
            .with_key_access(KEY_B, KeyAccess::Rejected)
            .with_key_access(KEY_C, KeyAccess::Forbidden),
    )
    .await;
    let w = ws("ws_1");
    let key = env.keys.add(&w, "Team", secret(KEY_A)).await.unwrap();
    let rev = env.revision(&key).await;

    let err = env
        .keys
        .rotate(&w, &key.id, secret(KEY_B))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, KeyError::Rejected { key: Some(id), .. } if id == &key.id),
        "{err:?}"
    );
    let prefix = format!(
        "workspace ws_1, provider key {}: the API rejected the key",
        key.id
    );
    assert!(err.to_string().starts_with(&prefix), "{err}");
    let err = env
        .keys
        .rotate(&w, &key.id, secret(KEY_C))
        .await
        .unwrap_err();
    assert!(matches!(&err, KeyError::Forbidden { .. }), "{err:?}");
    let err = env
        .unreachable()
        .rotate(&w, &key.id, secret(KEY_C))
        .await
        .unwrap_err();
    assert!(matches!(&err, KeyError::Unreachable { .. }), "{err:?}");
    let err = env
        .keys
        .rotate(&w, &"pk_missing".into(), secret(KEY_C))
        .await
        .unwrap_err();
    assert!(matches!(&err, KeyError::NotFound { .. }), "{err:?}");

    assert_eq!(env.keys.get(&w, &key.id).await.unwrap(), key);
    assert_eq!(env.revision(&key).await, rev);
    assert_eq!(env.stored_secret(&key).await.as_deref(), Some(KEY_A));
}

#[tokio::test]
async fn revalidate_records_a_revoked_key_as_invalid_and_back() {
    let env = Env::new().await;
    let w = ws("ws_1");
    let key = env.keys.add(&w, "Team", secret(KEY_A)).await.unwrap();

    env.fake.set_key_access(KEY_A, KeyAccess::Rejected);
    let checked = env.keys.revalidate(&w, &key.id).await.unwrap();
    match &checked.status {
        KeyStatus::Invalid { reason, .. } => {
            assert!(
                reason.contains("rejected") && reason.contains("401"),
                "{reason}"
            );
            assert!(
                !reason.contains(KEY_A) && !reason.contains("KeyA"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    // The last successful check's models are kept; the record is stored.
    assert_eq!(checked.models, key.models);
    assert_eq!(env.keys.get(&w, &key.id).await.unwrap(), checked);

    env.fake.set_key_access(KEY_A, KeyAccess::Forbidden);
    let checked = env.keys.revalidate(&w, &key.id).await.unwrap();
    assert!(
        matches!(&checked.status, KeyStatus::Invalid { reason, .. } if reason.contains("permission")),
        "{:?}",
        checked.status
    );

    env.fake.set_key_access(KEY_A, KeyAccess::Accepted);
    let checked = env.keys.revalidate(&w, &key.id).await.unwrap();
    assert!(matches!(checked.status, KeyStatus::Valid { .. }));
    assert_eq!(checked.masked, key.masked);
}

#[tokio::test]
async fn revalidate_when_unreachable_leaves_the_status_unchanged() {
    let env = Env::new().await;
    let w = ws("ws_1");
    let key = env.keys.add(&w, "Team", secret(KEY_A)).await.unwrap();
    let rev = env.revision(&key).await;
    let err = env.unreachable().revalidate(&w, &key.id).await.unwrap_err();
    assert!(
        matches!(&err, KeyError::Unreachable { key: Some(id), .. } if id == &key.id),
        "{err:?}"
    );
    assert_eq!(env.keys.get(&w, &key.id).await.unwrap(), key);
    assert_eq!(env.revision(&key).await, rev);

    // A missing secret is reported, not papered over.
    env.secrets.delete(&key.secret).await.unwrap();
    assert!(matches!(
        env.keys.revalidate(&w, &key.id).await,
        Err(KeyError::SecretMissing { .. })
    ));
    assert!(matches!(
        env.keys.rotate(&w, &key.id, secret(KEY_B)).await,
        Err(KeyError::SecretMissing { .. })
    ));
    assert_eq!(env.keys.get(&w, &key.id).await.unwrap(), key);
}

// ---------------------------------------------------------------------------------------------
// Concurrency: compare-and-swap, never a lost update
// ---------------------------------------------------------------------------------------------

/// A revalidation that checked the old (revoked) secret is held just before its write while a
/// rotation to a new secret completes. Its write then loses the compare-and-swap, and it checks
/// again with the new secret: the final record describes the new secret as valid. (Writing
/// without CAS would have stored "invalid" with the old masked form: a lost update.)
#[tokio::test]
async fn revalidate_losing_to_a_rotation_checks_again() {
    let env = Env::new().await;
    let w = ws("ws_1");
    let key = env.keys.add(&w, "Team", secret(KEY_A)).await.unwrap();
    env.fake.set_key_access(KEY_A, KeyAccess::Rejected);

    let (arrived, release) = env.store.arm();
    let keys = env.keys.clone();
    let (w2, id2) = (w.clone(), key.id.clone());
    let revalidation = tokio::spawn(async move { keys.revalidate(&w2, &id2).await });
    arrived.await.unwrap();

    let rotated = env.keys.rotate(&w, &key.id, secret(KEY_B)).await.unwrap();
    release.send(()).unwrap();
    let revalidated = revalidation.await.unwrap().unwrap();

    assert_eq!(env.store.conflicts.load(Ordering::SeqCst), 1);
    assert!(matches!(revalidated.status, KeyStatus::Valid { .. }));
    assert_eq!(revalidated.masked, rotated.masked);
    let stored = env.keys.get(&w, &key.id).await.unwrap();
    assert_eq!(stored, revalidated);
    assert_eq!(stored.masked, "sk-ant-…KeyB");
    assert_eq!(env.stored_secret(&key).await.as_deref(), Some(KEY_B));
}

/// A rotation held just before its record write (its secret already replaced) while a
/// revalidation completes: the rotation's write loses, it sees its secret is still the stored
/// one, and applies its update to the new revision.
#[tokio::test]
async fn rotation_losing_to_a_revalidation_reapplies() {
    let env = Env::new().await;
    let w = ws("ws_1");
    let key = env.keys.add(&w, "Team", secret(KEY_A)).await.unwrap();

    let (arrived, release) = env.store.arm();
    let keys = env.keys.clone();
    let (w2, id2) = (w.clone(), key.id.clone());
    let rotation = tokio::spawn(async move { keys.rotate(&w2, &id2, secret(KEY_B)).await });
    arrived.await.unwrap();

    let revalidated = env.keys.revalidate(&w, &key.id).await.unwrap();
    assert_eq!(revalidated.masked, "sk-ant-…KeyB"); // it read the already-replaced secret
    release.send(()).unwrap();
    let rotated = rotation.await.unwrap().unwrap();

    assert_eq!(env.store.conflicts.load(Ordering::SeqCst), 1);
    let stored = env.keys.get(&w, &key.id).await.unwrap();
    assert_eq!(stored, rotated);
    assert_eq!(stored.masked, "sk-ant-…KeyB");
    assert_eq!(env.stored_secret(&key).await.as_deref(), Some(KEY_B));
}

/// Two rotations: the one whose secret was overwritten by the other returns a typed conflict;
/// the record describes the secret that is stored.
#[tokio::test]
async fn superseded_rotation_is_a_conflict() {
    let env = Env::new().await;
    let w = ws("ws_1");
    let key = env.keys.add(&w, "Team", secret(KEY_A)).await.unwrap();

    let (arrived, release) = env.store.arm();
    let keys = env.keys.clone();
    let (w2, id2) = (w.clone(), key.id.clone());
    let first = tokio::spawn(async move { keys.rotate(&w2, &id2, secret(KEY_B)).await });
    arrived.await.unwrap();

    let second = env.keys.rotate(&w, &key.id, secret(KEY_C)).await.unwrap();
    release.send(()).unwrap();
    let err = first.await.unwrap().unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    assert!(matches!(&err, KeyError::Conflict { key: id, .. } if id == &key.id));

    let stored = env.keys.get(&w, &key.id).await.unwrap();
    assert_eq!(stored, second);
    assert_eq!(stored.masked, "sk-ant-…KeyC");
    assert_eq!(env.stored_secret(&key).await.as_deref(), Some(KEY_C));
}

/// Many rotations and revalidations at once on a multi-threaded runtime: whatever wins, the
/// record ends up describing the stored secret, and every call either succeeds or reports a
/// conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_rotations_and_revalidations_stay_consistent() {
    let env = Env::new().await;
    let w = ws("ws_1");
    let key = env.keys.add(&w, "Team", secret(KEY_A)).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let keys = env.keys.clone();
        let (w, id) = (w.clone(), key.id.clone());
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                let new = [KEY_A, KEY_B, KEY_C][i / 2];
                keys.rotate(&w, &id, secret(new)).await.map(|_| ())
            } else {
                keys.revalidate(&w, &id).await.map(|_| ())
            }
        }));
    }
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => {}
            Err(e) => assert!(e.is_conflict(), "{e:?}"),
        }
    }
    let stored = env.keys.get(&w, &key.id).await.unwrap();
    let secret_now = env.stored_secret(&key).await.unwrap();
    assert_eq!(
        stored.masked,
        ProviderKey::mask(&secret(&secret_now)),
        "record describes the stored secret"
    );
    assert!(matches!(stored.status, KeyStatus::Valid { .. }));
}

// ---------------------------------------------------------------------------------------------
// Secrets never leak
// ---------------------------------------------------------------------------------------------

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn canary_secrets_never_appear_in_debug_errors_records_or_trace_logs() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // With exactly one live dispatcher, `tracing-core` computes the interest of a callsite
    // first hit on another thread (a test running in parallel, without a subscriber) from that
    // thread's default only, caching "never" for ours too. A second, silent dispatcher makes it
    // consult every live dispatcher.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let _guard = tracing::subscriber::set_default(subscriber);

    // Unique strings that cannot appear by accident.
    let canary = |n: u32| format!("sk-ant-api03-CANARY{n}x7f3q9zLmW2pR8tYvB4nK6dJ1hG5sE0-tail{n}");
    let (added, rejected, rotated, forbidden, unreachable, revoked_rotation) = (
        canary(1),
        canary(2),
        canary(3),
        canary(4),
        canary(5),
        canary(6),
    );
    let env = Env::with_config(
        FakeConfig::default()
            .with_key_access(rejected.as_str(), KeyAccess::Rejected)
            .with_key_access(forbidden.as_str(), KeyAccess::Forbidden)
            .with_key_access(revoked_rotation.as_str(), KeyAccess::Rejected),
    )
    .await;
    let w = ws("ws_1");
    let mut errors: Vec<KeyError> = Vec::new();

    let key = env.keys.add(&w, "Canary", secret(&added)).await.unwrap();
    errors.push(
        env.keys
            .add(&w, "Canary", secret(&rejected))
            .await
            .unwrap_err(),
    );
    errors.push(
        env.keys
            .add(&w, "Canary", secret(&forbidden))
            .await
            .unwrap_err(),
    );
    errors.push(
        env.unreachable()
            .add(&w, "Canary", secret(&unreachable))
            .await
            .unwrap_err(),
    );
    errors.push(
        env.keys
            .add(&w, "Canary", secret(&format!("{added} inner-space")))
            .await
            .unwrap_err(),
    );
    env.keys
        .rotate(&w, &key.id, secret(&rotated))
        .await
        .unwrap();
    errors.push(
        env.keys
            .rotate(&w, &key.id, secret(&revoked_rotation))
            .await
            .unwrap_err(),
    );
    env.fake
        .set_key_access(rotated.as_str(), KeyAccess::Rejected);
    let invalid = env.keys.revalidate(&w, &key.id).await.unwrap();
    assert!(matches!(invalid.status, KeyStatus::Invalid { .. }));
    errors.push(env.unreachable().revalidate(&w, &key.id).await.unwrap_err());
    errors.push(
        env.keys
            .client_for(&w, &"pk_nope".into())
            .await
            .unwrap_err(),
    );
    assert_eq!(errors.len(), 7);

    let mut haystacks = vec![
        ("service Debug", format!("{:?}", env.keys)),
        ("secret store Debug", format!("{:?}", env.secrets)),
        ("records", env.dump().await),
        ("record Debug", format!("{invalid:?}")),
    ];
    for e in &errors {
        haystacks.push(("error Debug", format!("{e:?}")));
        haystacks.push(("error Display", e.to_string()));
    }
    let logs = capture.text();
    assert!(
        logs.contains("provider key added"),
        "the capture works: {logs}"
    );
    assert!(
        logs.contains("TRACE"),
        "TRACE level is on: {}",
        &logs[..logs.len().min(2000)]
    );
    haystacks.push(("TRACE logs", logs));

    for (what, text) in &haystacks {
        for n in 1..=6 {
            // The distinctive middle of each canary, so a truncated or re-encoded echo is caught
            // too.
            let core = format!("CANARY{n}x7f3q9zLmW2pR8tYvB4nK6dJ1hG5sE0");
            assert!(
                !text.contains(&core),
                "canary {n} leaked into {what}: {text}"
            );
        }
    }
    // The secret the key now holds is the rotated one (the canary went where it should).
    assert_eq!(
        env.stored_secret(&key).await.as_deref(),
        Some(rotated.as_str())
    );
}
