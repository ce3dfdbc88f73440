//! The launcher's run-time credentials: a full-bridge agent with direct API access gets a
//! per-session token in its run vault (a bearer credential for the host's MCP server and an
//! `environment_variable` credential limited to the host's API), and the token appears nowhere
//! else.

use std::sync::Arc;

use async_trait::async_trait;
use claude_agents::domain::{
    AgentKind, AgentSpec, EnvironmentSettings, ManagedAgent, SessionCard, SessionState, TaskBridge,
    TaskContext, ToolMode,
};
use claude_agents::launch::{
    AssignTrigger, HostError, Launcher, LauncherConfig, SessionRun, TaskHost, TriggerOutcome,
};
use claude_agents::reconcile::{Reconciler, ReconcilerConfig};
use claude_agents::store::{
    Expected, MemorySecretStore, MemorySink, MemoryStore, RecordKey, RecordStore, Store,
};
use claude_agents::testkit::FakeApi;
use secrecy::SecretString;

const TOKEN: &str = "tok_CANARY_session_0123456789";
const MCP_URL: &str = "https://tracker.example.com/mcp";

struct Host {
    token: Option<&'static str>,
}

#[async_trait]
impl TaskHost for Host {
    async fn task(&self, card: &SessionCard) -> Result<TaskContext, HostError> {
        Ok(super::launch::task("p1", card.task.as_str()))
    }
    async fn add_comment(&self, _: &SessionCard, _: &str, _: &str) -> Result<(), HostError> {
        Ok(())
    }
    async fn update_status(&self, _: &SessionCard, _: &str, _: &str) -> Result<(), HostError> {
        Ok(())
    }
    async fn session_token(&self, _: &SessionCard) -> Result<Option<SecretString>, HostError> {
        Ok(self.token.map(|t| SecretString::from(t.to_owned())))
    }
}

async fn setup(
    token: Option<&'static str>,
) -> (FakeApi, Launcher, Arc<MemoryStore>, Arc<MemorySink>) {
    let fake = FakeApi::start().await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let ws = "ws_1".into();
    let key = super::launch::provider_key();
    store.save(&key, Expected::Absent).await.unwrap();
    let spec = AgentSpec {
        id: "bridge".into(),
        workspace: "ws_1".into(),
        name: "Bridge".into(),
        provider_key: "pk_1".into(),
        kind: AgentKind::Managed(ManagedAgent {
            instructions_html: "<p>Work.</p>".into(),
            model: "claude-sonnet-4-6".into(),
            guidance: String::new(),
            rules: vec![],
            skills: vec![],
            mcp_servers: vec![],
            tool_mode: ToolMode {
                bridge: TaskBridge::FullApi,
                allow_direct_api_access: true,
            },
            repositories: vec![],
            environment: EnvironmentSettings::default(),
        }),
        revision: 1,
    };
    store.save(&spec, Expected::Absent).await.unwrap();
    Reconciler::new(
        store.clone(),
        Arc::new(MemorySecretStore::new()),
        Arc::new(fake.client()),
        ReconcilerConfig::new("test-install").with_host_mcp("tracker", MCP_URL),
    )
    .reconcile(&ws, &"bridge".into())
    .await
    .unwrap();
    let mut config = LauncherConfig::default();
    config.host_api.mcp_url = Some(MCP_URL.into());
    config.host_api.base_url = Some("https://tracker.example.com/api".into());
    let sink = Arc::new(MemorySink::new());
    let launcher = Launcher::new(
        store.clone(),
        sink.clone(),
        Arc::new(fake.client()),
        Arc::new(Host { token }),
        config,
    );
    (fake, launcher, store, sink)
}

fn assign(key: &str) -> AssignTrigger {
    AssignTrigger {
        key: key.into(),
        task: super::launch::task("p1", "T-1"),
        agent: "bridge".into(),
        by: None,
    }
}

async fn wait_for(
    store: &MemoryStore,
    card: &claude_agents::domain::SessionCardId,
    state: SessionState,
) -> SessionRun {
    wait_until(store, card, |r| r.card.state == state).await
}

