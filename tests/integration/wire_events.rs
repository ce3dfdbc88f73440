//! Wire fixtures for the events family.

use std::collections::BTreeSet;

use claude_agents::api::types::Order;
use claude_agents::api::types::events::*;
use claude_agents::api::types::sessions::Budget;
use serde_json::{Value, json};

use crate::fixtures::{check_family, fixtures, round_trip};
use crate::wire_sessions::{pairs, request_fixture};

/// The persisted event types listed in reference `sessions.md` §11.
const REFERENCE_TYPES: [&str; 42] = [
    "user.message",
    "user.interrupt",
    "user.tool_confirmation",
    "user.custom_tool_result",
    "user.tool_result",
    "user.define_outcome",
    "system.message",
    "agent.message",
    "agent.thinking",
    "agent.tool_use",
    "agent.tool_result",
    "agent.mcp_tool_use",
    "agent.mcp_tool_result",
    "agent.custom_tool_use",
    "agent.thread_message_sent",
    "agent.thread_message_received",
    "agent.thread_context_compacted",
    "session.error",
    "session.status_rescheduled",
    "session.status_running",
    "session.status_idle",
    "session.status_terminated",
    "session.thread_created",
    "session.thread_status_running",
    "session.thread_status_idle",
    "session.thread_status_rescheduled",
    "session.thread_status_terminated",
    "session.updated",
    "session.usage",
    "session.deleted",
    "span.model_request_start",
    "span.model_request_end",
    "span.outcome_evaluation_start",
    "span.outcome_evaluation_ongoing",
    "span.outcome_evaluation_end",
    "workflow_run.created",
    "workflow_run.status_running",
    "workflow_run.status_idle",
    "workflow_run.status_ended",
    "workflow_run.error",
    "workflow_run.phase_started",
    "workflow_run.phase_ended",
];

fn type_of(value: &Value) -> &str {
    value["type"].as_str().unwrap()
}

#[test]
fn fixtures_round_trip() {
    check_family("events", |path, rust_type, value| match rust_type {
        "SessionEvent" => {
            let event = round_trip::<SessionEvent>(path, value);
            assert!(!event.is_other(), "{}: decoded as Other", path.display());
            assert_eq!(event.type_name(), type_of(value));
            assert_eq!(event.raw_id(), value["id"].as_str());
            // Every persisted event is also a valid stream frame.
            let frame = round_trip::<StreamEvent>(path, value);
            assert!(!frame.is_preview());
            assert_eq!(frame.into_session_event(), Some(event));
            true
        }
        "StreamEvent" => {
            let frame = round_trip::<StreamEvent>(path, value);
            assert!(!frame.is_other(), "{}: decoded as Other", path.display());
            assert_eq!(frame.type_name(), type_of(value));
            true
        }
        "ContentBlock" => {
            let block = round_trip::<ContentBlock>(path, value);
            assert!(!block.is_other(), "{}: decoded as Other", path.display());
            true
        }
        "SendEventsResponse" => {
            let response = round_trip::<SendEventsResponse>(path, value);
            assert!(response.data.iter().all(|e| !e.is_other()));
            true
        }
        _ => false,
    });
}

#[test]
fn known_types_are_the_reference_list() {
    let reference: BTreeSet<&str> = REFERENCE_TYPES.into_iter().collect();
    assert_eq!(reference.len(), 42);
    let known: BTreeSet<&str> = SessionEvent::KNOWN_TYPES.iter().copied().collect();
    assert_eq!(
        known.len(),
        SessionEvent::KNOWN_TYPES.len(),
        "duplicate tag"
    );
    assert_eq!(known, reference);

    let stream: BTreeSet<&str> = StreamEvent::KNOWN_TYPES.iter().copied().collect();
    let mut expected = reference.clone();
    expected.extend(["event_start", "event_delta"]);
    assert_eq!(stream, expected);
}

#[test]
fn every_event_type_has_a_fixture() {
    let mut persisted = BTreeSet::new();
    let mut stream_only = BTreeSet::new();
    for (_, rust_type, value) in fixtures("events") {
        match rust_type.as_str() {
            "SessionEvent" => {
                persisted.insert(type_of(&value).to_owned());
            }
            "StreamEvent" => {
                stream_only.insert(type_of(&value).to_owned());
            }
            _ => {}
        }
    }
    let missing: Vec<_> = REFERENCE_TYPES
        .iter()
        .filter(|t| !persisted.contains(**t))
        .collect();
    assert!(missing.is_empty(), "no fixture for {missing:?}");
    assert!(stream_only.contains("event_start") && stream_only.contains("event_delta"));
}

