//! The fake API's request-level fault injection (latency, error bursts, drops after commit),
//! driven by our own client against the agents routes — and what the client makes of each.
//! (Stream faults are tested on synthetic streams in `src/testkit/faults.rs`.)

use std::time::{Duration, Instant};

use claude_agents::api::Error;
use claude_agents::api::types::agents::{AgentCreate, AgentUpdate, ListAgents};
use claude_agents::testkit::{ErrorBurst, FakeApi, Injected, RequestMatch};
use futures_util::TryStreamExt;

fn create_body(name: &str) -> AgentCreate {
    AgentCreate::new(name, "claude-sonnet-4-6")
}

fn statuses(fake: &FakeApi) -> Vec<(String, u16)> {
    fake.requests()
        .into_iter()
        .map(|r| (format!("{} {}", r.method, r.path), r.status))
        .collect()
}

fn post_agents() -> RequestMatch {
    RequestMatch::new("POST", "/v1/agents")
}

#[tokio::test]
async fn a_burst_of_529_is_retried_through() {
    let fake = FakeApi::start().await.unwrap();
    fake.faults().error_burst(
        ErrorBurst::new(529, 2)
            .retry_after(Duration::from_millis(10))
            .matching(post_agents()),
    );
    let agent = fake
        .client()
        .agents()
        .create(&create_body("A"))
        .await
        .unwrap();
    let post = "POST /v1/agents".to_owned();
    assert_eq!(
        statuses(&fake),
        vec![(post.clone(), 529), (post.clone(), 529), (post, 200)]
    );
    assert_eq!(fake.objects("agent").len(), 1);
    assert_eq!(fake.object(agent.id.as_str()).unwrap()["name"], "A");
    assert_eq!(fake.writes().get("agents"), Some(&1));
    assert!(!fake.faults().armed());
    assert_eq!(fake.faults().injected().len(), 2);
}

#[tokio::test]
async fn a_long_retry_after_is_returned_at_once() {
    let fake = FakeApi::start().await.unwrap();
    fake.faults().error_burst(
        ErrorBurst::new(429, 1)
            .retry_after(Duration::from_secs(120))
            .matching(post_agents()),
    );
    let err = fake
        .client()
        .agents()
        .create(&create_body("A"))
        .await
        .unwrap_err();
    let api = err.api().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(api.status, 429);
    assert_eq!(api.error_type.as_deref(), Some("rate_limit_error"));
    assert_eq!(api.retry_after, Some(Duration::from_secs(120)));
    assert!(
        api.request_id
            .as_deref()
            .is_some_and(|id| id.starts_with("req_"))
    );
    assert_eq!(fake.requests().len(), 1, "not retried");
    assert!(fake.objects("agent").is_empty());
}

#[tokio::test]
async fn a_500_on_a_create_is_outcome_unknown_and_nothing_was_written() {
    let fake = FakeApi::start().await.unwrap();
    fake.faults()
        .error_burst(ErrorBurst::new(500, 1).matching(post_agents()));
    let err = fake
        .client()
        .agents()
        .create(&create_body("A"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::OutcomeUnknown { .. }), "{err:?}");
    assert!(err.request_id().is_some());
    assert_eq!(statuses(&fake), vec![("POST /v1/agents".to_owned(), 500)]);
    // The burst never reached the handler: the outcome was unknown to the client, but no
    // agent exists.
    assert!(fake.objects("agent").is_empty());
    assert_eq!(fake.write_count(), 0);
}

#[tokio::test]
async fn a_create_dropped_after_commit_is_outcome_unknown_and_really_exists() {
    let fake = FakeApi::start().await.unwrap();
    fake.faults().drop_after_commit(1, post_agents());
    let err = fake
        .client()
        .agents()
        .create(&create_body("A"))
        .await
        .unwrap_err();
    let Error::OutcomeUnknown {
        reason, request_id, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(reason.contains("cut"), "{reason}");
    // The headers arrived: the request id is known.
    let logged = fake.requests();
    assert_eq!(request_id.as_deref(), Some(logged[0].request_id.as_str()));
    assert_eq!(statuses(&fake), vec![("POST /v1/agents".to_owned(), 200)]);
    // Committed: the agent exists, and a lookup finds it.
    let agents = fake.objects("agent");
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0]["name"], "A");
    let listed: Vec<_> = fake
        .client()
        .agents()
        .list(&ListAgents::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(matches!(
        &fake.faults().injected()[..],
        [Injected::DropAfterCommit { status: 200, .. }]
    ));
}

#[tokio::test]
async fn an_update_dropped_after_commit_is_a_transport_error_and_applied() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let agent = client.agents().create(&create_body("A")).await.unwrap();
    fake.faults()
        .drop_after_commit(1, RequestMatch::writes().path_prefix("/v1/agents/"));
    let update = AgentUpdate {
        version: Some(1),
        system: Some(Some("Be terse.".into())),
        ..AgentUpdate::default()
    };
    let err = client
        .agents()
        .update(&agent.id, &update)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    // Not re-sent (the body was cut after the response started), but applied.
    assert_eq!(fake.requests().len(), 2);
    let now = client.agents().retrieve(&agent.id).await.unwrap();
    assert_eq!(now.version, 2);
    assert_eq!(now.system.as_deref(), Some("Be terse."));
}

