//! Cleaning a recording before segmentation: glitches out, events in time order, duplicates
//! merged, clock jumps and long pauses turned into segment breaks, resolution normalised.

use std::ops::Range;

use crate::event::{Event, EventKind, Recording, Screen};

/// Knobs of [`preprocess`]; the defaults suit desktop mice sampled at 60-1000 Hz.
#[derive(Debug, Clone, PartialEq)]
pub struct PreprocessConfig {
    /// Coordinates beyond ±this many pixels are recorder glitches (e.g. 65535) and dropped.
    pub max_coordinate: f64,
    /// A step back in time of more than this (ms) in recorded order is a clock jump, not jitter.
    pub clock_jump_ms: f64,
    /// A silence longer than this (ms) ends a segment: no action spans it.
    pub pause_split_ms: f64,
    /// Screens of known size are rescaled so their diagonal measures this many pixels, making
    /// distances and speeds comparable across resolutions.
    pub reference_diagonal: f64,
}

impl Default for PreprocessConfig {
    fn default() -> Self {
        Self {
            max_coordinate: 16_384.0,
            clock_jump_ms: 1_000.0,
            pause_split_ms: 10_000.0,
            reference_diagonal: 2_202.9, // 1920x1080
        }
    }
}

/// A cleaned recording: time-ordered events cut into segments that hold no long pause.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cleaned {
    pub events: Vec<Event>,
    /// Index ranges into `events`, in order, covering every event exactly once.
    pub segments: Vec<Range<usize>>,
}

/// Cleans a recording. Never fails: what cannot be used is dropped, and an empty recording
/// gives an empty result.
pub fn preprocess(recording: &Recording, config: &PreprocessConfig) -> Cleaned {
    // A claim no screen could make (zero, negative, 1e-300 px) would blow coordinates up or
    // away, and one the positions do not fit (a zoomed-out page, or a forged claim) says
    // nothing of their scale: such recordings keep their pixels as they are.
    let scale = recording
        .screen
        .filter(Screen::is_plausible)
        .filter(|s| fits(recording, s, config.max_coordinate))
        .map_or(1.0, |s| config.reference_diagonal / s.width.hypot(s.height));

    // Chunks: runs of usable events between clock jumps, as ranges of `recording.events`, and
    // whether each is already in time order (the usual case, which needs no copy to sort).
    let mut chunks: Vec<(Range<usize>, bool)> = Vec::new();
    let mut chunk_start = 0;
    let mut in_order = true;
    let mut last_t = f64::NEG_INFINITY;
    for (i, e) in recording.events.iter().enumerate() {
        if !is_usable(e, config.max_coordinate) {
            continue;
        }
        if e.t < last_t - config.clock_jump_ms {
            chunks.push((chunk_start..i, in_order));
            chunk_start = i;
            in_order = true;
        } else if e.t < last_t {
            in_order = false;
        }
        last_t = e.t;
    }
    chunks.push((chunk_start..recording.events.len(), in_order));

    let usable = |e: &&Event| is_usable(e, config.max_coordinate);
    let scaled = |e: &Event| {
        let mut e = *e;
        e.x *= scale;
        e.y *= scale;
        e
    };
    let mut out = Cleaned {
        events: Vec::with_capacity(recording.events.len()),
        segments: Vec::new(),
    };
    let mut sorted = Vec::new();
    for (range, in_order) in chunks {
        let chunk = recording.events[range].iter().filter(usable).map(scaled);
        if in_order {
            append_chunk(&mut out, chunk, config.pause_split_ms);
        } else {
            // Small reorderings (batches flushed out of order, jittery clocks) are sorted away
            // within a chunk; a stable sort keeps press-before-release for events on the same
            // millisecond.
            sorted.clear();
            sorted.extend(chunk);
            sorted.sort_by(|a, b| a.t.total_cmp(&b.t));
            append_chunk(&mut out, sorted.iter().copied(), config.pause_split_ms);
        }
    }
    out
}

/// How far beyond a claimed screen's edges a position may lie, as a share of the side (a
/// drag held past the window's edge).
const SCREEN_MARGIN: f64 = 0.25;

/// Whether every usable position lies on `screen`, give or take [`SCREEN_MARGIN`].
fn fits(recording: &Recording, screen: &Screen, max_coordinate: f64) -> bool {
    let within =
        |c: f64, side: f64| (-side * SCREEN_MARGIN..=side * (1.0 + SCREEN_MARGIN)).contains(&c);
    recording
        .events
        .iter()
        .filter(|e| is_usable(e, max_coordinate))
        .all(|e| within(e.x, screen.width) && within(e.y, screen.height))
}

/// Appends the time-ordered events of one chunk, merging duplicates and cutting segments at
/// long pauses.
fn append_chunk(out: &mut Cleaned, chunk: impl Iterator<Item = Event>, pause_split_ms: f64) {
    let mut seg_start = out.events.len();
    for e in chunk {
        if let Some(prev) = out.events[seg_start..].last_mut() {
            if e.t - prev.t > pause_split_ms {
                out.segments.push(seg_start..out.events.len());
                seg_start = out.events.len();
            } else if e.t == prev.t && prev.is_motion() && e.is_motion() {
                // Two positions at one instant carry no timing: keep the later position.
                *prev = e;
                continue;
            } else if e == *prev {
                continue;
            }
        }
        out.events.push(e);
    }
    if out.events.len() > seg_start {
        out.segments.push(seg_start..out.events.len());
    }
}

