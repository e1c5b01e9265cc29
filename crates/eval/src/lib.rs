//! Offline evaluation: train per-user models on recorded sessions, score held-out sessions,
//! and report the rates biometric papers report.
//!
//! Two protocols: [`challenge`] (the Balabit layout: training folders, test folders, labels)
//! and [`split`] (one folder of sessions per user, chronological split).

pub mod challenge;
pub mod corpus;
pub mod metrics;
pub mod report;
pub mod split;

use std::path::PathBuf;

/// Reports progress of long stages; the CLI draws bars with it, tests ignore it.
pub trait Progress: Sync {
    /// A stage of `total` steps begins.
    fn stage(&self, name: &str, total: usize);
    /// One step of the current stage is done.
    fn step(&self);
}

/// Progress that goes nowhere.
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _: &str, _: usize) {}
    fn step(&self) {}
}

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Read(#[from] pointerprint_formats::ReadError),
    #[error("{path}: {message}")]
    Layout { path: PathBuf, message: String },
    #[error("user {user}: {source}")]
    Model {
        user: String,
        source: pointerprint_model::ModelError,
    },
}
