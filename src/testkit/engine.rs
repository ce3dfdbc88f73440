//! What runs behind fake sessions: each session's event history, its live subscribers, the
//! queue of user events and the task that runs the session's [`Script`] per turn.
//!
//! Every emitted event is appended to the history and sent to the subscribers under the state
//! lock, so the history and the live streams always agree. User events are echoed on receipt
//! (`processed_at: null` for queued ones) and again once processed; the history keeps each
//! event once, in its latest form, at the position of its latest emission.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

use super::script::{Permission, RetryStatus, Script, Step};
use super::state::{Shared, State, lock};

/// Per-instance session machinery (inside [`State`], under its lock).
#[derive(Default)]
pub(crate) struct Runtimes {
    pub sessions: BTreeMap<String, SessionRt>,
    pub default_script: Option<Script>,
    pub scripts: BTreeMap<String, Script>,
    clock: Clock,
}

/// Strictly increasing `processed_at` stamps, so history order is `processed_at` order and
/// `created_at[gt]` filters are exact.
#[derive(Default)]
struct Clock {
    last: Option<DateTime<Utc>>,
}

impl Clock {
    fn stamp(&mut self) -> String {
        let mut now = Utc::now();
        if let Some(last) = self.last
            && now <= last
        {
            now = last + chrono::Duration::microseconds(1);
        }
        self.last = Some(now);
        now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }
}

/// What a pending tool call waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pending {
    /// `user.tool_confirmation` (permission `ask`).
    Confirmation,
    /// `user.custom_tool_result`.
    CustomResult,
    /// `user.tool_result` (self-hosted environments).
    ToolResult,
}

/// One queued unit of work.
pub(crate) enum Input {
    /// A `user.message` (plus a trailing `system.message`): their queued echoes.
    Message(Vec<Value>),
    /// A `system.message` sent on its own: processed without a turn.
    System(Value),
    /// A `user.define_outcome` (already echoed processed): runs a turn, then grades it.
    Outcome(String),
}

/// A frame for one live subscriber.
#[derive(Clone)]
pub(crate) struct Out {
    pub bytes: Bytes,
    /// The stream ends after this frame (`session.deleted`, `session.status_terminated`).
    pub end: bool,
}

struct Subscriber {
    tx: mpsc::UnboundedSender<Out>,
    message_deltas: bool,
    thinking_deltas: bool,
}

/// Which previews a frame is.
#[derive(Clone, Copy)]
enum PreviewKind {
    Message,
    Thinking,
}

/// The machinery of one session.
pub(crate) struct SessionRt {
    /// Persisted events, each once in its latest form.
    pub history: Vec<Value>,
    /// Ids in `history`, so appending stays O(1) (only a re-sighted event is searched for).
    history_ids: std::collections::HashSet<String>,
    subscribers: Vec<Subscriber>,
    queue: VecDeque<Input>,
    interrupts: usize,
    runner_active: bool,
    turn_open: bool,
    notify: Arc<Notify>,
    /// Tool calls awaiting an answer, by event id.
    pub pending: BTreeMap<String, Pending>,
    /// Answers received for pending calls, not yet consumed by the turn.
    answers: BTreeMap<String, Value>,
    /// No further work: terminated (archived or by the script) or deleted.
    pub closed: bool,
    /// The primary thread.
    pub thread_id: String,
    /// Created from `agent_with_overrides` (its agent cannot be updated).
    pub overrides: bool,
    /// The environment is `self_hosted` (built-in tools wait for `user.tool_result`).
    pub self_hosted: bool,
    /// Write-only repository tokens by resource id.
    pub tokens: BTreeMap<String, String>,
    created: Instant,
    running_since: Option<Instant>,
    active: Duration,
    frozen: Option<Duration>,
}

impl SessionRt {
    pub fn new(thread_id: String, overrides: bool, self_hosted: bool) -> Self {
        Self {
            history: Vec::new(),
            history_ids: std::collections::HashSet::new(),
            subscribers: Vec::new(),
            queue: VecDeque::new(),
            interrupts: 0,
            runner_active: false,
            turn_open: false,
            notify: Arc::new(Notify::new()),
            pending: BTreeMap::new(),
            answers: BTreeMap::new(),
            closed: false,
            thread_id,
            overrides,
            self_hosted,
            tokens: BTreeMap::new(),
            created: Instant::now(),
            running_since: None,
            active: Duration::ZERO,
            frozen: None,
        }
    }

    /// `{active_seconds, duration_seconds}` now.
    pub fn stats(&self) -> (f64, f64) {
        let active = self.active + self.running_since.map_or(Duration::ZERO, |s| s.elapsed());
        let duration = self.frozen.unwrap_or_else(|| self.created.elapsed());
        (active.as_secs_f64(), duration.as_secs_f64())
    }

