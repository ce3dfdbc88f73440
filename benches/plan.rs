//! Planning cost per managed agent, next to a JSON encode of the agent's create body (the
//! baseline, measured in the same run):
//!
//! * `plan/desired` — the mapping of a spec to its desired remote state ([`desired`]),
//!   instructions HTML → Markdown included (about 3 KB of HTML, `benches/fixtures`);
//! * `plan/html_to_markdown` — that conversion alone, to see its share;
//! * `plan/plan_noop` — [`plan`] with an observed remote state that matches the recorded
//!   status (what every level-triggered pass over an unchanged agent pays);
//! * `plan/plan_spec_changed` — [`plan`] after a spec edit (new instructions): one agent
//!   update;
//! * `plan/plan_drifted` — [`plan`] against a remote agent edited elsewhere (system prompt and
//!   model changed, new version): a deep compare of the normalised shapes, one update;
//! * `plan/encode_create_body` — the baseline: `serde_json::to_vec` of the agent create body.
//!
//! The recorded status and the observed remote objects are real: the setup reconciles the
//! agent once against an in-process [`FakeApi`] and reads the objects back with the client.
//!
//! `cargo bench --bench plan --features testkit` (well under a minute on 2 cores).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "fixtures/mod.rs"]
mod fixtures;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use claude_agents::api::types::agents::AgentUpdate;
use claude_agents::domain::{AgentKind, AgentSpecId, ProviderKeyId};
use claude_agents::reconcile::desired::{DesiredCredential, desired, load_credentials};
use claude_agents::reconcile::fingerprint::SecretFingerprinter;
use claude_agents::reconcile::skill_sync::SkillSync;
use claude_agents::reconcile::{
    Desired, DesiredContext, Observed, Op, ReconcileStatus, Reconciler, ReconcilerConfig, plan,
};
use claude_agents::store::{Expected, MemorySecretStore, MemoryStore, RecordStore};
use claude_agents::testkit::FakeApi;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use futures_util::TryStreamExt;

const OWNER: &str = "bench-install";

struct Inputs {
    spec: claude_agents::domain::AgentSpec,
    changed_spec: claude_agents::domain::AgentSpec,
    ctx: DesiredContext,
    credentials: BTreeMap<String, DesiredCredential>,
    status: ReconcileStatus,
    observed: Observed,
    drifted: Observed,
}

/// One real reconcile against the fake, then the status and the remote objects as the
/// reconciler would observe them.
async fn setup() -> Inputs {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let store = Arc::new(MemoryStore::new());
    let secrets = Arc::new(MemorySecretStore::new());
    let id = AgentSpecId::from("spec_bench");
    let spec = fixtures::spec(&id, 0);
    fixtures::seed(store.as_ref(), secrets.as_ref()).await;
    store.save(&spec, Expected::Absent).await.unwrap();
    let r = Reconciler::new(
        store.clone(),
        secrets.clone(),
        Arc::new(client.clone()),
        ReconcilerConfig::new(OWNER),
    );
    let out = r.reconcile(&spec.workspace, &id).await.unwrap();
    assert_eq!(out.creates, 4, "{}", out.plan);
    let status = out.status.unwrap();

    let agent_id = &status.agent.as_ref().unwrap().id;
    let vault_id = &status.vault.as_ref().unwrap().id;
    let credentials_remote = client
        .vaults()
        .credentials(vault_id)
        .list(&Default::default())
        .try_collect()
        .await
        .unwrap();
    let observed = Observed {
        agent: Some(client.agents().retrieve(agent_id).await.unwrap()),
        environment: Some(
            client
                .environments()
                .retrieve(&status.environment.as_ref().unwrap().id)
                .await
                .unwrap(),
        ),
        vault: Some(client.vaults().retrieve(vault_id).await.unwrap()),
        credentials: credentials_remote,
        ..Observed::default()
    };

    // The inputs of `desired` as the reconciler builds them.
    let AgentKind::Managed(m) = &spec.kind else {
        unreachable!()
    };
    let fp = SecretFingerprinter::load_or_create(secrets.as_ref())
        .await
        .unwrap();
    let credentials = load_credentials(m, secrets.as_ref(), &fp).await.unwrap();
    let (remote_skill, _) = SkillSync::new(store.clone())
        .ensure(
            &client,
            &fixtures::custom_skill(),
            &ProviderKeyId::from(fixtures::KEY),
        )
        .await
        .unwrap();
    let ctx = DesiredContext {
        owner: OWNER.to_owned(),
        host_mcp: None,
        skills: BTreeMap::from([(fixtures::SKILL.into(), remote_skill)]),
    };

    // Drift: the system prompt and the model edited in the Console (a new agent version).
    let agent = observed.agent.as_ref().unwrap();
    let edited = client
        .agents()
        .update(
            agent_id,
            &AgentUpdate {
                system: Some(Some("You are a pirate. Answer in rhymes.".into())),
                model: Some(fixtures::OTHER_MODEL.into()),
                ..AgentUpdate::at_version(agent.version)
            },
        )
        .await
        .unwrap();
    let drifted = Observed {
        agent: Some(edited),
        ..observed.clone()
    };

    let mut changed_spec = fixtures::spec(&id, 1);
    changed_spec.revision += 1;
    Inputs {
        spec,
        changed_spec,
        ctx,
        credentials,
        status,
        observed,
        drifted,
    }
}

