//! Throughput of preprocessing, segmentation and feature extraction on a synthetic in-memory
//! trajectory, in events per second on one thread. Needs no data files.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pointerprint_core::{Button, Event, EventKind, Recording};

/// A deterministic session of `n` events: bursts of curved movement at 8-16 ms steps, each
/// ending in a rest, a click, a drag or a few wheel notches.
fn synthetic(n: usize) -> Recording {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut rand = move || {
        // xorshift64*: enough variety for a benchmark, no dependency.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut t, mut x, mut y) = (0.0, 960.0, 540.0);
    let mut events = Vec::with_capacity(n + 64);
    while events.len() < n {
        let steps = 10 + (rand() * 60.0) as usize;
        let heading = rand() * std::f64::consts::TAU;
        let bend = (rand() - 0.5) * 0.1;
        let ending = rand();
        let dragging = ending > 0.85;
        if dragging {
            events.push(Event::new(t, x, y, EventKind::Press, Button::Left));
        }
        for k in 0..steps {
            let speed = 1.0 + 8.0 * (std::f64::consts::PI * k as f64 / steps as f64).sin();
            let angle = heading + bend * k as f64;
            t += (8.0 + 8.0 * rand()).round();
            x = (x + speed * angle.cos()).round().clamp(0.0, 1919.0);
            y = (y + speed * angle.sin()).round().clamp(0.0, 1079.0);
            let kind = if dragging {
                EventKind::Drag
            } else {
                EventKind::Move
            };
            let button = if dragging { Button::Left } else { Button::None };
            events.push(Event::new(t, x, y, kind, button));
        }
        t += 50.0 + (rand() * 400.0).round();
        if dragging {
            events.push(Event::new(t, x, y, EventKind::Release, Button::Left));
        } else if ending > 0.45 {
            events.push(Event::new(t, x, y, EventKind::Press, Button::Left));
            t += 60.0 + (rand() * 80.0).round();
            events.push(Event::new(t, x, y, EventKind::Release, Button::Left));
        } else if ending > 0.35 {
            for _ in 0..1 + (rand() * 5.0) as usize {
                let wheel = EventKind::Wheel { dx: 0.0, dy: 100.0 };
                events.push(Event::new(t, x, y, wheel, Button::None));
                t += 40.0 + (rand() * 100.0).round();
            }
        }
        t += 200.0 + (rand() * 2_000.0).round();
    }
    events.truncate(n);
    Recording::new(events)
}

fn bench(c: &mut Criterion) {
    let recording = synthetic(100_000);
    let mut group = c.benchmark_group("synthetic");
    group.throughput(Throughput::Elements(recording.events.len() as u64));
    group.bench_function("extract", |b| {
        b.iter(|| pointerprint_core::extract(black_box(&recording)).len())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
