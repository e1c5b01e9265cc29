//! Keystroke dynamics on the CMU benchmark (Killourhy & Maxion, DSN 2009).
//!
//! Two protocols, reported apart:
//! - [`run_benchmark`], the paper's: per subject, train on the first 200 repetitions, score
//!   the other 200 (genuine) and the first 5 of each other subject (impostors); no other
//!   subject's data enters training. The figure is the mean of the per-subject EERs.
//! - [`run_background`], open-set with a background population: subjects are split into
//!   folds; a subject's model trains against the subjects of the other folds and is tested
//!   only with impostors from its own fold, whose data never entered it.

use pointerprint_core::keystroke::fixed_text_features;
use pointerprint_formats::CmuKeystrokeData;
use pointerprint_model::keystroke::{KeystrokeConfig, KeystrokeModel};
use rayon::prelude::*;
use serde::Serialize;

use crate::metrics::{Metrics, Trial, eer, operating_points};
use crate::{EvalError, Progress};

/// The paper's split of each subject's repetitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Split {
    /// Repetitions (in session and repetition order) the model trains on.
    pub training: usize,
    /// First repetitions of each other subject scored as impostors.
    pub impostor_repetitions: usize,
}

impl Default for Split {
    fn default() -> Self {
        Self {
            training: 200,
            impostor_repetitions: 5,
        }
    }
}

/// Background-protocol people contribute at most this many typings each to a model's
/// training (evenly spaced): more adds time, not accuracy.
const BACKGROUND_TYPINGS: usize = 100;

/// One subject as the genuine user.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectResult {
    pub subject: String,
    pub eer: f64,
    pub genuine: usize,
    pub impostors: usize,
}

/// What a keystroke protocol produced.
#[derive(Debug, Clone, Serialize)]
pub struct KeystrokeResult {
    pub protocol: &'static str,
    pub split: Split,
    /// Background protocol: the number of folds subjects are split into.
    pub folds: Option<usize>,
    pub subjects: Vec<SubjectResult>,
    /// The paper's figure: the mean of the per-subject EERs, and its (sample) deviation.
    pub mean_subject_eer: f64,
    pub sd_subject_eer: f64,
    /// All subjects' trials on one calibrated scale with one threshold.
    pub pooled: Metrics,
    /// Rows of the file whose UD columns disagreed with DD - H (kept, counted).
    pub inconsistent_rows: usize,
    /// Pooled trials, higher = more likely an impostor, for plots.
    #[serde(skip)]
    pub trials: Vec<Trial>,
}

/// A subject's typings as timing vectors, in session and repetition order.
struct Subject {
    name: String,
    typings: Vec<Vec<f64>>,
}

fn subjects(data: &CmuKeystrokeData, split: Split) -> Result<Vec<Subject>, EvalError> {
    let mut order: Vec<&str> = Vec::new();
    for r in &data.repetitions {
        if !order.contains(&r.subject.as_str()) {
            order.push(&r.subject);
        }
    }
    let mut subjects = Vec::with_capacity(order.len());
    for name in order {
        let mut reps: Vec<_> = data
            .repetitions
            .iter()
            .filter(|r| r.subject == name)
            .collect();
        reps.sort_by_key(|r| (r.session, r.rep));
        let typings = reps
            .iter()
            .map(|r| fixed_text_features(&r.sample))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| EvalError::Data(format!("subject {name}: {e}")))?;
        if typings.len() <= split.training || typings.len() < split.impostor_repetitions {
            return Err(EvalError::Data(format!(
                "subject {name} has {} repetitions; the protocol trains on {} and needs more to test",
                typings.len(),
                split.training
            )));
        }
        subjects.push(Subject {
            name: name.to_string(),
            typings,
        });
    }
    if subjects.len() < 2 {
        return Err(EvalError::Data(
            "the protocol needs at least two subjects".into(),
        ));
    }
    Ok(subjects)
}

/// The paper's protocol.
pub fn run_benchmark(
    data: &CmuKeystrokeData,
    config: &KeystrokeConfig,
    split: Split,
    progress: &dyn Progress,
) -> Result<KeystrokeResult, EvalError> {
    let subjects = subjects(data, split)?;
    let everyone: Vec<usize> = (0..subjects.len()).collect();
    run(
        "keystroke",
        data,
        &subjects,
        split,
        None,
        config,
        progress,
        |_| (Vec::new(), everyone.clone()),
    )
}

