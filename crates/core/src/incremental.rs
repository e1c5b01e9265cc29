//! Features of a recording that grows batch by batch (a continuous session): each batch
//! returns the actions its events completed, at the cost of its own events and the one
//! unfinished action carried over, not of the whole session so far.

use crate::action::{Action, Segmenter, SegmenterConfig};
use crate::event::{Event, Recording, Screen};
use crate::features::{FeatureExtractor, FeatureVector};
use crate::preprocess::{Cleaned, PreprocessConfig, preprocess};

/// Extracts features from a growing recording. An action is complete once another has
/// begun after it (the last one may still grow), so the features returned over all calls
/// are those [`crate::extract`] gives the whole recording, less its last action, as long as
/// the recording's events arrive in time order.
#[derive(Debug, Default)]
pub struct IncrementalExtractor {
    /// Events from the start of the last action returned (the context of the next action's
    /// pause) to the newest.
    tail: Vec<Event>,
    screen: Option<Screen>,
    /// End time of the last action returned.
    done_until: Option<f64>,
    features: FeatureExtractor,
}

impl IncrementalExtractor {
    /// Adds a batch; returns the features of the actions it completed, in order.
    pub fn push(&mut self, batch: &Recording) -> Vec<FeatureVector> {
        self.tail.extend_from_slice(&batch.events);
        if batch.screen.is_some() {
            self.screen = batch.screen;
        }
        let recording = Recording {
            events: std::mem::take(&mut self.tail),
            screen: self.screen,
        };
        let cleaned = preprocess(&recording, &PreprocessConfig::default());
        self.tail = recording.events;
        let actions = Segmenter::new(SegmenterConfig::default()).segment(&cleaned);
        let complete = &actions[..actions.len().saturating_sub(1)];
        let mut out = Vec::new();
        let mut last_returned = None;
        for action in complete {
            let (_, end) = span(&cleaned, action);
            if self.done_until.is_some_and(|done| end <= done) {
                continue;
            }
            out.push(self.features.extract(&cleaned, action));
            last_returned = Some(action);
        }
        if let Some(action) = last_returned {
            let (start, end) = span(&cleaned, action);
            self.done_until = Some(end);
            let keep_from = self.tail.iter().position(|e| e.t >= start);
            self.tail.drain(..keep_from.unwrap_or(self.tail.len()));
        }
        out
    }

    /// Events held for the actions still to complete.
    pub fn pending_events(&self) -> usize {
        self.tail.len()
    }
}

/// First and last time of an action.
fn span(cleaned: &Cleaned, action: &Action) -> (f64, f64) {
    let events = &cleaned.events[action.events.clone()];
    (events[0].t, events[events.len() - 1].t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Button, EventKind};
    use crate::extract;

    /// A deterministic session of moves, pauses, clicks, drags and scrolls.
    fn session(seed: u64, actions: usize) -> Vec<Event> {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as f64 / f64::from(1u32 << 31)
        };
        let (mut t, mut x, mut y) = (0.0, 500.0, 400.0);
        let mut events = Vec::new();
        for _ in 0..actions {
            let steps = 5 + (next() * 30.0) as usize;
            let (dx, dy) = (next() * 40.0 - 20.0, next() * 40.0 - 20.0);
            let kind = next();
            let drag = kind > 0.85;
            if drag {
                events.push(Event::new(t, x, y, EventKind::Press, Button::Left));
            }
            for _ in 0..steps {
                t += 8.0 + next() * 8.0;
                x += dx + next() * 3.0;
                y += dy + next() * 3.0;
                let kind = if drag {
                    EventKind::Drag
                } else {
                    EventKind::Move
                };
                events.push(Event::new(t, x, y, kind, Button::None));
            }
            t += 50.0 + next() * 200.0;
            if drag {
                events.push(Event::new(t, x, y, EventKind::Release, Button::Left));
            } else if kind > 0.4 {
                events.push(Event::new(t, x, y, EventKind::Press, Button::Left));
                t += 60.0 + next() * 80.0;
                events.push(Event::new(t, x, y, EventKind::Release, Button::Left));
            } else if kind > 0.3 {
                for _ in 0..4 {
                    t += 30.0;
                    events.push(Event::new(
                        t,
                        x,
                        y,
                        EventKind::Wheel { dx: 0.0, dy: 120.0 },
                        Button::None,
                    ));
                }
            }
            // Now and then the hand rests long enough to end a movement or a segment.
            t += if next() > 0.9 {
                1_500.0 + next() * 12_000.0
            } else {
                100.0 + next() * 400.0
            };
        }
        events
    }

    #[test]
    fn batches_give_the_whole_recordings_features_less_the_unfinished_action() {
        for (seed, batch_len) in [(1, 1), (2, 7), (3, 120), (4, 1_000), (5, 33)] {
            let events = session(seed, 200);
            let whole = extract(&Recording::new(events.clone()));
            let mut incremental = IncrementalExtractor::default();
            let mut got = Vec::new();
            for batch in events.chunks(batch_len) {
                got.extend(incremental.push(&Recording::new(batch.to_vec())));
            }
            assert!(whole.len() > 150, "{}", whole.len());
            assert_eq!(
                got.len(),
                whole.len() - 1,
                "seed {seed}, batches of {batch_len}"
            );
            assert_eq!(got[..], whole[..whole.len() - 1], "seed {seed}");
        }
    }

    #[test]
    fn only_the_unfinished_action_is_held_back() {
        let events = session(9, 400);
        let mut incremental = IncrementalExtractor::default();
        let mut most_held = 0;
        for batch in events.chunks(120) {
            incremental.push(&Recording::new(batch.to_vec()));
            most_held = most_held.max(incremental.pending_events());
        }
        // Two actions and a batch at most, never the session.
        assert!(
            most_held < 300,
            "{most_held} of {} events held",
            events.len()
        );
    }
}
