//! The public face of the storage layer. No SQL here: each method hands over to the
//! statements both backends share (`sql`) or, where the databases really differ, to the
//! backend, SQLite (one process, a file) or PostgreSQL (several nodes, one server).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::postgres::PgDb;
use crate::sql::SealedBatch;
use crate::sqlite::SqliteDb;
use crate::{
    Account, AccountKind, Cipher, Clock, CollectionSession, DecisionCount, DecisionQuery,
    DecisionRecord, Erased, Inserted, Job, KeyRecord, Label, NewBatch, NewCollectionSession,
    NewDecision, Role, SessionEvents, SessionTail, StorageError, StoredModel, Subscription,
    SystemClock, TrainingStatus, UserStats, WebSession,
};

/// How long a claimed training job stays its node's without a renewal, by default.
pub const DEFAULT_JOB_LEASE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

/// Runs a shared statement (`crate::sql`) on whichever database the store has.
macro_rules! shared {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.db {
            Backend::Sqlite(db) => db.sql.$method($($arg),*).await,
            Backend::Postgres(db) => db.sql.$method($($arg),*).await,
        }
    };
}

/// Calls a method that each backend implements its own way.
macro_rules! on_backend {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.db {
            Backend::Sqlite(db) => db.$method($($arg),*).await,
            Backend::Postgres(db) => db.$method($($arg),*).await,
        }
    };
}

/// The service's persistent state: API keys, encrypted event batches and models, the
/// decision log, the training queue and the settings. Cheap to clone; clones share the
/// connection pools.
///
/// Timestamps are milliseconds since the epoch given by the caller, except the creation
/// time of an API key, the queue time of a training job and job leases, which come from
/// the store's clock ([`Store::now_ms`]; the system clock unless [`Store::with_clock`]).
#[derive(Debug, Clone)]
pub struct Store {
    db: Backend,
    cipher: Cipher,
    job_lease: Duration,
    clock: Arc<dyn Clock>,
}

impl Store {
    /// Opens the SQLite database at `path`, creating it (and its directory) and bringing
    /// its schema up to date if needed. WAL journal, `synchronous = NORMAL` (a call that
    /// returned has committed, and survives the process being killed), foreign keys on,
    /// busy timeout 5 s.
    ///
    /// The first key to open a database becomes its key: opening it with another fails
    /// with [`StorageError::Crypto`]. Training jobs left running by a crashed process go
    /// back to the queue when their lease runs out (see [`Store::claim_job`]).
    pub async fn open_sqlite(path: &Path, cipher: Cipher) -> Result<Store, StorageError> {
        let db = SqliteDb::open(path, &cipher).await?;
        Ok(Store::with_backend(Backend::Sqlite(db), cipher))
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://user@host:port/db`) and
    /// brings its schema up to date (under PostgreSQL's migration lock, so nodes starting
    /// together are fine). The key check is the same as SQLite's: every node sharing the
    /// database must use the same key.
    pub async fn open_postgres(url: &str, cipher: Cipher) -> Result<Store, StorageError> {
        let db = PgDb::open(url, &cipher).await?;
        Ok(Store::with_backend(Backend::Postgres(db), cipher))
    }

    /// Opens `target`: a `postgres://` or `postgresql://` URL, an `sqlite://` URL, or a
    /// path to an SQLite file.
    pub async fn open(target: &str, cipher: Cipher) -> Result<Store, StorageError> {
        if target.starts_with("postgres://") || target.starts_with("postgresql://") {
            return Store::open_postgres(target, cipher).await;
        }
        let path = target
            .strip_prefix("sqlite://")
            .or_else(|| target.strip_prefix("sqlite:"))
            .unwrap_or(target);
        Store::open_sqlite(Path::new(path), cipher).await
    }

    fn with_backend(db: Backend, cipher: Cipher) -> Store {
        Store {
            db,
            cipher,
            job_lease: DEFAULT_JOB_LEASE,
            clock: Arc::new(SystemClock),
        }
    }

    /// This store with another clock, e.g. a [`crate::ManualClock`] that a test moves
    /// past a lease instead of sleeping through it.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Store {
        self.clock = clock;
        self
    }

    /// Now, by this store's clock, in milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// This store with another job lease: how long a job it claims stays its own without
    /// [`Store::renew_job`]. After that, any store may claim the job again.
    pub fn with_job_lease(mut self, lease: Duration) -> Store {
        self.job_lease = lease;
        self
    }

    /// The job lease of this store.
    pub fn job_lease(&self) -> Duration {
        self.job_lease
    }

