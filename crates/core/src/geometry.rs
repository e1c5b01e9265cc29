//! Small plane-geometry helpers shared by segmentation and features.

use std::f64::consts::PI;

/// Wraps an angle difference into (-π, π], so a turn is measured the short way round.
#[inline]
pub fn wrap_angle(a: f64) -> f64 {
    let mut a = a % (2.0 * PI);
    if a > PI {
        a -= 2.0 * PI;
    } else if a <= -PI {
        a += 2.0 * PI;
    }
    a
}

/// Distance of point `p` from the infinite line through `a` and `b` (or from `a` if they coincide).
#[inline]
pub fn distance_to_line(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len = dx.hypot(dy);
    if len == 0.0 {
        (p.0 - a.0).hypot(p.1 - a.1)
    } else {
        ((p.0 - a.0) * dy - (p.1 - a.1) * dx).abs() / len
    }
}

/// The 45° sector (0..8, counter-clockwise from the positive x axis on a y-up plane) of a direction.
#[inline]
pub fn direction_sector(dx: f64, dy_up: f64) -> u8 {
    let angle = dy_up.atan2(dx).rem_euclid(2.0 * PI);
    ((angle / (PI / 4.0)) as u8).min(7)
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
}
