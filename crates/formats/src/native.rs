//! pointerprint's own event format: what its browser collector sends and its files hold.
//!
//! ```json
//! {"screen": {"width": 1920, "height": 1080, "device_pixel_ratio": 1.25},
//!  "events": [
//!    {"type": "move",  "t": 1732412345678.25, "x": 640, "y": 300, "buttons": 0},
//!    {"type": "down",  "t": 1732412345701.0,  "x": 641, "y": 301, "button": 0},
//!    {"type": "up",    "t": 1732412345790.5,  "x": 641, "y": 301, "button": 0},
//!    {"type": "wheel", "t": 1732412346002.0,  "x": 641, "y": 301, "dx": 0, "dy": 100}
//!  ]}
//! ```
//! `t` is milliseconds (wall clock, fractional); `x`/`y` are CSS pixels of the viewport;
//! `button` and `buttons` follow the DOM (0 left, 1 middle, 2 right, 3 back, 4 forward;
//! `buttons` is the bit mask of held buttons, so a move with `buttons` > 0 is a drag); wheel
//! deltas are in pixels. `pointer` is `mouse` (the default), `pen` or `touch`; touch
//! events are not mouse dynamics and are left out of the recording.

use pointerprint_core::{Button, Event, EventKind, Recording, Screen};
use serde::{Deserialize, Deserializer, Serialize};

use crate::ParseError;

/// A timestamp in milliseconds: finite and not negative, or the input is rejected where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Millis(pub f64);

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = f64::deserialize(d)?;
        if t.is_finite() && t >= 0.0 {
            Ok(Millis(t))
        } else {
            Err(serde::de::Error::custom(format!(
                "timestamp {t} is negative"
            )))
        }
    }
}

/// The kind of pointer that produced an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PointerType {
    #[default]
    Mouse,
    Pen,
    Touch,
}

/// One event of the native format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum NativeEvent {
    Move {
        t: Millis,
        x: f64,
        y: f64,
        #[serde(default)]
        buttons: u8,
        #[serde(default, skip_serializing_if = "is_mouse")]
        pointer: PointerType,
    },
    Down {
        t: Millis,
        x: f64,
        y: f64,
        button: u8,
        #[serde(default, skip_serializing_if = "is_mouse")]
        pointer: PointerType,
    },
    Up {
        t: Millis,
        x: f64,
        y: f64,
        button: u8,
        #[serde(default, skip_serializing_if = "is_mouse")]
        pointer: PointerType,
    },
    Wheel {
        t: Millis,
        x: f64,
        y: f64,
        dx: f64,
        dy: f64,
    },
}

fn is_mouse(p: &PointerType) -> bool {
    *p == PointerType::Mouse
}

/// Screen and viewport facts the collector reports once per batch or file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeScreen {
    pub width: f64,
    pub height: f64,
    #[serde(default = "one")]
    pub device_pixel_ratio: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewport_width: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewport_height: Option<f64>,
}

fn one() -> f64 {
    1.0
}

/// One batch of a session as collectors post it to `POST /v1/events`: the session's events
/// in order, numbered by `seq` so that a retried batch is recognised, not stored twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeBatch {
    pub user_id: String,
    pub session_id: String,
    pub seq: u32,
    pub events: Vec<NativeEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen: Option<NativeScreen>,
}

/// A whole recording in the native format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NativeRecording {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen: Option<NativeScreen>,
    pub events: Vec<NativeEvent>,
}

