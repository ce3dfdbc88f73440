//! Wire fixtures for the agents family.

use std::path::Path;

use claude_agents::api::types::agents::*;
use claude_agents::api::types::{AgentId, Metadata, MetadataPatch, ModelId};
use serde_json::{Value, json};

use crate::fixtures::{check_family, round_trip};

/// The `AgentCreate` of `tests/fixtures/agents/agent_create.json` (SDK-validated).
fn sample_create() -> AgentCreate {
    let mut create = AgentCreate::new("Coding Assistant", "claude-sonnet-4-6");
    create.description = Some("Writes and reviews Python code.".into());
    create.system = Some("You are a helpful coding agent.".into());
    create.tools = vec![ToolParam::agent_toolset(), ToolParam::mcp_toolset("github")];
    create.mcp_servers = vec![McpServer::url(
        "github",
        "https://api.githubcopilot.com/mcp/",
    )];
    create.skills = vec![SkillParams::anthropic("xlsx")];
    create.metadata = Metadata::from([("team".to_owned(), "platform".to_owned())]);
    create
}

/// The `AgentCreate` of `agent_create_model_object.json`.
fn sample_create_model_object() -> AgentCreate {
    let model = ModelConfigParams::new("claude-opus-4-8")
        .with_speed(Speed::Fast)
        .with_effort(EffortLevel::High)
        .with_inference_geo("us");
    let mut create = AgentCreate::new("Release runner", model);
    create.multiagent = Some(MultiagentParams::Multiagent20261001(
        Multiagent20261001Params {
            advisor: Some(Some(MultiagentAdvisor::Enabled(AdvisorModel {
                model: ModelId::from("claude-opus-5"),
            }))),
            subagents: None,
            workflows: Some(None),
        },
    ));
    create.execution_identity = Some(ExecutionIdentity::aws_role(
        "arn:aws:iam::123456789012:role/my-agent-runner",
    ));
    create
}

/// The `AgentUpdate` of `agent_update.json`.
fn sample_update() -> AgentUpdate {
    AgentUpdate {
        name: Some("Coding Assistant v2".into()),
        description: Some(None),
        system: Some(Some("You review Rust code.".into())),
        tools: Some(Some(vec![])),
        mcp_servers: Some(None),
        metadata: Some(MetadataPatch::from([
            ("team".to_owned(), Some("infra".to_owned())),
            ("obsolete".to_owned(), None),
        ])),
        multiagent: Some(None),
        execution_identity: Some(None),
        ..AgentUpdate::at_version(3)
    }
}

fn assert_request(path: &Path, got: &impl serde::Serialize, want: &Value) {
    let got = serde_json::to_value(got).unwrap();
    assert_eq!(&got, want, "{}: request JSON differs", path.display());
}

#[test]
fn wire_agents_fixtures_round_trip() {
    check_family("agents", |path, rust_type, value| {
        match rust_type {
            "Agent" => {
                let agent: Agent = round_trip(path, value);
                assert_eq!(agent.kind, "agent");
                assert!(
                    !agent.tools.iter().any(Tool::is_other),
                    "{}",
                    path.display()
                );
            }
            "Tool" => {
                assert!(!round_trip::<Tool>(path, value).is_other());
            }
            "AgentToolConfig" => {
                assert!(!round_trip::<AgentToolConfig>(path, value).is_other());
            }
            "UrlSources" => {
                round_trip::<UrlSources>(path, value);
            }
            "UserLocation" => {
                round_trip::<UserLocation>(path, value);
            }
            "PermissionPolicy" => {
                assert!(!round_trip::<PermissionPolicy>(path, value).is_other());
            }
            "ModelConfig" => {
                round_trip::<ModelConfig>(path, value);
            }
            "Effort" => {
                let effort: Effort = round_trip(path, value);
                assert!(!effort.is_other());
                assert!(!effort.level().is_other());
            }
            "Multiagent" => {
                assert!(!round_trip::<Multiagent>(path, value).is_other());
            }
            "ExecutionIdentity" => {
                assert!(!round_trip::<ExecutionIdentity>(path, value).is_other());
            }
            "AgentSkill" => {
                assert!(round_trip::<AgentSkill>(path, value).skill_id().is_some());
            }
            "McpServer" => {
                assert!(round_trip::<McpServer>(path, value).name().is_some());
            }
            "ToolParam" => {
                let tool: ToolParam = round_trip(path, value);
                assert!(!tool.is_other());
                if let ToolParam::AgentToolset20260401(set) = &tool {
                    assert!(
                        !set.configs
                            .iter()
                            .any(|c| matches!(c, AgentToolConfigParams::Other(_))),
                        "{}: a built-in tool override decoded as Other",
                        path.display()
                    );
                }
            }
            "ModelParam" => {
                round_trip::<ModelParam>(path, value);
            }
            "MultiagentParams" => {
                assert!(!round_trip::<MultiagentParams>(path, value).is_other());
            }
            "SkillParams" => {
                assert!(!round_trip::<SkillParams>(path, value).is_other());
            }
            "AgentCreate" => match path.file_stem().and_then(|s| s.to_str()) {
                Some("agent_create") => assert_request(path, &sample_create(), value),
                Some("agent_create_model_object") => {
                    assert_request(path, &sample_create_model_object(), value)
                }
                other => panic!("no Rust builder for {other:?}"),
            },
            "AgentUpdate" => assert_request(path, &sample_update(), value),
            _ => return false,
        }
        true
    });
}

