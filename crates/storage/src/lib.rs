//! The storage layer of `pointerprint serve`, and the only crate that knows SQL.
//!
//! [`Store`] keeps API keys (as hashes), event batches, per-user models, the decision
//! log, the training queue, the settings, and password accounts with their signed-in
//! browser sessions in an embedded SQLite database. Event batches
//! and models are encrypted at rest with XChaCha20-Poly1305 ([`Cipher`]); each blob's
//! associated data names its row, so a blob moved to another row does not decrypt.
//!
//! All SQL for SQLite lives in one module (`sqlite`), its schema in
//! `migrations/sqlite/`; blob layout and encryption (`codec`, [`crypto`]) are shared, so
//! another backend can sit beside it behind the same [`Store`].

mod codec;
pub mod crypto;
mod error;
mod sqlite;
mod store;
mod types;

pub use crypto::Cipher;
pub use error::StorageError;
pub use store::Store;
pub use types::{
    Account, AccountKind, DecisionCount, DecisionQuery, DecisionRecord, Erased, Inserted, Job,
    JobState, KeyRecord, NewBatch, NewDecision, ParseRoleError, Role, SessionEvents, StoredModel,
    UserStats, WebSession,
};
