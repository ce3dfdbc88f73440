#![doc = include_str!("../README.md")]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod domain;
pub mod instructions;
pub mod keys;
pub mod launch;
pub mod reconcile;
pub mod secrets;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;
