//! Runtime settings that administrators change through the API; stored in the database.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How the accept threshold of a decision is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ThresholdPolicy {
    /// The threshold at which impostor sessions of the same length would be accepted at this
    /// rate, from the model's calibration.
    TargetFar(f64),
    /// A fixed threshold on the [0, 1] score.
    Fixed(f64),
}

/// The settings document of `GET/PUT /v1/settings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub threshold: ThresholdPolicy,
    /// Per-user threshold policies that replace the global one.
    pub user_overrides: BTreeMap<String, ThresholdPolicy>,
    /// Fewer actions than this give `insufficient_data` rather than a guess.
    pub min_actions: usize,
    /// A continuous session whose trust (0-100) falls below this is locked.
    pub lockout_trust: f64,
    /// Raw events older than this many days are purged.
    pub retention_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            threshold: ThresholdPolicy::TargetFar(0.01),
            user_overrides: BTreeMap::new(),
            min_actions: 5,
            lockout_trust: 30.0,
            retention_days: 90,
        }
    }
}

impl Settings {
    /// Checks every value; the message names the first bad one.
    pub fn validate(&self) -> Result<(), String> {
        let policy = |name: &str, p: &ThresholdPolicy| match *p {
            ThresholdPolicy::TargetFar(f) if !(f > 0.0 && f <= 0.5) => {
                Err(format!("{name}: target_far must be in (0, 0.5], got {f}"))
            }
            ThresholdPolicy::Fixed(t) if !(0.0..=1.0).contains(&t) => Err(format!(
                "{name}: fixed threshold must be in [0, 1], got {t}"
            )),
            _ => Ok(()),
        };
        policy("threshold", &self.threshold)?;
        for (user, p) in &self.user_overrides {
            policy(&format!("user_overrides.{user}"), p)?;
        }
        if !(0.0..=100.0).contains(&self.lockout_trust) {
            return Err(format!(
                "lockout_trust must be in [0, 100], got {}",
                self.lockout_trust
            ));
        }
        if self.retention_days == 0 {
            return Err("retention_days must be at least 1".into());
        }
        if self.min_actions == 0 {
            return Err("min_actions must be at least 1".into());
        }
        Ok(())
    }

    pub fn policy_for(&self, user_id: &str) -> ThresholdPolicy {
        self.user_overrides
            .get(user_id)
            .copied()
            .unwrap_or(self.threshold)
    }
}
