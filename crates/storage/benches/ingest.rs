//! Ingestion throughput of `Store::insert_batch`: 100-event batches into a real SQLite
//! file, from one task and from 50 concurrent sessions. Throughput is reported in events
//! (elements) per second. Run: `cargo bench -p pointerprint-storage --bench ingest`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pointerprint_core::{Button, Event, EventKind};
use pointerprint_storage::{Cipher, Inserted, NewBatch, Store};

const EVENTS_PER_BATCH: usize = 100;
const SESSIONS: i64 = 50;

fn batch_events(seed: i64) -> Vec<Event> {
    (0..EVENTS_PER_BATCH)
        .map(|i| {
            let t = seed as f64 * 1000.0 + i as f64 * 8.0;
            let kind = match i % 25 {
                10 => EventKind::Press,
                11 => EventKind::Release,
                20 => EventKind::Wheel { dx: 0.0, dy: 100.0 },
                _ => EventKind::Move,
            };
            Event::new(
                t,
                300.0 + (i as f64).sin() * 200.0,
                400.0 + i as f64,
                kind,
                Button::Left,
            )
        })
        .collect()
}

fn ingest(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = rt
        .block_on(Store::open_sqlite(
            &dir.path().join("bench.db"),
            Cipher::generate().1,
        ))
        .unwrap();
    let events = Arc::new(batch_events(1));
    let seq = Arc::new(AtomicI64::new(0));

    let mut group = c.benchmark_group("insert_batch");
    group.throughput(Throughput::Elements(EVENTS_PER_BATCH as u64));
    group.measurement_time(Duration::from_secs(8));

    group.bench_function("one_session_sequential", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let batch = NewBatch {
                        user_id: "bench-user",
                        session_id: "sequential",
                        seq: seq.fetch_add(1, Ordering::Relaxed),
                        received_ms: 0,
                        events: &events,
                        screen: None,
                    };
                    assert_eq!(store.insert_batch(&batch).await.unwrap(), Inserted::Stored);
                }
                start.elapsed()
            })
        });
    });

    group.bench_function("50_sessions_concurrent", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let per_task = iters.div_ceil(SESSIONS as u64);
                let start = Instant::now();
                let tasks: Vec<_> = (0..SESSIONS)
                    .map(|task| {
                        let (store, events, seq) = (store.clone(), events.clone(), seq.clone());
                        tokio::spawn(async move {
                            let user = format!("user-{}", task % 10);
                            let session = format!("session-{task}");
                            for _ in 0..per_task {
                                let batch = NewBatch {
                                    user_id: &user,
                                    session_id: &session,
                                    seq: seq.fetch_add(1, Ordering::Relaxed),
                                    received_ms: 0,
                                    events: &events,
                                    screen: None,
                                };
                                let stored = store.insert_batch(&batch).await.unwrap();
                                assert_eq!(stored, Inserted::Stored);
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
                // Scale to the requested count (the last round may overshoot).
                start
                    .elapsed()
                    .mul_f64(iters as f64 / (per_task * SESSIONS as u64) as f64)
            })
        });
    });
    group.finish();
    rt.block_on(store.close());
}

criterion_group!(benches, ingest);
criterion_main!(benches);
