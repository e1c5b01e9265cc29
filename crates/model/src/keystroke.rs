//! Per-user models of typing rhythm on a fixed text (a password, a username).
//!
//! A sample is the timing vector of one typing (`core::keystroke::fixed_text_features`).
//! [`Detector::ScaledManhattan`] is the best detector of Killourhy & Maxion (2009), kept as
//! the reference. [`Detector::Ensemble`] improves on it with what their errors come from:
//! one slow key in an otherwise typical typing (per-feature deviations are capped), practice
//! (later training typings weigh more, and the profile is fitted after trimming the most
//! atypical training typings), and the shape of the user's cloud of typings (a scaled
//! nearest-neighbour distance, blended with the distance to the centre).
//!
//! With other people's typings as a background population, [`KeystrokeModel::train`] adds
//! boosted trees (forust, as the mouse models) that read each timing's deviation from the
//! user's profile and learn which departures betray someone else; the score is their log-odds
//! minus a fixed multiple of the one-class distance. Either way the score is calibrated on
//! out-of-fold scores, as the mouse models are: held-out blocks of the user's typings, and
//! background people scored by models that did not train on them. With a background the
//! calibrated evidence is a log-likelihood ratio; without, a standard score against the
//! user's own typings.

use forust_ml::GradientBooster;
use forust_ml::objective::ObjectiveType;
use serde::{Deserialize, Serialize};

use crate::calibration::Calibration;
use crate::learner::BoostedParams;

/// The one-class detector a model is built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Detector {
    /// Killourhy & Maxion's scaled Manhattan: mean and mean absolute deviation per feature.
    ScaledManhattan,
    /// Capped, recency-weighted robust Manhattan blended with a scaled nearest-neighbour
    /// distance.
    Ensemble,
}

/// Why a keystroke model could not be trained.
#[derive(Debug, thiserror::Error)]
pub enum KeystrokeModelError {
    #[error("not enough typings: {have}, at least {need} needed")]
    NotEnoughData { have: usize, need: usize },
    #[error("typing {index} has {found} timings, the others {expected}")]
    Length {
        index: usize,
        found: usize,
        expected: usize,
    },
    #[error("typing {index} has a timing that is not a finite number")]
    NonFinite { index: usize },
    #[error("training failed: {0}")]
    Training(String),
}

/// The fewest genuine typings a model is trained on.
pub const MIN_TYPINGS: usize = 10;

/// Distance to the centre: per feature a location and a scale; deviations capped at `cap`
/// scales (infinite for the reference detector).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Centre {
    location: Vec<f64>,
    scale: Vec<f64>,
    cap: f64,
}

impl Centre {
    fn distance(&self, x: &[f64]) -> f64 {
        x.iter()
            .zip(self.location.iter().zip(&self.scale))
            .map(|(v, (m, s))| ((v - m).abs() / s).min(self.cap))
            .sum()
    }
}

/// The fitted one-class part: raw distances, higher = less like the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Profile {
    ScaledManhattan(Centre),
    Ensemble {
        centre: Centre,
        /// The (weighted, trimmed) training typings for the neighbour distance.
        neighbours: Vec<Vec<f64>>,
        /// Out-of-sample spread of each distance over the user's typings, to blend them.
        centre_spread: f64,
        neighbour_spread: f64,
    },
}

/// Settings of the ensemble detector.
const CAP: f64 = 3.0;
const NEIGHBOURS: usize = 3;
const TRIM: f64 = 0.1;
/// Folds for the user's out-of-fold deviations the two-class model trains on.
const INNER_FOLDS: usize = 5;
/// The two-class score is the trees' log-odds minus this times the one-class distance: the
/// trees learn who else types like this from the training sessions, the distance keeps the
/// score anchored on the user when their rhythm moves on. (Chosen among 0, 1, 3, 6 and 12 on
/// the CMU background protocol: 7.2%, 5.1%, 4.0%, 4.0%, 4.4% mean subject EER, before the
/// trimmed typings kept their order for the recency weights; 3.88% at 4 since.)
const DISTANCE_WEIGHT: f64 = 4.0;

