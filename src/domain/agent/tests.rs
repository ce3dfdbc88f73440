use proptest::prelude::*;
use serde_json::json;

use super::*;

fn server(name: &str, url: &str) -> McpServer {
    McpServer {
        name: name.into(),
        url: url.into(),
        auth: McpAuth::None,
    }
}

fn managed() -> ManagedAgent {
    ManagedAgent {
        instructions_html: "<p>Fix <b>bugs</b></p>".into(),
        model: "claude-sonnet-4-6".into(),
        guidance: "Be brief.".into(),
        rules: vec!["Run tests before pushing".into()],
        skills: vec![
            SkillRef::Anthropic {
                skill_id: "xlsx".into(),
            },
            SkillRef::Custom {
                skill: "csk_1".into(),
            },
        ],
        mcp_servers: vec![
            server("github", "https://api.githubcopilot.com/mcp/"),
            McpServer {
                auth: McpAuth::BearerToken {
                    secret: "sec_lin".into(),
                },
                ..server("linear_2", "https://mcp.linear.app/mcp")
            },
            server("fake", "http://127.0.0.1:8080/mcp"),
        ],
        tool_mode: ToolMode {
            bridge: TaskBridge::FullApi,
            allow_direct_api_access: true,
        },
        repositories: vec![
            Repository::new("https://github.com/acme/api"),
            Repository {
                url: "https://github.com/acme/web.site".into(),
                branch: Some("feature/x-1".into()),
                mount_path: Some("/workspace/web".into()),
            },
        ],
        environment: EnvironmentSettings {
            networking: Networking::Limited {
                allowed_hosts: vec!["api.example.com".into()],
                allow_package_managers: true,
                allow_mcp_servers: true,
            },
            packages: Packages {
                pip: vec!["pandas==2.2.2".into()],
                ..Packages::default()
            },
        },
    }
}

fn spec(kind: AgentKind) -> AgentSpec {
    AgentSpec {
        id: "ag_1".into(),
        workspace: "ws_1".into(),
        name: "Coder".into(),
        provider_key: "pk_1".into(),
        kind,
        revision: 3,
    }
}

fn connected() -> ConnectedAgent {
    ConnectedAgent {
        agent_id: "agent_01".into(),
        environment_id: "env_01".into(),
        vault_ids: vec!["vlt_1".into(), "vlt_2".into()],
    }
}

fn field(r: Result<(), DomainError>) -> String {
    r.unwrap_err().field().unwrap_or_default().to_owned()
}

#[test]
fn valid_specs() {
    assert_eq!(spec(AgentKind::Managed(managed())).validate(), Ok(()));
    assert_eq!(spec(AgentKind::Connected(connected())).validate(), Ok(()));
    let minimal = ManagedAgent {
        instructions_html: String::new(),
        model: "claude-opus-4-6".into(),
        guidance: String::new(),
        rules: vec![],
        skills: vec![],
        mcp_servers: vec![],
        tool_mode: ToolMode::default(),
        repositories: vec![],
        environment: EnvironmentSettings::default(),
    };
    assert_eq!(minimal.validate(), Ok(()));
}

#[test]
fn spec_level_rules() {
    let s = spec(AgentKind::Managed(managed()));
    for (bad, want) in [
        (
            AgentSpec {
                name: "".into(),
                ..s.clone()
            },
            "name",
        ),
        (
            AgentSpec {
                name: "n".repeat(257),
                ..s.clone()
            },
            "name",
        ),
        (
            AgentSpec {
                provider_key: "".into(),
                ..s.clone()
            },
            "provider_key",
        ),
        (
            AgentSpec {
                workspace: "".into(),
                ..s.clone()
            },
            "workspace",
        ),
    ] {
        assert_eq!(field(bad.validate()), want);
    }
    // Nested errors carry their path.
    let mut m = managed();
    m.mcp_servers[1].url = "ftp://x".into();
    assert_eq!(
        field(spec(AgentKind::Managed(m)).validate()),
        "kind.mcp_servers[1].url"
    );
}

