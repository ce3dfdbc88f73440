//! The fake API's agents: versions, optimistic concurrency, archive, lists, auth, beta,
//! metadata limits and the error shape — driven by our own client.

use claude_agents::api::Error;
use claude_agents::api::types::AgentId;
use claude_agents::api::types::agents::{
    AgentCreate, AgentUpdate, GetAgent, ListAgents, ToolParam,
};
use claude_agents::testkit::FakeApi;
use futures_util::TryStreamExt;

fn create_body(name: &str) -> AgentCreate {
    let mut c = AgentCreate::new(name, "claude-sonnet-4-6");
    c.tools = vec![ToolParam::agent_toolset()];
    c.metadata.insert("owner".into(), "test".into());
    c
}

#[tokio::test]
async fn agents_have_immutable_versions_and_optimistic_concurrency() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let agent = client.agents().create(&create_body("A")).await.unwrap();
    assert_eq!(agent.version, 1);
    assert!(agent.id.as_str().starts_with("agent_"));

    let update = AgentUpdate {
        version: Some(1),
        system: Some(Some("Be terse.".into())),
        ..AgentUpdate::default()
    };
    let v2 = client.agents().update(&agent.id, &update).await.unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(v2.system.as_deref(), Some("Be terse."));

    // A stale version is a conflict, never retried.
    let before = fake.requests().len();
    let err = client
        .agents()
        .update(&agent.id, &update)
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    assert_eq!(fake.requests().len(), before + 1);
    assert!(err.request_id().is_some_and(|id| id.starts_with("req_")));

    // Old versions stay readable.
    let v1 = client
        .agents()
        .retrieve_with(&agent.id, &GetAgent { version: Some(1) })
        .await
        .unwrap();
    assert_eq!(v1.system, None);
    let all: Vec<_> = client
        .agents()
        .versions(&agent.id, &Default::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|a| a.version).collect::<Vec<_>>(),
        vec![2, 1]
    );

    // Clearing with null.
    let clear = AgentUpdate {
        version: Some(2),
        system: Some(None),
        ..AgentUpdate::default()
    };
    assert_eq!(
        client
            .agents()
            .update(&agent.id, &clear)
            .await
            .unwrap()
            .system,
        None
    );
}

#[tokio::test]
async fn archive_is_permanent_and_hidden_from_lists() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let a = client.agents().create(&create_body("A")).await.unwrap();
    let b = client.agents().create(&create_body("B")).await.unwrap();
    let archived = client.agents().archive(&a.id).await.unwrap();
    assert!(archived.archived_at.is_some());
    let err = client
        .agents()
        .update(
            &a.id,
            &AgentUpdate {
                name: Some("again".into()),
                ..AgentUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));

    let live: Vec<_> = client
        .agents()
        .list(&ListAgents::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        live.iter().map(|x| x.id.clone()).collect::<Vec<_>>(),
        vec![b.id.clone()]
    );
    let every: Vec<_> = client
        .agents()
        .list(&ListAgents {
            include_archived: Some(true),
            limit: Some(1),
            ..ListAgents::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(every.len(), 2, "two pages of one");
    assert_eq!(fake.objects("agent").len(), 2);
    assert_eq!(fake.writes().get("agents"), Some(&3));
}

#[tokio::test]
async fn errors_have_the_reference_shape() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let err = client
        .agents()
        .retrieve(&AgentId::from("agent_nope"))
        .await
        .unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(
        (api.status, api.error_type.as_deref()),
        (404, Some("not_found_error"))
    );

    let mut body = create_body("A");
    for i in 0..17 {
        body.metadata.insert(format!("k{i}"), "v".into());
    }
    let err = client.agents().create(&body).await.unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(api.status, 400);
    assert_eq!(api.error_code.as_deref(), Some("invalid_metadata"));

    // An MCP server no toolset references is rejected, as the API does.
    let mut body = create_body("A");
    body.mcp_servers = vec![claude_agents::api::types::agents::McpServer::url(
        "gh",
        "https://example.com/mcp",
    )];
    assert_eq!(
        client.agents().create(&body).await.unwrap_err().status(),
        Some(400)
    );
}

#[tokio::test]
async fn auth_and_beta_headers_are_checked() {
    let fake = FakeApi::start().await.unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/v1/agents", fake.base_url());
    let no_key = http
        .get(&url)
        .header("anthropic-beta", "managed-agents-2026-04-01")
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), 401);
    assert!(no_key.headers().get("request-id").is_some());
    let body: serde_json::Value = no_key.json().await.unwrap();
    assert_eq!(body["error"]["type"], "authentication_error");
    assert!(body["request_id"].as_str().unwrap().starts_with("req_"));

    let no_beta = http
        .get(&url)
        .header("x-api-key", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(no_beta.status(), 404);
    let ok = http
        .get(&url)
        .header("authorization", "Bearer k")
        .header(
            "anthropic-beta",
            "files-api-2025-04-14,managed-agents-2026-04-01",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let err = fake
        .client()
        .agents()
        .create(&AgentCreate::new("", "m"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api(_)));
}