impl Profile {
    fn fit(detector: Detector, typings: &[Vec<f64>]) -> Self {
        match detector {
            Detector::ScaledManhattan => {
                let location = column_map(typings, |c| c.iter().sum::<f64>() / c.len() as f64);
                let scale = column_map(typings, |c| {
                    let m = c.iter().sum::<f64>() / c.len() as f64;
                    positive(
                        c.iter().map(|v| (v - m).abs()).sum::<f64>() / c.len() as f64,
                        m,
                    )
                });
                Profile::ScaledManhattan(Centre {
                    location,
                    scale,
                    cap: f64::INFINITY,
                })
            }
            Detector::Ensemble => {
                let first = robust_centre(typings);
                let distances: Vec<f64> = typings.iter().map(|t| first.distance(t)).collect();
                let mut ranked: Vec<usize> = (0..typings.len()).collect();
                ranked.sort_by(|&a, &b| distances[a].total_cmp(&distances[b]));
                let keep = typings.len() - (typings.len() as f64 * TRIM) as usize;
                // The kept typings stay in the order typed, for the recency weights.
                let mut kept_indices = ranked[..keep].to_vec();
                kept_indices.sort_unstable();
                let kept: Vec<Vec<f64>> =
                    kept_indices.iter().map(|&i| typings[i].clone()).collect();
                let centre = robust_centre(&kept);
                let (centre_spread, neighbour_spread) = spreads(&centre, &kept);
                Profile::Ensemble {
                    centre,
                    neighbours: kept,
                    centre_spread,
                    neighbour_spread,
                }
            }
        }
    }

    /// What the two-class model reads: each timing's capped, scaled deviation from the
    /// user's typical typing, then the overall distance. Deviations rather than raw timings,
    /// so the model learns which departures from this user's rhythm betray someone else,
    /// and stays centred on the user as their rhythm drifts.
    fn deviations(&self, x: &[f64]) -> Vec<f64> {
        let centre = match self {
            Profile::ScaledManhattan(c) | Profile::Ensemble { centre: c, .. } => c,
        };
        let mut row: Vec<f64> = x
            .iter()
            .zip(centre.location.iter().zip(&centre.scale))
            .map(|(v, (m, s))| ((v - m) / s).clamp(-centre.cap, centre.cap))
            .collect();
        row.push(self.distance(x));
        row
    }

    /// Higher = less like the user.
    fn distance(&self, x: &[f64]) -> f64 {
        match self {
            Profile::ScaledManhattan(c) => c.distance(x),
            Profile::Ensemble {
                centre,
                neighbours,
                centre_spread,
                neighbour_spread,
            } => {
                centre.distance(x) / centre_spread
                    + neighbour_distance(centre, neighbours, x, None) / neighbour_spread
            }
        }
    }
}

/// Mean distance to the `NEIGHBOURS` nearest typings (skipping `exclude`, the typing itself).
fn neighbour_distance(
    centre: &Centre,
    typings: &[Vec<f64>],
    x: &[f64],
    exclude: Option<usize>,
) -> f64 {
    let mut d: Vec<f64> = typings
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != exclude)
        .map(|(_, t)| {
            x.iter()
                .zip(t)
                .zip(&centre.scale)
                .map(|((a, b), s)| ((a - b).abs() / s).min(centre.cap))
                .sum::<f64>()
        })
        .collect();
    let k = NEIGHBOURS.min(d.len());
    if k == 0 {
        return 0.0;
    }
    d.select_nth_unstable_by(k - 1, f64::total_cmp);
    d[..k].iter().sum::<f64>() / k as f64
}

/// Median spread of each distance over the training typings (leave-one-out for neighbours).
fn spreads(centre: &Centre, typings: &[Vec<f64>]) -> (f64, f64) {
    let mut c: Vec<f64> = typings.iter().map(|t| centre.distance(t)).collect();
    let mut n: Vec<f64> = typings
        .iter()
        .enumerate()
        .map(|(i, t)| neighbour_distance(centre, typings, t, Some(i)))
        .collect();
    (median(&mut c).max(1e-9), median(&mut n).max(1e-9))
}

