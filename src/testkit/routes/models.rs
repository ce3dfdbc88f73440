//! `/v1/models`: a static catalogue of realistic models, newest first, with id-based
//! pagination (`after_id`, `before_id`, `limit` → `has_more`, `first_id`, `last_id`), the
//! `lifecycle[]` filter (default active + deprecated) and alias resolution on retrieve
//! (reference models-webhooks-files.md §A).

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::routing::get;
use serde_json::{Value, json};

use super::AppState;
use crate::testkit::http::{ApiErr, ApiResult, QueryExt, ok, query_pairs};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/models", get(list))
        .route("/v1/models/{id}", get(retrieve))
}

/// What a model supports, for building its `capabilities` object.
#[derive(Clone, Copy)]
struct Caps {
    /// Compaction, the `compact_20260112` strategy and adaptive / between-tools thinking.
    frontier: bool,
    /// The effort parameter (and `xhigh` when `frontier`).
    effort: bool,
    /// The code-execution-calls-tools capability.
    code_execution: bool,
}

struct Model {
    id: &'static str,
    display_name: &'static str,
    created_at: &'static str,
    lifecycle: &'static str,
    line: Option<&'static str>,
    deprecated_at: Option<&'static str>,
    retires_at: Option<&'static str>,
    max_input_tokens: Option<u64>,
    max_tokens: Option<u64>,
    fallbacks: Option<&'static [&'static str]>,
    caps: Option<Caps>,
}

const FRONTIER: Caps = Caps {
    frontier: true,
    effort: true,
    code_execution: true,
};
const CURRENT: Caps = Caps {
    frontier: false,
    effort: true,
    code_execution: true,
};
const OLDER: Caps = Caps {
    frontier: false,
    effort: false,
    code_execution: false,
};

/// The catalogue, newest first.
const MODELS: &[Model] = &[
    Model {
        id: "claude-opus-5-5",
        display_name: "Claude Opus 5.5",
        created_at: "2026-06-10T00:00:00Z",
        lifecycle: "active",
        line: Some("opus"),
        deprecated_at: None,
        retires_at: None,
        max_input_tokens: Some(1_000_000),
        max_tokens: Some(128_000),
        fallbacks: Some(&["claude-sonnet-5-5", "claude-opus-4-8"]),
        caps: Some(FRONTIER),
    },
    Model {
        id: "claude-sonnet-5-5",
        display_name: "Claude Sonnet 5.5",
        created_at: "2026-06-10T00:00:00Z",
        lifecycle: "active",
        line: Some("sonnet"),
        deprecated_at: None,
        retires_at: None,
        max_input_tokens: Some(1_000_000),
        max_tokens: Some(64_000),
        fallbacks: Some(&["claude-sonnet-4-6"]),
        caps: Some(FRONTIER),
    },
    Model {
        id: "claude-haiku-5-5",
        display_name: "Claude Haiku 5.5",
        created_at: "2026-05-20T00:00:00Z",
        lifecycle: "active",
        line: Some("haiku"),
        deprecated_at: None,
        retires_at: None,
        max_input_tokens: Some(200_000),
        max_tokens: Some(64_000),
        fallbacks: Some(&[]),
        caps: Some(CURRENT),
    },
    Model {
        id: "claude-opus-4-8",
        display_name: "Claude Opus 4.8",
        created_at: "2026-02-01T00:00:00Z",
        lifecycle: "active",
        line: Some("opus"),
        deprecated_at: None,
        retires_at: None,
        max_input_tokens: Some(1_000_000),
        max_tokens: Some(128_000),
        fallbacks: Some(&["claude-sonnet-4-6"]),
        caps: Some(FRONTIER),
    },
    Model {
        id: "claude-sonnet-4-6",
        display_name: "Claude Sonnet 4.6",
        created_at: "2026-01-15T00:00:00Z",
        lifecycle: "active",
        line: Some("sonnet"),
        deprecated_at: None,
        retires_at: None,
        max_input_tokens: Some(1_000_000),
        max_tokens: Some(64_000),
        fallbacks: Some(&[]),
        caps: Some(CURRENT),
    },
    Model {
        id: "claude-haiku-4-5-20251001",
        display_name: "Claude Haiku 4.5",
        created_at: "2025-10-01T00:00:00Z",
        lifecycle: "active",
        line: Some("haiku"),
        deprecated_at: None,
        retires_at: None,
        max_input_tokens: Some(200_000),
        max_tokens: Some(64_000),
        fallbacks: Some(&[]),
        caps: Some(CURRENT),
    },
    Model {
        id: "claude-sonnet-4-5-20250929",
        display_name: "Claude Sonnet 4.5",
        created_at: "2025-09-29T00:00:00Z",
        lifecycle: "deprecated",
        line: Some("sonnet"),
        deprecated_at: Some("2026-06-01T00:00:00Z"),
        retires_at: Some("2026-12-01T00:00:00Z"),
        max_input_tokens: Some(200_000),
        max_tokens: Some(64_000),
        fallbacks: Some(&[]),
        caps: Some(OLDER),
    },
    Model {
        id: "claude-3-haiku-20240307",
        display_name: "Claude Haiku 3",
        created_at: "2024-03-07T00:00:00Z",
        lifecycle: "retired",
        line: None,
        deprecated_at: Some("2025-01-01T00:00:00Z"),
        retires_at: None,
        max_input_tokens: None,
        max_tokens: None,
        fallbacks: None,
        caps: None,
    },
];

