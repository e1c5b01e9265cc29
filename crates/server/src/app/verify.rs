//! Turning a session's events into a decision, and writing it to the audit log. Events that
//! are not plausible pointer input (see `pointerprint_core::plausibility`) are rejected
//! without being scored.

use pointerprint_core::{FeatureVector, Gate, Recording, Refused, extract_plausible};
use pointerprint_storage::NewDecision;

use crate::app::App;
use crate::app::error::{AppError, ErrorKind};
use crate::app::live::{self, LiveEvent};
use crate::domain::decision::{Verdict, decide, implausible};
use crate::domain::events::check_events;
use crate::domain::ids::{SessionId, UserId};

/// The features of a recording that passes the plausibility gate, off the async threads
/// (extraction is CPU work).
pub async fn plausible_features(
    recording: Recording,
) -> Result<Result<Vec<FeatureVector>, Refused>, AppError> {
    tokio::task::spawn_blocking(move || extract_plausible(&recording, &Gate::default()))
        .await
        .map_err(AppError::internal)
}

/// Verifies what a stored session of the user has sent.
pub async fn verify_session(
    app: &App,
    user_id: &UserId,
    session_id: &SessionId,
) -> Result<Verdict, AppError> {
    let session = app
        .store
        .session_events(session_id.as_str())
        .await?
        .ok_or_else(|| AppError::not_found(format!("no events stored for session {session_id}")))?;
    if session.user_id != user_id.as_str() {
        return Err(AppError::invalid(
            "session_user_mismatch",
            format!("session {session_id} belongs to another user"),
        ));
    }
    verify(app, user_id, Some(session_id), session.recording).await
}

/// Verifies events sent with the request (checked like a batch, up to the verify limit).
pub async fn verify_events(
    app: &App,
    user_id: &UserId,
    recording: Recording,
) -> Result<Verdict, AppError> {
    check_events(&recording, app.config.max_verify_events)?;
    verify(app, user_id, None, recording).await
}

/// Verifies a recording against the user's model and records the decision.
async fn verify(
    app: &App,
    user_id: &UserId,
    session_id: Option<&SessionId>,
    recording: Recording,
) -> Result<Verdict, AppError> {
    let model = app.cache.model(user_id).await?.ok_or_else(|| {
        AppError::new(
            ErrorKind::Conflict,
            "not_enrolled",
            format!("user {user_id} has no trained model yet"),
        )
    })?;
    let settings = app.cache.settings();
    let verdict = match plausible_features(recording).await? {
        Ok(actions) => {
            let score = model.score_session(&actions);
            decide(&model, &score, &settings, user_id.as_str())
        }
        Err(refused) => implausible(
            &model,
            &refused.reason,
            &settings,
            user_id.as_str(),
            refused.actions,
        ),
    };
    let reasons_json = serde_json::to_string(&verdict.reasons).map_err(AppError::internal)?;
    let decision = serde_json::to_value(verdict.decision).map_err(AppError::internal)?;
    let decision = decision.as_str().unwrap_or("unknown");
    let created_ms = app.store.now_ms();
    let id = app
        .store
        .insert_decision(&NewDecision {
            user_id: user_id.as_str(),
            session_id: session_id.map(SessionId::as_str),
            decision,
            score: verdict.score,
            threshold: verdict.threshold,
            actions: verdict.actions as i64,
            reasons_json: &reasons_json,
            created_ms,
        })
        .await?;
    live::announce(
        app,
        LiveEvent::Decision {
            id,
            user_id: user_id.to_string(),
            session_id: session_id.map(SessionId::to_string),
            decision: decision.to_string(),
            score: verdict.score,
            threshold: verdict.threshold,
            created_ms,
        },
    );
    metrics::counter!("pointerprint_decisions_total", "decision" => decision.to_string())
        .increment(1);
    Ok(verdict)
}
