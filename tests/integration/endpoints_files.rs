//! `/v1/files` endpoints over loopback HTTP: every call on `client.files()` (reference
//! models-webhooks-files.md §C). Files carry `anthropic-beta:
//! files-api-2025-04-14,managed-agents-2026-04-01` (one comma-joined header) unless the client
//! is built with other `files_betas`.

use claude_agents::api::types::files::*;
use claude_agents::api::types::{AgentId, Deleted, FileId, SessionId};
use claude_agents::api::{Error, FILES_API_BETA, MANAGED_AGENTS_BETA};
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

use crate::endpoint_support::{
    MA_BETA, Part, cursor_page, error_body, exact_query, fixture, multipart, no_beta, no_body,
    parse_multipart, typed,
};
use crate::support::{KEY, builder, client, strict_server};

/// The default files beta header value: both betas, in this order, in one header.
const FILES_BETA: &str = "files-api-2025-04-14,managed-agents-2026-04-01";
const FILE_ID: &str = "file_011CNha8iCJcU1wXNR6q4V8w";
const SESSION_ID: &str = "sesn_011CZkZAtmR3yMPDzynEDxu7";
/// Bytes that are not UTF-8 and contain CRLF and a fake boundary marker.
const BINARY: &[u8] = b"\x89PNG\r\n\x1a\n\x00\xff\r\n--not-a-boundary\r\n\xfe";

fn file_fixture(name: &str) -> Value {
    fixture("files", name)
}

/// `anthropic-beta` is exactly one header with exactly `value`.
fn beta_is(value: &'static str) -> impl Fn(&Request) -> bool + Send + Sync + 'static {
    move |req: &Request| {
        let all: Vec<_> = req.headers.get_all("anthropic-beta").iter().collect();
        all.len() == 1 && all[0] == value
    }
}

/// Method + exact path + exact query + auth, version and the default files beta header.
fn files(verb: &str, exact_path: &str, query: &[(&str, &str)]) -> MockBuilder {
    Mock::given(method(verb))
        .and(path(exact_path))
        .and(exact_query(query))
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .and(beta_is(FILES_BETA))
}

/// The `file` part: exactly a content disposition with the name and a content type.
fn assert_file_part(part: &Part, filename: &str, content_type: &str, contents: &[u8]) {
    assert_eq!(
        part.headers,
        [
            (
                "content-disposition".to_owned(),
                format!("form-data; name=\"file\"; filename=\"{filename}\"")
            ),
            ("content-type".to_owned(), content_type.to_owned()),
        ],
        "{part:?}"
    );
    assert_eq!(part.body, contents, "{filename}");
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

#[tokio::test]
async fn endpoints_files_upload_sends_one_file_part() {
    let server = strict_server().await;
    let answer = file_fixture("file_uploaded");
    files("POST", "/v1/files", &[])
        .and(multipart)
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let meta = client(&server)
        .files()
        .upload("invoice-2026-03.pdf", "application/pdf", BINARY)
        .await
        .unwrap();
    assert_eq!(meta, typed::<FileMetadata>(&answer));
    assert_eq!(meta.downloadable, Some(false));

    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 1);
    let parts = parse_multipart(&reqs[0]);
    assert_eq!(parts.len(), 1, "{parts:?}");
    assert_file_part(&parts[0], "invoice-2026-03.pdf", "application/pdf", BINARY);
    // The client does not override the JSON accept for uploads.
    assert_eq!(reqs[0].headers.get("accept").unwrap(), "application/json");
}

#[tokio::test]
async fn endpoints_files_upload_with_expiry_sends_the_text_field_first() {
    let server = strict_server().await;
    let answer = file_fixture("file_expiring");
    files("POST", "/v1/files", &[])
        .and(multipart)
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let upload = UploadFile::new("notes.txt", "text/plain", "").expires_in_seconds(3600);
    let meta = client(&server).files().upload_file(&upload).await.unwrap();
    assert_eq!(meta.expires_at, typed::<FileMetadata>(&answer).expires_at);

    let parts = parse_multipart(&requests(&server).await[0]);
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert_eq!(
        parts[0].headers,
        [(
            "content-disposition".to_owned(),
            "form-data; name=\"expires_in_seconds\"".to_owned()
        )]
    );
    assert_eq!(parts[0].body, b"3600");
    assert_file_part(&parts[1], "notes.txt", "text/plain", b"");
}

#[tokio::test]
async fn endpoints_files_upload_filename_cannot_break_the_framing() {
    let server = strict_server().await;
    files("POST", "/v1/files", &[])
        .and(multipart)
        .respond_with(ResponseTemplate::new(200).set_body_json(file_fixture("file_minimal")))
        .expect(1)
        .mount(&server)
        .await;

    client(&server)
        .files()
        .upload(
            "évil \"name\"\r\nContent-Type: text/html.png",
            "image/png",
            "x",
        )
        .await
        .unwrap();
    let parts = parse_multipart(&requests(&server).await[0]);
    assert_eq!(parts.len(), 1, "{parts:?}");
    assert_file_part(
        &parts[0],
        "évil %22name%22%0D%0AContent-Type: text/html.png",
        "image/png",
        b"x",
    );
}

#[tokio::test]
async fn endpoints_files_upload_invalid_content_type_is_rejected_before_sending() {
    let server = strict_server().await;
    let err = client(&server)
        .files()
        .upload("a.txt", "text/plain\r\nX-Injected: 1", "x")
        .await
        .unwrap_err();
    let Error::InvalidRequest(msg) = &err else {
        panic!("expected Error::InvalidRequest, got {err:?}");
    };
    assert!(msg.contains("content type"), "{msg}");
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn endpoints_files_upload_is_resent_whole_after_503_but_not_after_500() {
    let server = strict_server().await;
    files("POST", "/v1/files", &[])
        .respond_with(
            ResponseTemplate::new(503).set_body_json(error_body("overloaded_error", None)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    files("POST", "/v1/files", &[])
        .and(multipart)
        .respond_with(ResponseTemplate::new(200).set_body_json(file_fixture("file_uploaded")))
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&server);
    c.files()
        .upload("invoice-2026-03.pdf", "application/pdf", BINARY)
        .await
        .unwrap();
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2);
    for req in &reqs {
        let parts = parse_multipart(req);
        assert_eq!(parts.len(), 1);
        assert_file_part(&parts[0], "invoice-2026-03.pdf", "application/pdf", BINARY);
    }

    // A 500 may mean the file was stored: not re-sent, outcome unknown.
    let server = strict_server().await;
    files("POST", "/v1/files", &[])
        .respond_with(ResponseTemplate::new(500).set_body_json(error_body("api_error", None)))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .files()
        .upload("a.txt", "text/plain", "x")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::OutcomeUnknown { .. }), "{err:?}");
}

