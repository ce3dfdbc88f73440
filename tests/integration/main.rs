#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Integration tests: one binary, one module per area.

mod client;
mod endpoint_support;
mod endpoints_agents;
mod endpoints_environments;
mod endpoints_files;
mod endpoints_models;
mod endpoints_sessions;
mod endpoints_skills;
mod endpoints_vaults;
mod fixtures;
mod follow;
mod follow_http;
#[cfg(feature = "testkit")]
mod keys;
#[cfg(feature = "testkit")]
mod launch;
#[cfg(feature = "testkit")]
mod launch_bridge;
#[cfg(feature = "testkit")]
mod launch_faults;
#[cfg(all(feature = "sqlite", feature = "testkit"))]
mod launch_sqlite;
#[cfg(feature = "testkit")]
mod reconcile;
#[cfg(feature = "testkit")]
mod reconcile_connected;
#[cfg(feature = "testkit")]
mod reconcile_skills;
mod retry;
#[cfg(feature = "testkit")]
mod store_memory;
mod store_records;
#[cfg(all(feature = "sqlite", feature = "testkit"))]
mod store_sqlite;
#[cfg(all(feature = "sqlite", feature = "testkit"))]
mod store_sqlite_secrets;
mod support;
#[cfg(feature = "testkit")]
mod testkit_agents;
#[cfg(feature = "testkit")]
mod testkit_faults;
#[cfg(feature = "testkit")]
mod testkit_follow;
#[cfg(feature = "testkit")]
mod testkit_resources;
#[cfg(feature = "testkit")]
mod testkit_sessions;
mod wire_agents;
mod wire_environments;
mod wire_events;
mod wire_files;
mod wire_models;
mod wire_sessions;
mod wire_skills;
mod wire_vaults;
