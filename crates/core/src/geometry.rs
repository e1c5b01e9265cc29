//! Small plane-geometry helpers shared by segmentation and features.

use std::f64::consts::PI;
use std::sync::LazyLock;

/// Wraps an angle difference into (-π, π], so a turn is measured the short way round.
#[inline]
pub fn wrap_angle(a: f64) -> f64 {
    let mut a = rem_full_turn(a);
    if a > PI {
        a -= 2.0 * PI;
    } else if a <= -PI {
        a += 2.0 * PI;
    }
    a
}

/// `a % 2π`, without the slow call to `fmod` where `%` leaves `a` as it is: a magnitude below
/// 2π, as every difference of two `atan2` results has.
#[inline]
fn rem_full_turn(a: f64) -> f64 {
    if a.abs() < 2.0 * PI {
        a
    } else {
        a % (2.0 * PI)
    }
}

/// Distance of point `p` from the infinite line through `a` and `b` (or from `a` if they coincide).
#[inline]
pub fn distance_to_line(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    Line::through(a, b).distance(p)
}

/// The infinite line through two points, for measuring many distances from it.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    a: (f64, f64),
    dx: f64,
    dy: f64,
    len: f64,
}

impl Line {
    #[inline]
    pub fn through(a: (f64, f64), b: (f64, f64)) -> Self {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        Self {
            a,
            dx,
            dy,
            len: dx.hypot(dy),
        }
    }

    /// The distance between the two points.
    #[inline]
    pub fn length(&self) -> f64 {
        self.len
    }

    /// Distance of `p` from the line (or from its first point if both points coincide).
    #[inline]
    pub fn distance(&self, p: (f64, f64)) -> f64 {
        let (a, dx, dy) = (self.a, self.dx, self.dy);
        if self.len == 0.0 {
            (p.0 - a.0).hypot(p.1 - a.1)
        } else {
            ((p.0 - a.0) * dy - (p.1 - a.1) * dx).abs() / self.len
        }
    }
}

/// The 45° sector (0..8, counter-clockwise from the positive x axis on a y-up plane) of a direction.
#[inline]
pub fn direction_sector(dx: f64, dy_up: f64) -> u8 {
    // `rem_euclid(2π)` as std works it out, with a quicker `%`.
    let r = rem_full_turn(dy_up.atan2(dx));
    let angle = if r < 0.0 { r + 2.0 * PI } else { r };
    ((angle / (PI / 4.0)) as u8).min(7)
}

/// Whole-pixel steps up to this far in x and in y are looked up in [`STEPS`].
const STEP_REACH: i32 = 63;
const STEP_SIDE: usize = 2 * STEP_REACH as usize + 1;

/// `(hypot(dx, dy), atan2(dy, dx))` of every whole-pixel step within [`STEP_REACH`], computed once
/// by the same functions: the per-step calls to them are most of the cost of features, and most
/// steps between mouse samples are a few whole pixels.
static STEPS: LazyLock<Box<[(f64, f64)]>> = LazyLock::new(|| {
    let reach = f64::from(STEP_REACH);
    (0..STEP_SIDE * STEP_SIDE)
        .map(|k| {
            let dx = (k % STEP_SIDE) as f64 - reach;
            let dy = (k / STEP_SIDE) as f64 - reach;
            (dx.hypot(dy), dy.atan2(dx))
        })
        .collect()
});

/// Length and direction of steps, exactly as `dx.hypot(dy)` and `dy.atan2(dx)` give them.
#[derive(Debug, Clone, Copy)]
pub struct StepTable {
    table: &'static [(f64, f64)],
}

impl Default for StepTable {
    fn default() -> Self {
        Self { table: &STEPS }
    }
}

impl StepTable {
    /// `(dx.hypot(dy), direction)`, where the direction `dy.atan2(dx)` is only worked out for a
    /// step of positive length (it is NaN for a step of length zero).
    #[inline]
    pub fn length_and_direction(&self, dx: f64, dy: f64) -> (f64, f64) {
        let (ix, iy) = (dx as i32, dy as i32);
        // Same bits (which tells -0.0 from 0.0, whose atan2 differ) and within reach.
        let whole = (ix as f64).to_bits() == dx.to_bits() && (iy as f64).to_bits() == dy.to_bits();
        if whole && ix.abs() <= STEP_REACH && iy.abs() <= STEP_REACH {
            let k = (iy + STEP_REACH) as usize * STEP_SIDE + (ix + STEP_REACH) as usize;
            return self.table[k];
        }
        let length = dx.hypot(dy);
        let direction = if length > 0.0 { dy.atan2(dx) } else { f64::NAN };
        (length, direction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_into_half_open_interval() {
        assert!((wrap_angle(3.0 * PI / 2.0) + PI / 2.0).abs() < 1e-12);
        assert!((wrap_angle(-3.0 * PI / 2.0) - PI / 2.0).abs() < 1e-12);
        assert!((wrap_angle(PI) - PI).abs() < 1e-12);
        assert!((wrap_angle(0.25) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn distance_to_line_is_perpendicular() {
        assert!((distance_to_line((1.0, 3.0), (0.0, 0.0), (5.0, 0.0)) - 3.0).abs() < 1e-12);
        assert!((distance_to_line((3.0, 4.0), (0.0, 0.0), (0.0, 0.0)) - 5.0).abs() < 1e-12);
    }

    #[test]
    fn sectors_go_round() {
        assert_eq!(direction_sector(1.0, 0.0), 0);
        assert_eq!(direction_sector(1.0, 1.5), 1);
        assert_eq!(direction_sector(0.0, 1.0), 2);
        assert_eq!(direction_sector(-1.0, 0.0), 4);
        assert_eq!(direction_sector(0.0, -1.0), 6);
        assert_eq!(direction_sector(1.0, -0.01), 7);
    }

    #[test]
    fn steps_give_the_bits_of_hypot_and_atan2() {
        let steps = StepTable::default();
        let reach = f64::from(STEP_REACH);
        let mut values = vec![0.0, -0.0, 0.5, -0.5, 1e-300, 2.5, 1e6, f64::NAN];
        for k in -STEP_REACH - 2..=STEP_REACH + 2 {
            values.push(f64::from(k));
        }
        values.extend([reach + 0.25, -reach - 1.0, f64::from(i32::MAX), 1e10, -1e10]);
        for &dx in &values {
            for &dy in &values {
                let (length, direction) = steps.length_and_direction(dx, dy);
                assert_eq!(length.to_bits(), dx.hypot(dy).to_bits(), "{dx} {dy}");
                if length > 0.0 {
                    assert_eq!(direction.to_bits(), dy.atan2(dx).to_bits(), "{dx} {dy}");
                }
            }
        }
    }
}
