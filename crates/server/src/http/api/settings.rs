use axum::Json;
use axum::extract::State;
use pointerprint_storage::Role;

use crate::app::AppState;
use crate::app::keys::Caller;
use crate::domain::settings::Settings;
use crate::http::error::ApiError;
use crate::http::extract::JsonBody;

/// The settings in force.
#[utoipa::path(get, path = "/v1/settings", tag = "settings", responses((status = 200, body = Settings)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Settings>, ApiError> {
    caller.require(Role::Secret)?;
    Ok(Json(Settings::clone(&state.cache.settings())))
}

/// Replaces the settings: validated, stored, in force at once (admin keys only).
#[utoipa::path(put, path = "/v1/settings", tag = "settings", request_body = Settings,
    responses((status = 200, body = Settings), (status = 400, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(settings): JsonBody<serde_json::Map<String, serde_json::Value>>,
) -> Result<Json<Settings>, ApiError> {
    caller.require(Role::Admin)?;
    // An object only: serde would read a struct from an array too, and `[]` would replace
    // every setting with its default.
    let settings: Settings = serde_json::from_value(serde_json::Value::Object(settings))
        .map_err(|e| ApiError::bad_request("invalid_json", e.to_string()))?;
    state.cache.replace_settings(settings.clone()).await?;
    Ok(Json(settings))
}
