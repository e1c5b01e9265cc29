//! The demo's JSON endpoints. They act for the signed-in demo account only: events are
//! stored under that account's user id, and no page ever holds an API key.

use std::time::Duration;

use axum::Json;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pointerprint_core::Recording;
use pointerprint_formats::{NativeEvent, NativeRecording};
use pointerprint_storage::Purpose;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use super::session::{DemoUser, sign_in_cookie, sign_out_cookie, token};
use crate::app::AppState;
use crate::app::accounts::end_web_session;
use crate::app::demo;
use crate::app::ingest::store_batch;
use crate::app::sessions;
use crate::app::users::queue_training_if_any_events;
use crate::app::worker::{JobOutcome, wait_for_job};
use crate::domain::ids::SessionId;
use crate::http::api::stream::upgrade_to_trust;
use crate::http::error::ApiError;
use crate::http::extract::JsonBody;
use crate::http::security::over_https;

/// Longest wait for the enrolment's training before answering "still training".
const TRAIN_WAIT: Duration = Duration::from_secs(120);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    username: String,
    password: String,
}

/// Creates a demo account and signs the browser in.
pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(credentials): JsonBody<Credentials>,
) -> Result<Response, ApiError> {
    let Credentials { username, password } = credentials;
    let signed_in = demo::register(&state, &username, password).await?;
    let body = json!({"username": username, "user_id": signed_in.user_id});
    let cookie = sign_in_cookie(&signed_in.token, over_https(&state, &headers));
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// A sign-in attempt: the password, and the mouse events of the login page (`screen` is
/// accepted for the SDK's format's sake, see [`page_recording`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginAttempt {
    username: String,
    password: String,
    #[serde(default)]
    events: Vec<NativeEvent>,
    #[serde(default, rename = "screen")]
    _screen: Option<IgnoredAny>,
}

/// The core scales positions by the screen's diagonal, which suits screen coordinates; the
/// demo's pages lay their tasks out in CSS pixels whatever the screen, so its recordings
/// are kept unscaled: the same task then measures the same for everyone, the synthetic
/// background users included.
fn page_recording(events: Vec<NativeEvent>) -> Recording {
    NativeRecording {
        screen: None,
        events,
    }
    .to_recording()
}

/// Password first, then the mouse as the second factor: the login page's events are
/// scored inline against the account's model (not stored: they may be someone else's).
/// Signs the browser in only when both pass. Answers the decision and the number of
/// actions only: an exact score would let whoever has the password tune a forgery
/// against it (the audit log keeps the score for administrators).
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(attempt): JsonBody<LoginAttempt>,
) -> Result<Response, ApiError> {
    let recording = page_recording(attempt.events);
    let outcome = demo::sign_in(&state, &attempt.username, &attempt.password, recording).await?;
    let mut body = json!({
        "decision": outcome.verdict.decision,
        "actions": outcome.verdict.actions,
        "username": outcome.username,
        "signed_in": outcome.token.is_some(),
    });
    if let Some(until_ms) = outcome.locked_until_ms {
        body["locked_until_ms"] = json!(until_ms);
    }
    match outcome.token {
        Some(token) => {
            let cookie = sign_in_cookie(&token, over_https(&state, &headers));
            Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
        }
        None => Ok(Json(body).into_response()),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = token(&headers) {
        end_web_session(&state.store, token).await?;
    }
    Ok((
        [(
            header::SET_COOKIE,
            sign_out_cookie(over_https(&state, &headers)),
        )],
        Json(json!({"signed_in": false})),
    )
        .into_response())
}

/// The signed-in account: its data so far and its model, if trained.
pub async fn me(State(state): State<AppState>, user: DemoUser) -> Result<Json<Value>, ApiError> {
    let stats = state.store.user(user.user_id.as_str()).await?;
    let model = match state.store.model(user.user_id.as_str()).await? {
        Some(m) => {
            let summary: Value =
                serde_json::from_str(&m.summary_json).map_err(ApiError::internal)?;
            json!({
                "trained_at_ms": m.trained_at_ms,
                "genuine_actions": summary["genuine_actions"],
                "background_users": summary["background_users"],
                "expected_eer": summary["expected_eer"],
            })
        }
        None => Value::Null,
    };
    Ok(Json(json!({
        "username": user.username,
        "user_id": user.user_id,
        "events": stats.as_ref().map_or(0, |s| s.events),
        "sessions": stats.as_ref().map_or(0, |s| s.sessions),
        "enrolled": !model.is_null(),
        "model": model,
    })))
}

/// A session the demo page asks for: `enrol` on the enrolment page, `continuous` on the
/// session page.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    purpose: Purpose,
}

