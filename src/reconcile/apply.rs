//! Applying plans: the [`Reconciler`] reads the spec, its status and the remote objects,
//! plans, executes the plan and records the new status with compare-and-swap.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex as StdMutex};

use async_trait::async_trait;
use chrono::Utc;
use futures_util::TryStreamExt;
use rand::TryRngCore;
use rand::rngs::OsRng;

use super::connected::validate_connected;
use super::desired::RemoteSkill;
use super::desired::{
    Desired, DesiredContext, META_FINGERPRINT, META_OWNER, META_SERVER, META_SPEC, META_WORKSPACE,
    desired, env_config, load_credentials, owned_by,
};
use super::fanout::{FanOut, FanOutReport};
use super::fingerprint::SecretFingerprinter;
use super::models::check_model;
use super::plan::{Action, Observed, Op, Plan, plan, plan_delete};
use super::skill_sync::{SkillSync, SkillSyncRecord, agents_using};
use super::status::{
    LastError, ObjectKind, PendingCreate, Phase, ReconcileStatus, RemoteAgent, RemoteCredential,
    RemoteEnvironment, RemoteVault,
};
use super::{ReconcileError, ReconcilerConfig};
use crate::api::types::agents::{AgentUpdate, ListAgents};
use crate::api::types::environments::{EnvironmentCreate, EnvironmentUpdate, ListEnvironments};
use crate::api::types::vaults::{ListCredentials, ListVaults, VaultCreate, VaultUpdate};
use crate::api::types::{AgentId, CredentialId, EnvironmentId, MetadataPatch, VaultId};
use crate::api::{self, Client};
use crate::domain::{
    AgentKind, AgentSpec, AgentSpecId, ConnectedAgent, CustomSkill, CustomSkillId, ManagedAgent,
    ProviderKeyId, SkillRef, WorkspaceId,
};
use crate::keys::{ProviderKeys, check_agent_key};
use crate::store::{
    Expected, Lease, RecordKey, RecordStore, Revision, SecretStore, Store, StoreError,
};

/// Gives the reconciler an API client for a workspace's provider key.
///
/// Implemented for [`ProviderKeys`] (the key's stored secret) and for [`Client`] (one fixed
/// client, e.g. pointed at the testkit fake).
#[async_trait]
pub trait ClientProvider: Send + Sync {
    /// A client using provider key `key` of `workspace`.
    async fn client(
        &self,
        workspace: &WorkspaceId,
        key: &ProviderKeyId,
    ) -> Result<Client, ReconcileError>;
}

#[async_trait]
impl ClientProvider for ProviderKeys {
    async fn client(
        &self,
        workspace: &WorkspaceId,
        key: &ProviderKeyId,
    ) -> Result<Client, ReconcileError> {
        Ok(self.client_for(workspace, key).await?)
    }
}

#[async_trait]
impl ClientProvider for Client {
    async fn client(&self, _: &WorkspaceId, _: &ProviderKeyId) -> Result<Client, ReconcileError> {
        Ok(self.clone())
    }
}

/// What a reconcile (or delete) did.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Outcome {
    /// The plan that was executed (the last one, after any re-plans).
    pub plan: Plan,
    /// The status as recorded at the end (`None`: nothing was ever recorded).
    pub status: Option<ReconcileStatus>,
    /// Remote objects created (recreations included).
    pub creates: usize,
    /// Remote updates (credential rotations included).
    pub updates: usize,
    /// Remote objects archived.
    pub archives: usize,
    /// Every remote write request that succeeded, over all attempts.
    pub api_writes: usize,
}

/// Keeps managed agent specs in sync with their remote objects; see the
/// [module docs](super). Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Reconciler {
    store: Arc<dyn Store>,
    secrets: Arc<dyn SecretStore>,
    clients: Arc<dyn ClientProvider>,
    config: Arc<ReconcilerConfig>,
    holder: Arc<str>,
    locks: Arc<StdMutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl fmt::Debug for Reconciler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reconciler")
            .field("config", &self.config)
            .field("holder", &self.holder)
            .finish_non_exhaustive()
    }
}

fn nonce() -> String {
    let mut b = [0u8; 6];
    // A failing OS RNG only makes the nonce less unique; adoption still works by metadata.
    let _ = OsRng.try_fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Why an attempt stopped.
enum Step {
    /// A conflict: re-read, re-plan, retry.
    Retry,
    Fail(Box<ReconcileError>),
}

impl From<ReconcileError> for Step {
    fn from(e: ReconcileError) -> Self {
        Step::Fail(Box::new(e))
    }
}

fn api_err(kind: ObjectKind) -> impl Fn(api::Error) -> Step {
    move |source| Step::from(ReconcileError::Api { kind, source })
}

/// Conflicts (409) are retried after a re-read; everything else fails.
fn api_err_retry_conflict(kind: ObjectKind) -> impl Fn(api::Error) -> Step {
    move |source| {
        if source.is_conflict() {
            Step::Retry
        } else {
            Step::from(ReconcileError::Api { kind, source })
        }
    }
}

/// `Ok(None)` for a 404.
fn found<T>(r: api::Result<T>, kind: ObjectKind) -> Result<Option<T>, ReconcileError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(source) => Err(ReconcileError::Api { kind, source }),
    }
}

