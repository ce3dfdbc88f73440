//! The reconciler against the fake API, the memory store and the memory secret store.

use std::sync::Arc;

use claude_agents::api::types::agents::AgentUpdate;
use claude_agents::domain::{
    AgentKind, AgentSpec, AgentSpecId, ConnectedAgent, EnvironmentSettings, KeyStatus,
    ManagedAgent, McpAuth, McpServer, ProviderKey, ToolMode, WorkspaceId,
};
use claude_agents::reconcile::{
    ObjectKind, Op, Phase, ReconcileError, ReconcileStatus, Reconciler, ReconcilerConfig,
};
use claude_agents::store::{
    Expected, MemorySecretStore, MemoryStore, RecordKey, RecordStore, SecretStore,
};
use claude_agents::testkit::{ErrorBurst, FakeApi, RequestMatch};
use secrecy::SecretString;
use serde_json::Value;

const CANARY: &str = "lin_api_CANARY_0123456789abcdef";
const CANARY2: &str = "lin_api_ROTATED_fedcba9876543210";

struct H {
    fake: FakeApi,
    store: Arc<MemoryStore>,
    secrets: Arc<MemorySecretStore>,
    ws: WorkspaceId,
    id: AgentSpecId,
}

fn managed() -> ManagedAgent {
    ManagedAgent {
        instructions_html: "<p>Fix <b>bugs</b> carefully.</p>".into(),
        model: "claude-sonnet-4-6".into(),
        guidance: "Be brief.".into(),
        rules: vec![],
        skills: vec![],
        mcp_servers: vec![
            McpServer {
                name: "linear".into(),
                url: "https://mcp.linear.app/mcp".into(),
                auth: McpAuth::BearerToken {
                    secret: "sec_linear".into(),
                },
            },
            McpServer {
                name: "docs".into(),
                url: "https://docs.example.com/mcp".into(),
                auth: McpAuth::None,
            },
        ],
        tool_mode: ToolMode::default(),
        repositories: vec![],
        environment: EnvironmentSettings::default(),
    }
}

impl H {
    async fn new() -> Self {
        let h = Self {
            fake: FakeApi::start().await.unwrap(),
            store: Arc::new(MemoryStore::new()),
            secrets: Arc::new(MemorySecretStore::new()),
            ws: "ws_1".into(),
            id: "spec_1".into(),
        };
        let key = ProviderKey {
            id: "pk_1".into(),
            workspace: h.ws.clone(),
            label: "Team key".into(),
            secret: "provider_key/ws_1/pk_1".into(),
            masked: "sk-ant-…Wxyz".into(),
            status: KeyStatus::Unvalidated,
            models: vec!["claude-sonnet-4-6".into(), "claude-opus-4-8".into()],
        };
        h.store.save(&key, Expected::Absent).await.unwrap();
        h.secrets
            .put(&"sec_linear".into(), SecretString::from(CANARY.to_owned()))
            .await
            .unwrap();
        h.save(managed()).await;
        h
    }

    async fn save(&self, m: ManagedAgent) {
        self.save_kind(AgentKind::Managed(m)).await;
    }

    async fn save_kind(&self, kind: AgentKind) {
        let spec = AgentSpec {
            id: self.id.clone(),
            workspace: self.ws.clone(),
            name: "Coder".into(),
            provider_key: "pk_1".into(),
            kind,
            revision: 1,
        };
        self.store.save(&spec, Expected::Any).await.unwrap();
    }

    async fn edit(&self, f: impl FnOnce(&mut ManagedAgent)) {
        let (mut spec, _) = self
            .store
            .load::<AgentSpec>(&RecordKey::of(&self.ws, &self.id))
            .await
            .unwrap()
            .unwrap();
        if let AgentKind::Managed(m) = &mut spec.kind {
            f(m);
        }
        spec.revision += 1;
        self.store.save(&spec, Expected::Any).await.unwrap();
    }

