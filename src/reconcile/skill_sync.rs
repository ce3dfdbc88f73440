//! Custom skill sync: a workspace's custom skills uploaded to Anthropic as skill folders
//! (`SKILL.md` = frontmatter from the skill's name and description + its Markdown body), one
//! remote skill per (workspace skill, provider key), a new version when the content changes,
//! and which agent specs use a skill (the fan-out of an edit).
//!
//! # Guarantees
//!
//! * **Unchanged content → no request at all**: the rendered `SKILL.md` is fingerprinted
//!   (SHA-256) and compared with the [`SkillSyncRecord`] before anything is sent.
//! * **No duplicate skills**: a pending marker is recorded (compare-and-swap) before a create;
//!   if the create's outcome is unknown (crash, dropped response), the next sync searches the
//!   workspace's custom skills for one with the same title whose latest version has the same
//!   slug, created after the marker, and adopts it.
//! * A remote skill deleted in the Console is created again and the new id recorded.
//!
//! Agents pin the exact version id, so an edit changes every agent using the skill; the host
//! (or [`agents_using`]) schedules those agents for reconcile.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::desired::RemoteSkill;
use crate::api::types::skills::{ListSkills, SkillFolder, SkillSourceKind};
use crate::api::{self, Client};
use crate::domain::{
    AgentKind, AgentSpec, AgentSpecId, CustomSkill, CustomSkillId, ProviderKeyId, SkillRef,
    Timestamp, WorkspaceId,
};
use crate::store::{
    Collection, Expected, Record, RecordError, RecordKey, RecordStore, Store, StoreError,
};

/// Where [`SkillSyncRecord`]s live.
pub const SKILL_SYNC: Collection = Collection::Other("skill_sync");

/// How far before the pending marker a candidate's `created_at` may be (clock skew between
/// this host and the API) and still be adopted.
const ADOPT_SKEW: TimeDelta = TimeDelta::minutes(5);

/// How long one sync may hold a skill's lease; a crashed holder's lease expires after this.
const LEASE_TTL: std::time::Duration = std::time::Duration::from_secs(120);

/// What the sync of one custom skill for one provider key has done: a `Record` keyed
/// `{workspace}/{skill}/{provider key}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkillSyncRecord {
    /// The workspace.
    pub workspace: WorkspaceId,
    /// The local custom skill.
    pub skill: CustomSkillId,
    /// The provider key (i.e. the Anthropic organisation) it is uploaded with.
    pub provider_key: ProviderKeyId,
    /// The remote skill and the version last uploaded, once known.
    #[serde(default)]
    pub remote: Option<RemoteSkill>,
    /// Fingerprint of the content last uploaded.
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// Set before a create is sent, cleared when its id is recorded: a create whose outcome
    /// is unknown is searched for (and adopted) while this is set.
    #[serde(default)]
    pub pending_since: Option<Timestamp>,
}

impl Record for SkillSyncRecord {
    const COLLECTION: Collection = SKILL_SYNC;

    fn key(&self) -> RecordKey {
        RecordKey::of(&self.workspace, &self.skill).with(&self.provider_key)
    }
}

/// What [`SkillSync::ensure`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncAction {
    /// Content unchanged since the last upload: no request was made.
    Unchanged,
    /// A new skill was created.
    Created,
    /// A skill created earlier with an unknown outcome was found and adopted.
    Adopted,
    /// A new version of the existing skill was uploaded.
    NewVersion,
    /// The remote skill was gone and was created again.
    Recreated,
}

/// Errors of the skill sync. They carry ids and API context, never skill content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SkillSyncError {
    /// The skill failed validation.
    #[error("custom skill {skill}: {source}")]
    Invalid {
        /// The local skill id.
        skill: CustomSkillId,
        /// What is wrong.
        #[source]
        source: crate::domain::DomainError,
    },
    /// The skill folder could not be built.
    #[error("custom skill {skill}: {message}")]
    Folder {
        /// The local skill id.
        skill: CustomSkillId,
        /// What is wrong.
        message: String,
    },
    /// The API failed.
    #[error("custom skill {skill}: {source}")]
    Api {
        /// The local skill id.
        skill: CustomSkillId,
        /// The API error (status, request id).
        #[source]
        source: Box<api::Error>,
    },
    /// The API answered without the ids we need.
    #[error("custom skill {skill}: the API response lacks {what}")]
    BadResponse {
        /// The local skill id.
        skill: CustomSkillId,
        /// What is missing.
        what: &'static str,
    },
    /// Another sync of the same skill (in this or another process) is running: retry later.
    #[error("custom skill {skill}: another sync of it is running")]
    Busy {
        /// The local skill id.
        skill: CustomSkillId,
    },
    /// The store failed (a `Conflict` means another sync ran at the same time: retry).
    #[error("custom skill {skill}: {source}")]
    Store {
        /// The local skill id.
        skill: CustomSkillId,
        /// The store error.
        #[source]
        source: Box<RecordError>,
    },
}

