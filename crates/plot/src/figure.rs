//! The seam between plot-specific drawing code and the output formats: each plot is
//! a [`Figure`] drawn once, generically over the plotters backend, and rendered to
//! PNG or SVG here.

use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::Path;

use plotters::backend::RGBPixel;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::legend::fit_text;
use crate::{PlotError, font};

/// Names the output in errors when there is no file path.
pub(crate) const SVG_TARGET: &str = "SVG output";

/// Result of drawing on a backend `DB`.
pub(crate) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Height of the title band above every plot.
pub(crate) const TITLE_HEIGHT: u32 = 48;
/// Width of the legend panel to the right of the chart: a legend outside the
/// plotting area never hides data, however many curves there are.
pub(crate) const LEGEND_WIDTH: u32 = 230;
/// Font sizes (pixels) shared by all plots so they look like one family.
pub(crate) const TITLE_FONT: f64 = 24.0;
pub(crate) const AXIS_DESC_FONT: f64 = 18.0;
pub(crate) const TICK_FONT: f64 = 14.0;
pub(crate) const LEGEND_FONT: f64 = 15.0;

/// A prepared plot: validated data plus drawing code that works on any backend.
pub(crate) trait Figure {
    /// Image size in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the whole figure on `root`, which is `size()` large.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Renders `figure` and writes it to `path` as PNG, creating the parent directory.
///
/// The PNG is encoded here rather than by plotters so the format does not depend
/// on the file extension and no image codec stack is linked.
pub(crate) fn render_png(path: &Path, figure: &impl Figure) -> Result<(), PlotError> {
    font::register()?;
    let (width, height) = figure.size();
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    let draw_error = |source: Box<dyn std::error::Error + Send + Sync>| PlotError::Draw {
        target: path.display().to_string(),
        source,
    };
    {
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut rgb, (width, height))
            .map_err(|e| draw_error(Box::new(e)))?;
        let root = backend.into_drawing_area();
        figure
            .draw(&root)
            .and_then(|()| root.present())
            .map_err(|e| draw_error(Box::new(e)))?;
    }
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|source| PlotError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    write_png(path, width, height, &rgb).map_err(|source| PlotError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Renders `figure` as an SVG document. Text is emitted as `<text>` in the
/// generic "sans-serif" family, so the browser picks its own font.
pub(crate) fn render_svg(figure: &impl Figure) -> Result<String, PlotError> {
    font::register()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, figure.size()).into_drawing_area();
        figure
            .draw(&root)
            .and_then(|()| root.present())
            .map_err(|e| PlotError::Draw {
                target: SVG_TARGET.to_owned(),
                source: Box::new(e),
            })?;
    }
    Ok(svg)
}

fn write_png(path: &Path, width: u32, height: u32, rgb: &[u8]) -> io::Result<()> {
    let file = BufWriter::new(File::create(path)?);
    let mut encoder = png::Encoder::new(file, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Plots are mostly flat colour, where the "Up" filter compresses as well as
    // per-row adaptive filtering at a fraction of the encoding time.
    encoder.set_filter(png::Filter::Up);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(())
}

/// Clears `root` to white, draws `title` centred in the title band (shortened
/// in the middle if too wide) and returns the area below it.
pub(crate) fn with_title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (band, body) = root.split_vertically(TITLE_HEIGHT);
    let (width, height) = band.dim_in_pixel();
    let style = TextStyle::from(("sans-serif", TITLE_FONT).into_font())
        .pos(Pos::new(HPos::Center, VPos::Center));
    let title = fit_text(&band, title, &style, width as i32 - 20)?;
    // +4: the ab_glyph path draws glyphs slightly above the anchor.
    band.draw_text(&title, &style, (width as i32 / 2, height as i32 / 2 + 4))?;
    Ok(body)
}

/// Label areas and margins shared by all charts. The left margin keeps the
/// rotated y-axis description inside the image: the `ab_glyph` text path places
/// glyph tops a few pixels above the anchor plotters computes.
pub(crate) const X_LABEL_AREA: u32 = 56;
pub(crate) const Y_LABEL_AREA: u32 = 72;
pub(crate) const LEFT_MARGIN: u32 = 10;
pub(crate) const TOP_MARGIN: u32 = 8;
pub(crate) const RIGHT_MARGIN: u32 = 16;

/// A chart builder on `area` with the shared margins and label areas.
pub(crate) fn chart_builder<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_left(LEFT_MARGIN)
        .margin_top(TOP_MARGIN)
        .margin_right(RIGHT_MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA);
    builder
}

/// Distinguishable line colours (Tableau 10), reused cyclically.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Colour of reference lines (chance diagonal, EER line).
pub(crate) const REFERENCE: RGBColor = RGBColor(110, 110, 110);
/// Colour of the light grid.
pub(crate) const GRID: RGBColor = RGBColor(225, 225, 225);
