//! The open-set protocol: decisions on people the models never saw.
//!
//! Users are dealt into rotating folds. For each fold, the users outside it are enrolled:
//! each is trained on all but its shortest session, against the other enrolled users as its
//! background (and calibrated on them), exactly as the service trains. The fold's users are
//! unseen: no model of this round saw them in training, background or calibration, and their
//! sessions are claimed as every enrolled user's. Every user is unseen once.
//!
//! Test samples are the shortest session of each user, cut into the decision units a
//! deployment meets: windows of 5, 10 and 20 consecutive actions (a sign-in), 15- and
//! 30-second pieces (each passed through the plausibility gate and extracted on its own, as
//! the service does a request), and the
//! whole session. Each sample is decided with the service's own policy
//! ([`pointerprint_model::Calibration::accept_threshold`], [`UserModel::decide`]) at target
//! false-accept rates of 1% and 5%, so the realized rates are what users get.

use std::path::Path;

use pointerprint_core::{FeatureVector, Gate, Recording, extract_plausible};
use pointerprint_formats::read_file;
use pointerprint_model::{Decision, PopulationLimit, SessionScore, TrainConfig, UserModel};
use rayon::prelude::*;
use serde::Serialize;

use crate::corpus::{User, read_users};
use crate::metrics::{Metrics, Trial};
use crate::{EvalError, Progress, train_all};

/// Target false-accept rates whose operating points are reported.
pub const TARGET_FARS: [f64; 2] = [0.01, 0.05];

/// The decision units samples are cut into.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Non-overlapping windows of this many consecutive actions.
    Actions(usize),
    /// Consecutive pieces of this many seconds, each extracted on its own.
    Seconds(u32),
    /// The whole test session.
    Session,
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unit::Actions(n) => write!(f, "{n} actions"),
            Unit::Seconds(s) => write!(f, "{s} s"),
            Unit::Session => f.write_str("whole session"),
        }
    }
}

pub const UNITS: [Unit; 6] = [
    Unit::Actions(5),
    Unit::Actions(10),
    Unit::Actions(20),
    Unit::Seconds(15),
    Unit::Seconds(30),
    Unit::Session,
];

/// What the service's decision did at one target false-accept rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServicePoint {
    pub target_far: f64,
    /// Impostor samples accepted, over impostor samples decided.
    pub far: f64,
    /// Genuine samples rejected, over genuine samples decided.
    pub frr: f64,
    /// Samples (of either kind) answered `insufficient_data`, over all samples.
    pub insufficient: f64,
}

/// The figures of one decision unit.
#[derive(Debug, Clone, Serialize)]
pub struct UnitResult {
    pub unit: Unit,
    /// The trials behind `metrics`, for plots.
    #[serde(skip)]
    pub trials: Vec<Trial>,
    /// Ranking by the claimed model's evidence, pooled over users and folds.
    pub metrics: Option<Metrics>,
    pub operating_points: Vec<ServicePoint>,
}

/// Everything the protocol produced.
#[derive(Debug, Clone, Serialize)]
pub struct OpenSetResult {
    pub users: Vec<String>,
    pub folds: usize,
    pub min_actions: usize,
    pub units: Vec<UnitResult>,
}

/// One decided sample: the claimed model's score and whether it was someone else.
#[derive(Debug, Clone, Copy)]
struct Sample {
    score: SessionScore,
    impostor: bool,
    /// The service's decision at each of [`TARGET_FARS`].
    decisions: [Decision; TARGET_FARS.len()],
}

/// Runs the protocol on `dir` (one sub-folder of sessions per user, at least two each).
pub fn run(
    dir: &Path,
    folds: usize,
    min_actions: usize,
    config: &TrainConfig,
    progress: &dyn Progress,
) -> Result<OpenSetResult, EvalError> {
    let users = read_users(dir, true, progress)?;
    let layout = |message: String| EvalError::Layout {
        path: dir.to_path_buf(),
        message,
    };
    if users.len() < folds.max(3) {
        return Err(layout(format!(
            "the open-set protocol needs at least {} users, found {}",
            folds.max(3),
            users.len()
        )));
    }
    if let Some(u) = users.iter().find(|u| u.sessions.len() < 2) {
        return Err(layout(format!(
            "user {} has {} session(s); the open-set protocol needs two or more per user",
            u.name,
            u.sessions.len()
        )));
    }
    let test: Vec<TestSession> = users
        .par_iter()
        .map(TestSession::of)
        .collect::<Result<_, _>>()?;

    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); UNITS.len()];
    for fold in 0..folds {
        let enrolled: Vec<usize> = (0..users.len()).filter(|u| u % folds != fold).collect();
        let unseen: Vec<usize> = (0..users.len()).filter(|u| u % folds == fold).collect();
        let names: Vec<String> = enrolled.iter().map(|&u| users[u].name.clone()).collect();
        let genuine: Vec<Vec<&[FeatureVector]>> = enrolled
            .iter()
            .map(|&u| training_sessions(&users[u], test[u].index))
            .collect();
        let background: Vec<Vec<FeatureVector>> = genuine.iter().map(|g| g.concat()).collect();
        let models = train_all(
            &names,
            &genuine,
            &background,
            PopulationLimit::SERVICE,
            config,
            progress,
        )?;

        progress.stage(
            &format!("deciding, fold {} of {folds}", fold + 1),
            enrolled.len(),
        );
        let decided: Vec<Vec<Vec<Sample>>> = enrolled
            .par_iter()
            .zip(&models)
            .map(|(&owner, model)| {
                let mut per_unit = vec![Vec::new(); UNITS.len()];
                let claimants = std::iter::once(owner).chain(unseen.iter().copied());
                for claimant in claimants {
                    let impostor = claimant != owner;
                    for (u, unit) in UNITS.iter().enumerate() {
                        for actions in test[claimant].samples(*unit) {
                            per_unit[u].push(decide(model, actions, impostor, min_actions));
                        }
                    }
                }
                progress.step();
                per_unit
            })
            .collect();
        for per_unit in decided {
            for (u, s) in per_unit.into_iter().enumerate() {
                samples[u].extend(s);
            }
        }
    }

    let units = UNITS
        .iter()
        .zip(&samples)
        .map(|(&unit, samples)| {
            let trials: Vec<Trial> = samples
                .iter()
                .filter(|s| s.score.actions > 0)
                .map(|s| Trial {
                    score: -s.score.evidence,
                    impostor: s.impostor,
                })
                .collect();
            UnitResult {
                unit,
                metrics: Metrics::of(&trials),
                trials,
                operating_points: (0..TARGET_FARS.len())
                    .map(|i| service_point(samples, i))
                    .collect(),
            }
        })
        .collect();
    Ok(OpenSetResult {
        users: users.iter().map(|u| u.name.clone()).collect(),
        folds,
        min_actions,
        units,
    })
}

