//! Wire fixtures for the vaults family.

use chrono::{TimeZone, Utc};
use claude_agents::api::types::Deleted;
use claude_agents::api::types::vaults::*;
use secrecy::SecretString;
use serde_json::{Value, json};

const SECRETS: &[&str] = &[
    "at-SECRET-1",
    "rt-SECRET-2",
    "cs-SECRET-3",
    "tok-SECRET-4",
    "sv-SECRET-5",
];

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

/// `Debug` of a request must never contain a secret.
fn assert_redacted<T: std::fmt::Debug>(v: &T) {
    let dbg = format!("{v:?}");
    for s in SECRETS {
        assert!(!dbg.contains(s), "Debug leaks {s}: {dbg}");
    }
    let pretty = format!("{v:#?}");
    for s in SECRETS {
        assert!(!pretty.contains(s), "Debug leaks {s}: {pretty}");
    }
}

#[test]
fn wire_vaults_fixtures_round_trip() {
    crate::fixtures::check_family("vaults", |path, rust_type, value| match rust_type {
        "Vault" => {
            crate::fixtures::round_trip::<Vault>(path, value);
            true
        }
        "Credential" => {
            let c = crate::fixtures::round_trip::<Credential>(path, value);
            assert!(
                !c.auth.is_other(),
                "{}: auth fell back to Other",
                path.display()
            );
            if let CredentialAuth::McpOAuth(a) = &c.auth
                && let Some(r) = &a.refresh
            {
                assert!(
                    !r.token_endpoint_auth.is_other(),
                    "{}: token_endpoint_auth fell back to Other",
                    path.display()
                );
            }
            if let CredentialAuth::EnvironmentVariable(e) = &c.auth {
                assert!(!e.networking.is_other(), "{}", path.display());
            }
            true
        }
        "CredentialValidation" => {
            let v = crate::fixtures::round_trip::<CredentialValidation>(path, value);
            assert!(!v.status.is_other(), "{}", path.display());
            if let Some(r) = &v.refresh {
                assert!(!r.status.is_other(), "{}", path.display());
            }
            true
        }
        "Deleted" => {
            crate::fixtures::round_trip::<Deleted>(path, value);
            true
        }
        _ => false,
    });
}

#[test]
fn wire_vaults_fixture_details() {
    let doc: Value = serde_json::from_str(include_str!(
        "../fixtures/vaults/credential_mcp_oauth_refresh_client_secret_post.json"
    ))
    .unwrap();
    let c: Credential = serde_json::from_value(doc["value"].clone()).unwrap();
    assert_eq!(c.mcp_server_url(), Some("https://mcp.slack.com/mcp"));
    let CredentialAuth::McpOAuth(auth) = &c.auth else {
        panic!("expected mcp_oauth: {:?}", c.auth)
    };
    let refresh = auth.refresh.as_ref().unwrap();
    assert_eq!(
        refresh.token_endpoint_auth,
        TokenEndpointAuth::ClientSecretPost
    );
    assert_eq!(refresh.scope.as_deref(), Some("channels:read chat:write"));
    assert_eq!(refresh.resource, None);

    let doc: Value = serde_json::from_str(include_str!(
        "../fixtures/vaults/credential_env_limited.json"
    ))
    .unwrap();
    let c: Credential = serde_json::from_value(doc["value"].clone()).unwrap();
    let CredentialAuth::EnvironmentVariable(env) = &c.auth else {
        panic!("expected environment_variable")
    };
    assert_eq!(env.secret_name, "STRIPE_API_KEY");
    assert_eq!(
        env.networking,
        CredentialNetworking::limited(["api.stripe.com", "*.stripe.com", "192.0.2.1"])
    );
    assert_eq!(
        env.injection_location,
        InjectionLocation {
            header: true,
            body: false
        }
    );

    let doc: Value = serde_json::from_str(include_str!(
        "../fixtures/vaults/validation_invalid_probe_refresh_failed.json"
    ))
    .unwrap();
    let v: CredentialValidation = serde_json::from_value(doc["value"].clone()).unwrap();
    assert_eq!(v.status, ValidationStatus::Invalid);
    let probe = v.mcp_probe.unwrap();
    assert_eq!(probe.method, "initialize");
    assert_eq!(probe.http_response.unwrap().status_code, 401);
    let refresh = v.refresh.unwrap();
    assert_eq!(refresh.status, RefreshStatus::Failed);
    assert!(refresh.http_response.unwrap().body_truncated);

    let doc: Value =
        serde_json::from_str(include_str!("../fixtures/vaults/vault_archived.json")).unwrap();
    let vault: Vault = serde_json::from_value(doc["value"].clone()).unwrap();
    assert!(vault.is_archived());
}

