//! A legend drawn in its own panel beside the chart. plotters' built-in series
//! legend sits inside the plotting area and grows without bound; a side panel never
//! covers data, and here long lists are cut to what fits with a "+ N more" line.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::figure::{DrawResult, LEGEND_FONT};

/// How an entry's sample mark is drawn.
pub(crate) enum Swatch {
    /// A solid line of the given width.
    Line(RGBAColor, u32),
    /// A dashed line, for reference lines.
    Dashed(RGBColor),
    /// A filled box, for histogram bars.
    Fill(RGBAColor),
    /// A hollow circle, for click markers.
    Circle(RGBColor),
    /// A colour ramp from `colour(0.0)` to `colour(1.0)`, for speed colouring.
    Gradient(fn(f64) -> RGBColor),
    /// No mark: a note, whose text then uses the swatch's room too.
    Note,
}

/// One legend line.
pub(crate) struct Entry {
    pub label: String,
    pub swatch: Swatch,
}

const ROW_HEIGHT: i32 = 26;
const TOP: i32 = 12;
const SWATCH_X: i32 = 8;
const SWATCH_WIDTH: i32 = 32;
const TEXT_X: i32 = SWATCH_X + SWATCH_WIDTH + 10;
const RIGHT_PADDING: i32 = 8;

/// Draws `entries` top-down in `area`; if they do not all fit, the last row that
/// fits says how many were left out.
pub(crate) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
) -> DrawResult<DB> {
    let (width, height) = area.dim_in_pixel();
    let rows = usize::try_from((height as i32 - TOP) / ROW_HEIGHT)
        .unwrap_or(0)
        .max(1);
    let shown = if entries.len() > rows {
        rows - 1
    } else {
        entries.len()
    };
    let style = TextStyle::from(("sans-serif", LEGEND_FONT).into_font())
        .pos(Pos::new(HPos::Left, VPos::Center));

    for (row, entry) in entries.iter().take(shown).enumerate() {
        let y = TOP + ROW_HEIGHT * row as i32 + ROW_HEIGHT / 2;
        let x = match entry.swatch {
            Swatch::Note => SWATCH_X,
            _ => TEXT_X,
        };
        draw_swatch(area, &entry.swatch, y)?;
        let label = fit_text(area, &entry.label, &style, width as i32 - x - RIGHT_PADDING)?;
        area.draw_text(&label, &style, (x, y))?;
    }
    if shown < entries.len() {
        let y = TOP + ROW_HEIGHT * shown as i32 + ROW_HEIGHT / 2;
        let more = format!("+ {} more", entries.len() - shown);
        area.draw_text(&more, &style, (TEXT_X, y))?;
    }
    Ok(())
}

fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    swatch: &Swatch,
    y: i32,
) -> DrawResult<DB> {
    let (left, right) = (SWATCH_X, SWATCH_X + SWATCH_WIDTH);
    match swatch {
        Swatch::Line(colour, width) => area.draw(&PathElement::new(
            vec![(left, y), (right, y)],
            colour.stroke_width(*width),
        )),
        Swatch::Dashed(colour) => {
            for start in (left..right).step_by(10) {
                area.draw(&PathElement::new(
                    vec![(start, y), ((start + 6).min(right), y)],
                    colour.stroke_width(2),
                ))?;
            }
            Ok(())
        }
        Swatch::Fill(colour) => area.draw(&Rectangle::new(
            [(left + 4, y - 7), (right - 4, y + 7)],
            colour.filled(),
        )),
        Swatch::Circle(colour) => area.draw(&Circle::new(
            ((left + right) / 2, y),
            7,
            colour.stroke_width(2),
        )),
        Swatch::Gradient(colour_at) => {
            for x in left..right {
                let t = f64::from(x - left) / f64::from(right - left - 1);
                area.draw(&PathElement::new(
                    vec![(x, y - 5), (x, y + 5)],
                    colour_at(t).stroke_width(1),
                ))?;
            }
            Ok(())
        }
        Swatch::Note => Ok(()),
    }
}

/// Shortens `text` by replacing its middle with an ellipsis until it fits in
/// `max_width` pixels: labels like "user 0042" differ at the end, so both ends stay.
pub(crate) fn fit_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    max_width: i32,
) -> Result<String, DrawingAreaErrorKind<DB::ErrorType>> {
    let fits = |s: &str| -> Result<bool, DrawingAreaErrorKind<DB::ErrorType>> {
        Ok(area.estimate_text_size(s, style)?.0 as i32 <= max_width)
    };
    if fits(text)? {
        return Ok(text.to_owned());
    }
    let chars: Vec<char> = text.chars().collect();
    // No visible glyph is narrower than a pixel, so starting from this bound loses
    // nothing and keeps the loop short for absurdly long labels.
    let start = chars.len().min(max_width.max(0) as usize);
    for keep in (0..start).rev() {
        let head = keep.div_ceil(2);
        let tail = keep / 2;
        let candidate: String = chars[..head]
            .iter()
            .chain(['…'].iter())
            .chain(&chars[chars.len() - tail..])
            .collect();
        if fits(&candidate)? {
            return Ok(candidate);
        }
    }
    Ok("…".to_owned())
}
