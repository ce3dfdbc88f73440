//! `/v1/skills` and skill-version endpoints over loopback HTTP: every call on `client.skills()`
//! and `client.skills().versions(&id)` (reference skills.md §1–2). Skills carry no beta header
//! unless the client is built with `legacy_skills(true)`.

use claude_agents::api::Error;
use claude_agents::api::types::skills::*;
use claude_agents::api::types::{AgentId, Deleted, SkillId};
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::endpoint_support::{
    MA_BETA, Part, cursor_page, exact_query, fixture, multipart, no_body, parse_multipart, typed,
    unbeta,
};
use crate::support::{KEY, builder, client, strict_server};

const SKILL_ID: &str = "skill_01JAbcdefghijklmnopqrstuvw";
const VERSION_ID: &str = "skillver_01Kxyz0123456789abcdefghij";

const SKILL_MD: &str = "---\nname: my-skill\ndescription: Extracts totals from invoices. Use when the user provides invoices.\n---\n# My skill\nRun `python scripts/extract.py`.\n";
const SCRIPT: &str = "print(\"hello\")\n";
/// Bytes that are not UTF-8 and contain CRLF and a fake boundary marker.
const BINARY: &[u8] = b"\x89PNG\r\n\x1a\n\x00\xff\r\n--not-a-boundary\r\n\xfe";

fn skill_fixture(name: &str) -> Value {
    fixture("skills", name)
}

/// A folder whose files sort before and after `SKILL.md`, plus a binary asset.
fn folder() -> SkillFolder {
    SkillFolder::new("my-skill")
        .unwrap()
        .with_file("scripts/extract.py", "text/x-python", SCRIPT)
        .unwrap()
        .with_file("LICENSE.txt", "text/plain", "MIT\n")
        .unwrap()
        .with_file("assets/logo.png", "image/png", BINARY)
        .unwrap()
        .with_file("SKILL.md", "text/markdown", SKILL_MD)
        .unwrap()
}

/// The only request the server received.
async fn only_request(server: &MockServer) -> Request {
    let mut reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 1);
    reqs.remove(0)
}

fn assert_file_part(part: &Part, filename: &str, content_type: &str, contents: &[u8]) {
    assert_eq!(
        part.header("content-disposition"),
        Some(format!("form-data; name=\"files[]\"; filename=\"{filename}\"").as_str()),
        "{part:?}"
    );
    assert_eq!(part.header("content-type"), Some(content_type), "{part:?}");
    assert_eq!(part.headers.len(), 2, "{part:?}");
    assert_eq!(part.body, contents, "{filename}");
}

fn assert_files(parts: &[Part]) {
    assert_eq!(parts.len(), 4, "{parts:?}");
    assert_file_part(
        &parts[0],
        "my-skill/SKILL.md",
        "text/markdown",
        SKILL_MD.as_bytes(),
    );
    assert_file_part(&parts[1], "my-skill/LICENSE.txt", "text/plain", b"MIT\n");
    assert_file_part(&parts[2], "my-skill/assets/logo.png", "image/png", BINARY);
    assert_file_part(
        &parts[3],
        "my-skill/scripts/extract.py",
        "text/x-python",
        SCRIPT.as_bytes(),
    );
}

#[tokio::test]
async fn endpoints_skills_create_uploads_the_folder_as_multipart() {
    let server = strict_server().await;
    let answer = skill_fixture("skill_custom");
    unbeta("POST", "/v1/skills", &[])
        .and(multipart)
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let skill = client(&server)
        .skills()
        .create(&folder(), Some("Display"))
        .await
        .unwrap();
    assert_eq!(skill, typed::<Skill>(&answer));
    assert_eq!(skill.id.as_ref().map(SkillId::as_str), Some(SKILL_ID));
    assert_eq!(skill.name(), Some("Invoice Extractor"));
    assert_eq!(skill.latest_version(), Some(VERSION_ID));
    assert_eq!(skill.source_kind(), Some(&SkillSourceKind::Custom));

    let req = only_request(&server).await;
    let parts = parse_multipart(&req);
    assert_eq!(parts.len(), 5, "{parts:?}");
    let name = &parts[0];
    assert_eq!(
        name.headers,
        [(
            "content-disposition".to_owned(),
            "form-data; name=\"display_name\"".to_owned()
        )]
    );
    assert_eq!(name.body, b"Display");
    assert_files(&parts[1..]);
}

