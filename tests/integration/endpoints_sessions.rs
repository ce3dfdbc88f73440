//! `/v1/sessions` endpoints over loopback HTTP: method, exact path, exact query, headers and body
//! of every call on `client.sessions()` and its `events` / `resources` / `threads` handles, and
//! the typed results — including the SSE streams (reference sessions.md §1, §6–§10, README §2,
//! §5).

use claude_agents::api::Error;
use claude_agents::api::follow::FollowOptions;
use claude_agents::api::types::events::{
    Base64Source, ContentBlock, CreatedAtRange, DeltaType, DocumentBlock, DocumentSource,
    EventParam, EventPreview, FileRubric, FileSource, ImageBlock, ImageSource, ListEvents, Rubric,
    SendEventsResponse, SessionEvent, StreamEvent, StreamParams, TextRubric,
    ToolConfirmationResult, UserDefineOutcomeParam,
};
use claude_agents::api::types::sessions::{
    AddFileResource, AgentRef, AgentWithOverrides, Budget, Checkout, FileResourceParam,
    GithubRepositoryResourceParam, ListResources, ListSessions, ListThreads, MemoryStoreAccess,
    MemoryStoreResourceParam, ResourceParam, RotateResourceToken, Session, SessionAgentUpdate,
    SessionCreate, SessionResource, SessionStatus, SessionThread, SessionUpdate, ThreadAgent,
};
use claude_agents::api::types::{
    Deleted, MetadataPatch, Money, Order, ResourceId, SessionId, ThreadId,
};
use futures_util::{StreamExt, TryStreamExt};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header};
use wiremock::{MockServer, Request, ResponseTemplate};

use crate::endpoint_support::{
    cursor_page, error_body, fixture, json_content, managed, no_body, typed,
};
use crate::support::{client, strict_server};

const SESSION_ID: &str = "sesn_011CZkZAtmR3yMPDzynEDxu7";
const THREAD_ID: &str = "sthr_011CZkZCd8xYb4RqT6nVwE2P";
const RESOURCE_ID: &str = "sesrsc_011CZkZBJq5dWxk9fVLNcPht";
const GITHUB_TOKEN: &str = "ghp_xxxxxxxxxxxxxxxxxxxx";

fn sid() -> SessionId {
    SessionId::from(SESSION_ID)
}

fn session_path(suffix: &str) -> String {
    format!("/v1/sessions/{SESSION_ID}{suffix}")
}

fn session_fixture(name: &str) -> Value {
    fixture("sessions", name)
}

fn event_fixture(name: &str) -> Value {
    fixture("events", name)
}

/// A request body of `tests/fixtures/<family>/requests/` (validated against the SDK's params).
fn request_fixture(family: &str, name: &str) -> Value {
    fixture(family, &format!("requests/{name}"))
}

/// A `GET /v1/sessions` page: `data`, `next_page` and `prev_page`.
fn session_page(data: Vec<Value>, next_page: Option<&str>, prev_page: Option<&str>) -> Value {
    json!({ "data": data, "next_page": next_page, "prev_page": prev_page })
}

/// Matches `accept: text/event-stream`.
fn accepts_sse(req: &Request) -> bool {
    req.headers
        .get("accept")
        .is_some_and(|v| v == "text/event-stream")
}

/// One SSE frame per event: `event: <type>\ndata: <json>\n\n`.
fn sse_frames(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| {
            let kind = e["type"].as_str().expect("an event has a type");
            format!(
                "event: {kind}\ndata: {}\n\n",
                serde_json::to_string(e).unwrap()
            )
        })
        .collect()
}

fn sse_response(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/event-stream")
        .insert_header("request-id", "req_stream_01")
        .set_body_raw(body, "text/event-stream")
}