impl SkillSyncError {
    /// The API error behind [`SkillSyncError::Api`] (status, request id, outcome).
    pub fn api_error(&self) -> Option<&api::Error> {
        match self {
            Self::Api { source, .. } => Some(source),
            _ => None,
        }
    }

    /// Whether another sync of the same skill got in the way ([`SkillSyncError::Busy`] or a
    /// store compare-and-swap conflict): retry later.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Busy { .. })
            || matches!(self, Self::Store { source, .. } if source.is_conflict())
    }
}

/// The `SKILL.md` of a custom skill: YAML frontmatter (`name`, `description`) and the body.
///
/// The description is written as a double-quoted YAML scalar with escapes, so quotes, colons,
/// `#` or newlines in it cannot change the frontmatter's structure.
pub fn skill_md(skill: &CustomSkill) -> String {
    let mut out = String::with_capacity(skill.instructions.len() + 256);
    out.push_str("---\nname: ");
    out.push_str(&skill.name);
    out.push_str("\ndescription: ");
    out.push_str(&yaml_quoted(&skill.description));
    out.push_str("\n---\n\n");
    out.push_str(skill.instructions.trim_end());
    out.push('\n');
    out
}

fn yaml_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The upload folder of a custom skill: `{name}/SKILL.md`.
pub fn skill_folder(skill: &CustomSkill) -> Result<SkillFolder, SkillSyncError> {
    let folder = |e: api::types::skills::SkillFolderError| SkillSyncError::Folder {
        skill: skill.id.clone(),
        message: e.to_string(),
    };
    SkillFolder::new(skill.name.clone())
        .map_err(folder)?
        .with_file("SKILL.md", "text/markdown", skill_md(skill).into_bytes())
        .map_err(folder)
}

/// The content fingerprint: SHA-256 over the title and the rendered `SKILL.md`.
pub fn fingerprint(skill: &CustomSkill) -> String {
    let mut hash = Sha256::new();
    hash.update(skill.title.as_bytes());
    hash.update([0]);
    hash.update(skill_md(skill).as_bytes());
    hash.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The agent specs of `workspace` that use the custom skill `skill` — what an edit of it
/// must reconcile.
pub async fn agents_using(
    store: &dyn Store,
    workspace: &WorkspaceId,
    skill: &CustomSkillId,
) -> Result<Vec<AgentSpecId>, RecordError> {
    let wanted = SkillRef::Custom {
        skill: skill.clone(),
    };
    Ok(store
        .list_workspace::<AgentSpec>(workspace)
        .await?
        .into_iter()
        .filter_map(|(spec, _)| match &spec.kind {
            AgentKind::Managed(m) if m.skills.contains(&wanted) => Some(spec.id),
            _ => None,
        })
        .collect())
}

/// Uploads workspace custom skills and records what it uploaded. Cheap to clone.
#[derive(Clone)]
pub struct SkillSync {
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for SkillSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SkillSync").finish_non_exhaustive()
    }
}

