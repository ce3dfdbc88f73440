//! Skills: Anthropic's built-in ones (by id) and a workspace's custom ones, with a revision so
//! edits can be propagated to the agents that use them.

use serde::{Deserialize, Serialize};

use super::{CustomSkillId, DomainError, WorkspaceId, validate};

/// Limit for a skill name (slug) — `SKILL.md` frontmatter rule.
const SLUG_MAX: usize = 64;
/// Limit for a skill description — `SKILL.md` frontmatter rule.
const DESCRIPTION_MAX: usize = 1024;
/// Limit for a skill title (the API's `display_name`).
const TITLE_MAX: usize = 255;
/// Limit for a skill's markdown instructions.
const INSTRUCTIONS_MAX: usize = 100_000;

/// An agent's choice of a skill.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SkillRef {
    /// An Anthropic built-in skill by its short id (`xlsx`, `docx`, `pptx`, `pdf`, …).
    Anthropic {
        /// The skill id (lowercase letters, digits, hyphens; ≤ 64 chars).
        skill_id: String,
    },
    /// One of the workspace's custom skills.
    Custom {
        /// The local custom skill id.
        skill: CustomSkillId,
    },
}

impl SkillRef {
    /// Checks the id: a built-in id is 1–64 lowercase letters, digits or hyphens; a custom
    /// skill id is a non-empty id without whitespace.
    pub fn validate(&self) -> Result<(), DomainError> {
        match self {
            Self::Anthropic { skill_id } => {
                if skill_id.is_empty() {
                    return Err(validate::empty("skill_id"));
                }
                validate::max_len("skill_id", skill_id, SLUG_MAX)?;
                if !skill_id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                {
                    return Err(validate::invalid(
                        "skill_id",
                        "only lowercase letters, digits and hyphens",
                    ));
                }
                Ok(())
            }
            Self::Custom { skill } => validate::id("skill", skill.as_str()),
        }
    }

    /// A stable string form for uniqueness checks (`anthropic:xlsx`, `custom:<id>`).
    pub fn key(&self) -> String {
        match self {
            Self::Anthropic { skill_id } => format!("anthropic:{skill_id}"),
            Self::Custom { skill } => format!("custom:{skill}"),
        }
    }
}

/// A skill as the host manages it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Skill {
    /// An Anthropic built-in skill (nothing to edit or upload).
    Anthropic {
        /// The skill id (`xlsx`).
        skill_id: String,
    },
    /// A workspace's custom skill.
    Custom(CustomSkill),
}

impl Skill {
    /// How an agent refers to this skill.
    pub fn reference(&self) -> SkillRef {
        match self {
            Self::Anthropic { skill_id } => SkillRef::Anthropic {
                skill_id: skill_id.clone(),
            },
            Self::Custom(c) => SkillRef::Custom {
                skill: c.id.clone(),
            },
        }
    }

    /// Validates the built-in id or the custom skill.
    pub fn validate(&self) -> Result<(), DomainError> {
        match self {
            Self::Anthropic { .. } => self.reference().validate(),
            Self::Custom(c) => c.validate(),
        }
    }
}

/// A workspace's custom skill: what becomes its `SKILL.md` (frontmatter `name` and
/// `description`, then the markdown instructions).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomSkill {
    /// Local id.
    pub id: CustomSkillId,
    /// The workspace the skill belongs to.
    pub workspace: WorkspaceId,
    /// The skill's slug (frontmatter `name`): ≤ 64 chars of lowercase letters, digits and
    /// hyphens, without the reserved words `anthropic` or `claude`. Immutable once uploaded.
    pub name: String,
    /// Human-readable title (the API's `display_name`; 1–255 chars, single line).
    pub title: String,
    /// What the skill does and when to use it (1–1024 chars, no XML tags).
    pub description: String,
    /// The body of `SKILL.md`, in Markdown (1–100,000 chars).
    pub instructions: String,
    /// Bumped by the host on every edit; the reconciler uploads a new version when the
    /// revision it last synced differs.
    #[serde(default)]
    pub revision: u64,
}

