//! People are stable across sessions, differ from each other, and sessions are reproducible.

use pointerprint_core::{EventKind, PreprocessConfig, Recording, Segmenter, SegmenterConfig};
use pointerprint_synth::{MotorStyle, population, session};

#[test]
fn same_seeds_give_identical_recordings() {
    let style = MotorStyle::from_seed(42);
    assert_eq!(style, MotorStyle::from_seed(42));
    assert_eq!(session(&style, 7, 150), session(&style, 7, 150));
    assert_eq!(population(5, 9), population(5, 9));
}

#[test]
fn different_seeds_give_different_recordings() {
    let people = population(2, 1);
    assert_ne!(people[0], people[1]);
    assert_ne!(population(3, 1), population(3, 2));
    assert_ne!(session(&people[0], 1, 50), session(&people[0], 2, 50));
    // Two people with the same session seed do not share a random stream either.
    let a = session(&people[0], 1, 50);
    let b = session(&people[1], 1, 50);
    assert_ne!(a.events.first(), b.events.first());
}

#[test]
fn style_round_trips_through_json() {
    let style = MotorStyle::from_seed(11);
    let json = serde_json::to_string(&style).expect("serialisable");
    let back: MotorStyle = serde_json::from_str(&json).expect("deserialisable");
    assert_eq!(back, style);
}

#[test]
fn screen_is_the_styles() {
    let style = MotorStyle::from_seed(5);
    assert_eq!(session(&style, 0, 10).screen, Some(style.screen));
    assert_eq!(session(&style, 0, 0).events, vec![]);
}

#[test]
fn sessions_vary_a_little_around_the_person() {
    let style = MotorStyle::from_seed(8);
    let (a, b) = (style.for_session(1), style.for_session(2));
    assert_ne!(a, b);
    assert_eq!(a, style.for_session(1));
    assert_eq!(a.screen, style.screen);
    assert_eq!(a.sample_interval_ms, style.sample_interval_ms);
    for (day, person) in [
        (a.hold_mean_ms, style.hold_mean_ms),
        (a.fitts_b_ms, style.fitts_b_ms),
        (b.pause_median_ms, style.pause_median_ms),
    ] {
        let ratio = day / person;
        assert!((0.6..1.6).contains(&ratio), "{day} vs {person}");
    }
}

/// The number of actions the core segmenter finds.
fn segmented(rec: &Recording) -> usize {
    let cleaned = pointerprint_core::preprocess(rec, &PreprocessConfig::default());
    Segmenter::new(SegmenterConfig::default())
        .segment(&cleaned)
        .len()
}

#[test]
fn action_count_is_honoured() {
    for (person, style) in population(8, 3).iter().enumerate() {
        for actions in [1, 20, 300] {
            let rec = session(style, person as u64, actions);
            let found = segmented(&rec);
            let slack = 1 + actions / 20;
            assert!(
                found.abs_diff(actions) <= slack,
                "person {person}: asked for {actions}, segmenter found {found}"
            );
        }
    }
}

#[test]
fn sessions_mix_every_kind_of_action() {
    let rec = session(&MotorStyle::from_seed(2), 4, 400);
    let count = |kind: fn(&EventKind) -> bool| rec.events.iter().filter(|e| kind(&e.kind)).count();
    assert!(count(|k| *k == EventKind::Move) > 1_000);
    assert!(count(|k| *k == EventKind::Press) > 50);
    assert!(count(|k| *k == EventKind::Drag) > 0);
    assert!(count(|k| matches!(k, EventKind::Wheel { .. })) > 0);
}

/// Simple per-session statistics: mean pointer speed (px/ms) within movements, mean click hold
/// time (ms) and median rest between arriving on a target and pressing (ms).
fn session_stats(rec: &Recording) -> [f64; 3] {
    let ev = &rec.events;
    let (mut dist, mut time) = (0.0, 0.0);
    for w in ev.windows(2) {
        if w[0].is_motion() && w[1].is_motion() && w[1].t - w[0].t < 100.0 {
            dist += (w[1].x - w[0].x).hypot(w[1].y - w[0].y);
            time += w[1].t - w[0].t;
        }
    }
    let mut holds = Vec::new();
    let mut dwells = Vec::new();
    for w in ev.windows(2) {
        // A press directly followed by its release is a click; drags have motion in between.
        if w[0].kind == EventKind::Press && w[1].kind == EventKind::Release {
            holds.push(w[1].t - w[0].t);
        }
        if w[0].kind == EventKind::Move && w[1].kind == EventKind::Press {
            dwells.push(w[1].t - w[0].t);
        }
    }
    dwells.sort_by(f64::total_cmp);
    let mean_hold = holds.iter().sum::<f64>() / holds.len().max(1) as f64;
    [
        dist / time,
        mean_hold,
        dwells.get(dwells.len() / 2).copied().unwrap_or(0.0),
    ]
}

#[test]
fn people_differ_more_than_their_sessions_do() {
    const PEOPLE: usize = 10;
    const STATS: usize = 3;
    let sessions: Vec<Vec<[f64; STATS]>> = population(PEOPLE, 2024)
        .iter()
        .map(|p| (0..3).map(|s| session_stats(&session(p, s, 200))).collect())
        .collect();
    // The range each person's sessions span in each statistic.
    let range = |person: usize, stat: usize| {
        sessions[person]
            .iter()
            .map(|s| s[stat])
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            })
    };
    let mut told_apart = 0;
    let mut by_stat = [0; STATS];
    let mut pairs = 0;
    for a in 0..PEOPLE {
        for b in a + 1..PEOPLE {
            pairs += 1;
            let mut apart = false;
            for (stat, count) in by_stat.iter_mut().enumerate() {
                let ((alo, ahi), (blo, bhi)) = (range(a, stat), range(b, stat));
                if ahi < blo || bhi < alo {
                    *count += 1;
                    apart = true;
                }
            }
            told_apart += usize::from(apart);
        }
    }
    println!("{told_apart} of {pairs} pairs told apart; by statistic {by_stat:?}");
    // Most pairs have sessions that never overlap in at least one statistic...
    assert!(
        told_apart * 10 >= pairs * 7,
        "{told_apart} of {pairs} pairs told apart"
    );
    // ...but no single statistic tells everyone apart: styles overlap, as real people's do.
    assert!(by_stat.iter().all(|&n| n < pairs), "{by_stat:?} of {pairs}");
}
