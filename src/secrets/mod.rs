//! Encryption at rest for the built-in secret stores: master keys ([`MasterKey`]), a versioned
//! [`Keyring`] for rotation, the sealed form of a secret ([`Sealed`]) and the key file helper
//! ([`load_or_create_key_file`]). Masking for display lives with the value it masks
//! ([`ProviderKey::mask`](crate::domain::ProviderKey::mask)).
//!
//! # Scheme
//!
//! Every secret is sealed with **XChaCha20-Poly1305** (RustCrypto `chacha20poly1305`) under
//! the keyring's current master key, with a fresh random 192-bit nonce (random nonces are safe
//! at this size). The associated data binds the ciphertext to
//!
//! * a format label (`claude-agents/secret/v1`),
//! * the **key version** it was sealed under, and
//! * the **row** it belongs to (the secret's reference),
//!
//! so a ciphertext copied to another row, or relabelled with another key version, fails to
//! open ([`SecretsError::Decrypt`]) exactly like a tampered one.
//!
//! # Rotation
//!
//! A [`Keyring`] has one *current* key (used to seal) and any number of *retired* keys (used
//! only to open). Rotating the master key without downtime:
//!
//! 1. every instance gets a keyring whose current key is the new one and which still holds
//!    the old one as retired — reads of old rows keep working;
//! 2. the store re-encrypts the rows still sealed under other versions, one conditional write
//!    per row (see `SqliteSecretStore::rekey` with the `sqlite` feature);
//! 3. when no row uses the old version any more, it can be dropped from the keyring.
//!
//! With several instances, roll out step 1 in two phases (first add the new key as retired
//! everywhere, then make it current) so no instance meets a version it cannot open.
//!
//! Nothing here ever prints key material or plaintext: `Debug` shows key versions only and
//! errors carry the row reference at most.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::TryRngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use zeroize::Zeroizing;

/// Length of a master key in bytes (256 bits).
pub const KEY_LEN: usize = 32;
/// Length of a nonce in bytes (XChaCha20's 192 bits).
pub const NONCE_LEN: usize = 24;
/// Length of the authentication tag appended to every ciphertext.
pub const TAG_LEN: usize = 16;

/// Domain-separation label at the start of the associated data.
const AAD_LABEL: &[u8] = b"claude-agents/secret/v1\0";
/// First byte of [`Sealed::to_bytes`].
const BLOB_FORMAT: u8 = 1;

/// Errors of the encryption layer. None of them carries key material or plaintext.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// The ciphertext does not open under the key it names: tampered, moved to another row,
    /// relabelled with another key version, or sealed under a different key with the same
    /// version number.
    #[error("secret `{reference}` failed authentication (tampered, moved or wrong key)")]
    Decrypt {
        /// The row the ciphertext was read from.
        reference: String,
    },
    /// The ciphertext names a key version the keyring does not hold.
    #[error(
        "secret `{reference}` is sealed under key version {version}, which the keyring does not hold"
    )]
    UnknownKeyVersion {
        /// The row the ciphertext was read from.
        reference: String,
        /// The key version it names.
        version: u32,
    },
    /// A key (or a sealed blob) is not well formed.
    #[error("invalid key material: {0}")]
    InvalidKey(&'static str),
    /// The sealed blob is not well formed.
    #[error("malformed sealed secret: {0}")]
    Malformed(&'static str),
    /// The key file could not be read or written.
    #[error("key file {path}: {source}")]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key file is readable by others than its owner.
    #[error(
        "key file {path} has mode {mode:o}; it must not be accessible by group or others (chmod 600)"
    )]
    InsecureKeyFile {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// The plaintext or associated data is too long for the cipher.
    #[error("secret too long to seal")]
    TooLong,
}

/// A 256-bit master key. Held in a [`SecretBox`] (zeroed on drop); `Debug` prints nothing of it.
///
/// # Security
///
/// Whoever holds the master key can read every secret sealed under it. Keep it out of the
/// database it protects: a host KMS / secret manager, an environment variable, or a key file
/// readable only by the service user ([`load_or_create_key_file`]).
pub struct MasterKey(SecretBox<[u8; KEY_LEN]>);

