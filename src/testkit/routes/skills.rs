//! `skills` endpoints of the fake (to be filled in).

use axum::Router;

use super::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
}
