//! Placeholder: models (see reference).