    /// Whether a pending call `id` of `kind` may still be answered.
    pub fn awaits(&self, id: &str, kind: Pending) -> bool {
        self.pending.get(id) == Some(&kind) && !self.answers.contains_key(id)
    }

    /// Registers a live subscriber; frames arrive on the returned receiver.
    pub fn subscribe(
        &mut self,
        message_deltas: bool,
        thinking_deltas: bool,
    ) -> mpsc::UnboundedReceiver<Out> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers.push(Subscriber {
            tx,
            message_deltas,
            thinking_deltas,
        });
        rx
    }

    /// Queues work (the caller then calls [`kick`]).
    pub fn enqueue(&mut self, input: Input) {
        self.queue.push_back(input);
    }

    /// Records the answer to a pending call and wakes the turn waiting for it.
    pub fn answer(&mut self, id: &str, event: Value) {
        self.answers.insert(id.to_owned(), event);
        self.notify.notify_waiters();
    }

    /// A `user.interrupt` arrived: ends the open turn, if any (a no-op on an idle session).
    pub fn interrupt(&mut self) {
        if self.turn_open {
            self.interrupts += 1;
            self.notify.notify_waiters();
        }
    }

    /// Wakes the runner so it notices the session was closed or removed.
    pub fn wake(&self) {
        self.notify.notify_waiters();
    }

    /// Ends every live stream (the fake shuts down).
    pub fn shut_down(&mut self) {
        self.closed = true;
        self.subscribers.clear();
        self.notify.notify_waiters();
    }

    fn send(&mut self, out: &Out, preview: Option<PreviewKind>) {
        self.subscribers.retain(|s| {
            let wanted = match preview {
                None => true,
                Some(PreviewKind::Message) => s.message_deltas,
                Some(PreviewKind::Thinking) => s.thinking_deltas,
            };
            !wanted || s.tx.send(out.clone()).is_ok()
        });
    }
}

/// One SSE frame: `event: <type>\ndata: <json>\n\n`, the JSON with `type` first (the API's
/// order, which lets decoders dispatch early).
pub(crate) fn sse_frame(event: &Value) -> Bytes {
    let kind = event
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("message");
    let mut data = String::from("{");
    if let Some(t) = event.get("type") {
        data.push_str("\"type\":");
        data.push_str(&t.to_string());
    }
    if let Value::Object(map) = event {
        for (k, v) in map.iter().filter(|(k, _)| k.as_str() != "type") {
            if data.len() > 1 {
                data.push(',');
            }
            data.push_str(&Value::String(k.clone()).to_string());
            data.push(':');
            data.push_str(&v.to_string());
        }
    }
    data.push('}');
    Bytes::from(format!("event: {kind}\ndata: {data}\n\n"))
}

/// A fresh `processed_at` stamp.
pub(crate) fn stamp(state: &mut State) -> String {
    state.runtime.clock.stamp()
}

/// Emits one persisted event of session `sid`: assigns `id` and `processed_at` when missing
/// (an explicit `processed_at: null` is kept), updates the session's status, appends it to the
/// history (dropping an earlier form with the same id) and sends it to every subscriber.
/// `None` when the session is gone or closed.
pub(crate) fn emit(
    shared: &Shared,
    state: &mut State,
    sid: &str,
    mut event: Value,
) -> Option<Value> {
    let Runtimes {
        sessions, clock, ..
    } = &mut state.runtime;
    let rt = sessions.get_mut(sid)?;
    if rt.closed {
        return None;
    }
    if event.get("id").and_then(Value::as_str).is_none() {
        event["id"] = json!(shared.new_id("sevt"));
    }
    if event.get("processed_at").is_none() {
        event["processed_at"] = json!(clock.stamp());
    }
    let kind = event["type"].as_str().unwrap_or("").to_owned();
    let status = match kind.as_str() {
        "session.status_running" => Some("running"),
        "session.status_idle" => Some("idle"),
        "session.status_rescheduled" => Some("rescheduling"),
        "session.status_terminated" => Some("terminated"),
        _ => None,
    };
    if let Some(status) = status {
        match status {
            "running" => {
                rt.running_since.get_or_insert_with(Instant::now);
            }
            "rescheduling" => {}
            _ => {
                if let Some(since) = rt.running_since.take() {
                    rt.active += since.elapsed();
                }
            }
        }
        if status == "terminated" {
            rt.frozen = Some(rt.created.elapsed());
        }
        if let Some(session) = state.sessions.get_mut(sid) {
            session["status"] = json!(status);
            session["updated_at"] = event["processed_at"].clone();
        }
    }
    let id = event["id"].clone();
    let id_str = id.as_str().unwrap_or_default().to_owned();
    if !rt.history_ids.insert(id_str) {
        // A re-sighting (a queued user event, now processed): drop the earlier form.
        rt.history.retain(|e| e["id"] != id);
    }
    rt.history.push(event.clone());
    let end = kind == "session.status_terminated";
    rt.send(
        &Out {
            bytes: sse_frame(&event),
            end,
        },
        None,
    );
    if end {
        rt.closed = true;
        rt.subscribers.clear();
        rt.notify.notify_waiters();
    }
    Some(event)
}

