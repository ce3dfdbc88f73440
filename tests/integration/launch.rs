//! The session launcher against the fake API: triggers, the start path, the pump, custom
//! tools, approvals, stop, the watchdog, the concurrency queue, crashes and resume.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use claude_agents::domain::{
    Activity, ActivityKind, AgentKind, AgentSpec, AgentSpecId, EnvironmentSettings, KeyStatus,
    ManagedAgent, ProviderKey, SessionCard, SessionCardId, SessionState, TaskComment, TaskContext,
    ToolMode, WorkspaceId,
};
use claude_agents::launch::{
    AssignTrigger, CommentTrigger, Handle, HostError, Launcher, LauncherConfig, SessionRun,
    TaskHost, TriggerOutcome,
};
use claude_agents::reconcile::{Reconciler, ReconcilerConfig};
use claude_agents::store::{
    DeliveryKind, Expected, MemorySecretStore, MemorySink, MemoryStore, RecordKey, RecordStore,
    Store,
};
use claude_agents::testkit::FakeApi;

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

pub struct H {
    pub fake: FakeApi,
    pub store: Arc<MemoryStore>,
    pub sink: Arc<MemorySink>,
    pub host: Arc<TestHost>,
    pub ws: WorkspaceId,
    pub agent: AgentSpecId,
}

impl H {
    pub async fn new() -> Self {
        Self::with_store(Arc::new(MemoryStore::new())).await
    }

    pub async fn with_store(store: Arc<MemoryStore>) -> Self {
        let h = Self {
            fake: FakeApi::start().await.unwrap(),
            store,
            sink: Arc::new(MemorySink::new()),
            host: Arc::new(TestHost::default()),
            ws: "ws_1".into(),
            agent: "coder".into(),
        };
        let key = ProviderKey {
            id: "pk_1".into(),
            workspace: h.ws.clone(),
            label: "Team key".into(),
            secret: "provider_key/ws_1/pk_1".into(),
            masked: "sk-ant-…Wxyz".into(),
            status: KeyStatus::Unvalidated,
            models: vec!["claude-sonnet-4-6".into()],
        };
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
                let ty = e.payload["type"].as_str().unwrap_or("").to_owned();
                (e.event_id, e.processed, ty)
            })
            .collect()
    }

    /// Processed events of the stored log, in order, against the fake's history.
    pub async fn assert_log_matches_fake(&self, session: &str) {
        let ours: Vec<String> = self
            .log(session)
            .await
            .into_iter()
            .filter(|(_, processed, _)| *processed)
            .map(|(id, _, _)| id)
            .collect();
        let theirs: Vec<String> = self
            .fake
            .session_events(session)
            .into_iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ours, theirs, "stored log differs from the fake's history");
    }
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
