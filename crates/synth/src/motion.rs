//! Pointing movements as sums of minimum-jerk submovements: a ballistic one that arcs and
//! under- or overshoots, then small corrections, with tremor on top.

use std::f64::consts::PI;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::random::{exp1, normal, poisson};
use crate::style::MotorStyle;

/// Shortest submovement (ms): nothing a hand does is quicker.
const MIN_SUBMOVEMENT_MS: f64 = 40.0;

/// One minimum-jerk submovement, relative to where the movement started.
#[derive(Debug, Clone, Copy)]
struct Submovement {
    start: f64,
    duration: f64,
    /// Exponent warping time so the speed peaks at the style's `peak_time_ratio`.
    warp: f64,
    dx: f64,
    dy: f64,
    /// Signed sideways bulge at mid-movement (px).
    arc: f64,
}

impl Submovement {
    fn offset(&self, t: f64) -> (f64, f64) {
        let tau = ((t - self.start) / self.duration).clamp(0.0, 1.0);
        let u = tau.powf(self.warp);
        let s = u * u * u * (10.0 + u * (6.0 * u - 15.0));
        let len = self.dx.hypot(self.dy);
        let bend = if len > 0.0 {
            self.arc * (PI * s).sin() / len
        } else {
            0.0
        };
        (self.dx * s - self.dy * bend, self.dy * s + self.dx * bend)
    }
}

/// A planned movement: where the pointer is at each moment after it starts.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    origin: (f64, f64),
    subs: Vec<Submovement>,
    /// Time (ms) from the start to the end of the last submovement.
    pub(crate) duration: f64,
    tremor_px: f64,
    /// Tremor angular frequencies (rad/ms) and phases, per axis.
    tremor: [(f64, f64); 2],
}

impl Plan {
    /// Plans a movement from `from` towards a target of size `width` at `to`; `slowdown`
    /// stretches the time (drags).
    pub(crate) fn pointing(
        rng: &mut ChaCha8Rng,
        style: &MotorStyle,
        from: (f64, f64),
        to: (f64, f64),
        width: f64,
        slowdown: f64,
    ) -> Self {
        let tremor_px = style.tremor_px * (0.5 * normal(rng)).exp();
        let omega = 2.0 * PI * style.tremor_hz / 1_000.0;
        let mut tremor = || {
            (
                omega * (1.0 + 0.1 * normal(rng)),
                rng.gen_range(0.0..2.0 * PI),
            )
        };
        let tremor = [tremor(), tremor()];
        let mut plan = Self {
            origin: from,
            subs: Vec::with_capacity(4),
            duration: 0.0,
            tremor_px,
            tremor,
        };
        let (dx, dy) = (to.0 - from.0, to.1 - from.1);
        let dist = dx.hypot(dy);
        if dist < 0.5 {
            return plan;
        }
        let (ux, uy) = (dx / dist, dy / dist);
        // Where the speed peaks varies a little from one movement to the next.
        let peak = (style.peak_time_ratio + 0.04 * normal(rng)).clamp(0.3, 0.65);
        let warp = 0.5f64.ln() / peak.ln();
        let time = |rng: &mut ChaCha8Rng, a: f64, d: f64| {
            let fitts = a + style.fitts_b_ms * (d / width + 1.0).log2();
            (fitts * slowdown * (style.movement_time_sd * normal(rng)).exp())
                .max(MIN_SUBMOVEMENT_MS)
        };

        // The ballistic submovement: most of the way, slightly off to the side, on an arc.
        let gain = if rng.gen_bool(style.overshoot_prob) {
            1.0 + style.overshoot_frac * (0.5 + exp1(rng))
        } else {
            (style.primary_gain + style.primary_gain_sd * normal(rng)).clamp(0.5, 1.0)
        };
        let side = 0.5 * style.primary_gain_sd * normal(rng) * dist;
        let direction = dy.atan2(dx);
        let bulge = style.curvature_bias
            + style.curvature_direction_gain * (direction + style.curvature_direction_phase).sin()
            + style.curvature_spread * normal(rng);
        let primary = Submovement {
            start: 0.0,
            duration: time(rng, style.fitts_a_ms, dist),
            warp,
            dx: ux * gain * dist - uy * side,
            dy: uy * gain * dist + ux * side,
            arc: bulge * dist,
        };
        plan.push(primary);

        // Corrections home in on the target; the last one lands on it, give or take.
        let mut reached = (primary.dx, primary.dy);
        let mut n = poisson(rng, style.corrections_mean, 3);
        if n == 0 && (dx - reached.0).hypot(dy - reached.1) > width / 2.0 {
            n = 1;
        }
        let mut previous = primary;
        for k in 0..n {
            let (ex, ey) = (dx - reached.0, dy - reached.1);
            let (cx, cy) = if k + 1 == n {
                let spread = width / 8.0;
                (ex + spread * normal(rng), ey + spread * normal(rng))
            } else {
                let g = 0.85 + 0.1 * normal(rng);
                (ex * g, ey * g)
            };
            let d = cx.hypot(cy);
            let gap = (style.correction_gap_ms + 25.0 * normal(rng)).max(-0.4 * previous.duration);
            let sub = Submovement {
                start: previous.start + previous.duration + gap,
                duration: time(rng, 0.5 * style.fitts_a_ms, d),
                warp,
                dx: cx,
                dy: cy,
                arc: 0.5 * style.curvature_spread * normal(rng) * d,
            };
            plan.push(sub);
            reached = (reached.0 + cx, reached.1 + cy);
            previous = sub;
        }
        plan
    }

