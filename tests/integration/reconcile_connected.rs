//! `reconcile::connected` (pickers, `validate_connected`) and `reconcile::models` (model
//! picker) against the fake API. Fixtures are created through our client first; then the
//! write count is snapshotted, and the module under test must not add a single write.

use claude_agents::api::Client;
use claude_agents::api::types::agents::AgentCreate;
use claude_agents::api::types::environments::EnvironmentCreate;
use claude_agents::api::types::vaults::VaultCreate;
use claude_agents::api::types::{AgentId, EnvironmentId, VaultId};
use claude_agents::domain::ConnectedAgent;
use claude_agents::reconcile::connected::{
    ConnectedError, Page, PickerQuery, ResourceKind, list_agents, list_environments, list_vaults,
    validate_connected,
};
use claude_agents::reconcile::models::{
    MANAGED_AGENTS_MODELS, ModelError, ModelPickerOptions, check_model, default_model, list_models,
};
use claude_agents::testkit::{ErrorBurst, FakeApi, RequestMatch};

/// Remote objects: 3 agents (the 2nd archived), 3 environments (the 3rd archived), 3 vaults
/// (the 1st archived).
struct Fixture {
    fake: FakeApi,
    client: Client,
    agents: Vec<String>,
    environments: Vec<String>,
    vaults: Vec<String>,
}

impl Fixture {
    async fn new() -> Self {
        let fake = FakeApi::start().await.unwrap();
        let client = fake.client();
        let mut agents = Vec::new();
        for i in 0..3 {
            let model = if i == 1 {
                "claude-opus-4-8"
            } else {
                "claude-sonnet-4-6"
            };
            let a = client
                .agents()
                .create(&AgentCreate::new(format!("agent {i}"), model))
                .await
                .unwrap();
            agents.push(a.id.0);
        }
        client
            .agents()
            .archive(&AgentId(agents[1].clone()))
            .await
            .unwrap();
        let mut environments = Vec::new();
        for i in 0..3 {
            let e = client
                .environments()
                .create(&EnvironmentCreate::new(format!("env {i}")))
                .await
                .unwrap();
            environments.push(e.id.0);
        }
        client
            .environments()
            .archive(&EnvironmentId(environments[2].clone()))
            .await
            .unwrap();
        let mut vaults = Vec::new();
        for i in 0..3 {
            let v = client
                .vaults()
                .create(&VaultCreate::new(format!("vault {i}")))
                .await
                .unwrap();
            vaults.push(v.id.0);
        }
        client
            .vaults()
            .archive(&VaultId(vaults[0].clone()))
            .await
            .unwrap();
        Self {
            fake,
            client,
            agents,
            environments,
            vaults,
        }
    }

    fn connected(&self) -> ConnectedAgent {
        ConnectedAgent {
            agent_id: self.agents[0].clone(),
            environment_id: self.environments[0].clone(),
            vault_ids: vec![self.vaults[1].clone(), self.vaults[2].clone()],
        }
    }

