//! The public face of the storage layer. No SQL here: each method hands over to the
//! backend (SQLite now; PostgreSQL to come beside it).

use std::path::Path;

use crate::sqlite::SqliteDb;
use crate::{
    Account, AccountKind, Cipher, DecisionCount, DecisionQuery, DecisionRecord, Erased, Inserted,
    Job, KeyRecord, NewBatch, NewDecision, Role, SessionEvents, StorageError, StoredModel,
    UserStats, WebSession,
};

/// The service's persistent state: API keys, encrypted event batches and models, the
/// decision log, the training queue and the settings. Cheap to clone; clones share the
/// connection pools.
///
/// Timestamps are milliseconds since the epoch given by the caller, except the creation
/// time of an API key and the queue time of a training job, which come from the system
/// clock.
#[derive(Debug, Clone)]
pub struct Store {
    db: SqliteDb,
    cipher: Cipher,
}

impl Store {
    /// Opens the SQLite database at `path`, creating it (and its directory) and bringing
    /// its schema up to date if needed. WAL journal, `synchronous = NORMAL` (a call that
    /// returned has committed, and survives the process being killed), foreign keys on,
    /// busy timeout 5 s.
    ///
    /// The first key to open a database becomes its key: opening it with another fails
    /// with [`StorageError::Crypto`]. Training jobs left running by a crashed process go
    /// back to the queue (so open one store per database file: a second process opening
    /// the same file would re-queue the first one's running jobs).
    pub async fn open_sqlite(path: &Path, cipher: Cipher) -> Result<Store, StorageError> {
        let db = SqliteDb::open(path, &cipher).await?;
        Ok(Store { db, cipher })
    }

    /// Closes the database connections, waiting for running statements; on the last
    /// close SQLite checkpoints the WAL into the database file. Clones stop working too.
    pub async fn close(&self) {
        self.db.close().await;
    }

    /// The cipher this store encrypts with.
    pub fn cipher(&self) -> &Cipher {
        &self.cipher
    }

    // ---- API keys ----

    /// Stores a new API key by its hash (hex SHA-256, computed by the caller). A hash that
    /// is already stored gives [`StorageError::Conflict`].
    pub async fn create_key(
        &self,
        name: &str,
        role: Role,
        key_hash: &str,
    ) -> Result<KeyRecord, StorageError> {
        self.db.create_key(name, role, key_hash).await
    }

    /// The key with this hash, revoked or not (see [`KeyRecord::revoked`]).
    pub async fn key_by_hash(&self, key_hash: &str) -> Result<Option<KeyRecord>, StorageError> {
        self.db.key_by_hash(key_hash).await
    }

    /// Every key, revoked ones included, oldest first.
    pub async fn list_keys(&self) -> Result<Vec<KeyRecord>, StorageError> {
        self.db.list_keys().await
    }

    /// Revokes a key. `true` if the key exists (it is now revoked, whether or not it
    /// already was), `false` if there is no key with this id.
    pub async fn revoke_key(&self, id: i64) -> Result<bool, StorageError> {
        self.db.revoke_key(id).await
    }

    // ---- event batches ----

    /// Stores a batch, encrypted, whole or not at all. A batch whose `(session_id, seq)`
    /// is already stored is not stored again ([`Inserted::Duplicate`]). A session belongs
    /// to the user of its first batch: a batch of it for another user gives
    /// [`StorageError::Conflict`].
    pub async fn insert_batch(&self, batch: &NewBatch<'_>) -> Result<Inserted, StorageError> {
        self.db.insert_batch(&self.cipher, batch).await
    }

    /// All batches of a session in `seq` order, concatenated; `None` for an unknown
    /// session.
    pub async fn session_events(
        &self,
        session_id: &str,
    ) -> Result<Option<SessionEvents>, StorageError> {
        self.db.session_events(&self.cipher, session_id).await
    }

    /// Every session of a user, in the order their first batches arrived.
    pub async fn user_sessions(&self, user_id: &str) -> Result<Vec<SessionEvents>, StorageError> {
        self.db.user_sessions(&self.cipher, user_id).await
    }

    /// Retention: deletes every batch received before `before_ms` and returns the number
    /// of events they held. Deletes in chunks, so ingestion goes on meanwhile.
    pub async fn purge_events_before(&self, before_ms: i64) -> Result<u64, StorageError> {
        self.db.purge_events_before(before_ms).await
    }

    // ---- models ----

    /// Stores (or replaces) a user's model, encrypted.
    pub async fn put_model(
        &self,
        user_id: &str,
        model: &[u8],
        summary_json: &str,
        trained_at_ms: i64,
    ) -> Result<(), StorageError> {
        self.db
            .put_model(&self.cipher, user_id, model, summary_json, trained_at_ms)
            .await
    }

    /// A user's current model.
    pub async fn model(&self, user_id: &str) -> Result<Option<StoredModel>, StorageError> {
        self.db.model(&self.cipher, user_id).await
    }

    // ---- users ----

    /// Every user (anyone with a batch, a model or a decision), by id.
    pub async fn users(&self) -> Result<Vec<UserStats>, StorageError> {
        self.db.users().await
    }

    /// One user; `None` if it has no batch, model or decision.
    pub async fn user(&self, user_id: &str) -> Result<Option<UserStats>, StorageError> {
        self.db.user(user_id).await
    }

    /// Erases everything of a user, in one transaction: batches (and so events), model,
    /// decisions and training jobs. Returns what was removed.
    pub async fn erase_user(&self, user_id: &str) -> Result<Erased, StorageError> {
        self.db.erase_user(user_id).await
    }

    /// Starts a user's enrolment over, in one transaction: removes their batches, model and
    /// training jobs but keeps their decisions in the audit log (`decisions` is 0).
    pub async fn reset_user(&self, user_id: &str) -> Result<Erased, StorageError> {
        self.db.reset_user(user_id).await
    }