    fn reconciler(&self, config: ReconcilerConfig) -> Reconciler {
        Reconciler::new(
            self.store.clone(),
            self.secrets.clone(),
            Arc::new(self.fake.client()),
            config,
        )
    }

    fn r(&self) -> Reconciler {
        self.reconciler(ReconcilerConfig::new("test-install"))
    }

    fn active(&self, kind: &str) -> Vec<Value> {
        self.fake
            .objects(kind)
            .into_iter()
            .filter(|o| o["archived_at"].is_null())
            .collect()
    }

    fn assert_one_of_each(&self, credentials: usize) {
        assert_eq!(self.active("agent").len(), 1, "agents");
        assert_eq!(self.active("environment").len(), 1, "environments");
        assert_eq!(self.active("vault").len(), 1, "vaults");
        assert_eq!(
            self.active("vault_credential").len(),
            credentials,
            "credentials"
        );
    }

    async fn status(&self) -> ReconcileStatus {
        self.store
            .load::<ReconcileStatus>(&ReconcileStatus::key_of(&self.ws, &self.id))
            .await
            .unwrap()
            .unwrap()
            .0
    }

    async fn remove_spec(&self) {
        self.store
            .remove::<AgentSpec>(&RecordKey::of(&self.ws, &self.id), Expected::Any)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn first_reconcile_creates_one_of_each_and_the_second_writes_nothing() {
    let h = H::new().await;
    let r = h.r();
    let out = r.reconcile(&h.ws, &h.id).await.unwrap();
    assert_eq!(out.creates, 4, "{}", out.plan);
    h.assert_one_of_each(1);
    let writes = h.fake.writes();
    assert_eq!(writes.get("agents"), Some(&1));
    assert_eq!(writes.get("environments"), Some(&1));
    assert_eq!(writes.get("vaults"), Some(&1));
    assert_eq!(writes.get("credentials"), Some(&1));
    let st = h.status().await;
    assert_eq!(st.phase, Phase::Ready);
    let agent = &h.active("agent")[0];
    assert_eq!(st.agent.as_ref().unwrap().id.as_str(), agent["id"]);
    assert_eq!(st.agent.as_ref().unwrap().version, 1);
    assert_eq!(agent["metadata"]["claude_agents.owner"], "test-install");
    assert_eq!(agent["metadata"]["claude_agents.spec"], "spec_1");
    assert_eq!(agent["system"], "Fix **bugs** carefully.");
    // Basic task tools, the agent toolset and one toolset per MCP server.
    let tools: Vec<String> = agent["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            t["name"]
                .as_str()
                .or(t["mcp_server_name"].as_str())
                .unwrap_or(t["type"].as_str().unwrap())
                .to_owned()
        })
        .collect();
    assert_eq!(
        tools,
        [
            "agent_toolset_20260401",
            "linear",
            "docs",
            "get_task",
            "add_comment",
            "update_status"
        ]
    );
    // The whole desired state is recorded.
    assert_eq!(st.vault.as_ref().unwrap().credentials.len(), 1);
    assert!(st.pending.is_empty());

    let before = h.fake.write_count();
    let rev_before = h.status().await;
    let out = r.reconcile(&h.ws, &h.id).await.unwrap();
    assert!(out.plan.is_empty(), "{}", out.plan);
    assert_eq!(out.api_writes, 0);
    assert_eq!(h.fake.write_count(), before, "second reconcile wrote");
    assert_eq!(h.status().await, rev_before, "status rewritten for nothing");
    assert_eq!(out.plan.to_string(), "no changes\n");
}

#[tokio::test]
async fn a_spec_change_is_one_agent_update_with_the_recorded_version() {
    let h = H::new().await;
    let r = h.r();
    r.reconcile(&h.ws, &h.id).await.unwrap();
    let version = h.status().await.agent.unwrap().version;
    h.edit(|m| {
        m.instructions_html = "<p>Fix bugs and write tests.</p>".into();
        m.model = "claude-opus-4-8".into();
        m.mcp_servers.push(McpServer {
            name: "sentry".into(),
            url: "https://mcp.sentry.dev/mcp".into(),
            auth: McpAuth::None,
        });
    })
    .await;
    let before = h.fake.requests().len();
    let out = r.reconcile(&h.ws, &h.id).await.unwrap();
    let text = out.plan.to_string();
    assert!(text.contains("(version 1 → 2)"), "{text}");
    assert!(
        text.contains("~ model: \"claude-sonnet-4-6\" → \"claude-opus-4-8\""),
        "{text}"
    );
    assert!(text.contains("~ system: 23 chars → 25 chars"), "{text}");
    assert!(text.contains("~ mcp_servers:"), "{text}");
    let writes: Vec<_> = h.fake.requests()[before..]
        .iter()
        .filter(|r| r.method != "GET")
        .cloned()
        .collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
    let body: Value = serde_json::from_slice(&writes[0].body).unwrap();
    assert_eq!(body["version"], version);
    assert_eq!(body["model"], "claude-opus-4-8");
    assert!(body.get("name").is_none(), "unchanged fields are not sent");
    let st = h.status().await;
    assert_eq!(st.agent.unwrap().version, version + 1);
    assert_eq!(st.applied_revision, Some(2));
    // And then nothing.
    let out = r.reconcile(&h.ws, &h.id).await.unwrap();
    assert!(out.plan.is_empty(), "{}", out.plan);
}

#[tokio::test]
async fn a_crash_after_any_create_is_adopted_not_duplicated() {
    for kind in [
        ObjectKind::Environment,
        ObjectKind::Vault,
        ObjectKind::Credential,
        ObjectKind::Agent,
    ] {
        let h = H::new().await;
        let crashing =
            h.reconciler(ReconcilerConfig::new("test-install").with_fail_after_create(kind));
        let err = crashing.reconcile(&h.ws, &h.id).await.unwrap_err();
        assert!(
            matches!(err, ReconcileError::Injected(k) if k == kind),
            "{err}"
        );
        let st = h.status().await;
        assert!(
            st.pending.iter().any(|p| p.kind == kind),
            "{kind}: marker written before the create"
        );
        let out = h.r().reconcile(&h.ws, &h.id).await.unwrap();
        assert!(
            out.plan
                .actions
                .iter()
                .any(|a| a.kind == kind && a.op == Op::Adopt),
            "{kind}: {}",
            out.plan
        );
        h.assert_one_of_each(1);
        let st = h.status().await;
        assert!(st.pending.is_empty());
        assert_eq!(st.phase, Phase::Ready);
        let out = h.r().reconcile(&h.ws, &h.id).await.unwrap();
        assert!(out.plan.is_empty(), "{kind}: {}", out.plan);
    }
}

#[tokio::test]
async fn a_create_dropped_after_commit_is_adopted() {
    for (kind, path) in [
        (ObjectKind::Environment, "/v1/environments"),
        (ObjectKind::Vault, "/v1/vaults"),
        (ObjectKind::Credential, "/v1/vaults/"),
        (ObjectKind::Agent, "/v1/agents"),
    ] {
        let h = H::new().await;
        h.fake
            .faults()
            .drop_after_commit(1, RequestMatch::new("POST", path));
        let err = h.r().reconcile(&h.ws, &h.id).await.unwrap_err();
        assert!(
            matches!(&err, ReconcileError::Api { kind: k, source } if *k == kind && matches!(source, claude_agents::api::Error::OutcomeUnknown { .. })),
            "{kind}: {err:?}"
        );
        assert!(h.status().await.last_error.is_some());
        h.r().reconcile(&h.ws, &h.id).await.unwrap();
        h.assert_one_of_each(1);
        let out = h.r().reconcile(&h.ws, &h.id).await.unwrap();
        assert!(out.plan.is_empty(), "{kind}: {}", out.plan);
    }
}

#[tokio::test]
async fn console_drift_is_restored_with_one_update() {
    let h = H::new().await;
    let r = h.r();
    r.reconcile(&h.ws, &h.id).await.unwrap();
    let st = h.status().await;
    let agent = st.agent.unwrap();
    let client = h.fake.client();
    client
        .agents()
        .update(
            &agent.id,
            &AgentUpdate {
                system: Some(Some("You are a pirate.".into())),
                ..AgentUpdate::at_version(agent.version)
            },
        )
        .await
        .unwrap();
    let before = h.fake.write_count();
    let out = r.reconcile(&h.ws, &h.id).await.unwrap();
    assert_eq!(h.fake.write_count(), before + 1, "{}", out.plan);
    assert_eq!(out.updates, 1);
    let text = out.plan.to_string();
    assert!(text.contains("(version 2 → 3)"), "{text}");
    assert!(text.contains("~ system: 17 chars → 23 chars"), "{text}");
    let remote = h.fake.object(agent.id.as_str()).unwrap();
    assert_eq!(remote["system"], "Fix **bugs** carefully.");
    assert_eq!(h.status().await.agent.unwrap().version, 3);
    assert!(r.reconcile(&h.ws, &h.id).await.unwrap().plan.is_empty());
}

#[tokio::test]
async fn archived_agent_and_deleted_environment_are_recreated() {
    let h = H::new().await;
    let r = h.r();
    r.reconcile(&h.ws, &h.id).await.unwrap();
    let st = h.status().await;
    let client = h.fake.client();
    client
        .agents()
        .archive(&st.agent.as_ref().unwrap().id)
        .await
        .unwrap();
    client
        .environments()
        .delete(&st.environment.as_ref().unwrap().id)
        .await
        .unwrap();
    let out = r.reconcile(&h.ws, &h.id).await.unwrap();
    let text = out.plan.to_string();
    assert!(text.contains("-/+ agent"), "{text}");
    assert!(text.contains("(archived)"), "{text}");
    assert!(text.contains("-/+ environment"), "{text}");
    assert!(text.contains("(deleted)"), "{text}");
    assert_eq!(out.creates, 2);
    h.assert_one_of_each(1);
    let new = h.status().await;
    assert_ne!(
        new.agent.as_ref().unwrap().id,
        st.agent.as_ref().unwrap().id
    );
    assert_ne!(
        new.environment.as_ref().unwrap().id,
        st.environment.as_ref().unwrap().id
    );
    assert_eq!(new.agent.unwrap().id.as_str(), h.active("agent")[0]["id"]);
    // The vault and its credential were kept.
    assert_eq!(new.vault, st.vault);
    assert!(r.reconcile(&h.ws, &h.id).await.unwrap().plan.is_empty());
}

#[tokio::test]
async fn a_stale_version_converges_after_a_re_plan() {
    let h = H::new().await;
    let r = h.r();
    r.reconcile(&h.ws, &h.id).await.unwrap();
    // Someone else's write wins between our read and our update: the fake answers 409.
    h.edit(|m| m.model = "claude-opus-4-8".into()).await;
    h.fake.faults().error_burst(
        ErrorBurst::new(409, 2)
            .should_retry(false)
            .matching(RequestMatch::new("POST", "/v1/agents/")),
    );
    let out = r.reconcile(&h.ws, &h.id).await.unwrap();
    assert_eq!(out.updates, 1);
    let id = h.status().await.agent.unwrap().id;
    assert_eq!(
        h.fake.object(id.as_str()).unwrap()["model"]["id"],
        "claude-opus-4-8"
    );
    // A real concurrent edit: the remote version moved past the recorded one.
    let v = h.status().await.agent.unwrap().version;
    h.fake
        .client()
        .agents()
        .update(
            &id,
            &AgentUpdate {
                name: Some("Renamed".into()),
                ..AgentUpdate::at_version(v)
            },
        )
        .await
        .unwrap();
    let out = r.reconcile(&h.ws, &h.id).await.unwrap();
    assert_eq!(out.updates, 1, "{}", out.plan);
    assert_eq!(h.fake.object(id.as_str()).unwrap()["name"], "Coder");
    // Too many conflicts: a typed error, recorded.
    h.edit(|m| m.model = "claude-sonnet-4-6".into()).await;
    h.fake.faults().error_burst(
        ErrorBurst::new(409, 100)
            .should_retry(false)
            .matching(RequestMatch::new("POST", "/v1/agents/")),
    );
    let err = h
        .reconciler(ReconcilerConfig::new("test-install").with_max_conflict_retries(2))
        .reconcile(&h.ws, &h.id)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ReconcileError::ConflictRetriesExhausted { attempts: 3 }
        ),
        "{err}"
    );
    assert!(h.status().await.last_error.is_some());
    h.fake.faults().clear();
}

