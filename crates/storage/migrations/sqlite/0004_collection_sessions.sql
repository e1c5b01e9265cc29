-- Collection sessions: a site's backend (holding a secret key) opens a session for one of
-- its users with a purpose, and the collector sends that session's events with a
-- short-lived token bound to it. Only the hex SHA-256 of a token is stored. Only events of
-- sessions opened for enrolment, or labelled `genuine` afterwards, ever train a model; a
-- `fraud` label excludes a session for good. A row with no purpose is a session that
-- arrived with a plain API key and was labelled afterwards.
-- Keep in step with migrations/postgres/0004_collection_sessions.sql.
CREATE TABLE collection_sessions (
    session_id TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL,
    purpose    TEXT CHECK (purpose IN ('enrol', 'verify', 'continuous')),
    token_hash TEXT UNIQUE,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    label      TEXT CHECK (label IN ('genuine', 'fraud'))
) STRICT;
CREATE INDEX collection_sessions_user ON collection_sessions (user_id);

-- Sessions stored before collection sessions existed trained today's models already: they
-- count as enrolment (label one `fraud` to leave it out of the next training).
INSERT INTO collection_sessions (session_id, user_id, purpose, created_ms, expires_ms)
SELECT session_id, min(user_id), 'enrol', min(received_ms), min(received_ms)
FROM batches GROUP BY session_id;