#[tokio::test]
async fn endpoints_skills_create_without_display_name_sends_only_files() {
    let server = strict_server().await;
    unbeta("POST", "/v1/skills", &[])
        .and(multipart)
        .respond_with(ResponseTemplate::new(200).set_body_json(skill_fixture("skill_custom")))
        .expect(1)
        .mount(&server)
        .await;

    client(&server)
        .skills()
        .create(&folder(), None)
        .await
        .unwrap();
    let parts = parse_multipart(&only_request(&server).await);
    assert_files(&parts);
}

#[tokio::test]
async fn endpoints_skills_invalid_folder_is_rejected_before_sending() {
    let server = strict_server().await;
    let no_skill_md = SkillFolder::new("my-skill")
        .unwrap()
        .with_file("scripts/extract.py", "text/x-python", SCRIPT)
        .unwrap();
    let c = client(&server);

    let err = c
        .skills()
        .create(&no_skill_md, Some("Display"))
        .await
        .unwrap_err();
    let Error::InvalidRequest(msg) = &err else {
        panic!("expected Error::InvalidRequest, got {err:?}");
    };
    assert!(msg.contains("SKILL.md"), "{msg}");

    let err = c
        .skills()
        .versions(&SkillId::from(SKILL_ID))
        .create(&no_skill_md)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn endpoints_skills_retrieve() {
    let server = strict_server().await;
    let answer = skill_fixture("skill_anthropic");
    unbeta("GET", "/v1/skills/xlsx", &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let skill = client(&server)
        .skills()
        .retrieve(&SkillId::from("xlsx"))
        .await
        .unwrap();
    assert_eq!(skill, typed::<Skill>(&answer));
    assert_eq!(skill.source_kind(), Some(&SkillSourceKind::Anthropic));
    assert_eq!(skill.latest_version(), Some("20251013"));
}

#[tokio::test]
async fn endpoints_skills_delete() {
    let server = strict_server().await;
    unbeta("DELETE", &format!("/v1/skills/{SKILL_ID}"), &[])
        .and(no_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(skill_fixture("skill_deleted")))
        .expect(1)
        .mount(&server)
        .await;

    let deleted = client(&server)
        .skills()
        .delete(&SkillId::from(SKILL_ID))
        .await
        .unwrap();
    assert_eq!(
        deleted,
        Deleted {
            id: SKILL_ID.to_owned(),
            kind: "skill_deleted".to_owned()
        }
    );
}

#[tokio::test]
async fn endpoints_skills_list_streams_every_page() {
    let server = strict_server().await;
    unbeta("GET", "/v1/skills", &[("limit", "2"), ("source", "custom")])
        .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
            vec![skill_fixture("skill_custom"), skill_fixture("skill_plugin")],
            Some("p2"),
        )))
        .expect(1)
        .mount(&server)
        .await;
    // A `has_more` field may appear too; the cursor decides.
    unbeta(
        "GET",
        "/v1/skills",
        &[("limit", "2"), ("source", "custom"), ("page", "p2")],
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(json!({
        "data": [skill_fixture("skill_anthropic")],
        "has_more": false,
        "next_page": null
    })))
    .expect(1)
    .mount(&server)
    .await;

    let params = ListSkills {
        limit: Some(2),
        source: Some(SkillSourceKind::Custom),
    };
    let skills: Vec<Skill> = client(&server)
        .skills()
        .list(&params)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = skills
        .iter()
        .map(|s| s.id.as_ref().unwrap().as_str())
        .collect();
    assert_eq!(ids, [SKILL_ID, "skill_01JPluginabcdefghijklmnopq", "xlsx"]);
}

