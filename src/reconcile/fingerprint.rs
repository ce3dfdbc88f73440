//! Stable fingerprints: SHA-256 over canonical JSON for desired shapes, HMAC-SHA256 under a
//! per-installation key for secrets.
//!
//! Canonical JSON is `serde_json`'s compact form of a [`serde_json::Value`]: without the
//! `preserve_order` feature (this crate does not enable it, and a unit test below fails if
//! another crate in the build turns it on) object keys are kept in a `BTreeMap`, so they are
//! written sorted and two equal values always give the same bytes.

use hmac::{Hmac, KeyInit, Mac};
use rand::TryRngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::store::{SecretRef, SecretStore, StoreError};

/// Hex characters kept from a digest: 16 (64 bits) — enough to tell versions of one object
/// apart, short enough for metadata and status records.
const SHORT: usize = 16;

/// Where the per-installation HMAC key lives in the [`SecretStore`] (created on first use).
pub const FINGERPRINT_KEY_REF: &str = "claude_agents/reconcile/fingerprint_key";

/// Canonical JSON bytes of `value` (sorted object keys, compact).
pub(crate) fn canonical<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising our own plain data types to a `Value` cannot fail (string keys only); an
    // error would only lose fingerprint stability, so fall back to `null`.
    let v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    serde_json::to_vec(&v).unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The short SHA-256 fingerprint (16 hex chars) of `value`'s canonical JSON.
pub fn fingerprint<T: Serialize>(value: &T) -> String {
    let digest = Sha256::digest(canonical(value));
    let mut h = hex(&digest);
    h.truncate(SHORT);
    h
}

/// The short SHA-256 of a string (for showing long text in a plan without its content).
pub(crate) fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut h = hex(&digest);
    h.truncate(8);
    h
}

/// An HMAC-SHA256 key for fingerprinting secrets. `Debug` does not print it.
#[derive(Clone)]
pub struct SecretFingerprinter {
    key: SecretString,
}

impl std::fmt::Debug for SecretFingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretFingerprinter(..)")
    }
}

impl SecretFingerprinter {
    /// A fingerprinter with this key (tests; production code uses [`load_or_create`]).
    ///
    /// [`load_or_create`]: SecretFingerprinter::load_or_create
    pub fn new(key: SecretString) -> Self {
        Self { key }
    }

    /// The installation's key from `secrets` ([`FINGERPRINT_KEY_REF`]), created with 256
    /// random bits on first use.
    ///
    /// # Caveats
    /// Two processes creating the key at the same moment may both write one; the last write
    /// wins, and fingerprints made with the other key just differ once (one extra credential
    /// rotation), never leak anything.
    pub async fn load_or_create(secrets: &dyn SecretStore) -> Result<Self, StoreError> {
        let reference = SecretRef::from(FINGERPRINT_KEY_REF);
        if let Some(key) = secrets.get(&reference).await? {
            return Ok(Self { key });
        }
        let mut bytes = [0u8; 32];
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| StoreError::backend("random fingerprint key", e))?;
        let key = SecretString::from(hex(&bytes));
        secrets.put(&reference, key.clone()).await?;
        // Read back: if another process won a race, use its key.
        let key = secrets.get(&reference).await?.unwrap_or(key);
        Ok(Self { key })
    }

    /// The short HMAC-SHA256 (16 hex chars) of `value`'s canonical JSON. `value` holds secret
    /// material; only this keyed digest of it is ever stored.
    pub fn fingerprint<T: Serialize>(&self, value: &T) -> String {
        let bytes = zeroize::Zeroizing::new(canonical(value));
        let mut mac =
            match <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.expose_secret().as_bytes()) {
                Ok(mac) => mac,
                // HMAC accepts keys of any length.
                Err(_) => return String::new(),
            };
        mac.update(&bytes);
        let mut h = hex(&mac.finalize().into_bytes());
        h.truncate(SHORT);
        h
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::MemorySecretStore;

    #[test]
    fn canonical_json_sorts_keys() {
        let a = json!({"b": 1, "a": {"d": 2, "c": 3}});
        let b = json!({"a": {"c": 3, "d": 2}, "b": 1});
        assert_eq!(canonical(&a), br#"{"a":{"c":3,"d":2},"b":1}"#.to_vec());
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a).len(), 16);
        assert_ne!(fingerprint(&a), fingerprint(&json!({"b": 2})));
    }

    #[test]
    fn secret_fingerprints_depend_on_the_key() {
        let one = SecretFingerprinter::new(SecretString::from("k1".to_owned()));
        let two = SecretFingerprinter::new(SecretString::from("k2".to_owned()));
        let v = json!({"token": "1234"});
        assert_eq!(one.fingerprint(&v), one.fingerprint(&v));
        assert_ne!(one.fingerprint(&v), two.fingerprint(&v));
        assert_ne!(one.fingerprint(&v), fingerprint(&v));
        assert!(!format!("{one:?}").contains("k1"));
    }

    #[tokio::test]
    async fn the_key_is_created_once() {
        let secrets = MemorySecretStore::new();
        let a = SecretFingerprinter::load_or_create(&secrets).await.unwrap();
        let b = SecretFingerprinter::load_or_create(&secrets).await.unwrap();
        assert_eq!(a.fingerprint(&1), b.fingerprint(&1));
    }
}
