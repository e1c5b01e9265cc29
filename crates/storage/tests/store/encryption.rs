//! Encryption at rest: no plaintext on disk, wrong keys, tampering, rotation.

use std::path::{Path, PathBuf};

use macro_rules_attribute::apply;
use pointerprint_core::{Button, Event, EventKind};
use pointerprint_storage::{Cipher, Inserted, StorageError, Store};

use crate::support::*;

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
async fn sqlite_files_hold_no_plaintext_coordinates() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&db_path(&dir), Cipher::new(KEY))
        .await
        .unwrap();
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

#[apply(both_backends!)]
async fn wrong_key_is_refused(db: TestDb) {
    let store = db.store().await;
    store
        .insert_batch(&batch("u", "s", 0, &events(3, 0.0)))
        .await
        .unwrap();
    store.close().await;
    let wrong = db.open(Cipher::new([7; 32])).await;
    match wrong {
        Err(StorageError::Crypto(msg)) => assert!(msg.contains("wrong key"), "{msg}"),
        other => panic!("expected a crypto error, got {other:?}"),
    }
    // The right key still works.
    let store = db.store().await;
    assert!(store.session_events("s").await.unwrap().is_some());
}

#[apply(both_backends!)]
async fn tampered_or_swapped_blobs_do_not_decrypt(db: TestDb) {
    let store = db.store().await;
    let ev = events(20, 0.0);
    store.insert_batch(&batch("u", "s", 0, &ev)).await.unwrap();
    store.insert_batch(&batch("u", "s", 1, &ev)).await.unwrap();
    store.insert_batch(&batch("v", "t", 0, &ev)).await.unwrap();
    store.put_model("u", b"mu", "{}", 1).await.unwrap();
    store.put_model("v", b"mv", "{}", 1).await.unwrap();

    let raw = db.raw();
    // Flip one ciphertext byte of batch (s, 0).
    let mut payload = raw.batch_payload("s", 0).await;
    payload[30] ^= 0x01;
    raw.set_batch_payload("s", 0, &payload).await;
    let err = store.session_events("s").await.unwrap_err();
    assert!(
        matches!(&err, StorageError::Crypto(m) if m.contains("wrong key or damaged data")),
        "{err}"
    );
    // Move v's batch into t's place for u's user id: bound to its row, it fails.
    raw.execute("UPDATE batches SET user_id = 'u' WHERE session_id = 't'")
        .await;
    assert!(matches!(
        store.session_events("t").await,
        Err(StorageError::Crypto(_))
    ));
    // Swap the models of u and v.
    let blobs = raw.model_payloads().await;
    for (user, (_, payload)) in ["v", "u"].into_iter().zip(blobs) {
        raw.set_model_payload(user, &payload).await;
    }
    assert!(matches!(
        store.model("u").await,
        Err(StorageError::Crypto(_))
    ));
    assert!(matches!(
        store.model("v").await,
        Err(StorageError::Crypto(_))
    ));
}

#[apply(both_backends!)]
async fn rotate_reencrypts_everything(db: TestDb) {
    let old = Cipher::new(KEY);
    let (new_key, new) = Cipher::generate();
    let store = db.open(old.clone()).await.unwrap();
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

    let reopened = db.open(Cipher::new(new_key)).await.unwrap();
    let sessions = reopened.user_sessions("u").await.unwrap();
    assert_eq!(sessions.len(), 4);
    assert_eq!(sessions.iter().map(|s| s.batches).sum::<u64>(), 601);
    assert_eq!(
        reopened.model("w").await.unwrap().unwrap().bytes,
        b"model-w"
    );
    reopened.close().await;
    assert!(matches!(db.open(old).await, Err(StorageError::Crypto(_))));
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
