//! Per-project overrides of an agent's defaults, and the one function that resolves them.
//!
//! See [`Override`] for the semantics.

use serde::{Deserialize, Serialize};

use super::agent::{GUIDANCE_MAX, validate_repositories, validate_rules};
use super::{
    AgentKind, AgentSpec, AgentSpecId, DomainError, ProjectId, Repository, WorkspaceId, validate,
};

/// How a project treats one of an agent's default settings.
///
/// Each overridable setting of a [`ProjectOverride`] is an `Override`:
/// * [`Inherit`](Override::Inherit) — use the agent's default (the default when a field is
///   missing from stored JSON, so new overridable fields stay backwards compatible);
/// * [`Replace(v)`](Override::Replace) — use `v` instead; `Replace` with an empty list or empty
///   string **clears** the setting for the project (that is how a project says "no
///   repositories" or "no guidance");
/// * [`Extend(v)`](Override::Extend) — the default plus `v`. For rules and guidance this is the
///   common case ("this project also needs…"), and it keeps following later edits of the agent's
///   defaults, which `Replace` with a copy would silently stop doing. Lists are appended with
///   duplicates dropped (repositories are matched by URL and the project's entry wins, so a
///   project can pin another branch of a default repository); text is appended as a new
///   paragraph.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", content = "value", rename_all = "snake_case")]
pub enum Override<T> {
    /// Use the agent's default.
    #[default]
    Inherit,
    /// Use this value instead (an empty value clears the setting).
    Replace(T),
    /// Use the agent's default followed by this value.
    Extend(T),
}

impl<T> Override<T> {
    /// Whether this is [`Override::Inherit`].
    pub fn is_inherit(&self) -> bool {
        matches!(self, Self::Inherit)
    }

    /// The value carried by `Replace` or `Extend`.
    pub fn value(&self) -> Option<&T> {
        match self {
            Self::Inherit => None,
            Self::Replace(v) | Self::Extend(v) => Some(v),
        }
    }
}

/// Values that [`Override::Extend`] can append to.
trait Extendable: Clone {
    fn extended(&self, extra: &Self) -> Self;
}

impl Extendable for Vec<Repository> {
    /// Defaults then extras; an extra with the URL of a default replaces it in place.
    fn extended(&self, extra: &Self) -> Self {
        let mut out: Vec<Repository> = self
            .iter()
            .map(|d| extra.iter().find(|e| e.url == d.url).unwrap_or(d).clone())
            .collect();
        for e in extra {
            if !out.iter().any(|o| o.url == e.url) {
                out.push(e.clone());
            }
        }
        out
    }
}

impl Extendable for Vec<String> {
    /// Defaults then extras, dropping exact duplicates.
    fn extended(&self, extra: &Self) -> Self {
        let mut out = self.clone();
        for e in extra {
            if !out.contains(e) {
                out.push(e.clone());
            }
        }
        out
    }
}

impl Extendable for String {
    /// Defaults, a blank line, then the extra (either side may be empty).
    fn extended(&self, extra: &Self) -> Self {
        match (self.trim().is_empty(), extra.trim().is_empty()) {
            (_, true) => self.clone(),
            (true, false) => extra.clone(),
            (false, false) => format!("{}\n\n{}", self.trim_end(), extra.trim_start()),
        }
    }
}

/// Applies one override to one default.
fn apply<T: Extendable>(over: &Override<T>, default: &T) -> T {
    match over {
        Override::Inherit => default.clone(),
        Override::Replace(v) => v.clone(),
        Override::Extend(v) => default.extended(v),
    }
}

/// A project's overrides for one agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectOverride {
    /// The workspace of the project and the agent.
    pub workspace: WorkspaceId,
    /// The project.
    pub project: ProjectId,
    /// The agent.
    pub agent: AgentSpecId,
    /// Repositories mounted in the project's sessions.
    #[serde(default)]
    pub repositories: Override<Vec<Repository>>,
    /// Custom guidance.
    #[serde(default)]
    pub guidance: Override<String>,
    /// Agent rules.
    #[serde(default)]
    pub rules: Override<Vec<String>>,
}

