//! Wall time and API calls to reconcile many changed managed agents against the testkit fake
//! with a fixed latency on every request, at several fan-out concurrencies, with concurrency 1
//! as the baseline measured in the same run.
//!
//! ```sh
//! cargo run --release --example reconcile_load --features testkit -- \
//!     [--agents 100] [--latency-ms 20] [--concurrency 1,8,32]
//! ```
//!
//! Setup (not measured, no added latency): `--agents` specs of the realistic agent of
//! `benches/fixtures` (three MCP servers, one with a bearer token; a built-in and a custom
//! skill; limited networking with packages) and a provider key record, each reconciled once
//! (agent, environment, vault and credential created). Then, per concurrency level, every
//! spec's instructions are edited and all agents are reconciled through `FanOut::new(c)`:
//! each must succeed with exactly one agent update. Last, a no-op pass over the unchanged
//! specs at concurrency 32 (expected: zero writes).
//!
//! Prints one line per pass, the requests by endpoint of each pass, and the speed-up of each
//! level over concurrency 1. Client, fake and reconciler share this process and the machine's
//! cores; with a 20 ms latency the wall time is dominated by the requests made one after the
//! other within each reconcile.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../benches/fixtures/mod.rs"]
mod fixtures;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use claude_agents::domain::{AgentKind, AgentSpec, AgentSpecId, ProviderKeyId, WorkspaceId};
use claude_agents::reconcile::fanout::FanOut;
use claude_agents::reconcile::skill_sync::SkillSync;
use claude_agents::reconcile::{Reconciler, ReconcilerConfig};
use claude_agents::store::{Expected, MemorySecretStore, MemoryStore, RecordKey, RecordStore};
use claude_agents::testkit::{FakeApi, LoggedRequest};

struct Args {
    agents: usize,
    latency: Duration,
    levels: Vec<usize>,
}

