//! Writing evaluation results: scores, a JSON report and the plots a person looks at.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use pointerprint_formats::{ScoreRow, write_scores};
use pointerprint_plot::{Curve, det_png, roc_png, score_histogram_png};
use serde::Serialize;

use crate::challenge::{ChallengeResult, labelled_trials};
use crate::keystroke::KeystrokeResult;
use crate::metrics::{Metrics, Trial, operating_points};
use crate::open_set::OpenSetResult;
use crate::split::SplitResult;

/// Why results could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Plot(#[from] pointerprint_plot::PlotError),
    #[error("encoding the report: {0}")]
    Json(#[from] serde_json::Error),
}

fn write(path: PathBuf, contents: impl AsRef<[u8]>) -> Result<(), ReportError> {
    std::fs::write(&path, contents).map_err(|source| ReportError::Io { path, source })
}

/// The files written, for the CLI to list.
pub struct Written(pub Vec<PathBuf>);

/// Writes `scores.csv`, `report.json`, `roc.png`, `det.png` and `scores.png` for the
/// challenge protocol.
pub fn write_challenge(
    out: &Path,
    result: &ChallengeResult,
    seconds: f64,
) -> Result<Written, ReportError> {
    create(out)?;
    let mut csv = Vec::new();
    let rows = result.sessions.iter().map(|s| ScoreRow {
        filename: &s.filename,
        user: &s.user,
        score: s.score,
    });
    write_scores(&mut csv, rows).expect("writing to memory cannot fail");
    write(out.join("scores.csv"), csv)?;

    #[derive(Serialize)]
    struct Report<'a> {
        protocol: &'static str,
        decision_unit: &'static str,
        score: &'static str,
        sessions: usize,
        auc: Option<f64>,
        eer: Option<f64>,
        metrics: &'a Option<Metrics>,
        without_cohort: Option<Metrics>,
        users: &'a [crate::challenge::UserResult],
        seconds: f64,
    }
    let report = Report {
        protocol: "challenge",
        decision_unit: "session",
        score: "cohort-normalised mean action score; higher = more likely an impostor",
        sessions: result.sessions.len(),
        auc: result.metrics.as_ref().map(|m| m.auc),
        eer: result.metrics.as_ref().map(|m| m.eer),
        metrics: &result.metrics,
        without_cohort: Metrics::of(&labelled_trials(&result.sessions, None, |s| s.own_score)),
        users: &result.users,
        seconds,
    };
    write(out.join("report.json"), serde_json::to_vec_pretty(&report)?)?;
    let mut files = vec![out.join("scores.csv"), out.join("report.json")];

    if let Some(m) = &result.metrics {
        let mut curves = vec![(
            "all users".to_string(),
            labelled_trials(&result.sessions, None, |s| s.score),
        )];
        for u in &result.users {
            curves.push((
                u.user.clone(),
                labelled_trials(&result.sessions, Some(&u.user), |s| s.score),
            ));
        }
        files.extend(plots(out, &curves, m, "sessions")?);
    }
    Ok(Written(files))
}

/// Writes `report.json` and plots for 10-action windows for the split protocol.
pub fn write_split(out: &Path, result: &SplitResult, seconds: f64) -> Result<Written, ReportError> {
    create(out)?;
    #[derive(Serialize)]
    struct Report<'a> {
        protocol: &'static str,
        decision_unit: &'static str,
        users: &'a [String],
        windows: &'a [crate::split::WindowResult],
        seconds: f64,
    }
    let report = Report {
        protocol: "split",
        decision_unit: "windows of consecutive actions",
        users: &result.users,
        windows: &result.windows,
        seconds,
    };
    write(out.join("report.json"), serde_json::to_vec_pretty(&report)?)?;
    let mut files = vec![out.join("report.json")];
    if let Some(m) = Metrics::of(&result.trials_10) {
        let curves = vec![("10-action windows".to_string(), result.trials_10.clone())];
        files.extend(plots(out, &curves, &m, "10-action windows")?);
    }
    Ok(Written(files))
}