/// The values of `key` in the request's query, in order.
fn query_values(req: &Request, key: &str) -> Vec<String> {
    req.url
        .query_pairs()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .collect()
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

/// The `SessionCreate` of `tests/fixtures/sessions/requests/create_agent_ref.json`.
fn sample_create() -> SessionCreate {
    let mut body = SessionCreate::new(
        AgentRef::new("agent_01HqR2k7vXbZ9mNpL3wYcT8f", 3),
        "env_011CZkZ9X2dpNyB7HsEFoRfW",
    );
    body.title = Some("Refactor auth module".into());
    body.vault_ids = vec!["vlt_011CZkZE7hGq3nXcJ2dWbRtK".into()];
    body.resources = vec![
        GithubRepositoryResourceParam::new("https://github.com/acme/api")
            .token(SecretString::from(GITHUB_TOKEN))
            .checkout(Checkout::branch("main"))
            .into(),
        GithubRepositoryResourceParam::new("https://github.com/acme/web")
            .checkout(Checkout::commit("4f9c2e1a7b3d5f60718293a4b5c6d7e8f9012345"))
            .mount_path("/workspace/site")
            .into(),
        ResourceParam::File(FileResourceParam {
            file_id: "file_011CNha8iCJcU1wXNR6q4V8w".into(),
            mount_path: Some("/workspace/data.csv".into()),
        }),
        ResourceParam::MemoryStore(MemoryStoreResourceParam {
            memory_store_id: "memstore_011CZkZG2aBc".into(),
            access: Some(MemoryStoreAccess::ReadOnly),
            instructions: Some("User preferences.".into()),
        }),
    ];
    body.initial_events = vec![
        EventParam::user_message("Review the auth module."),
        EventParam::UserDefineOutcome(UserDefineOutcomeParam {
            description: "A passing test suite".into(),
            rubric: Rubric::Text(TextRubric {
                content: "- all tests pass".into(),
            }),
            max_iterations: Some(4),
        }),
    ];
    body.budget = Some(Budget::limit(Money::usd_cents(2500)));
    body.metadata.insert("ticket".into(), "ENG-1234".into());
    body
}

#[tokio::test]
async fn endpoints_sessions_create_posts_the_exact_body_with_the_repository_token() {
    let server = strict_server().await;
    let want = request_fixture("sessions", "create_agent_ref");
    assert_eq!(
        want["resources"][0]["authorization_token"],
        json!(GITHUB_TOKEN),
        "the fixture carries the write-only token"
    );
    let full = session_fixture("session_full");
    managed("POST", "/v1/sessions", &[])
        .and(json_content)
        .and(body_json(&want))
        .respond_with(ResponseTemplate::new(200).set_body_json(&full))
        .expect(1)
        .mount(&server)
        .await;

    let session = client(&server)
        .sessions()
        .create(&sample_create())
        .await
        .unwrap();
    assert_eq!(session, typed::<Session>(&full));
    assert_eq!(session.id.as_str(), SESSION_ID);
    assert_eq!(session.status, SessionStatus::Idle);
    assert_eq!(session.agent.version, 3);
}

#[tokio::test]
async fn endpoints_sessions_create_sends_each_agent_form() {
    let server = strict_server().await;
    let minimal = session_fixture("session_minimal");
    for name in [
        "create_agent_id",
        "create_agent_ref_latest",
        "create_agent_with_overrides",
    ] {
        managed("POST", "/v1/sessions", &[])
            .and(json_content)
            .and(body_json(request_fixture("sessions", name)))
            .respond_with(ResponseTemplate::new(200).set_body_json(&minimal))
            .expect(1)
            .named(name)
            .mount(&server)
            .await;
    }

    let c = client(&server);
    let env = "env_011CZkZ9X2dpNyB7HsEFoRfW";
    let by_id = SessionCreate::new("agent_01HqR2k7vXbZ9mNpL3wYcT8f", env);
    let latest = SessionCreate::new(
        AgentRef {
            id: "agent_01HqR2k7vXbZ9mNpL3wYcT8f".into(),
            version: None,
        },
        env,
    );
    let mut overrides = AgentWithOverrides::new("agent_01HqR2k7vXbZ9mNpL3wYcT8f");
    overrides.version = Some(3);
    overrides.system = Some(None);
    overrides.tools = Some(vec![]);
    overrides.mcp_servers = Some(vec![]);
    overrides.skills = Some(vec![]);
    let with_overrides = SessionCreate::new(overrides, env);
    for body in [by_id, latest, with_overrides] {
        let session = c.sessions().create(&body).await.unwrap();
        assert_eq!(session, typed::<Session>(&minimal));
    }
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn endpoints_sessions_create_is_not_resent_after_a_500() {
    let server = strict_server().await;
    managed("POST", "/v1/sessions", &[])
        .and(body_json(request_fixture("sessions", "create_agent_id")))
        .respond_with(ResponseTemplate::new(500).set_body_json(error_body("api_error", None)))
        .expect(1)
        .mount(&server)
        .await;

    let body = SessionCreate::new(
        "agent_01HqR2k7vXbZ9mNpL3wYcT8f",
        "env_011CZkZ9X2dpNyB7HsEFoRfW",
    );
    let err = client(&server).sessions().create(&body).await.unwrap_err();
    assert!(matches!(err, Error::OutcomeUnknown { .. }), "{err:?}");
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn endpoints_sessions_retrieve_gets_the_session() {
    let server = strict_server().await;
    let full = session_fixture("session_full");
    managed("GET", &session_path(""), &[])
        .and(no_body)
        .and(header("accept", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&full))
        .expect(1)
        .mount(&server)
        .await;

    let session = client(&server).sessions().retrieve(&sid()).await.unwrap();
    assert_eq!(session, typed::<Session>(&full));
    assert_eq!(
        session.metadata.get("ticket").map(String::as_str),
        Some("ENG-1234")
    );
}

#[tokio::test]
async fn endpoints_sessions_update_posts_values_nulls_and_omissions() {
    let server = strict_server().await;
    let mut renamed = session_fixture("session_full");
    renamed["title"] = json!("New title");
    let full = session_fixture("session_full");
    managed("POST", &session_path(""), &[])
        .and(json_content)
        .and(body_json(request_fixture("sessions", "update_values")))
        .respond_with(ResponseTemplate::new(200).set_body_json(&renamed))
        .expect(1)
        .mount(&server)
        .await;
    for name in ["update_null", "update_omit"] {
        managed("POST", &session_path(""), &[])
            .and(json_content)
            .and(body_json(request_fixture("sessions", name)))
            .respond_with(ResponseTemplate::new(200).set_body_json(&full))
            .expect(1)
            .named(name)
            .mount(&server)
            .await;
    }

    let c = client(&server);
    let mut metadata = MetadataPatch::new();
    metadata.insert("ticket".into(), Some("ENG-99".into()));
    metadata.insert("stale".into(), None);
    let set = SessionUpdate {
        title: Some(Some("New title".into())),
        metadata: Some(metadata),
        agent: Some(SessionAgentUpdate {
            tools: Some(vec![]),
            mcp_servers: Some(vec![]),
        }),
        budget: Some(Some(Budget::limit(Money::usd_cents(5000)))),
    };
    let session = c.sessions().update(&sid(), &set).await.unwrap();
    assert_eq!(session.title.as_deref(), Some("New title"));

    let clear = SessionUpdate {
        title: Some(None),
        budget: Some(None),
        ..SessionUpdate::default()
    };
    c.sessions().update(&sid(), &clear).await.unwrap();
    let session = c
        .sessions()
        .update(&sid(), &SessionUpdate::default())
        .await
        .unwrap();
    assert_eq!(session, typed::<Session>(&full));
}

#[tokio::test]
async fn endpoints_sessions_delete_decodes_the_body() {
    let server = strict_server().await;
    let deleted = session_fixture("session_deleted");
    managed("DELETE", &session_path(""), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&deleted))
        .expect(1)
        .mount(&server)
        .await;

    let out = client(&server).sessions().delete(&sid()).await.unwrap();
    assert_eq!(out, typed::<Deleted>(&deleted));
    assert_eq!(out.id, SESSION_ID);
    assert_eq!(out.kind, "session_deleted");
}

#[tokio::test]
async fn endpoints_sessions_delete_accepts_an_empty_204() {
    let server = strict_server().await;
    managed("DELETE", &session_path(""), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    let out = client(&server).sessions().delete(&sid()).await.unwrap();
    assert_eq!(out.id, SESSION_ID);
    assert_eq!(out.kind, "");
}

#[tokio::test]
async fn endpoints_sessions_archive_posts_without_body() {
    let server = strict_server().await;
    let archived = session_fixture("session_archived_from_deployment");
    let id = archived["id"].as_str().unwrap().to_owned();
    managed("POST", &format!("/v1/sessions/{id}/archive"), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&archived))
        .expect(1)
        .mount(&server)
        .await;

    let session = client(&server)
        .sessions()
        .archive(&SessionId::from(id.as_str()))
        .await
        .unwrap();
    assert_eq!(session, typed::<Session>(&archived));
    assert_eq!(session.status, SessionStatus::Terminated);
    assert!(session.archived_at.is_some());
}

fn list_filters() -> ListSessions {
    ListSessions {
        limit: Some(2),
        order: Some(Order::Asc),
        agent_id: Some("agent_01HqR2k7vXbZ9mNpL3wYcT8f".into()),
        statuses: vec![SessionStatus::Idle, SessionStatus::Running],
        created_at: CreatedAtRange {
            gte: Some("2026-03-01T00:00:00Z".parse().unwrap()),
            ..CreatedAtRange::default()
        },
        ..ListSessions::default()
    }
}

const LIST_QUERY: [(&str, &str); 6] = [
    ("limit", "2"),
    ("order", "asc"),
    ("agent_id", "agent_01HqR2k7vXbZ9mNpL3wYcT8f"),
    ("statuses[]", "idle"),
    ("statuses[]", "running"),
    ("created_at[gte]", "2026-03-01T00:00:00Z"),
];

#[tokio::test]
async fn endpoints_sessions_list_streams_every_page_with_the_same_filters() {
    let server = strict_server().await;
    let page1 = session_page(
        vec![
            session_fixture("session_full"),
            session_fixture("session_minimal"),
        ],
        Some("page_2"),
        None,
    );
    let page2 = session_page(
        vec![session_fixture("session_multiagent_coordinator")],
        None,
        Some("page_1"),
    );
    managed("GET", "/v1/sessions", &LIST_QUERY)
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&page1))
        .expect(1)
        .mount(&server)
        .await;
    let mut with_page = LIST_QUERY.to_vec();
    with_page.push(("page", "page_2"));
    managed("GET", "/v1/sessions", &with_page)
        .respond_with(ResponseTemplate::new(200).set_body_json(&page2))
        .expect(1)
        .mount(&server)
        .await;

    let sessions: Vec<Session> = client(&server)
        .sessions()
        .list(&list_filters())
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = sessions.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, [SESSION_ID, "sesn_02", "sesn_04"]);
    assert_eq!(
        sessions[2],
        typed::<Session>(&session_fixture("session_multiagent_coordinator"))
    );

    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2, "stops at next_page: null, ignores prev_page");
    for req in &reqs {
        // Bracket keys, repeated in the order given, brackets percent-encoded (README §5.4).
        assert_eq!(query_values(req, "statuses[]"), ["idle", "running"]);
        let raw = req.url.query().unwrap();
        assert!(raw.contains("statuses%5B%5D=idle"), "{raw}");
        assert!(raw.contains("created_at%5Bgte%5D=2026-03-01T00"), "{raw}");
        assert!(!raw.contains('['), "{raw}");
    }
    assert!(query_values(&reqs[0], "page").is_empty());
}

