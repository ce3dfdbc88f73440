//! The typed record layer (`store::records`) on the memory store, used through
//! `Arc<dyn Store>` as the rest of the crate does.

use std::sync::Arc;

use claude_agents::domain::{
    AgentKind, AgentSpec, CustomSkill, KeyStatus, ManagedAgent, Override, ProjectOverride,
    ProviderKey, SessionCard, Trigger, WorkspaceId,
};
use claude_agents::store::{
    Collection, Expected, MemoryStore, Record, RecordError, RecordKey, RecordStore, Revision,
    Store, StoreError,
};
use serde_json::json;

fn store() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

fn ws(id: &str) -> WorkspaceId {
    WorkspaceId::from(id)
}

pub fn provider_key(workspace: &str, id: &str) -> ProviderKey {
    ProviderKey {
        id: id.into(),
        workspace: workspace.into(),
        label: "Team key".into(),
        secret: format!("provider_key/{workspace}/{id}").into(),
        masked: "sk-ant-…Wxyz".into(),
        status: KeyStatus::Unvalidated,
        models: vec![],
    }
}

pub fn agent_spec(workspace: &str, id: &str, key: &str) -> AgentSpec {
    AgentSpec {
        id: id.into(),
        workspace: workspace.into(),
        name: format!("Agent {id}"),
        provider_key: key.into(),
        kind: AgentKind::Managed(ManagedAgent {
            instructions_html: "<p>Be helpful.</p>".into(),
            model: "claude-sonnet-4-6".into(),
            guidance: String::new(),
            rules: vec![],
            skills: vec![],
            mcp_servers: vec![],
            tool_mode: Default::default(),
            repositories: vec![],
            environment: Default::default(),
        }),
        revision: 1,
    }
}

fn skill(workspace: &str, id: &str) -> CustomSkill {
    CustomSkill {
        id: id.into(),
        workspace: workspace.into(),
        name: "invoice-extractor".into(),
        title: "Invoice extractor".into(),
        description: "Extracts totals from invoices.".into(),
        instructions: "# Steps\n1. Read the PDF.".into(),
        revision: 1,
    }
}

fn card(workspace: &str, id: &str) -> SessionCard {
    SessionCard::new(
        id.into(),
        workspace.into(),
        "task_1".into(),
        "agent_1".into(),
        Trigger::Assignment { by: None },
        chrono::DateTime::UNIX_EPOCH,
    )
}

