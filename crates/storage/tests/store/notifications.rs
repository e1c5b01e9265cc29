//! Publish/subscribe between the nodes sharing a database.

use std::time::Duration;

use macro_rules_attribute::apply;
use pointerprint_storage::{BATCH_CHANNEL, Notification, StorageError, Subscription};

use crate::support::*;

async fn next(s: &mut Subscription) -> Notification {
    tokio::time::timeout(Duration::from_secs(5), s.recv())
        .await
        .expect("a notification within 5 s")
        .unwrap()
        .expect("nothing missed")
}

#[apply(both_backends!)]
async fn notifications_reach_subscribers_of_their_channels(db: TestDb) {
    let a = db.store().await;
    // On PostgreSQL a second store is another node; SQLite has one process, one store.
    let b = match db {
        TestDb::Sqlite(_) => a.clone(),
        TestDb::Postgres(_) => db.store().await,
    };
    let mut trust = b.subscribe(&["trust", "settings"]).await.unwrap();
    let mut decisions = a.subscribe(&["decisions"]).await.unwrap();
    a.publish("trust", "session-1").await.unwrap();
    a.publish("decisions", "17").await.unwrap();
    b.publish("settings", "").await.unwrap();
    let n = next(&mut trust).await;
    assert_eq!(
        (n.channel.as_str(), n.payload.as_str()),
        ("trust", "session-1")
    );
    let n = next(&mut trust).await;
    assert_eq!((n.channel.as_str(), n.payload.as_str()), ("settings", ""));
    let n = next(&mut decisions).await;
    assert_eq!(
        (n.channel.as_str(), n.payload.as_str()),
        ("decisions", "17")
    );
    // Nothing else: the other channels' messages, published before this one, were
    // filtered out, so the next message is this one.
    a.publish("decisions", "last").await.unwrap();
    assert_eq!(next(&mut decisions).await.payload, "last");
    let too_long = "x".repeat(7_001);
    assert!(matches!(
        a.publish("trust", &too_long).await,
        Err(StorageError::Conflict(_))
    ));
}

#[apply(both_backends!)]
async fn stored_batches_are_announced_once(db: TestDb) {
    let store = db.store().await;
    let mut batches = store.subscribe(&[BATCH_CHANNEL]).await.unwrap();
    let ev = events(10, 0.0);
    store.insert_batch(&batch("u", "s1", 0, &ev)).await.unwrap(); // a new session
    store.insert_batch(&batch("u", "s1", 1, &ev)).await.unwrap(); // a known one
    store.insert_batch(&batch("u", "s1", 1, &ev)).await.unwrap(); // a duplicate
    let refused = store.insert_batch(&batch("v", "s1", 2, &ev)).await;
    assert!(matches!(refused, Err(StorageError::Conflict(_))));
    store.insert_batch(&batch("v", "s2", 0, &ev)).await.unwrap();
    let mut heard = Vec::new();
    for _ in 0..3 {
        let n = next(&mut batches).await;
        assert_eq!(n.channel, BATCH_CHANNEL);
        heard.push(n.payload);
    }
    // Nothing for the duplicate or the refused batch: they came before s2's.
    assert_eq!(heard, ["s1", "s1", "s2"]);
}