/// One kind's observation: the recorded object (`retrieve`, if one is recorded; a 404 is
/// `None`), then — if `needs_search(live)` says an unrecorded one may exist, where `live` means
/// "nothing recorded, or the recorded object is there and not archived" — the candidates
/// found by ownership metadata (`list`, only awaited when needed).
async fn recorded_and_candidates<T: Owned>(
    kind: ObjectKind,
    retrieve: Option<impl Future<Output = api::Result<T>>>,
    list: impl Future<Output = Result<Vec<T>, ReconcileError>>,
    needs_search: impl FnOnce(bool) -> bool,
) -> Result<(Option<T>, Vec<T>), ReconcileError> {
    let recorded = retrieve.is_some();
    let object = match retrieve {
        Some(read) => found(read.await, kind)?,
        None => None,
    };
    let live = match (recorded, object.as_ref().map(Owned::archived)) {
        (false, _) => true, // nothing recorded: search only when pending / no status
        (true, Some(false)) => true,
        _ => false,
    };
    let candidates = if needs_search(live) {
        list.await?
    } else {
        Vec::new()
    };
    Ok((object, candidates))
}

/// `Ok(())` for a 404 (already gone).
fn gone_ok<T>(r: api::Result<T>, kind: ObjectKind) -> Result<(), Step> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(source) => Err(Step::from(ReconcileError::Api { kind, source })),
    }
}

struct Ident<'a> {
    owner: &'a str,
    workspace: &'a WorkspaceId,
    spec: &'a AgentSpecId,
}

