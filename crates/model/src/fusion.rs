//! One decision from several modalities (mouse, typing): calibrated score-level fusion.
//!
//! Each modality's model gives a log-likelihood ratio, genuine vs impostor. When the
//! modalities are independent given who is typing and moving the mouse, the ratio of the
//! joint observation is the product of theirs, so the log-ratios add. [`Independence`]
//! checks that on paired scores and gives the discount to apply when they are correlated;
//! [`Recalibration`] makes each modality's ratios honest on strangers before they are added.
//! A session with only one modality is decided on that one alone.

use serde::{Deserialize, Serialize};

/// A source of behavioural evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    Mouse,
    Keystroke,
}

/// One modality's calibrated log-likelihood ratio (higher = more likely the genuine user).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub modality: Modality,
    pub llr: f64,
}

/// What a modality contributed to a fused decision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub modality: Modality,
    /// Its log-likelihood ratio as added into the fused one (after any discount).
    pub llr: f64,
    /// Its part of the total weight of evidence, `|llr| / Σ |llr|` (0 to 1; shares sum to 1
    /// unless every modality is silent).
    pub share: f64,
}

/// The fused verdict's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fused {
    /// The summed log-likelihood ratio.
    pub llr: f64,
    /// The posterior probability of the genuine user at even prior odds.
    pub score: f64,
    pub contributions: Vec<Contribution>,
}

/// Adds the modalities' log-likelihood ratios, each multiplied by `discount` (1 for
/// independent modalities; see [`Independence::discount`]). Non-finite ratios carry no
/// evidence and are left out; no evidence at all gives even odds.
pub fn fuse(evidence: &[Evidence], discount: f64) -> Fused {
    let discount = if discount.is_finite() {
        discount.clamp(0.0, 1.0)
    } else {
        1.0
    };
    let usable: Vec<Evidence> = evidence
        .iter()
        .filter(|e| e.llr.is_finite())
        .map(|e| Evidence {
            modality: e.modality,
            llr: e.llr * discount,
        })
        .collect();
    let llr: f64 = usable.iter().map(|e| e.llr).sum();
    let weight: f64 = usable.iter().map(|e| e.llr.abs()).sum();
    let contributions = usable
        .iter()
        .map(|e| Contribution {
            modality: e.modality,
            llr: e.llr,
            share: if weight > 0.0 {
                e.llr.abs() / weight
            } else {
                0.0
            },
        })
        .collect();
    Fused {
        llr,
        score: 1.0 / (1.0 + (-llr).exp()),
        contributions,
    }
}

/// An affine map `scale * llr + offset` that makes a modality's ratios log-likelihood ratios
/// on the people it will meet. A model's own calibration sees only its background population;
/// strangers may score differently, and a modality that is overconfident there would drown
/// the other in the sum. Fitted by logistic regression with the two classes weighted equally
/// (so the result is a ratio, not a posterior) on development trials with strangers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Recalibration {
    pub scale: f64,
    pub offset: f64,
}

