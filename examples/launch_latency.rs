//! Launch-to-first-activity latency: the time from [`Launcher::on_assigned`] until the host's
//! [`EventSink`] receives the first activity of the new card, against the testkit fake with a
//! fixed latency added to every response, with one raw API round trip measured in the same run
//! as the baseline.
//!
//! ```sh
//! cargo run --release --example launch_latency --features testkit -- [--runs 20] [--latency-ms 50]
//! ```
//!
//! Setup (not measured, no added latency): a provider key record, a managed agent reconciled
//! against the fake, a launcher over a memory store. Then `--runs` times, one after the other:
//! assign a new task, time the first activity, wait for the card's turn to end (so runs do not
//! overlap). The baseline is the median of `--runs` vault creates at the same latency.
//!
//! The fake adds its latency before answering (a request reaches it at once), and an event
//! stream's events flow as soon as the fake emits them. Printed per run: the requests of the
//! card answered between the trigger and the first activity, in the order the fake answered
//! them. Expected critical path: `POST /v1/vaults` → `POST /v1/sessions` → `GET
//! …/events/stream` (open) → then, at the same time, the first message (`POST …/events`,
//! which makes the fake emit the turn's events) and the lossless follow's history backfill
//! (`GET …/events`), whose answer the live events wait for: four round trips.
//!
//! Client, fake and launcher share this process (two worker threads).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use claude_agents::api::types::vaults::VaultCreate;
use claude_agents::domain::{
    Activity, AgentKind, AgentSpec, AgentSpecId, EnvironmentSettings, KeyStatus, ManagedAgent,
    ProviderKey, SessionCard, TaskContext, ToolMode, WorkspaceId,
};
use claude_agents::launch::{
    AssignTrigger, HostError, Launcher, LauncherConfig, TaskHost, TriggerOutcome,
};
use claude_agents::reconcile::{Reconciler, ReconcilerConfig};
use claude_agents::store::{
    DeliveryKind, EventSink, Expected, MemorySecretStore, MemoryStore, RecordStore, SinkDelivery,
    StoreError,
};
use claude_agents::testkit::{FakeApi, LoggedRequest};
use tokio::sync::mpsc;

struct Args {
    runs: usize,
    latency: Duration,
}

