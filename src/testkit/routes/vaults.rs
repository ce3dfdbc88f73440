//! `/v1/vaults` and their credentials: write-only secrets (kept apart from the returned
//! objects, never echoed), one active credential per `mcp_server_url` per vault (409),
//! immutable credential type / `mcp_server_url` / `secret_name`, secret rotation, permanent
//! archive, delete, and `mcp_oauth_validate` (reference vaults.md).
//!
//! Approximations: `mcp_server_url`s match after normalising scheme/host case, the default
//! port and a trailing slash (per third-party guides); an `environment_variable`
//! credential's `secret_name` is likewise unique among a vault's active credentials (409;
//! UNCONFIRMED for the real API); an omitted `injection_location` means headers only; deleting
//! a vault deletes its credentials, archiving one leaves them as they are but read-only.

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
        .route("/v1/vaults", post(create).get(list))
        .route("/v1/vaults/{id}", get(retrieve).post(update).delete(delete))
        .route("/v1/vaults/{id}/archive", post(archive))
        .route(
            "/v1/vaults/{id}/credentials",
            post(create_credential).get(list_credentials),
        )
        .route(
            "/v1/vaults/{id}/credentials/{cid}",
            get(retrieve_credential)
                .post(update_credential)
                .delete(delete_credential),
        )
        .route(
            "/v1/vaults/{id}/credentials/{cid}/archive",
            post(archive_credential),
        )
        .route(
            "/v1/vaults/{id}/credentials/{cid}/mcp_oauth_validate",
            post(validate_credential),
        )
}

/// Active (non-archived) credentials a vault may hold (a third-party guide's limit).
const MAX_CREDENTIALS: usize = 20;

// ---------------------------------------------------------------------------------------------
// Field helpers
// ---------------------------------------------------------------------------------------------

/// A required non-empty string.
fn required_str<'a>(obj: &'a Map<String, Value>, key: &str, what: &str) -> ApiResult<&'a str> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        None | Some(Value::Null) => {
            Err(ApiErr::bad_request(format!("{what}.{key}: field required")))
        }
        Some(_) => Err(ApiErr::bad_request(format!(
            "{what}.{key}: must be a non-empty string"
        ))),
    }
}

/// An optional string (`null` and absent are `None`).
fn optional_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    what: &str,
) -> ApiResult<Option<&'a str>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiErr::bad_request(format!(
            "{what}.{key}: must be a string"
        ))),
    }
}

fn object<'a>(value: &'a Value, what: &str) -> ApiResult<&'a Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| ApiErr::bad_request(format!("{what}: must be an object")))
}

fn check_display_name(value: &Value, what: &str) -> ApiResult<String> {
    match value.as_str() {
        Some(n) if !n.is_empty() && n.chars().count() <= 255 => Ok(n.to_owned()),
        _ => Err(ApiErr::bad_request(format!(
            "{what}: must be 1 to 255 characters"
        ))),
    }
}

/// An `http(s)` URL.
fn check_url(url: &str, what: &str) -> ApiResult<()> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(ApiErr::bad_request(format!(
            "{what}: must be an http(s) URL"
        ))),
    }
}

/// The identity of an MCP server URL for matching: scheme and host lower-cased, default port
/// dropped, trailing slash ignored.
fn normalise_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            let path = u.path().trim_end_matches('/');
            let query = u.query().map(|q| format!("?{q}")).unwrap_or_default();
            format!(
                "{}://{}{port}{path}{query}",
                u.scheme(),
                u.host_str().unwrap_or_default().to_ascii_lowercase()
            )
        }
        Err(_) => url.to_owned(),
    }
}