impl ProjectOverride {
    /// An override that inherits everything.
    pub fn inherit(workspace: WorkspaceId, project: ProjectId, agent: AgentSpecId) -> Self {
        Self {
            workspace,
            project,
            agent,
            repositories: Override::Inherit,
            guidance: Override::Inherit,
            rules: Override::Inherit,
        }
    }

    /// Checks the ids and the overriding values with the same rules as the agent's defaults
    /// (repositories valid and unique, guidance ≤ 20,000 chars, rules 1–2,000 chars each).
    pub fn validate(&self) -> Result<(), DomainError> {
        validate::id("workspace", self.workspace.as_str())?;
        validate::id("project", self.project.as_str())?;
        validate::id("agent", self.agent.as_str())?;
        if let Some(r) = self.repositories.value() {
            validate_repositories("repositories", r)?;
        }
        if let Some(g) = self.guidance.value() {
            validate::text("guidance", g, GUIDANCE_MAX)?;
        }
        if let Some(r) = self.rules.value() {
            validate_rules("rules", r)?;
        }
        Ok(())
    }
}

/// An agent's overridable defaults, and whose they are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentDefaults {
    /// The agent's workspace.
    pub workspace: WorkspaceId,
    /// The agent.
    pub agent: AgentSpecId,
    /// Default repositories.
    #[serde(default)]
    pub repositories: Vec<Repository>,
    /// Default custom guidance.
    #[serde(default)]
    pub guidance: String,
    /// Default agent rules.
    #[serde(default)]
    pub rules: Vec<String>,
}

impl AgentDefaults {
    /// Empty defaults for an agent.
    pub fn new(workspace: WorkspaceId, agent: AgentSpecId) -> Self {
        Self {
            workspace,
            agent,
            repositories: Vec::new(),
            guidance: String::new(),
            rules: Vec::new(),
        }
    }
}

impl AgentSpec {
    /// The overridable defaults of this agent (empty for a connected agent, whose settings
    /// live remotely; projects can still add repositories, guidance and rules to its sessions).
    pub fn defaults(&self) -> AgentDefaults {
        let mut d = AgentDefaults::new(self.workspace.clone(), self.id.clone());
        if let AgentKind::Managed(m) = &self.kind {
            d.repositories = m.repositories.clone();
            d.guidance = m.guidance.clone();
            d.rules = m.rules.clone();
        }
        d
    }
}

/// The settings a session for a task of one project uses.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Resolved {
    /// Repositories to mount.
    pub repositories: Vec<Repository>,
    /// Custom guidance for the prompt.
    pub guidance: String,
    /// Agent rules for the prompt.
    pub rules: Vec<String>,
}