#[test]
fn managed_rules() {
    type Edit = fn(&mut ManagedAgent);
    let cases: &[(Edit, &str)] = &[
        (|m| m.model = "".into(), "model"),
        (|m| m.model = "claude sonnet".into(), "model"),
        (
            |m| m.instructions_html = "x".repeat(INSTRUCTIONS_MAX + 1),
            "instructions_html",
        ),
        (|m| m.guidance = "g".repeat(GUIDANCE_MAX + 1), "guidance"),
        (|m| m.rules = vec!["ok".into(), "  ".into()], "rules[1]"),
        (|m| m.rules = vec!["r".repeat(RULE_MAX + 1)], "rules[0]"),
        (|m| m.rules = vec!["r".into(); RULES_MAX + 1], "rules"),
        (
            |m| {
                m.skills.push(SkillRef::Anthropic {
                    skill_id: "xlsx".into(),
                })
            },
            "skills",
        ),
        (
            |m| {
                m.skills = vec![SkillRef::Anthropic {
                    skill_id: "XLSX".into(),
                }]
            },
            "skills[0].skill_id",
        ),
        (
            |m| {
                m.mcp_servers
                    .push(server("github", "https://other.example/mcp"))
            },
            "mcp_servers",
        ),
        (
            |m| m.mcp_servers = vec![server("", "https://a.example")],
            "mcp_servers[0].name",
        ),
        (
            |m| m.mcp_servers = vec![server("has space", "https://a.example")],
            "mcp_servers[0].name",
        ),
        (
            |m| m.mcp_servers = vec![server(&"n".repeat(65), "https://a.example")],
            "mcp_servers[0].name",
        ),
        (
            |m| m.mcp_servers = vec![server("a", "http://a.example/mcp")],
            "mcp_servers[0].url",
        ),
        (
            |m| m.mcp_servers = vec![server("a", "/mcp")],
            "mcp_servers[0].url",
        ),
        (
            |m| {
                m.mcp_servers = (0..21)
                    .map(|i| server(&format!("s{i}"), "https://a.example"))
                    .collect()
            },
            "mcp_servers",
        ),
        (
            |m| m.mcp_servers[1].auth = McpAuth::BearerToken { secret: "".into() },
            "mcp_servers[1].auth.secret",
        ),
        (
            |m| {
                m.repositories
                    .push(Repository::new("https://github.com/acme/api"))
            },
            "repositories",
        ),
        (
            |m| m.repositories = vec![Repository::new("https://github.com/acme/api.git")],
            "repositories[0].url",
        ),
        (
            |m| {
                m.environment.networking = Networking::Limited {
                    allowed_hosts: vec!["https://api.example.com".into()],
                    allow_package_managers: true,
                    allow_mcp_servers: false,
                }
            },
            "environment.networking.allowed_hosts[0]",
        ),
        (
            |m| {
                m.environment.networking = Networking::Limited {
                    allowed_hosts: vec!["a.example".into(), "a.example".into()],
                    allow_package_managers: true,
                    allow_mcp_servers: false,
                }
            },
            "environment.networking.allowed_hosts",
        ),
        (
            |m| {
                m.environment.networking = Networking::Limited {
                    allowed_hosts: vec![],
                    allow_package_managers: false,
                    allow_mcp_servers: false,
                }
            },
            "environment.networking.allow_package_managers",
        ),
        (
            |m| m.environment.packages.npm = vec!["express 4".into()],
            "environment.packages.npm[0]",
        ),
        (
            |m| m.environment.packages.apt = vec!["".into()],
            "environment.packages.apt[0]",
        ),
    ];
    for (edit, want) in cases {
        let mut m = managed();
        edit(&mut m);
        assert_eq!(field(m.validate()), *want, "{m:#?}");
    }
}

#[test]
fn unrestricted_networking_allows_packages_without_flag() {
    let mut m = managed();
    m.environment.networking = Networking::Unrestricted;
    assert_eq!(m.validate(), Ok(()));
}

#[test]
fn mcp_auth_rules() {
    let refresh = OAuthRefresh {
        refresh_token: "sec_r".into(),
        client_id: "client".into(),
        token_endpoint: "https://auth.example.com/token".into(),
        client_auth: OAuthClientAuth::ClientSecretPost {
            client_secret: "sec_c".into(),
        },
        scope: Some("read write".into()),
        resource: Some("https://mcp.example.com/".into()),
    };
    let ok = McpAuth::OAuthToken {
        access_token: "sec_a".into(),
        expires_at: None,
        refresh: Some(refresh.clone()),
    };
    assert_eq!(ok.validate(), Ok(()));
    assert_eq!(McpAuth::OAuth { scope: None }.validate(), Ok(()));
    assert_eq!(McpAuth::None.validate(), Ok(()));
    let with = |r: OAuthRefresh| McpAuth::OAuthToken {
        access_token: "sec_a".into(),
        expires_at: None,
        refresh: Some(r),
    };
    for (auth, want) in [
        (
            McpAuth::OAuthToken {
                access_token: "".into(),
                expires_at: None,
                refresh: None,
            },
            "access_token",
        ),
        (
            with(OAuthRefresh {
                client_id: "".into(),
                ..refresh.clone()
            }),
            "refresh.client_id",
        ),
        (
            with(OAuthRefresh {
                token_endpoint: "http://auth.example.com/token".into(),
                ..refresh.clone()
            }),
            "refresh.token_endpoint",
        ),
        (
            with(OAuthRefresh {
                client_auth: OAuthClientAuth::ClientSecretBasic {
                    client_secret: "".into(),
                },
                ..refresh.clone()
            }),
            "refresh.client_auth.client_secret",
        ),
        (
            with(OAuthRefresh {
                resource: Some("nope".into()),
                ..refresh.clone()
            }),
            "refresh.resource",
        ),
        (
            McpAuth::OAuth {
                scope: Some("a\nb".into()),
            },
            "scope",
        ),
    ] {
        assert_eq!(field(auth.validate()), want);
    }
}

