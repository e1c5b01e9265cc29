//! The split protocol for a single folder of sessions per user: each user's actions in time
//! order, the first two thirds to train on and the last third to test; impostor trials are
//! the other users' test actions. Decisions are made on windows of 1, 5, 10 and 20
//! consecutive actions, the table mouse-dynamics papers report.

use std::path::Path;

use pointerprint_model::{PopulationLimit, TrainConfig};
use rayon::prelude::*;
use serde::Serialize;

use crate::corpus::read_users;
use crate::metrics::{Metrics, Trial};
use crate::{EvalError, Progress};
use crate::{impostor_score, train_all};

/// Decision windows, in consecutive actions.
pub const WINDOWS: [usize; 4] = [1, 5, 10, 20];

/// Figures for one window size.
#[derive(Debug, Clone, Serialize)]
pub struct WindowResult {
    pub actions: usize,
    /// Cohort-normalised scores (see the challenge protocol), pooled over users.
    pub metrics: Metrics,
    /// The claimed user's model alone, pooled over users.
    pub without_cohort: Metrics,
    /// Mean of the per-user AUCs and EERs (each user's trials on their own).
    pub mean_user_auc: f64,
    pub mean_user_eer: f64,
}

/// Everything the protocol produced.
#[derive(Debug, Clone, Serialize)]
pub struct SplitResult {
    pub users: Vec<String>,
    pub windows: Vec<WindowResult>,
    /// Rows of the files left out for a button or state the reader does not know.
    pub unknown_rows: usize,
    /// Trials for 10-action windows (cohort-normalised), for plots.
    #[serde(skip)]
    pub trials_10: Vec<Trial>,
}

/// Runs the protocol on `dir` (one sub-folder per user).
pub fn run(
    dir: &Path,
    config: &TrainConfig,
    progress: &dyn Progress,
) -> Result<SplitResult, EvalError> {
    let users = read_users(dir, true, progress)?;
    if users.len() < 2 {
        return Err(EvalError::Layout {
            path: dir.to_path_buf(),
            message: "the split protocol needs at least two users".into(),
        });
    }
    let (train, test): (Vec<_>, Vec<_>) = users
        .iter()
        .map(|u| {
            let mut actions = u.actions();
            let test = actions.split_off(actions.len() * 2 / 3);
            // Train on the resampled copy of the same first two thirds too.
            let resampled: Vec<_> = u
                .sessions
                .iter()
                .flat_map(|s| s.resampled.iter().copied())
                .collect();
            actions.extend_from_slice(&resampled[..resampled.len() * 2 / 3]);
            (actions, test)
        })
        .unzip();

    let names: Vec<String> = users.iter().map(|u| u.name.clone()).collect();
    let genuine: Vec<Vec<&[_]>> = train.iter().map(|t| vec![t.as_slice()]).collect();
    let models = train_all(
        &names,
        &genuine,
        &train,
        PopulationLimit::NONE,
        config,
        progress,
    )?;

    // scores[m][u]: model m's action scores of user u's test actions.
    progress.stage("scoring held-out actions", models.len());
    let scores: Vec<Vec<Vec<f64>>> = models
        .par_iter()
        .map(|m| {
            let s = test.iter().map(|t| m.action_scores(t)).collect();
            progress.step();
            s
        })
        .collect();

    let mut windows = Vec::new();
    let mut trials_10 = Vec::new();
    for size in WINDOWS {
        let mut pooled = Vec::new();
        let mut pooled_own = Vec::new();
        let (mut auc_sum, mut eer_sum, mut counted) = (0.0, 0.0, 0);
        for claimed in 0..models.len() {
            let mut own_trials = Vec::new();
            for (actual, actions) in test.iter().enumerate() {
                for w in 0..actions.len() / size {
                    let range = w * size..(w + 1) * size;
                    let normalized: Vec<f64> = (0..models.len())
                        .map(|m| {
                            let window = &scores[m][actual][range.clone()];
                            models[m].calibration().normalized(mean(window))
                        })
                        .collect();
                    let impostor = actual != claimed;
                    pooled.push(Trial {
                        score: impostor_score(&normalized, claimed, config.learner),
                        impostor,
                    });
                    own_trials.push(Trial {
                        score: -normalized[claimed],
                        impostor,
                    });
                }
            }
            if let Some(m) = Metrics::of(&own_trials) {
                auc_sum += m.auc;
                eer_sum += m.eer;
                counted += 1;
            }
            pooled_own.extend(own_trials);
        }
        let (Some(metrics), Some(without_cohort)) =
            (Metrics::of(&pooled), Metrics::of(&pooled_own))
        else {
            continue;
        };
        if size == 10 {
            trials_10 = pooled;
        }
        windows.push(WindowResult {
            actions: size,
            metrics,
            without_cohort,
            mean_user_auc: auc_sum / counted.max(1) as f64,
            mean_user_eer: eer_sum / counted.max(1) as f64,
        });
    }
    Ok(SplitResult {
        users: users.iter().map(|u| u.name.clone()).collect(),
        windows,
        trials_10,
        unknown_rows: users.iter().map(|u| u.unknown_rows()).sum(),
    })
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}
