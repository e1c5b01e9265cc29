//! From action scores to a calibrated session score and a decision.
//!
//! Out-of-fold action scores of the user (genuine) and of people the model did not train on
//! (impostors) are summarised by their means and a pooled spread. A session's mean action
//! score `m` over `n` actions then gives the log-likelihood ratio of two normal laws whose
//! variance shrinks with the number of actions (inflated by `dependence`, because consecutive
//! actions of one person are correlated). The ratio is comparable across users, so one
//! threshold serves all of them, and it grows with the evidence.
//!
//! For ranking sessions of different lengths (and for comparing one session across several
//! users' models) the length-free [`SessionScore::normalized`] mean serves better: it puts the
//! user's own typical session at +0.5 and a stranger's at -0.5, whatever the user.

use serde::{Deserialize, Serialize};

/// Summary statistics of out-of-fold action scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub genuine_mean: f64,
    pub genuine_sd: f64,
    /// Absent for a one-class model, which never saw an impostor.
    pub impostor: Option<(f64, f64)>,
    /// Variance of a window's mean score relative to independent actions (at least 1).
    pub dependence: f64,
}

/// The verdict on a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Accept,
    Reject,
    InsufficientData,
}

/// A session's calibrated score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SessionScore {
    /// Actions that contributed.
    pub actions: usize,
    /// Mean action score.
    pub mean: f64,
    /// The mean on a per-user scale: +0.5 at the genuine mean, -0.5 at the impostor mean
    /// (one-class: standard deviations from the genuine mean).
    pub normalized: f64,
    /// Log-likelihood ratio genuine vs impostor (one-class: standard score against the
    /// user's own sessions). Unbounded; higher means more likely the genuine user.
    pub evidence: f64,
    /// `evidence` mapped to [0, 1], higher meaning more likely the genuine user.
    pub score: f64,
}

impl Calibration {
    /// Fits the calibration from out-of-fold action score sequences (one per held-out block).
    pub fn fit(genuine: &[Vec<f64>], impostor: &[Vec<f64>]) -> Self {
        let (genuine_mean, genuine_sd) = mean_sd(genuine.iter().flatten().copied());
        let impostor_stats = (!impostor.iter().all(Vec::is_empty))
            .then(|| mean_sd(impostor.iter().flatten().copied()));
        let mut ratios = vec![dependence(genuine, genuine_mean, genuine_sd)];
        if let Some((m, s)) = impostor_stats {
            ratios.push(dependence(impostor, m, s));
        }
        let dependence = ratios.iter().sum::<f64>() / ratios.len() as f64;
        Self {
            genuine_mean,
            genuine_sd,
            impostor: impostor_stats,
            dependence,
        }
    }

    fn pooled_sd(&self) -> f64 {
        match self.impostor {
            Some((_, si)) => ((self.genuine_sd.powi(2) + si.powi(2)) / 2.0).sqrt(),
            None => self.genuine_sd,
        }
    }

    /// Effective number of independent actions in `n` consecutive ones.
    fn effective(&self, n: usize) -> f64 {
        n as f64 / self.dependence
    }

    /// The evidence for a session whose mean action score is `mean` over `n` actions.
    pub fn evidence(&self, mean: f64, n: usize) -> f64 {
        let sd = self.pooled_sd();
        let n_eff = self.effective(n);
        match self.impostor {
            Some((mi, _)) => {
                let gap = self.genuine_mean - mi;
                n_eff * gap / (sd * sd) * (mean - (self.genuine_mean + mi) / 2.0)
            }
            None => (mean - self.genuine_mean) / (sd / n_eff.sqrt()),
        }
    }

    /// A mean action score on the per-user scale of [`SessionScore::normalized`].
    pub fn normalized(&self, mean: f64) -> f64 {
        match self.impostor {
            Some((mi, _)) => {
                (mean - (self.genuine_mean + mi) / 2.0) / (self.genuine_mean - mi).max(1e-3)
            }
            None => (mean - self.genuine_mean) / self.genuine_sd,
        }
    }

    /// Scores a session from its action scores.
    pub fn session(&self, action_scores: &[f64]) -> SessionScore {
        let n = action_scores.len();
        if n == 0 {
            return SessionScore {
                actions: 0,
                mean: 0.0,
                normalized: 0.0,
                evidence: 0.0,
                score: 0.5,
            };
        }
        let mean = action_scores.iter().sum::<f64>() / n as f64;
        let evidence = self.evidence(mean, n);
        SessionScore {
            actions: n,
            mean,
            normalized: self.normalized(mean),
            evidence,
            score: self.to_score(evidence),
        }
    }

    /// Two-class evidence is a log-likelihood ratio: the logistic function makes it the
    /// posterior at even odds. One-class evidence is a standard score: its normal CDF.
    fn to_score(&self, evidence: f64) -> f64 {
        match self.impostor {
            Some(_) => 1.0 / (1.0 + (-evidence).exp()),
            None => normal_cdf(evidence),
        }
    }