#[tokio::test]
async fn concurrent_saves_never_duplicate() {
    let h = H::new().await;
    let a = h.r();
    let b = h.r();
    for round in 0..8 {
        h.edit(|m| m.instructions_html = format!("<p>Round {round}</p>"))
            .await;
        let (x, y) = tokio::join!(a.reconcile(&h.ws, &h.id), b.reconcile(&h.ws, &h.id));
        let ok = [&x, &y].iter().filter(|r| r.is_ok()).count();
        for r in [&x, &y] {
            if let Err(e) = r {
                assert!(matches!(e, ReconcileError::Busy { .. }), "{e}");
            }
        }
        assert!(ok >= 1, "round {round}: no winner");
        let updates: usize = [&x, &y]
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|o| o.creates + o.updates)
            .sum();
        if round > 0 {
            assert_eq!(updates, 1, "round {round}: one winner applies the change");
        }
        h.assert_one_of_each(1);
    }
}

#[tokio::test]
async fn a_rotated_bearer_token_updates_the_credential_once_and_never_leaks() {
    let h = H::new().await;
    let r = h.r();
    r.reconcile(&h.ws, &h.id).await.unwrap();
    h.secrets
        .put(&"sec_linear".into(), SecretString::from(CANARY2.to_owned()))
        .await
        .unwrap();
    let before = h.fake.write_count();
    let out = r.reconcile(&h.ws, &h.id).await.unwrap();
    assert_eq!(h.fake.write_count(), before + 1, "{}", out.plan);
    assert!(out.plan.to_string().contains("(rotate secret)"));
    assert_eq!(h.fake.writes().get("credentials"), Some(&2));
    assert!(r.reconcile(&h.ws, &h.id).await.unwrap().plan.is_empty());
    // Secrets only ever travel in credential writes.
    for req in h.fake.requests() {
        let body = String::from_utf8_lossy(&req.body);
        let is_credential_write = req.method == "POST" && req.path.contains("/credentials");
        for canary in [CANARY, CANARY2] {
            if body.contains(canary) {
                assert!(
                    is_credential_write,
                    "{} {} leaked a token",
                    req.method, req.path
                );
            }
        }
    }
    let status = serde_json::to_string(&h.status().await).unwrap();
    assert!(!status.contains(CANARY) && !status.contains(CANARY2));
    for kind in ["agent", "environment", "vault", "vault_credential"] {
        let all = serde_json::to_string(&h.fake.objects(kind)).unwrap();
        assert!(!all.contains(CANARY) && !all.contains(CANARY2), "{kind}");
    }
    // Removing the auth archives the credential.
    h.edit(|m| m.mcp_servers[0].auth = McpAuth::None).await;
    let out = r.reconcile(&h.ws, &h.id).await.unwrap();
    assert_eq!(out.archives, 1, "{}", out.plan);
    h.assert_one_of_each(0);
}

