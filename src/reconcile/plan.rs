//! The pure planner: desired state × recorded status × observed remote state → [`Plan`].
//!
//! No I/O happens here; [`plan`] and [`plan_delete`] are plain functions, unit-tested below.

use std::fmt;

use serde::Serialize;

use super::desired::{AgentShape, Desired, EnvironmentShape, META_FINGERPRINT, owned_by};
use super::fingerprint::short_hash;
use super::status::{ObjectKind, ReconcileStatus};
use crate::api::types::agents::Agent;
use crate::api::types::environments::Environment;
use crate::api::types::vaults::{Credential, CredentialAuth, Vault};

/// What was read remotely before planning.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// The recorded agent as read (`None`: nothing recorded, or 404).
    pub agent: Option<Agent>,
    /// The recorded environment as read.
    pub environment: Option<Environment>,
    /// The recorded vault as read.
    pub vault: Option<Vault>,
    /// The active credentials of the vault the plan will use (the recorded one if it is
    /// active, else the first vault candidate).
    pub credentials: Vec<Credential>,
    /// Active agents found by ownership metadata (searched only when needed), oldest first.
    pub agent_candidates: Vec<Agent>,
    /// Active environments found by ownership metadata, oldest first.
    pub environment_candidates: Vec<Environment>,
    /// Active vaults found by ownership metadata, oldest first.
    pub vault_candidates: Vec<Vault>,
}

/// What an action does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Op {
    /// Create a new object.
    Create,
    /// Create a new object replacing a recorded one that was archived or deleted remotely.
    Recreate,
    /// Record an existing object found by ownership metadata (a lost create).
    Adopt,
    /// Update fields in place.
    Update,
    /// Replace a credential's secrets in place.
    Rotate,
    /// Archive (permanent).
    Archive,
}

/// One field that differs, summarised for display (never a secret; long text as lengths and
/// short hashes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The field (`system`, `model`, `tools`, …).
    pub field: String,
    /// The remote value, summarised.
    pub from: String,
    /// The desired value, summarised.
    pub to: String,
}

/// One step of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Action {
    /// The object kind.
    pub kind: ObjectKind,
    /// What to do.
    pub op: Op,
    /// The remote id (for everything but creates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The agent version the update is based on (agents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// For credentials: the MCP server name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Display label (a name or URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// For updates: what differs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// Why (`archived`, `deleted`, `duplicate`, `found by metadata`, `secret changed`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Action {
    fn new(kind: ObjectKind, op: Op) -> Self {
        Self {
            kind,
            op,
            id: None,
            version: None,
            server: None,
            label: None,
            changes: Vec::new(),
            reason: None,
        }
    }
    fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
    fn version(mut self, v: u64) -> Self {
        self.version = Some(v);
        self
    }
    fn server(mut self, s: &str) -> Self {
        self.server = Some(s.to_owned());
        self
    }
    fn label(mut self, l: impl Into<String>) -> Self {
        self.label = Some(l.into());
        self
    }
    fn reason(mut self, r: &str) -> Self {
        self.reason = Some(r.to_owned());
        self
    }
    fn changes(mut self, c: Vec<FieldChange>) -> Self {
        self.changes = c;
        self
    }

    /// Whether the action writes remotely (everything but [`Op::Adopt`]).
    pub fn is_write(&self) -> bool {
        self.op != Op::Adopt
    }
}

/// An ordered list of actions. Empty: nothing to write remotely.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The actions, in execution order.
    pub actions: Vec<Action>,
}

impl Plan {
    /// Whether the plan makes no remote write.
    pub fn is_empty(&self) -> bool {
        !self.actions.iter().any(Action::is_write)
    }

    /// Actions of one kind.
    pub fn of(&self, kind: ObjectKind) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(move |a| a.kind == kind)
    }
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn text_summary(s: &str) -> String {
    if s.is_empty() {
        return "(empty)".to_owned();
    }
    format!("{} chars #{}", thousands(s.chars().count()), short_hash(s))
}

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

