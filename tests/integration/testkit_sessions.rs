//! The fake API's sessions: create rules, the default and custom scripts end to end (stream,
//! follow, history), tool waits, errors, interrupt, terminate, archive, delete, metadata,
//! page cursors, previews and heartbeats — driven by our own client.
//!
//! Every test talks to a real loopback socket, so scripts run without delays and nothing
//! sleeps; reads are bounded by a timeout guard only.

use std::time::Duration;

use claude_agents::api::follow::FollowOptions;
use claude_agents::api::types::agents::{
    AgentCreate, AgentToolsetParams, PermissionPolicy, ToolConfigParams, ToolParam,
};
use claude_agents::api::types::events::{
    EventParam, ListEvents, StreamEvent, StreamParams, TextRubric, ToolConfirmationResult,
};
use claude_agents::api::types::sessions::{
    AddFileResource, AgentRef, AgentWithOverrides, Budget, GithubRepositoryResourceParam,
    ListSessions, ListThreads, ResourceParam, RotateResourceToken, SessionAgentUpdate,
    SessionCreate, SessionStatus, SessionUpdate,
};
use claude_agents::api::types::{AgentId, Money, Order, SessionId};
use claude_agents::api::{Client, Error};
use claude_agents::testkit::script::{Permission, RetryStatus, Script, Step};
use claude_agents::testkit::{FakeApi, FakeConfig};
use futures_util::{Stream, StreamExt, TryStreamExt};
use secrecy::SecretString;
use serde_json::{Value, json};

const GUARD: Duration = Duration::from_secs(20);

/// Stores an environment directly (the environments routes live elsewhere).
fn environment(fake: &FakeApi, id: &str, kind: &str) -> String {
    assert!(fake.insert_object(
        "environment",
        json!({
            "type": "environment",
            "id": id,
            "name": id,
            "description": null,
            "config": {"type": kind},
            "metadata": {},
            "scope": "organization",
            "created_at": "2026-03-15T10:00:00Z",
            "updated_at": "2026-03-15T10:00:00Z",
            "archived_at": null,
        }),
    ));
    id.to_owned()
}

struct Setup {
    fake: FakeApi,
    client: Client,
    agent: AgentId,
    env: String,
}

async fn setup_with(config: FakeConfig, agent: AgentCreate) -> Setup {
    let fake = FakeApi::start_with(config).await.unwrap();
    let client = fake.client();
    let agent = client.agents().create(&agent).await.unwrap().id;
    let env = environment(&fake, "env_011CZfakeCloud", "cloud");
    Setup {
        fake,
        client,
        agent,
        env,
    }
}

async fn setup() -> Setup {
    let mut agent = AgentCreate::new("Coder", "claude-opus-4-8");
    agent.tools = vec![ToolParam::agent_toolset()];
    setup_with(FakeConfig::default(), agent).await
}

impl Setup {
    async fn session(&self) -> SessionId {
        self.client
            .sessions()
            .create(&SessionCreate::new(self.agent.clone(), self.env.as_str()))
            .await
            .unwrap()
            .id
    }

    async fn say(&self, id: &SessionId, text: &str) -> Value {
        let resp = self
            .client
            .sessions()
            .events(id)
            .send(vec![EventParam::user_message(text)])
            .await
            .unwrap();
        json(&resp.data[0])
    }

    async fn send(&self, id: &SessionId, event: EventParam) -> Result<Value, Error> {
        let resp = self.client.sessions().events(id).send(vec![event]).await?;
        Ok(json(&resp.data[0]))
    }

    async fn history(&self, id: &SessionId) -> Vec<Value> {
        let events: Vec<_> = self
            .client
            .sessions()
            .events(id)
            .list(&ListEvents::default())
            .try_collect()
            .await
            .unwrap();
        events.iter().map(json).collect()
    }
}

fn json(v: &impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap()
}

fn kind(e: &Value) -> &str {
    e["type"].as_str().unwrap_or("")
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(kind).collect()
}

fn is_turn_end(e: &Value) -> bool {
    kind(e) == "session.status_idle" && e["stop_reason"]["type"] != "requires_action"
}

fn is_requires_action(e: &Value) -> bool {
    kind(e) == "session.status_idle" && e["stop_reason"]["type"] == "requires_action"
}

/// Reads frames (as JSON) up to and including the first one matching `stop`.
async fn read_until<S>(stream: &mut S, stop: impl Fn(&Value) -> bool) -> Vec<Value>
where
    S: Stream<Item = Result<StreamEvent, Error>> + Unpin,
{
    let mut out = Vec::new();
    tokio::time::timeout(GUARD, async {
        while let Some(item) = stream.next().await {
            let event = json(&item.unwrap());
            let done = stop(&event);
            out.push(event);
            if done {
                return;
            }
        }
        panic!("stream ended before the expected event: {out:#?}");
    })
    .await
    .unwrap_or_else(|_| panic!("timed out; got {out:#?}"));
    out
}

/// Reads the rest of a stream that must end.
async fn read_to_end<S>(stream: &mut S) -> Vec<Value>
where
    S: Stream<Item = Result<StreamEvent, Error>> + Unpin,
{
    tokio::time::timeout(GUARD, async {
        let mut out = Vec::new();
        while let Some(item) = stream.next().await {
            out.push(json(&item.unwrap()));
        }
        out
    })
    .await
    .expect("the stream should end")
}