/// An RFC 3339 timestamp in the future (or `null`).
fn check_expires_at(value: Option<&Value>) -> ApiResult<Value> {
    match value {
        None | Some(Value::Null) => Ok(Value::Null),
        Some(Value::String(s)) => {
            let t = chrono::DateTime::parse_from_rfc3339(s).map_err(|_| {
                ApiErr::bad_request("auth.expires_at: must be an RFC 3339 timestamp")
            })?;
            if t <= chrono::Utc::now() {
                return Err(ApiErr::bad_request(
                    "auth.expires_at: must be in the future",
                ));
            }
            Ok(json!(s))
        }
        Some(_) => Err(ApiErr::bad_request(
            "auth.expires_at: must be an RFC 3339 timestamp",
        )),
    }
}

fn is_expired(expires_at: &Value) -> bool {
    expires_at
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .is_some_and(|t| t <= chrono::Utc::now())
}

// ---------------------------------------------------------------------------------------------
// Vaults
// ---------------------------------------------------------------------------------------------

fn vault_not_found(id: &str) -> ApiErr {
    ApiErr::not_found("vault", id)
}

async fn create(State(shared): State<AppState>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let display_name = check_display_name(
        body.get("display_name")
            .ok_or_else(|| ApiErr::bad_request("display_name: field required"))?,
        "display_name",
    )?;
    check_metadata(body.get("metadata"), false)?;
    let id = shared.new_id("vlt");
    let at = now();
    let vault = json!({
        "type": "vault",
        "id": id,
        "display_name": display_name,
        "metadata": body.get("metadata").cloned().unwrap_or(json!({})),
        "created_at": at,
        "updated_at": at,
        "archived_at": null,
    });
    lock(&shared.state).vaults.insert(id, vault.clone());
    ok(vault)
}

async fn retrieve(State(shared): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let state = lock(&shared.state);
    ok(state
        .vaults
        .get(&id)
        .cloned()
        .ok_or_else(|| vault_not_found(&id))?)
}

async fn update(State(shared): State<AppState>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    check_metadata(body.get("metadata"), true)?;
    let mut state = lock(&shared.state);
    let vault = state
        .vaults
        .get_mut(&id)
        .ok_or_else(|| vault_not_found(&id))?;
    if !vault["archived_at"].is_null() {
        return Err(ApiErr::bad_request(format!("vault {id} is archived")));
    }
    let mut next = vault.clone();
    match body.get("display_name") {
        None | Some(Value::Null) => {}
        Some(name) => next["display_name"] = json!(check_display_name(name, "display_name")?),
    }
    patch_metadata(&mut next, body.get("metadata"));
    next["updated_at"] = json!(now());
    *vault = next.clone();
    ok(next)
}

async fn delete(State(shared): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let mut state = lock(&shared.state);
    state
        .vaults
        .remove(&id)
        .ok_or_else(|| vault_not_found(&id))?;
    // Deleting a vault deletes its credentials and their secrets.
    let owned: Vec<String> = state
        .credentials
        .iter()
        .filter(|(_, c)| c["vault_id"] == id.as_str())
        .map(|(cid, _)| cid.clone())
        .collect();
    for cid in owned {
        state.credentials.remove(&cid);
        state.credential_secrets.remove(&cid);
    }
    ok(json!({"id": id, "type": "vault_deleted"}))
}

async fn archive(State(shared): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let mut state = lock(&shared.state);
    let vault = state
        .vaults
        .get_mut(&id)
        .ok_or_else(|| vault_not_found(&id))?;
    if vault["archived_at"].is_null() {
        let at = now();
        vault["archived_at"] = json!(at);
        vault["updated_at"] = json!(at);
    }
    ok(vault.clone())
}

async fn list(State(shared): State<AppState>, RawQuery(query): RawQuery) -> ApiResult {
    let query = query_pairs(query.as_deref());
    let include_archived = query.flag("include_archived");
    let items: Vec<Value> = lock(&shared.state)
        .vaults
        .values()
        .filter(|v| include_archived || v["archived_at"].is_null())
        .cloned()
        .collect();
    ok(cursor_page(items, &query, 100, false)?)
}

