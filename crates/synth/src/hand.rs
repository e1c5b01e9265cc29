//! One person's hand driven towards targets that someone else places: a browser test reads
//! where a page put its button and asks the hand for the path there, in the person's style.

use rand_chacha::ChaCha8Rng;

use crate::motion::Plan;
use crate::random::{log_normal, mix, normal, rng_for};
use crate::style::MotorStyle;

/// Salt of a hand's random stream (sessions use 3).
const HAND_SALT: u64 = 7;

/// One pointer position of a path: `t` is milliseconds since the movement began.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub t: f64,
    pub x: f64,
    pub y: f64,
}

/// A person's hand for one session: movements, dwells, holds and pauses drawn from the
/// person's style (jittered for the session, like [`crate::session`]). Deterministic for
/// (style, session_seed) and the sequence of calls.
#[derive(Debug, Clone)]
pub struct Hand {
    style: MotorStyle,
    rng: ChaCha8Rng,
}

impl Hand {
    pub fn new(style: &MotorStyle, session_seed: u64) -> Self {
        Self::later_that_day(style, session_seed, 0)
    }

    /// The hand of session `session_seed` again, with fresh randomness (`stream`): the
    /// same person on the same day, e.g. signing in just after enrolling.
    pub fn later_that_day(style: &MotorStyle, session_seed: u64, stream: u64) -> Self {
        let style = style.for_session(session_seed);
        let rng = rng_for(mix(mix(style.seed, session_seed), stream), HAND_SALT);
        Self { style, rng }
    }

    /// The path from `from` to a target of size `width` (px) at `to`, sampled at the style's
    /// report rhythm; the first sample is after the start, the last is where the hand stops.
    /// A drag (`dragging`) is slower, as the style says.
    pub fn move_to(
        &mut self,
        from: (f64, f64),
        to: (f64, f64),
        width: f64,
        dragging: bool,
    ) -> Vec<Sample> {
        let s = &self.style;
        let slowdown = if dragging { s.drag_slowdown } else { 1.0 };
        let plan = Plan::pointing(&mut self.rng, s, from, to, width.max(1.0), slowdown);
        let mut path = Vec::with_capacity((plan.duration / s.sample_interval_ms) as usize + 2);
        let mut t = 0.0;
        loop {
            t += (s.sample_interval_ms + s.sample_jitter_ms * normal(&mut self.rng)).max(1.0);
            if t >= plan.duration {
                break;
            }
            let (x, y) = plan.position(t);
            path.push(Sample { t, x, y });
        }
        let (x, y) = plan.position(plan.duration);
        // A movement too short to plan still takes a moment.
        path.push(Sample {
            t: plan.duration.max(1.0),
            x,
            y,
        });
        path
    }

    /// Rest on a target before pressing (ms).
    pub fn dwell_ms(&mut self) -> f64 {
        let s = &self.style;
        log_normal(&mut self.rng, s.dwell_median_ms, s.dwell_log_sd).clamp(15.0, 900.0)
    }

    /// Press-to-release time of a click (ms).
    pub fn hold_ms(&mut self) -> f64 {
        let s = &self.style;
        (s.hold_mean_ms + s.hold_sd_ms * normal(&mut self.rng)).max(20.0)
    }

    /// Pause between two actions (ms), without the long reading pauses.
    pub fn pause_ms(&mut self) -> f64 {
        let s = &self.style;
        log_normal(&mut self.rng, s.pause_median_ms, s.pause_log_sd).clamp(80.0, 1_500.0)
    }

    /// Pixels per wheel notch and the time between notches of one flick (ms).
    pub fn wheel_notch(&mut self) -> (f64, f64) {
        let s = &self.style;
        let gap = log_normal(&mut self.rng, s.scroll_notch_interval_ms, 0.3).clamp(1.0, 450.0);
        (s.scroll_notch_px, gap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_end_near_the_target_with_times_increasing() {
        let style = MotorStyle::from_seed(5);
        let mut hand = Hand::new(&style, 1);
        for (to, width) in [((800.0, 400.0), 40.0), ((120.0, 90.0), 20.0)] {
            let path = hand.move_to((400.0, 300.0), to, width, false);
            assert!(path.len() > 3, "{} samples", path.len());
            assert!(path.windows(2).all(|w| w[1].t > w[0].t));
            let end = path.last().unwrap();
            assert!((end.x - to.0).hypot(end.y - to.1) < width, "{end:?}");
        }
    }

    #[test]
    fn the_same_calls_give_the_same_paths_and_people_differ() {
        let a = MotorStyle::from_seed(1);
        let b = MotorStyle::from_seed(2);
        let path = |style: &MotorStyle| {
            Hand::new(style, 9).move_to((0.0, 0.0), (500.0, 200.0), 30.0, false)
        };
        assert_eq!(path(&a), path(&a));
        assert_ne!(path(&a), path(&b));
        let later = Hand::later_that_day(&a, 9, 1).move_to((0.0, 0.0), (500.0, 200.0), 30.0, false);
        assert_ne!(path(&a), later);
    }
}
