//! The model picker (reference models-webhooks-files.md §A): the models a provider key can use
//! for Managed Agents, newest first; the default choice; and the check the reconciler runs on a
//! spec's model before any write.
//!
//! Get a client for a key with [`ProviderKeys::client_for`](crate::keys::ProviderKeys::client_for),
//! then call [`list_models`]. The list is requested with `lifecycle[]=active` (deprecated models
//! are closed to new adopters) and then restricted to [`MANAGED_AGENTS_MODELS`].

use futures_util::TryStreamExt;

use crate::api::types::Timestamp;
use crate::api::types::models::{ListModels, ModelInfo, ModelLine};
use crate::api::{Client, Error as ApiError};

/// The models the Managed Agents documentation lists as supported (reference
/// models-webhooks-files.md §A, "Claude 4.5-family and later").
///
/// This is an **open set**: newer models appear in `GET /v1/models` before this list is
/// updated. Use [`ModelPickerOptions::supported_only`] = `false` to offer every active model
/// and let the agent create call validate (400 on an unsupported model).
pub const MANAGED_AGENTS_MODELS: &[&str] = &[
    "claude-fable-5-2",
    "claude-mythos-5-2",
    "claude-fable-5-1",
    "claude-mythos-5-1",
    "claude-fable-5",
    "claude-mythos-5",
    "claude-mythos-preview",
    "claude-opus-5-5",
    "claude-opus-5",
    "claude-sonnet-5-5",
    "claude-sonnet-5",
    "claude-haiku-5-5",
    "claude-haiku-4-5-20251001",
    "claude-opus-4-8",
    "claude-opus-4-7",
    "claude-opus-4-6",
    "claude-sonnet-4-6",
    "claude-opus-4-5-20251101",
    "claude-sonnet-4-5-20250929",
];

/// Whether `model_id` is in [`MANAGED_AGENTS_MODELS`].
pub fn is_managed_agents_model(model_id: &str) -> bool {
    MANAGED_AGENTS_MODELS.contains(&model_id)
}

/// One model in the picker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelEntry {
    /// The id to put in an agent's model (`claude-sonnet-4-6`).
    pub id: String,
    /// Human name (`Claude Sonnet 4.6`).
    pub display_name: String,
    /// The model line (`sonnet`, `opus`, `haiku`, …; an open set), when the API gives one.
    pub line: Option<String>,
    /// Release date (may be the epoch if the API does not know it).
    pub created_at: Timestamp,
}

/// Options of [`list_models`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelPickerOptions {
    /// Page size for `GET /v1/models` (1–1000); `None`: the API's default (20). Every page is
    /// fetched either way.
    pub page_size: Option<u32>,
    /// Keep only [`MANAGED_AGENTS_MODELS`] (default `true`).
    pub supported_only: bool,
}

impl Default for ModelPickerOptions {
    fn default() -> Self {
        Self {
            page_size: None,
            supported_only: true,
        }
    }
}

/// Why the model list could not be read, or a model is not acceptable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// `GET /v1/models` failed (status and request id are in the source).
    #[error("listing models failed: {0}")]
    List(#[source] ApiError),
    /// The model is not among the models known for the key: a validation error, raised before
    /// anything is written.
    #[error("unknown model `{model}`: not among the {known} models available to this key")]
    Unknown {
        /// The model id that was asked for.
        model: String,
        /// How many models are known.
        known: usize,
    },
}

impl ModelError {
    /// The request id of a failed list call.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ModelError::List(e) => e.request_id(),
            ModelError::Unknown { .. } => None,
        }
    }
}

/// Lists the active models `client`'s key can use (every page), newest first as the API
/// orders them, as picker entries.
///
/// # Errors
/// [`ModelError::List`] when a page cannot be fetched.
pub async fn list_models(
    client: &Client,
    options: &ModelPickerOptions,
) -> Result<Vec<ModelEntry>, ModelError> {
    let params = ListModels {
        limit: options.page_size,
        ..ListModels::active()
    };
    let models: Vec<ModelInfo> = client
        .models()
        .list(&params)
        .try_collect()
        .await
        .map_err(ModelError::List)?;
    Ok(entries(models, options.supported_only))
}

/// Picker entries from models in API order: active ones only (the server already filters;
/// this also drops a model without a lifecycle, which the SDK says is always present),
/// optionally restricted to [`MANAGED_AGENTS_MODELS`], each id once.
fn entries(models: Vec<ModelInfo>, supported_only: bool) -> Vec<ModelEntry> {
    let mut seen = std::collections::HashSet::new();
    models
        .into_iter()
        .filter(|m| m.is_active())
        .filter(|m| !supported_only || is_managed_agents_model(m.id.as_str()))
        .filter(|m| seen.insert(m.id.as_str().to_owned()))
        .map(|m| ModelEntry {
            line: m.line.as_ref().map(|l| l.as_str().to_owned()),
            id: m.id.0,
            display_name: m.display_name,
            created_at: m.created_at,
        })
        .collect()
}

/// The default model for a new agent: the **newest Sonnet** among `entries`.
///
/// A model is a Sonnet when its `line` is `sonnet`; only when the API gave no `line` at all is
/// an id containing `sonnet` taken as one (the reference says not to infer the line from the
/// id, so this is a fallback for models the API left unclassified). "Newest" is the latest
/// `created_at`; on a tie, the one listed first (the API lists newest first). `None` when
/// there is no Sonnet.
pub fn default_model(entries: &[ModelEntry]) -> Option<&ModelEntry> {
    let sonnet = ModelLine::Sonnet;
    entries
        .iter()
        .filter(|e| match &e.line {
            Some(line) => line == sonnet.as_str(),
            None => e.id.contains("sonnet"),
        })
        // `max_by_key` keeps the last maximum; iterate in reverse so the first listed wins.
        .rev()
        .max_by_key(|e| e.created_at)
}

