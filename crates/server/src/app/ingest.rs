//! Storing event batches, whatever endpoint they came through, and what new events call
//! for: automatic training once a user has sent enough.

use pointerprint_core::Recording;
use pointerprint_storage::{Inserted, NewBatch, TrainingStatus};

use crate::app::App;
use crate::app::error::AppError;
use crate::domain::enrolment::Enrolment;
use crate::domain::events::check_batch;
use crate::domain::ids::{SessionId, UserId};

/// Checks and stores a batch and, if it was new, queues training when due; `true` if it
/// was new. (The store announces the batch; whichever node holds the session's listeners
/// moves its trust, see [`crate::app::continuous`].)
pub async fn store_batch(
    app: &App,
    user_id: &UserId,
    session_id: &SessionId,
    seq: i64,
    recording: &Recording,
) -> Result<bool, AppError> {
    check_batch(recording, app.config.max_batch_events)?;
    let batch = NewBatch {
        user_id: user_id.as_str(),
        session_id: session_id.as_str(),
        seq,
        received_ms: app.store.now_ms(),
        events: &recording.events,
        screen: recording.screen,
    };
    let stored = matches!(app.store.insert_batch(&batch).await?, Inserted::Stored);
    if stored {
        let events = recording.events.len() as u64;
        metrics::counter!("pointerprint_events_ingested_total").increment(events);
        if let Err(e) = queue_training_when_due(app, user_id).await {
            tracing::warn!(user = %user_id, error = e.message, "cannot check enrolment");
        }
    }
    Ok(stored)
}

/// Where the user stands on the way to automatic training, from the database (so the same
/// on every node).
pub async fn enrolment(app: &App, user_id: &UserId) -> Result<Enrolment, AppError> {
    let status = app.store.training_status(user_id.as_str()).await?;
    Ok(standing(app, &status))
}

fn standing(app: &App, status: &TrainingStatus) -> Enrolment {
    Enrolment::of(
        status.events,
        status.failed_jobs,
        status.active_job,
        app.config.auto_train_events,
    )
}

/// Queues a user without a model for training once they have sent enough events: the
/// configured number, doubled after each failed training. Everything is read from the
/// database, so it works whichever node the events arrive at; users with a model are
/// remembered, so their ingest pays no query.
pub async fn queue_training_when_due(app: &App, user_id: &UserId) -> Result<(), AppError> {
    if app.cache.is_enrolled(user_id) {
        return Ok(());
    }
    let generation = app.cache.generation();
    let status = app.store.training_status(user_id.as_str()).await?;
    if status.has_model {
        app.cache.mark_enrolled(user_id, generation);
        return Ok(());
    }
    if standing(app, &status).is_due() {
        app.store.enqueue_training(user_id.as_str()).await?;
        app.job_queued().await;
    }
    Ok(())
}
