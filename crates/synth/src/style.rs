//! One person's motor style: drawn from a population, jittered per session, kept in sane bounds.

use std::f64::consts::PI;

use pointerprint_core::Screen;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::random::{log_normal, normal, rng_for};

/// The parameters of one synthetic person's motor behaviour.
///
/// Times are milliseconds, distances pixels of `screen`, rates and probabilities per event or
/// per action. Any value is accepted: [`crate::session`] clamps every field into a plausible
/// range first, so a hand-edited or deserialised style still yields valid recordings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MotorStyle {
    /// Identity of the person, mixed into every session seed so that two people never share a
    /// random stream (same targets, same pauses) just because their session seeds match.
    pub seed: u64,
    /// The person's screen; coordinates stay inside it.
    pub screen: Screen,

    /// Mean time between pointer samples: the mouse's report rate or the display's frame rate.
    pub sample_interval_ms: f64,
    /// Standard deviation of the time between samples.
    pub sample_jitter_ms: f64,
    /// Fraction of samples the recorder loses.
    pub drop_rate: f64,
    /// Fraction of unchanged positions that are reported anyway (repeated positions).
    pub repeat_rate: f64,

    /// Fitts intercept `a` of the movement time `a + b*log2(D/W + 1)`.
    pub fitts_a_ms: f64,
    /// Fitts slope `b` (ms per bit): how much longer far or small targets take.
    pub fitts_b_ms: f64,
    /// Log-scale spread of one movement's time around the Fitts prediction.
    pub movement_time_sd: f64,
    /// When the speed peaks, as a fraction of a submovement's duration (0.5 = symmetric bell).
    pub peak_time_ratio: f64,
    /// Mean fraction of the distance the ballistic submovement covers when it undershoots.
    pub primary_gain: f64,
    /// Spread of that fraction, and (halved) of the sideways endpoint error.
    pub primary_gain_sd: f64,
    /// Probability that the ballistic submovement overshoots the target.
    pub overshoot_prob: f64,
    /// Typical overshoot as a fraction of the distance.
    pub overshoot_frac: f64,
    /// Mean number of corrective submovements (Poisson, at most 3; one more if far off target).
    pub corrections_mean: f64,
    /// Mean time from the end of one submovement to the start of the next (negative: overlap).
    pub correction_gap_ms: f64,
    /// Sideways arc of a movement as a signed fraction of its length, whatever its direction.
    pub curvature_bias: f64,
    /// How much the arc changes with movement direction (a wrist or elbow pivot).
    pub curvature_direction_gain: f64,
    /// Direction (rad) at which that change is largest.
    pub curvature_direction_phase: f64,
    /// Movement-to-movement spread of the arc, as a fraction of the length.
    pub curvature_spread: f64,
    /// Amplitude of the physiological tremor riding on a movement.
    pub tremor_px: f64,
    /// Frequency of that tremor (Hz).
    pub tremor_hz: f64,

    /// Horizontal centre of the screen region the person mostly works in (fraction of width).
    pub focus_x: f64,
    /// Vertical centre of that region (fraction of height).
    pub focus_y: f64,
    /// Spread of targets around that centre (fraction of the screen).
    pub focus_spread: f64,
    /// Fraction of targets in that region; the rest fall anywhere on the screen.
    pub focus_weight: f64,

    /// Median rest between arriving on a target and pressing the button.
    pub dwell_median_ms: f64,
    /// Log-scale spread of that rest.
    pub dwell_log_sd: f64,
    /// Mean press-to-release time of a click.
    pub hold_mean_ms: f64,
    /// Standard deviation of that time.
    pub hold_sd_ms: f64,
    /// Fraction of left clicks that are double clicks.
    pub double_click_rate: f64,
    /// Mean time from the first release to the second press of a double click.
    pub double_click_gap_ms: f64,
    /// Fraction of clicks made with the right button.
    pub right_click_rate: f64,

    /// Relative frequency of point-and-click actions.
    pub click_weight: f64,
    /// Relative frequency of plain movements that end without a click.
    pub move_weight: f64,
    /// Relative frequency of drag-and-drop actions.
    pub drag_weight: f64,
    /// Relative frequency of wheel scrolls.
    pub scroll_weight: f64,
    /// How much slower a drag is than a free movement of the same size (factor on the time).
    pub drag_slowdown: f64,
    /// Mean hold between pressing and starting to drag.
    pub drag_press_delay_ms: f64,

    /// Pixels per wheel notch as the recorder reports them (100 or 53 are typical).
    pub scroll_notch_px: f64,
    /// Mean number of notches in one scroll.
    pub scroll_notches_mean: f64,
    /// Mean time between notches within one flick of the finger.
    pub scroll_notch_interval_ms: f64,
    /// Mean number of notches per flick.
    pub scroll_flick_len: f64,
    /// Mean time between two flicks of one scroll (under the 500 ms that splits scrolls).
    pub scroll_flick_gap_ms: f64,
    /// Probability that a scroll goes down the page.
    pub scroll_down_prob: f64,
    /// Probability of moving the pointer somewhere before scrolling.
    pub scroll_approach_prob: f64,

    /// Median pause between two actions.
    pub pause_median_ms: f64,
    /// Log-scale spread of those pauses.
    pub pause_log_sd: f64,
    /// Probability that a pause is a long one (reading, thinking).
    pub long_pause_prob: f64,
    /// Mean length of a long pause.
    pub long_pause_mean_ms: f64,
    /// Probability that a long pause holds an idle jitter (a nudge of a pixel or two).
    pub idle_jitter_prob: f64,

    /// Day-to-day variation: log-scale spread of the parameters from one session to the next
    /// (deviations are cut at two spreads).
    pub day_to_day_sd: f64,
}

