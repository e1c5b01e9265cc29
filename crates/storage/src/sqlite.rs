//! The SQLite backend: every SQL statement of the store for SQLite is in this module.
//!
//! One file, WAL journal, `synchronous = NORMAL` (a committed transaction survives the
//! process being killed; a power cut may lose the last commits but never corrupts the
//! file). Writes go through a pool of one connection, so writers queue in the process
//! instead of spinning on SQLite's lock; reads use a pool of several connections, which
//! WAL lets run beside the writer. The busy timeout (5 s) covers other processes that
//! open the same file.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::codec;
use crate::{
    Account, AccountKind, Cipher, DecisionCount, DecisionQuery, DecisionRecord, Erased, Inserted,
    Job, JobState, KeyRecord, NewBatch, NewDecision, Role, SessionEvents, StorageError,
    StoredModel, UserStats, WebSession,
};
use pointerprint_core::Recording;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Connections of the read pool.
const READERS: u32 = 4;
/// Rows deleted per transaction by the retention purge, so ingestion is not held up.
const PURGE_CHUNK: i64 = 2000;
/// Rows re-encrypted per fetch during key rotation.
const ROTATE_CHUNK: i64 = 500;

#[derive(Debug, Clone)]
pub(crate) struct SqliteDb {
    writer: SqlitePool,
    reader: SqlitePool,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn role_of(s: &str) -> Result<Role, StorageError> {
    s.parse()
        .map_err(|e| StorageError::Corrupt(format!("api_keys.role: {e}")))
}

fn state_of(s: &str) -> Result<JobState, StorageError> {
    JobState::parse(s)
        .ok_or_else(|| StorageError::Corrupt(format!("jobs.state: unknown state '{s}'")))
}

fn stale_key() -> StorageError {
    StorageError::Crypto(
        "the database's key has been rotated since this store was opened: \
         use the store returned by rotate, or reopen with the new key"
            .to_string(),
    )
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

type KeyRow = (i64, String, String, i64, i64);
type JobRow = (i64, String, String, Option<String>, i64);
type DecisionRow = (
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

fn key_record((id, name, role, created_ms, revoked): KeyRow) -> Result<KeyRecord, StorageError> {
    Ok(KeyRecord {
        id,
        name,
        role: role_of(&role)?,
        created_ms,
        revoked: revoked != 0,
    })
}

fn job_record((id, user_id, state, error, queued_ms): JobRow) -> Result<Job, StorageError> {
    Ok(Job {
        id,
        user_id,
        state: state_of(&state)?,
        error,
        queued_ms,
    })
}

type AccountRow = (i64, String, String, String, i64, i64, i64);
/// A web session's csrf token, created and expiry times, then its account's columns.
type WebSessionRow = (String, i64, i64, i64, String, String, String, i64, i64, i64);
/// The columns of an [`AccountRow`], for `concat!` (sqlx takes only static SQL).
macro_rules! account_columns {
    () => {
        "id, kind, username, password_hash, failed_logins, locked_until_ms, created_ms"
    };
}

fn account_record(
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

fn decision_record(row: DecisionRow) -> DecisionRecord {
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
fn append_batch(
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

fn new_session(session_id: String, user_id: String) -> SessionEvents {
    SessionEvents {
        session_id,
        user_id,
        recording: Recording::default(),
        batches: 0,
    }
}

impl SqliteDb {
    pub(crate) async fn open(path: &Path, cipher: &Cipher) -> Result<SqliteDb, StorageError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StorageError::io_at(parent, "create the directory", e))?;
        }
        create_private(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // Erased and purged rows are overwritten, not just unlinked.
            .pragma("secure_delete", "ON");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        let db = SqliteDb { writer, reader };

        // The first key to open the database is its key; any other is refused here,
        // before anything is written with it.
        sqlx::query(
            "INSERT INTO meta (name, value) VALUES ('key_id', ?1) ON CONFLICT (name) DO NOTHING",
        )
        .bind(cipher.key_id())
        .execute(&db.writer)
        .await?;
        let stored: String = sqlx::query_scalar("SELECT value FROM meta WHERE name = 'key_id'")
            .fetch_one(&db.writer)
            .await?;
        if stored != cipher.key_id() {
            return Err(StorageError::Crypto(format!(
                "cannot decrypt {}: wrong key or damaged data (the database was encrypted with \
                 key id {stored}, this key's id is {})",
                path.display(),
                cipher.key_id()
            )));
        }

        // Jobs a crashed process was running go back to the queue.
        sqlx::query("UPDATE jobs SET state = 'queued' WHERE state = 'running'")
            .execute(&db.writer)
            .await?;
        Ok(db)
    }

    pub(crate) async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    // ---- API keys ----

    pub(crate) async fn create_key(
        &self,
        name: &str,
        role: Role,
        key_hash: &str,
    ) -> Result<KeyRecord, StorageError> {
        let created_ms = now_ms();
        let result = sqlx::query_scalar::<_, i64>(
            "INSERT INTO api_keys (name, role, key_hash, created_ms) VALUES (?1, ?2, ?3, ?4) RETURNING id",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(key_hash)
        .bind(created_ms)
        .fetch_one(&self.writer)
        .await;
        match result {
            Ok(id) => Ok(KeyRecord {
                id,
                name: name.to_string(),
                role,
                created_ms,
                revoked: false,
            }),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(
                StorageError::Conflict("an API key with this hash already exists".to_string()),
            ),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn key_by_hash(
        &self,
        key_hash: &str,
    ) -> Result<Option<KeyRecord>, StorageError> {
        sqlx::query_as::<_, KeyRow>(
            "SELECT id, name, role, created_ms, revoked FROM api_keys WHERE key_hash = ?1",
        )
        .bind(key_hash)
        .fetch_optional(&self.reader)
        .await?
        .map(key_record)
        .transpose()
    }

    pub(crate) async fn list_keys(&self) -> Result<Vec<KeyRecord>, StorageError> {
        sqlx::query_as::<_, KeyRow>(
            "SELECT id, name, role, created_ms, revoked FROM api_keys ORDER BY id",
        )
        .fetch_all(&self.reader)
        .await?
        .into_iter()
        .map(key_record)
        .collect()
    }

    pub(crate) async fn revoke_key(&self, id: i64) -> Result<bool, StorageError> {
        let done = sqlx::query("UPDATE api_keys SET revoked = 1 WHERE id = ?1")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    // ---- event batches ----

    pub(crate) async fn insert_batch(
        &self,
        cipher: &Cipher,
        batch: &NewBatch<'_>,
    ) -> Result<Inserted, StorageError> {
        let payload = codec::seal_batch(
            cipher,
            batch.user_id,
            batch.session_id,
            batch.seq,
            batch.events,
            batch.screen,
        )?;
        let events = i64::try_from(batch.events.len()).unwrap_or(i64::MAX);
        // One statement: stored unless the (session, seq) exists, the session belongs to
        // another user, or the key was rotated under this store.
        let done = sqlx::query(
            "INSERT INTO batches (user_id, session_id, seq, received_ms, events, payload) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6 \
             WHERE (SELECT value FROM meta WHERE name = 'key_id') = ?7 \
               AND coalesce((SELECT user_id FROM batches WHERE session_id = ?2 LIMIT 1), ?1) = ?1 \
             ON CONFLICT (session_id, seq) DO NOTHING",
        )
        .bind(batch.user_id)
        .bind(batch.session_id)
        .bind(batch.seq)
        .bind(batch.received_ms)
        .bind(events)
        .bind(payload)
        .bind(cipher.key_id())
        .execute(&self.writer)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(Inserted::Stored);
        }
        // Rare path: say why nothing was written.
        let (key_id, owner, exists): (Option<String>, Option<String>, bool) = sqlx::query_as(
            "SELECT (SELECT value FROM meta WHERE name = 'key_id'), \
                    (SELECT user_id FROM batches WHERE session_id = ?1 LIMIT 1), \
                    EXISTS (SELECT 1 FROM batches WHERE session_id = ?1 AND seq = ?2)",
        )
        .bind(batch.session_id)
        .bind(batch.seq)
        .fetch_one(&self.writer)
        .await?;
        if key_id.as_deref() != Some(cipher.key_id()) {
            return Err(stale_key());
        }
        match owner {
            Some(owner) if owner != batch.user_id => Err(StorageError::Conflict(format!(
                "session '{}' belongs to another user",
                batch.session_id
            ))),
            _ if exists => Ok(Inserted::Duplicate),
            _ => Err(StorageError::Conflict(format!(
                "batch {} of session '{}' was not stored; retry",
                batch.seq, batch.session_id
            ))),
        }
    }

    pub(crate) async fn session_events(
        &self,
        cipher: &Cipher,
        session_id: &str,
    ) -> Result<Option<SessionEvents>, StorageError> {
        let rows = sqlx::query_as::<_, (String, i64, Vec<u8>)>(
            "SELECT user_id, seq, payload FROM batches WHERE session_id = ?1 ORDER BY seq",
        )
        .bind(session_id)
        .fetch_all(&self.reader)
        .await?;
        let mut rows = rows.into_iter();
        let Some((user_id, seq, payload)) = rows.next() else {
            return Ok(None);
        };
        let mut session = new_session(session_id.to_string(), user_id);
        append_batch(cipher, &mut session, seq, &payload)?;
        for (user_id, seq, payload) in rows {
            if user_id != session.user_id {
                return Err(StorageError::Corrupt(format!(
                    "session '{session_id}' has batches of two users"
                )));
            }
            append_batch(cipher, &mut session, seq, &payload)?;
        }
        Ok(Some(session))
    }

    pub(crate) async fn user_sessions(
        &self,
        cipher: &Cipher,
        user_id: &str,
    ) -> Result<Vec<SessionEvents>, StorageError> {
        let rows = sqlx::query_as::<_, (String, i64, Vec<u8>)>(
            "SELECT b.session_id, b.seq, b.payload \
             FROM batches b \
             JOIN (SELECT session_id, min(id) AS first FROM batches WHERE user_id = ?1 \
                   GROUP BY session_id) s ON s.session_id = b.session_id \
             WHERE b.user_id = ?1 \
             ORDER BY s.first, b.seq",
        )
        .bind(user_id)
        .fetch_all(&self.reader)
        .await?;
        let mut sessions: Vec<SessionEvents> = Vec::new();
        for (session_id, seq, payload) in rows {
            if sessions.last().is_none_or(|s| s.session_id != session_id) {
                sessions.push(new_session(session_id, user_id.to_string()));
            }
            let session = sessions.last_mut().expect("pushed above");
            append_batch(cipher, session, seq, &payload)?;
        }
        Ok(sessions)
    }

    pub(crate) async fn purge_events_before(&self, before_ms: i64) -> Result<u64, StorageError> {
        let mut removed = 0u64;
        loop {
            let events: Vec<i64> = sqlx::query_scalar(
                "DELETE FROM batches WHERE id IN \
                   (SELECT id FROM batches WHERE received_ms < ?1 ORDER BY received_ms LIMIT ?2) \
                 RETURNING events",
            )
            .bind(before_ms)
            .bind(PURGE_CHUNK)
            .fetch_all(&self.writer)
            .await?;
            removed += events.iter().map(|&n| count(n)).sum::<u64>();
            if events.len() < PURGE_CHUNK as usize {
                return Ok(removed);
            }
        }
    }

    // ---- models ----

    pub(crate) async fn put_model(
        &self,
        cipher: &Cipher,
        user_id: &str,
        model: &[u8],
        summary_json: &str,
        trained_at_ms: i64,
    ) -> Result<(), StorageError> {
        let payload = codec::seal_model(cipher, user_id, model);
        let done = sqlx::query(
            "INSERT INTO models (user_id, payload, summary_json, trained_at_ms) \
             SELECT ?1, ?2, ?3, ?4 WHERE (SELECT value FROM meta WHERE name = 'key_id') = ?5 \
             ON CONFLICT (user_id) DO UPDATE SET payload = excluded.payload, \
               summary_json = excluded.summary_json, trained_at_ms = excluded.trained_at_ms",
        )
        .bind(user_id)
        .bind(payload)
        .bind(summary_json)
        .bind(trained_at_ms)
        .bind(cipher.key_id())
        .execute(&self.writer)
        .await?;
        if done.rows_affected() == 0 {
            return Err(stale_key());
        }
        Ok(())
    }

    pub(crate) async fn model(
        &self,
        cipher: &Cipher,
        user_id: &str,
    ) -> Result<Option<StoredModel>, StorageError> {
        let row = sqlx::query_as::<_, (Vec<u8>, String, i64)>(
            "SELECT payload, summary_json, trained_at_ms FROM models WHERE user_id = ?1",
        )
        .bind(user_id)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|(payload, summary_json, trained_at_ms)| {
            Ok(StoredModel {
                bytes: codec::open_model(cipher, user_id, &payload)?,
                summary_json,
                trained_at_ms,
            })
        })
        .transpose()
    }

    // ---- users ----

    pub(crate) async fn users(&self) -> Result<Vec<UserStats>, StorageError> {
        let rows = sqlx::query_as::<_, (String, i64, i64, i64, Option<i64>)>(
            "WITH b AS (SELECT user_id, sum(events) AS events, count(*) AS batches, \
                               count(DISTINCT session_id) AS sessions \
                        FROM batches GROUP BY user_id), \
                  ids AS (SELECT user_id FROM b UNION SELECT user_id FROM models \
                          UNION SELECT user_id FROM decisions) \
             SELECT ids.user_id, coalesce(b.events, 0), coalesce(b.batches, 0), \
                    coalesce(b.sessions, 0), m.trained_at_ms \
             FROM ids LEFT JOIN b ON b.user_id = ids.user_id \
                      LEFT JOIN models m ON m.user_id = ids.user_id \
             ORDER BY ids.user_id",
        )
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(user_id, events, batches, sessions, model_trained_at_ms)| UserStats {
                    user_id,
                    events: count(events),
                    batches: count(batches),
                    sessions: count(sessions),
                    model_trained_at_ms,
                },
            )
            .collect())
    }

    pub(crate) async fn user(&self, user_id: &str) -> Result<Option<UserStats>, StorageError> {
        let (events, batches, sessions, model_trained_at_ms, decided): (
            i64,
            i64,
            i64,
            Option<i64>,
            bool,
        ) = sqlx::query_as(
            "SELECT coalesce(sum(events), 0), count(*), count(DISTINCT session_id), \
                    (SELECT trained_at_ms FROM models WHERE user_id = ?1), \
                    EXISTS (SELECT 1 FROM decisions WHERE user_id = ?1) \
             FROM batches WHERE user_id = ?1",
        )
        .bind(user_id)
        .fetch_one(&self.reader)
        .await?;
        if batches == 0 && model_trained_at_ms.is_none() && !decided {
            return Ok(None);
        }
        Ok(Some(UserStats {
            user_id: user_id.to_string(),
            events: count(events),
            batches: count(batches),
            sessions: count(sessions),
            model_trained_at_ms,
        }))
    }

    pub(crate) async fn erase_user(&self, user_id: &str) -> Result<Erased, StorageError> {
        self.remove_user(user_id, true).await
    }

    pub(crate) async fn reset_user(&self, user_id: &str) -> Result<Erased, StorageError> {
        self.remove_user(user_id, false).await
    }

    /// Removes a user's batches, model and jobs, and with `decisions` their audit log too.
    async fn remove_user(&self, user_id: &str, decisions: bool) -> Result<Erased, StorageError> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let (batches, events): (i64, i64) = sqlx::query_as(
            "SELECT count(*), coalesce(sum(events), 0) FROM batches WHERE user_id = ?1",
        )
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM batches WHERE user_id = ?1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let models = sqlx::query("DELETE FROM models WHERE user_id = ?1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let decisions = if decisions {
            sqlx::query("DELETE FROM decisions WHERE user_id = ?1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        } else {
            0
        };
        sqlx::query("DELETE FROM jobs WHERE user_id = ?1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Erased {
            batches: count(batches),
            events: count(events),
            models,
            decisions,
        })
    }

    // ---- decisions ----

    pub(crate) async fn insert_decision(&self, d: &NewDecision<'_>) -> Result<i64, StorageError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO decisions (user_id, session_id, decision, score, threshold, actions, \
                                    reasons_json, created_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
        )
        .bind(d.user_id)
        .bind(d.session_id)
        .bind(d.decision)
        .bind(d.score)
        .bind(d.threshold)
        .bind(d.actions)
        .bind(d.reasons_json)
        .bind(d.created_ms)
        .fetch_one(&self.writer)
        .await?)
    }

    pub(crate) async fn decisions(
        &self,
        q: &DecisionQuery<'_>,
    ) -> Result<Vec<DecisionRecord>, StorageError> {
        let rows: Vec<DecisionRow> = sqlx::query_as(
            "SELECT id, user_id, session_id, decision, score, threshold, actions, \
                    reasons_json, created_ms \
             FROM decisions WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR decision = ?2) \
                              AND (?3 IS NULL OR created_ms >= ?3) AND (?4 IS NULL OR created_ms < ?4) \
             ORDER BY created_ms DESC, id DESC LIMIT ?5 OFFSET ?6",
        )
        .bind(q.user_id)
        .bind(q.decision)
        .bind(q.from_ms)
        .bind(q.to_ms)
        .bind(i64::from(q.limit))
        .bind(i64::try_from(q.offset).unwrap_or(i64::MAX))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(decision_record).collect())
    }

