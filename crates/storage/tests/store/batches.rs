//! Event batches: stored once, read back in order, owned by one user, purged.

use macro_rules_attribute::apply;
use pointerprint_core::{Event, Screen};
use pointerprint_storage::{Inserted, StorageError, Store};

use crate::support::*;

#[apply(both_backends!)]
async fn duplicate_batch_is_stored_once(db: TestDb) {
    let store = db.store().await;
    let ev = events(100, 10.0);
    assert_eq!(
        store
            .insert_batch(&batch("alice", "s1", 0, &ev))
            .await
            .unwrap(),
        Inserted::Stored
    );
    let other = events(5, 500.0);
    assert_eq!(
        store
            .insert_batch(&batch("alice", "s1", 0, &other))
            .await
            .unwrap(),
        Inserted::Duplicate
    );
    let s = store.session_events("s1").await.unwrap().unwrap();
    assert_eq!(s.batches, 1);
    assert_eq!(s.recording.events, ev, "the first copy is kept");
    let u = store.user("alice").await.unwrap().unwrap();
    assert_eq!((u.batches, u.events, u.sessions), (1, 100, 1));
}

/// Stores batches 2, 0 and 1 of session "s" of alice, in that order, 1 with a screen.
async fn three_batches_out_of_order(store: &Store) -> ([Vec<Event>; 3], Screen) {
    let b0 = events(3, 0.0);
    let b1 = events(4, 1000.0);
    let b2 = events(5, 2000.0);
    let screen = Screen {
        width: 1920.0,
        height: 1080.0,
        device_pixel_ratio: 2.0,
    };
    let mut with_screen = batch("alice", "s", 1, &b1);
    with_screen.screen = Some(screen);
    store
        .insert_batch(&batch("alice", "s", 2, &b2))
        .await
        .unwrap();
    store
        .insert_batch(&batch("alice", "s", 0, &b0))
        .await
        .unwrap();
    store.insert_batch(&with_screen).await.unwrap();
    ([b0, b1, b2], screen)
}

#[apply(both_backends!)]
async fn session_events_are_in_seq_order_whatever_the_arrival_order(db: TestDb) {
    let store = db.store().await;
    let ([b0, b1, b2], screen) = three_batches_out_of_order(&store).await;

    let s = store.session_events("s").await.unwrap().unwrap();
    assert_eq!(s.session_id, "s");
    assert_eq!(s.user_id, "alice");
    assert_eq!(s.batches, 3);
    let expected: Vec<Event> = [b0, b1, b2].concat();
    assert_eq!(s.recording.events, expected);
    assert_eq!(
        s.recording.screen,
        Some(screen),
        "screen of the last batch with one"
    );

    assert!(store.session_events("nope").await.unwrap().is_none());
}

#[apply(both_backends!)]
async fn a_session_belongs_to_one_user(db: TestDb) {
    let store = db.store().await;
    let ev = events(2, 0.0);
    store
        .insert_batch(&batch("alice", "s", 0, &ev))
        .await
        .unwrap();
    let r = store.insert_batch(&batch("mallory", "s", 1, &ev)).await;
    assert!(matches!(r, Err(StorageError::Conflict(_))), "{r:?}");
    let r = store.insert_batch(&batch("mallory", "s", 0, &ev)).await;
    assert!(matches!(r, Err(StorageError::Conflict(_))), "{r:?}");
    assert_eq!(store.session_events("s").await.unwrap().unwrap().batches, 1);
    assert!(store.user("mallory").await.unwrap().is_none());
}

#[apply(both_backends!)]
async fn user_sessions_in_order_of_first_arrival(db: TestDb) {
    let store = db.store().await;
    let ev = |x| events(2, x);
    let (a, b, c, d) = (ev(1.0), ev(2.0), ev(3.0), ev(4.0));
    // "zeta" arrives first, then "alpha", then more of "zeta".
    store
        .insert_batch(&batch("u", "zeta", 0, &a))
        .await
        .unwrap();
    store
        .insert_batch(&batch("u", "alpha", 3, &b))
        .await
        .unwrap();
    store
        .insert_batch(&batch("other", "x", 0, &c))
        .await
        .unwrap();
    store
        .insert_batch(&batch("u", "zeta", 1, &d))
        .await
        .unwrap();
    store
        .insert_batch(&batch("u", "alpha", 1, &c))
        .await
        .unwrap();

    let sessions = store.user_sessions("u").await.unwrap();
    let ids: Vec<&str> = sessions.iter().map(|s| s.session_id.as_str()).collect();
    assert_eq!(ids, ["zeta", "alpha"]);
    assert_eq!(sessions[0].recording.events, [a.clone(), d].concat());
    assert_eq!(
        sessions[1].recording.events,
        [c, b].concat(),
        "seq 1 before seq 3"
    );
    assert!(sessions.iter().all(|s| s.user_id == "u" && s.batches == 2));
    assert!(store.user_sessions("nobody").await.unwrap().is_empty());
}

