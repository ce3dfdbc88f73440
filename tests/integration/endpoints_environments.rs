//! `/v1/environments` endpoints over loopback HTTP: every call on `client.environments()`
//! (reference environments.md §1).

use claude_agents::api::Error;
use claude_agents::api::types::environments::*;
use claude_agents::api::types::{Deleted, EnvironmentId, Metadata, MetadataPatch};
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use wiremock::ResponseTemplate;
use wiremock::matchers::body_json;

use crate::endpoint_support::{
    cursor_page, error_body, fixture, json_content, managed, no_body, typed,
};
use crate::support::{client, strict_server};

const ENV_ID: &str = "env_011CZkZ9X2dpNyB7HsEFoRfW";

fn env_fixture(name: &str) -> Value {
    fixture("environments", name)
}

/// The `EnvironmentCreate` of `tests/fixtures/environments/environment_create.json`.
fn sample_create() -> EnvironmentCreate {
    EnvironmentCreate {
        config: Some(EnvironmentConfigParams::Cloud(CloudConfigParams {
            networking: Some(NetworkingParams::Limited(LimitedNetworkParams {
                allowed_hosts: Some(vec!["api.example.com".into()]),
                allow_package_managers: Some(true),
                allow_mcp_servers: None,
            })),
            packages: Some(PackagesParams {
                pip: Some(vec!["pandas".into(), "numpy".into()]),
                npm: Some(vec!["express".into()]),
                ..PackagesParams::default()
            }),
        })),
        description: Some("Data analysis sandbox".into()),
        metadata: Metadata::from([("owner".to_owned(), "data-team".to_owned())]),
        scope: Some(EnvironmentScope::Organization),
        ..EnvironmentCreate::new("python-dev")
    }
}

/// The `EnvironmentUpdate` of `tests/fixtures/environments/environment_update.json`.
fn sample_update() -> EnvironmentUpdate {
    EnvironmentUpdate {
        description: Some(None),
        config: Some(EnvironmentConfigParams::Cloud(CloudConfigParams {
            networking: None,
            packages: Some(PackagesParams {
                apt: Some(vec!["ffmpeg".into()]),
                ..PackagesParams::default()
            }),
        })),
        metadata: Some(MetadataPatch::from([
            ("owner".to_owned(), Some("ml-team".to_owned())),
            ("obsolete".to_owned(), None),
        ])),
        ..EnvironmentUpdate::default()
    }
}

#[tokio::test]
async fn endpoints_environments_create_posts_the_exact_body() {
    let server = strict_server().await;
    let answer = env_fixture("environment_cloud_limited");
    managed("POST", "/v1/environments", &[])
        .and(json_content)
        .and(body_json(env_fixture("environment_create")))
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let env = client(&server)
        .environments()
        .create(&sample_create())
        .await
        .unwrap();
    assert_eq!(env, typed::<Environment>(&answer));
    assert_eq!(env.id.as_str(), ENV_ID);
    let EnvironmentConfig::Cloud(cloud) = &env.config else {
        panic!("cloud config expected: {:?}", env.config);
    };
    let Networking::Limited(limited) = &cloud.networking else {
        panic!("limited networking expected: {:?}", cloud.networking);
    };
    assert_eq!(limited.allowed_hosts, ["api.example.com"]);
    assert!(limited.allow_mcp_servers);
    assert_eq!(cloud.packages.pip, ["pandas==2.2.2", "numpy"]);
}

