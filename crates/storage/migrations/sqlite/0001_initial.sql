-- pointerprint storage, SQLite schema version 1.
--
-- Blobs (`batches.payload`, `models.payload`) are XChaCha20-Poly1305 ciphertexts
-- (24-byte nonce || ciphertext || tag) whose associated data binds them to their row:
-- the database holds no plaintext pointer coordinates and no plaintext model.

-- Facts about the database itself. `key_id` is a public fingerprint of the key the
-- blobs are encrypted with, so a store opened with another key is refused at once.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

-- API keys: only the hex SHA-256 of a key is stored.
CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('ingest', 'secret', 'admin')),
    key_hash   TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
) STRICT;

-- Event batches as the browser sent them. A session belongs to one user; within it,
-- (session_id, seq) identifies a batch, so a retried upload is stored once.
CREATE TABLE batches (
    id          INTEGER PRIMARY KEY,
    user_id     TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    events      INTEGER NOT NULL CHECK (events >= 0),
    payload     BLOB NOT NULL,
    UNIQUE (session_id, seq)
) STRICT;
CREATE INDEX batches_user_session ON batches (user_id, session_id);
CREATE INDEX batches_received ON batches (received_ms);

-- The current model of each user.
CREATE TABLE models (
    user_id       TEXT PRIMARY KEY NOT NULL,
    payload       BLOB NOT NULL,
    summary_json  TEXT NOT NULL,
    trained_at_ms INTEGER NOT NULL
) STRICT;

-- Audit log of decisions.
CREATE TABLE decisions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      TEXT NOT NULL,
    session_id   TEXT,
    decision     TEXT NOT NULL,
    score        REAL NOT NULL,
    threshold    REAL NOT NULL,
    actions      INTEGER NOT NULL,
    reasons_json TEXT NOT NULL,
    created_ms   INTEGER NOT NULL
) STRICT;
CREATE INDEX decisions_created ON decisions (created_ms, id);
CREATE INDEX decisions_user_created ON decisions (user_id, created_ms, id);

-- Training queue. At most one queued-or-running job per user.
CREATE TABLE jobs (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id   TEXT NOT NULL,
    state     TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    error     TEXT,
    queued_ms INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX jobs_one_active_per_user ON jobs (user_id) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_state ON jobs (state, id);
CREATE INDEX jobs_user ON jobs (user_id);

-- Service settings: one opaque JSON document.
CREATE TABLE settings (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    json TEXT NOT NULL
) STRICT;
