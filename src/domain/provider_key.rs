//! Anthropic API keys as the host sees them: a label, a reference to the secret, a masked form
//! for display, a validation status and the models the key last saw.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{DomainError, ProviderKeyId, SecretRef, Timestamp, WorkspaceId, validate};

/// Limit for a provider key's label.
const LABEL_MAX: usize = 100;
/// The public prefix of Anthropic API keys, shown as-is in the masked form.
const PREFIX: &str = "sk-ant-";
/// How many trailing characters of a key the masked form may show.
const TAIL: usize = 4;
/// A key must hide at least this many characters (besides the prefix) before any are shown.
const MIN_HIDDEN: usize = 12;

/// An Anthropic API key stored for a workspace.
///
/// The key itself lives only in the `SecretStore` (`secret` refers to it); `masked` is what
/// settings screens may show (see [`ProviderKey::mask`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderKey {
    /// Local id.
    pub id: ProviderKeyId,
    /// The workspace the key belongs to.
    pub workspace: WorkspaceId,
    /// Human-readable label (1–100 chars, single line).
    pub label: String,
    /// Where the secret is held.
    pub secret: SecretRef,
    /// The masked form for display, as produced by [`ProviderKey::mask`].
    pub masked: String,
    /// Whether the key was checked against the API, and the outcome.
    #[serde(default)]
    pub status: KeyStatus,
    /// Model ids the key could use when last checked (empty before the first check).
    #[serde(default)]
    pub models: Vec<String>,
}

/// The outcome of the last check of a provider key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeyStatus {
    /// Never checked (or changed since).
    #[default]
    Unvalidated,
    /// The API accepted the key.
    Valid {
        /// When the check happened.
        checked_at: Timestamp,
    },
    /// The API rejected the key (or the check failed for a reason the user must fix).
    Invalid {
        /// Why, in words fit for the settings screen (never containing the key).
        reason: String,
        /// When the check happened.
        checked_at: Timestamp,
    },
}

