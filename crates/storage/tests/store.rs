//! The store against a real SQLite file in a fresh temporary directory per test.

use std::path::{Path, PathBuf};

use pointerprint_core::{Button, Event, EventKind, Screen};
use pointerprint_storage::{
    AccountKind, Cipher, DecisionCount, DecisionQuery, Erased, Inserted, JobState, NewBatch,
    NewDecision, Role, StorageError, Store,
};
use tempfile::TempDir;

const KEY: [u8; 32] = [0x42; 32];

fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("pointerprint.db")
}

async fn fresh() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&db_path(&dir), Cipher::new(KEY))
        .await
        .unwrap();
    (dir, store)
}

/// `n` move events whose x starts at `x0`, so batches can be told apart.
fn events(n: usize, x0: f64) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let kind = if i % 10 == 9 {
                EventKind::Wheel { dx: 0.0, dy: 3.0 }
            } else {
                EventKind::Move
            };
            Event::new(
                i as f64 * 8.0,
                x0 + i as f64,
                100.0 + i as f64,
                kind,
                Button::None,
            )
        })
        .collect()
}

fn batch<'a>(user: &'a str, session: &'a str, seq: i64, ev: &'a [Event]) -> NewBatch<'a> {
    NewBatch {
        user_id: user,
        session_id: session,
        seq,
        received_ms: 1_000 + seq,
        events: ev,
        screen: None,
    }
}

fn decision<'a>(user: &'a str, session: Option<&'a str>, created_ms: i64) -> NewDecision<'a> {
    NewDecision {
        user_id: user,
        session_id: session,
        decision: "accept",
        score: 0.75,
        threshold: 0.5,
        actions: 12,
        reasons_json: r#"["typical"]"#,
        created_ms,
    }
}

/// The newest `limit` decisions, of one user or of all.
fn query(user_id: Option<&str>, limit: u32) -> DecisionQuery<'_> {
    DecisionQuery {
        user_id,
        limit,
        ..DecisionQuery::default()
    }
}

// ---------------------------------------------------------------- API keys

#[tokio::test]
async fn api_keys_create_find_list_revoke() {
    let (_dir, store) = fresh().await;
    let a = store
        .create_key("ingest-1", Role::Ingest, "aa11")
        .await
        .unwrap();
    let b = store.create_key("ops", Role::Admin, "bb22").await.unwrap();
    assert_eq!(a.name, "ingest-1");
    assert_eq!(a.role, Role::Ingest);
    assert!(!a.revoked);
    assert!(a.created_ms > 1_600_000_000_000, "system clock in ms");
    assert_ne!(a.id, b.id);

    assert_eq!(store.key_by_hash("aa11").await.unwrap(), Some(a.clone()));
    assert_eq!(store.key_by_hash("cc33").await.unwrap(), None);
    assert_eq!(store.list_keys().await.unwrap(), vec![a.clone(), b.clone()]);

    assert!(store.revoke_key(a.id).await.unwrap());
    assert!(
        store.revoke_key(a.id).await.unwrap(),
        "revoking twice is fine"
    );
    assert!(!store.revoke_key(9999).await.unwrap());
    let revoked = store.key_by_hash("aa11").await.unwrap().unwrap();
    assert!(revoked.revoked);
    assert!(!store.key_by_hash("bb22").await.unwrap().unwrap().revoked);

    let dup = store.create_key("again", Role::Secret, "bb22").await;
    assert!(matches!(dup, Err(StorageError::Conflict(_))), "{dup:?}");
    assert_eq!(store.list_keys().await.unwrap().len(), 2);
}

#[test]
fn roles_have_lowercase_names() {
    for (role, name) in [
        (Role::Ingest, "ingest"),
        (Role::Secret, "secret"),
        (Role::Admin, "admin"),
    ] {
        assert_eq!(role.to_string(), name);
        assert_eq!(name.parse::<Role>().unwrap(), role);
    }
    assert!("Admin".parse::<Role>().is_err());
}

// ---------------------------------------------------------------- batches