#[tokio::test]
async fn endpoints_files_list_streams_every_page() {
    let server = strict_server().await;
    files(
        "GET",
        "/v1/files",
        &[("limit", "2"), ("scope_id", SESSION_ID)],
    )
    .and(no_body)
    .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
        vec![
            file_fixture("file_session_output"),
            file_fixture("file_uploaded"),
        ],
        Some("page_MjAyNi0wMy0xNVQxMDowMDowMFo"),
    )))
    .expect(1)
    .mount(&server)
    .await;
    // A `has_more` field may appear too; the cursor decides.
    files(
        "GET",
        "/v1/files",
        &[
            ("limit", "2"),
            ("scope_id", SESSION_ID),
            ("page", "page_MjAyNi0wMy0xNVQxMDowMDowMFo"),
        ],
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(json!({
        "data": [file_fixture("file_minimal")],
        "has_more": true,
        "next_page": null
    })))
    .expect(1)
    .mount(&server)
    .await;

    let params = ListFiles {
        limit: Some(2),
        ..ListFiles::for_session(&SessionId::from(SESSION_ID))
    };
    let listed: Vec<FileMetadata> = client(&server)
        .files()
        .list(&params)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = listed.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            FILE_ID,
            "file_011CNha9Uploaded0000000001",
            "file_011CNhaBMinimal00000000003"
        ]
    );
    assert_eq!(
        listed[0],
        typed::<FileMetadata>(&file_fixture("file_session_output"))
    );
}

