//! What only PostgreSQL does: connecting, storing a batch when several nodes may send
//! the same session at once, LISTEN/NOTIFY, and its [`Dialect`]. Every other statement is
//! in [`crate::sql`]. Nothing here assumes one process: a new session's owner is checked
//! under a per-session advisory lock, jobs are claimed with `FOR UPDATE SKIP LOCKED` and
//! leased, and notifications travel by LISTEN/NOTIFY.

use std::time::Duration;

use sqlx::Postgres;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions, PgQueryResult};

use crate::notify::BATCH_CHANNEL;
use crate::sql::{Dialect, SealedBatch, Sql};
use crate::{Cipher, Inserted, StorageError, Subscription};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections per process. Two nodes and their listeners stay far below PostgreSQL's
/// default limit of 100.
const POOL_SIZE: u32 = 16;

#[derive(Debug, Clone)]
pub(crate) struct PgDb {
    pub(crate) sql: Sql<Postgres>,
}

impl Dialect for Postgres {
    const BEGIN_WRITE: &'static str = "BEGIN";
    // Writers of blobs wait until the new key is in place; readers go on.
    const LOCK_BLOBS: Option<&'static str> =
        Some("LOCK TABLE meta, batches, models IN EXCLUSIVE MODE");
    // Nodes claiming at once skip each other's locked rows and get different jobs.
    const CLAIM_JOB: &'static str = "UPDATE jobs SET state = 'running', lease_until_ms = $2 \
         WHERE id = (SELECT id FROM jobs \
                     WHERE state = 'queued' OR (state = 'running' AND lease_until_ms < $1) \
                     ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
         RETURNING id, user_id, state, error, queued_ms";
    const PURGE_CHUNK: &'static str = "DELETE FROM batches WHERE id IN \
           (SELECT id FROM batches WHERE received_ms < $1 ORDER BY received_ms LIMIT $2 \
            FOR UPDATE SKIP LOCKED) \
         RETURNING events";

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }
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
        let sql = Sql {
            reader: pool.clone(),
            writer: pool,
        };
        // The first key to open the database is its key; any other is refused here.
        sql.check_key(cipher, &redacted(url)).await?;
        Ok(PgDb { sql })
    }

    pub(crate) async fn insert_batch(
        &self,
        sealed: &SealedBatch<'_>,
    ) -> Result<Inserted, StorageError> {
        let batch = &sealed.batch;
        // Fast path, one statement: the session has batches already, all of this user, so
        // no batch of another user can slip in (a session's owner never changes while it
        // has batches). A stored batch is announced in the same transaction.
        let fast_path = sqlx::query(
            "WITH stored AS ( \
               INSERT INTO batches (user_id, session_id, seq, received_ms, events, payload) \
               SELECT $1, $2, $3, $4, $5, $6 \
               WHERE (SELECT value FROM meta WHERE name = 'key_id') = $7 \
                 AND (SELECT user_id FROM batches WHERE session_id = $2 LIMIT 1) = $1 \
               ON CONFLICT (session_id, seq) DO NOTHING RETURNING 1) \
             SELECT pg_notify($8, $2) FROM stored",
        );
        let announced = Sql::<Postgres>::bind_batch(fast_path, sealed)
            .bind(BATCH_CHANNEL)
            .fetch_optional(&self.sql.writer)
            .await?;
        if announced.is_some() {
            return Ok(Inserted::Stored);
        }
        // A new session, a duplicate, another user's session or a stale key: the shared
        // insert under the session's lock, so two first batches of one session arriving
        // at two nodes at once are stored one after the other and the second sees the
        // first's owner.
        let mut tx = self.sql.writer.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(batch.session_id)
            .execute(&mut *tx)
            .await?;
        if Sql::<Postgres>::insert_batch_row(&mut tx, sealed).await? {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(BATCH_CHANNEL)
                .bind(batch.session_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Inserted::Stored);
        }
        tx.commit().await?;
        self.sql.refusal(sealed).await
    }

    /// Nothing to do: see [`crate::Store::scrub`].
    pub(crate) async fn scrub(&self) -> Result<bool, StorageError> {
        Ok(true)
    }

    pub(crate) async fn publish(&self, channel: &str, payload: &str) -> Result<(), StorageError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&self.sql.writer)
            .await?;
        Ok(())
    }

    pub(crate) async fn subscribe(&self, channels: &[&str]) -> Result<Subscription, StorageError> {
        let mut listener = PgListener::connect_with(&self.sql.writer).await?;
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
