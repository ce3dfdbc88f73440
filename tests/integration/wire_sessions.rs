//! Wire fixtures for the sessions family.
