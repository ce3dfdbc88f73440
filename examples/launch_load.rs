//! One process pumping many concurrent scripted sessions through the [`Launcher`]: events
//! processed, wall time, process CPU time, peak RSS and CPU per event, against a same-run
//! baseline that does the same API work without the launcher.
//!
//! ```sh
//! cargo run --release --example launch_load --features testkit,sqlite -- \
//!     [--sessions 1000] [--tool-calls 16] [--repeat 3] [--in-process]
//! ```
//!
//! (Without the `sqlite` feature the `launcher-sqlite` phase is left out.)
//!
//! Every phase runs in its own child process (this binary with `--phase NAME`), so its CPU time
//! and peak RSS are its own, and talks over loopback HTTP to the testkit fake API, which runs
//! in **another** process (`--phase fake`, started afresh for each phase; its CPU and RSS are
//! printed but not counted). With `--in-process` the fake runs inside each measured process
//! instead (then the figures include the fake's work and memory). Two tokio worker threads per
//! process; no added latency. The phases run `--repeat` rounds, interleaved; the summary gives
//! medians.
//!
//! Each session's turn is scripted to `8 + 2 × --tool-calls` persisted events (40 by default):
//! status running, the user message, model request start, thinking, per tool call an allowed
//! `bash` call and its result, two agent messages, model request end, status idle — plus the
//! queued echo of the user message on the stream (41 stream events).
//!
//! * `baseline`: per session, the API work the launcher does on its start path and pump — run
//!   vault create, session create, the lossless `follow` (stream open + history backfill), the
//!   first message (sent once the stream is open; the text the launcher composes) — and a
//!   reader that decodes every event until the turn ends. No store, no sink. Its streams stay
//!   open until every session is done, as the launcher's do (it goes on following idle
//!   sessions for follow-ups): an open HTTP/1.1 stream keeps its read buffer, which grew with
//!   the turn's burst of events.
//! * `launcher`: `Launcher::on_assigned` for every session at once
//!   (`max_concurrent_per_agent` = sessions) over a `MemoryStore` (wrapped to count its
//!   operations) and a sink that only counts; done when every card is idle. Checks that every
//!   session's log holds its events and that no card failed.
//! * `launcher-idlog`: the same, but the store's log keeps only event ids (what dedupe needs),
//!   not payloads — a profile of how much of the launcher phase is the `MemoryStore` holding
//!   every event's JSON text.
//! * `launcher-sqlite`: the same as `launcher` over a `SqliteStore` on a fresh file (the log on
//!   disk, as a deployment keeps it; the store's CPU is counted, its disk writes are not
//!   waited for beyond `synchronous = NORMAL`).
//!
//! The launcher's own CPU per event is, per round, (launcher CPU − baseline CPU) / events.
//!
//! CPU time is the process CPU clock (`CLOCK_PROCESS_CPUTIME_ID`: all threads, nanosecond
//! resolution; through the `cpu-time` crate); peak RSS is `VmHWM` of `/proc/self/status`
//! (Linux only; elsewhere `n/a`). Needs about four file descriptors per session (`ulimit -n`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use claude_agents::api::Client;
use claude_agents::api::follow::FollowOptions;
use claude_agents::api::types::events::{EventParam, StreamEvent, StreamParams};
use claude_agents::api::types::sessions::{AgentRef, SessionCreate};
use claude_agents::api::types::vaults::VaultCreate;
use claude_agents::domain::{
    AgentKind, AgentSpec, AgentSpecId, EnvironmentSettings, KeyStatus, ManagedAgent, ProviderKey,
    SessionCard, TaskContext, ToolMode, Trigger, WorkspaceId, resolve,
};
use claude_agents::launch::{
    AssignTrigger, FirstMessage, HostError, Launcher, LauncherConfig, PromptOptions, TaskHost,
    TriggerOutcome, first_message,
};
use claude_agents::reconcile::{ReconcileStatus, Reconciler, ReconcilerConfig};
use claude_agents::store::{
    AppendOutcome, Collection, DeliveryKind, EventSink, Expected, LogEvent, MemorySecretStore,
    MemoryStore, RecordKey, RecordStore, Revision, SinkDelivery, Store, StoreError, Versioned,
};
use claude_agents::testkit::script::{Permission, Step};
use claude_agents::testkit::{FakeApi, Script, TEST_API_KEY};
use futures_util::StreamExt;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// Tool calls in each session's turn (`--tool-calls`, default 16).
static TOOL_CALLS: AtomicUsize = AtomicUsize::new(16);

