//! The domain's validation error.

use super::task::SessionState;

/// A broken validation rule (or an illegal state change). `field` is the path of the offending
/// value inside the validated object (`name`, `mcp_servers[1].url`, `rules[0]`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// A required value is empty (or only whitespace).
    #[error("`{field}` must not be empty")]
    Empty {
        /// Path of the field.
        field: String,
    },
    /// A value is longer than allowed (counted in characters).
    #[error("`{field}` must be at most {max} characters (got {len})")]
    TooLong {
        /// Path of the field.
        field: String,
        /// The limit.
        max: usize,
        /// The actual length.
        len: usize,
    },
    /// A list has more entries than allowed.
    #[error("`{field}` must have at most {max} entries (got {len})")]
    TooMany {
        /// Path of the field.
        field: String,
        /// The limit.
        max: usize,
        /// The actual count.
        len: usize,
    },
    /// A value breaks a format rule; `rule` says which, in words.
    #[error("`{field}` is invalid: {rule}")]
    Invalid {
        /// Path of the field.
        field: String,
        /// The rule that was broken.
        rule: String,
    },
    /// A value that must be unique within its list appears twice.
    #[error("`{field}` has a duplicate entry `{value}`")]
    Duplicate {
        /// Path of the list.
        field: String,
        /// The repeated value.
        value: String,
    },
    /// A project override was passed to [`resolve`](super::resolve) for another workspace,
    /// project or agent than the defaults it was resolved against.
    #[error("project override is for {what} `{found}`, expected `{expected}`")]
    OverrideMismatch {
        /// `workspace`, `project` or `agent`.
        what: &'static str,
        /// The id the defaults (or the caller) expected.
        expected: String,
        /// The id the override carries.
        found: String,
    },
    /// A session card cannot move from one state to another.
    #[error("session card cannot go from `{from}` to `{to}`")]
    IllegalTransition {
        /// The current state.
        from: SessionState,
        /// The requested state.
        to: SessionState,
    },
}

impl DomainError {
    /// The path of the offending field, when the error is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Empty { field }
            | Self::TooLong { field, .. }
            | Self::TooMany { field, .. }
            | Self::Invalid { field, .. }
            | Self::Duplicate { field, .. } => Some(field),
            Self::OverrideMismatch { .. } | Self::IllegalTransition { .. } => None,
        }
    }
}

impl DomainError {
    /// Prefixes the field path with `prefix` (`url` → `mcp_servers[1].url`).
    pub(crate) fn within(mut self, prefix: &str) -> Self {
        match &mut self {
            Self::Empty { field }
            | Self::TooLong { field, .. }
            | Self::TooMany { field, .. }
            | Self::Invalid { field, .. }
            | Self::Duplicate { field, .. } => *field = format!("{prefix}.{field}"),
            Self::OverrideMismatch { .. } | Self::IllegalTransition { .. } => {}
        }
        self
    }
}
