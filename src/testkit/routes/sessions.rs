//! `/v1/sessions`: sessions (agent snapshots, resources, budget, archive, delete), their
//! events (send with validation and echoes, history, live SSE stream with previews and
//! heartbeats), resources and the primary thread (reference sessions.md). The agent behind a
//! session is a [`Script`](crate::testkit::script::Script) run by the engine.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::{DateTime, FixedOffset};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::AppState;
use super::agents::{resolve_model, resolve_tooling};
use crate::testkit::engine::{self, Input, Out, Pending, SessionRt};
use crate::testkit::faults;
use crate::testkit::http::{
    ApiErr, ApiResult, QueryExt, check_metadata, cursor_page, json_object, ok, patch_metadata,
    query_pairs,
};
use crate::testkit::state::{self, Shared, lock, now};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/sessions", post(create).get(list))
        .route(
            "/v1/sessions/{id}",
            get(retrieve).post(update).delete(delete),
        )
        .route("/v1/sessions/{id}/archive", post(archive))
        .route(
            "/v1/sessions/{id}/events",
            post(send_events).get(list_events),
        )
        .route("/v1/sessions/{id}/events/stream", get(stream))
        .route(
            "/v1/sessions/{id}/resources",
            get(list_resources).post(add_resource),
        )
        .route(
            "/v1/sessions/{id}/resources/{rid}",
            get(retrieve_resource)
                .post(rotate_resource)
                .delete(delete_resource),
        )
        .route("/v1/sessions/{id}/threads", get(list_threads))
        .route("/v1/sessions/{id}/threads/{tid}", get(retrieve_thread))
        .route(
            "/v1/sessions/{id}/threads/{tid}/archive",
            post(archive_thread),
        )
        .route("/v1/sessions/{id}/threads/{tid}/events", get(thread_events))
        .route("/v1/sessions/{id}/threads/{tid}/stream", get(thread_stream))
}

const STATUSES: [&str; 4] = ["rescheduling", "running", "idle", "terminated"];

/// Models that accept a mid-conversation `system.message` (by id prefix).
const SYSTEM_MESSAGE_MODELS: [&str; 5] = [
    "claude-opus-5",
    "claude-opus-4-8",
    "claude-sonnet-5",
    "claude-fable-5",
    "claude-mythos-5",
];

fn session_not_found(id: &str) -> ApiErr {
    ApiErr::not_found("session", id)
}

// ---------------------------------------------------------------------------------------------
// Small parsers
// ---------------------------------------------------------------------------------------------

fn opt_string(body: &Map<String, Value>, key: &str) -> ApiResult<Option<String>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiErr::bad_request(format!("{key}: must be a string"))),
    }
}

fn required_string(obj: &Map<String, Value>, key: &str, path: &str) -> ApiResult<String> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(ApiErr::bad_request(format!(
            "{path}.{key}: must not be empty"
        ))),
        None | Some(Value::Null) => {
            Err(ApiErr::bad_request(format!("{path}.{key}: field required")))
        }
        Some(_) => Err(ApiErr::bad_request(format!(
            "{path}.{key}: must be a string"
        ))),
    }
}

/// `{type:"limit", max_list_cost:{amount, currency:"USD"}}`, normalised.
fn parse_budget(v: &Value) -> ApiResult<Value> {
    let bad = |m: &str| Err(ApiErr::bad_request(format!("budget: {m}")));
    if v["type"] != "limit" {
        return bad("type must be 'limit'");
    }
    let cost = &v["max_list_cost"];
    let Some(amount) = cost["amount"].as_str() else {
        return bad("max_list_cost.amount must be a string of minor units");
    };
    if amount.is_empty() || !amount.bytes().all(|b| b.is_ascii_digit()) {
        return bad("max_list_cost.amount must be an integer string (cents)");
    }
    if cost["currency"] != "USD" {
        return bad("max_list_cost.currency must be 'USD'");
    }
    Ok(json!({"type": "limit", "max_list_cost": {"amount": amount, "currency": "USD"}}))
}

/// The bounds of a `created_at[gt|gte|lt|lte]` filter.
#[derive(Default)]
struct TimeRange {
    gt: Option<DateTime<FixedOffset>>,
    gte: Option<DateTime<FixedOffset>>,
    lt: Option<DateTime<FixedOffset>>,
    lte: Option<DateTime<FixedOffset>>,
}

impl TimeRange {
    fn parse(query: &[(String, String)]) -> ApiResult<Self> {
        let get = |op: &str| -> ApiResult<Option<DateTime<FixedOffset>>> {
            let key = format!("created_at[{op}]");
            query
                .param(&key)
                .map(|v| {
                    DateTime::parse_from_rfc3339(v).map_err(|_| {
                        ApiErr::bad_request(format!("{key}: must be an RFC 3339 timestamp"))
                    })
                })
                .transpose()
        };
        Ok(Self {
            gt: get("gt")?,
            gte: get("gte")?,
            lt: get("lt")?,
            lte: get("lte")?,
        })
    }

    fn is_empty(&self) -> bool {
        self.gt.is_none() && self.gte.is_none() && self.lt.is_none() && self.lte.is_none()
    }

    /// Whether timestamp `v` is in range (a null / missing one only when there are no bounds).
    fn contains(&self, v: &Value) -> bool {
        if self.is_empty() {
            return true;
        }
        let Some(t) = v
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        else {
            return false;
        };
        self.gt.is_none_or(|b| t > b)
            && self.gte.is_none_or(|b| t >= b)
            && self.lt.is_none_or(|b| t < b)
            && self.lte.is_none_or(|b| t <= b)
    }
}

