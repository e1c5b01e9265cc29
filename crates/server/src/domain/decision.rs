//! How a scored session becomes a decision: the threshold a policy gives for a session of
//! so many actions, and the verdict with its reasons.

use pointerprint_model::{Decision, SessionScore, UserModel};
use serde::Serialize;

use crate::domain::settings::{Settings, ThresholdPolicy};

/// The answer of a verification.
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

/// The accept threshold for a session of `actions` actions under `policy`.
pub fn threshold(model: &UserModel, policy: ThresholdPolicy, actions: usize) -> f64 {
    match policy {
        ThresholdPolicy::Fixed(t) => t,
        ThresholdPolicy::TargetFar(far) => model.calibration().accept_threshold(far, actions),
    }
}

/// Decides on a scored session of `user_id` and says why.
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
