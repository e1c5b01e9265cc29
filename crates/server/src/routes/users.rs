use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use pointerprint_storage::{Erased, Role, UserStats};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::ingest::check_id;
use crate::state::AppState;
use crate::worker::{JobOutcome, wait_for_job};

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
    responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Secret)?;
    check_id("user_id", &user_id)?;
    let stats = state
        .store
        .user(&user_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {user_id}")))?;
    let mut body = describe(&state, &stats).await?;
    // Actions are counted on demand: it takes extracting the user's sessions.
    let sessions = state.store.user_sessions(&user_id).await?;
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

/// Erases everything stored about the user and says how much was removed.
#[utoipa::path(delete, path = "/v1/users/{user_id}", tag = "users", params(("user_id" = String, Path)),
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub async fn erase(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Secret)?;
    let erased = erase_user(&state, &user_id).await?;
    Ok(Json(json!({"user_id": user_id, "erased": erased})))
}

/// Erases a user's data, model and decisions, and forgets what memory holds about them.
pub(crate) async fn erase_user(state: &AppState, user_id: &str) -> Result<Erased, ApiError> {
    check_id("user_id", user_id)?;
    let erased = state.store.erase_user(user_id).await?;
    state.forget_model(user_id).await;
    tracing::info!(user = %user_id, ?erased, "user erased");
    Ok(erased)
}

/// Starts a user's enrolment over: events, model and queued training go, the decisions
/// stay in the audit log.
pub(crate) async fn reset_user(state: &AppState, user_id: &str) -> Result<Erased, ApiError> {
    check_id("user_id", user_id)?;
    let reset = state.store.reset_user(user_id).await?;
    state.forget_model(user_id).await;
    tracing::info!(user = %user_id, ?reset, "user reset");
    Ok(reset)
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
    let reset = reset_user(&state, &user_id).await?;
    Ok(Json(json!({"user_id": user_id, "reset": reset})))
}

/// Queues training of a user who has sent events and wakes the workers of every node;
/// returns the job id, or `None` (nothing queued) if the user has sent no events.
pub(crate) async fn queue_training_if_any_events(
    state: &AppState,
    user_id: &str,
) -> Result<Option<i64>, ApiError> {
    if state
        .store
        .user(user_id)
        .await?
        .is_none_or(|u| u.events == 0)
    {
        return Ok(None);
    }
    let job = state.store.enqueue_training(user_id).await?;
    state.job_queued().await;
    Ok(Some(job))
}

/// Queues training of a user who has sent events; returns the job id.
pub(crate) async fn queue_training(state: &AppState, user_id: &str) -> Result<i64, ApiError> {
    check_id("user_id", user_id)?;
    queue_training_if_any_events(state, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("user {user_id} has sent no events")))
}

#[derive(Deserialize)]
pub struct TrainParams {
    #[serde(default)]
    wait: bool,
}

/// Queues training; with `?wait=true` answers when it is done, with the model summary.
#[utoipa::path(post, path = "/v1/users/{user_id}/train", tag = "users",
    params(("user_id" = String, Path), ("wait" = Option<bool>, Query)),
    responses((status = 200, body = Object), (status = 202, body = Object), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn train(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
    Query(params): Query<TrainParams>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Secret)?;
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
                .user(&user_id)
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