fn parse_order(query: &[(String, String)], default: &'static str) -> ApiResult<&'static str> {
    match query.param("order") {
        None => Ok(default),
        Some("asc") => Ok("asc"),
        Some("desc") => Ok("desc"),
        Some(o) => Err(ApiErr::bad_request(format!(
            "order: must be 'asc' or 'desc', not '{o}'"
        ))),
    }
}

/// A bidirectional page whose cursors remember the order they were made with
/// (`page_<order>_<offset>`; reusing one with another order is a 400).
fn ordered_page(items: Vec<Value>, query: &[(String, String)], order: &str) -> ApiResult<Value> {
    let mut q: Vec<(String, String)> = query.iter().filter(|(k, _)| k != "page").cloned().collect();
    if let Some(p) = query.param("page") {
        let (made_with, offset) = p
            .strip_prefix("page_")
            .and_then(|r| r.split_once('_'))
            .ok_or_else(|| ApiErr::bad_request("invalid page cursor"))?;
        if made_with != order {
            return Err(ApiErr::bad_request(format!(
                "page cursor was made with order={made_with}, not order={order}"
            )));
        }
        q.push(("page".into(), format!("page_{offset}")));
    }
    let mut page = cursor_page(items, &q, 100, true)?;
    for key in ["next_page", "prev_page"] {
        if let Some(c) = page[key].as_str().and_then(|c| c.strip_prefix("page_")) {
            page[key] = json!(format!("page_{order}_{c}"));
        }
    }
    Ok(page)
}

// ---------------------------------------------------------------------------------------------
// Agent snapshot
// ---------------------------------------------------------------------------------------------

/// A `SessionThreadAgent`: the agent version without its roster.
fn thread_agent(agent: &Value) -> Value {
    json!({
        "type": "agent",
        "id": agent["id"],
        "version": agent["version"],
        "name": agent["name"],
        "description": agent["description"],
        "model": agent["model"],
        "system": agent["system"],
        "tools": agent["tools"],
        "mcp_servers": agent["mcp_servers"],
        "skills": agent["skills"],
        "execution_identity": agent["execution_identity"],
    })
}

fn model_id(model: &Value) -> Value {
    match model {
        Value::Object(o) => o.get("id").cloned().unwrap_or(Value::Null),
        other => other.clone(),
    }
}

/// Expands one roster entry (id string, `{type:"agent",id,version?}`, `{type:"self"}`,
/// `{type:"advisor",model}`) to its session form; unknown agents are dropped.
fn roster_entry(state: &state::State, entry: &Value, this: &Value) -> Option<Value> {
    let (id, version) = match entry {
        Value::String(id) => (id.as_str(), None),
        Value::Object(o) => match o.get("type").and_then(Value::as_str) {
            Some("self") => return Some(thread_agent(this)),
            Some("advisor") => {
                return Some(json!({"type": "advisor", "model": model_id(&entry["model"])}));
            }
            _ => (
                o.get("id")?.as_str()?,
                o.get("version").and_then(Value::as_u64),
            ),
        },
        _ => return None,
    };
    let versions = state.agents.get(id)?;
    let agent = match version {
        Some(v) => versions.get(usize::try_from(v).ok()?.checked_sub(1)?)?,
        None => versions.last()?,
    };
    Some(thread_agent(agent))
}

fn roster_setting(state: &state::State, setting: &Value, this: &Value) -> Value {
    match setting["type"].as_str() {
        Some("disabled") => json!({"type": "disabled"}),
        _ => {
            let inline = match &setting["inline_agents"] {
                Value::Object(o) => Value::Object(o.clone()),
                _ => json!({"type": "enabled"}),
            };
            let agents: Vec<Value> = setting["predefined_agents"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| roster_entry(state, e, this))
                .collect();
            json!({"type": "enabled", "inline_agents": inline, "predefined_agents": agents})
        }
    }
}

/// The session form of an agent's `multiagent` (rosters expanded to full definitions).
fn expand_multiagent(state: &state::State, multiagent: &Value, this: &Value) -> Value {
    match multiagent["type"].as_str() {
        Some("coordinator") => {
            let agents: Vec<Value> = multiagent["agents"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| roster_entry(state, e, this))
                .collect();
            json!({"type": "coordinator", "agents": agents})
        }
        Some("multiagent_20261001") => {
            let advisor = match multiagent["advisor"]["type"].as_str() {
                Some("enabled") => {
                    json!({"type": "enabled", "model": model_id(&multiagent["advisor"]["model"])})
                }
                _ => json!({"type": "disabled"}),
            };
            json!({
                "type": "multiagent_20261001",
                "advisor": advisor,
                "subagents": roster_setting(state, &multiagent["subagents"], this),
                "workflows": roster_setting(state, &multiagent["workflows"], this),
            })
        }
        _ => Value::Null,
    }
}

/// The `SessionAgent` snapshot of one agent version.
fn snapshot(state: &state::State, agent: &Value) -> Value {
    let mut snap = thread_agent(agent);
    snap["multiagent"] = expand_multiagent(state, &agent["multiagent"], agent);
    snap
}

/// Resolves the `agent` of a session create: `(snapshot, created with overrides)`.
fn session_agent(state: &state::State, agent: Option<&Value>) -> ApiResult<(Value, bool)> {
    let (id, version, overrides) = match agent {
        None | Some(Value::Null) => return Err(ApiErr::bad_request("agent: field required")),
        Some(Value::String(id)) if !id.is_empty() => (id.clone(), None, None),
        Some(Value::Object(o)) => {
            let kind = o.get("type").and_then(Value::as_str);
            if !matches!(kind, Some("agent" | "agent_with_overrides")) {
                return Err(ApiErr::bad_request(
                    "agent: type must be 'agent' or 'agent_with_overrides'",
                ));
            }
            let id = required_string(o, "id", "agent")?;
            let version = match o.get("version") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_u64().filter(|v| *v >= 1).ok_or_else(|| {
                    ApiErr::bad_request("agent.version: must be an integer >= 1")
                })?),
            };
            let overrides = (kind == Some("agent_with_overrides")).then_some(o);
            (id, version, overrides)
        }
        Some(_) => {
            return Err(ApiErr::bad_request(
                "agent: must be an agent id or an agent object",
            ));
        }
    };
    let versions = state
        .agents
        .get(&id)
        .ok_or_else(|| ApiErr::not_found("agent", &id))?;
    let latest = versions
        .last()
        .ok_or_else(|| ApiErr::not_found("agent", &id))?;
    if !latest["archived_at"].is_null() {
        return Err(ApiErr::bad_request(format!("agent {id} is archived")));
    }
    let chosen = match version {
        None => latest,
        Some(v) => usize::try_from(v)
            .ok()
            .and_then(|v| versions.get(v - 1))
            .ok_or_else(|| ApiErr::not_found("agent version", &v.to_string()))?,
    };
    let mut snap = snapshot(state, chosen);
    let Some(o) = overrides else {
        return Ok((snap, false));
    };
    if let Some(model) = o.get("model") {
        let mut resolved = resolve_model(model)?;
        // An `effort` inside an override is ignored; `inference_geo` is applied (or cleared).
        resolved["effort"] = snap["model"]["effort"].clone();
        snap["model"] = resolved;
    }
    match o.get("system") {
        None => {}
        Some(Value::Null) => snap["system"] = Value::Null,
        Some(Value::String(s)) if s.chars().count() <= 100_000 => snap["system"] = json!(s),
        Some(_) => {
            return Err(ApiErr::bad_request(
                "agent.system: must be a string of at most 100000 characters or null",
            ));
        }
    }
    if ["tools", "mcp_servers", "skills"]
        .iter()
        .any(|k| o.contains_key(*k))
    {
        let pick = |k: &str| o.get(k).cloned().unwrap_or_else(|| snap[k].clone());
        let (tools, servers, skills) = resolve_tooling(
            Some(&pick("tools")),
            Some(&pick("mcp_servers")),
            Some(&pick("skills")),
        )?;
        snap["tools"] = tools;
        snap["mcp_servers"] = servers;
        snap["skills"] = skills;
    }
    Ok((snap, true))
}

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

