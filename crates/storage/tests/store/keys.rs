//! API keys: created, found by hash, listed, revoked.

use macro_rules_attribute::apply;
use pointerprint_storage::{Role, StorageError};

use crate::support::*;

#[apply(both_backends!)]
async fn api_keys_create_find_list_revoke(db: TestDb) {
    let store = db.store().await;
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
