//! The SQL both backends run, written once. Statements use `$N` placeholders (SQLite
//! reads them as numbered parameters too), `CAST` instead of `::`, `TRUE` for booleans and
//! `COLLATE "C"` for byte order (registered on SQLite connections), so one text works on
//! SQLite and PostgreSQL. What really differs (connecting, the batch fast path,
//! notifications, `FOR UPDATE SKIP LOCKED`, how a write transaction starts) is a
//! [`Dialect`] constant or lives in the backend's own module.
//!
//! Times come from the caller ([`crate::Store`] reads its clock): no statement reads the
//! database's or the system's clock.

use std::time::Duration;

use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Type};

use crate::codec;
use crate::rows::{
    AccountRow, CollectionSessionRow, DecisionRow, JobRow, KeyRow, WebSessionRow, account_columns,
    account_record, append_batch, collection_session_columns, collection_session_record, count,
    decision_record, job_record, key_record, new_session, stale_key, web_session_record,
};
use crate::{
    Account, AccountKind, Cipher, CollectionSession, DecisionCount, DecisionQuery, DecisionRecord,
    Erased, Inserted, Job, JobState, KeyRecord, Label, NewBatch, NewCollectionSession, NewDecision,
    Role, SessionEvents, SessionTail, StorageError, StoredModel, TrainingStatus, UserStats,
    WebSession,
};

/// Rows deleted per transaction by the retention purge, so ingestion is not held up.
pub(crate) const PURGE_CHUNK: i64 = 2000;
/// Rows re-encrypted per fetch during key rotation.
const ROTATE_CHUNK: i64 = 500;

/// What the shared statements need to know of a database that no common trait tells.
pub(crate) trait Dialect: Database {
    /// Starts a transaction that will write (SQLite takes the write lock at once, so two
    /// processes never deadlock upgrading a read lock).
    const BEGIN_WRITE: &'static str;
    /// Run first in a key rotation's transaction, where the database needs more than
    /// [`Dialect::BEGIN_WRITE`] to keep blob writers out until the new key is in place.
    const LOCK_BLOBS: Option<&'static str>;
    /// Moves the oldest claimable job to running (`$1` now, `$2` the lease's end) and
    /// returns [`JobRow`] columns.
    const CLAIM_JOB: &'static str;
    /// Deletes up to `$2` batches received before `$1` and returns their event counts.
    const PURGE_CHUNK: &'static str;

    fn rows_affected(done: &Self::QueryResult) -> u64;
}

/// A store's connection pools: writes go to `writer`, reads to `reader` (the same pool on
/// PostgreSQL; on SQLite one writer connection beside several readers).
#[derive(Debug)]
pub(crate) struct Sql<DB: Database> {
    pub(crate) reader: Pool<DB>,
    pub(crate) writer: Pool<DB>,
}

// Not derived: that would ask `DB: Clone`, and pools clone whatever their database.
impl<DB: Database> Clone for Sql<DB> {
    fn clone(&self) -> Self {
        Sql {
            reader: self.reader.clone(),
            writer: self.writer.clone(),
        }
    }
}

/// A batch ready for the database: its row's fields, its payload encrypted and bound to
/// the row, and the id of the key that encrypted it (a store whose key was rotated under
/// it must not write).
pub(crate) struct SealedBatch<'a> {
    pub(crate) batch: NewBatch<'a>,
    pub(crate) payload: Vec<u8>,
    pub(crate) key_id: &'a str,
}

impl<'a> SealedBatch<'a> {
    pub(crate) fn new(cipher: &'a Cipher, batch: NewBatch<'a>) -> Result<Self, StorageError> {
        Ok(SealedBatch {
            payload: codec::seal_batch(cipher, &batch)?,
            batch,
            key_id: cipher.key_id(),
        })
    }
}

/// Joins batches `b` to the collection sessions whose events may train a model: opened
/// for enrolment and not labelled since, or labelled genuine (see
/// [`CollectionSession::trains`]).
macro_rules! trained_sessions_join {
    () => {
        "JOIN collection_sessions c ON c.session_id = b.session_id AND c.user_id = b.user_id \
         AND (c.label = 'genuine' OR (c.label IS NULL AND c.purpose = 'enrol'))"
    };
}

