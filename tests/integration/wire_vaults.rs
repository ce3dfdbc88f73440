//! Wire fixtures for the vaults family.
