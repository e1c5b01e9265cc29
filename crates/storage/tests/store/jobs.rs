//! The training queue: one job per user, claims, leases, status.

use std::time::Duration;

use macro_rules_attribute::apply;
use pointerprint_storage::{JobState, ManualClock, Role, TrainingStatus};

use crate::support::*;

#[apply(both_backends!)]
async fn training_queue_one_job_per_user(db: TestDb) {
    let store = db.store().await;
    assert!(store.claim_job().await.unwrap().is_none());
    let first = store.enqueue_training("u").await.unwrap();
    assert_eq!(
        store.enqueue_training("u").await.unwrap(),
        first,
        "no duplicate"
    );
    let job = store.job(first).await.unwrap().unwrap();
    assert_eq!((job.user_id.as_str(), job.state), ("u", JobState::Queued));
    assert!(job.queued_ms > 1_600_000_000_000);

    let claimed = store.claim_job().await.unwrap().unwrap();
    assert_eq!(claimed.id, first);
    assert_eq!(claimed.state, JobState::Running);
    assert!(
        store.claim_job().await.unwrap().is_none(),
        "nothing else queued"
    );
    assert_eq!(
        store.enqueue_training("u").await.unwrap(),
        first,
        "running counts too"
    );

    store.finish_job(first, None).await.unwrap();
    let done = store.job(first).await.unwrap().unwrap();
    assert_eq!((done.state, done.error), (JobState::Done, None));

    let second = store.enqueue_training("u").await.unwrap();
    assert_ne!(second, first);
    let other = store.enqueue_training("v").await.unwrap();
    assert_eq!(
        store.claim_job().await.unwrap().unwrap().id,
        second,
        "oldest first"
    );
    assert_eq!(store.claim_job().await.unwrap().unwrap().id, other);
    store
        .finish_job(second, Some("not enough actions"))
        .await
        .unwrap();
    let failed = store.job(second).await.unwrap().unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.error.as_deref(), Some("not enough actions"));
    assert!(store.job(12345).await.unwrap().is_none());
    store.finish_job(12345, None).await.unwrap();
}

#[apply(both_backends!)]
async fn a_crashed_nodes_job_is_claimable_again_when_its_lease_runs_out(db: TestDb) {
    let lease = Duration::from_secs(60);
    let clock = ManualClock::starting_at(1_000_000);
    let (running, queued, finished) = {
        let store = db
            .store()
            .await
            .with_job_lease(lease)
            .with_clock(clock.clone());
        let running = store.enqueue_training("crashed").await.unwrap();
        let queued = store.enqueue_training("waiting").await.unwrap();
        let finished = store.enqueue_training("finished").await.unwrap();
        assert_eq!(store.claim_job().await.unwrap().unwrap().id, running);
        store.claim_job().await.unwrap(); // "waiting"…
        store.finish_job(queued, None).await.unwrap(); // …done
        let again = store.enqueue_training("waiting").await.unwrap();
        assert_eq!(store.claim_job().await.unwrap().unwrap().id, finished);
        store.finish_job(finished, Some("boom")).await.unwrap();
        // The process dies with `running` running: no close, no finish.
        (running, again, finished)
    };
    // Another node on the same clock: the queued job at once, the crashed one not while
    // its lease holds, up to and including its last millisecond.
    let other = db
        .store()
        .await
        .with_job_lease(lease)
        .with_clock(clock.clone());
    assert_eq!(other.claim_job().await.unwrap().unwrap().id, queued);
    assert!(
        other.claim_job().await.unwrap().is_none(),
        "lease still held"
    );
    other.finish_job(queued, None).await.unwrap();
    clock.advance(lease);
    assert!(
        other.claim_job().await.unwrap().is_none(),
        "held until its end"
    );
    clock.advance(Duration::from_millis(1));
    let reclaimed = other.claim_job().await.unwrap().unwrap();
    assert_eq!(
        (reclaimed.id, reclaimed.state),
        (running, JobState::Running)
    );
    assert_eq!(
        other.job(finished).await.unwrap().unwrap().state,
        JobState::Failed,
        "finished jobs stay finished"
    );
    assert!(other.claim_job().await.unwrap().is_none());
}

#[apply(both_backends!)]
async fn a_renewed_lease_keeps_the_job(db: TestDb) {
    let lease = Duration::from_secs(60);
    let clock = ManualClock::starting_at(1_000_000);
    let a = db
        .store()
        .await
        .with_job_lease(lease)
        .with_clock(clock.clone());
    let b = db
        .store()
        .await
        .with_job_lease(lease)
        .with_clock(clock.clone());
    let id = a.enqueue_training("u").await.unwrap();
    assert_eq!(a.claim_job().await.unwrap().unwrap().id, id);
    // Renewed before each lease runs out, the job outlives several leases.
    for _ in 0..4 {
        clock.advance(lease - Duration::from_millis(1));
        assert!(a.renew_job(id).await.unwrap());
        assert!(
            b.claim_job().await.unwrap().is_none(),
            "a live job is never taken"
        );
    }
    // Not renewed, it is taken once the last renewal's lease is over.
    clock.advance(lease + Duration::from_millis(1));
    assert_eq!(b.claim_job().await.unwrap().unwrap().id, id);
    b.finish_job(id, None).await.unwrap();
    assert!(
        !a.renew_job(id).await.unwrap(),
        "a finished job has no lease"
    );
    assert!(b.claim_job().await.unwrap().is_none());
}

#[apply(both_backends!)]
async fn keys_and_jobs_take_their_times_from_the_stores_clock(db: TestDb) {
    let clock = ManualClock::starting_at(1_234_567);
    let store = db.store().await.with_clock(clock.clone());
    assert_eq!(store.now_ms(), 1_234_567);
    let key = store.create_key("k", Role::Admin, "hash").await.unwrap();
    assert_eq!(key.created_ms, 1_234_567);
    assert_eq!(
        store.key_by_hash("hash").await.unwrap().unwrap().created_ms,
        1_234_567
    );
    clock.advance(Duration::from_millis(10));
    let job = store.enqueue_training("u").await.unwrap();
    assert_eq!(store.job(job).await.unwrap().unwrap().queued_ms, 1_234_577);
    assert_eq!(store.now_ms(), 1_234_577);

    // Without a clock of its own a store tells the system's time.
    let system = db.store().await;
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let now = system.now_ms();
    assert!((before..before + 60_000).contains(&now), "{before} {now}");
}

#[apply(both_backends!)]
async fn training_status_counts_events_models_and_failures(db: TestDb) {
    let store = db.store().await;
    assert_eq!(
        store.training_status("u").await.unwrap(),
        TrainingStatus::default()
    );
    open_enrolment(&store, "u", "s").await;
    open_enrolment(&store, "v", "t").await;
    store
        .insert_batch(&batch("u", "s", 0, &events(30, 0.0)))
        .await
        .unwrap();
    store
        .insert_batch(&batch("u", "s", 1, &events(12, 0.0)))
        .await
        .unwrap();
    store
        .insert_batch(&batch("v", "t", 0, &events(99, 0.0)))
        .await
        .unwrap();
    let job = store.enqueue_training("u").await.unwrap();
    let status = store.training_status("u").await.unwrap();
    assert_eq!((status.events, status.active_job), (42, true));
    store.claim_job().await.unwrap();
    store.finish_job(job, Some("too little")).await.unwrap();
    store.put_model("u", b"m", "{}", 1).await.unwrap();
    assert_eq!(
        store.training_status("u").await.unwrap(),
        TrainingStatus {
            events: 42,
            has_model: true,
            active_job: false,
            failed_jobs: 1
        }
    );
}
