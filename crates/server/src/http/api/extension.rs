//! `POST /save-mouse-data?user_id=..&session_id=..[&key=..|&token=..]`: the original
//! browser extension's payload, so that extension works unchanged apart from its URL. It
//! sets no headers, so the credential may come as a query parameter; with a session token
//! the user and session are the token's.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use pointerprint_core::Recording;
use pointerprint_formats::{Format, parse_as};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::app::ingest::store_batch;
use crate::http::error::{ApiError, body_error, query_error};
use crate::http::extract::Authenticated;

#[derive(Deserialize)]
pub struct Params {
    user_id: Option<String>,
    session_id: Option<String>,
}

/// The original extension's payload: a JSON array of `eventType` records.
#[utoipa::path(post, path = "/save-mouse-data", tag = "ingest",
    params(("user_id" = Option<String>, Query, description = "needed with an API key"), ("session_id" = Option<String>, Query, description = "needed with an API key"),
           ("token" = Option<String>, Query, description = "session token, if no Authorization header"),
           ("key" = Option<String>, Query, description = "ingest key, if no Authorization header")),
    request_body(content = Vec<Object>, description = "`[{\"eventType\":\"mousemove\",\"x\",\"y\",\"timestamp\"},...]`"),
    responses((status = 202, body = Object), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody)))]
pub async fn post(
    State(state): State<AppState>,
    auth: Authenticated,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let (user_id, session_id) = auth
        .collector
        .batch_target(&state, params.user_id, params.session_id)
        .await?;
    let body = body.map_err(body_error)?;
    let recording = parse_as(&body, Format::ExtensionJson)
        .map_err(|e| ApiError::bad_request("invalid_json", e.to_string()))?
        .recording;
    let seq = unnumbered_seq(&recording, &body);
    let stored = store_batch(&state, &user_id, &session_id, seq, &recording).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"accepted": recording.events.len(), "duplicate": !stored})),
    ))
}

/// The extension numbers nothing: a batch's number is its first whole millisecond (so
/// batches keep their order) times 2^16 plus 16 bits of its content's SHA-256, so a
/// retried upload is a duplicate and another batch starting in the same millisecond is not.
fn unnumbered_seq(recording: &Recording, body: &[u8]) -> i64 {
    const MAX_MS: i64 = (1 << 47) - 1;
    let first_ms = recording.events.first().map_or(0, |e| e.t as i64);
    let digest = Sha256::digest(body);
    (first_ms.clamp(0, MAX_MS) << 16) | i64::from(u16::from_be_bytes([digest[0], digest[1]]))
}