/// A user's batches (`$1`), sessions in order of their first batch, then by `seq`.
const USER_SESSIONS: &str = "SELECT b.session_id, b.seq, b.payload \
     FROM batches b \
     JOIN (SELECT session_id, min(id) AS first FROM batches WHERE user_id = $1 \
           GROUP BY session_id) s ON s.session_id = b.session_id \
     WHERE b.user_id = $1 \
     ORDER BY s.first, b.seq";

/// [`USER_SESSIONS`] of the sessions that may train the user's model only.
const TRAINING_SESSIONS: &str = concat!(
    "SELECT b.session_id, b.seq, b.payload \
     FROM batches b \
     JOIN (SELECT session_id, min(id) AS first FROM batches WHERE user_id = $1 \
           GROUP BY session_id) s ON s.session_id = b.session_id ",
    trained_sessions_join!(),
    " WHERE b.user_id = $1 \
     ORDER BY s.first, b.seq"
);

/// The statement that stores a batch unless its `(session, seq)` exists, its session
/// belongs to another user, or the key was rotated under the store.
const INSERT_BATCH: &str = "INSERT INTO batches (user_id, session_id, seq, received_ms, events, payload) \
     SELECT $1, $2, $3, $4, $5, $6 \
     WHERE (SELECT value FROM meta WHERE name = 'key_id') = $7 \
       AND coalesce((SELECT user_id FROM batches WHERE session_id = $2 LIMIT 1), $1) = $1 \
     ON CONFLICT (session_id, seq) DO NOTHING";

