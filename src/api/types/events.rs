//! Placeholder: events (see reference).
