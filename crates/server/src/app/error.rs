//! The one error type of the application layer. Each error has a kind (what went wrong, in
//! terms the HTTP layer maps to a status), a machine-readable code that clients see, and a
//! message.

use crate::domain::events::BatchError;
use crate::domain::ids::IdError;

/// What kind of failure an [`AppError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed or breaks a rule.
    Invalid,
    /// No credentials, or unknown or revoked ones.
    Unauthenticated,
    /// Known caller, not allowed to do this.
    Forbidden,
    NotFound,
    /// The request clashes with the state (taken name, no model yet, a foreign session).
    Conflict,
    /// Too much in one request.
    TooLarge,
    /// Well-formed, but it could not be carried out (training failed).
    Unprocessable,
    /// Refused for now: too many attempts.
    TooMany,
    /// A failure of the service itself.
    Internal,
}

/// An application error: kind, code (e.g. `invalid_json`, `not_enrolled`) and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AppError {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub message: String,
}

impl AppError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
        }
    }

    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, "not_found", message)
    }

    /// A failure of the service itself: logged in full, told to the client without internals.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Self::new(
            ErrorKind::Internal,
            "internal",
            "internal error; see the server log",
        )
    }
}

impl From<pointerprint_storage::StorageError> for AppError {
    fn from(e: pointerprint_storage::StorageError) -> Self {
        match e {
            // e.g. a session id that already belongs to another user
            pointerprint_storage::StorageError::Conflict(message) => {
                Self::new(ErrorKind::Conflict, "conflict", message)
            }
            e => Self::internal(e),
        }
    }
}

impl From<IdError> for AppError {
    fn from(e: IdError) -> Self {
        Self::invalid("invalid_id", e.to_string())
    }
}

impl From<BatchError> for AppError {
    fn from(e: BatchError) -> Self {
        match e {
            BatchError::TooMany { .. } => {
                Self::new(ErrorKind::TooLarge, "too_many_events", e.to_string())
            }
            BatchError::Invalid { .. } => Self::invalid("invalid_event", e.to_string()),
            BatchError::Empty => Self::invalid("empty_batch", e.to_string()),
            BatchError::Screen(_) => Self::invalid("invalid_screen", e.to_string()),
        }
    }
}