impl<DB> Sql<DB>
where
    DB: Dialect,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    usize: ColumnIndex<DB::Row>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a str>: Encode<'a, DB> + Type<DB>,
    for<'a> &'a [u8]: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
    for<'a> f64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> bool: Decode<'a, DB> + Type<DB>,
    for<'a> String: Decode<'a, DB> + Type<DB>,
    for<'a> Vec<u8>: Decode<'a, DB> + Type<DB>,
{
    /// Makes `cipher` the database's key if it has none; an error naming `place` (a path or
    /// a URL without password) if it has another.
    pub(crate) async fn check_key(&self, cipher: &Cipher, place: &str) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO meta (name, value) VALUES ('key_id', $1) ON CONFLICT (name) DO NOTHING",
        )
        .bind(cipher.key_id())
        .execute(&self.writer)
        .await?;
        let stored: String = sqlx::query_scalar("SELECT value FROM meta WHERE name = 'key_id'")
            .fetch_one(&self.writer)
            .await?;
        if stored != cipher.key_id() {
            return Err(StorageError::Crypto(format!(
                "cannot decrypt the database at {place}: wrong key or damaged data (the database \
                 was encrypted with key id {stored}, this key's id is {})",
                cipher.key_id()
            )));
        }
        Ok(())
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
        created_ms: i64,
    ) -> Result<KeyRecord, StorageError> {
        let result = sqlx::query_scalar::<_, i64>(
            "INSERT INTO api_keys (name, role, key_hash, created_ms) VALUES ($1, $2, $3, $4) \
             RETURNING id",
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
            "SELECT id, name, role, created_ms, revoked FROM api_keys WHERE key_hash = $1",
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
        let done = sqlx::query("UPDATE api_keys SET revoked = TRUE WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) > 0)
    }

    // ---- event batches ----

    /// Runs [`INSERT_BATCH`] on `conn`; `true` if the batch was stored.
    pub(crate) async fn insert_batch_row(
        conn: &mut DB::Connection,
        sealed: &SealedBatch<'_>,
    ) -> Result<bool, StorageError> {
        let done = Self::bind_batch(sqlx::query(INSERT_BATCH), sealed)
            .execute(conn)
            .await?;
        Ok(DB::rows_affected(&done) == 1)
    }

    /// Binds a batch's row as `$1` to `$7` (user, session, seq, received, events, payload,
    /// key id), as [`INSERT_BATCH`] and PostgreSQL's fast path take them.
    pub(crate) fn bind_batch<'q>(
        query: Query<'q, DB, DB::Arguments>,
        sealed: &SealedBatch<'_>,
    ) -> Query<'q, DB, DB::Arguments> {
        let batch = &sealed.batch;
        query
            .bind(batch.user_id)
            .bind(batch.session_id)
            .bind(batch.seq)
            .bind(batch.received_ms)
            .bind(i64::try_from(batch.events.len()).unwrap_or(i64::MAX))
            .bind(sealed.payload.as_slice())
            .bind(sealed.key_id)
    }

    /// Why a batch that [`INSERT_BATCH`] did not store was not stored: a duplicate is no
    /// error, another user's session or a stale key are.
    pub(crate) async fn refusal(&self, sealed: &SealedBatch<'_>) -> Result<Inserted, StorageError> {
        let batch = &sealed.batch;
        let (key_id, owner, exists): (Option<String>, Option<String>, bool) = sqlx::query_as(
            "SELECT (SELECT value FROM meta WHERE name = 'key_id'), \
                    (SELECT user_id FROM batches WHERE session_id = $1 LIMIT 1), \
                    EXISTS (SELECT 1 FROM batches WHERE session_id = $1 AND seq = $2)",
        )
        .bind(batch.session_id)
        .bind(batch.seq)
        .fetch_one(&self.writer)
        .await?;
        if key_id.as_deref() != Some(sealed.key_id) {
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
            "SELECT user_id, seq, payload FROM batches WHERE session_id = $1 ORDER BY seq",
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
                return Err(two_users(session_id));
            }
            append_batch(cipher, &mut session, seq, &payload)?;
        }
        Ok(Some(session))
    }

    /// One statement, so the count and the new batches are of the same moment: a row of
    /// the session's owner and batch count joined with each batch after `after_seq`
    /// (a row with no batch if there is none). Only those batches' payloads are fetched.
    pub(crate) async fn session_events_after(
        &self,
        cipher: &Cipher,
        session_id: &str,
        after_seq: Option<i64>,
    ) -> Result<Option<SessionTail>, StorageError> {
        type TailRow = (String, i64, Option<String>, Option<i64>, Option<Vec<u8>>);
        let rows: Vec<TailRow> = sqlx::query_as(
            "SELECT s.user_id, s.total, b.user_id, b.seq, b.payload \
             FROM (SELECT min(user_id) AS user_id, count(*) AS total \
                   FROM batches WHERE session_id = $1) s \
             LEFT JOIN batches b ON b.session_id = $1 \
                                AND (CAST($2 AS BIGINT) IS NULL OR b.seq > $2) \
             WHERE s.total > 0 \
             ORDER BY b.seq",
        )
        .bind(session_id)
        .bind(after_seq)
        .fetch_all(&self.reader)
        .await?;
        let Some((owner, total, _, _, _)) = rows.first() else {
            return Ok(None);
        };
        let mut session = new_session(session_id.to_string(), owner.clone());
        let total_batches = count(*total);
        let mut last_seq = None;
        for (_, _, user_id, seq, payload) in rows {
            let (Some(user_id), Some(seq), Some(payload)) = (user_id, seq, payload) else {
                continue; // the row that says there is no new batch
            };
            if user_id != session.user_id {
                return Err(two_users(session_id));
            }
            append_batch(cipher, &mut session, seq, &payload)?;
            last_seq = Some(seq);
        }
        Ok(Some(SessionTail {
            user_id: session.user_id,
            recording: session.recording,
            last_seq,
            new_batches: session.batches,
            total_batches,
        }))
    }

    pub(crate) async fn user_sessions(
        &self,
        cipher: &Cipher,
        user_id: &str,
    ) -> Result<Vec<SessionEvents>, StorageError> {
        self.sessions_of(cipher, user_id, USER_SESSIONS).await
    }

    pub(crate) async fn training_sessions(
        &self,
        cipher: &Cipher,
        user_id: &str,
    ) -> Result<Vec<SessionEvents>, StorageError> {
        self.sessions_of(cipher, user_id, TRAINING_SESSIONS).await
    }

    /// Runs `query` (a user's batches as `session_id, seq, payload`, sessions in order of
    /// their first batch, then `seq`) and gathers its rows into sessions.
    async fn sessions_of(
        &self,
        cipher: &Cipher,
        user_id: &str,
        query: &'static str,
    ) -> Result<Vec<SessionEvents>, StorageError> {
        let rows = sqlx::query_as::<_, (String, i64, Vec<u8>)>(query)
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
            let events: Vec<i64> = sqlx::query_scalar(DB::PURGE_CHUNK)
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
             SELECT $1, $2, $3, $4 WHERE (SELECT value FROM meta WHERE name = 'key_id') = $5 \
             ON CONFLICT (user_id) DO UPDATE SET payload = excluded.payload, \
               summary_json = excluded.summary_json, trained_at_ms = excluded.trained_at_ms",
        )
        .bind(user_id)
        .bind(payload.as_slice())
        .bind(summary_json)
        .bind(trained_at_ms)
        .bind(cipher.key_id())
        .execute(&self.writer)
        .await?;
        if DB::rows_affected(&done) == 0 {
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
            "SELECT payload, summary_json, trained_at_ms FROM models WHERE user_id = $1",
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
            "WITH b AS (SELECT user_id, CAST(sum(events) AS BIGINT) AS events, \
                               count(*) AS batches, count(DISTINCT session_id) AS sessions \
                        FROM batches GROUP BY user_id), \
                  ids AS (SELECT user_id FROM b UNION SELECT user_id FROM models \
                          UNION SELECT user_id FROM decisions) \
             SELECT ids.user_id, coalesce(b.events, 0), coalesce(b.batches, 0), \
                    coalesce(b.sessions, 0), m.trained_at_ms \
             FROM ids LEFT JOIN b ON b.user_id = ids.user_id \
                      LEFT JOIN models m ON m.user_id = ids.user_id \
             ORDER BY ids.user_id COLLATE \"C\"",
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
        type UserRow = (i64, i64, i64, Option<i64>, bool);
        let (events, batches, sessions, model_trained_at_ms, decided): UserRow = sqlx::query_as(
            "SELECT CAST(coalesce(sum(events), 0) AS BIGINT), count(*), \
                    count(DISTINCT session_id), \
                    (SELECT trained_at_ms FROM models WHERE user_id = $1), \
                    EXISTS (SELECT 1 FROM decisions WHERE user_id = $1) \
             FROM batches WHERE user_id = $1",
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

    /// Removes a user's batches, model and jobs, and with `decisions` their audit log too,
    /// in one transaction.
    pub(crate) async fn remove_user(
        &self,
        user_id: &str,
        decisions: bool,
    ) -> Result<Erased, StorageError> {
        let mut tx = self.writer.begin_with(DB::BEGIN_WRITE).await?;
        let events: Vec<i64> =
            sqlx::query_scalar("DELETE FROM batches WHERE user_id = $1 RETURNING events")
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await?;
        let done = sqlx::query("DELETE FROM models WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let models = DB::rows_affected(&done);
        let decisions = if decisions {
            let done = sqlx::query("DELETE FROM decisions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            DB::rows_affected(&done)
        } else {
            0
        };
        sqlx::query("DELETE FROM jobs WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM collection_sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Erased {
            batches: events.len() as u64,
            events: events.iter().map(|&n| count(n)).sum(),
            models,
            decisions,
        })
    }

    // ---- decisions ----

    pub(crate) async fn insert_decision(&self, d: &NewDecision<'_>) -> Result<i64, StorageError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO decisions (user_id, session_id, decision, score, threshold, actions, \
                                    reasons_json, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
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
             FROM decisions \
             WHERE (CAST($1 AS TEXT) IS NULL OR user_id = $1) \
               AND (CAST($2 AS TEXT) IS NULL OR decision = $2) \
               AND (CAST($3 AS BIGINT) IS NULL OR created_ms >= $3) \
               AND (CAST($4 AS BIGINT) IS NULL OR created_ms < $4) \
             ORDER BY created_ms DESC, id DESC LIMIT $5 OFFSET $6",
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
            "SELECT count(*) FROM decisions \
             WHERE (CAST($1 AS TEXT) IS NULL OR user_id = $1) \
               AND (CAST($2 AS TEXT) IS NULL OR decision = $2) \
               AND (CAST($3 AS BIGINT) IS NULL OR created_ms >= $3) \
               AND (CAST($4 AS BIGINT) IS NULL OR created_ms < $4)",
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
            "SELECT created_ms - created_ms % $2 AS bucket, decision, count(*) \
             FROM decisions WHERE created_ms >= $1 \
             GROUP BY bucket, decision ORDER BY bucket, decision COLLATE \"C\"",
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

    /// The partial unique index admits one active job per user: a second insert does
    /// nothing and the active job is read instead. If that job finishes between the two
    /// statements (another node), try again.
    pub(crate) async fn enqueue_training(
        &self,
        user_id: &str,
        queued_ms: i64,
    ) -> Result<i64, StorageError> {
        for _ in 0..5 {
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO jobs (user_id, state, queued_ms) VALUES ($1, 'queued', $2) \
                 ON CONFLICT (user_id) WHERE state IN ('queued', 'running') DO NOTHING \
                 RETURNING id",
            )
            .bind(user_id)
            .bind(queued_ms)
            .fetch_optional(&self.writer)
            .await?;
            if let Some(id) = inserted {
                return Ok(id);
            }
            let active: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM jobs WHERE user_id = $1 AND state IN ('queued', 'running')",
            )
            .bind(user_id)
            .fetch_optional(&self.writer)
            .await?;
            if let Some(id) = active {
                return Ok(id);
            }
        }
        Err(StorageError::Conflict(format!(
            "the training queue of user '{user_id}' keeps changing; retry"
        )))
    }

    pub(crate) async fn claim_job(
        &self,
        now_ms: i64,
        lease: Duration,
    ) -> Result<Option<Job>, StorageError> {
        sqlx::query_as::<_, JobRow>(DB::CLAIM_JOB)
            .bind(now_ms)
            .bind(now_ms.saturating_add(lease_ms(lease)))
            .fetch_optional(&self.writer)
            .await?
            .map(job_record)
            .transpose()
    }

    pub(crate) async fn renew_job(
        &self,
        id: i64,
        now_ms: i64,
        lease: Duration,
    ) -> Result<bool, StorageError> {
        let done =
            sqlx::query("UPDATE jobs SET lease_until_ms = $2 WHERE id = $1 AND state = 'running'")
                .bind(id)
                .bind(now_ms.saturating_add(lease_ms(lease)))
                .execute(&self.writer)
                .await?;
        Ok(DB::rows_affected(&done) > 0)
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
        sqlx::query("UPDATE jobs SET state = $2, error = $3 WHERE id = $1")
            .bind(id)
            .bind(state.as_str())
            .bind(error)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub(crate) async fn job(&self, id: i64) -> Result<Option<Job>, StorageError> {
        sqlx::query_as::<_, JobRow>(
            "SELECT id, user_id, state, error, queued_ms FROM jobs WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await?
        .map(job_record)
        .transpose()
    }

    pub(crate) async fn training_status(
        &self,
        user_id: &str,
    ) -> Result<TrainingStatus, StorageError> {
        let (events, has_model, active_job, failed_jobs): (i64, bool, bool, i64) =
            sqlx::query_as(concat!(
                "SELECT (SELECT CAST(coalesce(sum(b.events), 0) AS BIGINT) \
                     FROM batches b ",
                trained_sessions_join!(),
                " WHERE b.user_id = $1), \
                    EXISTS (SELECT 1 FROM models WHERE user_id = $1), \
                    EXISTS (SELECT 1 FROM jobs WHERE user_id = $1 \
                            AND state IN ('queued', 'running')), \
                    (SELECT count(*) FROM jobs WHERE user_id = $1 AND state = 'failed')"
            ))
            .bind(user_id)
            .fetch_one(&self.reader)
            .await?;
        Ok(TrainingStatus {
            events: count(events),
            has_model,
            active_job,
            failed_jobs: count(failed_jobs),
        })
    }

    // ---- collection sessions ----

    pub(crate) async fn open_session(
        &self,
        session: &NewCollectionSession<'_>,
    ) -> Result<(), StorageError> {
        let done = sqlx::query(
            "INSERT INTO collection_sessions \
                 (session_id, user_id, purpose, token_hash, created_ms, expires_ms) \
             SELECT $1, $2, $3, $4, $5, $6 \
             WHERE NOT EXISTS (SELECT 1 FROM batches WHERE session_id = $1)",
        )
        .bind(session.session_id)
        .bind(session.user_id)
        .bind(session.purpose.as_str())
        .bind(session.token_hash)
        .bind(session.created_ms)
        .bind(session.expires_ms)
        .execute(&self.writer)
        .await;
        let taken =
            || StorageError::Conflict(format!("session '{}' already exists", session.session_id));
        match done {
            Ok(done) if DB::rows_affected(&done) == 1 => Ok(()),
            Ok(_) => Err(taken()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(taken()),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn session_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<CollectionSession>, StorageError> {
        let row: Option<CollectionSessionRow> = sqlx::query_as(concat!(
            "SELECT ",
            collection_session_columns!(),
            " FROM collection_sessions WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.reader)
        .await?;
        row.map(collection_session_record).transpose()
    }

    pub(crate) async fn collection_session(
        &self,
        session_id: &str,
    ) -> Result<Option<CollectionSession>, StorageError> {
        let row: Option<CollectionSessionRow> = sqlx::query_as(concat!(
            "SELECT ",
            collection_session_columns!(),
            " FROM collection_sessions WHERE session_id = $1"
        ))
        .bind(session_id)
        .fetch_optional(&self.reader)
        .await?;
        row.map(collection_session_record).transpose()
    }

    /// In one transaction: a session known only by its batches gets a row (no purpose, no
    /// token), then the label is set unless the session is labelled fraud already.
    pub(crate) async fn label_session(
        &self,
        session_id: &str,
        label: Label,
        now_ms: i64,
    ) -> Result<Option<CollectionSession>, StorageError> {
        let mut tx = self.writer.begin_with(DB::BEGIN_WRITE).await?;
        sqlx::query(
            "INSERT INTO collection_sessions (session_id, user_id, created_ms, expires_ms) \
             SELECT session_id, user_id, $2, $2 FROM batches WHERE session_id = $1 \
             LIMIT 1 ON CONFLICT (session_id) DO NOTHING",
        )
        .bind(session_id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        let row: Option<CollectionSessionRow> = sqlx::query_as(concat!(
            "UPDATE collection_sessions SET label = CASE WHEN label = 'fraud' THEN label ELSE $2 END \
             WHERE session_id = $1 RETURNING ",
            collection_session_columns!()
        ))
        .bind(session_id)
        .bind(label.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        let session = row.map(collection_session_record).transpose()?;
        match session {
            Some(s) if s.label != Some(label) => Err(StorageError::Conflict(format!(
                "session '{session_id}' is labelled fraud, for good"
            ))),
            other => Ok(other),
        }
    }

    // ---- settings ----

    pub(crate) async fn settings(&self) -> Result<Option<String>, StorageError> {
        Ok(sqlx::query_scalar("SELECT json FROM settings WHERE id = 1")
            .fetch_optional(&self.reader)
            .await?)
    }

    pub(crate) async fn put_settings(&self, json: &str) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO settings (id, json) VALUES (1, $1) \
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
             VALUES ($1, $2, $3, $4) ON CONFLICT (kind, username) DO NOTHING RETURNING id",
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
            " FROM accounts WHERE kind = $1 AND username = $2"
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
            " FROM accounts WHERE kind = $1 ORDER BY username COLLATE \"C\""
        ))
        .bind(kind.as_str())
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(account_record).collect()
    }

    pub(crate) async fn delete_account(
        &self,
        kind: AccountKind,
        username: &str,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query("DELETE FROM accounts WHERE kind = $1 AND username = $2")
            .bind(kind.as_str())
            .bind(username)
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) > 0)
    }

    pub(crate) async fn set_password(
        &self,
        account_id: i64,
        password_hash: &str,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE accounts SET password_hash = $2, failed_logins = 0, locked_until_ms = 0 \
             WHERE id = $1",
        )
        .bind(account_id)
        .bind(password_hash)
        .execute(&self.writer)
        .await?;
        Ok(DB::rows_affected(&done) > 0)
    }

    /// One statement: concurrent failures on two nodes each count (the row is locked for
    /// the update, and the second sees the first's count).
    pub(crate) async fn record_login_failure(
        &self,
        account_id: i64,
        now_ms: i64,
        limit: u32,
        lock_ms: i64,
    ) -> Result<Option<Account>, StorageError> {
        let row: Option<AccountRow> = sqlx::query_as(concat!(
            "UPDATE accounts SET \
                 locked_until_ms = CASE WHEN failed_logins + 1 >= $3 THEN $2 + $4 \
                                        ELSE locked_until_ms END, \
                 failed_logins = CASE WHEN failed_logins + 1 >= $3 THEN 0 \
                                      ELSE failed_logins + 1 END \
             WHERE id = $1 RETURNING ",
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
        sqlx::query("UPDATE accounts SET failed_logins = 0 WHERE id = $1 AND failed_logins <> 0")
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
             SELECT $1, id, $3, $4, $5 FROM accounts WHERE id = $2",
        )
        .bind(token_hash)
        .bind(account_id)
        .bind(csrf_token)
        .bind(created_ms)
        .bind(expires_ms)
        .execute(&self.writer)
        .await;
        match done {
            Ok(done) if DB::rows_affected(&done) == 1 => Ok(()),
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
             WHERE s.token_hash = $1 AND s.expires_ms > $2",
        )
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(&self.reader)
        .await?;
        row.map(web_session_record).transpose()
    }

    pub(crate) async fn delete_web_session(&self, token_hash: &str) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub(crate) async fn purge_web_sessions(&self, now_ms: i64) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM web_sessions WHERE expires_ms <= $1")
            .bind(now_ms)
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done))
    }

    // ---- key rotation ----

    /// Re-encrypts every blob from `from` to `to` and makes `to` the key, in one write
    /// transaction (readers go on meanwhile).
    pub(crate) async fn rotate(&self, from: &Cipher, to: &Cipher) -> Result<(), StorageError> {
        let mut tx = self.writer.begin_with(DB::BEGIN_WRITE).await?;
        if let Some(lock) = DB::LOCK_BLOBS {
            sqlx::query(lock).execute(&mut *tx).await?;
        }
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
                 WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(ROTATE_CHUNK)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.0;
            for (id, user_id, session_id, seq, payload) in rows {
                let payload = codec::reseal_batch(from, to, &user_id, &session_id, seq, &payload)?;
                sqlx::query("UPDATE batches SET payload = $2 WHERE id = $1")
                    .bind(id)
                    .bind(payload.as_slice())
                    .execute(&mut *tx)
                    .await?;
            }
        }

        let mut after = String::new();
        loop {
            let rows = sqlx::query_as::<_, (String, Vec<u8>)>(
                "SELECT user_id, payload FROM models WHERE user_id COLLATE \"C\" > $1 \
                 ORDER BY user_id COLLATE \"C\" LIMIT $2",
            )
            .bind(after.as_str())
            .bind(ROTATE_CHUNK)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.0.clone();
            for (user_id, payload) in rows {
                let payload = codec::reseal_model(from, to, &user_id, &payload)?;
                sqlx::query("UPDATE models SET payload = $2 WHERE user_id = $1")
                    .bind(user_id.as_str())
                    .bind(payload.as_slice())
                    .execute(&mut *tx)
                    .await?;
            }
        }

        sqlx::query("UPDATE meta SET value = $1 WHERE name = 'key_id'")
            .bind(to.key_id())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn two_users(session_id: &str) -> StorageError {
    StorageError::Corrupt(format!("session '{session_id}' has batches of two users"))
}

/// A job lease in milliseconds.
fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX)
}