impl Recalibration {
    /// `None` without finite scores in both classes.
    pub fn fit(genuine: &[f64], impostor: &[f64]) -> Option<Self> {
        let finite = |v: &[f64]| {
            v.iter()
                .copied()
                .filter(|x| x.is_finite())
                .collect::<Vec<_>>()
        };
        let (g, i) = (finite(genuine), finite(impostor));
        if g.is_empty() || i.is_empty() {
            return None;
        }
        let data: Vec<(f64, f64, f64)> = g
            .iter()
            .map(|&x| (x, 1.0, 0.5 / g.len() as f64))
            .chain(i.iter().map(|&x| (x, 0.0, 0.5 / i.len() as f64)))
            .collect();
        // Newton's method on the weighted log-loss (convex), from the flat map, with a
        // little ridge for separable data and step halving so it never overshoots.
        const RIDGE: f64 = 1e-4;
        let loss = |a: f64, b: f64| -> f64 {
            let data_loss: f64 = data
                .iter()
                .map(|&(x, y, w)| {
                    let z = a * x + b;
                    // log(1 + e^z) - y z, computed without overflow.
                    w * (z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z)
                })
                .sum();
            data_loss + RIDGE * a * a / 2.0
        };
        let (mut a, mut b) = (0.0, 0.0);
        let mut current = loss(a, b);
        for _ in 0..100 {
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (RIDGE * a, 0.0, RIDGE, 0.0, 1e-12);
            for &(x, y, w) in &data {
                let p = 1.0 / (1.0 + (-(a * x + b)).exp());
                let (r, v) = (w * (p - y), w * p * (1.0 - p));
                ga += r * x;
                gb += r;
                haa += v * x * x;
                hab += v * x;
                hbb += v;
            }
            let det = haa * hbb - hab * hab;
            if !det.is_finite() || det <= 0.0 {
                break;
            }
            let (da, db) = ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det);
            let mut step = 1.0;
            while step > 1e-9 && loss(a - step * da, b - step * db) > current {
                step /= 2.0;
            }
            let (na, nb) = (a - step * da, b - step * db);
            let next = loss(na, nb);
            if next > current || (step * (da.abs() + db.abs())) < 1e-12 {
                break;
            }
            (a, b, current) = (na, nb, next);
        }
        (a.is_finite() && b.is_finite()).then_some(Self {
            scale: a,
            offset: b,
        })
    }

    pub fn apply(&self, llr: f64) -> f64 {
        self.scale * llr + self.offset
    }
}

/// Whether two modalities' log-likelihood ratios are independent, from sessions that have
/// both: their correlation among genuine sessions and among impostor sessions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Independence {
    pub genuine_correlation: f64,
    pub impostor_correlation: f64,
    pub genuine_pairs: usize,
    pub impostor_pairs: usize,
}

/// Correlations at most this large (in either class) are treated as independence.
pub const INDEPENDENCE_LIMIT: f64 = 0.3;

impl Independence {
    /// From paired ratios `(first modality, second modality)` of genuine and of impostor
    /// sessions, one list per model (claimed user). Pairs are centred within their model
    /// before pooling: models differ in their typical ratios, which is no dependence between
    /// the modalities. `None` with fewer than 3 pairs in a class or a constant modality.
    pub fn check(genuine: &[Vec<(f64, f64)>], impostor: &[Vec<(f64, f64)>]) -> Option<Self> {
        let (genuine, impostor) = (centred(genuine), centred(impostor));
        Some(Self {
            genuine_correlation: correlation(&genuine)?,
            impostor_correlation: correlation(&impostor)?,
            genuine_pairs: genuine.len(),
            impostor_pairs: impostor.len(),
        })
    }

    /// Whether adding the ratios is justified.
    pub fn holds(&self) -> bool {
        self.genuine_correlation.abs() <= INDEPENDENCE_LIMIT
            && self.impostor_correlation.abs() <= INDEPENDENCE_LIMIT
    }

    /// The factor for the summed ratios of two positively correlated modalities of similar
    /// strength: the sum of two standard normal scores with correlation `r` has variance
    /// `2(1 + r)` instead of 2, so it overstates the evidence by `1 + r`. 1 when independent.
    pub fn discount(&self) -> f64 {
        let r = self
            .genuine_correlation
            .max(self.impostor_correlation)
            .max(0.0);
        1.0 / (1.0 + r)
    }
}

/// The finite pairs of every group, less their group's means.
fn centred(groups: &[Vec<(f64, f64)>]) -> Vec<(f64, f64)> {
    let mut all = Vec::new();
    for group in groups {
        let finite: Vec<(f64, f64)> = group
            .iter()
            .copied()
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .collect();
        let n = finite.len().max(1) as f64;
        let ma = finite.iter().map(|p| p.0).sum::<f64>() / n;
        let mb = finite.iter().map(|p| p.1).sum::<f64>() / n;
        all.extend(finite.iter().map(|(a, b)| (a - ma, b - mb)));
    }
    all
}