fn list_summary(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

fn tool_label(t: &serde_json::Value) -> String {
    match t.get("kind").and_then(serde_json::Value::as_str) {
        Some("custom") => t["name"].as_str().unwrap_or("?").to_owned(),
        Some("mcp_toolset") => format!("mcp:{}", t["server"].as_str().unwrap_or("?")),
        Some("agent_toolset") => "agent_toolset".to_owned(),
        _ => "other".to_owned(),
    }
}

fn tools_summary(tools: &[serde_json::Value]) -> String {
    let mut labels: Vec<String> = tools.iter().map(tool_label).collect();
    labels.sort();
    list_summary(&labels)
}

/// The fields of `remote` that differ from `desired`.
pub fn agent_changes(desired: &AgentShape, remote: &AgentShape) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut push = |field: &str, from: String, to: String| {
        out.push(FieldChange {
            field: field.to_owned(),
            from,
            to,
        })
    };
    if desired.name != remote.name {
        push("name", quoted(&remote.name), quoted(&desired.name));
    }
    if desired.system != remote.system {
        let (mut from, mut to) = (text_summary(&remote.system), text_summary(&desired.system));
        if remote.system.chars().count() != desired.system.chars().count() {
            // Lengths tell them apart; keep the plan terse.
            from = format!("{} chars", thousands(remote.system.chars().count()));
            to = format!("{} chars", thousands(desired.system.chars().count()));
        }
        push("system", from, to);
    }
    if desired.model != remote.model {
        push("model", quoted(&remote.model), quoted(&desired.model));
    }
    if desired.tools != remote.tools {
        let (f, t) = (tools_summary(&remote.tools), tools_summary(&desired.tools));
        let (f, t) = if f == t {
            (format!("{f} (settings differ)"), t)
        } else {
            (f, t)
        };
        push("tools", f, t);
    }
    if desired.mcp_servers != remote.mcp_servers {
        let s = |v: &[(String, String)]| {
            list_summary(
                &v.iter()
                    .map(|(n, u)| format!("{n}={u}"))
                    .collect::<Vec<_>>(),
            )
        };
        push(
            "mcp_servers",
            s(&remote.mcp_servers),
            s(&desired.mcp_servers),
        );
    }
    if desired.skills != remote.skills {
        let s = |v: &[(String, String, Option<String>)]| {
            list_summary(
                &v.iter()
                    .map(|(k, id, ver)| match ver {
                        Some(ver) => format!("{k}:{id}@{ver}"),
                        None => format!("{k}:{id}"),
                    })
                    .collect::<Vec<_>>(),
            )
        };
        push("skills", s(&remote.skills), s(&desired.skills));
    }
    out
}

/// The fields of `remote` that differ from `desired`.
pub fn environment_changes(
    desired: &EnvironmentShape,
    remote: &EnvironmentShape,
) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let net = |e: &EnvironmentShape| {
        if e.networking == "limited" {
            format!(
                "limited {} (package managers: {}, mcp servers: {})",
                list_summary(&e.allowed_hosts),
                e.allow_package_managers,
                e.allow_mcp_servers
            )
        } else {
            e.networking.clone()
        }
    };
    if (
        &desired.networking,
        &desired.allowed_hosts,
        desired.allow_package_managers,
        desired.allow_mcp_servers,
    ) != (
        &remote.networking,
        &remote.allowed_hosts,
        remote.allow_package_managers,
        remote.allow_mcp_servers,
    ) {
        out.push(FieldChange {
            field: "networking".to_owned(),
            from: net(remote),
            to: net(desired),
        });
    }
    for (k, want) in &desired.packages {
        let have = remote.packages.get(k).cloned().unwrap_or_default();
        if &have != want {
            out.push(FieldChange {
                field: format!("packages.{k}"),
                from: list_summary(&have),
                to: list_summary(want),
            });
        }
    }
    out
}