#[tokio::test]
async fn endpoints_sessions_list_without_filters_sends_no_query() {
    let server = strict_server().await;
    managed("GET", "/v1/sessions", &[])
        .respond_with(ResponseTemplate::new(200).set_body_json(session_page(
            vec![session_fixture("session_minimal")],
            None,
            None,
        )))
        .expect(1)
        .mount(&server)
        .await;

    let sessions: Vec<Session> = client(&server)
        .sessions()
        .list(&ListSessions::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].id.as_str(), "sesn_02");
}

#[tokio::test]
async fn endpoints_sessions_list_page_returns_both_cursors_and_pages_backwards() {
    let server = strict_server().await;
    managed("GET", "/v1/sessions", &LIST_QUERY)
        .respond_with(ResponseTemplate::new(200).set_body_json(session_page(
            vec![session_fixture("session_full")],
            Some("page_next"),
            Some("page_prev"),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let mut back = LIST_QUERY.to_vec();
    back.push(("page", "page_prev"));
    managed("GET", "/v1/sessions", &back)
        .respond_with(ResponseTemplate::new(200).set_body_json(session_page(
            vec![session_fixture("session_minimal")],
            Some("page_after_prev"),
            None,
        )))
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&server);
    let params = list_filters();
    let first = c.sessions().list_page(&params, None).await.unwrap();
    assert_eq!(first.next_page.as_deref(), Some("page_next"));
    assert_eq!(first.prev_page.as_deref(), Some("page_prev"));
    assert_eq!(first.data[0].id.as_str(), SESSION_ID);

    let prev = c
        .sessions()
        .list_page(&params, first.prev_page.as_deref())
        .await
        .unwrap();
    assert_eq!(prev.data.len(), 1);
    assert_eq!(prev.data[0].id.as_str(), "sesn_02");
    assert_eq!(prev.next_page.as_deref(), Some("page_after_prev"));
    assert_eq!(prev.prev_page, None);
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn endpoints_sessions_list_page_sends_every_filter() {
    let server = strict_server().await;
    managed(
        "GET",
        "/v1/sessions",
        &[
            ("limit", "50"),
            ("order", "desc"),
            ("include_archived", "true"),
            ("agent_id", "agent_01HqR2k7vXbZ9mNpL3wYcT8f"),
            ("agent_version", "3"),
            ("deployment_id", "depl_01"),
            ("memory_store_id", "memstore_011CZkZG2aBc"),
            ("statuses[]", "rescheduling"),
            ("statuses[]", "terminated"),
            ("created_at[gt]", "2026-03-01T00:00:00Z"),
            ("created_at[gte]", "2026-03-02T00:00:00Z"),
            ("created_at[lt]", "2026-03-31T00:00:00Z"),
            ("created_at[lte]", "2026-03-30T23:59:59.500Z"),
            ("page", "page_MjAyNi0wMy0xNVQxMDowMDowMFo"),
        ],
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(session_page(
        vec![session_fixture("session_archived_from_deployment")],
        None,
        Some("page_back"),
    )))
    .expect(1)
    .mount(&server)
    .await;

    let params = ListSessions {
        limit: Some(50),
        order: Some(Order::Desc),
        include_archived: Some(true),
        agent_id: Some("agent_01HqR2k7vXbZ9mNpL3wYcT8f".into()),
        agent_version: Some(3),
        deployment_id: Some("depl_01".into()),
        memory_store_id: Some("memstore_011CZkZG2aBc".into()),
        statuses: vec![SessionStatus::Rescheduling, SessionStatus::Terminated],
        created_at: CreatedAtRange {
            gt: Some("2026-03-01T00:00:00Z".parse().unwrap()),
            gte: Some("2026-03-02T00:00:00Z".parse().unwrap()),
            lt: Some("2026-03-31T00:00:00Z".parse().unwrap()),
            lte: Some("2026-03-30T23:59:59.5Z".parse().unwrap()),
        },
    };
    let page = client(&server)
        .sessions()
        .list_page(&params, Some("page_MjAyNi0wMy0xNVQxMDowMDowMFo"))
        .await
        .unwrap();
    assert_eq!(page.next_page, None);
    assert_eq!(page.prev_page.as_deref(), Some("page_back"));
    assert_eq!(page.data[0].id.as_str(), "sesn_03");
}

#[tokio::test]
async fn endpoints_sessions_ids_are_percent_encoded_into_one_segment() {
    let server = strict_server().await;
    let full = session_fixture("session_full");
    managed("GET", "/v1/sessions/s%2F..%3Fx", &[])
        .respond_with(ResponseTemplate::new(200).set_body_json(&full))
        .expect(1)
        .mount(&server)
        .await;
    managed("GET", "/v1/sessions/s%2F..%3Fx/threads/t%23%20h", &[])
        .respond_with(ResponseTemplate::new(200).set_body_json(session_fixture("thread_primary")))
        .expect(1)
        .mount(&server)
        .await;
    managed("GET", "/v1/sessions/s%2F..%3Fx/resources/r%2Fz", &[])
        .respond_with(ResponseTemplate::new(200).set_body_json(session_fixture("resource_file")))
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&server);
    let odd = SessionId::from("s/..?x");
    c.sessions().retrieve(&odd).await.unwrap();
    c.sessions()
        .threads(&odd)
        .retrieve(&ThreadId::from("t# h"))
        .await
        .unwrap();
    c.sessions()
        .resources(&odd)
        .retrieve(&ResourceId::from("r/z"))
        .await
        .unwrap();
}

#[tokio::test]
async fn endpoints_sessions_dot_segment_ids_are_rejected_locally() {
    let server = strict_server().await;
    let c = client(&server);
    for id in ["..", "."] {
        let err = c
            .sessions()
            .retrieve(&SessionId::from(id))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{id}: {err:?}");
        let err = c
            .sessions()
            .events(&SessionId::from(id))
            .send(vec![EventParam::interrupt()])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{id}: {err:?}");
        let err = c
            .sessions()
            .threads(&sid())
            .archive(&ThreadId::from(id))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{id}: {err:?}");
    }
    assert!(requests(&server).await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Events: send
// ---------------------------------------------------------------------------------------------

/// The echo of `type` in `tests/fixtures/events/send_events_response.json`.
fn echo_of(kind: &str) -> Value {
    let resp = event_fixture("send_events_response");
    resp["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == kind)
        .unwrap_or_else(|| panic!("no echo of {kind}"))
        .clone()
}

#[tokio::test]
async fn endpoints_sessions_events_send_posts_exactly_each_constructed_event() {
    let server = strict_server().await;
    // Expected wire forms: the SDK-validated request fixtures.
    let batch = request_fixture("events", "send_events");
    let sdk = |i: usize| batch["events"][i].clone();
    let cases: Vec<(&str, EventParam, Value)> = vec![
        (
            "user_message",
            EventParam::user_message("Review the auth module."),
            sdk(0),
        ),
        ("interrupt", EventParam::interrupt(), sdk(1)),
        (
            "interrupt_thread",
            EventParam::interrupt_thread("sthr_01B"),
            sdk(2),
        ),
        (
            "tool_confirmation allow",
            EventParam::tool_confirmation("sevt_01T", ToolConfirmationResult::Allow, None),
            sdk(3),
        ),
        (
            "tool_confirmation deny",
            EventParam::tool_confirmation(
                "sevt_01K",
                ToolConfirmationResult::Deny,
                Some("Read .env.example instead".into()),
            ),
            sdk(4),
        ),
        (
            "custom_tool_result",
            EventParam::custom_tool_result("sevt_01U", "22°C, sunny", false),
            sdk(5),
        ),
        (
            "tool_result",
            EventParam::tool_result("sevt_01T", "exit 1", true),
            sdk(6),
        ),
        (
            "define_outcome",
            EventParam::define_outcome(
                "Build a DCF model in .xlsx",
                Rubric::File(FileRubric {
                    file_id: "file_011CNha8iCJcU1wXNR6q4V8w".into(),
                }),
            ),
            sdk(7),
        ),
        (
            "system_message",
            EventParam::system_message("The user's timezone is America/New_York."),
            request_fixture("events", "system_message"),
        ),
        (
            "user_message_blocks",
            EventParam::user_message_blocks(vec![
                ContentBlock::text("Compare"),
                ContentBlock::Image(ImageBlock {
                    source: ImageSource::File(FileSource {
                        file_id: "file_011CNha8iCJcU1wXNR6q4V8w".into(),
                    }),
                }),
                ContentBlock::Document(DocumentBlock {
                    source: DocumentSource::Base64(Base64Source {
                        data: "JVBERi0x".into(),
                        media_type: "application/pdf".into(),
                    }),
                    context: None,
                    title: Some("Q3 report".into()),
                }),
            ]),
            request_fixture("events", "send_events_blocks")["events"][0].clone(),
        ),
    ];
    for (name, _, wire) in &cases {
        let echo = echo_of(wire["type"].as_str().unwrap());
        managed("POST", &session_path("/events"), &[])
            .and(json_content)
            .and(body_json(json!({ "events": [wire] })))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [echo] })))
            .expect(1)
            .named(*name)
            .mount(&server)
            .await;
    }

    let c = client(&server);
    let events = c.sessions().events(&sid());
    for (name, param, wire) in cases {
        let kind = wire["type"].as_str().unwrap();
        let resp = events
            .send(vec![param])
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(resp.data.len(), 1, "{name}");
        assert_eq!(
            resp.data[0],
            typed::<SessionEvent>(&echo_of(kind)),
            "{name}"
        );
        assert_eq!(resp.data[0].type_name(), kind, "{name}");
    }
    assert_eq!(requests(&server).await.len(), 10);
}

#[tokio::test]
async fn endpoints_sessions_events_send_posts_a_batch_in_order_and_decodes_the_echoes() {
    let server = strict_server().await;
    let echoed = event_fixture("send_events_response");
    managed("POST", &session_path("/events"), &[])
        .and(json_content)
        .and(body_json(request_fixture("events", "send_events")))
        .respond_with(ResponseTemplate::new(200).set_body_json(&echoed))
        .expect(1)
        .mount(&server)
        .await;

    let batch = vec![
        EventParam::user_message("Review the auth module."),
        EventParam::interrupt(),
        EventParam::interrupt_thread("sthr_01B"),
        EventParam::tool_confirmation("sevt_01T", ToolConfirmationResult::Allow, None),
        EventParam::tool_confirmation(
            "sevt_01K",
            ToolConfirmationResult::Deny,
            Some("Read .env.example instead".into()),
        ),
        EventParam::custom_tool_result("sevt_01U", "22°C, sunny", false),
        EventParam::tool_result("sevt_01T", "exit 1", true),
        EventParam::define_outcome(
            "Build a DCF model in .xlsx",
            Rubric::File(FileRubric {
                file_id: "file_011CNha8iCJcU1wXNR6q4V8w".into(),
            }),
        ),
        EventParam::UserDefineOutcome(UserDefineOutcomeParam {
            description: "Write the report".into(),
            rubric: Rubric::Text(TextRubric {
                content: "- Has a summary".into(),
            }),
            max_iterations: Some(5),
        }),
    ];
    let resp = client(&server)
        .sessions()
        .events(&sid())
        .send(batch)
        .await
        .unwrap();
    assert_eq!(resp, typed::<SendEventsResponse>(&echoed));
    let kinds: Vec<&str> = resp.data.iter().map(SessionEvent::type_name).collect();
    assert_eq!(
        kinds,
        [
            "user.message",
            "user.interrupt",
            "user.tool_confirmation",
            "user.custom_tool_result",
            "user.tool_result",
            "user.define_outcome",
            "system.message"
        ]
    );
    assert_eq!(resp.data[0].processed_at(), None);
}

#[tokio::test]
async fn endpoints_sessions_events_send_accepts_204_and_empty_object() {
    let server = strict_server().await;
    let hi =
        json!({"events": [{"type": "user.message", "content": [{"type": "text", "text": "Hi"}]}]});
    let stop = json!({"events": [{"type": "user.interrupt"}]});
    managed("POST", &session_path("/events"), &[])
        .and(body_json(&hi))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    managed("POST", &session_path("/events"), &[])
        .and(body_json(&stop))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(event_fixture("send_events_response__empty")),
        )
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&server);
    let events = c.sessions().events(&sid());
    let resp = events
        .send(vec![EventParam::user_message("Hi")])
        .await
        .unwrap();
    assert!(resp.data.is_empty());
    assert_eq!(resp, SendEventsResponse::default());
    let resp = events.send(vec![EventParam::interrupt()]).await.unwrap();
    assert!(resp.data.is_empty());
}

