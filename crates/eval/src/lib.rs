//! Offline evaluation: train per-user models on recorded sessions, score held-out sessions,
//! and report the rates biometric papers report.
//!
//! Mouse protocols: [`challenge`] (the Balabit layout: training folders, test folders, labels)
//! and [`split`] (one folder of sessions per user, chronological split), and [`open_set`]
//! (decisions on people no model saw, with the service's own threshold policy). Typing: [`keystroke`]
//! (the CMU benchmark's protocol and an open-set variant with a background population).

pub mod challenge;
pub mod corpus;
pub mod keystroke;
pub mod metrics;
pub mod open_set;
pub mod plausibility;
pub mod report;
pub mod split;

use std::path::PathBuf;

use pointerprint_core::FeatureVector;
use pointerprint_model::{Learner, PopulationLimit, TrainConfig, UserModel};
use rayon::prelude::*;

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

/// A session's score, higher meaning more likely an impostor, from its normalised scores
/// under every enrolled user's model (`normalized[claimed]` is the claimed user's).
///
/// Cohort normalisation: how much better the best other user's model fits the session than
/// the claimed user's. A session that fits someone else better is suspect, and conditions
/// that shift every model alike (another sampling rate, say) cancel out. A cold-start
/// (one-class) deployment has no cohort, so there the claimed model decides alone.
pub fn impostor_score(normalized: &[f64], claimed: usize, learner: Learner) -> f64 {
    let own = normalized[claimed];
    let best_other = normalized
        .iter()
        .enumerate()
        .filter(|&(m, _)| m != claimed)
        .map(|(_, &z)| z)
        .fold(f64::NEG_INFINITY, f64::max);
    if learner == Learner::OneClass || !best_other.is_finite() {
        -own
    } else {
        best_other - own
    }
}

/// Trains one model per user in parallel: user `i` on its `genuine` sequences against the
/// other users' `background` actions, as much of them as `limit` allows.
pub(crate) fn train_all(
    names: &[String],
    genuine: &[Vec<&[FeatureVector]>],
    background: &[Vec<FeatureVector>],
    limit: PopulationLimit,
    config: &TrainConfig,
    progress: &dyn Progress,
) -> Result<Vec<UserModel>, EvalError> {
    progress.stage("training user models", names.len());
    (0..names.len())
        .into_par_iter()
        .map(|i| {
            let others: Vec<usize> = (0..background.len()).filter(|&j| j != i).collect();
            let sizes: Vec<usize> = others.iter().map(|&j| background[j].len()).collect();
            let population: Vec<&[FeatureVector]> = limit
                .pick(&sizes)
                .into_iter()
                .map(|k| &background[others[k]][..sizes[k].min(limit.actions)])
                .collect();
            let model = UserModel::train(&genuine[i], &population, config).map_err(|source| {
                EvalError::Model {
                    user: names[i].clone(),
                    source,
                }
            });
            progress.step();
            model
        })
        .collect()
}

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Read(#[from] pointerprint_formats::ReadError),
    #[error("{path}: {message}")]
    Layout { path: PathBuf, message: String },
    #[error("{0}")]
    Data(String),
    #[error("user {user}: {source}")]
    Model {
        user: String,
        source: pointerprint_model::ModelError,
    },
}
