//! `/v1/agents`: immutable versions, optimistic concurrency on update (`version` → 409 when
//! stale), permanent archive, and the response forms of model, tools and skills (reference
//! agents.md).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::AppState;
use crate::testkit::http::{
    ApiErr, ApiResult, QueryExt, check_metadata, cursor_page, json_object, ok, patch_metadata,
    query_pairs,
};
use crate::testkit::state::{lock, now};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/agents", post(create).get(list))
        .route("/v1/agents/{id}", get(retrieve).post(update))
        .route("/v1/agents/{id}/archive", post(archive))
        .route("/v1/agents/{id}/versions", get(versions))
}

const BUILTIN_TOOLS: [&str; 8] = [
    "bash",
    "read",
    "write",
    "edit",
    "glob",
    "grep",
    "web_fetch",
    "web_search",
];

/// The response form of a `model` request value (string or object).
pub(crate) fn resolve_model(model: &Value) -> ApiResult<Value> {
    let (id, obj) = match model {
        Value::String(id) if !id.is_empty() => (id.clone(), Map::new()),
        Value::Object(o) => match o.get("id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => (id.to_owned(), o.clone()),
            _ => return Err(ApiErr::bad_request("model.id: field required")),
        },
        _ => {
            return Err(ApiErr::bad_request(
                "model: must be a model id or an object",
            ));
        }
    };
    let speed = obj
        .get("speed")
        .cloned()
        .filter(|s| !s.is_null())
        .unwrap_or(json!("standard"));
    let effort = match obj.get("effort") {
        Some(Value::String(level)) => json!({"type": level}),
        Some(v @ Value::Object(_)) => v.clone(),
        _ => json!({"type": "high"}),
    };
    Ok(json!({
        "id": id,
        "speed": speed,
        "effort": effort,
        "inference_geo": obj.get("inference_geo").cloned().unwrap_or(Value::Null),
    }))
}

fn policy(value: Option<&Value>, default: &str) -> Value {
    match value {
        Some(v @ Value::Object(_)) => v.clone(),
        _ => json!({"type": default}),
    }
}

fn default_config(dc: Option<&Value>, default_policy: &str) -> (bool, Value) {
    let enabled = dc
        .and_then(|d| d.get("enabled"))
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let policy = policy(dc.and_then(|d| d.get("permission_policy")), default_policy);
    (enabled, policy)
}

/// The response form of one `tools[]` request entry.
pub(crate) fn resolve_tool(tool: &Value) -> ApiResult<Value> {
    let kind = tool.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "agent_toolset_20260401" => {
            let (enabled, pol) = default_config(tool.get("default_config"), "always_allow");
            let mut configs = Vec::new();
            for c in tool
                .get("configs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = c.get("name").and_then(Value::as_str).unwrap_or("");
                if !BUILTIN_TOOLS.contains(&name) {
                    return Err(ApiErr::bad_request(format!(
                        "tools: unknown built-in tool '{name}'"
                    )));
                }
                let mut out = json!({
                    "type": name,
                    "name": name,
                    "enabled": c.get("enabled").and_then(Value::as_bool).unwrap_or(enabled),
                    "permission_policy": policy(c.get("permission_policy"), pol["type"].as_str().unwrap_or("always_allow")),
                });
                let extras: &[&str] = match name {
                    "web_fetch" => &[
                        "allowed_domains",
                        "blocked_domains",
                        "max_content_tokens",
                        "url_sources",
                    ],
                    "web_search" => &["allowed_domains", "blocked_domains", "user_location"],
                    _ => &[],
                };
                for key in extras {
                    out[*key] = c.get(*key).cloned().unwrap_or(Value::Null);
                }
                configs.push(out);
            }
            Ok(json!({
                "type": kind,
                "default_config": {"enabled": enabled, "permission_policy": pol},
                "configs": configs,
            }))
        }
        "mcp_toolset" => {
            let server = tool
                .get("mcp_server_name")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    ApiErr::bad_request("tools: mcp_toolset.mcp_server_name required")
                })?;
            let (enabled, pol) = default_config(tool.get("default_config"), "always_ask");
            let configs: Vec<Value> = tool
                .get("configs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| {
                    json!({
                        "name": c.get("name").cloned().unwrap_or(Value::Null),
                        "enabled": c.get("enabled").and_then(Value::as_bool).unwrap_or(enabled),
                        "permission_policy": policy(c.get("permission_policy"), pol["type"].as_str().unwrap_or("always_ask")),
                    })
                })
                .collect();
            Ok(json!({
                "type": kind,
                "mcp_server_name": server,
                "default_config": {"enabled": enabled, "permission_policy": pol},
                "configs": configs,
            }))
        }
        "custom" => {
            for field in ["name", "description"] {
                if tool
                    .get(field)
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    return Err(ApiErr::bad_request(format!(
                        "tools: custom.{field} required"
                    )));
                }
            }
            if tool
                .get("input_schema")
                .and_then(|s| s.get("type"))
                .and_then(Value::as_str)
                != Some("object")
            {
                return Err(ApiErr::bad_request(
                    "tools: custom.input_schema.type must be 'object'",
                ));
            }
            Ok(tool.clone())
        }
        other => Err(ApiErr::bad_request(format!(
            "tools: unknown tool type '{other}'"
        ))),
    }
}