    /// Requests after the fixtures were made that are not `GET`s.
    fn writes_since(&self, mark: usize) -> Vec<String> {
        self.fake.requests()[mark..]
            .iter()
            .filter(|r| r.method != "GET")
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

/// Every page of a picker, with the page sizes seen.
async fn all_pages<T, F, Fut>(mut next: F) -> (Vec<T>, usize)
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, ConnectedError>>,
{
    let (mut items, mut pages, mut cursor) = (Vec::new(), 0, None);
    loop {
        let page = next(cursor.take()).await.unwrap();
        pages += 1;
        items.extend(page.items);
        match page.next_page {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(pages < 20, "paging does not end");
    }
    (items, pages)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn reconcile_connected_pickers_page_and_exclude_archived() {
    let fx = Fixture::new().await;
    let writes = fx.fake.write_count();
    let mark = fx.fake.requests().len();
    let q = &PickerQuery {
        limit: Some(1),
        include_archived: false,
    };
    let c = &fx.client;

    let (agents, pages) = all_pages(|p| async move { list_agents(c, q, p.as_deref()).await }).await;
    assert!(pages >= 2, "limit 1 pages");
    assert_eq!(
        sorted(agents.iter().map(|a| a.id.clone()).collect()),
        sorted(vec![fx.agents[0].clone(), fx.agents[2].clone()])
    );
    assert!(agents.iter().all(|a| a.archived_at.is_none()));
    let a0 = agents.iter().find(|a| a.id == fx.agents[0]).unwrap();
    assert_eq!(
        (a0.name.as_str(), a0.model.as_str(), a0.version),
        ("agent 0", "claude-sonnet-4-6", 1)
    );

    let (envs, pages) =
        all_pages(|p| async move { list_environments(c, q, p.as_deref()).await }).await;
    assert!(pages >= 2);
    assert_eq!(
        sorted(envs.iter().map(|e| e.id.clone()).collect()),
        sorted(fx.environments[..2].to_vec())
    );
    assert!(envs.iter().any(|e| e.name == "env 1"));

    let (vaults, pages) = all_pages(|p| async move { list_vaults(c, q, p.as_deref()).await }).await;
    assert!(pages >= 2);
    assert_eq!(
        sorted(vaults.iter().map(|v| v.id.clone()).collect()),
        sorted(fx.vaults[1..].to_vec())
    );
    assert!(vaults.iter().any(|v| v.display_name == "vault 2"));

    // With archived ones, on request.
    let all = PickerQuery {
        limit: Some(100),
        include_archived: true,
    };
    let page = list_agents(c, &all, None).await.unwrap();
    assert_eq!(page.items.len(), 3);
    assert!(page.next_page.is_none());
    let archived = page.items.iter().find(|a| a.id == fx.agents[1]).unwrap();
    assert!(archived.archived_at.is_some());
    assert_eq!(
        list_environments(c, &all, None).await.unwrap().items.len(),
        3
    );
    assert_eq!(list_vaults(c, &all, None).await.unwrap().items.len(), 3);

    assert_eq!(fx.fake.write_count(), writes);
    assert_eq!(fx.writes_since(mark), Vec::<String>::new());
}

#[tokio::test]
async fn reconcile_connected_validate_ok() {
    let fx = Fixture::new().await;
    let writes = fx.fake.write_count();
    let mark = fx.fake.requests().len();
    let check = validate_connected(&fx.client, &fx.connected())
        .await
        .unwrap();
    assert_eq!(check.agent_id, fx.agents[0]);
    assert_eq!(check.agent_version, 1);
    assert_eq!(check.model, "claude-sonnet-4-6");
    assert_eq!(check.environment_id, fx.environments[0]);
    assert_eq!(check.vault_ids, fx.vaults[1..].to_vec());
    // One GET per object: agent, environment, 2 vaults.
    let gets = fx.fake.requests()[mark..].len();
    assert_eq!(gets, 4);
    assert_eq!(fx.fake.write_count(), writes);
    assert!(fx.writes_since(mark).is_empty());
}

#[tokio::test]
async fn reconcile_connected_validate_missing_agent_names_it() {
    let fx = Fixture::new().await;
    let writes = fx.fake.write_count();
    let mark = fx.fake.requests().len();
    let mut connected = fx.connected();
    connected.agent_id = "agent_does_not_exist".into();
    let err = validate_connected(&fx.client, &connected)
        .await
        .unwrap_err();
    match &err {
        ConnectedError::Missing {
            kind: ResourceKind::Agent,
            id,
            request_id,
        } => {
            assert_eq!(id, "agent_does_not_exist");
            let logged = fx.fake.requests()[mark..]
                .iter()
                .find(|r| r.path.ends_with("agent_does_not_exist"))
                .unwrap()
                .clone();
            assert_eq!(logged.status, 404);
            assert_eq!(request_id.as_deref(), Some(logged.request_id.as_str()));
        }
        other => panic!("expected a missing agent, got {other:?}"),
    }
    assert!(err.to_string().contains("agent_does_not_exist"), "{err}");
    assert_eq!(err.kind(), Some(ResourceKind::Agent));
    assert!(err.request_id().is_some());
    assert_eq!(fx.fake.write_count(), writes);
    assert!(fx.writes_since(mark).is_empty());
}

#[tokio::test]
async fn reconcile_connected_validate_archived_agent_environment_and_vault() {
    let fx = Fixture::new().await;
    let writes = fx.fake.write_count();
    let mark = fx.fake.requests().len();

    let mut connected = fx.connected();
    connected.agent_id = fx.agents[1].clone();
    let err = validate_connected(&fx.client, &connected)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectedError::Archived { kind: ResourceKind::Agent, id, .. } if *id == fx.agents[1]),
        "{err:?}"
    );

    let mut connected = fx.connected();
    connected.environment_id = fx.environments[2].clone();
    let err = validate_connected(&fx.client, &connected)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectedError::Archived { kind: ResourceKind::Environment, id, .. } if *id == fx.environments[2]),
        "{err:?}"
    );
    assert!(err.to_string().contains(&fx.environments[2]));

    let mut connected = fx.connected();
    connected.vault_ids.push(fx.vaults[0].clone());
    let err = validate_connected(&fx.client, &connected)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectedError::Archived { kind: ResourceKind::Vault, id, .. } if *id == fx.vaults[0]),
        "{err:?}"
    );

    let mut connected = fx.connected();
    connected.vault_ids.push("vlt_missing".into());
    let err = validate_connected(&fx.client, &connected)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectedError::Missing { kind: ResourceKind::Vault, id, request_id: Some(_) } if id == "vlt_missing"),
        "{err:?}"
    );

    // Invalid settings fail before any request.
    let before = fx.fake.requests().len();
    let mut connected = fx.connected();
    connected.environment_id = String::new();
    let err = validate_connected(&fx.client, &connected)
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectedError::Invalid(_)), "{err:?}");
    assert_eq!(fx.fake.requests().len(), before);

    assert_eq!(fx.fake.write_count(), writes);
    assert!(fx.writes_since(mark).is_empty());
}

