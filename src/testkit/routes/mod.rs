//! The fake's routes, one module per endpoint family of the reference.

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::http::{self, ApiErr};
use super::state::Shared;

pub(crate) mod agents;
pub(crate) mod environments;
pub(crate) mod files;
pub(crate) mod models;
pub(crate) mod sessions;
pub(crate) mod skills;
pub(crate) mod vaults;

/// Shared state as every handler sees it.
pub(crate) type AppState = Arc<Shared>;

pub(crate) fn router(shared: AppState) -> Router {
    Router::new()
        .merge(agents::routes())
        .merge(environments::routes())
        .merge(vaults::routes())
        .merge(sessions::routes())
        .merge(skills::routes())
        .merge(models::routes())
        .merge(files::routes())
        .fallback(|uri: axum::http::Uri| async move {
            ApiErr::new(
                StatusCode::NOT_FOUND,
                "not_found_error",
                format!("Not found: {}", uri.path()),
            )
            .into_response()
        })
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            http::middleware,
        ))
        .with_state(shared)
}
