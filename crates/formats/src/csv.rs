//! The CSV layouts of the Balabit challenge and of the common 5-column loggers.
//!
//! Hand-written rather than built on a CSV crate: the rows are simple (no quoting) and this is
//! the hottest path of bulk evaluation.

use std::io::{self, Write};

use pointerprint_core::{Button, Event, EventKind, Recording};

use crate::{Format, ParseError};

/// Pixels one wheel notch scrolls: the usual browser default for a 120-unit notch.
const WHEEL_NOTCH_PX: f32 = 100.0;

pub(crate) fn detect(text: &[u8]) -> Option<Format> {
    let first = text.split(|&b| b == b'\n').next()?.trim_ascii();
    let lower = first.to_ascii_lowercase();
    if lower.starts_with(b"record timestamp") {
        Some(Format::BalabitCsv)
    } else if lower.starts_with(b"client timestamp") {
        Some(Format::FiveColumnCsv)
    } else if first.first().is_some_and(u8::is_ascii_digit) {
        // Headerless: tell the layouts apart by the number of fields.
        match first.iter().filter(|&&b| b == b',').count() {
            5 => Some(Format::BalabitCsv),
            4 => Some(Format::FiveColumnCsv),
            _ => None,
        }
    } else {
        None
    }
}

pub(crate) fn parse(bytes: &[u8], format: Format) -> Result<Recording, ParseError> {
    let (fields, time_field, time_scale) = match format {
        Format::BalabitCsv => (6, 1, 1000.0),
        _ => (5, 0, 1.0),
    };
    let mut events = Vec::with_capacity(bytes.len() / 40);
    let mut split = [(0usize, &b""[..]); 6];
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let row = raw.strip_suffix(b"\r").unwrap_or(raw);
        if row.trim_ascii().is_empty()
            || (index == 0 && row.first().is_some_and(u8::is_ascii_alphabetic))
        {
            continue;
        }
        let mut n = 0;
        let mut start = 0;
        for part in row.split(|&b| b == b',') {
            if n == fields {
                return Err(ParseError::new(
                    line,
                    start + 1,
                    format!("more than {fields} fields"),
                ));
            }
            split[n] = (start, part);
            n += 1;
            start += part.len() + 1;
        }
        if n < fields {
            return Err(ParseError::new(
                line,
                row.len() + 1,
                format!("expected {fields} fields, found {n}"),
            ));
        }
        let number = |k: usize, what: &str| -> Result<f64, ParseError> {
            let (col, text) = split[k];
            std::str::from_utf8(text.trim_ascii())
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    ParseError::new(
                        line,
                        col + 1,
                        format!(
                            "{what} is not a number: {:?}",
                            String::from_utf8_lossy(text)
                        ),
                    )
                })
        };
        let t = number(time_field, "timestamp")? * time_scale;
        if t < 0.0 {
            let col = split[time_field].0 + 1;
            return Err(ParseError::new(line, col, "timestamp is negative"));
        }
        let x = number(fields - 2, "x")?;
        let y = number(fields - 1, "y")?;
        let (bcol, button) = split[fields - 4];
        let (scol, state) = split[fields - 3];
        let button = parse_button(button.trim_ascii()).ok_or_else(|| {
            ParseError::new(
                line,
                bcol + 1,
                format!("unknown button {:?}", String::from_utf8_lossy(button)),
            )
        })?;
        let kind = match state.trim_ascii() {
            b"Move" => EventKind::Move,
            b"Drag" => EventKind::Drag,
            b"Pressed" => EventKind::Press,
            b"Released" => EventKind::Release,
            b"Up" => EventKind::Wheel {
                dx: 0.0,
                dy: -WHEEL_NOTCH_PX,
            },
            b"Down" => EventKind::Wheel {
                dx: 0.0,
                dy: WHEEL_NOTCH_PX,
            },
            other => {
                return Err(ParseError::new(
                    line,
                    scol + 1,
                    format!("unknown state {:?}", String::from_utf8_lossy(other)),
                ));
            }
        };
        let button = match kind {
            EventKind::Move | EventKind::Wheel { .. } => Button::None,
            EventKind::Drag if button == Button::None => Button::Left,
            _ => button,
        };
        events.push(Event::new(t, x, y, kind, button));
    }
    Ok(Recording::new(events))
}

fn parse_button(word: &[u8]) -> Option<Button> {
    Some(match word {
        b"NoButton" | b"Scroll" => Button::None,
        b"Left" => Button::Left,
        b"Right" => Button::Right,
        b"Middle" => Button::Middle,
        b"XButton" | b"XButton1" => Button::Back,
        b"XButton2" => Button::Forward,
        _ => return None,
    })
}

/// Which CSV layout [`write_csv`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvFlavour {
    Balabit,
    FiveColumn,
}

/// Writes a recording as CSV, e.g. to lay out synthetic users like a public data set.
pub fn write_csv(
    recording: &Recording,
    flavour: CsvFlavour,
    out: &mut impl Write,
) -> io::Result<()> {
    match flavour {
        CsvFlavour::Balabit => writeln!(out, "record timestamp,client timestamp,button,state,x,y")?,
        CsvFlavour::FiveColumn => writeln!(out, "client timestamp,button,state,x,y")?,
    }
    for e in &recording.events {
        let (button, state) = match e.kind {
            EventKind::Move => ("NoButton", "Move"),
            EventKind::Drag => (button_word(e.button), "Drag"),
            EventKind::Press => (button_word(e.button), "Pressed"),
            EventKind::Release => (button_word(e.button), "Released"),
            EventKind::Wheel { dy, .. } => ("Scroll", if dy < 0.0 { "Up" } else { "Down" }),
        };
        let (x, y) = (e.x.round(), e.y.round());
        match flavour {
            CsvFlavour::Balabit => {
                let s = e.t / 1000.0;
                writeln!(out, "{s},{s},{button},{state},{x},{y}")?;
            }
            CsvFlavour::FiveColumn => writeln!(out, "{},{button},{state},{x},{y}", e.t.round())?,
        }
    }
    Ok(())
}

fn button_word(button: Button) -> &'static str {
    match button {
        Button::None => "NoButton",
        Button::Left => "Left",
        Button::Right => "Right",
        Button::Middle => "Middle",
        Button::Back => "XButton1",
        Button::Forward => "XButton2",
    }
}