#[test]
fn wire_vaults_unknown_auth_type_round_trips_as_other() {
    let raw = json!({
        "type": "vault_credential",
        "id": "vcrd_1",
        "vault_id": "vlt_1",
        "display_name": null,
        "auth": {"type": "mtls", "mcp_server_url": "https://x.example/mcp", "cert_fingerprint": "ab:cd"},
        "metadata": {},
        "created_at": "2026-03-18T10:05:00Z",
        "updated_at": "2026-03-18T10:05:00Z",
        "archived_at": null
    });
    let c: Credential = serde_json::from_value(raw.clone()).unwrap();
    assert!(c.auth.is_other());
    assert_eq!(c.auth.type_name(), "mtls");
    assert_eq!(c.mcp_server_url(), None);
    assert_eq!(to_json(&c)["auth"], raw["auth"]);

    // Unknown nested unions / open enums keep their raw values too.
    let auth: CredentialAuth = serde_json::from_value(json!({
        "type": "mcp_oauth",
        "mcp_server_url": "https://x.example/mcp",
        "refresh": {"client_id": "c", "token_endpoint": "https://x.example/token",
                    "token_endpoint_auth": {"type": "private_key_jwt", "kid": "k1"}}
    }))
    .unwrap();
    let CredentialAuth::McpOAuth(a) = &auth else {
        panic!()
    };
    let tea = &a.refresh.as_ref().unwrap().token_endpoint_auth;
    assert!(tea.is_other());
    assert_eq!(
        to_json(tea),
        json!({"type": "private_key_jwt", "kid": "k1"})
    );

    let net: CredentialNetworking =
        serde_json::from_value(json!({"type": "proxied", "via": "p"})).unwrap();
    assert_eq!(net.type_name(), "proxied");
    assert_eq!(to_json(&net), json!({"type": "proxied", "via": "p"}));

    let v: CredentialValidation = serde_json::from_value(json!({
        "type": "vault_credential_validation", "credential_id": "vcrd_1", "vault_id": "vlt_1",
        "validated_at": "2026-04-29T17:12:00Z", "status": "degraded", "has_refresh_token": true,
        "refresh": {"status": "rate_limited"}
    }))
    .unwrap();
    assert_eq!(v.status, ValidationStatus::Other("degraded".into()));
    assert_eq!(v.refresh.as_ref().unwrap().status.as_str(), "rate_limited");
    assert_eq!(to_json(&v)["status"], "degraded");
}

