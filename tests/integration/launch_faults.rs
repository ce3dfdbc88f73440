//! The launcher under faults: event streams cut at random bytes, crashes at every step of the
//! start path, a failing sink, a crash while the session goes on without us, and a trigger
//! redelivered after a crash between the ledger write and the card write.
//!
//! A "crash" is [`Launcher::shutdown`] (drive tasks aborted, state untouched) followed by a
//! new launcher's [`Launcher::resume`] over the same store — a process restart.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use claude_agents::api::follow::FollowOptions;
use claude_agents::domain::{Activity, ActivityKind, SessionCardId, SessionState};
use claude_agents::launch::{
    ActivityMapper, Launcher, LauncherConfig, SessionRun, Stage, TriggerOutcome,
};
use claude_agents::store::{
    DeliveryKind, EventSink, Expected, RecordKey, RecordStore, SinkDelivery, Store, StoreError,
};
use claude_agents::testkit::script::{Permission, Step};
use claude_agents::testkit::{ErrorBurst, Injected, RequestMatch, Script, StreamFault};
use serde_json::{Value, json};

use super::launch::H;

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

/// Tiny reconnect backoffs, never giving up; fast retries of sink and store failures; a lease
/// short enough that a crashed launcher's lease expires within the test.
fn config() -> LauncherConfig {
    let mut c = LauncherConfig::default();
    c.follow = FollowOptions {
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_consecutive_failures: None,
        ..FollowOptions::default()
    };
    c.retry_delay = Duration::from_millis(2);
    c.lease_ttl = Duration::from_millis(900);
    c.max_concurrent_per_agent = 16;
    c
}

/// A sink in front of `H`'s [`MemorySink`](claude_agents::store::MemorySink): counts raw
/// activity deliveries, refuses the first `fail_first` deliveries (of any kind) and, while
/// `refuse` is set, every delivery.
struct TestSink {
    h_sink: Arc<claude_agents::store::MemorySink>,
    fail_first: AtomicUsize,
    refuse: AtomicBool,
    refused: AtomicUsize,
    raw_activities: AtomicUsize,
    accepted: Mutex<BTreeSet<String>>,
    /// Distinct `→ idle` status changes accepted, per card: the turns it finished.
    idles: Mutex<HashMap<String, usize>>,
}

impl TestSink {
    fn new(h: &H, fail_first: usize) -> Arc<Self> {
        Arc::new(Self {
            h_sink: h.sink.clone(),
            fail_first: AtomicUsize::new(fail_first),
            refuse: AtomicBool::new(false),
            refused: AtomicUsize::new(0),
            raw_activities: AtomicUsize::new(0),
            accepted: Mutex::new(BTreeSet::new()),
            idles: Mutex::new(HashMap::new()),
        })
    }

    fn accepted(&self) -> BTreeSet<String> {
        self.accepted.lock().unwrap().clone()
    }

    fn idles(&self, card: &SessionCardId) -> usize {
        self.idles
            .lock()
            .unwrap()
            .get(card.as_str())
            .copied()
            .unwrap_or(0)
    }
}

#[async_trait]
impl EventSink for TestSink {
    async fn deliver(&self, delivery: SinkDelivery) -> Result<(), StoreError> {
        let first = self
            .fail_first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if first || self.refuse.load(Ordering::SeqCst) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(StoreError::backend("test sink", "refused"));
        }
        if delivery.kind == DeliveryKind::Activity {
            self.raw_activities.fetch_add(1, Ordering::SeqCst);
        }
        let new = self.accepted.lock().unwrap().insert(delivery.key.clone());
        if new && delivery.payload["kind"]["to"] == "idle" {
            *self
                .idles
                .lock()
                .unwrap()
                .entry(delivery.session.clone())
                .or_default() += 1;
        }
        self.h_sink.deliver(delivery).await
    }
}

fn launcher_with(h: &H, sink: Arc<TestSink>, config: LauncherConfig) -> Launcher {
    Launcher::new(
        h.store.clone(),
        sink,
        Arc::new(h.fake.client()),
        h.host.clone(),
        config,
    )
}

/// A process restart: `old` stops driving anything (a crash), a new launcher resumes.
async fn restart(old: &Launcher, new: Launcher) -> Launcher {
    old.shutdown();
    new.resume().await.unwrap();
    new
}

async fn started(l: &Launcher, h: &H, key: &str, task: &str) -> SessionCardId {
    match l.on_assigned(h.assign(key, task)).await.unwrap() {
        TriggerOutcome::Started { card } => card,
        other => panic!("{other:?}"),
    }
}

