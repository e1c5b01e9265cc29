//! Training, scoring and storing one user's model.

use pointerprint_core::FeatureVector;
use rand::seq::index::sample;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha12Rng;
use serde::{Deserialize, Serialize};

use crate::calibration::{Calibration, Decision, SessionScore};
use crate::forest::{Forest, ForestParams};
use crate::learner::{BoostedParams, Fitted, Learner};
use crate::one_class::OneClass;

/// Version of the stored model layout; bumped whenever it changes. Versions 1 (no window
/// scores in the summary) and 2 (no between-person impostor spread in the calibration,
/// which was fitted on people the model trained against) are still read.
pub const FORMAT_VERSION: u32 = 3;

/// Actions per out-of-fold window whose session scores the summary keeps.
pub const SUMMARY_WINDOW: usize = 10;

/// Action scores are clipped to ±this, so a few extreme actions cannot outvote the rest.
const CLIP: f64 = 6.0;

/// How a model is trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub learner: Learner,
    pub boosted: BoostedParams,
    pub forest: ForestParams,
    /// Folds for the out-of-fold scores the calibration is fitted on.
    pub folds: usize,
    /// Background actions sampled per genuine action.
    pub negatives_per_genuine: f64,
    /// Fewer genuine actions than this is not enough to enrol.
    pub min_actions: usize,
    /// More genuine actions than this are thinned out evenly: training time grows with the
    /// data while accuracy saturates.
    pub max_actions: usize,
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            learner: Learner::Boosted,
            boosted: BoostedParams::default(),
            forest: ForestParams::default(),
            folds: 3,
            negatives_per_genuine: 1.5,
            min_actions: 60,
            max_actions: 8_000,
            seed: 0x5eed,
        }
    }
}

/// How much of a background population one model trains against: at most `users` people
/// (see [`PopulationLimit::pick`]) and the first `actions` actions of each. The service and
/// `eval`'s open-set protocol use [`PopulationLimit::SERVICE`], so the protocol trains the
/// models the service would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PopulationLimit {
    pub users: usize,
    pub actions: usize,
}

impl PopulationLimit {
    /// Training time grows with the population while accuracy saturates.
    pub const SERVICE: Self = Self {
        users: 20,
        actions: 3_000,
    };
    pub const NONE: Self = Self {
        users: usize::MAX,
        actions: usize::MAX,
    };

    /// Which of the candidates (given by how much data each has) to train against: evenly
    /// spread over the candidates ranked by data, from the most to the least. Not simply
    /// the ones with the most data: how much a person produces goes with how they move (fast
    /// clickers make many actions), and a population of one kind calibrates a model for
    /// that kind of stranger only, while the strangers who matter are all kinds.
    pub fn pick(&self, data: &[usize]) -> Vec<usize> {
        let mut ranked: Vec<usize> = (0..data.len()).collect();
        ranked.sort_by_key(|&i| std::cmp::Reverse(data[i]));
        thin_out(ranked, self.users)
    }
}

/// Why a model could not be trained or loaded.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("not enough enrolment data: {have} actions, at least {need} needed")]
    NotEnoughData { have: usize, need: usize },
    #[error("a boosted model needs a background population of other users' actions")]
    NoPopulation,
    #[error("training failed: {0}")]
    Training(String),
    #[error("stored model is unreadable: {0}")]
    Corrupt(String),
    #[error("stored model has format version {found}, this build reads version {FORMAT_VERSION}")]
    Version { found: u32 },
}

/// What a model was trained on and how well it separates, from its out-of-fold scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    pub learner: Learner,
    pub genuine_actions: usize,
    pub background_actions: usize,
    pub background_users: usize,
    /// Predicted equal error rate for decisions on 1, 5, 10 and 20 actions (two-class only).
    pub expected_eer: Option<[f64; 4]>,
    /// Out-of-fold action scores, genuine and impostor, for plotting the score distributions.
    pub genuine_scores: Vec<f32>,
    pub impostor_scores: Vec<f32>,
    /// Out-of-fold session scores ([0, 1], as decisions see them) of windows of
    /// [`SUMMARY_WINDOW`] consecutive actions: the distributions a threshold cuts through.
    /// Empty for models stored before they were kept.
    #[serde(default)]
    pub genuine_window_scores: Vec<f32>,
    #[serde(default)]
    pub impostor_window_scores: Vec<f32>,
}

