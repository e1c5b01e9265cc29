//! Continuous authentication with a dynamic trust model in the manner of Mondal & Bours
//! ("A computational approach to the continuous authentication biometric system", 2015):
//! trust starts full and every action moves it, up a little when the action looks like the
//! user's, down more when it does not, so an impostor is locked out after a few actions while
//! the owner's occasional odd action costs little.

use pointerprint_model::UserModel;
use serde::Serialize;

/// Full trust.
pub const FULL: f64 = 100.0;
/// Largest gain from one action that looks like the user's.
const REWARD: f64 = 2.0;
/// Largest loss from one action that does not.
const PENALTY: f64 = 8.0;

/// What the WebSocket pushes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TrustUpdate {
    Trust {
        trust: f64,
        actions: usize,
        decision: &'static str,
    },
    Lock {
        trust: f64,
        actions: usize,
        reason: String,
    },
}

/// A continuous session's trust, moved by each action as it completes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trust {
    /// 0 to [`FULL`].
    pub level: f64,
    /// Actions seen so far, scored or not.
    pub actions: usize,
}

impl Default for Trust {
    fn default() -> Self {
        Self {
            level: FULL,
            actions: 0,
        }
    }
}

impl Trust {
    /// Moves trust by each of these actions' model scores in turn.
    pub fn score(&mut self, model: &UserModel, action_scores: &[f64]) {
        let calibration = model.calibration();
        for &s in action_scores {
            // +0.5 is the user's typical action, -0.5 a stranger's.
            let z = calibration.normalized(s);
            let step = if z >= 0.0 {
                REWARD * (2.0 * z).tanh()
            } else {
                PENALTY * (2.0 * z).tanh()
            };
            self.level = (self.level + step).clamp(0.0, FULL);
        }
        self.actions += action_scores.len();
    }

    /// Counts actions that no model could score (the user has none yet).
    pub fn count_unscored(&mut self, actions: usize) {
        self.actions += actions;
    }

    /// What to tell the session's listeners: too few actions (or no model) say nothing yet;
    /// otherwise the trust, or a lock-out below `lockout`.
    pub fn update(&self, scored: bool, min_actions: usize, lockout: f64) -> TrustUpdate {
        if !scored || self.actions < min_actions {
            return TrustUpdate::Trust {
                trust: FULL,
                actions: self.actions,
                decision: "insufficient_data",
            };
        }
        update(self.level, self.actions, lockout)
    }
}

/// The update to push for a session with this trust.
fn update(trust: f64, actions: usize, lockout: f64) -> TrustUpdate {
    if trust < lockout {
        TrustUpdate::Lock {
            trust,
            actions,
            reason: format!("trust {trust:.1} fell below the lock-out level {lockout:.1}"),
        }
    } else {
        TrustUpdate::Trust {
            trust,
            actions,
            decision: "accept",
        }
    }
}
