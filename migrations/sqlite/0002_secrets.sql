-- SqliteStore schema, version 2: encrypted secrets for the SQLite SecretStore. Rows hold
-- only AEAD output (nonce + ciphertext, bound to the reference) and the version of the key
-- that sealed them; plaintext never reaches this database.
CREATE TABLE secrets (
    reference   TEXT PRIMARY KEY NOT NULL,
    key_version INTEGER NOT NULL,
    nonce       BLOB NOT NULL,
    ciphertext  BLOB NOT NULL,
    updated_at  TEXT NOT NULL
) WITHOUT ROWID;