/// Aliases `GET /v1/models/{id}` resolves to a concrete id.
const ALIASES: &[(&str, &str)] = &[
    ("claude-haiku-4-5", "claude-haiku-4-5-20251001"),
    ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"),
    ("claude-3-haiku", "claude-3-haiku-20240307"),
];

fn support(supported: bool) -> Value {
    json!({"supported": supported})
}

fn capabilities(c: Caps) -> Value {
    let mut context = json!({
        "supported": true,
        "clear_tool_uses_20250919": support(true),
    });
    if c.effort {
        context["clear_thinking_20251015"] = support(true);
    }
    if c.frontier {
        context["compact_20260112"] = support(true);
    }
    let mut effort = json!({
        "supported": c.effort,
        "low": support(c.effort),
        "medium": support(c.effort),
        "high": support(c.effort),
        "max": support(c.effort),
    });
    if c.frontier {
        effort["xhigh"] = support(true);
    }
    json!({
        "batch": support(true),
        "citations": support(true),
        "code_execution": support(c.code_execution),
        "image_input": support(true),
        "pdf_input": support(true),
        "structured_outputs": support(true),
        "compaction": if c.frontier {
            json!({"supported": true, "summarize": support(true)})
        } else {
            Value::Null
        },
        "context_management": context,
        "effort": effort,
        "server_tools": {
            "supported": true,
            "web_search": support(true),
            "code_execution": support(true),
        },
        "thinking": {
            "supported": true,
            "types": {
                "adaptive": support(c.effort),
                "enabled": support(!c.frontier),
                "disabled": support(true),
                "between_tools": support(c.frontier),
            },
        },
    })
}

fn model_info(m: &Model) -> Value {
    json!({
        "type": "model",
        "id": m.id,
        "display_name": m.display_name,
        "created_at": m.created_at,
        "lifecycle": m.lifecycle,
        "line": m.line,
        "deprecated_at": m.deprecated_at,
        "retires_at": m.retires_at,
        "max_input_tokens": m.max_input_tokens,
        "max_tokens": m.max_tokens,
        "allowed_fallback_models": m.fallbacks,
        "capabilities": m.caps.map(capabilities),
    })
}

async fn list(RawQuery(query): RawQuery) -> ApiResult {
    let query = query_pairs(query.as_deref());
    let limit = match query.param("limit") {
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| ApiErr::bad_request("limit must be between 1 and 1000"))?,
        None => 20,
    };
    let mut lifecycles = query.params("lifecycle[]");
    if lifecycles.len() > 3 {
        return Err(ApiErr::bad_request("lifecycle: at most 3 values"));
    }
    if let Some(bad) = lifecycles
        .iter()
        .find(|l| !matches!(**l, "active" | "deprecated" | "retired"))
    {
        return Err(ApiErr::bad_request(format!(
            "lifecycle: unknown value '{bad}'"
        )));
    }
    if lifecycles.is_empty() {
        lifecycles = vec!["active", "deprecated"];
    }
    let models: Vec<&Model> = MODELS
        .iter()
        .filter(|m| lifecycles.contains(&m.lifecycle))
        .collect();
    let position = |id: &str, key: &str| -> ApiResult<usize> {
        models
            .iter()
            .position(|m| m.id == id)
            .ok_or_else(|| ApiErr::bad_request(format!("{key}: unknown model id '{id}'")))
    };
    let (start, end, has_more) = match (query.param("after_id"), query.param("before_id")) {
        (Some(_), Some(_)) => {
            return Err(ApiErr::bad_request(
                "after_id and before_id are mutually exclusive",
            ));
        }
        (Some(after), None) => {
            let start = position(after, "after_id")? + 1;
            let end = (start + limit).min(models.len());
            (start, end, end < models.len())
        }
        (None, Some(before)) => {
            let end = position(before, "before_id")?;
            let start = end.saturating_sub(limit);
            (start, end, start > 0)
        }
        (None, None) => {
            let end = limit.min(models.len());
            (0, end, end < models.len())
        }
    };
    let page = &models[start..end];
    ok(json!({
        "data": page.iter().map(|m| model_info(m)).collect::<Vec<_>>(),
        "has_more": has_more,
        "first_id": page.first().map(|m| m.id),
        "last_id": page.last().map(|m| m.id),
    }))
}

async fn retrieve(Path(id): Path<String>) -> ApiResult {
    let concrete = ALIASES
        .iter()
        .find(|(alias, _)| *alias == id)
        .map_or(id.as_str(), |(_, target)| target);
    let model = MODELS
        .iter()
        .find(|m| m.id == concrete)
        .ok_or_else(|| ApiErr::not_found("model", &id))?;
    ok(model_info(model))
}