/// Resolves `tools`, `mcp_servers` and `skills` together (every MCP server must be referenced
/// by an `mcp_toolset`, and every toolset must name a server).
pub(crate) fn resolve_tooling(
    tools: Option<&Value>,
    mcp_servers: Option<&Value>,
    skills: Option<&Value>,
) -> ApiResult<(Value, Value, Value)> {
    let tools: Vec<Value> = match tools {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(t)) => t.iter().map(resolve_tool).collect::<ApiResult<_>>()?,
        Some(_) => return Err(ApiErr::bad_request("tools: must be an array")),
    };
    if tools.len() > 256 {
        return Err(ApiErr::bad_request("tools: at most 256 tools"));
    }
    let servers: Vec<Value> = match mcp_servers {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(s)) => s.clone(),
        Some(_) => return Err(ApiErr::bad_request("mcp_servers: must be an array")),
    };
    let mut names = Vec::new();
    for s in &servers {
        let name = s.get("name").and_then(Value::as_str).unwrap_or("");
        if name.is_empty() || s.get("url").and_then(Value::as_str).is_none() {
            return Err(ApiErr::bad_request("mcp_servers: name and url required"));
        }
        if names.contains(&name) {
            return Err(ApiErr::bad_request(format!(
                "mcp_servers: duplicate name '{name}'"
            )));
        }
        names.push(name);
    }
    let referenced: Vec<&str> = tools
        .iter()
        .filter(|t| t["type"] == "mcp_toolset")
        .filter_map(|t| t["mcp_server_name"].as_str())
        .collect();
    for name in &names {
        if !referenced.contains(name) {
            return Err(ApiErr::bad_request(format!(
                "mcp_servers: '{name}' is not referenced by any mcp_toolset"
            )));
        }
    }
    for name in &referenced {
        if !names.contains(name) {
            return Err(ApiErr::bad_request(format!(
                "tools: mcp_toolset references unknown MCP server '{name}'"
            )));
        }
    }
    let servers: Vec<Value> = servers
        .into_iter()
        .map(|s| json!({"type": "url", "name": s["name"], "url": s["url"]}))
        .collect();
    let skills: Vec<Value> = match skills {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(s)) => s
            .iter()
            .map(|s| {
                let kind = s.get("type").and_then(Value::as_str).unwrap_or("");
                let id = s.get("skill_id").and_then(Value::as_str).unwrap_or("");
                if !matches!(kind, "anthropic" | "custom") || id.is_empty() {
                    return Err(ApiErr::bad_request("skills: type and skill_id required"));
                }
                let version = s.get("version").and_then(Value::as_str).unwrap_or("latest");
                Ok(json!({"type": kind, "skill_id": id, "version": version}))
            })
            .collect::<ApiResult<_>>()?,
        Some(_) => return Err(ApiErr::bad_request("skills: must be an array")),
    };
    Ok((json!(tools), json!(servers), json!(skills)))
}