impl Reconciler {
    /// A reconciler over `store` (specs, status, leases), `secrets` (MCP tokens, the
    /// fingerprint key) and `clients` (an API client per provider key).
    pub fn new(
        store: Arc<dyn Store>,
        secrets: Arc<dyn SecretStore>,
        clients: Arc<dyn ClientProvider>,
        config: ReconcilerConfig,
    ) -> Self {
        let holder = format!("{}:{}", config.owner, nonce());
        Self {
            store,
            secrets,
            clients,
            config: Arc::new(config),
            holder: holder.into(),
            locks: Arc::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ReconcilerConfig {
        &self.config
    }

    fn local_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self
            .locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(key.to_owned()).or_default().clone()
    }

    /// Runs `f` holding the in-process lock and the store lease of the spec.
    async fn exclusive<T, F>(
        &self,
        workspace: &WorkspaceId,
        spec: &AgentSpecId,
        f: F,
    ) -> Result<T, ReconcileError>
    where
        F: AsyncFnOnce(&Lease) -> Result<T, ReconcileError>,
    {
        let key = ReconcileStatus::key_of(workspace, spec);
        let mutex = self.local_lock(key.as_str());
        let _guard = mutex.lock().await;
        let name = format!("reconcile:{key}");
        let lease = self
            .store
            .acquire_lease(&name, &self.holder, self.config.lease_ttl, Utc::now())
            .await
            .map_err(|e| ReconcileError::Store(e.into()))?;
        let Some(lease) = lease else {
            return Err(ReconcileError::Busy {
                workspace: workspace.clone(),
                spec: spec.clone(),
            });
        };
        let result = f(&lease).await;
        if let Err(e) = self.store.release_lease(&lease).await {
            tracing::warn!(error = %e, lease = %name, "releasing the reconcile lease failed");
        }
        result
    }

    /// Brings the remote objects of spec `spec` of `workspace` in line with it: creates,
    /// adopts, updates, recreates and archives as planned, and records the status. A spec that
    /// no longer exists is cleaned up as by [`delete`](Self::delete); a connected spec makes
    /// no write at all — its agent, environment and vaults are only checked to exist and not
    /// be archived ([`ReconcileError::Connected`] otherwise).
    ///
    /// # Errors
    /// See [`ReconcileError`]. The status records the last error (never for
    /// [`ReconcileError::Busy`]).
    pub async fn reconcile(
        &self,
        workspace: &WorkspaceId,
        spec: &AgentSpecId,
    ) -> Result<Outcome, ReconcileError> {
        self.exclusive(workspace, spec, async |lease| {
            self.reconcile_locked(workspace, spec, lease).await
        })
        .await
    }

    /// Plans without writing anything (remote or store): what [`reconcile`](Self::reconcile)
    /// would do now. The outcome's counts are zero.
    pub async fn plan_only(
        &self,
        workspace: &WorkspaceId,
        spec: &AgentSpecId,
    ) -> Result<Outcome, ReconcileError> {
        self.reconcile_locked_unleased(workspace, spec).await
    }

    /// A custom skill was edited: uploads it once per provider key its agents use, then
    /// reconciles every managed agent of `workspace` that uses it (each gets one update
    /// pinning the new version), `concurrency` at a time through `fanout`.
    ///
    /// Returns one result per agent; one failing agent never stops the others. Uploading
    /// first means the agents' own reconciles find the skill unchanged and do not contend for
    /// its upload.
    pub async fn skill_changed(
        &self,
        workspace: &WorkspaceId,
        skill: &CustomSkillId,
        fanout: &FanOut,
    ) -> Result<FanOutReport<AgentSpecId, Outcome, ReconcileError>, ReconcileError> {
        let agents = agents_using(self.store.as_ref(), workspace, skill).await?;
        let custom = self
            .store
            .load::<CustomSkill>(&RecordKey::of(workspace, skill))
            .await?
            .map(|(c, _)| c);
        if let Some(custom) = custom {
            let mut keys = std::collections::BTreeSet::new();
            for id in &agents {
                if let Some(spec) = self.load_spec(workspace, id).await? {
                    keys.insert(spec.provider_key);
                }
            }
            for key in keys {
                let client = self.clients.client(workspace, &key).await?;
                SkillSync::new(self.store.clone())
                    .ensure(&client, &custom, &key)
                    .await
                    .map_err(|e| ReconcileError::Skill {
                        skill: skill.clone(),
                        source: Box::new(e),
                    })?;
            }
        }
        Ok(fanout
            .run(
                agents,
                |id| async move { self.reconcile(workspace, &id).await },
            )
            .await)
    }

    /// Archives everything created for the spec (found via the status and via ownership
    /// metadata), whether or not the spec record still exists, and records the status as
    /// [`Phase::Deleted`]. Idempotent: a second call writes nothing.
    pub async fn delete(
        &self,
        workspace: &WorkspaceId,
        spec: &AgentSpecId,
    ) -> Result<Outcome, ReconcileError> {
        self.exclusive(workspace, spec, async |lease| {
            self.delete_locked(workspace, spec, lease).await
        })
        .await
    }

    async fn load_spec(
        &self,
        workspace: &WorkspaceId,
        spec: &AgentSpecId,
    ) -> Result<Option<AgentSpec>, ReconcileError> {
        Ok(self
            .store
            .load::<AgentSpec>(&crate::store::RecordKey::of(workspace, spec))
            .await?
            .map(|(s, _)| s))
    }

    async fn load_status(
        &self,
        workspace: &WorkspaceId,
        spec: &AgentSpecId,
    ) -> Result<Option<(ReconcileStatus, Revision)>, ReconcileError> {
        Ok(self
            .store
            .load::<ReconcileStatus>(&ReconcileStatus::key_of(workspace, spec))
            .await?)
    }

    /// Validation, the model check, secrets, custom skills and the mapping: everything before
    /// any write to the agent's own objects. With `upload_skills`, custom skills whose content
    /// changed are uploaded first ([`SkillSync`]); without (dry runs), the versions recorded by
    /// the last upload are used and a never-uploaded skill is [`ReconcileError::SkillNotSynced`].
    async fn prepare(
        &self,
        spec: &AgentSpec,
        upload_skills: bool,
    ) -> Result<(Desired, Client), ReconcileError> {
        spec.validate().map_err(ReconcileError::Invalid)?;
        let AgentKind::Managed(m) = &spec.kind else {
            return Err(ReconcileError::invalid("kind", "not a managed agent"));
        };
        let key = check_agent_key(self.store.as_ref(), spec).await?;
        // The model must be one the key saw when it was last checked (an unchecked key has no
        // list yet: accepted, the create call validates).
        if check_model(&m.model, &key.models).is_err() {
            return Err(ReconcileError::UnknownModel {
                model: m.model.clone(),
                key: key.id,
            });
        }
        let fp = SecretFingerprinter::load_or_create(self.secrets.as_ref())
            .await
            .map_err(|e| ReconcileError::Store(e.into()))?;
        let credentials = load_credentials(m, self.secrets.as_ref(), &fp).await?;
        let client = self
            .clients
            .client(&spec.workspace, &spec.provider_key)
            .await?;
        let skills = self.custom_skills(spec, m, &client, upload_skills).await?;
        let ctx = DesiredContext {
            owner: self.config.owner.clone(),
            host_mcp: self.config.host_mcp.clone(),
            skills,
        };
        let d = desired(spec, &ctx, credentials)?;
        Ok((d, client))
    }

    /// A connected spec's agent, environment and vaults exist and are not archived.
    async fn check_connected(
        &self,
        spec: &AgentSpec,
        connected: &ConnectedAgent,
    ) -> Result<(), ReconcileError> {
        check_agent_key(self.store.as_ref(), spec).await?;
        let client = self
            .clients
            .client(&spec.workspace, &spec.provider_key)
            .await?;
        validate_connected(&client, connected)
            .await
            .map(|_| ())
            .map_err(|e| ReconcileError::Connected(Box::new(e)))
    }

    /// The remote skill (and pinned version) of every custom skill the spec uses.
    async fn custom_skills(
        &self,
        spec: &AgentSpec,
        managed: &ManagedAgent,
        client: &Client,
        upload: bool,
    ) -> Result<BTreeMap<CustomSkillId, RemoteSkill>, ReconcileError> {
        let mut out = BTreeMap::new();
        for reference in &managed.skills {
            let SkillRef::Custom { skill } = reference else {
                continue;
            };
            let not_synced = || ReconcileError::SkillNotSynced {
                skill: skill.clone(),
            };
            let remote = if upload {
                let (custom, _) = self
                    .store
                    .load::<CustomSkill>(&RecordKey::of(&spec.workspace, skill))
                    .await?
                    .ok_or_else(not_synced)?;
                SkillSync::new(self.store.clone())
                    .ensure(client, &custom, &spec.provider_key)
                    .await
                    .map_err(|e| ReconcileError::Skill {
                        skill: skill.clone(),
                        source: Box::new(e),
                    })?
                    .0
            } else {
                self.store
                    .load::<SkillSyncRecord>(
                        &RecordKey::of(&spec.workspace, skill).with(&spec.provider_key),
                    )
                    .await?
                    .and_then(|(record, _)| record.remote)
                    .ok_or_else(not_synced)?
            };
            out.insert(skill.clone(), remote);
        }
        Ok(out)
    }

    async fn reconcile_locked_unleased(
        &self,
        workspace: &WorkspaceId,
        spec_id: &AgentSpecId,
    ) -> Result<Outcome, ReconcileError> {
        let status = self.load_status(workspace, spec_id).await?.map(|(s, _)| s);
        let Some(spec) = self.load_spec(workspace, spec_id).await? else {
            let Some(key) = status.as_ref().and_then(|s| s.provider_key.clone()) else {
                return Ok(Outcome {
                    status,
                    ..Outcome::default()
                });
            };
            let client = self.clients.client(workspace, &key).await?;
            let ident = Ident {
                owner: &self.config.owner,
                workspace,
                spec: spec_id,
            };
            let observed = self
                .observe(&client, &ident, status.as_ref(), true, None)
                .await?;
            return Ok(Outcome {
                plan: plan_delete(status.as_ref(), &observed),
                status,
                ..Outcome::default()
            });
        };
        if let AgentKind::Connected(connected) = &spec.kind {
            self.check_connected(&spec, connected).await?;
            return Ok(Outcome {
                status,
                ..Outcome::default()
            });
        }
        let (d, client) = self.prepare(&spec, false).await?;
        let ident = Ident {
            owner: &self.config.owner,
            workspace,
            spec: spec_id,
        };
        let observed = self
            .observe(&client, &ident, status.as_ref(), false, Some(&d))
            .await?;
        Ok(Outcome {
            plan: plan(&d, status.as_ref(), &observed),
            status,
            ..Outcome::default()
        })
    }

    async fn list_agents(
        &self,
        client: &Client,
        id: &Ident<'_>,
    ) -> Result<Vec<crate::api::types::agents::Agent>, ReconcileError> {
        let params = ListAgents {
            limit: Some(self.config.list_page_size),
            include_archived: Some(false),
            ..ListAgents::default()
        };
        owned_objects(client.agents().list(&params), ObjectKind::Agent, id).await
    }

    async fn list_environments(
        &self,
        client: &Client,
        id: &Ident<'_>,
    ) -> Result<Vec<crate::api::types::environments::Environment>, ReconcileError> {
        let params = ListEnvironments {
            limit: Some(self.config.list_page_size),
            include_archived: Some(false),
        };
        owned_objects(
            client.environments().list(&params),
            ObjectKind::Environment,
            id,
        )
        .await
    }

    async fn list_vaults(
        &self,
        client: &Client,
        id: &Ident<'_>,
    ) -> Result<Vec<crate::api::types::vaults::Vault>, ReconcileError> {
        let params = ListVaults {
            limit: Some(self.config.list_page_size),
            include_archived: Some(false),
        };
        owned_objects(client.vaults().list(&params), ObjectKind::Vault, id).await
    }

    /// Reads the recorded objects, and searches by ownership metadata where an object may
    /// exist unrecorded (no status, a pending create, a recorded object gone) or when
    /// `force_search` (delete).
    async fn observe(
        &self,
        client: &Client,
        id: &Ident<'_>,
        status: Option<&ReconcileStatus>,
        force_search: bool,
        desired: Option<&Desired>,
    ) -> Result<Observed, ReconcileError> {
        let search = |kind: ObjectKind| {
            move |live: bool| {
                force_search || status.is_none_or(|s| s.pending_for(kind, None).is_some()) || !live
            }
        };
        // The three kinds are independent: read them concurrently (one round trip for the
        // agent and the environment, two for the vault and its credentials).
        let agent = recorded_and_candidates(
            ObjectKind::Agent,
            status
                .and_then(|s| s.agent.as_ref())
                .map(|r| async move { client.agents().retrieve(&r.id).await }),
            self.list_agents(client, id),
            search(ObjectKind::Agent),
        );
        let environment = recorded_and_candidates(
            ObjectKind::Environment,
            status
                .and_then(|s| s.environment.as_ref())
                .map(|r| async move { client.environments().retrieve(&r.id).await }),
            self.list_environments(client, id),
            search(ObjectKind::Environment),
        );
        let vault = async {
            let (vault, candidates) = recorded_and_candidates(
                ObjectKind::Vault,
                status
                    .and_then(|s| s.vault.as_ref())
                    .map(|r| async move { client.vaults().retrieve(&r.id).await }),
                self.list_vaults(client, id),
                search(ObjectKind::Vault),
            )
            .await?;
            let wants_creds = desired.is_some_and(|d| !d.credentials.is_empty())
                || status
                    .and_then(|s| s.vault.as_ref())
                    .is_some_and(|v| !v.credentials.is_empty());
            let mut credentials = Vec::new();
            let vault_id = vault
                .as_ref()
                .filter(|v: &&_| !v.is_archived())
                .or_else(|| candidates.first())
                .map(|v| v.id.clone());
            if wants_creds && let Some(vault_id) = vault_id {
                let params = ListCredentials {
                    limit: Some(self.config.list_page_size),
                    include_archived: Some(false),
                };
                credentials = client
                    .vaults()
                    .credentials(&vault_id)
                    .list(&params)
                    .try_collect()
                    .await
                    .map_err(|source| ReconcileError::Api {
                        kind: ObjectKind::Credential,
                        source,
                    })?;
            }
            Ok::<_, ReconcileError>((vault, candidates, credentials))
        };
        let (
            (agent, agent_candidates),
            (environment, environment_candidates),
            (vault, vault_candidates, credentials),
        ) = tokio::try_join!(agent, environment, vault)?;
        let o = Observed {
            agent,
            agent_candidates,
            environment,
            environment_candidates,
            vault,
            vault_candidates,
            credentials,
        };
        Ok(o)
    }

    async fn reconcile_locked(
        &self,
        workspace: &WorkspaceId,
        spec_id: &AgentSpecId,
        lease: &Lease,
    ) -> Result<Outcome, ReconcileError> {
        let Some(spec) = self.load_spec(workspace, spec_id).await? else {
            return self.delete_locked(workspace, spec_id, lease).await;
        };
        if let AgentKind::Connected(connected) = &spec.kind {
            // Connected agents are managed elsewhere: check that what they name exists and is
            // not archived (reads only), write nothing.
            self.check_connected(&spec, connected).await?;
            return Ok(Outcome {
                status: self.load_status(workspace, spec_id).await?.map(|(s, _)| s),
                ..Outcome::default()
            });
        }
        let (d, client) = match self.prepare(&spec, true).await {
            Ok(x) => x,
            Err(e) => {
                self.record_error(workspace, spec_id, &e).await;
                return Err(e);
            }
        };
        let ident = Ident {
            owner: &self.config.owner,
            workspace,
            spec: spec_id,
        };
        let mut counts = Outcome::default();
        let attempts = self.config.max_conflict_retries.saturating_add(1);
        for _ in 0..attempts {
            let loaded = self.load_status(workspace, spec_id).await?;
            let (status, rev) = match loaded {
                Some((s, r)) => (Some(s), Some(r)),
                None => (None, None),
            };
            let observed = match self
                .observe(&client, &ident, status.as_ref(), false, Some(&d))
                .await
            {
                Ok(o) => o,
                Err(e) => {
                    self.record_error(workspace, spec_id, &e).await;
                    return Err(e);
                }
            };
            let p = plan(&d, status.as_ref(), &observed);
            let mut st = status.clone().unwrap_or_else(|| {
                ReconcileStatus::new(workspace.clone(), spec_id.clone(), Utc::now())
            });
            // Recorded before the first create: deleting the spec later needs the key.
            st.provider_key = Some(spec.provider_key.clone());
            let mut run = Run {
                store: self.store.as_ref(),
                config: &self.config,
                client: &client,
                lease,
                original: status,
                st,
                rev,
                counts: &mut counts,
            };
            match run.execute(&d, &p, &observed).await {
                Ok(()) => {
                    let st = run.finish_ready(&d, &spec).await;
                    match st {
                        Ok(st) => {
                            counts.plan = p;
                            counts.status = Some(st);
                            return Ok(counts);
                        }
                        Err(Step::Retry) => continue,
                        Err(Step::Fail(e)) => {
                            self.record_error(workspace, spec_id, &e).await;
                            return Err(*e);
                        }
                    }
                }
                Err(Step::Retry) => continue,
                Err(Step::Fail(e)) => {
                    if !matches!(*e, ReconcileError::Injected(_)) {
                        self.record_error(workspace, spec_id, &e).await;
                    }
                    return Err(*e);
                }
            }
        }
        let e = ReconcileError::ConflictRetriesExhausted { attempts };
        self.record_error(workspace, spec_id, &e).await;
        Err(e)
    }

    async fn delete_locked(
        &self,
        workspace: &WorkspaceId,
        spec_id: &AgentSpecId,
        lease: &Lease,
    ) -> Result<Outcome, ReconcileError> {
        let spec = self.load_spec(workspace, spec_id).await?;
        let mut counts = Outcome::default();
        let attempts = self.config.max_conflict_retries.saturating_add(1);
        for _ in 0..attempts {
            let loaded = self.load_status(workspace, spec_id).await?;
            let (status, rev) = match loaded {
                Some((s, r)) => (Some(s), Some(r)),
                None => (None, None),
            };
            let key = spec
                .as_ref()
                .map(|s| s.provider_key.clone())
                .or_else(|| status.as_ref().and_then(|s| s.provider_key.clone()));
            let Some(key) = key else {
                // Nothing was ever created with a known key: nothing to clean up.
                counts.status = status;
                return Ok(counts);
            };
            let client = self.clients.client(workspace, &key).await?;
            let ident = Ident {
                owner: &self.config.owner,
                workspace,
                spec: spec_id,
            };
            let observed = self
                .observe(&client, &ident, status.as_ref(), true, None)
                .await?;
            let p = plan_delete(status.as_ref(), &observed);
            if p.actions.is_empty() && status.as_ref().is_none_or(|s| s.phase == Phase::Deleted) {
                counts.plan = p;
                counts.status = status;
                return Ok(counts);
            }
            let mut st = status.clone().unwrap_or_else(|| {
                ReconcileStatus::new(workspace.clone(), spec_id.clone(), Utc::now())
            });
            st.phase = Phase::Deleting;
            st.provider_key = Some(key);
            let mut run = Run {
                store: self.store.as_ref(),
                config: &self.config,
                client: &client,
                lease,
                original: status,
                st,
                rev,
                counts: &mut counts,
            };
            let res = async {
                for a in &p.actions {
                    run.archive(a).await?;
                }
                run.st.phase = Phase::Deleted;
                run.st.pending.clear();
                run.st.last_error = None;
                run.save().await?;
                Ok::<_, Step>(run.st.clone())
            }
            .await;
            match res {
                Ok(st) => {
                    counts.plan = p;
                    counts.status = Some(st);
                    return Ok(counts);
                }
                Err(Step::Retry) => continue,
                Err(Step::Fail(e)) => {
                    self.record_error(workspace, spec_id, &e).await;
                    return Err(*e);
                }
            }
        }
        Err(ReconcileError::ConflictRetriesExhausted { attempts })
    }

    /// Best effort: records `e` as the status's last error (a lost CAS or a store failure is
    /// only logged).
    async fn record_error(&self, workspace: &WorkspaceId, spec: &AgentSpecId, e: &ReconcileError) {
        let (mut st, expected) = match self.load_status(workspace, spec).await {
            Ok(Some((s, r))) => (s, Expected::Revision(r)),
            Ok(None) => (
                ReconcileStatus::new(workspace.clone(), spec.clone(), Utc::now()),
                Expected::Absent,
            ),
            Err(err) => {
                tracing::warn!(error = %err, "could not read the status to record an error");
                return;
            }
        };
        st.last_error = Some(LastError {
            message: e.to_string(),
            status: e.status(),
            request_id: e.request_id().map(str::to_owned),
            at: Utc::now(),
        });
        if st.phase != Phase::Deleting && st.phase != Phase::Deleted {
            st.phase = Phase::Failed;
        }
        st.updated_at = Utc::now();
        if let Err(err) = self.store.save(&st, expected).await {
            tracing::warn!(error = %err, "could not record the reconcile error");
        }
    }
}

/// One attempt: the status being written and the counters.
struct Run<'a> {
    store: &'a dyn Store,
    config: &'a ReconcilerConfig,
    client: &'a Client,
    lease: &'a Lease,
    original: Option<ReconcileStatus>,
    st: ReconcileStatus,
    rev: Option<Revision>,
    counts: &'a mut Outcome,
}

