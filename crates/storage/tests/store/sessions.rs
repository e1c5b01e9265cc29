//! Collection sessions: opened once, found by token, labelled; only enrolment sessions
//! and sessions labelled genuine train a model.

use macro_rules_attribute::apply;
use pointerprint_storage::{Label, NewCollectionSession, Purpose, StorageError, Store};

use crate::support::*;

fn opened<'a>(session: &'a str, user: &'a str, purpose: Purpose) -> NewCollectionSession<'a> {
    NewCollectionSession {
        session_id: session,
        user_id: user,
        purpose,
        token_hash: Some(session),
        created_ms: 1_000,
        expires_ms: 61_000,
    }
}

/// Stores one 10-event batch of `session` for `user`.
async fn send(store: &Store, user: &str, session: &str) {
    store
        .insert_batch(&batch(user, session, 0, &events(10, 0.0)))
        .await
        .unwrap();
}

#[apply(both_backends!)]
async fn a_session_id_is_opened_once_and_never_over_a_batch(db: TestDb) {
    let store = db.store().await;
    store
        .open_session(&opened("s1", "alice", Purpose::Enrol))
        .await
        .unwrap();
    let again = store
        .open_session(&NewCollectionSession {
            token_hash: Some("other"),
            ..opened("s1", "mallory", Purpose::Verify)
        })
        .await;
    assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
    // A session id already used by a batch sent with a key cannot be opened either.
    send(&store, "mallory", "claimed").await;
    let claimed = store
        .open_session(&opened("claimed", "alice", Purpose::Enrol))
        .await;
    assert!(
        matches!(claimed, Err(StorageError::Conflict(_))),
        "{claimed:?}"
    );

    let s = store.session_by_token("s1").await.unwrap().unwrap();
    assert_eq!(
        (s.session_id.as_str(), s.user_id.as_str(), s.purpose),
        ("s1", "alice", Some(Purpose::Enrol))
    );
    assert!(s.has_token && s.trains());
    assert_eq!((s.created_ms, s.expires_ms, s.label), (1_000, 61_000, None));
    assert_eq!(store.collection_session("s1").await.unwrap(), Some(s));
    assert!(store.session_by_token("nope").await.unwrap().is_none());
    assert!(store.collection_session("claimed").await.unwrap().is_none());
}

#[apply(both_backends!)]
async fn only_enrolment_and_genuine_sessions_train(db: TestDb) {
    let store = db.store().await;
    for (session, purpose) in [
        ("enrol", Purpose::Enrol),
        ("verify", Purpose::Verify),
        ("continuous", Purpose::Continuous),
        ("enrol-then-fraud", Purpose::Enrol),
    ] {
        store
            .open_session(&opened(session, "dave", purpose))
            .await
            .unwrap();
        send(&store, "dave", session).await;
    }
    send(&store, "dave", "keyed").await;
    send(&store, "dave", "keyed-confirmed").await;
    let trained = async || {
        let mut ids: Vec<String> = store
            .training_sessions("dave")
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.session_id)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(trained().await, ["enrol", "enrol-then-fraud"]);
    assert_eq!(store.training_status("dave").await.unwrap().events, 20);
    assert_eq!(store.user_sessions("dave").await.unwrap().len(), 6);

    let confirmed = store
        .label_session("keyed-confirmed", Label::Genuine)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            confirmed.user_id.as_str(),
            confirmed.purpose,
            confirmed.has_token
        ),
        ("dave", None, false)
    );
    store.label_session("verify", Label::Genuine).await.unwrap();
    store
        .label_session("enrol-then-fraud", Label::Fraud)
        .await
        .unwrap();
    assert_eq!(trained().await, ["enrol", "keyed-confirmed", "verify"]);
    assert_eq!(store.training_status("dave").await.unwrap().events, 30);

    // Fraud is for good; the same label again changes nothing.
    let relabel = store
        .label_session("enrol-then-fraud", Label::Genuine)
        .await;
    assert!(
        matches!(relabel, Err(StorageError::Conflict(_))),
        "{relabel:?}"
    );
    let fraud = store
        .label_session("enrol-then-fraud", Label::Fraud)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fraud.label, Some(Label::Fraud));
    assert!(!fraud.trains());
    assert!(
        store
            .label_session("unknown", Label::Fraud)
            .await
            .unwrap()
            .is_none()
    );
}

#[apply(both_backends!)]
async fn erasure_removes_a_users_collection_sessions(db: TestDb) {
    let store = db.store().await;
    store
        .open_session(&opened("e1", "erin", Purpose::Enrol))
        .await
        .unwrap();
    send(&store, "erin", "e1").await;
    store.erase_user("erin").await.unwrap();
    assert!(store.collection_session("e1").await.unwrap().is_none());
    assert!(store.session_by_token("e1").await.unwrap().is_none());
}