/// Checks a spec's model against the models known for its key (e.g.
/// [`ProviderKey::models`](crate::domain::ProviderKey::models)), before any write.
///
/// An empty `known` list means the key's models were not listed yet: the model is accepted
/// (the agent create call will validate it).
///
/// # Errors
/// [`ModelError::Unknown`] when `known` is not empty and does not contain `model_id`.
pub fn check_model(model_id: &str, known: &[String]) -> Result<(), ModelError> {
    if known.is_empty() || known.iter().any(|k| k == model_id) {
        Ok(())
    } else {
        Err(ModelError::Unknown {
            model: model_id.to_owned(),
            known: known.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn info(id: &str, created: &str, lifecycle: &str, line: Option<&str>) -> ModelInfo {
        serde_json::from_value(json!({
            "type": "model",
            "id": id,
            "display_name": id.to_uppercase(),
            "created_at": created,
            "lifecycle": lifecycle,
            "line": line,
        }))
        .unwrap()
    }

    fn entry(id: &str, created: &str, line: Option<&str>) -> ModelEntry {
        ModelEntry {
            id: id.into(),
            display_name: id.into(),
            line: line.map(Into::into),
            created_at: created.parse().unwrap(),
        }
    }

    #[test]
    fn entries_keep_api_order_and_only_active_supported_models() {
        let models = vec![
            info(
                "claude-next-9",
                "2027-01-01T00:00:00Z",
                "active",
                Some("opus"),
            ),
            info(
                "claude-opus-4-8",
                "2026-02-01T00:00:00Z",
                "active",
                Some("opus"),
            ),
            info(
                "claude-sonnet-4-6",
                "2026-01-15T00:00:00Z",
                "active",
                Some("sonnet"),
            ),
            info(
                "claude-sonnet-4-6",
                "2026-01-15T00:00:00Z",
                "active",
                Some("sonnet"),
            ),
            info(
                "claude-sonnet-4-5-20250929",
                "2025-09-29T00:00:00Z",
                "deprecated",
                Some("sonnet"),
            ),
            info(
                "claude-3-haiku-20240307",
                "2024-03-07T00:00:00Z",
                "active",
                None,
            ),
        ];
        let ids = |v: Vec<ModelEntry>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(
            ids(entries(models.clone(), true)),
            ["claude-opus-4-8", "claude-sonnet-4-6"]
        );
        assert_eq!(
            ids(entries(models, false)),
            [
                "claude-next-9",
                "claude-opus-4-8",
                "claude-sonnet-4-6",
                "claude-3-haiku-20240307"
            ]
        );
    }

    #[test]
    fn entry_carries_line_and_display_name() {
        let e = entries(
            vec![info(
                "claude-opus-4-8",
                "2026-02-01T00:00:00Z",
                "active",
                Some("opus"),
            )],
            true,
        );
        assert_eq!(
            e,
            [ModelEntry {
                id: "claude-opus-4-8".into(),
                display_name: "CLAUDE-OPUS-4-8".into(),
                line: Some("opus".into()),
                created_at: "2026-02-01T00:00:00Z".parse().unwrap(),
            }]
        );
    }

    #[test]
    fn default_model_is_the_newest_sonnet() {
        let list = [
            entry("claude-opus-5-5", "2026-06-10T00:00:00Z", Some("opus")),
            entry("claude-sonnet-4-6", "2026-01-15T00:00:00Z", Some("sonnet")),
            entry("claude-sonnet-5-5", "2026-06-10T00:00:00Z", Some("sonnet")),
            entry(
                "claude-sonnet-5-5-b",
                "2026-06-10T00:00:00Z",
                Some("sonnet"),
            ),
        ];
        assert_eq!(default_model(&list).unwrap().id, "claude-sonnet-5-5");
    }

    #[test]
    fn default_model_falls_back_to_the_id_only_without_a_line() {
        let list = [
            entry("claude-opus-5-5", "2026-06-10T00:00:00Z", Some("opus")),
            // A line that is not sonnet wins over an id that says sonnet.
            entry("claude-sonnet-x", "2026-07-01T00:00:00Z", Some("fable")),
            entry("claude-sonnet-y", "2026-01-01T00:00:00Z", None),
        ];
        assert_eq!(default_model(&list).unwrap().id, "claude-sonnet-y");
        assert_eq!(default_model(&list[..2]), None);
        assert_eq!(default_model(&[]), None);
    }

    #[test]
    fn check_model_rejects_unknown_and_accepts_when_not_checked() {
        let known = vec!["claude-sonnet-4-6".to_owned(), "claude-opus-4-8".to_owned()];
        assert!(check_model("claude-opus-4-8", &known).is_ok());
        let err = check_model("claude-opus-9", &known).unwrap_err();
        assert!(
            matches!(&err, ModelError::Unknown { model, known: 2 } if model == "claude-opus-9"),
            "{err:?}"
        );
        assert!(err.to_string().contains("claude-opus-9"));
        assert!(check_model("anything", &[]).is_ok());
    }

    #[test]
    fn supported_list_is_the_reference_list() {
        assert_eq!(MANAGED_AGENTS_MODELS.len(), 19);
        assert!(is_managed_agents_model("claude-sonnet-4-6"));
        assert!(!is_managed_agents_model("claude-3-haiku-20240307"));
    }
}
