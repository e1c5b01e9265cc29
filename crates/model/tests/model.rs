//! User models trained on synthetic people: separation, round trips, errors.

use pointerprint_core::{FeatureVector, extract};
use pointerprint_model::{BoostedParams, Decision, Learner, ModelError, TrainConfig, UserModel};
use pointerprint_synth::{MotorStyle, session};

fn actions(style: &MotorStyle, seed: u64, n: usize) -> Vec<FeatureVector> {
    extract(&session(style, seed, n))
}

fn quick() -> TrainConfig {
    TrainConfig {
        boosted: BoostedParams {
            iterations: 40,
            ..BoostedParams::default()
        },
        ..TrainConfig::default()
    }
}

struct World {
    styles: Vec<MotorStyle>,
    training: Vec<Vec<FeatureVector>>,
}

fn world() -> World {
    let styles: Vec<MotorStyle> = (0..8).map(|i| MotorStyle::from_seed(100 + i)).collect();
    let training = styles
        .iter()
        .enumerate()
        .map(|(i, s)| actions(s, i as u64, 250))
        .collect();
    World { styles, training }
}

fn train(w: &World, user: usize, config: &TrainConfig) -> Result<UserModel, ModelError> {
    let population: Vec<&[FeatureVector]> = w
        .training
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != user)
        .map(|(_, a)| a.as_slice())
        .collect();
    UserModel::train(&[&w.training[user]], &population, config)
}

#[test]
fn genuine_sessions_outscore_impostors() {
    let w = world();
    let model = train(&w, 0, &quick()).unwrap();
    let genuine = model.score_session(&actions(&w.styles[0], 900, 40));
    let threshold = model.calibration().accept_threshold(0.01, genuine.actions);
    for other in 1..8 {
        let impostor = model.score_session(&actions(&w.styles[other], 900 + other as u64, 40));
        assert!(
            genuine.normalized > impostor.normalized,
            "user {other}: {genuine:?} vs {impostor:?}"
        );
        assert!(genuine.evidence > impostor.evidence);
        assert_eq!(UserModel::decide(&impostor, threshold, 5), Decision::Reject);
    }
    // The evidence favours the user. (Whether it clears the 1% threshold depends on how
    // much seven synthetic strangers, held out one fold at a time, vary: with so few, the
    // calibration is rightly unsure.)
    assert_eq!(UserModel::decide(&genuine, 0.5, 5), Decision::Accept);
    assert_eq!(
        UserModel::decide(&genuine, 0.5, 1000),
        Decision::InsufficientData
    );
    let summary = model.summary();
    assert_eq!(summary.background_users, 7);
    assert!(summary.expected_eer.unwrap()[3] < summary.expected_eer.unwrap()[0]);
    // Out-of-fold windows of the user score higher than strangers' windows, on [0, 1]
    // (strangers: background people held out of the model that scored them).
    let mean = |v: &[f32]| v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
    let (g, i) = (
        &summary.genuine_window_scores,
        &summary.impostor_window_scores,
    );
    assert!(!g.is_empty() && !i.is_empty());
    assert!(g.iter().chain(i).all(|s| (0.0..=1.0).contains(s)));
    assert!(mean(g) > mean(i) + 0.1, "{} vs {}", mean(g), mean(i));
}

#[test]
fn models_round_trip_bit_exactly_and_stay_small() {
    let w = world();
    let model = train(&w, 1, &quick()).unwrap();
    let bytes = model.to_bytes().unwrap();
    assert!(bytes.len() < 2 * 1024 * 1024, "{} bytes", bytes.len());
    let loaded = UserModel::from_bytes(&bytes).unwrap();
    let probe = actions(&w.styles[2], 77, 30);
    let (a, b) = (model.action_scores(&probe), loaded.action_scores(&probe));
    assert_eq!(
        a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        b.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    assert_eq!(model.calibration(), loaded.calibration());
    assert_eq!(loaded.to_bytes().unwrap(), bytes);
}

#[test]
fn full_size_model_stays_under_two_megabytes() {
    let w = world();
    let model = train(&w, 0, &TrainConfig::default()).unwrap();
    let size = model.to_bytes().unwrap().len();
    assert!(size < 2 * 1024 * 1024, "{size} bytes");
}

#[test]
fn damaged_or_foreign_bytes_are_refused() {
    let w = world();
    let bytes = train(&w, 0, &quick()).unwrap().to_bytes().unwrap();
    let mut newer = bytes.clone();
    newer[0] = 9;
    assert!(matches!(
        UserModel::from_bytes(&newer),
        Err(ModelError::Version { found: 9 })
    ));
    assert!(matches!(
        UserModel::from_bytes(&bytes[..bytes.len() / 2]),
        Err(ModelError::Corrupt(_))
    ));
    assert!(matches!(
        UserModel::from_bytes(&[]),
        Err(ModelError::Corrupt(_))
    ));
}

#[test]
fn too_little_data_or_no_population_is_an_error() {
    let w = world();
    let few = &w.training[0][..10];
    let err = UserModel::train(&[few], &[&w.training[1]], &quick())
        .err()
        .unwrap();
    assert!(
        matches!(err, ModelError::NotEnoughData { have: 10, .. }),
        "{err}"
    );
    let err = UserModel::train(&[&w.training[0]], &[], &quick())
        .err()
        .unwrap();
    assert!(matches!(err, ModelError::NoPopulation));
}

#[test]
fn one_class_model_needs_no_population() {
    let w = world();
    let config = TrainConfig {
        learner: Learner::OneClass,
        ..quick()
    };
    let model = UserModel::train(&[&w.training[0]], &[], &config).unwrap();
    assert!(model.calibration().impostor.is_none());
    let genuine = model.score_session(&actions(&w.styles[0], 500, 60));
    let others: Vec<f64> = (1..4)
        .map(|u| {
            model
                .score_session(&actions(&w.styles[u], 500 + u as u64, 60))
                .normalized
        })
        .collect();
    let mean_other = others.iter().sum::<f64>() / others.len() as f64;
    assert!(genuine.normalized > mean_other, "{genuine:?} vs {others:?}");
    let loaded = UserModel::from_bytes(&model.to_bytes().unwrap()).unwrap();
    assert_eq!(loaded.calibration(), model.calibration());
}
