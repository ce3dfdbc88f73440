//! Wire types shared by several resource families: ids, metadata, money, deleted markers,
//! list pages, and the helper that serialises write-only secrets.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

use super::macros::string_id;

/// An RFC 3339 timestamp as the API sends it (`"2026-03-15T10:00:00Z"`, fractions allowed).
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// `metadata` on responses: string → string (≤ 16 pairs, keys ≤ 64 chars, values ≤ 512 chars).
pub type Metadata = BTreeMap<String, String>;

/// `metadata` on update requests: a patch where `Some(value)` upserts a key and `None` (sent as
/// JSON `null`) deletes it; keys not in the map are preserved.
pub type MetadataPatch = BTreeMap<String, Option<String>>;

string_id! {
    /// An agent id (`agent_…`).
    AgentId;
    /// An environment id (`env_…`).
    EnvironmentId;
    /// A session id (`sesn_…`).
    SessionId;
    /// A session event id (`sevt_…`). May be empty on interrupt echoes (reference sessions.md §10).
    EventId;
    /// A session resource id (`sesrsc_…`).
    ResourceId;
    /// A session thread id (`sthr_…`).
    ThreadId;
    /// A vault id (`vlt_…`).
    VaultId;
    /// A vault credential id (`vcrd_…`).
    CredentialId;
    /// A skill id (`skill_…`), or the short name of an Anthropic skill (`xlsx`).
    SkillId;
    /// A file id (`file_…`).
    FileId;
    /// A model id (`claude-sonnet-4-6`).
    ModelId;
}

/// An amount of money: `amount` is an integer decimal string in minor units (cents).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Integer amount in minor units, as a decimal string (`"2500"` = $25.00).
    pub amount: String,
    /// Currency code; `USD` is the only one today.
    pub currency: String,
}

impl Money {
    /// US dollars from a number of cents.
    pub fn usd_cents(cents: u64) -> Self {
        Self {
            amount: cents.to_string(),
            currency: "USD".to_owned(),
        }
    }

    /// The amount in minor units, if it parses as an integer.
    pub fn minor_units(&self) -> Option<i64> {
        self.amount.parse().ok()
    }
}

/// The body returned by `DELETE` endpoints: `{"id": "...", "type": "<thing>_deleted"}`.
///
/// Some endpoints are documented to answer `204 No Content` instead; the client turns an empty
/// body into a `Deleted` with the requested id and an empty `type`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    /// Id of the deleted object.
    pub id: String,
    /// `agent_deleted`, `session_deleted`, `vault_deleted`, … (empty when the server sent no body
    /// or no `type`, which `file_deleted` may omit; an empty value is not written back).
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
}

/// One page of a page-cursor list (reference README §5.1/5.2).
#[derive(Clone, Debug, Deserialize)]
pub struct CursorPage<T> {
    /// The items of this page.
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    /// Cursor for the next page; `None` on the last page.
    #[serde(default)]
    pub next_page: Option<String>,
    /// Cursor for the previous page (only `GET /v1/sessions`).
    #[serde(default)]
    pub prev_page: Option<String>,
}

/// One page of an id-based list (reference README §5.3, `GET /v1/models`).
#[derive(Clone, Debug, Deserialize)]
pub struct IdPage<T> {
    /// The items of this page.
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    /// Whether more items follow.
    #[serde(default)]
    pub has_more: bool,
    /// Id of the first item.
    #[serde(default)]
    pub first_id: Option<String>,
    /// Id of the last item (the next page's `after_id`).
    #[serde(default)]
    pub last_id: Option<String>,
}

/// Sort order for lists that accept `order`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Oldest first.
    Asc,
    /// Newest first.
    Desc,
}

impl Order {
    /// The query-string value.
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }
}

/// Serialises a write-only secret. Only request types use this; the value never appears in
/// `Debug` output because `SecretString` redacts it.
pub(crate) fn expose_secret<S: Serializer>(
    secret: &SecretString,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

/// Like [`expose_secret`] for `Option<SecretString>` fields (with `skip_serializing_if`).
pub(crate) fn expose_secret_opt<S: Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(s) => serializer.serialize_str(s.expose_secret()),
        None => serializer.serialize_none(),
    }
}

/// Like [`expose_secret`] for update fields `Option<Option<SecretString>>` (omit / null / value).
pub(crate) fn expose_secret_patch<S: Serializer>(
    secret: &Option<Option<SecretString>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(Some(s)) => serializer.serialize_str(s.expose_secret()),
        _ => serializer.serialize_none(),
    }
}
