//! `/v1/environments`: unique names (409), the request config resolved into its full response
//! form, omit-vs-null updates, immutable config type, permanent archive, delete (reference
//! environments.md).

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
use crate::testkit::state::{State as Objects, lock, now};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/environments", post(create).get(list))
        .route(
            "/v1/environments/{id}",
            get(retrieve).post(update).delete(delete),
        )
        .route("/v1/environments/{id}/archive", post(archive))
}

/// The six package managers, in the order the response lists them.
const MANAGERS: [&str; 6] = ["apt", "cargo", "gem", "go", "npm", "pip"];

fn empty_packages() -> Value {
    json!({"type": "packages", "apt": [], "cargo": [], "gem": [], "go": [], "npm": [], "pip": []})
}

/// The configuration of an environment created without one.
fn default_config() -> Value {
    json!({"type": "cloud", "networking": {"type": "unrestricted"}, "packages": empty_packages()})
}

fn string_array(value: &Value, what: &str) -> ApiResult<Value> {
    match value {
        Value::Null => Ok(json!([])),
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(value.clone()),
        _ => Err(ApiErr::bad_request(format!(
            "{what}: must be an array of strings"
        ))),
    }
}

fn optional_bool(obj: &Map<String, Value>, key: &str, what: &str) -> ApiResult<Option<bool>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiErr::bad_request(format!(
            "{what}.{key}: must be a boolean"
        ))),
    }
}

/// The response form of a request `networking`; omitted limited-network fields keep the
/// `current` ones (updates) or default to `[]` / `false` (creates).
fn resolve_networking(request: &Value, current: Option<&Value>) -> ApiResult<Value> {
    let Value::Object(obj) = request else {
        return Err(ApiErr::bad_request("config.networking: must be an object"));
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("unrestricted") => Ok(json!({"type": "unrestricted"})),
        Some("limited") => {
            let what = "config.networking";
            let current = current.filter(|c| c["type"] == "limited");
            let hosts = match obj.get("allowed_hosts") {
                None | Some(Value::Null) => current
                    .map(|c| c["allowed_hosts"].clone())
                    .unwrap_or(json!([])),
                Some(v) => string_array(v, "config.networking.allowed_hosts")?,
            };
            let flag = |key: &str| -> ApiResult<bool> {
                Ok(match optional_bool(obj, key, what)? {
                    Some(b) => b,
                    None => current.and_then(|c| c[key].as_bool()).unwrap_or(false),
                })
            };
            Ok(json!({
                "type": "limited",
                "allowed_hosts": hosts,
                "allow_package_managers": flag("allow_package_managers")?,
                "allow_mcp_servers": flag("allow_mcp_servers")?,
            }))
        }
        other => Err(ApiErr::bad_request(format!(
            "config.networking.type: unknown network policy {other:?}"
        ))),
    }
}

/// The response form of a request `packages` (every list present; a given object replaces the
/// stored lists as a whole).
fn resolve_packages(request: &Value) -> ApiResult<Value> {
    let Value::Object(obj) = request else {
        return Err(ApiErr::bad_request("config.packages: must be an object"));
    };
    match obj.get("type") {
        None | Some(Value::Null) => {}
        Some(t) if t == "packages" => {}
        Some(_) => {
            return Err(ApiErr::bad_request(
                "config.packages.type: must be 'packages'",
            ));
        }
    }
    let mut out = empty_packages();
    for manager in MANAGERS {
        if let Some(list) = obj.get(manager) {
            out[manager] = string_array(list, &format!("config.packages.{manager}"))?;
        }
    }
    Ok(out)
}

/// Resolves a request `config` into its full response form. `current` is the stored config
/// on update: its type must match, and omitted `networking` / `packages` are preserved.
fn resolve_config(request: Option<&Value>, current: Option<&Value>) -> ApiResult<Value> {
    let request = match request {
        None | Some(Value::Null) => {
            return Ok(current.cloned().unwrap_or_else(default_config));
        }
        Some(Value::Object(obj)) => obj,
        Some(_) => return Err(ApiErr::bad_request("config: must be an object")),
    };
    let kind = request
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiErr::bad_request("config.type: field required"))?;
    if !matches!(kind, "cloud" | "self_hosted") {
        return Err(ApiErr::bad_request(format!(
            "config.type: unknown environment type '{kind}'"
        )));
    }
    if let Some(current) = current
        && current["type"] != kind
    {
        return Err(ApiErr::bad_request(format!(
            "config.type cannot change from '{}' to '{kind}'",
            current["type"].as_str().unwrap_or_default()
        ))
        .code("invalid_config_type_change"));
    }
    if kind == "self_hosted" {
        return Ok(json!({"type": "self_hosted"}));
    }
    let networking = match request.get("networking") {
        None => current
            .map(|c| c["networking"].clone())
            .unwrap_or(json!({"type": "unrestricted"})),
        Some(Value::Null) => json!({"type": "unrestricted"}),
        Some(n) => resolve_networking(n, current.map(|c| &c["networking"]))?,
    };
    let packages = match request.get("packages") {
        None => current
            .map(|c| c["packages"].clone())
            .unwrap_or_else(empty_packages),
        Some(Value::Null) => empty_packages(),
        Some(p) => resolve_packages(p)?,
    };
    let any_package = MANAGERS
        .iter()
        .any(|m| packages[*m].as_array().is_some_and(|a| !a.is_empty()));
    if networking["type"] == "limited"
        && any_package
        && networking["allow_package_managers"] != true
    {
        return Err(ApiErr::bad_request(
            "config.packages require config.networking.allow_package_managers to be true \
             under limited networking",
        ));
    }
    Ok(json!({"type": "cloud", "networking": networking, "packages": packages}))
}

