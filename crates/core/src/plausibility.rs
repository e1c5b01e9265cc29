//! Whether a recording is plausible pointer input before any model scores it: a hand moving
//! a real mouse leaves a trajectory (many positions, some distance covered, over some time)
//! at speeds a hand and a mouse can reach. Input without that (clicks at one pixel with no
//! move between them, every event at one instant, positions that jump across the screen
//! step after step) is not scored at all: a model would extrapolate on it, and trees
//! extrapolate anywhere, "accept" included.
//!
//! The thresholds were checked on every 15-second piece and whole session of two public
//! data sets and on the synthesiser's users (`pointerprint plausibility`, figures in
//! BENCHMARKS.md): they are far below what genuine input shows.

use std::fmt;

use crate::action::{Action, ActionKind};
use crate::event::{Event, Recording};
use crate::preprocess::Cleaned;

/// What the gate measures of a cleaned recording (distances in the cleaned, rescaled
/// pixels; times in milliseconds).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Movement {
    /// Positions of the pointer while it moved (moves and drags), after cleaning.
    pub moves: usize,
    /// Distance the pointer travelled between consecutive positions of a segment.
    pub path_px: f64,
    /// Mouse actions, and how many of the pointing ones (moves, clicks, drags) carry a
    /// trajectory of at least two positions.
    pub actions: usize,
    pub pointing_actions: usize,
    pub pointing_with_trajectory: usize,
    /// The median over trajectories of their mean speed (px/ms), 0 without any.
    pub median_speed: f64,
}

/// Why a recording is not plausible pointer input.
#[derive(Debug, Clone, PartialEq)]
pub enum Implausible {
    /// Too few positions: the pointer hardly moved (clicks at one spot, say).
    TooFewMoves { moves: usize, min: usize },
    /// The pointer covered too little distance.
    TooShortPath { path_px: f64, min: f64 },
    /// Most clicks and drags came without the pointer moving to them.
    NoTrajectories { with: usize, of: usize },
    /// Trajectories faster than a hand moves a mouse, typically: positions jump (or times
    /// are too close together for the distances, or the coordinates were blown up).
    TooFast { median_speed: f64, max: f64 },
}

impl Implausible {
    /// A stable machine-readable name of the reason.
    pub fn code(&self) -> &'static str {
        match self {
            Implausible::TooFewMoves { .. } => "too_few_moves",
            Implausible::TooShortPath { .. } => "too_short_path",
            Implausible::NoTrajectories { .. } => "no_trajectories",
            Implausible::TooFast { .. } => "too_fast",
        }
    }
}

impl fmt::Display for Implausible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Implausible::TooFewMoves { moves, min } => write!(
                f,
                "the pointer moved through {moves} positions; at least {min} are needed"
            ),
            Implausible::TooShortPath { path_px, min } => write!(
                f,
                "the pointer travelled {path_px:.0} pixels; at least {min:.0} are needed"
            ),
            Implausible::NoTrajectories { with, of } => write!(
                f,
                "only {with} of {of} clicks, drags and moves came with a movement of the pointer"
            ),
            Implausible::TooFast { median_speed, max } => write!(
                f,
                "the pointer's movements were {median_speed:.1} pixels/ms fast in the median, \
                 beyond a hand's {max:.1}"
            ),
        }
    }
}

/// A recording the gate turned away: why, and how many actions it held.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub reason: Implausible,
    pub actions: usize,
}

/// The gate's thresholds. Distances and speeds are in pixels of the reference screen that
/// preprocessing rescales known screens to (1920x1080).
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    pub min_moves: usize,
    pub min_path_px: f64,
    /// The smallest share of pointing actions that must come with a trajectory.
    pub min_trajectory_share: f64,
    /// The highest median speed of trajectories (px/ms): a fast flick peaks near 10, but
    /// 99.9% of genuine 15-second pieces stay below 2.3 in the median (the fastest: 6.5).
    pub max_median_speed: f64,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            min_moves: 5,
            min_path_px: 50.0,
            min_trajectory_share: 0.05,
            max_median_speed: 4.0,
        }
    }
}

impl Gate {
    /// Checks what was measured of a recording.
    pub fn check(&self, m: &Movement) -> Result<(), Implausible> {
        if m.moves < self.min_moves {
            return Err(Implausible::TooFewMoves {
                moves: m.moves,
                min: self.min_moves,
            });
        }
        if m.path_px < self.min_path_px {
            return Err(Implausible::TooShortPath {
                path_px: m.path_px,
                min: self.min_path_px,
            });
        }
        if (m.pointing_with_trajectory as f64)
            < self.min_trajectory_share * m.pointing_actions as f64
        {
            return Err(Implausible::NoTrajectories {
                with: m.pointing_with_trajectory,
                of: m.pointing_actions,
            });
        }
        if m.median_speed > self.max_median_speed {
            return Err(Implausible::TooFast {
                median_speed: m.median_speed,
                max: self.max_median_speed,
            });
        }
        Ok(())
    }
}

