//! `POST /v1/events`: a collector's batch of a session's events.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pointerprint_formats::{NativeEvent, NativeRecording, NativeScreen};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::ingest::store_batch;
use crate::http::error::ApiError;
use crate::http::extract::{Authenticated, JsonBody};

/// One batch of a session, in pointerprint's event format.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    /// The user; with a session token, the token's (may be left out).
    #[serde(default)]
    user_id: Option<String>,
    /// The session; with a session token, the token's (may be left out).
    #[serde(default)]
    session_id: Option<String>,
    /// The batch's number within the session; a repeated number is acknowledged, not stored.
    seq: u32,
    /// Events: `{"type":"move"|"down"|"up"|"wheel","t":ms,"x","y",...}` (see the README).
    #[schema(value_type = Vec<Object>)]
    events: Vec<NativeEvent>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    screen: Option<NativeScreen>,
}

/// Stores a batch whole or not at all. The caller is authenticated from the request's
/// head before the body is read. The body is read as JSON whatever its content type, so a
/// beacon sent as `text/plain` (no CORS preflight) is accepted.
#[utoipa::path(post, path = "/v1/events", tag = "ingest", request_body = Batch,
    responses((status = 202, description = "`{\"accepted\": N, \"duplicate\": bool}`", body = Object),
              (status = 400, description = "invalid batch", body = crate::http::error::ErrorBody),
              (status = 401, body = crate::http::error::ErrorBody),
              (status = 403, description = "another session than the token's, a token session sent with a key, or the ingest key from a browser", body = crate::http::error::ErrorBody),
              (status = 413, body = crate::http::error::ErrorBody)),
    params(("token" = Option<String>, Query, description = "session token, if no Authorization header (beacons)"),
           ("key" = Option<String>, Query, description = "API key, if no Authorization header")),
    security(("bearer" = [])))]
pub async fn post(
    State(state): State<AppState>,
    auth: Authenticated,
    JsonBody(batch): JsonBody<Batch>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (user_id, session_id) = auth
        .collector
        .batch_target(&state, batch.user_id, batch.session_id)
        .await?;
    let recording = NativeRecording {
        screen: batch.screen,
        events: batch.events,
    }
    .to_recording();
    let stored = store_batch(
        &state,
        &user_id,
        &session_id,
        i64::from(batch.seq),
        &recording,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"accepted": recording.events.len(), "duplicate": !stored})),
    ))
}
