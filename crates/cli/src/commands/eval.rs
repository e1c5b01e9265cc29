use std::time::Instant;

use anyhow::Context;
use pointerprint_eval::keystroke::{self, KeystrokeResult, Split};
use pointerprint_eval::metrics::Metrics;
use pointerprint_eval::{challenge, open_set, report, split};
use pointerprint_formats::read_cmu_keystroke;
use pointerprint_model::keystroke::{Detector, KeystrokeConfig};
use pointerprint_model::{BoostedParams, Learner, TrainConfig};

use crate::args::{DetectorArg, EvalArgs, LearnerArg, Protocol};
use crate::progress::Bars;

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let config = TrainConfig {
        learner: match args.learner {
            LearnerArg::Boosted => Learner::Boosted,
            LearnerArg::Forest => Learner::Forest,
            LearnerArg::OneClass => Learner::OneClass,
        },
        boosted: BoostedParams {
            iterations: args.iterations as usize,
            ..BoostedParams::default()
        },
        seed: args.seed,
        // Evaluation trains on whatever each data set has; enrolment minimums are the service's.
        min_actions: 10,
        ..TrainConfig::default()
    };
    let started = Instant::now();
    let bars = Bars::default();
    let written = match args.protocol {
        Protocol::Challenge => {
            let (train, test) = (
                args.train.context("--train is required")?,
                args.test.context("--test is required")?,
            );
            let result = challenge::run(&train, &test, args.labels.as_deref(), &config, &bars)?;
            drop(bars);
            let seconds = started.elapsed().as_secs_f64();
            say!(
                "{} test sessions scored against {} user models in {seconds:.1} s",
                result.sessions.len(),
                result.users.len()
            )?;
            print_unknown_rows(result.unknown_rows)?;
            match &result.metrics {
                Some(m) => {
                    print_metrics("all sessions", m)?;
                    say!(
                        "\n{:<12} {:>8} {:>8} {:>9} {:>9}",
                        "user",
                        "AUC",
                        "EER",
                        "sessions",
                        "actions"
                    )?;
                    for u in &result.users {
                        let (auc, eer) = u
                            .metrics
                            .as_ref()
                            .map_or((f64::NAN, f64::NAN), |m| (m.auc, m.eer));
                        say!(
                            "{:<12} {auc:>8.4} {:>7.2}% {:>9} {:>9}",
                            u.user,
                            eer * 100.0,
                            u.test_sessions,
                            u.training_actions
                        )?;
                    }
                }
                None => say!("no labels for the test sessions: scores written, no error rates")?,
            }
            report::write_challenge(&args.out, &result, seconds)?
        }
        Protocol::Split => {
            let data = args.data.context("--data is required")?;
            let result = split::run(&data, &config, &bars)?;
            drop(bars);
            let seconds = started.elapsed().as_secs_f64();
            say!(
                "{} users, chronological 2/3 train, 1/3 test, in {seconds:.1} s\n",
                result.users.len()
            )?;
            print_unknown_rows(result.unknown_rows)?;
            say!(
                "{:>8} {:>8} {:>8} {:>15} {:>15}",
                "actions",
                "AUC",
                "EER",
                "AUC (no cohort)",
                "EER (no cohort)"
            )?;
            for w in &result.windows {
                say!(
                    "{:>8} {:>8.4} {:>7.2}% {:>15.4} {:>14.2}%",
                    w.actions,
                    w.metrics.auc,
                    w.metrics.eer * 100.0,
                    w.without_cohort.auc,
                    w.without_cohort.eer * 100.0
                )?;
            }
            report::write_split(&args.out, &result, seconds)?
        }
        Protocol::OpenSet => {
            let data = args.data.context("--data is required")?;
            let (folds, min_actions) = (args.folds as usize, args.min_actions as usize);
            let result = open_set::run(&data, folds, min_actions, &config, &bars)?;
            drop(bars);
            let seconds = started.elapsed().as_secs_f64();
            say!(
                "{} users in {folds} folds, each fold's users unseen by every model, in {seconds:.1} s\n",
                result.users.len()
            )?;
            say!(
                "{:>14} {:>8} {:>8}   {:>28}   {:>28}",
                "decision unit",
                "AUC",
                "EER",
                "target FAR 1%: FAR FRR insuff",
                "target FAR 5%: FAR FRR insuff"
            )?;
            for u in &result.units {
                let (auc, eer) = u
                    .metrics
                    .as_ref()
                    .map_or((f64::NAN, f64::NAN), |m| (m.auc, m.eer));
                let points: Vec<String> = u
                    .operating_points
                    .iter()
                    .map(|p| {
                        format!(
                            "{:>12.2}% {:>6.2}% {:>6.2}%",
                            p.far * 100.0,
                            p.frr * 100.0,
                            p.insufficient * 100.0
                        )
                    })
                    .collect();
                say!(
                    "{:>14} {auc:>8.4} {:>7.2}%   {}",
                    u.unit.to_string(),
                    eer * 100.0,
                    points.join("   ")
                )?;
            }
            report::write_open_set(&args.out, &result, seconds)?
        }
        Protocol::Keystroke | Protocol::KeystrokeBackground => {
            let data = read_cmu_keystroke(&args.data.context("--data is required")?)?;
            let (detector, name) = match args.detector {
                DetectorArg::ScaledManhattan => (Detector::ScaledManhattan, "scaled-manhattan"),
                DetectorArg::Ensemble => (Detector::Ensemble, "ensemble"),
            };
            let config = KeystrokeConfig {
                detector,
                seed: args.seed,
                ..KeystrokeConfig::default()
            };
            let result = if args.protocol == Protocol::Keystroke {
                keystroke::run_benchmark(&data, &config, Split::default(), &bars)?
            } else {
                let folds = args.folds as usize;
                keystroke::run_background(&data, &config, Split::default(), folds, &bars)?
            };
            drop(bars);
            let seconds = started.elapsed().as_secs_f64();
            print_keystroke(&result, name, seconds)?;
            report::write_keystroke(&args.out, &result, name, seconds)?
        }
    };
    say!()?;
    for path in written.0 {
        say!("wrote {}", path.display())?;
    }
    Ok(())
}

