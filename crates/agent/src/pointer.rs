//! From the X server's pointer events to the native event format: X button numbers become
//! the DOM's, wheel buttons become wheel turns in pixels, moves with a button held become
//! drags, and times never go backwards, as the browser collector keeps them.

use pointerprint_formats::{Millis, NativeEvent, PointerType};

/// Pixels one wheel notch scrolls: what Chromium on Windows reports for a notch.
pub const WHEEL_NOTCH_PX: f64 = 100.0;

/// The kind of a core X pointer event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawKind {
    Motion,
    Press,
    Release,
}

/// A pointer event as the X server reported it, time already on the wall clock and
/// position in the desktop's logical pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointerEvent {
    pub kind: RawKind,
    /// The X button (1 left, 2 middle, 3 right, 4-7 wheel, 8 back, 9 forward); 0 for motion.
    pub x_button: u8,
    pub t: f64,
    pub x: f64,
    pub y: f64,
}

/// What a button means in the native format.
enum ButtonUse {
    /// A DOM button number and its bit in the DOM's `buttons` mask.
    Dom(u8, u8),
    /// A wheel notch: pixels across and down.
    Wheel(f64, f64),
}

fn button_use(x_button: u8) -> Option<ButtonUse> {
    Some(match x_button {
        1 => ButtonUse::Dom(0, 1),
        2 => ButtonUse::Dom(1, 4),
        3 => ButtonUse::Dom(2, 2),
        8 => ButtonUse::Dom(3, 8),
        9 => ButtonUse::Dom(4, 16),
        4 => ButtonUse::Wheel(0.0, -WHEEL_NOTCH_PX),
        5 => ButtonUse::Wheel(0.0, WHEEL_NOTCH_PX),
        6 => ButtonUse::Wheel(-WHEEL_NOTCH_PX, 0.0),
        7 => ButtonUse::Wheel(WHEEL_NOTCH_PX, 0.0),
        _ => return None,
    })
}

/// The pointer's state between events: buttons held and the last time given out.
#[derive(Debug, Default)]
pub struct Pointer {
    held: u8,
    last_t: f64,
}

impl Pointer {
    /// The native event for `e`, or `None` for what is not mouse dynamics (a wheel
    /// button's release, a button beyond the ninth).
    pub fn native_event(&mut self, e: PointerEvent) -> Option<NativeEvent> {
        let t = Millis((e.t.max(self.last_t) * 100.0).round() / 100.0);
        let (x, y, pointer) = (e.x, e.y, PointerType::Mouse);
        let event = match (e.kind, button_use(e.x_button)) {
            (RawKind::Motion, _) => NativeEvent::Move {
                t,
                x,
                y,
                buttons: self.held,
                pointer,
            },
            (RawKind::Press, Some(ButtonUse::Dom(button, bit))) => {
                self.held |= bit;
                NativeEvent::Down {
                    t,
                    x,
                    y,
                    button,
                    pointer,
                }
            }
            (RawKind::Release, Some(ButtonUse::Dom(button, bit))) => {
                self.held &= !bit;
                NativeEvent::Up {
                    t,
                    x,
                    y,
                    button,
                    pointer,
                }
            }
            (RawKind::Press, Some(ButtonUse::Wheel(dx, dy))) => {
                NativeEvent::Wheel { t, x, y, dx, dy }
            }
            (RawKind::Release, Some(ButtonUse::Wheel(..))) | (_, None) => return None,
        };
        self.last_t = t.0;
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(kind: RawKind, x_button: u8, t: f64) -> PointerEvent {
        PointerEvent {
            kind,
            x_button,
            t,
            x: 10.0,
            y: 20.0,
        }
    }

    #[test]
    fn buttons_wheel_and_drags_follow_the_dom() {
        let mut p = Pointer::default();
        let events: Vec<_> = [
            raw(RawKind::Motion, 0, 1.0),
            raw(RawKind::Press, 3, 2.0),
            raw(RawKind::Motion, 0, 3.0),
            raw(RawKind::Release, 3, 4.0),
            raw(RawKind::Press, 5, 5.0),
            raw(RawKind::Release, 5, 5.5),
            raw(RawKind::Press, 6, 6.0),
            raw(RawKind::Press, 12, 7.0),
        ]
        .into_iter()
        .filter_map(|e| p.native_event(e))
        .collect();
        let json = serde_json::to_string(&events).unwrap();
        assert_eq!(
            json,
            r#"[{"type":"move","t":1.0,"x":10.0,"y":20.0,"buttons":0},{"type":"down","t":2.0,"x":10.0,"y":20.0,"button":2},{"type":"move","t":3.0,"x":10.0,"y":20.0,"buttons":2},{"type":"up","t":4.0,"x":10.0,"y":20.0,"button":2},{"type":"wheel","t":5.0,"x":10.0,"y":20.0,"dx":0.0,"dy":100.0},{"type":"wheel","t":6.0,"x":10.0,"y":20.0,"dx":-100.0,"dy":0.0}]"#
        );
    }

    #[test]
    fn times_never_go_backwards() {
        let mut p = Pointer::default();
        let a = p.native_event(raw(RawKind::Motion, 0, 100.004)).unwrap();
        let b = p.native_event(raw(RawKind::Motion, 0, 99.0)).unwrap();
        let time = |e: &NativeEvent| match e {
            NativeEvent::Move { t, .. } => t.0,
            _ => unreachable!(),
        };
        assert_eq!(time(&a), 100.0);
        assert_eq!(time(&b), 100.0);
    }
}
