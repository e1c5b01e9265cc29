//! The background trainer: claims queued jobs one at a time (the queue lives in the
//! database, so it survives restarts and is shared by every node) and trains the user
//! against the other users. While it trains it renews the job's lease, so no other node
//! takes the job; if this node dies, the lease runs out and another node trains the user.

use std::time::Duration;

use pointerprint_core::augment::{COARSE_INTERVAL_MS, resample};
use pointerprint_core::{FeatureVector, extract};
use pointerprint_model::{Learner, PopulationLimit, TrainConfig, UserModel};

use pointerprint_storage::JobState;

use crate::app::AppState;
use crate::app::error::AppError;
use crate::domain::ids::UserId;

/// Runs until `shutdown` resolves, finishing the job in hand first.
pub async fn run(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        match state.store.claim_job().await {
            Ok(Some(job)) => {
                let result = tokio::select! {
                    result = train(&state, job.id, &job.user_id) => result,
                    lost = keep_lease(&state, job.id) => {
                        // The job is no longer this node's: another node may hold it now,
                        // so its outcome is not this node's to record.
                        tracing::warn!(user = %job.user_id, error = %lost, "training abandoned");
                        continue;
                    }
                };
                if let Err(e) = &result {
                    tracing::warn!(user = %job.user_id, error = %e, "training failed");
                }
                if let Err(e) = state
                    .store
                    .finish_job(job.id, result.err().as_deref())
                    .await
                {
                    tracing::error!(error = %e, "cannot record the end of a training job");
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "cannot claim a training job"),
        }
        tokio::select! {
            _ = state.jobs.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

/// How a training job ended, or that it had not ended in time.
pub enum JobOutcome {
    Done,
    Failed(String),
    Pending,
}

/// Waits up to `timeout` for a training job to end.
pub async fn wait_for_job(
    state: &AppState,
    job: i64,
    timeout: Duration,
) -> Result<JobOutcome, AppError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let current = state
            .store
            .job(job)
            .await?
            .ok_or_else(|| AppError::internal("training job vanished"))?;
        match current.state {
            JobState::Done => return Ok(JobOutcome::Done),
            JobState::Failed => {
                let message = current.error.unwrap_or_else(|| "training failed".into());
                return Ok(JobOutcome::Failed(message));
            }
            JobState::Queued | JobState::Running if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            _ => return Ok(JobOutcome::Pending),
        }
    }
}

/// Renews the job's lease until the job is over; returns only if the lease cannot be kept
/// (the job vanished, or the database is unreachable for longer than the lease).
async fn keep_lease(state: &AppState, job: i64) -> String {
    let every = state.store.job_lease() / 3;
    let mut failures = 0;
    loop {
        tokio::time::sleep(every).await;
        match state.store.renew_job(job).await {
            Ok(true) => failures = 0,
            Ok(false) => return "the job is no longer running (its user was erased)".into(),
            Err(e) if failures < 1 => {
                failures += 1;
                tracing::warn!(job, error = %e, "cannot renew a training job's lease");
            }
            Err(e) => return format!("lost the job's lease: {e}"),
        }
    }
}

/// Every session of the user that may train a model (opened for enrolment, or labelled
/// genuine), as training sequences (each followed by its resampled copy).
async fn user_actions(state: &AppState, user_id: &str) -> Result<Vec<Vec<FeatureVector>>, String> {
    let sessions = state
        .store
        .training_sessions(user_id)
        .await
        .map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || {
        sessions
            .iter()
            .flat_map(|s| {
                [
                    extract(&s.recording),
                    extract(&resample(&s.recording, COARSE_INTERVAL_MS)),
                ]
            })
            .collect()
    })
    .await
    .map_err(|e| e.to_string())
}

async fn train(state: &AppState, job: i64, user_id: &str) -> Result<(), String> {
    let started = std::time::Instant::now();
    let genuine = user_actions(state, user_id).await?;
    let mut population = Vec::new();
    let mut others = state.store.users().await.map_err(|e| e.to_string())?;
    others.retain(|u| u.user_id != user_id && u.events > 0);
    let sizes: Vec<usize> = others.iter().map(|u| u.events as usize).collect();
    for other in PopulationLimit::SERVICE
        .pick(&sizes)
        .into_iter()
        .map(|i| &others[i])
    {
        let mut actions: Vec<FeatureVector> = user_actions(state, &other.user_id).await?.concat();
        if actions.is_empty() {
            continue; // nothing of theirs is trusted
        }
        actions.truncate(PopulationLimit::SERVICE.actions);
        population.push(actions);
    }
    let config = TrainConfig {
        learner: if population.is_empty() {
            Learner::OneClass
        } else {
            Learner::Boosted
        },
        ..TrainConfig::default()
    };
    let model = tokio::task::spawn_blocking(move || {
        let genuine: Vec<&[FeatureVector]> = genuine.iter().map(Vec::as_slice).collect();
        let population: Vec<&[FeatureVector]> = population.iter().map(Vec::as_slice).collect();
        UserModel::train(&genuine, &population, &config)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    // The user may have been erased while the model trained: then it must not be stored.
    if state
        .store
        .job(job)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        return Err("the user was erased during training".into());
    }
    let bytes = model.to_bytes().map_err(|e| e.to_string())?;
    let summary = serde_json::to_string(model.summary()).map_err(|e| e.to_string())?;
    state
        .store
        .put_model(user_id, &bytes, &summary, state.store.now_ms())
        .await
        .map_err(|e| e.to_string())?;
    match UserId::parse(user_id) {
        Ok(user_id) => state.cache.user_changed(&user_id).await,
        Err(e) => tracing::error!(error = %e, "a training job of an invalid user id"),
    }
    metrics::histogram!("pointerprint_training_seconds").record(started.elapsed().as_secs_f64());
    tracing::info!(user = %user_id, seconds = started.elapsed().as_secs_f64(), "trained");
    Ok(())
}