#[tokio::test]
async fn endpoints_sessions_events_send_500_is_outcome_unknown_after_one_request() {
    let server = strict_server().await;
    managed("POST", &session_path("/events"), &[])
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("request-id", "req_send_500")
                .set_body_json(error_body("api_error", None)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .sessions()
        .events(&sid())
        .send(vec![EventParam::user_message("Hi")])
        .await
        .unwrap_err();
    let Error::OutcomeUnknown {
        operation,
        request_id,
        ..
    } = &err
    else {
        panic!("expected Error::OutcomeUnknown, got {err:?}");
    };
    assert_eq!(operation.method, "POST");
    assert_eq!(operation.path, session_path("/events"));
    assert_eq!(request_id.as_deref(), Some("req_send_500"));
    assert_eq!(requests(&server).await.len(), 1, "a send is never re-sent");
}

#[tokio::test]
async fn endpoints_sessions_events_send_to_an_archived_session_is_a_conflict() {
    let server = strict_server().await;
    managed("POST", &session_path("/events"), &[])
        .respond_with(
            ResponseTemplate::new(409).set_body_json(error_body("invalid_request_error", None)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .sessions()
        .events(&sid())
        .send(vec![EventParam::user_message("Hi")])
        .await
        .unwrap_err();
    let Error::Conflict(api) = &err else {
        panic!("expected Error::Conflict, got {err:?}");
    };
    assert_eq!(api.status, 409);
    assert_eq!(api.error_type.as_deref(), Some("invalid_request_error"));
    assert!(err.is_conflict());
    assert_eq!(requests(&server).await.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Events: list
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn endpoints_sessions_events_list_streams_every_page_with_types_and_order() {
    let server = strict_server().await;
    let query = [
        ("limit", "2"),
        ("order", "desc"),
        ("types[]", "agent.message"),
        ("types[]", "session.status_idle"),
        ("created_at[gt]", "2026-03-15T10:00:00Z"),
    ];
    let page1 = cursor_page(
        vec![
            event_fixture("session.status_idle"),
            event_fixture("agent.message"),
        ],
        Some("page_e2"),
    );
    let page2 = cursor_page(
        vec![event_fixture("session.status_idle__requires_action")],
        None,
    );
    managed("GET", &session_path("/events"), &query)
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&page1))
        .expect(1)
        .mount(&server)
        .await;
    let mut with_page = query.to_vec();
    with_page.push(("page", "page_e2"));
    managed("GET", &session_path("/events"), &with_page)
        .respond_with(ResponseTemplate::new(200).set_body_json(&page2))
        .expect(1)
        .mount(&server)
        .await;

    let params = ListEvents {
        limit: Some(2),
        order: Some(Order::Desc),
        types: vec!["agent.message".into(), "session.status_idle".into()],
        created_at: CreatedAtRange {
            gt: Some("2026-03-15T10:00:00Z".parse().unwrap()),
            ..CreatedAtRange::default()
        },
    };
    let events: Vec<SessionEvent> = client(&server)
        .sessions()
        .events(&sid())
        .list(&params)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[0], typed(&event_fixture("session.status_idle")));
    assert_eq!(events[1], typed(&event_fixture("agent.message")));
    assert_eq!(
        events[2],
        typed(&event_fixture("session.status_idle__requires_action"))
    );
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2);
    for req in &reqs {
        assert_eq!(
            query_values(req, "types[]"),
            ["agent.message", "session.status_idle"]
        );
        assert!(!req.url.query().unwrap().contains('['));
    }
}

// ---------------------------------------------------------------------------------------------
// Events: stream
// ---------------------------------------------------------------------------------------------

/// A stream body with every kind of frame the decoder must handle, and the persisted or preview
/// events it should yield, in order.
fn mixed_stream_body() -> String {
    let mut body = String::from(": connected\n\n");
    body += &sse_frames(&[
        event_fixture("session.status_running"),
        event_fixture("span.model_request_start"),
        event_fixture("event_start__message"),
    ]);
    body += ": ping\n\n";
    body += "event: ping\ndata: {\"type\":\"ping\"}\n\n";
    body += &sse_frames(&[event_fixture("event_delta"), event_fixture("agent.message")]);
    body += "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"},\"request_id\":\"req_sse_err\"}\n\n";
    body += &sse_frames(&[
        json!({"type": "session.brand_new_event", "id": "sevt_99", "processed_at": "2026-03-15T10:01:22Z", "x": [1, 2]}),
        event_fixture("session.status_idle"),
    ]);
    body
}

