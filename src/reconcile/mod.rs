//! Reconciling what the host configured with what exists at Anthropic: the model picker
//! ([`models`]) and bounded, rate-limited
//! fan-out over many agents ([`fanout`]).

pub mod fanout;
pub mod models;
