use serde_json::{Value, json};

use super::*;

/// An SDK-validated fixture's `value`, optionally with fields replaced.
fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["value"].clone()
}

fn event(mut v: Value, patch: Value) -> SessionEvent {
    if let (Some(o), Value::Object(p)) = (v.as_object_mut(), patch) {
        o.extend(p);
    }
    serde_json::from_value(v).unwrap()
}

fn ev(name: &str) -> SessionEvent {
    event(fixture(name), json!({}))
}

fn mapper() -> ActivityMapper {
    ActivityMapper::new(
        "card_1".into(),
        "sesn_1",
        chrono::DateTime::from_timestamp(0, 0).unwrap(),
    )
}

/// (kind, key, text) of every activity.
fn feed(m: &mut ActivityMapper, events: &[SessionEvent]) -> Vec<(ActivityKind, String, String)> {
    events
        .iter()
        .flat_map(|e| m.push(e))
        .map(|a| {
            assert_eq!(a.card.as_str(), "card_1");
            (a.kind, a.key.as_str().to_owned(), a.text)
        })
        .collect()
}

fn tool(name: &str, id: &str, input: Value) -> SessionEvent {
    event(
        fixture("agent.tool_use"),
        json!({"id": id, "name": name, "input": input}),
    )
}

#[test]
fn tool_actions_are_one_line_each() {
    let cases = [
        (
            tool("bash", "e1", json!({"command": "cargo test\n--lib"})),
            "Ran `cargo test…`",
        ),
        (
            tool("bash", "e2", json!({"command": "echo `x`"})),
            "Ran `` echo `x` ``",
        ),
        (
            tool("read", "e3", json!({"file_path": "src/lib.rs"})),
            "Read `src/lib.rs`",
        ),
        (
            tool("edit", "e4", json!({"file_path": "src/lib.rs"})),
            "Edited `src/lib.rs`",
        ),
        (
            tool("write", "e5", json!({"path": "a.txt"})),
            "Wrote `a.txt`",
        ),
        (
            tool("grep", "e6", json!({"pattern": "fn main"})),
            "Searched for `fn main`",
        ),
        (
            tool("glob", "e7", json!({"pattern": "**/*.rs"})),
            "Searched files for `**/*.rs`",
        ),
        (
            tool("web_search", "e8", json!({"query": "rust 1.95"})),
            "Searched the web for `rust 1.95`",
        ),
        (
            tool("web_fetch", "e9", json!({"url": "https://docs.rs"})),
            "Fetched `https://docs.rs`",
        ),
        (tool("bash", "e10", json!({})), "Ran"),
        (tool("future_tool", "e11", json!({})), "Used future_tool"),
        (
            tool("bash", "e12", json!({"command": "x".repeat(200)})),
            &*format!("Ran `{}…`", "x".repeat(80)),
        ),
        (ev("agent.tool_use"), "Ran `ls -la`"),
        (
            event(
                fixture("agent.mcp_tool_use"),
                json!({"evaluated_permission": "allow", "mcp_server_name": "linear", "name": "create_issue"}),
            ),
            "Called linear.create_issue",
        ),
        (ev("agent.custom_tool_use"), "Used get_weather"),
        (
            ev("agent.tool_use__auto_deny"),
            "Not allowed to run `rm -rf /`",
        ),
    ];
    for (e, want) in cases {
        let got = feed(&mut mapper(), &[e]);
        assert_eq!(got.len(), 1, "{want}");
        assert_eq!(got[0].0, ActivityKind::ToolAction);
        assert_eq!(got[0].2, want);
        assert!(!got[0].2.contains('\n'));
    }
    let custom = event(
        fixture("agent.custom_tool_use"),
        json!({"name": crate::reconcile::tools::GET_TASK}),
    );
    assert_eq!(feed(&mut mapper(), &[custom])[0].2, "Used get_task");
}

