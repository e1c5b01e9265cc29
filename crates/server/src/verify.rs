//! Turning a session's events into a decision, and writing it to the audit log.

use pointerprint_core::{FeatureVector, Recording, extract};
use pointerprint_model::{Decision, SessionScore, UserModel};
use pointerprint_storage::NewDecision;
use serde::Serialize;

use crate::error::ApiError;
use crate::ingest::now_ms;
use crate::live::{self, LiveEvent};
use crate::settings::{Settings, ThresholdPolicy};
use crate::state::AppState;

/// The answer of `POST /v1/verify`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    /// `accept`, `reject` or `insufficient_data`.
    #[schema(value_type = String)]
    pub decision: Decision,
    /// In [0, 1]; higher means more likely the genuine user.
    pub score: f64,
    pub threshold: f64,
    pub actions: usize,
    pub reasons: Vec<String>,
}

/// Features off the async threads: extraction is CPU work.
pub async fn features(recording: Recording) -> Result<Vec<FeatureVector>, ApiError> {
    tokio::task::spawn_blocking(move || extract(&recording))
        .await
        .map_err(ApiError::internal)
}

/// The lowest threshold a target false-accept rate can give a two-class model: even odds.
/// Its calibration knows only the background users it was trained against, and someone it
/// never saw scores higher than they do; so a session whose evidence favours "someone else"
/// is never accepted, however far below it those users' scores lay.
const EVEN_ODDS: f64 = 0.5;

/// The accept threshold for a session of `actions` actions under `policy`.
pub fn threshold(model: &UserModel, policy: ThresholdPolicy, actions: usize) -> f64 {
    match policy {
        ThresholdPolicy::Fixed(t) => t,
        ThresholdPolicy::TargetFar(far) => {
            let calibration = model.calibration();
            // A one-class model has no impostor statistics: hold genuine rejections to 5%.
            calibration
                .threshold_for_far(far, actions)
                .map(|t| t.max(EVEN_ODDS))
                .unwrap_or_else(|| calibration.threshold_for_frr(0.05, actions))
        }
    }
}

/// Decides on a scored session and says why.
pub fn decide(
    model: &UserModel,
    score: &SessionScore,
    settings: &Settings,
    user_id: &str,
) -> Verdict {
    let t = threshold(model, settings.policy_for(user_id), score.actions);
    let decision = UserModel::decide(score, t, settings.min_actions);
    let reason = match decision {
        Decision::InsufficientData => format!(
            "{} mouse actions; at least {} are needed for a decision",
            score.actions, settings.min_actions
        ),
        Decision::Accept => format!(
            "score {:.3} is at or above the threshold {t:.3} for {} actions",
            score.score, score.actions
        ),
        Decision::Reject => format!(
            "score {:.3} is below the threshold {t:.3} for {} actions",
            score.score, score.actions
        ),
    };
    Verdict {
        decision,
        score: score.score,
        threshold: t,
        actions: score.actions,
        reasons: vec![reason],
    }
}

/// Verifies a recording against the user's model and records the decision.
pub async fn verify(
    state: &AppState,
    user_id: &str,
    session_id: Option<&str>,
    recording: Recording,
) -> Result<Verdict, ApiError> {
    let model = state.model(user_id).await?.ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "not_enrolled",
            format!("user {user_id} has no trained model yet"),
        )
    })?;
    let actions = features(recording).await?;
    let score = model.score_session(&actions);
    let settings = state.settings.read().await.clone();
    let verdict = decide(&model, &score, &settings, user_id);
    let reasons_json = serde_json::to_string(&verdict.reasons).map_err(ApiError::internal)?;
    let decision = serde_json::to_value(verdict.decision).map_err(ApiError::internal)?;
    let decision = decision.as_str().unwrap_or("unknown");
    let created_ms = now_ms();
    let id = state
        .store
        .insert_decision(&NewDecision {
            user_id,
            session_id,
            decision,
            score: verdict.score,
            threshold: verdict.threshold,
            actions: verdict.actions as i64,
            reasons_json: &reasons_json,
            created_ms,
        })
        .await?;
    live::publish(
        state,
        LiveEvent::Decision {
            id,
            user_id: user_id.to_string(),
            session_id: session_id.map(str::to_string),
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
