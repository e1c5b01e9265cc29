//! Which events the service accepts: not too many, finite plausible values, times not going
//! backwards, and a screen claim that a real screen could make. (Positions beyond the claim
//! are not refused: a zoomed-out page's viewport is wider than the screen it reports.
//! Preprocessing then ignores the claim, so it cannot rescale anything.) A stored batch must
//! also hold some events.

use pointerprint_core::{EventKind, Recording, Screen};

/// Coordinates beyond this many pixels are not a screen position.
const MAX_COORDINATE: f64 = 1.0e6;

/// Why a batch was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BatchError {
    #[error("the batch holds no events")]
    Empty,
    #[error("{count} events in one batch; at most {max}")]
    TooMany { count: usize, max: usize },
    #[error("events[{index}]: {problem}")]
    Invalid { index: usize, problem: String },
    #[error("screen: {0}")]
    Screen(String),
}

/// Checks a batch to store: at least one and at most `max_events` events. (An empty batch
/// would store nothing but use up its `seq`.)
pub fn check_batch(recording: &Recording, max_events: usize) -> Result<(), BatchError> {
    if recording.events.is_empty() {
        return Err(BatchError::Empty);
    }
    check_events(recording, max_events)
}

/// Checks events to verify (or to store, see [`check_batch`]): at most `max_events`.
pub fn check_events(recording: &Recording, max_events: usize) -> Result<(), BatchError> {
    let events = &recording.events;
    if events.len() > max_events {
        return Err(BatchError::TooMany {
            count: events.len(),
            max: max_events,
        });
    }
    if let Some(screen) = &recording.screen {
        check_screen(screen)?;
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

/// A claimed screen must be one a real display could have.
fn check_screen(screen: &Screen) -> Result<(), BatchError> {
    if screen.is_plausible() {
        return Ok(());
    }
    let (sides, ratios) = (Screen::SIDES, Screen::PIXEL_RATIOS);
    Err(BatchError::Screen(format!(
        "{}x{} at device pixel ratio {} is not a screen: each side must be {}..={} pixels and \
         the ratio {}..={}",
        screen.width,
        screen.height,
        screen.device_pixel_ratio,
        sides.start(),
        sides.end(),
        ratios.start(),
        ratios.end()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pointerprint_core::{Button, Event};

    fn batch(screen: Option<(f64, f64, f64)>, points: &[(f64, f64)]) -> Recording {
        let events = points
            .iter()
            .enumerate()
            .map(|(i, &(x, y))| Event::new(i as f64 * 10.0, x, y, EventKind::Move, Button::None))
            .collect();
        Recording {
            events,
            screen: screen.map(|(width, height, device_pixel_ratio)| Screen {
                width,
                height,
                device_pixel_ratio,
            }),
        }
    }

    #[test]
    fn empty_batches_are_refused() {
        assert_eq!(check_batch(&batch(None, &[]), 10), Err(BatchError::Empty));
        // Nothing to verify is a verdict, not a malformed request.
        assert_eq!(check_events(&batch(None, &[]), 10), Ok(()));
    }

    #[test]
    fn screens_no_display_has_are_refused() {
        let points = [(10.0, 10.0)];
        for screen in [
            (0.0, 0.0, 1.0),
            (-1920.0, 1080.0, 1.0),
            (1e-300, 1e-300, 1.0),
            (1e-5, 1e-5, 1.0),
            (f64::NAN, 1080.0, 1.0),
            (f64::INFINITY, 1080.0, 1.0),
            (199.0, 1080.0, 1.0),
            (1920.0, 16_385.0, 1.0),
            (1920.0, 1080.0, 0.0),
            (1920.0, 1080.0, -1.0),
            (1920.0, 1080.0, 100.0),
        ] {
            assert!(
                matches!(
                    check_events(&batch(Some(screen), &points), 10),
                    Err(BatchError::Screen(_))
                ),
                "{screen:?}"
            );
        }
        for screen in [
            (200.0, 200.0, 1.0),
            (1920.0, 1080.0, 1.25),
            (16_384.0, 16_384.0, 8.0),
        ] {
            assert_eq!(check_events(&batch(Some(screen), &points), 10), Ok(()));
        }
    }

    #[test]
    fn positions_beyond_a_claimed_screen_are_stored() {
        let screen = Some((320.0, 240.0, 1.0));
        assert_eq!(
            check_events(&batch(screen, &[(10.0, 10.0), (1500.0, 100.0)]), 10),
            Ok(())
        );
        // Without a claim, any position on some screen will do.
        assert_eq!(
            check_events(&batch(None, &[(15_000.0, 9_000.0)]), 10),
            Ok(())
        );
    }
}
