//! `/v1/models` endpoints over loopback HTTP: id-based paging (`has_more`, `last_id` →
//! `after_id`), `lifecycle[]` bracket encoding, no beta header (reference
//! models-webhooks-files.md §A).

use claude_agents::api::types::ModelId;
use claude_agents::api::types::models::*;
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use wiremock::ResponseTemplate;

use crate::endpoint_support::{fixture, no_body, typed, unbeta};
use crate::support::{client, strict_server};

fn model_fixture(name: &str) -> Value {
    fixture("models", name)
}

fn id_page(data: Vec<Value>, has_more: bool) -> Value {
    let first = data.first().map(|m| m["id"].clone()).unwrap_or(Value::Null);
    let last = data.last().map(|m| m["id"].clone()).unwrap_or(Value::Null);
    json!({ "data": data, "has_more": has_more, "first_id": first, "last_id": last })
}

#[tokio::test]
async fn endpoints_models_retrieve() {
    let server = strict_server().await;
    let answer = model_fixture("model_full");
    unbeta("GET", "/v1/models/claude-opus-4-8", &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let model = client(&server)
        .models()
        .retrieve(&ModelId::from("claude-opus-4-8"))
        .await
        .unwrap();
    assert_eq!(model, typed::<ModelInfo>(&answer));
    assert!(model.is_active());
    assert_eq!(model.line, Some(ModelLine::Opus));
}

#[tokio::test]
async fn endpoints_models_list_pages_by_after_id_with_lifecycle_filter() {
    let server = strict_server().await;
    let page1 = id_page(
        vec![
            model_fixture("model_full"),
            model_fixture("model_deprecated_partial_caps"),
        ],
        true,
    );
    assert_eq!(page1["last_id"], json!("claude-sonnet-4-5-20250929"));
    unbeta(
        "GET",
        "/v1/models",
        &[("limit", "2"), ("lifecycle[]", "active")],
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(&page1))
    .expect(1)
    .mount(&server)
    .await;
    unbeta(
        "GET",
        "/v1/models",
        &[
            ("limit", "2"),
            ("lifecycle[]", "active"),
            ("after_id", "claude-sonnet-4-5-20250929"),
        ],
    )
    .respond_with(
        ResponseTemplate::new(200)
            .set_body_json(id_page(vec![model_fixture("model_minimal")], false)),
    )
    .expect(1)
    .mount(&server)
    .await;

    let params = ListModels {
        limit: Some(2),
        ..ListModels::active()
    };
    let models: Vec<ModelInfo> = client(&server)
        .models()
        .list(&params)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "claude-opus-4-8",
            "claude-sonnet-4-5-20250929",
            "claude-3-haiku-20240307"
        ]
    );
    assert_eq!(
        models[2],
        typed::<ModelInfo>(&model_fixture("model_minimal"))
    );

    // `lifecycle[]` goes out with its brackets (percent-encoded), once.
    let reqs = server.received_requests().await.unwrap();
    let keys: Vec<String> = reqs[0]
        .url
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    assert_eq!(keys, ["limit", "lifecycle[]"]);
    assert!(
        reqs[0]
            .url
            .query()
            .unwrap()
            .contains("lifecycle%5B%5D=active"),
        "{:?}",
        reqs[0].url.query()
    );
}

#[tokio::test]
async fn endpoints_models_list_repeats_lifecycle_for_each_value() {
    let server = strict_server().await;
    unbeta(
        "GET",
        "/v1/models",
        &[("lifecycle[]", "deprecated"), ("lifecycle[]", "retired")],
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(id_page(
        vec![
            model_fixture("model_deprecated_partial_caps"),
            model_fixture("model_minimal"),
        ],
        false,
    )))
    .expect(1)
    .mount(&server)
    .await;

    let params = ListModels {
        limit: None,
        lifecycle: vec![ModelLifecycle::Deprecated, ModelLifecycle::Retired],
    };
    let models: Vec<ModelInfo> = client(&server)
        .models()
        .list(&params)
        .try_collect()
        .await
        .unwrap();
    let lifecycles: Vec<_> = models.iter().map(|m| m.lifecycle.clone()).collect();
    assert_eq!(
        lifecycles,
        [
            Some(ModelLifecycle::Deprecated),
            Some(ModelLifecycle::Retired)
        ]
    );
}

#[tokio::test]
async fn endpoints_models_list_without_filters_sends_no_query_and_stops_on_an_empty_page() {
    let server = strict_server().await;
    // `has_more: true` with no items must not loop forever.
    unbeta("GET", "/v1/models", &[])
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [], "has_more": true, "first_id": null, "last_id": null
        })))
        .expect(1)
        .mount(&server)
        .await;

    let models: Vec<ModelInfo> = client(&server)
        .models()
        .list(&ListModels::default())
        .try_collect()
        .await
        .unwrap();
    assert!(models.is_empty());
}

#[tokio::test]
async fn endpoints_models_ids_are_percent_encoded_into_one_segment() {
    let server = strict_server().await;
    unbeta("GET", "/v1/models/claude%2Fopus%3Flatest", &[])
        .respond_with(ResponseTemplate::new(200).set_body_json(model_fixture("model_full")))
        .expect(1)
        .mount(&server)
        .await;

    let model = client(&server)
        .models()
        .retrieve(&ModelId::from("claude/opus?latest"))
        .await
        .unwrap();
    assert_eq!(model.id.as_str(), "claude-opus-4-8");
}