impl NativeRecording {
    /// The core's view of these events (touch events left out).
    pub fn to_recording(&self) -> Recording {
        let events = self.events.iter().filter_map(to_event).collect();
        let screen = self.screen.map(|s| Screen {
            width: s.width,
            height: s.height,
            device_pixel_ratio: s.device_pixel_ratio,
        });
        Recording { events, screen }
    }
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Recording, ParseError> {
    let native: NativeRecording =
        serde_json::from_slice(bytes).map_err(|e| ParseError::from_json(&e))?;
    Ok(native.to_recording())
}

fn to_event(e: &NativeEvent) -> Option<Event> {
    Some(match *e {
        NativeEvent::Move {
            t,
            x,
            y,
            buttons,
            pointer,
        } => {
            if pointer == PointerType::Touch {
                return None;
            }
            if buttons == 0 {
                Event::new(t.0, x, y, EventKind::Move, Button::None)
            } else {
                Event::new(t.0, x, y, EventKind::Drag, held_button(buttons))
            }
        }
        NativeEvent::Down {
            t,
            x,
            y,
            button,
            pointer,
        }
        | NativeEvent::Up {
            t,
            x,
            y,
            button,
            pointer,
        } => {
            if pointer == PointerType::Touch {
                return None;
            }
            let kind = if matches!(e, NativeEvent::Down { .. }) {
                EventKind::Press
            } else {
                EventKind::Release
            };
            Event::new(t.0, x, y, kind, dom_button(button))
        }
        NativeEvent::Wheel { t, x, y, dx, dy } => Event::new(
            t.0,
            x,
            y,
            EventKind::Wheel {
                dx: dx as f32,
                dy: dy as f32,
            },
            Button::None,
        ),
    })
}

/// The DOM's `MouseEvent.button` numbering.
pub(crate) fn dom_button(button: u8) -> Button {
    match button {
        0 => Button::Left,
        1 => Button::Middle,
        2 => Button::Right,
        3 => Button::Back,
        4 => Button::Forward,
        _ => Button::None,
    }
}

/// The first held button of a DOM `MouseEvent.buttons` mask (bit 0 left, 1 right, 2 middle).
fn held_button(buttons: u8) -> Button {
    if buttons & 1 != 0 {
        Button::Left
    } else if buttons & 2 != 0 {
        Button::Right
    } else if buttons & 4 != 0 {
        Button::Middle
    } else if buttons & 8 != 0 {
        Button::Back
    } else {
        Button::Forward
    }
}

/// The native form of a recording, for writing files or posting to the service.
pub fn to_native(recording: &Recording) -> NativeRecording {
    let mut held = 0u8;
    let events = recording
        .events
        .iter()
        .map(|e| {
            let (t, x, y) = (Millis(e.t), e.x, e.y);
            let pointer = PointerType::Mouse;
            match e.kind {
                EventKind::Move => NativeEvent::Move {
                    t,
                    x,
                    y,
                    buttons: 0,
                    pointer,
                },
                EventKind::Drag => NativeEvent::Move {
                    t,
                    x,
                    y,
                    buttons: held.max(1),
                    pointer,
                },
                EventKind::Press => {
                    held |= buttons_bit(e.button);
                    NativeEvent::Down {
                        t,
                        x,
                        y,
                        button: dom_index(e.button),
                        pointer,
                    }
                }
                EventKind::Release => {
                    held &= !buttons_bit(e.button);
                    NativeEvent::Up {
                        t,
                        x,
                        y,
                        button: dom_index(e.button),
                        pointer,
                    }
                }
                EventKind::Wheel { dx, dy } => NativeEvent::Wheel {
                    t,
                    x,
                    y,
                    dx: f64::from(dx),
                    dy: f64::from(dy),
                },
            }
        })
        .collect();
    let screen = recording.screen.map(|s| NativeScreen {
        width: s.width,
        height: s.height,
        device_pixel_ratio: s.device_pixel_ratio,
        viewport_width: None,
        viewport_height: None,
    });
    NativeRecording { screen, events }
}

fn dom_index(button: Button) -> u8 {
    match button {
        Button::Left | Button::None => 0,
        Button::Middle => 1,
        Button::Right => 2,
        Button::Back => 3,
        Button::Forward => 4,
    }
}

fn buttons_bit(button: Button) -> u8 {
    match button {
        Button::Left | Button::None => 1,
        Button::Right => 2,
        Button::Middle => 4,
        Button::Back => 8,
        Button::Forward => 16,
    }
}