#[tokio::test]
async fn endpoints_sessions_events_stream_decodes_frames_in_order() {
    let server = strict_server().await;
    managed(
        "GET",
        &session_path("/events/stream"),
        &[
            ("event_deltas[]", "agent.message"),
            ("event_deltas[]", "agent.thinking"),
        ],
    )
    .and(accepts_sse)
    .and(no_body)
    .respond_with(sse_response(mixed_stream_body()))
    .expect(1)
    .mount(&server)
    .await;

    let c = client(&server);
    let stream = c
        .sessions()
        .events(&sid())
        .stream(&StreamParams::with_previews())
        .await
        .unwrap();
    assert_eq!(stream.request_id(), Some("req_stream_01"));
    let items: Vec<_> = stream.collect().await;
    assert_eq!(items.len(), 8, "{items:#?}");

    let ok = |i: usize| {
        items[i]
            .as_ref()
            .unwrap_or_else(|e| panic!("item {i}: {e}"))
    };
    assert_eq!(*ok(0), typed(&event_fixture("session.status_running")));
    assert_eq!(*ok(1), typed(&event_fixture("span.model_request_start")));
    let StreamEvent::EventStart(start) = ok(2) else {
        panic!("expected event_start, got {:?}", ok(2));
    };
    let EventPreview::AgentMessage(preview) = &start.event else {
        panic!("{start:?}");
    };
    assert_eq!(preview.id.as_str(), "sevt_01H");
    assert!(ok(2).is_preview());
    assert_eq!(*ok(3), typed(&event_fixture("event_delta")));
    assert!(matches!(ok(3), StreamEvent::EventDelta(_)));
    assert_eq!(*ok(4), typed(&event_fixture("agent.message")));
    assert_eq!(ok(4).raw_id(), Some("sevt_01H"));

    match &items[5] {
        Err(Error::Api(api)) => {
            assert_eq!(api.status, 0, "an in-stream error has no HTTP status");
            assert_eq!(api.error_type.as_deref(), Some("overloaded_error"));
            assert_eq!(api.message, "Overloaded");
            assert_eq!(api.request_id.as_deref(), Some("req_sse_err"));
            assert_eq!(api.operation.path, session_path("/events/stream"));
        }
        other => panic!("expected Err(Error::Api), got {other:?}"),
    }

    let unknown = ok(6);
    assert!(unknown.is_other(), "{unknown:?}");
    assert_eq!(unknown.type_name(), "session.brand_new_event");
    assert_eq!(unknown.raw_id(), Some("sevt_99"));
    assert!(unknown.is_processed());
    assert_eq!(*ok(7), typed(&event_fixture("session.status_idle")));
}

