//! Client behaviour over real HTTP on loopback: headers, retries, outcome-unknown creates,
//! conflicts, retry-after, deadlines, decode errors, redaction.

use std::time::Duration;

use claude_agents::api::{AuthStyle, Error, RequestKind};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{header, header_exists, headers, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{KEY, builder, client, strict_server};

fn error_body(kind: &str, code: Option<&str>) -> Value {
    let mut e = json!({"type": "error", "error": {"type": kind, "message": "nope"}, "request_id": "req_body"});
    if let Some(code) = code {
        e["error"]["details"] = json!({"error_code": code});
    }
    e
}

#[tokio::test]
async fn managed_agents_requests_carry_auth_version_and_beta() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .and(path("/v1/agents/agent_1"))
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .and(header("anthropic-beta", "managed-agents-2026-04-01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .expect(1)
        .mount(&server)
        .await;
    let v: Value = client(&server)
        .get_json("/v1/agents/agent_1", &[])
        .await
        .unwrap();
    assert_eq!(v, json!({"ok": true}));
}

#[tokio::test]
async fn models_and_skills_carry_no_beta_unless_configured() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/skills"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(2)
        .mount(&server)
        .await;
    let c = client(&server);
    let _: Value = c.get_json("/v1/models", &[]).await.unwrap();
    let _: Value = c.get_json("/v1/skills", &[]).await.unwrap();
    let legacy = builder(&server.uri()).legacy_skills(true).build().unwrap();
    let _: Value = legacy.get_json("/v1/skills", &[]).await.unwrap();
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 3);
    assert!(reqs[0].headers.get("anthropic-beta").is_none());
    assert!(reqs[1].headers.get("anthropic-beta").is_none());
    assert_eq!(
        reqs[2].headers.get("anthropic-beta").unwrap(),
        "skills-2025-10-02"
    );
}

#[tokio::test]
async fn bearer_auth_workspace_version_and_extra_betas() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .and(path("/v1/vaults"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(header("anthropic-version", "2026-10-21"))
        .and(header("anthropic-workspace-id", "wrkspc_1"))
        .and(headers(
            "anthropic-beta",
            vec!["managed-agents-2026-04-01", "files-api-2025-04-14"],
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let c = builder(&server.uri())
        .auth_style(AuthStyle::Bearer)
        .api_version("2026-10-21")
        .workspace_id("wrkspc_1")
        .extra_beta("files-api-2025-04-14")
        .build()
        .unwrap();
    let _: Value = c.get_json("/v1/vaults", &[]).await.unwrap();
    let reqs = server.received_requests().await.unwrap();
    assert!(reqs[0].headers.get("x-api-key").is_none());
    let beta: Vec<_> = reqs[0].headers.get_all("anthropic-beta").iter().collect();
    assert_eq!(beta.len(), 1, "one comma-joined header");
    assert_eq!(beta[0], "managed-agents-2026-04-01,files-api-2025-04-14");
}

#[tokio::test]
async fn reads_are_retried_on_5xx_then_succeed() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .and(path("/v1/agents"))
        .respond_with(ResponseTemplate::new(500).set_body_json(error_body("api_error", None)))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/agents"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .expect(1)
        .mount(&server)
        .await;
    let v: Value = client(&server).get_json("/v1/agents", &[]).await.unwrap();
    assert_eq!(v, json!({"data": []}));
}

#[tokio::test]
async fn reads_give_up_after_max_retries_with_the_api_error() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(529)
                .insert_header("request-id", "req_hdr")
                .set_body_json(error_body("overloaded_error", None)),
        )
        .expect(3)
        .mount(&server)
        .await;
    let err = client(&server)
        .get_json::<Value>("/v1/agents", &[])
        .await
        .unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(api.status, 529);
    assert_eq!(api.error_type.as_deref(), Some("overloaded_error"));
    assert_eq!(
        api.request_id.as_deref(),
        Some("req_hdr"),
        "header wins over body"
    );
    assert_eq!(err.request_id(), Some("req_hdr"));
    assert!(err.is_transient());
    assert!(err.to_string().contains("GET /v1/agents"), "{err}");
}

