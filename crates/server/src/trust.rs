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

/// Trust after each of a session's actions in turn, given their model scores.
pub fn trust_after(model: &UserModel, action_scores: &[f64]) -> f64 {
    let calibration = model.calibration();
    action_scores.iter().fold(FULL, |trust, &s| {
        // +0.5 is the user's typical action, -0.5 a stranger's.
        let z = calibration.normalized(s);
        let step = if z >= 0.0 {
            REWARD * (2.0 * z).tanh()
        } else {
            PENALTY * (2.0 * z).tanh()
        };
        (trust + step).clamp(0.0, FULL)
    })
}

/// The update to push for a session with this trust.
pub fn update(trust: f64, actions: usize, lockout: f64) -> TrustUpdate {
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