#[tokio::test]
async fn testkit_sessions_default_script_end_to_end() {
    let s = setup().await;
    let id = s.session().await;
    let session = s.client.sessions().retrieve(&id).await.unwrap();
    assert_eq!(session.status, SessionStatus::Idle);
    assert_eq!(session.agent.id, s.agent);
    assert_eq!(session.agent.version, 1);
    assert_eq!(session.usage.input_tokens, Some(0));
    assert!(session.outcome_evaluations.is_empty());

    let mut stream = s
        .client
        .sessions()
        .events(&id)
        .stream(&StreamParams::default())
        .await
        .unwrap();
    let sent = s.say(&id, "Summarise the README").await;
    assert_eq!(sent["processed_at"], Value::Null);
    assert!(sent["id"].as_str().unwrap().starts_with("sevt_"));

    let live = read_until(&mut stream, is_turn_end).await;
    assert_eq!(
        kinds(&live),
        [
            "user.message",
            "session.status_running",
            "user.message",
            "span.model_request_start",
            "agent.thinking",
            "agent.message",
            "span.model_request_end",
            "session.status_idle",
        ]
    );
    // The double echo: queued, then processed, same id.
    assert_eq!(live[0]["id"], sent["id"]);
    assert_eq!(live[0]["processed_at"], Value::Null);
    assert_eq!(live[2]["id"], sent["id"]);
    assert!(live[2]["processed_at"].is_string());
    assert_eq!(live[5]["content"][0]["text"], "Hello from the fake agent.");
    assert_eq!(live[6]["model_request_start_id"], live[3]["id"]);
    assert_eq!(live[7]["stop_reason"], json!({"type": "end_turn"}));

    // The history holds each event once, in its latest form, in the same order.
    let history = s.history(&id).await;
    let mut expected = live.clone();
    expected.remove(0);
    assert_eq!(history, expected);

    // Newest first, and filtered by type and by processed_at.
    let desc: Vec<_> = s
        .client
        .sessions()
        .events(&id)
        .list(&ListEvents {
            order: Some(Order::Desc),
            types: vec!["agent.message".into(), "session.status_idle".into()],
            ..ListEvents::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        kinds(&desc.iter().map(json).collect::<Vec<_>>()),
        ["session.status_idle", "agent.message"]
    );
    let mut after = ListEvents::default();
    after.created_at.gt = Some(live[5]["processed_at"].as_str().unwrap().parse().unwrap());
    let later: Vec<_> = s
        .client
        .sessions()
        .events(&id)
        .list(&after)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(later.len(), 2, "model_request_end and idle");

    let session = s.client.sessions().retrieve(&id).await.unwrap();
    assert_eq!(session.status, SessionStatus::Idle);
    assert_eq!(session.usage.input_tokens, Some(100));
    assert_eq!(session.usage.output_tokens, Some(50));
    assert_eq!(
        s.fake.session_events(id.as_str()).len(),
        history.len(),
        "inspection agrees with the API"
    );

    // The primary thread mirrors the session.
    let threads: Vec<_> = s
        .client
        .sessions()
        .threads(&id)
        .list(&ListThreads::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0].session_id, id);
    assert_eq!(threads[0].parent_thread_id, None);
    let thread = s
        .client
        .sessions()
        .threads(&id)
        .retrieve(&threads[0].id)
        .await
        .unwrap();
    assert_eq!(thread.status, SessionStatus::Idle);
    let thread_history: Vec<_> = s
        .client
        .sessions()
        .threads(&id)
        .events(&thread.id, &Default::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(thread_history.len(), history.len());
}

#[tokio::test]
async fn testkit_sessions_follow_reads_to_idle_and_the_history_matches() {
    let s = setup().await;
    let mut create = SessionCreate::new(s.agent.clone(), s.env.as_str());
    create.initial_events = vec![EventParam::user_message("Start")];
    let session = s.client.sessions().create(&create).await.unwrap();
    assert_eq!(session.status, SessionStatus::Running);
    let id = session.id;

    let mut follow = s
        .client
        .sessions()
        .events(&id)
        .follow(StreamParams::default(), FollowOptions::default());
    let mut seen = read_until(&mut follow, is_turn_end).await;
    // A second turn arrives live on the same follow.
    s.say(&id, "Again").await;
    seen.extend(read_until(&mut follow, is_turn_end).await);
    drop(follow);

    // Every sighting at most once: an id appears at most twice (queued, then processed).
    let mut latest: Vec<Value> = Vec::new();
    for e in &seen {
        let sightings = seen.iter().filter(|x| x["id"] == e["id"]).count();
        assert!(sightings <= 2, "{e} seen {sightings} times");
        if let Some(pos) = latest.iter().position(|x| x["id"] == e["id"]) {
            latest.remove(pos);
        }
        latest.push(e.clone());
    }
    assert_eq!(s.history(&id).await, latest);
    assert_eq!(
        latest.iter().filter(|e| is_turn_end(e)).count(),
        2,
        "two turns"
    );
}

#[tokio::test]
async fn testkit_sessions_custom_tool_waits_for_its_result() {
    let s = setup().await;
    let id = s.session().await;
    s.fake.set_script(
        &id,
        Script::new(vec![
            Step::ModelRequestStart,
            Step::custom_tool_use("get_weather", json!({"city": "Paris"})),
            Step::message("It is sunny in Paris."),
            Step::ModelRequestEnd {
                usage: Default::default(),
                is_error: false,
            },
        ]),
    );
    let mut stream = s
        .client
        .sessions()
        .events(&id)
        .stream(&StreamParams::default())
        .await
        .unwrap();
    s.say(&id, "Weather?").await;
    let first = read_until(&mut stream, is_requires_action).await;
    let tool_use = first
        .iter()
        .find(|e| kind(e) == "agent.custom_tool_use")
        .unwrap();
    assert_eq!(tool_use["name"], "get_weather");
    assert_eq!(tool_use["input"], json!({"city": "Paris"}));
    let idle = first.last().unwrap();
    assert_eq!(idle["stop_reason"]["event_ids"], json!([tool_use["id"]]));
    let session = s.client.sessions().retrieve(&id).await.unwrap();
    assert_eq!(session.status, SessionStatus::Idle);

    // Only a pending call can be answered.
    let err = s
        .send(
            &id,
            EventParam::custom_tool_result("sevt_nope", "22°C", false),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));

    let tool_use_id = tool_use["id"].as_str().unwrap();
    let echo = s
        .send(
            &id,
            EventParam::custom_tool_result(tool_use_id, "22°C, sunny", false),
        )
        .await
        .unwrap();
    assert!(echo["processed_at"].is_string(), "processed on receipt");
    let rest = read_until(&mut stream, is_turn_end).await;
    assert_eq!(
        kinds(&rest),
        [
            "user.custom_tool_result",
            "session.status_running",
            "agent.message",
            "span.model_request_end",
            "session.status_idle",
        ]
    );
    assert_eq!(rest[0]["id"], echo["id"], "echoed once, processed");
    assert_eq!(rest[0]["custom_tool_use_id"], tool_use["id"]);
    // Answered once only.
    let err = s
        .send(
            &id,
            EventParam::custom_tool_result(tool_use_id, "again", false),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
}

#[tokio::test]
async fn testkit_sessions_tool_confirmation_allow_and_deny() {
    let mut agent = AgentCreate::new("Careful", "claude-opus-4-8");
    agent.tools = vec![ToolParam::AgentToolset20260401(AgentToolsetParams {
        default_config: Some(ToolConfigParams::default().with_policy(PermissionPolicy::AlwaysAsk)),
        ..AgentToolsetParams::default()
    })];
    let s = setup_with(FakeConfig::default(), agent).await;
    let id = s.session().await;
    // The permission comes from the agent's toolset (always_ask).
    s.fake.set_script(
        &id,
        Script::new(vec![Step::tool_use(
            "bash",
            json!({"command": "ls"}),
            "README.md",
        )]),
    );
    let mut stream = s
        .client
        .sessions()
        .events(&id)
        .stream(&StreamParams::default())
        .await
        .unwrap();

    s.say(&id, "List files").await;
    let asked = read_until(&mut stream, is_requires_action).await;
    let tool_use = asked.iter().find(|e| kind(e) == "agent.tool_use").unwrap();
    assert_eq!(tool_use["evaluated_permission"], "ask");
    assert_eq!(tool_use["evaluation"], json!({"type": "always_ask"}));
    let tool_use_id = tool_use["id"].as_str().unwrap().to_owned();

    let echo = s
        .send(
            &id,
            EventParam::tool_confirmation(
                tool_use_id.as_str(),
                ToolConfirmationResult::Allow,
                None,
            ),
        )
        .await
        .unwrap();
    assert_eq!(echo["processed_at"], Value::Null, "queued");
    let allowed = read_until(&mut stream, is_turn_end).await;
    assert_eq!(
        kinds(&allowed),
        [
            "user.tool_confirmation",
            "user.tool_confirmation",
            "session.status_running",
            "agent.tool_result",
            "session.status_idle",
        ]
    );
    assert_eq!(allowed[1]["id"], echo["id"]);
    assert!(allowed[1]["processed_at"].is_string());
    assert_eq!(allowed[3]["tool_use_id"], tool_use_id.as_str());
    assert_eq!(allowed[3]["is_error"], false);
    assert_eq!(allowed[3]["content"][0]["text"], "README.md");

    // Deny: an error result carrying the deny message.
    s.say(&id, "List again").await;
    let asked = read_until(&mut stream, is_requires_action).await;
    let tool_use_id = asked.last().unwrap()["stop_reason"]["event_ids"][0]
        .as_str()
        .unwrap()
        .to_owned();
    s.send(
        &id,
        EventParam::tool_confirmation(
            tool_use_id.as_str(),
            ToolConfirmationResult::Deny,
            Some("Not now".into()),
        ),
    )
    .await
    .unwrap();
    let denied = read_until(&mut stream, is_turn_end).await;
    let result = denied
        .iter()
        .find(|e| kind(e) == "agent.tool_result")
        .unwrap();
    assert_eq!(result["tool_use_id"], tool_use_id.as_str());
    assert_eq!(result["is_error"], true);
    assert_eq!(result["content"][0]["text"], "Not now");

    // An MCP call with an explicit deny never waits.
    s.fake.set_script(
        &id,
        Script::new(vec![
            Step::mcp_tool_use("github", "merge", json!({}), "merged")
                .with_permission(Permission::Deny),
        ]),
    );
    s.say(&id, "Merge it").await;
    let events = read_until(&mut stream, is_turn_end).await;
    assert_eq!(
        kinds(&events)[3..],
        [
            "agent.mcp_tool_use",
            "agent.mcp_tool_result",
            "session.status_idle"
        ]
    );
    assert_eq!(events[4]["is_error"], true);
    assert_eq!(events[4]["mcp_tool_use_id"], events[3]["id"]);
}

#[tokio::test]
async fn testkit_sessions_error_steps_follow_their_retry_status() {
    let s = setup().await;
    let id = s.session().await;
    let mut mcp_error = Step::error("mcp_connection_failed_error", RetryStatus::Exhausted);
    if let Step::Error { details, .. } = &mut mcp_error {
        details.insert("mcp_server_name".into(), json!("github"));
    }
    s.fake.set_script(
        &id,
        Script::new(vec![
            Step::error("model_overloaded_error", RetryStatus::Retrying),
            Step::message("Recovered."),
            mcp_error,
            Step::message("never sent"),
        ]),
    );
    let mut stream = s
        .client
        .sessions()
        .events(&id)
        .stream(&StreamParams::default())
        .await
        .unwrap();
    s.say(&id, "Go").await;
    let events = read_until(&mut stream, is_turn_end).await;
    assert_eq!(
        kinds(&events)[3..],
        [
            "session.error",
            "agent.message",
            "session.error",
            "session.status_idle"
        ]
    );
    assert_eq!(events[3]["error"]["type"], "model_overloaded_error");
    assert_eq!(
        events[3]["error"]["retry_status"],
        json!({"type": "retrying"})
    );
    assert_eq!(events[5]["error"]["mcp_server_name"], "github");
    assert_eq!(
        events[6]["stop_reason"],
        json!({"type": "retries_exhausted"})
    );

    // A terminal error terminates the session and ends the stream.
    s.fake.set_script(
        &id,
        Script::new(vec![Step::error("billing_error", RetryStatus::Terminal)]),
    );
    s.say(&id, "Once more").await;
    let rest = read_to_end(&mut stream).await;
    assert_eq!(
        kinds(&rest)[3..],
        ["session.error", "session.status_terminated"]
    );
    let session = s.client.sessions().retrieve(&id).await.unwrap();
    assert_eq!(session.status, SessionStatus::Terminated);
    let err = s
        .send(&id, EventParam::user_message("?"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
}

#[tokio::test]
async fn testkit_sessions_interrupt_ends_the_turn() {
    let s = setup().await;
    let id = s.session().await;
    s.fake.set_script(
        &id,
        Script::new(vec![
            Step::custom_tool_use("slow", json!({})),
            Step::message("never sent"),
        ]),
    );
    let mut stream = s
        .client
        .sessions()
        .events(&id)
        .stream(&StreamParams::default())
        .await
        .unwrap();
    s.say(&id, "Go").await;
    let waiting = read_until(&mut stream, is_requires_action).await;
    let tool_use_id = waiting.last().unwrap()["stop_reason"]["event_ids"][0]
        .as_str()
        .unwrap()
        .to_owned();

    let echo = s.send(&id, EventParam::interrupt()).await.unwrap();
    assert!(echo["processed_at"].is_string(), "jumps the queue");
    let rest = read_until(&mut stream, is_turn_end).await;
    assert_eq!(kinds(&rest), ["user.interrupt", "session.status_idle"]);
    assert_eq!(rest[1]["stop_reason"], json!({"type": "end_turn"}));

    // The interrupted call no longer takes a result; an idle session ignores interrupts.
    let err = s
        .send(
            &id,
            EventParam::custom_tool_result(tool_use_id.as_str(), "late", false),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    s.send(&id, EventParam::interrupt()).await.unwrap();
    let history = s.history(&id).await;
    assert_eq!(kind(history.last().unwrap()), "user.interrupt");
    assert_eq!(
        s.client.sessions().retrieve(&id).await.unwrap().status,
        SessionStatus::Idle
    );
}

#[tokio::test]
async fn testkit_sessions_terminate_step_ends_the_stream() {
    let s = setup().await;
    let id = s.session().await;
    s.fake
        .set_default_script(Script::new(vec![Step::message("Bye."), Step::Terminate]));
    let mut stream = s
        .client
        .sessions()
        .events(&id)
        .stream(&StreamParams::default())
        .await
        .unwrap();
    s.say(&id, "Go").await;
    let events = read_to_end(&mut stream).await;
    assert_eq!(
        kinds(&events)[3..],
        ["agent.message", "session.status_terminated"]
    );
    let session = s.client.sessions().retrieve(&id).await.unwrap();
    assert_eq!(session.status, SessionStatus::Terminated);
    assert_eq!(session.archived_at, None, "terminated, not archived");
    let err = s
        .send(&id, EventParam::user_message("?"))
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
}

#[tokio::test]
async fn testkit_sessions_archive_terminates_and_rejects_events() {
    let s = setup().await;
    let id = s.session().await;
    let other = s.session().await;
    let mut stream = s
        .client
        .sessions()
        .events(&id)
        .stream(&StreamParams::default())
        .await
        .unwrap();
    let archived = s.client.sessions().archive(&id).await.unwrap();
    assert_eq!(archived.status, SessionStatus::Terminated);
    assert!(archived.archived_at.is_some());
    let events = read_to_end(&mut stream).await;
    assert_eq!(kinds(&events), ["session.status_terminated"]);

    let err = s
        .send(&id, EventParam::user_message("?"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert!(err.is_conflict());
    // The history stays readable; lists hide archived sessions unless asked.
    assert_eq!(kinds(&s.history(&id).await), ["session.status_terminated"]);
    let live: Vec<_> = s
        .client
        .sessions()
        .list(&ListSessions::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        live.iter().map(|x| x.id.clone()).collect::<Vec<_>>(),
        [other]
    );
    let all: Vec<_> = s
        .client
        .sessions()
        .list(&ListSessions {
            include_archived: Some(true),
            statuses: vec![SessionStatus::Terminated],
            ..ListSessions::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.iter().map(|x| x.id.clone()).collect::<Vec<_>>(), [id]);
}

#[tokio::test]
async fn testkit_sessions_delete_sends_session_deleted() {
    let s = setup().await;
    let id = s.session().await;
    let mut stream = s
        .client
        .sessions()
        .events(&id)
        .stream(&StreamParams::default())
        .await
        .unwrap();
    let deleted = s.client.sessions().delete(&id).await.unwrap();
    assert_eq!(deleted.id, id.as_str());
    let events = read_to_end(&mut stream).await;
    assert_eq!(kinds(&events), ["session.deleted"]);
    let err = s.client.sessions().retrieve(&id).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    let err = s
        .client
        .sessions()
        .events(&id)
        .stream(&StreamParams::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn testkit_sessions_previews_only_on_streams_that_ask() {
    let s = setup().await;
    let id = s.session().await;
    s.fake
        .set_script(&id, Script::reply("Here is the summary."));
    let events = s.client.sessions().events(&id);
    let mut previews = events.stream(&StreamParams::with_previews()).await.unwrap();
    let mut plain = events.stream(&StreamParams::default()).await.unwrap();
    s.say(&id, "Go").await;

    let with = read_until(&mut previews, is_turn_end).await;
    let without = read_until(&mut plain, is_turn_end).await;
    assert!(without.iter().all(|e| !kind(e).starts_with("event_")));
    let persisted: Vec<_> = with
        .iter()
        .filter(|e| !kind(e).starts_with("event_"))
        .cloned()
        .collect();
    assert_eq!(persisted, without, "the same persisted events");

    let thinking = with
        .iter()
        .position(|e| kind(e) == "agent.thinking")
        .unwrap();
    assert_eq!(kind(&with[thinking - 1]), "event_start");
    assert_eq!(with[thinking - 1]["event"]["id"], with[thinking]["id"]);
    let message = with
        .iter()
        .position(|e| kind(e) == "agent.message")
        .unwrap();
    let start = with
        .iter()
        .position(|e| kind(e) == "event_start" && e["event"]["type"] == "agent.message");
    let start = start.unwrap();
    assert_eq!(with[start]["event"]["id"], with[message]["id"]);
    let text: String = with[start + 1..message]
        .iter()
        .map(|d| {
            assert_eq!(kind(d), "event_delta");
            assert_eq!(d["event_id"], with[message]["id"]);
            d["delta"]["content"]["text"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(text, "Here is the summary.");

    // Only the two previewable types are accepted.
    let err = s
        .fake
        .client()
        .sessions()
        .events(&id)
        .stream(&StreamParams {
            event_deltas: vec!["agent.tool_use".into()],
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
}

#[tokio::test]
async fn testkit_sessions_create_rules_and_resources() {
    let s = setup().await;
    let sessions = s.client.sessions();
    let missing = SessionCreate::new("agent_nope", s.env.as_str());
    assert_eq!(
        sessions.create(&missing).await.unwrap_err().status(),
        Some(404)
    );
    let no_env = SessionCreate::new(s.agent.clone(), "env_nope");
    assert_eq!(
        sessions.create(&no_env).await.unwrap_err().status(),
        Some(404)
    );
    let mut archived_env = s.fake.object(&s.env).unwrap();
    archived_env["id"] = json!("env_011CZfakeArchived");
    archived_env["archived_at"] = json!("2026-03-16T10:00:00Z");
    s.fake.insert_object("environment", archived_env);
    let bad_env = SessionCreate::new(s.agent.clone(), "env_011CZfakeArchived");
    assert_eq!(
        sessions.create(&bad_env).await.unwrap_err().status(),
        Some(400)
    );
    let mut no_vault = SessionCreate::new(s.agent.clone(), s.env.as_str());
    no_vault.vault_ids = vec!["vlt_nope".into()];
    assert_eq!(
        sessions.create(&no_vault).await.unwrap_err().status(),
        Some(404)
    );

    // The session pins a snapshot of the version it was created from.
    s.client
        .agents()
        .update(
            &s.agent,
            &claude_agents::api::types::agents::AgentUpdate {
                version: Some(1),
                system: Some(Some("v2".into())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let pinned = sessions
        .create(&SessionCreate::new(
            AgentRef::new(s.agent.clone(), 1),
            s.env.as_str(),
        ))
        .await
        .unwrap();
    assert_eq!((pinned.agent.version, pinned.agent.system), (1, None));
    let latest = sessions
        .create(&SessionCreate::new(s.agent.clone(), s.env.as_str()))
        .await
        .unwrap();
    assert_eq!(latest.agent.version, 2);
    assert_eq!(latest.agent.system.as_deref(), Some("v2"));
    let mut overrides = AgentWithOverrides::new(s.agent.clone());
    overrides.system = Some(None);
    overrides.tools = Some(vec![]);
    let overridden = sessions
        .create(&SessionCreate::new(overrides, s.env.as_str()))
        .await
        .unwrap();
    assert_eq!(overridden.agent.system, None);
    assert!(overridden.agent.tools.is_empty());
    assert_eq!(
        s.client.agents().retrieve(&s.agent).await.unwrap().version,
        2,
        "the agent is untouched"
    );
    // Its agent cannot be updated.
    let err = sessions
        .update(
            &overridden.id,
            &SessionUpdate {
                agent: Some(SessionAgentUpdate {
                    tools: Some(vec![]),
                    mcp_servers: None,
                }),
                ..SessionUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    s.client.agents().archive(&s.agent).await.unwrap();
    let gone = SessionCreate::new(s.agent.clone(), s.env.as_str());
    assert_eq!(
        sessions.create(&gone).await.unwrap_err().status(),
        Some(400)
    );

    // Resources: the repository token is write-only; files must exist.
    let mut agent = AgentCreate::new("Other", "claude-opus-4-8");
    agent.tools = vec![ToolParam::agent_toolset()];
    let agent = s.client.agents().create(&agent).await.unwrap().id;
    let mut create = SessionCreate::new(agent, s.env.as_str());
    create.resources = vec![
        GithubRepositoryResourceParam::new("https://github.com/acme/api")
            .token(SecretString::from("ghp_secret_one"))
            .into(),
        ResourceParam::memory_store("memstore_011CZfake"),
    ];
    let session = sessions.create(&create).await.unwrap();
    let raw = s.fake.object(session.id.as_str()).unwrap();
    assert!(!raw.to_string().contains("ghp_secret"));
    assert_eq!(raw["resources"][0]["mount_path"], "/workspace/api");
    assert_eq!(raw["resources"][1]["access"], "read_write");
    let repo_id = raw["resources"][0]["id"].as_str().unwrap().to_owned();
    assert!(repo_id.starts_with("sesrsc_"));

    let resources = sessions.resources(&session.id);
    let rotated = resources
        .rotate_token(
            &repo_id.as_str().into(),
            &RotateResourceToken::new(SecretString::from("ghp_secret_two")),
        )
        .await
        .unwrap();
    assert!(!json(&rotated).to_string().contains("ghp_secret"));
    let err = resources
        .add_file(&AddFileResource::new("file_nope"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    s.fake.insert_object(
        "file",
        json!({"type": "file", "id": "file_011CZfake", "filename": "data.csv"}),
    );
    let file = resources
        .add_file(&AddFileResource::new("file_011CZfake"))
        .await
        .unwrap();
    let file = json(&file);
    assert_eq!(file["mount_path"], "/mnt/session/uploads/file_011CZfake");
    let listed: Vec<_> = resources
        .list(&Default::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 3);
    let file_id = file["id"].as_str().unwrap();
    assert_eq!(
        json(&resources.retrieve(&file_id.into()).await.unwrap()),
        file
    );
    resources.delete(&file_id.into()).await.unwrap();
    let err = resources.retrieve(&file_id.into()).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn testkit_sessions_update_metadata_budget_and_agent() {
    let s = setup().await;
    let sessions = s.client.sessions();
    let mut create = SessionCreate::new(s.agent.clone(), s.env.as_str());
    for i in 0..17 {
        create.metadata.insert(format!("k{i}"), "v".into());
    }
    let err = sessions.create(&create).await.unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(
        (api.status, api.error_code.as_deref()),
        (400, Some("invalid_metadata"))
    );
    let mut create = SessionCreate::new(s.agent.clone(), s.env.as_str());
    create.metadata.insert("ticket".into(), "ENG-1".into());
    create.metadata.insert("stale".into(), "x".into());
    create.budget = Some(Budget::limit(Money::usd_cents(2500)));
    let id = sessions.create(&create).await.unwrap().id;

    let mut stream = sessions
        .events(&id)
        .stream(&StreamParams::default())
        .await
        .unwrap();
    let mut patch = claude_agents::api::types::MetadataPatch::new();
    patch.insert("ticket".into(), Some("ENG-2".into()));
    patch.insert("stale".into(), None);
    let updated = sessions
        .update(
            &id,
            &SessionUpdate {
                title: Some(Some("Renamed".into())),
                metadata: Some(patch),
                budget: Some(Some(Budget::limit(Money::usd_cents(5000)))),
                agent: Some(SessionAgentUpdate {
                    tools: Some(vec![]),
                    mcp_servers: None,
                }),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.title.as_deref(), Some("Renamed"));
    assert_eq!(updated.metadata.len(), 1);
    assert_eq!(updated.metadata["ticket"], "ENG-2");
    assert!(updated.agent.tools.is_empty());
    let event = read_until(&mut stream, |e| kind(e) == "session.updated").await;
    let event = event.last().unwrap();
    assert_eq!(event["title"], "Renamed");
    assert_eq!(event["metadata"], json!({"ticket": "ENG-2"}));
    assert_eq!(event["budget"]["max_list_cost"]["amount"], "5000");
    assert_eq!(event["agent"]["tools"], json!([]));

    let mut long_key = claude_agents::api::types::MetadataPatch::new();
    long_key.insert("k".repeat(65), Some("v".into()));
    let err = sessions
        .update(
            &id,
            &SessionUpdate {
                metadata: Some(long_key),
                ..SessionUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.api().unwrap().error_code.as_deref(),
        Some("invalid_metadata")
    );

    // A budget can be removed but never added back.
    sessions
        .update(
            &id,
            &SessionUpdate {
                budget: Some(None),
                ..SessionUpdate::default()
            },
        )
        .await
        .unwrap();
    let err = sessions
        .update(
            &id,
            &SessionUpdate {
                budget: Some(Some(Budget::limit(Money::usd_cents(100)))),
                ..SessionUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));

    // vault_ids are create-only (our client cannot even send them: raw request).
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/sessions/{id}", s.fake.base_url()))
        .header("x-api-key", "k")
        .header("anthropic-beta", claude_agents::api::MANAGED_AGENTS_BETA)
        .json(&json!({"vault_ids": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn testkit_sessions_list_pages_both_ways() {
    let s = setup().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(s.session().await);
    }
    let sessions = s.client.sessions();
    let params = ListSessions {
        limit: Some(2),
        ..ListSessions::default()
    };
    let page1 = sessions.list_page(&params, None).await.unwrap();
    let names = |p: &claude_agents::api::types::CursorPage<_>| -> Vec<SessionId> {
        p.data
            .iter()
            .map(|x: &claude_agents::api::types::sessions::Session| x.id.clone())
            .collect()
    };
    assert_eq!(
        names(&page1),
        [ids[4].clone(), ids[3].clone()],
        "newest first"
    );
    assert!(page1.prev_page.is_none());
    let page2 = sessions
        .list_page(&params, page1.next_page.as_deref())
        .await
        .unwrap();
    assert_eq!(names(&page2), [ids[2].clone(), ids[1].clone()]);
    let back = sessions
        .list_page(&params, page2.prev_page.as_deref())
        .await
        .unwrap();
    assert_eq!(names(&back), names(&page1));
    let page3 = sessions
        .list_page(&params, page2.next_page.as_deref())
        .await
        .unwrap();
    assert_eq!(names(&page3), [ids[0].clone()]);
    assert!(page3.next_page.is_none());

    // A cursor remembers its order.
    let asc = ListSessions {
        limit: Some(2),
        order: Some(Order::Asc),
        ..ListSessions::default()
    };
    let err = sessions
        .list_page(&asc, page1.next_page.as_deref())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    let all: Vec<_> = sessions.list(&asc).try_collect().await.unwrap();
    assert_eq!(all.iter().map(|x| x.id.clone()).collect::<Vec<_>>(), ids);

    // Filters.
    let by_agent = ListSessions {
        agent_id: Some(s.agent.clone()),
        agent_version: Some(2),
        ..ListSessions::default()
    };
    assert!(
        sessions
            .list_page(&by_agent, None)
            .await
            .unwrap()
            .data
            .is_empty()
    );
    let bad = ListSessions {
        agent_version: Some(1),
        ..ListSessions::default()
    };
    assert_eq!(
        sessions.list_page(&bad, None).await.unwrap_err().status(),
        Some(400)
    );
    let mut recent = ListSessions::default();
    recent.created_at.gt = Some(sessions.retrieve(&ids[2]).await.unwrap().created_at);
    let newer: Vec<_> = sessions.list(&recent).try_collect().await.unwrap();
    assert!(newer.iter().all(|x| x.id > ids[2]));
}

#[tokio::test]
async fn testkit_sessions_self_hosted_tools_wait_for_the_client() {
    let s = setup().await;
    let env = environment(&s.fake, "env_011CZfakeSelfHosted", "self_hosted");
    let id = s
        .client
        .sessions()
        .create(&SessionCreate::new(s.agent.clone(), env.as_str()))
        .await
        .unwrap()
        .id;
    s.fake.set_script(
        &id,
        Script::new(vec![
            Step::tool_use("bash", json!({"command": "make"}), "unused"),
            Step::message("Built."),
        ]),
    );
    let mut stream = s
        .client
        .sessions()
        .events(&id)
        .stream(&StreamParams::default())
        .await
        .unwrap();
    s.say(&id, "Build").await;
    let waiting = read_until(&mut stream, is_requires_action).await;
    let tool_use_id = waiting.last().unwrap()["stop_reason"]["event_ids"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let echo = s
        .send(
            &id,
            EventParam::tool_result(tool_use_id.as_str(), "ok", false),
        )
        .await
        .unwrap();
    assert!(echo["processed_at"].is_string());
    let rest = read_until(&mut stream, is_turn_end).await;
    assert_eq!(
        kinds(&rest),
        [
            "user.tool_result",
            "session.status_running",
            "agent.message",
            "session.status_idle"
        ]
    );

    // On a cloud environment the client never runs built-in tools.
    let cloud = s.session().await;
    let err = s
        .send(&cloud, EventParam::tool_result("sevt_x", "ok", false))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
}

#[tokio::test]
async fn testkit_sessions_outcomes_and_event_validation() {
    let s = setup().await;
    let id = s.session().await;
    let mut stream = s
        .client
        .sessions()
        .events(&id)
        .stream(&StreamParams::default())
        .await
        .unwrap();
    let echo = s
        .send(
            &id,
            EventParam::define_outcome(
                "A report",
                claude_agents::api::types::events::Rubric::Text(TextRubric {
                    content: "- has a title".into(),
                }),
            ),
        )
        .await
        .unwrap();
    assert!(echo["outcome_id"].as_str().unwrap().starts_with("outc_"));
    assert!(echo["processed_at"].is_string());
    let events = read_until(&mut stream, is_turn_end).await;
    let end = events
        .iter()
        .find(|e| kind(e) == "span.outcome_evaluation_end")
        .unwrap();
    assert_eq!(end["result"], "satisfied");
    let session = s.client.sessions().retrieve(&id).await.unwrap();
    assert_eq!(session.outcome_evaluations.len(), 1);
    assert_eq!(json(&session.outcome_evaluations[0])["result"], "satisfied");

    // All or nothing: one bad event rejects the request.
    let before = s.history(&id).await.len();
    let err = s
        .client
        .sessions()
        .events(&id)
        .send(vec![
            EventParam::user_message("fine"),
            EventParam::user_message_blocks(vec![]),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(s.history(&id).await.len(), before);

    // A system.message rides with the message before it (the model accepts it).
    let resp = s
        .client
        .sessions()
        .events(&id)
        .send(vec![
            EventParam::user_message("hi"),
            EventParam::system_message("The user is in Paris."),
        ])
        .await
        .unwrap();
    assert_eq!(resp.data.len(), 2);
    let turn = read_until(&mut stream, is_turn_end).await;
    assert_eq!(
        kinds(&turn)[..4],
        [
            "user.message",
            "system.message",
            "session.status_running",
            "user.message"
        ]
    );
    assert_eq!(kind(&turn[4]), "system.message");
    assert!(turn[4]["processed_at"].is_string());
}

#[tokio::test]
async fn testkit_sessions_heartbeats_and_frames_on_the_wire() {
    let mut config = FakeConfig::default();
    config.heartbeat = Duration::from_millis(20);
    let mut agent = AgentCreate::new("Coder", "claude-opus-4-8");
    agent.tools = vec![ToolParam::agent_toolset()];
    let s = setup_with(config, agent).await;
    let id = s.session().await;
    let mut resp = reqwest::Client::new()
        .get(format!(
            "{}/v1/sessions/{id}/events/stream",
            s.fake.base_url()
        ))
        .header("x-api-key", "k")
        .header("anthropic-beta", claude_agents::api::MANAGED_AGENTS_BETA)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut text = String::new();
    tokio::time::timeout(GUARD, async {
        while !text.contains(": ping\n\n") {
            text.push_str(&String::from_utf8_lossy(
                &resp.chunk().await.unwrap().unwrap(),
            ));
        }
    })
    .await
    .unwrap();
    s.say(&id, "Hi").await;
    tokio::time::timeout(GUARD, async {
        while !text.contains("event: session.status_idle\n") {
            text.push_str(&String::from_utf8_lossy(
                &resp.chunk().await.unwrap().unwrap(),
            ));
        }
    })
    .await
    .unwrap();
    assert!(text.contains("event: agent.message\ndata: {\"type\":\"agent.message\","));
}

#[test]
fn testkit_sessions_scripts_load_from_json() {
    let script: Script = serde_json::from_value(json!({
        "delay_ms": 5,
        "steps": [
            {"type": "model_request_start"},
            {"type": "thinking"},
            {"type": "tool_use", "name": "bash", "input": {"command": "ls"}, "result": "a", "permission": "ask"},
            {"type": "mcp_tool_use", "server": "github", "name": "open_pr"},
            {"type": "custom_tool_use", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "message", "text": "Done."},
            {"type": "error", "error_type": "model_overloaded_error", "retry_status": "retrying"},
            {"type": "rescheduled"},
            {"type": "usage"},
            {"type": "pause", "ms": 1},
            {"type": "model_request_end", "usage": {"input_tokens": 7}},
            {"type": "event", "event": {"type": "agent.thread_context_compacted"}},
            {"type": "terminate"}
        ]
    }))
    .unwrap();
    assert_eq!(script.delay(), Duration::from_millis(5));
    assert_eq!(script.steps.len(), 13);
    assert_eq!(
        script.steps[2],
        Step::tool_use("bash", json!({"command": "ls"}), "a").with_permission(Permission::Ask)
    );
    let Step::ModelRequestEnd { usage, .. } = &script.steps[10] else {
        panic!("{:?}", script.steps[10]);
    };
    assert_eq!((usage.input_tokens, usage.output_tokens), (7, 50));
    // Round trip, and typos are errors.
    let again: Script = serde_json::from_value(json(&script)).unwrap();
    assert_eq!(again, script);
    assert!(
        serde_json::from_value::<Script>(json!({"steps": [{"type": "mesage", "text": "x"}]}))
            .is_err()
    );
    assert!(
        serde_json::from_value::<Script>(json!({"steps": [{"type": "message", "txt": "x"}]}))
            .is_err()
    );
    assert_eq!(
        Script::default(),
        Script::reply("Hello from the fake agent.")
    );
}