fn nullable_string(body: &Map<String, Value>, key: &str) -> ApiResult<Value> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(Value::Null),
        Some(Value::String(s)) if s.is_empty() => Ok(Value::Null),
        Some(Value::String(s)) => Ok(json!(s)),
        Some(_) => Err(ApiErr::bad_request(format!("{key}: must be a string"))),
    }
}

fn check_name(name: Option<&Value>) -> ApiResult<String> {
    match name.and_then(Value::as_str) {
        Some(n) if !n.is_empty() && n.chars().count() <= 256 => Ok(n.to_owned()),
        _ => Err(ApiErr::bad_request("name: must be 1 to 256 characters")),
    }
}

async fn create(State(shared): State<AppState>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let name = check_name(body.get("name"))?;
    let model = resolve_model(
        body.get("model")
            .ok_or_else(|| ApiErr::bad_request("model: field required"))?,
    )?;
    check_metadata(body.get("metadata"), false)?;
    let (tools, mcp_servers, skills) = resolve_tooling(
        body.get("tools"),
        body.get("mcp_servers"),
        body.get("skills"),
    )?;
    let id = shared.new_id("agent");
    let at = now();
    let agent = json!({
        "type": "agent",
        "id": id,
        "name": name,
        "description": nullable_string(&body, "description")?,
        "model": model,
        "system": nullable_string(&body, "system")?,
        "tools": tools,
        "mcp_servers": mcp_servers,
        "skills": skills,
        "multiagent": body.get("multiagent").cloned().unwrap_or(Value::Null),
        "execution_identity": body
            .get("execution_identity")
            .filter(|v| v.is_object())
            .cloned()
            .unwrap_or(json!({"type": "service_account"})),
        "metadata": body.get("metadata").cloned().unwrap_or(json!({})),
        "version": 1,
        "created_at": at,
        "updated_at": at,
        "archived_at": null,
    });
    lock(&shared.state).agents.insert(id, vec![agent.clone()]);
    ok(agent)
}

async fn retrieve(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let query = query_pairs(query.as_deref());
    let state = lock(&shared.state);
    let versions = state
        .agents
        .get(&id)
        .ok_or_else(|| ApiErr::not_found("agent", &id))?;
    match query.param("version") {
        None => ok(versions.last().cloned().unwrap_or(Value::Null)),
        Some(v) => {
            let n: usize = v
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ApiErr::bad_request("version: must be an integer >= 1"))?;
            let found = versions
                .get(n - 1)
                .cloned()
                .ok_or_else(|| ApiErr::not_found("agent version", v))?;
            ok(found)
        }
    }
}

