//! The CSV layouts of the Balabit challenge and of the common 5-column loggers.
//!
//! Hand-written rather than built on a CSV crate: the rows are simple (no quoting) and this is
//! the hottest path of bulk evaluation.

use std::io::{self, Write};

use pointerprint_core::{Button, Event, EventKind, Recording};

use crate::decimal::{self, find_byte};
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

/// Where a layout keeps its fields.
#[derive(Debug, Clone, Copy)]
struct Layout {
    fields: usize,
    time_field: usize,
    /// Milliseconds per unit of the timestamp.
    time_scale: f64,
}

impl Layout {
    fn of(format: Format) -> Self {
        match format {
            Format::BalabitCsv => Self {
                fields: 6,
                time_field: 1,
                time_scale: 1000.0,
            },
            _ => Self {
                fields: 5,
                time_field: 0,
                time_scale: 1.0,
            },
        }
    }
}

/// A parsed CSV: the recording and the rows left out because their button or state is one
/// the reader does not know (real recorders write the odd `Other`).
pub(crate) fn parse(bytes: &[u8], format: Format) -> Result<(Recording, usize), ParseError> {
    let layout = Layout::of(format);
    // One event per line at most: reserving that much saves the copies of a growing vector.
    let mut events = Vec::with_capacity(count_newlines(bytes) + 1);
    let mut rest = bytes;
    let mut line = 0;
    let mut unknown_rows = 0;
    while !rest.is_empty() {
        line += 1;
        // Plain rows take the fast path; everything else (the header, blank lines, spaces, other
        // number forms, malformed rows) the general one, which also locates the errors.
        let plain = if line > 1 {
            parse_plain_row(rest, layout)
        } else {
            None
        };
        if let Some((event, used)) = plain {
            events.push(event);
            rest = &rest[used..];
            continue;
        }
        let (raw, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        match parse_row(raw, line, layout)? {
            Row::Event(event) => events.push(event),
            Row::Unknown => unknown_rows += 1,
            Row::Blank => {}
        }
        rest = next;
    }
    Ok((Recording::new(events), unknown_rows))
}

/// The number of `\n` in `bytes`, counted in blocks whose count fits a `u8` so that the loop
/// vectorises well (a plain `filter().count()` runs at a tenth of the speed).
fn count_newlines(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|block| usize::from(block.iter().map(|&b| u8::from(b == b'\n')).sum::<u8>()))
        .sum()
}

/// Reads the row at the start of `s` if it is plain: unpadded fields, numbers of the form
/// `digits[.digits]`, a known button and state, ending in `\n`, `\r\n` or the end of the input.
/// Returns the event and the bytes used (line end included), or `None` for [`parse_row`] to
/// handle. Where both accept a row, they give the same event.
#[inline]
fn parse_plain_row(s: &[u8], layout: Layout) -> Option<(Event, usize)> {
    let mut i = 0;
    if layout.time_field == 1 {
        // The record timestamp is not used (nor checked by `parse_row`): skip it.
        i = skip_field(s)?;
    }
    let t = number(s, &mut i, b',')?;
    let button = parse_button(word(s, &mut i)?)?;
    let kind = parse_state(word(s, &mut i)?)?;
    let x = number(s, &mut i, b',')?;
    let y = number(s, &mut i, b'\n')?;
    Some((event(t * layout.time_scale, x, y, button, kind), i))
}

/// The plain decimal at `s[*i..]` and the byte after it, which must be `end` (or, for a line end,
/// `\r\n` or the end of the input); moves `i` past both.
#[inline(always)]
fn number(s: &[u8], i: &mut usize, end: u8) -> Option<f64> {
    let (value, used) = decimal::parse_prefix(&s[*i..])?;
    *i += used;
    match s.get(*i) {
        Some(&b) if b == end => *i += 1,
        None if end == b'\n' => {}
        Some(b'\r') if end == b'\n' && s.get(*i + 1) == Some(&b'\n') => *i += 2,
        _ => return None,
    }
    Some(value)
}

