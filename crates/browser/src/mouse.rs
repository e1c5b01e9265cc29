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

#[cfg(test)]
mod tests {
    use super::*;
    use pointerprint_core::{Event, Screen};

    fn recording(events: Vec<Event>) -> Recording {
        Recording {
            events,
            screen: Some(Screen {
                width: 1920.0,
                height: 1080.0,
                device_pixel_ratio: 1.0,
            }),
        }
    }

    #[test]
    fn kinds_buttons_positions_and_times_are_converted() {
        let events = vec![
            Event::new(1000.0, 960.0, 540.0, EventKind::Move, Button::None),
            Event::new(1016.0, 480.0, 270.0, EventKind::Press, Button::Left),
            Event::new(1032.0, 490.0, 280.0, EventKind::Drag, Button::Left),
            Event::new(1048.0, 490.0, 280.0, EventKind::Release, Button::Left),
            Event::new(
                1064.0,
                1920.0,
                1080.0,
                EventKind::Wheel { dx: 0.0, dy: -53.0 },
                Button::None,
            ),
            Event::new(1080.0, 10.0, 10.0, EventKind::Press, Button::Right),
        ];
        let inputs = mouse_inputs(&recording(events), (960.0, 540.0), 1_700_000_000.0);
        let summary: Vec<_> = inputs
            .iter()
            .map(|i| (i.action, i.x, i.y, i.button, i.buttons, i.click_count))
            .collect();
        let wheel = MouseAction::Wheel { dx: 0.0, dy: -53.0 };
        assert_eq!(
            summary,
            [
                (MouseAction::Move, 480.0, 270.0, Button::None, 0, 0),
                (MouseAction::Press, 240.0, 135.0, Button::Left, 1, 1),
                (MouseAction::Move, 245.0, 140.0, Button::None, 1, 0),
                (MouseAction::Release, 245.0, 140.0, Button::Left, 0, 1),
                // The screen's far corner is clamped inside the viewport.
                (wheel, 959.0, 539.0, Button::None, 0, 0),
                (MouseAction::Press, 5.0, 5.0, Button::Right, 2, 1),
            ]
        );
        let times: Vec<f64> = inputs
            .iter()
            .map(|i| i.timestamp - 1_700_000_000.0)
            .collect();
        for (time, expected) in times.iter().zip([0.0, 0.016, 0.032, 0.048, 0.064, 0.080]) {
            assert!((time - expected).abs() < 1e-6, "{times:?}");
        }
    }

    #[test]
    fn unknown_screens_keep_positions_and_unknown_buttons_mean_left() {
        let events = vec![
            Event::new(5.0, 100.0, 50.0, EventKind::Drag, Button::None),
            Event::new(f64::NAN, 1.0, 1.0, EventKind::Move, Button::None),
            Event::new(
                6.0,
                100.0,
                50.0,
                EventKind::Wheel {
                    dx: f32::NAN,
                    dy: 1.0,
                },
                Button::None,
            ),
            Event::new(7.0, 100.0, 50.0, EventKind::Release, Button::None),
        ];
        let inputs = mouse_inputs(&Recording::new(events), (800.0, 600.0), 10.0);
        assert_eq!(inputs.len(), 2, "non-finite events are skipped: {inputs:?}");
        assert_eq!(
            (inputs[0].x, inputs[0].y, inputs[0].buttons),
            (100.0, 50.0, 1)
        );
        assert_eq!(
            (inputs[1].button, inputs[1].timestamp),
            (Button::Left, 10.002)
        );
        assert!(mouse_inputs(&Recording::default(), (800.0, 600.0), 10.0).is_empty());
    }

    #[test]
    fn parameters_name_the_devtools_fields() {
        let wheel = MouseInput {
            action: MouseAction::Wheel { dx: 1.0, dy: 2.0 },
            x: 3.0,
            y: 4.0,
            button: Button::None,
            buttons: 0,
            click_count: 0,
            timestamp: 5.5,
        };
        let params = wheel.to_params();
        assert_eq!(
            params,
            json!({ "type": "mouseWheel", "x": 3.0, "y": 4.0, "button": "none", "buttons": 0,
                    "clickCount": 0, "timestamp": 5.5, "deltaX": 1.0, "deltaY": 2.0 })
        );
        let press = MouseInput {
            action: MouseAction::Press,
            button: Button::Middle,
            ..wheel
        };
        assert_eq!(
            (
                press.to_params()["type"].as_str(),
                press.to_params()["button"].as_str()
            ),
            (Some("mousePressed"), Some("middle"))
        );
    }
}