impl Run<'_> {
    async fn save(&mut self) -> Result<(), Step> {
        self.st.updated_at = Utc::now();
        self.st.fencing_token = self.lease.token;
        let expected = match self.rev {
            None => Expected::Absent,
            Some(r) => Expected::Revision(r),
        };
        match self.store.save(&self.st, expected).await {
            Ok(r) => {
                self.rev = Some(r);
                Ok(())
            }
            Err(e) if e.is_conflict() => Err(Step::Retry),
            Err(e) => Err(Step::from(ReconcileError::from(e))),
        }
    }

    /// Renews the lease before a create; losing it stops the run.
    async fn renew(&self) -> Result<(), Step> {
        match self
            .store
            .renew_lease(self.lease, self.config.lease_ttl, Utc::now())
            .await
        {
            Ok(_) => Ok(()),
            Err(StoreError::Conflict { .. }) => Err(Step::from(ReconcileError::Busy {
                workspace: self.st.workspace.clone(),
                spec: self.st.spec.clone(),
            })),
            Err(e) => Err(Step::from(ReconcileError::Store(e.into()))),
        }
    }

    /// Writes the pending marker of a create and returns its nonce.
    async fn begin_create(
        &mut self,
        kind: ObjectKind,
        server: Option<&str>,
    ) -> Result<String, Step> {
        self.renew().await?;
        let nonce = nonce();
        self.st.clear_pending(kind, server);
        self.st.pending.push(PendingCreate {
            kind,
            server: server.map(str::to_owned),
            nonce: nonce.clone(),
            at: Utc::now(),
        });
        self.save().await?;
        Ok(nonce)
    }

    fn created(&mut self, kind: ObjectKind) -> Result<(), Step> {
        self.counts.creates += 1;
        self.counts.api_writes += 1;
        if self.config.fail_after_create == Some(kind) {
            return Err(Step::from(ReconcileError::Injected(kind)));
        }
        Ok(())
    }

    fn vault_id(&self) -> Result<VaultId, Step> {
        self.st.vault.as_ref().map(|v| v.id.clone()).ok_or_else(|| {
            Step::from(ReconcileError::invalid(
                "vault",
                "no vault to hold credentials",
            ))
        })
    }

    async fn archive(&mut self, a: &Action) -> Result<(), Step> {
        let id = a.id.clone().unwrap_or_default();
        let vaults = self.client.vaults();
        match a.kind {
            ObjectKind::Agent => gone_ok(
                self.client
                    .agents()
                    .archive(&AgentId::from(id.as_str()))
                    .await,
                a.kind,
            )?,
            ObjectKind::Environment => gone_ok(
                self.client
                    .environments()
                    .archive(&EnvironmentId::from(id.as_str()))
                    .await,
                a.kind,
            )?,
            ObjectKind::Vault => {
                gone_ok(vaults.archive(&VaultId::from(id.as_str())).await, a.kind)?
            }
            ObjectKind::Credential => {
                let vault = self.vault_id()?;
                gone_ok(
                    vaults
                        .credentials(&vault)
                        .archive(&CredentialId::from(id.as_str()))
                        .await,
                    a.kind,
                )?;
                if let Some(v) = &mut self.st.vault {
                    v.credentials.retain(|_, c| c.id.as_str() != id);
                }
            }
        }
        self.counts.archives += 1;
        self.counts.api_writes += 1;
        Ok(())
    }

    fn ownership(&self, d: &Desired) -> MetadataPatch {
        [
            (META_OWNER, d.owner.clone()),
            (META_WORKSPACE, d.workspace.to_string()),
            (META_SPEC, d.spec.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Some(v)))
        .collect()
    }

    async fn execute(&mut self, d: &Desired, p: &Plan, o: &Observed) -> Result<(), Step> {
        for a in &p.actions {
            match (a.kind, a.op) {
                (_, Op::Archive) => self.archive(a).await?,
                (ObjectKind::Environment, Op::Create | Op::Recreate) => {
                    let nonce = self.begin_create(ObjectKind::Environment, None).await?;
                    let mut body =
                        EnvironmentCreate::new(format!("{} #{nonce}", d.environment.name_prefix));
                    body.config = Some(env_config(&d.environment.config));
                    body.metadata = d.ownership(&d.environment.fingerprint, &nonce);
                    let env = self
                        .client
                        .environments()
                        .create(&body)
                        .await
                        .map_err(api_err(a.kind))?;
                    self.created(a.kind)?;
                    self.st.environment = Some(RemoteEnvironment {
                        id: env.id,
                        fingerprint: d.environment.fingerprint.clone(),
                    });
                    self.st.clear_pending(a.kind, None);
                    self.save().await?;
                }
                (ObjectKind::Environment, Op::Adopt) => {
                    self.st.environment = Some(RemoteEnvironment {
                        id: EnvironmentId::from(a.id.clone().unwrap_or_default()),
                        fingerprint: d.environment.fingerprint.clone(),
                    });
                    self.st.clear_pending(a.kind, None);
                    self.save().await?;
                }
                (ObjectKind::Environment, _) => {
                    let id = EnvironmentId::from(a.id.clone().unwrap_or_default());
                    let mut patch = self.ownership(d);
                    patch.insert(
                        META_FINGERPRINT.to_owned(),
                        Some(d.environment.fingerprint.clone()),
                    );
                    let body = EnvironmentUpdate {
                        config: Some(env_config(&d.environment.config)),
                        metadata: Some(patch),
                        ..EnvironmentUpdate::default()
                    };
                    self.client
                        .environments()
                        .update(&id, &body)
                        .await
                        .map_err(api_err(a.kind))?;
                    self.counts.updates += 1;
                    self.counts.api_writes += 1;
                }
                (ObjectKind::Vault, Op::Create | Op::Recreate) => {
                    let nonce = self.begin_create(ObjectKind::Vault, None).await?;
                    let mut body = VaultCreate::new(d.vault.display_name.clone());
                    body.metadata = Some(d.ownership(&d.vault.fingerprint, &nonce));
                    let vault = self
                        .client
                        .vaults()
                        .create(&body)
                        .await
                        .map_err(api_err(a.kind))?;
                    self.created(a.kind)?;
                    self.st.vault = Some(RemoteVault {
                        id: vault.id,
                        fingerprint: d.vault.fingerprint.clone(),
                        credentials: Default::default(),
                    });
                    self.st.clear_pending(a.kind, None);
                    self.save().await?;
                }
                (ObjectKind::Vault, Op::Adopt) => {
                    let id = VaultId::from(a.id.clone().unwrap_or_default());
                    let credentials = match &self.st.vault {
                        Some(v) if v.id == id => v.credentials.clone(),
                        _ => Default::default(),
                    };
                    self.st.vault = Some(RemoteVault {
                        id,
                        fingerprint: d.vault.fingerprint.clone(),
                        credentials,
                    });
                    self.st.clear_pending(a.kind, None);
                    self.save().await?;
                }
                (ObjectKind::Vault, _) => {
                    let id = VaultId::from(a.id.clone().unwrap_or_default());
                    let body = VaultUpdate::new().with_display_name(d.vault.display_name.clone());
                    self.client
                        .vaults()
                        .update(&id, &body)
                        .await
                        .map_err(api_err(a.kind))?;
                    self.counts.updates += 1;
                    self.counts.api_writes += 1;
                }
                (ObjectKind::Credential, op) => self.credential(d, a, op).await?,
                (ObjectKind::Agent, Op::Create | Op::Recreate) => {
                    let nonce = self.begin_create(ObjectKind::Agent, None).await?;
                    let agent = self
                        .client
                        .agents()
                        .create(&d.agent_create(&nonce))
                        .await
                        .map_err(api_err(a.kind))?;
                    self.created(a.kind)?;
                    self.st.agent = Some(RemoteAgent {
                        id: agent.id,
                        version: agent.version,
                        fingerprint: d.agent.fingerprint.clone(),
                    });
                    self.st.clear_pending(a.kind, None);
                    self.save().await?;
                }
                (ObjectKind::Agent, Op::Adopt) => {
                    let version = a
                        .version
                        .or_else(|| o.agent_candidates.first().map(|c| c.version))
                        .unwrap_or(1);
                    self.st.agent = Some(RemoteAgent {
                        id: AgentId::from(a.id.clone().unwrap_or_default()),
                        version,
                        fingerprint: String::new(),
                    });
                    self.st.clear_pending(a.kind, None);
                    self.save().await?;
                }
                (ObjectKind::Agent, _) => {
                    let id = AgentId::from(a.id.clone().unwrap_or_default());
                    let mut body = AgentUpdate::at_version(a.version.unwrap_or(1));
                    for c in &a.changes {
                        match c.field.as_str() {
                            "name" => body.name = Some(d.agent.name.clone()),
                            "system" => body.system = Some(d.agent.system.clone()),
                            "model" => body.model = Some(d.agent.model.as_str().into()),
                            // Servers and toolsets go together: the API requires every server to
                            // be referenced by a toolset in the resulting agent.
                            "tools" | "mcp_servers" => {
                                body.tools = Some(Some(d.agent.tools.clone()));
                                body.mcp_servers = Some(Some(d.agent.mcp_servers.clone()));
                            }
                            "skills" => body.skills = Some(Some(d.agent.skills.clone())),
                            _ => {}
                        }
                    }
                    let mut patch = self.ownership(d);
                    patch.insert(
                        META_FINGERPRINT.to_owned(),
                        Some(d.agent.fingerprint.clone()),
                    );
                    body.metadata = Some(patch);
                    let agent = self
                        .client
                        .agents()
                        .update(&id, &body)
                        .await
                        .map_err(api_err_retry_conflict(a.kind))?;
                    self.counts.updates += 1;
                    self.counts.api_writes += 1;
                    self.st.agent = Some(RemoteAgent {
                        id: agent.id,
                        version: agent.version,
                        fingerprint: d.agent.fingerprint.clone(),
                    });
                    // Record the new version now: a failure later must not leave the status
                    // behind the remote version.
                    self.save().await?;
                }
            }
        }
        // Record the version of an agent that was in sync (or only differed by version).
        if let (Some(rec), Some(remote)) = (&mut self.st.agent, &o.agent)
            && rec.id == remote.id
            && !p.actions.iter().any(|a| a.kind == ObjectKind::Agent)
        {
            rec.version = remote.version;
        }
        Ok(())
    }

    async fn credential(&mut self, d: &Desired, a: &Action, op: Op) -> Result<(), Step> {
        let server = a.server.clone().unwrap_or_default();
        let Some(want) = d.credentials.get(&server) else {
            return Ok(());
        };
        let vault = self.vault_id()?;
        let record = |id: CredentialId| RemoteCredential {
            id,
            mcp_server_url: want.url.clone(),
            shape_fingerprint: want.shape_fingerprint.clone(),
            secret_fingerprint: want.secret_fingerprint.clone(),
        };
        match op {
            Op::Create | Op::Recreate => {
                let nonce = self
                    .begin_create(ObjectKind::Credential, Some(&server))
                    .await?;
                let mut meta = d.ownership(&want.secret_fingerprint, &nonce);
                meta.insert(META_SERVER.to_owned(), server.clone());
                let cred = self
                    .client
                    .vaults()
                    .credentials(&vault)
                    .create(&want.create_body(meta))
                    .await
                    // 409: a credential for the URL exists (a lost create): re-plan adopts it.
                    .map_err(api_err_retry_conflict(ObjectKind::Credential))?;
                self.created(ObjectKind::Credential)?;
                if let Some(v) = &mut self.st.vault {
                    v.credentials.insert(server.clone(), record(cred.id));
                }
                self.st.clear_pending(ObjectKind::Credential, Some(&server));
                self.save().await?;
            }
            Op::Adopt => {
                if let Some(v) = &mut self.st.vault {
                    v.credentials.insert(
                        server.clone(),
                        record(CredentialId::from(a.id.clone().unwrap_or_default())),
                    );
                }
                self.st.clear_pending(ObjectKind::Credential, Some(&server));
                self.save().await?;
            }
            Op::Rotate | Op::Update => {
                let id = CredentialId::from(a.id.clone().unwrap_or_default());
                self.client
                    .vaults()
                    .credentials(&vault)
                    .update(&id, &want.rotate_body(&want.secret_fingerprint))
                    .await
                    .map_err(api_err(ObjectKind::Credential))?;
                self.counts.updates += 1;
                self.counts.api_writes += 1;
                if let Some(v) = &mut self.st.vault {
                    v.credentials.insert(server.clone(), record(id));
                }
                self.save().await?;
            }
            Op::Archive => self.archive(a).await?,
        }
        Ok(())
    }

    /// The final status of a successful run: saved only when it differs from what was read.
    async fn finish_ready(
        &mut self,
        d: &Desired,
        spec: &AgentSpec,
    ) -> Result<ReconcileStatus, Step> {
        let st = &mut self.st;
        if let Some(a) = &mut st.agent {
            a.fingerprint = d.agent.fingerprint.clone();
        }
        if let Some(e) = &mut st.environment {
            e.fingerprint = d.environment.fingerprint.clone();
        }
        if let Some(v) = &mut st.vault {
            v.fingerprint = d.vault.fingerprint.clone();
            v.credentials.retain(|k, _| d.credentials.contains_key(k));
        }
        st.pending.clear();
        st.phase = Phase::Ready;
        st.provider_key = Some(spec.provider_key.clone());
        st.applied_revision = Some(d.revision);
        st.applied_fingerprint = Some(d.fingerprint());
        st.direct_api_access = d.direct_api_access;
        st.last_error = None;
        let unchanged = self.original.as_ref().is_some_and(|o| {
            let mut a = o.clone();
            a.updated_at = self.st.updated_at;
            a.fencing_token = self.st.fencing_token;
            a == self.st
        });
        if !unchanged {
            self.save().await?;
        }
        Ok(self.st.clone())
    }
}

