//! Which batches of events the service accepts: not too many, finite plausible values,
//! times not going backwards.

use pointerprint_core::{EventKind, Recording};

/// Coordinates beyond this many pixels are not a screen position.
const MAX_COORDINATE: f64 = 1.0e6;

/// Why a batch was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BatchError {
    #[error("{count} events in one batch; at most {max}")]
    TooMany { count: usize, max: usize },
    #[error("events[{index}]: {problem}")]
    Invalid { index: usize, problem: String },
}

/// Checks a batch of at most `max_events` events.
pub fn check_events(recording: &Recording, max_events: usize) -> Result<(), BatchError> {
    let events = &recording.events;
    if events.len() > max_events {
        return Err(BatchError::TooMany {
            count: events.len(),
            max: max_events,
        });
    }
    for (index, e) in events.iter().enumerate() {
        let bad = |problem: String| BatchError::Invalid { index, problem };
        if !e.t.is_finite() || e.t < 0.0 {
            return Err(bad(format!("time {} is not a non-negative number", e.t)));
        }
        if !(e.x.is_finite() && e.y.is_finite())
            || e.x.abs() > MAX_COORDINATE
            || e.y.abs() > MAX_COORDINATE
        {
            return Err(bad(format!(
                "position ({}, {}) is not on a screen",
                e.x, e.y
            )));
        }
        if let EventKind::Wheel { dx, dy } = e.kind
            && !(dx.is_finite() && dy.is_finite())
        {
            return Err(bad("wheel delta is not finite".into()));
        }
        if index > 0 && e.t < events[index - 1].t {
            return Err(bad(format!(
                "time {} is before the previous event's {}",
                e.t,
                events[index - 1].t
            )));
        }
    }
    Ok(())
}
