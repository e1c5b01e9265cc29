//! What survives closing and reopening the database.

use macro_rules_attribute::apply;
use pointerprint_storage::{Cipher, Role, Store};

use crate::support::*;

#[apply(both_backends!)]
async fn settings_round_trip(db: TestDb) {
    let store = db.store().await;
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

#[apply(both_backends!)]
async fn everything_survives_reopening(db: TestDb) {
    let ev = events(50, 3.0);
    {
        let store = db.store().await;
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
    let store = db.store().await;
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
}

#[tokio::test]
async fn an_sqlite_database_is_created_with_its_folders_and_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/p.db");
    let store = Store::open(&format!("sqlite://{}", path.display()), Cipher::new(KEY))
        .await
        .unwrap();
    store.put_settings("{}").await.unwrap();
    store.close().await;
    assert!(path.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "database readable by its owner only");
    }
}
