//! Wire fixtures for the events family.