#[tokio::test]
async fn a_create_answered_500_is_not_resent_and_reports_outcome_unknown() {
    let server = strict_server().await;
    Mock::given(method("POST"))
        .and(path("/v1/sessions"))
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("request-id", "req_500")
                .set_body_json(error_body("api_error", None)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .post_json::<_, Value>(
            "/v1/sessions",
            &json!({"agent": "agent_1"}),
            RequestKind::Create,
        )
        .await
        .unwrap_err();
    match err {
        Error::OutcomeUnknown {
            operation,
            request_id,
            ..
        } => {
            assert_eq!(operation.to_string(), "POST /v1/sessions");
            assert_eq!(request_id.as_deref(), Some("req_500"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_create_answered_529_is_resent_because_the_server_did_not_act() {
    let server = strict_server().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(529).set_body_json(error_body("overloaded_error", None)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/agents"))
        .and(header_exists("content-type"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "agent_1"})))
        .expect(1)
        .mount(&server)
        .await;
    let v: Value = client(&server)
        .post_json(
            "/v1/agents",
            &json!({"name": "a", "model": "m"}),
            RequestKind::Create,
        )
        .await
        .unwrap();
    assert_eq!(v["id"], "agent_1");
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs[0].body, reqs[1].body, "the same body is re-sent");
}

#[tokio::test]
async fn a_409_on_an_update_is_a_conflict_and_not_retried() {
    let server = strict_server().await;
    Mock::given(method("POST"))
        .and(path("/v1/agents/agent_1"))
        .respond_with(
            ResponseTemplate::new(409)
                .insert_header("x-should-retry", "true")
                .set_body_json(error_body("conflict_error", Some("version_mismatch"))),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .post_json::<_, Value>(
            "/v1/agents/agent_1",
            &json!({"version": 3}),
            RequestKind::Idempotent,
        )
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    let api = err.api().unwrap();
    assert_eq!(api.error_code.as_deref(), Some("version_mismatch"));
    assert_eq!(
        api.request_id.as_deref(),
        Some("req_body"),
        "body request_id when no header"
    );
}

#[tokio::test]
async fn a_long_retry_after_is_returned_not_waited_for() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "120")
                .set_body_json(error_body("rate_limit_error", None)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let started = std::time::Instant::now();
    let err = client(&server)
        .get_json::<Value>("/v1/agents", &[])
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        err.api().unwrap().retry_after,
        Some(Duration::from_secs(120))
    );
}

#[tokio::test]
async fn a_short_retry_after_ms_is_honoured() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after-ms", "20")
                .set_body_json(error_body("rate_limit_error", None)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let started = std::time::Instant::now();
    let _: Value = client(&server).get_json("/v1/agents", &[]).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(20));
}

#[tokio::test]
async fn decode_errors_name_the_json_path() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("request-id", "req_dec")
                .set_body_json(json!({"data": [{"n": 1}, {"n": "two"}]})),
        )
        .mount(&server)
        .await;
    #[derive(serde::Deserialize, Debug)]
    struct Page {
        #[allow(dead_code)]
        data: Vec<Item>,
    }
    #[derive(serde::Deserialize, Debug)]
    struct Item {
        #[allow(dead_code)]
        n: u32,
    }
    let err = client(&server)
        .get_json::<Page>("/v1/agents", &[])
        .await
        .unwrap_err();
    match err {
        Error::Decode {
            path, request_id, ..
        } => {
            assert_eq!(path, "data[1].n");
            assert_eq!(request_id.as_deref(), Some("req_dec"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_total_deadline_bounds_a_slow_call() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let c = builder(&server.uri())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = c.get_json::<Value>("/v1/agents", &[]).await.unwrap_err();
    assert!(
        matches!(err, Error::Deadline { .. } | Error::Transport { .. }),
        "{err:?}"
    );
    let err = c
        .post_json::<_, Value>("/v1/agents", &json!({}), RequestKind::Create)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::OutcomeUnknown { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A server that reads each request and closes the connection without answering.
async fn hang_up_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let _ = sock.shutdown().await;
        }
    });
    (format!("http://{addr}"), count)
}

#[tokio::test]
async fn a_create_whose_connection_drops_after_sending_is_outcome_unknown() {
    let (base, count) = hang_up_server().await;
    let c = builder(&base).build().unwrap();
    let err = c
        .post_json::<_, Value>("/v1/sessions", &json!({}), RequestKind::Create)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::OutcomeUnknown { .. }), "{err:?}");
    assert_eq!(
        count.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "not re-sent"
    );
    // A read in the same situation is retried (3 attempts).
    let err = c.get_json::<Value>("/v1/sessions", &[]).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 4);
}