/// Screens people have, in CSS pixels with their device pixel ratio, and how common they are.
const SCREENS: [(f64, f64, f64, f64); 6] = [
    (1920.0, 1080.0, 1.0, 0.60),
    (1536.0, 864.0, 1.25, 0.10),
    (1366.0, 768.0, 1.0, 0.08),
    (2560.0, 1440.0, 1.0, 0.08),
    (1440.0, 900.0, 2.0, 0.08),
    (1680.0, 1050.0, 1.0, 0.06),
];

/// Sampling intervals and their shares: browsers mostly deliver one position per 60 Hz frame,
/// some pass on a 125 Hz mouse, some run 144 or 100 Hz displays.
const SAMPLE_INTERVALS: [(f64, f64); 4] = [(16.67, 0.65), (8.0, 0.25), (6.94, 0.05), (10.0, 0.05)];

/// Factor on the trait ranges written in [`MotorStyle::from_seed_with_spread`], which span what
/// people show in the literature. Drawn independently over those full ranges, synthetic people
/// were far easier to tell apart than real ones (a gradient-boosted one-vs-rest classifier on
/// the core features, 20 people, 4 training sessions of 300 actions each, reached an
/// action-level AUC of 0.96); at 0.6 it reaches 0.87-0.93 per action and about 0.99 over 20
/// actions, closer to what is reported on real data.
const TRAIT_SPREAD: f64 = 0.6;
/// Salt that keeps the population draw apart from every session stream.
const POPULATION_SALT: u64 = 1;
/// Salt that keeps the day-to-day jitter apart from the session's own events.
const DAY_SALT: u64 = 2;

impl MotorStyle {
    /// A person drawn from the population at random, deterministic for the seed.
    pub fn from_seed(seed: u64) -> Self {
        Self::from_seed_with_spread(seed, 1.0)
    }