#[tokio::test]
async fn deleting_a_spec_archives_everything_once() {
    let h = H::new().await;
    let r = h.r();
    r.reconcile(&h.ws, &h.id).await.unwrap();
    h.remove_spec().await;
    let out = r.reconcile(&h.ws, &h.id).await.unwrap();
    assert_eq!(out.archives, 3, "{}", out.plan);
    assert!(h.active("agent").is_empty());
    assert!(h.active("environment").is_empty());
    assert!(h.active("vault").is_empty());
    assert_eq!(h.status().await.phase, Phase::Deleted);
    let before = h.fake.write_count();
    let out = r.delete(&h.ws, &h.id).await.unwrap();
    assert!(out.plan.actions.is_empty(), "{}", out.plan);
    assert_eq!(h.fake.write_count(), before);
}

#[tokio::test]
async fn deleting_after_a_half_applied_reconcile_archives_the_orphans() {
    let h = H::new().await;
    let crashing = h.reconciler(
        ReconcilerConfig::new("test-install").with_fail_after_create(ObjectKind::Vault),
    );
    crashing.reconcile(&h.ws, &h.id).await.unwrap_err();
    assert_eq!(h.active("environment").len(), 1);
    assert_eq!(h.active("vault").len(), 1);
    let out = h.r().delete(&h.ws, &h.id).await.unwrap();
    assert_eq!(out.archives, 2, "{}", out.plan);
    assert!(out.plan.to_string().contains("- vault"), "{}", out.plan);
    assert!(h.active("environment").is_empty() && h.active("vault").is_empty());
}

