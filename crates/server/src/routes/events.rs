use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pointerprint_formats::{NativeEvent, NativeRecording, NativeScreen};
use pointerprint_storage::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::ingest::{JsonBody, check_events, check_id, store_batch};
use crate::state::AppState;

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

/// Stores a batch whole or not at all.
#[utoipa::path(post, path = "/v1/events", tag = "ingest", request_body = Batch,
    responses((status = 202, description = "`{\"accepted\": N, \"duplicate\": bool}`", body = Object),
              (status = 400, description = "invalid batch", body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]

pub async fn post(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(batch): JsonBody<Batch>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Ingest)?;
    check_id("user_id", &batch.user_id)?;
    check_id("session_id", &batch.session_id)?;
    let recording = NativeRecording {
        screen: batch.screen,
        events: batch.events,
    }
    .to_recording();
    check_events(&recording, state.config.max_batch_events)?;
    let stored = store_batch(
        &state,
        &batch.user_id,
        &batch.session_id,
        i64::from(batch.seq),
        &recording,
    )
    .await?;
    let accepted = recording.events.len();
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"accepted": accepted, "duplicate": !stored})),
    ))
}