/// Measures a cleaned recording and its actions.
pub fn measure(cleaned: &Cleaned, actions: &[Action]) -> Movement {
    let mut m = Movement {
        actions: actions.len(),
        ..Movement::default()
    };
    for segment in &cleaned.segments {
        let (moves, path) = trajectory(&cleaned.events[segment.clone()]);
        m.moves += moves;
        m.path_px += path;
    }
    let mut speeds = Vec::new();
    for action in actions.iter().filter(|a| a.kind != ActionKind::Scroll) {
        m.pointing_actions += 1;
        let events = &cleaned.events[action.events.clone()];
        let (moves, path) = trajectory(events);
        if moves >= 2 {
            m.pointing_with_trajectory += 1;
            let first = events.iter().find(|e| e.is_motion()).map_or(0.0, |e| e.t);
            let last = events.iter().rfind(|e| e.is_motion()).map_or(0.0, |e| e.t);
            let duration = last - first;
            // Same-instant positions were merged by preprocessing: duration > 0.
            speeds.push(path / duration.max(f64::MIN_POSITIVE));
        }
    }
    if !speeds.is_empty() {
        let middle = speeds.len() / 2;
        m.median_speed = *speeds.select_nth_unstable_by(middle, f64::total_cmp).1;
    }
    m
}

/// The positions among `events` where the pointer moved, and the distance between them.
fn trajectory(events: &[Event]) -> (usize, f64) {
    let mut motion = events.iter().filter(|e| e.is_motion());
    let Some(first) = motion.next() else {
        return (0, 0.0);
    };
    let (mut moves, mut path, mut previous) = (1, 0.0, first);
    for e in motion {
        moves += 1;
        path += f64::hypot(e.x - previous.x, e.y - previous.y);
        previous = e;
    }
    (moves, path)
}

/// Cleans and segments a recording and measures it for the gate.
pub fn measure_recording(recording: &Recording) -> Movement {
    let (cleaned, actions) = crate::clean_and_segment(recording);
    measure(&cleaned, &actions)
}

/// Whether a recording is plausible pointer input under the default gate.
pub fn check(recording: &Recording) -> Result<(), Implausible> {
    Gate::default().check(&measure_recording(recording))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Button, EventKind};

    fn click(t: f64, x: f64, y: f64) -> [Event; 2] {
        [
            Event::new(t, x, y, EventKind::Press, Button::Left),
            Event::new(t + 80.0, x, y, EventKind::Release, Button::Left),
        ]
    }

    /// Movements of `steps` positions `step_px` apart every `dt` ms, each ending in a click.
    fn moving_session(actions: usize, steps: usize, step_px: f64, dt: f64) -> Recording {
        let mut events = Vec::new();
        let (mut t, mut x) = (0.0, 100.0);
        for a in 0..actions {
            let direction = if a % 2 == 0 { 1.0 } else { -1.0 };
            for _ in 0..steps {
                t += dt;
                x += direction * step_px;
                events.push(Event::new(t, x, 300.0, EventKind::Move, Button::None));
            }
            t += 150.0;
            events.extend(click(t, x, 300.0));
            t += 400.0;
        }
        Recording::new(events)
    }

    #[test]
    fn a_hand_moving_a_mouse_is_plausible() {
        assert_eq!(check(&moving_session(10, 20, 6.0, 8.0)), Ok(()));
    }

    #[test]
    fn clicks_without_moves_are_not() {
        let events: Vec<Event> = (0..100)
            .flat_map(|i| click(i as f64 * 300.0, 640.0, 400.0))
            .collect();
        assert!(matches!(
            check(&Recording::new(events)),
            Err(Implausible::TooFewMoves { moves: 0, .. })
        ));
    }

    #[test]
    fn positions_that_barely_move_are_not() {
        let r = moving_session(10, 20, 0.2, 8.0);
        assert!(matches!(check(&r), Err(Implausible::TooShortPath { .. })));
    }

    #[test]
    fn clicks_with_no_approach_are_not() {
        // One long movement, then fifty clicks elsewhere without moving to them.
        let mut r = moving_session(1, 60, 6.0, 8.0);
        let t0 = r.events.last().unwrap().t + 2_000.0;
        for i in 0..50 {
            r.events
                .extend(click(t0 + i as f64 * 300.0, 50.0 + i as f64 * 20.0, 700.0));
        }
        assert!(matches!(check(&r), Err(Implausible::NoTrajectories { .. })));
    }

    #[test]
    fn positions_jumping_faster_than_a_hand_are_not() {
        // 120 px every millisecond: a screen's width in 16 ms, movement after movement.
        let r = moving_session(10, 20, 120.0, 1.0);
        assert!(matches!(check(&r), Err(Implausible::TooFast { .. })));
        // One fast flick among ordinary movements is fine.
        let mut r = moving_session(10, 20, 6.0, 8.0);
        for e in &mut r.events[..20] {
            e.x *= 30.0;
        }
        assert_eq!(check(&r), Ok(()));
    }

    #[test]
    fn every_event_at_one_instant_is_not() {
        let r = moving_session(10, 20, 6.0, 0.0);
        assert!(check(&r).is_err());
    }

    #[test]
    fn reasons_have_codes_and_messages() {
        let e = Implausible::TooFewMoves { moves: 0, min: 20 };
        assert_eq!(e.code(), "too_few_moves");
        assert!(e.to_string().contains("0 positions"));
    }
}
