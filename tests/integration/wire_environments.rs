//! Wire fixtures for the environments family.