#[tokio::test]
async fn records_round_trip_under_workspace_scoped_keys() {
    let store = store();
    let key = provider_key("ws_1", "pk_1");
    let spec = agent_spec("ws_1", "ag_1", "pk_1");
    let sk = skill("ws_1", "csk_1");
    let ov = ProjectOverride {
        guidance: Override::Extend("Also run the linter.".into()),
        ..ProjectOverride::inherit("ws_1".into(), "proj_1".into(), "ag_1".into())
    };
    let c = card("ws_1", "card_1");

    store.save(&key, Expected::Absent).await.unwrap();
    store.save(&spec, Expected::Absent).await.unwrap();
    store.save(&sk, Expected::Absent).await.unwrap();
    store.save(&ov, Expected::Absent).await.unwrap();
    store.save(&c, Expected::Absent).await.unwrap();

    // Each type in its own collection, under the key it computes.
    for (collection, raw_key) in [
        (Collection::ProviderKeys, "ws_1/pk_1"),
        (Collection::AgentSpecs, "ws_1/ag_1"),
        (Collection::Skills, "ws_1/csk_1"),
        (Collection::Overrides, "ws_1/proj_1/ag_1"),
        (Collection::SessionCards, "ws_1/card_1"),
    ] {
        assert!(
            store.get(collection, raw_key).await.unwrap().is_some(),
            "{collection}/{raw_key}"
        );
    }

    let (k, _) = store
        .load::<ProviderKey>(&RecordKey::of(&ws("ws_1"), "pk_1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(k, key);
    let (o, _) = store
        .load::<ProjectOverride>(&ov.key())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o, ov);
    assert_eq!(
        store
            .load::<SessionCard>(&c.key())
            .await
            .unwrap()
            .unwrap()
            .0,
        c
    );
    assert_eq!(
        store
            .load::<CustomSkill>(&sk.key())
            .await
            .unwrap()
            .unwrap()
            .0,
        sk
    );
    assert_eq!(
        store
            .load::<AgentSpec>(&spec.key())
            .await
            .unwrap()
            .unwrap()
            .0,
        spec
    );
    // Absent: None, not an error.
    assert!(
        store
            .load::<ProviderKey>(&RecordKey::of(&ws("ws_1"), "pk_2"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn listing_a_workspace_is_exact_and_ordered() {
    let store = store();
    // `ws_1` must not see `ws_10`'s records, and ids with `/` stay in their workspace.
    for (w, id) in [
        ("ws_1", "pk_b"),
        ("ws_10", "pk_x"),
        ("ws_1", "pk_a"),
        ("ws_1/evil", "pk_y"),
        ("ws_1", "pk/with/slashes"),
    ] {
        store
            .save(&provider_key(w, id), Expected::Absent)
            .await
            .unwrap();
    }
    let listed: Vec<String> = store
        .list_workspace::<ProviderKey>(&ws("ws_1"))
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k.id.to_string())
        .collect();
    assert_eq!(listed, vec!["pk/with/slashes", "pk_a", "pk_b"]);
    let evil = store
        .list_workspace::<ProviderKey>(&ws("ws_1/evil"))
        .await
        .unwrap();
    assert_eq!(evil.len(), 1);
    assert_eq!(evil[0].0.id.as_str(), "pk_y");
    assert!(
        store
            .list_workspace::<ProviderKey>(&ws("ws_2"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn stale_revision_is_a_conflict_through_the_typed_layer() {
    let store = store();
    let mut key = provider_key("ws_1", "pk_1");
    let r1 = store.save(&key, Expected::Absent).await.unwrap();
    key.label = "Renamed".into();
    let r2 = store.save(&key, Expected::Revision(r1)).await.unwrap();
    assert!(r2 > r1);

    // A writer still holding r1 loses, and nothing changes.
    key.label = "Lost update".into();
    let err = store.save(&key, Expected::Revision(r1)).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert!(
        matches!(
            &err,
            RecordError::Store(StoreError::Conflict { collection, key, current, .. })
                if collection == "provider_keys" && key == "ws_1/pk_1" && *current == Some(r2)
        ),
        "{err:?}"
    );
    let (now, rev) = store
        .load::<ProviderKey>(&key.key())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((now.label.as_str(), rev), ("Renamed", r2));

    // Creating twice is a conflict too.
    let err = store.save(&key, Expected::Absent).await.unwrap_err();
    assert!(err.is_conflict());

    // Deletes are compare-and-swap as well.
    let err = store
        .remove::<ProviderKey>(&key.key(), Expected::Revision(r1))
        .await
        .unwrap_err();
    assert!(err.is_conflict());
    store
        .remove::<ProviderKey>(&key.key(), Expected::Revision(r2))
        .await
        .unwrap();
    let err = store
        .remove::<ProviderKey>(&key.key(), Expected::Any)
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    assert!(
        store
            .load::<ProviderKey>(&key.key())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn invalid_records_are_refused_before_any_write() {
    let store = store();
    let bad = ProviderKey {
        label: " ".into(),
        ..provider_key("ws_1", "pk_1")
    };
    let err = store.save(&bad, Expected::Absent).await.unwrap_err();
    match &err {
        RecordError::Invalid {
            collection,
            key,
            source,
        } => {
            assert_eq!((*collection, key.as_str()), ("provider_keys", "ws_1/pk_1"));
            assert_eq!(source.field(), Some("label"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        store
            .list(Collection::ProviderKeys, "")
            .await
            .unwrap()
            .is_empty()
    );
    let bad_card = SessionCard {
        remote_session: Some("has space".into()),
        ..card("ws_1", "card_1")
    };
    assert!(matches!(
        store.save(&bad_card, Expected::Any).await,
        Err(RecordError::Invalid { .. })
    ));
}

#[tokio::test]
async fn undecodable_or_misplaced_records_are_typed_errors() {
    let store = store();
    // Not a provider key at all.
    store
        .put(
            Collection::ProviderKeys,
            "ws_1/pk_1",
            json!({"id": "pk_1", "workspace": "ws_1", "label": 42}),
            Expected::Absent,
        )
        .await
        .unwrap();
    let err = store
        .load::<ProviderKey>(&RecordKey::of(&ws("ws_1"), "pk_1"))
        .await
        .unwrap_err();
    match &err {
        RecordError::Decode {
            collection,
            key,
            path,
            ..
        } => {
            assert_eq!((*collection, key.as_str()), ("provider_keys", "ws_1/pk_1"));
            assert_eq!(path, "label");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("provider_keys/ws_1/pk_1"), "{err}");
    // The list names the broken key too.
    let err = store
        .list_workspace::<ProviderKey>(&ws("ws_1"))
        .await
        .unwrap_err();
    assert!(matches!(err, RecordError::Decode { ref key, .. } if key == "ws_1/pk_1"));

    // A valid record of another workspace copied under this workspace's key.
    let foreign = serde_json::to_value(provider_key("ws_2", "pk_9")).unwrap();
    store
        .put(
            Collection::ProviderKeys,
            "ws_1/pk_9",
            foreign,
            Expected::Absent,
        )
        .await
        .unwrap();
    let err = store
        .load::<ProviderKey>(&RecordKey::of(&ws("ws_1"), "pk_9"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RecordError::KeyMismatch { key, found, .. } if key == "ws_1/pk_9" && found == "ws_2/pk_9"),
        "{err:?}"
    );
}

/// The reconciler's status record (issue 5) and hosts' records implement `Record` the same
/// way: a collection, a key, optionally a validation.
#[tokio::test]
async fn a_record_defined_outside_the_crate() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Status {
        workspace: WorkspaceId,
        agent: String,
        remote_version: u64,
    }
    impl Record for Status {
        const COLLECTION: Collection = Collection::ReconcileStatus;
        fn key(&self) -> RecordKey {
            RecordKey::of(&self.workspace, &self.agent)
        }
    }
    let store = store();
    let s = Status {
        workspace: "ws_1".into(),
        agent: "ag_1".into(),
        remote_version: 3,
    };
    let rev = store.save(&s, Expected::Absent).await.unwrap();
    assert_eq!(
        store.load::<Status>(&s.key()).await.unwrap(),
        Some((s, rev))
    );
    assert!(rev > Revision(0));
}
