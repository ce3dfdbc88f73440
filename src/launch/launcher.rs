//! The [`Launcher`]: triggers → session cards → remote sessions → the event pump, plus
//! follow-ups, approvals, stop, the per-agent concurrency limit, the watchdog and resume.
//!
//! # Guarantees
//! * **One session per trigger.** Every trigger carries an idempotency key recorded in the
//!   store's trigger ledger; a card's id is derived from `(workspace, agent, key)`, so a
//!   redelivery — even one racing a crash between the ledger write and the card write — finds
//!   the same card instead of making another. At most one live card exists per (task, agent)
//!   ([`LiveIndex`]); a mention while it lives is a follow-up message to its session.
//! * **Start path, crash-safe.** The card records each step (run vault created → session
//!   created → first message sent) before the next begins; a restarted launcher
//!   ([`Launcher::resume`]) continues from the last step, first looking for an object whose
//!   create outcome was lost (by the card id in its metadata), and checks the session history
//!   before sending a message whose send outcome was lost. The stream is open before the first
//!   message is sent.
//! * **Lossless pump.** Events come from [`follow`](crate::api::follow); each batch is appended
//!   to the session log ([`Store::append_events`], idempotent on `(event id, processed)`), then
//!   mapped to activities, delivered to the [`EventSink`], and only then the card's delivery
//!   cursor moves. After a crash the stored log is replayed through a fresh
//!   [`ActivityMapper`] (same keys) and what was not delivered is delivered.
//! * **Never working forever.** A card whose session says nothing for
//!   [`LauncherConfig::watchdog`] while it should be working is checked; a dead or stuck session
//!   ends the card (`failed`) with an error activity saying why.
//!
//! # Assumptions
//! * One process drives a card at a time: the drive task holds a store lease (`launch:{card}`)
//!   renewed while it runs. A drive that finds the lease held waits for it (a crashed
//!   process's lease lapses after [`LauncherConfig::lease_ttl`]), so a quick restart does not
//!   orphan its cards. The per-agent concurrency limit is counted per process.
//! * The host's [`EventSink`] dedupes on [`SinkDelivery::key`] (its contract), which turns the
//!   at-least-once delivery across crashes into exactly-once history entries.
//!
//! # Caveats
//! * A custom tool call is answered when its `agent.custom_tool_use` is processed and no
//!   `user.custom_tool_result` for it is in the log. After a crash between sending an answer
//!   and storing its echo, the answer may be sent twice; the API's refusal of the second is
//!   logged and ignored.
//! * Follow-ups are never queued behind the concurrency limit (they continue a session that
//!   already holds or held a slot).
//! * Usage on the card sums the `span.model_request_end` events; `cost_cents` stays 0 (list
//!   prices are not known to the library).
//! * Card changes are delivered with their revision; a stop racing a batch in flight can
//!   deliver an older revision after a newer one, so sinks keep the card of the highest
//!   revision they have seen.
//! * With several processes, a process whose drive waits for another's lease holds one of the
//!   agent's slots while it waits, and a card stopped through another process is let go at the
//!   driving pump's next batch or lease renewal (a third of [`LauncherConfig::lease_ttl`]).
//! * A session created by a start path that a stop interrupted is left idle (it never gets the
//!   task); its run vault is archived.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex as StdMutex, MutexGuard};
use std::time::Duration;

use chrono::Utc;
use futures_util::{FutureExt, StreamExt};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use super::LaunchError;
use super::activity::ActivityMapper;
use super::host::TaskHost;
use super::mention::{Handle, mentions};
use super::prompt::{FirstMessage, PromptOptions, first_message, follow_up};
use super::run::{LaunchState, LiveIndex, Outgoing, SessionRun, Stage};
use crate::api::follow::FollowOptions;
use crate::api::types::common::Metadata;
use crate::api::types::events::{
    EventParam, ListEvents, Received, SessionEvent, StreamEvent, StreamParams,
    ToolConfirmationResult,
};
use crate::api::types::sessions::{
    AgentRef, GithubRepositoryResourceParam, ListSessions, ResourceParam, SessionCreate,
    SessionStatus,
};
use crate::api::types::vaults::{
    CredentialAuth, CredentialAuthCreate, CredentialAuthUpdate, CredentialCreate,
    CredentialNetworking, CredentialUpdate, EnvironmentVariableUpdate, InjectionLocationParams,
    ListCredentials, ListVaults, StaticBearerUpdate, VaultCreate,
};
use crate::api::types::{SessionId, VaultId};
use crate::api::{self, Client};
use crate::domain::{
    Activity, ActivityKind, AgentKind, AgentSpec, AgentSpecId, DomainError, ProjectOverride,
    SessionCard, SessionCardId, SessionState, TaskComment, TaskContext, Timestamp, Trigger, UserId,
    WorkspaceId, resolve,
};
use crate::keys::{KeyError, check_agent_key};
use crate::reconcile::{ClientProvider, ReconcileError, ReconcileStatus, tools};
use crate::store::{
    DeliveryKind, EventSink, Expected, Lease, LogEvent, Record, RecordError, RecordKey,
    RecordStore, Revision, SinkDelivery, Store, StoreError,
};

/// Metadata key carrying the card id on remote sessions and run vaults.
pub const CARD_METADATA_KEY: &str = "claude_agents.card";

/// Settings of a [`Launcher`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LauncherConfig {
    /// Sessions of one agent working at once (cards starting, running or awaiting input);
    /// further cards wait `queued`. Default 4.
    pub max_concurrent_per_agent: usize,
    /// Silence after which a working session is checked (default 10 minutes). A session still
    /// reported running after a second silent period is interrupted and its card fails.
    pub watchdog: Duration,
    /// Longest a [`TaskHost`] call may take before the agent gets an error result (30 s).
    pub tool_timeout: Duration,
    /// How long trigger keys are remembered (7 days).
    pub trigger_ttl: Duration,
    /// The drive lease's time to live (60 s); renewed at a third of it. A restarted process
    /// waits up to this long before it continues the cards of a crashed one.
    pub lease_ttl: Duration,
    /// Reconnect settings of the event stream.
    pub follow: FollowOptions,
    /// Message composition.
    pub prompt: PromptOptions,
    /// Most events appended to the log in one write (256).
    pub batch_max: usize,
    /// Delay before a failed sink delivery or store write is retried (doubles up to 30 s).
    pub retry_delay: Duration,
    /// How sessions reach the host (full API bridge, direct API access).
    pub host_api: HostApi,
}

/// How sessions reach the host, for agents that use the full API bridge or may call the
/// host's API directly. Each session gets its own token from [`TaskHost::session_token`],
/// stored only in its run vault.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostApi {
    /// The host's MCP server URL — the same URL as the reconciler's
    /// [`HostMcpServer`](crate::reconcile::HostMcpServer), so the vault credential matches the
    /// agent's MCP server. Needed by agents using the full API bridge.
    pub mcp_url: Option<String>,
    /// The host's REST API base URL (`https://tracker.example.com/api`). Agents allowed direct
    /// API access get an `environment_variable` credential limited to its host.
    pub base_url: Option<String>,
    /// The environment variable holding the token placeholder (`TRACKER_API_TOKEN`).
    pub env_var: String,
}

impl Default for HostApi {
    fn default() -> Self {
        Self {
            mcp_url: None,
            base_url: None,
            env_var: "TRACKER_API_TOKEN".to_owned(),
        }
    }
}

impl Default for LauncherConfig {
    fn default() -> Self {
        Self {
            max_concurrent_per_agent: 4,
            watchdog: Duration::from_secs(600),
            tool_timeout: Duration::from_secs(30),
            trigger_ttl: Duration::from_secs(7 * 24 * 3600),
            lease_ttl: Duration::from_secs(60),
            follow: FollowOptions::default(),
            prompt: PromptOptions::default(),
            batch_max: 256,
            retry_delay: Duration::from_millis(200),
            host_api: HostApi::default(),
        }
    }
}

/// What the launcher refuses, or failed to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LauncherError {
    /// The task, trigger or a stored record is invalid.
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The first or a follow-up message cannot be composed.
    #[error(transparent)]
    Prompt(#[from] LaunchError),
    /// The agent spec does not exist in the workspace.
    #[error("workspace {workspace}: unknown agent {agent}")]
    UnknownAgent {
        /// The workspace.
        workspace: WorkspaceId,
        /// The agent spec id.
        agent: AgentSpecId,
    },
    /// A managed agent has not been reconciled yet (no remote agent, environment or vault).
    #[error("workspace {workspace}: agent {agent} has not been reconciled yet")]
    NotReconciled {
        /// The workspace.
        workspace: WorkspaceId,
        /// The agent spec id.
        agent: AgentSpecId,
    },
    /// The card does not exist.
    #[error("workspace {workspace}: unknown session card {card}")]
    UnknownCard {
        /// The workspace.
        workspace: WorkspaceId,
        /// The card.
        card: SessionCardId,
    },
    /// The card has no live remote session to send to.
    #[error("session card {card} is {state}: no live session")]
    NotLive {
        /// The card.
        card: SessionCardId,
        /// Its state.
        state: SessionState,
    },
    /// The card's session is working; [`Launcher::complete`] needs it idle (or stop it).
    #[error("session card {card} is {state}: wait until it is idle, or stop it")]
    Working {
        /// The card.
        card: SessionCardId,
        /// Its state.
        state: SessionState,
    },
    /// The agent's provider key is missing.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// No API client could be made for the agent's provider key.
    #[error(transparent)]
    Client(Box<ReconcileError>),
    /// An API call failed (status, error code and request id are in the source).
    #[error("{step}: {source}")]
    Api {
        /// What the call was for (`create session`, `send events`, …).
        step: &'static str,
        /// The API error.
        #[source]
        source: api::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] RecordError),
    /// The session needs the host's API (full bridge or direct access) and something is
    /// missing: the URL in [`LauncherConfig::host_api`] or the host's session token.
    #[error("host API: {0}")]
    HostApi(String),
}

impl From<StoreError> for LauncherError {
    fn from(e: StoreError) -> Self {
        Self::Store(RecordError::from(e))
    }
}

type Result<T, E = LauncherError> = std::result::Result<T, E>;

fn api_err(step: &'static str) -> impl FnOnce(api::Error) -> LauncherError {
    move |source| LauncherError::Api { step, source }
}

/// A task assigned to an agent.
#[derive(Clone, Debug)]
pub struct AssignTrigger {
    /// Idempotency key of this trigger (e.g. the webhook delivery id, or
    /// `assign:{task}:{assignment id}`); a repeat starts nothing.
    pub key: String,
    /// The task as it is now.
    pub task: TaskContext,
    /// The agent it was assigned to.
    pub agent: AgentSpecId,
    /// Who assigned it.
    pub by: Option<UserId>,
}