#[apply(both_backends!)]
async fn retention_purge_removes_old_batches_only(db: TestDb) {
    let store = db.store().await;
    for seq in 0..10 {
        let ev = events(7, seq as f64);
        let mut b = batch("u", "s", seq, &ev);
        b.received_ms = seq * 100; // 0, 100, …, 900
        store.insert_batch(&b).await.unwrap();
    }
    assert_eq!(store.purge_events_before(0).await.unwrap(), 0);
    assert_eq!(store.purge_events_before(450).await.unwrap(), 5 * 7);
    let s = store.session_events("s").await.unwrap().unwrap();
    assert_eq!(s.batches, 5);
    assert_eq!(s.recording.events[0], events(7, 5.0)[0]);
    assert_eq!(store.purge_events_before(450).await.unwrap(), 0);
    assert_eq!(store.purge_events_before(i64::MAX).await.unwrap(), 5 * 7);
    assert!(store.session_events("s").await.unwrap().is_none());
}

#[apply(both_backends!)]
async fn purge_spans_several_chunks(db: TestDb) {
    let store = db.store().await;
    let ev = events(1, 0.0);
    for seq in 0..4500 {
        store
            .insert_batch(&batch("u", "s", seq, &ev))
            .await
            .unwrap();
    }
    assert_eq!(store.purge_events_before(i64::MAX).await.unwrap(), 4500);
    assert!(store.user("u").await.unwrap().is_none());
}

#[apply(both_backends!)]
async fn session_events_after_returns_only_the_newer_batches_and_counts_them_all(db: TestDb) {
    let store = db.store().await;
    assert_eq!(store.session_events_after("s", None).await.unwrap(), None);
    let ([b0, b1, b2], screen) = three_batches_out_of_order(&store).await;

    let all = store
        .session_events_after("s", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(all.user_id, "alice");
    assert_eq!(
        all.recording.events,
        [b0.clone(), b1.clone(), b2.clone()].concat()
    );
    assert_eq!(all.recording.screen, Some(screen));
    assert_eq!(
        (all.last_seq, all.new_batches, all.total_batches),
        (Some(2), 3, 3)
    );

    let tail = store
        .session_events_after("s", Some(0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tail.recording.events, [b1, b2.clone()].concat());
    assert_eq!(tail.recording.screen, Some(screen));
    assert_eq!(
        (tail.last_seq, tail.new_batches, tail.total_batches),
        (Some(2), 2, 3)
    );
    let tail = store
        .session_events_after("s", Some(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tail.recording.events, b2);
    assert_eq!(tail.recording.screen, None, "batch 2 had no screen");

    // Nothing new: the owner and the count, no events.
    let none = store
        .session_events_after("s", Some(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(none.user_id, "alice");
    assert!(none.recording.events.is_empty());
    assert_eq!(
        (none.last_seq, none.new_batches, none.total_batches),
        (None, 0, 3)
    );

    // A batch with a lower seq than the last one read arrives late: nothing new after 2,
    // but one batch more in all.
    let b5 = events(2, 5000.0);
    store
        .insert_batch(&batch("alice", "s", 5, &b5))
        .await
        .unwrap();
    let tail = store
        .session_events_after("s", Some(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (tail.last_seq, tail.new_batches, tail.total_batches),
        (Some(5), 1, 4)
    );
    store
        .insert_batch(&batch("alice", "s", 4, &events(1, 0.0)))
        .await
        .unwrap();
    let late = store
        .session_events_after("s", Some(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (late.last_seq, late.new_batches, late.total_batches),
        (None, 0, 5)
    );
    assert_eq!(
        store.session_events_after("t", Some(0)).await.unwrap(),
        None
    );
}

#[apply(both_backends!)]
async fn session_events_after_decrypts_only_the_batches_it_returns(db: TestDb) {
    let store = db.store().await;
    for seq in 0..3 {
        store
            .insert_batch(&batch("u", "s", seq, &events(4, seq as f64)))
            .await
            .unwrap();
    }
    // Damage batch 0: reading the whole session fails, reading after it does not.
    let raw = db.raw();
    let mut payload = raw.batch_payload("s", 0).await;
    payload[30] ^= 0x01;
    raw.set_batch_payload("s", 0, &payload).await;
    assert!(matches!(
        store.session_events("s").await,
        Err(StorageError::Crypto(_))
    ));
    assert!(matches!(
        store.session_events_after("s", None).await,
        Err(StorageError::Crypto(_))
    ));
    let tail = store
        .session_events_after("s", Some(0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        tail.recording.events,
        [events(4, 1.0), events(4, 2.0)].concat()
    );
    assert_eq!((tail.new_batches, tail.total_batches), (2, 3));
}