/// Writes `report.json` and plots (one curve per decision unit) for the open-set protocol.
pub fn write_open_set(
    out: &Path,
    result: &OpenSetResult,
    seconds: f64,
) -> Result<Written, ReportError> {
    create(out)?;
    #[derive(Serialize)]
    struct Report<'a> {
        protocol: &'static str,
        decision_unit: &'static str,
        score: &'static str,
        operating_points: &'static str,
        #[serde(flatten)]
        result: &'a OpenSetResult,
        seconds: f64,
    }
    let report = Report {
        protocol: "open-set",
        decision_unit: "see units: windows of consecutive actions, pieces of seconds, sessions",
        score: "the claimed user's evidence (log-likelihood ratio); metrics rank -evidence",
        operating_points: "the service's threshold policy for each target false-accept rate: \
            far = impostor samples accepted / decided, frr = genuine samples rejected / decided, \
            insufficient = samples answered insufficient_data / all",
        result,
        seconds,
    };
    write(out.join("report.json"), serde_json::to_vec_pretty(&report)?)?;
    let mut files = vec![out.join("report.json")];
    let curves: Vec<(String, Vec<Trial>)> = result
        .units
        .iter()
        .map(|u| (u.unit.to_string(), u.trials.clone()))
        .collect();
    let headline = result
        .units
        .iter()
        .find(|u| u.unit == crate::open_set::Unit::Seconds(15))
        .and_then(|u| u.metrics.clone().map(|m| (u.unit, m)));
    if let Some((unit, m)) = headline {
        files.extend(plots(out, &curves, &m, &unit.to_string())?);
    }
    Ok(Written(files))
}

/// Writes `scores.csv` (one row per trial), `report.json` and the plots for a keystroke
/// protocol. `detector` names the detector the models were built on.
pub fn write_keystroke(
    out: &Path,
    result: &KeystrokeResult,
    detector: &str,
    seconds: f64,
) -> Result<Written, ReportError> {
    create(out)?;
    let mut csv = String::from("score,impostor\n");
    for t in &result.trials {
        let _ = writeln!(csv, "{},{}", t.score, u8::from(t.impostor));
    }
    write(out.join("scores.csv"), csv)?;

    #[derive(Serialize)]
    struct Report<'a> {
        description: &'static str,
        detector: &'a str,
        decision_unit: &'static str,
        score: &'static str,
        #[serde(flatten)]
        result: &'a KeystrokeResult,
        auc: f64,
        eer: f64,
        frr_at_far_1_percent: f64,
        seconds: f64,
    }
    let report = Report {
        description: match result.folds {
            None => {
                "CMU keystroke benchmark, the paper's protocol (Killourhy & Maxion 2009): per \
                 subject, train on the first 200 repetitions only, test on the other 200 and on \
                 the first 5 of each other subject; the figure is the mean per-subject EER"
            }
            Some(_) => {
                "CMU keystroke benchmark with a background population (NOT the paper's \
                 protocol): subjects split into folds (subject i in fold i mod folds); a \
                 subject's model trains on its first 200 repetitions against subjects of the \
                 other folds, and is tested on its other 200 and on the first 5 of each other \
                 subject of its own fold, whose data never entered it"
            }
        },
        detector,
        decision_unit: "one typing of the password",
        score: "minus the calibrated evidence; higher = more likely an impostor",
        result,
        auc: result.pooled.auc,
        eer: result.pooled.eer,
        frr_at_far_1_percent: result.pooled.frr_at_far[0].1,
        seconds,
    };
    write(out.join("report.json"), serde_json::to_vec_pretty(&report)?)?;
    let mut files = vec![out.join("scores.csv"), out.join("report.json")];
    let curves = vec![("all subjects, pooled".to_string(), result.trials.clone())];
    files.extend(plots(out, &curves, &result.pooled, "typings")?);
    Ok(Written(files))
}

fn create(out: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(out).map_err(|source| ReportError::Io {
        path: out.to_path_buf(),
        source,
    })
}

/// ROC, DET and score-distribution plots; the first curve is the headline one.
fn plots(
    out: &Path,
    curves: &[(String, Vec<Trial>)],
    headline: &Metrics,
    unit: &str,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut roc = Vec::new();
    let mut det = Vec::new();
    for (label, trials) in curves {
        let points = operating_points(trials);
        roc.push(Curve {
            label: label.clone(),
            points: points.iter().map(|p| (p.far, 1.0 - p.frr)).collect(),
        });
        det.push(Curve {
            label: label.clone(),
            points: points.iter().map(|p| (p.far, p.frr)).collect(),
        });
    }
    let title = format!(
        "AUC {:.4}, EER {:.2}% ({unit})",
        headline.auc,
        headline.eer * 100.0
    );
    let (roc_path, det_path, hist_path) = (
        out.join("roc.png"),
        out.join("det.png"),
        out.join("scores.png"),
    );
    roc_png(&roc_path, &format!("ROC: {title}"), &roc)?;
    det_png(&det_path, &format!("DET: {title}"), &det)?;
    let (genuine, impostor): (Vec<&Trial>, Vec<&Trial>) =
        curves[0].1.iter().partition(|t| !t.impostor);
    let g: Vec<f64> = genuine.iter().map(|t| t.score).collect();
    let i: Vec<f64> = impostor.iter().map(|t| t.score).collect();
    score_histogram_png(
        &hist_path,
        &format!("Score distributions ({unit}; higher = impostor)"),
        &g,
        &i,
        None,
    )?;
    Ok(vec![roc_path, det_path, hist_path])
}