#[tokio::test]
async fn refused_connections_are_retried_even_for_creates() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = builder(&base)
        .build()
        .unwrap()
        .post_json::<_, Value>("/v1/agents", &json!({}), RequestKind::Create)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { .. }),
        "nothing was sent, so not unknown: {err:?}"
    );
}

#[tokio::test]
async fn the_key_never_shows_in_debug_or_errors() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(error_body("authentication_error", None)),
        )
        .mount(&server)
        .await;
    let b = builder(&server.uri());
    assert!(!format!("{b:?}").contains(KEY));
    let c = b.build().unwrap();
    assert!(!format!("{c:?}").contains(KEY));
    let err = c.get_json::<Value>("/v1/agents", &[]).await.unwrap_err();
    assert!(!format!("{err:?} {err}").contains(KEY));
    assert_eq!(err.status(), Some(401));
}

#[test]
fn configuration_errors_are_typed() {
    let err = claude_agents::api::Client::builder().build().unwrap_err();
    assert!(matches!(err, Error::Config(_)));
    let err = builder("not a url").build().unwrap_err();
    assert!(matches!(err, Error::Config(_)));
    let err = builder("ftp://example.com").build().unwrap_err();
    assert!(matches!(err, Error::Config(_)));
    let err = claude_agents::api::Client::builder()
        .api_key("bad\nkey".to_string())
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)));
    assert!(!err.to_string().contains("bad\nkey"));
}

#[tokio::test]
async fn a_base_url_with_a_path_prefix_is_kept() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .and(path("/proxy/v1/agents"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let c = builder(&format!("{}/proxy", server.uri())).build().unwrap();
    let _: Value = c.get_json("/v1/agents", &[]).await.unwrap();
}

#[tokio::test]
async fn a_repeating_cursor_ends_the_list_instead_of_looping() {
    use futures_util::TryStreamExt;
    let server = strict_server().await;
    Mock::given(method("GET"))
        .and(path("/v1/vaults"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"type": "vault", "id": "vlt_1", "display_name": "A", "metadata": {},
                      "created_at": "2026-03-18T10:00:00Z", "updated_at": "2026-03-18T10:00:00Z",
                      "archived_at": null}],
            "next_page": "same"
        })))
        .expect(2)
        .mount(&server)
        .await;
    let items: Vec<_> = client(&server)
        .vaults()
        .list(&Default::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        items.len(),
        2,
        "first page, then the page the cursor named, then stop"
    );
}

#[tokio::test]
async fn stream_errors_carry_the_streams_request_id() {
    use claude_agents::api::types::SessionId;
    use claude_agents::api::types::events::StreamParams;
    use futures_util::StreamExt;
    let server = strict_server().await;
    let body = concat!(
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"busy\"}}\n\n",
        "event: agent.message\ndata: {\"type\":\"agent.message\",\"id\":\"sevt_1\",\"content\":[{\"type\":\"text\",\"text\":3}]}\n\n",
    );
    Mock::given(method("GET"))
        .and(path("/v1/sessions/sesn_1/events/stream"))
        .and(header("accept", "text/event-stream"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("request-id", "req_sse")
                .set_body_raw(body, "text/event-stream"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let stream = client(&server)
        .sessions()
        .events(&SessionId::from("sesn_1"))
        .stream(&StreamParams::default())
        .await
        .unwrap();
    assert_eq!(stream.request_id(), Some("req_sse"));
    let items: Vec<_> = stream.collect().await;
    assert_eq!(items.len(), 2);
    let frame_error = items[0].as_ref().unwrap_err();
    assert_eq!(
        frame_error.api().unwrap().error_type.as_deref(),
        Some("overloaded_error")
    );
    assert_eq!(frame_error.request_id(), Some("req_sse"));
    match items[1].as_ref().unwrap_err() {
        Error::Decode {
            path, request_id, ..
        } => {
            assert_eq!(path, "content[0].text");
            assert_eq!(request_id.as_deref(), Some("req_sse"));
        }
        other => panic!("{other:?}"),
    }
}