impl SkillSync {
    /// A sync recording into `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Makes sure the current content of `skill` is uploaded with `client` (the provider key
    /// `provider_key`'s client) and returns the reference agents should pin.
    ///
    /// Unchanged content makes no request. One sync of a skill runs at a time, also across
    /// processes sharing the store (a lease, expiring after two minutes if its holder
    /// crashed); a concurrent call gets [`SkillSyncError::Busy`] without any request, and
    /// every record write is a compare-and-swap besides.
    pub async fn ensure(
        &self,
        client: &Client,
        skill: &CustomSkill,
        provider_key: &ProviderKeyId,
    ) -> Result<(RemoteSkill, SyncAction), SkillSyncError> {
        let key = RecordKey::of(&skill.workspace, &skill.id).with(provider_key);
        // Fast path, without the lease: content unchanged since the recorded upload.
        if let Some((record, _)) =
            self.store
                .load::<SkillSyncRecord>(&key)
                .await
                .map_err(|source| SkillSyncError::Store {
                    skill: skill.id.clone(),
                    source: Box::new(source),
                })?
            && let Some(remote) = record.remote
            && record.fingerprint.as_deref() == Some(fingerprint(skill).as_str())
        {
            return Ok((remote, SyncAction::Unchanged));
        }
        let store_err = |source: StoreError| SkillSyncError::Store {
            skill: skill.id.clone(),
            source: Box::new(RecordError::Store(source)),
        };
        // One sync of a skill at a time, across processes: a lease on the record's key.
        let name = format!("skill_sync/{key}");
        let holder = format!("skill-sync-{:016x}", rand::random::<u64>());
        let lease = self
            .store
            .acquire_lease(&name, &holder, LEASE_TTL, Utc::now())
            .await
            .map_err(store_err)?
            .ok_or_else(|| SkillSyncError::Busy {
                skill: skill.id.clone(),
            })?;
        let result = self.ensure_locked(client, skill, provider_key).await;
        if let Err(e) = self.store.release_lease(&lease).await {
            tracing::warn!(skill = %skill.id, error = %e, "could not release the skill sync lease");
        }
        result
    }

    async fn ensure_locked(
        &self,
        client: &Client,
        skill: &CustomSkill,
        provider_key: &ProviderKeyId,
    ) -> Result<(RemoteSkill, SyncAction), SkillSyncError> {
        skill.validate().map_err(|source| SkillSyncError::Invalid {
            skill: skill.id.clone(),
            source,
        })?;
        let key = RecordKey::of(&skill.workspace, &skill.id).with(provider_key);
        let store_err = |source| SkillSyncError::Store {
            skill: skill.id.clone(),
            source: Box::new(source),
        };
        let api_err = |source| SkillSyncError::Api {
            skill: skill.id.clone(),
            source: Box::new(source),
        };
        let (mut record, expected) = match self
            .store
            .load::<SkillSyncRecord>(&key)
            .await
            .map_err(store_err)?
        {
            Some((record, revision)) => (record, Expected::Revision(revision)),
            None => (
                SkillSyncRecord {
                    workspace: skill.workspace.clone(),
                    skill: skill.id.clone(),
                    provider_key: provider_key.clone(),
                    remote: None,
                    fingerprint: None,
                    pending_since: None,
                },
                Expected::Absent,
            ),
        };
        let fingerprint = fingerprint(skill);
        if let Some(remote) = &record.remote {
            if record.fingerprint.as_deref() == Some(fingerprint.as_str()) {
                return Ok((remote.clone(), SyncAction::Unchanged));
            }
            // Changed content: a new version of the existing skill.
            let skill_id = remote.skill_id.clone();
            match client
                .skills()
                .versions(&skill_id)
                .create(&skill_folder(skill)?)
                .await
            {
                Ok(version) => {
                    let version = version.id.ok_or(SkillSyncError::BadResponse {
                        skill: skill.id.clone(),
                        what: "a version id",
                    })?;
                    let remote = RemoteSkill {
                        skill_id: remote.skill_id.clone(),
                        version,
                    };
                    record.remote = Some(remote.clone());
                    record.fingerprint = Some(fingerprint);
                    self.store
                        .save(&record, expected)
                        .await
                        .map_err(store_err)?;
                    return Ok((remote, SyncAction::NewVersion));
                }
                Err(e) if e.status() == Some(404) => {
                    // Deleted remotely: create it again below.
                    record.remote = None;
                }
                Err(e) => return Err(api_err(e)),
            }
        }
        let recreated = record.fingerprint.is_some();

        // No remote skill known. A pending marker means an earlier create may have landed.
        if let Some(since) = record.pending_since
            && let Some(found) = self.find(client, skill, since).await?
        {
            // Its content is unknown (it may be an older edit): upload the current
            // content as a new version unless the create was for this very content.
            record.remote = Some(found.clone());
            record.pending_since = None;
            self.store
                .save(&record, expected)
                .await
                .map_err(store_err)?;
            // Re-enter: the record now has the remote id and no fingerprint, so the next
            // call uploads a new version of the adopted skill.
            let (remote, _) = Box::pin(self.ensure_locked(client, skill, provider_key)).await?;
            return Ok((remote, SyncAction::Adopted));
        }
        record.pending_since = Some(Utc::now());
        let revision = self
            .store
            .save(&record, expected)
            .await
            .map_err(store_err)?;
        let created = client
            .skills()
            .create(&skill_folder(skill)?, Some(&skill.title))
            .await
            .map_err(api_err)?;
        let (Some(skill_id), Some(version)) = (created.id, created.latest_version_id) else {
            return Err(SkillSyncError::BadResponse {
                skill: skill.id.clone(),
                what: "a skill id and latest version id",
            });
        };
        let remote = RemoteSkill { skill_id, version };
        record.remote = Some(remote.clone());
        record.fingerprint = Some(fingerprint);
        record.pending_since = None;
        self.store
            .save(&record, Expected::Revision(revision))
            .await
            .map_err(store_err)?;
        let action = if recreated {
            SyncAction::Recreated
        } else {
            SyncAction::Created
        };
        Ok((remote, action))
    }