/// Sends `session.deleted` to the open streams of `sid` (not persisted: the history is gone),
/// closes them and removes the session's machinery.
pub(crate) fn delete(shared: &Shared, state: &mut State, sid: &str) {
    let processed_at = stamp(state);
    if let Some(mut rt) = state.runtime.sessions.remove(sid) {
        let event = json!({
            "type": "session.deleted",
            "id": shared.new_id("sevt"),
            "processed_at": processed_at,
        });
        rt.send(
            &Out {
                bytes: sse_frame(&event),
                end: true,
            },
            None,
        );
        rt.shut_down();
    }
    state.runtime.scripts.remove(sid);
}

fn preview(state: &mut State, sid: &str, frame: &Value, kind: PreviewKind) {
    if let Some(rt) = state.runtime.sessions.get_mut(sid) {
        // Serialise only for streams that asked for this kind of preview.
        let wanted = rt.subscribers.iter().any(|s| match kind {
            PreviewKind::Message => s.message_deltas,
            PreviewKind::Thinking => s.thinking_deltas,
        });
        if !wanted {
            return;
        }
        rt.send(
            &Out {
                bytes: sse_frame(frame),
                end: false,
            },
            Some(kind),
        );
    }
}

/// Starts the session's runner if work is queued and none is running.
pub(crate) fn kick(shared: &Arc<Shared>, state: &mut State, sid: &str) {
    let Some(rt) = state.runtime.sessions.get_mut(sid) else {
        return;
    };
    if rt.runner_active || rt.closed || rt.queue.is_empty() {
        return;
    }
    rt.runner_active = true;
    let shared = shared.clone();
    let sid = sid.to_owned();
    tokio::spawn(async move { run(shared, sid).await });
}

async fn run(shared: Arc<Shared>, sid: String) {
    loop {
        let input = {
            let mut state = lock(&shared.state);
            let Some(rt) = state.runtime.sessions.get_mut(&sid) else {
                return;
            };
            let next = if rt.closed {
                None
            } else {
                rt.queue.pop_front()
            };
            match next {
                Some(input) => {
                    rt.turn_open = true;
                    rt.interrupts = 0;
                    input
                }
                None => {
                    rt.runner_active = false;
                    return;
                }
            }
        };
        match input {
            Input::System(mut event) => {
                let mut state = lock(&shared.state);
                event["processed_at"] = json!(stamp(&mut state));
                emit(&shared, &mut state, &sid, event);
                if let Some(rt) = state.runtime.sessions.get_mut(&sid) {
                    rt.turn_open = false;
                }
            }
            Input::Message(events) => run_turn(&shared, &sid, events, None).await,
            Input::Outcome(outcome_id) => {
                run_turn(&shared, &sid, Vec::new(), Some(outcome_id)).await;
            }
        }
    }
}

/// Why a turn stopped early.
enum Stop {
    Interrupted,
    Exhausted,
    Terminated,
    Gone,
}

type Flow<T = ()> = Result<T, Stop>;

struct Turn<'a> {
    shared: &'a Arc<Shared>,
    sid: &'a str,
    notify: Arc<Notify>,
    delay: Duration,
    open_request: Option<String>,
}

