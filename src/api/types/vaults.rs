//! Placeholder: vaults (see reference).
