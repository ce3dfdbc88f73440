//! Typed HTTP client for the Claude Managed Agents API: [`Client`], its configuration, retries,
//! pagination, the SSE event stream, and the wire DTOs in [`types`].
//!
//! This module knows nothing about tasks, stores or the domain model.

mod client;
mod error;
pub mod follow;
pub mod resources;
pub mod retry;
pub mod sse;
pub mod types;

pub use client::{
    AuthStyle, Client, ClientBuilder, DEFAULT_API_VERSION, DEFAULT_BASE_URL, FILES_API_BETA,
    ItemStream, MANAGED_AGENTS_BETA, SKILLS_LEGACY_BETA,
};
pub use error::{ApiError, Error, Operation, Result};
pub use retry::{RequestKind, RetryPolicy};
