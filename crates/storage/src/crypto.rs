//! Encryption at rest: XChaCha20-Poly1305 with a 32-byte key.
//!
//! A blob is `nonce (24 random bytes) || ciphertext || tag (16 bytes)`. The caller passes
//! associated data naming the row a blob belongs to, so a blob copied into another row
//! does not decrypt.

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use chacha20poly1305::aead::common::Generate;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};

use crate::StorageError;

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// An authenticated cipher holding one 32-byte key. Cheap to clone.
#[derive(Clone)]
pub struct Cipher {
    aead: Arc<XChaCha20Poly1305>,
    key_id: Arc<str>,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cipher")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Cipher {
    /// A cipher with this key.
    pub fn new(key: [u8; 32]) -> Self {
        let aead = XChaCha20Poly1305::new(&key.into());
        // A public fingerprint of the key: the tag of an empty message under a fixed
        // nonce. The all-zero nonce is used for nothing else (random nonces are 192 bits).
        let tag = aead
            .encrypt(
                &XNonce::default(),
                Payload {
                    msg: b"",
                    aad: b"pointerprint key id v1",
                },
            )
            .expect("an empty message always encrypts");
        Cipher {
            aead: Arc::new(aead),
            key_id: to_hex(&tag).into(),
        }
    }

    /// A fresh random key (from the operating system's generator) and its cipher.
    pub fn generate() -> ([u8; 32], Cipher) {
        let key = <[u8; 32]>::generate();
        (key, Cipher::new(key))
    }

    /// Loads the key file at `path` (64 hex characters, surrounding whitespace ignored),
    /// or creates it with a fresh random key (mode 0600 on unix) if there is none.
    /// A file with any other content is refused, never overwritten.
    pub fn load_or_create(path: &Path) -> Result<Cipher, StorageError> {
        match std::fs::read(path) {
            Ok(bytes) => return parse_key_file(path, &bytes).map(Cipher::new),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StorageError::io_at(path, "read the key file", e)),
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StorageError::io_at(parent, "create the directory", e))?;
        }
        let (key, cipher) = Cipher::generate();
        match create_key_file(path, &key) {
            Ok(()) => Ok(cipher),
            // Another process created it first: use its key.
            Err(StorageError::Io(e)) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let bytes = std::fs::read(path)
                    .map_err(|e| StorageError::io_at(path, "read the key file", e))?;
                parse_key_file(path, &bytes).map(Cipher::new)
            }
            Err(e) => Err(e),
        }
    }

    /// Encrypts `plaintext` bound to `aad`: a random 24-byte nonce followed by the
    /// ciphertext and its 16-byte tag.
    pub fn encrypt(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let nonce = XNonce::generate();
        let sealed = self
            .aead
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("XChaCha20-Poly1305 encrypts messages of any practical length");
        let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        blob
    }

    /// Decrypts a blob made by [`Cipher::encrypt`] with the same key and `aad`.
    pub fn decrypt(&self, blob: &[u8], aad: &[u8]) -> Result<Vec<u8>, StorageError> {
        if blob.len() < NONCE_LEN + TAG_LEN {
            return Err(StorageError::Crypto(format!(
                "cannot decrypt a {}-byte blob (shorter than nonce and tag): wrong key or damaged data",
                blob.len()
            )));
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).expect("split at the nonce length");
        self.aead
            .decrypt(&nonce, Payload { msg: sealed, aad })
            .map_err(|_| {
                StorageError::Crypto(
                    "cannot decrypt stored data: wrong key or damaged data".to_string(),
                )
            })
    }

    /// A public fingerprint of the key (32 hex characters): equal for equal keys, and
    /// reveals nothing about the key.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

fn parse_key_file(path: &Path, bytes: &[u8]) -> Result<[u8; 32], StorageError> {
    let refuse = |why: &str| {
        StorageError::Crypto(format!(
            "key file {} {why}: it must hold exactly 64 hexadecimal characters (a 32-byte key); \
             refusing to use it",
            path.display()
        ))
    };
    let text = std::str::from_utf8(bytes).map_err(|_| refuse("is not text"))?;
    let text = text.trim();
    if text.len() != 64 {
        return Err(refuse(&format!(
            "holds {} characters",
            text.chars().count()
        )));
    }
    let mut key = [0u8; 32];
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        let hi = hex_digit(pair[0]);
        let lo = hex_digit(pair[1]);
        match (hi, lo) {
            (Some(hi), Some(lo)) => key[i] = hi << 4 | lo,
            _ => return Err(refuse("holds a character that is not hexadecimal")),
        }
    }
    Ok(key)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Writes a new key file (64 hex characters) readable by its owner only (mode 0600); fails
/// if the file exists.
pub fn create_key_file(path: &Path, key: &[u8; 32]) -> Result<(), StorageError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    // The error keeps its kind, so callers can tell an existing file apart.
    let mut file = options
        .open(path)
        .map_err(|e| StorageError::io_at(path, "create the key file", e))?;
    let mut text = to_hex(key);
    text.push('\n');
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| StorageError::io_at(path, "write the key file", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let (_, c) = Cipher::generate();
        let blob = c.encrypt(b"hello", b"row:1");
        assert_eq!(blob.len(), 24 + 5 + 16);
        assert_eq!(c.decrypt(&blob, b"row:1").unwrap(), b"hello");
        assert!(matches!(
            c.decrypt(&blob, b"row:2"),
            Err(StorageError::Crypto(_))
        ));
        let mut bad = blob.clone();
        bad[30] ^= 1;
        assert!(matches!(
            c.decrypt(&bad, b"row:1"),
            Err(StorageError::Crypto(_))
        ));
        assert!(matches!(
            c.decrypt(&blob[..10], b"row:1"),
            Err(StorageError::Crypto(_))
        ));
        let (_, other) = Cipher::generate();
        assert!(matches!(
            other.decrypt(&blob, b"row:1"),
            Err(StorageError::Crypto(_))
        ));
        // Two encryptions of the same message differ (random nonce).
        assert_ne!(c.encrypt(b"hello", b"row:1"), blob);
    }

    #[test]
    fn key_id_is_stable_per_key() {
        let key = [7u8; 32];
        assert_eq!(Cipher::new(key).key_id(), Cipher::new(key).key_id());
        assert_ne!(Cipher::new(key).key_id(), Cipher::new([8u8; 32]).key_id());
        assert_eq!(Cipher::new(key).key_id().len(), 32);
    }

    #[test]
    fn key_file_parsing() {
        let p = Path::new("k");
        let hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\n";
        let key = parse_key_file(p, hex.as_bytes()).unwrap();
        assert_eq!(key[1], 0x11);
        assert_eq!(key[31], 0xff);
        assert!(parse_key_file(p, b"abc").is_err());
        assert!(parse_key_file(p, "zz".repeat(32).as_bytes()).is_err());
        assert!(parse_key_file(p, &[0xff; 64]).is_err());
        assert_eq!(to_hex(&[0, 0xab, 0x10]), "00ab10");
    }
}
