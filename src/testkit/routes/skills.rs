//! `/v1/skills` in the current wire shape (no skills beta header): multipart uploads validated
//! like the API does (one top-level directory, `SKILL.md` with `name` / `description`
//! frontmatter, 409 `skill_name_taken`), versions addressed by id or `latest`, the stored files
//! served back as a zip, and Anthropic's four built-in skills under `source=anthropic`
//! (reference skills.md).

use axum::Router;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::AppState;
use super::files::{MAX_UPLOAD_BYTES, multipart_error};
use crate::api::types::skills::{SKILL_MD, SkillFolder, SkillFrontmatter};
use crate::testkit::http::{ApiErr, ApiResult, QueryExt, cursor_page, ok, query_pairs};
use crate::testkit::state::{State as Objects, lock, now};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/skills", post(create).get(list))
        .route("/v1/skills/{id}", get(retrieve).delete(delete))
        .route(
            "/v1/skills/{id}/versions",
            post(create_version).get(list_versions),
        )
        .route(
            "/v1/skills/{id}/versions/{version}",
            get(retrieve_version).delete(delete_version),
        )
        .route("/v1/skills/{id}/versions/{version}/content", get(content))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
}

// ---------------------------------------------------------------------------------------------
// Anthropic's built-in skills
// ---------------------------------------------------------------------------------------------

/// `(id, display_name, description)` of the built-in skills.
const BUILTINS: [(&str, &str, &str); 4] = [
    (
        "xlsx",
        "Excel",
        "Create, edit and analyze Excel spreadsheets with formulas, formatting and charts.",
    ),
    (
        "docx",
        "Word",
        "Create and edit Word documents with tracked changes, comments and formatting.",
    ),
    (
        "pptx",
        "PowerPoint",
        "Create and edit PowerPoint presentations with layouts, speaker notes and charts.",
    ),
    (
        "pdf",
        "PDF",
        "Extract text and tables from PDFs, fill forms, and merge or split documents.",
    ),
];

/// The single (date-based) version of every built-in skill.
const BUILTIN_VERSION: &str = "20251013";
const BUILTIN_CREATED_AT: &str = "2025-10-13T00:00:00Z";

fn builtin(id: &str) -> Option<(&'static str, &'static str, &'static str)> {
    BUILTINS.iter().copied().find(|(b, _, _)| *b == id)
}

fn builtin_skill((id, display_name, _): (&str, &str, &str)) -> Value {
    json!({
        "type": "skill",
        "id": id,
        "display_name": display_name,
        "latest_version_id": BUILTIN_VERSION,
        "source": {"type": "anthropic"},
        "created_at": BUILTIN_CREATED_AT,
        "updated_at": BUILTIN_CREATED_AT,
    })
}

fn builtin_version((id, _, description): (&str, &str, &str)) -> Value {
    json!({
        "type": "skill_version",
        "id": BUILTIN_VERSION,
        "skill_id": id,
        "name": id,
        "description": description,
        "created_at": BUILTIN_CREATED_AT,
    })
}

fn builtin_files((id, _, description): (&str, &str, &str)) -> Vec<(String, Bytes)> {
    let skill_md = format!("---\nname: {id}\ndescription: {description}\n---\n# {id}\n");
    vec![(format!("{id}/{SKILL_MD}"), Bytes::from(skill_md))]
}

// ---------------------------------------------------------------------------------------------
// Uploads
// ---------------------------------------------------------------------------------------------

struct Upload {
    display_name: Option<String>,
    /// `dir/path` → bytes, in upload order.
    files: Vec<(String, Bytes)>,
}

async fn read_upload(multipart: Result<Multipart, MultipartRejection>) -> ApiResult<Upload> {
    let mut multipart = multipart.map_err(multipart_error)?;
    let mut upload = Upload {
        display_name: None,
        files: Vec::new(),
    };
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("files[]" | "files") => {
                let name = field
                    .file_name()
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| ApiErr::bad_request("files: every part needs a filename"))?
                    .to_owned();
                let bytes = field.bytes().await.map_err(multipart_error)?;
                upload.files.push((name, bytes));
            }
            Some("display_name") => {
                upload.display_name = Some(field.text().await.map_err(multipart_error)?);
            }
            _ => {}
        }
    }
    Ok(upload)
}