impl MasterKey {
    /// A new random key from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, SecretsError> {
        let mut bytes = Box::new([0u8; KEY_LEN]);
        OsRng
            .try_fill_bytes(bytes.as_mut())
            .map_err(|_| SecretsError::Random)?;
        Ok(Self(SecretBox::new(bytes)))
    }

    /// A key from its 32 raw bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(SecretBox::new(Box::new(bytes)))
    }

    /// A key from its standard base64 form (44 characters; surrounding whitespace ignored),
    /// as written by [`MasterKey::to_base64`] and key files.
    pub fn from_base64(encoded: &SecretString) -> Result<Self, SecretsError> {
        let decoded = Zeroizing::new(
            BASE64
                .decode(encoded.expose_secret().trim())
                .map_err(|_| SecretsError::InvalidKey("master key is not valid base64"))?,
        );
        let bytes: [u8; KEY_LEN] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| SecretsError::InvalidKey("master key must be exactly 32 bytes"))?;
        let key = Self::from_bytes(bytes);
        // `bytes` was a copy on the stack; zero it explicitly.
        let mut bytes = bytes;
        zeroize::Zeroize::zeroize(&mut bytes);
        Ok(key)
    }

    /// The key in standard base64, as a secret.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(BASE64.encode(self.0.expose_secret()))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&Key::from(*self.0.expose_secret()))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([REDACTED])")
    }
}

/// A secret as stored: the key version it was sealed under, its nonce, and the ciphertext
/// with its tag. Safe to store anywhere: it reveals nothing without the master key, and only
/// opens for the row it was sealed for.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The master key version used.
    pub key_version: u32,
    /// The random nonce.
    pub nonce: [u8; NONCE_LEN],
    /// Ciphertext followed by the 16-byte tag.
    pub ciphertext: Vec<u8>,
}

