//! Incoming Managed Agents webhooks: Standard Webhooks signature verification (HMAC-SHA256
//! over `{webhook-id}.{webhook-timestamp}.{raw body}`, `whsec_` secrets, `v1,` signatures,
//! a ±5 minute timestamp tolerance, several secrets during rotation) and the thin event
//! envelope (reference `models-webhooks-files.md` §B).
//!
//! Verify the **raw body bytes** as received, before parsing; deliveries may repeat, so
//! dedupe on [`WebhookEvent::id`] — [`WebhookVerifier::accept`] does both, recording the id in
//! the store's trigger ledger. Payloads carry ids only: fetch the object before acting on it.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use claude_agents::launch::webhook::{WebhookHeaders, WebhookVerifier};
//! use secrecy::SecretString;
//!
//! let verifier =
//!     WebhookVerifier::new(&SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))?;
//! let body = br#"{"type":"event","id":"wevt_1","created_at":"2021-02-25T15:02:10Z","data":{"type":"session.status_idled","id":"sesn_1","organization_id":"org_1","workspace_id":"wrkspc_1"}}"#;
//! let signature = verifier.sign("msg_1", 1_614_265_330, body);
//! let headers = WebhookHeaders { id: "msg_1", timestamp: "1614265330", signature: &signature };
//! let now = Utc.timestamp_opt(1_614_265_400, 0).single().unwrap_or_default();
//! let event = verifier.verify(&headers, body, now)?;
//! assert_eq!(event.data.kind, "session.status_idled");
//! assert_eq!(event.data.id, "sesn_1");
//! # Ok::<(), claude_agents::launch::webhook::WebhookError>(())
//! ```

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::Deserialize;
use sha2::Sha256;

/// How long a delivered event id is remembered by [`WebhookVerifier::accept`]: longer than
/// any retry schedule, so a redelivery is always recognised.
pub const DEFAULT_DEDUPE_WINDOW: std::time::Duration =
    std::time::Duration::from_secs(7 * 24 * 3600);

/// The default tolerance between a delivery's timestamp and now (the library's default).
pub const DEFAULT_TOLERANCE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Why a delivery was refused. Never carries the secret or the expected signature.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookError {
    /// The signing secret is not `whsec_` + base64.
    #[error("the webhook signing secret is not valid (expected `whsec_` followed by base64)")]
    InvalidSecret,
    /// A required header is missing or empty.
    #[error("missing webhook header `{0}`")]
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not a Unix time in seconds.
    #[error("invalid webhook-timestamp")]
    InvalidTimestamp,
    /// The timestamp is further from now than the tolerance (a replay, or a skewed clock).
    #[error("webhook timestamp is {skew_secs} s away from now (tolerance {tolerance_secs} s)")]
    Expired {
        /// `now - timestamp`, in seconds.
        skew_secs: i64,
        /// The tolerance, in seconds.
        tolerance_secs: i64,
    },
    /// No `v1` signature matches any configured secret.
    #[error("no webhook signature matches")]
    BadSignature,
    /// The verified body is not a webhook envelope.
    #[error("invalid webhook payload: {0}")]
    Payload(String),
}

/// What [`WebhookVerifier::accept`] made of a verified delivery.
#[derive(Clone, Debug, PartialEq)]
pub enum Delivery {
    /// First delivery of this event: act on it.
    New(WebhookEvent),
    /// The event was delivered before (a retry): answer 2xx and do nothing.
    Duplicate(WebhookEvent),
}

/// Why [`WebhookVerifier::accept`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// The delivery is not authentic or not an envelope: answer 4xx.
    #[error(transparent)]
    Verify(#[from] WebhookError),
    /// The trigger ledger could not be written: answer 5xx so the sender retries.
    #[error("recording the webhook event: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// The three Standard Webhooks headers of a delivery.
#[derive(Clone, Copy, Debug)]
pub struct WebhookHeaders<'a> {
    /// `webhook-id`: the message id (the same across retries).
    pub id: &'a str,
    /// `webhook-timestamp`: Unix time in seconds.
    pub timestamp: &'a str,
    /// `webhook-signature`: space-separated `v1,<base64>` entries.
    pub signature: &'a str,
}

