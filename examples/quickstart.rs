//! The whole flow in one file: a workspace API key, a managed agent, a task assigned to it, the
//! task history as it streams, then a follow-up comment mentioning the agent.
//!
//! ```sh
//! cargo run --example quickstart --features sqlite,testkit [-- --db agents.db]
//! ```
//!
//! * Without `ANTHROPIC_API_KEY` it runs offline against an in-process fake of the API
//!   (`testkit`) whose scripted agent calls the `update_status` task tool and answers in the
//!   first turn, and calls `add_comment` in the second. With `ANTHROPIC_API_KEY` set it talks
//!   to the real API (honouring `ANTHROPIC_BASE_URL`) with that key: it creates a real agent,
//!   environment, vault and session, and what the agent does is up to the model.
//! * State lives in a SQLite file (`--db FILE`, default a file in a fresh temp directory);
//!   secrets are sealed with a master key in `FILE.key` (created with mode 0600). With the
//!   fake, `FILE` must not exist yet (the fake forgets its sessions when the process ends);
//!   with the real API a later run reuses the key and the agent, and resumes live cards.
//!
//! Steps: add the key through [`ProviderKeys`] (validated by listing models; the masked form is
//! printed), save a managed [`AgentSpec`] and reconcile it (the plan is printed), assign a
//! task through [`Launcher::on_assigned`] and print each activity as the [`EventSink`]
//! receives it, post a comment mentioning the agent ([`Launcher::on_comment`]) and print the
//! second turn. The turn ends are awaited by watching the card deliveries, not by sleeping.
//!
//! The last line on stdout is `card=<id> status=<state> events=<n> activities=<n>`: the card,
//! its state at the end, the events of its session stored in the log, and the distinct
//! activities delivered.

use std::collections::{BTreeMap, HashSet};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use claude_agents::api::Client;
use claude_agents::domain::{
    Activity, ActivityKind, AgentKind, AgentSpec, AgentSpecId, EnvironmentSettings, ManagedAgent,
    SessionCard, SessionCardId, SessionState, TaskComment, TaskContext, ToolMode, WorkspaceId,
};
use claude_agents::keys::ProviderKeys;
use claude_agents::launch::{
    AssignTrigger, CommentTrigger, Handle, HostError, Launcher, LauncherConfig, TaskHost,
    TriggerOutcome, card_id_for,
};
use claude_agents::reconcile::{Reconciler, ReconcilerConfig};
use claude_agents::secrets::{Keyring, load_or_create_key_file};
use claude_agents::store::{
    DeliveryKind, EventSink, Expected, RecordKey, RecordStore, SinkDelivery, SqliteSecretStore,
    SqliteStore, Store, StoreError,
};
use claude_agents::testkit::script::Step;
use claude_agents::testkit::{FakeApi, Script, TEST_API_KEY};
use secrecy::SecretString;
use serde_json::json;
use tokio::sync::watch;

const KEY_LABEL: &str = "quickstart";

/// What the host shows of one card, updated by the sink.
#[derive(Clone, Debug, Default)]
struct Progress {
    /// The card's state as last delivered.
    state: Option<SessionState>,
    /// How many times the card went idle (one per finished turn).
    idle_turns: usize,
}

/// The host's task history: prints every activity as it arrives, dedupes on the delivery key
/// (the [`EventSink`] contract), and publishes the demo card's progress.
struct PrintingSink {
    card: SessionCardId,
    seen: Mutex<HashSet<String>>,
    activities: Mutex<usize>,
    progress: watch::Sender<Progress>,
}

impl PrintingSink {
    fn new(card: SessionCardId) -> Self {
        Self {
            card,
            seen: Mutex::new(HashSet::new()),
            activities: Mutex::new(0),
            progress: watch::Sender::new(Progress::default()),
        }
    }