#[tokio::test]
async fn endpoints_sessions_events_stream_without_previews_sends_no_query() {
    let server = strict_server().await;
    let body = sse_frames(&[
        event_fixture("user.message"),
        event_fixture("session.status_terminated"),
    ]);
    managed("GET", &session_path("/events/stream"), &[])
        .and(accepts_sse)
        .respond_with(sse_response(body))
        .expect(1)
        .mount(&server)
        .await;

    let events: Vec<StreamEvent> = client(&server)
        .sessions()
        .events(&sid())
        .stream(&StreamParams::default())
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0], typed(&event_fixture("user.message")));
    assert!(!events[0].is_processed());
    assert!(events[1].is_terminal());
}

#[tokio::test]
async fn endpoints_sessions_events_stream_http_error_fails_the_open() {
    let server = strict_server().await;
    managed(
        "GET",
        &session_path("/events/stream"),
        &[("event_deltas[]", "agent.thinking")],
    )
    .and(accepts_sse)
    .respond_with(ResponseTemplate::new(404).set_body_json(error_body("not_found_error", None)))
    .expect(1)
    .mount(&server)
    .await;

    let params = StreamParams {
        event_deltas: vec![DeltaType::AgentThinking],
    };
    let err = client(&server)
        .sessions()
        .events(&sid())
        .stream(&params)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.status(), Some(404));
}

// ---------------------------------------------------------------------------------------------
// Events: follow (stream first, then the history backfill)
// ---------------------------------------------------------------------------------------------

fn fast_follow() -> FollowOptions {
    FollowOptions {
        initial_backoff: std::time::Duration::from_millis(1),
        max_backoff: std::time::Duration::from_millis(2),
        max_consecutive_failures: Some(0),
        backfill_overlap: None,
    }
}

