//! Resource handles: `client.agents()`, `client.environments()`, `client.sessions()`,
//! `client.vaults()`, `client.skills()`, `client.models()`, `client.files()`. Each borrows the
//! [`Client`] and maps one endpoint family of the reference onto typed calls.
//!
//! Retry classes: creates and event sends are [`RequestKind::Create`] (never re-sent when they
//! may have reached the server); updates, archives, deletes and token rotations are
//! [`RequestKind::Idempotent`]; reads are [`RequestKind::Read`].

use super::client::Client;
#[cfg(doc)]
use super::retry::RequestKind;

pub mod agents;
pub mod environments;
pub mod files;
pub mod models;
pub mod sessions;
pub mod skills;
pub mod vaults;

pub use agents::Agents;
pub use environments::Environments;
pub use files::Files;
pub use models::Models;
pub use sessions::{SessionEvents, SessionResources, SessionThreads, Sessions};
pub use skills::{SkillVersions, Skills};
pub use vaults::{Credentials, Vaults};

impl Client {
    /// Agents and agent versions (`/v1/agents`).
    pub fn agents(&self) -> Agents<'_> {
        Agents { client: self }
    }
    /// Environments (`/v1/environments`).
    pub fn environments(&self) -> Environments<'_> {
        Environments { client: self }
    }
    /// Sessions, their events, resources and threads (`/v1/sessions`).
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions { client: self }
    }
    /// Vaults and their credentials (`/v1/vaults`).
    pub fn vaults(&self) -> Vaults<'_> {
        Vaults { client: self }
    }
    /// Skills and skill versions (`/v1/skills`).
    pub fn skills(&self) -> Skills<'_> {
        Skills { client: self }
    }
    /// Models (`/v1/models`).
    pub fn models(&self) -> Models<'_> {
        Models { client: self }
    }
    /// Files: upload, list, download, delete (`/v1/files`).
    pub fn files(&self) -> Files<'_> {
        Files { client: self }
    }
}

/// Percent-encodes an id for use as one path segment, so an id can never change the path.
pub(crate) fn seg(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_cannot_escape_their_path_segment() {
        assert_eq!(super::seg("agent_01Hq"), "agent_01Hq");
        assert_eq!(super::seg("../x?y#z"), "..%2Fx%3Fy%23z");
        assert_eq!(super::seg("é"), "%C3%A9");
    }
}