// ---------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------

/// The vault, which must exist (404) and, for writes, not be archived (400).
fn live_vault(state: &Objects, id: &str, write: bool) -> ApiResult<()> {
    let vault = state.vaults.get(id).ok_or_else(|| vault_not_found(id))?;
    if write && !vault["archived_at"].is_null() {
        return Err(ApiErr::bad_request(format!("vault {id} is archived")));
    }
    Ok(())
}

/// The credential `cid` of vault `vid` (404 when absent or in another vault).
fn credential<'a>(state: &'a Objects, vid: &str, cid: &str) -> ApiResult<&'a Value> {
    state
        .credentials
        .get(cid)
        .filter(|c| c["vault_id"] == vid)
        .ok_or_else(|| ApiErr::not_found("credential", cid))
}

/// The response form of a token-endpoint auth, and its secret.
fn token_endpoint_auth(value: Option<&Value>) -> ApiResult<(Value, Option<String>)> {
    let what = "auth.refresh.token_endpoint_auth";
    let obj = object(
        value.ok_or_else(|| ApiErr::bad_request(format!("{what}: field required")))?,
        what,
    )?;
    match obj.get("type").and_then(Value::as_str) {
        Some("none") => Ok((json!({"type": "none"}), None)),
        Some(kind @ ("client_secret_basic" | "client_secret_post")) => {
            let secret = required_str(obj, "client_secret", what)?;
            Ok((json!({"type": kind}), Some(secret.to_owned())))
        }
        other => Err(ApiErr::bad_request(format!(
            "{what}.type: unknown method {other:?}"
        ))),
    }
}

/// The response form of `environment_variable` networking.
fn credential_networking(value: Option<&Value>) -> ApiResult<Value> {
    let what = "auth.networking";
    let obj = object(
        value.ok_or_else(|| ApiErr::bad_request(format!("{what}: field required")))?,
        what,
    )?;
    match obj.get("type").and_then(Value::as_str) {
        Some("unrestricted") => Ok(json!({"type": "unrestricted"})),
        Some("limited") => {
            let hosts = obj
                .get("allowed_hosts")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    ApiErr::bad_request(format!("{what}.allowed_hosts: field required"))
                })?;
            if hosts.len() > 16 {
                return Err(ApiErr::bad_request(format!(
                    "{what}.allowed_hosts: at most 16 entries"
                )));
            }
            for host in hosts {
                let h = host.as_str().unwrap_or_default();
                let bare = h.strip_prefix("*.").unwrap_or(h);
                if bare.is_empty() || bare.contains(['/', ':', '*', '[', ']', ' ', '@', '?', '#']) {
                    return Err(ApiErr::bad_request(format!(
                        "{what}.allowed_hosts: '{h}' is not a bare hostname, IPv4 address \
                         or *. wildcard"
                    )));
                }
            }
            Ok(json!({"type": "limited", "allowed_hosts": hosts}))
        }
        other => Err(ApiErr::bad_request(format!(
            "{what}.type: unknown network policy {other:?}"
        ))),
    }
}

/// Merges a request `injection_location` into `current` (absent keys keep their value); at
/// least one location must remain enabled.
fn injection_location(value: Option<&Value>, current: &Value) -> ApiResult<Value> {
    let what = "auth.injection_location";
    let mut out = current.clone();
    if let Some(v) = value.filter(|v| !v.is_null()) {
        for (key, flag) in object(v, what)? {
            if !matches!(key.as_str(), "header" | "body") {
                return Err(ApiErr::bad_request(format!(
                    "{what}.{key}: unknown location"
                )));
            }
            match flag {
                Value::Bool(_) => out[key.as_str()] = flag.clone(),
                Value::Null => {}
                _ => {
                    return Err(ApiErr::bad_request(format!(
                        "{what}.{key}: must be a boolean"
                    )));
                }
            }
        }
    }
    if out["header"] != true && out["body"] != true {
        return Err(ApiErr::bad_request(format!(
            "{what}: at least one location must be enabled"
        )));
    }
    Ok(out)
}

