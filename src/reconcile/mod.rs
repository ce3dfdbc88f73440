//! The reconciler: agent specs kept in sync with Anthropic.

pub mod skill_sync;
