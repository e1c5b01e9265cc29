//! How blobs are laid out, independent of the database: a format byte, then postcard,
//! encrypted with associated data naming the row. Shared by every backend.

use pointerprint_core::{Event, Screen};
use serde::{Deserialize, Serialize};

use crate::{Cipher, NewBatch, StorageError};

/// First plaintext byte of a batch blob.
const BATCH_FORMAT: u8 = 1;
/// First plaintext byte of a model blob.
const MODEL_FORMAT: u8 = 1;

#[derive(Serialize)]
struct BatchRef<'a> {
    events: &'a [Event],
    screen: Option<Screen>,
}

/// The decrypted content of a batch row.
#[derive(Deserialize)]
pub(crate) struct BatchPayload {
    pub events: Vec<Event>,
    pub screen: Option<Screen>,
}

/// Associated data of a batch blob: its user, session and sequence number.
fn batch_aad(user_id: &str, session_id: &str, seq: i64) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + user_id.len() + session_id.len());
    aad.extend_from_slice(b"pointerprint/batch\0");
    push_str(&mut aad, user_id);
    push_str(&mut aad, session_id);
    aad.extend_from_slice(&seq.to_le_bytes());
    aad
}

/// Associated data of a model blob: its user.
fn model_aad(user_id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + user_id.len());
    aad.extend_from_slice(b"pointerprint/model\0");
    push_str(&mut aad, user_id);
    aad
}

/// Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
fn push_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// A batch's events and screen, encrypted and bound to its user, session and `seq`.
pub(crate) fn seal_batch(cipher: &Cipher, batch: &NewBatch<'_>) -> Result<Vec<u8>, StorageError> {
    let mut plain = Vec::with_capacity(8 + batch.events.len() * 28);
    plain.push(BATCH_FORMAT);
    let plain = postcard::to_extend(
        &BatchRef {
            events: batch.events,
            screen: batch.screen,
        },
        plain,
    )
    .map_err(|e| StorageError::Corrupt(format!("cannot encode events: {e}")))?;
    let aad = batch_aad(batch.user_id, batch.session_id, batch.seq);
    Ok(cipher.encrypt(&plain, &aad))
}

pub(crate) fn open_batch(
    cipher: &Cipher,
    user_id: &str,
    session_id: &str,
    seq: i64,
    blob: &[u8],
) -> Result<BatchPayload, StorageError> {
    let plain = cipher
        .decrypt(blob, &batch_aad(user_id, session_id, seq))
        .map_err(|_| {
            StorageError::Crypto(format!(
                "cannot decrypt batch {seq} of session '{session_id}': wrong key or damaged data"
            ))
        })?;
    match plain.split_first() {
        Some((&BATCH_FORMAT, rest)) => postcard::from_bytes(rest).map_err(|e| {
            StorageError::Corrupt(format!(
                "cannot decode batch {seq} of session '{session_id}': {e}"
            ))
        }),
        Some((other, _)) => Err(StorageError::Corrupt(format!(
            "batch {seq} of session '{session_id}' has format {other}, this version reads {BATCH_FORMAT}"
        ))),
        None => Err(StorageError::Corrupt(format!(
            "batch {seq} of session '{session_id}' is empty"
        ))),
    }
}

/// Re-encrypts a batch blob from one key to another, keeping its row binding.
pub(crate) fn reseal_batch(
    from: &Cipher,
    to: &Cipher,
    user_id: &str,
    session_id: &str,
    seq: i64,
    blob: &[u8],
) -> Result<Vec<u8>, StorageError> {
    let aad = batch_aad(user_id, session_id, seq);
    let plain = from.decrypt(blob, &aad).map_err(|_| {
        StorageError::Crypto(format!(
            "cannot decrypt batch {seq} of session '{session_id}': wrong key or damaged data"
        ))
    })?;
    Ok(to.encrypt(&plain, &aad))
}

pub(crate) fn seal_model(cipher: &Cipher, user_id: &str, model: &[u8]) -> Vec<u8> {
    let mut plain = Vec::with_capacity(1 + model.len());
    plain.push(MODEL_FORMAT);
    plain.extend_from_slice(model);
    cipher.encrypt(&plain, &model_aad(user_id))
}

pub(crate) fn open_model(
    cipher: &Cipher,
    user_id: &str,
    blob: &[u8],
) -> Result<Vec<u8>, StorageError> {
    let plain = cipher.decrypt(blob, &model_aad(user_id)).map_err(|_| {
        StorageError::Crypto(format!(
            "cannot decrypt the model of user '{user_id}': wrong key or damaged data"
        ))
    })?;
    match plain.split_first() {
        Some((&MODEL_FORMAT, rest)) => Ok(rest.to_vec()),
        Some((other, _)) => Err(StorageError::Corrupt(format!(
            "the model of user '{user_id}' has storage format {other}, this version reads {MODEL_FORMAT}"
        ))),
        None => Err(StorageError::Corrupt(format!(
            "the model of user '{user_id}' is empty"
        ))),
    }
}

pub(crate) fn reseal_model(
    from: &Cipher,
    to: &Cipher,
    user_id: &str,
    blob: &[u8],
) -> Result<Vec<u8>, StorageError> {
    let aad = model_aad(user_id);
    let plain = from.decrypt(blob, &aad).map_err(|_| {
        StorageError::Crypto(format!(
            "cannot decrypt the model of user '{user_id}': wrong key or damaged data"
        ))
    })?;
    Ok(to.encrypt(&plain, &aad))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pointerprint_core::{Button, EventKind};

    #[test]
    fn batch_round_trip_and_binding() {
        let (_, c) = Cipher::generate();
        let events = [
            Event::new(1.0, 2.0, 3.0, EventKind::Move, Button::None),
            Event::new(
                2.0,
                5.0,
                6.0,
                EventKind::Wheel { dx: 0.0, dy: 3.0 },
                Button::None,
            ),
        ];
        let screen = Some(Screen {
            width: 1920.0,
            height: 1080.0,
            device_pixel_ratio: 1.0,
        });
        let batch = NewBatch {
            user_id: "u",
            session_id: "s",
            seq: 4,
            received_ms: 0,
            events: &events,
            screen,
        };
        let blob = seal_batch(&c, &batch).unwrap();
        let back = open_batch(&c, "u", "s", 4, &blob).unwrap();
        assert_eq!(back.events, events);
        assert_eq!(back.screen, screen);
        assert!(matches!(
            open_batch(&c, "u", "s", 5, &blob),
            Err(StorageError::Crypto(_))
        ));
        assert!(matches!(
            open_batch(&c, "v", "s", 4, &blob),
            Err(StorageError::Crypto(_))
        ));
        assert_ne!(batch_aad("ab", "c", 0), batch_aad("a", "bc", 0));
    }

    #[test]
    fn model_round_trip_and_binding() {
        let (_, c) = Cipher::generate();
        let (_, d) = Cipher::generate();
        let blob = seal_model(&c, "u", b"model bytes");
        assert_eq!(open_model(&c, "u", &blob).unwrap(), b"model bytes");
        assert!(open_model(&c, "v", &blob).is_err());
        let moved = reseal_model(&c, &d, "u", &blob).unwrap();
        assert_eq!(open_model(&d, "u", &moved).unwrap(), b"model bytes");
        assert!(open_model(&c, "u", &moved).is_err());
    }
}
