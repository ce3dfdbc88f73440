//! Wire fixtures for the skills family.
