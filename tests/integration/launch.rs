//! The session launcher against the fake API: triggers, the start path, the pump, custom
//! tools, approvals, stop, the watchdog, the concurrency queue, crashes and resume.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use claude_agents::domain::Trigger;
use claude_agents::domain::{
    Activity, ActivityKind, AgentKind, AgentSpec, AgentSpecId, EnvironmentSettings, KeyStatus,
    ManagedAgent, ProviderKey, SessionCard, SessionCardId, SessionState, TaskComment, TaskContext,
    ToolMode, WorkspaceId,
};
use claude_agents::launch::{
    Approval, AssignTrigger, CommentTrigger, Handle, HostError, Launcher, LauncherConfig,
    LauncherError, LiveIndex, SessionRun, Stage, TaskHost, TriggerOutcome,
};
use claude_agents::reconcile::{Reconciler, ReconcilerConfig};
use claude_agents::store::{
    AppendOutcome, Collection, DeliveryKind, Expected, LogEvent, MemorySecretStore, MemorySink,
    MemoryStore, RecordKey, RecordStore, Revision, Store, StoreError, Versioned,
};
use claude_agents::testkit::script::{Permission, RetryStatus, Script, Step};
use claude_agents::testkit::{ErrorBurst, FakeApi, RequestMatch};
use serde_json::{Value, json};

/// What the host saw of the task tools.
#[derive(Default)]
pub struct TestHost {
    pub comments: Mutex<Vec<(String, String)>>,
    pub statuses: Mutex<Vec<(String, String)>>,
    pub fail_status: Mutex<bool>,
}

#[async_trait]
impl TaskHost for TestHost {
    async fn task(&self, card: &SessionCard) -> Result<TaskContext, HostError> {
        let mut t = task("p1", card.task.as_str());
        t.status = self
            .statuses
            .lock()
            .unwrap()
            .last()
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| "Todo".into());
        Ok(t)
    }
    async fn add_comment(&self, _: &SessionCard, id: &str, body: &str) -> Result<(), HostError> {
        self.comments
            .lock()
            .unwrap()
            .push((id.to_owned(), body.to_owned()));
        Ok(())
    }
    async fn update_status(&self, _: &SessionCard, id: &str, s: &str) -> Result<(), HostError> {
        if *self.fail_status.lock().unwrap() {
            return Err(HostError::new(format!(
                "unknown status {s:?}; use todo or done"
            )));
        }
        self.statuses
            .lock()
            .unwrap()
            .push((id.to_owned(), s.to_owned()));
        Ok(())
    }
}

pub fn task(project: &str, id: &str) -> TaskContext {
    TaskContext {
        workspace: "ws_1".into(),
        project: project.into(),
        task: id.into(),
        title: "Fix the login page".into(),
        description: "The button does nothing.".into(),
        status: "Todo".into(),
        fields: BTreeMap::new(),
        comments: vec![],
        links: vec![],
    }
}

/// The workspace key every launcher test uses (`pk_1` of `ws_1`).
pub fn provider_key() -> ProviderKey {
    ProviderKey {
        id: "pk_1".into(),
        workspace: "ws_1".into(),
        label: "Team key".into(),
        secret: "provider_key/ws_1/pk_1".into(),
        masked: "sk-ant-…Wxyz".into(),
        status: KeyStatus::Unvalidated,
        models: vec!["claude-sonnet-4-6".into()],
    }
}

pub struct H {
    pub fake: FakeApi,
    pub store: Arc<dyn Store>,
    pub sink: Arc<MemorySink>,
    pub host: Arc<TestHost>,
    pub ws: WorkspaceId,
    pub agent: AgentSpecId,
}

impl H {
    pub async fn new() -> Self {
        Self::with_store(Arc::new(MemoryStore::new())).await
    }

    pub async fn with_store(store: Arc<dyn Store>) -> Self {
        let h = Self {
            fake: FakeApi::start().await.unwrap(),
            store,
            sink: Arc::new(MemorySink::new()),
            host: Arc::new(TestHost::default()),
            ws: "ws_1".into(),
            agent: "coder".into(),
        };
        let key = provider_key();
        h.store.save(&key, Expected::Absent).await.unwrap();
        let spec = AgentSpec {
            id: h.agent.clone(),
            workspace: h.ws.clone(),
            name: "Coder".into(),
            provider_key: "pk_1".into(),
            kind: AgentKind::Managed(ManagedAgent {
                instructions_html: "<p>Fix bugs.</p>".into(),
                model: "claude-sonnet-4-6".into(),
                guidance: "Be brief.".into(),
                rules: vec![],
                skills: vec![],
                mcp_servers: vec![],
                tool_mode: ToolMode::default(),
                repositories: vec![],
                environment: EnvironmentSettings::default(),
            }),
            revision: 1,
        };
        h.store.save(&spec, Expected::Absent).await.unwrap();
        let r = Reconciler::new(
            h.store.clone(),
            Arc::new(MemorySecretStore::new()),
            Arc::new(h.fake.client()),
            ReconcilerConfig::new("test-install"),
        );
        r.reconcile(&h.ws, &h.agent).await.unwrap();
        h
    }

    pub fn launcher(&self, config: LauncherConfig) -> Launcher {
        Launcher::new(
            self.store.clone(),
            self.sink.clone(),
            Arc::new(self.fake.client()),
            self.host.clone(),
            config,
        )
    }

    pub fn assign(&self, key: &str, task_id: &str) -> AssignTrigger {
        AssignTrigger {
            key: key.into(),
            task: task("p1", task_id),
            agent: self.agent.clone(),
            by: Some("u1".into()),
        }
    }

    #[allow(dead_code)]
    pub fn comment(&self, key: &str, task_id: &str, body: &str) -> CommentTrigger {
        CommentTrigger {
            key: key.into(),
            task: task("p1", task_id),
            comment: TaskComment {
                id: key.into(),
                author: "Ana".into(),
                body: body.into(),
                at: chrono::Utc::now(),
            },
            agent: self.agent.clone(),
            handle: Handle::new("coder").unwrap(),
            by: Some("u1".into()),
        }
    }

    pub async fn run(&self, card: &SessionCardId) -> SessionRun {
        self.store
            .load::<SessionRun>(&RecordKey::of(&self.ws, card))
            .await
            .unwrap()
            .unwrap()
            .0
    }

    /// Waits (polling; the fake runs on real sockets) until the card satisfies `pred`.
    pub async fn wait(
        &self,
        card: &SessionCardId,
        pred: impl Fn(&SessionRun) -> bool,
    ) -> SessionRun {
        for _ in 0..2000 {
            let run = self.run(card).await;
            if pred(&run) {
                return run;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("card {card} never got there: {:#?}", self.run(card).await);
    }

    pub async fn wait_state(&self, card: &SessionCardId, state: SessionState) -> SessionRun {
        self.wait(card, |r| r.card.state == state).await
    }

    /// The distinct activities delivered for `card`, in order.
    pub fn activities(&self, card: &SessionCardId) -> Vec<Activity> {
        self.sink
            .deliveries()
            .into_iter()
            .filter(|d| d.kind == DeliveryKind::Activity && d.session == card.as_str())
            .map(|d| serde_json::from_value(d.payload).unwrap())
            .collect()
    }

    pub fn remote_session(&self, run: &SessionRun) -> String {
        run.card.remote_session.clone().unwrap()
    }

    /// The stored log's (id, processed) pairs.
    pub async fn log(&self, session: &str) -> Vec<(String, bool, String)> {
        self.store
            .read_events(session, 0, 100_000)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, e)| {
                let payload: serde_json::Value = serde_json::from_str(e.payload.get()).unwrap();
                let ty = payload["type"].as_str().unwrap_or("").to_owned();
                (e.event_id, e.processed, ty)
            })
            .collect()
    }

