//! The Files API (reference `models-webhooks-files.md` §C; SDK `types/beta/beta_file_metadata.py`,
//! `beta_file_scope.py`, `beta_deleted_file.py`, `file_list_params.py`, `file_upload_params.py`).
//!
//! Files are uploaded once and referenced by [`FileId`] in session `file` resources and content
//! blocks; files an agent writes to `/mnt/session/outputs/` appear as files scoped to the session
//! ([`FileScope::Session`]), listed with [`ListFiles::for_scope`]. `DELETE` answers with
//! [`Deleted`](super::common::Deleted) (`type: "file_deleted"`, which may be absent).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::common::{FileId, SessionId, Timestamp};
use super::macros::tagged_union;

fn file_type() -> String {
    "file".to_owned()
}

/// Metadata of an uploaded or agent-written file (`BetaFileMetadata`), from `POST /v1/files`,
/// `GET /v1/files` and `GET /v1/files/{file_id}`.
///
/// The fields SDK 2.10.0 requires are plain; its optional ones accept both an absent field and
/// `null`, and are omitted again when `None`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileMetadata {
    /// Always `"file"`.
    #[serde(rename = "type", default = "file_type")]
    pub kind: String,
    /// The file id (`file_…`).
    pub id: FileId,
    /// Original filename (only the final path component of the uploaded name is kept).
    pub filename: String,
    /// MIME type of the file.
    pub mime_type: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// When the file was created.
    pub created_at: Timestamp,
    /// Whether `GET /v1/files/{file_id}/content` may fetch it (user uploads typically are not
    /// downloadable; agent outputs are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downloadable: Option<bool>,
    /// When the bytes become unavailable; `None` when the file does not expire. For uploads with
    /// `expires_in_seconds`, the upload time plus that value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// The context the file was created in (e.g. a session's outputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<FileScope>,
}

impl FileMetadata {
    /// Whether the content may be downloaded (`downloadable == Some(true)`).
    pub fn is_downloadable(&self) -> bool {
        self.downloadable == Some(true)
    }

    /// The session the file is scoped to, if its scope is a session.
    pub fn session_id(&self) -> Option<&SessionId> {
        match &self.scope {
            Some(FileScope::Session(scope)) => Some(&scope.id),
            _ => None,
        }
    }
}

tagged_union! {
    /// The scope of a file (`BetaFileScope`): the context it was created in.
    pub enum FileScope {
        /// Created in a session (an output the agent wrote to `/mnt/session/outputs/`).
        "session" => Session(SessionScope),
    }
}

impl FileScope {
    /// The id of the scoping resource, whatever its type (for `Other`, its raw `id` string).
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Session(scope) => Some(scope.id.as_str()),
            Self::Other(raw) => raw.get("id").and_then(|id| id.as_str()),
        }
    }
}

/// Fields of a `session` [`FileScope`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionScope {
    /// The session id.
    pub id: SessionId,
}

/// Query parameters of `GET /v1/files` (`FileListParams`; the paginator adds `page`).
///
/// `ids` is mutually exclusive with `page` and `limit`: with `ids` the answer is a single page
/// and IDs that resolve to no visible file (including deleted ones) are silently omitted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListFiles {
    /// Page size (1–1000, default 20). Must be `None` when `ids` is set.
    pub limit: Option<u32>,
    /// Only these files (at most 100 after de-duplication), sent as repeated `ids[]`.
    pub ids: Vec<FileId>,
    /// Only files associated with this scope (e.g. a session id).
    pub scope_id: Option<String>,
}

impl ListFiles {
    /// The files scoped to `scope_id` (e.g. a session's outputs).
    pub fn for_scope(scope_id: impl Into<String>) -> Self {
        Self {
            scope_id: Some(scope_id.into()),
            ..Self::default()
        }
    }

    /// The outputs of one session: its files, scoped by `scope_id = session`.
    pub fn for_session(session: &SessionId) -> Self {
        Self::for_scope(session.as_str())
    }

    /// Exactly these files (a single page).
    pub fn by_ids<I, T>(ids: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<FileId>,
    {
        Self {
            ids: ids.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// The query string pairs, with the exact wire keys: `limit`, one `ids[]` per distinct id
    /// (first occurrence order), `scope_id`. Never `page`.
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        if let Some(limit) = self.limit {
            q.push(("limit".to_owned(), limit.to_string()));
        }
        let mut seen = std::collections::HashSet::new();
        for id in &self.ids {
            if seen.insert(id.as_str()) {
                q.push(("ids[]".to_owned(), id.as_str().to_owned()));
            }
        }
        if let Some(scope) = &self.scope_id {
            q.push(("scope_id".to_owned(), scope.clone()));
        }
        q
    }
}

/// Shortest `expires_in_seconds` of an upload (one hour).
pub const MIN_EXPIRES_IN_SECONDS: u32 = 3_600;
/// Longest `expires_in_seconds` of an upload (ninety days).
pub const MAX_EXPIRES_IN_SECONDS: u32 = 7_776_000;

/// The multipart form field of the uploaded file.
pub const FILE_FIELD: &str = "file";
/// The multipart form field of the optional expiry.
pub const EXPIRES_IN_SECONDS_FIELD: &str = "expires_in_seconds";

/// A file to upload with `POST /v1/files` (`FileUploadParams`), sent as `multipart/form-data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadFile {
    /// The part's filename. The server keeps only its final path component; an empty name
    /// becomes `unnamed` plus an extension for the stored MIME type.
    pub filename: String,
    /// The part's content type (becomes the file's `mime_type`).
    pub content_type: String,
    /// The file contents (cheap to clone; not copied when a request is built).
    pub bytes: Bytes,
    /// Seconds until the file expires and its bytes become permanently unavailable
    /// ([`MIN_EXPIRES_IN_SECONDS`]..=[`MAX_EXPIRES_IN_SECONDS`]; the server checks the range).
    pub expires_in_seconds: Option<u32>,
}

impl UploadFile {
    /// A file that does not expire.
    pub fn new(
        filename: impl Into<String>,
        content_type: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> Self {
        Self {
            filename: filename.into(),
            content_type: content_type.into(),
            bytes: bytes.into(),
            expires_in_seconds: None,
        }
    }

    /// Sets `expires_in_seconds`.
    pub fn expires_in_seconds(mut self, seconds: u32) -> Self {
        self.expires_in_seconds = Some(seconds);
        self
    }

    /// The filename as it goes into the part's `Content-Disposition`, encoded as the official
    /// SDK's HTTP library (and HTML5 forms) do: `"` becomes `%22` and control characters
    /// (`\r`, `\n`, …) become `%XX`, so a name can never break the multipart framing.
    pub fn wire_filename(&self) -> String {
        let mut out = String::with_capacity(self.filename.len());
        for c in self.filename.chars() {
            match c {
                '"' => out.push_str("%22"),
                c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                    out.push_str(&format!("%{:02X}", u32::from(c)));
                }
                c => out.push(c),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_filename_cannot_break_the_part_header() {
        let f = UploadFile::new("a \"b\"\r\n\tc\u{7f}é\\.txt", "text/plain", "x");
        assert_eq!(f.wire_filename(), "a %22b%22%0D%0A%09c%7Fé\\.txt");
    }

    #[test]
    fn ids_are_deduplicated_in_order() {
        let q = ListFiles::by_ids(["file_b", "file_a", "file_b"]).to_query();
        assert_eq!(
            q,
            vec![
                ("ids[]".to_owned(), "file_b".to_owned()),
                ("ids[]".to_owned(), "file_a".to_owned()),
            ]
        );
    }
}