/// Median and scaled median absolute deviation per feature, later typings counting more
/// (each typing appears once per quarter of the sequence it is in or after).
fn robust_centre(typings: &[Vec<f64>]) -> Centre {
    let n = typings.len();
    let weighted: Vec<&Vec<f64>> = typings
        .iter()
        .enumerate()
        .flat_map(|(i, t)| std::iter::repeat_n(t, 1 + 4 * i / n))
        .collect();
    let location = column_map_refs(&weighted, median);
    let scale = column_map_refs(&weighted, |c| {
        let m = median(c);
        c.iter_mut().for_each(|v| *v = (*v - m).abs());
        positive(1.4826 * median(c), m)
    });
    Centre {
        location,
        scale,
        cap: CAP,
    }
}

/// A scale of zero would make one feature decide alone; tie it to the value's magnitude.
fn positive(scale: f64, location: f64) -> f64 {
    scale.max(1e-3 * (1.0 + location.abs()))
}

fn column_map(rows: &[Vec<f64>], f: impl Fn(&mut [f64]) -> f64) -> Vec<f64> {
    let refs: Vec<&Vec<f64>> = rows.iter().collect();
    column_map_refs(&refs, f)
}

fn column_map_refs(rows: &[&Vec<f64>], f: impl Fn(&mut [f64]) -> f64) -> Vec<f64> {
    let width = rows.first().map_or(0, |r| r.len());
    let mut column = Vec::with_capacity(rows.len());
    (0..width)
        .map(|c| {
            column.clear();
            column.extend(rows.iter().map(|r| r[c]));
            f(&mut column)
        })
        .collect()
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mid = values.len() / 2;
    *values.select_nth_unstable_by(mid, f64::total_cmp).1
}

/// How a keystroke model is trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeystrokeConfig {
    pub detector: Detector,
    pub boosted: BoostedParams,
    /// Folds for the out-of-fold scores the calibration is fitted on.
    pub folds: usize,
    pub seed: u64,
}

impl Default for KeystrokeConfig {
    fn default() -> Self {
        Self {
            detector: Detector::Ensemble,
            boosted: BoostedParams {
                iterations: 100,
                learning_rate: 0.1,
                max_depth: 3,
                min_leaf_weight: 3.0,
                subsample: 0.8,
                bins: 64,
            },
            folds: 5,
            seed: 0x5eed,
        }
    }
}

/// A user's typing model: a one-class profile, with a background population also a boosted
/// two-class model, and the calibration of their combined score.
pub struct KeystrokeModel {
    profile: Profile,
    booster: Option<Box<GradientBooster>>,
    calibration: Calibration,
}

impl KeystrokeModel {
    /// Trains on the user's `genuine` typings (in the order typed) and, when `background`
    /// is not empty, against other people's typings (one list per person). All typings
    /// must have the same length and finite timings.
    pub fn train(
        genuine: &[Vec<f64>],
        background: &[&[Vec<f64>]],
        config: &KeystrokeConfig,
    ) -> Result<Self, KeystrokeModelError> {
        check(genuine, background)?;
        let folds = config.folds.clamp(2, genuine.len());
        // Out-of-fold genuine scores: contiguous blocks, so a fold's typings are held out
        // together as a later session would be.
        let mut genuine_oof = Vec::new();
        let mut impostor_oof = Vec::new();
        for fold in 0..folds {
            let range = fold * genuine.len() / folds..(fold + 1) * genuine.len() / folds;
            let train: Vec<Vec<f64>> = genuine
                .iter()
                .enumerate()
                .filter(|(i, _)| !range.contains(i))
                .map(|(_, t)| t.clone())
                .collect();
            // Background people are held out whole, by fold too.
            let held_people: Vec<usize> = (0..background.len())
                .filter(|p| p % folds == fold)
                .collect();
            let people: Vec<&[Vec<f64>]> = background
                .iter()
                .enumerate()
                .filter(|(p, _)| p % folds != fold)
                .map(|(_, b)| *b)
                .collect();
            let model = Self::fit(&train, &people, config, fold as u64)?;
            genuine_oof.push(genuine[range].iter().map(|t| model.raw(t)).collect());
            for p in held_people {
                impostor_oof.push(background[p].iter().map(|t| model.raw(t)).collect());
            }
        }
        let mut model = Self::fit(genuine, background, config, folds as u64)?;
        model.calibration = Calibration::fit(&genuine_oof, &impostor_oof);
        Ok(model)
    }

