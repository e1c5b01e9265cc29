//! Models and users: what the store holds per user, erasure and reset.

use macro_rules_attribute::apply;
use pointerprint_storage::Erased;

use crate::support::*;

#[apply(both_backends!)]
async fn models_put_get_replace(db: TestDb) {
    let store = db.store().await;
    assert!(store.model("u").await.unwrap().is_none());
    store
        .put_model("u", b"model v1", r#"{"v":1}"#, 10)
        .await
        .unwrap();
    store.put_model("w", b"other", "{}", 11).await.unwrap();
    let m = store.model("u").await.unwrap().unwrap();
    assert_eq!(m.bytes, b"model v1");
    assert_eq!(m.summary_json, r#"{"v":1}"#);
    assert_eq!(m.trained_at_ms, 10);
    store
        .put_model("u", &[0u8; 100_000], r#"{"v":2}"#, 20)
        .await
        .unwrap();
    let m = store.model("u").await.unwrap().unwrap();
    assert_eq!(m.bytes, vec![0u8; 100_000]);
    assert_eq!(
        (m.summary_json.as_str(), m.trained_at_ms),
        (r#"{"v":2}"#, 20)
    );
    assert_eq!(store.model("w").await.unwrap().unwrap().bytes, b"other");
}

#[apply(both_backends!)]
async fn users_exist_once_they_have_a_batch_model_or_decision(db: TestDb) {
    let store = db.store().await;
    assert!(store.users().await.unwrap().is_empty());
    let ev = events(10, 0.0);
    store
        .insert_batch(&batch("b-user", "s1", 0, &ev))
        .await
        .unwrap();
    store
        .insert_batch(&batch("b-user", "s1", 1, &ev[..3]))
        .await
        .unwrap();
    store
        .insert_batch(&batch("b-user", "s2", 0, &ev))
        .await
        .unwrap();
    store.put_model("m-user", b"m", "{}", 77).await.unwrap();
    store
        .insert_decision(&decision("d-user", None, 5))
        .await
        .unwrap();
    store.enqueue_training("j-user").await.unwrap(); // a job alone makes no user

    let users = store.users().await.unwrap();
    let ids: Vec<&str> = users.iter().map(|u| u.user_id.as_str()).collect();
    assert_eq!(ids, ["b-user", "d-user", "m-user"]);
    let b = &users[0];
    assert_eq!((b.events, b.batches, b.sessions), (23, 3, 2));
    assert_eq!(b.model_trained_at_ms, None);
    assert_eq!(users[2].model_trained_at_ms, Some(77));
    assert_eq!(
        (users[1].events, users[1].batches, users[1].sessions),
        (0, 0, 0)
    );

    assert_eq!(store.user("b-user").await.unwrap().as_ref(), Some(b));
    assert_eq!(
        store.user("m-user").await.unwrap().as_ref(),
        Some(&users[2])
    );
    assert_eq!(
        store.user("d-user").await.unwrap().as_ref(),
        Some(&users[1])
    );
    assert!(store.user("j-user").await.unwrap().is_none());
    assert!(store.user("nobody").await.unwrap().is_none());
}

#[apply(both_backends!)]
async fn erase_removes_everything_of_one_user_and_nothing_of_another(db: TestDb) {
    let store = db.store().await;
    let ev = events(10, 0.0);
    for user in ["alice", "bob"] {
        for (session, seq) in [("1", 0), ("1", 1), ("2", 0)] {
            let session = format!("{user}-{session}");
            store
                .insert_batch(&batch(user, &session, seq, &ev))
                .await
                .unwrap();
        }
        store.put_model(user, b"m", "{}", 1).await.unwrap();
        store
            .insert_decision(&decision(user, None, 1))
            .await
            .unwrap();
        store
            .insert_decision(&decision(user, Some("x"), 2))
            .await
            .unwrap();
    }
    let alice_job = store.enqueue_training("alice").await.unwrap();
    let bob_job = store.enqueue_training("bob").await.unwrap();
    let bob_before = store.user("bob").await.unwrap();

    let erased = store.erase_user("alice").await.unwrap();
    assert_eq!(
        erased,
        Erased {
            batches: 3,
            events: 30,
            models: 1,
            decisions: 2
        }
    );
    assert!(store.user("alice").await.unwrap().is_none());
    assert!(store.user_sessions("alice").await.unwrap().is_empty());
    assert!(store.session_events("alice-1").await.unwrap().is_none());
    assert!(store.model("alice").await.unwrap().is_none());
    assert!(
        store
            .decisions(&query(Some("alice"), 10))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.job(alice_job).await.unwrap().is_none());

    assert_eq!(store.user("bob").await.unwrap(), bob_before);
    assert_eq!(store.user_sessions("bob").await.unwrap().len(), 2);
    assert!(store.model("bob").await.unwrap().is_some());
    assert_eq!(store.decisions(&query(None, 10)).await.unwrap().len(), 2);
    assert!(store.job(bob_job).await.unwrap().is_some());

    assert_eq!(store.erase_user("alice").await.unwrap(), Erased::default());
    // The next job of an erased user gets a fresh id, never the erased one.
    assert!(store.enqueue_training("alice").await.unwrap() > bob_job);
}

#[apply(both_backends!)]
async fn reset_starts_enrolment_over_and_keeps_the_audit_log(db: TestDb) {
    let store = db.store().await;
    store
        .insert_batch(&batch("carol", "carol-1", 0, &events(10, 0.0)))
        .await
        .unwrap();
    store.put_model("carol", b"m", "{}", 1).await.unwrap();
    store
        .insert_decision(&decision("carol", None, 1))
        .await
        .unwrap();
    let job = store.enqueue_training("carol").await.unwrap();

    let reset = store.reset_user("carol").await.unwrap();
    assert_eq!(
        reset,
        Erased {
            batches: 1,
            events: 10,
            models: 1,
            decisions: 0
        }
    );
    assert!(store.model("carol").await.unwrap().is_none());
    assert!(store.user_sessions("carol").await.unwrap().is_empty());
    assert!(store.job(job).await.unwrap().is_none());
    assert_eq!(
        store
            .decisions(&query(Some("carol"), 10))
            .await
            .unwrap()
            .len(),
        1
    );
    let stats = store.user("carol").await.unwrap().unwrap();
    assert_eq!((stats.events, stats.model_trained_at_ms), (0, None));
}