/// Persisted events per session turn: status running, the user message, model request
/// start, thinking, two events per tool call, two messages, model request end, status idle.
fn persisted_per_session() -> usize {
    8 + 2 * TOOL_CALLS.load(Ordering::Relaxed)
}

/// Stream events per session: the persisted ones plus the queued echo of the user message
/// (missed when it falls into the history backfill: then only the processed one is seen).
fn streamed_per_session() -> usize {
    persisted_per_session() + 1
}

fn script() -> Script {
    let mut steps = vec![Step::ModelRequestStart, Step::Thinking];
    for i in 0..TOOL_CALLS.load(Ordering::Relaxed) {
        steps.push(
            Step::tool_use(
                "bash",
                json!({"command": format!("cargo test --package crate{i}")}),
                "test result: ok. 12 passed; 0 failed",
            )
            .with_permission(Permission::Allow),
        );
    }
    steps.push(Step::message("The tests pass; I fixed the handler."));
    steps.push(Step::message("Summary: one line changed in src/login.rs."));
    steps.push(Step::ModelRequestEnd {
        usage: Default::default(),
        is_error: false,
    });
    Script::new(steps)
}

// ---- measurement -------------------------------------------------------------------------

/// Process CPU time (all threads, including ones that exited), from
/// `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)` (nanosecond resolution), or `None` where the
/// platform cannot tell.
fn cpu_time() -> Option<Duration> {
    cpu_time::ProcessTime::try_now()
        .ok()
        .map(|t| t.as_duration())
}

/// A `/proc/self/status` field in KiB (`VmHWM`, `VmRSS`), or `None` off Linux.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---- setup shared by both phases ----------------------------------------------------------

struct Setup {
    /// The in-process fake, if the API is not another process.
    _fake: Option<FakeApi>,
    client: Client,
    store: Arc<dyn Store>,
    ws: WorkspaceId,
    agent: AgentSpecId,
}

/// Connects to the fake at `api` (a `--phase fake` process), or starts one in this process;
/// then seeds `store` with a provider key record and a reconciled managed agent.
async fn setup(api: Option<&str>, store: Arc<dyn Store>) -> Setup {
    let (fake, client) = match api {
        Some(url) => {
            let client = Client::builder()
                .api_key(SecretString::from(TEST_API_KEY))
                .base_url(url)
                .build()
                .unwrap();
            (None, client)
        }
        None => {
            let fake = FakeApi::start().await.unwrap();
            fake.set_default_script(script());
            let client = fake.client();
            (Some(fake), client)
        }
    };
    let ws = WorkspaceId::from("ws_load");
    let agent = AgentSpecId::from("coder");
    let key = ProviderKey {
        id: "pk_1".into(),
        workspace: ws.clone(),
        label: "Load key".into(),
        secret: "provider_key/ws_load/pk_1".into(),
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
            instructions_html: "<p>Fix bugs. Run the tests before you answer.</p>".into(),
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
        Arc::new(client.clone()),
        ReconcilerConfig::new("load-bench"),
    )
    .reconcile(&ws, &agent)
    .await
    .unwrap();
    Setup {
        _fake: fake,
        client,
        store,
        ws,
        agent,
    }
}

/// `--phase fake`: serves the fake API until stdin closes, then prints its own CPU time and
/// peak RSS.
async fn serve_fake() {
    let fake = FakeApi::start().await.unwrap();
    fake.set_default_script(script());
    let cpu0 = cpu_time();
    println!("URL {}", fake.base_url());
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    })
    .await
    .unwrap();
    let cpu = cpu_time()
        .zip(cpu0)
        .map_or("n/a".to_owned(), |(b, a)| format!("{:.0}", ms(b - a)));
    let hwm = status_kib("VmHWM").map_or("n/a".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0));
    println!(
        "FAKE requests={} cpu_ms={cpu} peak_rss_mib={hwm}",
        fake.requests().len()
    );
}