/// The summary of a version 1 model.
#[derive(Serialize, Deserialize)]
struct SummaryV1 {
    learner: Learner,
    genuine_actions: usize,
    background_actions: usize,
    background_users: usize,
    expected_eer: Option<[f64; 4]>,
    genuine_scores: Vec<f32>,
    impostor_scores: Vec<f32>,
}

impl From<SummaryV1> for ModelSummary {
    fn from(v1: SummaryV1) -> Self {
        Self {
            learner: v1.learner,
            genuine_actions: v1.genuine_actions,
            background_actions: v1.background_actions,
            background_users: v1.background_users,
            expected_eer: v1.expected_eer,
            genuine_scores: v1.genuine_scores,
            impostor_scores: v1.impostor_scores,
            genuine_window_scores: Vec::new(),
            impostor_window_scores: Vec::new(),
        }
    }
}

/// One user's model: an action classifier and the calibration of its scores.
pub struct UserModel {
    fitted: Fitted,
    calibration: Calibration,
    summary: ModelSummary,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    learner: StoredLearner,
    calibration: Calibration,
    summary: ModelSummary,
}

/// A version 2 model: the calibration had no between-person spread.
#[derive(Serialize, Deserialize)]
struct StoredV2 {
    version: u32,
    learner: StoredLearner,
    calibration: CalibrationV2,
    summary: ModelSummary,
}

/// A version 1 model: as version 2 but for the summary.
#[derive(Serialize, Deserialize)]
struct StoredV1 {
    version: u32,
    learner: StoredLearner,
    calibration: CalibrationV2,
    summary: SummaryV1,
}

/// The calibration of version 1 and 2 models.
#[derive(Serialize, Deserialize)]
struct CalibrationV2 {
    genuine_mean: f64,
    genuine_sd: f64,
    impostor: Option<(f64, f64)>,
    dependence: f64,
}

impl From<CalibrationV2> for Calibration {
    fn from(v2: CalibrationV2) -> Self {
        Self {
            genuine_mean: v2.genuine_mean,
            genuine_sd: v2.genuine_sd,
            impostor: v2.impostor,
            dependence: v2.dependence,
            impostor_between_sd: 0.0,
        }
    }
}

#[derive(Serialize, Deserialize)]
enum StoredLearner {
    /// forust's own JSON dump: its serde layout is not symmetric under compact formats.
    Boosted(String),
    Forest(Forest),
    OneClass(OneClass),
}

/// At most this many out-of-fold scores of each class are kept in the summary.
const SUMMARY_SCORES: usize = 2_000;