impl<'a> WebhookHeaders<'a> {
    /// Reads them from an HTTP header map (missing or non-ASCII headers are an error).
    pub fn from_map(headers: &'a reqwest::header::HeaderMap) -> Result<Self, WebhookError> {
        let get = |name: &'static str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.trim().is_empty())
                .ok_or(WebhookError::MissingHeader(name))
        };
        Ok(Self {
            id: get("webhook-id")?,
            timestamp: get("webhook-timestamp")?,
            signature: get("webhook-signature")?,
        })
    }
}

/// A verified webhook envelope.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct WebhookEvent {
    /// The event id: dedupe deliveries on it.
    pub id: String,
    /// When the event occurred.
    pub created_at: DateTime<Utc>,
    /// What happened, to which object.
    pub data: WebhookData,
}

/// The `data` of a [`WebhookEvent`]: the event type and ids (never the object itself).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct WebhookData {
    /// `session.status_idled`, `agent.updated`, … — an open set: unknown types are kept.
    #[serde(rename = "type")]
    pub kind: String,
    /// The id of the object the event is about.
    pub id: String,
    /// The organisation.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// The workspace (absent on organisation-level events).
    #[serde(default)]
    pub workspace_id: Option<String>,
    /// Type-specific extra fields (`session_thread_id`, `vault_id`, …).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Verifies deliveries against one or more signing secrets (several while rotating).
pub struct WebhookVerifier {
    keys: Vec<SecretBox<Vec<u8>>>,
    tolerance: chrono::TimeDelta,
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("secrets", &self.keys.len())
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

fn decode_secret(secret: &SecretString) -> Result<SecretBox<Vec<u8>>, WebhookError> {
    let text = secret.expose_secret().trim();
    let encoded = text.strip_prefix("whsec_").unwrap_or(text);
    let key = BASE64
        .decode(encoded)
        .map_err(|_| WebhookError::InvalidSecret)?;
    if key.is_empty() {
        return Err(WebhookError::InvalidSecret);
    }
    Ok(SecretBox::new(Box::new(key)))
}

impl WebhookVerifier {
    /// A verifier for the endpoint's signing secret (`whsec_…`, shown once in the Console).
    pub fn new(secret: &SecretString) -> Result<Self, WebhookError> {
        Ok(Self {
            keys: vec![decode_secret(secret)?],
            tolerance: DEFAULT_TOLERANCE,
        })
    }

    /// Also accepts signatures made with `secret` (while rotating the endpoint's secret).
    pub fn with_secret(mut self, secret: &SecretString) -> Result<Self, WebhookError> {
        self.keys.push(decode_secret(secret)?);
        Ok(self)
    }

    /// Replaces the timestamp tolerance (default 5 minutes).
    pub fn with_tolerance(mut self, tolerance: chrono::TimeDelta) -> Self {
        self.tolerance = tolerance.abs();
        self
    }

    fn mac(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
            .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `webhook-signature` value for a delivery, signed with the first secret — for
    /// tests and for hosts relaying deliveries.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let ts = timestamp.to_string();
        let tag = self
            .keys
            .first()
            .map(|k| {
                Self::mac(k.expose_secret(), id, &ts, body)
                    .finalize()
                    .into_bytes()
            })
            .unwrap_or_default();
        format!("v1,{}", BASE64.encode(tag))
    }

