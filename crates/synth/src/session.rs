//! A session: actions one after another, each a pointing movement sampled like a real recorder
//! would, with the clicks, drags, scrolls and pauses of the person's style.

use pointerprint_core::{Button, Event, EventKind, Recording};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::motion::Plan;
use crate::random::{exp1, log_normal, mix, normal, rng_for};
use crate::style::MotorStyle;

/// Salt of the session's event stream.
const SESSION_SALT: u64 = 3;
/// A rest longer than this (ms) ends a plain movement: the segmenter's default `move_gap_ms`
/// plus a margin, so that consecutive movements are not read as one.
const REST_MS: f64 = 1_100.0;
/// Wheel events further apart than this (ms) start a new scroll in the segmenter; scrolls
/// keep their notches closer and are kept further apart.
const SCROLL_SPLIT_MS: f64 = 450.0;
/// Least rest (ms) after a scroll: more than the segmenter's default `scroll_gap_ms`, so the
/// next scroll is a scroll of its own.
const SCROLL_REST_MS: f64 = 600.0;
/// Least rest (ms) between two actions otherwise: a reaction time.
const MIN_PAUSE_MS: f64 = 80.0;
/// Longest dwell before a press (ms): a longer rest would cut the approach off the click.
const MAX_DWELL_MS: f64 = 900.0;
/// Targets closer than this (px) are drawn again: too short to show any dynamics.
const MIN_TARGET_PX: f64 = 40.0;
/// A movement needs this many positions to count as an action of its own.
const MIN_MOVE_POINTS: usize = 4;
/// Mean number of actions between changes of tempo within a session.
const TEMPO_SPELL: f64 = 20.0;
/// Log-scale spread of the tempo: hurried spells and careful ones.
const TEMPO_SD: f64 = 0.15;

/// The kinds of action the generator mixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Click,
    Move,
    Drag,
    Scroll,
}

/// Generates a session of about `actions` mouse actions for one person.
///
/// The actions (point-and-clicks, plain movements, drags and scrolls, mixed by the style's
/// weights) are counted as the core segmenter counts them: a double click is two clicks, and the
/// movement that brings the pointer to a drag or a scroll is a movement of its own. The
/// person's style is jittered per session (see [`MotorStyle::for_session`]). Deterministic for
/// (style, session_seed); `Recording::screen` is the style's screen.
pub fn session(style: &MotorStyle, session_seed: u64, actions: usize) -> Recording {
    let day = style.for_session(session_seed);
    let mut writer = Writer {
        rng: rng_for(mix(day.seed, session_seed), SESSION_SALT),
        events: Vec::with_capacity(actions.saturating_mul(48).min(1 << 24)),
        t: 0.0,
        pos: (0.0, 0.0),
        tempo: 1.0,
        style: &day,
    };
    writer.t = writer.rng.gen_range(0.0..500.0);
    let start = writer.target();
    writer.pos = writer.snap(start);

    let mut done = 0;
    let mut previous = None;
    // Every action kind counts at least one action except a plain movement too short to
    // register, which is rare; the bound only guards against a pathological style.
    let mut tries = 0;
    while done < actions && tries < actions.saturating_mul(4).saturating_add(16) {
        tries += 1;
        if writer.rng.gen_bool(1.0 / TEMPO_SPELL) {
            writer.tempo = (TEMPO_SD * normal(&mut writer.rng)).exp();
        }
        let kind = writer.kind();
        if let Some(previous) = previous {
            writer.pause(match previous {
                Kind::Move => REST_MS,
                Kind::Scroll => SCROLL_REST_MS,
                Kind::Click | Kind::Drag => MIN_PAUSE_MS,
            });
        }
        done += match kind {
            Kind::Click => writer.click(),
            Kind::Move => writer.plain_move(),
            Kind::Drag => writer.drag(),
            Kind::Scroll => writer.scroll(),
        };
        previous = Some(kind);
    }
    Recording {
        events: writer.events,
        screen: Some(day.screen),
    }
}

/// The state of a session being written.
struct Writer<'a> {
    style: &'a MotorStyle,
    rng: ChaCha8Rng,
    events: Vec<Event>,
    /// Current time (ms).
    t: f64,
    /// Current pointer position, as last reported.
    pos: (f64, f64),
    /// Factor on movement, dwell and pause times for the current spell of the session: even
    /// one person in one session is sometimes hurried and sometimes careful.
    tempo: f64,
}