    /// Searches the custom skills for one created by an earlier, unconfirmed create: same
    /// title, latest version with the same slug, created no earlier than the marker (less a
    /// clock-skew allowance). The oldest match wins.
    async fn find(
        &self,
        client: &Client,
        skill: &CustomSkill,
        since: Timestamp,
    ) -> Result<Option<RemoteSkill>, SkillSyncError> {
        let api_err = |source| SkillSyncError::Api {
            skill: skill.id.clone(),
            source: Box::new(source),
        };
        let params = ListSkills {
            source: Some(SkillSourceKind::Custom),
            ..ListSkills::default()
        };
        let mut candidates: Vec<_> = client
            .skills()
            .list(&params)
            .try_collect::<Vec<_>>()
            .await
            .map_err(api_err)?
            .into_iter()
            .filter(|s| {
                s.display_name.as_deref().or(s.display_title.as_deref())
                    == Some(skill.title.as_str())
                    && s.created_at.is_none_or(|t| t >= since - ADOPT_SKEW)
            })
            .collect();
        candidates.sort_by_key(|s| s.created_at);
        for candidate in candidates {
            let Some(id) = candidate.id else { continue };
            let version = client
                .skills()
                .versions(&id)
                .retrieve("latest")
                .await
                .map_err(api_err)?;
            if version.name.as_deref() == Some(skill.name.as_str())
                && let Some(version_id) = version.id.or(candidate.latest_version_id)
            {
                return Ok(Some(RemoteSkill {
                    skill_id: id,
                    version: version_id,
                }));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skill() -> CustomSkill {
        CustomSkill {
            id: "csk_1".into(),
            workspace: "ws_1".into(),
            name: "release-notes".into(),
            title: "Release notes".into(),
            description: "Writes release notes: use when \"shipping\" # a version.\nTwo lines."
                .into(),
            instructions: "# Steps\n1. Read the changelog.\n".into(),
            revision: 1,
        }
    }

    #[test]
    fn skill_md_has_safe_frontmatter() {
        let md = skill_md(&skill());
        assert_eq!(
            md,
            "---\nname: release-notes\ndescription: \"Writes release notes: use when \\\"shipping\\\" # a version.\\nTwo lines.\"\n---\n\n# Steps\n1. Read the changelog.\n"
        );
        // The frontmatter is exactly three lines between the fences, whatever the description.
        let front: Vec<&str> = md.split("---\n").nth(1).unwrap().lines().collect();
        assert_eq!(front.len(), 2);
    }

    #[test]
    fn fingerprint_follows_content_not_revision() {
        let a = skill();
        let bumped = CustomSkill {
            revision: 9,
            ..skill()
        };
        assert_eq!(fingerprint(&a), fingerprint(&bumped));
        let edited = CustomSkill {
            instructions: "# Steps\n1. Read the changelog twice.".into(),
            ..skill()
        };
        assert_ne!(fingerprint(&a), fingerprint(&edited));
        let retitled = CustomSkill {
            title: "Notes".into(),
            ..skill()
        };
        assert_ne!(fingerprint(&a), fingerprint(&retitled));
        assert_eq!(fingerprint(&a).len(), 32);
    }

    #[test]
    fn folder_is_named_by_slug() {
        let folder = skill_folder(&skill()).unwrap();
        let debug = format!("{folder:?}");
        assert!(debug.contains("release-notes"), "{debug}");
    }
}