impl UserModel {
    /// Trains a model on a user's sessions (in time order) against other users' actions
    /// (one slice per user, in time order).
    pub fn train(
        genuine: &[&[FeatureVector]],
        population: &[&[FeatureVector]],
        config: &TrainConfig,
    ) -> Result<Self, ModelError> {
        let all_genuine: Vec<&FeatureVector> = genuine.iter().flat_map(|s| s.iter()).collect();
        let all_genuine = thin_out(all_genuine, config.max_actions);
        let need = config.min_actions.max(config.folds * 2);
        if all_genuine.len() < need {
            return Err(ModelError::NotEnoughData {
                have: all_genuine.len(),
                need,
            });
        }
        let population: Vec<&[FeatureVector]> = population
            .iter()
            .copied()
            .filter(|p| !p.is_empty())
            .collect();
        if config.learner != Learner::OneClass && population.is_empty() {
            return Err(ModelError::NoPopulation);
        }
        let folds = config.folds.max(2);
        let mut rng = ChaCha12Rng::seed_from_u64(config.seed);

        // Out-of-fold scores: each block of the user's actions is scored by a model that did
        // not see it, as a future session would be; and each background user is held out
        // whole in one fold and scored by a model that never trained against them, as a
        // stranger would be. (A model scores people it trained against lower than strangers,
        // so calibrating on them would promise a false-accept rate it cannot keep.) With a
        // single background user there is nobody to hold out: its blocks are split instead.
        let mut oof_genuine: Vec<Vec<f64>> = Vec::with_capacity(folds);
        let mut oof_impostor: Vec<Vec<f64>> = Vec::with_capacity(population.len().max(folds));
        let hold_out_people = population.len() >= 2;
        for k in 0..folds {
            let (train_g, test_g) = split_block(&all_genuine, k, folds);
            let mut train_i = Vec::with_capacity(population.len());
            let mut test_i = Vec::with_capacity(population.len());
            for (p, user) in population.iter().enumerate() {
                let refs: Vec<&FeatureVector> = user.iter().collect();
                if !hold_out_people {
                    let (train, test) = split_block(&refs, k, folds);
                    train_i.push(train);
                    test_i.push(test);
                } else if p % folds == k {
                    test_i.push(refs);
                } else {
                    train_i.push(refs);
                }
            }
            let fitted = fit(config, &train_g, &train_i, &mut rng)?;
            oof_genuine.push(clipped(fitted.scores(&test_g)));
            for block in test_i {
                oof_impostor.push(clipped(fitted.scores(&block)));
            }
        }
        let calibration = Calibration::fit(&oof_genuine, &oof_impostor);

        let background: Vec<Vec<&FeatureVector>> =
            population.iter().map(|u| u.iter().collect()).collect();
        let fitted = fit(config, &all_genuine, &background, &mut rng)?;
        let summary = ModelSummary {
            learner: config.learner,
            genuine_actions: all_genuine.len(),
            background_actions: background.iter().map(Vec::len).sum(),
            background_users: background.len(),
            expected_eer: calibration
                .impostor
                .map(|_| [1, 5, 10, 20].map(|n| calibration.expected_eer(n).unwrap_or(0.5))),
            genuine_scores: thin(&oof_genuine, SUMMARY_SCORES),
            impostor_scores: thin(&oof_impostor, SUMMARY_SCORES),
            genuine_window_scores: window_scores(&calibration, &oof_genuine),
            impostor_window_scores: window_scores(&calibration, &oof_impostor),
        };
        Ok(Self {
            fitted,
            calibration,
            summary,
        })
    }

    /// Each action's score, clipped: higher means more like the user.
    pub fn action_scores(&self, actions: &[FeatureVector]) -> Vec<f64> {
        let refs: Vec<&FeatureVector> = actions.iter().collect();
        clipped(self.fitted.scores(&refs))
    }

    /// The calibrated score of a session made of `actions`.
    pub fn score_session(&self, actions: &[FeatureVector]) -> SessionScore {
        self.calibration.session(&self.action_scores(actions))
    }

    /// The decision for a session score: too few actions to judge, or the score against the
    /// threshold (on the [0, 1] scale).
    pub fn decide(score: &SessionScore, threshold: f64, min_actions: usize) -> Decision {
        if score.actions < min_actions {
            Decision::InsufficientData
        } else if score.score >= threshold {
            Decision::Accept
        } else {
            Decision::Reject
        }
    }

    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    pub fn summary(&self) -> &ModelSummary {
        &self.summary
    }

