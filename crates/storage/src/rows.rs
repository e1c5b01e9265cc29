//! Turning fetched rows into records, the same for every backend. No SQL here.

use pointerprint_core::Recording;

use crate::codec;
use crate::{
    Account, AccountKind, Cipher, CollectionSession, DecisionRecord, Job, JobState, KeyRecord,
    Label, Purpose, Role, SessionEvents, StorageError, WebSession,
};

pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(crate) fn role_of(s: &str) -> Result<Role, StorageError> {
    s.parse()
        .map_err(|e| StorageError::Corrupt(format!("api_keys.role: {e}")))
}

pub(crate) fn state_of(s: &str) -> Result<JobState, StorageError> {
    JobState::parse(s)
        .ok_or_else(|| StorageError::Corrupt(format!("jobs.state: unknown state '{s}'")))
}

pub(crate) fn stale_key() -> StorageError {
    StorageError::Crypto(
        "the database's key has been rotated since this store was opened: \
         use the store returned by rotate, or reopen with the new key"
            .to_string(),
    )
}

pub(crate) type KeyRow = (i64, String, String, i64, bool);
pub(crate) type JobRow = (i64, String, String, Option<String>, i64);
pub(crate) type DecisionRow = (
    i64,
    String,
    Option<String>,
    String,
    f64,
    f64,
    i64,
    String,
    i64,
);

pub(crate) fn key_record(
    (id, name, role, created_ms, revoked): KeyRow,
) -> Result<KeyRecord, StorageError> {
    Ok(KeyRecord {
        id,
        name,
        role: role_of(&role)?,
        created_ms,
        revoked,
    })
}

pub(crate) fn job_record(
    (id, user_id, state, error, queued_ms): JobRow,
) -> Result<Job, StorageError> {
    Ok(Job {
        id,
        user_id,
        state: state_of(&state)?,
        error,
        queued_ms,
    })
}

pub(crate) fn decision_record(row: DecisionRow) -> DecisionRecord {
    let (id, user_id, session_id, decision, score, threshold, actions, reasons_json, created_ms) =
        row;
    DecisionRecord {
        id,
        user_id,
        session_id,
        decision,
        score,
        threshold,
        actions,
        reasons_json,
        created_ms,
    }
}

/// Appends a decrypted batch to a session being assembled.
pub(crate) fn append_batch(
    cipher: &Cipher,
    session: &mut SessionEvents,
    seq: i64,
    payload: &[u8],
) -> Result<(), StorageError> {
    let batch = codec::open_batch(cipher, &session.user_id, &session.session_id, seq, payload)?;
    session.recording.events.extend_from_slice(&batch.events);
    if batch.screen.is_some() {
        session.recording.screen = batch.screen;
    }
    session.batches += 1;
    Ok(())
}

pub(crate) fn new_session(session_id: String, user_id: String) -> SessionEvents {
    SessionEvents {
        session_id,
        user_id,
        recording: Recording::default(),
        batches: 0,
    }
}

pub(crate) type AccountRow = (i64, String, String, String, i64, i64, i64);
/// A web session's csrf token, created and expiry times, then its account's columns.
pub(crate) type WebSessionRow = (String, i64, i64, i64, String, String, String, i64, i64, i64);
/// The columns of an [`AccountRow`], for `concat!` (sqlx takes only static SQL).
macro_rules! account_columns {
    () => {
        "id, kind, username, password_hash, failed_logins, locked_until_ms, created_ms"
    };
}
pub(crate) use account_columns;

pub(crate) fn account_record(
    (id, kind, username, password_hash, failed, locked_until_ms, created_ms): AccountRow,
) -> Result<Account, StorageError> {
    Ok(Account {
        id,
        kind: AccountKind::parse(&kind).ok_or_else(|| {
            StorageError::Corrupt(format!("accounts.kind: unknown kind '{kind}'"))
        })?,
        username,
        password_hash,
        failed_logins: u32::try_from(failed).unwrap_or(u32::MAX),
        locked_until_ms,
        created_ms,
    })
}

pub(crate) fn web_session_record(row: WebSessionRow) -> Result<WebSession, StorageError> {
    let (csrf_token, created_ms, expires_ms, id, kind, name, hash, failed, locked, since) = row;
    Ok(WebSession {
        account: account_record((id, kind, name, hash, failed, locked, since))?,
        csrf_token,
        created_ms,
        expires_ms,
    })
}

/// A collection session's columns, in the order of [`collection_session_columns`].
pub(crate) type CollectionSessionRow = (
    String,
    String,
    Option<String>,
    bool,
    i64,
    i64,
    Option<String>,
);
/// The columns of a [`CollectionSessionRow`], for `concat!` (sqlx takes only static SQL).
macro_rules! collection_session_columns {
    () => {
        "session_id, user_id, purpose, token_hash IS NOT NULL, created_ms, expires_ms, label"
    };
}
pub(crate) use collection_session_columns;

pub(crate) fn collection_session_record(
    (session_id, user_id, purpose, has_token, created_ms, expires_ms, label): CollectionSessionRow,
) -> Result<CollectionSession, StorageError> {
    let corrupt = |what: &str, value: &str| {
        StorageError::Corrupt(format!(
            "collection_sessions.{what}: unknown value '{value}'"
        ))
    };
    Ok(CollectionSession {
        session_id,
        user_id,
        purpose: purpose
            .map(|p| Purpose::parse(&p).ok_or_else(|| corrupt("purpose", &p)))
            .transpose()?,
        has_token,
        created_ms,
        expires_ms,
        label: label
            .map(|l| Label::parse(&l).ok_or_else(|| corrupt("label", &l)))
            .transpose()?,
    })
}