/// A `file` resource (the file must exist).
fn file_resource(
    shared: &Shared,
    state: &state::State,
    r: &Map<String, Value>,
    path: &str,
) -> ApiResult<Value> {
    let file_id = required_string(r, "file_id", path)?;
    if file_id.chars().count() > 128 {
        return Err(ApiErr::bad_request(format!(
            "{path}.file_id: at most 128 characters"
        )));
    }
    if !state.files.contains_key(&file_id) {
        return Err(ApiErr::not_found("file", &file_id));
    }
    let mount_path = match r.get("mount_path") {
        None | Some(Value::Null) => format!("/mnt/session/uploads/{file_id}"),
        Some(Value::String(p)) if !p.is_empty() && p.chars().count() <= 4096 => p.clone(),
        Some(_) => {
            return Err(ApiErr::bad_request(format!(
                "{path}.mount_path: must be 1 to 4096 characters"
            )));
        }
    };
    let at = now();
    Ok(json!({
        "type": "file",
        "id": shared.new_id("sesrsc"),
        "file_id": file_id,
        "mount_path": mount_path,
        "created_at": at,
        "updated_at": at,
    }))
}

/// One `resources[]` entry of a session create: the resource and a write-only token.
fn build_resource(
    shared: &Shared,
    state: &state::State,
    r: &Value,
    i: usize,
) -> ApiResult<(Value, Option<String>)> {
    let path = format!("resources[{i}]");
    let Value::Object(r) = r else {
        return Err(ApiErr::bad_request(format!("{path}: must be an object")));
    };
    match r.get("type").and_then(Value::as_str) {
        Some("github_repository") => {
            let url = required_string(r, "url", &path)?;
            let repo = url
                .strip_prefix("https://github.com/")
                .map(|rest| rest.split('/').collect::<Vec<_>>())
                .filter(|parts| parts.len() == 2 && parts.iter().all(|p| !p.is_empty()))
                .and_then(|parts| parts.get(1).map(|r| (*r).to_owned()))
                .filter(|r| !r.ends_with(".git"))
                .ok_or_else(|| {
                    ApiErr::bad_request(format!(
                        "{path}.url: must be https://github.com/<owner>/<repo> (no .git)"
                    ))
                })?;
            let token = match r.get("authorization_token") {
                None | Some(Value::Null) => None,
                Some(Value::String(t)) if !t.is_empty() => Some(t.clone()),
                Some(_) => {
                    return Err(ApiErr::bad_request(format!(
                        "{path}.authorization_token: must be a non-empty string"
                    )));
                }
            };
            let checkout = match r.get("checkout") {
                None | Some(Value::Null) => Value::Null,
                Some(c) => match c["type"].as_str() {
                    Some("branch") if c["name"].as_str().is_some_and(|n| !n.is_empty()) => {
                        json!({"type": "branch", "name": c["name"]})
                    }
                    Some("commit")
                        if c["sha"].as_str().is_some_and(|s| {
                            s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
                        }) =>
                    {
                        json!({"type": "commit", "sha": c["sha"]})
                    }
                    _ => {
                        return Err(ApiErr::bad_request(format!(
                            "{path}.checkout: a branch with a name or a commit with a full sha"
                        )));
                    }
                },
            };
            let mount_path = match r.get("mount_path") {
                None | Some(Value::Null) => format!("/workspace/{repo}"),
                Some(Value::String(p)) if !p.is_empty() => p.clone(),
                Some(_) => {
                    return Err(ApiErr::bad_request(format!(
                        "{path}.mount_path: must be a non-empty string"
                    )));
                }
            };
            let at = now();
            let resource = json!({
                "type": "github_repository",
                "id": shared.new_id("sesrsc"),
                "url": url,
                "mount_path": mount_path,
                "checkout": checkout,
                "created_at": at,
                "updated_at": at,
            });
            Ok((resource, token))
        }
        Some("file") => Ok((file_resource(shared, state, r, &path)?, None)),
        Some("memory_store") => {
            let store = required_string(r, "memory_store_id", &path)?;
            let access = match r.get("access") {
                None | Some(Value::Null) => "read_write",
                Some(Value::String(a)) if a == "read_write" => "read_write",
                Some(Value::String(a)) if a == "read_only" => "read_only",
                Some(_) => {
                    return Err(ApiErr::bad_request(format!(
                        "{path}.access: must be 'read_write' or 'read_only'"
                    )));
                }
            };
            let instructions = match r.get("instructions") {
                None | Some(Value::Null) => Value::Null,
                Some(Value::String(s)) if s.chars().count() <= 4096 => json!(s),
                Some(_) => {
                    return Err(ApiErr::bad_request(format!(
                        "{path}.instructions: a string of at most 4096 characters"
                    )));
                }
            };
            // The SDK type of a memory store resource has no id or timestamps.
            Ok((
                json!({
                    "type": "memory_store",
                    "memory_store_id": store,
                    "access": access,
                    "description": "",
                    "instructions": instructions,
                    "mount_path": format!("/mnt/memory/{store}"),
                    "name": store,
                }),
                None,
            ))
        }
        _ => Err(ApiErr::bad_request(format!(
            "{path}.type: must be 'github_repository', 'file' or 'memory_store'"
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// Events: validation and acceptance
// ---------------------------------------------------------------------------------------------

/// One validated request event.
enum Parsed {
    Message(Value),
    System(Value),
    Interrupt(Option<String>),
    Confirmation {
        tool_use_id: String,
        result: String,
        deny_message: Option<String>,
    },
    CustomResult {
        id: String,
        content: Option<Value>,
        is_error: Option<bool>,
    },
    ToolResult {
        id: String,
        content: Option<Value>,
        is_error: Option<bool>,
    },
    Outcome {
        description: String,
        rubric: Value,
        max_iterations: Option<u64>,
    },
}

/// Validates content blocks against the allowed block types.
fn check_blocks(content: &Value, allowed: &[&str], path: &str, min: usize) -> ApiResult<()> {
    let Some(blocks) = content.as_array() else {
        return Err(ApiErr::bad_request(format!("{path}: must be an array")));
    };
    if blocks.len() < min {
        return Err(ApiErr::bad_request(format!(
            "{path}: at least {min} block(s) required"
        )));
    }
    for (i, b) in blocks.iter().enumerate() {
        let kind = b["type"].as_str().unwrap_or("");
        if !allowed.contains(&kind) {
            return Err(ApiErr::bad_request(format!(
                "{path}[{i}].type: '{kind}' is not allowed here (allowed: {})",
                allowed.join(", ")
            )));
        }
        let valid = match kind {
            "text" => b["text"].is_string(),
            "image" => matches!(
                b["source"]["type"].as_str(),
                Some("base64" | "url" | "file")
            ),
            "document" => matches!(
                b["source"]["type"].as_str(),
                Some("base64" | "text" | "url" | "file")
            ),
            "search_result" => {
                b["source"].is_string() && b["title"].is_string() && b["content"].is_array()
            }
            _ => true,
        };
        if !valid {
            return Err(ApiErr::bad_request(format!(
                "{path}[{i}]: invalid {kind} block"
            )));
        }
    }
    Ok(())
}

const MESSAGE_BLOCKS: [&str; 4] = ["text", "image", "document", "redacted"];
const RESULT_BLOCKS: [&str; 4] = ["text", "image", "document", "search_result"];

fn optional_content(e: &Map<String, Value>, path: &str) -> ApiResult<Option<Value>> {
    match e.get("content") {
        None | Some(Value::Null) => Ok(None),
        Some(c) => {
            check_blocks(c, &RESULT_BLOCKS, &format!("{path}.content"), 0)?;
            Ok(Some(c.clone()))
        }
    }
}

fn optional_bool(e: &Map<String, Value>, key: &str, path: &str) -> ApiResult<Option<bool>> {
    match e.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiErr::bad_request(format!(
            "{path}.{key}: must be a boolean"
        ))),
    }
}

/// Validates a list of request events for session `sid` (all or nothing). `create`: the
/// `initial_events` of a session create (only `user.message` and `user.define_outcome`).
fn parse_events(
    state: &state::State,
    sid: Option<&str>,
    events: &[Value],
    create: bool,
) -> ApiResult<Vec<Parsed>> {
    let rt = sid.and_then(|s| state.runtime.sessions.get(s));
    let session = sid.and_then(|s| state.sessions.get(s));
    let mut answered = BTreeSet::new();
    let mut parsed = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        let path = if create {
            format!("initial_events[{i}]")
        } else {
            format!("events[{i}]")
        };
        let Value::Object(e) = event else {
            return Err(ApiErr::bad_request(format!("{path}: must be an object")));
        };
        let kind = e.get("type").and_then(Value::as_str).unwrap_or("");
        if create && !matches!(kind, "user.message" | "user.define_outcome") {
            return Err(ApiErr::bad_request(format!(
                "{path}.type: initial events must be user.message or user.define_outcome, not '{kind}'"
            )));
        }
        let mut answer = |id: &str, pending: Pending, what: &str| -> ApiResult<()> {
            if !rt.is_some_and(|rt| rt.awaits(id, pending)) || !answered.insert(id.to_owned()) {
                return Err(ApiErr::bad_request(format!(
                    "{path}: {id} is not a {what} awaiting an answer"
                )));
            }
            Ok(())
        };
        let p = match kind {
            "user.message" => {
                let content = e.get("content").cloned().unwrap_or(Value::Null);
                check_blocks(&content, &MESSAGE_BLOCKS, &format!("{path}.content"), 1)?;
                Parsed::Message(content)
            }
            "system.message" => {
                let content = e.get("content").cloned().unwrap_or(Value::Null);
                check_blocks(&content, &["text"], &format!("{path}.content"), 1)?;
                if content.as_array().is_some_and(|c| c.len() > 1000) {
                    return Err(ApiErr::bad_request(format!(
                        "{path}.content: at most 1000 blocks"
                    )));
                }
                if i + 1 != events.len() {
                    return Err(ApiErr::bad_request(format!(
                        "{path}: a system.message must be the last event of the request"
                    )));
                }
                if i > 0
                    && !matches!(
                        events[i - 1]["type"].as_str(),
                        Some("user.message" | "user.tool_result" | "user.custom_tool_result")
                    )
                {
                    return Err(ApiErr::bad_request(format!(
                        "{path}: a system.message must follow the user.message, user.tool_result or user.custom_tool_result it accompanies"
                    )));
                }
                let model = session
                    .and_then(|s| s["agent"]["model"]["id"].as_str())
                    .unwrap_or("");
                if !SYSTEM_MESSAGE_MODELS.iter().any(|m| model.starts_with(m)) {
                    return Err(ApiErr::bad_request(format!(
                        "model_does_not_support_mid_conversation_system: {model} does not accept system.message"
                    ))
                    .code("model_does_not_support_mid_conversation_system"));
                }
                Parsed::System(content)
            }
            "user.interrupt" => {
                let thread = opt_string(e, "session_thread_id")?;
                if let Some(t) = &thread
                    && rt.is_none_or(|rt| &rt.thread_id != t)
                {
                    return Err(ApiErr::bad_request(format!(
                        "{path}.session_thread_id: unknown thread {t}"
                    )));
                }
                Parsed::Interrupt(thread)
            }
            "user.tool_confirmation" => {
                let tool_use_id = required_string(e, "tool_use_id", &path)?;
                let result = match e.get("result").and_then(Value::as_str) {
                    Some(r @ ("allow" | "deny")) => r.to_owned(),
                    _ => {
                        return Err(ApiErr::bad_request(format!(
                            "{path}.result: must be 'allow' or 'deny'"
                        )));
                    }
                };
                let deny_message = opt_string(e, "deny_message")?;
                if deny_message.is_some() && result != "deny" {
                    return Err(ApiErr::bad_request(format!(
                        "{path}.deny_message: only allowed with result 'deny'"
                    )));
                }
                answer(&tool_use_id, Pending::Confirmation, "tool call")?;
                Parsed::Confirmation {
                    tool_use_id,
                    result,
                    deny_message,
                }
            }
            "user.custom_tool_result" => {
                let id = required_string(e, "custom_tool_use_id", &path)?;
                let content = optional_content(e, &path)?;
                let is_error = optional_bool(e, "is_error", &path)?;
                answer(&id, Pending::CustomResult, "custom tool call")?;
                Parsed::CustomResult {
                    id,
                    content,
                    is_error,
                }
            }
            "user.tool_result" => {
                let id = required_string(e, "tool_use_id", &path)?;
                let content = optional_content(e, &path)?;
                let is_error = optional_bool(e, "is_error", &path)?;
                if !rt.is_some_and(|rt| rt.self_hosted) {
                    return Err(ApiErr::bad_request(format!(
                        "{path}: user.tool_result is only valid on self_hosted environments"
                    )));
                }
                answer(&id, Pending::ToolResult, "tool call")?;
                Parsed::ToolResult {
                    id,
                    content,
                    is_error,
                }
            }
            "user.define_outcome" => {
                let description = required_string(e, "description", &path)?;
                let rubric = e.get("rubric").cloned().unwrap_or(Value::Null);
                let valid = match rubric["type"].as_str() {
                    Some("text") => rubric["content"]
                        .as_str()
                        .is_some_and(|c| c.chars().count() <= 262_144),
                    Some("file") => rubric["file_id"].as_str().is_some_and(|f| !f.is_empty()),
                    _ => false,
                };
                if !valid {
                    return Err(ApiErr::bad_request(format!(
                        "{path}.rubric: {{type:'text', content}} (≤ 262144 chars) or {{type:'file', file_id}}"
                    )));
                }
                let max_iterations = match e.get("max_iterations") {
                    None | Some(Value::Null) => None,
                    Some(v) => {
                        Some(v.as_u64().filter(|n| (1..=20).contains(n)).ok_or_else(|| {
                            ApiErr::bad_request(format!("{path}.max_iterations: 1 to 20"))
                        })?)
                    }
                };
                Parsed::Outcome {
                    description,
                    rubric,
                    max_iterations,
                }
            }
            other => {
                return Err(ApiErr::bad_request(format!(
                    "{path}.type: unknown event type '{other}'"
                )));
            }
        };
        parsed.push(p);
    }
    Ok(parsed)
}

/// Emits the echoes of validated events, queues the work and hands answers to the waiting
/// turn. Returns the echoes as the send response shows them (queued ones unprocessed).
fn accept(shared: &Shared, state: &mut state::State, sid: &str, parsed: Vec<Parsed>) -> Vec<Value> {
    let mut echoes: Vec<Value> = Vec::new();
    let mut inputs: Vec<Input> = Vec::new();
    let mut answers: Vec<(String, Value)> = Vec::new();
    let mut interrupt = false;
    for p in parsed {
        let id = shared.new_id("sevt");
        let echo = match p {
            Parsed::Message(content) => {
                let echo = json!({"type": "user.message", "id": id, "content": content, "processed_at": null});
                inputs.push(Input::Message(vec![echo.clone()]));
                echo
            }
            Parsed::System(content) => {
                let echo = json!({"type": "system.message", "id": id, "content": content, "processed_at": null});
                // Processed with the user.message it accompanies, or on its own.
                match inputs.last_mut() {
                    Some(Input::Message(events)) => events.push(echo.clone()),
                    _ => inputs.push(Input::System(echo.clone())),
                }
                echo
            }
            Parsed::Interrupt(thread) => {
                interrupt = true;
                let mut echo = json!({"type": "user.interrupt", "id": id, "processed_at": engine::stamp(state)});
                if let Some(t) = thread {
                    echo["session_thread_id"] = json!(t);
                }
                echo
            }
            Parsed::Confirmation {
                tool_use_id,
                result,
                deny_message,
            } => {
                let mut echo = json!({
                    "type": "user.tool_confirmation",
                    "id": id,
                    "tool_use_id": tool_use_id,
                    "result": result,
                    "processed_at": null,
                });
                if let Some(m) = deny_message {
                    echo["deny_message"] = json!(m);
                }
                answers.push((tool_use_id, echo.clone()));
                echo
            }
            Parsed::CustomResult {
                id: use_id,
                content,
                is_error,
            } => {
                let mut echo = json!({
                    "type": "user.custom_tool_result",
                    "id": id,
                    "custom_tool_use_id": use_id,
                    "processed_at": engine::stamp(state),
                });
                if let Some(c) = content {
                    echo["content"] = c;
                }
                if let Some(b) = is_error {
                    echo["is_error"] = json!(b);
                }
                answers.push((use_id, echo.clone()));
                echo
            }
            Parsed::ToolResult {
                id: use_id,
                content,
                is_error,
            } => {
                let mut echo = json!({
                    "type": "user.tool_result",
                    "id": id,
                    "tool_use_id": use_id,
                    "processed_at": engine::stamp(state),
                });
                if let Some(c) = content {
                    echo["content"] = c;
                }
                if let Some(b) = is_error {
                    echo["is_error"] = json!(b);
                }
                answers.push((use_id, echo.clone()));
                echo
            }
            Parsed::Outcome {
                description,
                rubric,
                max_iterations,
            } => {
                let outcome_id = shared.new_id("outc");
                if let Some(evals) = state
                    .sessions
                    .get_mut(sid)
                    .and_then(|s| s["outcome_evaluations"].as_array_mut())
                {
                    evals.push(json!({
                        "type": "outcome_evaluation",
                        "outcome_id": outcome_id,
                        "description": description,
                        "iteration": 0,
                        "result": "pending",
                        "explanation": null,
                        "completed_at": null,
                    }));
                }
                inputs.push(Input::Outcome(outcome_id.clone()));
                json!({
                    "type": "user.define_outcome",
                    "id": id,
                    "outcome_id": outcome_id,
                    "description": description,
                    "rubric": rubric,
                    "max_iterations": max_iterations,
                    "processed_at": engine::stamp(state),
                })
            }
        };
        if let Some(e) = engine::emit(shared, state, sid, echo.clone()) {
            echoes.push(e);
        }
    }
    if let Some(rt) = state.runtime.sessions.get_mut(sid) {
        for input in inputs {
            rt.enqueue(input);
        }
        for (id, echo) in answers {
            rt.answer(&id, echo);
        }
        if interrupt {
            rt.interrupt();
        }
    }
    echoes
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

async fn create(State(shared): State<AppState>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    check_metadata(body.get("metadata"), false)?;
    let title = opt_string(&body, "title")?;
    let budget = match body.get("budget") {
        None | Some(Value::Null) => Value::Null,
        Some(b) => parse_budget(b)?,
    };
    let env_id = required_string(&body, "environment_id", "body")
        .map_err(|_| ApiErr::bad_request("environment_id: field required"))?;
    let initial: Vec<Value> = match body.get("initial_events") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) if a.len() <= 50 => a.clone(),
        Some(Value::Array(_)) => {
            return Err(ApiErr::bad_request("initial_events: at most 50 events"));
        }
        Some(_) => return Err(ApiErr::bad_request("initial_events: must be an array")),
    };

    let mut state = lock(&shared.state);
    let (agent, overrides) = session_agent(&state, body.get("agent"))?;
    let env = state
        .environments
        .get(&env_id)
        .ok_or_else(|| ApiErr::not_found("environment", &env_id).code("environment_not_found"))?;
    if !env["archived_at"].is_null() {
        return Err(ApiErr::bad_request(format!(
            "environment {env_id} is archived"
        )));
    }
    let self_hosted = env["config"]["type"] == "self_hosted";
    let vault_ids: Vec<Value> = match body.get("vault_ids") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ids)) => {
            for id in ids {
                let id = id
                    .as_str()
                    .ok_or_else(|| ApiErr::bad_request("vault_ids: must be strings"))?;
                let vault = state
                    .vaults
                    .get(id)
                    .ok_or_else(|| ApiErr::not_found("vault", id))?;
                if !vault["archived_at"].is_null() {
                    return Err(ApiErr::bad_request(format!("vault {id} is archived")));
                }
            }
            ids.clone()
        }
        Some(_) => return Err(ApiErr::bad_request("vault_ids: must be an array")),
    };
    let mut resources = Vec::new();
    let mut tokens = Vec::new();
    for (i, r) in body
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let (resource, token) = build_resource(&shared, &state, r, i)?;
        if let (Some(t), Some(id)) = (token, resource["id"].as_str()) {
            tokens.push((id.to_owned(), t));
        }
        resources.push(resource);
    }
    if resources.iter().filter(|r| r["type"] == "file").count() > 500 {
        return Err(ApiErr::bad_request("resources: at most 500 files"));
    }
    // Validated before anything is created (all or nothing).
    let scratch = state::State::default();
    let parsed = parse_events(&scratch, None, &initial, true)?;

    let id = shared.new_id("sesn");
    let at = now();
    let session = json!({
        "type": "session",
        "id": id,
        "title": title,
        "status": if parsed.is_empty() { "idle" } else { "running" },
        "environment_id": env_id,
        "agent": agent,
        "resources": resources,
        "vault_ids": vault_ids,
        "metadata": body.get("metadata").cloned().unwrap_or(json!({})),
        "budget": budget,
        "outcome_evaluations": [],
        "stats": {"active_seconds": 0.0, "duration_seconds": 0.0},
        "usage": engine::zero_usage(),
        "deployment_id": null,
        "created_at": at,
        "updated_at": at,
        "archived_at": null,
    });
    state.sessions.insert(id.clone(), session);
    let mut rt = SessionRt::new(shared.new_id("sthr"), overrides, self_hosted);
    rt.tokens.extend(tokens);
    state.runtime.sessions.insert(id.clone(), rt);
    accept(&shared, &mut state, &id, parsed);
    let response = engine::render_session(&state, &id).unwrap_or(Value::Null);
    engine::kick(&shared, &mut state, &id);
    ok(response)
}

