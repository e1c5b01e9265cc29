//! How a scored session becomes a decision: the threshold a policy gives for a session of
//! so many actions, and the verdict with its reasons; and the verdict on input that is not
//! plausible pointer input, which no model scores.

use pointerprint_core::Implausible;
use pointerprint_model::{Decision, SessionScore, UserModel};
use serde::Serialize;

use crate::domain::settings::{Settings, ThresholdPolicy};

/// The answer of a verification.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    /// `accept`, `reject` or `insufficient_data`.
    #[schema(value_type = String)]
    pub decision: Decision,
    /// Why, for machines: `score_at_or_above_threshold`, `score_below_threshold`,
    /// `too_few_actions`, or `implausible_input` (not pointer input a hand makes: never
    /// scored, always `reject`).
    pub code: ReasonCode,
    /// In [0, 1]; higher means more likely the genuine user.
    pub score: f64,
    pub threshold: f64,
    pub actions: usize,
    /// Why, for people.
    pub reasons: Vec<String>,
}

/// The machine-readable reason of a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    ScoreAtOrAboveThreshold,
    ScoreBelowThreshold,
    TooFewActions,
    ImplausibleInput,
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
    let (code, reason) = match decision {
        Decision::InsufficientData => (
            ReasonCode::TooFewActions,
            format!(
                "{} mouse actions; at least {} are needed for a decision",
                score.actions, settings.min_actions
            ),
        ),
        Decision::Accept => (
            ReasonCode::ScoreAtOrAboveThreshold,
            format!(
                "score {:.3} is at or above the threshold {t:.3} for {} actions",
                score.score, score.actions
            ),
        ),
        Decision::Reject => (
            ReasonCode::ScoreBelowThreshold,
            format!(
                "score {:.3} is below the threshold {t:.3} for {} actions",
                score.score, score.actions
            ),
        ),
    };
    Verdict {
        decision,
        code,
        score: score.score,
        threshold: t,
        actions: score.actions,
        reasons: vec![reason],
    }
}

/// The verdict on input that is not plausible pointer input: rejected unscored (score 0),
/// with the threshold a session of `actions` actions would have had.
pub fn implausible(
    model: &UserModel,
    reason: &Implausible,
    settings: &Settings,
    user_id: &str,
    actions: usize,
) -> Verdict {
    Verdict {
        decision: Decision::Reject,
        code: ReasonCode::ImplausibleInput,
        score: 0.0,
        threshold: threshold(model, settings.policy_for(user_id), actions),
        actions,
        reasons: vec![format!(
            "not plausible pointer input ({}): {reason}",
            reason.code()
        )],
    }
}
