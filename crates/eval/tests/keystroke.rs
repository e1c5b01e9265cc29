//! The CMU keystroke protocols on a small data set in the benchmark's CSV layout, written by
//! synthetic typists (the shared benchmark file is not needed).

use pointerprint_eval::Silent;
use pointerprint_eval::keystroke::{Split, run_background, run_benchmark};
use pointerprint_formats::{CmuRepetition, parse_cmu_keystroke, write_cmu_keystroke};
use pointerprint_model::keystroke::{Detector, KeystrokeConfig};
use pointerprint_synth::Typist;

const KEYS: [&str; 4] = ["period", "t", "Shift.r", "Return"];

/// `subjects` synthetic typists, 8 sessions of 50 repetitions each, in the benchmark's CSV
/// layout, rows in order or reversed.
fn csv(subjects: u64, reversed: bool) -> String {
    let mut rows = Vec::new();
    for s in 0..subjects {
        let typist = Typist::from_seed(40 + s, KEYS.len());
        for session in 1..=8u32 {
            for rep in 1..=50u32 {
                rows.push(CmuRepetition {
                    subject: format!("s{s:03}"),
                    session,
                    rep,
                    sample: typist.typing(u64::from(session * 100 + rep), 0.0),
                });
            }
        }
    }
    if reversed {
        rows.reverse();
    }
    write_cmu_keystroke(&KEYS, &rows).unwrap()
}

fn config(detector: Detector) -> KeystrokeConfig {
    KeystrokeConfig {
        detector,
        ..KeystrokeConfig::default()
    }
}

#[test]
fn the_papers_protocol_trains_on_the_first_200_and_tests_the_rest() {
    let data = parse_cmu_keystroke(csv(4, false).as_bytes()).unwrap();
    assert_eq!(data.repetitions.len(), 4 * 400);
    assert_eq!(data.inconsistent_rows, 0);
    for detector in [Detector::ScaledManhattan, Detector::Ensemble] {
        let r = run_benchmark(&data, &config(detector), Split::default(), &Silent).unwrap();
        assert_eq!(r.protocol, "keystroke");
        assert_eq!(r.folds, None);
        assert_eq!(r.subjects.len(), 4);
        for s in &r.subjects {
            // The other 200 of the subject; the first 5 of each of the 3 others.
            assert_eq!((s.genuine, s.impostors), (200, 15), "{s:?}");
        }
        assert_eq!(r.trials.len(), 4 * 215);
        let eers: Vec<f64> = r.subjects.iter().map(|s| s.eer).collect();
        let mean = eers.iter().sum::<f64>() / 4.0;
        let sd = (eers.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
        assert!((r.mean_subject_eer - mean).abs() < 1e-12);
        assert!((r.sd_subject_eer - sd).abs() < 1e-12);
        // Distinct synthetic typists are told apart far better than chance.
        assert!(
            r.mean_subject_eer < 0.2,
            "{detector:?}: {}",
            r.mean_subject_eer
        );
        assert!(r.pooled.auc > 0.85, "{detector:?}: {:?}", r.pooled);
    }
}

#[test]
fn repetitions_are_ordered_by_session_and_rep_not_by_file_order() {
    let forward = parse_cmu_keystroke(csv(3, false).as_bytes()).unwrap();
    let backward = parse_cmu_keystroke(csv(3, true).as_bytes()).unwrap();
    let config = config(Detector::Ensemble);
    let a = run_benchmark(&forward, &config, Split::default(), &Silent).unwrap();
    let b = run_benchmark(&backward, &config, Split::default(), &Silent).unwrap();
    // Subjects come in file order; each subject's figures are the same either way.
    let mut eers_a: Vec<(String, f64)> = a
        .subjects
        .iter()
        .map(|s| (s.subject.clone(), s.eer))
        .collect();
    let mut eers_b: Vec<(String, f64)> = b
        .subjects
        .iter()
        .map(|s| (s.subject.clone(), s.eer))
        .collect();
    eers_a.sort_by(|x, y| x.0.cmp(&y.0));
    eers_b.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(eers_a, eers_b);
}

#[test]
fn the_background_protocol_tests_only_with_unseen_impostors() {
    let data = parse_cmu_keystroke(csv(6, false).as_bytes()).unwrap();
    let r = run_background(
        &data,
        &config(Detector::Ensemble),
        Split::default(),
        2,
        &Silent,
    )
    .unwrap();
    assert_eq!(r.protocol, "keystroke-background");
    assert_eq!(r.folds, Some(2));
    // Folds {0, 2, 4} and {1, 3, 5}: each model trains against the other fold's three
    // subjects and meets as impostors only the two others of its own fold.
    for s in &r.subjects {
        assert_eq!((s.genuine, s.impostors), (200, 10), "{s:?}");
    }
    assert!(r.mean_subject_eer < 0.2, "{}", r.mean_subject_eer);
    // Too many folds for the subjects is refused.
    assert!(
        run_background(
            &data,
            &config(Detector::Ensemble),
            Split::default(),
            4,
            &Silent
        )
        .is_err()
    );
}

#[test]
fn too_few_repetitions_is_an_error_not_a_panic() {
    let text = csv(2, false);
    // Keep the header and 150 rows of each subject.
    let lines: Vec<&str> = text.lines().collect();
    let short = [&lines[..151], &lines[401..551]].concat().join("\n");
    let data = parse_cmu_keystroke(short.as_bytes()).unwrap();
    let err = run_benchmark(
        &data,
        &config(Detector::Ensemble),
        Split::default(),
        &Silent,
    )
    .unwrap_err();
    assert!(err.to_string().contains("150 repetitions"), "{err}");
}
