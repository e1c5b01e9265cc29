-- pointerprint storage, PostgreSQL schema version 1: the same tables as
-- migrations/sqlite/0001_initial.sql, in PostgreSQL's types. Keep the two in step.
--
-- Blobs (`batches.payload`, `models.payload`) are XChaCha20-Poly1305 ciphertexts
-- (24-byte nonce || ciphertext || tag) whose associated data binds them to their row:
-- the database holds no plaintext pointer coordinates and no plaintext model.

-- Facts about the database itself. `key_id` is a public fingerprint of the key the
-- blobs are encrypted with, so a store opened with another key is refused at once.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- API keys: only the hex SHA-256 of a key is stored.
CREATE TABLE api_keys (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('ingest', 'secret', 'admin')),
    key_hash   TEXT NOT NULL UNIQUE,
    created_ms BIGINT NOT NULL,
    revoked    BOOLEAN NOT NULL DEFAULT FALSE
);

-- Event batches as the browser sent them. A session belongs to one user; within it,
-- (session_id, seq) identifies a batch, so a retried upload is stored once.
CREATE TABLE batches (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    events      BIGINT NOT NULL CHECK (events >= 0),
    payload     BYTEA NOT NULL,
    UNIQUE (session_id, seq)
);
CREATE INDEX batches_user_session ON batches (user_id, session_id);
CREATE INDEX batches_received ON batches (received_ms);

-- The current model of each user.
CREATE TABLE models (
    user_id       TEXT PRIMARY KEY NOT NULL,
    payload       BYTEA NOT NULL,
    summary_json  TEXT NOT NULL,
    trained_at_ms BIGINT NOT NULL
);

-- Audit log of decisions.
CREATE TABLE decisions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      TEXT NOT NULL,
    session_id   TEXT,
    decision     TEXT NOT NULL,
    score        DOUBLE PRECISION NOT NULL,
    threshold    DOUBLE PRECISION NOT NULL,
    actions      BIGINT NOT NULL,
    reasons_json TEXT NOT NULL,
    created_ms   BIGINT NOT NULL
);
CREATE INDEX decisions_created ON decisions (created_ms, id);
CREATE INDEX decisions_user_created ON decisions (user_id, created_ms, id);

-- Training queue. At most one queued-or-running job per user.
CREATE TABLE jobs (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id   TEXT NOT NULL,
    state     TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    error     TEXT,
    queued_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX jobs_one_active_per_user ON jobs (user_id) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_state ON jobs (state, id);
CREATE INDEX jobs_user ON jobs (user_id);

-- Service settings: one opaque JSON document.
CREATE TABLE settings (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    json TEXT NOT NULL
);
