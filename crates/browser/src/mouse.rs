//! Mouse input for `Input.dispatchMouseEvent`, and its conversion from recordings.

use pointerprint_core::{Button, EventKind, Recording};
use serde_json::{Value, json};

/// What a mouse input does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MouseAction {
    Move,
    Press,
    Release,
    /// A wheel turn by this many CSS pixels (positive `dy` scrolls down).
    Wheel {
        dx: f64,
        dy: f64,
    },
}

/// One `Input.dispatchMouseEvent` call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MouseInput {
    pub action: MouseAction,
    /// Viewport position in CSS pixels.
    pub x: f64,
    pub y: f64,
    /// The button that changes (for press and release); `Button::None` otherwise.
    pub button: Button,
    /// The buttons held after this input, as the DOM's `buttons` bitmask
    /// (1 left, 2 right, 4 middle, 8 back, 16 forward).
    pub buttons: u32,
    pub click_count: u32,
    /// When the event happened, in seconds since the UNIX epoch; the page's
    /// `event.timeStamp` follows it (see the crate docs).
    pub timestamp: f64,
}

impl MouseInput {
    pub(crate) fn to_params(self) -> Value {
        let kind = match self.action {
            MouseAction::Move => "mouseMoved",
            MouseAction::Press => "mousePressed",
            MouseAction::Release => "mouseReleased",
            MouseAction::Wheel { .. } => "mouseWheel",
        };
        let mut params = json!({
            "type": kind,
            "x": self.x,
            "y": self.y,
            "button": button_name(self.button),
            "buttons": self.buttons,
            "clickCount": self.click_count,
            "timestamp": self.timestamp,
        });
        if let MouseAction::Wheel { dx, dy } = self.action {
            params["deltaX"] = json!(dx);
            params["deltaY"] = json!(dy);
        }
        params
    }
}

/// Turns a recording into mouse inputs for a viewport of `viewport` CSS pixels.
///
/// Positions are scaled from the recording's screen to the viewport (unscaled when the
/// screen is unknown) and clamped inside it, since Chromium drops events outside.
/// The first event happens at `start_epoch_s`, later ones at their offset in `t` (ms).
/// A drag, press or release without a known button counts as the left button. Events
/// with non-finite numbers are skipped.
pub fn mouse_inputs(
    recording: &Recording,
    viewport: (f64, f64),
    start_epoch_s: f64,
) -> Vec<MouseInput> {
    let (scale_x, scale_y) = match recording.screen {
        Some(screen) if screen.width > 0.0 && screen.height > 0.0 => {
            (viewport.0 / screen.width, viewport.1 / screen.height)
        }
        _ => (1.0, 1.0),
    };
    let usable = |t: f64, x: f64, y: f64| t.is_finite() && x.is_finite() && y.is_finite();
    let events: Vec<_> = recording
        .events
        .iter()
        .filter(|e| usable(e.t, e.x, e.y))
        .collect();
    let Some(first) = events.first() else {
        return Vec::new();
    };
    let t0 = first.t;
    events
        .iter()
        .filter_map(|event| {
            let held = match event.button {
                Button::None => Button::Left,
                button => button,
            };
            let (action, button, buttons) = match event.kind {
                EventKind::Move => (MouseAction::Move, Button::None, 0),
                EventKind::Drag => (MouseAction::Move, Button::None, button_mask(held)),
                EventKind::Press => (MouseAction::Press, held, button_mask(held)),
                EventKind::Release => (MouseAction::Release, held, 0),
                EventKind::Wheel { dx, dy } if dx.is_finite() && dy.is_finite() => {
                    let wheel = MouseAction::Wheel {
                        dx: f64::from(dx),
                        dy: f64::from(dy),
                    };
                    (wheel, Button::None, 0)
                }
                EventKind::Wheel { .. } => return None,
            };
            let click_count =
                u32::from(matches!(action, MouseAction::Press | MouseAction::Release));
            Some(MouseInput {
                action,
                x: (event.x * scale_x).clamp(0.0, (viewport.0 - 1.0).max(0.0)),
                y: (event.y * scale_y).clamp(0.0, (viewport.1 - 1.0).max(0.0)),
                button,
                buttons,
                click_count,
                timestamp: start_epoch_s + (event.t - t0) / 1000.0,
            })
        })
        .collect()
}

fn button_name(button: Button) -> &'static str {
    match button {
        Button::None => "none",
        Button::Left => "left",
        Button::Right => "right",
        Button::Middle => "middle",
        Button::Back => "back",
        Button::Forward => "forward",
    }
}

fn button_mask(button: Button) -> u32 {
    match button {
        Button::None => 0,
        Button::Left => 1,
        Button::Right => 2,
        Button::Middle => 4,
        Button::Back => 8,
        Button::Forward => 16,
    }
}