/// Validates an upload's file set (one top-level directory holding `SKILL.md`) and returns
/// its frontmatter.
fn check_files(files: &[(String, Bytes)]) -> ApiResult<SkillFrontmatter> {
    if files.is_empty() {
        return Err(ApiErr::bad_request("files: at least one file is required"));
    }
    let folder = SkillFolder::from_files(
        files
            .iter()
            .map(|(path, bytes)| (path.clone(), "application/octet-stream", bytes.clone())),
    )
    .map_err(|e| ApiErr::bad_request(format!("files: {e}")))?;
    let skill_md = folder
        .files()
        .get(SKILL_MD)
        .ok_or_else(|| ApiErr::bad_request("files: no SKILL.md"))?;
    let text = std::str::from_utf8(&skill_md.bytes)
        .map_err(|_| ApiErr::bad_request("SKILL.md: must be UTF-8 text"))?;
    SkillFrontmatter::parse(text).map_err(|e| ApiErr::bad_request(format!("SKILL.md: {e}")))
}

/// The slug of a custom skill (its first version's `name`).
fn skill_name(state: &Objects, skill_id: &str) -> Option<String> {
    state
        .skill_versions
        .get(skill_id)
        .and_then(|v| v.first())
        .and_then(|v| v["name"].as_str())
        .map(str::to_owned)
}

/// Stores a new version of `skill_id` and points the skill's `latest_version_id` at it.
fn add_version(
    shared: &AppState,
    state: &mut Objects,
    skill_id: &str,
    frontmatter: &SkillFrontmatter,
    files: Vec<(String, Bytes)>,
) -> Value {
    let id = shared.new_id("skillver");
    let at = now();
    let version = json!({
        "type": "skill_version",
        "id": id,
        "skill_id": skill_id,
        "name": frontmatter.name,
        "description": frontmatter.description,
        "created_at": at,
    });
    state
        .skill_versions
        .entry(skill_id.to_owned())
        .or_default()
        .push(version.clone());
    state.skill_files.insert(id.clone(), files);
    if let Some(skill) = state.skills.get_mut(skill_id) {
        skill["latest_version_id"] = json!(id);
        skill["updated_at"] = json!(at);
    }
    version
}

fn skill_not_found(id: &str) -> ApiErr {
    ApiErr::not_found("skill", id)
}

fn read_only(id: &str) -> ApiErr {
    ApiErr::bad_request(format!("skill {id} is an Anthropic skill and is read-only"))
}

// ---------------------------------------------------------------------------------------------
// Skills
// ---------------------------------------------------------------------------------------------