#[tokio::test]
async fn duplicate_batch_is_stored_once() {
    let (_dir, store) = fresh().await;
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

#[tokio::test]
async fn session_events_are_in_seq_order_whatever_the_arrival_order() {
    let (_dir, store) = fresh().await;
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

#[tokio::test]
async fn a_session_belongs_to_one_user() {
    let (_dir, store) = fresh().await;
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

#[tokio::test]
async fn user_sessions_in_order_of_first_arrival() {
    let (_dir, store) = fresh().await;
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

#[tokio::test]
async fn retention_purge_removes_old_batches_only() {
    let (_dir, store) = fresh().await;
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

#[tokio::test]
async fn purge_spans_several_chunks() {
    let (_dir, store) = fresh().await;
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

// ---------------------------------------------------------------- models, users

#[tokio::test]
async fn models_put_get_replace() {
    let (_dir, store) = fresh().await;
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

#[tokio::test]
async fn users_exist_once_they_have_a_batch_model_or_decision() {
    let (_dir, store) = fresh().await;
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

#[tokio::test]
async fn erase_removes_everything_of_one_user_and_nothing_of_another() {
    let (_dir, store) = fresh().await;
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

#[tokio::test]
async fn reset_starts_enrolment_over_and_keeps_the_audit_log() {
    let (_dir, store) = fresh().await;
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

// ---------------------------------------------------------------- decisions

#[tokio::test]
async fn decisions_newest_first_with_limit() {
    let (_dir, store) = fresh().await;
    let mut ids = Vec::new();
    for (user, t) in [("a", 10), ("b", 30), ("a", 20), ("a", 40), ("b", 40)] {
        ids.push(
            store
                .insert_decision(&decision(user, Some("s"), t))
                .await
                .unwrap(),
        );
    }
    let all = store.decisions(&query(None, 100)).await.unwrap();
    let times: Vec<(i64, &str)> = all
        .iter()
        .map(|d| (d.created_ms, d.user_id.as_str()))
        .collect();
    // Same time: the later insert first.
    assert_eq!(
        times,
        [(40, "b"), (40, "a"), (30, "b"), (20, "a"), (10, "a")]
    );
    assert_eq!(store.decisions(&query(None, 2)).await.unwrap().len(), 2);
    assert!(store.decisions(&query(None, 0)).await.unwrap().is_empty());

    let a = store.decisions(&query(Some("a"), 2)).await.unwrap();
    assert_eq!(a.iter().map(|d| d.created_ms).collect::<Vec<_>>(), [40, 20]);
    let d = &a[0];
    assert_eq!(d.id, ids[3]);
    assert_eq!(d.session_id.as_deref(), Some("s"));
    assert_eq!(d.decision, "accept");
    assert_eq!((d.score, d.threshold, d.actions), (0.75, 0.5, 12));
    assert_eq!(d.reasons_json, r#"["typical"]"#);

    store
        .insert_decision(&decision("c", None, 1))
        .await
        .unwrap();
    let c = store.decisions(&query(Some("c"), 5)).await.unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].session_id, None);
}

#[tokio::test]
async fn decisions_filter_by_user_kind_and_time_with_pages_and_counts() {
    let (_dir, store) = fresh().await;
    for (i, (user, kind)) in [
        ("a", "accept"),
        ("a", "reject"),
        ("b", "accept"),
        ("a", "accept"),
        ("b", "insufficient_data"),
        ("a", "reject"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut d = decision(user, None, 3_600_000 * i as i64 + 5);
        d.decision = kind;
        store.insert_decision(&d).await.unwrap();
    }
    let q = DecisionQuery {
        user_id: Some("a"),
        decision: Some("reject"),
        ..DecisionQuery::default()
    };
    let rejects = store.decisions(&q).await.unwrap();
    assert_eq!(
        rejects.iter().map(|d| d.created_ms).collect::<Vec<_>>(),
        [18_000_005, 3_600_005]
    );
    assert_eq!(store.count_decisions(&q).await.unwrap(), 2);

    // Time range: from inclusive, to exclusive.
    let q = DecisionQuery {
        from_ms: Some(3_600_005),
        to_ms: Some(14_400_005),
        ..DecisionQuery::default()
    };
    let hours: Vec<i64> = store
        .decisions(&q)
        .await
        .unwrap()
        .iter()
        .map(|d| d.created_ms / 3_600_000)
        .collect();
    assert_eq!(hours, [3, 2, 1]);
    assert_eq!(store.count_decisions(&q).await.unwrap(), 3);

    // Pages of two cover everything once; the count ignores the page.
    let mut seen = Vec::new();
    for page in 0..4 {
        let q = DecisionQuery {
            offset: page * 2,
            limit: 2,
            ..DecisionQuery::default()
        };
        seen.extend(store.decisions(&q).await.unwrap().into_iter().map(|d| d.id));
        assert_eq!(store.count_decisions(&q).await.unwrap(), 6);
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 6);

    // Two-hour buckets from the second hour on.
    let counts = store.decision_counts(3_600_000, 7_200_000).await.unwrap();
    let expect = [
        (0, "reject", 1),
        (7_200_000, "accept", 2),
        (14_400_000, "insufficient_data", 1),
        (14_400_000, "reject", 1),
    ];
    assert_eq!(
        counts,
        expect
            .iter()
            .map(|&(bucket_ms, decision, count)| DecisionCount {
                bucket_ms,
                decision: decision.to_string(),
                count,
            })
            .collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------- accounts

#[tokio::test]
async fn accounts_are_unique_per_kind_and_lock_after_repeated_failures() {
    let (_dir, store) = fresh().await;
    let admin = store
        .create_account(AccountKind::Admin, "ada", "$argon2id$hash1", 100)
        .await
        .unwrap();
    assert_eq!((admin.failed_logins, admin.locked_until_ms), (0, 0));
    // The same name as a demo account is another account.
    let demo = store
        .create_account(AccountKind::Demo, "ada", "$argon2id$hash2", 100)
        .await
        .unwrap();
    assert_ne!(admin.id, demo.id);
    assert!(matches!(
        store
            .create_account(AccountKind::Admin, "ada", "$argon2id$other", 200)
            .await,
        Err(StorageError::Conflict(_))
    ));
    assert_eq!(
        store.account(AccountKind::Admin, "ada").await.unwrap(),
        Some(admin.clone())
    );
    assert_eq!(
        store.account(AccountKind::Admin, "bob").await.unwrap(),
        None
    );
    assert_eq!(store.accounts(AccountKind::Demo).await.unwrap(), [demo]);

    // Three failures with a limit of three: locked for a minute, count back at zero.
    for n in 1..=2 {
        let a = store
            .record_login_failure(admin.id, 1_000, 3, 60_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((a.failed_logins, a.locked_until_ms), (n, 0));
    }
    let locked = store
        .record_login_failure(admin.id, 2_000, 3, 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((locked.failed_logins, locked.locked_until_ms), (0, 62_000));
    assert_eq!(
        store
            .record_login_failure(9_999, 2_000, 3, 60_000)
            .await
            .unwrap(),
        None
    );

    // A success resets the count; a new password lifts the lock.
    store
        .record_login_failure(admin.id, 3_000, 3, 60_000)
        .await
        .unwrap();
    store.record_login_success(admin.id).await.unwrap();
    let a = store
        .account(AccountKind::Admin, "ada")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.failed_logins, a.locked_until_ms), (0, 62_000));
    assert!(store.set_password(admin.id, "$argon2id$new").await.unwrap());
    let a = store
        .account(AccountKind::Admin, "ada")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (a.password_hash.as_str(), a.locked_until_ms),
        ("$argon2id$new", 0)
    );
    assert!(!store.set_password(9_999, "$argon2id$x").await.unwrap());
}

#[tokio::test]
async fn web_sessions_expire_and_end() {
    let (_dir, store) = fresh().await;
    let admin = store
        .create_account(AccountKind::Admin, "ada", "$argon2id$hash", 0)
        .await
        .unwrap();
    store
        .create_web_session("t1", admin.id, "csrf1", 1_000, 5_000)
        .await
        .unwrap();
    store
        .create_web_session("t2", admin.id, "csrf2", 1_000, 9_000)
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_web_session("t1", admin.id, "x", 1_000, 5_000)
            .await,
        Err(StorageError::Conflict(_))
    ));
    assert!(matches!(
        store
            .create_web_session("t3", 9_999, "x", 1_000, 5_000)
            .await,
        Err(StorageError::Conflict(_))
    ));

    let s = store.web_session("t1", 4_999).await.unwrap().unwrap();
    assert_eq!(s.account, admin);
    assert_eq!(
        (s.csrf_token.as_str(), s.created_ms, s.expires_ms),
        ("csrf1", 1_000, 5_000)
    );
    assert_eq!(store.web_session("t1", 5_000).await.unwrap(), None);
    assert_eq!(store.web_session("nope", 0).await.unwrap(), None);

    assert_eq!(store.purge_web_sessions(5_000).await.unwrap(), 1);
    assert!(store.web_session("t2", 6_000).await.unwrap().is_some());
    store.delete_web_session("t2").await.unwrap();
    assert_eq!(store.web_session("t2", 6_000).await.unwrap(), None);
}

// ---------------------------------------------------------------- jobs

#[tokio::test]
async fn training_queue_one_job_per_user() {
    let (_dir, store) = fresh().await;
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

#[tokio::test]
async fn a_running_job_is_requeued_when_the_store_is_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let (running, queued, finished) = {
        let store = Store::open_sqlite(&path, Cipher::new(KEY)).await.unwrap();
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
    let store = Store::open_sqlite(&path, Cipher::new(KEY)).await.unwrap();
    assert_eq!(
        store.job(running).await.unwrap().unwrap().state,
        JobState::Queued
    );
    assert_eq!(
        store.job(queued).await.unwrap().unwrap().state,
        JobState::Queued
    );
    assert_eq!(
        store.job(finished).await.unwrap().unwrap().state,
        JobState::Failed
    );
    assert_eq!(store.claim_job().await.unwrap().unwrap().id, running);
    assert_eq!(store.claim_job().await.unwrap().unwrap().id, queued);
}

// ---------------------------------------------------------------- settings, reopen

#[tokio::test]
async fn settings_round_trip() {
    let (_dir, store) = fresh().await;
    assert_eq!(store.settings().await.unwrap(), None);
    store
        .put_settings(r#"{"retention_days":30}"#)
        .await
        .unwrap();
    store.put_settings(r#"{"retention_days":7}"#).await.unwrap();
    assert_eq!(
        store.settings().await.unwrap().as_deref(),
        Some(r#"{"retention_days":7}"#)
    );
}

#[tokio::test]
async fn everything_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/p.db");
    let ev = events(50, 3.0);
    {
        let store = Store::open_sqlite(&path, Cipher::new(KEY)).await.unwrap();
        store.insert_batch(&batch("u", "s", 0, &ev)).await.unwrap();
        store.put_model("u", b"m", "{}", 1).await.unwrap();
        store.create_key("k", Role::Secret, "h").await.unwrap();
        store.put_settings("{}").await.unwrap();
        store
            .insert_decision(&decision("u", None, 1))
            .await
            .unwrap();
        store.close().await;
    }
    let store = Store::open_sqlite(&path, Cipher::new(KEY)).await.unwrap();
    assert_eq!(
        store
            .session_events("s")
            .await
            .unwrap()
            .unwrap()
            .recording
            .events,
        ev
    );
    assert_eq!(store.model("u").await.unwrap().unwrap().bytes, b"m");
    assert_eq!(
        store.key_by_hash("h").await.unwrap().unwrap().role,
        Role::Secret
    );
    assert_eq!(store.settings().await.unwrap().as_deref(), Some("{}"));
    assert_eq!(store.decisions(&query(None, 5)).await.unwrap().len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "database readable by its owner only");
    }
}

// ---------------------------------------------------------------- encryption

fn files_contain(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            if bytes.windows(needle.len()).any(|w| w == needle) {
                hits.push(path);
            }
        }
    }
    hits
}

#[tokio::test]
async fn database_files_hold_no_plaintext_coordinates() {
    let (dir, store) = fresh().await;
    let secret_x = 987654.25f64;
    let secret_y = 123456.75f64;
    let ev: Vec<Event> = (0..100)
        .map(|i| {
            Event::new(
                f64::from(i),
                secret_x,
                secret_y,
                EventKind::Move,
                Button::Left,
            )
        })
        .collect();
    store
        .insert_batch(&batch("plaintext-user-marker", "s", 0, &ev))
        .await
        .unwrap();
    store
        .put_model("plaintext-user-marker", b"MODELBYTES-987654", "{}", 1)
        .await
        .unwrap();

    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n.ends_with("-wal")),
        "WAL file present: {names:?}"
    );
    // The scan does see what is stored in the clear (the user id)…
    assert!(!files_contain(dir.path(), b"plaintext-user-marker").is_empty());
    // …but no coordinate, in any encoding, nor the model bytes.
    for needle in [
        b"987654".as_slice(),
        b"123456",
        &secret_x.to_le_bytes(),
        &secret_x.to_be_bytes(),
        &secret_y.to_le_bytes(),
        &(secret_x as f32).to_le_bytes(),
        b"MODELBYTES",
    ] {
        assert_eq!(
            files_contain(dir.path(), needle),
            Vec::<PathBuf>::new(),
            "{needle:?}"
        );
    }

    let s = store.session_events("s").await.unwrap().unwrap();
    assert_eq!(s.recording.events, ev);
    assert_eq!(s.recording.events[0].x, secret_x);

    // Still none after the WAL is checkpointed into the main file.
    store.close().await;
    for needle in [b"987654".as_slice(), &secret_x.to_le_bytes(), b"MODELBYTES"] {
        assert_eq!(files_contain(dir.path(), needle), Vec::<PathBuf>::new());
    }
}

#[tokio::test]
async fn wrong_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = Store::open_sqlite(&path, Cipher::new(KEY)).await.unwrap();
    store
        .insert_batch(&batch("u", "s", 0, &events(3, 0.0)))
        .await
        .unwrap();
    store.close().await;
    let wrong = Store::open_sqlite(&path, Cipher::new([7; 32])).await;
    match wrong {
        Err(StorageError::Crypto(msg)) => assert!(msg.contains("wrong key"), "{msg}"),
        other => panic!("expected a crypto error, got {other:?}"),
    }
    // The right key still works.
    let store = Store::open_sqlite(&path, Cipher::new(KEY)).await.unwrap();
    assert!(store.session_events("s").await.unwrap().is_some());
}

async fn raw(path: &Path) -> sqlx::SqlitePool {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(std::time::Duration::from_secs(5));
    sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap()
}

#[tokio::test]
async fn tampered_or_swapped_blobs_do_not_decrypt() {
    let (dir, store) = fresh().await;
    let ev = events(20, 0.0);
    store.insert_batch(&batch("u", "s", 0, &ev)).await.unwrap();
    store.insert_batch(&batch("u", "s", 1, &ev)).await.unwrap();
    store.insert_batch(&batch("v", "t", 0, &ev)).await.unwrap();
    store.put_model("u", b"mu", "{}", 1).await.unwrap();
    store.put_model("v", b"mv", "{}", 1).await.unwrap();

    let db = raw(&db_path(&dir)).await;
    // Flip one ciphertext byte of batch (s, 0).
    let mut payload: Vec<u8> =
        sqlx::query_scalar("SELECT payload FROM batches WHERE session_id = 's' AND seq = 0")
            .fetch_one(&db)
            .await
            .unwrap();
    payload[30] ^= 0x01;
    sqlx::query("UPDATE batches SET payload = ?1 WHERE session_id = 's' AND seq = 0")
        .bind(payload)
        .execute(&db)
        .await
        .unwrap();
    let err = store.session_events("s").await.unwrap_err();
    assert!(
        matches!(&err, StorageError::Crypto(m) if m.contains("wrong key or damaged data")),
        "{err}"
    );
    // Move v's batch into t's place for u's user id: bound to its row, it fails.
    sqlx::query("UPDATE batches SET user_id = 'u' WHERE session_id = 't'")
        .execute(&db)
        .await
        .unwrap();
    assert!(matches!(
        store.session_events("t").await,
        Err(StorageError::Crypto(_))
    ));
    // Swap the models of u and v.
    let blobs: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT user_id, payload FROM models ORDER BY user_id")
            .fetch_all(&db)
            .await
            .unwrap();
    for (user, (_, payload)) in ["v", "u"].into_iter().zip(blobs) {
        sqlx::query("UPDATE models SET payload = ?2 WHERE user_id = ?1")
            .bind(user)
            .bind(payload)
            .execute(&db)
            .await
            .unwrap();
    }
    assert!(matches!(
        store.model("u").await,
        Err(StorageError::Crypto(_))
    ));
    assert!(matches!(
        store.model("v").await,
        Err(StorageError::Crypto(_))
    ));
    db.close().await;
}

#[tokio::test]
async fn rotate_reencrypts_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let old = Cipher::new(KEY);
    let (new_key, new) = Cipher::generate();
    let store = Store::open_sqlite(&path, old.clone()).await.unwrap();
    let ev = events(5, 5.0);
    // More batches than one re-encryption chunk (500).
    for seq in 0..600 {
        let session = format!("s{}", seq % 3);
        store
            .insert_batch(&batch("u", &session, seq, &ev))
            .await
            .unwrap();
    }
    store.put_model("u", b"model-u", "{}", 1).await.unwrap();
    store.put_model("w", b"model-w", "{}", 2).await.unwrap();

    let rotated = store.rotate(new).await.unwrap();
    assert_eq!(rotated.model("u").await.unwrap().unwrap().bytes, b"model-u");
    assert_eq!(
        rotated.session_events("s1").await.unwrap().unwrap().batches,
        200
    );
    // The old store can neither read the re-encrypted blobs nor write new ones.
    assert!(matches!(
        store.model("u").await,
        Err(StorageError::Crypto(_))
    ));
    let stale = store.insert_batch(&batch("u", "s9", 0, &ev)).await;
    assert!(matches!(stale, Err(StorageError::Crypto(_))), "{stale:?}");
    let stale = store.put_model("u", b"x", "{}", 3).await;
    assert!(matches!(stale, Err(StorageError::Crypto(_))), "{stale:?}");
    assert!(matches!(
        store.rotate(Cipher::new(KEY)).await,
        Err(StorageError::Crypto(_))
    ));
    // The new one writes fine.
    assert_eq!(
        rotated
            .insert_batch(&batch("u", "s9", 0, &ev))
            .await
            .unwrap(),
        Inserted::Stored
    );
    rotated.close().await;

    let reopened = Store::open_sqlite(&path, Cipher::new(new_key))
        .await
        .unwrap();
    let sessions = reopened.user_sessions("u").await.unwrap();
    assert_eq!(sessions.len(), 4);
    assert_eq!(sessions.iter().map(|s| s.batches).sum::<u64>(), 601);
    assert_eq!(
        reopened.model("w").await.unwrap().unwrap().bytes,
        b"model-w"
    );
    reopened.close().await;
    assert!(matches!(
        Store::open_sqlite(&path, old).await,
        Err(StorageError::Crypto(_))
    ));
}

#[test]
fn key_file_is_created_private_and_reloaded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys/storage.key");
    let a = Cipher::load_or_create(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.trim().len(), 64);
    assert!(text.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let b = Cipher::load_or_create(&path).unwrap();
    assert_eq!(a.key_id(), b.key_id());
    let blob = a.encrypt(b"x", b"aad");
    assert_eq!(b.decrypt(&blob, b"aad").unwrap(), b"x");

    let bad = dir.path().join("bad.key");
    std::fs::write(&bad, "not a key\n").unwrap();
    let err = Cipher::load_or_create(&bad).unwrap_err();
    assert!(
        matches!(&err, StorageError::Crypto(m) if m.contains("64 hexadecimal")),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&bad).unwrap(),
        "not a key\n",
        "never overwritten"
    );
}

// ---------------------------------------------------------------- concurrency

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_inserts_are_all_stored_exactly_once() {
    let (_dir, store) = fresh().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_enqueue_and_claim_never_duplicate() {
    let (_dir, store) = fresh().await;
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