/// What the ownership search needs of a remote agent, environment or vault.
trait Owned {
    fn metadata(&self) -> &crate::api::types::Metadata;
    fn archived(&self) -> bool;
    /// Oldest first, ties by id: the one adopted when several match.
    fn order(&self) -> (crate::api::types::Timestamp, &str);
}

macro_rules! owned {
    ($($ty:ty),*) => {$(
        impl Owned for $ty {
            fn metadata(&self) -> &crate::api::types::Metadata {
                &self.metadata
            }
            fn archived(&self) -> bool {
                self.is_archived()
            }
            fn order(&self) -> (crate::api::types::Timestamp, &str) {
                (self.created_at, self.id.as_str())
            }
        }
    )*};
}

owned!(
    crate::api::types::agents::Agent,
    crate::api::types::environments::Environment,
    crate::api::types::vaults::Vault
);

/// Every unarchived object of a listing that carries the spec's ownership metadata, oldest
/// first.
async fn owned_objects<T: Owned>(
    items: api::ItemStream<T>,
    kind: ObjectKind,
    id: &Ident<'_>,
) -> Result<Vec<T>, ReconcileError> {
    let mut all: Vec<T> = items
        .try_collect::<Vec<_>>()
        .await
        .map_err(|source| ReconcileError::Api { kind, source })?
        .into_iter()
        .filter(|o| !o.archived() && owned_by(o.metadata(), id.owner, id.workspace, id.spec))
        .collect();
    all.sort_by(|a, b| a.order().cmp(&b.order()));
    Ok(all)
}