    pub(crate) async fn count_decisions(&self, q: &DecisionQuery<'_>) -> Result<u64, StorageError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM decisions \
             WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR decision = ?2) \
               AND (?3 IS NULL OR created_ms >= ?3) AND (?4 IS NULL OR created_ms < ?4)",
        )
        .bind(q.user_id)
        .bind(q.decision)
        .bind(q.from_ms)
        .bind(q.to_ms)
        .fetch_one(&self.reader)
        .await?;
        Ok(count(n))
    }

    pub(crate) async fn decision_counts(
        &self,
        from_ms: i64,
        bucket_ms: i64,
    ) -> Result<Vec<DecisionCount>, StorageError> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT created_ms - created_ms % ?2 AS bucket, decision, COUNT(*) \
             FROM decisions WHERE created_ms >= ?1 \
             GROUP BY bucket, decision ORDER BY bucket, decision",
        )
        .bind(from_ms)
        .bind(bucket_ms.max(1))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(bucket_ms, decision, n)| DecisionCount {
                bucket_ms,
                decision,
                count: count(n),
            })
            .collect())
    }

    // ---- training queue ----

    pub(crate) async fn enqueue_training(&self, user_id: &str) -> Result<i64, StorageError> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let active: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE user_id = ?1 AND state IN ('queued', 'running')",
        )
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let id = match active {
            Some(id) => id,
            None => {
                sqlx::query_scalar(
                    "INSERT INTO jobs (user_id, state, queued_ms) VALUES (?1, 'queued', ?2) \
                     RETURNING id",
                )
                .bind(user_id)
                .bind(now_ms())
                .fetch_one(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        Ok(id)
    }

    pub(crate) async fn claim_job(&self) -> Result<Option<Job>, StorageError> {
        sqlx::query_as::<_, JobRow>(
            "UPDATE jobs SET state = 'running' \
             WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1) \
             RETURNING id, user_id, state, error, queued_ms",
        )
        .fetch_optional(&self.writer)
        .await?
        .map(job_record)
        .transpose()
    }

    pub(crate) async fn finish_job(
        &self,
        id: i64,
        error: Option<&str>,
    ) -> Result<(), StorageError> {
        let state = if error.is_some() {
            JobState::Failed
        } else {
            JobState::Done
        };
        sqlx::query("UPDATE jobs SET state = ?2, error = ?3 WHERE id = ?1")
            .bind(id)
            .bind(state.as_str())
            .bind(error)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub(crate) async fn job(&self, id: i64) -> Result<Option<Job>, StorageError> {
        sqlx::query_as::<_, JobRow>(
            "SELECT id, user_id, state, error, queued_ms FROM jobs WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await?
        .map(job_record)
        .transpose()
    }

    // ---- settings ----

    pub(crate) async fn settings(&self) -> Result<Option<String>, StorageError> {
        Ok(sqlx::query_scalar("SELECT json FROM settings WHERE id = 1")
            .fetch_optional(&self.reader)
            .await?)
    }

    pub(crate) async fn put_settings(&self, json: &str) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO settings (id, json) VALUES (1, ?1) \
             ON CONFLICT (id) DO UPDATE SET json = excluded.json",
        )
        .bind(json)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    // ---- accounts and web sessions ----

    pub(crate) async fn create_account(
        &self,
        kind: AccountKind,
        username: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<Account, StorageError> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO accounts (kind, username, password_hash, created_ms) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (kind, username) DO NOTHING RETURNING id",
        )
        .bind(kind.as_str())
        .bind(username)
        .bind(password_hash)
        .bind(now_ms)
        .fetch_optional(&self.writer)
        .await?;
        match id {
            Some(id) => Ok(Account {
                id,
                kind,
                username: username.to_string(),
                password_hash: password_hash.to_string(),
                failed_logins: 0,
                locked_until_ms: 0,
                created_ms: now_ms,
            }),
            None => Err(StorageError::Conflict(format!(
                "a {kind} account named '{username}' already exists"
            ))),
        }
    }

    pub(crate) async fn account(
        &self,
        kind: AccountKind,
        username: &str,
    ) -> Result<Option<Account>, StorageError> {
        let row: Option<AccountRow> = sqlx::query_as(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE kind = ?1 AND username = ?2"
        ))
        .bind(kind.as_str())
        .bind(username)
        .fetch_optional(&self.reader)
        .await?;
        row.map(account_record).transpose()
    }

    pub(crate) async fn accounts(&self, kind: AccountKind) -> Result<Vec<Account>, StorageError> {
        let rows: Vec<AccountRow> = sqlx::query_as(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE kind = ?1 ORDER BY username"
        ))
        .bind(kind.as_str())
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(account_record).collect()
    }

    pub(crate) async fn set_password(
        &self,
        account_id: i64,
        password_hash: &str,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE accounts SET password_hash = ?2, failed_logins = 0, locked_until_ms = 0 \
             WHERE id = ?1",
        )
        .bind(account_id)
        .bind(password_hash)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub(crate) async fn record_login_failure(
        &self,
        account_id: i64,
        now_ms: i64,
        limit: u32,
        lock_ms: i64,
    ) -> Result<Option<Account>, StorageError> {
        let row: Option<AccountRow> = sqlx::query_as(concat!(
            "UPDATE accounts SET \
                 locked_until_ms = CASE WHEN failed_logins + 1 >= ?3 THEN ?2 + ?4 \
                                        ELSE locked_until_ms END, \
                 failed_logins = CASE WHEN failed_logins + 1 >= ?3 THEN 0 \
                                      ELSE failed_logins + 1 END \
             WHERE id = ?1 RETURNING ",
            account_columns!()
        ))
        .bind(account_id)
        .bind(now_ms)
        .bind(i64::from(limit.max(1)))
        .bind(lock_ms)
        .fetch_optional(&self.writer)
        .await?;
        row.map(account_record).transpose()
    }

    pub(crate) async fn record_login_success(&self, account_id: i64) -> Result<(), StorageError> {
        sqlx::query("UPDATE accounts SET failed_logins = 0 WHERE id = ?1 AND failed_logins <> 0")
            .bind(account_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub(crate) async fn create_web_session(
        &self,
        token_hash: &str,
        account_id: i64,
        csrf_token: &str,
        created_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StorageError> {
        let done = sqlx::query(
            "INSERT INTO web_sessions (token_hash, account_id, csrf_token, created_ms, expires_ms) \
             SELECT ?1, id, ?3, ?4, ?5 FROM accounts WHERE id = ?2",
        )
        .bind(token_hash)
        .bind(account_id)
        .bind(csrf_token)
        .bind(created_ms)
        .bind(expires_ms)
        .execute(&self.writer)
        .await;
        match done {
            Ok(done) if done.rows_affected() == 1 => Ok(()),
            Ok(_) => Err(StorageError::Conflict(format!(
                "no account with id {account_id}"
            ))),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(
                StorageError::Conflict("a web session with this token already exists".to_string()),
            ),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn web_session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<WebSession>, StorageError> {
        let row: Option<WebSessionRow> = sqlx::query_as(
            "SELECT s.csrf_token, s.created_ms, s.expires_ms, a.id, a.kind, a.username, \
                        a.password_hash, a.failed_logins, a.locked_until_ms, a.created_ms \
                 FROM web_sessions s JOIN accounts a ON a.id = s.account_id \
                 WHERE s.token_hash = ?1 AND s.expires_ms > ?2",
        )
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(&self.reader)
        .await?;
        let Some((csrf_token, created_ms, expires_ms, id, kind, name, hash, failed, locked, since)) =
            row
        else {
            return Ok(None);
        };
        Ok(Some(WebSession {
            account: account_record((id, kind, name, hash, failed, locked, since))?,
            csrf_token,
            created_ms,
            expires_ms,
        }))
    }

    pub(crate) async fn delete_web_session(&self, token_hash: &str) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM web_sessions WHERE token_hash = ?1")
            .bind(token_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub(crate) async fn purge_web_sessions(&self, now_ms: i64) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM web_sessions WHERE expires_ms <= ?1")
            .bind(now_ms)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }

    // ---- key rotation ----

    pub(crate) async fn rotate(&self, from: &Cipher, to: &Cipher) -> Result<(), StorageError> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE name = 'key_id'")
                .fetch_optional(&mut *tx)
                .await?;
        if current.as_deref() != Some(from.key_id()) {
            return Err(stale_key());
        }

        let mut after = i64::MIN;
        loop {
            let rows = sqlx::query_as::<_, (i64, String, String, i64, Vec<u8>)>(
                "SELECT id, user_id, session_id, seq, payload FROM batches \
                 WHERE id > ?1 ORDER BY id LIMIT ?2",
            )
            .bind(after)
            .bind(ROTATE_CHUNK)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.0;
            for (id, user_id, session_id, seq, payload) in rows {
                let payload = codec::reseal_batch(from, to, &user_id, &session_id, seq, &payload)?;
                sqlx::query("UPDATE batches SET payload = ?2 WHERE id = ?1")
                    .bind(id)
                    .bind(payload)
                    .execute(&mut *tx)
                    .await?;
            }
        }

        let mut after = String::new();
        loop {
            let rows = sqlx::query_as::<_, (String, Vec<u8>)>(
                "SELECT user_id, payload FROM models WHERE user_id > ?1 ORDER BY user_id LIMIT ?2",
            )
            .bind(&after)
            .bind(ROTATE_CHUNK)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.0.clone();
            for (user_id, payload) in rows {
                let payload = codec::reseal_model(from, to, &user_id, &payload)?;
                sqlx::query("UPDATE models SET payload = ?2 WHERE user_id = ?1")
                    .bind(&user_id)
                    .bind(payload)
                    .execute(&mut *tx)
                    .await?;
            }
        }

        sqlx::query("UPDATE meta SET value = ?1 WHERE name = 'key_id'")
            .bind(to.key_id())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Creates the database file readable by its owner only (SQLite gives its -wal and -shm
/// files the same mode), unless it exists.
fn create_private(path: &Path) -> Result<(), StorageError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StorageError::io_at(path, "create the database", e)),
    }
}