    /// The model as bytes in the current [`FORMAT_VERSION`].
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        let learner = match &self.fitted {
            Fitted::Boosted(b) => StoredLearner::Boosted(
                b.json_dump()
                    .map_err(|e| ModelError::Corrupt(e.to_string()))?,
            ),
            Fitted::Forest(f) => StoredLearner::Forest(f.clone()),
            Fitted::OneClass(m) => StoredLearner::OneClass(m.clone()),
        };
        let stored = Stored {
            version: FORMAT_VERSION,
            learner,
            calibration: self.calibration.clone(),
            summary: self.summary.clone(),
        };
        postcard::to_stdvec(&stored).map_err(|e| ModelError::Corrupt(e.to_string()))
    }

    /// Loads a model written by [`UserModel::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let (version, _) = postcard::take_from_bytes::<u32>(bytes)
            .map_err(|e| ModelError::Corrupt(e.to_string()))?;
        let corrupt = |e: postcard::Error| ModelError::Corrupt(e.to_string());
        let stored: Stored = match version {
            FORMAT_VERSION => postcard::from_bytes(bytes).map_err(corrupt)?,
            2 => {
                let v2: StoredV2 = postcard::from_bytes(bytes).map_err(corrupt)?;
                Stored {
                    version: v2.version,
                    learner: v2.learner,
                    calibration: v2.calibration.into(),
                    summary: v2.summary,
                }
            }
            1 => {
                let v1: StoredV1 = postcard::from_bytes(bytes).map_err(corrupt)?;
                Stored {
                    version: v1.version,
                    learner: v1.learner,
                    calibration: v1.calibration.into(),
                    summary: v1.summary.into(),
                }
            }
            found => return Err(ModelError::Version { found }),
        };
        let fitted = match stored.learner {
            StoredLearner::Boosted(json) => Fitted::Boosted(Box::new(
                forust_ml::GradientBooster::from_json(&json)
                    .map_err(|e| ModelError::Corrupt(e.to_string()))?,
            )),
            StoredLearner::Forest(f) => Fitted::Forest(f),
            StoredLearner::OneClass(m) => Fitted::OneClass(m),
        };
        Ok(Self {
            fitted,
            calibration: stored.calibration,
            summary: stored.summary,
        })
    }
}

/// Fits the configured learner on genuine actions and a sample of each background user's.
fn fit(
    config: &TrainConfig,
    genuine: &[&FeatureVector],
    background: &[Vec<&FeatureVector>],
    rng: &mut ChaCha12Rng,
) -> Result<Fitted, ModelError> {
    match config.learner {
        Learner::OneClass => Ok(Fitted::OneClass(OneClass::fit(genuine))),
        Learner::Boosted | Learner::Forest => {
            let quota = ((genuine.len() as f64 * config.negatives_per_genuine)
                / background.len() as f64)
                .ceil() as usize;
            let mut impostor = Vec::with_capacity(quota * background.len());
            for user in background {
                if user.len() <= quota {
                    impostor.extend(user.iter().copied());
                } else {
                    let mut picked = sample(rng, user.len(), quota).into_vec();
                    picked.sort_unstable();
                    impostor.extend(picked.into_iter().map(|i| user[i]));
                }
            }
            if config.learner == Learner::Forest {
                return Ok(Fitted::Forest(Forest::fit(
                    genuine,
                    &impostor,
                    &config.forest,
                    rng.next_u64(),
                )));
            }
            Fitted::boosted(genuine, &impostor, &config.boosted, config.seed)
                .map_err(|e| ModelError::Training(e.to_string()))
        }
    }
}

/// Every n-th item (rounding evenly), so that at most `max` remain, in order.
fn thin_out<T>(items: Vec<T>, max: usize) -> Vec<T> {
    if items.len() <= max {
        return items;
    }
    let n = items.len();
    items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i * max / n != (i + 1) * max / n)
        .map(|(_, x)| x)
        .collect()
}

/// The `k`-th of `folds` contiguous blocks, and everything else.
fn split_block<'a>(
    items: &[&'a FeatureVector],
    k: usize,
    folds: usize,
) -> (Vec<&'a FeatureVector>, Vec<&'a FeatureVector>) {
    let (start, end) = (items.len() * k / folds, items.len() * (k + 1) / folds);
    let mut rest = items[..start].to_vec();
    rest.extend_from_slice(&items[end..]);
    (rest, items[start..end].to_vec())
}

fn clipped(mut scores: Vec<f64>) -> Vec<f64> {
    scores.iter_mut().for_each(|s| {
        *s = if s.is_finite() {
            s.clamp(-CLIP, CLIP)
        } else {
            0.0
        }
    });
    scores
}