async fn run_turn(shared: &Arc<Shared>, sid: &str, inputs: Vec<Value>, outcome: Option<String>) {
    let (script, notify) = {
        let state = lock(&shared.state);
        let script = state
            .runtime
            .scripts
            .get(sid)
            .or(state.runtime.default_script.as_ref())
            .cloned()
            .unwrap_or_default();
        let Some(rt) = state.runtime.sessions.get(sid) else {
            return;
        };
        (script, rt.notify.clone())
    };
    let mut turn = Turn {
        shared,
        sid,
        notify,
        delay: script.delay(),
        open_request: None,
    };
    let result = turn.body(&script, inputs, outcome.as_deref()).await;
    let result = match result {
        Ok(()) => match &outcome {
            Some(id) => turn.grade(id),
            None => Ok(()),
        },
        other => other,
    };
    let stop_reason = match result {
        Ok(()) => Some("end_turn"),
        Err(Stop::Interrupted) => {
            if let Some(start) = turn.open_request.take() {
                let _ = turn.emit(model_request_end(&start, &ZERO_USAGE, false));
            }
            if let Some(id) = &outcome {
                turn.set_outcome(id, "interrupted", None, true);
            }
            Some("end_turn")
        }
        Err(Stop::Exhausted) => Some("retries_exhausted"),
        Err(Stop::Terminated | Stop::Gone) => None,
    };
    if let Some(reason) = stop_reason {
        let _ = turn.emit(json!({
            "type": "session.status_idle",
            "stop_reason": {"type": reason},
            "stop_details": null,
        }));
    }
    let mut state = lock(&shared.state);
    if let Some(rt) = state.runtime.sessions.get_mut(sid) {
        rt.turn_open = false;
        rt.interrupts = 0;
        rt.pending.clear();
        rt.answers.clear();
    }
}

const ZERO_USAGE: super::script::ModelUsage = super::script::ModelUsage {
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
};

fn usage_json(u: &super::script::ModelUsage) -> Value {
    json!({
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cache_creation_input_tokens": u.cache_creation_input_tokens,
        "cache_read_input_tokens": u.cache_read_input_tokens,
    })
}

fn model_request_end(start: &str, usage: &super::script::ModelUsage, is_error: bool) -> Value {
    json!({
        "type": "span.model_request_end",
        "model_request_start_id": start,
        "model_usage": usage_json(usage),
        "is_error": is_error,
    })
}

fn text_content(text: &str) -> Value {
    json!([{"type": "text", "text": text}])
}

/// `(evaluated_permission, evaluation)` for an explicit permission.
fn evaluation_of(p: Permission) -> (&'static str, Option<Value>) {
    match p {
        Permission::Allow => ("allow", Some(json!({"type": "always_allow"}))),
        Permission::Ask => ("ask", Some(json!({"type": "always_ask"}))),
        Permission::Deny => (
            "deny",
            Some(json!({
                "type": "auto",
                "evaluated_permission": {"type": "deny", "reason_code": "high_risk"},
            })),
        ),
    }
}

/// `(evaluated_permission, evaluation)` from a resolved toolset's policy for tool `name`.
fn evaluation_from_toolset(toolset: &Value, name: &str) -> (&'static str, Option<Value>) {
    let config = toolset["configs"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name));
    let enabled = config
        .and_then(|c| c["enabled"].as_bool())
        .or_else(|| toolset["default_config"]["enabled"].as_bool())
        .unwrap_or(true);
    if !enabled {
        return ("deny", None);
    }
    let policy = config
        .map(|c| &c["permission_policy"])
        .filter(|p| p.is_object())
        .unwrap_or(&toolset["default_config"]["permission_policy"]);
    match policy["type"].as_str() {
        Some("always_ask") => evaluation_of(Permission::Ask),
        Some("auto") => (
            "allow",
            Some(json!({"type": "auto", "evaluated_permission": {"type": "allow"}})),
        ),
        _ => evaluation_of(Permission::Allow),
    }
}