#[test]
fn wire_agents_unknown_tool_type_is_kept_verbatim() {
    // Raw JSON in these tests has sorted keys: the crate's serde_json has no `preserve_order`,
    // so object keys of kept-verbatim values re-encode in sorted order (values are identical).
    let raw = r#"{"configs":[{"name":"navigate","x":[1,2.5,null]}],"default_config":{"enabled":true},"type":"browser_toolset_20260801"}"#;
    let tool: Tool = serde_json::from_str(raw).unwrap();
    assert!(tool.is_other());
    assert_eq!(tool.type_name(), "browser_toolset_20260801");
    assert_eq!(serde_json::to_string(&tool).unwrap(), raw);

    // Inside a whole agent, the unknown tool does not prevent decoding the rest.
    let mut agent: Value = fixture_value("agent_full");
    agent["tools"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::from_str(raw).unwrap());
    let agent: Agent = serde_json::from_value(agent).unwrap();
    assert_eq!(agent.tools.len(), 4);
    assert!(agent.tools[3].is_other());
}

#[test]
fn wire_agents_unknown_policy_and_variants_are_kept_verbatim() {
    let raw = r#"{"ttl_seconds":3600,"type":"ask_once"}"#;
    let policy: PermissionPolicy = serde_json::from_str(raw).unwrap();
    assert!(policy.is_other());
    assert_eq!(policy.type_name(), "ask_once");
    assert_eq!(serde_json::to_string(&policy).unwrap(), raw);

    let raw = r#"{"enabled":true,"name":"computer","permission_policy":{"type":"always_ask"},"type":"computer"}"#;
    let config: AgentToolConfig = serde_json::from_str(raw).unwrap();
    assert!(config.is_other());
    assert_eq!(serde_json::to_string(&config).unwrap(), raw);

    let raw = r#"{"command":"mcp-server","name":"local","type":"stdio"}"#;
    let server: McpServer = serde_json::from_str(raw).unwrap();
    assert!(server.is_other());
    assert_eq!(server.name(), None);
    assert_eq!(serde_json::to_string(&server).unwrap(), raw);

    let raw = r#"{"email":"runner@example.iam.gserviceaccount.com","type":"gcp_service_account"}"#;
    let identity: ExecutionIdentity = serde_json::from_str(raw).unwrap();
    assert!(identity.is_other());
    assert_eq!(serde_json::to_string(&identity).unwrap(), raw);

    let raw = r#"{"size":3,"type":"swarm_20270101"}"#;
    let multi: Multiagent = serde_json::from_str(raw).unwrap();
    assert!(multi.is_other());
    assert_eq!(serde_json::to_string(&multi).unwrap(), raw);

    // Open string enums keep unknown values.
    let model: ModelConfig =
        serde_json::from_str(r#"{"id":"claude-x","speed":"turbo","effort":{"type":"ultra"}}"#)
            .unwrap();
    assert_eq!(model.speed, Some(Speed::Other("turbo".into())));
    assert_eq!(model.speed.as_ref().unwrap().as_str(), "turbo");
    let effort = model.effort.as_ref().unwrap();
    assert!(effort.is_other());
    assert_eq!(effort.level(), EffortLevel::Other("ultra".into()));
    assert_eq!(
        serde_json::to_value(&model).unwrap(),
        json!({"id":"claude-x","speed":"turbo","effort":{"type":"ultra"},"inference_geo":null})
    );
}

#[test]
fn wire_agents_known_tag_with_bad_payload_names_the_path() {
    let (path, err) = crate::fixtures::decode_err::<Tool>(
        r#"{"type":"mcp_toolset","mcp_server_name":"github","default_config":{"enabled":"yes","permission_policy":{"type":"always_ask"}},"configs":[]}"#,
    );
    assert_eq!(path, "default_config.enabled");
    assert!(err.contains("in `mcp_toolset`"), "{err}");

    let err = serde_json::from_str::<ExecutionIdentity>(r#"{"type":"aws_role"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("in `aws_role`"), "{err}");
    assert!(err.contains("role_arn"), "{err}");

    // Nested: the path inside the agent's tool config is reported.
    let mut agent = fixture_value("agent_aws_role");
    agent["tools"][0]["configs"][6]["max_content_tokens"] = json!("many");
    let text = agent.to_string();
    let mut de = serde_json::Deserializer::from_str(&text);
    let err = serde_path_to_error::deserialize::<_, Agent>(&mut de).unwrap_err();
    assert!(err.path().to_string().starts_with("tools[0]"), "{err}");
    assert!(
        err.to_string()
            .contains("in `web_fetch` at `max_content_tokens`"),
        "{err}"
    );
}

#[test]
fn wire_agents_custom_tool_schema_keeps_extra_keywords() {
    // The SDK allows any JSON-Schema keyword besides type/properties/required.
    let raw = json!({
        "type": "custom",
        "name": "get_weather",
        "description": "Fetch current weather for a city.",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": false,
            "$defs": {"unit": {"enum": ["c", "f"]}}
        }
    });
    let tool: Tool = serde_json::from_value(raw.clone()).unwrap();
    let Tool::Custom(custom) = &tool else {
        panic!("not custom: {tool:?}")
    };
    assert_eq!(
        custom.input_schema.extra["additionalProperties"],
        json!(false)
    );
    assert_eq!(serde_json::to_value(&tool).unwrap(), raw);
}

#[test]
fn wire_agents_create_serialises_exactly() {
    assert_eq!(
        serde_json::to_value(sample_create()).unwrap(),
        json!({
            "name": "Coding Assistant",
            "model": "claude-sonnet-4-6",
            "description": "Writes and reviews Python code.",
            "system": "You are a helpful coding agent.",
            "tools": [
                {"type": "agent_toolset_20260401"},
                {"type": "mcp_toolset", "mcp_server_name": "github"}
            ],
            "mcp_servers": [{"type": "url", "name": "github", "url": "https://api.githubcopilot.com/mcp/"}],
            "skills": [{"type": "anthropic", "skill_id": "xlsx"}],
            "metadata": {"team": "platform"}
        })
    );
    assert_eq!(
        serde_json::to_value(sample_create_model_object()).unwrap(),
        json!({
            "name": "Release runner",
            "model": {"id": "claude-opus-4-8", "speed": "fast", "effort": "high", "inference_geo": "us"},
            "multiagent": {
                "type": "multiagent_20261001",
                "advisor": {"type": "enabled", "model": "claude-opus-5"},
                "workflows": null
            },
            "execution_identity": {"type": "aws_role", "role_arn": "arn:aws:iam::123456789012:role/my-agent-runner"}
        })
    );
    // Only the required fields.
    assert_eq!(
        serde_json::to_value(AgentCreate::new("a", ModelId::from("claude-haiku-4-5"))).unwrap(),
        json!({"name": "a", "model": "claude-haiku-4-5"})
    );
}

#[test]
fn wire_agents_tool_params_serialise_exactly() {
    let toolset = ToolParam::AgentToolset20260401(AgentToolsetParams {
        default_config: Some(ToolConfigParams::default().with_enabled(false)),
        configs: vec![
            AgentToolConfigParams::Bash(
                ToolConfigParams::default()
                    .with_enabled(true)
                    .with_policy(PermissionPolicy::AlwaysAsk),
            ),
            AgentToolConfigParams::WebFetch(WebFetchConfigParams {
                enabled: Some(true),
                allowed_domains: Some(vec!["docs.python.org".into()]),
                url_sources: Some(UrlSourcesParams {
                    client_tool_results: Some(UrlSourceToolFilterParam::Shorthand(
                        UrlSourceShorthand::None,
                    )),
                    server_tool_results: Some(UrlSourceToolFilterParam::Filter(
                        UrlSourceToolFilter::Only(UrlSourceToolList::names(["web_search"])),
                    )),
                    user_input: Some(UrlSourceUserInputParam::Filter(UrlSourceUserInput::All)),
                }),
                ..WebFetchConfigParams::default()
            }),
            AgentToolConfigParams::WebSearch(WebSearchConfigParams {
                user_location: Some(UserLocation {
                    country: Some("US".into()),
                    ..UserLocation::approximate()
                }),
                ..WebSearchConfigParams::default()
            }),
        ],
    });
    assert_eq!(
        serde_json::to_value(&toolset).unwrap(),
        json!({
            "type": "agent_toolset_20260401",
            "default_config": {"enabled": false},
            "configs": [
                {"name": "bash", "enabled": true, "permission_policy": {"type": "always_ask"}},
                {"name": "web_fetch", "enabled": true, "allowed_domains": ["docs.python.org"],
                 "url_sources": {
                     "client_tool_results": "none",
                     "server_tool_results": {"type": "only", "tools": [{"type": "tool_reference", "name": "web_search"}]},
                     "user_input": {"type": "all"}
                 }},
                {"name": "web_search", "user_location": {"type": "approximate", "country": "US"}}
            ]
        })
    );

    let mut mcp = McpToolsetParams::new("github");
    mcp.default_config = Some(ToolConfigParams::default().with_policy(PermissionPolicy::Auto));
    mcp.configs.push(McpToolConfigParams {
        name: "delete_repository".into(),
        enabled: Some(false),
        permission_policy: None,
    });
    assert_eq!(
        serde_json::to_value(ToolParam::McpToolset(mcp)).unwrap(),
        json!({
            "type": "mcp_toolset",
            "mcp_server_name": "github",
            "default_config": {"permission_policy": {"type": "auto"}},
            "configs": [{"name": "delete_repository", "enabled": false}]
        })
    );

    let schema = CustomToolInputSchema::object(
        serde_json::from_value(json!({"city": {"type": "string"}})).unwrap(),
        vec!["city".into()],
    );
    assert_eq!(
        serde_json::to_value(ToolParam::custom("get_weather", "Weather.", schema)).unwrap(),
        json!({
            "type": "custom",
            "name": "get_weather",
            "description": "Weather.",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
        })
    );

    assert_eq!(
        serde_json::to_value(SkillParams::custom("skill_01J").with_version("latest")).unwrap(),
        json!({"type": "custom", "skill_id": "skill_01J", "version": "latest"})
    );
}

#[test]
fn wire_agents_multiagent_params_serialise_exactly() {
    let coordinator = MultiagentParams::Coordinator(CoordinatorParams {
        agents: vec![
            AgentId::from("agent_0123").into(),
            RosterEntry::Agent(AgentRefParams {
                id: AgentId::from("agent_0456"),
                version: Some(4),
            })
            .into(),
            RosterEntry::SelfAgent.into(),
            RosterEntry::Advisor(AdvisorModel {
                model: ModelId::from("claude-opus-5"),
            })
            .into(),
        ],
    });
    assert_eq!(
        serde_json::to_value(&coordinator).unwrap(),
        json!({
            "type": "coordinator",
            "agents": ["agent_0123", {"type": "agent", "id": "agent_0456", "version": 4}, {"type": "self"}, {"type": "advisor", "model": "claude-opus-5"}]
        })
    );

    let multi = MultiagentParams::Multiagent20261001(Multiagent20261001Params {
        advisor: None,
        subagents: Some(Some(MultiagentAgentsParams::Enabled(
            MultiagentAgentsEnabledParams {
                inline_agents: Some(Some(InlineAgents::Disabled)),
                predefined_agents: Some(Some(vec![
                    AgentId::from("agent_0456").into(),
                    PredefinedAgent::SelfAgent.into(),
                ])),
            },
        ))),
        workflows: Some(Some(MultiagentAgentsParams::Disabled)),
    });
    assert_eq!(
        serde_json::to_value(&multi).unwrap(),
        json!({
            "type": "multiagent_20261001",
            "subagents": {"type": "enabled", "inline_agents": {"type": "disabled"}, "predefined_agents": ["agent_0456", {"type": "self"}]},
            "workflows": {"type": "disabled"}
        })
    );

    // A member sent as null decodes back as `Some(None)` (null takes the default), distinct
    // from an omitted member.
    let decoded: MultiagentParams =
        serde_json::from_value(json!({"type": "multiagent_20261001", "workflows": null})).unwrap();
    let MultiagentParams::Multiagent20261001(p) = decoded else {
        panic!("wrong variant")
    };
    assert_eq!(p.workflows, Some(None));
    assert_eq!(p.subagents, None);
}

#[test]
fn wire_agents_update_omit_null_value() {
    // Nothing set: an empty object (everything preserved).
    assert_eq!(
        serde_json::to_value(AgentUpdate::default()).unwrap(),
        json!({})
    );
    assert_eq!(
        serde_json::to_value(sample_update()).unwrap(),
        json!({
            "version": 3,
            "name": "Coding Assistant v2",
            "description": null,
            "system": "You review Rust code.",
            "tools": [],
            "mcp_servers": null,
            "metadata": {"team": "infra", "obsolete": null},
            "multiagent": null,
            "execution_identity": null
        })
    );
    let update = AgentUpdate {
        model: Some(ModelConfigParams::new("claude-opus-5").into()),
        skills: Some(Some(vec![SkillParams::anthropic("pdf")])),
        execution_identity: Some(Some(ExecutionIdentity::ServiceAccount)),
        ..AgentUpdate::default()
    };
    assert_eq!(
        serde_json::to_value(update).unwrap(),
        json!({
            "model": {"id": "claude-opus-5"},
            "skills": [{"type": "anthropic", "skill_id": "pdf"}],
            "execution_identity": {"type": "service_account"}
        })
    );
}

#[test]
fn wire_agents_query_strings() {
    assert!(ListAgents::default().to_query().is_empty());
    let list = ListAgents {
        limit: Some(50),
        include_archived: Some(true),
        created_at_gte: Some("2026-03-01T00:00:00Z".parse().unwrap()),
        created_at_lte: Some("2026-03-31T23:59:59.5Z".parse().unwrap()),
    };
    let pairs: Vec<(String, String)> = [
        ("limit", "50"),
        ("include_archived", "true"),
        ("created_at[gte]", "2026-03-01T00:00:00Z"),
        ("created_at[lte]", "2026-03-31T23:59:59.500Z"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(list.to_query(), pairs);

    assert_eq!(
        GetAgent { version: Some(3) }.to_query(),
        vec![("version".to_owned(), "3".to_owned())]
    );
    assert!(GetAgent::default().to_query().is_empty());
    assert_eq!(
        ListAgentVersions { limit: Some(100) }.to_query(),
        vec![("limit".to_owned(), "100".to_owned())]
    );
}

fn fixture_value(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/agents")
        .join(format!("{name}.json"));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["value"].clone()
}

#[test]
fn wire_agents_tool_override_by_name_decoding() {
    // Unknown built-in tool name: kept verbatim.
    let raw = json!({"type": "agent_toolset_20260401", "configs": [{"enabled": true, "name": "computer"}]});
    let tool: ToolParam = serde_json::from_value(raw.clone()).unwrap();
    let ToolParam::AgentToolset20260401(set) = &tool else {
        panic!("wrong variant: {tool:?}")
    };
    assert!(matches!(set.configs[0], AgentToolConfigParams::Other(_)));
    assert_eq!(serde_json::to_value(&tool).unwrap(), raw);

    // Known name, bad payload: an error naming the path.
    // (`type` is not the first key of a `json!` object: decoded via `Value`, and the message
    // carries the path.)
    let err = serde_json::from_value::<ToolParam>(json!({
        "type": "agent_toolset_20260401",
        "configs": [{"name": "bash", "enabled": "x"}]
    }))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("in `agent_toolset_20260401` at `configs[0]`"),
        "{err}"
    );
    assert!(err.contains("in `bash` at `enabled`"), "{err}");
}
