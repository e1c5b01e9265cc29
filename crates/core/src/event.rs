//! The one event model every reader produces and every later stage consumes.

use serde::{Deserialize, Serialize};

/// A mouse button. `Back` and `Forward` are the side buttons (XButton1/2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Button {
    None,
    Left,
    Right,
    Middle,
    Back,
    Forward,
}

/// What happened at an event.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum EventKind {
    /// The pointer moved with no button held.
    Move,
    /// The pointer moved with a button held.
    Drag,
    /// A button went down.
    Press,
    /// A button went up.
    Release,
    /// A wheel turned or the page scrolled, by this many pixels (positive `dy` = down).
    Wheel { dx: f32, dy: f32 },
}

/// One pointer event. Times are milliseconds on one clock per recording; coordinates are
/// pixels of the screen the recording came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub t: f64,
    pub x: f64,
    pub y: f64,
    pub kind: EventKind,
    pub button: Button,
}

impl Event {
    pub fn new(t: f64, x: f64, y: f64, kind: EventKind, button: Button) -> Self {
        Self {
            t,
            x,
            y,
            kind,
            button,
        }
    }

    /// Whether the event carries a pointer position that belongs to a trajectory.
    pub fn is_motion(&self) -> bool {
        matches!(self.kind, EventKind::Move | EventKind::Drag)
    }
}

/// The screen a recording was made on, when the recorder knew it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Screen {
    /// Width in CSS (or screen) pixels.
    pub width: f64,
    /// Height in CSS (or screen) pixels.
    pub height: f64,
    /// Device pixels per CSS pixel; 1 where unknown.
    pub device_pixel_ratio: f64,
}

impl Screen {
    /// The sides a screen's claim may have, in pixels: from a small phone's to beyond 16K.
    pub const SIDES: std::ops::RangeInclusive<f64> = 200.0..=16_384.0;
    /// The device pixel ratios browsers report (page zoom included).
    pub const PIXEL_RATIOS: std::ops::RangeInclusive<f64> = 0.25..=8.0;

    /// Whether this claim could describe a real screen: finite sides in [`Self::SIDES`] and
    /// a ratio in [`Self::PIXEL_RATIOS`]. Preprocessing rescales only by such claims.
    pub fn is_plausible(&self) -> bool {
        Self::SIDES.contains(&self.width)
            && Self::SIDES.contains(&self.height)
            && Self::PIXEL_RATIOS.contains(&self.device_pixel_ratio)
    }
}

/// The events of one session in the order they were recorded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    pub events: Vec<Event>,
    pub screen: Option<Screen>,
}

impl Recording {
    pub fn new(events: Vec<Event>) -> Self {
        Self {
            events,
            screen: None,
        }
    }
}