async fn retrieve(State(shared): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let state = lock(&shared.state);
    ok(engine::render_session(&state, &id).ok_or_else(|| session_not_found(&id))?)
}

async fn update(State(shared): State<AppState>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    if body.contains_key("vault_ids") {
        return Err(ApiErr::bad_request(
            "vault_ids: cannot be updated (set them when creating the session)",
        ));
    }
    check_metadata(body.get("metadata"), true)?;
    let mut state = lock(&shared.state);
    let current = state
        .sessions
        .get(&id)
        .cloned()
        .ok_or_else(|| session_not_found(&id))?;
    if !current["archived_at"].is_null() {
        return Err(ApiErr::conflict(format!("session {id} is archived")));
    }
    let overrides = state
        .runtime
        .sessions
        .get(&id)
        .is_some_and(|rt| rt.overrides);
    let mut next = current.clone();
    let mut changed = Map::new();

    if body.contains_key("title") {
        let title = opt_string(&body, "title")?;
        if current["title"] != json!(title) {
            next["title"] = json!(title);
            changed.insert("title".into(), json!(title));
        }
    }
    match body.get("metadata") {
        None => {}
        Some(Value::Null) => next["metadata"] = json!({}),
        Some(patch) => patch_metadata(&mut next, Some(patch)),
    }
    if next["metadata"] != current["metadata"]
        && next["metadata"].as_object().is_some_and(|m| !m.is_empty())
    {
        changed.insert("metadata".into(), next["metadata"].clone());
    }
    if let Some(b) = body.get("budget") {
        if current["status"] == "terminated" {
            return Err(ApiErr::bad_request(format!("session {id} is terminated")));
        }
        if current["budget"].is_null() && !b.is_null() {
            return Err(ApiErr::bad_request(
                "budget_create_only: a budget can only be set when the session is created",
            ));
        }
        let budget = if b.is_null() {
            Value::Null
        } else {
            let budget = parse_budget(b)?;
            let max: u64 = budget["max_list_cost"]["amount"]
                .as_str()
                .and_then(|a| a.parse().ok())
                .unwrap_or(u64::MAX);
            if max <= engine::list_cost_cents(&current["usage"]) {
                return Err(ApiErr::bad_request(
                    "budget_not_raised: max_list_cost must exceed the cost already consumed",
                ));
            }
            budget
        };
        if budget != current["budget"] {
            next["budget"] = budget.clone();
            changed.insert("budget".into(), budget);
        }
    }
    if let Some(agent) = body.get("agent") {
        let Value::Object(a) = agent else {
            return Err(ApiErr::bad_request("agent: must be an object"));
        };
        if let Some(k) = a
            .keys()
            .find(|k| !matches!(k.as_str(), "tools" | "mcp_servers"))
        {
            return Err(ApiErr::bad_request(format!(
                "agent.{k}: only tools and mcp_servers can be updated"
            )));
        }
        if overrides {
            return Err(ApiErr::bad_request(
                "agent: sessions created with agent_with_overrides cannot update their agent",
            ));
        }
        if matches!(current["status"].as_str(), Some("running" | "rescheduling")) {
            return Err(ApiErr::conflict(format!(
                "session {id} is running: interrupt it or wait until it is idle"
            )));
        }
        let pick = |k: &str| {
            a.get(k)
                .cloned()
                .unwrap_or_else(|| current["agent"][k].clone())
        };
        let (tools, servers, _) = resolve_tooling(
            Some(&pick("tools")),
            Some(&pick("mcp_servers")),
            Some(&current["agent"]["skills"]),
        )?;
        next["agent"]["tools"] = tools;
        next["agent"]["mcp_servers"] = servers;
        if next["agent"] != current["agent"] {
            changed.insert("agent".into(), next["agent"].clone());
        }
    }
    if next != current {
        next["updated_at"] = json!(now());
        state.sessions.insert(id.clone(), next);
    }
    if !changed.is_empty() {
        let mut event = Value::Object(changed);
        event["type"] = json!("session.updated");
        engine::emit(&shared, &mut state, &id, event);
    }
    ok(engine::render_session(&state, &id).unwrap_or(Value::Null))
}