#[tokio::test]
async fn endpoints_files_list_by_ids_is_one_page() {
    let server = strict_server().await;
    // Even if a cursor came back, `ids` excludes `page`: it is not followed.
    files(
        "GET",
        "/v1/files",
        &[("ids[]", FILE_ID), ("ids[]", "file_gone")],
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
        vec![file_fixture("file_session_output")],
        Some("page_unexpected"),
    )))
    .expect(1)
    .mount(&server)
    .await;

    let listed: Vec<FileMetadata> = client(&server)
        .files()
        .list(&ListFiles::by_ids([FILE_ID, "file_gone", FILE_ID]))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let reqs = requests(&server).await;
    assert!(
        reqs[0]
            .url
            .query()
            .unwrap()
            .contains(&format!("ids%5B%5D={FILE_ID}")),
        "{:?}",
        reqs[0].url.query()
    );
}

#[tokio::test]
async fn endpoints_files_list_ids_with_limit_is_rejected_before_sending() {
    let server = strict_server().await;
    let params = ListFiles {
        limit: Some(5),
        ..ListFiles::by_ids([FILE_ID])
    };
    let err = client(&server)
        .files()
        .list(&params)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn endpoints_files_list_older_shape_pages_by_after_id() {
    let server = strict_server().await;
    files("GET", "/v1/files", &[("limit", "2")])
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [file_fixture("file_session_output"), file_fixture("file_uploaded")],
            "has_more": true,
            "first_id": FILE_ID,
            "last_id": "file_011CNha9Uploaded0000000001"
        })))
        .expect(1)
        .mount(&server)
        .await;
    files(
        "GET",
        "/v1/files",
        &[
            ("limit", "2"),
            ("after_id", "file_011CNha9Uploaded0000000001"),
        ],
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(json!({
        "data": [file_fixture("file_minimal")],
        "has_more": false,
        "first_id": "file_011CNhaBMinimal00000000003",
        "last_id": "file_011CNhaBMinimal00000000003"
    })))
    .expect(1)
    .mount(&server)
    .await;

    let params = ListFiles {
        limit: Some(2),
        ..ListFiles::default()
    };
    let listed: Vec<FileMetadata> = client(&server)
        .files()
        .list(&params)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 3);
}

#[tokio::test]
async fn endpoints_files_list_stops_on_a_repeated_cursor() {
    let server = strict_server().await;
    files("GET", "/v1/files", &[])
        .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
            vec![file_fixture("file_minimal")],
            Some("page_same"),
        )))
        .expect(1)
        .mount(&server)
        .await;
    files("GET", "/v1/files", &[("page", "page_same")])
        .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
            vec![file_fixture("file_uploaded")],
            Some("page_same"),
        )))
        .expect(1)
        .mount(&server)
        .await;

    let listed: Vec<FileMetadata> = client(&server)
        .files()
        .list(&ListFiles::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
}

#[tokio::test]
async fn endpoints_files_retrieve() {
    let server = strict_server().await;
    let answer = file_fixture("file_session_output");
    files("GET", &format!("/v1/files/{FILE_ID}"), &[])
        .and(no_body)
        .and(header("accept", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let meta = client(&server)
        .files()
        .retrieve(&FileId::from(FILE_ID))
        .await
        .unwrap();
    assert_eq!(meta, typed::<FileMetadata>(&answer));
    assert!(meta.is_downloadable());
    assert_eq!(meta.session_id(), Some(&SessionId::from(SESSION_ID)));
}

#[tokio::test]
async fn endpoints_files_content_returns_the_bytes_as_is() {
    let server = strict_server().await;
    let mut xlsx = b"PK\x03\x04\x14\x00\x06\x00".to_vec();
    xlsx.extend_from_slice(BINARY);
    xlsx.extend_from_slice(b"{\"not\": \"json\"");
    files("GET", &format!("/v1/files/{FILE_ID}/content"), &[])
        .and(header("accept", "application/binary"))
        .and(no_body)
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "content-type",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                )
                .set_body_bytes(xlsx.clone()),
        )
        .expect(1)
        .mount(&server)
        .await;

    let bytes = client(&server)
        .files()
        .content(&FileId::from(FILE_ID))
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), xlsx.as_slice());
}

