//! `/v1/agents` endpoints over loopback HTTP: method, exact path, exact query, headers and body
//! of every call on `client.agents()`, and the typed results (reference agents.md §1).

use chrono::{TimeZone, Utc};
use claude_agents::api::Error;
use claude_agents::api::types::agents::*;
use claude_agents::api::types::{AgentId, Metadata, MetadataPatch};
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use wiremock::ResponseTemplate;
use wiremock::matchers::body_json;

use crate::endpoint_support::{
    cursor_page, error_body, fixture, json_content, managed, no_body, typed,
};
use crate::support::{client, strict_server};

const AGENT_ID: &str = "agent_01HqR2k7vXbZ9mNpL3wYcT8f";

fn agent_fixture(name: &str) -> Value {
    fixture("agents", name)
}

/// The `AgentCreate` of `tests/fixtures/agents/agent_create.json`.
fn sample_create() -> AgentCreate {
    let mut create = AgentCreate::new("Coding Assistant", "claude-sonnet-4-6");
    create.description = Some("Writes and reviews Python code.".into());
    create.system = Some("You are a helpful coding agent.".into());
    create.tools = vec![ToolParam::agent_toolset(), ToolParam::mcp_toolset("github")];
    create.mcp_servers = vec![McpServer::url(
        "github",
        "https://api.githubcopilot.com/mcp/",
    )];
    create.skills = vec![SkillParams::anthropic("xlsx")];
    create.metadata = Metadata::from([("team".to_owned(), "platform".to_owned())]);
    create
}

/// The `AgentUpdate` of `tests/fixtures/agents/agent_update.json`.
fn sample_update() -> AgentUpdate {
    AgentUpdate {
        name: Some("Coding Assistant v2".into()),
        description: Some(None),
        system: Some(Some("You review Rust code.".into())),
        tools: Some(Some(vec![])),
        mcp_servers: Some(None),
        metadata: Some(MetadataPatch::from([
            ("team".to_owned(), Some("infra".to_owned())),
            ("obsolete".to_owned(), None),
        ])),
        multiagent: Some(None),
        execution_identity: Some(None),
        ..AgentUpdate::at_version(3)
    }
}

#[tokio::test]
async fn endpoints_agents_create_posts_the_exact_body() {
    let server = strict_server().await;
    let full = agent_fixture("agent_full");
    managed("POST", "/v1/agents", &[])
        .and(json_content)
        .and(body_json(agent_fixture("agent_create")))
        .respond_with(ResponseTemplate::new(200).set_body_json(&full))
        .expect(1)
        .mount(&server)
        .await;

    let agent = client(&server)
        .agents()
        .create(&sample_create())
        .await
        .unwrap();
    assert_eq!(agent, typed::<Agent>(&full));
    assert_eq!(agent.id.as_str(), AGENT_ID);
    assert_eq!(agent.name, "Coding Assistant");
    assert_eq!(agent.version, 3);
    assert_eq!(agent.model.id.as_str(), "claude-sonnet-4-6");
    assert_eq!(agent.tools.len(), 3);
    assert!(!agent.is_archived());
}

#[tokio::test]
async fn endpoints_agents_retrieve_latest_sends_no_query() {
    let server = strict_server().await;
    let full = agent_fixture("agent_full");
    managed("GET", &format!("/v1/agents/{AGENT_ID}"), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&full))
        .expect(1)
        .mount(&server)
        .await;

    let agent = client(&server)
        .agents()
        .retrieve(&AgentId::from(AGENT_ID))
        .await
        .unwrap();
    assert_eq!(agent, typed::<Agent>(&full));
    assert_eq!(
        agent.metadata.get("team").map(String::as_str),
        Some("platform")
    );
}

#[tokio::test]
async fn endpoints_agents_retrieve_with_version_sends_version_query() {
    let server = strict_server().await;
    let mut body = agent_fixture("agent_full");
    body["version"] = json!(2);
    managed(
        "GET",
        &format!("/v1/agents/{AGENT_ID}"),
        &[("version", "2")],
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(&body))
    .expect(1)
    .mount(&server)
    .await;

    let agent = client(&server)
        .agents()
        .retrieve_with(&AgentId::from(AGENT_ID), &GetAgent { version: Some(2) })
        .await
        .unwrap();
    assert_eq!(agent.version, 2);
    assert_eq!(agent.id.as_str(), AGENT_ID);
}

