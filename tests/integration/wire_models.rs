//! Wire fixtures for the models family.
