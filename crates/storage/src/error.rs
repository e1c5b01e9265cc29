//! The one error type of the storage layer.

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database refused or failed a statement (I/O error, full disk, busy past the timeout…).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A blob did not decrypt (wrong key or tampered row), the store was opened with
    /// another key than its data's, or a key file is unusable.
    #[error("{0}")]
    Crypto(String),
    /// A row holds something this version cannot read (unknown role or state, undecodable
    /// events).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// A write that contradicts stored data, e.g. a batch for a session that belongs to
    /// another user.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A file outside the database (key file, database directory) could not be used.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl StorageError {
    /// An I/O error with the path it concerns in its message.
    pub(crate) fn io_at(path: &std::path::Path, what: &str, e: std::io::Error) -> Self {
        StorageError::Io(std::io::Error::new(
            e.kind(),
            format!("cannot {what} {}: {e}", path.display()),
        ))
    }
}