    /// The score threshold (on the [0, 1] scale) at which impostor sessions of `n` actions
    /// would be accepted at rate `far`, or `None` for a model that never saw an impostor.
    pub fn threshold_for_far(&self, far: f64, n: usize) -> Option<f64> {
        let (mi, si) = self.impostor?;
        let spread = si * (self.dependence / n.max(1) as f64).sqrt();
        let mean = mi + normal_quantile(1.0 - far.clamp(1e-9, 1.0 - 1e-9)) * spread;
        Some(self.to_score(self.evidence(mean, n)))
    }

    /// The score threshold at which genuine sessions of `n` actions would be rejected at
    /// rate `frr`: the policy for a model without impostor statistics.
    pub fn threshold_for_frr(&self, frr: f64, n: usize) -> f64 {
        let spread = self.genuine_sd * (self.dependence / n.max(1) as f64).sqrt();
        let mean = self.genuine_mean + normal_quantile(frr.clamp(1e-9, 1.0 - 1e-9)) * spread;
        self.to_score(self.evidence(mean, n))
    }

    /// The equal error rate the calibration predicts for sessions of `n` actions.
    pub fn expected_eer(&self, n: usize) -> Option<f64> {
        let (mi, si) = self.impostor?;
        let scale = (self.dependence / n.max(1) as f64).sqrt();
        let d = (self.genuine_mean - mi) / ((self.genuine_sd + si) * scale);
        Some(normal_cdf(-d))
    }
}

fn mean_sd(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = values.clone().count().max(1) as f64;
    let mean = values.clone().sum::<f64>() / n;
    let var = values.map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    // A spread of zero would make any session infinitely certain.
    (mean, var.sqrt().max(1e-3))
}

/// How much more a mean of [`WINDOW`] consecutive scores varies than independence predicts.
fn dependence(sequences: &[Vec<f64>], mean: f64, sd: f64) -> f64 {
    const WINDOW: usize = 10;
    let window_means: Vec<f64> = sequences
        .iter()
        .flat_map(|s| s.chunks_exact(WINDOW))
        .map(|w| w.iter().sum::<f64>() / WINDOW as f64)
        .collect();
    if window_means.len() < 5 {
        return 1.0;
    }
    let var =
        window_means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / window_means.len() as f64;
    (var * WINDOW as f64 / (sd * sd)).clamp(1.0, WINDOW as f64)
}

/// Standard normal CDF (Abramowitz & Stegun 7.1.26 erf, error below 1.5e-7).
pub(crate) fn normal_cdf(z: f64) -> f64 {
    if z.is_nan() {
        return 0.5;
    }
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// Standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_functions_match_tables() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-1.0) - 0.158_655_3).abs() < 1e-6);
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-6);
        assert!((normal_quantile(0.001) + 3.090_232).abs() < 1e-5);
        for p in [0.001, 0.02, 0.3, 0.5, 0.9, 0.999] {
            assert!((normal_cdf(normal_quantile(p)) - p).abs() < 1e-6);
        }
    }

    fn calibration() -> Calibration {
        Calibration {
            genuine_mean: 2.0,
            genuine_sd: 1.0,
            impostor: Some((-2.0, 1.0)),
            dependence: 1.0,
        }
    }

    #[test]
    fn evidence_grows_with_the_number_of_actions() {
        let c = calibration();
        assert_eq!(c.evidence(0.0, 10), 0.0);
        assert!(c.evidence(1.0, 20) > c.evidence(1.0, 5));
        assert!(c.evidence(-1.0, 20) < c.evidence(-1.0, 5));
        let s = c.session(&[2.0, 2.0, 2.0]);
        assert!(s.score > 0.99 && s.actions == 3);
        assert_eq!(s.normalized, 0.5);
        assert_eq!(c.session(&[-2.0]).normalized, -0.5);
    }

    #[test]
    fn far_threshold_is_met_by_construction() {
        let c = calibration();
        // 1% of single impostor actions score above -2 + 2.326.
        let t = c.threshold_for_far(0.01, 1).unwrap();
        let at = c.session(&[-2.0 + 2.326_348]).score;
        assert!((t - at).abs() < 1e-6);
        assert!(c.threshold_for_far(0.01, 16).unwrap() < t);
        assert!(c.expected_eer(1).unwrap() > c.expected_eer(10).unwrap());
    }

    #[test]
    fn one_class_uses_genuine_statistics() {
        let c = Calibration {
            impostor: None,
            ..calibration()
        };
        assert!(c.threshold_for_far(0.01, 5).is_none());
        let t = c.threshold_for_frr(0.05, 1);
        assert!((t - 0.05).abs() < 1e-6, "{t}");
    }
}
