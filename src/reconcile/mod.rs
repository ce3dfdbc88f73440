//! Reconciling what the host configured with what exists at Anthropic: connected-mode pickers
//! and validation ([`connected`]), the model picker ([`models`]), bounded, rate-limited
//! fan-out over many agents ([`fanout`]) and custom skill uploads ([`skill_sync`]).

pub mod connected;
pub mod fanout;
pub mod models;
pub mod skill_sync;