/// The open-set background protocol with `folds` folds (subject `i` is in fold `i % folds`).
pub fn run_background(
    data: &CmuKeystrokeData,
    config: &KeystrokeConfig,
    split: Split,
    folds: usize,
    progress: &dyn Progress,
) -> Result<KeystrokeResult, EvalError> {
    let subjects = subjects(data, split)?;
    if folds < 2 || subjects.len() < 2 * folds {
        return Err(EvalError::Data(format!(
            "{} subjects cannot be split into {folds} folds of at least two",
            subjects.len()
        )));
    }
    let n = subjects.len();
    run(
        "keystroke-background",
        data,
        &subjects,
        split,
        Some(folds),
        config,
        progress,
        |s| {
            let (same, other): (Vec<usize>, Vec<usize>) =
                (0..n).partition(|&p| p % folds == s % folds);
            (other, same)
        },
    )
}

/// Trains and scores every subject; `people(s)` gives the background subjects of subject
/// `s`'s model and the subjects its impostors may come from (never overlapping).
#[allow(clippy::too_many_arguments)]
fn run(
    protocol: &'static str,
    data: &CmuKeystrokeData,
    subjects: &[Subject],
    split: Split,
    folds: Option<usize>,
    config: &KeystrokeConfig,
    progress: &dyn Progress,
    people: impl Fn(usize) -> (Vec<usize>, Vec<usize>) + Sync,
) -> Result<KeystrokeResult, EvalError> {
    progress.stage("training and scoring subjects", subjects.len());
    let per_subject: Vec<(SubjectResult, Vec<Trial>)> = (0..subjects.len())
        .into_par_iter()
        .map(|s| {
            let (background, impostors) = people(s);
            let thinned: Vec<Vec<Vec<f64>>> = background
                .iter()
                .map(|&p| evenly(&subjects[p].typings, BACKGROUND_TYPINGS))
                .collect();
            let population: Vec<&[Vec<f64>]> = thinned.iter().map(Vec::as_slice).collect();
            let subject = &subjects[s];
            let model =
                KeystrokeModel::train(&subject.typings[..split.training], &population, config)
                    .map_err(|e| EvalError::Data(format!("subject {}: {e}", subject.name)))?;
            // Higher = more likely an impostor.
            let score = |t: &Vec<f64>| -model.evidence(t);
            let mut trials: Vec<Trial> = subject.typings[split.training..]
                .iter()
                .map(|t| Trial {
                    score: score(t),
                    impostor: false,
                })
                .collect();
            for p in impostors.into_iter().filter(|&p| p != s) {
                trials.extend(
                    subjects[p].typings[..split.impostor_repetitions]
                        .iter()
                        .map(|t| Trial {
                            score: score(t),
                            impostor: true,
                        }),
                );
            }
            let result = SubjectResult {
                subject: subject.name.clone(),
                eer: eer(&operating_points(&trials)),
                genuine: subject.typings.len() - split.training,
                impostors: trials.iter().filter(|t| t.impostor).count(),
            };
            progress.step();
            Ok((result, trials))
        })
        .collect::<Result<_, EvalError>>()?;
    let (results, trials): (Vec<SubjectResult>, Vec<Vec<Trial>>) = per_subject.into_iter().unzip();
    let trials: Vec<Trial> = trials.concat();
    let eers: Vec<f64> = results.iter().map(|r| r.eer).collect();
    let (mean_subject_eer, sd_subject_eer) = mean_and_sample_sd(&eers);
    let pooled = Metrics::of(&trials)
        .ok_or_else(|| EvalError::Data("no impostor or no genuine trials".into()))?;
    Ok(KeystrokeResult {
        protocol,
        split,
        folds,
        subjects: results,
        mean_subject_eer,
        sd_subject_eer,
        pooled,
        inconsistent_rows: data.inconsistent_rows,
        trials,
    })
}

/// At most `max` items, evenly spaced.
fn evenly(items: &[Vec<f64>], max: usize) -> Vec<Vec<f64>> {
    if items.len() <= max {
        return items.to_vec();
    }
    (0..max)
        .map(|i| items[i * items.len() / max].clone())
        .collect()
}

/// Mean and sample standard deviation (n - 1), as the paper reports them.
fn mean_and_sample_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}
