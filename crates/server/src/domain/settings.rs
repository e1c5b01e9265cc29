//! Runtime settings that administrators change through the API; stored in the database.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::ids::{DEMO_USER_PREFIX, UserId};

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
    /// Per-user threshold policies that replace the global one (keys are user ids).
    pub user_overrides: BTreeMap<String, ThresholdPolicy>,
    /// The policy of the demo site's users (ids `demo-NAME`) without an override. A model
    /// trained on two minutes of one session against a synthetic background is calibrated
    /// more strictly than it can keep to at 1%: the owner would be turned away as often as
    /// not. One rule for all of them, rather than an override per sign-up, so the settings
    /// do not grow with every visitor.
    pub demo_threshold: ThresholdPolicy,
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
            demo_threshold: ThresholdPolicy::TargetFar(0.05),
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
        policy("demo_threshold", &self.demo_threshold)?;
        for (user, p) in &self.user_overrides {
            UserId::parse(user.as_str()).map_err(|e| format!("user_overrides: {e}"))?;
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

    /// The user's override, else the demo's policy for a demo user, else the global one.
    pub fn policy_for(&self, user_id: &str) -> ThresholdPolicy {
        match self.user_overrides.get(user_id) {
            Some(p) => *p,
            None if user_id.starts_with(DEMO_USER_PREFIX) => self.demo_threshold,
            None => self.threshold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_are_keyed_by_valid_ids() {
        let mut settings = Settings::default();
        settings
            .user_overrides
            .insert("bad id".into(), ThresholdPolicy::Fixed(0.5));
        assert!(
            settings
                .validate()
                .unwrap_err()
                .starts_with("user_overrides")
        );
        settings.user_overrides.clear();
        settings
            .user_overrides
            .insert("alice".into(), ThresholdPolicy::Fixed(0.5));
        assert!(settings.validate().is_ok());
    }

    #[test]
    fn demo_users_follow_the_demo_policy_unless_overridden() {
        let mut settings = Settings::default();
        assert_eq!(
            settings.policy_for("demo-bob"),
            ThresholdPolicy::TargetFar(0.05)
        );
        assert_eq!(settings.policy_for("bob"), ThresholdPolicy::TargetFar(0.01));
        settings
            .user_overrides
            .insert("demo-bob".into(), ThresholdPolicy::Fixed(0.7));
        assert_eq!(settings.policy_for("demo-bob"), ThresholdPolicy::Fixed(0.7));
    }
}
