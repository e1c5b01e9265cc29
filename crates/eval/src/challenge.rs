//! The challenge protocol: one model per training user folder (the other users are its
//! background population), every test session scored against the model of the folder it
//! sits in, and labels saying which test sessions were someone else.
//!
//! A session's score is cohort-normalised (see [`crate::impostor_score`]).

use std::path::Path;

use pointerprint_formats::read_labels;
use pointerprint_model::{PopulationLimit, TrainConfig};
use serde::Serialize;

use crate::corpus::read_users;
use crate::metrics::{Metrics, Trial};
use crate::{EvalError, Progress};
use crate::{impostor_score, train_all};

/// One scored test session.
#[derive(Debug, Clone, Serialize)]
pub struct ScoredSession {
    pub filename: String,
    pub user: String,
    /// Higher means more likely an impostor (see [`crate::impostor_score`]).
    pub score: f64,
    /// Higher means more likely an impostor, without cohort normalisation.
    pub own_score: f64,
    pub actions: usize,
    /// From the labels, when given.
    pub impostor: Option<bool>,
}

/// Per-user figures.
#[derive(Debug, Clone, Serialize)]
pub struct UserResult {
    pub user: String,
    pub training_actions: usize,
    pub test_sessions: usize,
    pub metrics: Option<Metrics>,
    /// The equal error rate the model's own calibration predicts for 1, 5, 10 and 20 actions.
    pub expected_eer: Option<[f64; 4]>,
    /// Size of the stored model.
    pub model_bytes: usize,
}

/// Everything the protocol produced.
#[derive(Debug, Clone, Serialize)]
pub struct ChallengeResult {
    pub sessions: Vec<ScoredSession>,
    pub metrics: Option<Metrics>,
    pub users: Vec<UserResult>,
    /// Rows of the training and test files left out for a button or state the reader does
    /// not know.
    pub unknown_rows: usize,
}

/// Runs the protocol.
pub fn run(
    train: &Path,
    test: &Path,
    labels: Option<&Path>,
    config: &TrainConfig,
    progress: &dyn Progress,
) -> Result<ChallengeResult, EvalError> {
    let labels = labels.map(read_labels).transpose()?;
    let training = read_users(train, true, progress)?;
    let testing = read_users(test, false, progress)?;

    let names: Vec<String> = training.iter().map(|u| u.name.clone()).collect();
    let genuine: Vec<Vec<&[_]>> = training.iter().map(|u| u.training_sessions()).collect();
    let background: Vec<Vec<_>> = genuine.iter().map(|g| g.concat()).collect();
    let models = train_all(
        &names,
        &genuine,
        &background,
        PopulationLimit::NONE,
        config,
        progress,
    )?;

    let mut sessions = Vec::new();
    for user in &testing {
        let Some(index) = training.iter().position(|t| t.name == user.name) else {
            return Err(EvalError::Layout {
                path: test.join(&user.name),
                message: format!("test user {} has no training folder", user.name),
            });
        };
        for s in &user.sessions {
            let normalized: Vec<f64> = models
                .iter()
                .map(|m| m.score_session(&s.actions).normalized)
                .collect();
            sessions.push(ScoredSession {
                filename: s.name.clone(),
                user: user.name.clone(),
                score: impostor_score(&normalized, index, config.learner),
                own_score: -normalized[index],
                actions: s.actions.len(),
                impostor: labels.as_ref().and_then(|l| l.get(&s.name).copied()),
            });
        }
    }

    let users = training
        .iter()
        .zip(&models)
        .map(|(user, model)| UserResult {
            user: user.name.clone(),
            training_actions: user.action_count(),
            test_sessions: sessions.iter().filter(|s| s.user == user.name).count(),
            metrics: Metrics::of(&labelled_trials(&sessions, Some(&user.name), |s| s.score)),
            expected_eer: model.summary().expected_eer,
            model_bytes: model.to_bytes().map_or(0, |b| b.len()),
        })
        .collect();
    let unknown_rows = training
        .iter()
        .chain(&testing)
        .map(|u| u.unknown_rows())
        .sum();
    Ok(ChallengeResult {
        unknown_rows,
        metrics: Metrics::of(&labelled_trials(&sessions, None, |s| s.score)),
        sessions,
        users,
    })
}

/// The labelled sessions (of one user, or all) as trials, scored by `score`.
pub fn labelled_trials(
    sessions: &[ScoredSession],
    user: Option<&str>,
    score: impl Fn(&ScoredSession) -> f64,
) -> Vec<Trial> {
    sessions
        .iter()
        .filter(|s| user.is_none_or(|u| s.user == u))
        .filter_map(|s| {
            s.impostor.map(|impostor| Trial {
                score: score(s),
                impostor,
            })
        })
        .collect()
}