/// The session scores of consecutive [`SUMMARY_WINDOW`]-action windows of each out-of-fold
/// block, at most [`SUMMARY_SCORES`] of them.
fn window_scores(calibration: &Calibration, blocks: &[Vec<f64>]) -> Vec<f32> {
    let windows: Vec<f64> = blocks
        .iter()
        .flat_map(|b| b.chunks_exact(SUMMARY_WINDOW))
        .map(|w| calibration.session(w).score)
        .collect();
    thin(&[windows], SUMMARY_SCORES)
}

/// Every n-th score, so that at most `max` remain.
fn thin(blocks: &[Vec<f64>], max: usize) -> Vec<f32> {
    let all: Vec<f64> = blocks.iter().flatten().copied().collect();
    let step = all.len().div_ceil(max).max(1);
    all.into_iter().step_by(step).map(|v| v as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pointerprint_core::extract;
    use pointerprint_synth::{MotorStyle, session};

    fn v2_calibration(c: &Calibration) -> CalibrationV2 {
        CalibrationV2 {
            genuine_mean: c.genuine_mean,
            genuine_sd: c.genuine_sd,
            impostor: c.impostor,
            dependence: c.dependence,
        }
    }

    #[test]
    fn version_2_models_load_without_between_person_spread() {
        let styles: Vec<MotorStyle> = (0..4).map(MotorStyle::from_seed).collect();
        let actions: Vec<Vec<FeatureVector>> = styles
            .iter()
            .map(|s| extract(&session(s, 1, 150)))
            .collect();
        let population: Vec<&[FeatureVector]> = actions[1..].iter().map(Vec::as_slice).collect();
        let config = TrainConfig {
            boosted: BoostedParams {
                iterations: 20,
                ..BoostedParams::default()
            },
            ..TrainConfig::default()
        };
        let model = UserModel::train(&[&actions[0]], &population, &config).unwrap();
        let current: Stored = postcard::from_bytes(&model.to_bytes().unwrap()).unwrap();
        let v2 = StoredV2 {
            version: 2,
            learner: current.learner,
            calibration: v2_calibration(&current.calibration),
            summary: current.summary,
        };
        let loaded = UserModel::from_bytes(&postcard::to_stdvec(&v2).unwrap()).unwrap();
        assert_eq!(loaded.calibration().impostor_between_sd, 0.0);
        assert_eq!(loaded.calibration().impostor, model.calibration().impostor);
        let probe = &actions[0][..20];
        assert_eq!(loaded.action_scores(probe), model.action_scores(probe));
    }

    #[test]
    fn version_1_models_still_load_without_window_scores() {
        let actions = extract(&session(&MotorStyle::from_seed(3), 1, 150));
        let config = TrainConfig {
            learner: Learner::OneClass,
            ..TrainConfig::default()
        };
        let model = UserModel::train(&[&actions], &[], &config).unwrap();
        assert!(!model.summary().genuine_window_scores.is_empty());
        let current: Stored = postcard::from_bytes(&model.to_bytes().unwrap()).unwrap();
        let summary = current.summary;
        let v1 = StoredV1 {
            version: 1,
            learner: current.learner,
            calibration: v2_calibration(&current.calibration),
            summary: SummaryV1 {
                learner: summary.learner,
                genuine_actions: summary.genuine_actions,
                background_actions: summary.background_actions,
                background_users: summary.background_users,
                expected_eer: summary.expected_eer,
                genuine_scores: summary.genuine_scores.clone(),
                impostor_scores: summary.impostor_scores,
            },
        };
        let loaded = UserModel::from_bytes(&postcard::to_stdvec(&v1).unwrap()).unwrap();
        assert_eq!(loaded.calibration(), model.calibration());
        assert_eq!(loaded.summary().genuine_scores, summary.genuine_scores);
        assert!(loaded.summary().genuine_window_scores.is_empty());
        let probe = &actions[..20];
        assert_eq!(loaded.action_scores(probe), model.action_scores(probe));
    }
}
