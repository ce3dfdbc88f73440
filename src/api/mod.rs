//! Typed HTTP client for the Claude Managed Agents API: [`Client`], its configuration, retries,
//! pagination, the SSE event stream, and the wire DTOs in [`types`].
//!
//! This module knows nothing about tasks, stores or the domain model.

pub mod types;
