//! Helpers of the `endpoints_*` tests: SDK-validated fixtures as response bodies, and mock
//! builders that match method, exact path, exact query (no extra parameters), and the headers
//! each endpoint family must carry.

use std::path::Path;

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockBuilder, Request};

use crate::support::KEY;

/// The beta header of the Managed Agents families (agents, environments, vaults).
pub const MA_BETA: &str = "managed-agents-2026-04-01";

/// The `value` of `tests/fixtures/<family>/<name>.json` (validated against the official SDK).
pub fn fixture(family: &str, name: &str) -> Value {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(family)
        .join(format!("{name}.json"));
    let text =
        std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    let value = doc["value"].clone();
    assert!(!value.is_null(), "{}: no value", file.display());
    value
}

/// A fixture decoded as the type the client returns, to compare typed results with.
pub fn typed<T: serde::de::DeserializeOwned>(value: &Value) -> T {
    serde_json::from_value(value.clone()).unwrap()
}

/// A page-cursor list body.
pub fn cursor_page(data: Vec<Value>, next_page: Option<&str>) -> Value {
    json!({ "data": data, "next_page": next_page })
}

/// An API error body.
pub fn error_body(kind: &str, code: Option<&str>) -> Value {
    let mut body = json!({
        "type": "error",
        "error": { "type": kind, "message": "conflict with the current state" },
        "request_id": "req_011CRv1W3XQ8XpFikNYG7RnE"
    });
    if let Some(code) = code {
        body["error"]["details"] = json!({ "error_code": code });
    }
    body
}

/// Matches when the decoded query pairs are exactly `expected` (order-insensitive, repeated
/// keys counted): no missing and no extra parameters.
pub fn exact_query(expected: &[(&str, &str)]) -> impl Fn(&Request) -> bool + Send + Sync + 'static {
    let mut want: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    want.sort();
    move |req: &Request| {
        let mut got: Vec<(String, String)> = req
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        got.sort();
        got == want
    }
}

/// Matches a request without a body.
pub fn no_body(req: &Request) -> bool {
    req.body.is_empty()
}

/// Matches a request that carries no `anthropic-beta` header at all.
pub fn no_beta(req: &Request) -> bool {
    req.headers.get("anthropic-beta").is_none()
}

/// Method + exact path + exact query + auth and version headers.
fn base(verb: &str, exact_path: &str, query: &[(&str, &str)]) -> MockBuilder {
    Mock::given(method(verb))
        .and(path(exact_path))
        .and(exact_query(query))
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
}

/// A Managed Agents request: [`base`] plus exactly `anthropic-beta: managed-agents-2026-04-01`.
pub fn managed(verb: &str, exact_path: &str, query: &[(&str, &str)]) -> MockBuilder {
    base(verb, exact_path, query).and(header("anthropic-beta", MA_BETA))
}

/// A skills or models request: [`base`] and no `anthropic-beta` header.
pub fn unbeta(verb: &str, exact_path: &str, query: &[(&str, &str)]) -> MockBuilder {
    base(verb, exact_path, query).and(no_beta)
}

/// A JSON body request: `content-type: application/json`.
pub fn json_content(req: &Request) -> bool {
    req.headers
        .get("content-type")
        .is_some_and(|v| v == "application/json")
}

/// One part of a `multipart/form-data` body: its headers (names lower-cased) and contents.
#[derive(Debug)]
pub struct Part {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Part {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Parses a multipart body strictly (RFC 7578 framing), returning its parts in order.
pub fn parse_multipart(req: &Request) -> Vec<Part> {
    let content_type = req
        .headers
        .get("content-type")
        .expect("content-type")
        .to_str()
        .unwrap();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("not multipart/form-data: {content_type}"));
    assert!(!boundary.is_empty());
    let body = &req.body;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut separator = b"\r\n".to_vec();
    separator.extend_from_slice(&delimiter);
    assert!(
        body.starts_with(&delimiter),
        "body must open with the boundary"
    );
    let mut parts = Vec::new();
    let mut pos = delimiter.len();
    loop {
        if body[pos..].starts_with(b"--") {
            assert!(
                body[pos + 2..].iter().all(u8::is_ascii_whitespace),
                "data after the closing boundary"
            );
            break;
        }
        assert!(body[pos..].starts_with(b"\r\n"), "boundary line not ended");
        pos += 2;
        let head_end = find(body, b"\r\n\r\n", pos).expect("end of part headers");
        let headers = std::str::from_utf8(&body[pos..head_end])
            .unwrap()
            .split("\r\n")
            .map(|line| {
                let (name, value) = line.split_once(": ").expect("header line");
                (name.to_ascii_lowercase(), value.to_owned())
            })
            .collect();
        let start = head_end + 4;
        let end = find(body, &separator, start).expect("next boundary");
        parts.push(Part {
            headers,
            body: body[start..end].to_vec(),
        });
        pos = end + separator.len();
    }
    parts
}

/// Whether the request is `multipart/form-data` with a boundary.
pub fn multipart(req: &Request) -> bool {
    req.headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data; boundary="))
}