#[tokio::test]
async fn validation_fails_before_any_write() {
    let h = H::new().await;
    h.edit(|m| m.model = "claude-unknown-9".into()).await;
    let err = h.r().reconcile(&h.ws, &h.id).await.unwrap_err();
    assert!(matches!(err, ReconcileError::UnknownModel { .. }), "{err}");
    assert_eq!(h.fake.write_count(), 0);
    assert!(h.status().await.last_error.is_some());

    let h = H::new().await;
    h.edit(|m| m.tool_mode.bridge = claude_agents::domain::TaskBridge::FullApi)
        .await;
    let err = h.r().reconcile(&h.ws, &h.id).await.unwrap_err();
    assert!(matches!(err, ReconcileError::Invalid(_)), "{err}");
    // With the host's server configured it goes through, with its toolset.
    let out = h
        .reconciler(
            ReconcilerConfig::new("test-install")
                .with_host_mcp("tracker", "https://tracker.example.com/mcp"),
        )
        .reconcile(&h.ws, &h.id)
        .await
        .unwrap();
    assert_eq!(out.creates, 4);
    let agent = &h.active("agent")[0];
    assert!(
        agent["mcp_servers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "tracker")
    );

    let h = H::new().await;
    h.secrets.delete(&"sec_linear".into()).await.unwrap();
    let err = h.r().reconcile(&h.ws, &h.id).await.unwrap_err();
    assert!(matches!(err, ReconcileError::SecretMissing { .. }), "{err}");
    assert_eq!(h.fake.write_count(), 0);
}

#[tokio::test]
async fn connected_agents_make_no_writes() {
    let h = H::new().await;
    // Objects that exist in "the Console" (created through the fake), then a snapshot.
    let client = h.fake.client();
    let agent: Value = client
        .post_json(
            "/v1/agents",
            &serde_json::json!({"name": "Console agent", "model": "claude-sonnet-4-6"}),
            claude_agents::api::RequestKind::Create,
        )
        .await
        .unwrap();
    let env: Value = client
        .post_json(
            "/v1/environments",
            &serde_json::json!({"name": "console-env", "config": {"type": "cloud", "networking": {"type": "unrestricted"}}}),
            claude_agents::api::RequestKind::Create,
        )
        .await
        .unwrap();
    let writes = h.fake.write_count();
    let connected = |agent_id: &str| {
        AgentKind::Connected(ConnectedAgent {
            agent_id: agent_id.into(),
            environment_id: env["id"].as_str().unwrap().into(),
            vault_ids: vec![],
        })
    };
    h.save_kind(connected(agent["id"].as_str().unwrap())).await;
    let out = h.r().reconcile(&h.ws, &h.id).await.unwrap();
    assert!(out.plan.actions.is_empty());
    assert_eq!(h.fake.write_count(), writes, "reads only");
    // A connected agent naming a missing remote agent is an error, still without writes.
    h.save_kind(connected("agent_missing")).await;
    let err = h.r().reconcile(&h.ws, &h.id).await.unwrap_err();
    assert!(matches!(err, ReconcileError::Connected(_)), "{err:?}");
    assert!(err.to_string().contains("agent_missing"), "{err}");
    assert_eq!(h.fake.write_count(), writes, "reads only");
}

#[tokio::test]
async fn plan_only_writes_nothing() {
    let h = H::new().await;
    let out = h.r().plan_only(&h.ws, &h.id).await.unwrap();
    assert_eq!(out.plan.actions.len(), 4, "{}", out.plan);
    let text = out.plan.to_string();
    assert!(
        text.contains("+ environment \"claude-agents ws_1/spec_1\""),
        "{text}"
    );
    assert!(text.contains("+ vault \"Coder\""), "{text}");
    assert!(
        text.contains("+ credential [linear] \"https://mcp.linear.app/mcp\""),
        "{text}"
    );
    assert!(text.contains("+ agent \"Coder\""), "{text}");
    assert_eq!(h.fake.write_count(), 0);
    assert!(
        h.store
            .load::<ReconcileStatus>(&ReconcileStatus::key_of(&h.ws, &h.id))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn stored_oauth_tokens_become_an_mcp_oauth_credential() {
    use claude_agents::domain::{OAuthClientAuth, OAuthRefresh};
    let h = H::new().await;
    for (r, v) in [
        ("sec_access", "access-CANARY-1"),
        ("sec_refresh", "refresh-CANARY-2"),
        ("sec_client", "client-CANARY-3"),
    ] {
        h.secrets
            .put(&r.into(), SecretString::from(v.to_owned()))
            .await
            .unwrap();
    }
    h.edit(|m| {
        m.tool_mode.allow_direct_api_access = true;
        m.mcp_servers[1].auth = McpAuth::OAuthToken {
            access_token: "sec_access".into(),
            expires_at: None,
            refresh: Some(OAuthRefresh {
                refresh_token: "sec_refresh".into(),
                client_id: "client-1".into(),
                token_endpoint: "https://docs.example.com/oauth/token".into(),
                client_auth: OAuthClientAuth::ClientSecretPost {
                    client_secret: "sec_client".into(),
                },
                scope: Some("read".into()),
                resource: None,
            }),
        };
    })
    .await;
    let r = h.r();
    r.reconcile(&h.ws, &h.id).await.unwrap();
    h.assert_one_of_each(2);
    let oauth: Vec<Value> = h
        .active("vault_credential")
        .into_iter()
        .filter(|c| c["auth"]["type"] == "mcp_oauth")
        .collect();
    assert_eq!(oauth.len(), 1);
    assert_eq!(oauth[0]["auth"]["refresh"]["client_id"], "client-1");
    let st = h.status().await;
    assert!(st.direct_api_access);
    assert!(r.reconcile(&h.ws, &h.id).await.unwrap().plan.is_empty());
    // Rotating the client secret rotates in place.
    h.secrets
        .put(
            &"sec_client".into(),
            SecretString::from("client-CANARY-4".to_owned()),
        )
        .await
        .unwrap();
    let out = r.reconcile(&h.ws, &h.id).await.unwrap();
    assert_eq!(out.updates, 1, "{}", out.plan);
    for req in h.fake.requests() {
        let body = String::from_utf8_lossy(&req.body);
        if body.contains("CANARY") {
            assert!(req.path.contains("/credentials"), "{} leaked", req.path);
        }
    }
}
