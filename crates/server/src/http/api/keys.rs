use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use pointerprint_storage::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::keys::Caller;
use crate::app::keys::{create_key, revoke_key};
use crate::http::error::{ApiError, path_error};
use crate::http::extract::JsonBody;

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
    responses((status = 201, body = Object), (status = 403, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
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

/// Every key by name and role (never the key itself).
#[utoipa::path(get, path = "/v1/keys", tag = "keys", responses((status = 200, body = Object)), security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin)?;
    Ok(Json(json!({"keys": state.store.list_keys().await?})))
}

/// Revokes a key.
#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "keys", params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin)?;
    let Path(id) = id.map_err(path_error)?;
    revoke_key(&state, id).await?;
    Ok(Json(json!({"revoked": id})))
}
