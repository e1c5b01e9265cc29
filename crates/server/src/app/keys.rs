//! API keys: looked up by hash, with roles in rank order; creating and revoking them.

use pointerprint_storage::{KeyRecord, Role};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::app::error::{AppError, ErrorKind};

/// The stored form of a secret token (an API key, a sign-in cookie): its SHA-256, in hex.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random API key whose prefix names its role.
pub fn new_key(role: Role) -> String {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("pp_{role}_{}", hex::encode(bytes))
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub KeyRecord);

fn rank(role: Role) -> u8 {
    match role {
        Role::Ingest => 0,
        Role::Secret => 1,
        Role::Admin => 2,
    }
}

impl Caller {
    /// Refuses a caller whose role ranks below `role`: ingest < secret < admin.
    pub fn require(&self, role: Role) -> Result<(), AppError> {
        if rank(self.0.role) >= rank(role) {
            Ok(())
        } else {
            Err(AppError::new(
                ErrorKind::Forbidden,
                "forbidden",
                format!(
                    "this call needs a {role} key; the key given is a {} key",
                    self.0.role
                ),
            ))
        }
    }
}

/// Authenticates a raw key.
pub async fn authenticate(app: &App, key: Option<&str>) -> Result<Caller, AppError> {
    let unauthorized = |m: &str| AppError::new(ErrorKind::Unauthenticated, "unauthorized", m);
    let key = key
        .filter(|k| !k.is_empty())
        .ok_or_else(|| unauthorized("missing API key: send Authorization: Bearer KEY"))?;
    match app.store.key_by_hash(&hash_token(key)).await? {
        Some(record) if !record.revoked => Ok(Caller(record)),
        Some(_) => Err(unauthorized("this API key has been revoked")),
        None => Err(unauthorized("unknown API key")),
    }
}

/// Creates a key; returns the key (to show once) and its stored record.
pub async fn create_key(
    app: &App,
    name: &str,
    role: Role,
) -> Result<(String, KeyRecord), AppError> {
    if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "invalid_name",
            "name must be 1 to 100 printable characters",
        ));
    }
    let key = new_key(role);
    let record = app.store.create_key(name, role, &hash_token(&key)).await?;
    Ok((key, record))
}

/// Revokes a key; not found for an unknown id.
pub async fn revoke_key(app: &App, id: i64) -> Result<(), AppError> {
    if app.store.revoke_key(id).await? {
        Ok(())
    } else {
        Err(AppError::not_found(format!("no key {id}")))
    }
}
