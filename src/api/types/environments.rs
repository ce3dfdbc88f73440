//! Placeholder: environments (see reference).