    fn fit(
        genuine: &[Vec<f64>],
        background: &[&[Vec<f64>]],
        config: &KeystrokeConfig,
        seed: u64,
    ) -> Result<Self, KeystrokeModelError> {
        let profile = Profile::fit(config.detector, genuine);
        let impostors: Vec<&Vec<f64>> = background.iter().flat_map(|b| b.iter()).collect();
        let booster = if impostors.is_empty() {
            None
        } else {
            // The user's rows are deviations from profiles fitted without them, as a new
            // typing's will be; the impostors' from the model's own profile.
            let mut genuine_rows = Vec::with_capacity(genuine.len());
            for range in blocks(genuine.len(), INNER_FOLDS) {
                let rest: Vec<Vec<f64>> = genuine
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !range.contains(i))
                    .map(|(_, t)| t.clone())
                    .collect();
                let held_out = Profile::fit(config.detector, &rest);
                genuine_rows.extend(genuine[range].iter().map(|t| held_out.deviations(t)));
            }
            let impostor_rows: Vec<Vec<f64>> =
                impostors.iter().map(|t| profile.deviations(t)).collect();
            Some(Box::new(boost(
                &genuine_rows,
                &impostor_rows,
                config,
                seed,
            )?))
        };
        Ok(Self {
            profile,
            booster,
            calibration: Calibration {
                genuine_mean: 0.0,
                genuine_sd: 1.0,
                impostor: None,
                dependence: 1.0,
                impostor_between_sd: 0.0,
            },
        })
    }

    /// The uncalibrated score of a typing, higher = more like the user.
    fn raw(&self, typing: &[f64]) -> f64 {
        match &self.booster {
            None => -self.profile.distance(typing),
            Some(b) => {
                let row = self.profile.deviations(typing);
                let x = forust_ml::Matrix::new(&row, 1, row.len());
                b.predict(&x, false)[0] - DISTANCE_WEIGHT * self.profile.distance(typing)
            }
        }
    }

    /// A typing's calibrated score: with a background population the log-likelihood ratio
    /// genuine vs impostor; without, the standard score against the user's own typings.
    /// Higher means more like the user.
    pub fn evidence(&self, typing: &[f64]) -> f64 {
        self.calibration.evidence(self.raw(typing), 1)
    }

    /// Whether the model saw impostors (its evidence is then a log-likelihood ratio).
    pub fn has_background(&self) -> bool {
        self.booster.is_some()
    }

    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }
}

/// `n` items in `folds` contiguous blocks.
fn blocks(n: usize, folds: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..folds).map(move |f| f * n / folds..(f + 1) * n / folds)
}

fn boost(
    genuine: &[Vec<f64>],
    impostors: &[Vec<f64>],
    config: &KeystrokeConfig,
    seed: u64,
) -> Result<GradientBooster, KeystrokeModelError> {
    let rows: Vec<&Vec<f64>> = genuine.iter().chain(impostors).collect();
    let width = rows[0].len();
    // Column-major, as forust reads it.
    let data: Vec<f64> = (0..width)
        .flat_map(|c| rows.iter().map(move |r| r[c]))
        .collect();
    let x = forust_ml::Matrix::new(&data, rows.len(), width);
    let mut y = vec![1.0; genuine.len()];
    y.resize(rows.len(), 0.0);
    let w_neg = genuine.len() as f64 / impostors.len() as f64;
    let mut w = vec![1.0; genuine.len()];
    w.resize(rows.len(), w_neg);
    let p = &config.boosted;
    let mut booster = GradientBooster::default()
        .set_objective_type(ObjectiveType::LogLoss)
        .set_iterations(p.iterations)
        .set_learning_rate(p.learning_rate)
        .set_max_depth(p.max_depth)
        .set_min_leaf_weight(p.min_leaf_weight)
        .set_subsample(p.subsample)
        .set_nbins(p.bins)
        .set_parallel(false)
        .set_seed(config.seed ^ seed);
    booster
        .fit(&x, &y, &w, None)
        .map_err(|e| KeystrokeModelError::Training(e.to_string()))?;
    Ok(booster)
}

