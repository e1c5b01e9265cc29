//! The error rates biometric systems are judged by, from labelled scores.
//!
//! Convention: a higher score means more likely an impostor, as in the Balabit challenge.

use serde::Serialize;

/// A scored trial: its score and whether it really was an impostor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    pub score: f64,
    pub impostor: bool,
}

/// One operating point: the rates when every score at or above `threshold` is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OperatingPoint {
    pub threshold: f64,
    /// Impostors let through (false accepts) over all impostors.
    pub far: f64,
    /// Genuine users flagged (false rejects) over all genuine users.
    pub frr: f64,
}

/// Summary of a score set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub auc: f64,
    pub eer: f64,
    pub genuine: usize,
    pub impostors: usize,
    /// False-reject rates at false-accept rates of 1%, 5% and 10% (NaN-free: 1.0 if unreachable).
    pub frr_at_far: [(f64, f64); 3],
}

/// ROC area: the probability that a random impostor scores above a random genuine trial
/// (ties count half). `None` without both classes.
pub fn auc(trials: &[Trial]) -> Option<f64> {
    let mut sorted: Vec<Trial> = trials
        .iter()
        .copied()
        .filter(|t| t.score.is_finite())
        .collect();
    sorted.sort_by(|a, b| a.score.total_cmp(&b.score));
    let impostors = sorted.iter().filter(|t| t.impostor).count() as f64;
    let genuine = sorted.len() as f64 - impostors;
    if impostors == 0.0 || genuine == 0.0 {
        return None;
    }
    // Sum of impostor ranks, with mid-ranks for ties (Mann-Whitney U).
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j < sorted.len() && sorted[j].score == sorted[i].score {
            j += 1;
        }
        let mid_rank = (i + j + 1) as f64 / 2.0;
        rank_sum += mid_rank * sorted[i..j].iter().filter(|t| t.impostor).count() as f64;
        i = j;
    }
    Some((rank_sum - impostors * (impostors + 1.0) / 2.0) / (impostors * genuine))
}

/// Every distinct operating point, from the strictest threshold to the most lenient.
pub fn operating_points(trials: &[Trial]) -> Vec<OperatingPoint> {
    let mut sorted: Vec<Trial> = trials
        .iter()
        .copied()
        .filter(|t| t.score.is_finite())
        .collect();
    sorted.sort_by(|a, b| b.score.total_cmp(&a.score));
    let impostors = sorted.iter().filter(|t| t.impostor).count().max(1) as f64;
    let genuine = sorted.iter().filter(|t| !t.impostor).count().max(1) as f64;
    // Threshold above every score: nothing flagged.
    let mut points = vec![OperatingPoint {
        threshold: f64::INFINITY,
        far: 1.0,
        frr: 0.0,
    }];
    let (mut flagged_impostors, mut flagged_genuine) = (0.0, 0.0);
    let mut i = 0;
    while i < sorted.len() {
        let threshold = sorted[i].score;
        while i < sorted.len() && sorted[i].score == threshold {
            if sorted[i].impostor {
                flagged_impostors += 1.0;
            } else {
                flagged_genuine += 1.0;
            }
            i += 1;
        }
        points.push(OperatingPoint {
            threshold,
            far: 1.0 - flagged_impostors / impostors,
            frr: flagged_genuine / genuine,
        });
    }
    points
}

/// Equal error rate: where false accepts and false rejects balance, interpolated between
/// the two operating points that straddle the crossing.
pub fn eer(points: &[OperatingPoint]) -> f64 {
    for w in points.windows(2) {
        let (a, b) = (w[0], w[1]);
        if a.far >= a.frr && b.far <= b.frr {
            let (da, db) = (a.far - a.frr, b.frr - b.far);
            let s = if da + db > 0.0 { da / (da + db) } else { 0.0 };
            return a.far + s * (b.far - a.far);
        }
    }
    0.5
}

/// The lowest false-reject rate at a false-accept rate of at most `far`.
pub fn frr_at_far(points: &[OperatingPoint], far: f64) -> f64 {
    points
        .iter()
        .filter(|p| p.far <= far)
        .map(|p| p.frr)
        .fold(1.0, f64::min)
}

impl Metrics {
    pub fn of(trials: &[Trial]) -> Option<Self> {
        let auc = auc(trials)?;
        let points = operating_points(trials);
        Some(Self {
            auc,
            eer: eer(&points),
            genuine: trials.iter().filter(|t| !t.impostor).count(),
            impostors: trials.iter().filter(|t| t.impostor).count(),
            frr_at_far: [0.01, 0.05, 0.10].map(|f| (f, frr_at_far(&points, f))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trials(genuine: &[f64], impostor: &[f64]) -> Vec<Trial> {
        let g = genuine.iter().map(|&score| Trial {
            score,
            impostor: false,
        });
        g.chain(impostor.iter().map(|&score| Trial {
            score,
            impostor: true,
        }))
        .collect()
    }

    #[test]
    fn perfect_separation() {
        let t = trials(&[0.1, 0.2, 0.3], &[0.7, 0.8]);
        assert_eq!(auc(&t), Some(1.0));
        assert_eq!(eer(&operating_points(&t)), 0.0);
    }

    #[test]
    fn reversed_and_tied_scores() {
        assert_eq!(auc(&trials(&[0.9, 0.8], &[0.1, 0.2])), Some(0.0));
        assert_eq!(auc(&trials(&[0.5, 0.5], &[0.5, 0.5])), Some(0.5));
        assert_eq!(auc(&trials(&[0.5], &[])), None);
    }

    #[test]
    fn hand_computed_auc_and_eer() {
        // Impostors 0.4, 0.8; genuine 0.1, 0.5, 0.6: pairs won 1 + 3 of 6.
        let t = trials(&[0.1, 0.5, 0.6], &[0.4, 0.8]);
        assert!((auc(&t).unwrap() - 4.0 / 6.0).abs() < 1e-12);
        // Flagging 0.8 and above misses one impostor of two (FAR 1/2, FRR 0); lowering the
        // threshold past 0.6 and 0.5 flags genuine trials (FRR 1/3, 2/3) with FAR still 1/2:
        // the rates cross at 1/2.
        let e = eer(&operating_points(&t));
        assert!((e - 0.5).abs() < 1e-12, "{e}");
        // One genuine trial above one impostor of four: the rates cross at 1/4.
        let t = trials(&[0.1, 0.2, 0.3, 0.75], &[0.4, 0.5, 0.7, 0.8]);
        let e = eer(&operating_points(&t));
        assert!((e - 0.25).abs() < 1e-12, "{e}");
    }

    #[test]
    fn frr_at_far_reads_the_curve() {
        let t = trials(&[0.1, 0.2, 0.3, 0.9], &[0.5, 0.6, 0.7, 0.8]);
        let p = operating_points(&t);
        assert_eq!(frr_at_far(&p, 0.0), 0.25);
        assert_eq!(frr_at_far(&p, 1.0), 0.0);
    }
}
