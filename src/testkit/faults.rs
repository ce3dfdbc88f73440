//! Fault injection for the fake (per instance): added latency, error bursts, cut or stalled
//! event streams, and responses dropped after the write was committed.
//!
//! PLACEHOLDER: the API below is the contract the routes compile against; the faults work
//! fills in the behaviour.

use bytes::Bytes;
use futures_util::stream::BoxStream;

use super::state::Shared;

/// Wraps the byte stream of an SSE response with the stream faults armed for it (cut after N
/// events, cut at a byte offset, stall). The SSE route calls this on every stream it serves;
/// `session_id` lets faults target one session.
#[allow(dead_code)] // called by the sessions routes
pub(crate) fn wrap_sse(
    _shared: &Shared,
    _session_id: &str,
    body: BoxStream<'static, Bytes>,
) -> BoxStream<'static, Bytes> {
    body
}