impl ProviderKey {
    /// The masked form of a raw key for display: `sk-ant-…` followed by the last 4 characters
    /// (`sk-ant-…x7Qa`).
    ///
    /// Never reveals more than 4 characters of the key besides the public `sk-ant-` prefix, and
    /// fewer when revealing them would be unsafe:
    /// * surrounding whitespace (a pasted newline) is ignored;
    /// * a key without the `sk-ant-` prefix shows only `…` + the last 4 characters;
    /// * the tail is shown only if at least 12 other characters stay hidden, and only if it is
    ///   plain ASCII letters, digits, `-` or `_` — short or odd keys mask to `sk-ant-…` or `…`.
    pub fn mask(raw: &SecretString) -> String {
        let key = raw.expose_secret().trim();
        let (prefix, rest) = match key.strip_prefix(PREFIX) {
            Some(rest) => (PREFIX, rest),
            None => ("", key),
        };
        let len = rest.chars().count();
        let mut out = String::with_capacity(prefix.len() + 3 + TAIL);
        out.push_str(prefix);
        out.push('…');
        if len >= MIN_HIDDEN + TAIL {
            let tail: String = rest.chars().skip(len - TAIL).collect();
            if tail
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                out.push_str(&tail);
            }
        }
        out
    }

    /// Checks the label (non-empty, ≤ 100 chars, single line), the ids, that `masked` looks
    /// like the output of [`ProviderKey::mask`] (`…` and at most 4 characters after it), and
    /// the model ids (non-empty, no whitespace, unique).
    pub fn validate(&self) -> Result<(), DomainError> {
        validate::id("id", self.id.as_str())?;
        validate::id("workspace", self.workspace.as_str())?;
        validate::name("label", &self.label, LABEL_MAX)?;
        validate::id("secret", self.secret.as_str())?;
        match self.masked.split_once('…') {
            Some((prefix, tail))
                if (prefix.is_empty() || prefix == PREFIX) && tail.chars().count() <= TAIL => {}
            _ => {
                return Err(validate::invalid(
                    "masked",
                    "must be the output of ProviderKey::mask (`sk-ant-…` + at most 4 characters)",
                ));
            }
        }
        if let KeyStatus::Invalid { reason, .. } = &self.status {
            validate::required_text("status.reason", reason, 1000)?;
        }
        for (i, m) in self.models.iter().enumerate() {
            validate::id(&validate::at("models", i), m)?;
        }
        validate::unique("models", &self.models, String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn mask(s: &str) -> String {
        ProviderKey::mask(&SecretString::from(s.to_owned()))
    }

    fn key() -> ProviderKey {
        ProviderKey {
            id: "pk_1".into(),
            workspace: "ws_1".into(),
            label: "Team key".into(),
            secret: "sec_1".into(),
            masked: mask("sk-ant-api03-abcdefghijklmnopqrstuvwxyz-Wxyz"),
            status: KeyStatus::Unvalidated,
            models: vec!["claude-sonnet-4-6".into()],
        }
    }

    #[test]
    fn masks_real_looking_keys() {
        assert_eq!(
            mask("sk-ant-api03-abcdefghijklmnopqrstuvwxyz-Wxyz"),
            "sk-ant-…Wxyz"
        );
        assert_eq!(
            mask("  sk-ant-api03-abcdefghijklmnop1234\n"),
            "sk-ant-…1234"
        );
    }

    #[test]
    fn masks_adversarial_keys() {
        for (raw, want) in [
            ("", "…"),
            ("a", "…"),
            ("ab", "…"),
            ("abc", "…"),
            ("abcd", "…"),
            ("abcde", "…"),
            ("sk-ant-", "sk-ant-…"),
            ("sk-ant-abcd", "sk-ant-…"),
            ("sk-ant-abcdefghijklmno", "sk-ant-…"), // 15 chars after the prefix
            ("sk-ant-abcdefghijklmnop", "sk-ant-…mnop"), // 16
            ("no-prefix-but-long-enough-1234", "…1234"),
            ("éééééééééééééééééééé", "…"), // multi-byte tail is not shown
            ("sk-ant-ééééééééééééé€€€€", "sk-ant-…"), // nor here
            ("sk-ant-abcdefghijklmn\u{0}\n\t\r", "sk-ant-…"),
            ("sk-ant-abcdefghijklmnopqr st", "sk-ant-…"),
        ] {
            assert_eq!(mask(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn validation_both_ways() {
        assert_eq!(key().validate(), Ok(()));
        let cases: Vec<(ProviderKey, &str)> = vec![
            (
                ProviderKey {
                    label: "".into(),
                    ..key()
                },
                "label",
            ),
            (
                ProviderKey {
                    label: "x".repeat(101),
                    ..key()
                },
                "label",
            ),
            (
                ProviderKey {
                    masked: "sk-ant-api03-abcdef".into(),
                    ..key()
                },
                "masked",
            ),
            (
                ProviderKey {
                    masked: "…abcde".into(),
                    ..key()
                },
                "masked",
            ),
            (
                ProviderKey {
                    secret: "".into(),
                    ..key()
                },
                "secret",
            ),
            (
                ProviderKey {
                    models: vec!["a".into(), "a".into()],
                    ..key()
                },
                "models",
            ),
            (
                ProviderKey {
                    models: vec!["".into()],
                    ..key()
                },
                "models[0]",
            ),
            (
                ProviderKey {
                    status: KeyStatus::Invalid {
                        reason: " ".into(),
                        checked_at: chrono::DateTime::UNIX_EPOCH,
                    },
                    ..key()
                },
                "status.reason",
            ),
        ];
        for (k, field) in cases {
            assert_eq!(k.validate().unwrap_err().field(), Some(field));
        }
    }

    #[test]
    fn status_round_trips() {
        let k = ProviderKey {
            status: KeyStatus::Invalid {
                reason: "401 authentication_error".into(),
                checked_at: chrono::DateTime::UNIX_EPOCH,
            },
            ..key()
        };
        let json = serde_json::to_value(&k).unwrap();
        assert_eq!(json["status"]["state"], "invalid");
        assert_eq!(serde_json::from_value::<ProviderKey>(json).unwrap(), k);
    }

    proptest! {
        #[test]
        fn mask_never_reveals_more_than_four_chars(raw in any::<String>()) {
            let masked = mask(&raw);
            let (prefix, tail) = masked.split_once('…').unwrap();
            prop_assert!(prefix.is_empty() || prefix == PREFIX);
            prop_assert!(tail.chars().count() <= TAIL);
            prop_assert!(raw.trim().ends_with(tail));
            // The masked form is always accepted by validation.
            let k = ProviderKey { masked, ..key() };
            prop_assert_eq!(k.validate(), Ok(()));
        }

        #[test]
        fn mask_of_prefixed_key(rest in "[A-Za-z0-9_-]{0,40}") {
            let masked = mask(&format!("sk-ant-{rest}"));
            prop_assert!(masked.starts_with("sk-ant-…"));
            if rest.len() >= 16 {
                prop_assert_eq!(&masked[masked.len() - 4..], &rest[rest.len() - 4..]);
            } else {
                prop_assert_eq!(masked, "sk-ant-…");
            }
        }

        #[test]
        fn validate_never_panics(label in any::<String>(), masked in any::<String>(), m in any::<String>()) {
            let _ = ProviderKey { label, masked, models: vec![m], ..key() }.validate();
        }
    }
}
