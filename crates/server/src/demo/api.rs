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
use pointerprint_model::Decision;
use pointerprint_storage::{AccountKind, StorageError};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use super::session::{DemoUser, sign_in_cookie, sign_out_cookie, token, user_id};
use crate::accounts::{
    SignInError, check_password, check_password_rules, count_failed_sign_in, end_web_session,
    hash_password, start_web_session,
};
use crate::error::ApiError;
use crate::ingest::{JsonBody, check_events, check_id, now_ms, store_batch};
use crate::routes::stream;
use crate::routes::users::queue_training_if_any_events;
use crate::settings::ThresholdPolicy;
use crate::state::AppState;
use crate::verify::verify;
use crate::worker::{JobOutcome, wait_for_job};

/// Longest wait for the enrolment's training before answering "still training".
const TRAIN_WAIT: Duration = Duration::from_secs(120);

/// False-accept rate the demo's accounts are held to, unless an administrator has set a
/// policy for the user already. A model trained on two minutes of one session against a
/// synthetic background is calibrated more strictly than it can keep to at 1% (the
/// service's default): the owner would be turned away as often as not.
const DEMO_TARGET_FAR: f64 = 0.05;

/// Writes the demo's threshold policy for a new demo user into the settings (an
/// administrator sees and may change it as any per-user override).
async fn hold_to_demo_policy(state: &AppState, user_id: &str) -> Result<(), ApiError> {
    let mut settings = state.settings.write().await;
    if settings.user_overrides.contains_key(user_id) {
        return Ok(());
    }
    let mut changed = settings.clone();
    changed.user_overrides.insert(
        user_id.to_owned(),
        ThresholdPolicy::TargetFar(DEMO_TARGET_FAR),
    );
    let json = serde_json::to_string(&changed).map_err(ApiError::internal)?;
    state.store.put_settings(&json).await?;
    *settings = changed;
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    username: String,
    password: String,
}

/// Usernames: 3 to 32 letters, digits, `.`, `_` or `-` (they become part of a user id).
fn check_username(username: &str) -> Result<(), ApiError> {
    let ok = (3..=32).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_username",
            "the username must be 3 to 32 letters, digits, '.', '_' or '-'",
        ))
    }
}

/// Creates a demo account and signs the browser in.
pub async fn register(
    State(state): State<AppState>,
    JsonBody(credentials): JsonBody<Credentials>,
) -> Result<Response, ApiError> {
    let Credentials { username, password } = credentials;
    check_username(&username)?;
    check_password_rules(&password).map_err(|m| ApiError::bad_request("weak_password", m))?;
    // Argon2 is deliberately slow: off the async threads.
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?;
    let account = match state
        .store
        .create_account(AccountKind::Demo, &username, &hash, now_ms())
        .await
    {
        Ok(account) => account,
        Err(StorageError::Conflict(_)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "username_taken",
                format!("the username {username} is taken"),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    hold_to_demo_policy(&state, &user_id(&username)).await?;
    let (token, _csrf) = start_web_session(&state.store, &account, now_ms()).await?;
    let body = json!({"username": username, "user_id": user_id(&username)});
    Ok(([(header::SET_COOKIE, sign_in_cookie(&token))], Json(body)).into_response())
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

fn sign_in_error(e: SignInError) -> ApiError {
    match e {
        SignInError::Invalid => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong username or password",
        ),
        SignInError::Locked { until_ms } => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "account_locked",
            format!(
                "too many failed sign-ins: try again in {} minutes",
                ((until_ms - now_ms()) / 60_000).max(1)
            ),
        ),
        SignInError::Storage(e) => e.into(),
    }
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
/// Signs the browser in only when both pass; answers the decision, score and threshold.
pub async fn login(
    State(state): State<AppState>,
    JsonBody(attempt): JsonBody<LoginAttempt>,
) -> Result<Response, ApiError> {
    let recording = page_recording(attempt.events);
    check_events(&recording, state.config.max_verify_events)?;
    let account = check_password(
        &state.store,
        AccountKind::Demo,
        &attempt.username,
        &attempt.password,
        now_ms(),
    )
    .await
    .map_err(sign_in_error)?;
    let verdict = verify(&state, &user_id(&account.username), None, recording).await?;
    let signed_in = verdict.decision == Decision::Accept;
    let mut body = serde_json::to_value(&verdict).map_err(ApiError::internal)?;
    body["username"] = json!(account.username);
    body["signed_in"] = json!(signed_in);
    match verdict.decision {
        Decision::Accept => state.store.record_login_success(account.id).await?,
        // A mouse that is not the owner's counts like a wrong password: whoever has the
        // password gets a few tries, not as many as it takes to be let in.
        Decision::Reject => {
            if let Some(until_ms) = count_failed_sign_in(&state.store, &account, now_ms()).await? {
                body["locked_until_ms"] = json!(until_ms);
            }
        }
        // Too few actions says nothing about who moved the mouse.
        Decision::InsufficientData => {}
    }
    if !signed_in {
        return Ok(Json(body).into_response());
    }
    let (token, _csrf) = start_web_session(&state.store, &account, now_ms()).await?;
    Ok(([(header::SET_COOKIE, sign_in_cookie(&token))], Json(body)).into_response())
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = token(&headers) {
        end_web_session(&state.store, token).await?;
    }
    Ok((
        [(header::SET_COOKIE, sign_out_cookie())],
        Json(json!({"signed_in": false})),
    )
        .into_response())
}

/// The signed-in account: its data so far and its model, if trained.
pub async fn me(State(state): State<AppState>, user: DemoUser) -> Result<Json<Value>, ApiError> {
    let stats = state.store.user(&user.user_id).await?;
    let model = match state.store.model(&user.user_id).await? {
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

/// Demo sessions are named after their user (`demo-NAME-...`), so one account can neither
/// write to nor listen to another's.
fn check_session(user: &DemoUser, session_id: &str) -> Result<(), ApiError> {
    check_id("session_id", session_id)?;
    if session_id.starts_with(&format!("{}-", user.user_id)) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "foreign_session",
            format!("demo session ids start with {}-", user.user_id),
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
    if batch.user_id.as_ref().is_some_and(|u| *u != user.user_id) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "foreign_user",
            format!(
                "signed in as {}: events are stored for it only",
                user.user_id
            ),
        ));
    }
    check_session(&user, &batch.session_id)?;
    let recording = page_recording(batch.events);
    check_events(&recording, state.config.max_batch_events)?;
    let stored = store_batch(
        &state,
        &user.user_id,
        &batch.session_id,
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
    check_session(&user, &session_id)?;
    let updates = state.subscribe(&session_id);
    Ok(upgrade.on_upgrade(move |socket| stream::serve(socket, state, session_id, updates)))
}
