//! `POST /save-mouse-data?user_id=..&session_id=..[&key=..]`: the original browser
//! extension's payload, so that extension works unchanged apart from its URL. It sets no
//! headers, so the ingest key may come as the `key` query parameter.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use pointerprint_formats::{Format, parse_as};
use pointerprint_storage::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::ingest::store_batch;
use crate::domain::ids::{SessionId, UserId};
use crate::http::error::{ApiError, body_error, query_error};
use crate::http::extract::caller_with_query_key;

#[derive(Deserialize)]
pub struct Params {
    user_id: String,
    session_id: String,
    key: Option<String>,
}

/// The original extension's payload: a JSON array of `eventType` records.
#[utoipa::path(post, path = "/save-mouse-data", tag = "ingest",
    params(("user_id" = String, Query), ("session_id" = String, Query), ("key" = Option<String>, Query, description = "ingest key, if no Authorization header")),
    request_body(content = Vec<Object>, description = "`[{\"eventType\":\"mousemove\",\"x\",\"y\",\"timestamp\"},...]`"),
    responses((status = 202, body = Object), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn post(
    State(state): State<AppState>,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Query(params) = params.map_err(query_error)?;
    caller_with_query_key(&state, &headers, params.key.as_deref())
        .await?
        .require(Role::Ingest)?;
    let body = body.map_err(body_error)?;
    let user_id = UserId::parse(params.user_id)?;
    let session_id = SessionId::parse(params.session_id)?;
    let recording = parse_as(&body, Format::ExtensionJson)
        .map_err(|e| ApiError::bad_request("invalid_json", e.to_string()))?
        .recording;
    // The extension numbers nothing: its batches are keyed by their content's first time.
    let seq = recording.events.first().map_or(0, |e| e.t as i64);
    let stored = store_batch(&state, &user_id, &session_id, seq, &recording).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"accepted": recording.events.len(), "duplicate": !stored})),
    ))
}
