//! Custom skill sync against the fake API: created once, unchanged content makes no request,
//! an edit uploads one new version, a remotely deleted skill is created again, a create with
//! an unknown outcome is adopted (never duplicated), concurrent syncs upload once, and
//! `agents_using` finds the agents an edit must reconcile.

use std::sync::Arc;

use claude_agents::api::Error;
use claude_agents::domain::{AgentKind, AgentSpec, CustomSkill, ProviderKeyId, SkillRef};
use claude_agents::reconcile::skill_sync::{SkillSync, SyncAction, agents_using, skill_md};
use claude_agents::store::{Expected, MemoryStore, RecordStore, Store};
use claude_agents::testkit::{FakeApi, RequestMatch};

fn skill(instructions: &str) -> CustomSkill {
    CustomSkill {
        id: "csk_notes".into(),
        workspace: "ws_1".into(),
        name: "release-notes".into(),
        title: "Release notes".into(),
        description: "Writes release notes. Use when a version ships.".into(),
        instructions: instructions.into(),
        revision: 1,
    }
}

fn key() -> ProviderKeyId {
    ProviderKeyId::from("pk_1")
}

fn writes(fake: &FakeApi) -> usize {
    fake.writes().values().sum()
}

#[tokio::test]
async fn created_once_then_unchanged_then_one_version_per_edit() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let sync = SkillSync::new(Arc::new(MemoryStore::new()));

    let (first, action) = sync.ensure(&client, &skill("v1"), &key()).await.unwrap();
    assert_eq!(action, SyncAction::Created);
    assert_eq!(fake.objects("skill").len(), 1);
    // The uploaded SKILL.md is what skill_md renders.
    let content = client
        .skills()
        .versions(&first.skill_id)
        .content(&first.version)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&content);
    assert!(
        text.contains(&skill_md(&skill("v1"))),
        "the zip holds our SKILL.md"
    );

    let before = writes(&fake);
    let (again, action) = sync.ensure(&client, &skill("v1"), &key()).await.unwrap();
    assert_eq!((action, &again), (SyncAction::Unchanged, &first));
    assert_eq!(writes(&fake), before, "unchanged content: no write");
    let requests = fake.requests().len();
    sync.ensure(&client, &skill("v1"), &key()).await.unwrap();
    assert_eq!(
        fake.requests().len(),
        requests,
        "unchanged content: no request at all"
    );

    let (edited, action) = sync.ensure(&client, &skill("v2"), &key()).await.unwrap();
    assert_eq!(action, SyncAction::NewVersion);
    assert_eq!(edited.skill_id, first.skill_id);
    assert_ne!(edited.version, first.version);
    assert_eq!(writes(&fake), before + 1, "one version upload");
    assert_eq!(fake.objects("skill").len(), 1);
}

#[tokio::test]
async fn a_skill_deleted_remotely_is_created_again() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let sync = SkillSync::new(Arc::new(MemoryStore::new()));
    let (first, _) = sync.ensure(&client, &skill("v1"), &key()).await.unwrap();
    // Versions first, then the skill (the older Skills API required it).
    let id = first.skill_id.clone();
    let _ = client.skills().versions(&id).delete(&first.version).await;
    client.skills().delete(&id).await.unwrap();

    let (second, action) = sync.ensure(&client, &skill("v2"), &key()).await.unwrap();
    assert_eq!(action, SyncAction::Recreated);
    assert_ne!(second.skill_id, first.skill_id);
    assert_eq!(fake.objects("skill").len(), 1);
}

#[tokio::test]
async fn a_create_with_an_unknown_outcome_is_adopted_not_duplicated() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let store = Arc::new(MemoryStore::new());
    let sync = SkillSync::new(store.clone());
    fake.faults()
        .drop_after_commit(1, RequestMatch::new("POST", "/v1/skills"));
    let err = sync
        .ensure(&client, &skill("v1"), &key())
        .await
        .unwrap_err();
    assert!(
        matches!(err.api_error(), Some(Error::OutcomeUnknown { .. })),
        "{err:?}"
    );
    assert_eq!(fake.objects("skill").len(), 1, "the server did create it");

    let (adopted, action) = sync.ensure(&client, &skill("v1"), &key()).await.unwrap();
    assert_eq!(action, SyncAction::Adopted);
    assert_eq!(fake.objects("skill").len(), 1, "adopted, not duplicated");
    assert_eq!(
        fake.objects("skill")[0]["id"].as_str(),
        Some(adopted.skill_id.as_str())
    );
    // From now on it is an ordinary recorded skill.
    let (_, action) = sync.ensure(&client, &skill("v1"), &key()).await.unwrap();
    assert_eq!(action, SyncAction::Unchanged);
}

#[tokio::test]
async fn another_workspaces_skill_with_the_same_title_is_not_adopted() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let sync = SkillSync::new(Arc::new(MemoryStore::new()));
    // Someone else's skill: same title, different slug.
    let other = CustomSkill {
        id: "csk_other".into(),
        name: "other-notes".into(),
        ..skill("theirs")
    };
    SkillSync::new(Arc::new(MemoryStore::new()))
        .ensure(&client, &other, &key())
        .await
        .unwrap();
    fake.faults()
        .drop_after_commit(1, RequestMatch::new("POST", "/v1/skills"));
    sync.ensure(&client, &skill("v1"), &key())
        .await
        .unwrap_err();
    let (ours, action) = sync.ensure(&client, &skill("v1"), &key()).await.unwrap();
    assert_eq!(action, SyncAction::Adopted);
    let theirs: Vec<_> = fake
        .objects("skill")
        .into_iter()
        .filter(|s| s["id"].as_str() != Some(ours.skill_id.as_str()))
        .collect();
    assert_eq!(theirs.len(), 1, "the other skill is left alone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_syncs_upload_once() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let sync = SkillSync::new(Arc::new(MemoryStore::new()));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (sync, client) = (sync.clone(), client.clone());
            tokio::spawn(async move { sync.ensure(&client, &skill("v1"), &key()).await })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert!(e.is_conflict(), "losers see a conflict: {e:?}"),
        }
    }
    assert!(ok >= 1);
    assert_eq!(fake.objects("skill").len(), 1, "one remote skill");
    let creates = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/skills")
        .count();
    assert_eq!(creates, 1, "exactly one create was sent");
}