#[test]
fn unknown_event_type_is_kept_whole() {
    let raw = json!({
        "type": "agent.daydream",
        "id": "sevt_9",
        "processed_at": "2026-03-15T10:00:00Z",
        "payload": {"nested": [1, 2.5, null, "x"], "flag": true}
    });
    let event: SessionEvent = serde_json::from_value(raw.clone()).unwrap();
    assert!(event.is_other());
    assert_eq!(event.type_name(), "agent.daydream");
    assert_eq!(event.id(), None);
    assert_eq!(event.raw_id(), Some("sevt_9"));
    assert_eq!(
        event.processed_at(),
        Some("2026-03-15T10:00:00Z".parse().unwrap())
    );
    assert!(!event.is_terminal());
    assert_eq!(serde_json::to_value(&event).unwrap(), raw);
    // Byte-identical re-encoding from text, too.
    let text = raw.to_string();
    let again: SessionEvent = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string(&again).unwrap(), text);

    let frame: StreamEvent = serde_json::from_value(raw.clone()).unwrap();
    assert!(frame.is_other());
    assert_eq!(serde_json::to_value(&frame).unwrap(), raw);
    assert_eq!(frame.into_session_event(), Some(event));
}

#[test]
fn unknown_nested_variants_are_kept_whole() {
    let raw = json!({
        "type": "session.status_idle", "id": "sevt_1", "processed_at": "2026-03-15T10:00:00Z",
        "stop_reason": {"type": "nap_time", "minutes": 5}, "stop_details": null
    });
    let SessionEvent::SessionStatusIdle(idle) = serde_json::from_value(raw.clone()).unwrap() else {
        panic!("not idle")
    };
    assert!(idle.stop_reason.is_other());
    assert!(idle.turn_ended(), "an unknown stop reason ends the turn");
    assert_eq!(
        serde_json::to_value(SessionEvent::SessionStatusIdle(idle)).unwrap(),
        raw
    );

    let raw = json!({
        "type": "session.error", "id": "sevt_2", "processed_at": "2026-03-15T10:00:00Z",
        "error": {"type": "gremlin_error", "message": "Gremlins", "retry_status": {"type": "exhausted"}}
    });
    let SessionEvent::SessionError(e) = serde_json::from_value(raw.clone()).unwrap() else {
        panic!("not an error")
    };
    assert!(e.error.is_other());
    assert_eq!(e.error.message(), Some("Gremlins"));
    assert_eq!(e.error.retry_status(), Some(RetryStatus::Exhausted));
    assert_eq!(
        serde_json::to_value(SessionEvent::SessionError(e)).unwrap(),
        raw
    );

    let perm: EvaluatedPermission = serde_json::from_value(json!("maybe")).unwrap();
    assert_eq!(perm, EvaluatedPermission::Other("maybe".into()));
    assert_eq!(serde_json::to_value(&perm).unwrap(), json!("maybe"));
}

#[test]
fn known_type_with_bad_field_names_the_path() {
    // `type` first, as the API sends it: streamed, the tracker names the full path.
    let (path, err) = crate::fixtures::decode_err::<SessionEvent>(
        r#"{"type":"agent.tool_use","id":"sevt_1","name":"bash","input":[1],"processed_at":"2026-03-15T10:00:00Z"}"#,
    );
    assert_eq!(path, "input");
    assert!(err.contains("in `agent.tool_use`"), "{err}");
    // `type` last: decoded via `Value`, the message carries the path.
    let err = serde_json::from_str::<SessionEvent>(
        r#"{"id":"sevt_1","name":"bash","input":[1],"type":"agent.tool_use"}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("in `agent.tool_use` at `input`"), "{err}");

    let (path, err) = crate::fixtures::decode_err::<SessionEvent>(
        r#"{"type":"session.status_idle","id":"sevt_1","processed_at":"2026-03-15T10:00:00Z","stop_reason":{"type":"requires_action","event_ids":["sevt_2",3]}}"#,
    );
    assert_eq!(path, "stop_reason.event_ids[1]");
    assert!(
        err.contains("in `session.status_idle`: in `requires_action`"),
        "{err}"
    );

    let err =
        serde_json::from_value::<SessionEvent>(json!({"type": "agent.custom_tool_use", "id": "x"}))
            .unwrap_err()
            .to_string();
    assert!(
        err.contains("in `agent.custom_tool_use`") && err.contains("`name`"),
        "{err}"
    );

    let (path, err) = crate::fixtures::decode_err::<Vec<StreamEvent>>(
        r#"[{"type":"event_start","event":{"type":"agent.message","id":"sevt_1"}},
            {"type":"event_delta","event_id":"sevt_1","delta":{"type":"content_delta","index":"zero","content":{"type":"text","text":"x"}}}]"#,
    );
    assert_eq!(path, "[1].delta.index");
    assert!(
        err.contains("in `event_delta`: in `content_delta`"),
        "{err}"
    );
}