/// The bytes used by the field at the start of `s` and its comma, if it is at most 31 bytes long
/// and on this line.
#[inline]
fn skip_field(s: &[u8]) -> Option<usize> {
    for start in (0..32).step_by(8) {
        let word = decimal::load8(s.get(start..).unwrap_or_default());
        let stop = find_byte(word, b',') | find_byte(word, b'\n');
        if stop != 0 {
            let end = start + stop.trailing_zeros() as usize / 8;
            return (s[end] == b',').then_some(end + 1);
        }
    }
    None
}

/// The word of at most 8 bytes at `s[*i..]`, moving `i` past it and its comma.
#[inline]
fn word<'a>(s: &'a [u8], i: &mut usize) -> Option<&'a [u8]> {
    // The first comma among the next 8 bytes, or else the byte after them must be one.
    let len = find_byte(decimal::load8(&s[*i..]), b',').trailing_zeros() as usize / 8;
    if s.get(*i + len) != Some(&b',') {
        return None;
    }
    let word = &s[*i..*i + len];
    *i += len + 1;
    Some(word)
}

/// What one line of a CSV holds.
enum Row {
    Event(Event),
    /// A header or blank line.
    Blank,
    /// A well-formed row whose button or state the reader does not know: left out, counted.
    Unknown,
}

/// Parses one line (without its `\n`) in full generality.
fn parse_row(raw: &[u8], line: usize, layout: Layout) -> Result<Row, ParseError> {
    let Layout {
        fields,
        time_field,
        time_scale,
    } = layout;
    let row = raw.strip_suffix(b"\r").unwrap_or(raw);
    if row.trim_ascii().is_empty()
        || (line == 1 && row.first().is_some_and(u8::is_ascii_alphabetic))
    {
        return Ok(Row::Blank);
    }
    let mut split = [(0usize, &b""[..]); 6];
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
    let button = parse_button(split[fields - 4].1.trim_ascii());
    let kind = parse_state(split[fields - 3].1.trim_ascii());
    Ok(match (button, kind) {
        (Some(button), Some(kind)) => Row::Event(event(t, x, y, button, kind)),
        _ => Row::Unknown,
    })
}

/// The event of a row, with the button the event model expects for its kind.
#[inline]
fn event(t: f64, x: f64, y: f64, button: Button, kind: EventKind) -> Event {
    let button = match kind {
        EventKind::Move | EventKind::Wheel { .. } => Button::None,
        EventKind::Drag if button == Button::None => Button::Left,
        _ => button,
    };
    Event::new(t, x, y, kind, button)
}

