use axum::Json;
use axum::extract::State;
use pointerprint_formats::{NativeEvent, NativeRecording, NativeScreen};
use pointerprint_storage::Role;
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::ingest::{JsonBody, check_events, check_id};
use crate::state::AppState;
use crate::verify::{Verdict, verify};

/// Either a stored session or events sent inline.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Request {
    user_id: String,
    #[serde(default)]
    session_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    events: Option<Vec<NativeEvent>>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    screen: Option<NativeScreen>,
}

/// Is this the account's owner? Every decision goes to the audit log.
#[utoipa::path(post, path = "/v1/verify", tag = "verify", request_body = Request,
    responses((status = 200, body = Verdict), (status = 404, body = crate::error::ErrorBody),
              (status = 409, description = "the user has no model yet", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn post(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<Request>,
) -> Result<Json<Verdict>, ApiError> {
    caller.require(Role::Secret)?;
    check_id("user_id", &request.user_id)?;
    let recording = match (&request.session_id, request.events) {
        (Some(session_id), None) => {
            check_id("session_id", session_id)?;
            let session = state
                .store
                .session_events(session_id)
                .await?
                .ok_or_else(|| {
                    ApiError::not_found(format!("no events stored for session {session_id}"))
                })?;
            if session.user_id != request.user_id {
                return Err(ApiError::bad_request(
                    "session_user_mismatch",
                    format!("session {session_id} belongs to another user"),
                ));
            }
            session.recording
        }
        (None, Some(events)) => {
            let recording = NativeRecording {
                screen: request.screen,
                events,
            }
            .to_recording();
            check_events(&recording, state.config.max_verify_events)?;
            recording
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "send either session_id (to score what that session has sent) or events",
            ));
        }
    };
    verify(
        &state,
        &request.user_id,
        request.session_id.as_deref(),
        recording,
    )
    .await
    .map(Json)
}