#[tokio::test]
async fn endpoints_agents_update_posts_version_and_patch() {
    let server = strict_server().await;
    let want = agent_fixture("agent_update");
    assert_eq!(want["version"], json!(3), "the fixture carries `version`");
    let mut answer = agent_fixture("agent_full");
    answer["version"] = json!(4);
    answer["name"] = json!("Coding Assistant v2");
    managed("POST", &format!("/v1/agents/{AGENT_ID}"), &[])
        .and(json_content)
        .and(body_json(&want))
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let agent = client(&server)
        .agents()
        .update(&AgentId::from(AGENT_ID), &sample_update())
        .await
        .unwrap();
    assert_eq!(agent.version, 4);
    assert_eq!(agent.name, "Coding Assistant v2");
}

#[tokio::test]
async fn endpoints_agents_update_conflict_is_final_after_one_request() {
    let server = strict_server().await;
    managed("POST", &format!("/v1/agents/{AGENT_ID}"), &[])
        .and(body_json(json!({"version": 3, "name": "renamed"})))
        .respond_with(
            ResponseTemplate::new(409)
                .insert_header("request-id", "req_conflict")
                .set_body_json(error_body("conflict_error", None)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let update = AgentUpdate {
        name: Some("renamed".into()),
        ..AgentUpdate::at_version(3)
    };
    let err = client(&server)
        .agents()
        .update(&AgentId::from(AGENT_ID), &update)
        .await
        .unwrap_err();
    let Error::Conflict(api) = &err else {
        panic!("expected Error::Conflict, got {err:?}");
    };
    assert_eq!(api.status, 409);
    assert_eq!(api.error_type.as_deref(), Some("conflict_error"));
    assert_eq!(api.request_id.as_deref(), Some("req_conflict"));
    assert!(err.is_conflict());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn endpoints_agents_archive_posts_without_body() {
    let server = strict_server().await;
    let archived = agent_fixture("agent_archived");
    let id = archived["id"].as_str().unwrap().to_owned();
    managed("POST", &format!("/v1/agents/{id}/archive"), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&archived))
        .expect(1)
        .mount(&server)
        .await;

    let agent = client(&server)
        .agents()
        .archive(&AgentId::from(id.as_str()))
        .await
        .unwrap();
    assert!(agent.is_archived());
    assert_eq!(agent, typed::<Agent>(&archived));
}

#[tokio::test]
async fn endpoints_agents_list_streams_every_page_with_the_same_filters() {
    let server = strict_server().await;
    let filters = [
        ("limit", "2"),
        ("include_archived", "true"),
        ("created_at[gte]", "2026-01-01T00:00:00Z"),
        ("created_at[lte]", "2026-03-31T23:59:59Z"),
    ];
    let page1 = cursor_page(
        vec![agent_fixture("agent_full"), agent_fixture("agent_aws_role")],
        Some("p2"),
    );
    let page2 = cursor_page(vec![agent_fixture("agent_archived")], None);
    managed("GET", "/v1/agents", &filters)
        .respond_with(ResponseTemplate::new(200).set_body_json(&page1))
        .expect(1)
        .mount(&server)
        .await;
    let mut with_page = filters.to_vec();
    with_page.push(("page", "p2"));
    managed("GET", "/v1/agents", &with_page)
        .respond_with(ResponseTemplate::new(200).set_body_json(&page2))
        .expect(1)
        .mount(&server)
        .await;

    let params = ListAgents {
        limit: Some(2),
        include_archived: Some(true),
        created_at_gte: Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()),
        created_at_lte: Some(Utc.with_ymd_and_hms(2026, 3, 31, 23, 59, 59).unwrap()),
    };
    let c = client(&server);
    let agents: Vec<Agent> = c.agents().list(&params).try_collect().await.unwrap();
    let ids: Vec<&str> = agents.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            AGENT_ID,
            "agent_01JAwsRole000000000000000",
            "agent_01JArchived0000000000000"
        ]
    );
    assert_eq!(agents[2], typed::<Agent>(&agent_fixture("agent_archived")));
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].url.query_pairs().all(|(k, _)| k != "page"));
}

#[tokio::test]
async fn endpoints_agents_list_without_filters_sends_no_query() {
    let server = strict_server().await;
    managed("GET", "/v1/agents", &[])
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(cursor_page(vec![agent_fixture("agent_full")], None)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let agents: Vec<Agent> = client(&server)
        .agents()
        .list(&ListAgents::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0].id.as_str(), AGENT_ID);
}