impl Writer<'_> {
    fn kind(&mut self) -> Kind {
        let s = self.style;
        let weights = [
            (Kind::Click, s.click_weight),
            (Kind::Move, s.move_weight),
            (Kind::Drag, s.drag_weight),
            (Kind::Scroll, s.scroll_weight),
        ];
        let total: f64 = weights.iter().map(|w| w.1).sum();
        let mut r = self.rng.gen_range(0.0..total);
        for (kind, w) in weights {
            if r < w {
                return kind;
            }
            r -= w;
        }
        Kind::Click
    }

    /// Writes an event at the current time and place. Times are kept to 10 µs, about what
    /// browsers' coarsened clocks give (rounding keeps them in order).
    fn push(&mut self, kind: EventKind, button: Button) {
        let t = (self.t * 100.0).round() / 100.0;
        self.events
            .push(Event::new(t, self.pos.0, self.pos.1, kind, button));
    }

    /// A pixel position as the recorder reports it: on the device pixel grid, on the screen.
    fn snap(&self, (x, y): (f64, f64)) -> (f64, f64) {
        let screen = &self.style.screen;
        let dpr = screen.device_pixel_ratio;
        let snap = |v: f64, size: f64| ((v * dpr).round() / dpr).clamp(0.0, size - 1.0);
        (snap(x, screen.width), snap(y, screen.height))
    }

    /// A target somewhere the person works, far enough from the pointer to be worth a movement.
    fn target(&mut self) -> (f64, f64) {
        let s = self.style;
        let (w, h) = (s.screen.width, s.screen.height);
        let margin = 4.0;
        let mut p = self.pos;
        for _ in 0..8 {
            p = if self.rng.gen_bool(s.focus_weight) {
                (
                    (s.focus_x + s.focus_spread * normal(&mut self.rng)) * w,
                    (s.focus_y + s.focus_spread * normal(&mut self.rng)) * h,
                )
            } else {
                (self.rng.gen_range(0.0..w), self.rng.gen_range(0.0..h))
            };
            p = (p.0.clamp(margin, w - margin), p.1.clamp(margin, h - margin));
            if (p.0 - self.pos.0).hypot(p.1 - self.pos.1) >= MIN_TARGET_PX {
                break;
            }
        }
        p
    }

    /// Size (px) of a target: buttons, links, icons and fields span about 8 to 100 px.
    fn target_width(&mut self) -> f64 {
        8.0 * 12.5f64.powf(self.rng.r#gen::<f64>())
    }

    /// Moves the pointer to `to`, sampling it like a recorder; returns the events written.
    fn movement(&mut self, to: (f64, f64), width: f64, slowdown: f64, kind: EventKind) -> usize {
        let s = self.style;
        let button = if kind == EventKind::Drag {
            Button::Left
        } else {
            Button::None
        };
        let slowdown = slowdown * self.tempo;
        let plan = Plan::pointing(&mut self.rng, s, self.pos, to, width, slowdown);
        let start = self.t;
        let mut written = 0;
        let mut since = 0.0;
        loop {
            since += (s.sample_interval_ms + s.sample_jitter_ms * normal(&mut self.rng)).max(1.0);
            if since >= plan.duration {
                break;
            }
            if self.rng.gen_bool(s.drop_rate) {
                continue;
            }
            let p = self.snap(plan.position(since));
            // Recorders report only changes of position, but some repeat one now and then.
            if p == self.pos && !self.rng.gen_bool(s.repeat_rate) {
                continue;
            }
            self.t = start + since;
            self.pos = p;
            self.push(kind, button);
            written += 1;
        }
        // The pointer stops where the plan ends. If it was already there, the last reported
        // change was the arrival, and the rest before the next event counts from it.
        let end = self.snap(plan.position(plan.duration));
        if end != self.pos {
            self.t = start + plan.duration;
            self.pos = end;
            self.push(kind, button);
            written += 1;
        }
        written
    }

    /// Waits a pause of the person's kind, at least `least` ms, sometimes nudging the mouse.
    fn pause(&mut self, least: f64) {
        let s = self.style;
        let mut pause = least + 500.0 * self.rng.r#gen::<f64>();
        // Drawn again rather than clamped, so the pauses keep the shape of the distribution.
        for _ in 0..16 {
            let p = if self.rng.gen_bool(s.long_pause_prob) {
                1_500.0 + s.long_pause_mean_ms * exp1(&mut self.rng)
            } else {
                log_normal(&mut self.rng, s.pause_median_ms, s.pause_log_sd)
            } * self.tempo;
            if p >= least {
                pause = p.min(60_000.0);
                break;
            }
        }
        if pause > 3.0 * REST_MS && self.rng.gen_bool(s.idle_jitter_prob) {
            // Far enough from both neighbours that the segmenter never joins it to them.
            let at = self.t + self.rng.gen_range(REST_MS..pause - 2.0 * REST_MS);
            self.idle_jitter(at);
        }
        self.t += pause;
    }

    /// One to three tiny moves of a pixel or two at time `at`: too few to be an action.
    fn idle_jitter(&mut self, at: f64) {
        let end = self.t;
        self.t = at;
        for _ in 0..self.rng.gen_range(1..MIN_MOVE_POINTS) {
            let step = (
                f64::from(self.rng.gen_range(-2i32..=2)),
                f64::from(self.rng.gen_range(-2i32..=2)),
            );
            let p = self.snap((self.pos.0 + step.0, self.pos.1 + step.1));
            if p != self.pos {
                self.pos = p;
                self.push(EventKind::Move, Button::None);
            }
            self.t += self.style.sample_interval_ms;
        }
        self.t = end;
    }

    /// Rest on the target before a press.
    fn dwell(&mut self) -> f64 {
        let s = self.style;
        (self.tempo * log_normal(&mut self.rng, s.dwell_median_ms, s.dwell_log_sd))
            .clamp(15.0, MAX_DWELL_MS)
    }

    /// Press-to-release time of one click.
    fn hold(&mut self) -> f64 {
        let s = self.style;
        (s.hold_mean_ms + s.hold_sd_ms * normal(&mut self.rng)).max(20.0)
    }

    fn press_release(&mut self, button: Button, hold: f64) {
        self.push(EventKind::Press, button);
        self.t += hold;
        self.push(EventKind::Release, button);
    }

    /// Point and click, sometimes a double click: one action per click.
    fn click(&mut self) -> usize {
        let to = self.target();
        let width = self.target_width();
        self.movement(to, width, 1.0, EventKind::Move);
        self.t += self.dwell();
        let button = if self.rng.gen_bool(self.style.right_click_rate) {
            Button::Right
        } else {
            Button::Left
        };
        let hold = self.hold();
        self.press_release(button, hold);
        if button == Button::Left && self.rng.gen_bool(self.style.double_click_rate) {
            let gap = self.style.double_click_gap_ms * (0.2 * normal(&mut self.rng)).exp();
            self.t += gap;
            // The second press of a double click is held a little shorter.
            let hold = 0.85 * self.hold();
            self.press_release(button, hold);
            2
        } else {
            1
        }
    }

    /// A movement that ends without a click; it counts only if the recorder saw enough of it.
    fn plain_move(&mut self) -> usize {
        let to = self.target();
        // Nothing to hit: the end point is loose, as if the target were large.
        let width = 2.0 * self.target_width() + 40.0;
        usize::from(self.movement(to, width, 1.0, EventKind::Move) >= MIN_MOVE_POINTS)
    }

    /// Move to an object, press, drag it elsewhere, release: the approach is its own action.
    fn drag(&mut self) -> usize {
        let grab = self.target();
        let width = self.target_width();
        let approach = self.movement(grab, width, 1.0, EventKind::Move);
        self.t += self.dwell();
        self.push(EventKind::Press, Button::Left);
        self.t += self.style.drag_press_delay_ms * (0.3 * normal(&mut self.rng)).exp();
        let drop = self.target();
        let width = self.target_width();
        self.movement(drop, width, self.style.drag_slowdown, EventKind::Drag);
        self.t += 0.6 * self.dwell();
        self.push(EventKind::Release, Button::Left);
        1 + usize::from(approach >= MIN_MOVE_POINTS)
    }

    /// A burst of wheel notches in flicks of the finger, sometimes after moving somewhere.
    fn scroll(&mut self) -> usize {
        let s = self.style;
        let mut approach = 0;
        if self.rng.gen_bool(s.scroll_approach_prob) {
            let to = self.target();
            let width = 2.0 * self.target_width() + 40.0;
            approach = self.movement(to, width, 1.0, EventKind::Move);
            self.t += self.dwell();
        }
        let notches = 1 + (exp1(&mut self.rng) * (s.scroll_notches_mean - 1.0)).round() as usize;
        let down = self.rng.gen_bool(s.scroll_down_prob);
        let dy = if down {
            s.scroll_notch_px
        } else {
            -s.scroll_notch_px
        } as f32;
        let flick_end = 1.0 / s.scroll_flick_len;
        for i in 0..notches {
            if i > 0 {
                let gap = if self.rng.gen_bool(flick_end) {
                    log_normal(&mut self.rng, s.scroll_flick_gap_ms, 0.3)
                } else {
                    log_normal(&mut self.rng, s.scroll_notch_interval_ms, 0.3)
                };
                self.t += gap.clamp(1.0, SCROLL_SPLIT_MS);
            }
            self.push(EventKind::Wheel { dx: 0.0, dy }, Button::None);
        }
        1 + usize::from(approach >= MIN_MOVE_POINTS)
    }
}
