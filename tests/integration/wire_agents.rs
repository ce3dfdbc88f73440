//! Wire fixtures for the agents family.
