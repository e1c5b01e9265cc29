//! Segmentation of cleaned events into mouse actions, after Antal & Egyed-Zsigmond,
//! "Intrusion detection using mouse dynamics" (IET Biometrics, 2019): mouse moves (MM),
//! point-and-click (PC) and drag-and-drop (DD), plus wheel scrolls.

use std::ops::Range;

use crate::event::{Button, Event, EventKind};
use crate::preprocess::Cleaned;

/// The kind of a mouse action. The discriminant is the numeric code used as a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ActionKind {
    /// A movement that ends without a button press.
    MouseMove = 0,
    /// A movement that ends in a press and release at (about) the same place.
    PointClick = 1,
    /// A press, a movement with the button held, and a release.
    DragDrop = 2,
    /// A burst of wheel events.
    Scroll = 3,
}

/// One action: a contiguous run of cleaned events.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub kind: ActionKind,
    /// Indices into [`Cleaned::events`].
    pub events: Range<usize>,
    /// The button pressed (PC, DD), else `Button::None`.
    pub button: Button,
    /// Milliseconds since the previous action ended in the same segment, if there was one.
    pub pause_before: Option<f64>,
}

/// Knobs of the [`Segmenter`].
#[derive(Debug, Clone, PartialEq)]
pub struct SegmenterConfig {
    /// A gap longer than this (ms) between two moves ends a movement: the pointer came to rest.
    pub move_gap_ms: f64,
    /// Wheel events further apart than this (ms) belong to different scroll actions.
    pub scroll_gap_ms: f64,
    /// A press and release further apart than this (px) were a drag even without drag events.
    pub drag_min_px: f64,
    /// Plain movements with fewer positions than this carry no usable dynamics and are skipped.
    pub min_move_points: usize,
}

impl Default for SegmenterConfig {
    fn default() -> Self {
        Self {
            move_gap_ms: 1_000.0,
            scroll_gap_ms: 500.0,
            drag_min_px: 8.0,
            min_move_points: 4,
        }
    }
}

/// Cuts cleaned events into actions.
#[derive(Debug, Clone, Default)]
pub struct Segmenter {
    config: SegmenterConfig,
}

impl Segmenter {
    pub fn new(config: SegmenterConfig) -> Self {
        Self { config }
    }

    /// All actions of a cleaned recording, in time order. Actions never cross a segment break.
    pub fn segment(&self, cleaned: &Cleaned) -> Vec<Action> {
        let mut actions = Vec::with_capacity(cleaned.events.len() / 16 + 1);
        for segment in &cleaned.segments {
            self.segment_one(cleaned, segment.clone(), &mut actions);
        }
        actions
    }

    fn segment_one(&self, cleaned: &Cleaned, segment: Range<usize>, out: &mut Vec<Action>) {
        let ev = &cleaned.events;
        let cfg = &self.config;
        let mut sink = Sink {
            events: ev,
            out,
            last_end_t: None,
            min_move_points: cfg.min_move_points,
        };
        // Start of the movement that is under way, if any.
        let mut pending: Option<usize> = None;

        let mut i = segment.start;
        while i < segment.end {
            let e = ev[i];
            match e.kind {
                EventKind::Move | EventKind::Drag => {
                    if pending.is_some() && e.t - ev[i - 1].t > cfg.move_gap_ms {
                        sink.movement(pending.take(), i);
                    }
                    pending.get_or_insert(i);
                    i += 1;
                }
                EventKind::Press => {
                    let Some(release) = find_release(ev, i, segment.end, e.button) else {
                        // A press whose release never came (or came after another press).
                        i += 1;
                        continue;
                    };
                    let dragged = ev[i + 1..release].iter().any(|m| m.kind == EventKind::Drag)
                        || (ev[release].x - e.x).hypot(ev[release].y - e.y) > cfg.drag_min_px;
                    // The movement that brought the pointer to the press, if it did not rest.
                    let approach = pending.filter(|_| e.t - ev[i - 1].t <= cfg.move_gap_ms);
                    if dragged {
                        sink.movement(pending.take(), i);
                        sink.emit(ActionKind::DragDrop, i..release + 1, e.button);
                    } else {
                        if approach.is_none() {
                            sink.movement(pending.take(), i);
                        }
                        let start = approach.unwrap_or(i);
                        sink.emit(ActionKind::PointClick, start..release + 1, e.button);
                    }
                    pending = None;
                    i = release + 1;
                }
                EventKind::Release => i += 1,
                EventKind::Wheel { .. } => {
                    sink.movement(pending.take(), i);
                    let mut end = i + 1;
                    while end < segment.end
                        && matches!(ev[end].kind, EventKind::Wheel { .. })
                        && ev[end].t - ev[end - 1].t <= cfg.scroll_gap_ms
                    {
                        end += 1;
                    }
                    sink.emit(ActionKind::Scroll, i..end, Button::None);
                    i = end;
                }
            }
        }
        sink.movement(pending, segment.end);
    }
}