fn agent_update(d: &Desired, status: &ReconcileStatus, o: &Observed) -> Vec<String> {
    let p = plan(d, Some(status), o);
    assert_eq!(p.actions.len(), 1, "{p}");
    assert_eq!(p.actions[0].op, Op::Update, "{p}");
    p.actions[0]
        .changes
        .iter()
        .map(|c| c.field.clone())
        .collect()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let i = rt.block_on(setup());
    drop(rt);

    let d = desired(&i.spec, &i.ctx, i.credentials.clone()).unwrap();
    let changed = desired(&i.changed_spec, &i.ctx, i.credentials.clone()).unwrap();
    // The scenarios are what they claim to be.
    assert!(plan(&d, Some(&i.status), &i.observed).is_empty());
    assert_eq!(
        agent_update(&changed, &i.status, &i.observed),
        ["system"],
        "spec change"
    );
    let mut drift = agent_update(&d, &i.status, &i.drifted);
    drift.sort();
    assert_eq!(drift, ["model", "system"], "drift");
    let body = d.agent_create("0123456789ab");
    let AgentKind::Managed(m) = &i.spec.kind else {
        unreachable!()
    };
    eprintln!(
        "agent: {} bytes of instructions HTML → {} chars of Markdown; create body {} bytes of JSON; \
         {} tools, {} MCP servers, {} skills, {} credential(s)",
        m.instructions_html.len(),
        d.agent.system.as_deref().map_or(0, str::len),
        serde_json::to_vec(&body).unwrap().len(),
        d.agent.tools.len(),
        d.agent.mcp_servers.len(),
        d.agent.skills.len(),
        d.credentials.len(),
    );

    let mut g = c.benchmark_group("plan");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    g.bench_function("encode_create_body", |b| {
        b.iter(|| black_box(serde_json::to_vec(black_box(&body)).unwrap()))
    });
    g.bench_function("desired", |b| {
        b.iter_batched(
            || i.credentials.clone(),
            |creds| black_box(desired(black_box(&i.spec), &i.ctx, creds).unwrap()),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("html_to_markdown", |b| {
        b.iter(|| {
            black_box(
                claude_agents::instructions::to_markdown(black_box(&m.instructions_html)).unwrap(),
            )
        })
    });
    g.bench_function("plan_noop", |b| {
        b.iter(|| black_box(plan(black_box(&d), Some(&i.status), &i.observed)))
    });
    g.bench_function("plan_spec_changed", |b| {
        b.iter(|| black_box(plan(black_box(&changed), Some(&i.status), &i.observed)))
    });
    g.bench_function("plan_drifted", |b| {
        b.iter(|| black_box(plan(black_box(&d), Some(&i.status), &i.drifted)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