#[tokio::test]
async fn endpoints_files_content_not_downloadable_is_a_typed_error() {
    let server = strict_server().await;
    files("GET", "/v1/files/file_up/content", &[])
        .respond_with(ResponseTemplate::new(400).set_body_json(error_body(
            "invalid_request_error",
            Some("file_not_downloadable"),
        )))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .files()
        .content(&FileId::from("file_up"))
        .await
        .unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(api.status, 400);
    assert_eq!(api.error_code.as_deref(), Some("file_not_downloadable"));
}

#[tokio::test]
async fn endpoints_files_delete() {
    let server = strict_server().await;
    files("DELETE", &format!("/v1/files/{FILE_ID}"), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(file_fixture("file_deleted")))
        .expect(1)
        .mount(&server)
        .await;

    let deleted = client(&server)
        .files()
        .delete(&FileId::from(FILE_ID))
        .await
        .unwrap();
    assert_eq!(
        deleted,
        Deleted {
            id: FILE_ID.to_owned(),
            kind: "file_deleted".to_owned()
        }
    );
}

#[tokio::test]
async fn endpoints_files_delete_204_and_untyped_body() {
    let server = strict_server().await;
    files("DELETE", "/v1/files/file_a", &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    files("DELETE", "/v1/files/file_b", &[])
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "file_b"})))
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&server);
    let deleted = c.files().delete(&FileId::from("file_a")).await.unwrap();
    assert_eq!(
        deleted,
        Deleted {
            id: "file_a".to_owned(),
            kind: String::new()
        }
    );
    let deleted = c.files().delete(&FileId::from("file_b")).await.unwrap();
    assert_eq!(deleted.id, "file_b");
    assert_eq!(deleted.kind, "");
}

#[tokio::test]
async fn endpoints_files_betas_are_configurable_and_only_touch_files() {
    let server = strict_server().await;
    // As the official SDK: no beta on files.
    Mock::given(method("GET"))
        .and(path("/v1/files/file_sdk"))
        .and(no_beta)
        .respond_with(ResponseTemplate::new(200).set_body_json(file_fixture("file_minimal")))
        .expect(1)
        .mount(&server)
        .await;
    // Extra betas are appended to the files betas.
    Mock::given(method("GET"))
        .and(path("/v1/files/file_extra"))
        .and(beta_is(
            "files-api-2025-04-14,managed-agents-2026-04-01,x-beta",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(file_fixture("file_minimal")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/agents/agent_1"))
        .and(beta_is("managed-agents-2026-04-01,x-beta"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("agents", "agent_full")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/agents/agent_2"))
        .and(header("anthropic-beta", MA_BETA))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("agents", "agent_full")))
        .expect(1)
        .mount(&server)
        .await;

    let sdk_like = builder(&server.uri())
        .files_betas(Vec::<String>::new())
        .build()
        .unwrap();
    sdk_like
        .files()
        .retrieve(&FileId::from("file_sdk"))
        .await
        .unwrap();
    // The files betas do not leak into the Managed Agents family.
    sdk_like
        .agents()
        .retrieve(&AgentId::from("agent_2"))
        .await
        .unwrap();

    let extra = builder(&server.uri())
        .files_betas([FILES_API_BETA, MANAGED_AGENTS_BETA])
        .extra_beta("x-beta")
        .build()
        .unwrap();
    extra
        .files()
        .retrieve(&FileId::from("file_extra"))
        .await
        .unwrap();
    extra
        .agents()
        .retrieve(&AgentId::from("agent_1"))
        .await
        .unwrap();
}

#[tokio::test]
async fn endpoints_files_ids_are_percent_encoded_and_dot_segments_rejected() {
    let server = strict_server().await;
    files("GET", "/v1/files/f%2F1%3Fq/content", &[])
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"ok".to_vec()))
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&server);
    let bytes = c.files().content(&FileId::from("f/1?q")).await.unwrap();
    assert_eq!(bytes.as_ref(), b"ok");
    for id in ["..", "."] {
        let err = c.files().delete(&FileId::from(id)).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{id}: {err:?}");
    }
    assert_eq!(requests(&server).await.len(), 1);
}
