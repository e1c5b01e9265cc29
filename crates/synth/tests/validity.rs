//! Every generated recording is well-formed, whatever the seeds and even for odd styles.

use pointerprint_core::{Button, EventKind, Recording};
use pointerprint_synth::{MotorStyle, session};
use proptest::prelude::*;

/// Why a recording is malformed, if it is.
fn problem(rec: &Recording) -> Option<String> {
    let Some(screen) = rec.screen else {
        return Some("no screen".into());
    };
    let mut held: Option<Button> = None;
    let mut last_t = f64::NEG_INFINITY;
    for (i, e) in rec.events.iter().enumerate() {
        let at = |what: &str| Some(format!("event {i} ({e:?}): {what}"));
        if !(e.t.is_finite() && e.x.is_finite() && e.y.is_finite()) {
            return at("not finite");
        }
        if e.t < last_t {
            return at("time goes back");
        }
        last_t = e.t;
        if !(0.0..=screen.width).contains(&e.x) || !(0.0..=screen.height).contains(&e.y) {
            return at("off screen");
        }
        match (e.kind, held) {
            (EventKind::Press, None) if e.button != Button::None => held = Some(e.button),
            (EventKind::Release, Some(b)) if b == e.button => held = None,
            (EventKind::Drag, Some(b)) if b == e.button => {}
            (EventKind::Move, None) => {}
            (EventKind::Wheel { dx, dy }, None) if dx.is_finite() && dy.is_finite() => {}
            _ => return at(&format!("unexpected with {held:?} held")),
        }
    }
    held.map(|b| format!("{b:?} still held at the end"))
}

/// A style whose numeric fields (the screen's too) are replaced by values out of any sane range.
fn mangled(seed: u64, pick: &[usize]) -> MotorStyle {
    fn mangle(v: &mut serde_json::Value, pick: &[usize], k: &mut usize) {
        const ODD: [f64; 6] = [-1e12, -1.0, 0.0, 1e-9, 7.5, 1e12];
        match v {
            serde_json::Value::Object(fields) => {
                fields.values_mut().for_each(|f| mangle(f, pick, k));
            }
            _ if v.is_f64() => {
                *v = serde_json::json!(ODD[pick[*k % pick.len()]]);
                *k += 1;
            }
            _ => {}
        }
    }
    let mut value = serde_json::to_value(MotorStyle::from_seed(seed)).expect("serialisable");
    mangle(&mut value, pick, &mut 0);
    serde_json::from_value(value).expect("still a style")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn recordings_are_well_formed(person in any::<u64>(), day in any::<u64>(), actions in 0usize..120) {
        let rec = session(&MotorStyle::from_seed(person), day, actions);
        prop_assert_eq!(problem(&rec), None);
    }

    #[test]
    fn odd_styles_still_give_well_formed_recordings(
        person in any::<u64>(),
        pick in prop::collection::vec(0usize..6, 1..8),
    ) {
        let rec = session(&mangled(person, &pick), 1, 40);
        prop_assert_eq!(problem(&rec), None);
    }
}

#[test]
fn nan_style_gives_well_formed_recording() {
    let mut style = MotorStyle::from_seed(3);
    style.fitts_a_ms = f64::NAN;
    style.hold_mean_ms = f64::NAN;
    style.scroll_weight = f64::INFINITY;
    style.screen.width = f64::NAN;
    style.overshoot_prob = f64::NEG_INFINITY;
    let rec = session(&style, 5, 200);
    assert_eq!(problem(&rec), None);
    assert!(!rec.events.is_empty());
}

#[test]
fn long_session_is_well_formed() {
    for person in 0..4 {
        let rec = session(&MotorStyle::from_seed(person), 77, 3_000);
        assert_eq!(problem(&rec), None);
    }
}