fn task(ws: &WorkspaceId, i: usize) -> TaskContext {
    TaskContext {
        workspace: ws.clone(),
        project: "web".into(),
        task: format!("T-{i}").into(),
        title: "Fix the login page".into(),
        description: "The **Log in** button does nothing on Safari. Steps: open /login, \
                      type a user and a password, press the button: nothing happens."
            .into(),
        status: "todo".into(),
        fields: BTreeMap::new(),
        comments: vec![],
        links: vec![],
    }
}

/// What a phase measured.
struct Measured {
    sessions: usize,
    events: usize,
    wall: Duration,
    cpu: Option<Duration>,
    hwm_kib: Option<u64>,
}

impl Measured {
    fn print(&self, phase: &str) {
        let cpu = self
            .cpu
            .map_or("n/a".to_owned(), |c| format!("{:.0}", ms(c)));
        let hwm = self
            .hwm_kib
            .map_or("n/a".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0));
        let per_event = self.cpu.map_or("n/a".to_owned(), |c| {
            format!("{:.2}", c.as_secs_f64() * 1e6 / self.events as f64)
        });
        println!(
            "RESULT phase={phase} sessions={} events={} wall_ms={:.0} cpu_ms={cpu} \
             peak_rss_mib={hwm} cpu_us_per_event={per_event}",
            self.sessions,
            self.events,
            ms(self.wall),
        );
    }
}

// ---- baseline: the same API work without the launcher --------------------------------------

/// One session the plain way; returns the events read.
async fn plain_session(
    client: Client,
    body: SessionCreate,
    text: String,
    n: usize,
) -> (usize, claude_agents::api::ItemStream<StreamEvent>) {
    let vault = client
        .vaults()
        .create(
            &VaultCreate::new(format!("run {n}"))
                .with_metadata("claude_agents.card", n.to_string()),
        )
        .await
        .unwrap();
    let mut body = body;
    body.vault_ids.insert(0, vault.id.clone());
    let session = client.sessions().create(&body).await.unwrap();
    let opened = Arc::new(Notify::new());
    let mut stream = client.sessions().events(&session.id).follow_notifying(
        StreamParams::default(),
        FollowOptions::default(),
        Vec::new(),
        opened.clone(),
    );
    let send = {
        let client = client.clone();
        let id = session.id.clone();
        async move {
            opened.notified().await;
            client
                .sessions()
                .events(&id)
                .send(vec![EventParam::user_message(text)])
                .await
                .unwrap();
        }
    };
    let read = async {
        let mut events = 0;
        while let Some(item) = stream.next().await {
            let event = item.unwrap();
            events += 1;
            if let StreamEvent::SessionStatusIdle(idle) = &event
                && idle.turn_ended()
            {
                break;
            }
        }
        events
    };
    let ((), events) = tokio::join!(send, read);
    // Kept open like the launcher's, which goes on following an idle session.
    (events, stream)
}

async fn baseline(sessions: usize, api: Option<&str>) -> Measured {
    let s = setup(api, Arc::new(MemoryStore::new())).await;
    let status = s
        .store
        .load::<ReconcileStatus>(&ReconcileStatus::key_of(&s.ws, &s.agent))
        .await
        .unwrap()
        .unwrap()
        .0;
    let remote = status.agent.unwrap();
    let mut body = SessionCreate::new(
        AgentRef::new(remote.id, remote.version),
        status.environment.unwrap().id,
    );
    if let Some(v) = status.vault {
        body.vault_ids.push(v.id);
    }
    body.metadata
        .insert("claude_agents.workspace".into(), s.ws.as_str().into());
    // The text the launcher would send for these tasks.
    let spec = s
        .store
        .load::<AgentSpec>(&RecordKey::of(&s.ws, &s.agent))
        .await
        .unwrap()
        .unwrap()
        .0;
    let client = s.client.clone();
    let cpu0 = cpu_time();
    let start = Instant::now();
    let mut handles = Vec::with_capacity(sessions);
    for i in 0..sessions {
        let t = task(&s.ws, i);
        let resolved = resolve(&spec.defaults(), &t.project, None).unwrap();
        let text = first_message(
            &FirstMessage {
                task: &t,
                resolved: &resolved,
                trigger: &Trigger::Assignment { by: None },
            },
            &PromptOptions::default(),
        )
        .unwrap();
        handles.push(tokio::spawn(plain_session(
            client.clone(),
            body.clone(),
            text,
            i,
        )));
    }
    let mut events = 0;
    let mut open = Vec::with_capacity(sessions);
    for h in handles {
        let (n, stream) = h.await.unwrap();
        events += n;
        open.push(stream);
    }
    let wall = start.elapsed();
    let cpu = cpu_time().zip(cpu0).map(|(b, a)| b - a);
    let hwm_kib = status_kib("VmHWM");
    drop(open);
    // The queued echo of the message is not seen when it falls into the backfill.
    assert!(
        (sessions * persisted_per_session()..=sessions * streamed_per_session()).contains(&events),
        "{events} events: every session yields its scripted events"
    );
    Measured {
        sessions,
        events,
        wall,
        cpu,
        hwm_kib,
    }
}

