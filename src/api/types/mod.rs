//! Wire DTOs for the Managed Agents API, named exactly as in `shared/reference`.
//!
//! Conventions (DESIGN.md decision 1):
//! * Responses derive `Deserialize` (and `Serialize`, so fixtures round-trip); requests derive
//!   only `Serialize`. Every `Option` on a response tolerates both an absent field and `null`.
//! * Update requests use `Option<Option<T>>`: outer `None` omits the field (preserve), `Some(None)`
//!   sends `null` (clear), `Some(Some(v))` sets it.
//! * Every `type`-tagged union keeps unknown variants as `Other(serde_json::Value)`.
//! * Write-only secrets are [`secrecy::SecretString`] and exist only on request types.

pub(crate) mod macros;

pub mod agents;
pub mod common;
pub mod environments;
pub mod events;
pub mod files;
pub mod models;
pub mod sessions;
pub mod skills;
pub mod vaults;

pub use common::*;