fn parse_state(word: &[u8]) -> Option<EventKind> {
    Some(match word {
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
        _ => return None,
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BALABIT: Layout = Layout {
        fields: 6,
        time_field: 1,
        time_scale: 1000.0,
    };
    const FIVE: Layout = Layout {
        fields: 5,
        time_field: 0,
        time_scale: 1.0,
    };

    fn bits(e: &Event) -> (u64, u64, u64, String, Button) {
        (
            e.t.to_bits(),
            e.x.to_bits(),
            e.y.to_bits(),
            format!("{:?}", e.kind),
            e.button,
        )
    }

    /// The fast path's reading of `row` (a whole line with its end), checked against the
    /// general path's wherever the fast path accepts it.
    fn fast(row: &str, layout: Layout) -> Option<Event> {
        let (event, used) = parse_plain_row(row.as_bytes(), layout)?;
        assert_eq!(used, row.len(), "{row:?}");
        let line = row.strip_suffix('\n').unwrap_or(row);
        let Row::Event(general) = parse_row(line.as_bytes(), 2, layout).unwrap() else {
            panic!("{row:?} is not an event");
        };
        assert_eq!(bits(&event), bits(&general), "{row:?}");
        Some(event)
    }

    #[test]
    fn plain_rows_take_the_fast_path() {
        let e = fast(
            "0.231999874115,0.0939999999828,NoButton,Move,1024,410\n",
            BALABIT,
        )
        .unwrap();
        assert_eq!((e.t, e.x, e.y), (0.0939999999828 * 1000.0, 1024.0, 410.0));
        for row in [
            "378.027999878,378.022,Left,Pressed,1189,664\r\n",
            "2821.12700009,2818.689,NoButton,Drag,158,341",
            "1,2,Scroll,Down,3,4\n",
            "1,2,XButton2,Released,3.5,4.25\n",
            "0.0,123456789012.25,Right,Pressed,0,0\n",
            // The record timestamp is not read, so it may be anything.
            ",2,NoButton,Move,3,4\n",
            "x y z,2,NoButton,Move,3,4\n",
        ] {
            assert!(fast(row, BALABIT).is_some(), "{row:?}");
        }
        for row in [
            "15585,NoButton,Move,967,706\n",
            "31881,Left,Pressed,145,167\r\n",
            "1.5,Middle,Released,1,2",
        ] {
            assert!(fast(row, FIVE).is_some(), "{row:?}");
        }
    }

    #[test]
    fn anything_unusual_is_left_to_the_general_path() {
        for row in [
            "1,2, NoButton,Move,3,4\n",
            "1,2,NoButton,Move ,3,4\n",
            "1,2,NoButton,Move,3 ,4\n",
            "1,2,NoButton,Move,-3,4\n",
            "1,1e3,NoButton,Move,3,4\n",
            "1,.5,NoButton,Move,3,4\n",
            "1,2,NoButtonX,Move,3,4\n",
            "1,2,NoButton,Move\0,3,4\n",
            "1,2,Hover,Move,3,4\n",
            "1,2,NoButton,Move,3,4,5\n",
            "1,2,NoButton,Move,3\n",
            "1,2,NoButton,Move,3,4\r",
            "1,2,NoButton,Move,3,4 \n",
            "1,2,NoButton,,3,4\n",
            "\n",
            "1,2,NoButton,Move,3,12345678901234567890\n",
        ] {
            assert!(
                parse_plain_row(row.as_bytes(), BALABIT).is_none(),
                "{row:?}"
            );
        }
        // A record timestamp of more than 31 bytes, which the fast path does not look past.
        let long = format!("{},2,NoButton,Move,3,4\n", "1".repeat(40));
        assert!(parse_plain_row(long.as_bytes(), BALABIT).is_none());
        assert!(parse_plain_row(b"1,NoButton,Move,3", FIVE).is_none());
    }

    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[0-9]{1,9}([.][0-9]{0,9})?",
            1 => "[0-9]{1,21}([.][0-9]{0,25})?",
            1 => "[-+ ]?[0-9]{0,3}[.]?[0-9]{0,3}([eE][-+]?[0-9])?[ ]?",
        ]
    }

    fn word(names: &'static [&'static str]) -> impl Strategy<Value = String> {
        prop_oneof![
            4 => proptest::sample::select(names).prop_map(str::to_string),
            1 => "[A-Za-z0-9 \\x00]{0,10}",
        ]
    }

    proptest! {
        #[test]
        fn the_fast_path_agrees_with_the_general_one(
            (record, t, button, state, x, y) in (
                number(),
                number(),
                word(&["NoButton", "Left", "Right", "Middle", "Scroll", "XButton", "XButton1", "XButton2"]),
                word(&["Move", "Drag", "Pressed", "Released", "Up", "Down"]),
                number(),
                number(),
            ),
            end in prop_oneof![Just(""), Just("\n"), Just("\r\n"), Just("\r"), Just(",\n")],
            five in any::<bool>(),
        ) {
            let (row, layout) = if five {
                (format!("{t},{button},{state},{x},{y}{end}"), FIVE)
            } else {
                (format!("{record},{t},{button},{state},{x},{y}{end}"), BALABIT)
            };
            // `fast` checks the agreement whenever the fast path takes the row.
            fast(&row, layout);
        }
    }
}
