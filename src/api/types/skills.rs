//! Skills and skill versions (reference `skills.md`; SDK `types/beta/beta_skill.py`,
//! `types/beta/skills/*`), plus [`SkillFolder`], the validated file set of a skill upload.
//!
//! Two wire shapes exist (reference `skills.md` §0): the current one (no skills beta header:
//! `display_name`, `latest_version_id`, `source: {"type": …}`) and the legacy one (header
//! `skills-2025-10-02`: `display_title`, `latest_version`, `source: "custom"`). [`Skill`] and
//! [`SkillVersion`] decode both; every field is optional and only the fields present are written
//! back.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::common::{SkillId, Timestamp};
use super::macros::open_enum;

open_enum! {
    /// Where a skill comes from (`BetaSkillSource.type`; the legacy shape's `source` string).
    pub enum SkillSourceKind {
        /// Authored by the platform user; private to their workspace.
        "custom" => Custom,
        /// Published by Anthropic; shared and read-only.
        "anthropic" => Anthropic,
        /// Anthropic-published sample skill.
        "anthropic_example" => AnthropicExample,
        /// Resolved from an installed plugin.
        "plugin" => Plugin,
    }
}

/// `source` of a [`Skill`]: the current object form, the legacy plain string, or anything else
/// (kept as raw JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SkillSource {
    /// Current shape: `{"type": "custom"}`.
    Object(SkillSourceObject),
    /// Legacy shape (`skills-2025-10-02`): `"custom"`.
    Legacy(SkillSourceKind),
    /// A form this crate does not model, kept as raw JSON.
    Other(serde_json::Value),
}

impl SkillSource {
    /// The source kind, whichever form carried it.
    pub fn kind(&self) -> Option<&SkillSourceKind> {
        match self {
            Self::Object(o) => Some(&o.kind),
            Self::Legacy(k) => Some(k),
            Self::Other(_) => None,
        }
    }
}

/// The current `source` object (`BetaSkillSource`). Unknown keys are kept in `extra`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkillSourceObject {
    /// The source kind.
    #[serde(rename = "type")]
    pub kind: SkillSourceKind,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A skill (`BetaSkill`, current shape; the legacy shape decodes too). All fields are optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Skill {
    /// Always `"skill"`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `skill_…` for custom skills, or an Anthropic skill's short name (`xlsx`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<SkillId>,
    /// Current shape: human-readable single-line label (≤ 255 chars, not unique).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Legacy shape: the display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_title: Option<String>,
    /// Current shape: id of the newest version (what `latest` resolves to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_version_id: Option<String>,
    /// Legacy shape: the newest version as a Unix-epoch-microseconds string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_version: Option<String>,
    /// Where the skill comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SkillSource>,
    /// When the skill was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// When the skill was last updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
}

impl Skill {
    /// The label: `display_name`, or the legacy `display_title`.
    pub fn name(&self) -> Option<&str> {
        self.display_name
            .as_deref()
            .or(self.display_title.as_deref())
    }

    /// The newest version identifier: `latest_version_id`, or the legacy `latest_version`.
    pub fn latest_version(&self) -> Option<&str> {
        self.latest_version_id
            .as_deref()
            .or(self.latest_version.as_deref())
    }

    /// The source kind, from either wire form.
    pub fn source_kind(&self) -> Option<&SkillSourceKind> {
        self.source.as_ref().and_then(SkillSource::kind)
    }
}

/// A skill version (`BetaSkillVersion`; legacy `version`/`directory` decode too). All fields are
/// optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SkillVersion {
    /// Always `"skill_version"`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The version id: addresses the version in paths and pins it in references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The skill this version belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_id: Option<SkillId>,
    /// The skill's immutable kebab-case slug (from the first upload's frontmatter `name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description extracted from this version's SKILL.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When the version was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Legacy shape: the version as a Unix-epoch-microseconds string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Legacy shape: the top-level directory name extracted from the upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<String>,
}

impl SkillVersion {
    /// The identifier to put in paths: `id`, or the legacy epoch `version`.
    pub fn version_ref(&self) -> Option<&str> {
        self.id.as_deref().or(self.version.as_deref())
    }
}