#[tokio::test]
async fn endpoints_skills_version_create_uploads_files_only() {
    let server = strict_server().await;
    let answer = skill_fixture("skill_version");
    unbeta("POST", &format!("/v1/skills/{SKILL_ID}/versions"), &[])
        .and(multipart)
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;

    let version = client(&server)
        .skills()
        .versions(&SkillId::from(SKILL_ID))
        .create(&folder())
        .await
        .unwrap();
    assert_eq!(version, typed::<SkillVersion>(&answer));
    assert_eq!(version.version_ref(), Some(VERSION_ID));
    assert_eq!(version.name.as_deref(), Some("invoice-extractor"));

    let parts = parse_multipart(&only_request(&server).await);
    assert_files(&parts);
}

#[tokio::test]
async fn endpoints_skills_version_list_streams_every_page() {
    let server = strict_server().await;
    let path = format!("/v1/skills/{SKILL_ID}/versions");
    let v = |id: &str| {
        let mut v = skill_fixture("skill_version");
        v["id"] = json!(id);
        v
    };
    unbeta("GET", &path, &[("limit", "2")])
        .respond_with(ResponseTemplate::new(200).set_body_json(cursor_page(
            vec![v("skillver_3"), v("skillver_2")],
            Some("p2"),
        )))
        .expect(1)
        .mount(&server)
        .await;
    unbeta("GET", &path, &[("limit", "2"), ("page", "p2")])
        .respond_with(
            ResponseTemplate::new(200).set_body_json(cursor_page(vec![v("skillver_1")], None)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let versions: Vec<SkillVersion> = client(&server)
        .skills()
        .versions(&SkillId::from(SKILL_ID))
        .list(&ListSkillVersions { limit: Some(2) })
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = versions
        .iter()
        .filter_map(SkillVersion::version_ref)
        .collect();
    assert_eq!(ids, ["skillver_3", "skillver_2", "skillver_1"]);
}

#[tokio::test]
async fn endpoints_skills_version_retrieve_latest() {
    let server = strict_server().await;
    let answer = skill_fixture("skill_version");
    unbeta(
        "GET",
        &format!("/v1/skills/{SKILL_ID}/versions/latest"),
        &[],
    )
    .and(no_body)
    .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
    .expect(1)
    .mount(&server)
    .await;

    let version = client(&server)
        .skills()
        .versions(&SkillId::from(SKILL_ID))
        .retrieve("latest")
        .await
        .unwrap();
    assert_eq!(version, typed::<SkillVersion>(&answer));
    assert_eq!(
        version.skill_id.as_ref().map(SkillId::as_str),
        Some(SKILL_ID)
    );
}

#[tokio::test]
async fn endpoints_skills_version_delete() {
    let server = strict_server().await;
    unbeta(
        "DELETE",
        &format!("/v1/skills/{SKILL_ID}/versions/{VERSION_ID}"),
        &[],
    )
    .and(no_body)
    .respond_with(ResponseTemplate::new(200).set_body_json(skill_fixture("skill_version_deleted")))
    .expect(1)
    .mount(&server)
    .await;

    let deleted = client(&server)
        .skills()
        .versions(&SkillId::from(SKILL_ID))
        .delete(VERSION_ID)
        .await
        .unwrap();
    assert_eq!(
        deleted,
        Deleted {
            id: VERSION_ID.to_owned(),
            kind: "skill_version_deleted".to_owned()
        }
    );
}

#[tokio::test]
async fn endpoints_skills_version_content_returns_the_bytes_as_is() {
    let server = strict_server().await;
    let mut zip = b"PK\x03\x04\x14\x00\x00\x00".to_vec();
    zip.extend_from_slice(BINARY);
    zip.extend_from_slice(b"{\"not\": \"json\"");
    unbeta(
        "GET",
        &format!("/v1/skills/{SKILL_ID}/versions/{VERSION_ID}/content"),
        &[],
    )
    .and(header("accept", "application/binary"))
    .and(no_body)
    .respond_with(
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/zip")
            .set_body_bytes(zip.clone()),
    )
    .expect(1)
    .mount(&server)
    .await;

    let bytes = client(&server)
        .skills()
        .versions(&SkillId::from(SKILL_ID))
        .content(VERSION_ID)
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), zip.as_slice());
}

