//! The fake API's environments, vaults and credentials, skills, models and files — driven by
//! our own client. Typed calls prove that every answer decodes as our DTOs; raw answers are
//! compared key by key with the SDK-validated fixtures, so their shape is the SDK's.

use claude_agents::api::types::environments::{
    CloudConfigParams, EnvironmentConfig, EnvironmentConfigParams, EnvironmentCreate,
    EnvironmentUpdate, LimitedNetworkParams, ListEnvironments, Networking, NetworkingParams,
    PackagesParams,
};
use claude_agents::api::types::files::{ListFiles, UploadFile};
use claude_agents::api::types::models::{ListModels, ModelLifecycle};
use claude_agents::api::types::skills::{
    ListSkillVersions, ListSkills, SkillFolder, SkillSourceKind,
};
use claude_agents::api::types::vaults::{
    CredentialAuth, CredentialAuthUpdate, CredentialCreate, CredentialNetworking, CredentialUpdate,
    ListCredentials, ListVaults, McpOAuthRefreshCreate, StaticBearerUpdate,
    TokenEndpointAuthCreate, ValidationStatus, VaultCreate, VaultUpdate,
};
use claude_agents::api::types::{EnvironmentId, FileId, ModelId, SkillId, VaultId};
use claude_agents::api::{Client, Error, RequestKind};
use claude_agents::testkit::FakeApi;
use futures_util::TryStreamExt;
use serde_json::{Value, json};

use crate::endpoint_support::fixture;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Asserts that `actual` has exactly the keys of `expected`, recursively: objects of the same
/// union variant (`type`) are compared, free-form `metadata` maps are not; arrays by their
/// first elements; `null` matches anything.
#[track_caller]
fn assert_same_keys(actual: &Value, expected: &Value) {
    fn walk(path: &str, a: &Value, e: &Value) {
        match (a, e) {
            (Value::Object(_), Value::Object(_)) if path.ends_with(".metadata") => {}
            (Value::Object(a), Value::Object(e)) if a.get("type") != e.get("type") => {
                assert!(
                    a.get("type").is_some_and(Value::is_string),
                    "{path}: type {:?} vs {:?}",
                    a.get("type"),
                    e.get("type")
                );
            }
            (Value::Object(a), Value::Object(e)) => {
                let mut ak: Vec<&String> = a.keys().collect();
                let mut ek: Vec<&String> = e.keys().collect();
                ak.sort();
                ek.sort();
                assert_eq!(ak, ek, "keys of {path}");
                for (k, v) in a {
                    walk(&format!("{path}.{k}"), v, &e[k]);
                }
            }
            (Value::Array(a), Value::Array(e)) => {
                if let (Some(a), Some(e)) = (a.first(), e.first()) {
                    walk(&format!("{path}[0]"), a, e);
                }
            }
            (Value::Null, _) | (_, Value::Null) => {}
            (a, e) => assert_eq!(
                std::mem::discriminant(a),
                std::mem::discriminant(e),
                "type of {path}: {a} vs {e}"
            ),
        }
    }
    walk("$", actual, expected);
}

async fn get(client: &Client, path: &str, query: &[(&str, &str)]) -> Value {
    client.get_json::<Value>(path, query).await.unwrap()
}

async fn post(client: &Client, path: &str, body: Value) -> Result<Value, Error> {
    client
        .post_json::<_, Value>(path, &body, RequestKind::Idempotent)
        .await
}