    /// Whether several processes may share this store's database (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        matches!(self.db, Backend::Postgres(_))
    }

    /// Closes the database connections, waiting for running statements; on the last
    /// close SQLite checkpoints the WAL into the database file. Clones stop working too.
    pub async fn close(&self) {
        shared!(self.close())
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
        shared!(self.create_key(name, role, key_hash, self.now_ms()))
    }

    /// The key with this hash, revoked or not (see [`KeyRecord::revoked`]).
    pub async fn key_by_hash(&self, key_hash: &str) -> Result<Option<KeyRecord>, StorageError> {
        shared!(self.key_by_hash(key_hash))
    }

    /// Every key, revoked ones included, oldest first.
    pub async fn list_keys(&self) -> Result<Vec<KeyRecord>, StorageError> {
        shared!(self.list_keys())
    }

    /// Revokes a key. `true` if the key exists (it is now revoked, whether or not it
    /// already was), `false` if there is no key with this id.
    pub async fn revoke_key(&self, id: i64) -> Result<bool, StorageError> {
        shared!(self.revoke_key(id))
    }

    // ---- event batches ----

    /// Stores a batch, encrypted, whole or not at all. A batch whose `(session_id, seq)`
    /// is already stored is not stored again ([`Inserted::Duplicate`]). A session belongs
    /// to the user of its first batch: a batch of it for another user gives
    /// [`StorageError::Conflict`]. A stored batch is announced to subscribers of
    /// [`crate::BATCH_CHANNEL`] with its session id.
    pub async fn insert_batch(&self, batch: &NewBatch<'_>) -> Result<Inserted, StorageError> {
        let sealed = SealedBatch::new(&self.cipher, *batch)?;
        on_backend!(self.insert_batch(&sealed))
    }

    /// All batches of a session in `seq` order, concatenated; `None` for an unknown
    /// session.
    pub async fn session_events(
        &self,
        session_id: &str,
    ) -> Result<Option<SessionEvents>, StorageError> {
        shared!(self.session_events(&self.cipher, session_id))
    }

    /// The batches of a session after `after_seq` (all when `None`), concatenated in `seq`
    /// order, with how many there were and how many the session has in all (more than
    /// expected says a batch with a lower `seq` arrived late); `None` for an unknown
    /// session. Only the returned batches are decrypted, so following a session costs
    /// each batch once.
    pub async fn session_events_after(
        &self,
        session_id: &str,
        after_seq: Option<i64>,
    ) -> Result<Option<SessionTail>, StorageError> {
        shared!(self.session_events_after(&self.cipher, session_id, after_seq))
    }

    /// Every session of a user, in the order their first batches arrived.
    pub async fn user_sessions(&self, user_id: &str) -> Result<Vec<SessionEvents>, StorageError> {
        shared!(self.user_sessions(&self.cipher, user_id))
    }

    /// Every session of a user that may train their model (opened for enrolment, or
    /// labelled genuine; see [`CollectionSession::trains`]), as [`Store::user_sessions`].
    pub async fn training_sessions(
        &self,
        user_id: &str,
    ) -> Result<Vec<SessionEvents>, StorageError> {
        shared!(self.training_sessions(&self.cipher, user_id))
    }

    /// Retention: deletes every batch received before `before_ms` and returns the number
    /// of events they held. Deletes in chunks, so ingestion goes on meanwhile.
    pub async fn purge_events_before(&self, before_ms: i64) -> Result<u64, StorageError> {
        shared!(self.purge_events_before(before_ms))
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
        shared!(self.put_model(&self.cipher, user_id, model, summary_json, trained_at_ms))
    }

    /// A user's current model.
    pub async fn model(&self, user_id: &str) -> Result<Option<StoredModel>, StorageError> {
        shared!(self.model(&self.cipher, user_id))
    }

    // ---- users ----

    /// Every user (anyone with a batch, a model or a decision), by id.
    pub async fn users(&self) -> Result<Vec<UserStats>, StorageError> {
        shared!(self.users())
    }

    /// One user; `None` if it has no batch, model or decision.
    pub async fn user(&self, user_id: &str) -> Result<Option<UserStats>, StorageError> {
        shared!(self.user(user_id))
    }

    /// Erases everything of a user, in one transaction: batches (and so events), model,
    /// decisions, training jobs and collection sessions. Returns what was removed.
    pub async fn erase_user(&self, user_id: &str) -> Result<Erased, StorageError> {
        shared!(self.remove_user(user_id, true))
    }

    /// Makes what was deleted leave the database's files, after an erasure. SQLite
    /// overwrites deleted rows (`secure_delete`); this moves the WAL's pages into the
    /// database file and truncates the WAL, which still held the rows as written. On
    /// PostgreSQL it does nothing: deleted rows stay in dead tuples until vacuum reuses
    /// their pages, and in WAL segments until they are recycled (see docs/deployment.md).
    /// `false` if readers kept SQLite's checkpoint from finishing (try again later).
    pub async fn scrub(&self) -> Result<bool, StorageError> {
        on_backend!(self.scrub())
    }

    /// Starts a user's enrolment over, in one transaction: removes their batches, model,
    /// training jobs and collection sessions but keeps their decisions in the audit log (`decisions` is 0).
    pub async fn reset_user(&self, user_id: &str) -> Result<Erased, StorageError> {
        shared!(self.remove_user(user_id, false))
    }

    // ---- decisions ----

    /// Appends a decision to the audit log; returns its id.
    pub async fn insert_decision(&self, d: &NewDecision<'_>) -> Result<i64, StorageError> {
        shared!(self.insert_decision(d))
    }

    /// The decisions that match `q`, newest (`created_ms`, then id) first, from its
    /// offset, at most its limit.
    pub async fn decisions(
        &self,
        q: &DecisionQuery<'_>,
    ) -> Result<Vec<DecisionRecord>, StorageError> {
        shared!(self.decisions(q))
    }

    /// How many decisions match `q`'s filters (its offset and limit aside).
    pub async fn count_decisions(&self, q: &DecisionQuery<'_>) -> Result<u64, StorageError> {
        shared!(self.count_decisions(q))
    }

    /// Decisions since `from_ms` counted per kind and per bucket of `bucket_ms`
    /// (buckets start at multiples of it), oldest bucket first; empty buckets are absent.
    pub async fn decision_counts(
        &self,
        from_ms: i64,
        bucket_ms: i64,
    ) -> Result<Vec<DecisionCount>, StorageError> {
        shared!(self.decision_counts(from_ms, bucket_ms))
    }

    // ---- training queue ----

    /// Queues training for a user and returns the job id; if the user already has a
    /// queued or running job, returns that job's id instead.
    pub async fn enqueue_training(&self, user_id: &str) -> Result<i64, StorageError> {
        shared!(self.enqueue_training(user_id, self.now_ms()))
    }

    /// Atomically moves the oldest claimable job to running and returns it; `None` if none
    /// is claimable.
    ///
    /// A job claimed by a store whose lease ran out (its process died, or stopped renewing)
    /// is claimable again, so a job lost with its node is not lost for good, while a live
    /// node's job is never taken. On PostgreSQL claims use `FOR UPDATE SKIP LOCKED`: nodes
    /// claiming at once get different jobs.
    pub async fn claim_job(&self) -> Result<Option<Job>, StorageError> {
        shared!(self.claim_job(self.now_ms(), self.job_lease))
    }

    /// Extends the lease of a running job by this store's lease from now; `false` if the
    /// job is no longer running (finished, or its user erased). Renew well within the lease.
    pub async fn renew_job(&self, id: i64) -> Result<bool, StorageError> {
        shared!(self.renew_job(id, self.now_ms(), self.job_lease))
    }

    /// What automatic training needs to know about a user, in one query.
    pub async fn training_status(&self, user_id: &str) -> Result<TrainingStatus, StorageError> {
        shared!(self.training_status(user_id))
    }

    /// Marks a job done (`error` is `None`) or failed with `error`. A job that no longer
    /// exists (its user was erased) is ignored.
    pub async fn finish_job(&self, id: i64, error: Option<&str>) -> Result<(), StorageError> {
        shared!(self.finish_job(id, error))
    }

    /// A job by id.
    pub async fn job(&self, id: i64) -> Result<Option<Job>, StorageError> {
        shared!(self.job(id))
    }

    // ---- collection sessions ----

    /// Opens a collection session. A session id that is taken (by a collection session
    /// or by a batch) gives [`StorageError::Conflict`].
    pub async fn open_session(
        &self,
        session: &NewCollectionSession<'_>,
    ) -> Result<(), StorageError> {
        shared!(self.open_session(session))
    }

    /// The collection session whose token has this hash, expired or not.
    pub async fn session_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<CollectionSession>, StorageError> {
        shared!(self.session_by_token(token_hash))
    }

    /// The collection session of this id, if one was opened or labelled.
    pub async fn collection_session(
        &self,
        session_id: &str,
    ) -> Result<Option<CollectionSession>, StorageError> {
        shared!(self.collection_session(session_id))
    }

    /// Labels a session (a collection session, or one known only by its batches) and
    /// returns it; `None` if no such session exists. Labelling a session again with the
    /// same label changes nothing; a session labelled [`Label::Fraud`] stays so, and
    /// labelling it genuine gives [`StorageError::Conflict`].
    pub async fn label_session(
        &self,
        session_id: &str,
        label: Label,
    ) -> Result<Option<CollectionSession>, StorageError> {
        shared!(self.label_session(session_id, label, self.now_ms()))
    }

    // ---- settings ----

    /// The settings document, if one was stored.
    pub async fn settings(&self) -> Result<Option<String>, StorageError> {
        shared!(self.settings())
    }

    /// Replaces the settings document.
    pub async fn put_settings(&self, json: &str) -> Result<(), StorageError> {
        shared!(self.put_settings(json))
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
        shared!(self.create_account(kind, username, password_hash, now_ms))
    }

    /// The account of this kind and username.
    pub async fn account(
        &self,
        kind: AccountKind,
        username: &str,
    ) -> Result<Option<Account>, StorageError> {
        shared!(self.account(kind, username))
    }

    /// Every account of a kind, by username.
    pub async fn accounts(&self, kind: AccountKind) -> Result<Vec<Account>, StorageError> {
        shared!(self.accounts(kind))
    }

    /// Deletes an account and its signed-in sessions; `false` if there was none.
    pub async fn delete_account(
        &self,
        kind: AccountKind,
        username: &str,
    ) -> Result<bool, StorageError> {
        shared!(self.delete_account(kind, username))
    }

    /// Replaces an account's password hash and lifts any lock. `false` if there is no
    /// such account.
    pub async fn set_password(
        &self,
        account_id: i64,
        password_hash: &str,
    ) -> Result<bool, StorageError> {
        shared!(self.set_password(account_id, password_hash))
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
        shared!(self.record_login_failure(account_id, now_ms, limit, lock_ms))
    }

    /// A successful sign-in: the failure count starts again.
    pub async fn record_login_success(&self, account_id: i64) -> Result<(), StorageError> {
        shared!(self.record_login_success(account_id))
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
        shared!(self.create_web_session(token_hash, account_id, csrf_token, created_ms, expires_ms))
    }

    /// The session with this token hash and its account, unless it expired by `now_ms`.
    pub async fn web_session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<WebSession>, StorageError> {
        shared!(self.web_session(token_hash, now_ms))
    }

    /// Signs a browser out.
    pub async fn delete_web_session(&self, token_hash: &str) -> Result<(), StorageError> {
        shared!(self.delete_web_session(token_hash))
    }

    /// Deletes the sessions expired by `now_ms`; returns how many.
    pub async fn purge_web_sessions(&self, now_ms: i64) -> Result<u64, StorageError> {
        shared!(self.purge_web_sessions(now_ms))
    }

    // ---- key rotation ----

    /// Re-encrypts every blob (batches, models) from this store's cipher to `new`, in one
    /// transaction, and makes `new` the database's key. Returns a store using `new`; this
    /// store (and its clones) can then no longer write blobs (they get
    /// [`StorageError::Crypto`]), so replace them with the returned one.
    pub async fn rotate(&self, new: Cipher) -> Result<Store, StorageError> {
        shared!(self.rotate(&self.cipher, &new))?;
        Ok(Store {
            cipher: new,
            ..self.clone()
        })
    }

    // ---- notifications between nodes ----

    /// Publishes `payload` (at most 7,000 bytes) on `channel` to every subscriber of every
    /// process sharing the database, this one included. Delivery is at most once: a
    /// subscriber that was disconnected is told it may have missed some.
    pub async fn publish(&self, channel: &str, payload: &str) -> Result<(), StorageError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(StorageError::Conflict(format!(
                "a notification payload of {} bytes is over the {MAX_PAYLOAD}-byte limit",
                payload.len()
            )));
        }
        on_backend!(self.publish(channel, payload))
    }

    /// A stream of the notifications published on `channels` from now on. On PostgreSQL
    /// each subscription holds a connection of its own: subscribe once per process and
    /// fan out in memory.
    pub async fn subscribe(&self, channels: &[&str]) -> Result<Subscription, StorageError> {
        on_backend!(self.subscribe(channels))
    }
}

/// Largest notification payload (PostgreSQL's limit is 8,000 bytes, channel included).
const MAX_PAYLOAD: usize = 7_000;
