use axum::Json;
use axum::extract::State;
use pointerprint_storage::Role;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::ingest::JsonBody;
use crate::settings::Settings;
use crate::state::AppState;

/// The settings in force.
#[utoipa::path(get, path = "/v1/settings", tag = "settings", responses((status = 200, body = Settings)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Settings>, ApiError> {
    caller.require(Role::Secret)?;
    Ok(Json(state.settings.read().await.clone()))
}

/// Replaces the settings: validated, stored, in force at once (admin keys only).
#[utoipa::path(put, path = "/v1/settings", tag = "settings", request_body = Settings,
    responses((status = 200, body = Settings), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(settings): JsonBody<Settings>,
) -> Result<Json<Settings>, ApiError> {
    caller.require(Role::Admin)?;
    replace(&state, settings.clone()).await?;
    Ok(Json(settings))
}

/// Validates, stores and puts in force a new settings document.
pub(crate) async fn replace(state: &AppState, settings: Settings) -> Result<(), ApiError> {
    settings
        .validate()
        .map_err(|m| ApiError::bad_request("invalid_settings", m))?;
    let json = serde_json::to_string(&settings).map_err(ApiError::internal)?;
    state.store.put_settings(&json).await?;
    *state.settings.write().await = settings;
    Ok(())
}
