//! Wire fixtures for the environments family.

use std::path::Path;

use claude_agents::api::types::Deleted;
use claude_agents::api::types::environments::*;
use claude_agents::api::types::{Metadata, MetadataPatch};
use serde_json::{Value, json};

use crate::fixtures::{check_family, round_trip};

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

/// The `EnvironmentUpdate` of `environment_update.json`.
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

fn assert_request(path: &Path, got: &impl serde::Serialize, want: &Value) {
    let got = serde_json::to_value(got).unwrap();
    assert_eq!(&got, want, "{}: request JSON differs", path.display());
}

#[test]
fn wire_environments_fixtures_round_trip() {
    check_family("environments", |path, rust_type, value| {
        match rust_type {
            "Environment" => {
                let env: Environment = round_trip(path, value);
                assert_eq!(env.kind, "environment");
                assert!(!env.config.is_other(), "{}", path.display());
                if let EnvironmentConfig::Cloud(cloud) = &env.config {
                    assert!(!cloud.networking.is_other(), "{}", path.display());
                }
            }
            "EnvironmentConfig" => {
                assert!(!round_trip::<EnvironmentConfig>(path, value).is_other());
            }
            "Networking" => {
                assert!(!round_trip::<Networking>(path, value).is_other());
            }
            "Packages" => {
                round_trip::<Packages>(path, value);
            }
            "Deleted" => {
                let deleted: Deleted = round_trip(path, value);
                assert_eq!(deleted.kind, "environment_deleted");
            }
            "EnvironmentConfigParams" => {
                assert!(!round_trip::<EnvironmentConfigParams>(path, value).is_other());
            }
            "EnvironmentCreate" => assert_request(path, &sample_create(), value),
            "EnvironmentUpdate" => assert_request(path, &sample_update(), value),
            _ => return false,
        }
        true
    });
}

#[test]
fn wire_environments_unknown_variants_are_kept_verbatim() {
    // Sorted keys: without serde_json's `preserve_order`, kept-verbatim objects re-encode sorted.
    let raw = r#"{"region":"eu-west-1","type":"byoc","vpc":{"id":"vpc-1"}}"#;
    let config: EnvironmentConfig = serde_json::from_str(raw).unwrap();
    assert!(config.is_other());
    assert_eq!(config.type_name(), "byoc");
    assert_eq!(serde_json::to_string(&config).unwrap(), raw);

    let raw = r#"{"proxy":"http://proxy:3128","type":"allowlist_proxy"}"#;
    let net: Networking = serde_json::from_str(raw).unwrap();
    assert!(net.is_other());
    assert_eq!(serde_json::to_string(&net).unwrap(), raw);

    let env: Environment = serde_json::from_value(json!({
        "type": "environment",
        "id": "env_1",
        "name": "x",
        "config": {"type": "cloud", "networking": {"type": "allowlist_proxy"}, "packages": {"apt": [], "cargo": [], "gem": [], "go": [], "npm": [], "pip": []}},
        "metadata": {},
        "scope": "team",
        "created_at": "2026-03-15T10:00:00Z",
        "updated_at": "2026-03-15T10:00:00Z"
    }))
    .unwrap();
    assert_eq!(env.scope, Some(EnvironmentScope::Other("team".into())));
    assert_eq!(env.description, None);
    assert!(!env.is_archived());
}

#[test]
fn wire_environments_known_tag_with_bad_payload_names_the_path() {
    let (path, err) = crate::fixtures::decode_err::<EnvironmentConfig>(
        r#"{"type":"cloud","networking":{"type":"limited","allowed_hosts":["a"],"allow_package_managers":"no","allow_mcp_servers":false},"packages":{}}"#,
    );
    assert_eq!(path, "networking.allow_package_managers");
    assert!(err.contains("in `cloud`: in `limited`"), "{err}");
}

#[test]
fn wire_environments_create_serialises_exactly() {
    assert_eq!(
        serde_json::to_value(sample_create()).unwrap(),
        json!({
            "name": "python-dev",
            "config": {
                "type": "cloud",
                "networking": {"type": "limited", "allowed_hosts": ["api.example.com"], "allow_package_managers": true},
                "packages": {"pip": ["pandas", "numpy"], "npm": ["express"]}
            },
            "description": "Data analysis sandbox",
            "metadata": {"owner": "data-team"},
            "scope": "organization"
        })
    );
    let create = EnvironmentCreate {
        config: Some(EnvironmentConfigParams::cloud_unrestricted()),
        ..EnvironmentCreate::new("general")
    };
    assert_eq!(
        serde_json::to_value(create).unwrap(),
        json!({"name": "general", "config": {"type": "cloud", "networking": {"type": "unrestricted"}}})
    );
    let create = EnvironmentCreate {
        config: Some(EnvironmentConfigParams::SelfHosted),
        ..EnvironmentCreate::new("on-prem")
    };
    assert_eq!(
        serde_json::to_value(create).unwrap(),
        json!({"name": "on-prem", "config": {"type": "self_hosted"}})
    );
}

#[test]
fn wire_environments_update_omit_null_value() {
    assert_eq!(
        serde_json::to_value(EnvironmentUpdate::default()).unwrap(),
        json!({})
    );
    assert_eq!(
        serde_json::to_value(sample_update()).unwrap(),
        json!({
            "description": null,
            "config": {"type": "cloud", "packages": {"apt": ["ffmpeg"]}},
            "metadata": {"owner": "ml-team", "obsolete": null}
        })
    );
    let update = EnvironmentUpdate {
        name: Some("renamed".into()),
        description: Some(Some(String::new())),
        scope: Some(EnvironmentScope::Organization),
        ..EnvironmentUpdate::default()
    };
    assert_eq!(
        serde_json::to_value(update).unwrap(),
        json!({"name": "renamed", "description": "", "scope": "organization"})
    );
}

#[test]
fn wire_environments_query_strings() {
    assert!(ListEnvironments::default().to_query().is_empty());
    assert_eq!(
        ListEnvironments {
            limit: Some(10),
            include_archived: Some(false),
        }
        .to_query(),
        vec![
            ("limit".to_owned(), "10".to_owned()),
            ("include_archived".to_owned(), "false".to_owned()),
        ]
    );
}