fn agent_plan(d: &Desired, status: Option<&ReconcileStatus>, o: &Observed, out: &mut Vec<Action>) {
    let recorded = status.and_then(|s| s.agent.as_ref());
    let live = o.agent.as_ref().filter(|a| !a.is_archived());
    let (target, mut extras): (Option<&Agent>, Vec<&Agent>) = match live {
        Some(a) => (
            Some(a),
            o.agent_candidates.iter().filter(|c| c.id != a.id).collect(),
        ),
        None => {
            let mut c = o.agent_candidates.iter().filter(|c| !c.is_archived());
            let first = c.next();
            if let Some(a) = first {
                out.push(
                    Action::new(ObjectKind::Agent, Op::Adopt)
                        .id(a.id.as_str())
                        .version(a.version)
                        .label(&a.name)
                        .reason("found by metadata"),
                );
            }
            (first, c.collect())
        }
    };
    match target {
        None => {
            let (op, reason) = match (recorded, &o.agent) {
                (None, _) => (Op::Create, None),
                (Some(_), Some(_)) => (Op::Recreate, Some("archived")),
                (Some(_), None) => (Op::Recreate, Some("deleted")),
            };
            let mut a = Action::new(ObjectKind::Agent, op).label(&d.agent.name);
            if let (Some(r), Some(reason)) = (recorded, reason) {
                a = a.id(r.id.as_str()).reason(reason);
            }
            out.push(a);
        }
        Some(remote) => {
            let in_sync = recorded.is_some_and(|r| {
                r.id == remote.id
                    && r.version == remote.version
                    && r.fingerprint == d.agent.fingerprint
            });
            if !in_sync {
                let mut changes = agent_changes(
                    &d.agent.shape,
                    &AgentShape::of_remote(remote, &d.agent.shape),
                );
                if !owned_by(&remote.metadata, &d.owner, &d.workspace, &d.spec) {
                    changes.push(FieldChange {
                        field: "metadata".to_owned(),
                        from: "ownership keys missing".to_owned(),
                        to: "ownership keys".to_owned(),
                    });
                }
                if !changes.is_empty() {
                    out.push(
                        Action::new(ObjectKind::Agent, Op::Update)
                            .id(remote.id.as_str())
                            .version(remote.version)
                            .changes(changes),
                    );
                }
            }
        }
    }
    extras.retain(|e| !e.is_archived());
    for e in extras {
        out.push(
            Action::new(ObjectKind::Agent, Op::Archive)
                .id(e.id.as_str())
                .reason("duplicate"),
        );
    }
}

fn environment_plan(
    d: &Desired,
    status: Option<&ReconcileStatus>,
    o: &Observed,
    out: &mut Vec<Action>,
) {
    let recorded = status.and_then(|s| s.environment.as_ref());
    let live = o.environment.as_ref().filter(|e| !e.is_archived());
    let (target, extras): (Option<&Environment>, Vec<&Environment>) = match live {
        Some(e) => (
            Some(e),
            o.environment_candidates
                .iter()
                .filter(|c| c.id != e.id)
                .collect(),
        ),
        None => {
            let mut c = o.environment_candidates.iter().filter(|c| !c.is_archived());
            let first = c.next();
            if let Some(e) = first {
                out.push(
                    Action::new(ObjectKind::Environment, Op::Adopt)
                        .id(e.id.as_str())
                        .label(&e.name)
                        .reason("found by metadata"),
                );
            }
            (first, c.collect())
        }
    };
    match target {
        None => {
            let mut a =
                Action::new(ObjectKind::Environment, Op::Create).label(&d.environment.name_prefix);
            if let Some(r) = recorded {
                a.op = Op::Recreate;
                a = a.id(r.id.as_str()).reason(if o.environment.is_some() {
                    "archived"
                } else {
                    "deleted"
                });
            }
            out.push(a);
        }
        Some(remote) => {
            let changes = match EnvironmentShape::of_remote(remote) {
                Some(shape) => environment_changes(&d.environment.shape, &shape),
                None => vec![FieldChange {
                    field: "config".to_owned(),
                    from: "not a cloud environment".to_owned(),
                    to: "cloud".to_owned(),
                }],
            };
            if !changes.is_empty() {
                out.push(
                    Action::new(ObjectKind::Environment, Op::Update)
                        .id(remote.id.as_str())
                        .label(&remote.name)
                        .changes(changes),
                );
            }
        }
    }
    for e in extras.into_iter().filter(|e| !e.is_archived()) {
        out.push(
            Action::new(ObjectKind::Environment, Op::Archive)
                .id(e.id.as_str())
                .reason("duplicate"),
        );
    }
}

/// Returns whether the vault is new (so every credential is created).
fn vault_plan(
    d: &Desired,
    status: Option<&ReconcileStatus>,
    o: &Observed,
    out: &mut Vec<Action>,
) -> Option<String> {
    let recorded = status.and_then(|s| s.vault.as_ref());
    let live = o.vault.as_ref().filter(|v| !v.is_archived());
    let (target, extras): (Option<&Vault>, Vec<&Vault>) = match live {
        Some(v) => (
            Some(v),
            o.vault_candidates.iter().filter(|c| c.id != v.id).collect(),
        ),
        None => {
            let mut c = o.vault_candidates.iter().filter(|c| !c.is_archived());
            let first = c.next();
            if let Some(v) = first {
                out.push(
                    Action::new(ObjectKind::Vault, Op::Adopt)
                        .id(v.id.as_str())
                        .label(&v.display_name)
                        .reason("found by metadata"),
                );
            }
            (first, c.collect())
        }
    };
    let used = match target {
        None => {
            let mut a = Action::new(ObjectKind::Vault, Op::Create).label(&d.vault.display_name);
            if let Some(r) = recorded {
                a.op = Op::Recreate;
                a = a.id(r.id.as_str()).reason(if o.vault.is_some() {
                    "archived"
                } else {
                    "deleted"
                });
            }
            out.push(a);
            None
        }
        Some(remote) => {
            if remote.display_name != d.vault.display_name {
                out.push(
                    Action::new(ObjectKind::Vault, Op::Update)
                        .id(remote.id.as_str())
                        .changes(vec![FieldChange {
                            field: "display_name".to_owned(),
                            from: quoted(&remote.display_name),
                            to: quoted(&d.vault.display_name),
                        }]),
                );
            }
            Some(remote.id.to_string())
        }
    };
    for v in extras.into_iter().filter(|v| !v.is_archived()) {
        out.push(
            Action::new(ObjectKind::Vault, Op::Archive)
                .id(v.id.as_str())
                .reason("duplicate"),
        );
    }
    used
}

