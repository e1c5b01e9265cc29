//! Password accounts and signed-in browser sessions.

use macro_rules_attribute::apply;
use pointerprint_storage::{AccountKind, StorageError};

use crate::support::*;

#[apply(both_backends!)]
async fn accounts_are_unique_per_kind_and_lock_after_repeated_failures(db: TestDb) {
    let store = db.store().await;
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

#[apply(both_backends!)]
async fn web_sessions_expire_and_end(db: TestDb) {
    let store = db.store().await;
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

#[apply(both_backends!)]
async fn a_deleted_account_takes_its_sessions_along(db: TestDb) {
    let store = db.store().await;
    let demo = store
        .create_account(AccountKind::Demo, "gone", "$argon2id$hash", 100)
        .await
        .unwrap();
    let admin = store
        .create_account(AccountKind::Admin, "gone", "$argon2id$hash", 100)
        .await
        .unwrap();
    store
        .create_web_session("demo-token", demo.id, "csrf", 100, 10_000)
        .await
        .unwrap();
    store
        .create_web_session("admin-token", admin.id, "csrf", 100, 10_000)
        .await
        .unwrap();
    assert!(
        store
            .delete_account(AccountKind::Demo, "gone")
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_account(AccountKind::Demo, "gone")
            .await
            .unwrap()
    );
    assert_eq!(
        store.account(AccountKind::Demo, "gone").await.unwrap(),
        None
    );
    assert!(
        store
            .web_session("demo-token", 200)
            .await
            .unwrap()
            .is_none()
    );
    // The other kind's account of the same name stays, signed in.
    assert!(
        store
            .web_session("admin-token", 200)
            .await
            .unwrap()
            .is_some()
    );
    // Scrubbing after an erasure works on either backend.
    assert!(store.scrub().await.unwrap());
}