fn is_usable(e: &Event, max_coordinate: f64) -> bool {
    let wheel_ok = match e.kind {
        EventKind::Wheel { dx, dy } => dx.is_finite() && dy.is_finite(),
        _ => true,
    };
    wheel_ok
        && e.t.is_finite()
        && e.x.is_finite()
        && e.y.is_finite()
        && e.x.abs() <= max_coordinate
        && e.y.abs() <= max_coordinate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Button;

    fn mv(t: f64, x: f64, y: f64) -> Event {
        Event::new(t, x, y, EventKind::Move, Button::None)
    }

    fn clean(events: Vec<Event>) -> Cleaned {
        preprocess(&Recording::new(events), &PreprocessConfig::default())
    }

    #[test]
    fn drops_glitches_and_non_finite_values() {
        let c = clean(vec![
            mv(0.0, 1.0, 1.0),
            mv(10.0, 65535.0, 65535.0),
            mv(20.0, f64::NAN, 3.0),
            mv(f64::INFINITY, 3.0, 3.0),
            mv(30.0, 4.0, 4.0),
        ]);
        assert_eq!(c.events.len(), 2);
        assert_eq!(c.segments, vec![0..2]);
    }

    #[test]
    fn sorts_small_reorderings_and_merges_same_instant_moves() {
        let c = clean(vec![
            mv(0.0, 0.0, 0.0),
            mv(20.0, 2.0, 0.0),
            mv(10.0, 1.0, 0.0),
            mv(20.0, 3.0, 0.0),
        ]);
        let xs: Vec<f64> = c.events.iter().map(|e| e.x).collect();
        assert_eq!(xs, vec![0.0, 1.0, 3.0]);
    }

    #[test]
    fn sorts_each_chunk_on_its_own() {
        let c = clean(vec![
            mv(5_000.0, 0.0, 0.0),
            mv(5_020.0, 2.0, 0.0),
            mv(5_010.0, 1.0, 0.0),
            mv(5_030.0, 65535.0, 0.0), // a glitch, dropped
            mv(5.0, 5.0, 0.0),         // the clock was reset: a new chunk
            mv(15.0, 6.0, 0.0),
            mv(12.0, 7.0, 0.0),
        ]);
        let xs: Vec<f64> = c.events.iter().map(|e| e.x).collect();
        assert_eq!(xs, vec![0.0, 1.0, 2.0, 5.0, 7.0, 6.0]);
        assert_eq!(c.segments, vec![0..3, 3..6]);
    }

    #[test]
    fn keeps_press_and_release_on_the_same_millisecond() {
        let c = clean(vec![
            Event::new(5.0, 1.0, 1.0, EventKind::Press, Button::Left),
            Event::new(5.0, 1.0, 1.0, EventKind::Release, Button::Left),
        ]);
        assert_eq!(c.events.len(), 2);
        assert_eq!(c.events[0].kind, EventKind::Press);
    }

    #[test]
    fn splits_on_long_pauses_and_clock_jumps() {
        let c = clean(vec![
            mv(0.0, 0.0, 0.0),
            mv(10.0, 1.0, 0.0),
            mv(60_000.0, 2.0, 0.0),
            mv(60_010.0, 3.0, 0.0),
            mv(5.0, 4.0, 0.0), // the clock was reset
            mv(15.0, 5.0, 0.0),
        ]);
        assert_eq!(c.segments, vec![0..2, 2..4, 4..6]);
        assert_eq!(c.events[4].x, 4.0);
    }

    #[test]
    fn rescales_known_screens_to_the_reference_diagonal() {
        let mut r = Recording::new(vec![mv(0.0, 3840.0, 2160.0)]);
        r.screen = Some(Screen {
            width: 3840.0,
            height: 2160.0,
            device_pixel_ratio: 1.0,
        });
        let c = preprocess(&r, &PreprocessConfig::default());
        assert!((c.events[0].x - 1920.0).abs() < 0.1);
        assert!((c.events[0].y - 1080.0).abs() < 0.1);
    }

    #[test]
    fn ignores_screens_no_display_has() {
        for (width, height) in [
            (0.0, 0.0),
            (-1920.0, 1080.0),
            (1e-300, 1e-300),
            (1e-5, 1e-5),
        ] {
            let mut r = Recording::new(vec![mv(0.0, 300.0, 200.0)]);
            r.screen = Some(Screen {
                width,
                height,
                device_pixel_ratio: 1.0,
            });
            let c = preprocess(&r, &PreprocessConfig::default());
            assert_eq!(
                (c.events[0].x, c.events[0].y),
                (300.0, 200.0),
                "{width}x{height}"
            );
        }
    }
}
