//! The normal-deviate (probit) axis of DET plots. On this scale the error rates of
//! two normally distributed score classes trace a straight line, and the
//! low-error region that matters for authentication gets most of the room.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

/// Smallest rate shown (0.05 %), as in NIST DETware; lower rates, including 0, are
/// clamped here.
pub(crate) const MIN_RATE: f64 = 0.0005;
/// Largest rate shown (50 %); higher rates, including 1, are clamped here.
pub(crate) const MAX_RATE: f64 = 0.5;
/// The conventional DET tick positions.
const TICKS: [f64; 8] = [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4];

/// A rate axis from [`MIN_RATE`] to [`MAX_RATE`], spaced by the probit of the rate.
pub(crate) struct ProbitAxis;

impl ProbitAxis {
    /// Clamps a rate into the axis range; NaN maps to the low end so it cannot
    /// reach the pixel arithmetic.
    pub(crate) fn clamp(rate: f64) -> f64 {
        if rate.is_nan() {
            MIN_RATE
        } else {
            rate.clamp(MIN_RATE, MAX_RATE)
        }
    }
}

impl Ranged for ProbitAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, (start, end): (i32, i32)) -> i32 {
        let low = probit(MIN_RATE);
        let fraction = (probit(Self::clamp(*value)) - low) / (probit(MAX_RATE) - low);
        start + (f64::from(end - start) * fraction).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Only the labelled ticks get grid lines; the light grid would be clutter.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            TICKS.to_vec()
        }
    }

    fn range(&self) -> Range<f64> {
        MIN_RATE..MAX_RATE
    }
}

impl ValueFormatter<f64> for ProbitAxis {
    fn format(value: &f64) -> String {
        let percent = value * 100.0;
        if percent < 1.0 {
            format!("{percent:.1}%")
        } else {
            format!("{percent:.0}%")
        }
    }
}

/// Inverse of the standard normal CDF for `p` in (0, 1), by Acklam's rational
/// approximation (relative error below 1.2e-9, far under a pixel).
pub(crate) fn probit(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.024_25;

    let tail = |q: f64| {
        let num = ((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5];
        let den = (((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0;
        num / den
    };
    if p < P_LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        let num = (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q;
        let den = ((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0;
        num / den
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probit_matches_known_quantiles() {
        for (p, z) in [
            (0.5, 0.0),
            (0.975, 1.959_963_985),
            (0.001, -3.090_232_306),
            (0.2, -0.841_621_234),
            (0.999_9, 3.719_016_485),
        ] {
            assert!((probit(p) - z).abs() < 1e-7, "probit({p}) = {}", probit(p));
        }
    }

    #[test]
    fn axis_maps_ends_and_clamps() {
        let axis = ProbitAxis;
        assert_eq!(axis.map(&MIN_RATE, (0, 400)), 0);
        assert_eq!(axis.map(&MAX_RATE, (0, 400)), 400);
        assert_eq!(axis.map(&0.0, (0, 400)), 0);
        assert_eq!(axis.map(&1.0, (0, 400)), 400);
        assert_eq!(axis.map(&f64::NAN, (0, 400)), 0);
        assert_eq!(axis.map(&MAX_RATE, (400, 0)), 0);
    }

    #[test]
    fn tick_labels_are_percentages() {
        let labels: Vec<String> = TICKS.iter().map(ProbitAxis::format).collect();
        assert_eq!(
            labels,
            ["0.1%", "0.5%", "1%", "2%", "5%", "10%", "20%", "40%"]
        );
    }
}
