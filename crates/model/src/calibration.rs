//! From action scores to a calibrated session score and a decision.
//!
//! Out-of-fold action scores of the user (genuine) and of people the model did not train on
//! (impostors) are summarised by their means and a pooled spread. A session's mean action
//! score `m` over `n` actions then gives the log-likelihood ratio of two normal laws whose
//! variance shrinks with the number of actions (inflated by `dependence`, because consecutive
//! actions of one person are correlated). The ratio is comparable across users, so one
//! threshold serves all of them, and it grows with the evidence.
//!
//! Impostor statistics come from people the model never trained against (see
//! `UserModel::train`), because that is who a stranger is. Their mean action scores differ
//! from one person to the next, and no number of actions averages that away: the impostor
//! spread of a session's mean is `between² + within² · dependence / n`, not `within² / n`.
//! A threshold for a target false-accept rate that forgot the `between` part would let a
//! stranger who happens to resemble the user through far more often than promised.
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
    /// Standard deviation of strangers' own mean action scores around the impostor mean,
    /// beyond what their within-person spread explains (0 for a one-class model, and for
    /// models stored before it was fitted).
    pub impostor_between_sd: f64,
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
    /// Fits the calibration from out-of-fold action score sequences: the user's held-out
    /// blocks, and one sequence per impostor the scoring model never trained against.
    pub fn fit(genuine: &[Vec<f64>], impostor: &[Vec<f64>]) -> Self {
        let (genuine_mean, genuine_sd) = mean_sd(genuine.iter().flatten().copied());
        let impostor_stats = (!impostor.iter().all(Vec::is_empty))
            .then(|| mean_sd(impostor.iter().flatten().copied()));
        let mut ratios = vec![dependence(genuine)];
        if impostor_stats.is_some() {
            ratios.push(dependence(impostor));
        }
        let dependence = ratios.iter().sum::<f64>() / ratios.len() as f64;
        let impostor_between_sd = impostor_stats.map_or(0.0, |(_, sd)| {
            between_sd(impostor, dependence).min(sd * BETWEEN_SHARE_MAX.sqrt())
        });
        Self {
            genuine_mean,
            genuine_sd,
            impostor: impostor_stats,
            dependence,
            impostor_between_sd,
        }
    }

    /// Effective number of independent actions in `n` consecutive ones.
    fn effective(&self, n: usize) -> f64 {
        n.max(1) as f64 / self.dependence
    }

    /// Spread of the mean action score of a genuine session of `n` actions.
    fn genuine_spread(&self, n: usize) -> f64 {
        self.genuine_sd / self.effective(n).sqrt()
    }

    /// Spread of the mean action score of a stranger's session of `n` actions: the
    /// within-person part shrinks with `n`, the between-person part does not.
    fn impostor_spread(&self, n: usize) -> Option<f64> {
        let (_, si) = self.impostor?;
        let between = self.impostor_between_sd.powi(2);
        // The whole variance is between plus within (the law of total variance).
        let within = (si.powi(2) - between).max(0.0);
        Some((between + within / self.effective(n)).sqrt())
    }

    /// The evidence for a session whose mean action score is `mean` over `n` actions.
    pub fn evidence(&self, mean: f64, n: usize) -> f64 {
        let genuine = self.genuine_spread(n);
        match (self.impostor, self.impostor_spread(n)) {
            (Some((mi, _)), Some(impostor)) => {
                let pooled = (genuine.powi(2) + impostor.powi(2)) / 2.0;
                let gap = self.genuine_mean - mi;
                gap / pooled * (mean - (self.genuine_mean + mi) / 2.0)
            }
            _ => (mean - self.genuine_mean) / genuine,
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
        let (mi, _) = self.impostor?;
        let spread = self.impostor_spread(n)?;
        let mean = mi + normal_quantile(1.0 - far.clamp(1e-9, 1.0 - 1e-9)) * spread;
        Some(self.to_score(self.evidence(mean, n)))
    }

    /// The score threshold at which genuine sessions of `n` actions would be rejected at
    /// rate `frr`: the policy for a model without impostor statistics.
    pub fn threshold_for_frr(&self, frr: f64, n: usize) -> f64 {
        let spread = self.genuine_spread(n);
        let mean = self.genuine_mean + normal_quantile(frr.clamp(1e-9, 1.0 - 1e-9)) * spread;
        self.to_score(self.evidence(mean, n))
    }

    /// The accept threshold for sessions of `n` actions when strangers should get in at
    /// rate `target_far`: the decision policy the service and `eval` share. A one-class model
    /// has no impostor statistics, so it holds genuine rejections to 5% instead.
    pub fn accept_threshold(&self, target_far: f64, n: usize) -> f64 {
        self.threshold_for_far(target_far, n)
            .unwrap_or_else(|| self.threshold_for_frr(0.05, n))
    }

    /// The equal error rate the calibration predicts for sessions of `n` actions.
    pub fn expected_eer(&self, n: usize) -> Option<f64> {
        let (mi, _) = self.impostor?;
        let spread = self.genuine_spread(n) + self.impostor_spread(n)?;
        Some(normal_cdf(-(self.genuine_mean - mi) / spread))
    }
}