#[test]
fn a_turn_end_to_end_with_coalesced_thinking_and_final_result() {
    let mut m = mapper();
    let got = feed(
        &mut m,
        &[
            ev("session.status_running"),
            ev("agent.thinking"),
            event(fixture("agent.thinking"), json!({"id": "sevt_th2"})),
            ev("span.model_request_start"),
            event(fixture("agent.thinking"), json!({"id": "sevt_th3"})),
            ev("agent.tool_use"),
            event(fixture("agent.thinking"), json!({"id": "sevt_th4"})),
            ev("agent.message"),
            ev("session.status_idle"),
            ev("session.usage"),
        ],
    );
    let want = vec![
        (
            ActivityKind::StatusChange {
                to: SessionState::Running,
            },
            "sesn_1:sevt_01P",
            "Working",
        ),
        (ActivityKind::Thinking, "sesn_1:sevt_01I", "Thinking…"),
        (ActivityKind::ToolAction, "sesn_1:sevt_01T", "Ran `ls -la`"),
        (ActivityKind::Thinking, "sesn_1:sevt_th4", "Thinking…"),
        (
            ActivityKind::AgentMessage,
            "sesn_1:sevt_01H",
            "Here is the summary…",
        ),
        (
            ActivityKind::FinalResult,
            "sesn_1:sevt_01H:result",
            "Here is the summary…",
        ),
        (
            ActivityKind::StatusChange {
                to: SessionState::Idle,
            },
            "sesn_1:sevt_01Q",
            "Finished its turn",
        ),
    ];
    let got: Vec<(ActivityKind, &str, &str)> = got
        .iter()
        .map(|(k, key, t)| (k.clone(), key.as_str(), t.as_str()))
        .collect();
    assert_eq!(got, want);
    // Times come from processed_at.
    let a = mapper().push(&ev("agent.message"));
    assert_eq!(a[0].at.to_rfc3339(), "2026-03-15T10:01:20+00:00");
}

#[test]
fn replay_yields_the_same_keys() {
    let events = [
        ev("session.status_running"),
        ev("agent.thinking"),
        ev("agent.tool_use__always_ask"),
        event(
            fixture("session.status_idle__requires_action"),
            json!({"stop_reason": {"type": "requires_action", "event_ids": ["sevt_03C"]}}),
        ),
        ev("agent.message"),
        ev("session.status_idle"),
    ];
    let keys = |m: &mut ActivityMapper| -> Vec<String> {
        feed(m, &events).into_iter().map(|(_, k, _)| k).collect()
    };
    let first = keys(&mut mapper());
    assert_eq!(first, keys(&mut mapper()));
    let unique: std::collections::HashSet<&String> = first.iter().collect();
    assert_eq!(unique.len(), first.len());
}