    /// Like [`MotorStyle::from_seed`], with every trait's spread across people scaled by
    /// `spread` (1 = the default population): below 1 people are more alike and harder to tell
    /// apart, above 1 easier. The devices (screen, sampling rate, wheel notch) are drawn as
    /// usual, so even at 0 people on different devices differ.
    pub fn from_seed_with_spread(seed: u64, spread: f64) -> Self {
        let rng = &mut rng_for(seed, POPULATION_SALT);
        let (width, height, dpr) = pick(rng, &SCREENS, |s| s.3, |s| (s.0, s.1, s.2));
        let sample_interval_ms = pick(rng, &SAMPLE_INTERVALS, |s| s.1, |s| s.0);
        let notch = if rng.gen_bool(0.75) { 100.0 } else { 53.0 };
        let d = &mut Draw {
            rng,
            spread: TRAIT_SPREAD
                * if spread.is_finite() {
                    spread.clamp(0.0, 3.0)
                } else {
                    1.0
                },
        };
        // A shared "vigour" trait makes fast movers also quick to click and to move on, so the
        // parameters are correlated as in real people and styles overlap more.
        let vigour = d.normal(1.0);
        let mut style = Self {
            seed,
            screen: Screen {
                width,
                height,
                device_pixel_ratio: dpr,
            },
            sample_interval_ms,
            sample_jitter_ms: d.uniform(0.3, 1.5),
            drop_rate: d.uniform(0.0, 0.04),
            repeat_rate: d.uniform(0.0, 0.03),

            fitts_a_ms: d.log_normal(120.0, 0.3) * (-0.15 * vigour).exp(),
            fitts_b_ms: d.log_normal(130.0, 0.25) * (-0.15 * vigour).exp(),
            movement_time_sd: d.uniform(0.15, 0.3),
            peak_time_ratio: d.uniform(0.38, 0.52),
            primary_gain: d.uniform(0.88, 0.98),
            primary_gain_sd: d.uniform(0.02, 0.07),
            overshoot_prob: d.uniform(0.05, 0.35),
            overshoot_frac: d.uniform(0.02, 0.10),
            corrections_mean: d.uniform(0.2, 1.5),
            correction_gap_ms: d.uniform(-20.0, 120.0),
            curvature_bias: d.normal(0.04),
            curvature_direction_gain: d.normal(0.04),
            curvature_direction_phase: d.uniform(-PI, PI),
            curvature_spread: d.uniform(0.03, 0.07),
            tremor_px: d.log_normal(0.45, 0.35),
            tremor_hz: d.uniform(7.0, 12.0),

            focus_x: d.uniform(0.3, 0.7),
            focus_y: d.uniform(0.3, 0.7),
            focus_spread: d.uniform(0.12, 0.3),
            focus_weight: d.uniform(0.5, 0.85),

            dwell_median_ms: d.log_normal(150.0, 0.45) * (-0.2 * vigour).exp(),
            dwell_log_sd: d.uniform(0.3, 0.7),
            hold_mean_ms: d.log_normal(95.0, 0.22),
            hold_sd_ms: d.uniform(8.0, 30.0),
            double_click_rate: d.uniform(0.0, 0.15),
            double_click_gap_ms: d.uniform(60.0, 160.0),
            right_click_rate: d.uniform(0.02, 0.10),

            click_weight: d.uniform(0.3, 0.6),
            move_weight: d.uniform(0.15, 0.4),
            drag_weight: d.uniform(0.02, 0.12),
            scroll_weight: d.uniform(0.05, 0.25),
            drag_slowdown: d.uniform(1.1, 1.6),
            drag_press_delay_ms: d.log_normal(140.0, 0.4),

            scroll_notch_px: notch,
            scroll_notches_mean: d.uniform(3.0, 10.0),
            scroll_notch_interval_ms: d.log_normal(30.0, 0.4),
            scroll_flick_len: d.uniform(1.5, 5.0),
            scroll_flick_gap_ms: d.log_normal(160.0, 0.35),
            scroll_down_prob: d.uniform(0.55, 0.85),
            scroll_approach_prob: d.uniform(0.2, 0.7),

            pause_median_ms: d.log_normal(700.0, 0.45) * (-0.2 * vigour).exp(),
            pause_log_sd: d.uniform(0.4, 0.9),
            long_pause_prob: d.uniform(0.02, 0.10),
            long_pause_mean_ms: d.uniform(2_000.0, 6_000.0),
            idle_jitter_prob: d.uniform(0.0, 0.3),

            day_to_day_sd: d.uniform(0.06, 0.14),
        };
        style.clamp();
        style
    }

