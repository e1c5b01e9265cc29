//! `/v1/users`: users, their data and models; training, reset, erasure.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use pointerprint_storage::{Role, UserStats};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::keys::Caller;
use crate::app::users::{UserExport, erase_user, export_user, queue_training, reset_user};
use crate::app::worker::{JobOutcome, wait_for_job};
use crate::domain::ids::UserId;
use crate::http::error::ApiError;

/// Longest `?wait=true` training wait before answering 202 anyway.
const TRAIN_WAIT: Duration = Duration::from_secs(300);

async fn describe(state: &AppState, stats: &UserStats) -> Result<Value, ApiError> {
    let model = match state.store.model(&stats.user_id).await? {
        Some(m) => {
            let summary: Value =
                serde_json::from_str(&m.summary_json).map_err(ApiError::internal)?;
            Some(json!({
                "trained_at_ms": m.trained_at_ms,
                "learner": summary["learner"],
                "genuine_actions": summary["genuine_actions"],
                "background_users": summary["background_users"],
                "expected_eer": summary["expected_eer"],
                "bytes": m.bytes.len(),
            }))
        }
        None => None,
    };
    Ok(json!({
        "user_id": stats.user_id,
        "events": stats.events,
        "batches": stats.batches,
        "sessions": stats.sessions,
        "enrolled": model.is_some(),
        "model": model,
    }))
}

/// Every user with their data and model status.
#[utoipa::path(get, path = "/v1/users", tag = "users", responses((status = 200, body = Object)), security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Secret)?;
    let mut users = Vec::new();
    for stats in state.store.users().await? {
        users.push(describe(&state, &stats).await?);
    }
    Ok(Json(json!({"users": users})))
}

/// One user: events, actions, whether enrolled, and the model summary.
#[utoipa::path(get, path = "/v1/users/{user_id}", tag = "users", params(("user_id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Secret)?;
    let user_id = UserId::parse(user_id)?;
    let stats = state
        .store
        .user(user_id.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {user_id}")))?;
    let mut body = describe(&state, &stats).await?;
    // Actions are counted on demand: it takes extracting the user's sessions.
    let sessions = state.store.user_sessions(user_id.as_str()).await?;
    let actions = tokio::task::spawn_blocking(move || {
        sessions
            .iter()
            .map(|s| pointerprint_core::extract(&s.recording).len())
            .sum::<usize>()
    })
    .await
    .map_err(ApiError::internal)?;
    body["actions"] = json!(actions);
    Ok(Json(body))
}

/// Everything stored about the user, for data portability: their sessions' events (native
/// JSON event format), every decision, the model's summary, their threshold override and
/// their demo account; the README's "Exporting a user" describes the document.
#[utoipa::path(get, path = "/v1/users/{user_id}/export", tag = "users", params(("user_id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> Result<Json<UserExport>, ApiError> {
    caller.require(Role::Secret)?;
    let user_id = UserId::parse(user_id)?;
    Ok(Json(export_user(&state, &user_id).await?))
}

/// Erases everything stored about the user (data, model, decisions, threshold override,
/// demo account) and says how much was removed.
#[utoipa::path(delete, path = "/v1/users/{user_id}", tag = "users", params(("user_id" = String, Path)),
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub async fn erase(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Secret)?;
    let user_id = UserId::parse(user_id)?;
    let erased = erase_user(&state, &user_id).await?;
    Ok(Json(json!({"user_id": user_id, "erased": erased})))
}

/// Discards the user's events and model so that enrolment starts over (after a change of
/// mouse, say); their decisions stay in the audit log.
#[utoipa::path(post, path = "/v1/users/{user_id}/reset", tag = "users", params(("user_id" = String, Path)),
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub async fn reset(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Secret)?;
    let user_id = UserId::parse(user_id)?;
    let reset = reset_user(&state, &user_id).await?;
    Ok(Json(json!({"user_id": user_id, "reset": reset})))
}

#[derive(Deserialize)]
pub struct TrainParams {
    #[serde(default)]
    wait: bool,
}

/// Queues training; with `?wait=true` answers when it is done, with the model summary.
#[utoipa::path(post, path = "/v1/users/{user_id}/train", tag = "users",
    params(("user_id" = String, Path), ("wait" = Option<bool>, Query)),
    responses((status = 200, body = Object), (status = 202, body = Object), (status = 404, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn train(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
    Query(params): Query<TrainParams>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Secret)?;
    let user_id = UserId::parse(user_id)?;
    let job = queue_training(&state, &user_id).await?;
    if !params.wait {
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({"job": job, "state": "queued"})),
        ));
    }
    match wait_for_job(&state, job, TRAIN_WAIT).await? {
        JobOutcome::Done => {
            let stats = state
                .store
                .user(user_id.as_str())
                .await?
                .ok_or_else(|| ApiError::not_found("user erased"))?;
            let body = describe(&state, &stats).await?;
            Ok((
                StatusCode::OK,
                Json(json!({"job": job, "state": "done", "user": body})),
            ))
        }
        JobOutcome::Failed(message) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "training_failed",
            message,
        )),
        JobOutcome::Pending => Ok((
            StatusCode::ACCEPTED,
            Json(json!({"job": job, "state": "running"})),
        )),
    }
}