#[test]
fn wire_vaults_known_tag_with_bad_payload_is_an_error() {
    let err = serde_json::from_value::<CredentialAuth>(json!({"type": "static_bearer"}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("static_bearer"), "{err}");
}

// ------------------------------------------------------------------------------------------
// Requests
// ------------------------------------------------------------------------------------------

#[test]
fn wire_vaults_vault_create_and_update_json() {
    assert_eq!(
        to_json(&VaultCreate::new("Alice")),
        json!({"display_name": "Alice"})
    );
    assert_eq!(
        to_json(&VaultCreate::new("Alice").with_metadata("external_user_id", "usr_abc123")),
        json!({"display_name": "Alice", "metadata": {"external_user_id": "usr_abc123"}})
    );

    assert_eq!(to_json(&VaultUpdate::new()), json!({}));
    assert_eq!(
        to_json(&VaultUpdate::new().with_display_name("Alice B.")),
        json!({"display_name": "Alice B."})
    );
    let clear = VaultUpdate {
        display_name: Some(None),
        ..VaultUpdate::default()
    };
    assert_eq!(to_json(&clear), json!({"display_name": null}));
    assert_eq!(
        to_json(
            &VaultUpdate::new()
                .set_metadata("tier", "gold")
                .remove_metadata("old")
        ),
        json!({"metadata": {"tier": "gold", "old": null}})
    );
}

fn exp() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 2, 14, 0, 0).unwrap()
}

#[test]
fn wire_vaults_credential_create_mcp_oauth_json() {
    let refresh = |tea| {
        McpOAuthRefreshCreate::new(
            "rt-SECRET-2",
            "client-123",
            "https://api.notion.com/v1/oauth/token",
            tea,
        )
        .with_scope("read write")
        .with_resource("https://mcp.notion.com/")
    };
    let cases = [
        (TokenEndpointAuthCreate::None, json!({"type": "none"})),
        (
            TokenEndpointAuthCreate::client_secret_basic("cs-SECRET-3"),
            json!({"type": "client_secret_basic", "client_secret": "cs-SECRET-3"}),
        ),
        (
            TokenEndpointAuthCreate::client_secret_post("cs-SECRET-3"),
            json!({"type": "client_secret_post", "client_secret": "cs-SECRET-3"}),
        ),
    ];
    for (tea, tea_json) in cases {
        let req = CredentialCreate::mcp_oauth(
            "https://mcp.notion.com/mcp",
            "at-SECRET-1",
            Some(exp()),
            Some(refresh(tea)),
        )
        .with_display_name("Alice's Notion")
        .with_metadata("k", "v");
        assert_redacted(&req);
        assert_eq!(
            to_json(&req),
            json!({
                "auth": {
                    "type": "mcp_oauth",
                    "mcp_server_url": "https://mcp.notion.com/mcp",
                    "access_token": "at-SECRET-1",
                    "expires_at": "2026-04-02T14:00:00Z",
                    "refresh": {
                        "refresh_token": "rt-SECRET-2",
                        "client_id": "client-123",
                        "token_endpoint": "https://api.notion.com/v1/oauth/token",
                        "token_endpoint_auth": tea_json,
                        "scope": "read write",
                        "resource": "https://mcp.notion.com/"
                    }
                },
                "display_name": "Alice's Notion",
                "metadata": {"k": "v"}
            })
        );
    }

    let bare = CredentialCreate::mcp_oauth("https://mcp.notion.com/mcp", "at-SECRET-1", None, None);
    assert_redacted(&bare);
    assert_eq!(
        to_json(&bare),
        json!({"auth": {"type": "mcp_oauth", "mcp_server_url": "https://mcp.notion.com/mcp",
                        "access_token": "at-SECRET-1"}})
    );
}