async fn create(
    State(shared): State<AppState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult {
    let upload = read_upload(multipart).await?;
    let frontmatter = check_files(&upload.files)?;
    let display_name = match upload.display_name {
        None => frontmatter.name.clone(),
        Some(name) => {
            if name.is_empty() || name.chars().count() > 255 || name.contains(['\n', '\r']) {
                return Err(ApiErr::bad_request(
                    "display_name: must be a single line of 1 to 255 characters",
                ));
            }
            name
        }
    };
    let mut state = lock(&shared.state);
    let taken = state
        .skills
        .keys()
        .any(|id| skill_name(&state, id).as_deref() == Some(frontmatter.name.as_str()));
    if taken {
        return Err(ApiErr::conflict(format!(
            "a skill named '{}' already exists",
            frontmatter.name
        ))
        .code("skill_name_taken"));
    }
    let id = shared.new_id("skill");
    let at = now();
    state.skills.insert(
        id.clone(),
        json!({
            "type": "skill",
            "id": id,
            "display_name": display_name,
            "latest_version_id": null,
            "source": {"type": "custom"},
            "created_at": at,
            "updated_at": at,
        }),
    );
    add_version(&shared, &mut state, &id, &frontmatter, upload.files);
    let skill = state.skills.get_mut(&id).map(|s| {
        // The first version does not count as an update.
        s["updated_at"] = s["created_at"].clone();
        s.clone()
    });
    ok(skill.unwrap_or_default())
}

async fn list(State(shared): State<AppState>, RawQuery(query): RawQuery) -> ApiResult {
    let query = query_pairs(query.as_deref());
    let (anthropic, custom) = match query.param("source") {
        None => (true, true),
        Some("anthropic") => (true, false),
        Some("custom") => (false, true),
        Some(other) => {
            return Err(ApiErr::bad_request(format!(
                "source: must be 'custom' or 'anthropic', not '{other}'"
            )));
        }
    };
    let mut items: Vec<Value> = Vec::new();
    if anthropic {
        items.extend(BUILTINS.iter().copied().map(builtin_skill));
    }
    if custom {
        items.extend(lock(&shared.state).skills.values().cloned());
    }
    ok(cursor_page(items, &query, 1000, false)?)
}

async fn retrieve(State(shared): State<AppState>, Path(id): Path<String>) -> ApiResult {
    if let Some(b) = builtin(&id) {
        return ok(builtin_skill(b));
    }
    let state = lock(&shared.state);
    ok(state
        .skills
        .get(&id)
        .cloned()
        .ok_or_else(|| skill_not_found(&id))?)
}

/// Deletes the skill with every version (whether the real API first requires deleting the
/// versions is UNCONFIRMED; the fake does not).
async fn delete(State(shared): State<AppState>, Path(id): Path<String>) -> ApiResult {
    if builtin(&id).is_some() {
        return Err(read_only(&id));
    }
    let mut state = lock(&shared.state);
    state
        .skills
        .remove(&id)
        .ok_or_else(|| skill_not_found(&id))?;
    for version in state.skill_versions.remove(&id).unwrap_or_default() {
        if let Some(vid) = version["id"].as_str() {
            state.skill_files.remove(vid);
        }
    }
    ok(json!({"id": id, "type": "skill_deleted"}))
}

// ---------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------

async fn create_version(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult {
    if builtin(&id).is_some() {
        return Err(read_only(&id));
    }
    let upload = read_upload(multipart).await?;
    let frontmatter = check_files(&upload.files)?;
    let mut state = lock(&shared.state);
    if !state.skills.contains_key(&id) {
        return Err(skill_not_found(&id));
    }
    let name = skill_name(&state, &id).unwrap_or_default();
    if frontmatter.name != name {
        return Err(ApiErr::bad_request(format!(
            "SKILL.md: name '{}' differs from the skill's name '{name}'",
            frontmatter.name
        )));
    }
    ok(add_version(
        &shared,
        &mut state,
        &id,
        &frontmatter,
        upload.files,
    ))
}

/// The versions of a skill, oldest first (404 for an unknown skill).
fn versions_of(state: &Objects, id: &str) -> ApiResult<Vec<Value>> {
    if let Some(b) = builtin(id) {
        return Ok(vec![builtin_version(b)]);
    }
    if !state.skills.contains_key(id) {
        return Err(skill_not_found(id));
    }
    Ok(state.skill_versions.get(id).cloned().unwrap_or_default())
}

/// One version by id or `latest`.
fn find_version(state: &Objects, id: &str, version: &str) -> ApiResult<Value> {
    let versions = versions_of(state, id)?;
    let found = if version == "latest" {
        versions.last()
    } else {
        versions.iter().find(|v| v["id"] == version)
    };
    found
        .cloned()
        .ok_or_else(|| ApiErr::not_found("skill version", version))
}

async fn list_versions(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let query = query_pairs(query.as_deref());
    let mut items = versions_of(&lock(&shared.state), &id)?;
    items.reverse();
    ok(cursor_page(items, &query, 1000, false)?)
}

async fn retrieve_version(
    State(shared): State<AppState>,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult {
    ok(find_version(&lock(&shared.state), &id, &version)?)
}

/// Deletes one version (by id; a skill keeps at least one version, so the last one cannot be
/// deleted — delete the skill instead).
async fn delete_version(
    State(shared): State<AppState>,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult {
    if builtin(&id).is_some() {
        return Err(read_only(&id));
    }
    if version == "latest" {
        return Err(ApiErr::bad_request(
            "version: address the version to delete by its id",
        ));
    }
    let mut state = lock(&shared.state);
    let versions = versions_of(&state, &id)?;
    if !versions.iter().any(|v| v["id"] == version.as_str()) {
        return Err(ApiErr::not_found("skill version", &version));
    }
    if versions.len() == 1 {
        return Err(ApiErr::bad_request(
            "a skill holds at least one version: delete the skill instead",
        ));
    }
    let remaining: Vec<Value> = versions
        .into_iter()
        .filter(|v| v["id"] != version.as_str())
        .collect();
    let latest = remaining.last().map(|v| v["id"].clone());
    state.skill_versions.insert(id.clone(), remaining);
    state.skill_files.remove(&version);
    if let (Some(skill), Some(latest)) = (state.skills.get_mut(&id), latest) {
        skill["latest_version_id"] = latest;
        skill["updated_at"] = json!(now());
    }
    ok(json!({"id": version, "type": "skill_version_deleted"}))
}

/// The version's files as a zip archive (`<name>.zip`, entries `<dir>/<path>` as uploaded),
/// written uncompressed ("stored") so no compression library is needed.
async fn content(
    State(shared): State<AppState>,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult {
    let state = lock(&shared.state);
    let found = find_version(&state, &id, &version)?;
    let files = match builtin(&id) {
        Some(b) => builtin_files(b),
        None => found["id"]
            .as_str()
            .and_then(|vid| state.skill_files.get(vid))
            .cloned()
            .unwrap_or_default(),
    };
    let name = found["name"].as_str().unwrap_or("skill").to_owned();
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.zip\""),
            ),
        ],
        stored_zip(&files),
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// A minimal zip writer (stored entries, no compression)
// ---------------------------------------------------------------------------------------------

/// CRC-32 (IEEE 802.3, reflected polynomial `0xEDB88320`), as zip entries carry it.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn u16_of(n: usize) -> [u8; 2] {
    u16::try_from(n).unwrap_or(u16::MAX).to_le_bytes()
}

fn u32_of(n: usize) -> [u8; 4] {
    u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes()
}

/// A zip archive of `files` (`path`, bytes) with every entry stored uncompressed, UTF-8 names,
/// and the DOS epoch (1980-01-01 00:00) as modification time.
pub(crate) fn stored_zip(files: &[(String, Bytes)]) -> Vec<u8> {
    const VERSION: [u8; 2] = [20, 0];
    const UTF8_FLAG: [u8; 2] = [0x00, 0x08];
    const STORED: [u8; 2] = [0, 0];
    const DOS_TIME: [u8; 2] = [0, 0];
    const DOS_DATE: [u8; 2] = [0x21, 0x00];
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let offset = out.len();
        let crc = crc32(data).to_le_bytes();
        let mut common = Vec::new();
        common.extend_from_slice(&VERSION);
        common.extend_from_slice(&UTF8_FLAG);
        common.extend_from_slice(&STORED);
        common.extend_from_slice(&DOS_TIME);
        common.extend_from_slice(&DOS_DATE);
        common.extend_from_slice(&crc);
        common.extend_from_slice(&u32_of(data.len()));
        common.extend_from_slice(&u32_of(data.len()));
        common.extend_from_slice(&u16_of(name.len()));
        common.extend_from_slice(&[0, 0]); // extra field length

        out.extend_from_slice(&0x0403_4b50_u32.to_le_bytes());
        out.extend_from_slice(&common);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);

        central.extend_from_slice(&0x0201_4b50_u32.to_le_bytes());
        central.extend_from_slice(&VERSION); // version made by
        central.extend_from_slice(&common);
        central.extend_from_slice(&[0, 0]); // comment length
        central.extend_from_slice(&[0, 0]); // disk number
        central.extend_from_slice(&[0, 0]); // internal attributes
        central.extend_from_slice(&[0, 0, 0, 0]); // external attributes
        central.extend_from_slice(&u32_of(offset));
        central.extend_from_slice(name.as_bytes());
    }
    let central_offset = out.len();
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50_u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]); // this disk, disk with the central directory
    out.extend_from_slice(&u16_of(files.len()));
    out.extend_from_slice(&u16_of(files.len()));
    out.extend_from_slice(&u32_of(central.len()));
    out.extend_from_slice(&u32_of(central_offset));
    out.extend_from_slice(&[0, 0]); // comment length
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn stored_zip_layout() {
        let zip = stored_zip(&[("d/SKILL.md".into(), Bytes::from_static(b"hi"))]);
        assert_eq!(&zip[..4], b"PK\x03\x04");
        // Local header (30) + name (10) + data (2), central entry (46 + 10), end record (22).
        assert_eq!(zip.len(), 30 + 10 + 2 + 46 + 10 + 22);
        assert_eq!(&zip[zip.len() - 22..zip.len() - 18], b"PK\x05\x06");
    }
}