fn auth_type(c: &Credential) -> &'static str {
    match &c.auth {
        CredentialAuth::StaticBearer(_) => "static_bearer",
        CredentialAuth::McpOAuth(_) => "mcp_oauth",
        CredentialAuth::EnvironmentVariable(_) => "environment_variable",
        _ => "other",
    }
}

fn credential_plan(
    d: &Desired,
    status: Option<&ReconcileStatus>,
    vault: Option<&str>,
    o: &Observed,
    out: &mut Vec<Action>,
) {
    let recorded = status
        .and_then(|s| s.vault.as_ref())
        .filter(|v| Some(v.id.as_str()) == vault)
        .map(|v| &v.credentials);
    let active: Vec<&Credential> = if vault.is_some() {
        o.credentials.iter().filter(|c| !c.is_archived()).collect()
    } else {
        Vec::new()
    };
    let by_id = |id: &str| active.iter().copied().find(|c| c.id.as_str() == id);
    let mut archives = Vec::new();
    let mut creates = Vec::new();
    // Recorded credentials no longer wanted (server removed, auth changed to none/login).
    if let Some(rec) = recorded {
        for (server, r) in rec {
            if !d.credentials.contains_key(server) && by_id(r.id.as_str()).is_some() {
                archives.push(
                    Action::new(ObjectKind::Credential, Op::Archive)
                        .id(r.id.as_str())
                        .server(server)
                        .label(&r.mcp_server_url)
                        .reason("no longer used"),
                );
            }
        }
    }
    for (server, want) in &d.credentials {
        let create = || {
            Action::new(ObjectKind::Credential, Op::Create)
                .server(server)
                .label(&want.url)
        };
        let rec = recorded.and_then(|r| r.get(server));
        if let Some(r) = rec.filter(|r| by_id(r.id.as_str()).is_some()) {
            if r.shape_fingerprint != want.shape_fingerprint || r.mcp_server_url != want.url {
                archives.push(
                    Action::new(ObjectKind::Credential, Op::Archive)
                        .id(r.id.as_str())
                        .server(server)
                        .label(&r.mcp_server_url)
                        .reason("replaced"),
                );
                creates.push(create());
            } else if r.secret_fingerprint != want.secret_fingerprint {
                creates.push(
                    Action::new(ObjectKind::Credential, Op::Rotate)
                        .id(r.id.as_str())
                        .server(server)
                        .label(&want.url)
                        .reason("secret changed"),
                );
            }
            continue;
        }
        // Not recorded (or gone): adopt an active credential for the URL (a lost create, or
        // one the vault already had), rotating it unless its fingerprint shows it current.
        let want_type = match want.secret {
            super::desired::CredentialSecret::Bearer { .. } => "static_bearer",
            super::desired::CredentialSecret::OAuth { .. } => "mcp_oauth",
        };
        match active
            .iter()
            .find(|c| c.mcp_server_url() == Some(want.url.as_str()))
        {
            Some(c) if auth_type(c) == want_type => {
                creates.push(
                    Action::new(ObjectKind::Credential, Op::Adopt)
                        .id(c.id.as_str())
                        .server(server)
                        .label(&want.url)
                        .reason("found by URL"),
                );
                if c.metadata.get(META_FINGERPRINT) != Some(&want.secret_fingerprint) {
                    creates.push(
                        Action::new(ObjectKind::Credential, Op::Rotate)
                            .id(c.id.as_str())
                            .server(server)
                            .label(&want.url)
                            .reason("adopted"),
                    );
                }
            }
            Some(c) => {
                archives.push(
                    Action::new(ObjectKind::Credential, Op::Archive)
                        .id(c.id.as_str())
                        .server(server)
                        .label(&want.url)
                        .reason("wrong type"),
                );
                creates.push(create());
            }
            None => creates.push(create()),
        }
    }
    // Archive first: one active credential per URL.
    out.extend(archives);
    out.extend(creates);
}