/// Says how many rows the readers left out (an unknown button or state), if any.
fn print_unknown_rows(rows: usize) -> std::io::Result<()> {
    if rows > 0 {
        say!("{rows} rows with an unknown button or state left out")?;
    }
    Ok(())
}

fn print_keystroke(result: &KeystrokeResult, detector: &str, seconds: f64) -> std::io::Result<()> {
    let protocol = match result.folds {
        None => "the paper's protocol, no other subject's data in training".to_string(),
        Some(folds) => format!(
            "background protocol, {folds} folds: models trained against other folds' subjects, \
             tested with impostors of their own fold"
        ),
    };
    say!(
        "{} subjects, detector {detector}, {protocol}, in {seconds:.1} s",
        result.subjects.len()
    )?;
    if result.inconsistent_rows > 0 {
        say!("{} rows with UD != DD - H (kept)", result.inconsistent_rows)?;
    }
    say!(
        "mean per-subject EER {:.2}% (sd {:.2}%)",
        result.mean_subject_eer * 100.0,
        result.sd_subject_eer * 100.0
    )?;
    print_metrics("pooled, one threshold", &result.pooled)
}

fn print_metrics(what: &str, m: &Metrics) -> std::io::Result<()> {
    say!(
        "{what}: AUC {:.4}  EER {:.2}%  ({} genuine, {} impostor)",
        m.auc,
        m.eer * 100.0,
        m.genuine,
        m.impostors
    )?;
    let rates: Vec<String> = m
        .frr_at_far
        .iter()
        .map(|(far, frr)| format!("FRR {:.1}% at FAR {:.0}%", frr * 100.0, far * 100.0))
        .collect();
    say!("  {}", rates.join(", "))
}