    // ---- decisions ----

    /// Appends a decision to the audit log; returns its id.
    pub async fn insert_decision(&self, d: &NewDecision<'_>) -> Result<i64, StorageError> {
        self.db.insert_decision(d).await
    }

    /// The decisions that match `q`, newest (`created_ms`, then id) first, from its
    /// offset, at most its limit.
    pub async fn decisions(
        &self,
        q: &DecisionQuery<'_>,
    ) -> Result<Vec<DecisionRecord>, StorageError> {
        self.db.decisions(q).await
    }

    /// How many decisions match `q`'s filters (its offset and limit aside).
    pub async fn count_decisions(&self, q: &DecisionQuery<'_>) -> Result<u64, StorageError> {
        self.db.count_decisions(q).await
    }

    /// Decisions since `from_ms` counted per kind and per bucket of `bucket_ms`
    /// (buckets start at multiples of it), oldest bucket first; empty buckets are absent.
    pub async fn decision_counts(
        &self,
        from_ms: i64,
        bucket_ms: i64,
    ) -> Result<Vec<DecisionCount>, StorageError> {
        self.db.decision_counts(from_ms, bucket_ms).await
    }

    // ---- training queue ----

    /// Queues training for a user and returns the job id; if the user already has a
    /// queued or running job, returns that job's id instead.
    pub async fn enqueue_training(&self, user_id: &str) -> Result<i64, StorageError> {
        self.db.enqueue_training(user_id).await
    }

    /// Atomically moves the oldest queued job to running and returns it; `None` if none
    /// is queued.
    pub async fn claim_job(&self) -> Result<Option<Job>, StorageError> {
        self.db.claim_job().await
    }

    /// Marks a job done (`error` is `None`) or failed with `error`. A job that no longer
    /// exists (its user was erased) is ignored.
    pub async fn finish_job(&self, id: i64, error: Option<&str>) -> Result<(), StorageError> {
        self.db.finish_job(id, error).await
    }

    /// A job by id.
    pub async fn job(&self, id: i64) -> Result<Option<Job>, StorageError> {
        self.db.job(id).await
    }

    // ---- settings ----

    /// The settings document, if one was stored.
    pub async fn settings(&self) -> Result<Option<String>, StorageError> {
        self.db.settings().await
    }

    /// Replaces the settings document.
    pub async fn put_settings(&self, json: &str) -> Result<(), StorageError> {
        self.db.put_settings(json).await
    }

    // ---- accounts and web sessions ----

    /// Creates an account; one of the same kind and username gives
    /// [`StorageError::Conflict`].
    pub async fn create_account(
        &self,
        kind: AccountKind,
        username: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<Account, StorageError> {
        self.db
            .create_account(kind, username, password_hash, now_ms)
            .await
    }

    /// The account of this kind and username.
    pub async fn account(
        &self,
        kind: AccountKind,
        username: &str,
    ) -> Result<Option<Account>, StorageError> {
        self.db.account(kind, username).await
    }

    /// Every account of a kind, by username.
    pub async fn accounts(&self, kind: AccountKind) -> Result<Vec<Account>, StorageError> {
        self.db.accounts(kind).await
    }

    /// Replaces an account's password hash and lifts any lock. `false` if there is no
    /// such account.
    pub async fn set_password(
        &self,
        account_id: i64,
        password_hash: &str,
    ) -> Result<bool, StorageError> {
        self.db.set_password(account_id, password_hash).await
    }

    /// Counts a failed sign-in. The `limit`-th failure in a row locks the account until
    /// `now_ms + lock_ms` and starts the count again. Returns the account as it now is;
    /// `None` if there is no such account.
    pub async fn record_login_failure(
        &self,
        account_id: i64,
        now_ms: i64,
        limit: u32,
        lock_ms: i64,
    ) -> Result<Option<Account>, StorageError> {
        self.db
            .record_login_failure(account_id, now_ms, limit, lock_ms)
            .await
    }

    /// A successful sign-in: the failure count starts again.
    pub async fn record_login_success(&self, account_id: i64) -> Result<(), StorageError> {
        self.db.record_login_success(account_id).await
    }

    /// Stores a signed-in browser session by the hash of its cookie token.
    pub async fn create_web_session(
        &self,
        token_hash: &str,
        account_id: i64,
        csrf_token: &str,
        created_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StorageError> {
        self.db
            .create_web_session(token_hash, account_id, csrf_token, created_ms, expires_ms)
            .await
    }

    /// The session with this token hash and its account, unless it expired by `now_ms`.
    pub async fn web_session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<WebSession>, StorageError> {
        self.db.web_session(token_hash, now_ms).await
    }

    /// Signs a browser out.
    pub async fn delete_web_session(&self, token_hash: &str) -> Result<(), StorageError> {
        self.db.delete_web_session(token_hash).await
    }

    /// Deletes the sessions expired by `now_ms`; returns how many.
    pub async fn purge_web_sessions(&self, now_ms: i64) -> Result<u64, StorageError> {
        self.db.purge_web_sessions(now_ms).await
    }

    // ---- key rotation ----

    /// Re-encrypts every blob (batches, models) from this store's cipher to `new`, in one
    /// transaction, and makes `new` the database's key. Returns a store using `new`; this
    /// store (and its clones) can then no longer write blobs (they get
    /// [`StorageError::Crypto`]), so replace them with the returned one.
    pub async fn rotate(&self, new: Cipher) -> Result<Store, StorageError> {
        self.db.rotate(&self.cipher, &new).await?;
        Ok(Store {
            db: self.db.clone(),
            cipher: new,
        })
    }
}