/// A user's test session: the shortest one (ties: the last by name), as actions and as the
/// actions of each time piece.
struct TestSession {
    /// Which of the user's sessions it is.
    index: usize,
    actions: Vec<FeatureVector>,
    /// Per entry of [`UNITS`] that is a [`Unit::Seconds`]: the pieces' actions, `None` for a
    /// piece the plausibility gate refuses.
    pieces: Vec<(u32, Vec<Option<Vec<FeatureVector>>>)>,
}

impl TestSession {
    fn of(user: &User) -> Result<Self, EvalError> {
        let index = (0..user.sessions.len())
            .rev()
            .min_by_key(|&i| user.sessions[i].actions.len())
            .unwrap_or(0);
        let session = &user.sessions[index];
        let recording = read_file(&session.path)?.recording;
        let pieces = UNITS
            .iter()
            .filter_map(|unit| match unit {
                Unit::Seconds(s) => Some(*s),
                _ => None,
            })
            .map(|s| (s, time_pieces(&recording, f64::from(s) * 1000.0)))
            .collect();
        Ok(Self {
            index,
            actions: session.actions.clone(),
            pieces,
        })
    }

    /// The samples of `unit`, `None` for one the plausibility gate refuses.
    fn samples(&self, unit: Unit) -> Vec<Option<&[FeatureVector]>> {
        match unit {
            Unit::Actions(n) => self.actions.chunks_exact(n).map(Some).collect(),
            Unit::Seconds(s) => self
                .pieces
                .iter()
                .filter(|(seconds, _)| *seconds == s)
                .flat_map(|(_, pieces)| pieces.iter().map(Option::as_deref))
                .collect(),
            Unit::Session => vec![Some(&self.actions)],
        }
    }
}

/// The user's training sequences: every session but the test one, each followed by its
/// resampled copy (as [`User::training_sessions`]).
fn training_sessions(user: &User, test: usize) -> Vec<&[FeatureVector]> {
    user.sessions
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != test)
        .flat_map(|(_, s)| [s.actions.as_slice(), s.resampled.as_slice()])
        .collect()
}

/// Consecutive pieces of `length_ms` from the first event on, each checked by the
/// plausibility gate and extracted on its own as the service does a request; pieces without
/// events are skipped.
fn time_pieces(recording: &Recording, length_ms: f64) -> Vec<Option<Vec<FeatureVector>>> {
    let Some(start) = recording.events.first().map(|e| e.t) else {
        return Vec::new();
    };
    let mut pieces: Vec<Recording> = Vec::new();
    for e in &recording.events {
        let k = ((e.t - start).max(0.0) / length_ms) as usize;
        while pieces.len() <= k {
            pieces.push(Recording {
                screen: recording.screen,
                ..Recording::default()
            });
        }
        pieces[k].events.push(*e);
    }
    pieces
        .iter()
        .filter(|p| !p.events.is_empty())
        .map(|p| extract_plausible(p, &Gate::default()).ok())
        .collect()
}

/// Scores a sample with the claimed user's model and decides it as the service does: a
/// sample the plausibility gate refused is rejected unscored (and left out of the ranking).
fn decide(
    model: &UserModel,
    actions: Option<&[FeatureVector]>,
    impostor: bool,
    min: usize,
) -> Sample {
    let Some(actions) = actions else {
        return Sample {
            score: model.score_session(&[]),
            impostor,
            decisions: [Decision::Reject; TARGET_FARS.len()],
        };
    };
    let score = model.score_session(actions);
    let decisions = TARGET_FARS.map(|far| {
        let threshold = model.calibration().accept_threshold(far, score.actions);
        UserModel::decide(&score, threshold, min)
    });
    Sample {
        score,
        impostor,
        decisions,
    }
}

/// The realized rates of the decisions at `TARGET_FARS[i]`.
fn service_point(samples: &[Sample], i: usize) -> ServicePoint {
    let rate = |impostor: bool, wrong: Decision| {
        let decided: Vec<Decision> = samples
            .iter()
            .filter(|s| s.impostor == impostor && s.decisions[i] != Decision::InsufficientData)
            .map(|s| s.decisions[i])
            .collect();
        decided.iter().filter(|&&d| d == wrong).count() as f64 / decided.len().max(1) as f64
    };
    let insufficient = samples
        .iter()
        .filter(|s| s.decisions[i] == Decision::InsufficientData)
        .count() as f64
        / samples.len().max(1) as f64;
    ServicePoint {
        target_far: TARGET_FARS[i],
        far: rate(true, Decision::Accept),
        frr: rate(false, Decision::Reject),
        insufficient,
    }
}
