//! API keys: `Authorization: Bearer KEY`, looked up by hash, with roles in rank order.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use pointerprint_storage::{KeyRecord, Role};

use crate::error::ApiError;
use crate::startup::hash_key;
use crate::state::AppState;

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
    /// Refuses (403) a caller whose role ranks below `role`: ingest < secret < admin.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if rank(self.0.role) >= rank(role) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "this call needs a {role} key; the key given is a {} key",
                    self.0.role
                ),
            ))
        }
    }
}

/// Authenticates a raw key, or answers 401.
pub async fn authenticate(state: &AppState, key: Option<&str>) -> Result<Caller, ApiError> {
    let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
    let key = key
        .filter(|k| !k.is_empty())
        .ok_or_else(|| unauthorized("missing API key: send Authorization: Bearer KEY"))?;
    match state.store.key_by_hash(&hash_key(key)).await? {
        Some(record) if !record.revoked => Ok(Caller(record)),
        Some(_) => Err(unauthorized("this API key has been revoked")),
        None => Err(unauthorized("unknown API key")),
    }
}

/// The bearer token of a request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    bearer_header(&parts.headers)
}

/// The bearer token of request headers, if any.
pub fn bearer_header(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(state, bearer(parts)).await
    }
}