// ---- launcher -----------------------------------------------------------------------------

/// Counts store operations (a cheap profile of what the launcher writes per batch).
struct CountingStore {
    inner: Arc<dyn Store>,
    keep_payloads: bool,
    gets: AtomicU64,
    puts: AtomicU64,
    deletes: AtomicU64,
    lists: AtomicU64,
    appends: AtomicU64,
    appended: AtomicU64,
    reads: AtomicU64,
    puts_by: Mutex<BTreeMap<&'static str, u64>>,
}

impl CountingStore {
    fn new(inner: Arc<dyn Store>, keep_payloads: bool) -> Self {
        Self {
            inner,
            keep_payloads,
            gets: AtomicU64::new(0),
            puts: AtomicU64::new(0),
            deletes: AtomicU64::new(0),
            lists: AtomicU64::new(0),
            appends: AtomicU64::new(0),
            appended: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            puts_by: Mutex::new(BTreeMap::new()),
        }
    }
}

#[async_trait]
impl Store for CountingStore {
    async fn get(&self, c: Collection, key: &str) -> Result<Option<Versioned>, StoreError> {
        self.gets.fetch_add(1, Ordering::Relaxed);
        self.inner.get(c, key).await
    }
    async fn put(
        &self,
        c: Collection,
        key: &str,
        value: Value,
        expected: Expected,
    ) -> Result<Revision, StoreError> {
        self.puts.fetch_add(1, Ordering::Relaxed);
        *self.puts_by.lock().unwrap().entry(c.name()).or_default() += 1;
        self.inner.put(c, key, value, expected).await
    }
    async fn delete(&self, c: Collection, key: &str, expected: Expected) -> Result<(), StoreError> {
        self.deletes.fetch_add(1, Ordering::Relaxed);
        self.inner.delete(c, key, expected).await
    }
    async fn list(
        &self,
        c: Collection,
        prefix: &str,
    ) -> Result<Vec<(String, Versioned)>, StoreError> {
        self.lists.fetch_add(1, Ordering::Relaxed);
        self.inner.list(c, prefix).await
    }
    async fn append_events(
        &self,
        session: &str,
        events: &[LogEvent],
    ) -> Result<AppendOutcome, StoreError> {
        self.appends.fetch_add(1, Ordering::Relaxed);
        self.appended
            .fetch_add(events.len() as u64, Ordering::Relaxed);
        if self.keep_payloads {
            return self.inner.append_events(session, events).await;
        }
        let ids: Vec<LogEvent> = events
            .iter()
            .map(|e| LogEvent {
                event_id: e.event_id.clone(),
                processed: e.processed,
                payload: serde_json::value::RawValue::NULL.to_owned(),
            })
            .collect();
        self.inner.append_events(session, &ids).await
    }
    async fn read_events(
        &self,
        session: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, LogEvent)>, StoreError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.read_events(session, after, limit).await
    }
    async fn cursor(&self, session: &str) -> Result<Option<u64>, StoreError> {
        self.inner.cursor(session).await
    }
    async fn seen_events(&self, session: &str) -> Result<HashSet<(String, bool)>, StoreError> {
        self.inner.seen_events(session).await
    }
}

/// Counts deliveries; signals when every card is idle (or ended).
struct CountingSink {
    activities: AtomicUsize,
    cards: AtomicUsize,
    done: Mutex<HashSet<String>>,
    failed: AtomicUsize,
    want: usize,
    all_done: Notify,
}