/// Collects the actions of one segment and remembers when the last one ended.
struct Sink<'a> {
    events: &'a [Event],
    out: &'a mut Vec<Action>,
    last_end_t: Option<f64>,
    min_move_points: usize,
}

impl Sink<'_> {
    fn emit(&mut self, kind: ActionKind, events: Range<usize>, button: Button) {
        let start_t = self.events[events.start].t;
        let end_t = self.events[events.end - 1].t;
        self.out.push(Action {
            kind,
            events,
            button,
            pause_before: self.last_end_t.map(|t| start_t - t),
        });
        self.last_end_t = Some(end_t);
    }

    /// Emits the plain movement `start..end`, if there is one long enough to describe.
    fn movement(&mut self, start: Option<usize>, end: usize) {
        if let Some(s) = start.filter(|s| end - s >= self.min_move_points) {
            self.emit(ActionKind::MouseMove, s..end, Button::None);
        }
    }
}

/// The release that ends the press at `press`, if it comes before any other press.
fn find_release(ev: &[Event], press: usize, end: usize, button: Button) -> Option<usize> {
    for (j, e) in ev.iter().enumerate().take(end).skip(press + 1) {
        match e.kind {
            EventKind::Release if e.button == button || e.button == Button::None => return Some(j),
            EventKind::Press => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Recording;
    use crate::preprocess::{PreprocessConfig, preprocess};

    fn ev(t: f64, x: f64, kind: EventKind, button: Button) -> Event {
        Event::new(t, x, 100.0, kind, button)
    }

    fn kinds(events: Vec<Event>) -> Vec<(ActionKind, usize)> {
        let cleaned = preprocess(&Recording::new(events), &PreprocessConfig::default());
        Segmenter::default()
            .segment(&cleaned)
            .into_iter()
            .map(|a| (a.kind, a.events.len()))
            .collect()
    }

    fn moves(t0: f64, x0: f64, n: usize) -> Vec<Event> {
        (0..n)
            .map(|k| {
                ev(
                    t0 + 10.0 * k as f64,
                    x0 + 5.0 * k as f64,
                    EventKind::Move,
                    Button::None,
                )
            })
            .collect()
    }

    #[test]
    fn move_then_click_is_one_point_click() {
        let mut e = moves(0.0, 0.0, 6);
        e.push(ev(60.0, 25.0, EventKind::Press, Button::Left));
        e.push(ev(150.0, 25.0, EventKind::Release, Button::Left));
        assert_eq!(kinds(e), vec![(ActionKind::PointClick, 8)]);
    }

    #[test]
    fn press_drag_release_is_drag_and_drop_after_its_approach() {
        let mut e = moves(0.0, 0.0, 5);
        e.push(ev(50.0, 20.0, EventKind::Press, Button::Left));
        e.extend((1..6).map(|k| {
            ev(
                50.0 + 10.0 * k as f64,
                20.0 + 10.0 * k as f64,
                EventKind::Drag,
                Button::Left,
            )
        }));
        e.push(ev(120.0, 70.0, EventKind::Release, Button::Left));
        assert_eq!(
            kinds(e),
            vec![(ActionKind::MouseMove, 5), (ActionKind::DragDrop, 7)]
        );
    }

    #[test]
    fn rest_splits_moves_and_short_moves_are_dropped() {
        let mut e = moves(0.0, 0.0, 6);
        e.extend(moves(3_000.0, 100.0, 6));
        e.extend(moves(6_000.0, 300.0, 2));
        assert_eq!(
            kinds(e),
            vec![(ActionKind::MouseMove, 6), (ActionKind::MouseMove, 6)]
        );
    }

    #[test]
    fn wheel_bursts_are_scroll_actions() {
        let mut e = moves(0.0, 0.0, 5);
        let wheel = EventKind::Wheel { dx: 0.0, dy: 100.0 };
        e.extend((0..4).map(|k| ev(100.0 + 50.0 * k as f64, 20.0, wheel, Button::None)));
        e.push(ev(2_000.0, 20.0, wheel, Button::None));
        assert_eq!(
            kinds(e),
            vec![
                (ActionKind::MouseMove, 5),
                (ActionKind::Scroll, 4),
                (ActionKind::Scroll, 1)
            ]
        );
    }

    #[test]
    fn unmatched_press_and_release_are_ignored() {
        let mut e = vec![ev(0.0, 0.0, EventKind::Release, Button::Left)];
        e.push(ev(5.0, 0.0, EventKind::Press, Button::Left));
        e.extend(moves(10.0, 0.0, 5));
        assert_eq!(kinds(e), vec![(ActionKind::MouseMove, 5)]);
    }

    #[test]
    fn pause_before_is_measured_from_the_previous_action() {
        let mut e = moves(0.0, 0.0, 5);
        e.extend(moves(2_000.0, 100.0, 5));
        let cleaned = preprocess(&Recording::new(e), &PreprocessConfig::default());
        let actions = Segmenter::default().segment(&cleaned);
        assert_eq!(actions[0].pause_before, None);
        assert_eq!(actions[1].pause_before, Some(1_960.0));
    }
}
