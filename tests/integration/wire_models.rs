//! Wire fixtures for the models family.

use claude_agents::api::types::IdPage;
use claude_agents::api::types::models::*;
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/models/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["value"].clone()
}

#[test]
fn wire_models_fixtures_round_trip() {
    crate::fixtures::check_family("models", |path, rust_type, value| match rust_type {
        "ModelInfo" => {
            let m = crate::fixtures::round_trip::<ModelInfo>(path, value);
            assert!(
                !m.lifecycle.as_ref().unwrap().is_other(),
                "{}",
                path.display()
            );
            if let Some(caps) = &m.capabilities {
                // Every key SDK 2.10.0 knows is typed, none lands in `extra`.
                assert!(
                    caps.extra.is_empty(),
                    "{}: {:?}",
                    path.display(),
                    caps.extra
                );
            }
            true
        }
        _ => false,
    });
}

#[test]
fn wire_models_full_capabilities() {
    let m: ModelInfo = serde_json::from_value(fixture("model_full")).unwrap();
    assert!(m.is_active());
    assert_eq!(m.line, Some(ModelLine::Opus));
    assert_eq!(m.max_input_tokens, Some(1_000_000));
    assert_eq!(
        m.allowed_fallback_models.as_ref().unwrap()[0].as_str(),
        "claude-sonnet-4-6"
    );
    let caps = m.capabilities.unwrap();
    let effort = caps.effort.unwrap();
    assert!(effort.supports("xhigh"));
    assert!(effort.supports("low"));
    assert!(!effort.supports("ultra"));
    let types = caps.thinking.unwrap().types.unwrap();
    assert!(!types.enabled.unwrap().supported);
    assert!(types.adaptive.unwrap().supported);
    assert!(
        caps.context_management
            .unwrap()
            .compact_20260112
            .unwrap()
            .supported
    );
    assert!(caps.compaction.unwrap().summarize.unwrap().supported);
    assert!(caps.server_tools.unwrap().web_search.unwrap().supported);
}

#[test]
fn wire_models_minimal_nulls() {
    let m: ModelInfo = serde_json::from_value(fixture("model_minimal")).unwrap();
    assert_eq!(m.lifecycle, Some(ModelLifecycle::Retired));
    assert!(!m.is_active());
    assert_eq!(m.line, None);
    assert_eq!(m.capabilities, None);
    assert_eq!(m.allowed_fallback_models, None);

    // Older responses without the lifecycle-era fields still decode.
    let m: ModelInfo = serde_json::from_value(json!({
        "type": "model", "id": "claude-x", "display_name": "X", "created_at": "2025-01-01T00:00:00Z"
    }))
    .unwrap();
    assert_eq!(m.lifecycle, None);
}

#[test]
fn wire_models_unknown_keys_are_kept() {
    let mut raw = fixture("model_full");
    raw["lifecycle"] = json!("preview");
    raw["line"] = json!("sonata");
    let caps = &mut raw["capabilities"];
    caps["audio_input"] = json!({"supported": true, "formats": ["wav"]});
    caps["effort"]["ultra"] = json!({"supported": false});
    caps["effort"]["low"]["note"] = json!("beta");
    caps["thinking"]["types"]["interleaved"] = json!({"supported": true});
    caps["thinking"]["budget"] = json!({"min": 1024});
    caps["context_management"]["clear_all_20270101"] = json!({"supported": true});
    caps["server_tools"]["web_fetch"] = json!({"supported": true});
    caps["compaction"]["truncate"] = json!({"supported": false});

    let m: ModelInfo = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(m.lifecycle, Some(ModelLifecycle::Other("preview".into())));
    assert_eq!(m.line, Some(ModelLine::Other("sonata".into())));
    let c = m.capabilities.as_ref().unwrap();
    assert!(c.extra.contains_key("audio_input"));
    assert!(!c.effort.as_ref().unwrap().supports("ultra"));
    assert_eq!(
        c.effort.as_ref().unwrap().low.as_ref().unwrap().extra["note"],
        "beta"
    );
    // Lossless: re-encoding gives back exactly the input (nulls aside).
    crate::fixtures::round_trip::<ModelInfo>(std::path::Path::new("inline"), &raw);
}

#[test]
fn wire_models_list_query_and_page() {
    assert!(ListModels::default().to_query().is_empty());
    assert_eq!(
        ListModels::active().to_query(),
        vec![("lifecycle[]".to_owned(), "active".to_owned())]
    );
    let q = ListModels {
        limit: Some(1000),
        lifecycle: vec![
            ModelLifecycle::Active,
            ModelLifecycle::Deprecated,
            ModelLifecycle::Retired,
        ],
    }
    .to_query();
    assert_eq!(
        q,
        vec![
            ("limit".to_owned(), "1000".to_owned()),
            ("lifecycle[]".to_owned(), "active".to_owned()),
            ("lifecycle[]".to_owned(), "deprecated".to_owned()),
            ("lifecycle[]".to_owned(), "retired".to_owned()),
        ]
    );
    assert!(q.iter().all(|(k, _)| k != "after_id" && k != "before_id"));

    let page: IdPage<ModelInfo> = serde_json::from_value(json!({
        "data": [fixture("model_full"), fixture("model_minimal")],
        "has_more": true,
        "first_id": "claude-opus-4-8",
        "last_id": "claude-3-haiku-20240307"
    }))
    .unwrap();
    assert_eq!(page.data.len(), 2);
    assert_eq!(page.last_id.as_deref(), Some("claude-3-haiku-20240307"));
}