    /// Checks the timestamp (within the tolerance of `now`) and the signatures (constant-time
    /// comparison; any `v1` entry matching any secret passes; other versions are ignored),
    /// then parses the envelope from the raw `body`.
    pub fn verify(
        &self,
        headers: &WebhookHeaders<'_>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<WebhookEvent, WebhookError> {
        for (name, value) in [
            ("webhook-id", headers.id),
            ("webhook-timestamp", headers.timestamp),
            ("webhook-signature", headers.signature),
        ] {
            if value.trim().is_empty() {
                return Err(WebhookError::MissingHeader(name));
            }
        }
        let ts: i64 = headers
            .timestamp
            .trim()
            .parse()
            .map_err(|_| WebhookError::InvalidTimestamp)?;
        let skew = now.timestamp().saturating_sub(ts);
        if skew.saturating_abs() > self.tolerance.num_seconds() {
            return Err(WebhookError::Expired {
                skew_secs: skew,
                tolerance_secs: self.tolerance.num_seconds(),
            });
        }
        let signatures: Vec<Vec<u8>> = headers
            .signature
            .split_ascii_whitespace()
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|sig| BASE64.decode(sig).ok())
            .collect();
        let ok = self.keys.iter().any(|key| {
            let mac = Self::mac(
                key.expose_secret(),
                headers.id,
                headers.timestamp.trim(),
                body,
            );
            signatures
                .iter()
                .any(|sig| mac.clone().verify_slice(sig).is_ok())
        });
        if !ok {
            return Err(WebhookError::BadSignature);
        }
        let event: WebhookEvent =
            serde_json::from_slice(body).map_err(|e| WebhookError::Payload(e.to_string()))?;
        Ok(event)
    }
}