    /// The style this person shows in one session: every behavioural parameter jittered a
    /// little (by `day_to_day_sd`), like a person's day-to-day variation; the screen and the
    /// mouse stay the same. Deterministic for (style, session_seed).
    pub fn for_session(&self, session_seed: u64) -> Self {
        let mut s = self.clone();
        s.clamp();
        let rng = &mut rng_for(crate::random::mix(s.seed, session_seed), DAY_SALT);
        let sd = s.day_to_day_sd;
        // Day-to-day deviations are bounded: a person is never unrecognisably unlike themselves.
        let z = |rng: &mut ChaCha8Rng| sd * normal(rng).clamp(-2.0, 2.0);
        let scale = |rng: &mut ChaCha8Rng, v: &mut f64, k: f64| *v *= (k * z(rng)).exp();
        for v in [
            &mut s.sample_jitter_ms,
            &mut s.drop_rate,
            &mut s.repeat_rate,
            &mut s.fitts_a_ms,
            &mut s.fitts_b_ms,
            &mut s.movement_time_sd,
            &mut s.primary_gain_sd,
            &mut s.overshoot_prob,
            &mut s.overshoot_frac,
            &mut s.corrections_mean,
            &mut s.curvature_spread,
            &mut s.tremor_px,
            &mut s.tremor_hz,
            &mut s.focus_spread,
            &mut s.dwell_median_ms,
            &mut s.dwell_log_sd,
            &mut s.hold_mean_ms,
            &mut s.hold_sd_ms,
            &mut s.double_click_rate,
            &mut s.double_click_gap_ms,
            &mut s.right_click_rate,
            &mut s.drag_slowdown,
            &mut s.drag_press_delay_ms,
            &mut s.scroll_notches_mean,
            &mut s.scroll_notch_interval_ms,
            &mut s.scroll_flick_len,
            &mut s.scroll_flick_gap_ms,
            &mut s.pause_median_ms,
            &mut s.pause_log_sd,
            &mut s.long_pause_prob,
            &mut s.long_pause_mean_ms,
            &mut s.idle_jitter_prob,
        ] {
            scale(rng, v, 1.0);
        }
        // What a person works on changes more from day to day than how they move.
        for v in [
            &mut s.click_weight,
            &mut s.move_weight,
            &mut s.drag_weight,
            &mut s.scroll_weight,
            &mut s.focus_weight,
            &mut s.scroll_approach_prob,
        ] {
            scale(rng, v, 2.0);
        }
        s.focus_x += 0.5 * z(rng);
        s.focus_y += 0.5 * z(rng);
        s.peak_time_ratio += 0.1 * z(rng);
        s.primary_gain += 0.1 * z(rng);
        s.correction_gap_ms += 200.0 * z(rng);
        s.curvature_bias += 0.2 * z(rng);
        s.curvature_direction_gain += 0.2 * z(rng);
        s.curvature_direction_phase += z(rng);
        s.scroll_down_prob += 0.5 * z(rng);
        s.clamp();
        s
    }