#[tokio::test]
async fn agents_using_lists_the_specs_that_pin_the_skill() {
    let store = MemoryStore::new();
    let spec = |id: &str, skills: Vec<SkillRef>| {
        let mut spec: AgentSpec = serde_json::from_value(serde_json::json!({
            "id": id, "workspace": "ws_1", "name": id, "provider_key": "pk_1",
            "kind": {"mode": "managed", "model": "claude-sonnet-4-6"}
        }))
        .unwrap();
        if let AgentKind::Managed(m) = &mut spec.kind {
            m.skills = skills;
        }
        spec
    };
    let custom = SkillRef::Custom {
        skill: "csk_notes".into(),
    };
    let builtin = SkillRef::Anthropic {
        skill_id: "xlsx".into(),
    };
    for s in [
        spec("a1", vec![custom.clone(), builtin.clone()]),
        spec("a2", vec![builtin]),
        spec("a3", vec![custom]),
    ] {
        store.save(&s, Expected::Absent).await.unwrap();
    }
    let using = agents_using(&store as &dyn Store, &"ws_1".into(), &"csk_notes".into())
        .await
        .unwrap();
    let ids: Vec<&str> = using.iter().map(|id| id.as_str()).collect();
    assert_eq!(ids, ["a1", "a3"]);
}

/// The fan-out test: a custom skill used by 20 managed agents is edited; the skill
/// gets one new version and every agent exactly one update (pinning it), nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skill_edit_used_by_20_agents_updates_each_agent_once() {
    use claude_agents::domain::{KeyStatus, ProviderKey};
    use claude_agents::reconcile::fanout::FanOut;
    use claude_agents::reconcile::{Reconciler, ReconcilerConfig};
    use claude_agents::store::MemorySecretStore;

    let fake = FakeApi::start().await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let key = ProviderKey {
        id: "pk_1".into(),
        workspace: "ws_1".into(),
        label: "Team key".into(),
        secret: "provider_key/ws_1/pk_1".into(),
        masked: "sk-ant-…Wxyz".into(),
        status: KeyStatus::Unvalidated,
        models: vec![],
    };
    store.save(&key, Expected::Absent).await.unwrap();
    store.save(&skill("v1"), Expected::Absent).await.unwrap();
    let custom = SkillRef::Custom {
        skill: "csk_notes".into(),
    };
    for i in 0..20 {
        let mut spec: AgentSpec = serde_json::from_value(serde_json::json!({
            "id": format!("agent_{i:02}"), "workspace": "ws_1", "name": format!("Agent {i}"),
            "provider_key": "pk_1",
            "kind": {"mode": "managed", "model": "claude-sonnet-4-6",
                     "instructions_html": "<p>Write the notes.</p>"}
        }))
        .unwrap();
        if let AgentKind::Managed(m) = &mut spec.kind {
            m.skills = vec![custom.clone()];
        }
        store.save(&spec, Expected::Absent).await.unwrap();
    }
    let reconciler = Reconciler::new(
        store.clone(),
        Arc::new(MemorySecretStore::new()),
        Arc::new(fake.client()),
        ReconcilerConfig::new("test-installation"),
    );
    let fanout = FanOut::new(8);
    let first = reconciler
        .skill_changed(&"ws_1".into(), &"csk_notes".into(), &fanout)
        .await
        .unwrap();
    assert_eq!(first.ok_count(), 20, "{:?}", first.errors().next());
    assert_eq!(fake.objects("agent").len(), 20);
    assert_eq!(fake.objects("skill").len(), 1);

    // Edit the skill.
    store
        .save(&skill("v2: also link the tasks"), Expected::Any)
        .await
        .unwrap();
    let before = fake.requests().len();
    let second = reconciler
        .skill_changed(&"ws_1".into(), &"csk_notes".into(), &fanout)
        .await
        .unwrap();
    assert_eq!(second.ok_count(), 20, "{:?}", second.errors().next());
    let writes: Vec<_> = fake.requests()[before..]
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| r.path.clone())
        .collect();
    let version_uploads = writes.iter().filter(|p| p.ends_with("/versions")).count();
    assert_eq!(version_uploads, 1, "one new skill version: {writes:?}");
    let mut agent_updates: Vec<&String> = writes
        .iter()
        .filter(|p| p.starts_with("/v1/agents/"))
        .collect();
    assert_eq!(agent_updates.len(), 20, "{writes:?}");
    agent_updates.sort();
    agent_updates.dedup();
    assert_eq!(agent_updates.len(), 20, "each agent updated exactly once");
    assert_eq!(writes.len(), 21, "nothing else written: {writes:?}");
    let outcomes: usize = second.successes().map(|(_, o)| o.updates).sum();
    assert_eq!(outcomes, 20);
    // Every agent now pins the new version.
    let pinned: std::collections::BTreeSet<String> = fake
        .objects("agent")
        .iter()
        .map(|a| {
            a["skills"][0]["version"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(pinned.len(), 1, "{pinned:?}");
}