#[test]
fn wire_vaults_credential_create_static_bearer_and_env_json() {
    let req = CredentialCreate::static_bearer("https://mcp.linear.app/mcp", "tok-SECRET-4");
    assert_redacted(&req);
    assert_eq!(
        to_json(&req),
        json!({"auth": {"type": "static_bearer", "mcp_server_url": "https://mcp.linear.app/mcp",
                        "token": "tok-SECRET-4"}})
    );

    let req = CredentialCreate::environment_variable(
        "STRIPE_API_KEY",
        "sv-SECRET-5",
        CredentialNetworking::limited(["api.stripe.com"]),
    );
    assert_redacted(&req);
    assert_eq!(
        to_json(&req),
        json!({"auth": {"type": "environment_variable", "secret_name": "STRIPE_API_KEY",
                        "secret_value": "sv-SECRET-5",
                        "networking": {"type": "limited", "allowed_hosts": ["api.stripe.com"]}}})
    );

    let mut req = CredentialCreate::environment_variable(
        "GITHUB_TOKEN",
        SecretString::from("sv-SECRET-5".to_owned()),
        CredentialNetworking::Unrestricted,
    );
    if let CredentialAuthCreate::EnvironmentVariable(env) = &mut req.auth {
        env.injection_location = Some(InjectionLocationParams::header_only());
    }
    assert_redacted(&req);
    assert_eq!(
        to_json(&req),
        json!({"auth": {"type": "environment_variable", "secret_name": "GITHUB_TOKEN",
                        "secret_value": "sv-SECRET-5", "networking": {"type": "unrestricted"},
                        "injection_location": {"header": true, "body": false}}})
    );
}

#[test]
fn wire_vaults_credential_update_json() {
    assert_eq!(to_json(&CredentialUpdate::new()), json!({}));

    let req = CredentialUpdate::rotate_static_bearer("tok-SECRET-4");
    assert_redacted(&req);
    assert_eq!(
        to_json(&req),
        json!({"auth": {"type": "static_bearer", "token": "tok-SECRET-4"}})
    );

    let req = CredentialUpdate::rotate_mcp_oauth("at-SECRET-1", Some(exp()));
    assert_redacted(&req);
    assert_eq!(
        to_json(&req),
        json!({"auth": {"type": "mcp_oauth", "access_token": "at-SECRET-1",
                        "expires_at": "2026-04-02T14:00:00Z"}})
    );
    // Unknown expiry is sent as null, never omitted (the old expiry would stick).
    assert_eq!(
        to_json(&CredentialUpdate::rotate_mcp_oauth("at-SECRET-1", None)),
        json!({"auth": {"type": "mcp_oauth", "access_token": "at-SECRET-1", "expires_at": null}})
    );

    let req = CredentialUpdate::rotate_environment_variable("sv-SECRET-5");
    assert_redacted(&req);
    assert_eq!(
        to_json(&req),
        json!({"auth": {"type": "environment_variable", "secret_value": "sv-SECRET-5"}})
    );

    // Refresh changes: new refresh token, clear scope via "", new client secret.
    let req = CredentialUpdate::auth(CredentialAuthUpdate::McpOAuth(McpOAuthUpdate {
        refresh: Some(Some(McpOAuthRefreshUpdate {
            refresh_token: Some(Some("rt-SECRET-2".into())),
            scope: Some(Some(String::new())),
            token_endpoint_auth: Some(TokenEndpointAuthUpdate::ClientSecretBasic {
                client_secret: Some(Some("cs-SECRET-3".into())),
            }),
        })),
        ..McpOAuthUpdate::default()
    }));
    assert_redacted(&req);
    assert_eq!(
        to_json(&req),
        json!({"auth": {"type": "mcp_oauth", "refresh": {
            "refresh_token": "rt-SECRET-2",
            "scope": "",
            "token_endpoint_auth": {"type": "client_secret_basic", "client_secret": "cs-SECRET-3"}
        }}})
    );

    // Omit vs null at every level.
    let req = CredentialUpdate {
        auth: Some(CredentialAuthUpdate::McpOAuth(McpOAuthUpdate {
            access_token: Some(None),
            expires_at: None,
            refresh: Some(None),
        })),
        display_name: Some(None),
        metadata: None,
    }
    .remove_metadata("external_user_id")
    .set_metadata("team", "ops");
    assert_eq!(
        to_json(&req),
        json!({
            "auth": {"type": "mcp_oauth", "access_token": null, "refresh": null},
            "display_name": null,
            "metadata": {"external_user_id": null, "team": "ops"}
        })
    );
    let req = CredentialUpdate::auth(CredentialAuthUpdate::McpOAuth(McpOAuthUpdate {
        refresh: Some(Some(McpOAuthRefreshUpdate {
            token_endpoint_auth: Some(TokenEndpointAuthUpdate::ClientSecretPost {
                client_secret: None,
            }),
            scope: Some(None),
            ..McpOAuthRefreshUpdate::default()
        })),
        ..McpOAuthUpdate::default()
    }));
    assert_eq!(
        to_json(&req),
        json!({"auth": {"type": "mcp_oauth", "refresh": {
            "scope": null, "token_endpoint_auth": {"type": "client_secret_post"}}}})
    );

    let req = CredentialUpdate::auth(CredentialAuthUpdate::EnvironmentVariable(
        EnvironmentVariableUpdate {
            secret_value: None,
            networking: Some(Some(CredentialNetworking::limited(["api.example.com"]))),
            injection_location: Some(InjectionLocationParams {
                header: None,
                body: Some(true),
            }),
        },
    ))
    .with_display_name("Example");
    assert_eq!(
        to_json(&req),
        json!({
            "auth": {"type": "environment_variable",
                     "networking": {"type": "limited", "allowed_hosts": ["api.example.com"]},
                     "injection_location": {"body": true}},
            "display_name": "Example"
        })
    );
    let req = CredentialUpdate::auth(CredentialAuthUpdate::StaticBearer(StaticBearerUpdate {
        token: Some(None),
    }));
    assert_eq!(
        to_json(&req),
        json!({"auth": {"type": "static_bearer", "token": null}})
    );
}

