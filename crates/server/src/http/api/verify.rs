//! `POST /v1/verify`: is this the account's owner?

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use pointerprint_formats::{NativeEvent, NativeRecording, NativeScreen};
use pointerprint_storage::Role;
use serde::Deserialize;

use crate::app::AppState;
use crate::app::keys::Caller;
use crate::app::verify::{verify_events, verify_session};
use crate::domain::decision::Verdict;
use crate::domain::ids::{SessionId, UserId};
use crate::http::error::{ApiError, too_many};
use crate::http::extract::JsonBody;

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

/// Is this the account's owner? Every decision goes to the audit log. Calls are limited
/// per user and per key (`verify_per_user_per_minute`, `verify_per_key_per_minute`), so a
/// forgery cannot be tuned against the score.
#[utoipa::path(post, path = "/v1/verify", tag = "verify", request_body = Request,
    responses((status = 200, body = Verdict), (status = 404, body = crate::http::error::ErrorBody),
              (status = 409, description = "the user has no model yet", body = crate::http::error::ErrorBody),
              (status = 429, description = "`rate_limited`: too many calls for this user or key; `Retry-After` says when to try again", body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn post(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<Request>,
) -> Result<Response, ApiError> {
    caller.require(Role::Secret)?;
    let user_id = UserId::parse(request.user_id)?;
    if let Err(limited) = state.verify_limits.take(caller.0.id, &user_id) {
        return Ok(too_many(limited));
    }
    let verdict = match (request.session_id, request.events) {
        (Some(session_id), None) => {
            verify_session(&state, &user_id, &SessionId::parse(session_id)?).await?
        }
        (None, Some(events)) => {
            let recording = NativeRecording {
                screen: request.screen,
                events,
            }
            .to_recording();
            verify_events(&state, &user_id, recording).await?
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "send either session_id (to score what that session has sent) or events",
            ));
        }
    };
    Ok(Json(verdict).into_response())
}