#[tokio::test]
async fn endpoints_skills_legacy_client_sends_the_skills_beta() {
    let server = strict_server().await;
    let legacy_beta = "skills-2025-10-02";
    let legacy = |verb: &str, p: &str| {
        Mock::given(method(verb))
            .and(path(p))
            .and(exact_query(&[]))
            .and(header("x-api-key", KEY))
            .and(header("anthropic-version", "2023-06-01"))
            .and(header("anthropic-beta", legacy_beta))
    };
    legacy("GET", &format!("/v1/skills/{SKILL_ID}"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "type": "skill", "id": SKILL_ID, "display_title": "My Custom Skill",
            "latest_version": "1759178010641129", "source": "custom",
            "created_at": "2024-10-30T23:58:27.427722Z", "updated_at": "2024-10-30T23:58:27.427722Z"
        })))
        .expect(1)
        .mount(&server)
        .await;
    legacy(
        "GET",
        &format!("/v1/skills/{SKILL_ID}/versions/1759178010641129"),
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(json!({
        "type": "skill_version", "skill_id": SKILL_ID, "version": "1759178010641129",
        "name": "my-skill", "description": "d", "directory": "my-skill",
        "created_at": "2024-10-30T23:58:27.427722Z"
    })))
    .expect(1)
    .mount(&server)
    .await;
    // The legacy option does not touch the Managed Agents families.
    Mock::given(method("GET"))
        .and(path("/v1/agents/agent_1"))
        .and(header("anthropic-beta", MA_BETA))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("agents", "agent_full")))
        .expect(1)
        .mount(&server)
        .await;

    let c = builder(&server.uri()).legacy_skills(true).build().unwrap();
    let skill = c.skills().retrieve(&SkillId::from(SKILL_ID)).await.unwrap();
    assert_eq!(skill.name(), Some("My Custom Skill"));
    assert_eq!(skill.latest_version(), Some("1759178010641129"));
    assert_eq!(skill.source_kind(), Some(&SkillSourceKind::Custom));
    let version = c
        .skills()
        .versions(&SkillId::from(SKILL_ID))
        .retrieve(skill.latest_version().unwrap())
        .await
        .unwrap();
    assert_eq!(version.version_ref(), Some("1759178010641129"));
    assert_eq!(version.directory.as_deref(), Some("my-skill"));
    c.agents()
        .retrieve(&AgentId::from("agent_1"))
        .await
        .unwrap();
}

#[tokio::test]
async fn endpoints_skills_ids_and_versions_are_percent_encoded() {
    let server = strict_server().await;
    unbeta("GET", "/v1/skills/s%2F1%3Fq/versions/v%2F2%23x", &[])
        .respond_with(ResponseTemplate::new(200).set_body_json(skill_fixture("skill_version")))
        .expect(1)
        .mount(&server)
        .await;

    client(&server)
        .skills()
        .versions(&SkillId::from("s/1?q"))
        .retrieve("v/2#x")
        .await
        .unwrap();
}

#[tokio::test]
async fn endpoints_skills_dot_segment_versions_are_rejected_locally() {
    let server = strict_server().await;
    let c = client(&server);
    let versions = c.skills().versions(&SkillId::from(SKILL_ID));
    // `..` would otherwise normalise `/v1/skills/{id}/versions/..` to `/v1/skills/{id}/` and
    // delete the whole skill.
    for version in ["..", "."] {
        let err = versions.delete(version).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidRequest(_)),
            "{version}: {err:?}"
        );
        let err = versions.content(version).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidRequest(_)),
            "{version}: {err:?}"
        );
    }
    let err = c.skills().delete(&SkillId::from("..")).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}