impl WebhookVerifier {
    /// [`verify`](Self::verify), then records the event id in the store's trigger ledger
    /// (`webhook:{id}`, remembered for [`DEFAULT_DEDUPE_WINDOW`]) so a redelivered event is
    /// reported as [`Delivery::Duplicate`] — by this process or any other sharing the store.
    pub async fn accept(
        &self,
        store: &dyn crate::store::Store,
        headers: &WebhookHeaders<'_>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Delivery, AcceptError> {
        let event = self.verify(headers, body, now)?;
        let key = format!("webhook:{}", event.id);
        if store
            .record_trigger(&key, DEFAULT_DEDUPE_WINDOW, now)
            .await?
        {
            Ok(Delivery::New(event))
        } else {
            Ok(Delivery::Duplicate(event))
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    // The Standard Webhooks test vector, checked with the `standardwebhooks` Python library
    // (what the official SDK's `webhooks.unwrap` delegates to):
    // Webhook(SECRET).sign(ID, 1614265330, PAYLOAD) == SIGNATURE.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const PAYLOAD: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn verifier() -> WebhookVerifier {
        WebhookVerifier::new(&SecretString::from(SECRET)).unwrap()
    }

    fn at(ts: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(ts, 0).single().unwrap()
    }

    fn envelope() -> Vec<u8> {
        br#"{"type":"event","id":"wevt_011","created_at":"2026-03-15T10:05:06Z","data":{"type":"session.thread_created","id":"sesn_1","organization_id":"org","workspace_id":"wrkspc_1","session_thread_id":"sthr_1"}}"#.to_vec()
    }

    fn headers<'a>(ts: &'a str, sig: &'a str) -> WebhookHeaders<'a> {
        WebhookHeaders {
            id: ID,
            timestamp: ts,
            signature: sig,
        }
    }

    #[test]
    fn matches_the_reference_library() {
        assert_eq!(verifier().sign(ID, TS, PAYLOAD), SIGNATURE);
        // The vector's payload is not an envelope: the signature passes, parsing fails.
        let err = verifier()
            .verify(&headers("1614265330", SIGNATURE), PAYLOAD, at(TS))
            .unwrap_err();
        assert!(matches!(err, WebhookError::Payload(_)), "{err:?}");
    }

    #[test]
    fn verifies_and_parses_an_envelope() {
        let body = envelope();
        let sig = verifier().sign(ID, TS, &body);
        // Several entries, other versions ignored.
        let header = format!("v2,Zm9v v1,AAAA {sig}");
        let event = verifier()
            .verify(&headers("1614265330", &header), &body, at(TS + 299))
            .unwrap();
        assert_eq!(event.id, "wevt_011");
        assert_eq!(event.data.kind, "session.thread_created");
        assert_eq!(event.data.workspace_id.as_deref(), Some("wrkspc_1"));
        assert_eq!(event.data.extra["session_thread_id"], "sthr_1");
    }

    #[test]
    fn refuses_tampering_replays_and_wrong_secrets() {
        let body = envelope();
        let sig = verifier().sign(ID, TS, &body);
        let v = verifier();
        let mut tampered = body.clone();
        tampered[10] ^= 1;
        assert_eq!(
            v.verify(&headers("1614265330", &sig), &tampered, at(TS)),
            Err(WebhookError::BadSignature)
        );
        // Another message id or timestamp is a different signed content.
        let other = WebhookHeaders {
            id: "msg_other",
            ..headers("1614265330", &sig)
        };
        assert_eq!(
            v.verify(&other, &body, at(TS)),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            v.verify(&headers("1614265331", &sig), &body, at(TS)),
            Err(WebhookError::BadSignature)
        );
        assert!(matches!(
            v.verify(&headers("1614265330", &sig), &body, at(TS + 301)),
            Err(WebhookError::Expired { skew_secs: 301, .. })
        ));
        assert!(matches!(
            v.verify(&headers("1614265330", &sig), &body, at(TS - 301)),
            Err(WebhookError::Expired { .. })
        ));
        let wrong = WebhookVerifier::new(&SecretString::from("whsec_c2VjcmV0")).unwrap();
        assert_eq!(
            wrong.verify(&headers("1614265330", &sig), &body, at(TS)),
            Err(WebhookError::BadSignature)
        );
        // Rotation: the old secret still verifies once added.
        let rotating = wrong.with_secret(&SecretString::from(SECRET)).unwrap();
        assert!(
            rotating
                .verify(&headers("1614265330", &sig), &body, at(TS))
                .is_ok()
        );
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let v = verifier();
        assert_eq!(
            v.verify(&headers("soon", "v1,AAAA"), b"{}", at(TS)),
            Err(WebhookError::InvalidTimestamp)
        );
        assert_eq!(
            v.verify(&headers("", "v1,AAAA"), b"{}", at(TS)),
            Err(WebhookError::MissingHeader("webhook-timestamp"))
        );
        assert_eq!(
            v.verify(&headers("1614265330", "v1,not base64!"), b"{}", at(TS)),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            v.verify(&headers("99999999999999999999", "v1,AAAA"), b"{}", at(TS)),
            Err(WebhookError::InvalidTimestamp)
        );
        assert!(matches!(
            v.verify(&headers(&i64::MIN.to_string(), "v1,AAAA"), b"{}", at(TS)),
            Err(WebhookError::Expired { .. })
        ));
        for bad in ["whsec_!!!", "whsec_", ""] {
            assert_eq!(
                WebhookVerifier::new(&SecretString::from(bad)).unwrap_err(),
                WebhookError::InvalidSecret
            );
        }
        let debug = format!("{v:?}");
        assert!(!debug.contains("MfKQ9r8"), "{debug}");
    }

    #[tokio::test]
    async fn accept_reports_redeliveries_as_duplicates() {
        let store = crate::store::MemoryStore::new();
        let v = verifier();
        let body = envelope();
        let sig = v.sign(ID, TS, &body);
        let first = v
            .accept(&store, &headers("1614265330", &sig), &body, at(TS))
            .await
            .unwrap();
        assert!(matches!(first, Delivery::New(ref e) if e.id == "wevt_011"));
        // The sender retries the same message (same webhook-id, new timestamp and signature).
        let sig2 = v.sign(ID, TS + 60, &body);
        let again = v
            .accept(&store, &headers("1614265390", &sig2), &body, at(TS + 60))
            .await
            .unwrap();
        assert!(matches!(again, Delivery::Duplicate(_)));
        // A forged delivery never reaches the ledger.
        let err = v
            .accept(&store, &headers("1614265330", "v1,AAAA"), &body, at(TS))
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            AcceptError::Verify(WebhookError::BadSignature)
        ));
    }

    #[test]
    fn headers_from_a_header_map() {
        let mut map = reqwest::header::HeaderMap::new();
        map.insert("webhook-id", ID.parse().unwrap());
        map.insert("webhook-timestamp", "1614265330".parse().unwrap());
        assert_eq!(
            WebhookHeaders::from_map(&map).unwrap_err(),
            WebhookError::MissingHeader("webhook-signature")
        );
        map.insert("webhook-signature", SIGNATURE.parse().unwrap());
        let h = WebhookHeaders::from_map(&map).unwrap();
        assert_eq!(
            (h.id, h.timestamp, h.signature),
            (ID, "1614265330", SIGNATURE)
        );
    }
}
