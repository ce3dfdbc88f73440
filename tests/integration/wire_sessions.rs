//! Wire fixtures for the sessions family.

use std::path::Path;

use claude_agents::api::types::events::{
    CreatedAtRange, EventParam, Rubric, TextRubric, UserDefineOutcomeParam,
};
use claude_agents::api::types::sessions::*;
use claude_agents::api::types::{Deleted, MetadataPatch, Money, Order};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::fixtures::{check_family, round_trip};

const TOKEN: &str = "ghp_xxxxxxxxxxxxxxxxxxxx";

/// The `value` of `tests/fixtures/<family>/<name>.json`.
fn fixture_value(family: &str, name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(family)
        .join(format!("{name}.json"));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    doc["value"].clone()
}

/// The `value` of `tests/fixtures/<family>/requests/<name>.json`: a request body validated
/// against the SDK's params type by `validate.py`, compared here byte for byte.
pub(crate) fn request_fixture(family: &str, name: &str) -> Value {
    fixture_value(family, &format!("requests/{name}"))
}

/// Query pairs as `&str` tuples, for comparing with literals.
pub(crate) fn pairs(query: &[(String, String)]) -> Vec<(&str, &str)> {
    query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[test]
fn fixtures_round_trip() {
    check_family("sessions", |path, rust_type, value| match rust_type {
        "Session" => {
            round_trip::<Session>(path, value);
            true
        }
        "SessionResource" => {
            let resource = round_trip::<SessionResource>(path, value);
            assert!(!resource.is_other(), "{}: decoded as Other", path.display());
            true
        }
        "SessionThread" => {
            let thread = round_trip::<SessionThread>(path, value);
            assert!(
                !thread.agent.is_other(),
                "{}: agent decoded as Other",
                path.display()
            );
            true
        }
        "OutcomeEvaluation" => {
            round_trip::<OutcomeEvaluation>(path, value);
            true
        }
        "Deleted" => {
            round_trip::<Deleted>(path, value);
            true
        }
        _ => false,
    });
}

#[test]
fn full_session_decodes_typed() {
    let session: Session =
        serde_json::from_value(fixture_value("sessions", "session_full")).unwrap();
    assert_eq!(session.kind, "session");
    assert_eq!(session.status, SessionStatus::Idle);
    assert_eq!(session.agent.version, 3);
    assert_eq!(session.agent.multiagent, None);
    assert_eq!(
        session.budget.as_ref().and_then(Budget::max_list_cost),
        Some(&Money::usd_cents(2500))
    );
    let kinds: Vec<&str> = session
        .resources
        .iter()
        .map(SessionResource::type_name)
        .collect();
    assert_eq!(kinds, ["github_repository", "file", "memory_store"]);
    let SessionResource::GithubRepository(repo) = &session.resources[0] else {
        panic!()
    };
    assert_eq!(repo.checkout, Some(Checkout::branch("main")));
    let SessionResource::MemoryStore(store) = &session.resources[2] else {
        panic!()
    };
    assert_eq!(store.access, Some(MemoryStoreAccess::ReadOnly));
    assert_eq!(
        session.outcome_evaluations[0].result,
        OutcomeResult::Evaluating
    );
    assert_eq!(
        session
            .usage
            .list_cost
            .as_ref()
            .and_then(Money::minor_units),
        Some(41)
    );
    assert_eq!(session.stats.active_seconds, Some(42.7));

    let coordinator: Session =
        serde_json::from_value(fixture_value("sessions", "session_multiagent_coordinator"))
            .unwrap();
    let Some(SessionMultiagent::Coordinator(c)) = &coordinator.agent.multiagent else {
        panic!()
    };
    assert!(matches!(&c.agents[0], SessionRosterAgent::Agent(a) if a.name == "Web researcher"));
    assert!(
        matches!(&c.agents[1], SessionRosterAgent::Advisor(a) if a.model.as_str() == "claude-opus-4-8")
    );
}

#[test]
fn unknown_values_are_kept() {
    let raw = json!({"type": "s3_bucket", "id": "sesrsc_9", "bucket": "b"});
    let resource: SessionResource = serde_json::from_value(raw.clone()).unwrap();
    assert!(resource.is_other());
    assert_eq!(serde_json::to_value(&resource).unwrap(), raw);

    let status: SessionStatus = serde_json::from_value(json!("hibernating")).unwrap();
    assert!(status.is_other());
    assert_eq!(status.as_str(), "hibernating");
    assert_eq!(serde_json::to_value(&status).unwrap(), json!("hibernating"));
}

fn private_repo() -> GithubRepositoryResourceParam {
    GithubRepositoryResourceParam::new("https://github.com/acme/api")
        .token(SecretString::from(TOKEN))
        .checkout(Checkout::branch("main"))
}

#[test]
fn create_with_agent_id() {
    let body = SessionCreate::new(
        "agent_01HqR2k7vXbZ9mNpL3wYcT8f",
        "env_011CZkZ9X2dpNyB7HsEFoRfW",
    );
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        request_fixture("sessions", "create_agent_id")
    );
}