#[async_trait]
impl EventSink for CountingSink {
    async fn deliver(&self, d: SinkDelivery) -> Result<(), StoreError> {
        match d.kind {
            DeliveryKind::Activity => {
                self.activities.fetch_add(1, Ordering::Relaxed);
            }
            DeliveryKind::CardChanged => {
                self.cards.fetch_add(1, Ordering::Relaxed);
                let state = d.payload["state"].as_str().unwrap_or("");
                let ended = matches!(state, "failed" | "stopped" | "completed");
                if state == "idle" || ended {
                    if ended {
                        self.failed.fetch_add(1, Ordering::Relaxed);
                    }
                    let mut done = self.done.lock().unwrap();
                    if done.insert(d.session) && done.len() == self.want {
                        self.all_done.notify_one();
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

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

/// Which store the launcher phase runs on.
#[derive(Clone, Copy, PartialEq)]
enum Backend {
    /// `MemoryStore`, keeping every event's payload.
    Memory,
    /// `MemoryStore` whose log keeps only event ids (what dedupe needs), to tell the log's
    /// share of memory and CPU from the launcher's.
    MemoryIdLog,
    /// `SqliteStore` on a fresh file in a temporary directory: the log on disk, as a
    /// deployment keeps it.
    #[cfg(feature = "sqlite")]
    Sqlite,
}

async fn launcher(sessions: usize, api: Option<&str>, backend: Backend) -> Measured {
    let keep_payloads = backend != Backend::MemoryIdLog;
    #[cfg(feature = "sqlite")]
    let dir = tempfile::tempdir().unwrap();
    let inner: Arc<dyn Store> = match backend {
        Backend::Memory | Backend::MemoryIdLog => Arc::new(MemoryStore::new()),
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => Arc::new(
            claude_agents::store::SqliteStore::open(dir.path().join("load.db"))
                .await
                .unwrap(),
        ),
    };
    // Counted from the start: the seeding is subtracted below.
    let store = Arc::new(CountingStore::new(inner, keep_payloads));
    let s = setup(api, store.clone()).await;
    let sink = Arc::new(CountingSink {
        activities: AtomicUsize::new(0),
        cards: AtomicUsize::new(0),
        done: Mutex::new(HashSet::new()),
        failed: AtomicUsize::new(0),
        want: sessions,
        all_done: Notify::new(),
    });
    let mut config = LauncherConfig::default();
    config.max_concurrent_per_agent = sessions;
    let launcher = Launcher::new(
        store.clone(),
        sink.clone(),
        Arc::new(s.client.clone()),
        Arc::new(NoopHost),
        config,
    );
    let ops0 = (
        store.gets.load(Ordering::Relaxed),
        store.puts.load(Ordering::Relaxed),
    );
    store.puts_by.lock().unwrap().clear();
    let cpu0 = cpu_time();
    let start = Instant::now();
    let all_done = sink.all_done.notified();
    tokio::pin!(all_done);
    all_done.as_mut().enable();
    let mut cards = VecDeque::with_capacity(sessions);
    for i in 0..sessions {
        let out = launcher
            .on_assigned(AssignTrigger {
                key: format!("assign-{i}"),
                task: task(&s.ws, i),
                agent: s.agent.clone(),
                by: None,
            })
            .await
            .unwrap();
        let TriggerOutcome::Started { card } = out else {
            panic!("session {i}: {out:?}")
        };
        cards.push_back(card);
    }
    let triggered = start.elapsed();
    tokio::time::timeout(Duration::from_secs(300), all_done)
        .await
        .expect("every card goes idle within 5 minutes");
    let wall = start.elapsed();
    let cpu = cpu_time().zip(cpu0).map(|(b, a)| b - a);
    let hwm_kib = status_kib("VmHWM");
    launcher.shutdown();

    // Check: every card's log holds its scripted events.
    let (mut events, mut log_bytes) = (0, 0);
    for card in &cards {
        let card = launcher.card(&s.ws, card).await.unwrap().unwrap();
        let session = card.remote_session.expect("a session");
        let log = store.inner.read_events(&session, 0, 100_000).await.unwrap();
        let n = log.len();
        log_bytes += log
            .iter()
            .map(|(_, e)| e.payload.get().len())
            .sum::<usize>();
        assert!(
            (persisted_per_session()..=streamed_per_session()).contains(&n),
            "card {} stored {n} events",
            card.id
        );
        events += n;
    }
    let failed = sink.failed.load(Ordering::Relaxed);
    assert_eq!(failed, 0, "{failed} card(s) ended instead of going idle");

    let appends = store.appends.load(Ordering::Relaxed);
    let puts = store.puts.load(Ordering::Relaxed) - ops0.1;
    let gets = store.gets.load(Ordering::Relaxed) - ops0.0;
    let label = match backend {
        Backend::Memory => "launcher",
        Backend::MemoryIdLog => "launcher-idlog",
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => "launcher-sqlite",
    };
    println!(
        "{label}: {sessions} triggers accepted in {:.0} ms; store: {appends} appends \
         ({:.1} events each), {puts} puts, {gets} gets, {} reads, {} lists, {} deletes \
         ({:.2} puts and {:.2} gets per append); sink: {} activities, {} card changes",
        ms(triggered),
        store.appended.load(Ordering::Relaxed) as f64 / appends as f64,
        store.reads.load(Ordering::Relaxed),
        store.lists.load(Ordering::Relaxed),
        store.deletes.load(Ordering::Relaxed),
        puts as f64 / appends as f64,
        gets as f64 / appends as f64,
        sink.activities.load(Ordering::Relaxed),
        sink.cards.load(Ordering::Relaxed),
    );
    let by = store.puts_by.lock().unwrap().clone();
    println!("{label}: puts by collection: {by:?}");
    if keep_payloads {
        println!(
            "{label}: the store's log holds {events} event payloads, {:.1} MiB as JSON text",
            log_bytes as f64 / (1024.0 * 1024.0)
        );
    }
    Measured {
        sessions,
        events,
        wall,
        cpu,
        hwm_kib,
    }
}

// ---- driver -------------------------------------------------------------------------------

fn parse_result(out: &str, tag: &str) -> Option<BTreeMap<String, String>> {
    let line = out.lines().find(|l| l.starts_with(tag))?;
    Some(
        line.split_whitespace()
            .skip(1)
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    )
}

/// Runs one phase in a child process, with the fake in another unless `in_process`.
fn run_phase(
    exe: &std::path::Path,
    sessions: usize,
    phase: &str,
    in_process: bool,
) -> BTreeMap<String, String> {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut fake = None;
    let tool_calls = TOOL_CALLS.load(Ordering::Relaxed).to_string();
    let mut args = vec![
        "--tool-calls".to_owned(),
        tool_calls.clone(),
        "--sessions".to_owned(),
        sessions.to_string(),
        "--phase".to_owned(),
        phase.to_owned(),
    ];
    if !in_process {
        let mut child = Command::new(exe)
            .args(["--tool-calls", &tool_calls, "--phase", "fake"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("URL ")
            .expect("the fake's URL")
            .to_owned();
        args.extend(["--api".to_owned(), url]);
        fake = Some((child, out));
    }
    let out = Command::new(exe).args(&args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    if let Some((mut child, mut out)) = fake {
        drop(child.stdin.take()); // the fake exits when its stdin closes
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut rest);
        let _ = child.wait();
        if let Some(f) = parse_result(&rest, "FAKE ") {
            println!(
                "  (fake process for {phase}: {} requests, cpu_ms={}, peak_rss_mib={})",
                f["requests"], f["cpu_ms"], f["peak_rss_mib"]
            );
        }
    }
    if !out.status.success() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        println!("FAILED: phase {phase} exited with {}", out.status);
        std::process::exit(1);
    }
    parse_result(&stdout, "RESULT ").expect("a RESULT line")
}

fn main() {
    let mut sessions = 1000;
    let mut phase = None;
    let mut api = None;
    let mut in_process = false;
    let mut repeat = 3;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--in-process" => in_process = true,
            "--repeat" => repeat = it.next().expect("a number").parse().expect("a number"),
            "--tool-calls" => TOOL_CALLS.store(
                it.next().expect("a number").parse().expect("a number"),
                Ordering::Relaxed,
            ),
            "--sessions" => sessions = it.next().expect("a number").parse().expect("a number"),
            "--phase" => phase = Some(it.next().expect("a phase")),
            "--api" => api = Some(it.next().expect("a URL")),
            other => panic!("unknown argument {other}"),
        }
    }
    if let Some(phase) = phase {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let api = api.as_deref();
        let m = match phase.as_str() {
            "fake" => return rt.block_on(serve_fake()),
            "baseline" => rt.block_on(baseline(sessions, api)),
            "launcher" => rt.block_on(launcher(sessions, api, Backend::Memory)),
            "launcher-idlog" => rt.block_on(launcher(sessions, api, Backend::MemoryIdLog)),
            #[cfg(feature = "sqlite")]
            "launcher-sqlite" => rt.block_on(launcher(sessions, api, Backend::Sqlite)),
            other => panic!("unknown phase {other}"),
        };
        m.print(&phase);
        return;
    }

    println!(
        "{sessions} sessions x {} persisted events (+1 queued echo), \
         fake API {}, 2 tokio worker threads per process, no added latency",
        persisted_per_session(),
        if in_process {
            "in the measured process"
        } else {
            "in a separate process (not measured)"
        }
    );
    let exe = std::env::current_exe().unwrap();
    // Rounds of the three phases, interleaved, so drift on a shared machine hits all alike.
    let mut phases = vec!["baseline", "launcher", "launcher-idlog"];
    if cfg!(feature = "sqlite") {
        phases.push("launcher-sqlite");
    }
    let mut results: BTreeMap<&str, Vec<BTreeMap<String, String>>> = BTreeMap::new();
    for round in 1..=repeat {
        println!("-- round {round}/{repeat}");
        for &phase in &phases {
            let r = run_phase(&exe, sessions, phase, in_process);
            results.entry(phase).or_default().push(r);
        }
    }
    let series = |phase: &str, key: &str| -> Option<Vec<f64>> {
        results[phase]
            .iter()
            .map(|r| r.get(key).and_then(|v| v.parse::<f64>().ok()))
            .collect()
    };
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    };
    let range = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{lo:.2}..{hi:.2}")
    };
    println!("-- summary (medians over {repeat} round(s); ranges in brackets)");
    for &phase in &phases {
        let events = median(series(phase, "events").unwrap());
        let cpu = series(phase, "cpu_ms");
        let rss = series(phase, "peak_rss_mib");
        println!(
            "{phase}: events={events:.0} wall_ms={:.0} cpu_ms={} peak_rss_mib={} cpu_us_per_event={}",
            median(series(phase, "wall_ms").unwrap()),
            cpu.clone()
                .map_or("n/a".to_owned(), |v| format!("{:.0}", median(v))),
            rss.clone().map_or("n/a".to_owned(), |v| format!(
                "{:.1} [{}]",
                median(v.clone()),
                range(&v)
            )),
            series(phase, "cpu_us_per_event")
                .map_or("n/a".to_owned(), |v| format!("{:.2}", median(v))),
        );
    }
    for &phase in phases.iter().filter(|p| **p != "baseline") {
        // Per round: this phase's CPU minus the baseline's of the same round, per event.
        let own: Option<Vec<f64>> = series(phase, "cpu_ms")
            .zip(series("baseline", "cpu_ms"))
            .zip(series(phase, "events"))
            .map(|((l, b), e)| {
                l.iter()
                    .zip(&b)
                    .zip(&e)
                    .map(|((l, b), e)| (l - b) * 1000.0 / e)
                    .collect()
            });
        match own {
            Some(own) => {
                let m = median(own.clone());
                let ratio = median(series(phase, "cpu_ms").unwrap())
                    / median(series("baseline", "cpu_ms").unwrap());
                println!(
                    "{phase}: own CPU {m:.2} us/event [{}] ({phase} / baseline CPU = {ratio:.2}x); \
                     goal < 10 us/event: {}",
                    range(&own),
                    if m < 10.0 { "met" } else { "MISSED" }
                );
            }
            None => println!("{phase}: own CPU n/a (no process CPU clock)"),
        }
        match (
            series(phase, "peak_rss_mib"),
            series("baseline", "peak_rss_mib"),
        ) {
            (Some(l), Some(b)) => {
                let (l, b) = (median(l), median(b));
                println!(
                    "{phase}: peak RSS {l:.1} MiB (baseline {b:.1} MiB, difference {:.1} MiB); \
                     goal < 200 MiB: {}",
                    l - b,
                    if l < 200.0 { "met" } else { "MISSED" }
                );
            }
            _ => println!("{phase}: peak RSS n/a (no /proc/self/status)"),
        }
    }
}