impl Turn<'_> {
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut lock(&self.shared.state))
    }

    fn emit(&self, event: Value) -> Flow<Value> {
        self.with(|state| emit(self.shared, state, self.sid, event))
            .ok_or(Stop::Gone)
    }

    /// Stops at a pending interrupt, or when the session is gone.
    fn check(&self) -> Flow {
        self.with(|state| match state.runtime.sessions.get_mut(self.sid) {
            None => Err(Stop::Gone),
            Some(rt) if rt.closed => Err(Stop::Gone),
            Some(rt) if rt.interrupts > 0 => {
                rt.interrupts = 0;
                Err(Stop::Interrupted)
            }
            Some(_) => Ok(()),
        })
    }

    /// Waits `d` (cut short by an interrupt).
    async fn pause(&self, d: Duration) -> Flow {
        let deadline = tokio::time::Instant::now() + d;
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            self.check()?;
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return self.check(),
                () = &mut notified => {}
            }
        }
    }

    async fn step_pause(&self) -> Flow {
        if self.delay.is_zero() {
            self.check()
        } else {
            self.pause(self.delay).await
        }
    }

    /// Waits for the answer to pending call `id` (an interrupt or closing stops it).
    async fn wait_answer(&self, id: &str) -> Flow<Value> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            self.check()?;
            let answer = self.with(|state| {
                state
                    .runtime
                    .sessions
                    .get_mut(self.sid)
                    .and_then(|rt| rt.answers.remove(id))
            });
            if let Some(answer) = answer {
                self.with(|state| {
                    if let Some(rt) = state.runtime.sessions.get_mut(self.sid) {
                        rt.pending.remove(id);
                    }
                });
                return Ok(answer);
            }
            notified.await;
        }
    }

    /// Goes idle with `requires_action` naming `id` (unless its answer is already in), waits
    /// for the answer, and returns it.
    async fn require_action(&self, id: &str) -> Flow<Value> {
        let answered = self.with(|state| {
            state
                .runtime
                .sessions
                .get(self.sid)
                .is_some_and(|rt| rt.answers.contains_key(id))
        });
        if !answered {
            self.emit(json!({
                "type": "session.status_idle",
                "stop_reason": {"type": "requires_action", "event_ids": [id]},
                "stop_details": null,
            }))?;
        }
        let answer = self.wait_answer(id).await?;
        Ok(answer)
    }

    fn set_pending(&self, id: &str, kind: Pending) {
        self.with(|state| {
            if let Some(rt) = state.runtime.sessions.get_mut(self.sid) {
                rt.pending.insert(id.to_owned(), kind);
            }
        });
    }

    fn set_outcome(&self, outcome_id: &str, result: &str, explanation: Option<&str>, done: bool) {
        self.with(|state| {
            let at = stamp(state);
            let Some(session) = state.sessions.get_mut(self.sid) else {
                return;
            };
            let Some(evals) = session["outcome_evaluations"].as_array_mut() else {
                return;
            };
            for e in evals.iter_mut().filter(|e| e["outcome_id"] == outcome_id) {
                e["result"] = json!(result);
                if let Some(x) = explanation {
                    e["explanation"] = json!(x);
                }
                if done {
                    e["completed_at"] = json!(at);
                }
            }
        });
    }

    async fn body(&mut self, script: &Script, inputs: Vec<Value>, outcome: Option<&str>) -> Flow {
        self.with(|state| -> Flow {
            emit(
                self.shared,
                state,
                self.sid,
                json!({"type": "session.status_running"}),
            )
            .ok_or(Stop::Gone)?;
            for mut event in inputs {
                event["processed_at"] = json!(stamp(state));
                emit(self.shared, state, self.sid, event).ok_or(Stop::Gone)?;
            }
            Ok(())
        })?;
        if let Some(id) = outcome {
            self.set_outcome(id, "running", None, false);
        }
        for step in &script.steps {
            self.step_pause().await?;
            self.step(step).await?;
        }
        Ok(())
    }

    /// The fake grader: one evaluation, satisfied.
    fn grade(&self, outcome_id: &str) -> Flow {
        self.set_outcome(outcome_id, "evaluating", None, false);
        let start = self.emit(json!({
            "type": "span.outcome_evaluation_start",
            "outcome_id": outcome_id,
            "iteration": 0,
        }))?;
        let explanation = "All criteria met.";
        self.emit(json!({
            "type": "span.outcome_evaluation_end",
            "outcome_id": outcome_id,
            "outcome_evaluation_start_id": start["id"],
            "iteration": 0,
            "result": "satisfied",
            "explanation": explanation,
            "usage": usage_json(&ZERO_USAGE),
        }))?;
        self.set_outcome(outcome_id, "satisfied", Some(explanation), true);
        Ok(())
    }

    async fn step(&mut self, step: &Step) -> Flow {
        match step {
            Step::ModelRequestStart => {
                let start = self.emit(json!({"type": "span.model_request_start"}))?;
                self.open_request = start["id"].as_str().map(str::to_owned);
            }
            Step::ModelRequestEnd { usage, is_error } => {
                let start = match self.open_request.take() {
                    Some(id) => id,
                    None => self.emit(json!({"type": "span.model_request_start"}))?["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                };
                self.emit(model_request_end(&start, usage, *is_error))?;
                self.with(|state| add_usage(state, self.sid, usage));
            }
            Step::Thinking => {
                let id = self.shared.new_id("sevt");
                self.with(|state| {
                    let start = json!({"type": "event_start", "event": {"type": "agent.thinking", "id": id}});
                    preview(state, self.sid, &start, PreviewKind::Thinking);
                    emit(self.shared, state, self.sid, json!({"type": "agent.thinking", "id": id}))
                })
                .ok_or(Stop::Gone)?;
            }
            Step::Message { text } => self.message(text).await?,
            Step::ToolUse {
                name,
                input,
                result,
                is_error,
                permission,
            } => {
                let (perm, evaluation) = match permission {
                    Some(p) => evaluation_of(*p),
                    None => self.with(|state| {
                        let toolset = state.sessions.get(self.sid).and_then(|s| {
                            s["agent"]["tools"].as_array().and_then(|t| {
                                t.iter()
                                    .find(|t| t["type"] == "agent_toolset_20260401")
                                    .cloned()
                            })
                        });
                        toolset.map_or(evaluation_of(Permission::Allow), |t| {
                            evaluation_from_toolset(&t, name)
                        })
                    }),
                };
                let mut event = json!({
                    "type": "agent.tool_use",
                    "name": name,
                    "input": input,
                    "evaluated_permission": perm,
                });
                if let Some(e) = evaluation {
                    event["evaluation"] = e;
                }
                let id = self.tool_use(event, perm).await?;
                let Some(id) = id else {
                    return Ok(());
                };
                let self_hosted = self.with(|state| {
                    state
                        .runtime
                        .sessions
                        .get(self.sid)
                        .is_some_and(|rt| rt.self_hosted)
                });
                if self_hosted {
                    self.set_pending(&id, Pending::ToolResult);
                    self.require_action(&id).await?;
                    self.emit(json!({"type": "session.status_running"}))?;
                } else {
                    self.emit(json!({
                        "type": "agent.tool_result",
                        "tool_use_id": id,
                        "content": text_content(result),
                        "is_error": is_error,
                    }))?;
                }
            }
            Step::McpToolUse {
                server,
                name,
                input,
                result,
                is_error,
                permission,
            } => {
                let (perm, evaluation) = match permission {
                    Some(p) => evaluation_of(*p),
                    None => self.with(|state| {
                        let toolset = state.sessions.get(self.sid).and_then(|s| {
                            s["agent"]["tools"].as_array().and_then(|t| {
                                t.iter()
                                    .find(|t| {
                                        t["type"] == "mcp_toolset"
                                            && t["mcp_server_name"] == server.as_str()
                                    })
                                    .cloned()
                            })
                        });
                        toolset.map_or(evaluation_of(Permission::Allow), |t| {
                            evaluation_from_toolset(&t, name)
                        })
                    }),
                };
                let mut event = json!({
                    "type": "agent.mcp_tool_use",
                    "mcp_server_name": server,
                    "name": name,
                    "input": input,
                    "evaluated_permission": perm,
                });
                if let Some(e) = evaluation {
                    event["evaluation"] = e;
                }
                if let Some(id) = self.tool_use(event, perm).await? {
                    self.emit(json!({
                        "type": "agent.mcp_tool_result",
                        "mcp_tool_use_id": id,
                        "content": text_content(result),
                        "is_error": is_error,
                    }))?;
                }
            }
            Step::CustomToolUse { name, input } => {
                let id = self.shared.new_id("sevt");
                self.with(|state| {
                    // Registered with the event, so a result may be sent right away.
                    if let Some(rt) = state.runtime.sessions.get_mut(self.sid) {
                        rt.pending.insert(id.clone(), Pending::CustomResult);
                    }
                    emit(
                        self.shared,
                        state,
                        self.sid,
                        json!({"type": "agent.custom_tool_use", "id": id, "name": name, "input": input}),
                    )
                })
                .ok_or(Stop::Gone)?;
                self.require_action(&id).await?;
                self.emit(json!({"type": "session.status_running"}))?;
            }
            Step::Error {
                error_type,
                message,
                retry_status,
                details,
            } => {
                let mut error = json!({
                    "type": error_type,
                    "message": message,
                    "retry_status": {"type": retry_status.as_str()},
                });
                for (k, v) in details {
                    error[k] = v.clone();
                }
                self.emit(json!({"type": "session.error", "error": error}))?;
                match retry_status {
                    RetryStatus::Retrying => {}
                    RetryStatus::Exhausted => return Err(Stop::Exhausted),
                    RetryStatus::Terminal => {
                        self.emit(json!({"type": "session.status_terminated"}))?;
                        return Err(Stop::Terminated);
                    }
                }
            }
            Step::Rescheduled => {
                self.emit(json!({"type": "session.status_rescheduled"}))?;
                self.emit(json!({"type": "session.status_running"}))?;
            }
            Step::Usage => {
                let (usage, budget) = self.with(|state| {
                    render_session(state, self.sid)
                        .map(|s| (s["usage"].clone(), s["budget"].clone()))
                        .unwrap_or_default()
                });
                self.emit(json!({"type": "session.usage", "usage": usage, "budget": budget}))?;
            }
            Step::Pause { ms } => self.pause(Duration::from_millis(*ms)).await?,
            Step::Terminate => {
                self.emit(json!({"type": "session.status_terminated"}))?;
                return Err(Stop::Terminated);
            }
            Step::Event { event } => {
                if event.get("type").and_then(Value::as_str).is_some() {
                    self.emit(event.clone())?;
                }
            }
        }
        Ok(())
    }

    /// `agent.message`, after its previews (`event_start`, one `event_delta` per word).
    async fn message(&self, text: &str) -> Flow {
        let id = self.shared.new_id("sevt");
        self.with(|state| {
            let start =
                json!({"type": "event_start", "event": {"type": "agent.message", "id": id}});
            preview(state, self.sid, &start, PreviewKind::Message);
        });
        for chunk in text.split_inclusive(' ') {
            if !self.delay.is_zero() {
                self.pause(self.delay).await?;
            }
            self.with(|state| {
                let delta = json!({
                    "type": "event_delta",
                    "event_id": id,
                    "delta": {"type": "content_delta", "index": 0, "content": {"type": "text", "text": chunk}},
                });
                preview(state, self.sid, &delta, PreviewKind::Message);
            });
        }
        self.emit(json!({"type": "agent.message", "id": id, "content": text_content(text)}))?;
        Ok(())
    }

    /// Emits a tool-use event with its permission handling. `Some(id)` when the call may run
    /// (allowed, or confirmed); `None` when it was denied (the error result is emitted here).
    async fn tool_use(&self, event: Value, perm: &str) -> Flow<Option<String>> {
        let is_mcp = event["type"] == "agent.mcp_tool_use";
        let id = self.shared.new_id("sevt");
        let mut event = event;
        event["id"] = json!(id);
        self.with(|state| {
            if perm == "ask"
                && let Some(rt) = state.runtime.sessions.get_mut(self.sid)
            {
                rt.pending.insert(id.clone(), Pending::Confirmation);
            }
            emit(self.shared, state, self.sid, event)
        })
        .ok_or(Stop::Gone)?;
        let denied = |message: &str| {
            let mut result = json!({"content": text_content(message), "is_error": true});
            if is_mcp {
                result["type"] = json!("agent.mcp_tool_result");
                result["mcp_tool_use_id"] = json!(id);
            } else {
                result["type"] = json!("agent.tool_result");
                result["tool_use_id"] = json!(id);
            }
            result
        };
        match perm {
            "deny" => {
                self.emit(denied("The tool call was denied by the permission policy."))?;
                Ok(None)
            }
            "ask" => {
                let mut answer = self.require_action(&id).await?;
                let allowed = answer["result"] == "allow";
                let deny_message = answer["deny_message"]
                    .as_str()
                    .unwrap_or("The user denied this tool call.")
                    .to_owned();
                self.with(|state| {
                    answer["processed_at"] = json!(stamp(state));
                });
                self.emit(answer)?;
                self.emit(json!({"type": "session.status_running"}))?;
                if allowed {
                    Ok(Some(id))
                } else {
                    self.emit(denied(&deny_message))?;
                    Ok(None)
                }
            }
            _ => Ok(Some(id)),
        }
    }
}

/// Adds one model request's usage to the session's cumulative usage.
fn add_usage(state: &mut State, sid: &str, u: &super::script::ModelUsage) {
    let Some(session) = state.sessions.get_mut(sid) else {
        return;
    };
    let usage = &mut session["usage"];
    let add = |v: &mut Value, n: u64| *v = json!(v.as_u64().unwrap_or(0) + n);
    add(&mut usage["input_tokens"], u.input_tokens);
    add(&mut usage["output_tokens"], u.output_tokens);
    add(
        &mut usage["cache_read_input_tokens"],
        u.cache_read_input_tokens,
    );
    add(
        &mut usage["cache_creation"]["ephemeral_5m_input_tokens"],
        u.cache_creation_input_tokens,
    );
    usage["list_cost"] = json!({"amount": list_cost_cents(usage).to_string(), "currency": "USD"});
}

/// The fake's list price (in cents): $3 / MTok input, $15 / MTok output, $0.30 / MTok cache
/// reads, $3.75 / MTok cache writes — rounded to the cent.
pub(crate) fn list_cost_cents(usage: &Value) -> u64 {
    let n = |v: &Value| u128::from(v.as_u64().unwrap_or(0));
    let micro_cents = n(&usage["input_tokens"]) * 300
        + n(&usage["output_tokens"]) * 1500
        + n(&usage["cache_read_input_tokens"]) * 30
        + n(&usage["cache_creation"]["ephemeral_5m_input_tokens"]) * 375
        + n(&usage["cache_creation"]["ephemeral_1h_input_tokens"]) * 600;
    u64::try_from((micro_cents + 500_000) / 1_000_000).unwrap_or(u64::MAX)
}

/// A session's usage when nothing has run yet.
pub(crate) fn zero_usage() -> Value {
    json!({
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "list_cost": {"amount": "0", "currency": "USD"},
        "active_seconds": 0.0,
        "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
    })
}

/// The session as the API returns it now (live `stats` and `usage.active_seconds`).
pub(crate) fn render_session(state: &State, sid: &str) -> Option<Value> {
    let mut session = state.sessions.get(sid)?.clone();
    if let Some(rt) = state.runtime.sessions.get(sid) {
        let (active, duration) = rt.stats();
        session["stats"] = json!({"active_seconds": active, "duration_seconds": duration});
        session["usage"]["active_seconds"] = json!(active);
    }
    Some(session)
}

#[cfg(test)]
mod tests {
    //! The engine on its own (no socket), in paused time: step delays, pauses, interrupts.

    use super::*;
    use crate::testkit::state::FakeConfig;

    const SID: &str = "sesn_test";

    fn shared_with(script: Script) -> Arc<Shared> {
        let shared = Arc::new(Shared::new(FakeConfig::default()));
        {
            let mut state = lock(&shared.state);
            state.sessions.insert(
                SID.to_owned(),
                json!({"type": "session", "id": SID, "status": "idle", "agent": {"tools": []},
                       "usage": zero_usage(), "outcome_evaluations": []}),
            );
            state.runtime.sessions.insert(
                SID.to_owned(),
                SessionRt::new("sthr_test".into(), false, false),
            );
            state.runtime.scripts.insert(SID.to_owned(), script);
        }
        shared
    }

    fn send_message(shared: &Arc<Shared>) {
        let mut state = lock(&shared.state);
        let queued = json!({"type": "user.message", "content": [], "processed_at": null});
        let echo = emit(shared, &mut state, SID, queued);
        if let (Some(echo), Some(rt)) = (echo, state.runtime.sessions.get_mut(SID)) {
            rt.enqueue(Input::Message(vec![echo]));
        }
        kick(shared, &mut state, SID);
    }

    fn types(shared: &Shared) -> Vec<String> {
        lock(&shared.state).runtime.sessions[SID]
            .history
            .iter()
            .map(|e| e["type"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    async fn at(start: tokio::time::Instant, secs_x10: u64) {
        tokio::time::sleep_until(start + Duration::from_millis(secs_x10 * 100)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn steps_wait_their_delay_and_pauses() {
        let script = Script::new(vec![
            Step::message("hi"),
            Step::Pause { ms: 5_000 },
            Step::Thinking,
        ])
        .with_delay(Duration::from_secs(1));
        let shared = shared_with(script);
        let start = tokio::time::Instant::now();
        send_message(&shared);
        at(start, 15).await;
        assert_eq!(types(&shared), ["session.status_running", "user.message"]);
        // 1 s before the step, 1 s before its one delta.
        at(start, 25).await;
        assert_eq!(
            types(&shared).last().map(String::as_str),
            Some("agent.message")
        );
        at(start, 85).await;
        assert!(!types(&shared).contains(&"agent.thinking".to_owned()));
        at(start, 95).await;
        assert_eq!(
            types(&shared)[2..],
            ["agent.message", "agent.thinking", "session.status_idle"]
        );
        let state = lock(&shared.state);
        assert_eq!(state.sessions[SID]["status"], "idle");
    }

    #[tokio::test(start_paused = true)]
    async fn an_interrupt_cuts_a_pause_short() {
        let shared = shared_with(Script::new(vec![
            Step::ModelRequestStart,
            Step::Pause { ms: 60_000 },
            Step::message("never"),
        ]));
        let start = tokio::time::Instant::now();
        send_message(&shared);
        at(start, 10).await;
        assert_eq!(lock(&shared.state).sessions[SID]["status"], "running");
        if let Some(rt) = lock(&shared.state).runtime.sessions.get_mut(SID) {
            rt.interrupt();
        }
        at(start, 11).await;
        let history = lock(&shared.state).runtime.sessions[SID].history.clone();
        let kinds: Vec<&str> = history.iter().filter_map(|e| e["type"].as_str()).collect();
        assert_eq!(
            kinds[2..],
            [
                "span.model_request_start",
                "span.model_request_end",
                "session.status_idle"
            ]
        );
        assert_eq!(history[4]["stop_reason"]["type"], "end_turn");
        assert_eq!(history[3]["model_request_start_id"], history[2]["id"]);
        // An interrupt with no turn open is a no-op.
        if let Some(rt) = lock(&shared.state).runtime.sessions.get_mut(SID) {
            rt.interrupt();
            assert_eq!(rt.interrupts, 0);
        }
    }
}