/// The response form of a create-request `auth`, and its secrets.
fn resolve_auth(value: Option<&Value>) -> ApiResult<(Value, Map<String, Value>)> {
    let auth = object(
        value.ok_or_else(|| ApiErr::bad_request("auth: field required"))?,
        "auth",
    )?;
    let mut secrets = Map::new();
    let kind = auth.get("type").and_then(Value::as_str).unwrap_or_default();
    let resolved = match kind {
        "mcp_oauth" => {
            let url = required_str(auth, "mcp_server_url", "auth")?;
            check_url(url, "auth.mcp_server_url")?;
            let token = required_str(auth, "access_token", "auth")?;
            secrets.insert("access_token".into(), json!(token));
            let expires_at = check_expires_at(auth.get("expires_at"))?;
            let refresh = match auth.get("refresh") {
                None | Some(Value::Null) => Value::Null,
                Some(r) => {
                    let what = "auth.refresh";
                    let r = object(r, what)?;
                    let refresh_token = required_str(r, "refresh_token", what)?;
                    secrets.insert("refresh_token".into(), json!(refresh_token));
                    let endpoint = required_str(r, "token_endpoint", what)?;
                    check_url(endpoint, "auth.refresh.token_endpoint")?;
                    let (method, secret) = token_endpoint_auth(r.get("token_endpoint_auth"))?;
                    if let Some(secret) = secret {
                        secrets.insert("client_secret".into(), json!(secret));
                    }
                    json!({
                        "client_id": required_str(r, "client_id", what)?,
                        "token_endpoint": endpoint,
                        "token_endpoint_auth": method,
                        "scope": optional_str(r, "scope", what)?,
                        "resource": optional_str(r, "resource", what)?,
                    })
                }
            };
            json!({
                "type": "mcp_oauth",
                "mcp_server_url": url,
                "expires_at": expires_at,
                "refresh": refresh,
            })
        }
        "static_bearer" => {
            let url = required_str(auth, "mcp_server_url", "auth")?;
            check_url(url, "auth.mcp_server_url")?;
            secrets.insert("token".into(), json!(required_str(auth, "token", "auth")?));
            json!({"type": "static_bearer", "mcp_server_url": url})
        }
        "environment_variable" => {
            let name = required_str(auth, "secret_name", "auth")?;
            let valid_name = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid_name {
                return Err(ApiErr::bad_request(
                    "auth.secret_name: must be a valid environment variable name",
                ));
            }
            let value = required_str(auth, "secret_value", "auth")?;
            secrets.insert("secret_value".into(), json!(value));
            json!({
                "type": "environment_variable",
                "secret_name": name,
                "networking": credential_networking(auth.get("networking"))?,
                "injection_location": injection_location(
                    auth.get("injection_location"),
                    &json!({"header": true, "body": false}),
                )?,
            })
        }
        other => {
            return Err(ApiErr::bad_request(format!(
                "auth.type: unknown credential type '{other}'"
            )));
        }
    };
    Ok((resolved, secrets))
}