/// A comment on a task, which may mention an agent.
#[derive(Clone, Debug)]
pub struct CommentTrigger {
    /// Idempotency key of this trigger (e.g. the comment id or the webhook delivery id).
    pub key: String,
    /// The task as it is now (its comments should include this one).
    pub task: TaskContext,
    /// The new comment.
    pub comment: TaskComment,
    /// The agent whose handle is looked for.
    pub agent: AgentSpecId,
    /// The agent's handle (`@handle`).
    pub handle: Handle,
    /// Who wrote the comment.
    pub by: Option<UserId>,
}

/// What a trigger did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TriggerOutcome {
    /// A new card was created (queued or starting).
    Started {
        /// The new card.
        card: SessionCardId,
    },
    /// The message went to the task's live session.
    FollowUp {
        /// The live card.
        card: SessionCardId,
    },
    /// The trigger key was seen before: nothing new happened.
    Duplicate {
        /// The card it created or continued, when known.
        card: Option<SessionCardId>,
    },
    /// The task was assigned to an agent that already works on it: nothing new happened.
    AlreadyLive {
        /// The live card.
        card: SessionCardId,
    },
    /// The comment does not mention the agent.
    NotMentioned,
}

/// An answer to a tool call awaiting approval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Approval {
    /// Run the tool.
    Allow,
    /// Do not run it; the message (if any) is given to the agent.
    Deny(Option<String>),
}

/// What [`Launcher::resume`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResumeReport {
    /// Live cards now driven (or queued) by this process.
    pub resumed: usize,
    /// Index entries removed because their card had ended or never came to exist.
    pub cleaned: usize,
}

/// Starts and runs sessions for session cards; see the [module docs](self). Cheap to clone.
#[derive(Clone)]
pub struct Launcher {
    inner: Arc<Inner>,
}

impl fmt::Debug for Launcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Launcher")
            .field("config", &self.inner.config)
            .field("holder", &self.inner.holder)
            .finish_non_exhaustive()
    }
}

struct Inner {
    store: Arc<dyn Store>,
    sink: Arc<dyn EventSink>,
    clients: Arc<dyn ClientProvider>,
    host: Arc<dyn TaskHost>,
    config: LauncherConfig,
    holder: String,
    sched: StdMutex<Sched>,
}

#[derive(Default)]
struct Sched {
    /// Per agent (`{workspace}/{agent}`): cards holding a slot, and cards waiting for one.
    agents: HashMap<String, Slots>,
    /// Drive tasks of this process, by card key.
    live: HashMap<String, LiveTask>,
    shut_down: bool,
}

#[derive(Default)]
struct Slots {
    busy: HashSet<String>,
    queue: VecDeque<RecordKey>,
}

struct LiveTask {
    stop: Arc<Notify>,
    handle: tokio::task::JoinHandle<()>,
}

fn lock(m: &StdMutex<Sched>) -> MutexGuard<'_, Sched> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now() -> Timestamp {
    Utc::now()
}

fn agent_slot_key(ws: &WorkspaceId, agent: &AgentSpecId) -> String {
    RecordKey::of(ws, agent).as_str().to_owned()
}

/// The card id a trigger creates: derived from the workspace, agent and trigger key, so a
/// redelivered trigger names the same card.
pub fn card_id_for(
    workspace: &WorkspaceId,
    agent: &AgentSpecId,
    trigger_key: &str,
) -> SessionCardId {
    let mut h = Sha256::new();
    for part in [workspace.as_str(), agent.as_str(), trigger_key] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    let hex: String = digest[..13].iter().map(|b| format!("{b:02x}")).collect();
    SessionCardId::from(format!("card_{hex}"))
}

/// How long a live-index entry whose card does not exist yet is given for its creator to
/// write the card (the entry is written first) before it is judged stale.
const CARD_WRITE_GRACE: Duration = Duration::from_secs(2);

/// The outcome of an assignment meeting the live card `live`: a repeat of the trigger that
/// created or continued it (a redelivery racing the first delivery) is a duplicate.
fn already_live(live: SessionRun, key: &str) -> TriggerOutcome {
    if live.launch.triggers.iter().any(|k| k == key) {
        TriggerOutcome::Duplicate {
            card: Some(live.card.id),
        }
    } else {
        TriggerOutcome::AlreadyLive { card: live.card.id }
    }
}

/// Whether a card in `state` holds one of its agent's concurrency slots.
fn holds_slot(state: SessionState) -> bool {
    matches!(
        state,
        SessionState::Starting | SessionState::Running | SessionState::AwaitingInput
    )
}