fn decode(value: Value) -> SessionEvent {
    serde_json::from_value(value).unwrap()
}

#[test]
fn event_helpers() {
    let queued =
        decode(json!({"type":"user.message","id":"sevt_1","processed_at":null,"content":[]}));
    assert_eq!(queued.id().map(|i| i.as_str()), Some("sevt_1"));
    assert_eq!(queued.processed_at(), None);
    let missing = decode(json!({"type":"user.message","id":"sevt_1","content":[]}));
    assert_eq!(missing, queued, "absent processed_at equals null");

    for terminal in ["session.status_terminated", "session.deleted"] {
        let e = decode(
            json!({"type": terminal, "id": "sevt_1", "processed_at": "2026-03-15T10:00:00Z"}),
        );
        assert!(e.is_terminal(), "{terminal}");
    }
    let running = decode(
        json!({"type":"session.status_running","id":"sevt_1","processed_at":"2026-03-15T10:00:00Z"}),
    );
    assert!(!running.is_terminal());
    assert_eq!(
        running.processed_at(),
        Some("2026-03-15T10:00:00Z".parse().unwrap())
    );

    let idle = |stop_reason: Value| match decode(json!({
        "type":"session.status_idle","id":"sevt_1","processed_at":"2026-03-15T10:00:00Z",
        "stop_reason": stop_reason
    })) {
        SessionEvent::SessionStatusIdle(idle) => idle,
        other => panic!("{other:?}"),
    };
    assert!(idle(json!({"type":"end_turn"})).turn_ended());
    assert!(idle(json!({"type":"budget_reached"})).turn_ended());
    let blocked = idle(json!({"type":"requires_action","event_ids":["sevt_7"]}));
    assert!(!blocked.turn_ended());
    let StopReason::RequiresAction(action) = &blocked.stop_reason else {
        panic!()
    };
    assert_eq!(action.event_ids[0].as_str(), "sevt_7");

    let SessionEvent::AgentMessage(message) = decode(json!({
        "type":"agent.message","id":"sevt_1","processed_at":"2026-03-15T10:00:00Z",
        "content":[{"type":"text","text":"a"},{"type":"redacted"},{"type":"text","text":"b"}]
    })) else {
        panic!()
    };
    assert_eq!(message.text(), "ab");

    let SessionEvent::SessionError(error) = decode(json!({
        "type":"session.error","id":"sevt_1","processed_at":"2026-03-15T10:00:00Z",
        "error":{"type":"mcp_authentication_failed_error","mcp_server_name":"github",
                 "message":"The MCP server rejected the credential.","retry_status":{"type":"exhausted"}}
    })) else {
        panic!()
    };
    assert_eq!(error.error.type_name(), "mcp_authentication_failed_error");
    assert_eq!(
        error.error.message(),
        Some("The MCP server rejected the credential.")
    );
    assert_eq!(error.error.retry_status(), Some(RetryStatus::Exhausted));

    let SessionEvent::AgentToolUse(tool) = decode(json!({
        "type":"agent.tool_use","id":"sevt_1","processed_at":"2026-03-15T10:00:00Z",
        "name":"bash","input":{"command":"ls"},"evaluated_permission":"ask",
        "evaluation":{"type":"auto","evaluated_permission":{"type":"ask","reason_code":"indeterminate"}}
    })) else {
        panic!()
    };
    assert_eq!(tool.input["command"], "ls");
    assert_eq!(tool.evaluated_permission, Some(EvaluatedPermission::Ask));
    let Some(ToolEvaluation::Auto(auto)) = &tool.evaluation else {
        panic!()
    };
    assert_eq!(
        auto.evaluated_permission,
        AutoEvaluatedPermission::Ask(PermissionReason {
            reason_code: "indeterminate".into()
        })
    );
}