#[test]
fn wire_vaults_debug_never_prints_secrets() {
    let all = [
        format!(
            "{:?}",
            CredentialAuthCreate::McpOAuth(McpOAuthCreate {
                mcp_server_url: "u".into(),
                access_token: "at-SECRET-1".into(),
                expires_at: None,
                refresh: Some(McpOAuthRefreshCreate::new(
                    "rt-SECRET-2",
                    "c",
                    "t",
                    TokenEndpointAuthCreate::client_secret_post("cs-SECRET-3"),
                )),
            })
        ),
        format!(
            "{:?}",
            TokenEndpointAuthCreate::client_secret_basic("cs-SECRET-3")
        ),
        format!(
            "{:?}",
            TokenEndpointAuthUpdate::ClientSecretPost {
                client_secret: Some(Some("cs-SECRET-3".into()))
            }
        ),
        format!(
            "{:?}",
            StaticBearerCreate {
                mcp_server_url: "u".into(),
                token: "tok-SECRET-4".into()
            }
        ),
        format!(
            "{:?}",
            McpOAuthRefreshUpdate {
                refresh_token: Some(Some("rt-SECRET-2".into())),
                ..Default::default()
            }
        ),
        format!(
            "{:?}",
            CredentialUpdate::rotate_mcp_oauth("at-SECRET-1", None)
        ),
        format!(
            "{:?}",
            CredentialUpdate::rotate_environment_variable("sv-SECRET-5")
        ),
    ];
    for dbg in all {
        for s in SECRETS {
            assert!(!dbg.contains(s), "Debug leaks {s}: {dbg}");
        }
        assert!(dbg.contains("REDACTED"), "{dbg}");
    }
}

#[test]
fn wire_vaults_list_queries() {
    assert!(ListVaults::default().to_query().is_empty());
    assert_eq!(
        ListVaults {
            limit: Some(100),
            include_archived: Some(true)
        }
        .to_query(),
        vec![
            ("limit".to_owned(), "100".to_owned()),
            ("include_archived".to_owned(), "true".to_owned())
        ]
    );
    assert_eq!(
        ListCredentials {
            limit: None,
            include_archived: Some(false)
        }
        .to_query(),
        vec![("include_archived".to_owned(), "false".to_owned())]
    );
    let q = ListCredentials {
        limit: Some(5),
        include_archived: Some(true),
    }
    .to_query();
    assert!(q.iter().all(|(k, _)| k != "page" && k != "after_id"));
}