    fn activities(&self) -> usize {
        *self.activities.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn label(kind: &ActivityKind) -> &'static str {
    match kind {
        ActivityKind::AgentMessage => "agent",
        ActivityKind::ToolAction => "tool",
        ActivityKind::Error => "error",
        ActivityKind::StatusChange { .. } => "status",
        ActivityKind::ApprovalNeeded { .. } => "approval",
        ActivityKind::FinalResult => "result",
        ActivityKind::Thinking => "thinking",
        _ => "activity",
    }
}

#[async_trait]
impl EventSink for PrintingSink {
    async fn deliver(&self, delivery: SinkDelivery) -> Result<(), StoreError> {
        if !self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(delivery.key.clone())
        {
            return Ok(()); // a redelivery
        }
        // Another card (one resumed from an earlier run with `--db`) is shown with its id.
        let other = if delivery.session == self.card.as_str() {
            String::new()
        } else {
            format!("({}) ", delivery.session)
        };
        match delivery.kind {
            DeliveryKind::Activity => {
                let Ok(activity) = serde_json::from_value::<Activity>(delivery.payload) else {
                    return Ok(());
                };
                if other.is_empty() {
                    *self.activities.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                }
                let text = match &activity.kind {
                    ActivityKind::StatusChange { to } if activity.text.is_empty() => to.to_string(),
                    ActivityKind::StatusChange { to } => format!("{to} ({})", activity.text),
                    _ => activity.text.clone(),
                };
                println!("{other}[{}] {}", label(&activity.kind), one_line(&text));
            }
            DeliveryKind::CardChanged => {
                let Ok(card) = serde_json::from_value::<SessionCard>(delivery.payload) else {
                    return Ok(());
                };
                if other.is_empty() {
                    self.progress.send_modify(|p| {
                        if card.state == SessionState::Idle && p.state != Some(SessionState::Idle) {
                            p.idle_turns += 1;
                        }
                        p.state = Some(card.state);
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The first line of `text`, with a marker when there was more.
fn one_line(text: &str) -> String {
    let mut lines = text.trim().lines();
    let first = lines.next().unwrap_or("").to_owned();
    match lines.next() {
        Some(_) => format!("{first} …"),
        None => first,
    }
}

/// The host's tracker: one task in memory, changed by the agent's task tools.
struct DemoTracker {
    task: Mutex<TaskContext>,
}

impl DemoTracker {
    fn snapshot(&self) -> TaskContext {
        self.task.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait]
impl TaskHost for DemoTracker {
    async fn task(&self, _card: &SessionCard) -> Result<TaskContext, HostError> {
        Ok(self.snapshot())
    }

    async fn add_comment(
        &self,
        _card: &SessionCard,
        tool_use_id: &str,
        body: &str,
    ) -> Result<(), HostError> {
        let mut task = self.task.lock().unwrap_or_else(|e| e.into_inner());
        // Idempotent on the tool call id (the TaskHost contract).
        if task.comments.iter().any(|c| c.id.as_str() == tool_use_id) {
            return Ok(());
        }
        task.comments.push(TaskComment {
            id: tool_use_id.into(),
            author: "agent".into(),
            body: body.to_owned(),
            at: chrono::Utc::now(),
        });
        println!("[host] {} got a comment: {}", task.task, one_line(body));
        Ok(())
    }

    async fn update_status(
        &self,
        _card: &SessionCard,
        _tool_use_id: &str,
        status: &str,
    ) -> Result<(), HostError> {
        const VALID: [&str; 4] = ["todo", "in_progress", "in_review", "done"];
        if !VALID.contains(&status) {
            return Err(HostError::new(format!(
                "unknown status {status:?}; use one of {}",
                VALID.join(", ")
            )));
        }
        let mut task = self.task.lock().unwrap_or_else(|e| e.into_inner());
        if task.status != status {
            println!("[host] {} status: {} → {status}", task.task, task.status);
            task.status = status.to_owned();
        }
        Ok(())
    }
}

fn parse() -> Result<Option<String>, String> {
    let mut args = std::env::args().skip(1);
    let mut db = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--db" => db = Some(args.next().ok_or("--db needs a path")?),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(db)
}

/// The agent, as a host's settings page would save it.
fn agent_spec(ws: &WorkspaceId, id: &AgentSpecId) -> AgentSpec {
    AgentSpec {
        id: id.clone(),
        workspace: ws.clone(),
        name: "Helper".into(),
        provider_key: "set-below".into(),
        kind: AgentKind::Managed(ManagedAgent {
            instructions_html: "<p>You work on tasks of the <strong>Acme</strong> tracker.</p>\
                 <ul><li><p>Set the task to <code>in_progress</code> when you start.</p></li>\
                 <li><p>Keep answers short.</p></li></ul>"
                .into(),
            model: "claude-sonnet-4-6".into(),
            guidance: "Answer in the task's language.".into(),
            rules: vec![],
            skills: vec![],
            mcp_servers: vec![],
            tool_mode: ToolMode::default(),
            repositories: vec![],
            environment: EnvironmentSettings::default(),
        }),
        revision: 1,
    }
}

/// Waits until the demo card has finished `turns` turns (or ended).
async fn wait_turns(
    rx: &mut watch::Receiver<Progress>,
    turns: usize,
    timeout: Duration,
) -> Result<Progress, Box<dyn std::error::Error>> {
    let got = tokio::time::timeout(
        timeout,
        rx.wait_for(|p| p.idle_turns >= turns || p.state.is_some_and(|s| s.is_terminal())),
    )
    .await
    .map_err(|_| format!("turn {turns} did not end within {timeout:?}"))??
    .clone();
    if got.idle_turns < turns {
        return Err(format!("the card ended as {:?} during turn {turns}", got.state).into());
    }
    Ok(got)
}

async fn run(db: Option<String>) -> Result<(), Box<dyn std::error::Error>> {
    // 1. The API: the real one with the caller's key, or the in-process fake.
    let mut fake = None;
    let (api, api_key, timeout) = match std::env::var("ANTHROPIC_API_KEY") {
        Ok(key) if !key.trim().is_empty() => {
            let mut builder = Client::builder();
            if let Ok(url) = std::env::var("ANTHROPIC_BASE_URL") {
                builder = builder.base_url(url);
            }
            println!("Using the real API with ANTHROPIC_API_KEY (this creates remote objects).");
            (builder, key, Duration::from_secs(600))
        }
        _ => {
            let f = FakeApi::start().await?;
            println!("ANTHROPIC_API_KEY not set: using the in-process fake API.");
            // Turn 1: set the status, answer. (Turn 2's script is set per session below.)
            f.set_default_script(Script::new(vec![
                Step::ModelRequestStart,
                Step::Thinking,
                Step::custom_tool_use("update_status", json!({"status": "in_progress"})),
                Step::message("The login button had no click handler; I added one."),
                Step::ModelRequestEnd {
                    usage: Default::default(),
                    is_error: false,
                },
            ]));
            let builder = Client::builder().base_url(f.base_url());
            fake = Some(f);
            (builder, TEST_API_KEY.to_owned(), Duration::from_secs(30))
        }
    };

    // 2. The store: one SQLite file, secrets sealed with a key file next to it.
    let _tmp;
    let path = match db {
        Some(p) => p,
        None => {
            let dir = tempfile::tempdir()?;
            let p = dir.path().join("agents.db").to_string_lossy().into_owned();
            _tmp = dir;
            p
        }
    };
    if fake.is_some() && std::path::Path::new(&path).exists() {
        // The fake forgets its sessions when the process ends, and its ids restart: cards and
        // logs of an earlier run would refer to sessions that are gone (or to new ones with
        // the same ids).
        return Err(format!(
            "{path} exists: with the offline fake, --db needs a new file (set \
             ANTHROPIC_API_KEY to keep working against the real API)"
        )
        .into());
    }
    let sqlite = SqliteStore::open(&path).await?;
    let master = load_or_create_key_file(format!("{path}.key"))?;
    let secrets = Arc::new(SqliteSecretStore::new(&sqlite, Keyring::new(1, master)));
    let store: Arc<dyn Store> = Arc::new(sqlite);
    println!("Store: {path} (secrets sealed with {path}.key)");

    // 3. The workspace key, validated by listing models; records only hold the masked form.
    let ws = WorkspaceId::from("acme");
    let keys = ProviderKeys::new(store.clone(), secrets.clone(), api);
    let existing = keys
        .list(&ws)
        .await?
        .into_iter()
        .find(|k| k.label == KEY_LABEL);
    let key = match existing {
        Some(k) => k,
        None => {
            keys.add(&ws, KEY_LABEL, SecretString::from(api_key))
                .await?
        }
    };
    println!(
        "Key {} ({}): {}, {} models",
        key.id,
        key.label,
        key.masked,
        key.models.len()
    );

    // 4. The agent: saved like any record, then reconciled into remote objects.
    let agent = AgentSpecId::from("helper");
    let mut spec = agent_spec(&ws, &agent);
    spec.provider_key = key.id.clone();
    match store.load::<AgentSpec>(&RecordKey::of(&ws, &agent)).await? {
        Some((stored, rev)) => {
            spec.revision = stored.revision;
            if stored != spec {
                spec.revision += 1;
                store.save(&spec, Expected::Revision(rev)).await?;
            }
        }
        None => {
            store.save(&spec, Expected::Absent).await?;
        }
    }
    let keys = Arc::new(keys);
    let reconciler = Reconciler::new(
        store.clone(),
        secrets.clone(),
        keys.clone(),
        ReconcilerConfig::new("quickstart"),
    );
    let outcome = reconciler.reconcile(&ws, &agent).await?;
    if outcome.plan.is_empty() {
        println!("Reconciled: nothing to change.");
    } else {
        print!("Reconciled:\n{}", outcome.plan);
    }

    // 5. The launcher, with the host's sink and task hook.
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S%3f").to_string();
    let assign_key = format!("quickstart-assign-{stamp}");
    let card = card_id_for(&ws, &agent, &assign_key);
    let sink = Arc::new(PrintingSink::new(card.clone()));
    let mut progress = sink.progress.subscribe();
    let task = TaskContext {
        workspace: ws.clone(),
        project: "web".into(),
        task: format!("WEB-{stamp}").into(),
        title: "Fix the login page".into(),
        description: "The **Log in** button does nothing on Safari.".into(),
        status: "todo".into(),
        fields: BTreeMap::new(),
        comments: vec![],
        links: vec![],
    };
    let tracker = Arc::new(DemoTracker {
        task: Mutex::new(task.clone()),
    });
    let launcher = Launcher::new(
        store.clone(),
        sink.clone(),
        keys,
        tracker.clone(),
        LauncherConfig::default(),
    );
    let resumed = launcher.resume().await?;
    if resumed.resumed + resumed.cleaned > 0 {
        println!(
            "Resumed {} card(s) of an earlier run, cleaned {}.",
            resumed.resumed, resumed.cleaned
        );
    }

    // 6. Assign the task; the history streams in through the sink.
    println!("\n== {} assigned to @helper", task.task);
    let outcome = launcher
        .on_assigned(AssignTrigger {
            key: assign_key,
            task: task.clone(),
            agent: agent.clone(),
            by: Some("ana".into()),
        })
        .await?;
    if outcome != (TriggerOutcome::Started { card: card.clone() }) {
        return Err(format!("unexpected outcome {outcome:?}").into());
    }
    wait_turns(&mut progress, 1, timeout).await?;

    // 7. A comment mentioning the agent continues the same session.
    let comment = TaskComment {
        id: format!("comment-{stamp}").into(),
        author: "Ana".into(),
        body: "@helper thanks! Please leave a note for QA.".into(),
        at: chrono::Utc::now(),
    };
    println!("\n== Ana: {}", comment.body);
    if let (Some(f), Some(session)) = (
        &fake,
        launcher
            .card(&ws, &card)
            .await?
            .and_then(|c| c.remote_session),
    ) {
        f.set_script(
            session,
            Script::new(vec![
                Step::ModelRequestStart,
                Step::custom_tool_use(
                    "add_comment",
                    json!({"body": "QA: log in on Safari 17 and check the redirect."}),
                ),
                Step::message("Done: I left a note for QA."),
                Step::ModelRequestEnd {
                    usage: Default::default(),
                    is_error: false,
                },
            ]),
        );
    }
    // The host stores the comment, then tells the launcher about it.
    tracker
        .task
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .comments
        .push(comment.clone());
    let current = tracker.snapshot();
    let outcome = launcher
        .on_comment(CommentTrigger {
            key: comment.id.as_str().to_owned(),
            task: current,
            comment,
            agent: agent.clone(),
            handle: Handle::new("helper")?,
            by: Some("ana".into()),
        })
        .await?;
    if outcome != (TriggerOutcome::FollowUp { card: card.clone() }) {
        return Err(format!("unexpected outcome {outcome:?}").into());
    }
    wait_turns(&mut progress, 2, timeout).await?;

    // 8. The summary line.
    let card_now = launcher
        .card(&ws, &card)
        .await?
        .ok_or("the card disappeared")?;
    let events = match &card_now.remote_session {
        Some(session) => store.read_events(session, 0, 1_000_000).await?.len(),
        None => 0,
    };
    let final_task = tracker.snapshot();
    println!(
        "\nTask {} is now `{}` with {} comment(s); usage {} in / {} out tokens.",
        final_task.task,
        final_task.status,
        final_task.comments.len(),
        card_now.usage.input_tokens,
        card_now.usage.output_tokens
    );
    launcher.shutdown();
    println!(
        "card={} status={} events={events} activities={}",
        card_now.id,
        card_now.state,
        sink.activities()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let db = match parse() {
        Ok(db) => db,
        Err(e) => {
            eprintln!("{e}\nusage: quickstart [--db FILE]");
            return ExitCode::from(2);
        }
    };
    match run(db).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