#[test]
fn session_updated_budget_keeps_absent_apart_from_null() {
    let absent = json!({"type":"session.updated","id":"sevt_1","processed_at":"2026-03-15T10:00:00Z","title":"t"});
    let SessionEvent::SessionUpdated(e) = decode(absent.clone()) else {
        panic!()
    };
    assert_eq!(e.budget, None);
    assert!(
        serde_json::to_value(SessionEvent::SessionUpdated(e))
            .unwrap()
            .get("budget")
            .is_none()
    );

    let removed = json!({"type":"session.updated","id":"sevt_1","processed_at":"2026-03-15T10:00:00Z","budget":null});
    let SessionEvent::SessionUpdated(e) = decode(removed) else {
        panic!()
    };
    assert_eq!(e.budget, Some(None));
    assert_eq!(
        serde_json::to_value(SessionEvent::SessionUpdated(e)).unwrap()["budget"],
        Value::Null
    );

    let set = json!({"type":"session.updated","id":"sevt_1","processed_at":"2026-03-15T10:00:00Z",
                     "budget":{"type":"limit","max_list_cost":{"amount":"100","currency":"USD"}}});
    let SessionEvent::SessionUpdated(e) = decode(set) else {
        panic!()
    };
    let budget: Option<&Budget> = e.budget.as_ref().and_then(Option::as_ref);
    assert_eq!(
        budget
            .and_then(Budget::max_list_cost)
            .and_then(|m| m.minor_units()),
        Some(100)
    );
}

#[test]
fn stream_preview_frames() {
    let start: StreamEvent = serde_json::from_value(
        json!({"type":"event_start","event":{"type":"agent.message","id":"sevt_1"}}),
    )
    .unwrap();
    assert!(start.is_preview());
    assert_eq!(start.as_session_event(), None);
    let StreamEvent::EventStart(EventStart {
        event: EventPreview::AgentMessage(preview),
    }) = &start
    else {
        panic!("{start:?}")
    };
    assert_eq!(preview.id.as_str(), "sevt_1");

    let delta: StreamEvent = serde_json::from_value(json!({
        "type":"event_delta","event_id":"sevt_1",
        "delta":{"type":"content_delta","content":{"type":"text","text":"Here"}}
    }))
    .unwrap();
    let StreamEvent::EventDelta(EventDelta {
        event_id,
        delta: Delta::ContentDelta(fragment),
    }) = delta
    else {
        panic!()
    };
    assert_eq!(event_id.as_str(), "sevt_1");
    assert_eq!(fragment.index, None);
    assert_eq!(fragment.content.as_text(), Some("Here"));

    let persisted = decode(
        json!({"type":"agent.thinking","id":"sevt_2","processed_at":"2026-03-15T10:00:00Z"}),
    );
    let frame = StreamEvent::from(persisted.clone());
    assert_eq!(frame.as_session_event(), Some(persisted.clone()));
    assert_eq!(frame.into_session_event(), Some(persisted));
}

#[test]
fn event_param_constructors_match_sdk_request() {
    let body = SendEvents::new(vec![
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
    ]);
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        request_fixture("events", "send_events")
    );

    assert_eq!(
        serde_json::to_value(EventParam::system_message(
            "The user's timezone is America/New_York."
        ))
        .unwrap(),
        request_fixture("events", "system_message")
    );

    let blocks = SendEvents::from(EventParam::user_message_blocks(vec![
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
    ]));
    assert_eq!(
        serde_json::to_value(&blocks).unwrap(),
        request_fixture("events", "send_events_blocks")
    );
}

#[test]
fn list_and_stream_queries() {
    assert!(ListEvents::default().to_query().is_empty());
    let query = ListEvents {
        limit: Some(100),
        order: Some(Order::Desc),
        types: vec!["agent.message".into(), "session.status_idle".into()],
        created_at: CreatedAtRange {
            gt: Some("2026-03-15T10:00:00Z".parse().unwrap()),
            lte: Some("2026-03-15T11:30:00.250Z".parse().unwrap()),
            ..Default::default()
        },
    }
    .to_query();
    assert_eq!(
        pairs(&query),
        [
            ("limit", "100"),
            ("order", "desc"),
            ("types[]", "agent.message"),
            ("types[]", "session.status_idle"),
            ("created_at[gt]", "2026-03-15T10:00:00Z"),
            ("created_at[lte]", "2026-03-15T11:30:00.250Z"),
        ]
    );

    assert!(StreamParams::default().to_query().is_empty());
    let query = StreamParams::with_previews().to_query();
    assert_eq!(
        pairs(&query),
        [
            ("event_deltas[]", "agent.message"),
            ("event_deltas[]", "agent.thinking")
        ]
    );
}
