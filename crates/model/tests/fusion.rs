//! Fusion of mouse and typing evidence on synthetic people. No public data set records both
//! modalities for the same people, so the pairs are synthetic: each synthetic person has a
//! motor style (crates/synth's mouse) and a typing rhythm (its `Typist`), drawn independently.
//! Real models are trained on both; strangers who never entered any model are the impostors.

use pointerprint_core::keystroke::fixed_text_features;
use pointerprint_core::{FeatureVector, extract};
use pointerprint_model::fusion::{Evidence, Independence, Modality, Recalibration, fuse};
use pointerprint_model::keystroke::{KeystrokeConfig, KeystrokeModel};
use pointerprint_model::{BoostedParams, TrainConfig, UserModel};
use pointerprint_synth::{MotorStyle, Typist, session};

const ENROLLED: u64 = 5;
const STRANGERS: u64 = 5;
const PASSWORD_KEYS: usize = 11;
/// Mouse actions per test session: few, so the mouse alone makes mistakes.
const TEST_ACTIONS: usize = 6;

struct Person {
    style: MotorStyle,
    typist: Typist,
}

fn person(seed: u64) -> Person {
    Person {
        style: MotorStyle::from_seed(7_000 + seed),
        typist: Typist::from_seed(9_000 + seed, PASSWORD_KEYS),
    }
}

fn typings(p: &Person, first_seed: u64, n: u64) -> Vec<Vec<f64>> {
    (first_seed..first_seed + n)
        .map(|s| fixed_text_features(&p.typist.typing(s, 0.0)).unwrap())
        .collect()
}

/// One test session: a few mouse actions and one typing of the password.
struct Attempt {
    actions: Vec<FeatureVector>,
    typing: Vec<f64>,
}

fn attempts(p: &Person, seed: u64, n: u64) -> Vec<Attempt> {
    (0..n)
        .map(|i| Attempt {
            actions: extract(&session(&p.style, seed + i, TEST_ACTIONS)),
            typing: typings(p, 50_000 + seed + i, 1).remove(0),
        })
        .collect()
}

/// The lowest false-reject rate at a false-accept rate of at most `far` (higher = genuine).
fn frr_at_far(genuine: &[f64], impostor: &[f64], far: f64) -> f64 {
    let mut imp = impostor.to_vec();
    imp.sort_by(|a, b| b.total_cmp(a));
    // Accept scores strictly above the threshold: at most `far` of the impostors pass.
    let allowed = (far * imp.len() as f64).floor() as usize;
    let threshold = imp[allowed.min(imp.len() - 1)];
    genuine.iter().filter(|&&g| g <= threshold).count() as f64 / genuine.len() as f64
}

/// (mouse, keystroke) log-likelihood ratios of one attempt.
type Pair = (f64, f64);

/// Every claimed user's (mouse, keystroke) log-likelihood ratios of genuine and impostor
/// attempts, one list per claimed user.
struct Trials {
    genuine: Vec<Vec<Pair>>,
    impostor: Vec<Vec<Pair>>,
}

impl Trials {
    fn pooled(&self) -> (Vec<Pair>, Vec<Pair>) {
        (self.genuine.concat(), self.impostor.concat())
    }
}

fn column(pairs: &[(f64, f64)], second: bool) -> Vec<f64> {
    pairs
        .iter()
        .map(|p| if second { p.1 } else { p.0 })
        .collect()
}

