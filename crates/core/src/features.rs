//! The features of one mouse action: the 39 of Antal & Egyed-Zsigmond (2019) and the extra
//! timing, click, scroll and sub-movement features that make sessions easier to tell apart.
//!
//! Units are pixels and milliseconds (speeds in px/ms). Every feature is a finite number for
//! every input; a feature that does not apply to an action (click hold time of a plain
//! movement, say) is -1.

use std::f64::consts::PI;
use std::ops::Index;

use crate::action::{Action, ActionKind};
use crate::event::{Button, EventKind};
use crate::geometry::{Line, StepTable, direction_sector, wrap_angle};
use crate::preprocess::Cleaned;
use crate::stats::Running;

macro_rules! features {
    ($( $id:ident = $name:literal : $doc:literal, )*) => {
        /// Index of each feature in a [`FeatureVector`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(non_camel_case_types)]
        #[repr(usize)]
        pub enum Feature { $( #[doc = $doc] $id, )* }

        /// Column names, in [`Feature`] order.
        pub const FEATURE_NAMES: &[&str] = &[$($name),*];
        /// One line per feature saying what it is, in [`Feature`] order.
        pub const FEATURE_DOCS: &[&str] = &[$($doc),*];
    };
}

features! {
    ActionType = "action_type": "Action kind: 0 mouse move, 1 point-and-click, 2 drag-and-drop, 3 scroll.",
    ElapsedTime = "elapsed_time": "Time from the first to the last event of the action (ms).",
    TraveledDistance = "traveled_distance": "Length of the path travelled (px).",
    DirectionSector = "direction": "45-degree sector (0-7, counter-clockwise from east) of the start-to-end direction.",
    Straightness = "straightness": "Start-to-end distance over path length (1 for a straight line).",
    NumPoints = "num_points": "Number of distinct timed positions.",
    SumOfAngles = "sum_of_angles": "Sum of absolute turning angles along the path (rad).",
    MeanCurvature = "mean_curv": "Mean curvature: turning angle per travelled pixel (rad/px).",
    SdCurvature = "sd_curv": "Standard deviation of curvature.",
    MaxCurvature = "max_curv": "Largest curvature.",
    MinCurvature = "min_curv": "Smallest curvature.",
    MeanOmega = "mean_omega": "Mean angular velocity: turning angle per millisecond (rad/ms).",
    SdOmega = "sd_omega": "Standard deviation of angular velocity.",
    MaxOmega = "max_omega": "Largest angular velocity.",
    MinOmega = "min_omega": "Smallest angular velocity.",
    LargestDeviation = "largest_deviation": "Largest distance of a position from the start-to-end line (px).",
    EndToEnd = "dist_end_to_end_line": "Straight-line distance from start to end (px).",
    CriticalPoints = "num_critical_points": "Number of sharp turns (more than 45 degrees between steps).",
    MeanVx = "mean_vx": "Mean horizontal velocity (px/ms, signed).",
    SdVx = "sd_vx": "Standard deviation of horizontal velocity.",
    MaxVx = "max_vx": "Largest horizontal velocity.",
    MinVx = "min_vx": "Smallest horizontal velocity.",
    MeanVy = "mean_vy": "Mean vertical velocity (px/ms, signed, positive downwards).",
    SdVy = "sd_vy": "Standard deviation of vertical velocity.",
    MaxVy = "max_vy": "Largest vertical velocity.",
    MinVy = "min_vy": "Smallest vertical velocity.",
    MeanV = "mean_v": "Mean speed (px/ms).",
    SdV = "sd_v": "Standard deviation of speed.",
    MaxV = "max_v": "Peak speed.",
    MinV = "min_v": "Lowest speed.",
    MeanA = "mean_a": "Mean acceleration of speed (px/ms^2).",
    SdA = "sd_a": "Standard deviation of acceleration.",
    MaxA = "max_a": "Largest acceleration.",
    MinA = "min_a": "Largest deceleration (most negative acceleration).",
    MeanJerk = "mean_jerk": "Mean jerk (px/ms^3).",
    SdJerk = "sd_jerk": "Standard deviation of jerk.",
    MaxJerk = "max_jerk": "Largest jerk.",
    MinJerk = "min_jerk": "Smallest jerk.",
    AccelerationTime = "a_beg_time": "Time from the start until the speed first stops rising (ms).",
    SignedAngles = "sum_signed_angles": "Sum of signed turning angles: which way the path bends (rad).",
    DirectionCos = "direction_cos": "Cosine of the start-to-end direction.",
    DirectionSin = "direction_sin": "Sine of the start-to-end direction (y up).",
    PeakTimeRatio = "peak_time_ratio": "When peak speed is reached, as a fraction of the elapsed time.",
    VelocityPeaks = "velocity_peaks": "Number of speed peaks above a third of the peak speed: sub-movements.",
    MeanDt = "mean_dt": "Mean time between positions (ms): the pointer's sampling rhythm.",
    SdDt = "sd_dt": "Standard deviation of the time between positions.",
    MaxDt = "max_dt": "Longest hesitation between two positions (ms).",
    SmallSteps = "small_step_ratio": "Fraction of steps of at most 1.5 px: tremor and fine correction.",
    EndSpeedRatio = "end_speed_ratio": "Mean speed of the last three steps over the peak speed: how the pointer lands.",
    PauseBefore = "pause_before": "Rest before the action since the previous one ended (ms), -1 for the first.",
    ClickHold = "click_hold": "Press-to-release time of the click or drag (ms), -1 without a press.",
    DwellBeforePress = "dwell_before_press": "Time from the last movement to the press (ms), -1 without a press.",
    ButtonCode = "button": "Button: 0 none, 1 left, 2 right, 3 middle, 4 back, 5 forward.",
    WheelEvents = "wheel_events": "Number of wheel events (scroll actions), else 0.",
    WheelDistance = "wheel_distance": "Signed vertical scroll distance (px, positive down).",
    WheelRate = "wheel_rate": "Wheel events per second within the scroll (0 for a single event).",
    StartX = "start_x": "Horizontal start position (px).",
    StartY = "start_y": "Vertical start position (px).",
    EndX = "end_x": "Horizontal end position (px).",
    EndY = "end_y": "Vertical end position (px).",
}

/// Number of features per action.
pub const FEATURE_COUNT: usize = FEATURE_NAMES.len();

/// The features of one action, indexed by [`Feature`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureVector(pub [f64; FEATURE_COUNT]);

impl FeatureVector {
    pub fn kind(&self) -> ActionKind {
        match self[Feature::ActionType] as u8 {
            0 => ActionKind::MouseMove,
            1 => ActionKind::PointClick,
            2 => ActionKind::DragDrop,
            _ => ActionKind::Scroll,
        }
    }

    pub fn as_slice(&self) -> &[f64] {
        &self.0
    }
}

impl Index<Feature> for FeatureVector {
    type Output = f64;
    fn index(&self, f: Feature) -> &f64 {
        &self.0[f as usize]
    }
}

/// Turning angles below this many radians between steps count as a sharp turn.
const CRITICAL_TURN: f64 = PI / 4.0;
/// Steps of at most this many pixels count as small.
const SMALL_STEP_PX: f64 = 1.5;

/// Computes features, reusing its buffers between actions so extraction does not allocate.
#[derive(Debug, Default)]
pub struct FeatureExtractor {
    /// (t, x, y) of the action's distinct instants.
    points: Vec<(f64, f64, f64)>,
    speeds: Vec<(f64, f64)>,
    table: StepTable,
}

impl FeatureExtractor {
    pub fn extract(&mut self, cleaned: &Cleaned, action: &Action) -> FeatureVector {
        let mut f = [0.0; FEATURE_COUNT];
        let Some(events) = cleaned
            .events
            .get(action.events.clone())
            .filter(|e| !e.is_empty())
        else {
            return FeatureVector(f);
        };
        let mut set = |feature: Feature, value: f64| put(&mut f, feature as usize, value);

        self.points.clear();
        for e in events {
            match self.points.last_mut() {
                Some(last) if last.0 == e.t => *last = (e.t, e.x, e.y),
                _ => self.points.push((e.t, e.x, e.y)),
            }
        }
        let pts = &self.points;
        let (t0, x0, y0) = pts[0];
        let (tn, xn, yn) = pts[pts.len() - 1];
        let elapsed = tn - t0;

        set(Feature::ActionType, f64::from(action.kind as u8));
        set(Feature::ElapsedTime, elapsed);
        set(Feature::NumPoints, pts.len() as f64);
        let chord = Line::through((x0, y0), (xn, yn));
        let end_to_end = chord.length();
        set(Feature::EndToEnd, end_to_end);
        set(
            Feature::DirectionSector,
            f64::from(direction_sector(xn - x0, y0 - yn)),
        );
        if end_to_end > 0.0 {
            set(Feature::DirectionCos, (xn - x0) / end_to_end);
            set(Feature::DirectionSin, (y0 - yn) / end_to_end);
        }
        set(Feature::StartX, x0);
        set(Feature::StartY, y0);
        set(Feature::EndX, xn);
        set(Feature::EndY, yn);

        let [
            mut vx,
            mut vy,
            mut v,
            mut a,
            mut jerk,
            mut curv,
            mut omega,
            mut dt_stats,
        ] = [Running::default(); 8];
        let mut distance = 0.0;
        let mut sum_abs_angles = 0.0;
        let mut sum_signed_angles = 0.0;
        let mut critical = 0u32;
        let mut small_steps = 0u32;
        let mut largest_deviation: f64 = 0.0;
        let mut prev_theta: Option<f64> = None;
        let mut prev_v: Option<f64> = None;
        let mut prev_a: Option<f64> = None;
        // When the speed first stopped rising; NaN until then.
        let mut acceleration_time = f64::NAN;
        self.speeds.clear();

        for w in pts.windows(2) {
            let ((ta, xa, ya), (tb, xb, yb)) = (w[0], w[1]);
            let (dt, dx, dy) = (tb - ta, xb - xa, yb - ya);
            let (ds, theta) = self.table.length_and_direction(dx, dy);
            distance += ds;
            dt_stats.push(dt);
            if ds <= SMALL_STEP_PX {
                small_steps += 1;
            }
            largest_deviation = largest_deviation.max(chord.distance((xb, yb)));
            let speed = ds / dt;
            vx.push(dx / dt);
            vy.push(dy / dt);
            v.push(speed);
            self.speeds.push((tb - t0, speed));
            if ds > 0.0 {
                if let Some(prev) = prev_theta {
                    let turn = wrap_angle(theta - prev);
                    sum_abs_angles += turn.abs();
                    sum_signed_angles -= turn; // screen y grows downwards
                    curv.push(turn / ds);
                    omega.push(turn / dt);
                    if turn.abs() > CRITICAL_TURN {
                        critical += 1;
                    }
                }
                prev_theta = Some(theta);
            }
            if let Some(pv) = prev_v {
                let acc = (speed - pv) / dt;
                a.push(acc);
                // A select rather than a branch on every sign of `acc`.
                let first_stop = acceleration_time.is_nan() & (acc <= 0.0);
                acceleration_time = if first_stop {
                    ta - t0
                } else {
                    acceleration_time
                };
                if let Some(pa) = prev_a {
                    jerk.push((acc - pa) / dt);
                }
                prev_a = Some(acc);
            }
            prev_v = Some(speed);
        }

        set(Feature::TraveledDistance, distance);
        set(
            Feature::Straightness,
            if distance > 0.0 {
                end_to_end / distance
            } else {
                1.0
            },
        );
        set(Feature::SumOfAngles, sum_abs_angles);
        set(Feature::SignedAngles, sum_signed_angles);
        set(Feature::CriticalPoints, f64::from(critical));
        set(Feature::LargestDeviation, largest_deviation);
        let acceleration_time = if acceleration_time.is_nan() {
            elapsed
        } else {
            acceleration_time
        };
        set(Feature::AccelerationTime, acceleration_time);
        let steps = pts.len().saturating_sub(1);
        if steps > 0 {
            set(Feature::SmallSteps, f64::from(small_steps) / steps as f64);
        }
        let blocks = [
            (Feature::MeanCurvature, curv),
            (Feature::MeanOmega, omega),
            (Feature::MeanVx, vx),
            (Feature::MeanVy, vy),
            (Feature::MeanV, v),
            (Feature::MeanA, a),
            (Feature::MeanJerk, jerk),
        ];
        for (first, stats) in blocks {
            for (k, value) in stats.summary().into_iter().enumerate() {
                put(&mut f, first as usize + k, value);
            }
        }
        let mut set = |feature: Feature, value: f64| put(&mut f, feature as usize, value);
        set(Feature::MeanDt, dt_stats.mean());
        set(Feature::SdDt, dt_stats.sd());
        set(Feature::MaxDt, dt_stats.max());

        let peak = v.max();
        if peak > 0.0 && elapsed > 0.0 {
            let (peak_t, _) =
                self.speeds
                    .iter()
                    .copied()
                    .fold((0.0, f64::NEG_INFINITY), |best, s| {
                        if s.1 > best.1 { s } else { best }
                    });
            set(Feature::PeakTimeRatio, peak_t / elapsed);
            let tail = &self.speeds[self.speeds.len().saturating_sub(3)..];
            let tail_mean = tail.iter().map(|s| s.1).sum::<f64>() / tail.len() as f64;
            set(Feature::EndSpeedRatio, tail_mean / peak);
            let floor = peak / 3.0;
            // Summed flags rather than a filter: its branches would be hard to predict.
            let peaks: usize = self
                .speeds
                .windows(3)
                .map(|w| usize::from((w[1].1 > w[0].1) & (w[1].1 >= w[2].1) & (w[1].1 >= floor)))
                .sum();
            let edge_peak = |s: Option<&(f64, f64)>, n: Option<&(f64, f64)>| match (s, n) {
                (Some(s), Some(n)) => s.1 > n.1 && s.1 >= floor,
                (Some(s), None) => s.1 >= floor,
                _ => false,
            };
            let first_is_peak = edge_peak(self.speeds.first(), self.speeds.get(1));
            let last_is_peak = self.speeds.len() > 1
                && edge_peak(self.speeds.last(), self.speeds.get(self.speeds.len() - 2));
            set(
                Feature::VelocityPeaks,
                (peaks + usize::from(first_is_peak) + usize::from(last_is_peak)) as f64,
            );
        }

        set(Feature::PauseBefore, action.pause_before.unwrap_or(-1.0));
        set(Feature::ButtonCode, button_code(action.button));
        let press = events.iter().position(|e| e.kind == EventKind::Press);
        let release = events.iter().rposition(|e| e.kind == EventKind::Release);
        match (press, release) {
            (Some(p), Some(r)) => {
                set(Feature::ClickHold, events[r].t - events[p].t);
                let dwell = if p > 0 {
                    events[p].t - events[p - 1].t
                } else {
                    0.0
                };
                set(Feature::DwellBeforePress, dwell);
            }
            _ => {
                set(Feature::ClickHold, -1.0);
                set(Feature::DwellBeforePress, -1.0);
            }
        }
        if action.kind == ActionKind::Scroll {
            let wheel: f64 = events
                .iter()
                .map(|e| match e.kind {
                    EventKind::Wheel { dy, .. } => f64::from(dy),
                    _ => 0.0,
                })
                .sum();
            set(Feature::WheelEvents, events.len() as f64);
            set(Feature::WheelDistance, wheel);
            let span = events[events.len() - 1].t - events[0].t;
            if span > 0.0 {
                set(
                    Feature::WheelRate,
                    (events.len() - 1) as f64 * 1000.0 / span,
                );
            }
        }
        FeatureVector(f)
    }
}

/// Stores a feature value; anything not finite becomes 0 so no model ever sees NaN or infinity.
fn put(f: &mut [f64; FEATURE_COUNT], index: usize, value: f64) {
    f[index] = if value.is_finite() { value } else { 0.0 };
}

fn button_code(button: Button) -> f64 {
    match button {
        Button::None => 0.0,
        Button::Left => 1.0,
        Button::Right => 2.0,
        Button::Middle => 3.0,
        Button::Back => 4.0,
        Button::Forward => 5.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, Recording};
    use crate::extract;

    fn single_action(points: impl IntoIterator<Item = (f64, f64, f64)>) -> FeatureVector {
        let events = points
            .into_iter()
            .map(|(t, x, y)| Event::new(t, x, y, EventKind::Move, Button::None))
            .collect();
        let all = extract(&Recording::new(events));
        assert_eq!(all.len(), 1, "expected one action");
        all[0]
    }

    #[test]
    fn straight_line_at_constant_speed() {
        // 3 px right and 4 px down every 10 ms: speed 0.5 px/ms.
        let f = single_action((0..20).map(|k| (10.0 * k as f64, 3.0 * k as f64, 4.0 * k as f64)));
        assert!((f[Feature::Straightness] - 1.0).abs() < 1e-12);
        assert!((f[Feature::TraveledDistance] - 95.0).abs() < 1e-9);
        assert_eq!(f[Feature::ElapsedTime], 190.0);
        assert_eq!(f[Feature::NumPoints], 20.0);
        assert_eq!(f[Feature::MeanCurvature], 0.0);
        assert_eq!(f[Feature::SumOfAngles], 0.0);
        assert!((f[Feature::MeanV] - 0.5).abs() < 1e-12);
        assert!(f[Feature::SdV].abs() < 1e-12);
        assert!(f[Feature::MeanA].abs() < 1e-12 && f[Feature::MaxA].abs() < 1e-12);
        assert!(f[Feature::MeanJerk].abs() < 1e-12);
        assert!(f[Feature::LargestDeviation] < 1e-9);
        assert_eq!(f[Feature::CriticalPoints], 0.0);
        assert!(
            (f[Feature::MeanVx] - 0.3).abs() < 1e-12 && (f[Feature::MeanVy] - 0.4).abs() < 1e-12
        );
        // Down and to the right on screen is the south-east sector.
        assert_eq!(f[Feature::DirectionSector], 6.0);
        assert_eq!(f[Feature::ClickHold], -1.0);
        assert_eq!(f[Feature::PauseBefore], -1.0);
    }

    #[test]
    fn arc_has_the_curvature_of_its_circle() {
        let radius = 200.0;
        let f = single_action((0..=30).map(|k| {
            let phi = k as f64 * (PI / 2.0) / 30.0;
            (8.0 * k as f64, radius * phi.cos(), radius * phi.sin())
        }));
        assert!((f[Feature::MeanCurvature].abs() - 1.0 / radius).abs() < 1e-4 / radius * 100.0);
        assert!(f[Feature::SdCurvature] < 1e-9);
        // A quarter circle: chord over arc is 2*sqrt(2)/pi.
        assert!((f[Feature::Straightness] - 2.0 * 2f64.sqrt() / PI).abs() < 1e-3);
        assert!((f[Feature::SumOfAngles] - PI / 2.0 * 29.0 / 30.0).abs() < 1e-9);
        // Deviation of a quarter arc from its chord: r - r*cos(45°).
        let sagitta = radius * (1.0 - (PI / 4.0).cos());
        assert!((f[Feature::LargestDeviation] - sagitta).abs() < 0.2);
    }

    #[test]
    fn click_timing_features() {
        let mut events: Vec<Event> = (0..6)
            .map(|k| {
                Event::new(
                    10.0 * k as f64,
                    5.0 * k as f64,
                    0.0,
                    EventKind::Move,
                    Button::None,
                )
            })
            .collect();
        events.push(Event::new(80.0, 25.0, 0.0, EventKind::Press, Button::Right));
        events.push(Event::new(
            190.0,
            25.0,
            0.0,
            EventKind::Release,
            Button::Right,
        ));
        let all = extract(&Recording::new(events));
        assert_eq!(all.len(), 1);
        let f = all[0];
        assert_eq!(f.kind(), ActionKind::PointClick);
        assert_eq!(f[Feature::ClickHold], 110.0);
        assert_eq!(f[Feature::DwellBeforePress], 30.0);
        assert_eq!(f[Feature::ButtonCode], 2.0);
    }

    #[test]
    fn names_and_docs_cover_every_feature() {
        assert_eq!(FEATURE_NAMES.len(), FEATURE_DOCS.len());
        const { assert!(FEATURE_COUNT >= 39) };
        let mut names = FEATURE_NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FEATURE_COUNT);
    }
}
