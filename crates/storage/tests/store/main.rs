//! The store against both backends: every test written with `#[apply(both_backends!)]`
//! runs on a real SQLite file in a fresh temporary directory (`…::sqlite`) and on a fresh
//! PostgreSQL database of its own (`…::postgres`, on the server of
//! `POINTERPRINT_TEST_POSTGRES`, dropped afterwards). One module per topic.

// A test body that is not applied to both backends is never called: refuse to build.
#![deny(dead_code)]

mod support;

mod accounts;
mod batches;
mod concurrency;
mod decisions;
mod durability;
mod encryption;
mod jobs;
mod keys;
mod notifications;
mod sessions;
mod users;

use pointerprint_storage::testing::TempPostgres;
use pointerprint_storage::{Cipher, StorageError, Store};

use crate::support::{KEY, db_path};

#[tokio::test]
async fn open_picks_the_backend_from_the_target() {
    let pg = TempPostgres::new();
    let store = Store::open(pg.url(), Cipher::new(KEY)).await.unwrap();
    assert!(store.is_shared());
    store.close().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db_path(&dir).to_string_lossy(), Cipher::new(KEY))
        .await
        .unwrap();
    assert!(!store.is_shared());
    let bad = Store::open("postgres://postgres@127.0.0.1:1/none", Cipher::new(KEY)).await;
    assert!(matches!(bad, Err(StorageError::Database(_))), "{bad:?}");
}