/// 409 when another active credential of the vault has the same identity (`mcp_server_url`
/// for MCP credentials, `secret_name` for environment variables).
fn check_unique(state: &Objects, vault_id: &str, auth: &Value) -> ApiResult<()> {
    let active = state
        .credentials
        .values()
        .filter(|c| c["vault_id"] == vault_id && c["archived_at"].is_null());
    if let Some(url) = auth["mcp_server_url"].as_str() {
        let key = normalise_url(url);
        if active.clone().any(|c| {
            c["auth"]["mcp_server_url"]
                .as_str()
                .is_some_and(|u| normalise_url(u) == key)
        }) {
            return Err(ApiErr::conflict(format!(
                "vault {vault_id} already has an active credential for {url}"
            )));
        }
    } else if let Some(name) = auth["secret_name"].as_str()
        && active
            .clone()
            .any(|c| c["auth"]["secret_name"].as_str() == Some(name))
    {
        return Err(ApiErr::conflict(format!(
            "vault {vault_id} already has an active credential named {name}"
        )));
    }
    let count = state
        .credentials
        .values()
        .filter(|c| c["vault_id"] == vault_id && c["archived_at"].is_null())
        .count();
    if count >= MAX_CREDENTIALS {
        return Err(ApiErr::bad_request(format!(
            "vault {vault_id} already holds {MAX_CREDENTIALS} credentials"
        )));
    }
    Ok(())
}

fn optional_display_name(body: &Map<String, Value>) -> ApiResult<Value> {
    match body.get("display_name") {
        None | Some(Value::Null) => Ok(Value::Null),
        Some(name) => Ok(json!(check_display_name(name, "display_name")?)),
    }
}

async fn create_credential(
    State(shared): State<AppState>,
    Path(vid): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = json_object(&body)?;
    let (auth, secrets) = resolve_auth(body.get("auth"))?;
    let display_name = optional_display_name(&body)?;
    check_metadata(body.get("metadata"), false)?;
    let mut state = lock(&shared.state);
    live_vault(&state, &vid, true)?;
    check_unique(&state, &vid, &auth)?;
    let id = shared.new_id("vcrd");
    let at = now();
    let credential = json!({
        "type": "vault_credential",
        "id": id,
        "vault_id": vid,
        "display_name": display_name,
        "auth": auth,
        "metadata": body.get("metadata").cloned().unwrap_or(json!({})),
        "created_at": at,
        "updated_at": at,
        "archived_at": null,
    });
    state.credentials.insert(id.clone(), credential.clone());
    state.credential_secrets.insert(id, secrets);
    ok(credential)
}

async fn retrieve_credential(
    State(shared): State<AppState>,
    Path((vid, cid)): Path<(String, String)>,
) -> ApiResult {
    let state = lock(&shared.state);
    live_vault(&state, &vid, false)?;
    ok(credential(&state, &vid, &cid)?.clone())
}

/// Stores (`Some`) or removes (`None`) one secret.
fn set_secret(secrets: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    match value {
        Some(v) => {
            secrets.insert(key.to_owned(), json!(v));
        }
        None => {
            secrets.remove(key);
        }
    }
}

/// A rotated secret: `Some(Some(v))` sets, `Some(None)` (JSON `null`) clears, `None` keeps.
fn secret_patch<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    what: &str,
) -> ApiResult<Option<Option<&'a str>>> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(Some(s))),
        Some(_) => Err(ApiErr::bad_request(format!(
            "{what}.{key}: must be a non-empty string"
        ))),
    }
}

