//! `POST /v1/events`: a collector's batch of a session's events.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use pointerprint_formats::{NativeEvent, NativeRecording, NativeScreen};
use pointerprint_storage::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::ingest::store_batch;
use crate::domain::ids::{SessionId, UserId};
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, caller_with_query_key};

/// One batch of a session, in pointerprint's event format.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    user_id: String,
    session_id: String,
    /// The batch's number within the session; a repeated number is acknowledged, not stored.
    seq: u32,
    /// Events: `{"type":"move"|"down"|"up"|"wheel","t":ms,"x","y",...}` (see the README).
    #[schema(value_type = Vec<Object>)]
    events: Vec<NativeEvent>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    screen: Option<NativeScreen>,
}

/// `sendBeacon` (a page's last batch) cannot set headers: the ingest key may come as `key`.
#[derive(Deserialize)]
pub struct Params {
    key: Option<String>,
}

/// Stores a batch whole or not at all. The body is read as JSON whatever its content type,
/// so a beacon sent as `text/plain` (no CORS preflight) is accepted.
#[utoipa::path(post, path = "/v1/events", tag = "ingest", request_body = Batch,
    responses((status = 202, description = "`{\"accepted\": N, \"duplicate\": bool}`", body = Object),
              (status = 400, description = "invalid batch", body = crate::http::error::ErrorBody),
              (status = 401, body = crate::http::error::ErrorBody), (status = 413, body = crate::http::error::ErrorBody)),
    params(("key" = Option<String>, Query, description = "ingest key, if no Authorization header")),
    security(("bearer" = [])))]
pub async fn post(
    State(state): State<AppState>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    JsonBody(batch): JsonBody<Batch>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller_with_query_key(&state, &headers, params.key.as_deref())
        .await?
        .require(Role::Ingest)?;
    let user_id = UserId::parse(batch.user_id)?;
    let session_id = SessionId::parse(batch.session_id)?;
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