/// Query parameters of `GET /v1/skills` (the paginator adds `page`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListSkills {
    /// Page size (1–1000, default 20).
    pub limit: Option<u32>,
    /// Only skills from this source (`custom` or `anthropic`).
    pub source: Option<SkillSourceKind>,
}

impl ListSkills {
    /// The query string pairs, with the exact wire keys.
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        if let Some(limit) = self.limit {
            q.push(("limit".to_owned(), limit.to_string()));
        }
        if let Some(source) = &self.source {
            q.push(("source".to_owned(), source.as_str().to_owned()));
        }
        q
    }
}

/// Query parameters of `GET /v1/skills/{skill_id}/versions` (the paginator adds `page`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListSkillVersions {
    /// Page size (1–1000, default 20).
    pub limit: Option<u32>,
}

impl ListSkillVersions {
    /// The query string pairs, with the exact wire keys.
    pub fn to_query(&self) -> Vec<(String, String)> {
        self.limit
            .map(|limit| vec![("limit".to_owned(), limit.to_string())])
            .unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// Upload file set
// ---------------------------------------------------------------------------------------------

/// The SKILL.md file name (case-sensitive), required at the root of the top-level directory.
pub const SKILL_MD: &str = "SKILL.md";

/// The multipart form field name of every uploaded file.
pub const SKILL_FILES_FIELD: &str = "files[]";

/// Why a [`SkillFolder`] or a SKILL.md frontmatter is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SkillFolderError {
    /// The top-level directory name is empty, `.`/`..`, or contains a separator.
    #[error("invalid top-level directory name {0:?}")]
    InvalidDirName(String),
    /// A file path is empty, absolute, contains `..`/`.`/empty segments or a backslash.
    #[error("invalid file path {path:?}: {reason}")]
    InvalidPath {
        /// The offending path.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Files under more than one top-level directory.
    #[error("files under more than one top-level directory: {first:?} and {second:?}")]
    MultipleTopLevelDirs {
        /// The first directory seen.
        first: String,
        /// Another directory.
        second: String,
    },
    /// The same path was added twice.
    #[error("duplicate file path {0:?}")]
    DuplicatePath(String),
    /// No `SKILL.md` at the root of the top-level directory.
    #[error("no SKILL.md at the root of {0:?}")]
    MissingSkillMd(String),
    /// SKILL.md does not start with a `---` frontmatter block closed by another `---` line.
    #[error("SKILL.md has no YAML frontmatter block delimited by `---` lines")]
    MissingFrontmatter,
    /// A required frontmatter field is absent or empty.
    #[error("SKILL.md frontmatter has no `{0}`")]
    MissingField(&'static str),
    /// The frontmatter `name` breaks a rule.
    #[error("invalid skill name {name:?}: {reason}")]
    InvalidName {
        /// The name as written.
        name: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// The frontmatter `description` breaks a rule.
    #[error("invalid skill description: {0}")]
    InvalidDescription(&'static str),
}

/// One file of a skill upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkillFile {
    /// MIME type of the multipart part (`text/markdown`, `text/x-python`, …).
    pub content_type: String,
    /// File contents.
    pub bytes: Bytes,
}

/// One multipart part of a skill upload: add it to the form as
/// `Part::bytes(bytes).file_name(filename).mime_str(content_type)` under `field_name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkillUploadPart<'a> {
    /// Always [`SKILL_FILES_FIELD`] (`files[]`).
    pub field_name: &'static str,
    /// `dir/relative/path`.
    pub filename: String,
    /// MIME type of the part.
    pub content_type: &'a str,
    /// File contents (cheap to clone).
    pub bytes: &'a Bytes,
}

/// The files of a skill upload (`POST /v1/skills`, `POST /v1/skills/{id}/versions`): one
/// top-level directory and files keyed by their path relative to it.
///
/// Constructors validate each path and the directory name; [`SkillFolder::validate`] (also run
/// by [`SkillFolder::parts`]) checks that `SKILL.md` is present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkillFolder {
    dir: String,
    files: BTreeMap<String, SkillFile>,
}

impl SkillFolder {
    /// An empty folder named `dir` (a single path segment).
    pub fn new(dir: impl Into<String>) -> Result<Self, SkillFolderError> {
        let dir = dir.into();
        if dir.is_empty()
            || dir == "."
            || dir == ".."
            || dir.contains('/')
            || dir.contains('\\')
            || dir.contains(':')
        {
            return Err(SkillFolderError::InvalidDirName(dir));
        }
        Ok(Self {
            dir,
            files: BTreeMap::new(),
        })
    }

    /// Adds a file at `path` relative to the top-level directory (`SKILL.md`,
    /// `scripts/extract.py`).
    pub fn with_file(
        mut self,
        path: impl Into<String>,
        content_type: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> Result<Self, SkillFolderError> {
        self.add_file(path, content_type, bytes)?;
        Ok(self)
    }

    /// Adds a file at `path` relative to the top-level directory.
    pub fn add_file(
        &mut self,
        path: impl Into<String>,
        content_type: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> Result<(), SkillFolderError> {
        let path = path.into();
        check_relative_path(&path)?;
        if self.files.contains_key(&path) {
            return Err(SkillFolderError::DuplicatePath(path));
        }
        self.files.insert(
            path,
            SkillFile {
                content_type: content_type.into(),
                bytes: bytes.into(),
            },
        );
        Ok(())
    }

    /// Builds a folder from `(full path, content type, bytes)` triples whose paths all start
    /// with the same top-level directory (`my-skill/SKILL.md`, `my-skill/scripts/x.py`), then
    /// validates it.
    pub fn from_files<I, P, C, B>(files: I) -> Result<Self, SkillFolderError>
    where
        I: IntoIterator<Item = (P, C, B)>,
        P: Into<String>,
        C: Into<String>,
        B: Into<Bytes>,
    {
        let mut folder: Option<Self> = None;
        for (path, content_type, bytes) in files {
            let path = path.into();
            check_relative_path(&path)?;
            let Some((dir, rest)) = path.split_once('/') else {
                return Err(SkillFolderError::InvalidPath {
                    path,
                    reason: "not inside a top-level directory",
                });
            };
            let mut current = match folder.take() {
                Some(f) => f,
                None => Self::new(dir)?,
            };
            if current.dir != dir {
                return Err(SkillFolderError::MultipleTopLevelDirs {
                    first: current.dir,
                    second: dir.to_owned(),
                });
            }
            current.add_file(rest, content_type, bytes)?;
            folder = Some(current);
        }
        let folder = folder.ok_or_else(|| SkillFolderError::MissingSkillMd(String::new()))?;
        folder.validate()?;
        Ok(folder)
    }

    /// A folder holding only `SKILL.md`, named after its frontmatter `name`, after checking the
    /// frontmatter rules ([`SkillFrontmatter::parse`]).
    pub fn from_skill_md(skill_md: impl Into<String>) -> Result<Self, SkillFolderError> {
        let text = skill_md.into();
        let frontmatter = SkillFrontmatter::parse(&text)?;
        Self::new(frontmatter.name)?.with_file(SKILL_MD, "text/markdown", text)
    }

    /// The top-level directory name.
    pub fn dir(&self) -> &str {
        &self.dir
    }

    /// The files, keyed by path relative to the top-level directory.
    pub fn files(&self) -> &BTreeMap<String, SkillFile> {
        &self.files
    }

    /// Checks that `SKILL.md` is at the root of the top-level directory.
    pub fn validate(&self) -> Result<(), SkillFolderError> {
        if self.files.contains_key(SKILL_MD) {
            Ok(())
        } else {
            Err(SkillFolderError::MissingSkillMd(self.dir.clone()))
        }
    }

    /// The multipart parts, `SKILL.md` first, after [`SkillFolder::validate`].
    pub fn parts(
        &self,
    ) -> Result<impl Iterator<Item = SkillUploadPart<'_>> + '_, SkillFolderError> {
        self.validate()?;
        let skill_md = self.files.iter().filter(|(p, _)| p.as_str() == SKILL_MD);
        let others = self.files.iter().filter(|(p, _)| p.as_str() != SKILL_MD);
        Ok(skill_md
            .chain(others)
            .map(move |(path, file)| SkillUploadPart {
                field_name: SKILL_FILES_FIELD,
                filename: format!("{}/{}", self.dir, path),
                content_type: &file.content_type,
                bytes: &file.bytes,
            }))
    }
}

/// A sensible multipart content type for a file, from its extension.
pub fn guess_content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "md" | "markdown" => "text/markdown",
        "py" => "text/x-python",
        "sh" => "text/x-shellscript",
        "js" | "mjs" => "text/javascript",
        "ts" => "text/x-typescript",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "yaml" | "yml" => "application/yaml",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "svg" => "image/svg+xml",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

fn check_relative_path(path: &str) -> Result<(), SkillFolderError> {
    let bad = |reason| {
        Err(SkillFolderError::InvalidPath {
            path: path.to_owned(),
            reason,
        })
    };
    if path.is_empty() {
        return bad("empty");
    }
    if path.starts_with('/') {
        return bad("absolute");
    }
    if path.contains('\\') {
        return bad("contains a backslash");
    }
    if path.as_bytes().get(1) == Some(&b':') {
        return bad("absolute (drive letter)");
    }
    for segment in path.split('/') {
        match segment {
            "" => return bad("empty segment"),
            "." => return bad("`.` segment"),
            ".." => return bad("`..` segment"),
            _ => {}
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// SKILL.md frontmatter
// ---------------------------------------------------------------------------------------------

/// Maximum length of the frontmatter `name`, in characters.
pub const SKILL_NAME_MAX_CHARS: usize = 64;
/// Maximum length of the frontmatter `description`, in characters.
pub const SKILL_DESCRIPTION_MAX_CHARS: usize = 1024;
/// Words the frontmatter `name` must not contain.
pub const SKILL_NAME_RESERVED_WORDS: &[&str] = &["anthropic", "claude"];

/// The required SKILL.md frontmatter fields (reference `skills.md` §2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkillFrontmatter {
    /// The skill slug: ≤ 64 chars of lowercase letters, digits and hyphens, without the reserved
    /// words `anthropic` / `claude`.
    pub name: String,
    /// What the skill does and when to use it: non-empty, ≤ 1024 chars, no XML tags.
    pub description: String,
}

impl SkillFrontmatter {
    /// Reads `name` and `description` from the `---` frontmatter block of a SKILL.md and checks
    /// their rules. Understands the simple YAML used in practice: `key: value` lines, quoted
    /// values, indented continuation lines and `|` / `>` block scalars.
    pub fn parse(skill_md: &str) -> Result<Self, SkillFolderError> {
        let fields = frontmatter_fields(skill_md)?;
        let name = fields
            .get("name")
            .filter(|v| !v.trim().is_empty())
            .ok_or(SkillFolderError::MissingField("name"))?;
        let description = fields
            .get("description")
            .filter(|v| !v.trim().is_empty())
            .ok_or(SkillFolderError::MissingField("description"))?;
        let fm = Self {
            name: name.trim().to_owned(),
            description: description.trim().to_owned(),
        };
        validate_skill_name(&fm.name)?;
        validate_skill_description(&fm.description)?;
        Ok(fm)
    }
}

/// Checks the frontmatter `name` rules.
pub fn validate_skill_name(name: &str) -> Result<(), SkillFolderError> {
    let bad = |reason| {
        Err(SkillFolderError::InvalidName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("empty");
    }
    if name.chars().count() > SKILL_NAME_MAX_CHARS {
        return bad("longer than 64 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return bad("only lowercase letters, digits and hyphens are allowed");
    }
    if SKILL_NAME_RESERVED_WORDS.iter().any(|w| name.contains(w)) {
        return bad("contains a reserved word (`anthropic` or `claude`)");
    }
    Ok(())
}

/// Checks the frontmatter `description` rules.
pub fn validate_skill_description(description: &str) -> Result<(), SkillFolderError> {
    if description.trim().is_empty() {
        return Err(SkillFolderError::InvalidDescription("empty"));
    }
    if description.chars().count() > SKILL_DESCRIPTION_MAX_CHARS {
        return Err(SkillFolderError::InvalidDescription(
            "longer than 1024 characters",
        ));
    }
    if contains_xml_tag(description) {
        return Err(SkillFolderError::InvalidDescription("contains an XML tag"));
    }
    Ok(())
}

/// `<tag …>`, `</tag>`, `<!…>` or `<?…>`: a `<` directly followed by a letter, `/`, `!` or `?`
/// and later closed by `>`.
fn contains_xml_tag(text: &str) -> bool {
    text.match_indices('<').any(|(i, _)| {
        let rest = &text[i + 1..];
        rest.starts_with(|c: char| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'))
            && rest.contains('>')
    })
}

/// Top-level `key: value` pairs of the frontmatter block.
fn frontmatter_fields(skill_md: &str) -> Result<BTreeMap<String, String>, SkillFolderError> {
    let text = skill_md.strip_prefix('\u{feff}').unwrap_or(skill_md);
    let mut lines = text.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return Err(SkillFolderError::MissingFrontmatter);
    }
    let mut block = Vec::new();
    let mut closed = false;
    for line in lines {
        if line.trim_end() == "---" {
            closed = true;
            break;
        }
        block.push(line);
    }
    if !closed {
        return Err(SkillFolderError::MissingFrontmatter);
    }

    let mut fields = BTreeMap::new();
    let mut i = 0;
    while i < block.len() {
        let line = block[i];
        i += 1;
        if line.starts_with([' ', '\t']) || line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        // Indented continuation lines belong to this key.
        let mut continuation = Vec::new();
        while i < block.len() && (block[i].starts_with([' ', '\t']) || block[i].trim().is_empty()) {
            continuation.push(block[i].trim());
            i += 1;
        }
        while continuation.last().is_some_and(|l| l.is_empty()) {
            continuation.pop();
        }
        let value = if value.starts_with('|') {
            continuation.join("\n")
        } else if value.starts_with('>') {
            fold(&continuation)
        } else {
            let mut parts = vec![value];
            parts.extend(continuation.iter().copied());
            unquote(&fold(&parts))
        };
        fields.insert(key.trim().to_owned(), value);
    }
    Ok(fields)
}

/// YAML folding: lines joined by spaces, blank lines become newlines.
fn fold(lines: &[&str]) -> String {
    let mut out = String::new();
    let mut pending_space = false;
    for line in lines {
        if line.is_empty() {
            out.push('\n');
            pending_space = false;
        } else {
            if pending_space {
                out.push(' ');
            }
            out.push_str(line);
            pending_space = true;
        }
    }
    out
}

fn unquote(value: &str) -> String {
    let v = value.trim();
    if v.len() >= 2 {
        if let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            return inner.replace("\\\"", "\"").replace("\\\\", "\\");
        }
        if let Some(inner) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            return inner.replace("''", "'");
        }
    }
    v.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontmatter_block_scalars_and_quotes() {
        let md = "---\nname: \"pdf-tools\"\ndescription: >\n  Reads PDFs.\n  Use for invoices.\nlicense: MIT\n---\n# body\n";
        let fm = SkillFrontmatter::parse(md).unwrap();
        assert_eq!(fm.name, "pdf-tools");
        assert_eq!(fm.description, "Reads PDFs. Use for invoices.");

        let md = "---\nname: x\ndescription: |\n  line one\n  line two\n---\n";
        assert_eq!(
            SkillFrontmatter::parse(md).unwrap().description,
            "line one\nline two"
        );

        let md = "---\nname: 'it''s'\ndescription: d\n---\n";
        assert!(matches!(
            SkillFrontmatter::parse(md),
            Err(SkillFolderError::InvalidName { .. })
        ));
    }

    #[test]
    fn xml_tag_detection() {
        assert!(contains_xml_tag("use <b>bold</b>"));
        assert!(contains_xml_tag("</end>"));
        assert!(!contains_xml_tag("a < b and c > d"));
        assert!(!contains_xml_tag("x <3"));
    }
}