async fn update(State(shared): State<AppState>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    check_metadata(body.get("metadata"), true)?;
    let mut state = lock(&shared.state);
    let versions = state
        .agents
        .get_mut(&id)
        .ok_or_else(|| ApiErr::not_found("agent", &id))?;
    let current = versions.last().cloned().unwrap_or(Value::Null);
    if !current["archived_at"].is_null() {
        return Err(ApiErr::bad_request(format!("agent {id} is archived")));
    }
    let current_version = current["version"].as_u64().unwrap_or(1);
    if let Some(v) = body.get("version") {
        let sent = v
            .as_u64()
            .ok_or_else(|| ApiErr::bad_request("version: must be an integer"))?;
        if sent != current_version {
            return Err(ApiErr::conflict(format!(
                "agent {id} is at version {current_version}, not {sent}"
            )));
        }
    }
    let mut next = current.clone();
    if let Some(name) = body.get("name") {
        next["name"] = json!(check_name(Some(name))?);
    }
    if let Some(model) = body.get("model") {
        let mut resolved = resolve_model(model)?;
        // An omitted `effort` keeps the stored one.
        if model.get("effort").is_none() {
            resolved["effort"] = current["model"]["effort"].clone();
        }
        next["model"] = resolved;
    }
    for key in ["description", "system"] {
        if body.contains_key(key) {
            next[key] = nullable_string(&body, key)?;
        }
    }
    if ["tools", "mcp_servers", "skills"]
        .iter()
        .any(|k| body.contains_key(*k))
    {
        let pick = |k: &str| -> Option<Value> {
            match body.get(k) {
                Some(v) => Some(v.clone()),
                None => Some(current[k].clone()),
            }
        };
        // Stored tools are already resolved; re-resolving them is idempotent.
        let (tools, servers, skills) = resolve_tooling(
            pick("tools").as_ref(),
            pick("mcp_servers").as_ref(),
            pick("skills").as_ref(),
        )?;
        next["tools"] = tools;
        next["mcp_servers"] = servers;
        next["skills"] = skills;
    }
    if let Some(m) = body.get("multiagent") {
        next["multiagent"] = m.clone();
    }
    if let Some(e) = body.get("execution_identity") {
        next["execution_identity"] = if e.is_object() {
            e.clone()
        } else {
            json!({"type": "service_account"})
        };
    }
    patch_metadata(&mut next, body.get("metadata"));
    // Every successful update mints a new immutable version (whether a no-op update does is
    // UNCONFIRMED for the real API; the fake assumes it does, so callers must never send one).
    next["version"] = json!(current_version + 1);
    next["updated_at"] = json!(now());
    versions.push(next.clone());
    ok(next)
}

async fn archive(State(shared): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let mut state = lock(&shared.state);
    let versions = state
        .agents
        .get_mut(&id)
        .ok_or_else(|| ApiErr::not_found("agent", &id))?;
    let Some(last) = versions.last_mut() else {
        return Err(ApiErr::not_found("agent", &id));
    };
    if last["archived_at"].is_null() {
        let at = now();
        last["archived_at"] = json!(at);
        last["updated_at"] = json!(at);
    }
    ok(last.clone())
}

async fn list(State(shared): State<AppState>, RawQuery(query): RawQuery) -> ApiResult {
    let query = query_pairs(query.as_deref());
    let include_archived = query.flag("include_archived");
    let gte = query.param("created_at[gte]").map(str::to_owned);
    let lte = query.param("created_at[lte]").map(str::to_owned);
    let items: Vec<Value> = lock(&shared.state)
        .agents
        .values()
        .filter_map(|v| v.last().cloned())
        .filter(|a| include_archived || a["archived_at"].is_null())
        .filter(|a| time_in(&a["created_at"], gte.as_deref(), lte.as_deref()))
        .collect();
    ok(cursor_page(items, &query, 100, false)?)
}

/// Whether an RFC 3339 `value` is within `[gte, lte]` (bounds optional).
pub(crate) fn time_in(value: &Value, gte: Option<&str>, lte: Option<&str>) -> bool {
    let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    let Some(t) = value.as_str().and_then(parse) else {
        return gte.is_none() && lte.is_none();
    };
    gte.and_then(parse).is_none_or(|g| t >= g) && lte.and_then(parse).is_none_or(|l| t <= l)
}

async fn versions(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let query = query_pairs(query.as_deref());
    let items: Vec<Value> = lock(&shared.state)
        .agents
        .get(&id)
        .ok_or_else(|| ApiErr::not_found("agent", &id))?
        .iter()
        .rev()
        .cloned()
        .collect();
    ok(cursor_page(items, &query, 100, false)?)
}
