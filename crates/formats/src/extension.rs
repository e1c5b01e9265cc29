//! The JSON batches of the original browser extension this project grew out of.

use pointerprint_core::{Button, Event, EventKind, Recording};
use serde::{Deserialize, Serialize};

use crate::ParseError;
use crate::native::{Millis, dom_button};

/// One record of the original extension: `mousemove`, `click` or `scroll` (page offsets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "eventType")]
pub enum ExtensionEvent {
    #[serde(rename = "mousemove")]
    MouseMove { x: f64, y: f64, timestamp: Millis },
    #[serde(rename = "click")]
    Click {
        x: f64,
        y: f64,
        timestamp: Millis,
        #[serde(default)]
        button: u8,
    },
    #[serde(rename = "scroll")]
    Scroll {
        #[serde(rename = "scrollX")]
        scroll_x: f64,
        #[serde(rename = "scrollY")]
        scroll_y: f64,
        timestamp: Millis,
    },
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Recording, ParseError> {
    let records: Vec<ExtensionEvent> =
        serde_json::from_slice(bytes).map_err(|e| ParseError::from_json(&e))?;
    Ok(to_recording(&records))
}

/// Clicks become a press and a release at one instant (the extension saw only the click);
/// scrolls become wheel events carrying the change of page offset at the last pointer position.
fn to_recording(records: &[ExtensionEvent]) -> Recording {
    let mut events = Vec::with_capacity(records.len() + records.len() / 8);
    let (mut px, mut py) = (0.0, 0.0);
    let mut scroll: Option<(f64, f64)> = None;
    for record in records {
        match *record {
            ExtensionEvent::MouseMove { x, y, timestamp } => {
                (px, py) = (x, y);
                events.push(Event::new(timestamp.0, x, y, EventKind::Move, Button::None));
            }
            ExtensionEvent::Click {
                x,
                y,
                timestamp,
                button,
            } => {
                (px, py) = (x, y);
                let button = dom_button(button);
                events.push(Event::new(timestamp.0, x, y, EventKind::Press, button));
                events.push(Event::new(timestamp.0, x, y, EventKind::Release, button));
            }
            ExtensionEvent::Scroll {
                scroll_x,
                scroll_y,
                timestamp,
            } => {
                let (ox, oy) = scroll.unwrap_or((scroll_x, scroll_y));
                scroll = Some((scroll_x, scroll_y));
                let kind = EventKind::Wheel {
                    dx: (scroll_x - ox) as f32,
                    dy: (scroll_y - oy) as f32,
                };
                events.push(Event::new(timestamp.0, px, py, kind, Button::None));
            }
        }
    }
    Recording::new(events)
}