#[track_caller]
fn assert_api_error(err: &Error, status: u16, code: Option<&str>) {
    let api = err
        .api()
        .unwrap_or_else(|| panic!("not an API error: {err:?}"));
    assert_eq!(api.status, status, "{err:?}");
    assert_eq!(api.error_code.as_deref(), code, "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Environments
// ---------------------------------------------------------------------------------------------

fn limited_env(name: &str) -> EnvironmentCreate {
    let mut body = EnvironmentCreate::new(name);
    body.description = Some("Data analysis sandbox".into());
    body.config = Some(EnvironmentConfigParams::Cloud(CloudConfigParams {
        networking: Some(NetworkingParams::Limited(LimitedNetworkParams {
            allowed_hosts: Some(vec!["api.example.com".into()]),
            allow_package_managers: Some(true),
            allow_mcp_servers: None,
        })),
        packages: Some(PackagesParams {
            pip: Some(vec!["pandas".into()]),
            ..PackagesParams::default()
        }),
    }));
    body.metadata.insert("owner".into(), "data-team".into());
    body
}

#[tokio::test]
async fn environments_resolve_config_and_keep_names_unique() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let envs = client.environments();

    // Without a config: cloud, unrestricted, every package list present.
    let plain = envs.create(&EnvironmentCreate::new("plain")).await.unwrap();
    assert!(plain.id.as_str().starts_with("env_"));
    let raw = get(&client, &format!("/v1/environments/{}", plain.id), &[]).await;
    assert_eq!(
        raw["config"],
        json!({"type": "cloud", "networking": {"type": "unrestricted"},
               "packages": {"type": "packages", "apt": [], "cargo": [], "gem": [], "go": [],
                            "npm": [], "pip": []}})
    );
    assert_eq!(raw["description"], Value::Null);
    assert_same_keys(&raw, &fixture("environments", "environment_cloud_limited"));

    // Limited networking resolves every field.
    let env = envs.create(&limited_env("python-dev")).await.unwrap();
    let EnvironmentConfig::Cloud(cloud) = &env.config else {
        panic!("{:?}", env.config)
    };
    let Networking::Limited(net) = &cloud.networking else {
        panic!("{:?}", cloud.networking)
    };
    assert_eq!(net.allowed_hosts, vec!["api.example.com".to_owned()]);
    assert!(net.allow_package_managers && !net.allow_mcp_servers);
    assert_eq!(cloud.packages.pip, vec!["pandas".to_owned()]);
    assert_eq!(cloud.packages.kind.as_deref(), Some("packages"));
    let raw = get(&client, &format!("/v1/environments/{}", env.id), &[]).await;
    assert_same_keys(&raw, &fixture("environments", "environment_cloud_limited"));
    assert_eq!(raw["scope"], "organization");
    assert_eq!(fake.object(env.id.as_str()).unwrap(), raw);

    // Names are unique (409); packages under limited networking need package managers.
    let err = envs.create(&limited_env("python-dev")).await.unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    let mut no_registries = limited_env("other");
    if let Some(EnvironmentConfigParams::Cloud(c)) = &mut no_registries.config
        && let Some(NetworkingParams::Limited(l)) = &mut c.networking
    {
        l.allow_package_managers = None;
    }
    assert_api_error(&envs.create(&no_registries).await.unwrap_err(), 400, None);
    let err = post(&client, "/v1/environments", json!({"description": "x"}))
        .await
        .unwrap_err();
    assert_api_error(&err, 400, None);

    // Self-hosted environments carry only their type.
    let mut sh = EnvironmentCreate::new("on-prem");
    sh.config = Some(EnvironmentConfigParams::SelfHosted);
    let sh = envs.create(&sh).await.unwrap();
    assert_eq!(sh.config, EnvironmentConfig::SelfHosted);
    let raw = get(&client, &format!("/v1/environments/{}", sh.id), &[]).await;
    assert_same_keys(&raw, &fixture("environments", "environment_self_hosted"));

    let unknown = envs
        .retrieve(&EnvironmentId::from("env_nope"))
        .await
        .unwrap_err();
    assert_api_error(&unknown, 404, Some("environment_not_found"));
}

#[tokio::test]
async fn environment_updates_follow_omit_vs_null_and_archive_rules() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let envs = client.environments();
    let mut body = limited_env("python-dev");
    body.metadata.insert("obsolete".into(), "yes".into());
    body.metadata.insert("empty-me".into(), "yes".into());
    let env = envs.create(&body).await.unwrap();

    // Omitted fields are preserved; a partial limited network keeps the omitted fields.
    let update = EnvironmentUpdate {
        name: Some("python-dev-2".into()),
        config: Some(EnvironmentConfigParams::Cloud(CloudConfigParams {
            networking: Some(NetworkingParams::Limited(LimitedNetworkParams {
                allow_mcp_servers: Some(true),
                ..LimitedNetworkParams::default()
            })),
            packages: None,
        })),
        metadata: Some(
            [
                ("owner".to_owned(), Some("ml-team".to_owned())),
                ("obsolete".to_owned(), None),
                ("empty-me".to_owned(), Some(String::new())),
            ]
            .into(),
        ),
        ..EnvironmentUpdate::default()
    };
    let updated = envs.update(&env.id, &update).await.unwrap();
    assert_eq!(updated.name, "python-dev-2");
    assert_eq!(
        updated.description.as_deref(),
        Some("Data analysis sandbox")
    );
    assert_eq!(
        updated.metadata,
        [("owner".to_owned(), "ml-team".to_owned())].into()
    );
    let EnvironmentConfig::Cloud(cloud) = &updated.config else {
        panic!()
    };
    let Networking::Limited(net) = &cloud.networking else {
        panic!()
    };
    assert_eq!(net.allowed_hosts, vec!["api.example.com".to_owned()]);
    assert!(net.allow_package_managers && net.allow_mcp_servers);
    assert_eq!(cloud.packages.pip, vec!["pandas".to_owned()]);
    assert!(updated.updated_at >= env.updated_at);

    // `null` clears the description.
    let cleared = envs
        .update(
            &env.id,
            &EnvironmentUpdate {
                description: Some(None),
                ..EnvironmentUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.description, None);

    // The config type is immutable.
    let err = envs
        .update(
            &env.id,
            &EnvironmentUpdate {
                config: Some(EnvironmentConfigParams::SelfHosted),
                ..EnvironmentUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert_api_error(&err, 400, Some("invalid_config_type_change"));

    // Archived: read-only, hidden from lists unless asked for.
    let other = envs.create(&EnvironmentCreate::new("other")).await.unwrap();
    let archived = envs.archive(&env.id).await.unwrap();
    assert!(archived.is_archived());
    let err = envs
        .update(
            &env.id,
            &EnvironmentUpdate {
                name: Some("again".into()),
                ..EnvironmentUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert_api_error(&err, 400, Some("environment_archived"));
    let raw = get(&client, &format!("/v1/environments/{}", env.id), &[]).await;
    assert_same_keys(&raw, &fixture("environments", "environment_archived"));

    let live: Vec<_> = envs
        .list(&ListEnvironments::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        live.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        vec![other.id.clone()]
    );
    let every: Vec<_> = envs
        .list(&ListEnvironments {
            limit: Some(1),
            include_archived: Some(true),
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(every.len(), 2);
    let lists = fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/v1/environments")
        .count();
    assert_eq!(lists, 1 + 2, "two pages of one");

    // Delete: the documented body, then 404.
    let deleted = envs.delete(&env.id).await.unwrap();
    assert_eq!(
        (deleted.id.as_str(), deleted.kind.as_str()),
        (env.id.as_str(), "environment_deleted")
    );
    assert!(envs.retrieve(&env.id).await.unwrap_err().is_not_found());
    assert!(envs.delete(&env.id).await.unwrap_err().is_not_found());
    let raw = client
        .delete_path(&format!("/v1/environments/{}", other.id))
        .await
        .unwrap();
    assert_same_keys(
        &serde_json::to_value(raw).unwrap(),
        &fixture("environments", "environment_deleted"),
    );
    assert_eq!(fake.writes().get("environments"), Some(&7));
}

// ---------------------------------------------------------------------------------------------
// Vaults and credentials
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn vaults_update_archive_list_and_delete() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let vaults = client.vaults();
    let alice = vaults
        .create(&VaultCreate::new("Alice").with_metadata("external_user_id", "usr_abc123"))
        .await
        .unwrap();
    assert!(alice.id.as_str().starts_with("vlt_"));
    let raw = get(&client, &format!("/v1/vaults/{}", alice.id), &[]).await;
    assert_same_keys(&raw, &fixture("vaults", "vault"));

    for bad in [String::new(), "x".repeat(256)] {
        let err = vaults.create(&VaultCreate::new(bad)).await.unwrap_err();
        assert_api_error(&err, 400, None);
    }
    let err = post(&client, "/v1/vaults", json!({"metadata": {}}))
        .await
        .unwrap_err();
    assert_api_error(&err, 400, None);

    let renamed = vaults
        .update(
            &alice.id,
            &VaultUpdate::new()
                .with_display_name("Alice B.")
                .set_metadata("tier", "pro")
                .remove_metadata("external_user_id"),
        )
        .await
        .unwrap();
    assert_eq!(renamed.display_name, "Alice B.");
    assert_eq!(
        renamed.metadata,
        [("tier".to_owned(), "pro".to_owned())].into()
    );

    let bob = vaults.create(&VaultCreate::new("Bob")).await.unwrap();
    let carol = vaults.create(&VaultCreate::new("Carol")).await.unwrap();
    let archived = vaults.archive(&bob.id).await.unwrap();
    assert!(archived.is_archived());
    let raw = get(&client, &format!("/v1/vaults/{}", bob.id), &[]).await;
    assert_same_keys(&raw, &fixture("vaults", "vault_archived"));
    let err = vaults
        .update(&bob.id, &VaultUpdate::new().with_display_name("B"))
        .await
        .unwrap_err();
    assert_api_error(&err, 400, None);

    let live: Vec<_> = vaults
        .list(&ListVaults::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        live.iter().map(|v| v.id.clone()).collect::<Vec<_>>(),
        vec![alice.id.clone(), carol.id.clone()]
    );
    let every: Vec<_> = vaults
        .list(&ListVaults {
            limit: Some(2),
            include_archived: Some(true),
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(every.len(), 3);
    let first = vaults
        .list_page(
            &ListVaults {
                limit: Some(2),
                include_archived: Some(true),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(first.data.len(), 2);
    let second = vaults
        .list_page(
            &ListVaults {
                limit: Some(2),
                include_archived: Some(true),
            },
            first.next_page.as_deref(),
        )
        .await
        .unwrap();
    assert_eq!(second.data.len(), 1);
    assert_eq!(second.next_page, None);
    let err = vaults
        .list_page(
            &ListVaults {
                limit: Some(101),
                include_archived: None,
            },
            None,
        )
        .await
        .unwrap_err();
    assert_api_error(&err, 400, None);

    let deleted = vaults.delete(&carol.id).await.unwrap();
    assert_eq!(deleted.kind, "vault_deleted");
    assert!(vaults.retrieve(&carol.id).await.unwrap_err().is_not_found());
}

const SECRETS: [&str; 6] = [
    "oauth-access-SECRET",
    "oauth-refresh-SECRET",
    "client-SECRET",
    "bearer-SECRET",
    "env-SECRET",
    "rotated-SECRET",
];

/// No secret appears anywhere in `value`.
#[track_caller]
fn assert_no_secret(value: &Value) {
    let text = value.to_string();
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} leaked in {text}");
    }
    assert!(!text.contains("SECRET"), "a secret leaked in {text}");
}

fn slack_oauth() -> CredentialCreate {
    CredentialCreate::mcp_oauth(
        "https://mcp.slack.com/mcp",
        "oauth-access-SECRET",
        Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        Some(
            McpOAuthRefreshCreate::new(
                "oauth-refresh-SECRET",
                "1234567890.0987654321",
                "https://slack.com/api/oauth.v2.access",
                TokenEndpointAuthCreate::client_secret_post("client-SECRET"),
            )
            .with_scope("channels:read chat:write"),
        ),
    )
    .with_display_name("Alice's Slack")
}

#[tokio::test]
async fn credentials_keep_secrets_write_only_and_one_per_mcp_url() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let vault = client
        .vaults()
        .create(&VaultCreate::new("Alice"))
        .await
        .unwrap();
    let creds = client.vaults().credentials(&vault.id);
    let base = format!("/v1/vaults/{}/credentials", vault.id);

    // mcp_oauth with a refresh configuration: the answer has its shape and no secret.
    let oauth = creds.create(&slack_oauth()).await.unwrap();
    assert!(oauth.id.as_str().starts_with("vcrd_"));
    let CredentialAuth::McpOAuth(auth) = &oauth.auth else {
        panic!("{:?}", oauth.auth)
    };
    let refresh = auth.refresh.as_ref().unwrap();
    assert_eq!(refresh.client_id, "1234567890.0987654321");
    assert_eq!(refresh.scope.as_deref(), Some("channels:read chat:write"));
    let raw = get(&client, &format!("{base}/{}", oauth.id), &[]).await;
    assert_same_keys(
        &raw,
        &fixture("vaults", "credential_mcp_oauth_refresh_client_secret_post"),
    );
    assert_no_secret(&raw);

    // One active credential per MCP server URL (trailing slash and host case ignored).
    let same_url = CredentialCreate::static_bearer("https://MCP.slack.com/mcp/", "bearer-SECRET");
    assert!(creds.create(&same_url).await.unwrap_err().is_conflict());
    let bearer = creds
        .create(
            &CredentialCreate::static_bearer("https://mcp.linear.app/mcp", "bearer-SECRET")
                .with_display_name("Linear"),
        )
        .await
        .unwrap();
    assert_eq!(bearer.mcp_server_url(), Some("https://mcp.linear.app/mcp"));
    let raw = get(&client, &format!("{base}/{}", bearer.id), &[]).await;
    assert_same_keys(&raw, &fixture("vaults", "credential_static_bearer"));

    let env = creds
        .create(
            &CredentialCreate::environment_variable(
                "STRIPE_API_KEY",
                "env-SECRET",
                CredentialNetworking::limited(["api.stripe.com", "*.stripe.com"]),
            )
            .with_display_name("Stripe"),
        )
        .await
        .unwrap();
    let CredentialAuth::EnvironmentVariable(env_auth) = &env.auth else {
        panic!("{:?}", env.auth)
    };
    assert!(env_auth.injection_location.header);
    let raw = get(&client, &format!("{base}/{}", env.id), &[]).await;
    assert_same_keys(&raw, &fixture("vaults", "credential_env_limited"));

    // Required fields per auth type.
    for auth in [
        json!({"type": "mcp_oauth", "mcp_server_url": "https://a.example/mcp"}),
        json!({"type": "static_bearer", "token": "bearer-SECRET"}),
        json!({"type": "environment_variable", "secret_name": "X", "secret_value": "env-SECRET"}),
        json!({"type": "mcp_oauth", "mcp_server_url": "https://b.example/mcp",
               "access_token": "oauth-access-SECRET",
               "refresh": {"refresh_token": "oauth-refresh-SECRET", "client_id": "c",
                           "token_endpoint": "https://b.example/token",
                           "token_endpoint_auth": {"type": "client_secret_basic"}}}),
        json!({"type": "password", "mcp_server_url": "https://c.example/mcp"}),
    ] {
        let err = client
            .post_json::<_, Value>(&base, &json!({ "auth": auth }), RequestKind::Create)
            .await
            .unwrap_err();
        assert_api_error(&err, 400, None);
    }

    // Rotation: new secrets are accepted and never echoed; type and URL are immutable.
    let rotated = creds
        .update(
            &bearer.id,
            &CredentialUpdate::rotate_static_bearer("rotated-SECRET").with_display_name("Lin"),
        )
        .await
        .unwrap();
    assert_eq!(rotated.display_name.as_deref(), Some("Lin"));
    let raw = post(
        &client,
        &format!("{base}/{}", oauth.id),
        json!({"auth": {"type": "mcp_oauth", "access_token": "rotated-SECRET",
                        "expires_at": null}}),
    )
    .await
    .unwrap();
    assert_eq!(raw["auth"]["expires_at"], Value::Null);
    assert_no_secret(&raw);
    let err = creds
        .update(
            &oauth.id,
            &CredentialUpdate::auth(CredentialAuthUpdate::StaticBearer(StaticBearerUpdate {
                token: Some(Some("rotated-SECRET".to_owned().into())),
            })),
        )
        .await
        .unwrap_err();
    assert_api_error(&err, 400, None);
    let err = post(
        &client,
        &format!("{base}/{}", bearer.id),
        json!({"auth": {"type": "static_bearer", "mcp_server_url": "https://elsewhere/mcp"}}),
    )
    .await
    .unwrap_err();
    assert_api_error(&err, 400, None);

    // Validation probes mcp_oauth credentials only.
    let validation = creds.validate_mcp_oauth(&oauth.id).await.unwrap();
    assert_eq!(validation.status, ValidationStatus::Valid);
    assert!(validation.has_refresh_token);
    let raw = post(
        &client,
        &format!("{base}/{}/mcp_oauth_validate", oauth.id),
        json!({}),
    )
    .await
    .unwrap();
    assert_same_keys(&raw, &fixture("vaults", "validation_valid"));
    let err = creds.validate_mcp_oauth(&bearer.id).await.unwrap_err();
    assert_api_error(&err, 400, None);
    // Without a usable token or a refresh token the probe fails.
    let notion = creds
        .create(&CredentialCreate::mcp_oauth(
            "https://mcp.notion.com/mcp",
            "oauth-access-SECRET",
            None,
            None,
        ))
        .await
        .unwrap();
    post(
        &client,
        &format!("{base}/{}", notion.id),
        json!({"auth": {"type": "mcp_oauth", "access_token": null}}),
    )
    .await
    .unwrap();
    let invalid = creds.validate_mcp_oauth(&notion.id).await.unwrap();
    assert_eq!(invalid.status, ValidationStatus::Invalid);
    assert!(!invalid.has_refresh_token);
    let raw = post(
        &client,
        &format!("{base}/{}/mcp_oauth_validate", notion.id),
        json!({}),
    )
    .await
    .unwrap();
    assert_same_keys(
        &raw,
        &fixture("vaults", "validation_invalid_no_refresh_token"),
    );
    creds.delete(&notion.id).await.unwrap();

    // No secret anywhere: not in lists, not in the fake's own objects.
    let listed = get(&client, &base, &[("include_archived", "true")]).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 3);
    assert_no_secret(&listed);
    assert_no_secret(&Value::Array(fake.objects("vault_credential")));
    for id in [&oauth.id, &bearer.id, &env.id] {
        assert_no_secret(&fake.object(id.as_str()).unwrap());
    }

    // Archiving frees the URL; archived credentials are hidden unless asked for.
    let archived = creds.archive(&oauth.id).await.unwrap();
    assert!(archived.is_archived());
    let again = creds.create(&slack_oauth()).await.unwrap();
    let live: Vec<_> = creds
        .list(&ListCredentials::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(live.len(), 3);
    assert!(live.iter().all(|c| c.id != oauth.id));
    let every: Vec<_> = creds
        .list(&ListCredentials {
            limit: Some(2),
            include_archived: Some(true),
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(every.len(), 4);

    // A credential lives under its own vault only; deleted ones are gone.
    let other = client
        .vaults()
        .create(&VaultCreate::new("Other"))
        .await
        .unwrap();
    let err = client
        .vaults()
        .credentials(&other.id)
        .retrieve(&again.id)
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    let deleted = creds.delete(&again.id).await.unwrap();
    assert_eq!(deleted.kind, "vault_credential_deleted");
    assert!(creds.retrieve(&again.id).await.unwrap_err().is_not_found());
    let err = client
        .vaults()
        .credentials(&VaultId::from("vlt_nope"))
        .create(&slack_oauth())
        .await
        .unwrap_err();
    assert!(err.is_not_found());
}

#[tokio::test]
async fn a_vault_holds_at_most_twenty_active_credentials() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let vault = client
        .vaults()
        .create(&VaultCreate::new("Many"))
        .await
        .unwrap();
    let creds = client.vaults().credentials(&vault.id);
    for i in 0..20 {
        creds
            .create(&CredentialCreate::static_bearer(
                format!("https://mcp{i}.example.com/mcp"),
                "bearer-SECRET",
            ))
            .await
            .unwrap();
    }
    let err = creds
        .create(&CredentialCreate::static_bearer(
            "https://mcp20.example.com/mcp",
            "bearer-SECRET",
        ))
        .await
        .unwrap_err();
    assert_api_error(&err, 400, None);
    let unrestricted = CredentialCreate::environment_variable(
        "TOKEN",
        "env-SECRET",
        CredentialNetworking::Unrestricted,
    );
    assert_eq!(
        creds.create(&unrestricted).await.unwrap_err().status(),
        Some(400)
    );
}

// ---------------------------------------------------------------------------------------------
// Skills
// ---------------------------------------------------------------------------------------------

fn skill_md(name: &str) -> String {
    format!(
        "---\nname: {name}\ndescription: Extracts totals from invoices. Use when the user \
         provides invoices.\n---\n# Invoices\n"
    )
}

fn folder(name: &str, script: &str) -> SkillFolder {
    SkillFolder::new(name)
        .unwrap()
        .with_file("SKILL.md", "text/markdown", skill_md(name))
        .unwrap()
        .with_file("scripts/extract.py", "text/x-python", script.to_owned())
        .unwrap()
}

/// The entries of a zip whose entries are stored uncompressed: `(name, bytes)`.
fn unzip_stored(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let u16_at = |i: usize| usize::from(u16::from_le_bytes([zip[i], zip[i + 1]]));
    let u32_at = |i: usize| u32::from_le_bytes([zip[i], zip[i + 1], zip[i + 2], zip[i + 3]]);
    let mut entries = Vec::new();
    let mut at = 0;
    while zip[at..].starts_with(b"PK\x03\x04") {
        assert_eq!(u16_at(at + 8), 0, "stored");
        let size = u32_at(at + 18) as usize;
        let name_len = u16_at(at + 26);
        let extra = u16_at(at + 28);
        let name = String::from_utf8(zip[at + 30..at + 30 + name_len].to_vec()).unwrap();
        let data_at = at + 30 + name_len + extra;
        entries.push((name, zip[data_at..data_at + size].to_vec()));
        at = data_at + size;
    }
    assert!(zip[at..].starts_with(b"PK\x01\x02"), "central directory");
    entries
}

#[tokio::test]
async fn skills_upload_version_and_download() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let skills = client.skills();

    let skill = skills
        .create(
            &folder("invoice-extractor", "print(1)\n"),
            Some("Invoice Extractor"),
        )
        .await
        .unwrap();
    let id = skill.id.clone().unwrap();
    assert!(id.as_str().starts_with("skill_"));
    assert_eq!(skill.display_name.as_deref(), Some("Invoice Extractor"));
    assert_eq!(skill.source_kind(), Some(&SkillSourceKind::Custom));
    let first_version = skill.latest_version_id.clone().unwrap();
    let raw = get(&client, &format!("/v1/skills/{id}"), &[]).await;
    assert_same_keys(&raw, &fixture("skills", "skill_custom"));

    // The display name defaults to the frontmatter name; names are unique.
    let other = skills
        .create(&folder("other-skill", "print(2)\n"), None)
        .await
        .unwrap();
    assert_eq!(other.display_name.as_deref(), Some("other-skill"));
    let err = skills
        .create(&folder("invoice-extractor", "print(3)\n"), None)
        .await
        .unwrap_err();
    assert_api_error(&err, 409, Some("skill_name_taken"));

    // Versions keep the name; `latest` follows the newest.
    let versions = skills.versions(&id);
    let v2 = versions
        .create(&folder("invoice-extractor", "print(2)\n"))
        .await
        .unwrap();
    assert_eq!(v2.name.as_deref(), Some("invoice-extractor"));
    assert_eq!(v2.skill_id.as_ref(), Some(&id));
    let raw = get(
        &client,
        &format!("/v1/skills/{id}/versions/{}", v2.id.as_deref().unwrap()),
        &[],
    )
    .await;
    assert_same_keys(&raw, &fixture("skills", "skill_version"));
    let err = versions
        .create(&folder("renamed-skill", "print(2)\n"))
        .await
        .unwrap_err();
    assert_api_error(&err, 400, None);
    assert_eq!(versions.retrieve("latest").await.unwrap(), v2);
    assert_eq!(
        skills.retrieve(&id).await.unwrap().latest_version_id,
        v2.id.clone()
    );
    let listed: Vec<_> = versions
        .list(&ListSkillVersions { limit: Some(1) })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|v| v.id.clone().unwrap())
            .collect::<Vec<_>>(),
        vec![v2.id.clone().unwrap(), first_version.clone()]
    );

    // Content: the uploaded files as a zip.
    let zip = versions.content(&first_version).await.unwrap();
    let entries = unzip_stored(&zip);
    assert_eq!(
        entries,
        vec![
            (
                "invoice-extractor/SKILL.md".to_owned(),
                skill_md("invoice-extractor").into_bytes()
            ),
            (
                "invoice-extractor/scripts/extract.py".to_owned(),
                b"print(1)\n".to_vec()
            ),
        ]
    );

    // Deleting versions: by id, never the last one; then the skill.
    assert_eq!(
        versions.delete(&first_version).await.unwrap().kind,
        "skill_version_deleted"
    );
    assert!(
        versions
            .retrieve(&first_version)
            .await
            .unwrap_err()
            .is_not_found()
    );
    let err = versions
        .delete(v2.id.as_deref().unwrap())
        .await
        .unwrap_err();
    assert_api_error(&err, 400, None);
    assert_eq!(skills.delete(&id).await.unwrap().kind, "skill_deleted");
    assert!(skills.retrieve(&id).await.unwrap_err().is_not_found());
    assert!(
        versions
            .retrieve("latest")
            .await
            .unwrap_err()
            .is_not_found()
    );
    // The name is free again.
    skills
        .create(&folder("invoice-extractor", "print(4)\n"), None)
        .await
        .unwrap();
    assert_eq!(fake.objects("skill").len(), 2);
}

#[tokio::test]
async fn skill_uploads_are_validated() {
    let fake = FakeApi::start().await.unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/v1/skills", fake.base_url());
    let part = |name: &str, body: &str| {
        reqwest::multipart::Part::text(body.to_owned()).file_name(name.to_owned())
    };
    let good = skill_md("my-skill");
    let cases: Vec<(&str, reqwest::multipart::Form)> = vec![
        (
            "no files",
            reqwest::multipart::Form::new().text("display_name", "x"),
        ),
        (
            "two top-level directories",
            reqwest::multipart::Form::new()
                .part("files[]", part("my-skill/SKILL.md", &good))
                .part("files[]", part("other/x.py", "x")),
        ),
        (
            "no SKILL.md",
            reqwest::multipart::Form::new().part("files[]", part("my-skill/README.md", &good)),
        ),
        (
            "no description",
            reqwest::multipart::Form::new().part(
                "files[]",
                part("my-skill/SKILL.md", "---\nname: my-skill\n---\n"),
            ),
        ),
        (
            "no frontmatter",
            reqwest::multipart::Form::new().part("files[]", part("my-skill/SKILL.md", "# hi\n")),
        ),
        (
            "not in a directory",
            reqwest::multipart::Form::new().part("files[]", part("SKILL.md", &good)),
        ),
        (
            "escaping path",
            reqwest::multipart::Form::new()
                .part("files[]", part("my-skill/SKILL.md", &good))
                .part("files[]", part("my-skill/../x", "x")),
        ),
    ];
    for (what, form) in cases {
        let resp = http
            .post(&url)
            .header("x-api-key", "k")
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{what}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["type"], "invalid_request_error", "{what}");
    }
    // A valid upload without any beta header.
    let resp = http
        .post(&url)
        .header("x-api-key", "k")
        .multipart(
            reqwest::multipart::Form::new().part("files[]", part("my-skill/SKILL.md", &good)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(fake.objects("skill").len() == 1);
}

#[tokio::test]
async fn builtin_skills_are_listed_by_source() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let skills = client.skills();
    let custom = skills
        .create(&folder("invoice-extractor", "print(1)\n"), None)
        .await
        .unwrap();

    let anthropic: Vec<_> = skills
        .list(&ListSkills {
            limit: Some(3),
            source: Some(SkillSourceKind::Anthropic),
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        anthropic
            .iter()
            .map(|s| s.id.clone().unwrap().as_str().to_owned())
            .collect::<Vec<_>>(),
        vec!["xlsx", "docx", "pptx", "pdf"]
    );
    assert!(
        anthropic
            .iter()
            .all(|s| s.source_kind() == Some(&SkillSourceKind::Anthropic))
    );
    let raw = get(&client, "/v1/skills/xlsx", &[]).await;
    assert_same_keys(&raw, &fixture("skills", "skill_anthropic"));

    let mine: Vec<_> = skills
        .list(&ListSkills {
            limit: None,
            source: Some(SkillSourceKind::Custom),
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(mine, vec![custom]);
    let all: Vec<_> = skills
        .list(&ListSkills::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 5);

    // Built-ins are read-only but their version and content can be read.
    let xlsx = SkillId::from("xlsx");
    assert_eq!(skills.delete(&xlsx).await.unwrap_err().status(), Some(400));
    let latest = skills.versions(&xlsx).retrieve("latest").await.unwrap();
    assert_eq!(latest.name.as_deref(), Some("xlsx"));
    let zip = skills.versions(&xlsx).content("latest").await.unwrap();
    assert_eq!(unzip_stored(&zip)[0].0, "xlsx/SKILL.md");
    let err = client
        .get_json::<Value>("/v1/skills", &[("source", "plugin")])
        .await
        .unwrap_err();
    assert_api_error(&err, 400, None);
}

// ---------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn models_page_by_id_and_filter_by_lifecycle() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();

    let all: Vec<_> = client
        .models()
        .list(&ListModels {
            limit: Some(2),
            lifecycle: Vec::new(),
        })
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = all.iter().map(|m| m.id.as_str()).collect();
    for id in [
        "claude-opus-5-5",
        "claude-sonnet-5-5",
        "claude-haiku-5-5",
        "claude-sonnet-4-6",
        "claude-opus-4-8",
    ] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    assert_eq!(ids[0], "claude-opus-5-5", "newest first");
    assert!(
        all.iter()
            .any(|m| m.lifecycle == Some(ModelLifecycle::Deprecated))
    );
    assert!(
        all.iter()
            .all(|m| m.lifecycle != Some(ModelLifecycle::Retired))
    );
    let pages: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/models")
        .collect();
    assert_eq!(pages.len(), all.len().div_ceil(2));
    assert!(
        pages[1].query.contains("after_id=claude-sonnet-5-5"),
        "{:?}",
        pages[1]
    );

    let active: Vec<_> = client
        .models()
        .list(&ListModels::active())
        .try_collect()
        .await
        .unwrap();
    assert!(active.iter().all(|m| m.is_active()));
    assert_eq!(active.len() + 1, all.len());
    let retired: Vec<_> = client
        .models()
        .list(&ListModels {
            limit: None,
            lifecycle: vec![ModelLifecycle::Retired],
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0].capabilities, None);

    // The raw page and model shapes.
    let page = get(&client, "/v1/models", &[("limit", "3")]).await;
    assert_eq!(page["has_more"], true);
    assert_eq!(page["first_id"], "claude-opus-5-5");
    assert_eq!(page["last_id"], page["data"][2]["id"]);
    let back = get(
        &client,
        "/v1/models",
        &[
            ("before_id", page["last_id"].as_str().unwrap()),
            ("limit", "1"),
        ],
    )
    .await;
    assert_eq!(back["data"][0]["id"], page["data"][1]["id"]);
    assert_eq!(back["has_more"], true);
    let raw = get(&client, "/v1/models/claude-opus-4-8", &[]).await;
    assert_same_keys(&raw, &fixture("models", "model_full"));
    let raw = get(&client, "/v1/models/claude-sonnet-4-5-20250929", &[]).await;
    assert_same_keys(&raw, &fixture("models", "model_deprecated_partial_caps"));
    let raw = get(&client, "/v1/models/claude-3-haiku-20240307", &[]).await;
    assert_same_keys(&raw, &fixture("models", "model_minimal"));

    // Retrieve by id or alias; unknown ids are 404.
    let opus = client
        .models()
        .retrieve(&ModelId::from("claude-opus-5-5"))
        .await
        .unwrap();
    assert!(opus.capabilities.unwrap().effort.unwrap().supports("xhigh"));
    let alias = client
        .models()
        .retrieve(&ModelId::from("claude-haiku-4-5"))
        .await
        .unwrap();
    assert_eq!(alias.id.as_str(), "claude-haiku-4-5-20251001");
    assert!(
        client
            .models()
            .retrieve(&ModelId::from("claude-nope"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    let err = client
        .get_json::<Value>("/v1/models", &[("lifecycle[]", "ancient")])
        .await
        .unwrap_err();
    assert_api_error(&err, 400, None);
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn files_upload_list_download_and_delete() {
    let fake = FakeApi::start().await.unwrap();
    let client = fake.client();
    let files = client.files();

    let pdf = files
        .upload(
            "invoices/2026-03.pdf",
            "application/pdf",
            b"%PDF-1.7".to_vec(),
        )
        .await
        .unwrap();
    assert!(pdf.id.as_str().starts_with("file_"));
    assert_eq!(
        pdf.filename, "2026-03.pdf",
        "only the last path component is kept"
    );
    assert_eq!(
        (pdf.mime_type.as_str(), pdf.size_bytes),
        ("application/pdf", 8)
    );
    assert_eq!(pdf.downloadable, Some(false));
    assert_eq!(pdf.expires_at, None);
    let raw = get(&client, &format!("/v1/files/{}", pdf.id), &[]).await;
    assert_same_keys(&raw, &fixture("files", "file_uploaded"));

    let expiring = files
        .upload_file(&UploadFile::new("notes.txt", "text/plain", "hi").expires_in_seconds(3600))
        .await
        .unwrap();
    let ttl = expiring.expires_at.unwrap() - expiring.created_at;
    assert!((3599..=3601).contains(&ttl.num_seconds()), "{ttl:?}");
    let err = files
        .upload_file(&UploadFile::new("notes.txt", "text/plain", "hi").expires_in_seconds(60))
        .await
        .unwrap_err();
    assert_api_error(&err, 400, None);
    let unnamed = files.upload("", "image/png", vec![0_u8; 67]).await.unwrap();
    assert_eq!(unnamed.filename, "unnamed.png");

    // Uploads are not downloadable; session outputs are.
    let err = files.content(&pdf.id).await.unwrap_err();
    assert_api_error(&err, 400, Some("file_not_downloadable"));
    let output = fake.add_session_output(
        "sesn_011CZkZAtmR3yMPDzynEDxu7",
        "report.csv",
        "text/csv",
        "a,b\n1,2\n",
    );
    let output_id = FileId::from(output["id"].as_str().unwrap());
    assert_same_keys(&output, &fixture("files", "file_session_output"));
    let bytes = files.content(&output_id).await.unwrap();
    assert_eq!(&bytes[..], b"a,b\n1,2\n");
    let scoped: Vec<_> = files
        .list(&ListFiles::for_scope("sesn_011CZkZAtmR3yMPDzynEDxu7"))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(scoped.len(), 1);
    assert_eq!(scoped[0].id, output_id);
    assert!(scoped[0].is_downloadable());

    // Lists: newest first, page by page; `ids[]` is a single page.
    let every: Vec<_> = files
        .list(&ListFiles {
            limit: Some(2),
            ..ListFiles::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        every.iter().map(|f| f.id.clone()).collect::<Vec<_>>(),
        vec![
            output_id.clone(),
            unnamed.id.clone(),
            expiring.id.clone(),
            pdf.id.clone()
        ]
    );
    let picked: Vec<_> = files
        .list(&ListFiles::by_ids([
            pdf.id.clone(),
            FileId::from("file_unknown"),
            unnamed.id.clone(),
        ]))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        picked.iter().map(|f| f.id.clone()).collect::<Vec<_>>(),
        vec![pdf.id.clone(), unnamed.id.clone()]
    );
    let err = client
        .get_json::<Value>("/v1/files", &[("ids[]", pdf.id.as_str()), ("limit", "5")])
        .await
        .unwrap_err();
    assert_api_error(&err, 400, None);

    // Delete: the documented body, then 404 everywhere.
    let deleted = files.delete(&pdf.id).await.unwrap();
    assert_eq!(
        serde_json::to_value(&deleted).unwrap(),
        json!({"id": pdf.id.as_str(), "type": "file_deleted"})
    );
    assert!(files.retrieve(&pdf.id).await.unwrap_err().is_not_found());
    assert!(files.content(&pdf.id).await.unwrap_err().is_not_found());
    assert!(fake.object(pdf.id.as_str()).is_none());
    assert_eq!(fake.writes().get("files"), Some(&4));
}
