//! A user's data as a whole: training on demand, starting enrolment over, erasure.

use pointerprint_storage::Erased;

use crate::app::App;
use crate::app::error::AppError;
use crate::domain::ids::UserId;

/// Erases a user's data, model and decisions, and forgets what memory holds about them.
pub async fn erase_user(app: &App, user_id: &UserId) -> Result<Erased, AppError> {
    let erased = app.store.erase_user(user_id.as_str()).await?;
    app.cache.user_changed(user_id).await;
    tracing::info!(user = %user_id, ?erased, "user erased");
    Ok(erased)
}

/// Starts a user's enrolment over: events, model and queued training go, the decisions
/// stay in the audit log.
pub async fn reset_user(app: &App, user_id: &UserId) -> Result<Erased, AppError> {
    let reset = app.store.reset_user(user_id.as_str()).await?;
    app.cache.user_changed(user_id).await;
    tracing::info!(user = %user_id, ?reset, "user reset");
    Ok(reset)
}

/// Queues training of a user who has events that may train a model (see
/// [`crate::app::sessions`]) and wakes the workers of every node; returns the job id, or
/// `None` (nothing queued) if the user has none.
pub async fn queue_training_if_any_events(
    app: &App,
    user_id: &UserId,
) -> Result<Option<i64>, AppError> {
    if app.store.training_status(user_id.as_str()).await?.events == 0 {
        return Ok(None);
    }
    let job = app.store.enqueue_training(user_id.as_str()).await?;
    app.job_queued().await;
    Ok(Some(job))
}

/// Queues training of a user who has events that may train a model; returns the job id.
pub async fn queue_training(app: &App, user_id: &UserId) -> Result<i64, AppError> {
    queue_training_if_any_events(app, user_id).await?.ok_or_else(|| {
        AppError::not_found(format!(
            "user {user_id} has no events of an enrolment session or of a session labelled genuine"
        ))
    })
}
