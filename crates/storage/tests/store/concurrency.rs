//! Many writers and claimers at once.

use macro_rules_attribute::apply;
use pointerprint_storage::{Inserted, NewBatch};

use crate::support::*;

#[apply(both_backends!)]
async fn concurrent_inserts_are_all_stored_exactly_once(db: TestDb) {
    let store = db.store().await;
    const TASKS: i64 = 50;
    const BATCHES: i64 = 20;
    const EVENTS: usize = 25;
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let user = format!("user{}", task % 10);
            let session = format!("session{task}");
            let mut stored = 0;
            for seq in 0..BATCHES {
                let ev = events(EVENTS, (task * 1000 + seq) as f64);
                let b = NewBatch {
                    user_id: &user,
                    session_id: &session,
                    seq,
                    received_ms: seq,
                    events: &ev,
                    screen: None,
                };
                if store.insert_batch(&b).await.unwrap() == Inserted::Stored {
                    stored += 1;
                }
                // A client retry: never stored twice.
                assert_eq!(store.insert_batch(&b).await.unwrap(), Inserted::Duplicate);
            }
            stored
        }));
    }
    let mut stored = 0;
    for h in handles {
        stored += h.await.unwrap();
    }
    assert_eq!(stored, TASKS * BATCHES);
    let users = store.users().await.unwrap();
    assert_eq!(users.len(), 10);
    assert_eq!(
        users.iter().map(|u| u.batches).sum::<u64>(),
        (TASKS * BATCHES) as u64
    );
    assert_eq!(
        users.iter().map(|u| u.events).sum::<u64>(),
        (TASKS * BATCHES) as u64 * EVENTS as u64
    );
    assert!(users.iter().all(|u| u.sessions == 5));
    for task in [0, 17, 49] {
        let s = store
            .session_events(&format!("session{task}"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(s.batches, BATCHES as u64);
        let firsts: Vec<f64> = s
            .recording
            .events
            .iter()
            .step_by(EVENTS)
            .map(|e| e.x)
            .collect();
        let expected: Vec<f64> = (0..BATCHES).map(|seq| (task * 1000 + seq) as f64).collect();
        assert_eq!(firsts, expected);
    }
}

#[apply(both_backends!)]
async fn concurrent_enqueue_and_claim_never_duplicate(db: TestDb) {
    let store = db.store().await;
    let mut handles = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            store
                .enqueue_training(&format!("u{}", i % 4))
                .await
                .unwrap()
        }));
    }
    let mut ids = Vec::new();
    for h in handles {
        ids.push(h.await.unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 4, "one job per user");
    let mut claims = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        claims.push(tokio::spawn(
            async move { store.claim_job().await.unwrap() },
        ));
    }
    let mut claimed: Vec<i64> = Vec::new();
    for c in claims {
        if let Some(job) = c.await.unwrap() {
            claimed.push(job.id);
        }
    }
    claimed.sort_unstable();
    assert_eq!(claimed, ids, "each job claimed exactly once");
}

#[apply(both_backends!)]
async fn two_stores_claiming_at_once_never_get_the_same_job(db: TestDb) {
    // Two stores on one database stand for two nodes, each with several workers.
    let nodes = [db.store().await, db.store().await];
    let mut queued = Vec::new();
    for u in 0..40 {
        queued.push(
            nodes[u % 2]
                .enqueue_training(&format!("u{u}"))
                .await
                .unwrap(),
        );
    }
    let mut workers = Vec::new();
    for w in 0..8 {
        let store = nodes[w % 2].clone();
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(job) = store.claim_job().await.unwrap() {
                mine.push(job.id);
                store.finish_job(job.id, None).await.unwrap();
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    for w in workers {
        claimed.extend(w.await.unwrap());
    }
    claimed.sort_unstable();
    assert_eq!(claimed, queued, "every job claimed, none twice");
}
