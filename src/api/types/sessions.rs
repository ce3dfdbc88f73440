//! Placeholder: sessions (see reference).
