//! Properties that must hold for any input, not just hand-picked trajectories.

use pointerprint_core::features::Feature;
use pointerprint_core::{Button, Event, EventKind, Recording, extract};
use proptest::prelude::*;

fn event() -> impl Strategy<Value = Event> {
    let kind = prop_oneof![
        4 => Just(EventKind::Move),
        1 => Just(EventKind::Drag),
        1 => Just(EventKind::Press),
        1 => Just(EventKind::Release),
        1 => (-500f32..500.0).prop_map(|dy| EventKind::Wheel { dx: 0.0, dy }),
    ];
    let button = prop_oneof![Just(Button::None), Just(Button::Left), Just(Button::Right)];
    let coord = prop_oneof![
        8 => -100f64..3000.0,
        1 => Just(65535.0),
        1 => Just(f64::NAN),
    ];
    (0f64..100_000.0, coord.clone(), coord, kind, button)
        .prop_map(|(t, x, y, kind, button)| Event::new(t, x, y, kind, button))
}

/// Shape features: they must not change when the whole trajectory is moved on the screen.
const SHAPE: [Feature; 10] = [
    Feature::TraveledDistance,
    Feature::Straightness,
    Feature::SumOfAngles,
    Feature::MeanCurvature,
    Feature::LargestDeviation,
    Feature::EndToEnd,
    Feature::MeanV,
    Feature::MaxA,
    Feature::CriticalPoints,
    Feature::DirectionSector,
];

proptest! {
    #[test]
    fn every_feature_is_finite_for_any_input(events in prop::collection::vec(event(), 0..300)) {
        for f in extract(&Recording::new(events)) {
            prop_assert!(f.as_slice().iter().all(|v| v.is_finite()), "{:?}", f);
        }
    }

    #[test]
    fn shape_features_are_translation_invariant(
        steps in prop::collection::vec((1f64..30.0, -20f64..20.0, -20f64..20.0), 5..60),
        shift in (-500f64..500.0, -500f64..500.0),
    ) {
        let path = |ox: f64, oy: f64| {
            let (mut t, mut x, mut y) = (0.0, 1000.0 + ox, 1000.0 + oy);
            let mut events = vec![Event::new(t, x, y, EventKind::Move, Button::None)];
            for &(dt, dx, dy) in &steps {
                t += dt; x += dx; y += dy;
                events.push(Event::new(t, x, y, EventKind::Move, Button::None));
            }
            extract(&Recording::new(events))
        };
        let (a, b) = (path(0.0, 0.0), path(shift.0, shift.1));
        prop_assert_eq!(a.len(), b.len());
        for (fa, fb) in a.iter().zip(&b) {
            for feature in SHAPE {
                let (va, vb) = (fa[feature], fb[feature]);
                prop_assert!((va - vb).abs() <= 1e-6 * (1.0 + va.abs()), "{:?}: {} vs {}", feature, va, vb);
            }
        }
    }
}

mod keystrokes {
    use pointerprint_core::keystroke::{
        KeyClass, KeyId, Keystroke, KeystrokeSample, TextKind, fixed_text_features,
        free_text_features,
    };
    use proptest::prelude::*;

    fn time() -> impl Strategy<Value = f64> {
        prop_oneof![
            8 => 0f64..5_000.0,
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(-1.0),
            1 => Just(1e15),
        ]
    }

    fn stroke() -> impl Strategy<Value = Keystroke> {
        let key = prop_oneof![
            (0u16..12).prop_map(KeyId::Position),
            (0usize..7).prop_map(|c| KeyId::Class(KeyClass::ALL[c])),
        ];
        (key, time(), time()).prop_map(|(key, down, up)| Keystroke { key, down, up })
    }

    proptest! {
        /// Any keystrokes either make a sample or are refused with a reason; an accepted
        /// sample's features are all finite.
        #[test]
        fn keystroke_features_are_finite_or_the_input_is_refused(
            strokes in prop::collection::vec(stroke(), 0..30),
            length in 0u16..12,
            fixed in any::<bool>(),
        ) {
            let kind = if fixed { TextKind::Fixed { length } } else { TextKind::Free };
            if let Ok(sample) = KeystrokeSample::new(kind, strokes) {
                if let Ok(f) = fixed_text_features(&sample) {
                    prop_assert!(f.iter().all(|v| v.is_finite()));
                }
                let free = free_text_features(&sample);
                prop_assert!(free.hold.0.iter().chain(&free.flight.0).chain(&free.down_down.0)
                    .all(|v| v.is_finite()));
                prop_assert!(free.digraphs.iter().all(|d| d.mean_down_down.is_finite()
                    && d.mean_up_down.is_finite()));
            }
        }
    }
}