/// Polls `cond` every 2 ms for up to `secs` seconds.
async fn until<F: std::future::Future<Output = bool>>(
    what: &str,
    secs: u64,
    mut cond: impl FnMut() -> F,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn wait_idle(h: &H, card: &SessionCardId) -> SessionRun {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let run = h.run(card).await;
        if run.card.state == SessionState::Idle {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "the card never got idle: {:#?}",
            run
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Objects of `kind` created for `card` (by the card id in their metadata).
fn objects_of(h: &H, kind: &str, card: &SessionCardId) -> Vec<Value> {
    h.fake
        .objects(kind)
        .into_iter()
        .filter(|o| o["metadata"]["claude_agents.card"] == card.as_str())
        .collect()
}

fn history_of(h: &H, session: &str, ty: &str) -> usize {
    h.fake
        .session_events(session)
        .iter()
        .filter(|e| e["type"] == ty)
        .count()
}

fn kind_name(a: &Activity) -> String {
    match &a.kind {
        ActivityKind::StatusChange { to } => format!("status:{to}"),
        ActivityKind::ApprovalNeeded { .. } => "approval".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// An activity's structure, independent of ids: its kind, its text and the shape of its key
/// (the session id as `S`, each event id as the type of the event it names).
fn structure(h: &H, session: &str, acts: &[Activity]) -> Vec<(String, String, String)> {
    let types: HashMap<String, String> = h
        .fake
        .session_events(session)
        .into_iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_owned(),
                e["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    acts.iter()
        .map(|a| {
            let shape: Vec<String> = a
                .key
                .as_str()
                .split(':')
                .map(|part| {
                    if part == session {
                        "S".to_owned()
                    } else if let Some(ty) = types.get(part) {
                        ty.clone()
                    } else {
                        part.to_owned()
                    }
                })
                .collect();
            (kind_name(a), a.text.clone(), shape.join(":"))
        })
        .collect()
}

/// Every activity key once (the sink's distinct list is what the host shows; a key twice in
/// a *raw* count is checked separately).
fn assert_distinct_keys(acts: &[Activity]) {
    let keys: BTreeSet<&str> = acts.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys.len(), acts.len(), "an activity key repeats: {acts:#?}");
}

/// The activities of one turn of the default script.
const DEFAULT_TURN: [&str; 5] = [
    "status:running",
    "thinking",
    "agentmessage",
    "finalresult",
    "status:idle",
];

/// After a crash somewhere on the start path: one session, one run vault, one first message,
/// a complete log, the card idle and every activity of the turn delivered once.
async fn assert_one_clean_start(h: &H, card: &SessionCardId) {
    // Idle, with the first message recorded as sent.
    let deadline = Instant::now() + Duration::from_secs(30);
    let run = loop {
        let run = h.run(card).await;
        if run.card.state == SessionState::Idle
            && run.launch.stage == Stage::Running
            && run.launch.outbox.is_empty()
        {
            break run;
        }
        assert!(
            Instant::now() < deadline,
            "the card never got idle: {run:#?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let sessions = objects_of(h, "session", card);
    assert_eq!(sessions.len(), 1, "sessions for the card: {sessions:#?}");
    let session = h.remote_session(&run);
    assert_eq!(sessions[0]["id"], session.as_str());
    let vaults = objects_of(h, "vault", card);
    assert_eq!(vaults.len(), 1, "run vaults for the card: {vaults:#?}");
    assert_eq!(
        run.launch.run_vault.as_deref(),
        vaults[0]["id"].as_str(),
        "the card records the run vault that exists"
    );
    assert_eq!(
        sessions[0]["vault_ids"][0], vaults[0]["id"],
        "the session mounts that run vault"
    );
    assert_eq!(history_of(h, &session, "user.message"), 1);
    // The turn ran to its end before we look at the log.
    until("the remote turn to end", 10, || async {
        history_of(h, &session, "session.status_idle") == 1
    })
    .await;
    h.assert_log_matches_fake(&session).await;
    let acts = h.activities(card);
    assert_distinct_keys(&acts);
    let kinds: Vec<String> = acts.iter().map(kind_name).collect();
    assert_eq!(kinds, DEFAULT_TURN, "{acts:#?}");
    assert_eq!(acts[2].text, "Hello from the fake agent.");
    assert_eq!(run.card.usage.input_tokens, 100);
    // And it stays that way: nothing fails the card afterwards.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let later = h.run(card).await;
    assert_eq!(later.card.state, SessionState::Idle, "{later:#?}");
    assert_eq!(later.launch.stage, Stage::Running);
}

fn post(prefix: &str) -> RequestMatch {
    RequestMatch::new("POST", prefix)
}

/// Waits until the fake reports the delay on `method path…` (its handler has run: the write is
/// committed, the answer held).
async fn until_held(h: &H, path_prefix: &str) {
    until("the held request to be committed", 10, || async {
        h.fake.faults().injected().iter().any(|i| {
            matches!(i, Injected::Delay { method, path, status, .. }
                if method == "POST" && path.starts_with(path_prefix) && *status < 300)
        })
    })
    .await;
}

// ------------------------------------------------------------------------------------------
// 1. A thousand random stream cuts
// ------------------------------------------------------------------------------------------

/// One turn of the long script: messages, thinking, built-in and MCP tool calls, and the three
/// custom task tools the launcher answers through the host.
fn long_turn() -> Script {
    let end = || Step::ModelRequestEnd {
        usage: Default::default(),
        is_error: false,
    };
    Script::new(vec![
        Step::ModelRequestStart,
        Step::Thinking,
        Step::message("Looking at the task."),
        Step::custom_tool_use("get_task", json!({})),
        end(),
        Step::ModelRequestStart,
        Step::Thinking,
        Step::Thinking,
        Step::tool_use("bash", json!({"command": "cargo test"}), "ok")
            .with_permission(Permission::Allow),
        Step::tool_use(
            "read",
            json!({"file_path": "src/login.rs"}),
            "fn login() {}",
        )
        .with_permission(Permission::Allow),
        Step::message("Found the bug."),
        Step::custom_tool_use("add_comment", json!({"body": "Fixing the button."})),
        end(),
        Step::ModelRequestStart,
        Step::tool_use("edit", json!({"file_path": "src/login.rs"}), "edited")
            .with_permission(Permission::Allow),
        Step::mcp_tool_use("linear", "create_issue", json!({"title": "x"}), "done")
            .with_permission(Permission::Allow),
        Step::Thinking,
        Step::custom_tool_use("update_status", json!({"status": "In Review"})),
        Step::message("The button works now."),
        end(),
    ])
    .with_delay(Duration::from_millis(1))
}

const CUTS: usize = 1000;
const CUT_SESSIONS: usize = 8;
/// Longest time without a new delivery before a run of turns counts as stuck.
const STALL: Duration = Duration::from_secs(15);
/// Cut points are drawn from `0..=MAX_CUT` bytes of each stream: most streams die within
/// their first events, some before their first byte.
const MAX_CUT: u64 = 1200;

/// Starts `cards` cards and runs turns on them (a follow-up comment is sent to a card when
/// it finished its last turn): `turns[i]` turns on card `i`, or, when `turns` is `None`, turns
/// on every card until `stop` says so. Returns the cards and how many turns each ran.
#[allow(clippy::too_many_arguments)]
async fn run_turns(
    h: &H,
    l: &Launcher,
    sink: &TestSink,
    cards: usize,
    turns: Option<&[usize]>,
    mut stop: impl FnMut(&H) -> bool,
    budget: Duration,
    seed: u64,
) -> (Vec<SessionCardId>, Vec<usize>) {
    let mut ids = Vec::new();
    for i in 0..cards {
        ids.push(started(l, h, &format!("assign-{i}"), &format!("T-{i}")).await);
    }
    let mut sent = vec![1usize; cards];
    let deadline = Instant::now() + budget;
    // Progress: deliveries the sink accepted; none for `STALL` means something is stuck.
    let mut progress = (sink.accepted.lock().unwrap().len(), Instant::now());
    loop {
        let stopping = turns.is_none() && stop(h);
        let mut finished = true;
        for (i, card) in ids.iter().enumerate() {
            let run = h.run(card).await;
            assert!(
                !run.card.state.is_terminal(),
                "seed {seed}: card {i} ended: {:#?}",
                run.card
            );
            // The last turn sent is over: its idle status was delivered, the card is idle.
            let over = sink.idles(card) == sent[i]
                && run.card.state == SessionState::Idle
                && run.launch.outbox.is_empty();
            if !over {
                finished = false;
                continue;
            }
            let more = match turns {
                Some(t) => sent[i] < t[i],
                None => !stopping,
            };
            if more {
                finished = false;
                sent[i] += 1;
                let key = format!("comment-{i}-{}", sent[i]);
                let body = format!("@coder please go on (turn {})", sent[i]);
                let out = l
                    .on_comment(h.comment(&key, &format!("T-{i}"), &body))
                    .await
                    .unwrap();
                assert_eq!(out, TriggerOutcome::FollowUp { card: card.clone() });
            }
        }
        if finished {
            return (ids, sent);
        }
        let accepted = sink.accepted.lock().unwrap().len();
        if accepted != progress.0 {
            progress = (accepted, Instant::now());
        }
        assert!(
            Instant::now() < deadline && progress.1.elapsed() < STALL,
            "seed {seed}: stuck or not done in {budget:?}; turns {sent:?}; {} stream faults fired",
            stream_faults(h).len()
        );
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
}

/// The stream faults fired so far: the session of each.
fn stream_faults(h: &H) -> Vec<String> {
    h.fake
        .faults()
        .injected()
        .into_iter()
        .filter_map(|i| match i {
            Injected::Stream { session_id, .. } => Some(session_id),
            _ => None,
        })
        .collect()
}

/// Stream requests served per session.
fn streams_opened(h: &H) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for r in h.fake.requests() {
        if r.method == "GET" && r.path.ends_with("/events/stream") {
            let session = r.path.split('/').nth(3).unwrap_or("").to_owned();
            *out.entry(session).or_default() += 1;
        }
    }
    out
}

/// The event streams of `CUT_SESSIONS` sessions, each running the long script turn after turn
/// (a follow-up comment starts the next turn), are cut 1,000 times in total, each at a random
/// byte (seeded: `LAUNCH_FAULTS_SEED` replays the cut offsets; timing still varies). Turns go
/// on until the fault has fired 1,000 times and every session has opened a stream after its
/// last faulted one — a faulted stream ends only at its cut, so every cut really happened.
/// Then: every stored log equals the fake's history; the activities of each session, by
/// structure (kind, text, key shape), are those of a run without faults of as many turns; no
/// activity or card change was delivered twice; every custom tool call was answered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_random_stream_cuts_lose_and_repeat_nothing() {
    let mut cfg = config();
    // A reconnect's backfill starts 250 ms before the newest event seen (default 10 s: each of
    // the 1,000 backfills would re-read most of a session's history — a minute in debug).
    cfg.follow.backfill_overlap = Some(Duration::from_millis(250));
    let seed: u64 = std::env::var("LAUNCH_FAULTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("LAUNCH_FAULTS_SEED={seed}");
    let started_at = Instant::now();

    let h = H::new().await;
    h.fake.set_default_script(long_turn());
    h.fake
        .faults()
        .stream_fault(StreamFault::cut_at_random_byte(seed, MAX_CUT).streams(CUTS));
    let sink = TestSink::new(&h, 0);
    let l = launcher_with(&h, sink.clone(), cfg.clone());
    let (cards, turns) = run_turns(
        &h,
        &l,
        &sink,
        CUT_SESSIONS,
        None,
        |h| {
            let fired = stream_faults(h);
            if fired.len() < CUTS {
                return false;
            }
            // Each session's faulted streams are its first ones (the fault applies to the
            // next streams of any session): one more stream means the last faulted one ended.
            let mut per: HashMap<&str, usize> = HashMap::new();
            for s in &fired {
                *per.entry(s.as_str()).or_default() += 1;
            }
            let opened = streams_opened(h);
            per.iter()
                .all(|(s, n)| opened.get(*s).copied().unwrap_or(0) > *n)
        },
        Duration::from_secs(120),
        seed,
    )
    .await;
    let fired = stream_faults(&h);
    assert_eq!(fired.len(), CUTS, "seed {seed}");
    assert!(!h.fake.faults().armed());
    let cut_time = started_at.elapsed();

    // The reference: the same script, as many turns, without faults.
    let reference = H::new().await;
    reference.fake.set_default_script(long_turn());
    let ref_sink = TestSink::new(&reference, 0);
    let rl = launcher_with(&reference, ref_sink.clone(), config());
    let most = *turns.iter().max().unwrap();
    let (ref_cards, _) = run_turns(
        &reference,
        &rl,
        &ref_sink,
        1,
        Some(&[most]),
        |_| true,
        Duration::from_secs(120),
        seed,
    )
    .await;
    let ref_run = reference.run(&ref_cards[0]).await;
    let ref_session = reference.remote_session(&ref_run);
    reference.assert_log_matches_fake(&ref_session).await;
    let ref_acts = reference.activities(&ref_cards[0]);
    assert_distinct_keys(&ref_acts);
    let ref_structure = structure(&reference, &ref_session, &ref_acts);
    // Each turn is the same: split the reference at its idle status changes.
    let turn_ends: Vec<usize> = ref_structure
        .iter()
        .enumerate()
        .filter(|(_, (k, _, _))| k == "status:idle")
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(turn_ends.len(), most);
    let one_turn = &ref_structure[..turn_ends[0]];
    assert!(one_turn.len() >= 15, "{one_turn:#?}");
    for w in turn_ends.windows(2) {
        assert_eq!(&ref_structure[w[0]..w[1]][1..], &one_turn[1..]);
    }

    let mut total_events = 0;
    for (i, card) in cards.iter().enumerate() {
        let run = h.run(card).await;
        assert_eq!(run.card.state, SessionState::Idle, "seed {seed}");
        let session = h.remote_session(&run);
        h.assert_log_matches_fake(&session).await;
        total_events += h.fake.session_events(&session).len();
        let acts = h.activities(card);
        assert_distinct_keys(&acts);
        let got = structure(&h, &session, &acts);
        let want = &ref_structure[..turn_ends[turns[i] - 1]];
        assert_eq!(
            got.len(),
            want.len(),
            "seed {seed}: card {i} ({} turns)",
            turns[i]
        );
        for (n, (g, w)) in got.iter().zip(want).enumerate() {
            assert_eq!(g, w, "seed {seed}: card {i}, activity {n}");
        }
        // Every custom tool call was answered once, through the host.
        assert_eq!(
            history_of(&h, &session, "user.custom_tool_result"),
            3 * turns[i],
            "seed {seed}"
        );
    }
    let distinct = h
        .sink
        .deliveries()
        .iter()
        .filter(|d| d.kind == DeliveryKind::Activity)
        .count();
    assert_eq!(
        sink.raw_activities.load(Ordering::SeqCst),
        distinct,
        "seed {seed}: an activity was delivered twice without a crash"
    );
    // Card changes too.
    assert_eq!(
        h.sink.raw_count(),
        h.sink.deliveries().len(),
        "seed {seed}: a card change was delivered twice"
    );
    eprintln!(
        "{CUTS} cuts over {CUT_SESSIONS} sessions, {} turns, {total_events} events, {distinct} activities in {cut_time:?} (total {:?})",
        turns.iter().sum::<usize>(),
        started_at.elapsed()
    );
}

// ------------------------------------------------------------------------------------------
// 2. A crash at each step of the start path
// ------------------------------------------------------------------------------------------

/// Crash right after the card was written: nothing remote happened yet.
#[tokio::test]
async fn a_crash_before_anything_remote_then_resume_starts_once() {
    let h = H::new().await;
    let sink = TestSink::new(&h, 0);
    let l1 = launcher_with(&h, sink.clone(), config());
    l1.shutdown();
    // The trigger is recorded and the card written, but this process drives nothing now.
    let card = started(&l1, &h, "assign-1", "T-1").await;
    let run = h.run(&card).await;
    assert_eq!(run.launch.stage, Stage::Queued);
    assert!(h.fake.objects("session").is_empty());
    let l2 = restart(&l1, launcher_with(&h, sink, config())).await;
    assert_one_clean_start(&h, &card).await;
    drop(l2);
}

/// Crash after the create attempt was recorded, before the vault create reached the server:
/// the resume looks for the vault, finds none, and creates one.
#[tokio::test]
async fn a_crash_before_the_vault_create_then_resume_creates_one() {
    let h = H::new().await;
    let sink = TestSink::new(&h, 0);
    let l1 = launcher_with(&h, sink.clone(), config());
    l1.shutdown();
    let card = started(&l1, &h, "assign-1", "T-1").await;
    // The state the start path records just before its vault create.
    let key = RecordKey::of(&h.ws, &card);
    let (mut run, rev) = h.store.load::<SessionRun>(&key).await.unwrap().unwrap();
    run.launch.create_attempted_at = Some(chrono::Utc::now());
    run.card
        .transition(SessionState::Starting, chrono::Utc::now())
        .unwrap();
    h.store.save(&run, Expected::Revision(rev)).await.unwrap();
    let _l2 = restart(&l1, launcher_with(&h, sink, config())).await;
    assert_one_clean_start(&h, &card).await;
}

/// `POST path` (a create) is committed but its response is lost: the launcher finds the
/// object by the card id in its metadata instead of failing or creating another.
async fn a_lost_create_response_is_adopted(path: &str) {
    let h = H::new().await;
    h.fake.faults().drop_after_commit(1, post(path));
    let l = launcher_with(&h, TestSink::new(&h, 0), config());
    let card = started(&l, &h, "assign-1", "T-1").await;
    assert_one_clean_start(&h, &card).await;
    assert!(
        h.fake
            .faults()
            .injected()
            .iter()
            .any(|i| matches!(i, Injected::DropAfterCommit { path: p, .. } if p == path))
    );
}

/// The process crashes while `POST path` (creating a `kind`) is in flight — committed on the
/// server, the answer not yet read, the card at `stage`: the resume adopts that object.
async fn a_crash_during_a_create_then_resume_adopts_it(path: &str, kind: &str, stage: Stage) {
    let h = H::new().await;
    h.fake.faults().delay(1, post(path), Duration::from_secs(5));
    let sink = TestSink::new(&h, 0);
    let l1 = launcher_with(&h, sink.clone(), config());
    let card = started(&l1, &h, "assign-1", "T-1").await;
    until_held(&h, path).await;
    assert_eq!(objects_of(&h, kind, &card).len(), 1);
    assert_eq!(h.run(&card).await.launch.stage, stage);
    let _l2 = restart(&l1, launcher_with(&h, sink, config())).await;
    assert_one_clean_start(&h, &card).await;
}

#[tokio::test]
async fn a_lost_vault_create_response_is_adopted() {
    a_lost_create_response_is_adopted("/v1/vaults").await;
}

#[tokio::test]
async fn a_crash_during_the_vault_create_then_resume_adopts_the_vault() {
    a_crash_during_a_create_then_resume_adopts_it("/v1/vaults", "vault", Stage::Queued).await;
}

#[tokio::test]
async fn a_lost_session_create_response_is_adopted() {
    a_lost_create_response_is_adopted("/v1/sessions").await;
}

#[tokio::test]
async fn a_crash_during_the_session_create_then_resume_adopts_the_session() {
    a_crash_during_a_create_then_resume_adopts_it("/v1/sessions", "session", Stage::VaultCreated)
        .await;
}

/// The process crashes while the first message is in flight (committed: the session is
/// working on it): the resume finds it in the history and does not send it again.
#[tokio::test]
async fn a_crash_during_the_first_message_send_then_resume_sends_it_once() {
    let h = H::new().await;
    h.fake
        .faults()
        .delay(1, post("/v1/sessions/"), Duration::from_secs(5));
    let sink = TestSink::new(&h, 0);
    let l1 = launcher_with(&h, sink.clone(), config());
    let card = started(&l1, &h, "assign-1", "T-1").await;
    until_held(&h, "/v1/sessions/").await;
    let run = h.run(&card).await;
    assert_eq!(run.launch.stage, Stage::SessionCreated);
    assert!(run.launch.outbox[0].sending_at.is_some());
    assert_eq!(history_of(&h, &h.remote_session(&run), "user.message"), 1);
    let _l2 = restart(&l1, launcher_with(&h, sink, config())).await;
    assert_one_clean_start(&h, &card).await;
}

/// The first message is committed but its response is lost, without a crash: the launcher
/// finds it in the history instead of failing the card or sending it twice.
#[tokio::test]
async fn a_lost_first_message_response_is_settled_from_the_history() {
    let h = H::new().await;
    h.fake.faults().drop_after_commit(1, post("/v1/sessions/"));
    let l = launcher_with(&h, TestSink::new(&h, 0), config());
    let card = started(&l, &h, "assign-1", "T-1").await;
    assert_one_clean_start(&h, &card).await;
    assert!(
        h.fake.faults().injected().iter().any(
            |i| matches!(i, Injected::DropAfterCommit { path, .. } if path.ends_with("/events"))
        )
    );
}

/// The first message's send fails without reaching the session (a 500, which the client
/// reports as an unknown outcome): the history does not have it, so it is sent again, once.
#[tokio::test]
async fn a_first_message_that_never_arrived_is_sent_again_once() {
    let h = H::new().await;
    h.fake
        .faults()
        .error_burst(ErrorBurst::new(500, 1).matching(post("/v1/sessions/")));
    let l = launcher_with(&h, TestSink::new(&h, 0), config());
    let card = started(&l, &h, "assign-1", "T-1").await;
    assert_one_clean_start(&h, &card).await;
    let sends: Vec<u16> = h
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/events"))
        .map(|r| r.status)
        .collect();
    assert_eq!(sends, [500, 200]);
}

/// A 500 on a create never reached the server: the lookup finds nothing and the create is
/// made once more, instead of failing the card on a one-off error.
#[tokio::test]
async fn a_failed_create_that_never_happened_is_made_once_more() {
    for path in ["/v1/vaults", "/v1/sessions"] {
        let h = H::new().await;
        let mark = h.fake.requests().len();
        h.fake.faults().error_burst(
            ErrorBurst::new(500, 1)
                .should_retry(false)
                .matching(RequestMatch::new("POST", path)),
        );
        let l = launcher_with(&h, TestSink::new(&h, 0), config());
        let card = started(&l, &h, "assign-1", "T-1").await;
        assert_one_clean_start(&h, &card).await;
        let creates: Vec<u16> = h
            .fake
            .requests()
            .iter()
            .skip(mark)
            .filter(|r| r.method == "POST" && r.path == path)
            .map(|r| r.status)
            .collect();
        assert_eq!(creates, [500, 200], "{path}");
    }
}

/// A crash mid-stream: events are in the log but their activities never reached the sink
/// (it refuses them); the resume replays the log and delivers what is missing.
#[tokio::test]
async fn a_crash_after_events_were_stored_but_not_delivered_then_resume_delivers_them() {
    let h = H::new().await;
    let sink = TestSink::new(&h, 0);
    let l1 = launcher_with(&h, sink.clone(), config());
    let card = started(&l1, &h, "assign-1", "T-1").await;
    // Let the start path deliver its card changes, then refuse everything.
    until("the session to exist", 10, || async {
        h.run(&card).await.card.remote_session.is_some()
    })
    .await;
    sink.refuse.store(true, Ordering::SeqCst);
    let session = h.remote_session(&h.run(&card).await);
    until("events in the log", 10, || async {
        !h.log(&session).await.is_empty()
    })
    .await;
    until("the sink to refuse a delivery", 10, || async {
        sink.refused.load(Ordering::SeqCst) > 0
    })
    .await;
    let before = h.run(&card).await;
    l1.shutdown();
    sink.refuse.store(false, Ordering::SeqCst);
    assert!(!h.log(&session).await.is_empty());
    // Nothing the sink refused counts as delivered.
    assert!(
        h.activities(&card).len() < DEFAULT_TURN.len(),
        "{:#?}",
        h.activities(&card)
    );
    assert_cursor_within_accepted(h.store.as_ref(), &before, &sink.accepted()).await;
    let _l2 = restart(&l1, launcher_with(&h, sink, config())).await;
    assert_one_clean_start(&h, &card).await;
}

// ------------------------------------------------------------------------------------------
// 3. Sink failures
// ------------------------------------------------------------------------------------------

/// The activities of the stored log up to `run.launch.delivered`, replayed through a fresh
/// mapper (the launcher's keys), must all be among the keys the sink accepted.
async fn assert_cursor_within_accepted(
    store: &dyn Store,
    run: &SessionRun,
    accepted: &BTreeSet<String>,
) {
    let Some(session) = run.card.remote_session.as_deref() else {
        assert_eq!(run.launch.delivered, 0);
        return;
    };
    let mut mapper = ActivityMapper::new(run.card.id.clone(), session, run.card.created_at);
    for (seq, ev) in store.read_events(session, 0, 100_000).await.unwrap() {
        if seq > run.launch.delivered {
            break;
        }
        let Ok(event) = serde_json::from_str(ev.payload.get()) else {
            continue;
        };
        for a in mapper.push(&event) {
            let key = format!("activity:{}:{}", a.card, a.key);
            assert!(
                accepted.contains(&key),
                "cursor {} is past {key}, which the sink never accepted",
                run.launch.delivered
            );
        }
    }
}

/// The sink refuses its first deliveries, then an outage longer than the drive lease, then a
/// crash while it refuses: every activity arrives once in the host's list, and the delivery
/// cursor never passes what the sink accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_sink_gets_everything_once_and_the_cursor_never_runs_ahead() {
    let h = H::new().await;
    h.fake.set_default_script(
        Script::reply("Hello from the fake agent.").with_delay(Duration::from_millis(2)),
    );
    let sink = TestSink::new(&h, 6);
    let cfg = config();
    let l1 = launcher_with(&h, sink.clone(), cfg.clone());
    let card = started(&l1, &h, "assign-1", "T-1").await;

    // A watcher checks the invariant on every state of the card it sees.
    let stop = Arc::new(AtomicBool::new(false));
    let checks = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let (store, ws, card) = (h.store.clone(), h.ws.clone(), card.clone());
        let (sink, stop, checks) = (sink.clone(), stop.clone(), checks.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let (run, _) = store
                    .load::<SessionRun>(&RecordKey::of(&ws, &card))
                    .await
                    .unwrap()
                    .unwrap();
                // The sink only grows: reading it after the card is conservative.
                let accepted = sink.accepted();
                assert_cursor_within_accepted(store.as_ref(), &run, &accepted).await;
                checks.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };

    // 1. The first six deliveries fail.
    wait_idle(&h, &card).await;
    assert_eq!(sink.refused.load(Ordering::SeqCst), 6);
    let kinds: Vec<String> = h.activities(&card).iter().map(kind_name).collect();
    assert_eq!(kinds, DEFAULT_TURN);

    // 2. An outage longer than the lease, during the second turn.
    sink.refuse.store(true, Ordering::SeqCst);
    let out = l1
        .on_comment(h.comment("c-2", "T-1", "@coder once more"))
        .await
        .unwrap();
    assert!(matches!(out, TriggerOutcome::FollowUp { .. }), "{out:?}");
    let session = h.remote_session(&h.run(&card).await);
    until("the second turn to end remotely", 10, || async {
        history_of(&h, &session, "session.status_idle") == 2
    })
    .await;
    tokio::time::sleep(cfg.lease_ttl * 2).await;
    sink.refuse.store(false, Ordering::SeqCst);
    until("the second turn to be delivered", 10, || async {
        h.activities(&card).len() == 2 * DEFAULT_TURN.len()
    })
    .await;
    wait_idle(&h, &card).await;

    // 3. A crash while the sink refuses, in the third turn.
    sink.refuse.store(true, Ordering::SeqCst);
    let refused = sink.refused.load(Ordering::SeqCst);
    let logged = h.log(&session).await.len();
    l1.on_comment(h.comment("c-3", "T-1", "@coder and again"))
        .await
        .unwrap();
    until("the third turn to end remotely", 10, || async {
        history_of(&h, &session, "session.status_idle") == 3
    })
    .await;
    until("a third-turn event stored and refused", 10, || async {
        h.log(&session).await.len() > logged && sink.refused.load(Ordering::SeqCst) > refused
    })
    .await;
    l1.shutdown();
    let crashed = h.run(&card).await;
    assert_cursor_within_accepted(h.store.as_ref(), &crashed, &sink.accepted()).await;
    assert!(h.activities(&card).len() < 3 * DEFAULT_TURN.len());
    sink.refuse.store(false, Ordering::SeqCst);
    let _l2 = restart(&l1, launcher_with(&h, sink.clone(), cfg)).await;
    until("the third turn to be delivered", 10, || async {
        h.activities(&card).len() == 3 * DEFAULT_TURN.len()
    })
    .await;
    let run = wait_idle(&h, &card).await;
    stop.store(true, Ordering::SeqCst);
    watcher.await.unwrap();
    assert!(checks.load(Ordering::SeqCst) > 10);

    h.assert_log_matches_fake(&session).await;
    let acts = h.activities(&card);
    assert_distinct_keys(&acts);
    let kinds: Vec<String> = acts.iter().map(kind_name).collect();
    assert_eq!(kinds, DEFAULT_TURN.repeat(3));
    let log_len = h.log(&session).await.len() as u64;
    until("the cursor to reach the end of the log", 10, || async {
        h.run(&card).await.launch.delivered == log_len
    })
    .await;
    assert_eq!(run.card.usage.input_tokens, 300);
}

// ------------------------------------------------------------------------------------------
// 4. Resume with a stored log, after the session went on alone
// ------------------------------------------------------------------------------------------

/// Crash after some events were stored; the session finishes its turn while no launcher runs;
/// the resume appends the rest, delivers the whole session's activities once each, and the
/// card goes idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_continues_the_stored_log_after_the_session_went_on_alone() {
    let h = H::new().await;
    let steps: Vec<Step> = (0..20)
        .flat_map(|i| [Step::Thinking, Step::message(format!("step {i}"))])
        .collect();
    h.fake
        .set_default_script(Script::new(steps).with_delay(Duration::from_millis(5)));
    let sink = TestSink::new(&h, 0);
    let l1 = launcher_with(&h, sink.clone(), config());
    let card = started(&l1, &h, "assign-1", "T-1").await;
    until("the session to exist", 10, || async {
        h.run(&card).await.card.remote_session.is_some()
    })
    .await;
    let session = h.remote_session(&h.run(&card).await);
    until("some messages in the log", 10, || async {
        h.log(&session)
            .await
            .iter()
            .filter(|(_, _, ty)| ty == "agent.message")
            .count()
            >= 3
    })
    .await;
    l1.shutdown();
    let stored = h.log(&session).await;
    let delivered_before = h.activities(&card).len();
    // The session goes on alone and ends its turn.
    until("the turn to end remotely", 10, || async {
        history_of(&h, &session, "session.status_idle") == 1
    })
    .await;
    let history = h.fake.session_events(&session);
    assert!(
        stored.len() < history.len(),
        "the crash came too late to test anything"
    );
    assert_eq!(
        h.log(&session).await,
        stored,
        "nothing is stored while down"
    );

    let _l2 = restart(&l1, launcher_with(&h, sink.clone(), config())).await;
    let run = wait_idle(&h, &card).await;
    h.assert_log_matches_fake(&session).await;
    let log = h.log(&session).await;
    assert_eq!(&log[..stored.len()], &stored[..], "the stored log is kept");
    let acts = h.activities(&card);
    assert!(acts.len() > delivered_before);
    assert_distinct_keys(&acts);
    let mut want = vec![("status:running".to_owned(), "Working".to_owned())];
    for i in 0..20 {
        want.push(("thinking".into(), "Thinking…".into()));
        want.push(("agentmessage".into(), format!("step {i}")));
    }
    want.push(("finalresult".into(), "step 19".into()));
    want.push(("status:idle".into(), "Finished its turn".into()));
    let got: Vec<(String, String)> = acts
        .iter()
        .map(|a| (kind_name(a), a.text.clone()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(run.launch.delivered, log.len() as u64);
    assert_eq!(objects_of(&h, "session", &card).len(), 1);
    assert_eq!(history_of(&h, &session, "user.message"), 1);
}

// ------------------------------------------------------------------------------------------
// 5. A redelivered trigger after a crash between the ledger and the card write
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_trigger_recorded_in_the_ledger_without_a_card_still_starts_once() {
    let h = H::new().await;
    let l = launcher_with(&h, TestSink::new(&h, 0), config());
    let key = "assign-1";
    // What the launcher wrote before crashing: the ledger entry, no card.
    let ledger = format!("{}/{key}", RecordKey::of(&h.ws, &h.agent).as_str());
    let first = h
        .store
        .record_trigger(&ledger, Duration::from_secs(3600), chrono::Utc::now())
        .await
        .unwrap();
    assert!(first);
    let card = started(&l, &h, key, "T-1").await;
    assert_eq!(
        card,
        claude_agents::launch::card_id_for(&h.ws, &h.agent, key)
    );
    // A further redelivery is a duplicate of that card.
    let again = l.on_assigned(h.assign(key, "T-1")).await.unwrap();
    assert_eq!(
        again,
        TriggerOutcome::Duplicate {
            card: Some(card.clone())
        }
    );
    assert_one_clean_start(&h, &card).await;
}