async fn mount_follow_server(server: &MockServer) {
    // History: a processed user message and the running status. Live: the running status
    // again (a duplicate), the answer, the end.
    let mut processed = event_fixture("user.message");
    processed["processed_at"] = json!("2026-03-15T10:01:00Z");
    managed("GET", &session_path("/events/stream"), &[])
        .and(accepts_sse)
        .respond_with(sse_response(sse_frames(&[
            event_fixture("session.status_running"),
            event_fixture("agent.message"),
            event_fixture("session.status_terminated"),
        ])))
        .expect(1)
        .mount(server)
        .await;
    managed("GET", &session_path("/events"), &[("order", "asc")])
        .and(header("accept", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
            vec![processed, event_fixture("session.status_running")],
            None,
        )))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn endpoints_sessions_events_follow_backfills_history_and_dedupes_live() {
    let server = strict_server().await;
    mount_follow_server(&server).await;

    let events: Vec<StreamEvent> = client(&server)
        .sessions()
        .events(&sid())
        .follow(StreamParams::default(), fast_follow())
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = events.iter().filter_map(StreamEvent::raw_id).collect();
    assert_eq!(ids, ["sevt_01A", "sevt_01P", "sevt_01H", "sevt_01V"]);
    assert!(events[3].is_terminal());
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2);
    assert!(
        reqs[0].url.path().ends_with("/events/stream"),
        "stream first"
    );
}

#[tokio::test]
async fn endpoints_sessions_events_follow_from_skips_already_seen_sightings() {
    let server = strict_server().await;
    mount_follow_server(&server).await;

    let events: Vec<StreamEvent> = client(&server)
        .sessions()
        .events(&sid())
        .follow_from(
            StreamParams::default(),
            fast_follow(),
            [("sevt_01A".to_owned(), true), ("sevt_01P".to_owned(), true)],
        )
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = events.iter().filter_map(StreamEvent::raw_id).collect();
    assert_eq!(ids, ["sevt_01H", "sevt_01V"]);
}

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn endpoints_sessions_resources_list_streams_every_page() {
    let server = strict_server().await;
    let path = session_path("/resources");
    managed("GET", &path, &[("limit", "2")])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
            vec![
                session_fixture("resource_github_branch"),
                session_fixture("resource_file"),
            ],
            Some("page_r2"),
        )))
        .expect(1)
        .mount(&server)
        .await;
    managed("GET", &path, &[("limit", "2"), ("page", "page_r2")])
        .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
            vec![session_fixture("resource_memory_store")],
            None,
        )))
        .expect(1)
        .mount(&server)
        .await;

    let resources: Vec<SessionResource> = client(&server)
        .sessions()
        .resources(&sid())
        .list(&ListResources { limit: Some(2) })
        .try_collect()
        .await
        .unwrap();
    let kinds: Vec<&str> = resources.iter().map(SessionResource::type_name).collect();
    assert_eq!(kinds, ["github_repository", "file", "memory_store"]);
    assert_eq!(
        resources[2],
        typed::<SessionResource>(&session_fixture("resource_memory_store"))
    );
}

#[tokio::test]
async fn endpoints_sessions_resources_list_without_limit_sends_no_query() {
    let server = strict_server().await;
    managed("GET", &session_path("/resources"), &[])
        .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(vec![], None)))
        .expect(1)
        .mount(&server)
        .await;

    let resources: Vec<SessionResource> = client(&server)
        .sessions()
        .resources(&sid())
        .list(&ListResources::default())
        .try_collect()
        .await
        .unwrap();
    assert!(resources.is_empty());
}

#[tokio::test]
async fn endpoints_sessions_resources_add_file_posts_the_exact_body() {
    let server = strict_server().await;
    let file = session_fixture("resource_file");
    for name in ["add_file_resource", "add_file_resource_default_path"] {
        managed("POST", &session_path("/resources"), &[])
            .and(json_content)
            .and(body_json(request_fixture("sessions", name)))
            .respond_with(ResponseTemplate::new(200).set_body_json(&file))
            .expect(1)
            .named(name)
            .mount(&server)
            .await;
    }

    let c = client(&server);
    let resources = c.sessions().resources(&sid());
    let mut body = AddFileResource::new("file_011CNha8iCJcU1wXNR6q4V8w");
    let added = resources.add_file(&body).await.unwrap();
    assert_eq!(added, typed::<SessionResource>(&file));
    assert_eq!(added.type_name(), "file");
    body.mount_path = Some("/data.csv".into());
    resources.add_file(&body).await.unwrap();
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn endpoints_sessions_resources_retrieve_gets_the_resource() {
    let server = strict_server().await;
    let repo = session_fixture("resource_github_branch");
    managed(
        "GET",
        &session_path(&format!("/resources/{RESOURCE_ID}")),
        &[],
    )
    .and(no_body)
    .respond_with(ResponseTemplate::new(200).set_body_json(&repo))
    .expect(1)
    .mount(&server)
    .await;

    let resource = client(&server)
        .sessions()
        .resources(&sid())
        .retrieve(&ResourceId::from(RESOURCE_ID))
        .await
        .unwrap();
    let SessionResource::GithubRepository(r) = &resource else {
        panic!("{resource:?}");
    };
    assert_eq!(r.id.as_str(), RESOURCE_ID);
    assert_eq!(r.checkout, Some(Checkout::branch("main")));
    assert_eq!(resource, typed::<SessionResource>(&repo));
}

#[tokio::test]
async fn endpoints_sessions_resources_rotate_token_sends_the_token_on_the_wire() {
    let server = strict_server().await;
    let repo = session_fixture("resource_github_branch");
    let new_token = "github_pat_11ABCDEFG0rotated";
    managed(
        "POST",
        &session_path(&format!("/resources/{RESOURCE_ID}")),
        &[],
    )
    .and(json_content)
    .and(body_json(json!({ "authorization_token": new_token })))
    .respond_with(ResponseTemplate::new(200).set_body_json(&repo))
    .expect(1)
    .mount(&server)
    .await;

    let body = RotateResourceToken::new(SecretString::from(new_token));
    assert!(
        !format!("{body:?}").contains(new_token),
        "redacted in Debug"
    );
    let resource = client(&server)
        .sessions()
        .resources(&sid())
        .rotate_token(&ResourceId::from(RESOURCE_ID), &body)
        .await
        .unwrap();
    assert_eq!(resource, typed::<SessionResource>(&repo));
    assert!(
        !serde_json::to_string(&resource)
            .unwrap()
            .contains("authorization_token"),
        "the token is never returned"
    );
}

#[tokio::test]
async fn endpoints_sessions_resources_delete_decodes_the_body_or_a_204() {
    let server = strict_server().await;
    let deleted = session_fixture("resource_deleted");
    managed(
        "DELETE",
        &session_path(&format!("/resources/{RESOURCE_ID}")),
        &[],
    )
    .and(no_body)
    .respond_with(ResponseTemplate::new(200).set_body_json(&deleted))
    .expect(1)
    .mount(&server)
    .await;
    managed("DELETE", &session_path("/resources/sesrsc_gone"), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&server);
    let resources = c.sessions().resources(&sid());
    let out = resources
        .delete(&ResourceId::from(RESOURCE_ID))
        .await
        .unwrap();
    assert_eq!(out, typed::<Deleted>(&deleted));
    assert_eq!(out.kind, "session_resource_deleted");
    let out = resources
        .delete(&ResourceId::from("sesrsc_gone"))
        .await
        .unwrap();
    assert_eq!(out.id, "sesrsc_gone");
    assert_eq!(out.kind, "");
}

// ---------------------------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn endpoints_sessions_threads_list_streams_every_page_with_statuses() {
    let server = strict_server().await;
    let path = session_path("/threads");
    let query = [
        ("limit", "2"),
        ("statuses[]", "running"),
        ("statuses[]", "terminated"),
    ];
    managed("GET", &path, &query)
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
            vec![
                session_fixture("thread_inline"),
                session_fixture("thread_advisor"),
            ],
            Some("page_t2"),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let mut with_page = query.to_vec();
    with_page.push(("page", "page_t2"));
    managed("GET", &path, &with_page)
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(cursor_page(vec![session_fixture("thread_primary")], None)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let params = ListThreads {
        limit: Some(2),
        statuses: vec![SessionStatus::Running, SessionStatus::Terminated],
    };
    let threads: Vec<SessionThread> = client(&server)
        .sessions()
        .threads(&sid())
        .list(&params)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = threads.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["sthr_03", "sthr_02", THREAD_ID]);
    assert!(matches!(threads[0].agent, ThreadAgent::Inline(_)));
    assert!(matches!(threads[1].agent, ThreadAgent::Advisor(_)));
    assert_eq!(
        threads[2],
        typed::<SessionThread>(&session_fixture("thread_primary"))
    );
    for req in requests(&server).await {
        assert_eq!(query_values(&req, "statuses[]"), ["running", "terminated"]);
        assert!(!req.url.query().unwrap().contains('['));
    }
}

