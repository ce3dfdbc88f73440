//! Reconciles one agent spec file: prints the plan, then a last line
//! `create=<n> update=<n> archive=<n> api_writes=<n>`.
//!
//! ```sh
//! cargo run --example reconcile --features testkit,sqlite -- \
//!     --spec examples/agent.json [--db agents.db] [--dry-run] [--again]
//! ```
//!
//! * With `ANTHROPIC_API_KEY` set it talks to the real API (honouring `ANTHROPIC_BASE_URL`);
//!   otherwise to an in-process fake (`testkit`), so it runs offline.
//! * `--db FILE` keeps specs, status and (encrypted) secrets in a SQLite file, with the master
//!   key in `FILE.key` (created with mode 0600); without it everything is in memory.
//! * `--dry-run` only plans (the last line counts what it would do; `api_writes=0`). `--again` reconciles a second time in the same process and
//!   reports that run (an unchanged spec: an empty plan and `api_writes=0`).
//!
//! The spec file is an `AgentSpec` as JSON (see `examples/agent.json`). Its `provider_key` is
//! replaced by the key this example adds (validated by listing models) under the label
//! `reconcile example`.

use std::process::ExitCode;
use std::sync::Arc;

use claude_agents::api::Client;
use claude_agents::domain::{AgentSpec, ProviderKey};
use claude_agents::keys::ProviderKeys;
use claude_agents::reconcile::{Op, Outcome, Reconciler, ReconcilerConfig};
use claude_agents::secrets::{Keyring, load_or_create_key_file};
use claude_agents::store::{
    Expected, MemorySecretStore, MemoryStore, RecordKey, RecordStore, SecretStore,
    SqliteSecretStore, SqliteStore, Store,
};
use claude_agents::testkit::{FakeApi, TEST_API_KEY};
use secrecy::SecretString;

struct Args {
    spec: String,
    db: Option<String>,
    dry_run: bool,
    again: bool,
}

fn parse() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let (mut spec, mut db, mut dry_run, mut again) = (None, None, false, false);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--spec" => spec = args.next(),
            "--db" => db = args.next(),
            "--dry-run" => dry_run = true,
            "--again" => again = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Args {
        spec: spec.ok_or("--spec FILE is required")?,
        db,
        dry_run,
        again,
    })
}

fn report(outcome: &Outcome, dry_run: bool) {
    if outcome.plan.is_empty() {
        println!("No changes: the remote objects match the spec.");
    } else {
        print!("{}", outcome.plan);
    }
    let (creates, updates, archives) = if dry_run {
        // Nothing was done: count what the plan would do.
        let count = |ops: &[Op]| {
            outcome
                .plan
                .actions
                .iter()
                .filter(|a| ops.contains(&a.op))
                .count()
        };
        (
            count(&[Op::Create, Op::Recreate]),
            count(&[Op::Update, Op::Rotate]),
            count(&[Op::Archive]),
        )
    } else {
        (outcome.creates, outcome.updates, outcome.archives)
    };
    println!(
        "create={creates} update={updates} archive={archives} api_writes={}",
        outcome.api_writes
    );
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(&args.spec)?;
    let mut spec: AgentSpec = serde_json::from_str(&text)?;

    let (store, secrets): (Arc<dyn Store>, Arc<dyn SecretStore>) = match &args.db {
        Some(path) => {
            let store = SqliteStore::open(path).await?;
            let key = load_or_create_key_file(format!("{path}.key"))?;
            let secrets = SqliteSecretStore::new(&store, Keyring::new(1, key));
            (Arc::new(store), Arc::new(secrets))
        }
        None => (
            Arc::new(MemoryStore::new()),
            Arc::new(MemorySecretStore::new()),
        ),
    };

    // The real API with the caller's key, or the in-process fake.
    let mut _fake = None;
    let (api, api_key) = match std::env::var("ANTHROPIC_API_KEY") {
        Ok(key) if !key.trim().is_empty() => {
            let mut builder = Client::builder();
            if let Ok(url) = std::env::var("ANTHROPIC_BASE_URL") {
                builder = builder.base_url(url);
            }
            (builder, key)
        }
        _ => {
            let fake = FakeApi::start().await?;
            eprintln!(
                "ANTHROPIC_API_KEY not set: using the in-process fake API at {}",
                fake.base_url()
            );
            let builder = Client::builder().base_url(fake.base_url());
            _fake = Some(fake);
            (builder, TEST_API_KEY.to_owned())
        }
    };

    // The workspace key: reuse the example's key if it is there, else add it (validated).
    let keys = ProviderKeys::new(store.clone(), secrets.clone(), api);
    let existing: Option<ProviderKey> = keys
        .list(&spec.workspace)
        .await?
        .into_iter()
        .find(|k| k.label == "reconcile example");
    let key = match existing {
        Some(key) => key,
        None => {
            keys.add(
                &spec.workspace,
                "reconcile example",
                SecretString::from(api_key),
            )
            .await?
        }
    };
    spec.provider_key = key.id.clone();

    // Save the spec, bumping its revision only if it changed.
    let record_key = RecordKey::of(&spec.workspace, &spec.id);
    match store.load::<AgentSpec>(&record_key).await? {
        Some((stored, revision)) => {
            spec.revision = stored.revision;
            if stored != spec {
                spec.revision += 1;
                store.save(&spec, Expected::Revision(revision)).await?;
            }
        }
        None => {
            store.save(&spec, Expected::Absent).await?;
        }
    }

    let reconciler = Reconciler::new(
        store,
        secrets,
        Arc::new(keys),
        ReconcilerConfig::new("reconcile-example"),
    );
    if args.dry_run {
        report(
            &reconciler.plan_only(&spec.workspace, &spec.id).await?,
            true,
        );
        return Ok(());
    }
    let first = reconciler.reconcile(&spec.workspace, &spec.id).await?;
    if args.again {
        print!("{}", first.plan);
        println!("-- reconciling again --");
        report(
            &reconciler.reconcile(&spec.workspace, &spec.id).await?,
            false,
        );
    } else {
        report(&first, false);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}\nusage: reconcile --spec FILE [--db FILE] [--dry-run] [--again]");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
