//! Prints a few statistics of synthetic sessions per person and how long generation takes:
//! `cargo run --release -p pointerprint-synth --example summary [users] [actions]`.

use std::time::Instant;

use pointerprint_core::{EventKind, Recording};
use pointerprint_synth::{population, session};

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let users = args.next().and_then(Result::ok).unwrap_or(5);
    let actions = args.next().and_then(Result::ok).unwrap_or(200);

    let people = population(users, 1);
    println!(
        "user session events  minutes  speed(px/ms)  hold(ms)  presses  wheels  actions(segmented)"
    );
    for (u, style) in people.iter().enumerate() {
        for s in 0..3 {
            let rec = session(style, s, actions);
            let segmented = pointerprint_core::extract(&rec).len();
            let (speed, hold, presses, wheels) = stats(&rec);
            let minutes = rec.events.last().map_or(0.0, |e| e.t) / 60_000.0;
            println!(
                "{u:4} {s:7} {:6} {minutes:8.1} {speed:13.3} {hold:9.1} {presses:8} {wheels:7} {segmented:8}",
                rec.events.len()
            );
        }
    }

    let style = &people[0];
    let start = Instant::now();
    let rec = session(style, 99, 10_000);
    println!(
        "10000 actions: {} events in {:.1} ms",
        rec.events.len(),
        start.elapsed().as_secs_f64() * 1e3
    );
}

/// Mean speed over steps within movements, mean click hold, press and wheel counts.
fn stats(rec: &Recording) -> (f64, f64, usize, usize) {
    let (mut dist, mut time, mut hold, mut clicks) = (0.0, 0.0, 0.0, 0);
    for w in rec.events.windows(2) {
        let (a, b) = (w[0], w[1]);
        if a.is_motion() && b.is_motion() && b.t - a.t < 100.0 {
            dist += (b.x - a.x).hypot(b.y - a.y);
            time += b.t - a.t;
        }
        // A press directly followed by its release is a click; a drag moves in between.
        if a.kind == EventKind::Press && b.kind == EventKind::Release {
            hold += b.t - a.t;
            clicks += 1;
        }
    }
    let count = |f: fn(&EventKind) -> bool| rec.events.iter().filter(|e| f(&e.kind)).count();
    (
        dist / time,
        hold / clicks.max(1) as f64,
        count(|k| *k == EventKind::Press),
        count(|k| matches!(k, EventKind::Wheel { .. })),
    )
}
