//! The storage layer of `pointerprint serve`, and the only crate that knows SQL.
//!
//! [`Store`] keeps API keys (as hashes), event batches, per-user models, the decision
//! log, the training queue, the settings, and password accounts with their signed-in
//! browser sessions in an embedded SQLite database (one process) or in PostgreSQL
//! (several service nodes sharing one database). Event batches
//! and models are encrypted at rest with XChaCha20-Poly1305 ([`Cipher`]); each blob's
//! associated data names its row, so a blob moved to another row does not decrypt.
//!
//! The SQL is written once (`sql`, generic over the database, `$N` placeholders on both)
//! and runs on either backend; `sqlite` and `postgres` hold only what really differs:
//! opening, storing a batch, notifications, and the few statements of their `Dialect`
//! (`FOR UPDATE SKIP LOCKED` against SQLite's single writer). The schemas stay per
//! backend in `migrations/sqlite/` and `migrations/postgres/` (kept in step, same version
//! numbers). Blob layout and encryption (`codec`, [`crypto`]) and row decoding (`rows`)
//! are shared. The store reads time from one injectable [`Clock`] (leases, key creation,
//! queue time), which callers can read too ([`Store::now_ms`]).
//! Nodes sharing a database tell each other about changes through [`Store::publish`] and
//! [`Store::subscribe`] (LISTEN/NOTIFY on PostgreSQL, in memory on SQLite).

mod clock;
mod codec;
pub mod crypto;
mod error;
mod notify;
mod postgres;
mod rows;
mod sql;
mod sqlite;
mod store;
#[cfg(feature = "test-support")]
pub mod testing;
mod types;

pub use clock::{Clock, ManualClock, SystemClock};
pub use crypto::Cipher;
pub use error::StorageError;
pub use notify::{BATCH_CHANNEL, Notification, Subscription};
pub use store::{DEFAULT_JOB_LEASE, Store};
pub use types::{
    Account, AccountKind, CollectionSession, DecisionCount, DecisionQuery, DecisionRecord, Erased,
    Inserted, Job, JobState, KeyRecord, Label, NewBatch, NewCollectionSession, NewDecision,
    ParseRoleError, Purpose, Role, SessionEvents, SessionTail, StoredModel, TrainingStatus,
    UserStats, WebSession,
};