impl CustomSkill {
    /// Checks every field against the `SKILL.md` frontmatter rules and our limits.
    pub fn validate(&self) -> Result<(), DomainError> {
        validate::id("id", self.id.as_str())?;
        validate::id("workspace", self.workspace.as_str())?;
        if self.name.is_empty() {
            return Err(validate::empty("name"));
        }
        validate::max_len("name", &self.name, SLUG_MAX)?;
        if !self
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(validate::invalid(
                "name",
                "only lowercase letters, digits and hyphens",
            ));
        }
        if self.name.contains("anthropic") || self.name.contains("claude") {
            return Err(validate::invalid(
                "name",
                "must not contain the reserved words `anthropic` or `claude`",
            ));
        }
        validate::name("title", &self.title, TITLE_MAX)?;
        validate::required_text("description", &self.description, DESCRIPTION_MAX)?;
        if validate::has_xml_tag(&self.description) {
            return Err(validate::invalid(
                "description",
                "must not contain XML tags",
            ));
        }
        validate::required_text("instructions", &self.instructions, INSTRUCTIONS_MAX)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn skill() -> CustomSkill {
        CustomSkill {
            id: "csk_1".into(),
            workspace: "ws_1".into(),
            name: "invoice-extractor-2".into(),
            title: "Invoice extractor".into(),
            description: "Extracts totals from invoices. Use when given a PDF invoice.".into(),
            instructions: "# Steps\n1. Read the PDF.".into(),
            revision: 1,
        }
    }

    #[test]
    fn valid_skills() {
        assert_eq!(skill().validate(), Ok(()));
        assert_eq!(Skill::Custom(skill()).validate(), Ok(()));
        assert_eq!(
            Skill::Anthropic {
                skill_id: "xlsx".into()
            }
            .validate(),
            Ok(())
        );
        // `a < b` is not a tag.
        let s = CustomSkill {
            description: "Use when a < b or c > d.".into(),
            ..skill()
        };
        assert_eq!(s.validate(), Ok(()));
        let s = CustomSkill {
            name: "x".repeat(64),
            description: "d".repeat(1024),
            ..skill()
        };
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn invalid_skills_name_the_field() {
        let cases: Vec<(CustomSkill, &str)> = vec![
            (
                CustomSkill {
                    name: "".into(),
                    ..skill()
                },
                "name",
            ),
            (
                CustomSkill {
                    name: "x".repeat(65),
                    ..skill()
                },
                "name",
            ),
            (
                CustomSkill {
                    name: "Invoice".into(),
                    ..skill()
                },
                "name",
            ),
            (
                CustomSkill {
                    name: "my_skill".into(),
                    ..skill()
                },
                "name",
            ),
            (
                CustomSkill {
                    name: "my-claude-helper".into(),
                    ..skill()
                },
                "name",
            ),
            (
                CustomSkill {
                    name: "anthropic-x".into(),
                    ..skill()
                },
                "name",
            ),
            (
                CustomSkill {
                    title: "".into(),
                    ..skill()
                },
                "title",
            ),
            (
                CustomSkill {
                    title: "a\nb".into(),
                    ..skill()
                },
                "title",
            ),
            (
                CustomSkill {
                    title: "t".repeat(256),
                    ..skill()
                },
                "title",
            ),
            (
                CustomSkill {
                    description: " ".into(),
                    ..skill()
                },
                "description",
            ),
            (
                CustomSkill {
                    description: "d".repeat(1025),
                    ..skill()
                },
                "description",
            ),
            (
                CustomSkill {
                    description: "Use <b>this</b>".into(),
                    ..skill()
                },
                "description",
            ),
            (
                CustomSkill {
                    instructions: "".into(),
                    ..skill()
                },
                "instructions",
            ),
            (
                CustomSkill {
                    id: "".into(),
                    ..skill()
                },
                "id",
            ),
        ];
        for (s, field) in cases {
            assert_eq!(s.validate().unwrap_err().field(), Some(field), "{s:?}");
        }
        for bad in ["", "XLSX", "x y", &"a".repeat(65)] {
            let r = SkillRef::Anthropic {
                skill_id: bad.into(),
            };
            assert_eq!(r.validate().unwrap_err().field(), Some("skill_id"));
        }
        assert!(SkillRef::Custom { skill: "".into() }.validate().is_err());
    }

    #[test]
    fn serde_shape() {
        let r = Skill::Custom(skill()).reference();
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"type": "custom", "skill": "csk_1"})
        );
        let s = Skill::Custom(skill());
        let back: Skill = serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    proptest! {
        #[test]
        fn validate_never_panics(name in any::<String>(), title in any::<String>(), description in any::<String>()) {
            let _ = CustomSkill { name: name.clone(), title, description, ..skill() }.validate();
            let _ = SkillRef::Anthropic { skill_id: name }.validate();
        }
    }
}