/// Opens a collection session for the signed-in account, as a site's backend does (the
/// demo server is this site's backend): the server chooses the id, and only this account
/// writes to or listens to it.
pub async fn open_session(
    State(state): State<AppState>,
    user: DemoUser,
    JsonBody(request): JsonBody<SessionRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if request.purpose == Purpose::Verify {
        return Err(ApiError::bad_request(
            "invalid_purpose",
            "the demo opens enrol or continuous sessions; its sign-in is scored inline",
        ));
    }
    let opened = sessions::open(&state, &user.user_id, request.purpose, None).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"session_id": opened.session_id, "expires_ms": opened.expires_ms})),
    ))
}

/// A session the demo server opened for this account (see [`open_session`]): one account
/// can neither write to nor listen to another's.
async fn check_session(
    state: &AppState,
    user: &DemoUser,
    session_id: String,
) -> Result<SessionId, ApiError> {
    let session_id = SessionId::parse(session_id)?;
    let owned = state
        .store
        .collection_session(session_id.as_str())
        .await?
        .is_some_and(|s| s.user_id == user.user_id.as_str());
    if owned {
        Ok(session_id)
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "foreign_session",
            format!("session {session_id} was not opened for {}", user.user_id),
        ))
    }
}

/// A collector batch from a demo page (the SDK's wire format); `user_id`, if sent, must be
/// the signed-in account's; `screen` is accepted and left out (see [`page_recording`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoBatch {
    #[serde(default)]
    user_id: Option<String>,
    session_id: String,
    seq: u32,
    events: Vec<NativeEvent>,
    #[serde(default, rename = "screen")]
    _screen: Option<IgnoredAny>,
}

pub async fn events(
    State(state): State<AppState>,
    user: DemoUser,
    JsonBody(batch): JsonBody<DemoBatch>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if batch
        .user_id
        .as_ref()
        .is_some_and(|u| u != user.user_id.as_str())
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "foreign_user",
            format!(
                "signed in as {}: events are stored for it only",
                user.user_id
            ),
        ));
    }
    let session_id = check_session(&state, &user, batch.session_id).await?;
    let recording = page_recording(batch.events);
    let stored = store_batch(
        &state,
        &user.user_id,
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

/// Trains the account's model from everything it has sent, and waits for it.
pub async fn train(State(state): State<AppState>, user: DemoUser) -> Result<Response, ApiError> {
    let job = queue_training_if_any_events(&state, &user.user_id)
        .await?
        .ok_or_else(|| {
            ApiError::bad_request(
                "no_events",
                "no mouse events recorded yet: do the enrolment tasks first",
            )
        })?;
    match wait_for_job(&state, job, TRAIN_WAIT).await? {
        JobOutcome::Done => Ok(me(State(state), user).await?.into_response()),
        JobOutcome::Failed(message) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "training_failed",
            message,
        )),
        JobOutcome::Pending => Ok((
            StatusCode::ACCEPTED,
            Json(json!({"state": "training", "job": job})),
        )
            .into_response()),
    }
}

/// The trust WebSocket of one of the account's sessions.
pub async fn stream(
    State(state): State<AppState>,
    user: DemoUser,
    Path(session_id): Path<String>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let session_id = check_session(&state, &user, session_id).await?;
    Ok(upgrade_to_trust(state, session_id, None, upgrade))
}