    fn push(&mut self, sub: Submovement) {
        self.duration = self.duration.max(sub.start + sub.duration);
        self.subs.push(sub);
    }

    /// Position `t` ms after the start, tremor included (it fades out at both ends so the
    /// movement starts and stops where planned).
    pub(crate) fn position(&self, t: f64) -> (f64, f64) {
        let (mut x, mut y) = self.origin;
        for sub in &self.subs {
            let (ox, oy) = sub.offset(t);
            x += ox;
            y += oy;
        }
        if self.duration > 0.0 {
            let envelope = self.tremor_px * (PI * (t / self.duration).clamp(0.0, 1.0)).sin();
            let [(wx, px), (wy, py)] = self.tremor;
            x += envelope * (wx * t + px).sin();
            y += envelope * (wy * t + py).sin();
        }
        (x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::rng_for;

    fn speeds(plan: &Plan, step: f64) -> Vec<f64> {
        let mut out = Vec::new();
        let mut t = 0.0;
        while t + step <= plan.duration {
            let (a, b) = (plan.position(t), plan.position(t + step));
            out.push((b.0 - a.0).hypot(b.1 - a.1) / step);
            t += step;
        }
        out
    }

    #[test]
    fn movement_starts_still_ends_near_target_and_peaks_early() {
        let mut style = MotorStyle::from_seed(1);
        style.tremor_px = 0.0;
        for seed in 0..50 {
            let rng = &mut rng_for(seed, 0);
            let (from, to, width) = ((100.0, 500.0), (900.0, 300.0), 30.0);
            let plan = Plan::pointing(rng, &style, from, to, width, 1.0);
            assert_eq!(plan.position(0.0), from);
            let end = plan.position(plan.duration);
            let miss = (end.0 - to.0).hypot(end.1 - to.1);
            assert!(miss < width, "seed {seed}: missed by {miss}");
            // Bell-shaped: the peak speed falls in the ballistic part, well before the end.
            let v = speeds(&plan, 5.0);
            let peak = v
                .iter()
                .copied()
                .enumerate()
                .fold((0, 0.0), |m, (i, s)| if s > m.1 { (i, s) } else { m });
            assert!(peak.0 * 5 < (0.8 * plan.duration) as usize, "seed {seed}");
            assert!(
                v[0] < 0.2 * peak.1 && v[v.len() - 1] < 0.2 * peak.1,
                "seed {seed}"
            );
        }
    }

    #[test]
    fn movement_time_follows_fitts_law() {
        let mut style = MotorStyle::from_seed(2);
        style.corrections_mean = 0.0;
        style.overshoot_prob = 0.0;
        style.primary_gain = 1.0;
        style.primary_gain_sd = 0.0;
        style.movement_time_sd = 0.0;
        let rng = &mut rng_for(0, 0);
        let plan = Plan::pointing(rng, &style, (0.0, 0.0), (310.0, 0.0), 10.0, 1.0);
        let expected = style.fitts_a_ms + 5.0 * style.fitts_b_ms;
        assert!((plan.duration - expected).abs() < 1e-6);
    }
}