#[tokio::test]
async fn a_dropped_response_is_cut_short_of_its_content_length() {
    let fake = FakeApi::start().await.unwrap();
    fake.faults().drop_after_commit(1, RequestMatch::any());
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/agents", fake.base_url()))
        .header("x-api-key", "k")
        .header("anthropic-beta", "managed-agents-2026-04-01")
        .json(&serde_json::json!({"name": "A", "model": "claude-sonnet-4-6"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("request-id").is_some());
    let declared: usize = resp.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(declared > 0);
    let err = resp.bytes().await.unwrap_err();
    assert!(err.is_body() || err.is_decode(), "{err:?}");
    assert_eq!(fake.objects("agent").len(), 1);
}

#[tokio::test]
async fn burst_responses_have_the_error_shape_and_the_retry_headers() {
    let fake = FakeApi::start().await.unwrap();
    fake.faults()
        .error_burst(ErrorBurst::new(503, 1).retry_after("7").should_retry(false));
    let resp = reqwest::Client::new()
        .get(format!("{}/v1/agents", fake.base_url()))
        .header("x-api-key", "k")
        .header("anthropic-beta", "managed-agents-2026-04-01")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "7");
    assert_eq!(resp.headers()["x-should-retry"], "false");
    let request_id = resp.headers()["request-id"].to_str().unwrap().to_owned();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "api_error");
    assert!(body["error"]["message"].is_string());
    assert_eq!(body["request_id"], request_id.as_str());
}

#[tokio::test]
async fn x_should_retry_is_honoured_by_our_client() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    // `x-should-retry: true` on a 500: the server says it did not act, so even a create is
    // re-sent.
    fake.faults().error_burst(
        ErrorBurst::new(500, 1)
            .should_retry(true)
            .retry_after(Duration::from_millis(5))
            .matching(post_agents()),
    );
    client.agents().create(&create_body("A")).await.unwrap();
    assert_eq!(fake.objects("agent").len(), 1);
    // `x-should-retry: false` on a 529: not retried.
    fake.faults()
        .error_burst(ErrorBurst::new(529, 1).should_retry(false));
    let err = client.agents().create(&create_body("B")).await.unwrap_err();
    assert_eq!(err.status(), Some(529));
    let s: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(s, vec![500, 200, 529]);
}

#[tokio::test]
async fn faults_only_hit_matching_authorised_requests() {
    let fake = FakeApi::start().await.unwrap();
    fake.faults()
        .error_burst(ErrorBurst::new(529, 1).matching(post_agents()));
    // A read does not match, and an unauthenticated create is refused before any fault.
    let agents: Vec<_> = fake
        .client()
        .agents()
        .list(&ListAgents::default())
        .try_collect()
        .await
        .unwrap();
    assert!(agents.is_empty());
    let unauthenticated = reqwest::Client::new()
        .post(format!("{}/v1/agents", fake.base_url()))
        .header("anthropic-beta", "managed-agents-2026-04-01")
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    assert!(fake.faults().armed());
    let err = fake.client().agents().create(&create_body("A")).await;
    // The burst fires on the create (529, retried by the client, then it succeeds).
    assert!(err.is_ok(), "{err:?}");
    let s: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(s, vec![200, 401, 529, 200]);
    assert!(!fake.faults().armed());
}

#[tokio::test]
async fn latency_is_added_to_every_response() {
    let fake = FakeApi::start().await.unwrap();
    let latency = Duration::from_millis(60);
    fake.faults().set_latency(latency);
    assert_eq!(fake.faults().latency(), latency);
    let client = fake.client();
    // Only a lower bound is asserted: the sleep guarantees it, whatever the machine's load.
    let started = Instant::now();
    client.agents().create(&create_body("A")).await.unwrap();
    let _: Vec<_> = client
        .agents()
        .list(&ListAgents::default())
        .try_collect()
        .await
        .unwrap();
    assert!(started.elapsed() >= 2 * latency);
    assert_eq!(fake.requests().len(), 2);
    fake.faults().clear();
    assert_eq!(fake.faults().latency(), Duration::ZERO);
}

#[tokio::test]
async fn a_delay_holds_one_matching_response_after_its_write() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let hold = Duration::from_millis(300);
    fake.faults().delay(1, post_agents(), hold);
    // A read is not held.
    let started = Instant::now();
    let _: Vec<_> = client
        .agents()
        .list(&ListAgents::default())
        .try_collect()
        .await
        .unwrap();
    assert!(started.elapsed() < hold, "{:?}", started.elapsed());
    // The create is committed before its answer is held: it exists (and the delay is
    // reported) while the client still waits.
    let create = tokio::spawn({
        let client = client.clone();
        async move { client.agents().create(&create_body("A")).await }
    });
    let mut committed = false;
    for _ in 0..200 {
        if fake
            .faults()
            .injected()
            .iter()
            .any(|i| matches!(i, Injected::Delay { status: 200, .. }))
        {
            committed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(committed, "the delay was never reported");
    assert_eq!(fake.objects("agent").len(), 1);
    assert!(!create.is_finished(), "the answer is still held");
    let started = Instant::now();
    let agent = create.await.unwrap().unwrap();
    assert!(started.elapsed() > Duration::from_millis(100));
    assert_eq!(fake.objects("agent")[0]["id"], agent.id.as_str());
    // Used up: the next create is not held.
    assert!(!fake.faults().armed());
    let started = Instant::now();
    client.agents().create(&create_body("B")).await.unwrap();
    assert!(started.elapsed() < hold);
}