#[test]
fn approvals_one_per_tool_use_awaiting_confirmation() {
    let mut m = mapper();
    let ask_bash = event(
        fixture("agent.tool_use__always_ask"),
        json!({"id": "sevt_011CZkZBg"}),
    );
    let ask_mcp = event(
        fixture("agent.mcp_tool_use"),
        json!({"id": "sevt_011CZkZBk"}),
    );
    let custom = event(fixture("agent.custom_tool_use"), json!({"id": "sevt_c"}));
    let got = feed(
        &mut m,
        &[ev("session.status_running"), ask_bash, ask_mcp, custom],
    );
    // Asked tool uses show nothing yet; the custom tool use is an action.
    assert_eq!(got.len(), 2);
    let idle = ev("session.status_idle__requires_action");
    let got = feed(&mut m, std::slice::from_ref(&idle));
    assert_eq!(
        got,
        vec![
            (
                ActivityKind::ApprovalNeeded {
                    request: "sevt_011CZkZBg".into()
                },
                "sesn_1:sevt_011CZkZBg:approval".into(),
                "Approval needed to run `pytest -q`".into(),
            ),
            (
                ActivityKind::ApprovalNeeded {
                    request: "sevt_011CZkZBk".into()
                },
                "sesn_1:sevt_011CZkZBk:approval".into(),
                "Approval needed to call github.create_pull_request".into(),
            ),
            (
                ActivityKind::StatusChange {
                    to: SessionState::AwaitingInput
                },
                "sesn_1:sevt_011CZkZBh".into(),
                "Waiting for approval".into(),
            ),
        ]
    );
    // Allow one, deny the other: the action lines appear, keyed by the tool use.
    let allow = event(
        fixture("agent.thinking"),
        json!({"type": "user.tool_confirmation", "id": "sevt_u1", "tool_use_id": "sevt_011CZkZBg", "result": "allow"}),
    );
    let deny = event(
        fixture("agent.thinking"),
        json!({"type": "user.tool_confirmation", "id": "sevt_u2", "tool_use_id": "sevt_011CZkZBk", "result": "deny", "deny_message": "no"}),
    );
    let got = feed(&mut m, &[allow, deny]);
    assert_eq!(
        got.iter()
            .map(|(_, k, t)| (k.as_str(), t.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("sesn_1:sevt_011CZkZBg", "Ran `pytest -q`"),
            (
                "sesn_1:sevt_011CZkZBk",
                "Denied permission to call github.create_pull_request"
            ),
        ]
    );
    // An idle that lists only custom tool uses (answered by the launcher) shows nothing.
    let idle_custom = event(
        fixture("session.status_idle__requires_action"),
        json!({"id": "sevt_i2", "stop_reason": {"type": "requires_action", "event_ids": ["sevt_c"]}}),
    );
    assert!(feed(&mut m, &[idle_custom]).is_empty());
}

#[test]
fn errors_and_stop_reasons_and_termination() {
    let got = feed(&mut mapper(), &[ev("session.error")]);
    assert_eq!(got[0].0, ActivityKind::Error);
    assert_eq!(got[0].2, "model_overloaded_error: Overloaded (retrying)");
    let unknown_err = event(
        fixture("session.error"),
        json!({"error": {"type": "brand_new_error", "message": "Boom", "retry_status": {"type": "terminal"}}}),
    );
    let mut m = mapper();
    let got = feed(&mut m, &[unknown_err, ev("session.status_terminated")]);
    assert_eq!(got[0].2, "brand_new_error: Boom (the session will end)");
    assert_eq!(
        got[1].0,
        ActivityKind::StatusChange {
            to: SessionState::Failed
        }
    );
    // Without a terminal error, termination (archive) is a stop.
    let got = feed(&mut mapper(), &[ev("session.status_terminated")]);
    assert_eq!(
        got[0].0,
        ActivityKind::StatusChange {
            to: SessionState::Stopped
        }
    );

    for (fx, to, text) in [
        (
            "session.status_idle__budget_reached",
            SessionState::AwaitingInput,
            "Paused: the session budget is used up",
        ),
        (
            "session.status_idle__retries_exhausted",
            SessionState::Idle,
            "Stopped after repeated errors",
        ),
        (
            "session.status_idle__refusal",
            SessionState::Idle,
            "Stopped: the model refused (The request was refused.)",
        ),
        (
            "session.status_idle__refusal_no_category",
            SessionState::Idle,
            "Stopped: the model refused",
        ),
    ] {
        let got = feed(&mut mapper(), &[ev("session.status_running"), ev(fx)]);
        assert_eq!(got[1].0, ActivityKind::StatusChange { to }, "{fx}");
        assert!(got[1].2.starts_with(text), "{fx}: {}", got[1].2);
    }
    let future = event(
        fixture("session.status_idle"),
        json!({"stop_reason": {"type": "nap_time"}}),
    );
    assert_eq!(feed(&mut mapper(), &[future])[0].2, "Stopped (nap_time)");
}

#[test]
fn repeated_status_unknown_events_and_empty_messages_yield_nothing() {
    let mut m = mapper();
    assert_eq!(feed(&mut m, &[ev("session.status_running")]).len(), 1);
    let again = event(fixture("session.status_running"), json!({"id": "sevt_r2"}));
    assert!(feed(&mut m, &[again]).is_empty());
    let unknown: SessionEvent =
        serde_json::from_value(json!({"type": "agent.teleported", "id": "sevt_x"})).unwrap();
    assert!(feed(&mut m, &[unknown]).is_empty());
    let only_redacted = event(
        fixture("agent.message__redacted"),
        json!({"content": [{"type": "redacted"}]}),
    );
    assert!(feed(&mut m, &[only_redacted]).is_empty());
    let got = feed(&mut m, &[ev("agent.message__redacted")]);
    assert_eq!(got[0].2, "Part one. Part two.");
    for name in [
        "session.usage",
        "span.model_request_end",
        "session.updated",
        "agent.tool_result",
    ] {
        assert!(feed(&mut m, &[ev(name)]).is_empty(), "{name}");
    }
    // A new user turn forgets the previous turn's last message: no stale final result.
    let mut m = mapper();
    let user = event(
        fixture("system.message"),
        json!({"type": "user.message", "id": "sevt_um"}),
    );
    let got = feed(
        &mut m,
        &[ev("agent.message"), user, ev("session.status_idle")],
    );
    assert!(got.iter().all(|(k, _, _)| *k != ActivityKind::FinalResult));
}