impl Sealed {
    /// One self-describing blob (`format byte ‖ key version (BE) ‖ nonce ‖ ciphertext`), for
    /// stores that keep a secret in a single binary column.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 4 + NONCE_LEN + self.ciphertext.len());
        out.push(BLOB_FORMAT);
        out.extend_from_slice(&self.key_version.to_be_bytes());
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.ciphertext);
        out
    }

    /// Parses [`Sealed::to_bytes`]'s output.
    pub fn from_bytes(blob: &[u8]) -> Result<Self, SecretsError> {
        let (&format, rest) = blob
            .split_first()
            .ok_or(SecretsError::Malformed("empty blob"))?;
        if format != BLOB_FORMAT {
            return Err(SecretsError::Malformed("unknown format byte"));
        }
        if rest.len() < 4 + NONCE_LEN + TAG_LEN {
            return Err(SecretsError::Malformed("blob too short"));
        }
        let (version, rest) = rest.split_at(4);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        Ok(Self {
            key_version: u32::from_be_bytes(
                version
                    .try_into()
                    .map_err(|_| SecretsError::Malformed("blob too short"))?,
            ),
            nonce: nonce
                .try_into()
                .map_err(|_| SecretsError::Malformed("blob too short"))?,
            ciphertext: ciphertext.to_vec(),
        })
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("key_version", &self.key_version)
            .field("len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// Master keys by version: one current key seals, every key opens what it sealed.
pub struct Keyring {
    current: u32,
    keys: BTreeMap<u32, XChaCha20Poly1305>,
}

impl Keyring {
    /// A keyring with one key, current, at `version`.
    pub fn new(version: u32, key: MasterKey) -> Self {
        let mut keys = BTreeMap::new();
        keys.insert(version, key.cipher());
        Self {
            current: version,
            keys,
        }
    }

    /// Adds a retired key: used to open secrets sealed under `version`, never to seal.
    /// Adding the current version again is an error (it would silently replace the key).
    pub fn with_retired(mut self, version: u32, key: MasterKey) -> Result<Self, SecretsError> {
        if self.keys.contains_key(&version) {
            return Err(SecretsError::InvalidKey(
                "the keyring already holds a key with this version",
            ));
        }
        self.keys.insert(version, key.cipher());
        Ok(self)
    }

    /// The version new secrets are sealed under.
    pub fn current_version(&self) -> u32 {
        self.current
    }

    /// Every version the keyring can open, ascending.
    pub fn versions(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    /// Seals `plaintext` for the row `reference` under the current key.
    pub fn seal(&self, reference: &str, plaintext: &SecretString) -> Result<Sealed, SecretsError> {
        let cipher = self
            .keys
            .get(&self.current)
            .ok_or(SecretsError::InvalidKey("the current key is missing"))?;
        let mut nonce = [0u8; NONCE_LEN];
        OsRng
            .try_fill_bytes(&mut nonce)
            .map_err(|_| SecretsError::Random)?;
        let aad = aad(self.current, reference);
        let plain = plaintext.expose_secret().as_bytes();
        let mut buffer = Zeroizing::new(Vec::with_capacity(plain.len() + TAG_LEN));
        buffer.extend_from_slice(plain);
        cipher
            .encrypt_in_place(&XNonce::from(nonce), &aad, &mut *buffer)
            .map_err(|_| SecretsError::TooLong)?;
        Ok(Sealed {
            key_version: self.current,
            nonce,
            ciphertext: std::mem::take(&mut *buffer),
        })
    }

    /// Opens a secret read from the row `reference`.
    ///
    /// Fails with [`SecretsError::Decrypt`] if the ciphertext was altered, belongs to another
    /// row, or claims another key version; with [`SecretsError::UnknownKeyVersion`] if the
    /// keyring lacks its key.
    pub fn open(&self, reference: &str, sealed: &Sealed) -> Result<SecretString, SecretsError> {
        let cipher =
            self.keys
                .get(&sealed.key_version)
                .ok_or_else(|| SecretsError::UnknownKeyVersion {
                    reference: reference.to_owned(),
                    version: sealed.key_version,
                })?;
        let aad = aad(sealed.key_version, reference);
        let mut buffer = Zeroizing::new(sealed.ciphertext.clone());
        cipher
            .decrypt_in_place(&XNonce::from(sealed.nonce), &aad, &mut *buffer)
            .map_err(|_| SecretsError::Decrypt {
                reference: reference.to_owned(),
            })?;
        let text = std::str::from_utf8(&buffer).map_err(|_| SecretsError::Decrypt {
            reference: reference.to_owned(),
        })?;
        Ok(SecretString::from(text.to_owned()))
    }

    /// Opens `sealed` and seals it again under the current key (for master-key rotation).
    /// Returns `None` if it already uses the current key.
    pub fn reseal(&self, reference: &str, sealed: &Sealed) -> Result<Option<Sealed>, SecretsError> {
        if sealed.key_version == self.current {
            return Ok(None);
        }
        let plain = self.open(reference, sealed)?;
        self.seal(reference, &plain).map(Some)
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current)
            .field("versions", &self.versions())
            .finish()
    }
}

/// `label ‖ key version (BE) ‖ reference`: what the tag authenticates besides the plaintext.
fn aad(version: u32, reference: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_LABEL.len() + 4 + reference.len());
    aad.extend_from_slice(AAD_LABEL);
    aad.extend_from_slice(&version.to_be_bytes());
    aad.extend_from_slice(reference.as_bytes());
    aad
}

/// Loads the master key from `path`, creating the file with a new random key if it does not
/// exist — for local and single-machine use; production hosts should pass a key from their
/// secret manager ([`MasterKey::from_base64`]).
///
/// The file holds the key in base64 on one line. On Unix it is created with mode `0600`
/// (owner read/write only), atomically (`O_CREAT | O_EXCL`, so two processes racing to create
/// it end up with the same key), and an existing file that group or others can access is
/// refused with [`SecretsError::InsecureKeyFile`] rather than trusted. On other platforms
/// permissions are left to the operating system's defaults.
pub fn load_or_create_key_file(path: impl AsRef<Path>) -> Result<MasterKey, SecretsError> {
    let path = path.as_ref();
    let io = |source| SecretsError::KeyFile {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            let key = MasterKey::generate()?;
            let mut line = Zeroizing::new(key.to_base64().expose_secret().to_owned());
            line.push('\n');
            file.write_all(line.as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_key_file(path),
        Err(e) => Err(io(e)),
    }
}

fn read_key_file(path: &Path) -> Result<MasterKey, SecretsError> {
    let io = |source| SecretsError::KeyFile {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SecretsError::InsecureKeyFile {
                path: path.to_owned(),
                mode,
            });
        }
    }
    let mut text = Zeroizing::new(String::new());
    file.read_to_string(&mut text).map_err(io)?;
    if text.trim().is_empty() {
        // A racing creator has opened the file but not written it yet; or it was truncated.
        return Err(SecretsError::InvalidKey("the key file is empty"));
    }
    MasterKey::from_base64(&SecretString::from(text.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    fn ring(version: u32, byte: u8) -> Keyring {
        Keyring::new(version, MasterKey::from_bytes([byte; KEY_LEN]))
    }

    #[test]
    fn round_trip() {
        let ring = ring(1, 7);
        let sealed = ring.seal("ref/a", &secret("sk-ant-canary")).unwrap();
        assert_eq!(sealed.key_version, 1);
        assert_eq!(sealed.ciphertext.len(), "sk-ant-canary".len() + TAG_LEN);
        let opened = ring.open("ref/a", &sealed).unwrap();
        assert_eq!(opened.expose_secret(), "sk-ant-canary");
        let text = String::from_utf8_lossy(&sealed.to_bytes()).into_owned();
        assert!(!text.contains("canary"));
    }

    #[test]
    fn nonces_differ() {
        let ring = ring(1, 7);
        let a = ring.seal("r", &secret("same")).unwrap();
        let b = ring.seal("r", &secret("same")).unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn every_flipped_bit_is_rejected() {
        let ring = ring(1, 7);
        let sealed = ring.seal("r", &secret("value")).unwrap();
        for i in 0..sealed.ciphertext.len() * 8 {
            let mut bad = sealed.clone();
            bad.ciphertext[i / 8] ^= 1 << (i % 8);
            assert!(matches!(
                ring.open("r", &bad),
                Err(SecretsError::Decrypt { .. })
            ));
        }
        for i in 0..NONCE_LEN * 8 {
            let mut bad = sealed.clone();
            bad.nonce[i / 8] ^= 1 << (i % 8);
            assert!(matches!(
                ring.open("r", &bad),
                Err(SecretsError::Decrypt { .. })
            ));
        }
        let mut short = sealed.clone();
        short.ciphertext.truncate(3);
        assert!(ring.open("r", &short).is_err());
    }

    #[test]
    fn bound_to_row_and_version() {
        let old = MasterKey::from_bytes([1; KEY_LEN]);
        let ring = Keyring::new(2, MasterKey::from_bytes([2; KEY_LEN]))
            .with_retired(1, old)
            .unwrap();
        let sealed = ring.seal("row-a", &secret("v")).unwrap();
        match ring.open("row-b", &sealed) {
            Err(SecretsError::Decrypt { reference }) => assert_eq!(reference, "row-b"),
            other => panic!("moved ciphertext must be rejected, got {other:?}"),
        }
        let mut relabelled = sealed.clone();
        relabelled.key_version = 1;
        assert!(matches!(
            ring.open("row-a", &relabelled),
            Err(SecretsError::Decrypt { .. })
        ));
        relabelled.key_version = 9;
        assert!(matches!(
            ring.open("row-a", &relabelled),
            Err(SecretsError::UnknownKeyVersion { version: 9, .. })
        ));
        // Same version number, different key: rejected, not garbage.
        let other = self::ring(2, 3);
        assert!(matches!(
            other.open("row-a", &sealed),
            Err(SecretsError::Decrypt { .. })
        ));
    }

    #[test]
    fn reseal_moves_to_current_version() {
        let v1 = ring(1, 1);
        let sealed = v1.seal("r", &secret("value")).unwrap();
        let v2 = Keyring::new(2, MasterKey::from_bytes([2; KEY_LEN]))
            .with_retired(1, MasterKey::from_bytes([1; KEY_LEN]))
            .unwrap();
        let resealed = v2.reseal("r", &sealed).unwrap().unwrap();
        assert_eq!(resealed.key_version, 2);
        assert!(v2.reseal("r", &resealed).unwrap().is_none());
        assert_eq!(v2.open("r", &resealed).unwrap().expose_secret(), "value");
        // The old keyring cannot open the new seal.
        assert!(v1.open("r", &resealed).is_err());
        assert!(
            Keyring::new(2, MasterKey::from_bytes([2; KEY_LEN]))
                .with_retired(2, MasterKey::from_bytes([1; KEY_LEN]))
                .is_err()
        );
    }

    #[test]
    fn blob_round_trip_and_malformed() {
        let ring = ring(5, 9);
        let sealed = ring.seal("r", &secret("value")).unwrap();
        let back = Sealed::from_bytes(&sealed.to_bytes()).unwrap();
        assert_eq!(back, sealed);
        for bad in [&[][..], &[2, 0, 0, 0, 5][..], &sealed.to_bytes()[..20]] {
            assert!(matches!(
                Sealed::from_bytes(bad),
                Err(SecretsError::Malformed(_))
            ));
        }
    }

    #[test]
    fn debug_reveals_nothing() {
        let key = MasterKey::from_bytes([0x41; KEY_LEN]);
        let b64 = key.to_base64().expose_secret().to_owned();
        assert_eq!(format!("{key:?}"), "MasterKey([REDACTED])");
        let ring = Keyring::new(1, key);
        let sealed = ring.seal("r", &secret("plain")).unwrap();
        let out = format!("{ring:?} {sealed:?}");
        assert!(!out.contains(&b64) && !out.contains("plain") && !out.contains("65, 65"));
    }

    #[test]
    fn base64_keys() {
        let key = MasterKey::generate().unwrap();
        let again = MasterKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(key.0.expose_secret(), again.0.expose_secret());
        assert!(MasterKey::from_base64(&secret("not base64!")).is_err());
        assert!(MasterKey::from_base64(&secret("AAAA")).is_err());
    }

    #[test]
    fn key_file_created_private_and_reloaded() {
        let dir = std::env::temp_dir().join(format!("ca-key-{:x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("master.key");
        let first = load_or_create_key_file(&path).unwrap();
        let second = load_or_create_key_file(&path).unwrap();
        assert_eq!(first.0.expose_secret(), second.0.expose_secret());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                load_or_create_key_file(&path),
                Err(SecretsError::InsecureKeyFile { mode: 0o644, .. })
            ));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        std::fs::write(&path, "garbage").unwrap();
        assert!(matches!(
            load_or_create_key_file(&path),
            Err(SecretsError::InvalidKey(_))
        ));
        let missing_dir = dir.join("no/such/dir/master.key");
        assert!(matches!(
            load_or_create_key_file(&missing_dir),
            Err(SecretsError::KeyFile { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
