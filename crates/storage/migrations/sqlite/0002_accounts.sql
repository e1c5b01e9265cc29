-- pointerprint storage, SQLite schema version 2: people who sign in with a password.

-- Dashboard administrators and the demo site's users. Only an Argon2id hash of a
-- password is stored (a PHC string). Repeated failures lock an account for a while.
CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL CHECK (kind IN ('admin', 'demo')),
    username        TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    failed_logins   INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until_ms INTEGER NOT NULL DEFAULT 0,
    created_ms      INTEGER NOT NULL,
    UNIQUE (kind, username)
) STRICT;

-- Signed-in browsers: only the hex SHA-256 of a session cookie's token is stored, with
-- the session's CSRF token (sent in forms, never in a cookie).
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX web_sessions_expires ON web_sessions (expires_ms);
CREATE INDEX decisions_decision_created ON decisions (decision, created_ms, id);