    /// Processed events of the stored log, in order, against the fake's history: the same
    /// events, each stored exactly as the fake sent it (every field, unknown ones included).
    pub async fn assert_log_matches_fake(&self, session: &str) {
        let ours: Vec<serde_json::Value> = self
            .store
            .read_events(session, 0, 100_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|(_, e)| e.processed)
            .map(|(_, e)| serde_json::from_str(e.payload.get()).unwrap())
            .collect();
        let theirs = self.fake.session_events(session);
        let ids = |v: &[serde_json::Value]| -> Vec<String> {
            v.iter()
                .map(|e| e["id"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            ids(&ours),
            ids(&theirs),
            "stored log differs from the fake's history"
        );
        assert_eq!(
            ours, theirs,
            "stored payloads differ from what the fake sent"
        );
    }
}

impl H {
    /// A launcher over `store` instead of the harness's own (e.g. a [`YieldStore`] over it).
    pub fn launcher_on(&self, store: Arc<dyn Store>, config: LauncherConfig) -> Launcher {
        Launcher::new(
            store,
            self.sink.clone(),
            Arc::new(self.fake.client()),
            self.host.clone(),
            config,
        )
    }

    /// The live-index entry of (task, the harness's agent).
    pub async fn index(&self, task_id: &str) -> Option<LiveIndex> {
        self.store
            .load::<LiveIndex>(&LiveIndex::key_of(&self.ws, &task_id.into(), &self.agent))
            .await
            .unwrap()
            .map(|(i, _)| i)
    }

    /// Waits (bounded) until the ended card `card` of `task_id` is cleaned up: its run vault
    /// archived (here and at the fake) and its live-index entry removed.
    pub async fn wait_cleaned(&self, card: &SessionCardId, task_id: &str) -> SessionRun {
        for _ in 0..2000 {
            let run = self.run(card).await;
            if run.launch.run_vault_archived && self.index(task_id).await.is_none() {
                let vault = run.launch.run_vault.clone().unwrap();
                assert!(!self.fake.object(&vault).unwrap()["archived_at"].is_null());
                return run;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("card {card} never cleaned up: {:#?}", self.run(card).await);
    }

    /// Every stored card (session run) of the harness's store.
    pub async fn runs(&self) -> Vec<SessionRun> {
        self.store
            .list(Collection::SessionCards, "")
            .await
            .unwrap()
            .into_iter()
            .map(|(_, v)| serde_json::from_value(v.value).unwrap())
            .collect()
    }

    /// The fake's history of `session`, only events of type `ty`.
    pub fn history(&self, session: &str, ty: &str) -> Vec<Value> {
        self.fake
            .session_events(session)
            .into_iter()
            .filter(|e| e["type"] == ty)
            .collect()
    }

    /// Events of type `ty` the launcher sent to `session` (from the fake's request log).
    pub fn sent(&self, session: &str, ty: &str) -> Vec<Value> {
        let path = format!("/v1/sessions/{session}/events");
        self.fake
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == path && (200..300).contains(&r.status))
            .flat_map(|r| {
                let body: Value = serde_json::from_slice(&r.body).unwrap();
                body["events"].as_array().cloned().unwrap_or_default()
            })
            .filter(|e| e["type"] == ty)
            .collect()
    }

    /// Waits (bounded) until `pred` holds of the activities of `card`; returns them.
    pub async fn wait_activities(
        &self,
        card: &SessionCardId,
        pred: impl Fn(&[Activity]) -> bool,
    ) -> Vec<Activity> {
        for _ in 0..2000 {
            let acts = self.activities(card);
            if pred(&acts) {
                return acts;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!(
            "activities of {card} never got there: {:#?}",
            self.activities(card)
        );
    }

    /// The card-change deliveries of `card`, in arrival order, as (revision, state).
    pub fn card_deliveries(&self, card: &SessionCardId) -> Vec<(u64, String)> {
        self.sink
            .deliveries()
            .into_iter()
            .filter(|d| d.kind == DeliveryKind::CardChanged && d.session == card.as_str())
            .map(|d| {
                (
                    d.payload["revision"].as_u64().unwrap(),
                    d.payload["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

/// A [`MemoryStore`] with one writer, like `SqliteStore`'s single writer connection: every
/// write holds a lock across an await point (the transaction in flight), and waiting for the
/// lock gives up after a timeout (like the writer pool's acquire timeout).
pub struct OneWriterStore {
    inner: Arc<dyn Store>,
    writer: tokio::sync::Mutex<()>,
}

impl OneWriterStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            writer: tokio::sync::Mutex::new(()),
        }
    }

    async fn write<T>(
        &self,
        op: impl std::future::Future<Output = claude_agents::store::Result<T>>,
    ) -> claude_agents::store::Result<T> {
        let Ok(_guard) = tokio::time::timeout(Duration::from_secs(2), self.writer.lock()).await
        else {
            return Err(StoreError::backend(
                "one-writer store",
                std::io::Error::other("timed out waiting for the writer"),
            ));
        };
        // The transaction is in flight (a slow disk): others wait for the writer meanwhile.
        tokio::time::sleep(Duration::from_millis(3)).await;
        op.await
    }
}

#[async_trait]
impl Store for OneWriterStore {
    async fn get(
        &self,
        collection: Collection,
        key: &str,
    ) -> claude_agents::store::Result<Option<Versioned>> {
        self.inner.get(collection, key).await
    }
    async fn put(
        &self,
        collection: Collection,
        key: &str,
        value: Value,
        expected: Expected,
    ) -> claude_agents::store::Result<Revision> {
        self.write(self.inner.put(collection, key, value, expected))
            .await
    }
    async fn delete(
        &self,
        collection: Collection,
        key: &str,
        expected: Expected,
    ) -> claude_agents::store::Result<()> {
        self.write(self.inner.delete(collection, key, expected))
            .await
    }
    async fn list(
        &self,
        collection: Collection,
        prefix: &str,
    ) -> claude_agents::store::Result<Vec<(String, Versioned)>> {
        self.inner.list(collection, prefix).await
    }
    async fn append_events(
        &self,
        session: &str,
        events: &[LogEvent],
    ) -> claude_agents::store::Result<AppendOutcome> {
        self.write(self.inner.append_events(session, events)).await
    }
    async fn read_events(
        &self,
        session: &str,
        after: u64,
        limit: usize,
    ) -> claude_agents::store::Result<Vec<(u64, LogEvent)>> {
        self.inner.read_events(session, after, limit).await
    }
}

/// A [`MemoryStore`] that yields to the scheduler before every operation, so concurrent
/// launcher calls interleave between their store reads and writes (as they would over a
/// networked database) instead of running each to completion. Optionally, creating a card
/// (a session-card write expecting no record) is slow.
pub struct YieldStore(pub Arc<dyn Store>, pub Duration);

impl YieldStore {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self(store, Duration::ZERO)
    }

    pub fn slow_card_create(store: Arc<dyn Store>, delay: Duration) -> Self {
        Self(store, delay)
    }
}

#[async_trait]
impl Store for YieldStore {
    async fn get(
        &self,
        collection: Collection,
        key: &str,
    ) -> claude_agents::store::Result<Option<Versioned>> {
        tokio::task::yield_now().await;
        self.0.get(collection, key).await
    }
    async fn put(
        &self,
        collection: Collection,
        key: &str,
        value: Value,
        expected: Expected,
    ) -> claude_agents::store::Result<Revision> {
        tokio::task::yield_now().await;
        if !self.1.is_zero()
            && collection == Collection::SessionCards
            && expected == Expected::Absent
        {
            tokio::time::sleep(self.1).await;
        }
        self.0.put(collection, key, value, expected).await
    }
    async fn delete(
        &self,
        collection: Collection,
        key: &str,
        expected: Expected,
    ) -> claude_agents::store::Result<()> {
        tokio::task::yield_now().await;
        self.0.delete(collection, key, expected).await
    }
    async fn list(
        &self,
        collection: Collection,
        prefix: &str,
    ) -> claude_agents::store::Result<Vec<(String, Versioned)>> {
        tokio::task::yield_now().await;
        self.0.list(collection, prefix).await
    }
    async fn append_events(
        &self,
        session: &str,
        events: &[LogEvent],
    ) -> claude_agents::store::Result<AppendOutcome> {
        tokio::task::yield_now().await;
        self.0.append_events(session, events).await
    }
    async fn read_events(
        &self,
        session: &str,
        after: u64,
        limit: usize,
    ) -> claude_agents::store::Result<Vec<(u64, LogEvent)>> {
        tokio::task::yield_now().await;
        self.0.read_events(session, after, limit).await
    }
}

pub fn started(out: &TriggerOutcome) -> SessionCardId {
    match out {
        TriggerOutcome::Started { card } => card.clone(),
        other => panic!("expected Started, got {other:?}"),
    }
}

/// The text of the first content block of an event.
fn text_of(event: &Value) -> &str {
    event["content"][0]["text"].as_str().unwrap_or("")
}

/// A turn of `messages` agent messages (`step 0`, `step 1`, …), one step per millisecond:
/// events trickle in while the launcher writes.
pub fn trickle(messages: usize) -> Script {
    let mut steps = vec![Step::ModelRequestStart, Step::Thinking];
    steps.extend((0..messages).map(|i| Step::message(format!("step {i}"))));
    steps.push(Step::ModelRequestEnd {
        usage: Default::default(),
        is_error: false,
    });
    Script::new(steps).with_delay(Duration::from_millis(1))
}

/// A launcher configuration with `f` applied (the struct is non-exhaustive).
fn config(f: impl FnOnce(&mut LauncherConfig)) -> LauncherConfig {
    let mut c = LauncherConfig::default();
    f(&mut c);
    c
}

fn kinds(acts: &[Activity]) -> Vec<String> {
    acts.iter()
        .map(|a| match &a.kind {
            ActivityKind::StatusChange { to } => format!("status:{to}"),
            ActivityKind::ApprovalNeeded { .. } => "approval".into(),
            other => format!("{other:?}").to_lowercase(),
        })
        .collect()
}

#[tokio::test]
async fn an_assignment_runs_a_session_into_the_task_history() {
    let h = H::new().await;
    let l = h.launcher(LauncherConfig::default());
    let out = l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap();
    let TriggerOutcome::Started { card } = out else {
        panic!("{out:?}")
    };
    let run = h.wait_state(&card, SessionState::Idle).await;
    let session = h.remote_session(&run);
    let acts = h.activities(&card);
    assert_eq!(
        kinds(&acts),
        [
            "status:running",
            "thinking",
            "agentmessage",
            "finalresult",
            "status:idle"
        ]
    );
    assert_eq!(acts[2].text, "Hello from the fake agent.");
    h.assert_log_matches_fake(&session).await;
    // Pinned to the recorded agent version, with the run vault and the agent's vault.
    let remote = h.fake.object(&session).unwrap();
    let status = h
        .store
        .load::<claude_agents::reconcile::ReconcileStatus>(
            &claude_agents::reconcile::ReconcileStatus::key_of(&h.ws, &h.agent),
        )
        .await
        .unwrap()
        .unwrap()
        .0;
    assert_eq!(
        remote["agent"]["version"].as_u64(),
        Some(status.agent.unwrap().version)
    );
    let vaults: Vec<&str> = remote["vault_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(vaults[0], run.launch.run_vault.as_deref().unwrap());
    assert_eq!(vaults[1], status.vault.unwrap().id.as_str());
    assert_eq!(remote["metadata"]["claude_agents.card"], card.as_str());
    // The first message: our instructions, then the ticket as delimited data.
    let history = h.fake.session_events(&session);
    let first = history
        .iter()
        .find(|e| e["type"] == "user.message")
        .unwrap();
    let text = first["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("Fix the login page"), "{text}");
    assert!(run.launch.outbox.is_empty());
    assert_eq!(run.card.usage.input_tokens, 100);
}

#[tokio::test]
async fn the_log_keeps_each_event_exactly_as_received_unknown_fields_and_types_included() {
    let h = H::new().await;
    h.fake.set_default_script(Script::new(vec![
        Step::Event {
            event: json!({
                "type": "agent.message",
                "content": [{"type": "text", "text": "from the future", "future_block_field": 1}],
                "future_field": {"nested": [1, 2.5, null, "x"]},
            }),
        },
        Step::Event {
            event: json!({"type": "agent.brand_new_kind", "payload": {"a": "b"}}),
        },
        Step::message("done"),
    ]));
    let l = h.launcher(LauncherConfig::default());
    let card = started(&l.on_assigned(h.assign("raw-1", "T-1")).await.unwrap());
    let run = h.wait_state(&card, SessionState::Idle).await;
    let session = h.remote_session(&run);
    // Field for field what the fake sent, including what this crate does not model.
    h.assert_log_matches_fake(&session).await;
    let stored: Vec<Value> = h
        .store
        .read_events(&session, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| serde_json::from_str(e.payload.get()).unwrap())
        .collect();
    let future = stored
        .iter()
        .find(|e| e["type"] == "agent.message" && text_of(e) == "from the future")
        .unwrap();
    assert_eq!(future["future_field"]["nested"][1], 2.5);
    assert_eq!(future["content"][0]["future_block_field"], 1);
    let unknown = stored
        .iter()
        .find(|e| e["type"] == "agent.brand_new_kind")
        .unwrap();
    assert_eq!(unknown["payload"]["a"], "b");
    // The known message is still mapped into the history.
    assert!(
        h.activities(&card)
            .iter()
            .any(|a| a.text == "from the future"),
        "{:?}",
        kinds(&h.activities(&card))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_over_a_store_with_one_writer_all_run_without_waiting_on_each_other() {
    // The first message's flush writes the card while the pump appends the first events;
    // over a store with one writer (SQLite), a flush that is not polled while the pump waits
    // for the writer would hold it forever.
    let h = H::new().await;
    // Events trickle in while the first message's flush writes the card.
    h.fake.set_default_script(trickle(30));
    let l = h.launcher_on(
        Arc::new(OneWriterStore::new(h.store.clone())),
        LauncherConfig::default(),
    );
    let mut cards = Vec::new();
    for i in 0..8 {
        let out = l
            .on_assigned(h.assign(&format!("one-writer-{i}"), &format!("T-{i}")))
            .await
            .unwrap();
        cards.push(started(&out));
    }
    for card in &cards {
        let run = h.wait_state(card, SessionState::Idle).await;
        h.assert_log_matches_fake(&h.remote_session(&run)).await;
    }
}

// ---- 1. One session per trigger -------------------------------------------------------------

#[tokio::test]
async fn a_trigger_delivered_five_times_starts_one_session() {
    let h = H::new().await;
    let l = h.launcher(LauncherConfig::default());
    let mut outs = Vec::new();
    for _ in 0..5 {
        outs.push(l.on_assigned(h.assign("delivery-1", "T-1")).await.unwrap());
    }
    let card = started(&outs[0]);
    for out in &outs[1..] {
        assert_eq!(
            out,
            &TriggerOutcome::Duplicate {
                card: Some(card.clone())
            }
        );
    }
    h.wait_state(&card, SessionState::Idle).await;
    // Late redeliveries, after the session ran, are still duplicates.
    let late = l.on_assigned(h.assign("delivery-1", "T-1")).await.unwrap();
    assert_eq!(
        late,
        TriggerOutcome::Duplicate {
            card: Some(card.clone())
        }
    );
    assert_eq!(h.runs().await.len(), 1);
    assert_eq!(h.fake.objects("session").len(), 1);
    let run = h.run(&card).await;
    assert_eq!(h.history(&h.remote_session(&run), "user.message").len(), 1);
}

#[tokio::test]
async fn five_concurrent_deliveries_of_a_trigger_start_one_session() {
    let h = H::new().await;
    // The store yields before every operation so the five calls interleave.
    let l = h.launcher_on(
        Arc::new(YieldStore::new(h.store.clone())),
        LauncherConfig::default(),
    );
    let go = || l.on_assigned(h.assign("delivery-1", "T-1"));
    let (a, b, c, d, e) = tokio::join!(go(), go(), go(), go(), go());
    let outs: Vec<TriggerOutcome> = [a, b, c, d, e]
        .into_iter()
        .map(|o| o.expect("a redelivery racing the first is not an error"))
        .collect();
    let starts: Vec<_> = outs
        .iter()
        .filter(|o| matches!(o, TriggerOutcome::Started { .. }))
        .collect();
    assert_eq!(starts.len(), 1, "{outs:?}");
    let card = started(starts[0]);
    let dups = outs
        .iter()
        .filter(|o| {
            **o == TriggerOutcome::Duplicate {
                card: Some(card.clone()),
            }
        })
        .count();
    assert_eq!(dups, 4, "{outs:?}");
    let run = h.wait_state(&card, SessionState::Idle).await;
    assert_eq!(h.runs().await.len(), 1);
    assert_eq!(h.fake.objects("session").len(), 1);
    assert_eq!(h.index("T-1").await.map(|i| i.card), Some(card.clone()));
    assert_eq!(h.history(&h.remote_session(&run), "user.message").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_deliveries_on_parallel_tasks_start_one_session() {
    let h = H::new().await;
    let l = h.launcher_on(
        Arc::new(YieldStore::new(h.store.clone())),
        LauncherConfig::default(),
    );
    let handles: Vec<_> = (0..5)
        .map(|_| {
            let l = l.clone();
            let t = h.assign("delivery-1", "T-1");
            tokio::spawn(async move { l.on_assigned(t).await })
        })
        .collect();
    let mut outs = Vec::new();
    for j in handles {
        outs.push(j.await.unwrap().expect("no delivery fails"));
    }
    let starts: Vec<_> = outs
        .iter()
        .filter(|o| matches!(o, TriggerOutcome::Started { .. }))
        .collect();
    assert_eq!(starts.len(), 1, "{outs:?}");
    let card = started(starts[0]);
    assert!(
        outs.iter()
            .all(|o| matches!(o, TriggerOutcome::Started { .. })
                || *o
                    == TriggerOutcome::Duplicate {
                        card: Some(card.clone())
                    }),
        "{outs:?}"
    );
    h.wait_state(&card, SessionState::Idle).await;
    assert_eq!(h.runs().await.len(), 1);
    assert_eq!(h.fake.objects("session").len(), 1);
}

#[tokio::test]
async fn two_different_triggers_racing_for_one_task_make_one_live_card() {
    let h = H::new().await;
    let l = h.launcher_on(
        Arc::new(YieldStore::new(h.store.clone())),
        LauncherConfig::default(),
    );
    let (a, b) = tokio::join!(
        l.on_assigned(h.assign("assign-a", "T-1")),
        l.on_comment(h.comment("comment-b", "T-1", "@coder please look")),
    );
    let (a, b) = (a.expect("assignment"), b.expect("mention"));
    let (card, other) = match (&a, &b) {
        (TriggerOutcome::Started { card }, other) | (other, TriggerOutcome::Started { card }) => {
            (card.clone(), other.clone())
        }
        _ => panic!("neither started: {a:?} {b:?}"),
    };
    assert!(
        matches!(&other, TriggerOutcome::AlreadyLive { card: c } | TriggerOutcome::FollowUp { card: c } if *c == card),
        "{other:?}"
    );
    assert_eq!(h.index("T-1").await.map(|i| i.card), Some(card.clone()));
    h.wait_state(&card, SessionState::Idle).await;
    assert_eq!(h.runs().await.len(), 1);
    assert_eq!(h.fake.objects("session").len(), 1);
}

#[tokio::test]
async fn a_trigger_racing_a_slow_card_write_does_not_lose_the_live_card() {
    let h = H::new().await;
    // Writing the new card takes a while: the second trigger finds the first one's live-index
    // entry before its card exists.
    let store = YieldStore::slow_card_create(h.store.clone(), Duration::from_millis(100));
    let l = h.launcher_on(Arc::new(store), LauncherConfig::default());
    let (a, b) = tokio::join!(l.on_assigned(h.assign("assign-a", "T-1")), async {
        tokio::time::sleep(Duration::from_millis(30)).await;
        l.on_assigned(h.assign("assign-b", "T-1")).await
    },);
    let card = started(&a.expect("first assignment"));
    assert_eq!(
        b.expect("second assignment"),
        TriggerOutcome::AlreadyLive { card: card.clone() }
    );
    assert_eq!(h.index("T-1").await.map(|i| i.card), Some(card.clone()));
    h.wait_state(&card, SessionState::Idle).await;
    // A later assignment still sees the live card.
    let c = l.on_assigned(h.assign("assign-c", "T-1")).await.unwrap();
    assert_eq!(c, TriggerOutcome::AlreadyLive { card: card.clone() });
    assert_eq!(h.runs().await.len(), 1);
    assert_eq!(h.fake.objects("session").len(), 1);
}

// ---- 2. Follow-ups and mentions -------------------------------------------------------------

#[tokio::test]
async fn a_mention_on_a_live_card_is_a_follow_up_to_its_session() {
    let h = H::new().await;
    let l = h.launcher(LauncherConfig::default());
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    let run = h.wait_state(&card, SessionState::Idle).await;
    let session = h.remote_session(&run);

    let trigger = h.comment("c-1", "T-1", "@coder please also fix the footer");
    let out = l.on_comment(trigger.clone()).await.unwrap();
    assert_eq!(out, TriggerOutcome::FollowUp { card: card.clone() });
    // A second turn runs in the same session and reaches the task history.
    let acts = h
        .wait_activities(&card, |a| {
            a.iter()
                .filter(|a| a.kind == ActivityKind::FinalResult)
                .count()
                == 2
        })
        .await;
    let messages = h.history(&session, "user.message");
    assert_eq!(messages.len(), 2);
    assert!(
        text_of(&messages[1]).contains("please also fix the footer"),
        "{}",
        text_of(&messages[1])
    );
    assert_eq!(
        kinds(&acts),
        [
            "status:running",
            "thinking",
            "agentmessage",
            "finalresult",
            "status:idle",
            "status:running",
            "thinking",
            "agentmessage",
            "finalresult",
            "status:idle"
        ]
    );
    let run = h.wait_state(&card, SessionState::Idle).await;
    assert_eq!(run.card.usage.input_tokens, 200);
    assert!(run.launch.outbox.is_empty());

    // The same comment again: nothing new.
    let again = l.on_comment(trigger).await.unwrap();
    assert_eq!(
        again,
        TriggerOutcome::Duplicate {
            card: Some(card.clone())
        }
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(h.history(&session, "user.message").len(), 2);
    assert_eq!(h.fake.objects("session").len(), 1);
}

#[tokio::test]
async fn a_follow_up_while_the_first_message_is_being_sent_is_not_lost() {
    let h = H::new().await;
    // Every answer of the API is held back, so the first message's send is still waiting for
    // its answer when the mention comes in.
    h.fake.faults().set_latency(Duration::from_millis(200));
    let l = h.launcher(LauncherConfig::default());
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    let mut polls = 0;
    let (run, session) = loop {
        let run = h.run(&card).await;
        if let Some(s) = run.card.remote_session.clone()
            && h.history(&s, "user.message").len() == 1
        {
            break (run, s);
        }
        polls += 1;
        assert!(polls < 1000, "the first message never reached the session");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(
        run.launch.stage,
        Stage::SessionCreated,
        "the send has not been answered yet"
    );
    let out = l
        .on_comment(h.comment("c-1", "T-1", "@coder and the footer too"))
        .await
        .unwrap();
    assert_eq!(out, TriggerOutcome::FollowUp { card: card.clone() });
    h.fake.faults().set_latency(Duration::ZERO);
    h.wait(&card, |_| h.history(&session, "user.message").len() == 2)
        .await;
    let messages = h.history(&session, "user.message");
    assert!(text_of(&messages[1]).contains("and the footer too"));
    h.wait_activities(&card, |a| {
        a.iter()
            .filter(|a| a.kind == ActivityKind::FinalResult)
            .count()
            == 2
    })
    .await;
    let run = h.wait_state(&card, SessionState::Idle).await;
    assert!(run.launch.outbox.is_empty(), "{:?}", run.launch.outbox);
}

#[tokio::test]
async fn a_follow_up_whose_send_failed_is_sent_when_the_trigger_is_redelivered() {
    let h = H::new().await;
    let l = h.launcher(LauncherConfig::default());
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    let run = h.wait_state(&card, SessionState::Idle).await;
    let session = h.remote_session(&run);
    // Every attempt of the send (the client's retries included) is refused.
    h.fake.faults().error_burst(
        ErrorBurst::new(503, 3)
            .retry_after(Duration::from_millis(10))
            .matching(RequestMatch::new(
                "POST",
                format!("/v1/sessions/{session}/events"),
            )),
    );
    let trigger = h.comment("c-1", "T-1", "@coder and the footer too");
    let failed = l.on_comment(trigger.clone()).await;
    assert!(failed.is_err(), "{failed:?}");
    assert_eq!(h.history(&session, "user.message").len(), 1);
    // The host answers the webhook with an error, so it is delivered again.
    let out = l.on_comment(trigger).await.unwrap();
    assert!(
        matches!(&out, TriggerOutcome::FollowUp { card: c } | TriggerOutcome::Duplicate { card: Some(c) } if *c == card),
        "{out:?}"
    );
    h.wait(&card, |_| h.history(&session, "user.message").len() == 2)
        .await;
    assert!(text_of(&h.history(&session, "user.message")[1]).contains("and the footer too"));
    let run = h
        .wait(&card, |r| {
            r.card.state == SessionState::Idle && r.launch.outbox.is_empty()
        })
        .await;
    assert_eq!(run.card.usage.input_tokens, 200);
}

#[tokio::test]
async fn comments_that_do_not_mention_the_agent_start_nothing() {
    let h = H::new().await;
    let l = h.launcher(LauncherConfig::default());
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    let run = h.wait_state(&card, SessionState::Idle).await;
    let session = h.remote_session(&run);
    let bodies = [
        "Thanks everyone, looks good.",
        "Use `@coder` to ask the agent.",
        "```\n@coder fix it\n```",
        "    @coder indented code",
        "> @coder said it was fixed",
        "mail coder@coder.dev",
    ];
    for (i, body) in bodies.iter().enumerate() {
        for task in ["T-1", "T-2"] {
            let out = l
                .on_comment(h.comment(&format!("c-{task}-{i}"), task, body))
                .await
                .unwrap();
            assert_eq!(out, TriggerOutcome::NotMentioned, "{body:?}");
        }
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(h.history(&session, "user.message").len(), 1);
    assert_eq!(h.runs().await.len(), 1);
    assert_eq!(h.fake.objects("session").len(), 1);
    assert!(h.index("T-2").await.is_none());
}

#[tokio::test]
async fn a_mention_on_a_task_without_a_live_card_starts_one() {
    let h = H::new().await;
    let l = h.launcher(LauncherConfig::default());
    let out = l
        .on_comment(h.comment("c-9", "T-2", "Could you take a look, @coder?"))
        .await
        .unwrap();
    let card = started(&out);
    let run = h.wait_state(&card, SessionState::Idle).await;
    assert_eq!(
        run.card.trigger,
        Trigger::Mention {
            comment: "c-9".into(),
            by: Some("u1".into())
        }
    );
    assert_eq!(run.card.task.as_str(), "T-2");
    assert_eq!(h.index("T-2").await.map(|i| i.card), Some(card.clone()));
    let messages = h.history(&h.remote_session(&run), "user.message");
    assert_eq!(messages.len(), 1);
    assert!(text_of(&messages[0]).contains("Could you take a look"));
}

// ---- 3. Assignment while live ---------------------------------------------------------------

#[tokio::test]
async fn an_assignment_while_a_card_is_live_is_already_live() {
    let h = H::new().await;
    let l = h.launcher(LauncherConfig::default());
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    // At once (the card is still starting) and once it is idle.
    let out = l.on_assigned(h.assign("assign-2", "T-1")).await.unwrap();
    assert_eq!(out, TriggerOutcome::AlreadyLive { card: card.clone() });
    let run = h.wait_state(&card, SessionState::Idle).await;
    let out = l.on_assigned(h.assign("assign-3", "T-1")).await.unwrap();
    assert_eq!(out, TriggerOutcome::AlreadyLive { card: card.clone() });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(h.runs().await.len(), 1);
    assert_eq!(h.fake.objects("session").len(), 1);
    assert_eq!(h.history(&h.remote_session(&run), "user.message").len(), 1);
}

// ---- 4. Custom task tools -------------------------------------------------------------------

/// The `user.custom_tool_result` answering the tool use `id` in `session`'s history.
fn tool_result<'a>(history: &'a [Value], id: &str) -> &'a Value {
    let found: Vec<_> = history
        .iter()
        .filter(|e| e["type"] == "user.custom_tool_result" && e["custom_tool_use_id"] == id)
        .collect();
    assert_eq!(found.len(), 1, "one answer to {id}: {history:#?}");
    found[0]
}

fn tool_uses(history: &[Value]) -> Vec<(String, String)> {
    history
        .iter()
        .filter(|e| e["type"] == "agent.custom_tool_use")
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_owned(),
                e["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn update_status_goes_through_the_host_and_back_to_the_agent() {
    let h = H::new().await;
    h.fake.set_default_script(Script::new(vec![
        Step::custom_tool_use("update_status", json!({"status": "done"})),
        Step::message("Marked it done."),
    ]));
    let l = h.launcher(LauncherConfig::default());
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    let run = h.wait_state(&card, SessionState::Idle).await;
    let session = h.remote_session(&run);
    let history = h.fake.session_events(&session);
    let uses = tool_uses(&history);
    assert_eq!(uses.len(), 1);
    let (id, _) = &uses[0];
    assert_eq!(
        *h.host.statuses.lock().unwrap(),
        [(id.clone(), "done".to_owned())]
    );
    let answer = tool_result(&history, id);
    assert_eq!(answer["is_error"], false);
    assert_eq!(text_of(answer), "Status changed to done.");
    assert_eq!(h.sent(&session, "user.custom_tool_result").len(), 1);
    let acts = h.activities(&card);
    assert!(
        acts.iter()
            .any(|a| a.kind == ActivityKind::ToolAction && a.text == "Used update_status"),
        "{acts:#?}"
    );
    assert!(
        acts.iter()
            .any(|a| a.kind == ActivityKind::FinalResult && a.text == "Marked it done.")
    );
    // The custom tool's requires_action idle is not a wait for a person.
    assert!(
        !acts
            .iter()
            .any(|a| matches!(a.kind, ActivityKind::ApprovalNeeded { .. })
                || a.kind
                    == ActivityKind::StatusChange {
                        to: SessionState::AwaitingInput
                    }),
        "{acts:#?}"
    );
}

#[tokio::test]
async fn get_task_and_add_comment_answer_the_agent() {
    let h = H::new().await;
    h.fake.set_default_script(Script::new(vec![
        Step::custom_tool_use("get_task", json!({})),
        Step::custom_tool_use("add_comment", json!({"body": "On it."})),
        Step::message("Done."),
    ]));
    let l = h.launcher(LauncherConfig::default());
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    let run = h.wait_state(&card, SessionState::Idle).await;
    let history = h.fake.session_events(h.remote_session(&run));
    let uses = tool_uses(&history);
    assert_eq!(uses.len(), 2, "{history:#?}");
    let get = tool_result(&history, &uses[0].0);
    assert_eq!(get["is_error"], false);
    let task: Value = serde_json::from_str(text_of(get)).expect("get_task answers JSON");
    assert_eq!(task["task"], "T-1");
    assert_eq!(task["title"], "Fix the login page");
    let add = tool_result(&history, &uses[1].0);
    assert_eq!(add["is_error"], false);
    assert_eq!(
        *h.host.comments.lock().unwrap(),
        [(uses[1].0.clone(), "On it.".to_owned())]
    );
}

#[tokio::test]
async fn tool_errors_are_answered_as_errors_and_the_session_goes_on() {
    let h = H::new().await;
    *h.host.fail_status.lock().unwrap() = true;
    h.fake.set_default_script(Script::new(vec![
        Step::custom_tool_use("update_status", json!({"status": "weird"})),
        Step::custom_tool_use("frobnicate", json!({})),
        Step::custom_tool_use("add_comment", json!({"text": "wrong field"})),
        Step::message("Still here."),
    ]));
    let l = h.launcher(LauncherConfig::default());
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    let run = h.wait_state(&card, SessionState::Idle).await;
    let history = h.fake.session_events(h.remote_session(&run));
    let uses = tool_uses(&history);
    assert_eq!(uses.len(), 3, "{history:#?}");
    let answers: Vec<(bool, String)> = uses
        .iter()
        .map(|(id, _)| {
            let a = tool_result(&history, id);
            (a["is_error"].as_bool().unwrap(), text_of(a).to_owned())
        })
        .collect();
    assert!(answers.iter().all(|(err, _)| *err), "{answers:?}");
    assert!(answers[0].1.contains("unknown status"), "{answers:?}");
    assert!(answers[1].1.contains("frobnicate"), "{answers:?}");
    assert!(answers[2].1.contains("body"), "{answers:?}");
    assert!(h.host.statuses.lock().unwrap().is_empty());
    assert!(h.host.comments.lock().unwrap().is_empty());
    let acts = h.activities(&card);
    assert!(
        acts.iter()
            .any(|a| a.kind == ActivityKind::FinalResult && a.text == "Still here.")
    );
    assert!(l.is_driving(&h.ws, &card), "the pump still runs");
}

// ---- 5. Approvals ---------------------------------------------------------------------------

fn approval_script() -> Script {
    Script::new(vec![
        Step::tool_use("bash", json!({"command": "rm -rf /tmp/x"}), "ok")
            .with_permission(Permission::Ask),
        Step::message("Cleaned up."),
    ])
}

/// Starts a card whose session waits for the approval of a `bash` call; returns the card and
/// the tool use id.
async fn awaiting_approval(h: &H, l: &Launcher) -> (SessionCardId, String) {
    h.fake.set_default_script(approval_script());
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    let run = h.wait_state(&card, SessionState::AwaitingInput).await;
    let tool = h.history(&h.remote_session(&run), "agent.tool_use");
    assert_eq!(tool.len(), 1);
    let id = tool[0]["id"].as_str().unwrap().to_owned();
    let acts = h.activities(&card);
    let approvals: Vec<_> = acts
        .iter()
        .filter_map(|a| match &a.kind {
            ActivityKind::ApprovalNeeded { request } => Some((request.clone(), a.text.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(approvals.len(), 1, "{acts:#?}");
    assert_eq!(approvals[0].0, id);
    assert!(approvals[0].1.contains("rm -rf /tmp/x"), "{approvals:?}");
    assert_eq!(
        acts.last().unwrap().kind,
        ActivityKind::StatusChange {
            to: SessionState::AwaitingInput
        }
    );
    (card, id)
}

#[tokio::test]
async fn an_approved_tool_call_runs_and_the_turn_finishes() {
    let h = H::new().await;
    let l = h.launcher(LauncherConfig::default());
    let (card, id) = awaiting_approval(&h, &l).await;
    l.approve(&h.ws, &card, &id, Approval::Allow).await.unwrap();
    let run = h.wait_state(&card, SessionState::Idle).await;
    let session = h.remote_session(&run);
    let results = h.history(&session, "agent.tool_result");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["tool_use_id"], id.as_str());
    assert_eq!(results[0]["is_error"], false);
    let acts = h.activities(&card);
    assert!(
        acts.iter()
            .any(|a| a.kind == ActivityKind::ToolAction && a.text == "Ran `rm -rf /tmp/x`"),
        "{acts:#?}"
    );
    assert!(
        acts.iter()
            .any(|a| a.kind == ActivityKind::FinalResult && a.text == "Cleaned up.")
    );
    // The approval is spent: answering it again is refused by the API.
    assert!(l.approve(&h.ws, &card, &id, Approval::Allow).await.is_err());
}

#[tokio::test]
async fn a_denied_tool_call_tells_the_agent_why_and_the_session_goes_on() {
    let h = H::new().await;
    let l = h.launcher(LauncherConfig::default());
    let (card, id) = awaiting_approval(&h, &l).await;
    l.approve(&h.ws, &card, &id, Approval::Deny(Some("no".into())))
        .await
        .unwrap();
    let run = h.wait_state(&card, SessionState::Idle).await;
    let session = h.remote_session(&run);
    let confirmations = h.history(&session, "user.tool_confirmation");
    assert_eq!(confirmations.len(), 1);
    assert_eq!(confirmations[0]["result"], "deny");
    assert_eq!(confirmations[0]["deny_message"], "no");
    let results = h.history(&session, "agent.tool_result");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["is_error"], true);
    assert_eq!(text_of(&results[0]), "no");
    let acts = h.activities(&card);
    assert!(
        acts.iter().any(|a| a.kind == ActivityKind::ToolAction
            && a.text == "Denied permission to run `rm -rf /tmp/x`"),
        "{acts:#?}"
    );
    assert!(
        acts.iter()
            .any(|a| a.kind == ActivityKind::FinalResult && a.text == "Cleaned up.")
    );
}

// ---- 6. Stop --------------------------------------------------------------------------------

#[tokio::test]
async fn stop_interrupts_the_session_and_ends_the_card() {
    let h = H::new().await;
    h.fake.set_default_script(Script::new(vec![
        Step::message("Working on it."),
        Step::Pause { ms: 5000 },
        Step::message("Too late."),
    ]));
    let l = h.launcher(LauncherConfig::default());
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    h.wait_activities(&card, |a| {
        a.iter().any(|a| a.kind == ActivityKind::AgentMessage)
    })
    .await;
    let run = h.wait_state(&card, SessionState::Running).await;
    let session = h.remote_session(&run);
    let vault = run.launch.run_vault.clone().unwrap();
    assert!(h.fake.object(&vault).unwrap()["archived_at"].is_null());

    let stopped = l.stop(&h.ws, &card, Some("Ana")).await.unwrap();
    assert_eq!(stopped.state, SessionState::Stopped);
    assert!(stopped.finished_at.is_some());
    assert_eq!(h.sent(&session, "user.interrupt").len(), 1);
    assert!(!h.fake.object(&vault).unwrap()["archived_at"].is_null());
    assert!(h.index("T-1").await.is_none());
    let run = h.run(&card).await;
    assert_eq!(run.card, stopped);
    assert!(run.launch.run_vault_archived);
    let acts = h.activities(&card);
    let last = acts.last().unwrap();
    assert_eq!(
        last.kind,
        ActivityKind::StatusChange {
            to: SessionState::Stopped
        }
    );
    assert!(last.text.contains("Ana"), "{last:?}");
    assert_eq!(
        h.card_deliveries(&card).last().unwrap(),
        &(stopped.revision, "stopped".to_owned())
    );

    // Stopping again changes nothing.
    let again = l.stop(&h.ws, &card, Some("Bo")).await.unwrap();
    assert_eq!(again, stopped);
    assert_eq!(h.sent(&session, "user.interrupt").len(), 1);

    // The interrupted turn's late events change nothing either.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.run(&card).await.card, stopped);
    assert!(!h.activities(&card).iter().any(|a| a.text == "Too late."));
    assert!(!l.is_driving(&h.ws, &card));

    // The task is free again: a new assignment starts a new card and session.
    h.fake.set_default_script(Script::default());
    let next = started(&l.on_assigned(h.assign("assign-2", "T-1")).await.unwrap());
    assert_ne!(next, card);
    let next_run = h.wait_state(&next, SessionState::Idle).await;
    assert_ne!(h.remote_session(&next_run), session);
    assert_eq!(h.fake.objects("session").len(), 2);
}

#[tokio::test]
async fn complete_refuses_a_working_card_then_archives_an_idle_one_and_frees_the_task() {
    let h = H::new().await;
    h.fake.set_default_script(Script::new(vec![
        Step::message("Working on it."),
        Step::Pause { ms: 300 },
        Step::message("Done."),
    ]));
    let l = h.launcher(LauncherConfig::default());
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    let run = h.wait_state(&card, SessionState::Running).await;
    let session = h.remote_session(&run);
    match l.complete(&h.ws, &card).await {
        Err(LauncherError::Working { card: c, state }) => {
            assert_eq!(c, card);
            assert_eq!(state, SessionState::Running);
        }
        other => panic!("expected Working, got {other:?}"),
    }
    assert!(h.fake.object(&session).unwrap()["archived_at"].is_null());

    h.wait_state(&card, SessionState::Idle).await;
    let done = l.complete(&h.ws, &card).await.unwrap();
    assert_eq!(done.state, SessionState::Completed);
    assert!(done.finished_at.is_some());
    assert!(!h.fake.object(&session).unwrap()["archived_at"].is_null());
    let run = h.wait_cleaned(&card, "T-1").await;
    assert_eq!(run.card, done);
    let last = h.activities(&card).pop().unwrap();
    assert_eq!(
        last.kind,
        ActivityKind::StatusChange {
            to: SessionState::Completed
        }
    );
    // Completing again changes nothing; the task is free for a new session.
    assert_eq!(l.complete(&h.ws, &card).await.unwrap(), done);
    assert!(matches!(
        l.complete(&h.ws, &"card_nope".into()).await,
        Err(LauncherError::UnknownCard { .. })
    ));
    h.fake.set_default_script(Script::default());
    let next = started(&l.on_assigned(h.assign("assign-2", "T-1")).await.unwrap());
    assert_ne!(next, card);
}

#[tokio::test]
async fn a_complete_the_api_refuses_leaves_the_card_live_and_driven() {
    let h = H::new().await;
    let l = h.launcher(LauncherConfig::default());
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    let run = h.wait_state(&card, SessionState::Idle).await;
    let session = h.remote_session(&run);
    h.fake
        .faults()
        .error_burst(ErrorBurst::new(400, 1).matching(RequestMatch::new(
            "POST",
            format!("/v1/sessions/{session}/archive"),
        )));
    match l.complete(&h.ws, &card).await {
        Err(LauncherError::Api { step, .. }) => assert_eq!(step, "archive session"),
        other => panic!("expected the API error, got {other:?}"),
    }
    assert_eq!(h.run(&card).await.card.state, SessionState::Idle);
    assert!(l.is_driving(&h.ws, &card));
    // Still followed: a mention reaches the session and its turn streams in.
    let out = l
        .on_comment(h.comment("c-1", "T-1", "@coder one more thing"))
        .await
        .unwrap();
    assert!(matches!(out, TriggerOutcome::FollowUp { .. }), "{out:?}");
    h.wait_activities(&card, |a| {
        a.iter()
            .filter(|a| a.kind == ActivityKind::FinalResult)
            .count()
            == 2
    })
    .await;
    h.wait_state(&card, SessionState::Idle).await;
    let done = l.complete(&h.ws, &card).await.unwrap();
    assert_eq!(done.state, SessionState::Completed);
}

#[tokio::test]
async fn stopping_a_starting_card_leaves_nothing_running_behind() {
    let h = H::new().await;
    // Slow answers: the stop comes while the start path is creating the run vault.
    h.fake.faults().set_latency(Duration::from_millis(100));
    let l = h.launcher(LauncherConfig::default());
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    h.wait_state(&card, SessionState::Starting).await;
    let stopped = l.stop(&h.ws, &card, None).await.unwrap();
    assert_eq!(stopped.state, SessionState::Stopped);
    assert!(h.index("T-1").await.is_none());
    h.fake.faults().set_latency(Duration::ZERO);
    // Whatever the start path created for the card ends up archived, and no session works
    // for it.
    let of_card = |kind: &str| -> Vec<Value> {
        h.fake
            .objects(kind)
            .into_iter()
            .filter(|o| o["metadata"]["claude_agents.card"] == card.as_str())
            .collect()
    };
    let mut polls = 0;
    loop {
        let vaults = of_card("vault");
        if !vaults.is_empty() && vaults.iter().all(|v| !v["archived_at"].is_null()) {
            break;
        }
        polls += 1;
        assert!(polls < 400, "run vault left live: {vaults:#?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let run = h.run(&card).await;
    assert_eq!(run.card.state, SessionState::Stopped);
    assert_eq!(of_card("vault").len(), 1);
    for s in of_card("session") {
        let id = s["id"].as_str().unwrap();
        assert!(
            h.history(id, "user.message").is_empty(),
            "a stopped card's session got its task: {s:#}"
        );
    }
}

#[tokio::test]
async fn stopping_an_unknown_card_is_an_error() {
    let h = H::new().await;
    let l = h.launcher(LauncherConfig::default());
    assert!(l.stop(&h.ws, &"card_nope".into(), None).await.is_err());
}

// ---- 7. Watchdog ----------------------------------------------------------------------------

#[tokio::test]
async fn a_silent_working_session_is_ended_by_the_watchdog() {
    let h = H::new().await;
    h.fake.set_default_script(Script::new(vec![
        Step::message("Starting."),
        Step::Pause { ms: 4000 },
        Step::message("Finished."),
    ]));
    let l = h.launcher(config(|c| c.watchdog = Duration::from_millis(300)));
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    let t0 = std::time::Instant::now();
    let run = h.wait(&card, |r| r.card.state.is_terminal()).await;
    let took = t0.elapsed();
    assert_eq!(run.card.state, SessionState::Failed);
    assert!(run.card.finished_at.is_some());
    assert!(took < Duration::from_millis(3000), "took {took:?}");
    let acts = h.activities(&card);
    let error = acts
        .iter()
        .find(|a| a.kind == ActivityKind::Error)
        .expect("an error activity");
    assert!(error.text.contains("No progress"), "{error:?}");
    let session = h.remote_session(&run);
    assert_eq!(h.sent(&session, "user.interrupt").len(), 1);
    h.wait_cleaned(&card, "T-1").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.run(&card).await.card.state, SessionState::Failed);
}

#[tokio::test]
async fn the_watchdog_fires_while_the_drive_lease_is_renewed() {
    let h = H::new().await;
    h.fake.set_default_script(Script::new(vec![
        Step::message("Starting."),
        Step::Pause { ms: 3000 },
        Step::message("Finished."),
    ]));
    // The lease is renewed (every 50 ms) more often than the watchdog period.
    let l = h.launcher(config(|c| {
        c.watchdog = Duration::from_millis(300);
        c.lease_ttl = Duration::from_millis(150);
    }));
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    let run = h
        .wait(&card, |r| {
            r.card.state.is_terminal() || r.card.state == SessionState::Idle
        })
        .await;
    assert_eq!(
        run.card.state,
        SessionState::Failed,
        "{:?}",
        h.activities(&card)
    );
    assert!(
        h.activities(&card)
            .iter()
            .any(|a| a.kind == ActivityKind::Error && a.text.contains("No progress"))
    );
}

#[tokio::test]
async fn the_watchdog_leaves_cards_waiting_for_a_person_alone() {
    let h = H::new().await;
    let l = h.launcher(config(|c| c.watchdog = Duration::from_millis(100)));
    // Idle after its turn.
    let idle = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    h.wait_state(&idle, SessionState::Idle).await;
    // Awaiting an approval.
    h.fake.set_default_script(approval_script());
    let waiting = started(&l.on_assigned(h.assign("assign-2", "T-2")).await.unwrap());
    h.wait_state(&waiting, SessionState::AwaitingInput).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(h.run(&idle).await.card.state, SessionState::Idle);
    assert_eq!(
        h.run(&waiting).await.card.state,
        SessionState::AwaitingInput
    );
    assert!(
        !h.activities(&idle)
            .iter()
            .chain(h.activities(&waiting).iter())
            .any(|a| a.kind == ActivityKind::Error)
    );
    // Both still respond.
    let idle_session = h.remote_session(&h.run(&idle).await);
    h.fake.set_script(&idle_session, Script::default());
    let out = l
        .on_comment(h.comment("c-1", "T-1", "@coder one more thing"))
        .await
        .unwrap();
    assert_eq!(out, TriggerOutcome::FollowUp { card: idle.clone() });
    let id = h.history(&h.remote_session(&h.run(&waiting).await), "agent.tool_use")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    l.approve(&h.ws, &waiting, &id, Approval::Allow)
        .await
        .unwrap();
    h.wait_state(&waiting, SessionState::Idle).await;
    h.wait_activities(&idle, |a| {
        a.iter()
            .filter(|a| a.kind == ActivityKind::FinalResult)
            .count()
            == 2
    })
    .await;
}

// ---- 8. Concurrency -------------------------------------------------------------------------

/// Assigns tasks T-1, T-2 and T-3, in order; their cards.
async fn assign_three(h: &H, l: &Launcher) -> Vec<SessionCardId> {
    let mut cards = Vec::new();
    for t in ["T-1", "T-2", "T-3"] {
        let out = l.on_assigned(h.assign(&format!("assign-{t}"), t)).await;
        cards.push(started(&out.unwrap()));
    }
    cards
}

fn working(state: SessionState) -> bool {
    matches!(
        state,
        SessionState::Starting | SessionState::Running | SessionState::AwaitingInput
    )
}

#[tokio::test]
async fn one_slot_per_agent_runs_three_tasks_one_after_another() {
    let h = H::new().await;
    h.fake
        .set_default_script(Script::reply("Done.").with_delay(Duration::from_millis(40)));
    let l = h.launcher(config(|c| c.max_concurrent_per_agent = 1));
    let cards = assign_three(&h, &l).await;
    // The first works; the others wait without a remote session.
    let first = h.wait_state(&cards[0], SessionState::Running).await;
    assert!(first.card.remote_session.is_some());
    for c in &cards[1..] {
        let r = h.run(c).await;
        assert_eq!(r.card.state, SessionState::Queued);
        assert!(r.card.remote_session.is_none());
    }
    assert_eq!(h.fake.objects("session").len(), 1);

    // Sample until all are idle: never more than one at work, and in order.
    let mut started_order: Vec<usize> = Vec::new();
    for _ in 0..2000 {
        let mut states = Vec::new();
        for c in &cards {
            states.push(h.run(c).await.card.state);
        }
        assert!(
            states.iter().filter(|s| working(**s)).count() <= 1,
            "{states:?}"
        );
        for (i, s) in states.iter().enumerate() {
            if *s != SessionState::Queued && !started_order.contains(&i) {
                started_order.push(i);
            }
        }
        if states.iter().all(|s| *s == SessionState::Idle) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(started_order, [0, 1, 2]);
    let mut sessions = Vec::new();
    for c in &cards {
        let r = h.wait_state(c, SessionState::Idle).await;
        sessions.push(h.remote_session(&r));
    }
    sessions.sort();
    sessions.dedup();
    assert_eq!(sessions.len(), 3);
    assert_eq!(h.fake.objects("session").len(), 3);
}

#[tokio::test]
async fn a_queued_card_can_be_stopped() {
    let h = H::new().await;
    h.fake
        .set_default_script(Script::reply("Done.").with_delay(Duration::from_millis(40)));
    let l = h.launcher(config(|c| c.max_concurrent_per_agent = 1));
    let cards = assign_three(&h, &l).await;
    assert_eq!(h.run(&cards[1]).await.card.state, SessionState::Queued);
    let stopped = l.stop(&h.ws, &cards[1], None).await.unwrap();
    assert_eq!(stopped.state, SessionState::Stopped);
    assert!(stopped.finished_at.is_some());
    assert!(stopped.remote_session.is_none());
    assert!(h.index("T-2").await.is_none());
    // The next queued card still gets the slot; the stopped one never runs.
    h.wait_state(&cards[0], SessionState::Idle).await;
    h.wait_state(&cards[2], SessionState::Idle).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let r = h.run(&cards[1]).await;
    assert_eq!(r.card, stopped);
    assert_eq!(h.fake.objects("session").len(), 2);
    assert!(
        h.fake
            .objects("vault")
            .iter()
            .all(|v| v["metadata"]["claude_agents.card"] != cards[1].as_str())
    );
}

// ---- 9. Sessions ended by the agent ---------------------------------------------------------

#[tokio::test]
async fn a_session_terminated_by_the_agent_stops_the_card_and_cleans_up() {
    let h = H::new().await;
    h.fake
        .set_default_script(Script::new(vec![Step::message("Bye."), Step::Terminate]));
    let l = h.launcher(config(|c| c.max_concurrent_per_agent = 1));
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    let run = h.wait(&card, |r| r.card.state.is_terminal()).await;
    assert_eq!(run.card.state, SessionState::Stopped);
    assert!(run.card.finished_at.is_some());
    h.wait_cleaned(&card, "T-1").await;
    // The slot is free: the next task starts at once.
    h.fake.set_default_script(Script::default());
    let next = started(&l.on_assigned(h.assign("assign-2", "T-2")).await.unwrap());
    h.wait_state(&next, SessionState::Idle).await;
}

#[tokio::test]
async fn a_terminal_session_error_fails_the_card() {
    let h = H::new().await;
    h.fake.set_default_script(Script::new(vec![Step::error(
        "overloaded_error",
        RetryStatus::Terminal,
    )]));
    let l = h.launcher(LauncherConfig::default());
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    let run = h.wait(&card, |r| r.card.state.is_terminal()).await;
    assert_eq!(run.card.state, SessionState::Failed);
    let acts = h.activities(&card);
    assert!(
        acts.iter()
            .any(|a| a.kind == ActivityKind::Error && a.text.contains("overloaded_error")),
        "{acts:#?}"
    );
    assert_eq!(
        acts.last().unwrap().kind,
        ActivityKind::StatusChange {
            to: SessionState::Failed
        }
    );
    h.wait_cleaned(&card, "T-1").await;
}

// ---- 10. The sink ---------------------------------------------------------------------------

#[tokio::test]
async fn the_sink_sees_each_delivery_once_and_cards_in_revision_order() {
    let h = H::new().await;
    h.fake.set_default_script(Script::new(vec![
        Step::ModelRequestStart,
        Step::Thinking,
        Step::Thinking,
        Step::custom_tool_use("get_task", json!({})),
        Step::message("Looked."),
        Step::ModelRequestEnd {
            usage: Default::default(),
            is_error: false,
        },
    ]));
    let l = h.launcher(LauncherConfig::default());
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    h.wait_state(&card, SessionState::Idle).await;
    l.on_comment(h.comment("c-1", "T-1", "@coder again"))
        .await
        .unwrap();
    h.wait_activities(&card, |a| {
        a.iter()
            .filter(|a| a.kind == ActivityKind::FinalResult)
            .count()
            == 2
    })
    .await;
    let run = h.wait_state(&card, SessionState::Idle).await;
    assert_eq!(h.sink.deliveries().len(), h.sink.raw_count());
    let cards = h.card_deliveries(&card);
    let revisions: Vec<u64> = cards.iter().map(|(r, _)| *r).collect();
    assert!(revisions.windows(2).all(|w| w[0] < w[1]), "{cards:?}");
    assert_eq!(revisions[0], 0);
    assert_eq!(
        cards.last().unwrap(),
        &(run.card.revision, "idle".to_owned())
    );
    let states: Vec<&str> = cards.iter().map(|(_, s)| s.as_str()).collect();
    let mut transitions = states.clone();
    transitions.dedup();
    assert_eq!(
        transitions,
        ["queued", "starting", "running", "idle", "running", "idle"]
    );
}

#[tokio::test]
async fn a_stop_through_another_launcher_ends_the_driving_pump() {
    let h = H::new().await;
    h.fake.set_default_script(Script::new(vec![
        Step::message("Working on it."),
        Step::Pause { ms: 5000 },
        Step::message("Too late."),
    ]));
    // A short lease: the driving pump looks at its card at every renewal (a third of it).
    let driver = h.launcher(config(|c| c.lease_ttl = Duration::from_millis(300)));
    let other = h.launcher(LauncherConfig::default());
    let card = started(
        &driver
            .on_assigned(h.assign("assign-1", "T-1"))
            .await
            .unwrap(),
    );
    h.wait_activities(&card, |a| {
        a.iter().any(|a| a.kind == ActivityKind::AgentMessage)
    })
    .await;
    assert!(driver.is_driving(&h.ws, &card));
    assert!(!other.is_driving(&h.ws, &card));
    let stopped = other.stop(&h.ws, &card, None).await.unwrap();
    assert_eq!(stopped.state, SessionState::Stopped);
    // The driving pump sees the card ended — with the interrupt's events, or at its next
    // lease renewal when those came before the stop's write — and lets go.
    for _ in 0..2000 {
        if !driver.is_driving(&h.ws, &card) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        !driver.is_driving(&h.ws, &card),
        "the pump kept following a stopped card"
    );
    assert_eq!(h.run(&card).await.card.state, SessionState::Stopped);
}

#[tokio::test]
async fn resuming_an_idle_card_after_two_turns_changes_nothing() {
    let h = H::new().await;
    let l = h.launcher(LauncherConfig::default());
    let card = started(&l.on_assigned(h.assign("assign-1", "T-1")).await.unwrap());
    h.wait_state(&card, SessionState::Idle).await;
    let out = l
        .on_comment(h.comment("c-1", "T-1", "@coder one more thing"))
        .await
        .unwrap();
    assert_eq!(out, TriggerOutcome::FollowUp { card: card.clone() });
    h.wait_activities(&card, |a| {
        a.iter()
            .filter(|a| a.kind == ActivityKind::FinalResult)
            .count()
            == 2
    })
    .await;
    let before = h.wait_state(&card, SessionState::Idle).await;
    let deliveries = h.sink.raw_count();
    l.shutdown();
    let l2 = h.launcher(LauncherConfig::default());
    let report = l2.resume().await.unwrap();
    assert_eq!(report.resumed, 1);
    for _ in 0..200 {
        if l2.is_driving(&h.ws, &card) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        l2.is_driving(&h.ws, &card),
        "the resumed card is followed again"
    );
    // Let the replay run: the card keeps its revision and nothing is delivered again.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = h.run(&card).await;
    assert_eq!(after.card, before.card);
    assert_eq!(h.sink.raw_count(), deliveries);
}