fn check(genuine: &[Vec<f64>], background: &[&[Vec<f64>]]) -> Result<(), KeystrokeModelError> {
    if genuine.len() < MIN_TYPINGS {
        return Err(KeystrokeModelError::NotEnoughData {
            have: genuine.len(),
            need: MIN_TYPINGS,
        });
    }
    let expected = genuine[0].len();
    let all = genuine
        .iter()
        .chain(background.iter().flat_map(|b| b.iter()));
    for (index, t) in all.enumerate() {
        if t.len() != expected || t.is_empty() {
            return Err(KeystrokeModelError::Length {
                index,
                found: t.len(),
                expected,
            });
        }
        if !t.iter().all(|v| v.is_finite()) {
            return Err(KeystrokeModelError::NonFinite { index });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pointerprint_core::keystroke::fixed_text_features;
    use pointerprint_synth::Typist;

    fn typings(person: u64, first: u64, n: u64) -> Vec<Vec<f64>> {
        let typist = Typist::from_seed(person, 8);
        (first..first + n)
            .map(|s| fixed_text_features(&typist.typing(s, 0.0)).unwrap())
            .collect()
    }

    #[test]
    fn both_detectors_rank_the_user_above_strangers() {
        let train = typings(1, 0, 60);
        let (own, stranger) = (typings(1, 1_000, 30), typings(9, 0, 30));
        for detector in [Detector::ScaledManhattan, Detector::Ensemble] {
            let config = KeystrokeConfig {
                detector,
                ..KeystrokeConfig::default()
            };
            let model = KeystrokeModel::train(&train, &[], &config).unwrap();
            assert!(!model.has_background());
            assert!(model.calibration().impostor.is_none());
            let mean = |v: &[Vec<f64>]| v.iter().map(|t| model.evidence(t)).sum::<f64>() / 30.0;
            assert!(mean(&own) > mean(&stranger) + 1.0, "{detector:?}");
        }
    }

    #[test]
    fn with_a_background_the_evidence_is_a_log_likelihood_ratio() {
        let train = typings(1, 0, 60);
        let others: Vec<Vec<Vec<f64>>> = (2..6).map(|p| typings(p, 0, 40)).collect();
        let background: Vec<&[Vec<f64>]> = others.iter().map(Vec::as_slice).collect();
        let model =
            KeystrokeModel::train(&train, &background, &KeystrokeConfig::default()).unwrap();
        assert!(model.has_background());
        assert!(model.calibration().impostor.is_some());
        // A stranger (not in the background): on average negative evidence; the user positive.
        let mean =
            |v: &[Vec<f64>]| v.iter().map(|t| model.evidence(t)).sum::<f64>() / v.len() as f64;
        let (own, stranger) = (mean(&typings(1, 1_000, 30)), mean(&typings(9, 0, 30)));
        assert!(own > 0.0 && stranger < 0.0, "{own} {stranger}");
    }

    #[test]
    fn bad_training_data_is_refused() {
        let config = KeystrokeConfig::default();
        let few = typings(1, 0, MIN_TYPINGS as u64 - 1);
        assert!(matches!(
            KeystrokeModel::train(&few, &[], &config),
            Err(KeystrokeModelError::NotEnoughData { .. })
        ));
        let mut ragged = typings(1, 0, 20);
        ragged[3].pop();
        assert!(matches!(
            KeystrokeModel::train(&ragged, &[], &config),
            Err(KeystrokeModelError::Length { index: 3, .. })
        ));
        let train = typings(1, 0, 20);
        let mut bad = typings(2, 0, 20);
        bad[5][0] = f64::NAN;
        assert!(matches!(
            KeystrokeModel::train(&train, &[&bad], &config),
            Err(KeystrokeModelError::NonFinite { index: 25 })
        ));
    }
}