fn mean_sd(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = values.clone().count().max(1) as f64;
    let mean = values.clone().sum::<f64>() / n;
    let var = values.map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    // A spread of zero would make any session infinitely certain.
    (mean, var.sqrt().max(1e-3))
}

/// How much more a mean of [`WINDOW`] consecutive scores varies around its own sequence's
/// mean than independence predicts. Around the sequence's own mean, because sequences of
/// different people differ in mean: that is [`between_sd`]'s part, not dependence.
fn dependence(sequences: &[Vec<f64>]) -> f64 {
    const WINDOW: usize = 10;
    let (mut window_var, mut windows, mut action_var, mut actions) = (0.0, 0, 0.0, 0);
    for s in sequences.iter().filter(|s| s.len() >= 2 * WINDOW) {
        let own = mean(s);
        let k = s.len() / WINDOW;
        let spread: f64 = s
            .chunks_exact(WINDOW)
            .map(|w| (mean(w) - own).powi(2))
            .sum();
        // Deviations from a mean fitted to the same windows run small by (k - 1) / k.
        window_var += spread * k as f64 / (k - 1) as f64;
        windows += k;
        action_var += s.iter().map(|x| (x - own).powi(2)).sum::<f64>();
        actions += s.len();
    }
    if windows < 5 || action_var <= 0.0 {
        return 1.0;
    }
    let ratio = (window_var / windows as f64) * WINDOW as f64 / (action_var / actions as f64);
    ratio.clamp(1.0, WINDOW as f64)
}

/// The spread of each sequence's own mean around the mean of all that the spread within
/// sequences (inflated by `dependence`) does not explain: how much people differ.
/// Sequences of fewer than [`BETWEEN_MIN_ACTIONS`] actions say too little about their
/// owner's mean to count.
fn between_sd(sequences: &[Vec<f64>], dependence: f64) -> f64 {
    let counted: Vec<&Vec<f64>> = sequences
        .iter()
        .filter(|s| s.len() >= BETWEEN_MIN_ACTIONS)
        .collect();
    if counted.len() < 2 {
        return 0.0;
    }
    let mean_of_all = mean(
        &counted
            .iter()
            .flat_map(|s| s.iter().copied())
            .collect::<Vec<_>>(),
    );
    let excess: f64 = counted
        .iter()
        .map(|s| {
            let own = mean(s);
            let within = s.iter().map(|x| (x - own).powi(2)).sum::<f64>() / s.len() as f64;
            (own - mean_of_all).powi(2) - within * dependence / s.len() as f64
        })
        .sum();
    (excess / counted.len() as f64).max(0.0).sqrt()
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// See [`between_sd`].
const BETWEEN_MIN_ACTIONS: usize = 20;

/// The between-person part is at most this share of the impostors' whole variance, so
/// some spread is always left within a person.
const BETWEEN_SHARE_MAX: f64 = 0.9;

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
            impostor_between_sd: 0.0,
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

    /// Draws from a normal law (Box-Muller).
    fn normal(rng: &mut impl rand::Rng, mean: f64, sd: f64) -> f64 {
        let (u, v): (f64, f64) = (rng.r#gen::<f64>().max(1e-300), rng.r#gen());
        mean + sd * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// People whose own mean action score is drawn around `mean` with spread `between`,
    /// each with `actions` independent action scores of spread `within`.
    fn people(
        rng: &mut impl rand::Rng,
        count: usize,
        actions: usize,
        (mean, between, within): (f64, f64, f64),
    ) -> Vec<Vec<f64>> {
        (0..count)
            .map(|_| {
                let own = normal(rng, mean, between);
                (0..actions).map(|_| normal(rng, own, within)).collect()
            })
            .collect()
    }

    #[test]
    fn strangers_get_in_at_the_target_rate_whatever_the_session_length() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(7);
        let stranger = (-1.0, 0.6, 1.5);
        let genuine = people(&mut rng, 3, 300, (1.5, 0.0, 1.2));
        let impostors = people(&mut rng, 200, 300, stranger);
        let c = Calibration::fit(&genuine, &impostors);
        assert!(
            (c.impostor_between_sd - 0.6).abs() < 0.1,
            "between-person spread {}",
            c.impostor_between_sd
        );
        // Fresh strangers, never seen by the fit: the realized false-accept rate at each
        // length stays near the target (the fit without the between-person part lets
        // several times too many through on long sessions).
        for (n, target) in [(5, 0.05), (20, 0.01), (100, 0.01), (100, 0.05)] {
            let threshold = c.accept_threshold(target, n);
            let trials = 4_000;
            let accepted = people(&mut rng, trials, n, stranger)
                .iter()
                .filter(|s| c.session(s).score >= threshold)
                .count();
            let far = accepted as f64 / trials as f64;
            assert!(
                far >= target * 0.5 && far <= target * 2.0,
                "{n} actions, target {target}: realized {far}"
            );
            let naive = Calibration {
                impostor_between_sd: 0.0,
                ..c.clone()
            };
            if n == 100 {
                let t = naive.accept_threshold(target, n);
                let naive_far = people(&mut rng, trials, n, stranger)
                    .iter()
                    .filter(|s| naive.session(s).score >= t)
                    .count() as f64
                    / trials as f64;
                assert!(naive_far > target * 3.0, "without it: {naive_far}");
            }
        }
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
