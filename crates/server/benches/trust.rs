//! Cost of one batch of a continuous session: a 60-minute session at 60 events/s streamed
//! in 2-second batches (120 events), its trust moved batch by batch. The cost of the next
//! batch is measured after 1, 30 and 60 minutes of the session: it should not grow.
//! Each measured batch is stored and then read, scored and pushed, as the service does
//! when a batch arrives for a session someone listens to. The last case measures the way it
//! was done before: the whole session recomputed for every batch.
//! Run: `cargo bench -p pointerprint-server --bench trust`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use metrics_exporter_prometheus::PrometheusBuilder;
use pointerprint_core::augment::resample;
use pointerprint_core::{Event, Recording, extract};
use pointerprint_model::{Learner, TrainConfig, UserModel};
use pointerprint_server::app::config::Config;
use pointerprint_server::app::{App, continuous};
use pointerprint_server::domain::ids::{SessionId, UserId};
use pointerprint_server::domain::settings::Settings;
use pointerprint_storage::{Cipher, NewBatch, Store};
use pointerprint_synth::{population, session};

const BATCH_MS: f64 = 2_000.0;
const EVENT_INTERVAL_MS: f64 = 1_000.0 / 60.0;
const MINUTES: usize = 60;

/// An hour of one synthetic person's mouse use at 60 events/s, cut into 2-second batches.
fn hour_of_batches(style: &pointerprint_synth::MotorStyle) -> Vec<Vec<Event>> {
    let mut events = Vec::new();
    let mut offset = 0.0;
    let mut seed = 100;
    while offset < (MINUTES as f64 + 1.0) * 60_000.0 {
        let rec = resample(&session(style, seed, 60), EVENT_INTERVAL_MS);
        let start = rec.events.first().map_or(0.0, |e| e.t);
        for e in &rec.events {
            let mut e = *e;
            e.t = e.t - start + offset;
            events.push(e);
        }
        offset = events.last().map_or(0.0, |e| e.t) + 500.0;
        seed += 1;
    }
    let mut batches: Vec<Vec<Event>> = Vec::new();
    for e in events {
        let index = (e.t / BATCH_MS) as usize;
        if batches.len() <= index {
            batches.resize(index + 1, Vec::new());
        }
        batches[index].push(e);
    }
    batches.retain(|b| !b.is_empty());
    batches
}

fn model(styles: &[pointerprint_synth::MotorStyle]) -> UserModel {
    let actions = |style, seed| extract(&session(style, seed, 200));
    let genuine: Vec<_> = (0..3).map(|s| actions(&styles[0], s)).collect();
    let others: Vec<_> = styles[1..].iter().map(|s| actions(s, 7)).collect();
    let genuine: Vec<&[_]> = genuine.iter().map(Vec::as_slice).collect();
    let others: Vec<&[_]> = others.iter().map(Vec::as_slice).collect();
    let config = TrainConfig {
        learner: Learner::Boosted,
        ..TrainConfig::default()
    };
    UserModel::train(&genuine, &others, &config).expect("trains")
}

fn batch_cost(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let styles = population(5, 42);
    let batches = hour_of_batches(&styles[0]);
    let user = UserId::parse("owner").unwrap();
    let app = rt.block_on(async {
        let store = Store::open_sqlite(&dir.path().join("db"), Cipher::new([7; 32]))
            .await
            .unwrap();
        let model = model(&styles);
        let summary = serde_json::to_string(model.summary()).unwrap();
        store
            .put_model("owner", &model.to_bytes().unwrap(), &summary, 0)
            .await
            .unwrap();
        let metrics = PrometheusBuilder::new().build_recorder().handle();
        Arc::new(App::new(
            store,
            Config::default(),
            Settings::default(),
            metrics,
        ))
    });
    // Held to the end: a session nobody listens to is not tracked.
    let mut listeners = Vec::new();
    let mut group = c.benchmark_group("continuous_session_batch");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(5));
    for minute in [1usize, 30, 60] {
        let session = SessionId::parse(format!("hour-{minute}")).unwrap();
        // The first batch past the minute (quiet spells send no batch).
        let first = batches
            .iter()
            .position(|b| b[0].t >= minute as f64 * 60_000.0)
            .unwrap_or(batches.len());
        // The session so far, stored; someone listens, so its trust is kept.
        rt.block_on(async {
            for (seq, events) in batches[..first].iter().enumerate() {
                insert(&app, &user, &session, seq, events).await;
            }
            listeners.push(app.sessions.listen(&session));
            continuous::advance(&app, &session).await;
        });
        let mut next = first;
        group.bench_function(format!("after_{minute}_min"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut spent = Duration::ZERO;
                    for _ in 0..iters {
                        // Batches past the hour wrap round to its start, shifted in time.
                        let events = shifted(&batches, next);
                        let started = Instant::now();
                        insert(&app, &user, &session, next, &events).await;
                        continuous::advance(&app, &session).await;
                        spent += started.elapsed();
                        next += 1;
                    }
                    spent
                })
            })
        });
    }
    // For comparison, what each batch cost before: the whole session read, decrypted,
    // extracted and scored again.
    let session = SessionId::parse("hour-60").unwrap();
    group.bench_function("whole_session_recomputed_after_60_min", |b| {
        b.iter(|| {
            rt.block_on(async {
                let stored = app.store.session_events(session.as_str()).await.unwrap();
                let actions = extract(&stored.unwrap().recording);
                let model = app.cache.model(&user).await.unwrap().unwrap();
                model.action_scores(&actions).len()
            })
        })
    });
    group.finish();
    drop(listeners);
}

fn shifted(batches: &[Vec<Event>], index: usize) -> Vec<Event> {
    let laps = index / batches.len();
    let span = batches.last().and_then(|b| b.last()).map_or(0.0, |e| e.t) + BATCH_MS;
    batches[index % batches.len()]
        .iter()
        .map(|e| {
            let mut e = *e;
            e.t += laps as f64 * span;
            e
        })
        .collect()
}

async fn insert(app: &App, user: &UserId, session: &SessionId, seq: usize, events: &[Event]) {
    let recording = Recording::new(events.to_vec());
    app.store
        .insert_batch(&NewBatch {
            user_id: user.as_str(),
            session_id: session.as_str(),
            seq: seq as i64,
            received_ms: 0,
            events: &recording.events,
            screen: None,
        })
        .await
        .unwrap();
}

criterion_group!(benches, batch_cost);
criterion_main!(benches);