fn args() -> Args {
    let mut a = Args {
        agents: 100,
        latency: Duration::from_millis(20),
        levels: vec![1, 8, 32],
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let value = it.next().expect("a value after each flag");
        match arg.as_str() {
            "--agents" => a.agents = value.parse().expect("a number"),
            "--latency-ms" => a.latency = Duration::from_millis(value.parse().expect("a number")),
            "--concurrency" => {
                a.levels = value
                    .split(',')
                    .map(|v| v.trim().parse().expect("numbers separated by commas"))
                    .collect()
            }
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(a.agents > 0 && !a.levels.is_empty());
    a
}

/// `/v1/vaults/vlt_1/credentials` → `/v1/vaults/{id}/credentials`.
fn endpoint(r: &LoggedRequest) -> String {
    let path: Vec<&str> = r
        .path
        .split('/')
        .enumerate()
        .map(|(i, s)| if i >= 3 && i % 2 == 1 { "{id}" } else { s })
        .collect();
    format!("{} {}", r.method, path.join("/"))
}

struct Pass {
    label: String,
    wall: Duration,
    requests: Vec<LoggedRequest>,
    failures: Vec<String>,
}

impl Pass {
    fn writes(&self) -> usize {
        self.requests.iter().filter(|r| r.method != "GET").count()
    }

    fn print(&self, agents: usize) {
        let n = self.requests.len();
        println!(
            "{} agents={agents} wall_ms={:.0} requests={n} writes={} per_agent_requests={:.2}",
            self.label,
            self.wall.as_secs_f64() * 1000.0,
            self.writes(),
            n as f64 / agents as f64,
        );
        let mut by: BTreeMap<String, usize> = BTreeMap::new();
        for r in &self.requests {
            *by.entry(endpoint(r)).or_default() += 1;
        }
        let parts: Vec<String> = by.iter().map(|(e, n)| format!("{e}: {n}")).collect();
        println!("    by endpoint: {}", parts.join(", "));
        let non_2xx = self.requests.iter().filter(|r| r.status >= 300).count();
        if non_2xx > 0 {
            println!("    non-2xx answers: {non_2xx}");
        }
    }
}

struct Bench {
    fake: FakeApi,
    store: Arc<MemoryStore>,
    reconciler: Reconciler,
    ws: WorkspaceId,
    ids: Vec<AgentSpecId>,
}

impl Bench {
    /// Edits every spec's instructions to `variant` (a new revision).
    async fn edit_all(&self, variant: usize) {
        for id in &self.ids {
            let (mut spec, rev) = self
                .store
                .load::<AgentSpec>(&RecordKey::of(&self.ws, id))
                .await
                .unwrap()
                .unwrap();
            if let AgentKind::Managed(m) = &mut spec.kind {
                m.instructions_html = fixtures::instructions_html(variant);
            }
            spec.revision += 1;
            self.store
                .save(&spec, Expected::Revision(rev))
                .await
                .unwrap();
        }
    }

    /// Reconciles every agent `concurrency` at a time; with `expect_updates`, each must make
    /// exactly one agent update (and nothing else), else none at all.
    async fn pass(&self, label: String, concurrency: usize, expect_updates: bool) -> Pass {
        let before = self.fake.requests().len();
        let start = Instant::now();
        let report = FanOut::new(concurrency)
            .run(self.ids.iter().cloned(), |id| async move {
                self.reconciler.reconcile(&self.ws, &id).await
            })
            .await;
        let wall = start.elapsed();
        let requests = self.fake.requests().split_off(before);
        let mut failures = Vec::new();
        let want = usize::from(expect_updates);
        for (id, result) in &report.results {
            match result {
                Err(e) => failures.push(format!("{id}: reconcile failed: {e}")),
                Ok(out) if out.updates != want || out.creates + out.archives != 0 => {
                    failures.push(format!(
                        "{id}: {} updates, {} creates, {} archives (want {want} update(s)):\n{}",
                        out.updates, out.creates, out.archives, out.plan
                    ))
                }
                Ok(_) => {}
            }
        }
        // Cross-check on the wire: one agent update per agent, no other write.
        let mut updates: BTreeMap<&str, usize> = BTreeMap::new();
        for r in requests.iter().filter(|r| r.method != "GET") {
            if r.path.starts_with("/v1/agents/") && r.path.matches('/').count() == 3 {
                *updates.entry(r.path.as_str()).or_default() += 1;
            } else {
                failures.push(format!("unexpected write {} {}", r.method, r.path));
            }
        }
        let expected_agents = if expect_updates { self.ids.len() } else { 0 };
        if updates.len() != expected_agents || updates.values().any(|n| *n != 1) {
            failures.push(format!(
                "{} agents updated on the wire (want {expected_agents}, one update each); counts {:?}",
                updates.len(),
                updates.values().collect::<Vec<_>>()
            ));
        }
        Pass {
            label,
            wall,
            requests,
            failures,
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let store = Arc::new(MemoryStore::new());
    let secrets = Arc::new(MemorySecretStore::new());
    let ws = WorkspaceId::from(fixtures::WS);
    fixtures::seed(store.as_ref(), secrets.as_ref()).await;
    // Upload the custom skill once, so the agents' reconciles find it unchanged (as
    // `Reconciler::skill_changed` does) instead of contending for its upload.
    SkillSync::new(store.clone())
        .ensure(
            &client,
            &fixtures::custom_skill(),
            &ProviderKeyId::from(fixtures::KEY),
        )
        .await
        .unwrap();
    let ids: Vec<AgentSpecId> = (0..args.agents)
        .map(|i| AgentSpecId::from(format!("spec_{i:04}")))
        .collect();
    for id in &ids {
        store
            .save(&fixtures::spec(id, 0), Expected::Absent)
            .await
            .unwrap();
    }
    let reconciler = Reconciler::new(
        store.clone(),
        secrets.clone(),
        Arc::new(client),
        ReconcilerConfig::new("load-install"),
    );
    let b = Bench {
        fake,
        store,
        reconciler,
        ws,
        ids,
    };

    // Setup: create everything (not measured, no latency).
    let start = Instant::now();
    let before = b.fake.requests().len();
    let report = FanOut::new(8)
        .run(b.ids.iter().cloned(), |id| {
            let b = &b;
            async move { b.reconciler.reconcile(&b.ws, &id).await }
        })
        .await;
    if let Some((id, e)) = report.errors().next() {
        println!("FAILED: setup reconcile of {id}: {e}");
        std::process::exit(1);
    }
    let setup_requests = b.fake.requests().len() - before;
    println!(
        "setup: {} agents created in {:.0} ms, {setup_requests} requests ({:.1} per agent), no latency; \
         measured passes: {} ms latency on every request",
        b.ids.len(),
        start.elapsed().as_secs_f64() * 1000.0,
        setup_requests as f64 / b.ids.len() as f64,
        args.latency.as_millis(),
    );
    b.fake.faults().set_latency(args.latency);

    let mut passes = Vec::new();
    for (n, &c) in args.levels.iter().enumerate() {
        b.edit_all(n + 1).await;
        passes.push((c, b.pass(format!("concurrency={c}"), c, true).await));
        passes.last().unwrap().1.print(b.ids.len());
    }
    let noop = b.pass("noop concurrency=32".to_owned(), 32, false).await;
    noop.print(b.ids.len());

    if let Some((_, base)) = passes.iter().find(|(c, _)| *c == 1) {
        for (c, p) in &passes {
            println!(
                "speed-up concurrency={c} vs concurrency=1: {:.2}x",
                base.wall.as_secs_f64() / p.wall.as_secs_f64()
            );
        }
    }
    let per_request = args.latency.as_secs_f64() * 1000.0;
    for (c, p) in &passes {
        let ideal = p.requests.len() as f64 / b.ids.len() as f64
            * per_request
            * (b.ids.len() as f64 / *c as f64).ceil();
        println!(
            "concurrency={c}: wall {:.0} ms vs {:.0} ms of pure latency ({:.2}x)",
            p.wall.as_secs_f64() * 1000.0,
            ideal,
            p.wall.as_secs_f64() * 1000.0 / ideal
        );
    }

    let failures: Vec<String> = passes
        .iter()
        .map(|(_, p)| p)
        .chain([&noop])
        .flat_map(|p| p.failures.iter().map(|f| format!("{}: {f}", p.label)))
        .collect();
    if !failures.is_empty() {
        for f in failures.iter().take(20) {
            println!("FAILED: {f}");
        }
        println!("FAILED: {} problem(s)", failures.len());
        std::process::exit(1);
    }
    println!(
        "ok: every reconcile succeeded; one agent update per agent per changed pass; no-op pass wrote nothing"
    );
}
