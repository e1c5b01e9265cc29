//! Training-data augmentation that makes models robust to how a recording was sampled.
//!
//! The same hand on a different pointer stack (a remote desktop, a browser that coalesces
//! moves, a 125 Hz mouse against a 1000 Hz one) yields positions at very different rates.
//! Training on each session and on a coarsely resampled copy of it teaches a model the
//! user's movements at both rates.

use crate::event::{Event, Recording};

/// The interval (ms) of the coarse copy: remote-desktop and throttled recorders deliver
/// positions about this far apart.
pub const COARSE_INTERVAL_MS: f64 = 100.0;

/// A copy of `recording` keeping at most one position per `interval_ms`; clicks, drags'
/// presses and releases, and wheel events are all kept.
pub fn resample(recording: &Recording, interval_ms: f64) -> Recording {
    let mut last = f64::NEG_INFINITY;
    let events: Vec<Event> = recording
        .events
        .iter()
        .filter(|e| {
            if !e.is_motion() {
                return true;
            }
            if e.t - last >= interval_ms {
                last = e.t;
                true
            } else {
                false
            }
        })
        .copied()
        .collect();
    Recording {
        events,
        screen: recording.screen,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Button, EventKind};

    #[test]
    fn keeps_one_position_per_interval_and_every_click() {
        let mut events: Vec<Event> = (0..50)
            .map(|k| {
                Event::new(
                    10.0 * k as f64,
                    k as f64,
                    0.0,
                    EventKind::Move,
                    Button::None,
                )
            })
            .collect();
        events.push(Event::new(495.0, 49.0, 0.0, EventKind::Press, Button::Left));
        events.push(Event::new(
            560.0,
            49.0,
            0.0,
            EventKind::Release,
            Button::Left,
        ));
        let coarse = resample(&Recording::new(events), 100.0);
        let times: Vec<f64> = coarse.events.iter().map(|e| e.t).collect();
        assert_eq!(times, vec![0.0, 100.0, 200.0, 300.0, 400.0, 495.0, 560.0]);
    }
}