async fn list(State(shared): State<AppState>, RawQuery(query): RawQuery) -> ApiResult {
    let query = query_pairs(query.as_deref());
    let order = parse_order(&query, "desc")?;
    let statuses = query.params("statuses[]");
    if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(s)) {
        return Err(ApiErr::bad_request(format!(
            "statuses[]: unknown status '{bad}'"
        )));
    }
    let agent_id = query.param("agent_id");
    let agent_version = match query.param("agent_version") {
        None => None,
        Some(_) if agent_id.is_none() => {
            return Err(ApiErr::bad_request(
                "agent_version: only allowed with agent_id",
            ));
        }
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| ApiErr::bad_request("agent_version: must be an integer"))?,
        ),
    };
    let include_archived = query.flag("include_archived");
    let deployment = query.param("deployment_id");
    let store = query.param("memory_store_id");
    let range = TimeRange::parse(&query)?;
    let state = lock(&shared.state);
    let mut items: Vec<Value> = state
        .sessions
        .keys()
        .filter_map(|id| engine::render_session(&state, id))
        .filter(|s| include_archived || s["archived_at"].is_null())
        .filter(|s| statuses.is_empty() || statuses.iter().any(|st| s["status"] == *st))
        .filter(|s| agent_id.is_none_or(|a| s["agent"]["id"] == a))
        .filter(|s| agent_version.is_none_or(|v| s["agent"]["version"] == v))
        .filter(|s| deployment.is_none_or(|d| s["deployment_id"] == d))
        .filter(|s| {
            store.is_none_or(|m| {
                s["resources"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r["memory_store_id"] == m))
            })
        })
        .filter(|s| range.contains(&s["created_at"]))
        .collect();
    if order == "desc" {
        items.reverse();
    }
    ok(ordered_page(items, &query, order)?)
}

