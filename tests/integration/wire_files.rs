//! Wire fixtures for the files family (reference models-webhooks-files.md §C).

use claude_agents::api::types::files::*;
use claude_agents::api::types::{Deleted, FileId, SessionId};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    crate::endpoint_support::fixture("files", name)
}

#[test]
fn wire_files_fixtures_round_trip() {
    crate::fixtures::check_family("files", |path, rust_type, value| match rust_type {
        "FileMetadata" => {
            let f = crate::fixtures::round_trip::<FileMetadata>(path, value);
            assert_eq!(f.kind, "file", "{}", path.display());
            assert!(
                !f.scope.as_ref().is_some_and(FileScope::is_other),
                "{}",
                path.display()
            );
            true
        }
        "FileScope" => {
            let s = crate::fixtures::round_trip::<FileScope>(path, value);
            assert!(!s.is_other(), "{}", path.display());
            true
        }
        "Deleted" => {
            let d = crate::fixtures::round_trip::<Deleted>(path, value);
            assert!(d.kind.is_empty() || d.kind == "file_deleted");
            true
        }
        _ => false,
    });
}

#[test]
fn wire_files_session_output() {
    let f: FileMetadata = serde_json::from_value(fixture("file_session_output")).unwrap();
    assert_eq!(f.id, FileId::from("file_011CNha8iCJcU1wXNR6q4V8w"));
    assert_eq!(f.filename, "report.xlsx");
    assert_eq!(f.size_bytes, 48_213);
    assert!(f.is_downloadable());
    assert_eq!(f.expires_at, None);
    assert_eq!(
        f.session_id(),
        Some(&SessionId::from("sesn_011CZkZAtmR3yMPDzynEDxu7"))
    );
    assert_eq!(
        f.scope.as_ref().and_then(FileScope::id),
        Some("sesn_011CZkZAtmR3yMPDzynEDxu7")
    );
    assert_eq!(f.scope.as_ref().unwrap().type_name(), "session");
}

#[test]
fn wire_files_optional_fields_absent_or_null() {
    let minimal: FileMetadata = serde_json::from_value(fixture("file_minimal")).unwrap();
    assert_eq!(minimal.downloadable, None);
    assert!(!minimal.is_downloadable());
    assert_eq!(minimal.expires_at, None);
    assert_eq!(minimal.scope, None);
    assert_eq!(minimal.session_id(), None);
    // `None` fields are not written back.
    assert_eq!(
        serde_json::to_value(&minimal).unwrap(),
        fixture("file_minimal")
    );

    let uploaded: FileMetadata = serde_json::from_value(fixture("file_uploaded")).unwrap();
    assert_eq!(uploaded.downloadable, Some(false));
    assert_eq!(uploaded.scope, None);
    assert_eq!(
        uploaded.created_at.to_rfc3339(),
        "2026-03-15T09:59:58.123+00:00"
    );

    let expiring: FileMetadata = serde_json::from_value(fixture("file_expiring")).unwrap();
    assert_eq!(expiring.size_bytes, 0);
    assert_eq!(
        expiring.expires_at.unwrap() - expiring.created_at,
        chrono::Duration::seconds(3600)
    );

    // A response without `type` still decodes (and reads as a file).
    let mut raw = fixture("file_minimal");
    raw.as_object_mut().unwrap().remove("type");
    let f: FileMetadata = serde_json::from_value(raw).unwrap();
    assert_eq!(f.kind, "file");
}

#[test]
fn wire_files_unknown_scope_is_kept() {
    let mut raw = fixture("file_session_output");
    raw["scope"] = json!({"type": "deployment_run", "id": "drun_011", "extra": {"k": 1}});
    let f: FileMetadata = serde_json::from_value(raw.clone()).unwrap();
    let scope = f.scope.as_ref().unwrap();
    assert!(scope.is_other());
    assert_eq!(scope.type_name(), "deployment_run");
    assert_eq!(scope.id(), Some("drun_011"));
    assert_eq!(f.session_id(), None);
    crate::fixtures::round_trip::<FileMetadata>(std::path::Path::new("inline"), &raw);
}

#[test]
fn wire_files_bad_known_field_names_the_path() {
    // `type` first (the API's order): the path reaches into the scope.
    let json = r#"{"type":"file","id":"file_1","filename":"a","mime_type":"text/plain","size_bytes":1,"created_at":"2026-03-15T10:00:00Z","scope":{"type":"session","id":42}}"#;
    let (path, message) = crate::fixtures::decode_err::<FileMetadata>(json);
    assert_eq!(path, "scope.id", "{message}");
    // `type` later: the message names the variant and the field.
    let json = json.replace(
        r#"{"type":"session","id":42}"#,
        r#"{"id":42,"type":"session"}"#,
    );
    let (path, message) = crate::fixtures::decode_err::<FileMetadata>(&json);
    assert_eq!(path, "scope", "{message}");
    assert!(message.contains("in `session` at `id`"), "{message}");

    let mut raw = fixture("file_minimal");
    raw["size_bytes"] = json!("67");
    let (path, _) = crate::fixtures::decode_err::<FileMetadata>(&raw.to_string());
    assert_eq!(path, "size_bytes");
}

#[test]
fn wire_files_deleted_with_and_without_type() {
    let d: Deleted = serde_json::from_value(fixture("file_deleted")).unwrap();
    assert_eq!(d.kind, "file_deleted");
    let d: Deleted = serde_json::from_value(fixture("file_deleted_untyped")).unwrap();
    assert_eq!(d.id, "file_011CNha9Uploaded0000000001");
    assert_eq!(d.kind, "");
    assert_eq!(
        serde_json::to_value(&d).unwrap(),
        json!({"id": "file_011CNha9Uploaded0000000001"})
    );
}

#[test]
fn wire_files_list_query() {
    assert!(ListFiles::default().to_query().is_empty());
    let q = ListFiles {
        limit: Some(1000),
        scope_id: Some("sesn_1".into()),
        ..ListFiles::default()
    }
    .to_query();
    assert_eq!(
        q,
        vec![
            ("limit".to_owned(), "1000".to_owned()),
            ("scope_id".to_owned(), "sesn_1".to_owned()),
        ]
    );
    assert_eq!(
        ListFiles::for_session(&SessionId::from("sesn_2")),
        ListFiles::for_scope("sesn_2")
    );
    let q = ListFiles::by_ids(["file_a", "file_b", "file_a"]).to_query();
    assert_eq!(
        q,
        vec![
            ("ids[]".to_owned(), "file_a".to_owned()),
            ("ids[]".to_owned(), "file_b".to_owned()),
        ]
    );
    assert!(q.iter().all(|(k, _)| k != "page" && k != "after_id"));
}

#[test]
fn wire_files_upload_params() {
    let f = UploadFile::new("a.txt", "text/plain", "hi").expires_in_seconds(MIN_EXPIRES_IN_SECONDS);
    assert_eq!(f.expires_in_seconds, Some(3600));
    assert_eq!(MAX_EXPIRES_IN_SECONDS, 90 * 24 * 3600);
    assert_eq!(FILE_FIELD, "file");
    assert_eq!(EXPIRES_IN_SECONDS_FIELD, "expires_in_seconds");
    assert_eq!(f.wire_filename(), "a.txt");
    assert_eq!(
        UploadFile::new("dir/\"q\"\r\n.txt", "text/plain", "").wire_filename(),
        "dir/%22q%22%0D%0A.txt"
    );
}