#[tokio::test]
async fn endpoints_environments_create_duplicate_name_is_a_conflict() {
    let server = strict_server().await;
    managed("POST", "/v1/environments", &[])
        .and(body_json(json!({"name": "python-dev"})))
        .respond_with(
            ResponseTemplate::new(409).set_body_json(error_body("invalid_request_error", None)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .environments()
        .create(&EnvironmentCreate::new("python-dev"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(err.status(), Some(409));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn endpoints_environments_retrieve() {
    let server = strict_server().await;
    let answer = env_fixture("environment_self_hosted");
    let id = answer["id"].as_str().unwrap().to_owned();
    managed("GET", &format!("/v1/environments/{id}"), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let env = client(&server)
        .environments()
        .retrieve(&EnvironmentId::from(id.as_str()))
        .await
        .unwrap();
    assert_eq!(env, typed::<Environment>(&answer));
    assert_eq!(env.config, EnvironmentConfig::SelfHosted);
}

#[tokio::test]
async fn endpoints_environments_update_posts_the_patch() {
    let server = strict_server().await;
    let mut answer = env_fixture("environment_cloud_limited");
    answer["description"] = Value::Null;
    answer["metadata"] = json!({"owner": "ml-team"});
    managed("POST", &format!("/v1/environments/{ENV_ID}"), &[])
        .and(json_content)
        .and(body_json(env_fixture("environment_update")))
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let env = client(&server)
        .environments()
        .update(&EnvironmentId::from(ENV_ID), &sample_update())
        .await
        .unwrap();
    assert_eq!(env.description, None);
    assert_eq!(
        env.metadata.get("owner").map(String::as_str),
        Some("ml-team")
    );
}

#[tokio::test]
async fn endpoints_environments_delete_with_json_answer() {
    let server = strict_server().await;
    managed("DELETE", &format!("/v1/environments/{ENV_ID}"), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(env_fixture("environment_deleted")))
        .expect(1)
        .mount(&server)
        .await;

    let deleted = client(&server)
        .environments()
        .delete(&EnvironmentId::from(ENV_ID))
        .await
        .unwrap();
    assert_eq!(
        deleted,
        Deleted {
            id: ENV_ID.to_owned(),
            kind: "environment_deleted".to_owned()
        }
    );
}

#[tokio::test]
async fn endpoints_environments_delete_with_empty_204_answer() {
    let server = strict_server().await;
    managed("DELETE", &format!("/v1/environments/{ENV_ID}"), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    let deleted = client(&server)
        .environments()
        .delete(&EnvironmentId::from(ENV_ID))
        .await
        .unwrap();
    assert_eq!(deleted.id, ENV_ID);
    assert_eq!(deleted.kind, "");
}

#[tokio::test]
async fn endpoints_environments_archive_posts_without_body() {
    let server = strict_server().await;
    let answer = env_fixture("environment_archived");
    let id = answer["id"].as_str().unwrap().to_owned();
    managed("POST", &format!("/v1/environments/{id}/archive"), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let env = client(&server)
        .environments()
        .archive(&EnvironmentId::from(id.as_str()))
        .await
        .unwrap();
    assert!(env.is_archived());
    assert_eq!(env, typed::<Environment>(&answer));
}

#[tokio::test]
async fn endpoints_environments_list_streams_every_page() {
    let server = strict_server().await;
    let filters = [("limit", "2"), ("include_archived", "true")];
    managed("GET", "/v1/environments", &filters)
        .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
            vec![
                env_fixture("environment_cloud_limited"),
                env_fixture("environment_cloud_unrestricted"),
            ],
            Some("p2"),
        )))
        .expect(1)
        .mount(&server)
        .await;
    managed(
        "GET",
        "/v1/environments",
        &[("limit", "2"), ("include_archived", "true"), ("page", "p2")],
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
        vec![
            env_fixture("environment_self_hosted"),
            env_fixture("environment_archived"),
        ],
        None,
    )))
    .expect(1)
    .mount(&server)
    .await;

    let params = ListEnvironments {
        limit: Some(2),
        include_archived: Some(true),
    };
    let envs: Vec<Environment> = client(&server)
        .environments()
        .list(&params)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = envs.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "env_011CZkZ9X2dpNyB7HsEFoRfW",
            "env_011CZkZ9X2dpNyB7HsEFoRfX",
            "env_011CZkZ9X2dpNyB7HsEFoRfY",
            "env_011CZkZ9X2dpNyB7HsEFoRfZ"
        ]
    );
    assert!(envs[3].is_archived());
}

#[tokio::test]
async fn endpoints_environments_list_page_returns_one_page() {
    let server = strict_server().await;
    managed("GET", "/v1/environments", &[("page", "p2")])
        .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
            vec![env_fixture("environment_self_hosted")],
            Some("p3"),
        )))
        .expect(1)
        .mount(&server)
        .await;

    let page = client(&server)
        .environments()
        .list_page(&ListEnvironments::default(), Some("p2"))
        .await
        .unwrap();
    assert_eq!(page.next_page.as_deref(), Some("p3"));
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].config, EnvironmentConfig::SelfHosted);
}

#[tokio::test]
async fn endpoints_environments_ids_are_percent_encoded_into_one_segment() {
    let server = strict_server().await;
    managed("DELETE", "/v1/environments/env%2F..%2Fx%3Fy", &[])
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    managed("POST", "/v1/environments/env%2F..%2Fx%3Fy/archive", &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(env_fixture("environment_archived")))
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&server);
    let id = EnvironmentId::from("env/../x?y");
    let deleted = c.environments().delete(&id).await.unwrap();
    assert_eq!(deleted.id, "env/../x?y");
    c.environments().archive(&id).await.unwrap();
}