/// Resolves an agent's defaults with a project's override (defaults ⊕ override): each field is
/// inherited, replaced or extended as the override says; no override means the defaults.
///
/// # Errors
/// [`DomainError::OverrideMismatch`] when the override belongs to another workspace, agent or
/// project than the ones asked for. That is always a caller bug (a wrong row loaded), and
/// silently ignoring it would launch a session with the wrong repositories, so it is reported
/// rather than skipped.
pub fn resolve(
    defaults: &AgentDefaults,
    project: &ProjectId,
    over: Option<&ProjectOverride>,
) -> Result<Resolved, DomainError> {
    let Some(o) = over else {
        return Ok(Resolved {
            repositories: defaults.repositories.clone(),
            guidance: defaults.guidance.clone(),
            rules: defaults.rules.clone(),
        });
    };
    let mismatch = |what, expected: &str, found: &str| DomainError::OverrideMismatch {
        what,
        expected: expected.to_owned(),
        found: found.to_owned(),
    };
    if o.workspace != defaults.workspace {
        return Err(mismatch(
            "workspace",
            defaults.workspace.as_str(),
            o.workspace.as_str(),
        ));
    }
    if o.agent != defaults.agent {
        return Err(mismatch("agent", defaults.agent.as_str(), o.agent.as_str()));
    }
    if &o.project != project {
        return Err(mismatch("project", project.as_str(), o.project.as_str()));
    }
    Ok(Resolved {
        repositories: apply(&o.repositories, &defaults.repositories),
        guidance: apply(&o.guidance, &defaults.guidance),
        rules: apply(&o.rules, &defaults.rules),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn inherit_equals_no_override_and_replace_is_exact(
            guidance in any::<String>(),
            rules in proptest::collection::vec(any::<String>(), 0..4),
            extra in proptest::collection::vec(any::<String>(), 0..4),
        ) {
            let d = AgentDefaults { guidance: guidance.clone(), rules: rules.clone(), ..defaults() };
            let p = ProjectId::from("p1");
            prop_assert_eq!(resolve(&d, &p, Some(&over())), resolve(&d, &p, None));
            let o = ProjectOverride { rules: Override::Replace(extra.clone()), ..over() };
            prop_assert_eq!(resolve(&d, &p, Some(&o)).unwrap().rules, extra.clone());
            // Extend keeps every default first, then every extra, each once.
            let o = ProjectOverride { rules: Override::Extend(extra.clone()), ..over() };
            let got = resolve(&d, &p, Some(&o)).unwrap().rules;
            prop_assert_eq!(&got[..rules.len()], &rules[..]);
            prop_assert!(extra.iter().all(|e| got.contains(e)));
        }
    }

    fn repo(name: &str) -> Repository {
        Repository::new(format!("https://github.com/acme/{name}"))
    }

    fn defaults() -> AgentDefaults {
        AgentDefaults {
            workspace: "ws".into(),
            agent: "ag".into(),
            repositories: vec![repo("api"), repo("web")],
            guidance: "Be brief.".into(),
            rules: vec!["Run tests".into()],
        }
    }

    fn over() -> ProjectOverride {
        ProjectOverride::inherit("ws".into(), "p1".into(), "ag".into())
    }

    #[test]
    fn resolution_table() {
        let d = defaults();
        let branch = Repository {
            branch: Some("release".into()),
            ..repo("web")
        };
        let cases: Vec<(&str, Option<ProjectOverride>, Resolved)> = vec![
            (
                "no override",
                None,
                Resolved {
                    repositories: d.repositories.clone(),
                    guidance: d.guidance.clone(),
                    rules: d.rules.clone(),
                },
            ),
            (
                "inherit everything",
                Some(over()),
                Resolved {
                    repositories: d.repositories.clone(),
                    guidance: d.guidance.clone(),
                    rules: d.rules.clone(),
                },
            ),
            (
                "replace",
                Some(ProjectOverride {
                    repositories: Override::Replace(vec![repo("mobile")]),
                    guidance: Override::Replace("Be thorough.".into()),
                    rules: Override::Replace(vec!["No force push".into()]),
                    ..over()
                }),
                Resolved {
                    repositories: vec![repo("mobile")],
                    guidance: "Be thorough.".into(),
                    rules: vec!["No force push".into()],
                },
            ),
            (
                "replace with empty clears",
                Some(ProjectOverride {
                    repositories: Override::Replace(vec![]),
                    guidance: Override::Replace(String::new()),
                    rules: Override::Replace(vec![]),
                    ..over()
                }),
                Resolved::default(),
            ),
            (
                "extend appends, dedupes, project entry wins by URL",
                Some(ProjectOverride {
                    repositories: Override::Extend(vec![branch.clone(), repo("docs")]),
                    guidance: Override::Extend("Mention the ticket.".into()),
                    rules: Override::Extend(vec!["Run tests".into(), "Use pnpm".into()]),
                    ..over()
                }),
                Resolved {
                    repositories: vec![repo("api"), branch, repo("docs")],
                    guidance: "Be brief.\n\nMention the ticket.".into(),
                    rules: vec!["Run tests".into(), "Use pnpm".into()],
                },
            ),
            (
                "mixed: one field replaced, others inherited",
                Some(ProjectOverride {
                    guidance: Override::Replace("Only this.".into()),
                    ..over()
                }),
                Resolved {
                    repositories: d.repositories.clone(),
                    guidance: "Only this.".into(),
                    rules: d.rules.clone(),
                },
            ),
            (
                "extend with empty keeps defaults",
                Some(ProjectOverride {
                    repositories: Override::Extend(vec![]),
                    guidance: Override::Extend(" ".into()),
                    rules: Override::Extend(vec![]),
                    ..over()
                }),
                Resolved {
                    repositories: d.repositories.clone(),
                    guidance: d.guidance.clone(),
                    rules: d.rules.clone(),
                },
            ),
        ];
        for (name, o, want) in cases {
            assert_eq!(resolve(&d, &"p1".into(), o.as_ref()), Ok(want), "{name}");
        }
    }

    #[test]
    fn extend_onto_empty_defaults() {
        let d = AgentDefaults::new("ws".into(), "ag".into());
        let o = ProjectOverride {
            guidance: Override::Extend("Hi".into()),
            repositories: Override::Extend(vec![repo("x")]),
            ..over()
        };
        let r = resolve(&d, &"p1".into(), Some(&o)).unwrap();
        assert_eq!(r.guidance, "Hi");
        assert_eq!(r.repositories, vec![repo("x")]);
    }

    #[test]
    fn override_for_another_target_is_an_error() {
        let d = defaults();
        for (o, what) in [
            (
                ProjectOverride {
                    agent: "other".into(),
                    ..over()
                },
                "agent",
            ),
            (
                ProjectOverride {
                    workspace: "ws2".into(),
                    ..over()
                },
                "workspace",
            ),
            (
                ProjectOverride {
                    project: "p2".into(),
                    ..over()
                },
                "project",
            ),
        ] {
            match resolve(&d, &"p1".into(), Some(&o)) {
                Err(DomainError::OverrideMismatch { what: w, .. }) => assert_eq!(w, what),
                other => panic!("{what}: {other:?}"),
            }
        }
    }

    #[test]
    fn override_validation() {
        assert_eq!(over().validate(), Ok(()));
        let cases: Vec<(ProjectOverride, &str)> = vec![
            (
                ProjectOverride {
                    project: "".into(),
                    ..over()
                },
                "project",
            ),
            (
                ProjectOverride {
                    repositories: Override::Replace(vec![Repository::new(
                        "https://gitlab.com/a/b",
                    )]),
                    ..over()
                },
                "repositories[0].url",
            ),
            (
                ProjectOverride {
                    repositories: Override::Extend(vec![repo("a"), repo("a")]),
                    ..over()
                },
                "repositories",
            ),
            (
                ProjectOverride {
                    guidance: Override::Replace("g".repeat(GUIDANCE_MAX + 1)),
                    ..over()
                },
                "guidance",
            ),
            (
                ProjectOverride {
                    rules: Override::Extend(vec![" ".into()]),
                    ..over()
                },
                "rules[0]",
            ),
        ];
        for (o, field) in cases {
            assert_eq!(o.validate().unwrap_err().field(), Some(field));
        }
    }

    #[test]
    fn serde_shape_and_missing_fields_inherit() {
        let o = ProjectOverride {
            guidance: Override::Replace("x".into()),
            ..over()
        };
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(
            json["guidance"],
            serde_json::json!({"mode": "replace", "value": "x"})
        );
        assert_eq!(json["rules"], serde_json::json!({"mode": "inherit"}));
        let back: ProjectOverride = serde_json::from_value(
            serde_json::json!({"workspace": "ws", "project": "p1", "agent": "ag"}),
        )
        .unwrap();
        assert_eq!(back, over());
    }
}
