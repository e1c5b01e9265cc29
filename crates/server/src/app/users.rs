//! A user's data as a whole: training on demand, starting enrolment over, erasure, and
//! export.

use pointerprint_formats::{NativeRecording, to_native};
use pointerprint_storage::{AccountKind, DecisionQuery, Erased};
use serde::Serialize;
use serde_json::Value;

use crate::app::App;
use crate::app::error::AppError;
use crate::domain::ids::{DEMO_USER_PREFIX, UserId};
use crate::domain::settings::ThresholdPolicy;

/// Decisions read from the store at a time for an export.
const EXPORT_CHUNK: u32 = 1_000;

/// Erases everything about a user: their data, model and decisions, their threshold
/// override in the settings, and for a demo user the demo account and its signed-in
/// sessions; then makes the deleted rows leave the database's files and forgets what
/// memory holds about them.
pub async fn erase_user(app: &App, user_id: &UserId) -> Result<Erased, AppError> {
    let erased = app.store.erase_user(user_id.as_str()).await?;
    app.cache
        .update_settings(|settings| settings.user_overrides.remove(user_id.as_str()).is_some())
        .await?;
    if let Some(username) = user_id.as_str().strip_prefix(DEMO_USER_PREFIX) {
        app.store
            .delete_account(AccountKind::Demo, username)
            .await?;
    }
    if !app.store.scrub().await? {
        tracing::warn!(user = %user_id, "erased rows may stay in the WAL until its next checkpoint");
    }
    app.cache.user_changed(user_id).await;
    tracing::info!(user = %user_id, ?erased, "user erased");
    Ok(erased)
}

/// Everything stored about a user, for them to take elsewhere (`GET /v1/users/{id}/export`).
#[derive(Debug, Serialize)]
pub struct UserExport {
    /// `pointerprint-user-export/1`.
    pub format: &'static str,
    pub user_id: UserId,
    /// When the export was made, milliseconds since the epoch.
    pub exported_ms: i64,
    /// Every stored session, its events in the native JSON event format.
    pub sessions: Vec<ExportedSession>,
    /// Every decision about the user, oldest first.
    pub decisions: Vec<ExportedDecision>,
    /// The model's summary (the model itself is the service's, not personal data in a
    /// portable form), or `null`.
    pub model: Option<ExportedModel>,
    /// The user's own threshold policy, if an administrator set one.
    pub threshold_override: Option<ThresholdPolicy>,
    /// The demo account of a demo user: its username and creation time.
    pub demo_account: Option<Value>,
}

#[derive(Debug, Serialize)]
pub struct ExportedSession {
    pub session_id: String,
    pub batches: u64,
    /// `{"screen": {...} | null, "events": [...]}` as the collector sends them.
    pub recording: NativeRecording,
}

#[derive(Debug, Serialize)]
pub struct ExportedDecision {
    pub id: i64,
    pub session_id: Option<String>,
    pub decision: String,
    pub score: f64,
    pub threshold: f64,
    pub actions: i64,
    pub reasons: Vec<String>,
    pub created_ms: i64,
}

#[derive(Debug, Serialize)]
pub struct ExportedModel {
    pub trained_at_ms: i64,
    pub summary: Value,
}

/// Everything stored about a user; not found when nothing is.
pub async fn export_user(app: &App, user_id: &UserId) -> Result<UserExport, AppError> {
    let demo_account = match user_id.as_str().strip_prefix(DEMO_USER_PREFIX) {
        Some(username) => app.store.account(AccountKind::Demo, username).await?,
        None => None,
    };
    if app.store.user(user_id.as_str()).await?.is_none() && demo_account.is_none() {
        return Err(AppError::not_found(format!("no user {user_id}")));
    }
    let sessions = app
        .store
        .user_sessions(user_id.as_str())
        .await?
        .into_iter()
        .map(|s| ExportedSession {
            recording: to_native(&s.recording),
            session_id: s.session_id,
            batches: s.batches,
        })
        .collect();
    let mut decisions = Vec::new();
    loop {
        let chunk = app
            .store
            .decisions(&DecisionQuery {
                user_id: Some(user_id.as_str()),
                offset: decisions.len() as u64,
                limit: EXPORT_CHUNK,
                ..DecisionQuery::default()
            })
            .await?;
        let last = chunk.len() < EXPORT_CHUNK as usize;
        decisions.extend(chunk.into_iter().map(|d| ExportedDecision {
            reasons: serde_json::from_str(&d.reasons_json).unwrap_or_default(),
            id: d.id,
            session_id: d.session_id,
            decision: d.decision,
            score: d.score,
            threshold: d.threshold,
            actions: d.actions,
            created_ms: d.created_ms,
        }));
        if last {
            break;
        }
    }
    decisions.reverse();
    let model = match app.store.model(user_id.as_str()).await? {
        Some(m) => Some(ExportedModel {
            trained_at_ms: m.trained_at_ms,
            summary: serde_json::from_str(&m.summary_json).map_err(AppError::internal)?,
        }),
        None => None,
    };
    Ok(UserExport {
        format: "pointerprint-user-export/1",
        user_id: user_id.clone(),
        exported_ms: app.store.now_ms(),
        sessions,
        decisions,
        model,
        threshold_override: app
            .cache
            .settings()
            .user_overrides
            .get(user_id.as_str())
            .copied(),
        demo_account: demo_account
            .map(|a| serde_json::json!({"username": a.username, "created_ms": a.created_ms})),
    })
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