/// Plans the changes that make the remote objects match `desired`.
///
/// * An object recorded and read back is compared with the desired shape: an agent whose
///   version and fingerprint equal the recorded ones is in sync without a deep compare (a
///   Console edit bumps the version); otherwise the normalised shapes are compared field by
///   field and only the differing fields are updated.
/// * An object recorded but archived or deleted remotely is recreated.
/// * An object not recorded (first run, or a lost create) is adopted from the candidates
///   found by ownership metadata (the oldest one), the others archived as duplicates; only
///   when there is none is it created.
/// * Credentials: rotated when the secret fingerprint changed; archived and created when the
///   URL or a non-updatable setting changed; archived when no longer used.
///
/// Unchanged spec and no drift ⇒ an empty plan.
pub fn plan(desired: &Desired, status: Option<&ReconcileStatus>, observed: &Observed) -> Plan {
    let mut actions = Vec::new();
    environment_plan(desired, status, observed, &mut actions);
    let vault = vault_plan(desired, status, observed, &mut actions);
    credential_plan(desired, status, vault.as_deref(), observed, &mut actions);
    agent_plan(desired, status, observed, &mut actions);
    // Duplicates are archived last, after everything we keep is in place.
    actions.sort_by_key(|a| a.op == Op::Archive && a.reason.as_deref() == Some("duplicate"));
    Plan { actions }
}