/// Applies an update-request `auth` to the stored `auth` and secrets.
fn apply_auth_update(
    request: &Value,
    auth: &mut Value,
    secrets: &mut Map<String, Value>,
) -> ApiResult<()> {
    let req = object(request, "auth")?;
    let kind = auth["type"].as_str().unwrap_or_default().to_owned();
    match req.get("type").and_then(Value::as_str) {
        Some(t) if t == kind => {}
        Some(t) => {
            return Err(ApiErr::bad_request(format!(
                "auth.type: a {kind} credential cannot become {t}"
            )));
        }
        None => return Err(ApiErr::bad_request("auth.type: field required")),
    }
    for immutable in ["mcp_server_url", "secret_name"] {
        if let Some(v) = req.get(immutable)
            && *v != auth[immutable]
        {
            return Err(ApiErr::bad_request(format!(
                "auth.{immutable}: immutable; archive the credential and create a new one"
            )));
        }
    }
    match kind.as_str() {
        "mcp_oauth" => {
            if let Some(token) = secret_patch(req, "access_token", "auth")? {
                set_secret(secrets, "access_token", token);
            }
            if req.contains_key("expires_at") {
                auth["expires_at"] = check_expires_at(req.get("expires_at"))?;
            }
            match req.get("refresh") {
                None => {}
                Some(Value::Null) => {
                    auth["refresh"] = Value::Null;
                    secrets.remove("refresh_token");
                    secrets.remove("client_secret");
                }
                Some(r) => {
                    let what = "auth.refresh";
                    let r = object(r, what)?;
                    if auth["refresh"].is_null() {
                        return Err(ApiErr::bad_request(
                            "auth.refresh: the credential has no refresh configuration to \
                             update (client_id and token_endpoint are set at creation)",
                        ));
                    }
                    for fixed in ["client_id", "token_endpoint", "resource"] {
                        if r.contains_key(fixed) {
                            return Err(ApiErr::bad_request(format!(
                                "{what}.{fixed}: cannot be updated"
                            )));
                        }
                    }
                    if let Some(token) = secret_patch(r, "refresh_token", what)? {
                        set_secret(secrets, "refresh_token", token);
                    }
                    if r.contains_key("scope") {
                        let scope = optional_str(r, "scope", what)?.filter(|s| !s.is_empty());
                        auth["refresh"]["scope"] = json!(scope);
                    }
                    if let Some(method) = r.get("token_endpoint_auth").filter(|v| !v.is_null()) {
                        let m = object(method, "auth.refresh.token_endpoint_auth")?;
                        let sent = m.get("type").and_then(Value::as_str).unwrap_or_default();
                        if !matches!(sent, "client_secret_basic" | "client_secret_post") {
                            return Err(ApiErr::bad_request(
                                "auth.refresh.token_endpoint_auth.type: only \
                                 client_secret_basic or client_secret_post can be updated",
                            ));
                        }
                        if auth["refresh"]["token_endpoint_auth"]["type"] == "none" {
                            return Err(ApiErr::bad_request(
                                "auth.refresh.token_endpoint_auth: the credential is a public \
                                 client (none); its method cannot change",
                            ));
                        }
                        // The stored method is kept even if the other type is sent.
                        if let Some(secret) =
                            secret_patch(m, "client_secret", "auth.refresh.token_endpoint_auth")?
                        {
                            set_secret(secrets, "client_secret", secret);
                        }
                    }
                }
            }
        }
        "static_bearer" => {
            if let Some(Some(token)) = secret_patch(req, "token", "auth")? {
                set_secret(secrets, "token", Some(token));
            }
        }
        "environment_variable" => {
            if let Some(Some(value)) = secret_patch(req, "secret_value", "auth")? {
                set_secret(secrets, "secret_value", Some(value));
            }
            if let Some(n) = req.get("networking").filter(|v| !v.is_null()) {
                auth["networking"] = credential_networking(Some(n))?;
            }
            if req.contains_key("injection_location") {
                auth["injection_location"] =
                    injection_location(req.get("injection_location"), &auth["injection_location"])?;
            }
        }
        _ => {}
    }
    Ok(())
}