#[test]
fn fused_frr_at_far_1_percent_is_below_either_modality() {
    let enrolled: Vec<Person> = (0..ENROLLED).map(person).collect();
    // Strangers never enter a model: the first half tune the fusion, the second half test it.
    let development: Vec<Person> = (100..100 + STRANGERS).map(person).collect();
    let strangers: Vec<Person> = (200..200 + STRANGERS).map(person).collect();

    let mouse_training: Vec<Vec<FeatureVector>> = enrolled
        .iter()
        .enumerate()
        .map(|(i, p)| extract(&session(&p.style, i as u64, 250)))
        .collect();
    let typing_training: Vec<Vec<Vec<f64>>> = enrolled.iter().map(|p| typings(p, 0, 50)).collect();
    let mouse_config = TrainConfig {
        boosted: BoostedParams {
            iterations: 40,
            ..BoostedParams::default()
        },
        ..TrainConfig::default()
    };
    let attempts_of = |people: &[Person], seed: u64| -> Vec<Vec<Attempt>> {
        people
            .iter()
            .enumerate()
            .map(|(i, p)| attempts(p, seed + 1_000 * i as u64, 40))
            .collect()
    };
    let (development_attempts, stranger_attempts) = (
        attempts_of(&development, 10_000),
        attempts_of(&strangers, 20_000),
    );

    let mut dev = Trials {
        genuine: Vec::new(),
        impostor: Vec::new(),
    };
    let mut test = Trials {
        genuine: Vec::new(),
        impostor: Vec::new(),
    };
    for (u, p) in enrolled.iter().enumerate() {
        let others: Vec<usize> = (0..enrolled.len()).filter(|&i| i != u).collect();
        let mouse_population: Vec<&[FeatureVector]> = others
            .iter()
            .map(|&i| mouse_training[i].as_slice())
            .collect();
        let typing_population: Vec<&[Vec<f64>]> = others
            .iter()
            .map(|&i| typing_training[i].as_slice())
            .collect();
        let mouse =
            UserModel::train(&[&mouse_training[u]], &mouse_population, &mouse_config).unwrap();
        let typing = KeystrokeModel::train(
            &typing_training[u],
            &typing_population,
            &KeystrokeConfig::default(),
        )
        .unwrap();
        assert!(typing.has_background());
        let llrs = |a: &Attempt| {
            (
                mouse.score_session(&a.actions).evidence,
                typing.evidence(&a.typing),
            )
        };
        let seed = 500 + 1_000 * u as u64;
        dev.genuine
            .push(attempts(p, seed, 30).iter().map(llrs).collect());
        dev.impostor
            .push(development_attempts.iter().flatten().map(llrs).collect());
        test.genuine
            .push(attempts(p, seed + 100, 60).iter().map(llrs).collect());
        test.impostor
            .push(stranger_attempts.iter().flatten().map(llrs).collect());
    }

    // Each modality's ratios recalibrated on the development strangers.
    let (dev_genuine, dev_impostor) = dev.pooled();
    let recalibrate = |second: bool| {
        Recalibration::fit(
            &column(&dev_genuine, second),
            &column(&dev_impostor, second),
        )
        .unwrap()
    };
    let (mouse_map, typing_map) = (recalibrate(false), recalibrate(true));
    let fused = |pairs: &[(f64, f64)]| -> Vec<f64> {
        pairs
            .iter()
            .map(|&(m, k)| {
                let evidence = [
                    Evidence {
                        modality: Modality::Mouse,
                        llr: mouse_map.apply(m),
                    },
                    Evidence {
                        modality: Modality::Keystroke,
                        llr: typing_map.apply(k),
                    },
                ];
                fuse(&evidence, 1.0).llr
            })
            .collect()
    };
    let (genuine, impostor) = test.pooled();
    // A positive affine map does not change one modality's error rates.
    let mouse_frr = frr_at_far(&column(&genuine, false), &column(&impostor, false), 0.01);
    let typing_frr = frr_at_far(&column(&genuine, true), &column(&impostor, true), 0.01);
    let fused_frr = frr_at_far(&fused(&genuine), &fused(&impostor), 0.01);
    eprintln!(
        "FRR at FAR 1%: mouse {mouse_frr:.3}, typing {typing_frr:.3}, fused {fused_frr:.3}; \
         {mouse_map:?} {typing_map:?}"
    );
    // Each modality alone is imperfect here, so the comparison means something.
    assert!(
        mouse_frr > 0.02 && typing_frr > 0.02,
        "{mouse_frr} {typing_frr}"
    );
    assert!(mouse_map.scale > 0.0 && typing_map.scale > 0.0);
    assert!(
        fused_frr < mouse_frr.min(typing_frr),
        "fused {fused_frr} vs mouse {mouse_frr}, typing {typing_frr}"
    );

    // Drawn independently, the two modalities' ratios are close to uncorrelated in each class.
    let check = Independence::check(&test.genuine, &test.impostor).unwrap();
    eprintln!("{check:?}");
    assert_eq!(check.genuine_pairs, ENROLLED as usize * 60);
    assert!(check.holds(), "{check:?}");
}
