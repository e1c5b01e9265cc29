//! `POST /v1/sessions` and `POST /v1/sessions/{session_id}/feedback`: the site's backend
//! opens a collection session for a user (the collector then sends with its token) and
//! says afterwards whether the session was the user's. See [`crate::app::sessions`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use pointerprint_storage::{CollectionSession, Label, Purpose, Role};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::app::keys::Caller;
use crate::app::sessions;
use crate::domain::ids::{SessionId, UserId};
use crate::http::error::ApiError;
use crate::http::extract::JsonBody;

/// A session to open.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRequest {
    user_id: String,
    /// `enrol` (its events train the user's model), `verify` or `continuous`.
    #[schema(value_type = String)]
    purpose: Purpose,
    /// The token's lifetime in seconds: 60 to 86,400; 3,600 if left out.
    #[serde(default)]
    ttl_s: Option<u64>,
}

/// An opened session and its token (shown once).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Opened {
    session_id: String,
    user_id: String,
    #[schema(value_type = String)]
    purpose: Purpose,
    /// `pp_session_` and 64 hex digits: send as `Authorization: Bearer` (or `?token=`).
    token: String,
    /// When the token stops working, in milliseconds since the epoch.
    expires_ms: i64,
}

/// Opens a collection session for a user: the server chooses its id and returns a
/// short-lived token that writes this session only and opens its trust stream only.
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions", request_body = OpenRequest,
    responses((status = 201, body = Opened), (status = 400, body = crate::http::error::ErrorBody),
              (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn open(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<OpenRequest>,
) -> Result<(StatusCode, Json<Opened>), ApiError> {
    caller.require(Role::Secret)?;
    let user_id = UserId::parse(request.user_id)?;
    let opened = sessions::open(&state, &user_id, request.purpose, request.ttl_s).await?;
    Ok((
        StatusCode::CREATED,
        Json(Opened {
            session_id: opened.session_id.to_string(),
            user_id: opened.user_id.to_string(),
            purpose: opened.purpose,
            token: opened.token,
            expires_ms: opened.expires_ms,
        }),
    ))
}

/// Whether a session was the user's.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Feedback {
    /// `genuine` (the session may train the user's model) or `fraud` (it never will).
    #[schema(value_type = String)]
    label: Label,
}

/// A session as labelled.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Labelled {
    session_id: String,
    user_id: String,
    /// `null` for a session sent with an API key rather than opened.
    #[schema(value_type = Option<String>)]
    purpose: Option<Purpose>,
    #[schema(value_type = Option<String>)]
    label: Option<Label>,
    /// Whether the session's events now train the user's model.
    trains: bool,
}

impl From<CollectionSession> for Labelled {
    fn from(s: CollectionSession) -> Self {
        Labelled {
            trains: s.trains(),
            session_id: s.session_id,
            user_id: s.user_id,
            purpose: s.purpose,
            label: s.label,
        }
    }
}

/// The backend's word on a session, after the fact: `genuine` lets its events train the
/// user's model (and may queue training); `fraud` excludes it for good (409 on a later
/// `genuine`) and ends its token.
#[utoipa::path(post, path = "/v1/sessions/{session_id}/feedback", tag = "sessions", request_body = Feedback,
    params(("session_id" = String, Path)),
    responses((status = 200, body = Labelled), (status = 404, body = crate::http::error::ErrorBody),
              (status = 409, description = "labelled fraud already", body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn feedback(
    State(state): State<AppState>,
    caller: Caller,
    Path(session_id): Path<String>,
    JsonBody(feedback): JsonBody<Feedback>,
) -> Result<Json<Labelled>, ApiError> {
    caller.require(Role::Secret)?;
    let session_id = SessionId::parse(session_id)?;
    let session = sessions::label(&state, &session_id, feedback.label).await?;
    Ok(Json(session.into()))
}
