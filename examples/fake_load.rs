//! How fast the testkit fake serves: requests per second on loopback, and events per second
//! one session stream delivers. The fake must never be the bottleneck of our benchmarks.
//!
//! ```sh
//! cargo run --release --example fake_load --features testkit -- [--seconds 5] [--concurrency 32] [--events 50000]
//! ```
//!
//! Client and server share this process (and the machine's cores), so the figures are lower
//! bounds for the server alone. Prints one line per measurement.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use claude_agents::api::types::agents::AgentCreate;
use claude_agents::api::types::environments::EnvironmentCreate;
use claude_agents::api::types::events::{EventParam, StreamParams};
use claude_agents::api::types::sessions::SessionCreate;
use claude_agents::testkit::script::Step;
use claude_agents::testkit::{FakeApi, Script, TEST_API_KEY};
use futures_util::StreamExt;

#[tokio::main]
async fn main() {
    let mut seconds = 5u64;
    let mut concurrency = 32usize;
    let mut events = 50_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .expect("a number");
        match arg.as_str() {
            "--seconds" => seconds = value,
            "--concurrency" => concurrency = value as usize,
            "--events" => events = value as usize,
            other => panic!("unknown argument {other}"),
        }
    }

    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let agent = client
        .agents()
        .create(&AgentCreate::new("load", "claude-sonnet-4-6"))
        .await
        .unwrap();

    // 1. Requests per second: GET /v1/agents/{id} from `concurrency` keep-alive connections.
    let http = reqwest::Client::new();
    let url = format!("{}/v1/agents/{}", fake.base_url(), agent.id);
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, url, done) = (http.clone(), url.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let resp = http
                    .get(&url)
                    .header("x-api-key", TEST_API_KEY)
                    .header("anthropic-version", "2023-06-01")
                    .header("anthropic-beta", "managed-agents-2026-04-01")
                    .send()
                    .await
                    .unwrap();
                assert!(resp.status().is_success());
                resp.bytes().await.unwrap();
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let started = Instant::now();
    for t in tasks {
        t.await.unwrap();
    }
    let n = done.load(Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "requests={n} seconds={elapsed:.2} rps={:.0} concurrency={concurrency}",
        n as f64 / elapsed
    );

    // 2. Events per second on one session stream: one turn whose script emits `events`
    //    agent messages, consumed by our client's typed stream.
    let mut env = EnvironmentCreate::new("load-env");
    env.config = None;
    let env = client.environments().create(&env).await.unwrap();
    let session = client
        .sessions()
        .create(&SessionCreate::new(agent.id.clone(), env.id))
        .await
        .unwrap();
    let steps = (0..events)
        .map(|i| {
            Step::message(format!(
                "message {i}: the quick brown fox jumps over the lazy dog"
            ))
        })
        .collect();
    fake.set_script(session.id.as_str(), Script::new(steps));
    let session_events = client.sessions().events(&session.id);
    let mut stream = session_events
        .stream(&StreamParams::default())
        .await
        .unwrap();
    let started = Instant::now();
    session_events
        .send(vec![EventParam::user_message("go")])
        .await
        .unwrap();
    let mut received = 0u64;
    while let Some(event) = stream.next().await {
        let event = event.unwrap();
        received += 1;
        if event.type_name() == "session.status_idle" {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "stream_events={received} seconds={elapsed:.2} events_per_s={:.0}",
        received as f64 / elapsed
    );
}