#[test]
fn create_with_agent_ref_resources_and_initial_events() {
    let mut body = SessionCreate::new(
        AgentRef::new("agent_01HqR2k7vXbZ9mNpL3wYcT8f", 3),
        "env_011CZkZ9X2dpNyB7HsEFoRfW",
    );
    body.title = Some("Refactor auth module".into());
    body.vault_ids = vec!["vlt_011CZkZE7hGq3nXcJ2dWbRtK".into()];
    body.resources = vec![
        private_repo().into(),
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
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        request_fixture("sessions", "create_agent_ref")
    );

    let latest = SessionCreate::new(
        AgentRef {
            id: "agent_01HqR2k7vXbZ9mNpL3wYcT8f".into(),
            version: None,
        },
        "env_011CZkZ9X2dpNyB7HsEFoRfW",
    );
    assert_eq!(
        serde_json::to_value(&latest).unwrap(),
        request_fixture("sessions", "create_agent_ref_latest")
    );
}

#[test]
fn create_with_agent_overrides() {
    let mut overrides = AgentWithOverrides::new("agent_01HqR2k7vXbZ9mNpL3wYcT8f");
    overrides.version = Some(3);
    overrides.system = Some(None);
    overrides.tools = Some(vec![]);
    overrides.mcp_servers = Some(vec![]);
    overrides.skills = Some(vec![]);
    let body = SessionCreate::new(overrides, "env_011CZkZ9X2dpNyB7HsEFoRfW");
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        request_fixture("sessions", "create_agent_with_overrides")
    );
}

#[test]
fn github_token_is_write_only_and_redacted() {
    let mut body = SessionCreate::new("agent_1", "env_1");
    body.resources.push(private_repo().into());
    let debug = format!("{body:?}");
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(debug.contains("https://github.com/acme/api"));
    assert!(serde_json::to_string(&body).unwrap().contains(TOKEN));

    let rotate = RotateResourceToken::new(SecretString::from(TOKEN));
    assert!(!format!("{rotate:?}").contains(TOKEN));
    assert_eq!(
        serde_json::to_value(&rotate).unwrap(),
        json!({"authorization_token": TOKEN})
    );

    assert_eq!(
        serde_json::to_value(ResourceParam::github_repository(
            "https://github.com/acme/docs"
        ))
        .unwrap(),
        json!({"type": "github_repository", "url": "https://github.com/acme/docs"})
    );

    // Equality compares the token too.
    assert_eq!(private_repo(), private_repo());
    assert_ne!(
        private_repo(),
        private_repo().token(SecretString::from("ghp_other"))
    );
}

#[test]
fn update_omits_nulls_and_sets() {
    assert_eq!(
        serde_json::to_value(SessionUpdate::default()).unwrap(),
        request_fixture("sessions", "update_omit")
    );

    let clear = SessionUpdate {
        title: Some(None),
        budget: Some(None),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&clear).unwrap(),
        request_fixture("sessions", "update_null")
    );

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
    assert_eq!(
        serde_json::to_value(&set).unwrap(),
        request_fixture("sessions", "update_values")
    );
}

#[test]
fn add_file_resource_body() {
    let mut body = AddFileResource::new("file_011CNha8iCJcU1wXNR6q4V8w");
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        request_fixture("sessions", "add_file_resource_default_path")
    );
    body.mount_path = Some("/data.csv".into());
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        request_fixture("sessions", "add_file_resource")
    );
}

#[test]
fn list_queries() {
    assert!(ListSessions::default().to_query().is_empty());
    let query = ListSessions {
        limit: Some(20),
        order: Some(Order::Asc),
        include_archived: Some(true),
        agent_id: Some("agent_1".into()),
        agent_version: Some(3),
        deployment_id: Some("depl_1".into()),
        memory_store_id: Some("memstore_1".into()),
        statuses: vec![SessionStatus::Idle, SessionStatus::Running],
        created_at: CreatedAtRange {
            gte: Some("2026-03-15T10:00:00Z".parse().unwrap()),
            lt: Some("2026-03-16T00:00:00Z".parse().unwrap()),
            ..Default::default()
        },
    }
    .to_query();
    assert_eq!(
        pairs(&query),
        [
            ("limit", "20"),
            ("order", "asc"),
            ("include_archived", "true"),
            ("agent_id", "agent_1"),
            ("agent_version", "3"),
            ("deployment_id", "depl_1"),
            ("memory_store_id", "memstore_1"),
            ("statuses[]", "idle"),
            ("statuses[]", "running"),
            ("created_at[gte]", "2026-03-15T10:00:00Z"),
            ("created_at[lt]", "2026-03-16T00:00:00Z"),
        ]
    );

    assert!(ListThreads::default().to_query().is_empty());
    let query = ListThreads {
        limit: Some(50),
        statuses: vec![
            SessionStatus::Terminated,
            SessionStatus::Other("paused".into()),
        ],
    }
    .to_query();
    assert_eq!(
        pairs(&query),
        [
            ("limit", "50"),
            ("statuses[]", "terminated"),
            ("statuses[]", "paused")
        ]
    );

    assert!(ListResources::default().to_query().is_empty());
    assert_eq!(
        pairs(&ListResources { limit: Some(1000) }.to_query()),
        [("limit", "1000")]
    );
}