impl Launcher {
    /// A launcher over these stores, the host's sink and hook, and API clients per provider key.
    /// Call [`resume`](Self::resume) once at start-up.
    pub fn new(
        store: Arc<dyn Store>,
        sink: Arc<dyn EventSink>,
        clients: Arc<dyn ClientProvider>,
        host: Arc<dyn TaskHost>,
        config: LauncherConfig,
    ) -> Self {
        let holder = format!("launcher-{:016x}", rand::random::<u64>());
        Self {
            inner: Arc::new(Inner {
                store,
                sink,
                clients,
                host,
                config,
                holder,
                sched: StdMutex::new(Sched::default()),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &LauncherConfig {
        &self.inner.config
    }

    /// The card `card` of `workspace`, as stored now.
    pub async fn card(
        &self,
        workspace: &WorkspaceId,
        card: &SessionCardId,
    ) -> Result<Option<SessionCard>> {
        Ok(self
            .inner
            .store
            .load::<SessionRun>(&RecordKey::of(workspace, card))
            .await?
            .map(|(run, _)| run.card))
    }

    /// A task was assigned to an agent: creates a card and starts (or queues) its session,
    /// unless the trigger is a repeat or the agent already works on the task.
    ///
    /// # Errors
    /// Validation, unknown agent, an unreconciled managed agent, a missing provider key, a
    /// message over budget, or a store failure — in every case no card was created.
    pub async fn on_assigned(&self, trigger: AssignTrigger) -> Result<TriggerOutcome> {
        let AssignTrigger {
            key,
            task,
            agent,
            by,
        } = trigger;
        self.launch_or_follow(key, task, agent, Trigger::Assignment { by }, None)
            .await
    }

    /// A comment was written: when it mentions the agent, starts a session (or, when the task
    /// has a live session of this agent, sends the comment to it as a follow-up).
    ///
    /// # Errors
    /// As [`on_assigned`](Self::on_assigned), plus API errors of a follow-up send.
    pub async fn on_comment(&self, trigger: CommentTrigger) -> Result<TriggerOutcome> {
        let CommentTrigger {
            key,
            mut task,
            comment,
            agent,
            handle,
            by,
        } = trigger;
        if !mentions(&comment.body, &handle) {
            return Ok(TriggerOutcome::NotMentioned);
        }
        if !task.comments.iter().any(|c| c.id == comment.id) {
            task.comments.push(comment.clone());
        }
        let trig = Trigger::Mention {
            comment: comment.id.clone(),
            by,
        };
        self.launch_or_follow(key, task, agent, trig, Some(comment))
            .await
    }

    async fn launch_or_follow(
        &self,
        key: String,
        task: TaskContext,
        agent: AgentSpecId,
        trigger: Trigger,
        comment: Option<TaskComment>,
    ) -> Result<TriggerOutcome> {
        task.validate()?;
        let inner = &self.inner;
        let ws = task.workspace.clone();
        let card_id = card_id_for(&ws, &agent, &key);
        let card_key = RecordKey::of(&ws, &card_id);
        let ledger_key = format!("{}/{}", RecordKey::of(&ws, &agent).as_str(), key);
        let first = inner
            .store
            .record_trigger(&ledger_key, inner.config.trigger_ttl, now())
            .await?;
        if !first && inner.store.load::<SessionRun>(&card_key).await?.is_some() {
            // A repeat of the trigger that created this card.
            return Ok(TriggerOutcome::Duplicate {
                card: Some(card_id),
            });
        }
        let live = self.live_card(&ws, &task, &agent).await?;
        if !first
            && let Some(live) = &live
            && live.launch.triggers.contains(&key)
        {
            // A repeat of a follow-up: send what still waits (its first send may have failed).
            self.send_waiting(live).await?;
            return Ok(TriggerOutcome::Duplicate {
                card: Some(live.card.id.clone()),
            });
        }
        // Otherwise a first delivery — or a repeat whose first delivery crashed between the
        // ledger write and the card write, which goes on as if it were the first.

        // A live card of this agent on this task takes the comment as a follow-up.
        if let Some(live) = live {
            return match comment {
                Some(comment) => {
                    let text = follow_up(&comment, &inner.config.prompt)?;
                    self.follow_up(live, key, text).await
                }
                None => Ok(already_live(live, &key)),
            };
        }

        let (spec, resolved, handoff) = self.spec_and_context(&ws, &agent, &task).await?;
        let mut prompt = inner.config.prompt.clone();
        if let (AgentKind::Managed(m), Some(base_url)) =
            (&spec.kind, &inner.config.host_api.base_url)
            && m.tool_mode.allow_direct_api_access
        {
            prompt.api_access = Some(super::prompt::ApiAccess {
                base_url: base_url.clone(),
                env_var: inner.config.host_api.env_var.clone(),
            });
        }
        let message = first_message(
            &FirstMessage {
                task: &task,
                resolved: &resolved,
                trigger: &trigger,
            },
            &prompt,
        )?;
        let at = now();
        let card = SessionCard::new(
            card_id.clone(),
            ws.clone(),
            task.task.clone(),
            agent.clone(),
            trigger,
            at,
        );
        let run = SessionRun {
            card,
            launch: {
                let mut l = LaunchState::new(task.project.clone(), spec.provider_key.clone());
                l.outbox.push(Outgoing {
                    key: key.clone(),
                    text: message,
                    sending_at: None,
                });
                l.triggers.push(key.clone());
                l
            },
        };
        let index = LiveIndex {
            workspace: ws.clone(),
            task: task.task.clone(),
            agent: agent.clone(),
            card: card_id.clone(),
        };
        match inner.store.save(&index, Expected::Absent).await {
            Ok(_) => {}
            Err(e) if e.is_conflict() => {
                // Another trigger won the race for this (task, agent): follow it.
                return match (self.live_card(&ws, &task, &agent).await?, comment) {
                    (Some(live), Some(comment)) => {
                        let text = follow_up(&comment, &inner.config.prompt)?;
                        self.follow_up(live, key, text).await
                    }
                    (Some(live), None) => Ok(already_live(live, &key)),
                    (None, _) => Err(e.into()),
                };
            }
            Err(e) => return Err(e.into()),
        }
        inner.store.save(&run, Expected::Absent).await?;
        inner.deliver_card(&run.card).await;
        self.admit(card_key, &run.card, Some(handoff));
        Ok(TriggerOutcome::Started { card: card_id })
    }

    /// The live card of (task, agent), cleaning a stale index entry.
    ///
    /// The entry is written before its card, so an entry whose card is missing may belong to a
    /// trigger still writing it: the card is waited for (up to [`CARD_WRITE_GRACE`]) before
    /// the entry is judged stale (its creator crashed).
    async fn live_card(
        &self,
        ws: &WorkspaceId,
        task: &TaskContext,
        agent: &AgentSpecId,
    ) -> Result<Option<SessionRun>> {
        let key = LiveIndex::key_of(ws, &task.task, agent);
        let deadline = tokio::time::Instant::now() + CARD_WRITE_GRACE;
        let mut pause = Duration::from_millis(5);
        loop {
            let Some((index, rev)) = self.inner.store.load::<LiveIndex>(&key).await? else {
                return Ok(None);
            };
            let run = self
                .inner
                .store
                .load::<SessionRun>(&RecordKey::of(ws, &index.card))
                .await?;
            match run {
                Some((run, _)) if !run.card.state.is_terminal() => return Ok(Some(run)),
                None if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                _ => {
                    // The card ended (or was never written): the entry is stale.
                    self.inner.drop_live_index(key.as_str(), rev).await?;
                    return Ok(None);
                }
            }
        }
    }

    async fn spec_and_context(
        &self,
        ws: &WorkspaceId,
        agent: &AgentSpecId,
        task: &TaskContext,
    ) -> Result<(AgentSpec, crate::domain::Resolved, Handoff)> {
        let store = &self.inner.store;
        let spec_key = RecordKey::of(ws, agent);
        let over_key = RecordKey::new(ws).with(&task.project).with(agent);
        let status_key = ReconcileStatus::key_of(ws, agent);
        let (spec, over, status) = tokio::join!(
            store.load::<AgentSpec>(&spec_key),
            store.load::<ProjectOverride>(&over_key),
            store.load::<ReconcileStatus>(&status_key),
        );
        let Some((spec, _)) = spec? else {
            return Err(LauncherError::UnknownAgent {
                workspace: ws.clone(),
                agent: agent.clone(),
            });
        };
        check_agent_key(store.as_ref(), &spec).await?;
        let status = status?.map(|(s, _)| s);
        if let AgentKind::Managed(_) = &spec.kind {
            let ready = status
                .as_ref()
                .is_some_and(|s| s.agent.is_some() && s.environment.is_some());
            if !ready {
                return Err(LauncherError::NotReconciled {
                    workspace: ws.clone(),
                    agent: agent.clone(),
                });
            }
        }
        let over = over?.map(|(o, _)| o);
        let resolved = resolve(&spec.defaults(), &task.project, over.as_ref())?;
        let handoff = Handoff {
            spec: spec.clone(),
            status,
            over,
        };
        Ok((spec, resolved, handoff))
    }

    /// Queues a follow-up message on a live card and sends it when its session runs.
    async fn follow_up(
        &self,
        live: SessionRun,
        key: String,
        text: String,
    ) -> Result<TriggerOutcome> {
        let inner = &self.inner;
        let card_key = live.key();
        let card = live.card.id.clone();
        let mut duplicate = false;
        let updated = inner
            .update(&card_key, |run| {
                if run.launch.triggers.contains(&key) {
                    duplicate = true;
                    return false;
                }
                if run.card.state.is_terminal() {
                    return false;
                }
                run.launch.triggers.push(key.clone());
                if run.launch.triggers.len() > 64 {
                    run.launch.triggers.remove(0);
                }
                run.launch.outbox.push(Outgoing {
                    key: key.clone(),
                    text: text.clone(),
                    sending_at: None,
                });
                true
            })
            .await?;
        if duplicate {
            if let Some(run) = &updated {
                self.send_waiting(run).await?;
            }
            return Ok(TriggerOutcome::Duplicate { card: Some(card) });
        }
        let Some(run) = updated else {
            return Err(LauncherError::UnknownCard {
                workspace: live.card.workspace,
                card,
            });
        };
        if run.card.state.is_terminal() {
            return Err(LauncherError::NotLive {
                card,
                state: run.card.state,
            });
        }
        if run.launch.stage == Stage::Running {
            inner.flush_outbox(&card_key, None).await?;
        }
        Ok(TriggerOutcome::FollowUp { card })
    }

    /// Sends the messages of a running card that wait unsent — left by a send that failed, so
    /// a redelivered trigger retries it.
    async fn send_waiting(&self, run: &SessionRun) -> Result<()> {
        if run.launch.stage == Stage::Running
            && run.launch.outbox.iter().any(|o| o.sending_at.is_none())
        {
            self.inner.flush_outbox(&run.key(), None).await?;
        }
        Ok(())
    }

    /// Answers a tool call awaiting approval (the `request` of an
    /// [`ApprovalNeeded`](ActivityKind::ApprovalNeeded) activity).
    ///
    /// # Errors
    /// Unknown card, a card without a live session, or the API refusing the answer (e.g. the
    /// tool call is not awaiting approval).
    pub async fn approve(
        &self,
        workspace: &WorkspaceId,
        card: &SessionCardId,
        tool_use_id: &str,
        approval: Approval,
    ) -> Result<()> {
        let (_, client, session) = self.inner.live_session(workspace, card).await?;
        let event = match approval {
            Approval::Allow => {
                EventParam::tool_confirmation(tool_use_id, ToolConfirmationResult::Allow, None)
            }
            Approval::Deny(message) => {
                EventParam::tool_confirmation(tool_use_id, ToolConfirmationResult::Deny, message)
            }
        };
        client
            .sessions()
            .events(&session)
            .send(vec![event])
            .await
            .map_err(api_err("send tool confirmation"))?;
        Ok(())
    }

    /// Stops a card: interrupts its session (`user.interrupt`), ends the card as `stopped`
    /// with an activity, archives the run vault and frees the agent's slot. Stopping an ended
    /// card returns it unchanged.
    ///
    /// # Errors
    /// Unknown card; the API refusing the interrupt (the card is then left as it was).
    pub async fn stop(
        &self,
        workspace: &WorkspaceId,
        card: &SessionCardId,
        by: Option<&str>,
    ) -> Result<SessionCard> {
        self.end_card(workspace, card, Ending::Stop { by }).await
    }

    /// Marks an idle card `completed` (the host closed the task, or accepted the result):
    /// archives its remote session and run vault and frees the task for a new session. An
    /// ended card is returned unchanged.
    ///
    /// # Errors
    /// Unknown card; [`LauncherError::Working`] while the session works or awaits input;
    /// the API refusing the archive (the card then stays idle and followed).
    pub async fn complete(
        &self,
        workspace: &WorkspaceId,
        card: &SessionCardId,
    ) -> Result<SessionCard> {
        self.end_card(workspace, card, Ending::Complete).await
    }

    /// What [`stop`](Self::stop) and [`complete`](Self::complete) share: load the card
    /// (returned unchanged once ended), tell the API, let the live drive go, record the end.
    async fn end_card(
        &self,
        workspace: &WorkspaceId,
        card: &SessionCardId,
        ending: Ending<'_>,
    ) -> Result<SessionCard> {
        let inner = &self.inner;
        let key = RecordKey::of(workspace, card);
        let unknown = || LauncherError::UnknownCard {
            workspace: workspace.clone(),
            card: card.clone(),
        };
        let Some((run, _)) = inner.store.load::<SessionRun>(&key).await? else {
            return Err(unknown());
        };
        if run.card.state.is_terminal() {
            return Ok(run.card);
        }
        if matches!(ending, Ending::Complete) && run.card.state != SessionState::Idle {
            return Err(LauncherError::Working {
                card: card.clone(),
                state: run.card.state,
            });
        }
        let client = match &run.card.remote_session {
            Some(_) => Some(inner.client(&run).await?),
            None => None,
        };
        // Completing: let the live drive go first. Archiving terminates the session, and a
        // drive still pumping would end the card `stopped` on that event before this call
        // records `completed`. (A stop lets it go after the interrupt: an interrupted session
        // only goes idle.)
        let let_go = match ending {
            Ending::Complete => lock(&inner.sched).live.remove(key.as_str()),
            Ending::Stop { .. } => None,
        };
        if let Some(task) = &let_go {
            task.stop.notify_one();
        }
        if let (Some(session), Some(client)) = (&run.card.remote_session, client) {
            let session = SessionId::from(session.as_str());
            // A session that no longer exists or already ended cannot be interrupted or
            // archived; the card ends all the same.
            let (step, result, gone): (_, api::Result<()>, &[u16]) = match ending {
                Ending::Stop { .. } => (
                    "send interrupt",
                    client
                        .sessions()
                        .events(&session)
                        .send(vec![EventParam::interrupt()])
                        .await
                        .map(drop),
                    &[404, 400, 409],
                ),
                Ending::Complete => (
                    "archive session",
                    client.sessions().archive(&session).await.map(drop),
                    &[404, 409],
                ),
            };
            if let Err(e) = result
                && !e.status().is_some_and(|s| gone.contains(&s))
            {
                if let Some(task) = let_go {
                    // The card stays live: drive it again. The old drive is aborted if it has
                    // not ended yet, so the two never share the lease.
                    task.handle.abort();
                    self.admit(key, &run.card, None);
                }
                return Err(LauncherError::Api { step, source: e });
            }
        }
        if let Some(task) = lock(&inner.sched).live.remove(key.as_str()) {
            task.stop.notify_one();
        }
        let (state, reason, text) = match ending {
            Ending::Stop { by } => {
                let who = by.map(|b| format!(" by {b}")).unwrap_or_default();
                (SessionState::Stopped, "stopped", format!("Stopped{who}."))
            }
            Ending::Complete => (
                SessionState::Completed,
                "completed",
                "Completed.".to_owned(),
            ),
        };
        inner
            .finish(
                &key,
                state,
                reason,
                text,
                ActivityKind::StatusChange { to: state },
            )
            .await?
            .ok_or_else(unknown)
    }

    /// Resumes every live card at start-up: queued cards are admitted under the concurrency
    /// limit, cards on their start path continue it, running cards reopen their stream from
    /// their stored log. Call once per process start (a second call is harmless).
    ///
    /// # Errors
    /// A store failure listing or reading the live cards.
    pub async fn resume(&self) -> Result<ResumeReport> {
        let inner = &self.inner;
        let entries = inner.store.list(super::run::LIVE_CARDS, "").await?;
        let mut report = ResumeReport::default();
        let mut missing = Vec::new();
        for (key, found) in entries {
            let index: LiveIndex = match serde_json::from_value(found.value) {
                Ok(i) => i,
                Err(e) => {
                    tracing::warn!(key, error = %e, "skipping an undecodable live-card entry");
                    continue;
                }
            };
            let card_key = RecordKey::of(&index.workspace, &index.card);
            let run = inner.store.load::<SessionRun>(&card_key).await?;
            match run {
                Some((run, _)) if !run.card.state.is_terminal() => {
                    self.admit(card_key, &run.card, None);
                    report.resumed += 1;
                }
                Some((run, _)) => {
                    // Ended, but the clean-up did not finish.
                    let _ = inner.cleanup(&run).await;
                    report.cleaned += 1;
                }
                None => missing.push((key, found.revision, card_key)),
            }
        }
        // An entry without its card may belong to a trigger (here or in another process)
        // still writing the card: give it the grace period once, then drop what is still
        // missing (its creator crashed before writing the card).
        if !missing.is_empty() {
            tokio::time::sleep(CARD_WRITE_GRACE).await;
            for (key, revision, card_key) in missing {
                if let Some((run, _)) = inner.store.load::<SessionRun>(&card_key).await? {
                    if !run.card.state.is_terminal() {
                        self.admit(card_key, &run.card, None);
                        report.resumed += 1;
                    }
                    continue;
                }
                let _ = inner.drop_live_index(&key, revision).await;
                report.cleaned += 1;
            }
        }
        Ok(report)
    }

    /// Stops driving every card in this process without touching their state — what a crash
    /// or a shutdown does. A later [`resume`](Self::resume) (here or in another process)
    /// continues them. Triggers after this call still create cards but start nothing.
    pub fn shutdown(&self) {
        let mut sched = lock(&self.inner.sched);
        sched.shut_down = true;
        for (_, task) in sched.live.drain() {
            task.handle.abort();
        }
        sched.agents.clear();
    }

    /// Whether this process currently drives `card` (its start path or its pump).
    pub fn is_driving(&self, workspace: &WorkspaceId, card: &SessionCardId) -> bool {
        let key = RecordKey::of(workspace, card);
        lock(&self.inner.sched)
            .live
            .get(key.as_str())
            .is_some_and(|t| !t.handle.is_finished())
    }

    /// Starts driving `key` now if its agent has a free slot (or the card already holds one),
    /// else queues it.
    fn admit(&self, key: RecordKey, card: &SessionCard, handoff: Option<Handoff>) {
        let slot = agent_slot_key(&card.workspace, &card.agent);
        let needs_slot = matches!(card.state, SessionState::Queued) || holds_slot(card.state);
        let mut sched = lock(&self.inner.sched);
        if sched.shut_down || sched.live.contains_key(key.as_str()) {
            return;
        }
        let limit = self.inner.config.max_concurrent_per_agent.max(1);
        let slots = sched.agents.entry(slot).or_default();
        if needs_slot {
            if slots.busy.len() >= limit && !slots.busy.contains(key.as_str()) {
                if !slots.queue.contains(&key) {
                    slots.queue.push_back(key);
                }
                return;
            }
            slots.busy.insert(key.as_str().to_owned());
        }
        spawn_drive(&self.inner, &mut sched, key, handoff);
    }
}

fn spawn_drive(inner: &Arc<Inner>, sched: &mut Sched, key: RecordKey, handoff: Option<Handoff>) {
    let stop = Arc::new(Notify::new());
    let task_inner = inner.clone();
    let task_key = key.clone();
    let task_stop = stop.clone();
    let own_stop = stop.clone();
    let handle = tokio::spawn(async move {
        let inner = task_inner;
        let result = inner
            .clone()
            .drive(task_key.clone(), task_stop, handoff)
            .await;
        if let Err(e) = result {
            tracing::warn!(card = task_key.as_str(), error = %e, "session drive ended with an error");
        }
        // Only this drive's own entry: a drive started after this one was told to stop
        // (e.g. re-admitted by a failed `complete`) keeps its entry.
        let mut sched = lock(&inner.sched);
        if sched
            .live
            .get(task_key.as_str())
            .is_some_and(|t| Arc::ptr_eq(&t.stop, &own_stop))
        {
            sched.live.remove(task_key.as_str());
        }
    });
    sched
        .live
        .insert(key.as_str().to_owned(), LiveTask { stop, handle });
}

/// A session's event-derived state while it is pumped.
struct Pump {
    mapper: ActivityMapper,
    /// Custom tool uses seen without a result: id → (name, input).
    open_tools: Vec<(String, String, serde_json::Map<String, Value>)>,
    /// Custom tool uses answered by this process (their echo may not be stored yet).
    answered: HashSet<String>,
    usage: crate::domain::Usage,
    /// The last activity or state seen says the session ended.
    ended: Option<SessionState>,
    /// States the events asked for since the card was last written, in order.
    states: Vec<SessionState>,
}

impl Pump {
    fn new(card: &SessionCard, session: &str) -> Self {
        Self {
            mapper: ActivityMapper::new(card.id.clone(), session, card.created_at),
            open_tools: Vec::new(),
            answered: HashSet::new(),
            usage: crate::domain::Usage::default(),
            ended: None,
            states: Vec::new(),
        }
    }

    /// Feeds one stored event; returns its activities.
    fn push(&mut self, event: &SessionEvent) -> Vec<Activity> {
        match event {
            SessionEvent::AgentCustomToolUse(t) => {
                self.open_tools
                    .push((t.id.as_str().to_owned(), t.name.clone(), t.input.clone()));
            }
            SessionEvent::UserCustomToolResult(r) => {
                let id = r.custom_tool_use_id.as_str();
                self.open_tools.retain(|(t, _, _)| t != id);
            }
            SessionEvent::SpanModelRequestEnd(s) => {
                let u = &s.model_usage;
                self.usage.input_tokens += u.input_tokens;
                self.usage.output_tokens += u.output_tokens;
                self.usage.cache_read_input_tokens += u.cache_read_input_tokens;
                self.usage.cache_creation_input_tokens += u.cache_creation_input_tokens;
            }
            _ => {}
        }
        let activities = self.mapper.push(event);
        for a in &activities {
            if let ActivityKind::StatusChange { to } = a.kind {
                self.states.push(to);
                if to.is_terminal() {
                    self.ended = Some(to);
                }
            }
        }
        activities
    }
}

impl Inner {
    async fn client(&self, run: &SessionRun) -> Result<Client> {
        self.clients
            .client(&run.card.workspace, &run.launch.provider_key)
            .await
            .map_err(|e| LauncherError::Client(Box::new(e)))
    }

    async fn live_session(
        &self,
        workspace: &WorkspaceId,
        card: &SessionCardId,
    ) -> Result<(SessionRun, Client, SessionId)> {
        let key = RecordKey::of(workspace, card);
        let Some((run, _)) = self.store.load::<SessionRun>(&key).await? else {
            return Err(LauncherError::UnknownCard {
                workspace: workspace.clone(),
                card: card.clone(),
            });
        };
        let Some(session) = run.card.remote_session.clone() else {
            return Err(LauncherError::NotLive {
                card: card.clone(),
                state: run.card.state,
            });
        };
        if run.card.state.is_terminal() {
            return Err(LauncherError::NotLive {
                card: card.clone(),
                state: run.card.state,
            });
        }
        let client = self.client(&run).await?;
        Ok((run, client, SessionId::from(session)))
    }

    /// Removes the live-index entry `key` at `revision`; an entry already removed or rewritten
    /// meanwhile (a new live card) is left alone.
    async fn drop_live_index(&self, key: &str, revision: Revision) -> Result<()> {
        match self
            .store
            .delete(super::run::LIVE_CARDS, key, Expected::Revision(revision))
            .await
        {
            Ok(()) => Ok(()),
            Err(
                StoreError::Conflict { .. }
                | StoreError::NotFound { .. }
                | StoreError::AlreadyExists { .. },
            ) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Loads, changes and writes a run with compare-and-swap, retrying on conflicts. `change`
    /// returns whether it changed anything (nothing is written otherwise). `None`: no such
    /// card.
    async fn update(
        &self,
        key: &RecordKey,
        mut change: impl FnMut(&mut SessionRun) -> bool,
    ) -> Result<Option<SessionRun>> {
        loop {
            let Some((mut run, rev)) = self.store.load::<SessionRun>(key).await? else {
                return Ok(None);
            };
            if !change(&mut run) {
                return Ok(Some(run));
            }
            match self.store.save(&run, Expected::Revision(rev)).await {
                Ok(_) => return Ok(Some(run)),
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Delivers until the sink accepts (a sink error means "retry later"). `make` builds the
    /// delivery for each attempt, so the first (usual) attempt copies nothing.
    async fn deliver(&self, make: impl Fn() -> SinkDelivery) {
        let mut delay = self.config.retry_delay;
        loop {
            match self.sink.deliver(make()).await {
                Ok(()) => return,
                Err(e) => {
                    let key = make().key;
                    tracing::warn!(key, error = %e, "sink refused a delivery; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    async fn deliver_card(&self, card: &SessionCard) {
        self.deliver(|| SinkDelivery {
            key: format!("card:{}:{}", card.id, card.revision),
            kind: DeliveryKind::CardChanged,
            session: card.id.as_str().to_owned(),
            payload: serde_json::to_value(card).unwrap_or(Value::Null),
        })
        .await;
    }

    async fn deliver_activity(&self, activity: &Activity) {
        self.deliver(|| SinkDelivery {
            key: format!("activity:{}:{}", activity.card, activity.key),
            kind: DeliveryKind::Activity,
            session: activity.card.as_str().to_owned(),
            payload: serde_json::to_value(activity).unwrap_or(Value::Null),
        })
        .await;
    }

    /// Ends a card in `state` with an activity (keyed `{card}:launcher:{what}`), then cleans
    /// up. Returns the card as it ended (unchanged when it had already ended).
    async fn finish(
        self: &Arc<Self>,
        key: &RecordKey,
        state: SessionState,
        what: &str,
        text: String,
        kind: ActivityKind,
    ) -> Result<Option<SessionCard>> {
        let at = now();
        let mut changed = false;
        let run = self
            .update(key, |run| {
                changed = run.card.transition(state, at).unwrap_or(false);
                changed
            })
            .await?;
        let Some(run) = run else { return Ok(None) };
        if changed {
            self.deliver_activity(&Activity {
                card: run.card.id.clone(),
                key: format!("{}:launcher:{what}", run.card.id).into(),
                kind,
                text,
                at,
            })
            .await;
            self.deliver_card(&run.card).await;
        }
        self.cleanup(&run).await?;
        Ok(Some(run.card))
    }

    /// After a card ended: archives the run vault, removes the live-index entry, frees the
    /// slot (starting the next queued card of the agent).
    async fn cleanup(self: &Arc<Self>, run: &SessionRun) -> Result<()> {
        let key = run.key();
        if let (Some(vault), false) = (&run.launch.run_vault, run.launch.run_vault_archived) {
            let client = self.client(run).await?;
            match client
                .vaults()
                .archive(&VaultId::from(vault.as_str()))
                .await
            {
                Ok(_) => {}
                Err(e) if matches!(e.status(), Some(404 | 409 | 400)) => {}
                Err(e) => {
                    return Err(LauncherError::Api {
                        step: "archive run vault",
                        source: e,
                    });
                }
            }
            self.update(&key, |r| {
                let was = r.launch.run_vault_archived;
                r.launch.run_vault_archived = true;
                !was
            })
            .await?;
        }
        let index_key = LiveIndex::key_of(&run.card.workspace, &run.card.task, &run.card.agent);
        if let Some((index, rev)) = self.store.load::<LiveIndex>(&index_key).await?
            && index.card == run.card.id
        {
            self.drop_live_index(index_key.as_str(), rev).await?;
        }
        self.release_slot(&run.card, key.as_str());
        Ok(())
    }

    /// Frees the card's slot and starts the next queued card of its agent, if any.
    fn release_slot(self: &Arc<Self>, card: &SessionCard, key: &str) {
        let slot = agent_slot_key(&card.workspace, &card.agent);
        let limit = self.config.max_concurrent_per_agent.max(1);
        let mut sched = lock(&self.sched);
        if sched.shut_down {
            return;
        }
        let mut next = Vec::new();
        if let Some(slots) = sched.agents.get_mut(&slot) {
            slots.busy.remove(key);
            slots.queue.retain(|k| k.as_str() != key);
            while slots.busy.len() < limit {
                let Some(k) = slots.queue.pop_front() else {
                    break;
                };
                slots.busy.insert(k.as_str().to_owned());
                next.push(k);
            }
        }
        for k in next {
            if !sched.live.contains_key(k.as_str()) {
                spawn_drive(self, &mut sched, k, None);
            }
        }
    }

    /// Takes a slot again for a card that went back to work (a follow-up on an idle card).
    fn take_slot(&self, card: &SessionCard, key: &str) {
        let slot = agent_slot_key(&card.workspace, &card.agent);
        lock(&self.sched)
            .agents
            .entry(slot)
            .or_default()
            .busy
            .insert(key.to_owned());
    }

    /// Sends the outbox: marks its messages as being sent, sends them in one request, then
    /// removes them. With `client` `None` the card's client is made here. Messages queued while
    /// a batch is sent (a follow-up that came before the stage said `Running` leaves its
    /// message to this flush) are sent next. When a send's outcome is lost, the session's
    /// history says which messages arrived ([`settle_outbox`](Self::settle_outbox)) and the
    /// others are sent once more; a send that definitely failed unmarks its messages, so the
    /// next flush (a redelivered trigger, a follow-up) sends them.
    async fn flush_outbox(&self, key: &RecordKey, client: Option<&Client>) -> Result<()> {
        let mut owned = None;
        let mut settle_lost = true;
        loop {
            let at = now();
            let mut batch: Vec<Outgoing> = Vec::new();
            let run = self
                .update(key, |run| {
                    batch.clear();
                    if run.card.state.is_terminal() {
                        return false;
                    }
                    for o in run.launch.outbox.iter_mut() {
                        if o.sending_at.is_none() {
                            o.sending_at = Some(at);
                            batch.push(o.clone());
                        }
                    }
                    !batch.is_empty()
                })
                .await?;
            let Some(run) = run else { return Ok(()) };
            if batch.is_empty() {
                return Ok(());
            }
            let Some(session) = run.card.remote_session.clone() else {
                return Ok(());
            };
            let session = SessionId::from(session);
            let client = match (client, &owned) {
                (Some(c), _) | (None, Some(c)) => c,
                (None, None) => owned.insert(self.client(&run).await?),
            };
            let events = batch
                .iter()
                .map(|o| EventParam::user_message(o.text.clone()))
                .collect();
            let sent: HashSet<&str> = batch.iter().map(|o| o.key.as_str()).collect();
            match client.sessions().events(&session).send(events).await {
                Ok(_) => {}
                Err(api::Error::OutcomeUnknown { .. }) if settle_lost => {
                    // The messages may have arrived: keep those the history has, send the rest.
                    settle_lost = false;
                    self.settle_outbox(key, client, &session).await?;
                    continue;
                }
                Err(e @ api::Error::OutcomeUnknown { .. }) => {
                    return Err(api_err("send messages")(e));
                }
                Err(e) => {
                    let _ = self
                        .update(key, |run| {
                            let mut changed = false;
                            for o in run.launch.outbox.iter_mut() {
                                if sent.contains(o.key.as_str()) && o.sending_at == Some(at) {
                                    o.sending_at = None;
                                    changed = true;
                                }
                            }
                            changed
                        })
                        .await;
                    return Err(api_err("send messages")(e));
                }
            }
            let run = self
                .update(key, |run| {
                    let before = run.launch.outbox.len();
                    run.launch.outbox.retain(|o| !sent.contains(o.key.as_str()));
                    let mut changed = run.launch.outbox.len() != before;
                    if run.launch.stage == Stage::SessionCreated {
                        run.launch.stage = Stage::Running;
                        changed = true;
                    }
                    changed
                })
                .await?;
            let more = run.is_some_and(|r| {
                r.launch.stage == Stage::Running
                    && r.launch.outbox.iter().any(|o| o.sending_at.is_none())
            });
            if !more {
                return Ok(());
            }
        }
    }

    /// Messages whose send outcome was lost (a crash mid-send, or a response cut after the
    /// request was sent): drops those the session's history already has, so the rest are sent
    /// again.
    async fn settle_outbox(
        &self,
        key: &RecordKey,
        client: &Client,
        session: &SessionId,
    ) -> Result<()> {
        let Some((run, _)) = self.store.load::<SessionRun>(key).await? else {
            return Ok(());
        };
        if run.launch.outbox.iter().all(|o| o.sending_at.is_none()) {
            return Ok(());
        }
        let params = ListEvents {
            types: vec!["user.message".to_owned()],
            ..ListEvents::default()
        };
        let mut stream = client.sessions().events(session).list(&params);
        let mut present: HashSet<String> = HashSet::new();
        while let Some(event) = stream.next().await {
            if let SessionEvent::UserMessage(m) = event.map_err(api_err("list events"))? {
                let text: String = m
                    .content
                    .iter()
                    .filter_map(|b| match b {
                        crate::api::types::events::ContentBlock::Text(t) => Some(t.text.as_str()),
                        _ => None,
                    })
                    .collect();
                present.insert(text);
            }
        }
        self.update(key, |run| {
            let before = run.launch.outbox.clone();
            run.launch
                .outbox
                .retain(|o| o.sending_at.is_none() || !present.contains(&o.text));
            for o in run.launch.outbox.iter_mut() {
                o.sending_at = None;
            }
            if run.launch.outbox.len() < before.len() && run.launch.stage == Stage::SessionCreated {
                run.launch.stage = Stage::Running;
            }
            run.launch.outbox != before
        })
        .await?;
        Ok(())
    }

    /// Drives one card: its start path, then its pump, under the card's lease.
    async fn drive(
        self: Arc<Self>,
        key: RecordKey,
        stop: Arc<Notify>,
        handoff: Option<Handoff>,
    ) -> Result<()> {
        let mut handoff = handoff;
        let lease_name = format!("launch:{}", key.as_str());
        let mut lease = loop {
            if let Some(lease) = self
                .store
                .acquire_lease(&lease_name, &self.holder, self.config.lease_ttl, now())
                .await?
            {
                break lease;
            }
            // Another holder: a process driving the card, or one that crashed (a restart
            // resumes before the dead process's lease lapses). Try again while the card still
            // needs driving: the lease is ours once it lapses.
            match self.store.load::<SessionRun>(&key).await? {
                Some((run, _)) if !run.card.state.is_terminal() => {}
                _ => return Ok(()),
            }
            tracing::debug!(
                card = key.as_str(),
                "another process holds this card; waiting"
            );
            // What the trigger loaded may be stale by the time the lease is ours.
            handoff = None;
            tokio::select! {
                _ = stop.notified() => return Ok(()),
                _ = tokio::time::sleep(self.config.lease_ttl / 3) => {}
            }
        };
        let result = self.drive_leased(&key, &stop, &mut lease, handoff).await;
        let _ = self.store.release_lease(&lease).await;
        match result {
            Ok(()) => Ok(()),
            Err(e) => {
                // A start that cannot proceed ends the card with the reason; nothing is left
                // "starting" forever.
                let text = format!("The session could not be started or continued: {e}");
                let _ = self
                    .finish(
                        &key,
                        SessionState::Failed,
                        "failed",
                        text,
                        ActivityKind::Error,
                    )
                    .await;
                Err(e)
            }
        }
    }

    async fn drive_leased(
        self: &Arc<Self>,
        key: &RecordKey,
        stop: &Arc<Notify>,
        lease: &mut Lease,
        handoff: Option<Handoff>,
    ) -> Result<()> {
        let Some((run, _)) = self.store.load::<SessionRun>(key).await? else {
            return Ok(());
        };
        if run.card.state.is_terminal() {
            return self.cleanup(&run).await;
        }
        let client = self.client(&run).await?;
        let run = self.start_path(key, run, &client, handoff).await?;
        if run.card.state.is_terminal() {
            // Stopped while starting: archive what the start path made after the stop's
            // clean-up, and never send the task.
            return self.cleanup(&run).await;
        }
        let Some(session) = run.card.remote_session.clone() else {
            return Ok(());
        };
        self.pump(key, run, &client, SessionId::from(session), stop, lease)
            .await
    }

    /// Runs the start path up to a created session (the first message is sent by the pump
    /// once the stream is open).
    async fn start_path(
        self: &Arc<Self>,
        key: &RecordKey,
        mut run: SessionRun,
        client: &Client,
        handoff: Option<Handoff>,
    ) -> Result<SessionRun> {
        let ws = run.card.workspace.clone();
        if run.launch.stage == Stage::Queued {
            let lost_create = run.launch.create_attempted_at.is_some();
            let at = now();
            let mut moved = false;
            let updated = self
                .update(key, |r| {
                    if r.card.state.is_terminal() {
                        return false;
                    }
                    moved = r
                        .card
                        .transition(SessionState::Starting, at)
                        .unwrap_or(false);
                    r.launch.create_attempted_at = Some(at);
                    true
                })
                .await?;
            let Some(updated) = updated else {
                return Ok(run);
            };
            run = updated;
            if run.card.state.is_terminal() {
                return Ok(run);
            }
            if moved {
                self.deliver_card(&run.card).await;
            }
            // The run vault and what the session needs (records, the host's tokens) at once.
            let (vault, prepared) = tokio::join!(
                run_vault(client, &run.card.id, &ws, lost_create),
                self.prepare(&run, handoff)
            );
            // Record the vault even when preparing failed, so the card's clean-up archives it.
            let vault = vault?;
            let at = now();
            run = self
                .update(key, |r| {
                    r.launch.run_vault = Some(vault.clone());
                    r.launch.stage = Stage::VaultCreated;
                    r.launch.create_attempted_at = Some(at);
                    true
                })
                .await?
                .unwrap_or(run);
            let prepared = prepared?;
            if run.card.state.is_terminal() {
                return Ok(run);
            }
            return Box::pin(self.create_session(key, run, client, false, prepared)).await;
        }
        if run.launch.stage == Stage::VaultCreated {
            let prepared = self.prepare(&run, handoff).await?;
            return Box::pin(self.create_session(key, run, client, true, prepared)).await;
        }
        Ok(run)
    }

    /// Loads what a session is made of and builds its create body (without the run vault),
    /// fetching the host's tokens (repositories, the session token when needed) concurrently.
    async fn prepare(&self, run: &SessionRun, handoff: Option<Handoff>) -> Result<Prepared> {
        let ws = &run.card.workspace;
        let agent = &run.card.agent;
        let Handoff { spec, status, over } = match handoff {
            Some(h) => h,
            None => {
                let spec_key = RecordKey::of(ws, agent);
                let status_key = ReconcileStatus::key_of(ws, agent);
                let over_key = RecordKey::new(ws).with(&run.launch.project).with(agent);
                let (spec, status, over) = tokio::join!(
                    self.store.load::<AgentSpec>(&spec_key),
                    self.store.load::<ReconcileStatus>(&status_key),
                    self.store.load::<ProjectOverride>(&over_key),
                );
                let Some((spec, _)) = spec? else {
                    return Err(LauncherError::UnknownAgent {
                        workspace: ws.clone(),
                        agent: agent.clone(),
                    });
                };
                Handoff {
                    spec,
                    status: status?.map(|(s, _)| s),
                    over: over?.map(|(o, _)| o),
                }
            }
        };
        let needs_token = match &spec.kind {
            AgentKind::Managed(m) => {
                m.tool_mode.bridge == crate::domain::TaskBridge::FullApi
                    || (m.tool_mode.allow_direct_api_access
                        && self.config.host_api.base_url.is_some())
            }
            _ => false,
        };
        let token = async {
            if !needs_token {
                return Ok(None);
            }
            match self.host.session_token(&run.card).await {
                Ok(Some(t)) => Ok(Some(t)),
                Ok(None) => Err(LauncherError::HostApi(
                    "the host gave no session token (TaskHost::session_token)".to_owned(),
                )),
                Err(e) => Err(LauncherError::HostApi(format!(
                    "the host gave no session token: {e}"
                ))),
            }
        };
        let (body, token) = tokio::join!(
            self.session_body(run, &spec, status.as_ref(), over.as_ref()),
            token
        );
        Ok(Prepared {
            body: body?,
            token: token?,
            spec,
        })
    }

    async fn create_session(
        self: &Arc<Self>,
        key: &RecordKey,
        run: SessionRun,
        client: &Client,
        maybe_lost: bool,
        prepared: Prepared,
    ) -> Result<SessionRun> {
        let Prepared {
            spec,
            mut body,
            token,
        } = prepared;
        if let Some(vault) = &run.launch.run_vault {
            body.vault_ids.insert(0, VaultId::from(vault.as_str()));
        }
        let mut adopted = None;
        if maybe_lost && let Some(since) = run.launch.create_attempted_at {
            adopted = find_session(client, &run.card.id, since).await?;
        }
        let (session_id, version) = match adopted {
            Some(found) => found,
            None => {
                if let Some(token) = &token {
                    self.run_credentials(&run, &spec, token, client, maybe_lost)
                        .await?;
                }
                let version = match &body.agent {
                    crate::api::types::sessions::SessionAgentParam::Ref(r) => r.version,
                    _ => None,
                };
                let since = run.launch.create_attempted_at.unwrap_or_else(now);
                create_or_adopt(
                    "create session",
                    || async {
                        let s = client.sessions().create(&body).await?;
                        Ok((s.id.as_str().to_owned(), version))
                    },
                    || find_session(client, &run.card.id, since),
                )
                .await?
            }
        };
        let updated = self
            .update(key, |r| {
                r.card.remote_session = Some(session_id.clone());
                r.launch.agent_version = version;
                r.launch.stage = Stage::SessionCreated;
                true
            })
            .await?;
        Ok(updated.unwrap_or(run))
    }

    /// Puts the session's run-time credentials into its run vault: a bearer token for the
    /// host's MCP server (full API bridge) and an `environment_variable` token for the host's
    /// API (direct access), both from [`TaskHost::session_token`]. After a restart a credential
    /// left by the earlier attempt gets the new token instead of a duplicate.
    async fn run_credentials(
        &self,
        run: &SessionRun,
        spec: &AgentSpec,
        token: &secrecy::SecretString,
        client: &Client,
        maybe_lost: bool,
    ) -> Result<()> {
        let AgentKind::Managed(m) = &spec.kind else {
            return Ok(());
        };
        let host = &self.config.host_api;
        let bridge = m.tool_mode.bridge == crate::domain::TaskBridge::FullApi;
        let direct = m.tool_mode.allow_direct_api_access && host.base_url.is_some();
        if !bridge && !direct {
            return Ok(());
        }
        let Some(vault) = run.launch.run_vault.as_deref().map(VaultId::from) else {
            return Ok(());
        };
        let missing = |what: &str| LauncherError::HostApi(what.to_owned());
        let mut wanted = Vec::new();
        if bridge {
            let url = host.mcp_url.clone().ok_or_else(|| {
                missing("the full API bridge needs LauncherConfig::host_api.mcp_url")
            })?;
            wanted.push(CredentialCreate::static_bearer(url, token.clone()));
        }
        if direct && let Some(base) = &host.base_url {
            let parsed = url::Url::parse(base)
                .map_err(|e| missing(&format!("host_api.base_url is not a URL: {e}")))?;
            let hostname = parsed
                .host_str()
                .ok_or_else(|| missing("host_api.base_url has no host"))?
                .to_owned();
            let mut c = CredentialCreate::environment_variable(
                host.env_var.clone(),
                token.clone(),
                CredentialNetworking::limited([hostname]),
            );
            if let CredentialAuthCreate::EnvironmentVariable(e) = &mut c.auth {
                e.injection_location = Some(InjectionLocationParams::header_only());
            }
            wanted.push(c);
        }
        let creds = client.vaults().credentials(&vault);
        let results = futures_util::future::join_all(wanted.iter().map(|c| creds.create(c))).await;
        for (want, result) in wanted.iter().zip(results) {
            match result {
                Ok(_) => {}
                Err(e) if maybe_lost && matches!(e.status(), Some(409)) => {
                    self.replace_credential(client, &vault, want, token).await?;
                }
                Err(e) => return Err(api_err("create run credential")(e)),
            }
        }
        Ok(())
    }

    /// Gives the credential of `want`'s server or variable in `vault` the new token.
    async fn replace_credential(
        &self,
        client: &Client,
        vault: &VaultId,
        want: &CredentialCreate,
        token: &secrecy::SecretString,
    ) -> Result<()> {
        let creds = client.vaults().credentials(vault);
        let mut list = creds.list(&ListCredentials::default());
        while let Some(c) = list.next().await {
            let c = c.map_err(api_err("list run credentials"))?;
            let update = match (&want.auth, &c.auth) {
                (CredentialAuthCreate::StaticBearer(w), CredentialAuth::StaticBearer(have))
                    if have.mcp_server_url == w.mcp_server_url =>
                {
                    CredentialUpdate::auth(CredentialAuthUpdate::StaticBearer(StaticBearerUpdate {
                        token: Some(Some(token.clone())),
                    }))
                }
                (
                    CredentialAuthCreate::EnvironmentVariable(w),
                    CredentialAuth::EnvironmentVariable(have),
                ) if have.secret_name == w.secret_name => CredentialUpdate::auth(
                    CredentialAuthUpdate::EnvironmentVariable(EnvironmentVariableUpdate {
                        secret_value: Some(Some(token.clone())),
                        networking: None,
                        injection_location: None,
                    }),
                ),
                _ => continue,
            };
            creds
                .update(&c.id, &update)
                .await
                .map_err(api_err("rotate run credential"))?;
            return Ok(());
        }
        Ok(())
    }

    async fn session_body(
        &self,
        run: &SessionRun,
        spec: &AgentSpec,
        status: Option<&ReconcileStatus>,
        over: Option<&ProjectOverride>,
    ) -> Result<SessionCreate> {
        let ws = &run.card.workspace;
        let not_ready = || LauncherError::NotReconciled {
            workspace: ws.clone(),
            agent: spec.id.clone(),
        };
        let mut vault_ids: Vec<VaultId> = Vec::new();
        let (agent_param, environment) = match &spec.kind {
            AgentKind::Managed(_) => {
                let status = status.ok_or_else(not_ready)?;
                let agent = status.agent.as_ref().ok_or_else(not_ready)?;
                let env = status.environment.as_ref().ok_or_else(not_ready)?;
                if let Some(vault) = &status.vault {
                    vault_ids.push(vault.id.clone());
                }
                (
                    AgentRef::new(agent.id.clone(), agent.version),
                    env.id.clone(),
                )
            }
            AgentKind::Connected(c) => {
                vault_ids.extend(c.vault_ids.iter().map(|v| VaultId::from(v.as_str())));
                (
                    AgentRef {
                        id: c.agent_id.as_str().into(),
                        version: None,
                    },
                    c.environment_id.as_str().into(),
                )
            }
        };
        let mut body = SessionCreate::new(agent_param, environment);
        body.vault_ids = vault_ids;
        let mut metadata = Metadata::new();
        metadata.insert(
            CARD_METADATA_KEY.to_owned(),
            run.card.id.as_str().to_owned(),
        );
        metadata.insert("claude_agents.workspace".to_owned(), ws.as_str().to_owned());
        metadata.insert(
            "claude_agents.task".to_owned(),
            run.card.task.as_str().to_owned(),
        );
        body.metadata = metadata;
        // Repositories: the project's resolution, with tokens from the host fetched
        // concurrently.
        let resolved = resolve(&spec.defaults(), &run.launch.project, over)?;
        let tokens = futures_util::future::join_all(
            resolved
                .repositories
                .iter()
                .map(|r| self.host.repository_token(&run.card, r)),
        )
        .await;
        for (repo, token) in resolved.repositories.iter().zip(tokens) {
            let mut param = GithubRepositoryResourceParam::new(repo.url.clone());
            if let Some(branch) = &repo.branch {
                param = param.checkout(crate::api::types::sessions::Checkout::branch(branch));
            }
            if let Some(path) = &repo.mount_path {
                param = param.mount_path(path.clone());
            }
            match token {
                Ok(Some(t)) => param = param.token(t),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(repo = repo.url, error = %e, "no token for repository; mounting without one");
                }
            }
            body.resources.push(ResourceParam::from(param));
        }
        Ok(body)
    }

    /// Replays the stored log, opens the stream, sends pending messages once it is open, and
    /// pumps events until the card ends, the drive is stopped or the lease is lost.
    async fn pump(
        self: &Arc<Self>,
        key: &RecordKey,
        run: SessionRun,
        client: &Client,
        session: SessionId,
        stop: &Arc<Notify>,
        lease: &mut Lease,
    ) -> Result<()> {
        let mut state = Pump::new(&run.card, session.as_str());
        // 1. Replay what is stored: rebuild the mapper, deliver what was not delivered.
        let mut seen: HashSet<(String, bool)> = HashSet::new();
        let mut after = 0;
        let mut delivered = run.launch.delivered;
        loop {
            let page = self
                .store
                .read_events(session.as_str(), after, 1000)
                .await?;
            let Some((last, _)) = page.last() else { break };
            after = *last;
            for (seq, ev) in page {
                seen.insert((ev.event_id.clone(), ev.processed));
                let Ok(event) = serde_json::from_str::<SessionEvent>(ev.payload.get()) else {
                    continue;
                };
                let activities = state.push(&event);
                if seq > delivered {
                    for a in &activities {
                        self.deliver_activity(a).await;
                    }
                }
            }
        }
        // The card already went through most replayed states; it lags the log by at most the
        // batch a crash interrupted. Apply what follows the last time the log put the card in
        // its current state (everything, if it never did), not the whole walk again.
        if let Some(pos) = state.states.iter().rposition(|s| *s == run.card.state) {
            state.states.drain(..=pos);
        }
        delivered = delivered.max(after);
        if after > 0 || !state.states.is_empty() {
            self.apply_batch(key, &mut state, delivered).await?;
        }
        if state.ended.is_some() {
            return self.end_from_events(key, &state).await;
        }
        // 2. Settle messages whose send outcome was lost, and custom tool calls left open by
        //    a crash (unless the history shows they were answered).
        if run.launch.outbox.iter().any(|o| o.sending_at.is_some()) {
            self.settle_outbox(key, client, &session).await?;
        }
        if !state.open_tools.is_empty() {
            self.settle_tools(&mut state, client, &session).await?;
            self.answer_tools(key, &mut state, &session, client).await;
        }

        // 3. Follow; reopen when the follow gives up while the session still exists.
        let renew_every = self.config.lease_ttl / 3;
        let mut renew =
            tokio::time::interval_at(tokio::time::Instant::now() + renew_every, renew_every);
        let mut waiting_open = true;
        // The first message's flush runs as its own task: a store write it has begun (e.g. a
        // SQLite transaction holding the store's one writer connection) must make progress
        // while this loop awaits the store for a batch, or the two wait on each other.
        let mut sending: Option<Spawned<Result<()>>> = None;
        loop {
            let opened = Arc::new(Notify::new());
            let mut stream = client.sessions().events(&session).follow_received(
                StreamParams::default(),
                self.config.follow.clone(),
                seen,
                Some(opened.clone()),
            );
            let mut strikes = 0u32;
            let mut quiet_since = tokio::time::Instant::now();
            loop {
                let watchdog = tokio::time::sleep_until(quiet_since + self.config.watchdog);
                tokio::select! {
                    biased;
                    _ = stop.notified() => return Ok(()),
                    _ = renew.tick() => {
                        match self.store.renew_lease(lease, self.config.lease_ttl, now()).await {
                            Ok(l) => *lease = l,
                            Err(e) if e.is_conflict() => {
                                // It lapsed while the pump was busy (a sink or store retrying
                                // for longer than the lease): take it again unless another
                                // process has.
                                match self
                                    .store
                                    .acquire_lease(&lease.name, &self.holder, self.config.lease_ttl, now())
                                    .await
                                {
                                    Ok(Some(l)) => *lease = l,
                                    Ok(None) => {
                                        tracing::warn!(card = key.as_str(), "lost the drive lease; another process continues");
                                        return Ok(());
                                    }
                                    Err(e) => tracing::warn!(card = key.as_str(), error = %e, "lease renewal failed"),
                                }
                            }
                            Err(e) => tracing::warn!(card = key.as_str(), error = %e, "lease renewal failed"),
                        }
                        // Stopped or completed through another process while quiet.
                        if let Ok(Some((run, _))) = self.store.load::<SessionRun>(key).await
                            && run.card.state.is_terminal()
                        {
                            return self.cleanup(&run).await;
                        }
                    }
                    _ = opened.notified(), if waiting_open => {
                        waiting_open = false;
                        let me = self.clone();
                        let k = key.clone();
                        let c = client.clone();
                        sending = Some(Spawned::spawn(async move { me.flush_outbox(&k, Some(&c)).await }));
                    }
                    result = async {
                        match sending.as_mut() {
                            Some(f) => f.join().await,
                            None => std::future::pending().await,
                        }
                    }, if sending.is_some() => {
                        sending = None;
                        result?;
                    }
                    item = stream.next() => {
                        strikes = 0;
                        quiet_since = tokio::time::Instant::now();
                        let Some(first) = item else { break };
                        let mut batch = vec![first];
                        while batch.len() < self.config.batch_max {
                            match stream.next().now_or_never() {
                                Some(Some(item)) => batch.push(item),
                                _ => break,
                            }
                        }
                        self.process(key, &mut state, &session, client, batch).await?;
                        if state.ended.is_some() {
                            return self.end_from_events(key, &state).await;
                        }
                    }
                    _ = watchdog => {
                        if self.watchdog(key, client, &session, &mut strikes).await? {
                            return Ok(());
                        }
                        quiet_since = tokio::time::Instant::now();
                    }
                }
            }
            // The follow ended without a terminal event (it gave up reconnecting).
            if self.stream_ended(key, &state, client, &session).await? {
                return Ok(());
            }
            tokio::select! {
                _ = stop.notified() => return Ok(()),
                _ = tokio::time::sleep(self.config.follow.max_backoff) => {}
            }
            seen = self
                .store
                .seen_events(session.as_str())
                .await?
                .into_iter()
                .collect();
        }
    }

    /// Drops open custom tool calls that the session's history shows answered (a crash came
    /// between sending the answer and storing its echo).
    async fn settle_tools(
        &self,
        state: &mut Pump,
        client: &Client,
        session: &SessionId,
    ) -> Result<()> {
        let params = ListEvents {
            types: vec!["user.custom_tool_result".to_owned()],
            ..ListEvents::default()
        };
        let mut stream = client.sessions().events(session).list(&params);
        while let Some(event) = stream.next().await {
            if let SessionEvent::UserCustomToolResult(r) = event.map_err(api_err("list events"))? {
                state
                    .answered
                    .insert(r.custom_tool_use_id.as_str().to_owned());
            }
        }
        Ok(())
    }

    /// Appends a batch to the log, maps and delivers its new events, moves the cursor and the
    /// card, and answers custom tool calls.
    async fn process(
        self: &Arc<Self>,
        key: &RecordKey,
        state: &mut Pump,
        session: &SessionId,
        client: &Client,
        batch: Vec<api::Result<Received<StreamEvent>>>,
    ) -> Result<()> {
        let mut events = Vec::with_capacity(batch.len());
        let mut log = Vec::with_capacity(batch.len());
        for item in batch {
            let event = match item {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(session = session.as_str(), error = %e, "event stream error");
                    continue;
                }
            };
            let Some(Received { event, json }) = event.into_session_event() else {
                continue;
            };
            let Some(id) = event.raw_id().map(str::to_owned) else {
                continue;
            };
            // The text as received: nothing re-serialised, no field lost.
            log.push(LogEvent {
                event_id: id,
                processed: event.processed_at().is_some(),
                payload: json,
            });
            events.push(event);
        }
        if log.is_empty() {
            return Ok(());
        }
        let outcome = self.append(session.as_str(), &log).await;
        let mut last_seq = None;
        for (index, seq) in outcome.appended {
            for a in state.push(&events[index]) {
                self.deliver_activity(&a).await;
            }
            last_seq = Some(seq);
        }
        if let Some(seq) = last_seq {
            self.apply_batch(key, state, seq).await?;
        }
        self.answer_tools(key, state, session, client).await;
        Ok(())
    }

    /// Appends until the store accepts.
    async fn append(&self, session: &str, log: &[LogEvent]) -> crate::store::AppendOutcome {
        let mut delay = self.config.retry_delay;
        loop {
            match self.store.append_events(session, log).await {
                Ok(o) => return o,
                Err(e) => {
                    tracing::warn!(session, error = %e, "appending to the session log failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    /// Records the delivery cursor, the state the events asked for, and usage.
    async fn apply_batch(
        self: &Arc<Self>,
        key: &RecordKey,
        state: &mut Pump,
        seq: u64,
    ) -> Result<()> {
        let at = now();
        let targets = std::mem::take(&mut state.states);
        let usage = state.usage;
        let mut card_changed = false;
        let run = self
            .update(key, |run| {
                let mut changed = false;
                if run.launch.delivered < seq {
                    run.launch.delivered = seq;
                    changed = true;
                }
                card_changed = false;
                for &to in &targets {
                    if !to.is_terminal() && run.card.transition(to, at).unwrap_or(false) {
                        card_changed = true;
                    }
                }
                if run.card.usage != usage {
                    run.card.usage = usage;
                    if !card_changed {
                        run.card.revision += 1;
                        run.card.updated_at = at;
                    }
                    card_changed = true;
                }
                changed || card_changed
            })
            .await?;
        if let Some(run) = &run
            && card_changed
        {
            self.deliver_card(&run.card).await;
            if holds_slot(run.card.state) {
                self.take_slot(&run.card, key.as_str());
            } else if !run.card.state.is_terminal() {
                self.release_slot(&run.card, key.as_str());
            }
        }
        // Ended elsewhere (stopped or completed through another process): stop pumping.
        if let Some(run) = run
            && run.card.state.is_terminal()
            && state.ended.is_none()
        {
            state.ended = Some(run.card.state);
        }
        Ok(())
    }

    /// Answers the custom tool calls still open, through the host hook.
    async fn answer_tools(
        self: &Arc<Self>,
        key: &RecordKey,
        state: &mut Pump,
        session: &SessionId,
        client: &Client,
    ) {
        let open: Vec<_> = state
            .open_tools
            .iter()
            .filter(|(id, _, _)| !state.answered.contains(id))
            .cloned()
            .collect();
        if open.is_empty() {
            return;
        }
        let card = match self.store.load::<SessionRun>(key).await {
            Ok(Some((run, _))) => run.card,
            _ => return,
        };
        for (id, name, input) in open {
            let answer = tokio::time::timeout(
                self.config.tool_timeout,
                self.run_tool(&card, &id, &name, &input),
            )
            .await
            .unwrap_or_else(|_| Err(format!("`{name}` timed out")));
            let (text, is_error) = match answer {
                Ok(text) => (text, false),
                Err(message) => (message, true),
            };
            let sent = client
                .sessions()
                .events(session)
                .send(vec![EventParam::custom_tool_result(
                    id.as_str(),
                    text,
                    is_error,
                )])
                .await;
            match sent {
                Ok(_) => {
                    state.answered.insert(id);
                }
                Err(e) if matches!(e.status(), Some(400 | 404 | 409)) => {
                    tracing::warn!(tool_use = id, error = %e, "the API refused a custom tool result (already answered?)");
                    state.answered.insert(id);
                }
                Err(e) => {
                    tracing::warn!(tool_use = id, error = %e, "sending a custom tool result failed; will retry with the next events");
                }
            }
        }
    }

    /// One task tool call through the host: `Ok(text)` or `Err(message)` for an error result.
    async fn run_tool(
        &self,
        card: &SessionCard,
        id: &str,
        name: &str,
        input: &serde_json::Map<String, Value>,
    ) -> std::result::Result<String, String> {
        let text_arg = |field: &str| {
            input
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("`{name}` needs a string `{field}`"))
        };
        match name {
            tools::GET_TASK => {
                let task = self.host.task(card).await.map_err(|e| e.message)?;
                serde_json::to_string_pretty(&task).map_err(|e| e.to_string())
            }
            tools::ADD_COMMENT => {
                let body = text_arg("body")?;
                self.host
                    .add_comment(card, id, &body)
                    .await
                    .map_err(|e| e.message)?;
                Ok("Comment added.".to_owned())
            }
            tools::UPDATE_STATUS => {
                let status = text_arg("status")?;
                self.host
                    .update_status(card, id, &status)
                    .await
                    .map_err(|e| e.message)?;
                Ok(format!("Status changed to {status}."))
            }
            other => Err(format!("unknown tool `{other}`")),
        }
    }

    /// The events said the session ended: end the card accordingly.
    async fn end_from_events(self: &Arc<Self>, key: &RecordKey, state: &Pump) -> Result<()> {
        let to = state.ended.unwrap_or(SessionState::Stopped);
        let at = now();
        let mut changed = false;
        let run = self
            .update(key, |run| {
                changed = run.card.transition(to, at).unwrap_or(false);
                changed
            })
            .await?;
        if let Some(run) = run {
            if changed {
                self.deliver_card(&run.card).await;
            }
            self.cleanup(&run).await?;
        }
        Ok(())
    }

    /// The follow stream ended without a terminal event (it gave up reconnecting): look at the
    /// session and end the card if it is gone. Returns whether the card ended (otherwise the
    /// caller reopens the stream).
    async fn stream_ended(
        self: &Arc<Self>,
        key: &RecordKey,
        state: &Pump,
        client: &Client,
        session: &SessionId,
    ) -> Result<bool> {
        if state.ended.is_some() {
            self.end_from_events(key, state).await?;
            return Ok(true);
        }
        let (what, text) = match client.sessions().retrieve(session).await {
            Ok(s) if s.status == SessionStatus::Terminated => {
                ("ended", "The session ended without a final event.")
            }
            Err(e) if e.status() == Some(404) => ("gone", "The session no longer exists."),
            Ok(_) => return Ok(false),
            Err(e) => {
                tracing::warn!(session = session.as_str(), error = %e, "cannot read the session; reopening its stream later");
                return Ok(false);
            }
        };
        self.finish(
            key,
            SessionState::Failed,
            what,
            text.to_owned(),
            ActivityKind::Error,
        )
        .await?;
        Ok(true)
    }

    /// No event for a watchdog period. Returns whether the card was ended.
    async fn watchdog(
        self: &Arc<Self>,
        key: &RecordKey,
        client: &Client,
        session: &SessionId,
        strikes: &mut u32,
    ) -> Result<bool> {
        let Some((run, _)) = self.store.load::<SessionRun>(key).await? else {
            return Ok(true);
        };
        if run.card.state.is_terminal() {
            return Ok(true);
        }
        if !matches!(
            run.card.state,
            SessionState::Starting | SessionState::Running
        ) {
            // Idle or awaiting a person: silence is expected.
            return Ok(false);
        }
        let silent = humantime(self.config.watchdog);
        match client.sessions().retrieve(session).await {
            Ok(s) if s.status == SessionStatus::Terminated => {
                self.finish(
                    key,
                    SessionState::Failed,
                    "watchdog",
                    format!("No events for {silent}, and the session has ended."),
                    ActivityKind::Error,
                )
                .await?;
                Ok(true)
            }
            Err(e) if e.status() == Some(404) => {
                self.finish(
                    key,
                    SessionState::Failed,
                    "watchdog",
                    format!("No events for {silent}, and the session no longer exists."),
                    ActivityKind::Error,
                )
                .await?;
                Ok(true)
            }
            Ok(s) if s.status == SessionStatus::Idle => Ok(false),
            _ => {
                *strikes += 1;
                if *strikes < 2 {
                    return Ok(false);
                }
                let _ = client
                    .sessions()
                    .events(session)
                    .send(vec![EventParam::interrupt()])
                    .await;
                self.finish(
                    key,
                    SessionState::Failed,
                    "watchdog",
                    format!(
                        "No progress for {}; the session was interrupted.",
                        humantime(self.config.watchdog * 2)
                    ),
                    ActivityKind::Error,
                )
                .await?;
                Ok(true)
            }
        }
    }
}

/// How [`Launcher::end_card`] ends a card.
#[derive(Clone, Copy)]
enum Ending<'a> {
    /// `stop`: interrupt the session; the card ends `stopped`.
    Stop {
        /// Who stopped it, for the activity.
        by: Option<&'a str>,
    },
    /// `complete`: an idle card's session is archived; the card ends `completed`.
    Complete,
}

/// A spawned task that is aborted when this handle is dropped, so it never outlives the
/// drive that started it (a stop, a shutdown or an error ends both).
struct Spawned<T>(tokio::task::JoinHandle<T>);

impl<T: Send + 'static> Spawned<T> {
    fn spawn(future: impl Future<Output = T> + Send + 'static) -> Self {
        Self(tokio::spawn(future))
    }

    /// Waits for the task's output; a panic in the task is resumed here, as if the future
    /// had been awaited in place.
    async fn join(&mut self) -> T {
        match (&mut self.0).await {
            Ok(out) => out,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Only `Drop` aborts the task, and then nobody awaits it.
            Err(_) => std::future::pending().await,
        }
    }
}

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn humantime(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 && s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else if s > 0 {
        format!("{s} s")
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// What a trigger loaded for a session (the agent's spec, its reconcile status, the project
/// override), handed to the drive it starts in this process so the start path does not read
/// them again.
struct Handoff {
    spec: AgentSpec,
    status: Option<ReconcileStatus>,
    over: Option<ProjectOverride>,
}

/// What a session is made of, ready to create.
struct Prepared {
    spec: AgentSpec,
    /// The create body, without the run vault.
    body: SessionCreate,
    /// The session token, for agents that reach the host.
    token: Option<secrecy::SecretString>,
}

/// The card's run vault: found (when an earlier create's outcome was lost) or created.
async fn run_vault(
    client: &Client,
    card: &SessionCardId,
    ws: &WorkspaceId,
    lost_create: bool,
) -> Result<String> {
    if lost_create && let Some(found) = find_run_vault(client, card).await? {
        return Ok(found);
    }
    let body = VaultCreate::new(format!("claude-agents run {card}"))
        .with_metadata(CARD_METADATA_KEY, card.as_str())
        .with_metadata("claude_agents.workspace", ws.as_str());
    create_or_adopt(
        "create run vault",
        || async { Ok(client.vaults().create(&body).await?.id.as_str().to_owned()) },
        || find_run_vault(client, card),
    )
    .await
}

/// Makes a remote object whose create outcome may be lost: on
/// [`OutcomeUnknown`](api::Error::OutcomeUnknown) it looks for the object (`find`, by the card
/// id in its metadata) and, when it is not there, makes it once more.
async fn create_or_adopt<T, C, F>(
    step: &'static str,
    create: impl Fn() -> C,
    find: impl Fn() -> F,
) -> Result<T>
where
    C: std::future::Future<Output = api::Result<T>>,
    F: std::future::Future<Output = Result<Option<T>>>,
{
    let mut attempts = 0;
    loop {
        attempts += 1;
        match create().await {
            Ok(made) => return Ok(made),
            Err(e @ api::Error::OutcomeUnknown { .. }) => {
                if let Some(found) = find().await? {
                    return Ok(found);
                }
                if attempts >= 2 {
                    return Err(api_err(step)(e));
                }
            }
            Err(e) => return Err(api_err(step)(e)),
        }
    }
}

/// A run vault created for `card` whose create outcome was lost.
async fn find_run_vault(client: &Client, card: &SessionCardId) -> Result<Option<String>> {
    let mut vaults = client.vaults().list(&ListVaults {
        limit: Some(100),
        include_archived: None,
    });
    while let Some(v) = vaults.next().await {
        let v = v.map_err(api_err("list vaults"))?;
        if v.metadata.get(CARD_METADATA_KEY).map(String::as_str) == Some(card.as_str()) {
            return Ok(Some(v.id.as_str().to_owned()));
        }
    }
    Ok(None)
}

/// A session created for `card` since `since` whose create outcome was lost: `(id, version)`.
async fn find_session(
    client: &Client,
    card: &SessionCardId,
    since: Timestamp,
) -> Result<Option<(String, Option<u64>)>> {
    let mut params = ListSessions {
        limit: Some(100),
        ..ListSessions::default()
    };
    params.created_at.gte = Some(since - chrono::TimeDelta::minutes(5));
    let mut sessions = client.sessions().list(&params);
    while let Some(s) = sessions.next().await {
        let s = s.map_err(api_err("list sessions"))?;
        if s.metadata.get(CARD_METADATA_KEY).map(String::as_str) == Some(card.as_str()) {
            return Ok(Some((s.id.as_str().to_owned(), Some(s.agent.version))));
        }
    }
    Ok(None)
}