#[tokio::test]
async fn endpoints_sessions_threads_retrieve_and_archive() {
    let server = strict_server().await;
    let primary = session_fixture("thread_primary");
    let mut archived = primary.clone();
    archived["status"] = json!("terminated");
    archived["archived_at"] = json!("2026-03-15T10:09:00Z");
    let path = session_path(&format!("/threads/{THREAD_ID}"));
    managed("GET", &path, &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&primary))
        .expect(1)
        .mount(&server)
        .await;
    managed("POST", &format!("{path}/archive"), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&archived))
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&server);
    let threads = c.sessions().threads(&sid());
    let tid = ThreadId::from(THREAD_ID);
    let thread = threads.retrieve(&tid).await.unwrap();
    assert_eq!(thread, typed::<SessionThread>(&primary));
    assert_eq!(thread.session_id.as_str(), SESSION_ID);
    assert_eq!(thread.parent_thread_id, None);
    let thread = threads.archive(&tid).await.unwrap();
    assert_eq!(thread.status, SessionStatus::Terminated);
    assert!(thread.archived_at.is_some());
}

#[tokio::test]
async fn endpoints_sessions_threads_events_streams_every_page() {
    let server = strict_server().await;
    let path = session_path(&format!("/threads/{THREAD_ID}/events"));
    managed("GET", &path, &[("limit", "2")])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
            vec![
                event_fixture("session.status_running"),
                event_fixture("agent.thinking"),
            ],
            Some("page_te2"),
        )))
        .expect(1)
        .mount(&server)
        .await;
    managed("GET", &path, &[("limit", "2"), ("page", "page_te2")])
        .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
            vec![event_fixture("session.status_idle")],
            None,
        )))
        .expect(1)
        .mount(&server)
        .await;

    let events: Vec<SessionEvent> = client(&server)
        .sessions()
        .threads(&sid())
        .events(
            &ThreadId::from(THREAD_ID),
            &claude_agents::api::types::sessions::ListThreadEvents { limit: Some(2) },
        )
        .try_collect()
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(SessionEvent::type_name).collect();
    assert_eq!(
        kinds,
        [
            "session.status_running",
            "agent.thinking",
            "session.status_idle"
        ]
    );
    assert_eq!(events[1], typed(&event_fixture("agent.thinking")));
}

#[tokio::test]
async fn endpoints_sessions_threads_stream_uses_the_thread_stream_path() {
    let server = strict_server().await;
    // Only `…/threads/{tid}/stream` exists; `…/threads/{tid}/events/stream` would hit the
    // catch-all and fail the test.
    let mut body = String::from(": connected\n\nevent: ping\ndata: {}\n\n");
    body += &sse_frames(&[
        event_fixture("session.thread_status_running"),
        event_fixture("event_start__thinking"),
        event_fixture("agent.thinking"),
        event_fixture("session.thread_status_idle"),
    ]);
    managed(
        "GET",
        &session_path(&format!("/threads/{THREAD_ID}/stream")),
        &[("event_deltas[]", "agent.message")],
    )
    .and(accepts_sse)
    .and(no_body)
    .respond_with(sse_response(body))
    .expect(1)
    .mount(&server)
    .await;

    let params = StreamParams {
        event_deltas: vec![DeltaType::AgentMessage],
    };
    let stream = client(&server)
        .sessions()
        .threads(&sid())
        .stream(&ThreadId::from(THREAD_ID), &params)
        .await
        .unwrap();
    assert_eq!(stream.request_id(), Some("req_stream_01"));
    let events: Vec<StreamEvent> = stream.try_collect().await.unwrap();
    let kinds: Vec<&str> = events.iter().map(StreamEvent::type_name).collect();
    assert_eq!(
        kinds,
        [
            "session.thread_status_running",
            "event_start",
            "agent.thinking",
            "session.thread_status_idle"
        ]
    );
    assert_eq!(
        events[3],
        typed(&event_fixture("session.thread_status_idle"))
    );
}
