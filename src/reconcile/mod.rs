//! Reconciling what the host configured with what exists at Anthropic: connected-mode pickers
//! and validation ([`connected`]), the model picker ([`models`]) and bounded, rate-limited
//! fan-out over many agents ([`fanout`]).

pub mod connected;
pub mod fanout;
pub mod models;
