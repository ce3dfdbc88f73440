//! Placeholder: skills (see reference).