async fn update_credential(
    State(shared): State<AppState>,
    Path((vid, cid)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body = json_object(&body)?;
    check_metadata(body.get("metadata"), true)?;
    let mut state = lock(&shared.state);
    live_vault(&state, &vid, true)?;
    let mut next = credential(&state, &vid, &cid)?.clone();
    if !next["archived_at"].is_null() {
        return Err(ApiErr::bad_request(format!("credential {cid} is archived")));
    }
    let mut secrets = state
        .credential_secrets
        .get(&cid)
        .cloned()
        .unwrap_or_default();
    if let Some(auth) = body.get("auth").filter(|a| !a.is_null()) {
        apply_auth_update(auth, &mut next["auth"], &mut secrets)?;
    }
    if body.contains_key("display_name") {
        next["display_name"] = optional_display_name(&body)?;
    }
    patch_metadata(&mut next, body.get("metadata"));
    next["updated_at"] = json!(now());
    state.credentials.insert(cid.clone(), next.clone());
    state.credential_secrets.insert(cid, secrets);
    ok(next)
}

async fn delete_credential(
    State(shared): State<AppState>,
    Path((vid, cid)): Path<(String, String)>,
) -> ApiResult {
    let mut state = lock(&shared.state);
    live_vault(&state, &vid, false)?;
    credential(&state, &vid, &cid)?;
    state.credentials.remove(&cid);
    state.credential_secrets.remove(&cid);
    ok(json!({"id": cid, "type": "vault_credential_deleted"}))
}

async fn archive_credential(
    State(shared): State<AppState>,
    Path((vid, cid)): Path<(String, String)>,
) -> ApiResult {
    let mut state = lock(&shared.state);
    live_vault(&state, &vid, false)?;
    credential(&state, &vid, &cid)?;
    let Some(c) = state.credentials.get_mut(&cid) else {
        return Err(ApiErr::not_found("credential", &cid));
    };
    if c["archived_at"].is_null() {
        let at = now();
        c["archived_at"] = json!(at);
        c["updated_at"] = json!(at);
    }
    ok(c.clone())
}

async fn list_credentials(
    State(shared): State<AppState>,
    Path(vid): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let query = query_pairs(query.as_deref());
    let include_archived = query.flag("include_archived");
    let state = lock(&shared.state);
    live_vault(&state, &vid, false)?;
    let items: Vec<Value> = state
        .credentials
        .values()
        .filter(|c| c["vault_id"] == vid.as_str())
        .filter(|c| include_archived || c["archived_at"].is_null())
        .cloned()
        .collect();
    ok(cursor_page(items, &query, 100, false)?)
}

/// `mcp_oauth_validate`: the fake's MCP servers accept any stored access token that has not
/// expired (`valid`); an expired or cleared token is refreshed when a refresh token is stored
/// (`valid`, refresh `succeeded`), else the probe's `initialize` answers 401 (`invalid`).
async fn validate_credential(
    State(shared): State<AppState>,
    Path((vid, cid)): Path<(String, String)>,
) -> ApiResult {
    let state = lock(&shared.state);
    live_vault(&state, &vid, false)?;
    let c = credential(&state, &vid, &cid)?;
    if c["auth"]["type"] != "mcp_oauth" {
        return Err(ApiErr::bad_request(format!(
            "credential {cid} is not an mcp_oauth credential"
        )));
    }
    if !c["archived_at"].is_null() {
        return Err(ApiErr::bad_request(format!("credential {cid} is archived")));
    }
    let secrets = state.credential_secrets.get(&cid);
    let has = |key: &str| secrets.is_some_and(|s| s.contains_key(key));
    let has_refresh_token = has("refresh_token") && !c["auth"]["refresh"].is_null();
    let token_usable = has("access_token") && !is_expired(&c["auth"]["expires_at"]);
    let (status, probe, refresh) = if token_usable {
        ("valid", Value::Null, Value::Null)
    } else if has_refresh_token {
        (
            "valid",
            Value::Null,
            json!({"status": "succeeded", "http_response": null}),
        )
    } else {
        (
            "invalid",
            json!({
                "method": "initialize",
                "http_response": {
                    "status_code": 401,
                    "content_type": "application/json",
                    "body": "{\"error\":\"invalid_token\"}",
                    "body_truncated": false,
                },
            }),
            json!({"status": "no_refresh_token", "http_response": null}),
        )
    };
    ok(json!({
        "type": "vault_credential_validation",
        "credential_id": cid,
        "vault_id": vid,
        "validated_at": now(),
        "status": status,
        "has_refresh_token": has_refresh_token,
        "mcp_probe": probe,
        "refresh": refresh,
    }))
}
