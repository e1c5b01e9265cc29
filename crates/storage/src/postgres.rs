//! The PostgreSQL backend: every SQL statement of the store for PostgreSQL is in this
//! module. Several service nodes share one database, so nothing here assumes one process:
//! a session's owner is checked under a per-session advisory lock, jobs are claimed with
//! `FOR UPDATE SKIP LOCKED` and leased, and notifications travel by LISTEN/NOTIFY.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};

use crate::codec;
use crate::notify::BATCH_CHANNEL;
use crate::rows::{
    AccountRow, DecisionRow, JobRow, KeyRow, WebSessionRow, account_columns, account_record,
    append_batch, count, decision_record, job_record, key_record, lease_ms, new_session, now_ms,
    stale_key, web_session_record,
};
use crate::{
    Account, AccountKind, Cipher, DecisionCount, DecisionQuery, DecisionRecord, Erased, Inserted,
    Job, JobState, KeyRecord, NewBatch, NewDecision, Role, SessionEvents, StorageError,
    StoredModel, Subscription, TrainingStatus, UserStats, WebSession,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections per process. Two nodes and their listeners stay far below PostgreSQL's
/// default limit of 100.
const POOL_SIZE: u32 = 16;
/// Rows deleted per transaction by the retention purge, so ingestion is not held up.
const PURGE_CHUNK: i64 = 2000;
/// Rows re-encrypted per fetch during key rotation.
const ROTATE_CHUNK: i64 = 500;

#[derive(Debug, Clone)]
pub(crate) struct PgDb {
    pool: PgPool,
}

impl PgDb {
    pub(crate) async fn open(url: &str, cipher: &Cipher) -> Result<PgDb, StorageError> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        let db = PgDb { pool };

        // The first key to open the database is its key; any other is refused here.
        sqlx::query(
            "INSERT INTO meta (name, value) VALUES ('key_id', $1) ON CONFLICT (name) DO NOTHING",
        )
        .bind(cipher.key_id())
        .execute(&db.pool)
        .await?;
        let stored: String = sqlx::query_scalar("SELECT value FROM meta WHERE name = 'key_id'")
            .fetch_one(&db.pool)
            .await?;
        if stored != cipher.key_id() {
            return Err(StorageError::Crypto(format!(
                "cannot decrypt the database at {}: wrong key or damaged data (the database \
                 was encrypted with key id {stored}, this key's id is {})",
                redacted(url),
                cipher.key_id()
            )));
        }
        Ok(db)
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
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
            "INSERT INTO api_keys (name, role, key_hash, created_ms) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(key_hash)
        .bind(created_ms)
        .fetch_one(&self.pool)
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
        .fetch_optional(&self.pool)
        .await?
        .map(key_record)
        .transpose()
    }

    pub(crate) async fn list_keys(&self) -> Result<Vec<KeyRecord>, StorageError> {
        sqlx::query_as::<_, KeyRow>(
            "SELECT id, name, role, created_ms, revoked FROM api_keys ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(key_record)
        .collect()
    }

    pub(crate) async fn revoke_key(&self, id: i64) -> Result<bool, StorageError> {
        let done = sqlx::query("UPDATE api_keys SET revoked = TRUE WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
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
        // Fast path, one statement: the session has batches already, all of this user, so
        // no batch of another user can slip in (a session's owner never changes while it
        // has batches). A stored batch is announced in the same transaction.
        let announced = sqlx::query(
            "WITH stored AS ( \
               INSERT INTO batches (user_id, session_id, seq, received_ms, events, payload) \
               SELECT $1, $2, $3, $4, $5, $6 \
               WHERE (SELECT value FROM meta WHERE name = 'key_id') = $7 \
                 AND (SELECT user_id FROM batches WHERE session_id = $2 LIMIT 1) = $1 \
               ON CONFLICT (session_id, seq) DO NOTHING RETURNING 1) \
             SELECT pg_notify($8, $2) FROM stored",
        )
        .bind(batch.user_id)
        .bind(batch.session_id)
        .bind(batch.seq)
        .bind(batch.received_ms)
        .bind(events)
        .bind(&payload)
        .bind(cipher.key_id())
        .bind(BATCH_CHANNEL)
        .fetch_optional(&self.pool)
        .await?;
        if announced.is_some() {
            return Ok(Inserted::Stored);
        }
        // A new session, a duplicate, another user's session or a stale key: the same
        // insert under the session's lock, so two first batches of one session arriving
        // at two nodes at once are stored one after the other and the second sees the
        // first's owner.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(batch.session_id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query(
            "INSERT INTO batches (user_id, session_id, seq, received_ms, events, payload) \
             SELECT $1, $2, $3, $4, $5, $6 \
             WHERE (SELECT value FROM meta WHERE name = 'key_id') = $7 \
               AND coalesce((SELECT user_id FROM batches WHERE session_id = $2 LIMIT 1), $1) = $1 \
             ON CONFLICT (session_id, seq) DO NOTHING",
        )
        .bind(batch.user_id)
        .bind(batch.session_id)
        .bind(batch.seq)
        .bind(batch.received_ms)
        .bind(events)
        .bind(payload)
        .bind(cipher.key_id())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(BATCH_CHANNEL)
                .bind(batch.session_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Inserted::Stored);
        }
        // Rare path: say why nothing was written.
        let (key_id, owner, exists): (Option<String>, Option<String>, bool) = sqlx::query_as(
            "SELECT (SELECT value FROM meta WHERE name = 'key_id'), \
                    (SELECT user_id FROM batches WHERE session_id = $1 LIMIT 1), \
                    EXISTS (SELECT 1 FROM batches WHERE session_id = $1 AND seq = $2)",
        )
        .bind(batch.session_id)
        .bind(batch.seq)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
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
            "SELECT user_id, seq, payload FROM batches WHERE session_id = $1 ORDER BY seq",
        )
        .bind(session_id)
        .fetch_all(&self.pool)
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
             JOIN (SELECT session_id, min(id) AS first FROM batches WHERE user_id = $1 \
                   GROUP BY session_id) s ON s.session_id = b.session_id \
             WHERE b.user_id = $1 \
             ORDER BY s.first, b.seq",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
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
                   (SELECT id FROM batches WHERE received_ms < $1 ORDER BY received_ms LIMIT $2 \
                    FOR UPDATE SKIP LOCKED) \
                 RETURNING events",
            )
            .bind(before_ms)
            .bind(PURGE_CHUNK)
            .fetch_all(&self.pool)
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
        .bind(payload)
        .bind(summary_json)
        .bind(trained_at_ms)
        .bind(cipher.key_id())
        .execute(&self.pool)
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
            "SELECT payload, summary_json, trained_at_ms FROM models WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
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
            "WITH b AS (SELECT user_id, sum(events)::BIGINT AS events, count(*) AS batches, \
                               count(DISTINCT session_id) AS sessions \
                        FROM batches GROUP BY user_id), \
                  ids AS (SELECT user_id FROM b UNION SELECT user_id FROM models \
                          UNION SELECT user_id FROM decisions) \
             SELECT ids.user_id, coalesce(b.events, 0), coalesce(b.batches, 0), \
                    coalesce(b.sessions, 0), m.trained_at_ms \
             FROM ids LEFT JOIN b ON b.user_id = ids.user_id \
                      LEFT JOIN models m ON m.user_id = ids.user_id \
             ORDER BY ids.user_id COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
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
            "SELECT coalesce(sum(events), 0)::BIGINT, count(*), count(DISTINCT session_id), \
                    (SELECT trained_at_ms FROM models WHERE user_id = $1), \
                    EXISTS (SELECT 1 FROM decisions WHERE user_id = $1) \
             FROM batches WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
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
        let mut tx = self.pool.begin().await?;
        let (batches, events): (i64, i64) = sqlx::query_as(
            "WITH gone AS (DELETE FROM batches WHERE user_id = $1 RETURNING events) \
             SELECT count(*), coalesce(sum(events), 0)::BIGINT FROM gone",
        )
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        let models = sqlx::query("DELETE FROM models WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let decisions = if decisions {
            sqlx::query("DELETE FROM decisions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        } else {
            0
        };
        sqlx::query("DELETE FROM jobs WHERE user_id = $1")
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
        .fetch_one(&self.pool)
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
             WHERE ($1::TEXT IS NULL OR user_id = $1) AND ($2::TEXT IS NULL OR decision = $2) \
               AND ($3::BIGINT IS NULL OR created_ms >= $3) \
               AND ($4::BIGINT IS NULL OR created_ms < $4) \
             ORDER BY created_ms DESC, id DESC LIMIT $5 OFFSET $6",
        )
        .bind(q.user_id)
        .bind(q.decision)
        .bind(q.from_ms)
        .bind(q.to_ms)
        .bind(i64::from(q.limit))
        .bind(i64::try_from(q.offset).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(decision_record).collect())
    }

    pub(crate) async fn count_decisions(&self, q: &DecisionQuery<'_>) -> Result<u64, StorageError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM decisions \
             WHERE ($1::TEXT IS NULL OR user_id = $1) AND ($2::TEXT IS NULL OR decision = $2) \
               AND ($3::BIGINT IS NULL OR created_ms >= $3) \
               AND ($4::BIGINT IS NULL OR created_ms < $4)",
        )
        .bind(q.user_id)
        .bind(q.decision)
        .bind(q.from_ms)
        .bind(q.to_ms)
        .fetch_one(&self.pool)
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
        .fetch_all(&self.pool)
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
        // The partial unique index admits one active job per user; if another node's
        // job finishes between the two statements, try again.
        for _ in 0..5 {
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO jobs (user_id, state, queued_ms) VALUES ($1, 'queued', $2) \
                 ON CONFLICT (user_id) WHERE state IN ('queued', 'running') DO NOTHING \
                 RETURNING id",
            )
            .bind(user_id)
            .bind(now_ms())
            .fetch_optional(&self.pool)
            .await?;
            if let Some(id) = inserted {
                return Ok(id);
            }
            let active: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM jobs WHERE user_id = $1 AND state IN ('queued', 'running')",
            )
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(id) = active {
                return Ok(id);
            }
        }
        Err(StorageError::Conflict(format!(
            "the training queue of user '{user_id}' keeps changing; retry"
        )))
    }

    pub(crate) async fn claim_job(&self, lease: Duration) -> Result<Option<Job>, StorageError> {
        let now = now_ms();
        sqlx::query_as::<_, JobRow>(
            "UPDATE jobs SET state = 'running', lease_until_ms = $2 \
             WHERE id = (SELECT id FROM jobs \
                         WHERE state = 'queued' OR (state = 'running' AND lease_until_ms < $1) \
                         ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING id, user_id, state, error, queued_ms",
        )
        .bind(now)
        .bind(now.saturating_add(lease_ms(lease)))
        .fetch_optional(&self.pool)
        .await?
        .map(job_record)
        .transpose()
    }

    pub(crate) async fn renew_job(&self, id: i64, lease: Duration) -> Result<bool, StorageError> {
        let done =
            sqlx::query("UPDATE jobs SET lease_until_ms = $2 WHERE id = $1 AND state = 'running'")
                .bind(id)
                .bind(now_ms().saturating_add(lease_ms(lease)))
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
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
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn job(&self, id: i64) -> Result<Option<Job>, StorageError> {
        sqlx::query_as::<_, JobRow>(
            "SELECT id, user_id, state, error, queued_ms FROM jobs WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(job_record)
        .transpose()
    }

    pub(crate) async fn training_status(
        &self,
        user_id: &str,
    ) -> Result<TrainingStatus, StorageError> {
        let (events, has_model, active_job, failed_jobs): (i64, bool, bool, i64) = sqlx::query_as(
            "SELECT (SELECT coalesce(sum(events), 0)::BIGINT FROM batches WHERE user_id = $1), \
                        EXISTS (SELECT 1 FROM models WHERE user_id = $1), \
                        EXISTS (SELECT 1 FROM jobs WHERE user_id = $1 \
                                AND state IN ('queued', 'running')), \
                        (SELECT count(*) FROM jobs WHERE user_id = $1 AND state = 'failed')",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(TrainingStatus {
            events: count(events),
            has_model,
            active_job,
            failed_jobs: count(failed_jobs),
        })
    }

    // ---- settings ----

    pub(crate) async fn settings(&self) -> Result<Option<String>, StorageError> {
        Ok(sqlx::query_scalar("SELECT json FROM settings WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?)
    }

    pub(crate) async fn put_settings(&self, json: &str) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO settings (id, json) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET json = excluded.json",
        )
        .bind(json)
        .execute(&self.pool)
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
        .fetch_optional(&self.pool)
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
        .fetch_optional(&self.pool)
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
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(account_record).collect()
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
        .execute(&self.pool)
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
        // One statement: concurrent failures on two nodes each count (the row is locked
        // for the update, and the second sees the first's count).
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
        .fetch_optional(&self.pool)
        .await?;
        row.map(account_record).transpose()
    }

    pub(crate) async fn record_login_success(&self, account_id: i64) -> Result<(), StorageError> {
        sqlx::query("UPDATE accounts SET failed_logins = 0 WHERE id = $1 AND failed_logins <> 0")
            .bind(account_id)
            .execute(&self.pool)
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
        .execute(&self.pool)
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
             WHERE s.token_hash = $1 AND s.expires_ms > $2",
        )
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        row.map(web_session_record).transpose()
    }

    pub(crate) async fn delete_web_session(&self, token_hash: &str) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn purge_web_sessions(&self, now_ms: i64) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM web_sessions WHERE expires_ms <= $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    // ---- key rotation ----

    pub(crate) async fn rotate(&self, from: &Cipher, to: &Cipher) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        // Writers of blobs wait until the new key is in place; readers go on.
        sqlx::query("LOCK TABLE meta, batches, models IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
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
                    .bind(payload)
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
            .bind(&after)
            .bind(ROTATE_CHUNK)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.0.clone();
            for (user_id, payload) in rows {
                let payload = codec::reseal_model(from, to, &user_id, &payload)?;
                sqlx::query("UPDATE models SET payload = $2 WHERE user_id = $1")
                    .bind(&user_id)
                    .bind(payload)
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

    // ---- notifications ----

    pub(crate) async fn publish(&self, channel: &str, payload: &str) -> Result<(), StorageError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn subscribe(&self, channels: &[&str]) -> Result<Subscription, StorageError> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen_all(channels.iter().copied()).await?;
        Ok(Subscription::postgres(listener))
    }
}

/// A database URL without its password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