fn check_name(name: &Value) -> ApiResult<String> {
    match name.as_str() {
        Some(n) if !n.trim().is_empty() && n.chars().count() <= 256 => Ok(n.to_owned()),
        _ => Err(ApiErr::bad_request("name: must be 1 to 256 characters")),
    }
}

/// 409 when another environment (archived ones included) already has `name`.
fn check_unique(state: &Objects, name: &str, except: Option<&str>) -> ApiResult<()> {
    let taken = state
        .environments
        .values()
        .any(|e| e["name"] == name && Some(e["id"].as_str().unwrap_or_default()) != except);
    if taken {
        return Err(ApiErr::conflict(format!(
            "an environment named '{name}' already exists"
        )));
    }
    Ok(())
}

fn check_scope(scope: Option<&Value>) -> ApiResult<Option<Value>> {
    match scope {
        None | Some(Value::Null) => Ok(None),
        Some(s) if s == "organization" => Ok(Some(s.clone())),
        Some(s) if s == "account" => Err(ApiErr::bad_request(
            "scope: 'account' is not supported for API organizations",
        )),
        Some(_) => Err(ApiErr::bad_request(
            "scope: must be 'organization' or 'account'",
        )),
    }
}

fn description(body: &Map<String, Value>) -> ApiResult<Value> {
    match body.get("description") {
        None | Some(Value::Null) => Ok(Value::Null),
        Some(v @ Value::String(_)) => Ok(v.clone()),
        Some(_) => Err(ApiErr::bad_request("description: must be a string")),
    }
}

async fn create(State(shared): State<AppState>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let name = check_name(
        body.get("name")
            .ok_or_else(|| ApiErr::bad_request("name: field required"))?,
    )?;
    let config = resolve_config(body.get("config"), None)?;
    check_metadata(body.get("metadata"), false)?;
    let scope = check_scope(body.get("scope"))?.unwrap_or(json!("organization"));
    let description = description(&body)?;
    let mut state = lock(&shared.state);
    check_unique(&state, &name, None)?;
    let id = shared.new_id("env");
    let at = now();
    let environment = json!({
        "type": "environment",
        "id": id,
        "name": name,
        "description": description,
        "config": config,
        "metadata": body.get("metadata").cloned().unwrap_or(json!({})),
        "scope": scope,
        "created_at": at,
        "updated_at": at,
        "archived_at": null,
    });
    state.environments.insert(id, environment.clone());
    ok(environment)
}

async fn retrieve(State(shared): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let state = lock(&shared.state);
    let environment = state.environments.get(&id).ok_or_else(|| not_found(&id))?;
    ok(environment.clone())
}

fn not_found(id: &str) -> ApiErr {
    ApiErr::not_found("environment", id).code("environment_not_found")
}

async fn update(State(shared): State<AppState>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let mut state = lock(&shared.state);
    let current = state
        .environments
        .get(&id)
        .cloned()
        .ok_or_else(|| not_found(&id))?;
    if !current["archived_at"].is_null() {
        return Err(ApiErr::bad_request(format!("environment {id} is archived"))
            .code("environment_archived"));
    }
    check_metadata(body.get("metadata"), true)?;
    let mut next = current.clone();
    match body.get("name") {
        None | Some(Value::Null) => {}
        Some(name) => {
            let name = check_name(name)?;
            check_unique(&state, &name, Some(&id))?;
            next["name"] = json!(name);
        }
    }
    if body.contains_key("description") {
        next["description"] = description(&body)?;
    }
    next["config"] = resolve_config(body.get("config"), Some(&current["config"]))?;
    if let Some(scope) = check_scope(body.get("scope"))? {
        next["scope"] = scope;
    }
    // For environments an empty string deletes a key too.
    let patch = body.get("metadata").map(|m| match m {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if v == "" { Value::Null } else { v.clone() };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    });
    patch_metadata(&mut next, patch.as_ref());
    next["updated_at"] = json!(now());
    state.environments.insert(id, next.clone());
    ok(next)
}

async fn delete(State(shared): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let mut state = lock(&shared.state);
    state
        .environments
        .remove(&id)
        .ok_or_else(|| not_found(&id))?;
    ok(json!({"id": id, "type": "environment_deleted"}))
}

async fn archive(State(shared): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let mut state = lock(&shared.state);
    let environment = state
        .environments
        .get_mut(&id)
        .ok_or_else(|| not_found(&id))?;
    if environment["archived_at"].is_null() {
        let at = now();
        environment["archived_at"] = json!(at);
        environment["updated_at"] = json!(at);
    }
    ok(environment.clone())
}

async fn list(State(shared): State<AppState>, RawQuery(query): RawQuery) -> ApiResult {
    let query = query_pairs(query.as_deref());
    let include_archived = query.flag("include_archived");
    let items: Vec<Value> = lock(&shared.state)
        .environments
        .values()
        .filter(|e| include_archived || e["archived_at"].is_null())
        .cloned()
        .collect();
    ok(cursor_page(items, &query, 100, false)?)
}