#[tokio::test]
async fn reconcile_connected_api_failures_carry_kind_id_and_request_id() {
    let fx = Fixture::new().await;
    let writes = fx.fake.write_count();
    // A 403 is not retried: the picker reports it as an API error of the vault list.
    fx.fake
        .faults()
        .error_burst(ErrorBurst::new(403, 1).matching(RequestMatch::new("GET", "/v1/vaults")));
    let err = list_vaults(&fx.client, &PickerQuery::default(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectedError::Api { kind: ResourceKind::Vault, id: None, source } if source.status() == Some(403)),
        "{err:?}"
    );
    assert!(err.request_id().is_some());

    let env = fx.environments[0].clone();
    fx.fake.faults().error_burst(
        ErrorBurst::new(403, 1)
            .matching(RequestMatch::new("GET", format!("/v1/environments/{env}"))),
    );
    let err = validate_connected(&fx.client, &fx.connected())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectedError::Api { kind: ResourceKind::Environment, id: Some(id), .. } if *id == env),
        "{err:?}"
    );
    assert_eq!(err.id(), Some(env.as_str()));
    assert!(err.request_id().is_some());
    assert!(err.to_string().contains(&env), "{err}");
    assert_eq!(fx.fake.write_count(), writes);
}

#[tokio::test]
async fn reconcile_models_picker_newest_first_default_sonnet() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let entries = list_models(&client, &ModelPickerOptions::default())
        .await
        .unwrap();
    let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    // The fake's active models, in its (newest first) order; deprecated and retired ones are
    // not offered.
    assert_eq!(
        ids,
        [
            "claude-opus-5-5",
            "claude-sonnet-5-5",
            "claude-haiku-5-5",
            "claude-opus-4-8",
            "claude-sonnet-4-6",
            "claude-haiku-4-5-20251001",
        ]
    );
    assert!(ids.iter().all(|id| MANAGED_AGENTS_MODELS.contains(id)));
    assert!(
        entries
            .windows(2)
            .all(|w| w[0].created_at >= w[1].created_at)
    );
    let sonnet = entries
        .iter()
        .find(|e| e.id == "claude-sonnet-4-6")
        .unwrap();
    assert_eq!(sonnet.display_name, "Claude Sonnet 4.6");
    assert_eq!(sonnet.line.as_deref(), Some("sonnet"));

    assert_eq!(default_model(&entries).unwrap().id, "claude-sonnet-5-5");
    let no_sonnet: Vec<_> = entries
        .iter()
        .filter(|e| e.line.as_deref() != Some("sonnet"))
        .cloned()
        .collect();
    assert_eq!(default_model(&no_sonnet), None);

    // The request asked for active models only.
    let req = fake.requests();
    assert_eq!(req.len(), 1);
    assert!(req[0].query.contains("lifecycle"), "{}", req[0].query);
    assert_eq!(fake.write_count(), 0);
}

#[tokio::test]
async fn reconcile_models_picker_pages_with_limit() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let options = ModelPickerOptions {
        page_size: Some(2),
        ..ModelPickerOptions::default()
    };
    let paged = list_models(&client, &options).await.unwrap();
    assert_eq!(fake.requests().len(), 3, "6 active models in pages of 2");
    assert!(fake.requests().iter().all(|r| r.query.contains("limit=2")));
    let whole = list_models(&client, &ModelPickerOptions::default())
        .await
        .unwrap();
    assert_eq!(paged, whole);
}

#[tokio::test]
async fn reconcile_models_unknown_model_rejected() {
    let fake = FakeApi::start().await.unwrap();
    let entries = list_models(&fake.client(), &ModelPickerOptions::default())
        .await
        .unwrap();
    let known: Vec<String> = entries.into_iter().map(|e| e.id).collect();
    assert!(check_model("claude-sonnet-4-6", &known).is_ok());
    let err = check_model("claude-sonnet-9-9", &known).unwrap_err();
    assert!(
        matches!(&err, ModelError::Unknown { model, known: 6 } if model == "claude-sonnet-9-9"),
        "{err:?}"
    );
    // Not listed yet: accepted, the create call will validate.
    assert!(check_model("claude-sonnet-9-9", &[]).is_ok());

    // A failing list is a typed error with the request id.
    fake.faults()
        .error_burst(ErrorBurst::new(403, 1).matching(RequestMatch::new("GET", "/v1/models")));
    let err = list_models(&fake.client(), &ModelPickerOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ModelError::List(e) if e.status() == Some(403)),
        "{err:?}"
    );
    assert!(err.request_id().is_some());
}