/// Pearson correlation of the pairs' finite members.
fn correlation(pairs: &[(f64, f64)]) -> Option<f64> {
    let pairs: Vec<(f64, f64)> = pairs
        .iter()
        .copied()
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .collect();
    if pairs.len() < 3 {
        return None;
    }
    let n = pairs.len() as f64;
    let (ma, mb) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (a, b) in &pairs {
        sab += (a - ma) * (b - mb);
        saa += (a - ma).powi(2);
        sbb += (b - mb).powi(2);
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(modality: Modality, llr: f64) -> Evidence {
        Evidence { modality, llr }
    }

    #[test]
    fn ratios_add_and_contributions_are_shares() {
        let f = fuse(
            &[e(Modality::Mouse, 3.0), e(Modality::Keystroke, -1.0)],
            1.0,
        );
        assert_eq!(f.llr, 2.0);
        assert!((f.score - 1.0 / (1.0 + (-2.0f64).exp())).abs() < 1e-12);
        assert_eq!(f.contributions[0].share, 0.75);
        assert_eq!(f.contributions[1].share, 0.25);
        assert_eq!(f.contributions[1].llr, -1.0);
    }

    #[test]
    fn one_modality_decides_alone_and_bad_ratios_carry_nothing() {
        let alone = fuse(&[e(Modality::Mouse, 1.5)], 1.0);
        assert_eq!(alone.llr, 1.5);
        assert_eq!(alone.contributions.len(), 1);
        assert_eq!(alone.contributions[0].share, 1.0);
        let f = fuse(
            &[e(Modality::Mouse, 1.5), e(Modality::Keystroke, f64::NAN)],
            1.0,
        );
        assert_eq!(f.llr, 1.5);
        let none = fuse(&[], 1.0);
        assert_eq!((none.llr, none.score), (0.0, 0.5));
        assert!(none.contributions.is_empty());
        assert_eq!(fuse(&[e(Modality::Mouse, 2.0)], 0.5).llr, 1.0);
    }

    #[test]
    fn recalibration_tames_an_overconfident_modality() {
        // Ratios ten times too large, shifted by 2: genuine around +10, impostors around -10
        // with overlap, so the best affine map shrinks them.
        let genuine: Vec<f64> = (0..200)
            .map(|i| 12.0 + ((i * 37) % 41) as f64 - 20.0)
            .collect();
        let impostor: Vec<f64> = (0..200)
            .map(|i| -8.0 + ((i * 53) % 41) as f64 - 20.0)
            .collect();
        let r = Recalibration::fit(&genuine, &impostor).unwrap();
        assert!(r.scale > 0.0 && r.scale < 1.0, "{r:?}");
        // The midpoint of the two classes maps to even odds.
        assert!(r.apply(2.0).abs() < 0.2, "{r:?}");
        assert!(Recalibration::fit(&genuine, &[]).is_none());
        assert!(Recalibration::fit(&[f64::NAN], &impostor).is_none());
    }

    #[test]
    fn correlated_modalities_are_detected_and_discounted() {
        let independent: Vec<(f64, f64)> = (0..200)
            .map(|i| (i as f64, ((i * 7919) % 200) as f64))
            .collect();
        let alone = std::slice::from_ref(&independent);
        let check = Independence::check(alone, alone).unwrap();
        assert!(check.holds(), "{check:?}");
        assert!(check.discount() > 0.9);
        let correlated: Vec<(f64, f64)> = (0..200)
            .map(|i| (i as f64, i as f64 + ((i * 7919) % 20) as f64))
            .collect();
        let check = Independence::check(&[correlated], alone).unwrap();
        assert!(!check.holds());
        assert!(check.genuine_correlation > 0.9);
        assert!((check.discount() - 1.0 / (1.0 + check.genuine_correlation)).abs() < 1e-12);
        let one = vec![(1.0, 2.0)];
        assert!(Independence::check(&[one], alone).is_none());
        let constant = vec![(1.0, 2.0); 5];
        assert!(Independence::check(&[constant], alone).is_none());
        // Two models whose ratios differ only by an offset: no dependence within either.
        let shifted: Vec<(f64, f64)> = independent
            .iter()
            .map(|(a, b)| (a + 500.0, b + 500.0))
            .collect();
        let check = Independence::check(&[independent.clone(), shifted], alone).unwrap();
        assert!(check.holds(), "{check:?}");
    }
}