async fn archive(State(shared): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let mut state = lock(&shared.state);
    let session = state
        .sessions
        .get_mut(&id)
        .ok_or_else(|| session_not_found(&id))?;
    if session["archived_at"].is_null() {
        let at = now();
        session["archived_at"] = json!(at);
        session["updated_at"] = json!(at);
        if session["status"] != "terminated" {
            engine::emit(
                &shared,
                &mut state,
                &id,
                json!({"type": "session.status_terminated"}),
            );
        }
        if let Some(rt) = state.runtime.sessions.get_mut(&id) {
            rt.closed = true;
            rt.wake();
        }
    }
    ok(engine::render_session(&state, &id).unwrap_or(Value::Null))
}

async fn delete(State(shared): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let mut state = lock(&shared.state);
    state
        .sessions
        .remove(&id)
        .ok_or_else(|| session_not_found(&id))?;
    engine::delete(&shared, &mut state, &id);
    ok(json!({"id": id, "type": "session_deleted"}))
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

async fn send_events(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = json_object(&body)?;
    let events = match body.get("events") {
        Some(Value::Array(e)) if !e.is_empty() => e.clone(),
        Some(Value::Array(_)) => return Err(ApiErr::bad_request("events: at least one event")),
        _ => return Err(ApiErr::bad_request("events: field required (an array)")),
    };
    let mut state = lock(&shared.state);
    let session = state
        .sessions
        .get(&id)
        .ok_or_else(|| session_not_found(&id))?;
    if !session["archived_at"].is_null() {
        return Err(ApiErr::conflict(format!("session {id} is archived")));
    }
    if session["status"] == "terminated" {
        return Err(ApiErr::conflict(format!("session {id} is terminated")));
    }
    let parsed = parse_events(&state, Some(&id), &events, false)?;
    let data = accept(&shared, &mut state, &id, parsed);
    engine::kick(&shared, &mut state, &id);
    ok(json!({"data": data}))
}

/// The history of `sid`, filtered and paged per the query (`order`, `types[]`,
/// `created_at[…]` against `processed_at`).
fn history_page(shared: &Shared, sid: &str, query: &[(String, String)]) -> ApiResult {
    if query.param("after_id").is_some() || query.param("before_id").is_some() {
        return Err(ApiErr::bad_request(
            "after_id/before_id: not supported on this endpoint (use page or created_at[gt])",
        ));
    }
    let order = parse_order(query, "asc")?;
    let types = query.params("types[]");
    // The persisted event types are exactly the ones the crate models (a test checks that
    // list against the reference).
    let known = crate::api::types::events::SessionEvent::KNOWN_TYPES;
    if let Some(bad) = types.iter().find(|t| !known.contains(t)) {
        return Err(ApiErr::bad_request(format!(
            "types[]: unknown event type '{bad}'"
        )));
    }
    let range = TimeRange::parse(query)?;
    let state = lock(&shared.state);
    let rt = state
        .runtime
        .sessions
        .get(sid)
        .ok_or_else(|| session_not_found(sid))?;
    let mut items: Vec<Value> = rt
        .history
        .iter()
        .filter(|e| types.is_empty() || types.iter().any(|t| e["type"] == *t))
        .filter(|e| range.contains(&e["processed_at"]))
        .cloned()
        .collect();
    drop(state);
    if order == "desc" {
        items.reverse();
    }
    ok(cursor_page(items, query, 1000, false)?)
}

async fn list_events(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    history_page(&shared, &id, &query_pairs(query.as_deref()))
}

/// The SSE body of one subscriber: its frames, heartbeat comments, and the end after a
/// terminal frame.
fn sse_body(rx: mpsc::UnboundedReceiver<Out>, heartbeat: Duration) -> BoxStream<'static, Bytes> {
    let ticker = (!heartbeat.is_zero()).then(|| {
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    futures_util::stream::unfold(
        (rx, ticker, false),
        |(mut rx, mut ticker, done)| async move {
            if done {
                return None;
            }
            let tick = async {
                match ticker.as_mut() {
                    Some(t) => {
                        t.tick().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                out = rx.recv() => out.map(|out| {
                    // Coalesce whatever is already queued into one write (a burst of events
                    // would otherwise cost one HTTP chunk, and one syscall, each).
                    let mut end = out.end;
                    let mut bytes = out.bytes;
                    if !end {
                        let mut buf: Option<bytes::BytesMut> = None;
                        while let Ok(more) = rx.try_recv() {
                            let b = buf.get_or_insert_with(|| bytes::BytesMut::from(&bytes[..]));
                            b.extend_from_slice(&more.bytes);
                            end = more.end;
                            if end || b.len() >= 64 * 1024 {
                                break;
                            }
                        }
                        if let Some(b) = buf {
                            bytes = b.freeze();
                        }
                    }
                    (bytes, (rx, ticker, end))
                }),
                () = tick => Some((Bytes::from_static(b": ping\n\n"), (rx, ticker, false))),
            }
        },
    )
    .boxed()
}

fn open_stream(shared: &AppState, sid: &str, query: &[(String, String)]) -> ApiResult {
    let deltas = query.params("event_deltas[]");
    if deltas.len() > 100 {
        return Err(ApiErr::bad_request("event_deltas[]: at most 100 values"));
    }
    if let Some(bad) = deltas
        .iter()
        .find(|d| !matches!(**d, "agent.message" | "agent.thinking"))
    {
        return Err(ApiErr::bad_request(format!(
            "event_deltas[]: '{bad}' cannot be previewed (agent.message, agent.thinking)"
        )));
    }
    let rx = {
        let mut state = lock(&shared.state);
        let rt = state
            .runtime
            .sessions
            .get_mut(sid)
            .ok_or_else(|| session_not_found(sid))?;
        rt.subscribe(
            deltas.contains(&"agent.message"),
            deltas.contains(&"agent.thinking"),
        )
    };
    let body = sse_body(rx, shared.config.heartbeat);
    let body = faults::wrap_sse(shared, sid, body);
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

async fn stream(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    open_stream(&shared, &id, &query_pairs(query.as_deref()))
}

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

fn resources_of<'a>(state: &'a state::State, sid: &str) -> ApiResult<&'a Vec<Value>> {
    state
        .sessions
        .get(sid)
        .and_then(|s| s["resources"].as_array())
        .ok_or_else(|| session_not_found(sid))
}

async fn list_resources(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let query = query_pairs(query.as_deref());
    let items = resources_of(&lock(&shared.state), &id)?.clone();
    if query.param("limit").is_none() && query.param("page").is_none() {
        return ok(json!({"data": items, "next_page": null}));
    }
    ok(cursor_page(items, &query, 1000, false)?)
}

async fn add_resource(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = json_object(&body)?;
    if body.get("type").and_then(Value::as_str) != Some("file") {
        return Err(ApiErr::bad_request(
            "type: only 'file' resources can be added to a session",
        ));
    }
    let mut state = lock(&shared.state);
    let session = state
        .sessions
        .get(&id)
        .ok_or_else(|| session_not_found(&id))?;
    if session["status"] == "terminated" {
        return Err(ApiErr::conflict(format!("session {id} is terminated")));
    }
    let files = session["resources"]
        .as_array()
        .map_or(0, |r| r.iter().filter(|r| r["type"] == "file").count());
    if files >= 500 {
        return Err(ApiErr::bad_request("resources: at most 500 files"));
    }
    let resource = file_resource(&shared, &state, &body, "body")?;
    if let Some(session) = state.sessions.get_mut(&id) {
        if let Some(r) = session["resources"].as_array_mut() {
            r.push(resource.clone());
        }
        session["updated_at"] = json!(now());
    }
    ok(resource)
}

fn find_resource(state: &state::State, sid: &str, rid: &str) -> ApiResult<Value> {
    resources_of(state, sid)?
        .iter()
        .find(|r| r["id"] == rid)
        .cloned()
        .ok_or_else(|| ApiErr::not_found("session resource", rid))
}

async fn retrieve_resource(
    State(shared): State<AppState>,
    Path((id, rid)): Path<(String, String)>,
) -> ApiResult {
    ok(find_resource(&lock(&shared.state), &id, &rid)?)
}

async fn rotate_resource(
    State(shared): State<AppState>,
    Path((id, rid)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body = json_object(&body)?;
    let token = match body.get("authorization_token") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        _ => {
            return Err(ApiErr::bad_request(
                "authorization_token: a non-empty string is required",
            ));
        }
    };
    let mut state = lock(&shared.state);
    let resource = find_resource(&state, &id, &rid)?;
    if resource["type"] != "github_repository" {
        return Err(ApiErr::bad_request(
            "only github_repository resources have a token to rotate",
        ));
    }
    let at = now();
    let mut updated = resource;
    updated["updated_at"] = json!(at);
    if let Some(r) = state
        .sessions
        .get_mut(&id)
        .and_then(|s| s["resources"].as_array_mut())
        .and_then(|r| r.iter_mut().find(|r| r["id"] == rid.as_str()))
    {
        *r = updated.clone();
    }
    if let Some(rt) = state.runtime.sessions.get_mut(&id) {
        rt.tokens.insert(rid, token);
    }
    ok(updated)
}

async fn delete_resource(
    State(shared): State<AppState>,
    Path((id, rid)): Path<(String, String)>,
) -> ApiResult {
    let mut state = lock(&shared.state);
    find_resource(&state, &id, &rid)?;
    if let Some(session) = state.sessions.get_mut(&id) {
        if let Some(r) = session["resources"].as_array_mut() {
            r.retain(|r| r["id"] != rid.as_str());
        }
        session["updated_at"] = json!(now());
    }
    if let Some(rt) = state.runtime.sessions.get_mut(&id) {
        rt.tokens.remove(&rid);
    }
    ok(json!({"id": rid, "type": "session_resource_deleted"}))
}

// ---------------------------------------------------------------------------------------------
// Threads (the primary thread only)
// ---------------------------------------------------------------------------------------------

/// The primary thread of `sid` as a `session_thread`.
fn primary_thread(state: &state::State, sid: &str) -> ApiResult<Value> {
    let session = engine::render_session(state, sid).ok_or_else(|| session_not_found(sid))?;
    let rt = state
        .runtime
        .sessions
        .get(sid)
        .ok_or_else(|| session_not_found(sid))?;
    let mut stats = session["stats"].clone();
    stats["startup_seconds"] = json!(0.0);
    Ok(json!({
        "type": "session_thread",
        "id": rt.thread_id,
        "session_id": sid,
        "parent_thread_id": null,
        "status": session["status"],
        "agent": thread_agent(&session["agent"]),
        "stats": stats,
        "usage": session["usage"],
        "workflow_run_id": null,
        "created_at": session["created_at"],
        "updated_at": session["updated_at"],
        "archived_at": null,
    }))
}

fn thread_of(state: &state::State, sid: &str, tid: &str) -> ApiResult<Value> {
    let thread = primary_thread(state, sid)?;
    if thread["id"] != tid {
        return Err(ApiErr::not_found("session thread", tid));
    }
    Ok(thread)
}

async fn list_threads(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let query = query_pairs(query.as_deref());
    let statuses = query.params("statuses[]");
    if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(s)) {
        return Err(ApiErr::bad_request(format!(
            "statuses[]: unknown status '{bad}'"
        )));
    }
    let thread = primary_thread(&lock(&shared.state), &id)?;
    let items: Vec<Value> = std::iter::once(thread)
        .filter(|t| statuses.is_empty() || statuses.iter().any(|s| t["status"] == *s))
        .collect();
    ok(cursor_page(items, &query, 1000, false)?)
}

async fn retrieve_thread(
    State(shared): State<AppState>,
    Path((id, tid)): Path<(String, String)>,
) -> ApiResult {
    ok(thread_of(&lock(&shared.state), &id, &tid)?)
}

async fn archive_thread(
    State(shared): State<AppState>,
    Path((id, tid)): Path<(String, String)>,
) -> ApiResult {
    thread_of(&lock(&shared.state), &id, &tid)?;
    Err(ApiErr::bad_request(
        "the primary thread cannot be archived (archive the session instead)",
    ))
}

async fn thread_events(
    State(shared): State<AppState>,
    Path((id, tid)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    thread_of(&lock(&shared.state), &id, &tid)?;
    history_page(&shared, &id, &query_pairs(query.as_deref()))
}

async fn thread_stream(
    State(shared): State<AppState>,
    Path((id, tid)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    thread_of(&lock(&shared.state), &id, &tid)?;
    open_stream(&shared, &id, &query_pairs(query.as_deref()))
}
