//! `/v1/vaults` and `/v1/vaults/{id}/credentials` endpoints over loopback HTTP: every call on
//! `client.vaults()` and `client.vaults().credentials(&id)` (reference vaults.md §1). Secrets
//! must reach the wire in request bodies.

use chrono::{TimeZone, Utc};
use claude_agents::api::Error;
use claude_agents::api::types::vaults::*;
use claude_agents::api::types::{CredentialId, Deleted, VaultId};
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use wiremock::matchers::body_json;
use wiremock::{MockServer, ResponseTemplate};

use crate::endpoint_support::{
    cursor_page, error_body, fixture, json_content, managed, no_body, typed,
};
use crate::support::{client, strict_server};

const VAULT_ID: &str = "vlt_011CZkZE7hGq3nXcJ2dWbRtK";
const CRED_ID: &str = "vcrd_011CZkZF3mKp8sLqW5xYzA1B";

fn vault_fixture(name: &str) -> Value {
    fixture("vaults", name)
}

fn creds_path() -> String {
    format!("/v1/vaults/{VAULT_ID}/credentials")
}

fn cred_path(id: &str) -> String {
    format!("/v1/vaults/{VAULT_ID}/credentials/{id}")
}

/// The raw body of the only request the server received, as text.
async fn only_body(server: &MockServer) -> String {
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 1);
    String::from_utf8(reqs[0].body.clone()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Vaults
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn endpoints_vaults_create_posts_name_and_metadata() {
    let server = strict_server().await;
    let answer = vault_fixture("vault");
    managed("POST", "/v1/vaults", &[])
        .and(json_content)
        .and(body_json(json!({
            "display_name": "Alice",
            "metadata": {"external_user_id": "usr_abc123"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let vault = client(&server)
        .vaults()
        .create(&VaultCreate::new("Alice").with_metadata("external_user_id", "usr_abc123"))
        .await
        .unwrap();
    assert_eq!(vault, typed::<Vault>(&answer));
    assert_eq!(vault.id.as_str(), VAULT_ID);
    assert!(!vault.is_archived());
}

#[tokio::test]
async fn endpoints_vaults_retrieve() {
    let server = strict_server().await;
    let answer = vault_fixture("vault");
    managed("GET", &format!("/v1/vaults/{VAULT_ID}"), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let vault = client(&server)
        .vaults()
        .retrieve(&VaultId::from(VAULT_ID))
        .await
        .unwrap();
    assert_eq!(vault.display_name, "Alice");
    assert_eq!(vault, typed::<Vault>(&answer));
}

#[tokio::test]
async fn endpoints_vaults_update_posts_the_patch() {
    let server = strict_server().await;
    let mut answer = vault_fixture("vault");
    answer["display_name"] = json!("Alice B.");
    answer["metadata"] = json!({"tier": "pro"});
    managed("POST", &format!("/v1/vaults/{VAULT_ID}"), &[])
        .and(json_content)
        .and(body_json(json!({
            "display_name": "Alice B.",
            "metadata": {"tier": "pro", "external_user_id": null}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let update = VaultUpdate::new()
        .with_display_name("Alice B.")
        .set_metadata("tier", "pro")
        .remove_metadata("external_user_id");
    let vault = client(&server)
        .vaults()
        .update(&VaultId::from(VAULT_ID), &update)
        .await
        .unwrap();
    assert_eq!(vault.display_name, "Alice B.");
    assert_eq!(vault.metadata.len(), 1);
}

#[tokio::test]
async fn endpoints_vaults_delete() {
    let server = strict_server().await;
    managed("DELETE", &format!("/v1/vaults/{VAULT_ID}"), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(vault_fixture("vault_deleted")))
        .expect(1)
        .mount(&server)
        .await;

    let deleted = client(&server)
        .vaults()
        .delete(&VaultId::from(VAULT_ID))
        .await
        .unwrap();
    assert_eq!(
        deleted,
        Deleted {
            id: VAULT_ID.to_owned(),
            kind: "vault_deleted".to_owned()
        }
    );
}

#[tokio::test]
async fn endpoints_vaults_archive_posts_without_body() {
    let server = strict_server().await;
    let answer = vault_fixture("vault_archived");
    let id = answer["id"].as_str().unwrap().to_owned();
    managed("POST", &format!("/v1/vaults/{id}/archive"), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let vault = client(&server)
        .vaults()
        .archive(&VaultId::from(id.as_str()))
        .await
        .unwrap();
    assert!(vault.is_archived());
    assert_eq!(vault, typed::<Vault>(&answer));
}

#[tokio::test]
async fn endpoints_vaults_list_streams_every_page() {
    let server = strict_server().await;
    managed(
        "GET",
        "/v1/vaults",
        &[("limit", "1"), ("include_archived", "true")],
    )
    .respond_with(
        ResponseTemplate::new(200)
            .set_body_json(cursor_page(vec![vault_fixture("vault")], Some("p2"))),
    )
    .expect(1)
    .mount(&server)
    .await;
    managed(
        "GET",
        "/v1/vaults",
        &[("limit", "1"), ("include_archived", "true"), ("page", "p2")],
    )
    .respond_with(
        ResponseTemplate::new(200)
            .set_body_json(cursor_page(vec![vault_fixture("vault_archived")], None)),
    )
    .expect(1)
    .mount(&server)
    .await;

    let params = ListVaults {
        limit: Some(1),
        include_archived: Some(true),
    };
    let vaults: Vec<Vault> = client(&server)
        .vaults()
        .list(&params)
        .try_collect()
        .await
        .unwrap();
    let names: Vec<&str> = vaults.iter().map(|v| v.display_name.as_str()).collect();
    assert_eq!(names, ["Alice", "Bob"]);
    assert_eq!(vaults[1], typed::<Vault>(&vault_fixture("vault_archived")));
}

#[tokio::test]
async fn endpoints_vaults_list_page_returns_one_page() {
    let server = strict_server().await;
    managed(
        "GET",
        "/v1/vaults",
        &[("include_archived", "false"), ("page", "p2")],
    )
    .respond_with(
        ResponseTemplate::new(200).set_body_json(cursor_page(vec![vault_fixture("vault")], None)),
    )
    .expect(1)
    .mount(&server)
    .await;

    let params = ListVaults {
        include_archived: Some(false),
        ..ListVaults::default()
    };
    let page = client(&server)
        .vaults()
        .list_page(&params, Some("p2"))
        .await
        .unwrap();
    assert_eq!(page.next_page, None);
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].id.as_str(), VAULT_ID);
}

// ---------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn endpoints_vaults_credential_create_mcp_oauth_sends_every_secret() {
    let server = strict_server().await;
    let answer = vault_fixture("credential_mcp_oauth_refresh_client_secret_post");
    let want = json!({
        "auth": {
            "type": "mcp_oauth",
            "mcp_server_url": "https://mcp.slack.com/mcp",
            "access_token": "at-SECRET-1",
            "expires_at": "2026-04-02T14:00:00Z",
            "refresh": {
                "refresh_token": "rt-SECRET-2",
                "client_id": "1234567890.0987654321",
                "token_endpoint": "https://slack.com/api/oauth.v2.access",
                "token_endpoint_auth": {"type": "client_secret_post", "client_secret": "cs-SECRET-3"},
                "scope": "channels:read chat:write"
            }
        },
        "display_name": "Alice's Slack"
    });
    managed("POST", &creds_path(), &[])
        .and(json_content)
        .and(body_json(&want))
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let refresh = McpOAuthRefreshCreate::new(
        "rt-SECRET-2",
        "1234567890.0987654321",
        "https://slack.com/api/oauth.v2.access",
        TokenEndpointAuthCreate::client_secret_post("cs-SECRET-3"),
    )
    .with_scope("channels:read chat:write");
    let req = CredentialCreate::mcp_oauth(
        "https://mcp.slack.com/mcp",
        "at-SECRET-1",
        Some(Utc.with_ymd_and_hms(2026, 4, 2, 14, 0, 0).unwrap()),
        Some(refresh),
    )
    .with_display_name("Alice's Slack");
    let cred = client(&server)
        .vaults()
        .credentials(&VaultId::from(VAULT_ID))
        .create(&req)
        .await
        .unwrap();
    assert_eq!(cred, typed::<Credential>(&answer));
    assert_eq!(cred.mcp_server_url(), Some("https://mcp.slack.com/mcp"));

    let wire = only_body(&server).await;
    for secret in ["at-SECRET-1", "rt-SECRET-2", "cs-SECRET-3"] {
        assert!(wire.contains(secret), "{secret} missing from {wire}");
    }
}

#[tokio::test]
async fn endpoints_vaults_credential_create_static_bearer_sends_the_token() {
    let server = strict_server().await;
    let answer = vault_fixture("credential_static_bearer");
    managed("POST", &creds_path(), &[])
        .and(json_content)
        .and(body_json(json!({
            "auth": {
                "type": "static_bearer",
                "mcp_server_url": "https://mcp.linear.app/mcp",
                "token": "tok-SECRET-4"
            },
            "display_name": "Linear",
            "metadata": {"owner": "alice"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let req = CredentialCreate::static_bearer("https://mcp.linear.app/mcp", "tok-SECRET-4")
        .with_display_name("Linear")
        .with_metadata("owner", "alice");
    let cred = client(&server)
        .vaults()
        .credentials(&VaultId::from(VAULT_ID))
        .create(&req)
        .await
        .unwrap();
    assert!(matches!(cred.auth, CredentialAuth::StaticBearer(_)));
    assert_eq!(cred.display_name.as_deref(), Some("Linear"));
    assert!(
        only_body(&server)
            .await
            .contains("\"token\":\"tok-SECRET-4\"")
    );
}

#[tokio::test]
async fn endpoints_vaults_credential_create_environment_variable_sends_the_value() {
    let server = strict_server().await;
    let answer = vault_fixture("credential_env_limited");
    managed("POST", &creds_path(), &[])
        .and(json_content)
        .and(body_json(json!({
            "auth": {
                "type": "environment_variable",
                "secret_name": "STRIPE_API_KEY",
                "secret_value": "sv-SECRET-5",
                "networking": {"type": "limited", "allowed_hosts": ["api.stripe.com", "*.stripe.com", "192.0.2.1"]},
                "injection_location": {"header": true, "body": false}
            },
            "display_name": "Stripe"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let mut req = CredentialCreate::environment_variable(
        "STRIPE_API_KEY",
        "sv-SECRET-5",
        CredentialNetworking::limited(["api.stripe.com", "*.stripe.com", "192.0.2.1"]),
    )
    .with_display_name("Stripe");
    if let CredentialAuthCreate::EnvironmentVariable(env) = &mut req.auth {
        env.injection_location = Some(InjectionLocationParams::header_only());
    }
    let cred = client(&server)
        .vaults()
        .credentials(&VaultId::from(VAULT_ID))
        .create(&req)
        .await
        .unwrap();
    let CredentialAuth::EnvironmentVariable(env) = &cred.auth else {
        panic!("environment_variable expected: {:?}", cred.auth);
    };
    assert_eq!(env.secret_name, "STRIPE_API_KEY");
    assert!(env.injection_location.header && !env.injection_location.body);
    assert!(only_body(&server).await.contains("sv-SECRET-5"));
}

#[tokio::test]
async fn endpoints_vaults_credential_duplicate_url_is_a_conflict_after_one_request() {
    let server = strict_server().await;
    managed("POST", &creds_path(), &[])
        .respond_with(
            ResponseTemplate::new(409).set_body_json(error_body("invalid_request_error", None)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .vaults()
        .credentials(&VaultId::from(VAULT_ID))
        .create(&CredentialCreate::static_bearer(
            "https://mcp.linear.app/mcp",
            "tok-SECRET-4",
        ))
        .await
        .unwrap_err();
    let Error::Conflict(api) = &err else {
        panic!("expected Error::Conflict, got {err:?}");
    };
    assert_eq!(api.status, 409);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn endpoints_vaults_credential_retrieve() {
    let server = strict_server().await;
    let answer = vault_fixture("credential_mcp_oauth_refresh_client_secret_basic");
    managed("GET", &cred_path(CRED_ID), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let cred = client(&server)
        .vaults()
        .credentials(&VaultId::from(VAULT_ID))
        .retrieve(&CredentialId::from(CRED_ID))
        .await
        .unwrap();
    assert_eq!(cred, typed::<Credential>(&answer));
    let CredentialAuth::McpOAuth(oauth) = &cred.auth else {
        panic!("mcp_oauth expected: {:?}", cred.auth);
    };
    let refresh = oauth.refresh.as_ref().unwrap();
    assert_eq!(
        refresh.token_endpoint_auth,
        TokenEndpointAuth::ClientSecretBasic
    );
}

#[tokio::test]
async fn endpoints_vaults_credential_rotate_static_bearer() {
    let server = strict_server().await;
    let answer = vault_fixture("credential_static_bearer");
    let id = "vcrd_011CZkZF3mKp8sLqW5xYzA1D";
    managed("POST", &cred_path(id), &[])
        .and(json_content)
        .and(body_json(json!({
            "auth": {"type": "static_bearer", "token": "tok-SECRET-NEW"},
            "display_name": "Linear (rotated)"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let cred = client(&server)
        .vaults()
        .credentials(&VaultId::from(VAULT_ID))
        .update(
            &CredentialId::from(id),
            &CredentialUpdate::rotate_static_bearer("tok-SECRET-NEW")
                .with_display_name("Linear (rotated)"),
        )
        .await
        .unwrap();
    assert_eq!(cred.id.as_str(), id);
    assert!(only_body(&server).await.contains("tok-SECRET-NEW"));
}

#[tokio::test]
async fn endpoints_vaults_credential_rotate_mcp_oauth_sends_token_and_expiry() {
    let server = strict_server().await;
    let answer = vault_fixture("credential_mcp_oauth_refresh_client_secret_post");
    managed("POST", &cred_path(CRED_ID), &[])
        .and(body_json(json!({
            "auth": {
                "type": "mcp_oauth",
                "access_token": "at-SECRET-NEW",
                "expires_at": "2026-05-01T00:00:00Z"
            },
            "metadata": {"rotated": "yes", "stale": null}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let update = CredentialUpdate::rotate_mcp_oauth(
        "at-SECRET-NEW",
        Some(Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()),
    )
    .set_metadata("rotated", "yes")
    .remove_metadata("stale");
    let cred = client(&server)
        .vaults()
        .credentials(&VaultId::from(VAULT_ID))
        .update(&CredentialId::from(CRED_ID), &update)
        .await
        .unwrap();
    assert_eq!(cred.id.as_str(), CRED_ID);
}

#[tokio::test]
async fn endpoints_vaults_credential_rotate_environment_variable() {
    let server = strict_server().await;
    let answer = vault_fixture("credential_env_unrestricted");
    let id = answer["id"].as_str().unwrap().to_owned();
    managed("POST", &cred_path(&id), &[])
        .and(body_json(json!({
            "auth": {"type": "environment_variable", "secret_value": "sv-SECRET-NEW"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let cred = client(&server)
        .vaults()
        .credentials(&VaultId::from(VAULT_ID))
        .update(
            &CredentialId::from(id.as_str()),
            &CredentialUpdate::rotate_environment_variable("sv-SECRET-NEW"),
        )
        .await
        .unwrap();
    assert_eq!(cred, typed::<Credential>(&answer));
}

#[tokio::test]
async fn endpoints_vaults_credential_delete() {
    let server = strict_server().await;
    managed("DELETE", &cred_path(CRED_ID), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(vault_fixture("credential_deleted")))
        .expect(1)
        .mount(&server)
        .await;

    let deleted = client(&server)
        .vaults()
        .credentials(&VaultId::from(VAULT_ID))
        .delete(&CredentialId::from(CRED_ID))
        .await
        .unwrap();
    assert_eq!(
        deleted,
        Deleted {
            id: CRED_ID.to_owned(),
            kind: "vault_credential_deleted".to_owned()
        }
    );
}

#[tokio::test]
async fn endpoints_vaults_credential_archive_posts_without_body() {
    let server = strict_server().await;
    let answer = vault_fixture("credential_static_bearer");
    let id = "vcrd_011CZkZF3mKp8sLqW5xYzA1D";
    managed("POST", &format!("{}/archive", cred_path(id)), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let cred = client(&server)
        .vaults()
        .credentials(&VaultId::from(VAULT_ID))
        .archive(&CredentialId::from(id))
        .await
        .unwrap();
    assert!(cred.is_archived());
}

#[tokio::test]
async fn endpoints_vaults_credential_validate_mcp_oauth_posts_without_body() {
    let server = strict_server().await;
    let answer = vault_fixture("validation_invalid_no_refresh_token");
    let id = "vcrd_011CZkZF3mKp8sLqW5xYzA1C";
    managed(
        "POST",
        &format!("{}/mcp_oauth_validate", cred_path(id)),
        &[],
    )
    .and(no_body)
    .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
    .expect(1)
    .mount(&server)
    .await;

    let validation = client(&server)
        .vaults()
        .credentials(&VaultId::from(VAULT_ID))
        .validate_mcp_oauth(&CredentialId::from(id))
        .await
        .unwrap();
    assert_eq!(validation, typed::<CredentialValidation>(&answer));
    assert_eq!(validation.status, ValidationStatus::Invalid);
    assert!(!validation.has_refresh_token);
    let probe = validation.mcp_probe.as_ref().unwrap();
    assert_eq!(probe.method, "initialize");
    assert_eq!(probe.http_response.as_ref().unwrap().status_code, 401);
    assert_eq!(
        validation.refresh.as_ref().unwrap().status,
        RefreshStatus::NoRefreshToken
    );
}

#[tokio::test]
async fn endpoints_vaults_credential_list_streams_every_page() {
    let server = strict_server().await;
    managed(
        "GET",
        &creds_path(),
        &[("limit", "2"), ("include_archived", "true")],
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
        vec![
            vault_fixture("credential_mcp_oauth_refresh_none"),
            vault_fixture("credential_static_bearer"),
        ],
        Some("p2"),
    )))
    .expect(1)
    .mount(&server)
    .await;
    managed(
        "GET",
        &creds_path(),
        &[("limit", "2"), ("include_archived", "true"), ("page", "p2")],
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
        vec![vault_fixture("credential_env_limited")],
        None,
    )))
    .expect(1)
    .mount(&server)
    .await;

    let params = ListCredentials {
        limit: Some(2),
        include_archived: Some(true),
    };
    let creds: Vec<Credential> = client(&server)
        .vaults()
        .credentials(&VaultId::from(VAULT_ID))
        .list(&params)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = creds.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "vcrd_011CZkZF3mKp8sLqW5xYzA1B",
            "vcrd_011CZkZF3mKp8sLqW5xYzA1D",
            "vcrd_011CZkZF3mKp8sLqW5xYzA1E"
        ]
    );
    assert!(matches!(
        creds[2].auth,
        CredentialAuth::EnvironmentVariable(_)
    ));
}

#[tokio::test]
async fn endpoints_vaults_ids_are_percent_encoded_into_one_segment() {
    let server = strict_server().await;
    managed("GET", "/v1/vaults/v%2F1%3Fx", &[])
        .respond_with(ResponseTemplate::new(200).set_body_json(vault_fixture("vault")))
        .expect(1)
        .mount(&server)
        .await;
    managed(
        "POST",
        "/v1/vaults/v%2F1%3Fx/credentials/c%2F..%2F2%23f/mcp_oauth_validate",
        &[],
    )
    .and(no_body)
    .respond_with(ResponseTemplate::new(200).set_body_json(vault_fixture("validation_valid")))
    .expect(1)
    .mount(&server)
    .await;

    let c = client(&server);
    let vault = VaultId::from("v/1?x");
    c.vaults().retrieve(&vault).await.unwrap();
    let v = c
        .vaults()
        .credentials(&vault)
        .validate_mcp_oauth(&CredentialId::from("c/../2#f"))
        .await
        .unwrap();
    assert_eq!(v.status, ValidationStatus::Valid);
}