#[tokio::test]
async fn endpoints_agents_list_surfaces_an_error_on_a_later_page() {
    let server = strict_server().await;
    managed("GET", "/v1/agents", &[])
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(cursor_page(vec![agent_fixture("agent_full")], Some("p2"))),
        )
        .expect(1)
        .mount(&server)
        .await;
    managed("GET", "/v1/agents", &[("page", "p2")])
        .respond_with(
            ResponseTemplate::new(400).set_body_json(error_body("invalid_request_error", None)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .agents()
        .list(&ListAgents::default())
        .try_collect::<Vec<Agent>>()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(matches!(err, Error::Api(_)), "{err:?}");
}

#[tokio::test]
async fn endpoints_agents_list_page_returns_one_page() {
    let server = strict_server().await;
    let body = cursor_page(vec![agent_fixture("agent_aws_role")], Some("p3"));
    managed(
        "GET",
        "/v1/agents",
        &[("include_archived", "false"), ("page", "p2")],
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(&body))
    .expect(1)
    .mount(&server)
    .await;

    let params = ListAgents {
        include_archived: Some(false),
        ..ListAgents::default()
    };
    let page = client(&server)
        .agents()
        .list_page(&params, Some("p2"))
        .await
        .unwrap();
    assert_eq!(page.next_page.as_deref(), Some("p3"));
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].id.as_str(), "agent_01JAwsRole000000000000000");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn endpoints_agents_list_page_first_page_has_no_page_param() {
    let server = strict_server().await;
    managed("GET", "/v1/agents", &[("limit", "5")])
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(cursor_page(vec![agent_fixture("agent_full")], Some("p2"))),
        )
        .expect(1)
        .mount(&server)
        .await;

    let params = ListAgents {
        limit: Some(5),
        ..ListAgents::default()
    };
    let page = client(&server)
        .agents()
        .list_page(&params, None)
        .await
        .unwrap();
    assert_eq!(page.next_page.as_deref(), Some("p2"));
    assert_eq!(page.data[0].id.as_str(), AGENT_ID);
}

#[tokio::test]
async fn endpoints_agents_versions_streams_every_page() {
    let server = strict_server().await;
    let v = |n: u64| {
        let mut a = agent_fixture("agent_full");
        a["version"] = json!(n);
        a
    };
    let path = format!("/v1/agents/{AGENT_ID}/versions");
    managed("GET", &path, &[("limit", "2")])
        .respond_with(
            ResponseTemplate::new(200).set_body_json(cursor_page(vec![v(3), v(2)], Some("p2"))),
        )
        .expect(1)
        .mount(&server)
        .await;
    managed("GET", &path, &[("limit", "2"), ("page", "p2")])
        .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(vec![v(1)], None)))
        .expect(1)
        .mount(&server)
        .await;

    let versions: Vec<Agent> = client(&server)
        .agents()
        .versions(
            &AgentId::from(AGENT_ID),
            &ListAgentVersions { limit: Some(2) },
        )
        .try_collect()
        .await
        .unwrap();
    let numbers: Vec<u64> = versions.iter().map(|a| a.version).collect();
    assert_eq!(numbers, [3, 2, 1]);
    assert!(versions.iter().all(|a| a.id.as_str() == AGENT_ID));
}

#[tokio::test]
async fn endpoints_agents_ids_are_percent_encoded_into_one_segment() {
    let server = strict_server().await;
    let full = agent_fixture("agent_full");
    managed("GET", "/v1/agents/a%2Fb%3Fc", &[])
        .respond_with(ResponseTemplate::new(200).set_body_json(&full))
        .expect(1)
        .mount(&server)
        .await;
    managed("POST", "/v1/agents/a%2Fb%3Fc/archive", &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&full))
        .expect(1)
        .mount(&server)
        .await;
    managed("GET", "/v1/agents/x%23y%20z/versions", &[])
        .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(vec![], None)))
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&server);
    let odd = AgentId::from("a/b?c");
    c.agents().retrieve(&odd).await.unwrap();
    c.agents().archive(&odd).await.unwrap();
    let none: Vec<Agent> = c
        .agents()
        .versions(&AgentId::from("x#y z"), &ListAgentVersions::default())
        .try_collect()
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn endpoints_agents_dot_segment_ids_are_rejected_locally() {
    let server = strict_server().await;
    let c = client(&server);
    for id in ["..", "."] {
        let err = c.agents().retrieve(&AgentId::from(id)).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{id}: {err:?}");
        let err = c.agents().archive(&AgentId::from(id)).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{id}: {err:?}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}
