//! What only SQLite does: opening the file, storing a batch, in-memory notifications, and
//! its [`Dialect`]. Every other statement is in [`crate::sql`].
//!
//! One file, WAL journal, `synchronous = NORMAL` (a committed transaction survives the
//! process being killed; a power cut may lose the last commits but never corrupts the
//! file). Writes go through a pool of one connection, so writers queue in the process
//! instead of spinning on SQLite's lock; reads use a pool of several connections, which
//! WAL lets run beside the writer. The busy timeout (5 s) covers other processes that
//! open the same file.

use std::path::Path;
use std::time::Duration;

use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use tokio::sync::broadcast;

use crate::notify::{BATCH_CHANNEL, LOCAL_BACKLOG};
use crate::sql::{Dialect, SealedBatch, Sql};
use crate::{Cipher, Inserted, Notification, StorageError, Subscription};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Connections of the read pool.
const READERS: u32 = 4;

#[derive(Debug, Clone)]
pub(crate) struct SqliteDb {
    pub(crate) sql: Sql<Sqlite>,
    /// Notifications: one process owns the file, so they stay in memory.
    notifications: broadcast::Sender<Notification>,
}

impl Dialect for Sqlite {
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    // `BEGIN IMMEDIATE` already holds the one write lock.
    const LOCK_BLOBS: Option<&'static str> = None;
    // The one writer connection serialises claims.
    const CLAIM_JOB: &'static str = "UPDATE jobs SET state = 'running', lease_until_ms = $2 \
         WHERE id = (SELECT id FROM jobs \
                     WHERE state = 'queued' OR (state = 'running' AND lease_until_ms < $1) \
                     ORDER BY id LIMIT 1) \
         RETURNING id, user_id, state, error, queued_ms";
    const PURGE_CHUNK: &'static str = "DELETE FROM batches WHERE id IN \
           (SELECT id FROM batches WHERE received_ms < $1 ORDER BY received_ms LIMIT $2) \
         RETURNING events";

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
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
            .pragma("secure_delete", "ON")
            // PostgreSQL's byte order, which the shared statements ask for by name.
            .collation("C", |a: &str, b: &str| a.as_bytes().cmp(b.as_bytes()));
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
        let sql = Sql { reader, writer };
        // The first key to open the database is its key; any other is refused here,
        // before anything is written with it.
        sql.check_key(cipher, &path.display().to_string()).await?;
        Ok(SqliteDb {
            sql,
            notifications: broadcast::channel(LOCAL_BACKLOG).0,
        })
    }

    /// One statement, on the one writer connection: nothing can slip in between the
    /// owner check and the insert.
    pub(crate) async fn insert_batch(
        &self,
        sealed: &SealedBatch<'_>,
    ) -> Result<Inserted, StorageError> {
        let mut conn = self.sql.writer.acquire().await?;
        let stored = Sql::<Sqlite>::insert_batch_row(&mut conn, sealed).await?;
        drop(conn);
        if !stored {
            return self.sql.refusal(sealed).await;
        }
        let _ = self.notifications.send(Notification {
            channel: BATCH_CHANNEL.to_string(),
            payload: sealed.batch.session_id.to_string(),
        });
        Ok(Inserted::Stored)
    }

    /// Checkpoints the WAL into the database file and truncates it. Readers in the middle
    /// of a read can keep the checkpoint from finishing: it is tried a few times.
    pub(crate) async fn scrub(&self) -> Result<bool, StorageError> {
        for _ in 0..10 {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&self.sql.writer)
                .await?;
            if busy == 0 {
                return Ok(true);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(false)
    }

    pub(crate) async fn publish(&self, channel: &str, payload: &str) -> Result<(), StorageError> {
        // No subscriber is not an error: nobody needed telling.
        let _ = self.notifications.send(Notification {
            channel: channel.to_string(),
            payload: payload.to_string(),
        });
        Ok(())
    }

    pub(crate) async fn subscribe(&self, channels: &[&str]) -> Result<Subscription, StorageError> {
        Ok(Subscription::local(
            self.notifications.subscribe(),
            channels,
        ))
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
