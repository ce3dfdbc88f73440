-- SqliteStore schema, version 1: versioned records, the session event logs and their cursors.
-- Applied once by SqliteStore::open (embedded at compile time). Never edit a released
-- migration: its checksum is recorded in _sqlx_migrations; add a new file instead.

-- Versioned JSON records of every Collection. A delete keeps the row as a tombstone
-- (value NULL) with its last revision, so a re-created key continues from that revision and
-- a key's revisions strictly increase (Store contract item 3).
CREATE TABLE records (
    collection TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT,
    revision   INTEGER NOT NULL,
    PRIMARY KEY (collection, key)
) WITHOUT ROWID;

-- One row per stored event of a session log; seq is 1, 2, 3, ... per session without gaps
-- (contract item 7). The log is idempotent on (session, event_id, processed).
CREATE TABLE session_events (
    session   TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    event_id  TEXT NOT NULL,
    processed INTEGER NOT NULL,
    payload   TEXT NOT NULL,
    PRIMARY KEY (session, seq),
    UNIQUE (session, event_id, processed)
);

-- The sequence of each session's last stored event, moved in the append's transaction
-- (contract item 8).
CREATE TABLE session_cursors (
    session TEXT PRIMARY KEY NOT NULL,
    cursor  INTEGER NOT NULL
) WITHOUT ROWID;