async fn wait_until(
    store: &MemoryStore,
    card: &claude_agents::domain::SessionCardId,
    pred: impl Fn(&SessionRun) -> bool,
) -> SessionRun {
    for _ in 0..2000 {
        let (run, _) = store
            .load::<SessionRun>(&RecordKey::of(&"ws_1".into(), card))
            .await
            .unwrap()
            .unwrap();
        if pred(&run) {
            return run;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("card {card} never got there");
}

#[tokio::test]
async fn the_session_token_lives_only_in_the_run_vault() {
    let (fake, launcher, store, _sink) = setup(Some(TOKEN)).await;
    let TriggerOutcome::Started { card } = launcher.on_assigned(assign("a1")).await.unwrap() else {
        panic!()
    };
    let run = wait_for(&store, &card, SessionState::Idle).await;
    let vault = run.launch.run_vault.clone().unwrap();
    let creds: Vec<_> = fake
        .objects("vault_credential")
        .into_iter()
        .filter(|c| c["vault_id"] == vault.as_str())
        .collect();
    assert_eq!(creds.len(), 2, "{creds:#?}");
    let bearer = creds
        .iter()
        .find(|c| c["auth"]["type"] == "static_bearer")
        .unwrap();
    assert_eq!(bearer["auth"]["mcp_server_url"], MCP_URL);
    let env = creds
        .iter()
        .find(|c| c["auth"]["type"] == "environment_variable")
        .unwrap();
    assert_eq!(env["auth"]["secret_name"], "TRACKER_API_TOKEN");
    assert_eq!(
        env["auth"]["networking"]["allowed_hosts"],
        serde_json::json!(["tracker.example.com"])
    );
    // The message tells the agent about the variable, never the token.
    let session = run.card.remote_session.clone().unwrap();
    let history = serde_json::to_string(&fake.session_events(&session)).unwrap();
    assert!(history.contains("TRACKER_API_TOKEN"));
    assert!(!history.contains(TOKEN));
    // The token went out only in the credential create requests, and is stored nowhere.
    for r in fake.requests() {
        let body = String::from_utf8_lossy(&r.body);
        if body.contains(TOKEN) {
            assert!(r.path.ends_with("/credentials"), "{} {}", r.method, r.path);
        }
    }
    let stored = format!(
        "{:?}",
        store
            .list(claude_agents::store::Collection::SessionCards, "")
            .await
            .unwrap()
    );
    assert!(!stored.contains(TOKEN));
    // Ending the card archives the run vault with its credentials.
    launcher.complete(&"ws_1".into(), &card).await.unwrap();
    assert!(!fake.object(&vault).unwrap()["archived_at"].is_null());
}

#[tokio::test]
async fn a_missing_session_token_fails_the_card_with_the_reason() {
    let (fake, launcher, store, sink) = setup(None).await;
    let TriggerOutcome::Started { card } = launcher.on_assigned(assign("a2")).await.unwrap() else {
        panic!()
    };
    let run = wait_until(&store, &card, |r| {
        r.card.state == SessionState::Failed && r.launch.run_vault_archived
    })
    .await;
    assert!(run.card.remote_session.is_none());
    assert!(fake.objects("session").is_empty());
    // The run vault made before the failure is archived with the card.
    let vault = run.launch.run_vault.unwrap();
    assert!(!fake.object(&vault).unwrap()["archived_at"].is_null());
    let texts: Vec<String> = sink
        .deliveries()
        .into_iter()
        .filter(|d| d.kind == claude_agents::store::DeliveryKind::Activity)
        .map(|d| d.payload["text"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("session token")),
        "{texts:?}"
    );
}

#[tokio::test]
async fn a_connected_agent_runs_with_its_user_vaults_and_the_run_vault() {
    use claude_agents::api::types::agents::AgentCreate;
    use claude_agents::api::types::environments::EnvironmentCreate;
    use claude_agents::api::types::vaults::VaultCreate;
    use claude_agents::domain::ConnectedAgent;

    let fake = FakeApi::start().await.unwrap();
    let c = fake.client();
    let agent = c
        .agents()
        .create(&AgentCreate::new("console agent", "claude-sonnet-4-6"))
        .await
        .unwrap();
    let env = c
        .environments()
        .create(&EnvironmentCreate::new("console env"))
        .await
        .unwrap();
    let user_vault = c
        .vaults()
        .create(&VaultCreate::new("user vault"))
        .await
        .unwrap();
    let store = Arc::new(MemoryStore::new());
    let key = super::launch::provider_key();
    store.save(&key, Expected::Absent).await.unwrap();
    let spec = AgentSpec {
        id: "console".into(),
        workspace: "ws_1".into(),
        name: "Console".into(),
        provider_key: "pk_1".into(),
        kind: AgentKind::Connected(ConnectedAgent {
            agent_id: agent.id.as_str().into(),
            environment_id: env.id.as_str().into(),
            vault_ids: vec![user_vault.id.as_str().into()],
        }),
        revision: 1,
    };
    store.save(&spec, Expected::Absent).await.unwrap();
    let writes_before = fake.writes();
    let launcher = Launcher::new(
        store.clone(),
        Arc::new(MemorySink::new()),
        Arc::new(fake.client()),
        Arc::new(Host { token: None }),
        LauncherConfig::default(),
    );
    let mut trigger = assign("c1");
    trigger.agent = "console".into();
    let TriggerOutcome::Started { card } = launcher.on_assigned(trigger).await.unwrap() else {
        panic!()
    };
    let run = wait_for(&store, &card, SessionState::Idle).await;
    let session = fake
        .object(run.card.remote_session.as_deref().unwrap())
        .unwrap();
    assert_eq!(session["agent"]["id"], agent.id.as_str());
    assert_eq!(session["environment_id"], env.id.as_str());
    assert_eq!(
        session["vault_ids"],
        serde_json::json!([
            run.launch.run_vault.clone().unwrap(),
            user_vault.id.as_str()
        ])
    );
    // Read-only towards the Console's objects: only the run vault, the session and its events
    // were written.
    let writes = fake.writes();
    assert_eq!(writes.get("agents"), writes_before.get("agents"));
    assert_eq!(
        writes.get("environments"),
        writes_before.get("environments")
    );
    assert_eq!(
        writes.get("vaults").copied().unwrap_or(0),
        writes_before.get("vaults").copied().unwrap_or(0) + 1
    );
}
