use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use pointerprint_storage::{KeyRecord, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::ingest::JsonBody;
use crate::startup::{hash_key, new_key};
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
    /// `ingest`, `secret` or `admin`.
    #[schema(value_type = String)]
    role: Role,
}

/// A new key, shown once; only its hash is kept (admin keys only).
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = NewKey,
    responses((status = 201, body = Object), (status = 403, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<NewKey>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Admin)?;
    let (key, record) = create_key(&state, &request.name, request.role).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"key": key, "record": record})),
    ))
}

/// Creates a key; returns the key (to show once) and its stored record.
pub(crate) async fn create_key(
    state: &AppState,
    name: &str,
    role: Role,
) -> Result<(String, KeyRecord), ApiError> {
    if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_name",
            "name must be 1 to 100 printable characters",
        ));
    }
    let key = new_key(role);
    let record = state.store.create_key(name, role, &hash_key(&key)).await?;
    Ok((key, record))
}

/// Revokes a key; 404 for an unknown id.
pub(crate) async fn revoke_key(state: &AppState, id: i64) -> Result<(), ApiError> {
    if state.store.revoke_key(id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no key {id}")))
    }
}

/// Every key by name and role (never the key itself).
#[utoipa::path(get, path = "/v1/keys", tag = "keys", responses((status = 200, body = Object)), security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin)?;
    Ok(Json(json!({"keys": state.store.list_keys().await?})))
}

/// Revokes a key.
#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "keys", params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin)?;
    revoke_key(&state, id).await?;
    Ok(Json(json!({"revoked": id})))
}