#[test]
fn repository_rules() {
    for ok in [
        Repository::new("https://github.com/acme/api"),
        Repository::new("https://github.com/a-b/c.d_e-f"),
        Repository {
            url: "https://github.com/acme/api".into(),
            branch: Some("release/2026.03".into()),
            mount_path: Some("/workspace/api".into()),
        },
    ] {
        assert_eq!(ok.validate(), Ok(()), "{ok:?}");
    }
    assert_eq!(
        Repository::new("https://github.com/acme/api").owner_and_name(),
        Some(("acme", "api"))
    );
    for (url, want) in [
        ("", "url"),
        ("https://github.com/acme/api.git", "url"),
        ("https://github.com/acme/api/", "url"),
        ("https://github.com/acme", "url"),
        ("https://github.com/acme/api/tree/main", "url"),
        ("http://github.com/acme/api", "url"),
        ("https://gitlab.com/acme/api", "url"),
        ("https://github.com/-acme/api", "url"),
        ("https://github.com/acme/..", "url"),
        ("https://github.com/ac me/api", "url"),
        ("git@github.com:acme/api", "url"),
        ("https://GITHUB.com/acme/api", "url"),
    ] {
        assert_eq!(field(Repository::new(url).validate()), want, "{url}");
    }
    let base = Repository::new("https://github.com/acme/api");
    for b in [
        "", "-x", "a..b", "a b", "x.lock", "x/", "/x", "a~1", "a:b", "@", "a@{1}",
    ] {
        let r = Repository {
            branch: Some(b.into()),
            ..base.clone()
        };
        assert_eq!(field(r.validate()), "branch", "{b:?}");
    }
    for p in ["", "relative", "/a/../b", "/a\n"] {
        let r = Repository {
            mount_path: Some(p.into()),
            ..base.clone()
        };
        assert_eq!(field(r.validate()), "mount_path", "{p:?}");
    }
}

#[test]
fn connected_rules() {
    for (edit, want) in [
        (
            (|c: &mut ConnectedAgent| c.agent_id = "".into()) as fn(&mut ConnectedAgent),
            "agent_id",
        ),
        (|c| c.environment_id = " ".into(), "environment_id"),
        (|c| c.vault_ids.push("vlt_1".into()), "vault_ids"),
        (|c| c.vault_ids = vec!["".into()], "vault_ids[0]"),
    ] {
        let mut c = connected();
        edit(&mut c);
        assert_eq!(field(c.validate()), want);
    }
}

#[test]
fn serde_shapes_round_trip() {
    let s = spec(AgentKind::Managed(managed()));
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["kind"]["mode"], "managed");
    assert_eq!(v["kind"]["tool_mode"]["bridge"], "full_api");
    assert_eq!(
        v["kind"]["mcp_servers"][1]["auth"],
        json!({"type": "bearer_token", "secret": "sec_lin"})
    );
    assert_eq!(v["kind"]["environment"]["networking"]["type"], "limited");
    assert_eq!(serde_json::from_value::<AgentSpec>(v).unwrap(), s);
    let c = spec(AgentKind::Connected(connected()));
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["kind"]["mode"], "connected");
    assert_eq!(serde_json::from_value::<AgentSpec>(v).unwrap(), c);
    // Optional settings may be omitted in stored JSON.
    let m: ManagedAgent = serde_json::from_value(json!({"model": "claude-opus-4-6"})).unwrap();
    assert_eq!(m.tool_mode, ToolMode::default());
    assert_eq!(m.environment.networking, Networking::Unrestricted);
}

#[test]
fn defaults_come_from_the_managed_spec() {
    let s = spec(AgentKind::Managed(managed()));
    let d = s.defaults();
    assert_eq!(d.repositories, managed().repositories);
    assert_eq!(d.guidance, "Be brief.");
    assert_eq!(d.rules, managed().rules);
    let d = spec(AgentKind::Connected(connected())).defaults();
    assert!(d.repositories.is_empty() && d.rules.is_empty() && d.guidance.is_empty());
    assert_eq!(d.agent.as_str(), "ag_1");
}

proptest! {
    #[test]
    fn validation_never_panics(s in any::<String>(), t in any::<String>()) {
        let _ = Repository { url: s.clone(), branch: Some(t.clone()), mount_path: Some(s.clone()) }.validate();
        let _ = Repository::new(format!("https://github.com/{s}/{t}")).validate();
        let _ = server(&s, &t).validate();
        let _ = server("x", &format!("https://{s}")).validate();
        let mut m = managed();
        m.model = s.clone();
        m.guidance = t.clone();
        m.environment.networking = Networking::Limited {
            allowed_hosts: vec![s.clone()],
            allow_package_managers: false,
            allow_mcp_servers: false,
        };
        let _ = m.validate();
        let _ = ConnectedAgent { agent_id: s, environment_id: t, vault_ids: vec![] }.validate();
    }
}
