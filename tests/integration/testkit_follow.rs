//! `follow()` against the fake with its stream faults: every stream is cut after a few events
//! while a long turn runs, and every event still arrives exactly once, in order, matching the
//! fake's own history.

use std::time::Duration;

use claude_agents::api::Client;
use claude_agents::api::follow::FollowOptions;
use claude_agents::api::types::agents::AgentCreate;
use claude_agents::api::types::environments::EnvironmentCreate;
use claude_agents::api::types::events::{EventParam, StreamEvent, StreamParams};
use claude_agents::api::types::sessions::{Session, SessionCreate};
use claude_agents::testkit::script::Step;
use claude_agents::testkit::{FakeApi, Script, StreamFault};
use futures_util::StreamExt;

/// A client of `fake` and a fresh session of a new agent in a new environment.
async fn new_session(fake: &FakeApi) -> (Client, Session) {
    let client = fake.client();
    let agent = client
        .agents()
        .create(&AgentCreate::new("a", "claude-sonnet-4-6"))
        .await
        .unwrap();
    let env = client
        .environments()
        .create(&EnvironmentCreate::new("e"))
        .await
        .unwrap();
    let session = client
        .sessions()
        .create(&SessionCreate::new(agent.id.clone(), env.id))
        .await
        .unwrap();
    (client, session)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_survives_a_fake_that_cuts_every_stream() {
    let fake = FakeApi::start().await.unwrap();
    let (client, session) = new_session(&fake).await;
    // A turn of 300 messages, 1 ms apart, so events keep arriving across reconnects.
    let steps = (0..300).map(|i| Step::message(format!("m{i}"))).collect();
    fake.set_script(
        session.id.as_str(),
        Script::new(steps).with_delay(Duration::from_millis(1)),
    );
    fake.faults().stream_fault(
        StreamFault::cut_after_events(7)
            .session(session.id.as_str())
            .every_stream(),
    );

    let events = client.sessions().events(&session.id);
    let options = FollowOptions {
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        ..FollowOptions::default()
    };
    let mut stream = events.follow(StreamParams::default(), options);
    events
        .send(vec![EventParam::user_message("go")])
        .await
        .unwrap();
    let mut out: Vec<StreamEvent> = Vec::new();
    while let Some(event) = stream.next().await {
        let event = event.unwrap();
        let idle = event.type_name() == "session.status_idle";
        out.push(event);
        if idle {
            break;
        }
    }
    let history = fake.session_events(session.id.as_str());
    let want: Vec<&str> = history.iter().map(|e| e["id"].as_str().unwrap()).collect();
    // The queued echo of the user message may also have been seen live (its own sighting).
    let got: Vec<&str> = out
        .iter()
        .filter(|e| e.type_name() != "user.message" || e.is_processed())
        .map(|e| e.raw_id().unwrap())
        .collect();
    assert_eq!(got, want, "every persisted event once, in history order");
    let cuts = fake.faults().injected().len();
    assert!(cuts >= 5, "the stream was cut only {cuts} times");
}

/// `follow_notifying` signals once the live stream is open, so a first message sent after the
/// signal has every event of its turn delivered — none of them only by the backfill race.
#[tokio::test]
async fn follow_notifying_signals_the_open_stream_before_the_first_message() {
    let fake = FakeApi::start().await.unwrap();
    let (client, session) = new_session(&fake).await;
    let opened = std::sync::Arc::new(tokio::sync::Notify::new());
    let mut stream = client.sessions().events(&session.id).follow_notifying(
        StreamParams::default(),
        FollowOptions::default(),
        Vec::new(),
        opened.clone(),
    );
    // Nothing is opened until the stream is polled; poll it until the open is signalled.
    let signalled = tokio::select! {
        _ = opened.notified() => true,
        _ = stream.next() => false,
    };
    assert!(signalled, "the open was signalled before any item");
    let streams = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/events/stream"))
        .count();
    assert_eq!(streams, 1, "the live stream request was made");
    client
        .sessions()
        .events(&session.id)
        .send(vec![EventParam::user_message("hi")])
        .await
        .unwrap();
    let mut types = Vec::new();
    while let Some(event) = stream.next().await {
        let event = event.unwrap();
        let idle = matches!(&event, StreamEvent::SessionStatusIdle(_));
        if event.is_processed() {
            types.push(event.raw_id().map(str::to_owned));
        }
        if idle {
            break;
        }
    }
    let history: Vec<Option<String>> = fake
        .session_events(session.id.as_str())
        .iter()
        .map(|e| e["id"].as_str().map(str::to_owned))
        .collect();
    // Every processed event of the turn, in the fake's order.
    assert_eq!(types, history);
}