fn args() -> Args {
    let mut a = Args {
        runs: 20,
        latency: Duration::from_millis(50),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let value = it.next().expect("a value after each flag");
        match arg.as_str() {
            "--runs" => a.runs = value.parse().expect("a number"),
            "--latency-ms" => a.latency = Duration::from_millis(value.parse().expect("a number")),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(a.runs > 0);
    a
}

/// What the sink saw of a card.
enum Seen {
    /// The card's first activity: when, which, and how many requests the fake had answered.
    First {
        card: String,
        at: Instant,
        activity: Activity,
        answered: usize,
    },
    /// The card went idle (its turn ended).
    Idle { card: String },
}

/// Reports each card's first activity and its idle state; ignores everything else.
struct TimingSink {
    fake: Arc<FakeApi>,
    firsts: Mutex<HashMap<String, ()>>,
    tx: mpsc::UnboundedSender<Seen>,
}

#[async_trait]
impl EventSink for TimingSink {
    async fn deliver(&self, delivery: SinkDelivery) -> Result<(), StoreError> {
        let at = Instant::now();
        match delivery.kind {
            DeliveryKind::Activity => {
                let first = self
                    .firsts
                    .lock()
                    .unwrap()
                    .insert(delivery.session.clone(), ())
                    .is_none();
                if first {
                    let answered = self.fake.requests().len();
                    let _ = self.tx.send(Seen::First {
                        card: delivery.session,
                        at,
                        activity: serde_json::from_value(delivery.payload).unwrap(),
                        answered,
                    });
                }
            }
            DeliveryKind::CardChanged if delivery.payload["state"] == "idle" => {
                let _ = self.tx.send(Seen::Idle {
                    card: delivery.session,
                });
            }
            _ => {}
        }
        Ok(())
    }
}

/// A host whose task tools succeed (the default script calls none).
struct NoopHost;

#[async_trait]
impl TaskHost for NoopHost {
    async fn task(&self, _: &SessionCard) -> Result<TaskContext, HostError> {
        Err(HostError::new("not in this benchmark"))
    }
    async fn add_comment(&self, _: &SessionCard, _: &str, _: &str) -> Result<(), HostError> {
        Ok(())
    }
    async fn update_status(&self, _: &SessionCard, _: &str, _: &str) -> Result<(), HostError> {
        Ok(())
    }
}

fn task(ws: &WorkspaceId, id: &str) -> TaskContext {
    TaskContext {
        workspace: ws.clone(),
        project: "web".into(),
        task: id.into(),
        title: "Fix the login page".into(),
        description: "The button does nothing.".into(),
        status: "todo".into(),
        fields: BTreeMap::new(),
        comments: vec![],
        links: vec![],
    }
}

/// `/v1/sessions/sesn_…/events/stream` → `/v1/sessions/{id}/events/stream`.
fn endpoint(r: &LoggedRequest) -> String {
    let path: Vec<&str> = r
        .path
        .split('/')
        .map(|s| if s.contains("_011CZ") { "{id}" } else { s })
        .collect();
    format!("{} {}", r.method, path.join("/"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of sorted samples.
fn pct(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sets up a provider key record and a reconciled managed agent.
async fn seed(fake: &FakeApi, store: &Arc<MemoryStore>, ws: &WorkspaceId, agent: &AgentSpecId) {
    let key = ProviderKey {
        id: "pk_1".into(),
        workspace: ws.clone(),
        label: "Bench key".into(),
        secret: "provider_key/ws/pk_1".into(),
        masked: "sk-ant-…test".into(),
        status: KeyStatus::Unvalidated,
        models: vec!["claude-sonnet-4-6".into()],
    };
    store.save(&key, Expected::Absent).await.unwrap();
    let spec = AgentSpec {
        id: agent.clone(),
        workspace: ws.clone(),
        name: "Coder".into(),
        provider_key: "pk_1".into(),
        kind: AgentKind::Managed(ManagedAgent {
            instructions_html: "<p>Fix bugs.</p>".into(),
            model: "claude-sonnet-4-6".into(),
            guidance: "Be brief.".into(),
            rules: vec![],
            skills: vec![],
            mcp_servers: vec![],
            tool_mode: ToolMode::default(),
            repositories: vec![],
            environment: EnvironmentSettings::default(),
        }),
        revision: 1,
    };
    store.save(&spec, Expected::Absent).await.unwrap();
    Reconciler::new(
        store.clone(),
        Arc::new(MemorySecretStore::new()),
        Arc::new(fake.client()),
        ReconcilerConfig::new("latency-bench"),
    )
    .reconcile(ws, agent)
    .await
    .unwrap();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    let fake = Arc::new(FakeApi::start().await.unwrap());
    let store = Arc::new(MemoryStore::new());
    let ws = WorkspaceId::from("ws_bench");
    let agent = AgentSpecId::from("coder");
    seed(&fake, &store, &ws, &agent).await;

    let (tx, mut rx) = mpsc::unbounded_channel();
    let sink = Arc::new(TimingSink {
        fake: fake.clone(),
        firsts: Mutex::new(HashMap::new()),
        tx,
    });
    let launcher = Launcher::new(
        store.clone(),
        sink,
        Arc::new(fake.client()),
        Arc::new(NoopHost),
        LauncherConfig::default(),
    );
    fake.faults().set_latency(args.latency);

    // Baseline: one raw round trip at this latency (a vault create, as on the start path).
    let client = fake.client();
    let _ = client.vaults().create(&VaultCreate::new("warm-up")).await;
    let mut raw = Vec::new();
    for i in 0..args.runs {
        let start = Instant::now();
        client
            .vaults()
            .create(&VaultCreate::new(format!("baseline {i}")))
            .await
            .unwrap();
        raw.push(start.elapsed());
    }
    raw.sort();
    let rtt = pct(&raw, 50.0);

    let mut samples = Vec::new();
    let mut paths: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    let mut first_kinds: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..args.runs {
        let before = fake.requests().len();
        let start = Instant::now();
        let out = launcher
            .on_assigned(AssignTrigger {
                key: format!("assign-{i}"),
                task: task(&ws, &format!("T-{i}")),
                agent: agent.clone(),
                by: None,
            })
            .await
            .unwrap();
        let TriggerOutcome::Started { card } = out else {
            panic!("run {i}: {out:?}")
        };
        let (mut first, mut idle) = (None, false);
        while first.is_none() || !idle {
            let seen = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .expect("the card makes progress within 30 s")
                .expect("the sink lives");
            match seen {
                Seen::First {
                    card: c,
                    at,
                    activity,
                    answered,
                } if c == card.as_str() => first = Some((at, activity, answered)),
                Seen::Idle { card: c } if c == card.as_str() => idle = true,
                _ => {}
            }
        }
        let (at, activity, answered) = first.unwrap();
        samples.push(at - start);
        // This card's requests (a previous card's last answer may land in the window).
        let session = launcher
            .card(&ws, &card)
            .await
            .unwrap()
            .and_then(|c| c.remote_session)
            .expect("the card has a session");
        let log = fake.requests();
        let path: Vec<String> = log[before..answered]
            .iter()
            .filter(|r| !r.path.starts_with("/v1/sessions/") || r.path.contains(&session))
            .map(endpoint)
            .collect();
        *paths.entry(path).or_default() += 1;
        let kind = serde_json::to_value(&activity.kind).unwrap();
        *first_kinds
            .entry(format!("{kind} {:?}", activity.text))
            .or_default() += 1;
    }
    samples.sort();
    let (med, p90, max) = (
        pct(&samples, 50.0),
        pct(&samples, 90.0),
        *samples.last().unwrap(),
    );
    println!(
        "latency_ms={} runs={} baseline_round_trip_ms median={:.1} (min {:.1}, max {:.1})",
        args.latency.as_millis(),
        args.runs,
        ms(rtt),
        ms(raw[0]),
        ms(*raw.last().unwrap()),
    );
    println!(
        "launch_to_first_activity_ms median={:.1} p90={:.1} max={:.1}  (= {:.2} / {:.2} / {:.2} round trips)",
        ms(med),
        ms(p90),
        ms(max),
        ms(med) / ms(rtt),
        ms(p90) / ms(rtt),
        ms(max) / ms(rtt),
    );
    for (kind, n) in &first_kinds {
        println!("first activity: {kind} ({n} runs)");
    }
    for (path, n) in &paths {
        println!(
            "requests answered between trigger and first activity ({n} runs): {} — {}",
            path.len(),
            path.join(" → ")
        );
    }
    let goal = args.latency * 4 + Duration::from_millis(10);
    println!(
        "beyond 4 baseline round trips: median {:+.1} ms, p90 {:+.1} ms (the launcher's own work, \
         store writes and scheduling)",
        ms(med) - 4.0 * ms(rtt),
        ms(p90) - 4.0 * ms(rtt),
    );
    let verdict = |d: Duration| if d <= goal { "met" } else { "MISSED" };
    println!(
        "goal: <= 4 sequential round trips (<= {:.0} ms): median {}, p90 {}, max {}",
        ms(goal),
        verdict(med),
        verdict(p90),
        verdict(max)
    );
}