    /// Puts every field into a range the generator handles, so any style gives valid output.
    pub(crate) fn clamp(&mut self) {
        fit(&mut self.screen.width, 200.0, 16_000.0);
        fit(&mut self.screen.height, 200.0, 16_000.0);
        fit(&mut self.screen.device_pixel_ratio, 0.5, 4.0);
        fit(&mut self.sample_interval_ms, 2.0, 40.0);
        fit(&mut self.sample_jitter_ms, 0.0, 8.0);
        fit(&mut self.drop_rate, 0.0, 0.2);
        fit(&mut self.repeat_rate, 0.0, 0.2);
        fit(&mut self.fitts_a_ms, 20.0, 600.0);
        fit(&mut self.fitts_b_ms, 30.0, 500.0);
        fit(&mut self.movement_time_sd, 0.0, 0.5);
        fit(&mut self.peak_time_ratio, 0.3, 0.65);
        fit(&mut self.primary_gain, 0.6, 1.05);
        fit(&mut self.primary_gain_sd, 0.0, 0.2);
        fit(&mut self.overshoot_prob, 0.0, 1.0);
        fit(&mut self.overshoot_frac, 0.0, 0.3);
        fit(&mut self.corrections_mean, 0.0, 3.0);
        fit(&mut self.correction_gap_ms, -100.0, 400.0);
        fit(&mut self.curvature_bias, -0.3, 0.3);
        fit(&mut self.curvature_direction_gain, -0.3, 0.3);
        fit(&mut self.curvature_direction_phase, -2.0 * PI, 2.0 * PI);
        fit(&mut self.curvature_spread, 0.0, 0.2);
        fit(&mut self.tremor_px, 0.0, 5.0);
        fit(&mut self.tremor_hz, 1.0, 20.0);
        fit(&mut self.focus_x, 0.0, 1.0);
        fit(&mut self.focus_y, 0.0, 1.0);
        fit(&mut self.focus_spread, 0.02, 1.0);
        fit(&mut self.focus_weight, 0.0, 1.0);
        fit(&mut self.dwell_median_ms, 10.0, 800.0);
        fit(&mut self.dwell_log_sd, 0.0, 1.5);
        fit(&mut self.hold_mean_ms, 20.0, 400.0);
        fit(&mut self.hold_sd_ms, 0.0, 150.0);
        fit(&mut self.double_click_rate, 0.0, 0.5);
        fit(&mut self.double_click_gap_ms, 30.0, 400.0);
        fit(&mut self.right_click_rate, 0.0, 0.5);
        fit(&mut self.click_weight, 0.0, 10.0);
        fit(&mut self.move_weight, 0.0, 10.0);
        fit(&mut self.drag_weight, 0.0, 10.0);
        fit(&mut self.scroll_weight, 0.0, 10.0);
        if self.click_weight + self.move_weight + self.drag_weight + self.scroll_weight <= 0.0 {
            self.click_weight = 1.0;
        }
        fit(&mut self.drag_slowdown, 0.5, 4.0);
        fit(&mut self.drag_press_delay_ms, 0.0, 1_000.0);
        fit(&mut self.scroll_notch_px, 1.0, 500.0);
        fit(&mut self.scroll_notches_mean, 1.0, 50.0);
        fit(&mut self.scroll_notch_interval_ms, 2.0, 200.0);
        fit(&mut self.scroll_flick_len, 1.0, 20.0);
        fit(&mut self.scroll_flick_gap_ms, 20.0, 450.0);
        fit(&mut self.scroll_down_prob, 0.0, 1.0);
        fit(&mut self.scroll_approach_prob, 0.0, 1.0);
        fit(&mut self.pause_median_ms, 50.0, 10_000.0);
        fit(&mut self.pause_log_sd, 0.0, 2.0);
        fit(&mut self.long_pause_prob, 0.0, 0.5);
        fit(&mut self.long_pause_mean_ms, 500.0, 30_000.0);
        fit(&mut self.idle_jitter_prob, 0.0, 1.0);
        fit(&mut self.day_to_day_sd, 0.0, 0.5);
    }
}

/// Clamps `v` into `[lo, hi]`, sending NaN to `lo`.
fn fit(v: &mut f64, lo: f64, hi: f64) {
    *v = if v.is_nan() { lo } else { v.clamp(lo, hi) };
}

/// Draws one entry of a weighted table.
fn pick<T, U>(
    rng: &mut ChaCha8Rng,
    table: &[T],
    weight: impl Fn(&T) -> f64,
    value: impl Fn(&T) -> U,
) -> U {
    let total: f64 = table.iter().map(&weight).sum();
    let mut r = rng.gen_range(0.0..total);
    for entry in &table[..table.len() - 1] {
        r -= weight(entry);
        if r < 0.0 {
            return value(entry);
        }
    }
    value(&table[table.len() - 1])
}

/// Draws traits around the population's centre with a scalable spread.
struct Draw<'a> {
    rng: &'a mut ChaCha8Rng,
    spread: f64,
}

impl Draw<'_> {
    /// Uniform on `[lo, hi)` at spread 1, narrowed or widened about the midpoint otherwise.
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let mid = 0.5 * (lo + hi);
        mid + self.spread * (self.rng.gen_range(lo..hi) - mid)
    }

    fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        log_normal(self.rng, median, self.spread * sigma)
    }

    fn normal(&mut self, sd: f64) -> f64 {
        self.spread * sd * normal(self.rng)
    }
}