/// Plans the cleanup of a deleted spec: archive every active agent, environment and vault
/// recorded in `status` or found by ownership metadata (credentials go with their vault).
pub fn plan_delete(status: Option<&ReconcileStatus>, observed: &Observed) -> Plan {
    let mut actions = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut archive = |kind: ObjectKind, id: &str, label: &str, archived: bool| {
        if !archived && seen.insert(id.to_owned()) {
            actions.push(
                Action::new(kind, Op::Archive)
                    .id(id)
                    .label(label)
                    .reason("spec deleted"),
            );
        }
    };
    let _ = status;
    for a in observed.agent.iter().chain(&observed.agent_candidates) {
        archive(ObjectKind::Agent, a.id.as_str(), &a.name, a.is_archived());
    }
    for e in observed
        .environment
        .iter()
        .chain(&observed.environment_candidates)
    {
        archive(
            ObjectKind::Environment,
            e.id.as_str(),
            &e.name,
            e.is_archived(),
        );
    }
    for v in observed.vault.iter().chain(&observed.vault_candidates) {
        archive(
            ObjectKind::Vault,
            v.id.as_str(),
            &v.display_name,
            v.is_archived(),
        );
    }
    Plan { actions }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.actions.is_empty() {
            return writeln!(f, "no changes");
        }
        for a in &self.actions {
            let sign = match a.op {
                Op::Create => "+",
                Op::Recreate => "-/+",
                Op::Adopt => "=",
                Op::Update | Op::Rotate => "~",
                Op::Archive => "-",
            };
            write!(f, "{sign} {}", a.kind)?;
            if let Some(s) = &a.server {
                write!(f, " [{s}]")?;
            }
            match (a.op, &a.id, &a.label) {
                (Op::Create, _, Some(l)) => write!(f, " {l:?}")?,
                (_, Some(id), _) => write!(f, " {id}")?,
                (_, None, Some(l)) => write!(f, " {l:?}")?,
                _ => {}
            }
            if a.kind == ObjectKind::Agent && a.op == Op::Update {
                if let Some(v) = a.version {
                    write!(f, " (version {v} → {})", v + 1)?;
                }
            } else if a.op == Op::Rotate {
                write!(f, " (rotate secret)")?;
            }
            if let Some(r) = &a.reason {
                write!(f, " ({r})")?;
            }
            writeln!(f)?;
            for c in &a.changes {
                writeln!(f, "    ~ {}: {} → {}", c.field, c.from, c.to)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use secrecy::SecretString;
    use serde_json::{Value, json};

    use super::*;
    use crate::domain::{
        AgentKind, AgentSpec, EnvironmentSettings, ManagedAgent, McpAuth, McpServer, ToolMode,
    };
    use crate::reconcile::desired::{CredentialSecret, DesiredContext, DesiredCredential, desired};
    use crate::reconcile::status::{RemoteAgent, RemoteCredential, RemoteEnvironment, RemoteVault};

    const T: &str = "2026-03-15T10:00:00Z";

    fn spec(system_html: &str, model: &str) -> AgentSpec {
        AgentSpec {
            id: "spec_1".into(),
            workspace: "ws_1".into(),
            name: "Coder".into(),
            provider_key: "pk_1".into(),
            kind: AgentKind::Managed(ManagedAgent {
                instructions_html: system_html.into(),
                model: model.into(),
                guidance: String::new(),
                rules: vec![],
                skills: vec![],
                mcp_servers: vec![McpServer {
                    name: "linear".into(),
                    url: "https://mcp.linear.app/mcp".into(),
                    auth: McpAuth::BearerToken {
                        secret: "sec".into(),
                    },
                }],
                tool_mode: ToolMode::default(),
                repositories: vec![],
                environment: EnvironmentSettings::default(),
            }),
            revision: 1,
        }
    }

    fn cred(secret_fp: &str) -> DesiredCredential {
        DesiredCredential {
            server: "linear".into(),
            url: "https://mcp.linear.app/mcp".into(),
            secret: CredentialSecret::Bearer {
                token: SecretString::from("t".to_owned()),
            },
            shape_fingerprint: "shape".into(),
            secret_fingerprint: secret_fp.into(),
        }
    }

    fn want(system_html: &str, model: &str, secret_fp: &str) -> Desired {
        let ctx = DesiredContext {
            owner: "me".into(),
            ..DesiredContext::default()
        };
        let creds = BTreeMap::from([("linear".to_owned(), cred(secret_fp))]);
        desired(&spec(system_html, model), &ctx, creds).unwrap()
    }

    fn owned(d: &Desired) -> Value {
        json!(d.ownership("fp", "n"))
    }

    /// The remote agent as the API would answer for `d` (tools in their response form).
    fn remote_agent(d: &Desired, id: &str, version: u64, archived: bool) -> Agent {
        let tools: Vec<Value> = d
            .agent
            .tools
            .iter()
            .map(|t| {
                let mut v = serde_json::to_value(t).unwrap();
                if v["type"] != "custom" {
                    v["configs"] = json!([]);
                }
                v
            })
            .collect();
        serde_json::from_value(json!({
            "type": "agent", "id": id, "name": d.agent.name, "description": null,
            "model": {"id": d.agent.model, "speed": "standard", "effort": {"type": "high"}},
            "system": d.agent.system, "tools": tools, "mcp_servers": d.agent.mcp_servers,
            "skills": [], "multiagent": null, "execution_identity": {"type": "service_account"},
            "metadata": owned(d), "version": version, "created_at": T, "updated_at": T,
            "archived_at": if archived { json!(T) } else { Value::Null },
        }))
        .unwrap()
    }

    fn remote_env(d: &Desired, id: &str) -> Environment {
        serde_json::from_value(json!({
            "type": "environment", "id": id, "name": "x", "description": null,
            "config": {"type": "cloud", "networking": {"type": "unrestricted"},
                       "packages": {"apt": [], "cargo": [], "gem": [], "go": [], "npm": [], "pip": []}},
            "metadata": owned(d), "created_at": T, "updated_at": T, "archived_at": null,
        }))
        .unwrap()
    }

    fn remote_vault(d: &Desired, id: &str) -> Vault {
        serde_json::from_value(json!({
            "type": "vault", "id": id, "display_name": "Coder", "metadata": owned(d),
            "created_at": T, "updated_at": T, "archived_at": null,
        }))
        .unwrap()
    }

    fn remote_cred(id: &str, vault: &str) -> Credential {
        serde_json::from_value(json!({
            "type": "vault_credential", "id": id, "vault_id": vault, "display_name": "linear",
            "auth": {"type": "static_bearer", "mcp_server_url": "https://mcp.linear.app/mcp"},
            "metadata": {}, "created_at": T, "updated_at": T, "archived_at": null,
        }))
        .unwrap()
    }

    fn in_sync(d: &Desired) -> (ReconcileStatus, Observed) {
        let mut st = ReconcileStatus::new("ws_1".into(), "spec_1".into(), chrono::Utc::now());
        st.agent = Some(RemoteAgent {
            id: "agent_1".into(),
            version: 3,
            fingerprint: d.agent.fingerprint.clone(),
        });
        st.environment = Some(RemoteEnvironment {
            id: "env_1".into(),
            fingerprint: d.environment.fingerprint.clone(),
        });
        st.vault = Some(RemoteVault {
            id: "vlt_1".into(),
            fingerprint: d.vault.fingerprint.clone(),
            credentials: BTreeMap::from([(
                "linear".to_owned(),
                RemoteCredential {
                    id: "vcrd_1".into(),
                    mcp_server_url: "https://mcp.linear.app/mcp".into(),
                    shape_fingerprint: "shape".into(),
                    secret_fingerprint: "s1".into(),
                },
            )]),
        });
        let o = Observed {
            agent: Some(remote_agent(d, "agent_1", 3, false)),
            environment: Some(remote_env(d, "env_1")),
            vault: Some(remote_vault(d, "vlt_1")),
            credentials: vec![remote_cred("vcrd_1", "vlt_1")],
            ..Observed::default()
        };
        (st, o)
    }

    fn ops(p: &Plan) -> Vec<(ObjectKind, Op)> {
        p.actions.iter().map(|a| (a.kind, a.op)).collect()
    }

    #[test]
    fn nothing_recorded_creates_everything() {
        let d = want("<p>Hi</p>", "claude-sonnet-4-6", "s1");
        let p = plan(&d, None, &Observed::default());
        assert_eq!(
            ops(&p),
            [
                (ObjectKind::Environment, Op::Create),
                (ObjectKind::Vault, Op::Create),
                (ObjectKind::Credential, Op::Create),
                (ObjectKind::Agent, Op::Create),
            ]
        );
        assert_eq!(
            p.to_string(),
            "+ environment \"claude-agents ws_1/spec_1\"\n\
             + vault \"Coder\"\n\
             + credential [linear] \"https://mcp.linear.app/mcp\"\n\
             + agent \"Coder\"\n"
        );
    }

    #[test]
    fn in_sync_is_an_empty_plan_even_with_a_deep_compare() {
        let d = want("<p>Hi</p>", "claude-sonnet-4-6", "s1");
        let (mut st, o) = in_sync(&d);
        assert!(plan(&d, Some(&st), &o).actions.is_empty());
        // A recorded version behind the remote one forces a deep compare, which finds nothing.
        st.agent.as_mut().unwrap().version = 2;
        let p = plan(&d, Some(&st), &o);
        assert!(p.actions.is_empty(), "{p}");
        assert!(p.is_empty());
    }

    #[test]
    fn a_changed_spec_updates_only_the_differing_fields() {
        let old = want("<p>Hi</p>", "claude-sonnet-4-6", "s1");
        let (st, o) = in_sync(&old);
        let new = want("<p>Hello there</p>", "claude-opus-4-8", "s1");
        let p = plan(&new, Some(&st), &o);
        assert_eq!(ops(&p), [(ObjectKind::Agent, Op::Update)]);
        let a = &p.actions[0];
        assert_eq!(a.version, Some(3));
        let fields: Vec<&str> = a.changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["system", "model"]);
        assert_eq!(
            p.to_string(),
            "~ agent agent_1 (version 3 → 4)\n    \
             ~ system: 2 chars → 11 chars\n    \
             ~ model: \"claude-sonnet-4-6\" → \"claude-opus-4-8\"\n"
        );
    }

    #[test]
    fn same_length_text_shows_short_hashes_not_content() {
        let d = want("<p>abc</p>", "claude-sonnet-4-6", "s1");
        let (mut st, mut o) = in_sync(&d);
        st.agent.as_mut().unwrap().version = 2;
        o.agent.as_mut().unwrap().system = Some("xyz".into());
        let text = plan(&d, Some(&st), &o).to_string();
        assert!(text.contains("~ system: 3 chars #"), "{text}");
        assert!(!text.contains("xyz") && !text.contains("abc"), "{text}");
    }

    #[test]
    fn archived_and_deleted_objects_are_recreated() {
        let d = want("<p>Hi</p>", "claude-sonnet-4-6", "s1");
        let (st, mut o) = in_sync(&d);
        o.agent = Some(remote_agent(&d, "agent_1", 3, true));
        o.environment = None;
        o.vault = None;
        o.credentials.clear();
        let p = plan(&d, Some(&st), &o);
        assert_eq!(
            ops(&p),
            [
                (ObjectKind::Environment, Op::Recreate),
                (ObjectKind::Vault, Op::Recreate),
                (ObjectKind::Credential, Op::Create),
                (ObjectKind::Agent, Op::Recreate),
            ]
        );
        let text = p.to_string();
        assert!(text.contains("-/+ agent agent_1 (archived)"), "{text}");
        assert!(text.contains("-/+ environment env_1 (deleted)"), "{text}");
    }

    #[test]
    fn lost_creates_are_adopted_and_duplicates_archived() {
        let d = want("<p>Hi</p>", "claude-sonnet-4-6", "s1");
        let o = Observed {
            agent_candidates: vec![
                remote_agent(&d, "agent_a", 1, false),
                remote_agent(&d, "agent_b", 1, false),
            ],
            environment_candidates: vec![remote_env(&d, "env_a")],
            vault_candidates: vec![remote_vault(&d, "vlt_a")],
            credentials: vec![remote_cred("vcrd_a", "vlt_a")],
            ..Observed::default()
        };
        let p = plan(&d, None, &o);
        assert_eq!(
            ops(&p),
            [
                (ObjectKind::Environment, Op::Adopt),
                (ObjectKind::Vault, Op::Adopt),
                (ObjectKind::Credential, Op::Adopt),
                // Its metadata carries no matching fingerprint: the secret is unknown.
                (ObjectKind::Credential, Op::Rotate),
                (ObjectKind::Agent, Op::Adopt),
                (ObjectKind::Agent, Op::Archive),
            ]
        );
        assert_eq!(p.actions[4].id.as_deref(), Some("agent_a"));
        assert_eq!(p.actions[5].id.as_deref(), Some("agent_b"));
        assert!(p.to_string().contains("- agent agent_b (duplicate)"));
    }

    #[test]
    fn credentials_rotate_replace_and_archive() {
        let d = want("<p>Hi</p>", "claude-sonnet-4-6", "s2");
        let (st, o) = in_sync(&d);
        let p = plan(&d, Some(&st), &o);
        assert_eq!(ops(&p), [(ObjectKind::Credential, Op::Rotate)]);
        assert!(
            p.to_string()
                .contains("~ credential [linear] vcrd_1 (rotate secret)")
        );

        let mut d2 = want("<p>Hi</p>", "claude-sonnet-4-6", "s1");
        d2.credentials.get_mut("linear").unwrap().shape_fingerprint = "other".into();
        let p = plan(&d2, Some(&st), &o);
        assert_eq!(
            ops(&p),
            [
                (ObjectKind::Credential, Op::Archive),
                (ObjectKind::Credential, Op::Create)
            ]
        );

        let mut d3 = want("<p>Hi</p>", "claude-sonnet-4-6", "s1");
        d3.credentials.clear();
        let p = plan(&d3, Some(&st), &o);
        assert_eq!(ops(&p), [(ObjectKind::Credential, Op::Archive)]);
    }

    #[test]
    fn console_edits_to_environment_and_vault_are_restored() {
        let d = want("<p>Hi</p>", "claude-sonnet-4-6", "s1");
        let (st, mut o) = in_sync(&d);
        o.vault.as_mut().unwrap().display_name = "Renamed".into();
        let mut env = serde_json::to_value(o.environment.take().unwrap()).unwrap();
        env["config"]["packages"]["pip"] = json!(["requests"]);
        o.environment = Some(serde_json::from_value(env).unwrap());
        let p = plan(&d, Some(&st), &o);
        assert_eq!(
            ops(&p),
            [
                (ObjectKind::Environment, Op::Update),
                (ObjectKind::Vault, Op::Update)
            ]
        );
        assert_eq!(
            p.to_string(),
            "~ environment env_1\n    ~ packages.pip: [requests] → []\n\
             ~ vault vlt_1\n    ~ display_name: \"Renamed\" → \"Coder\"\n"
        );
    }

    #[test]
    fn delete_archives_recorded_and_found_objects_once() {
        let d = want("<p>Hi</p>", "claude-sonnet-4-6", "s1");
        let (st, mut o) = in_sync(&d);
        o.agent_candidates = vec![remote_agent(&d, "agent_1", 3, false)];
        o.vault_candidates = vec![remote_vault(&d, "vlt_orphan")];
        let p = plan_delete(Some(&st), &o);
        assert_eq!(
            p.actions
                .iter()
                .map(|a| a.id.clone().unwrap())
                .collect::<Vec<_>>(),
            ["agent_1", "env_1", "vlt_1", "vlt_orphan"]
        );
        o.agent = Some(remote_agent(&d, "agent_1", 3, true));
        o.agent_candidates.clear();
        o.environment = None;
        o.vault = None;
        o.vault_candidates.clear();
        assert!(plan_delete(Some(&st), &o).actions.is_empty());
    }
}
