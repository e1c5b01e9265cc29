//! Plots that the evaluation command writes for a person to look at: ROC and DET
//! curves, genuine/impostor score histograms and mouse trajectories.
//!
//! The crate takes plain numbers, not pointerprint types, so it can be reused by any
//! crate (and by a future web dashboard through the SVG variants) without pulling in
//! the model or the feature pipeline.
//!
//! Everything renders on a machine with only Rust installed: plotters is built
//! without its font-kit/fontconfig text stack, and text uses a bundled DejaVu Sans
//! subset through `ab_glyph`. Bad input (empty, NaN, infinite, out-of-range values)
//! never panics: non-finite points are skipped, out-of-range ones are clamped to the
//! plot frame, and when nothing can be drawn the functions return a [`PlotError`].

mod bars;
mod figure;
mod font;
mod histogram;
mod legend;
mod probit;
mod rates;
mod timeline;
mod trajectory;

use std::path::{Path, PathBuf};

use bars::StackedBars;
use figure::{render_png, render_svg};
use histogram::ScoreHistogram;
use rates::{RateCurves, RateKind};
use timeline::Timeline;
use trajectory::Trajectory;

/// One labelled curve, e.g. one user's ROC, or "all users".
///
/// Points are drawn as a polyline in the order given, so the caller controls
/// how the threshold sweep is traced.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Shown in the legend.
    pub label: String,
    /// `(x, y)` pairs in the units of the plot the curve is passed to.
    pub points: Vec<(f64, f64)>,
}

/// One sample of a mouse trajectory, in screen pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrajectoryPoint {
    /// Horizontal position, 0 at the left edge of the screen.
    pub x: f64,
    /// Vertical position, 0 at the top edge: y grows downward like a screen.
    pub y: f64,
    /// Speed at this sample (any unit, e.g. px/s); only its relative size matters
    /// because it picks the colour.
    pub speed: f64,
    /// Whether a button was held, so the segment belongs to a drag.
    pub dragging: bool,
}

/// One kind of count in a stacked bar chart, e.g. "accept" decisions per hour.
#[derive(Debug, Clone, PartialEq)]
pub struct BarSeries {
    /// Shown in the legend with the series' total.
    pub label: String,
    /// Fill colour as (red, green, blue).
    pub colour: (u8, u8, u8),
    /// One count per bucket, in bucket order.
    pub counts: Vec<u64>,
}

/// How a decision on the score timeline came out; picks the point's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineOutcome {
    Accept,
    Reject,
    /// Too little data to decide.
    Undecided,
}

/// One decision on a score timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimelinePoint {
    /// Time in any unit the caller's label function understands (e.g. Unix milliseconds).
    pub t: f64,
    /// Score in [0, 1]; values outside are drawn at the edge.
    pub score: f64,
    /// The threshold the decision was made with, in [0, 1].
    pub threshold: f64,
    pub outcome: TimelineOutcome,
}

/// Why a plot could not be written.
///
/// Each message names the output (file path, or "SVG output") so a failing
/// evaluation run says which plot broke.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The input leaves nothing meaningful to draw (e.g. no finite score at all).
    #[error("cannot plot {target}: {reason}")]
    InvalidInput {
        /// The output path, or "SVG output".
        target: String,
        /// What is wrong with the input.
        reason: String,
    },
    /// The parent directory of the output file could not be created.
    #[error("cannot create directory {}: {source}", path.display())]
    CreateDir {
        /// The directory that could not be created.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The PNG file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The output file.
        path: PathBuf,
        /// The underlying I/O or encoding error.
        source: std::io::Error,
    },
    /// plotters failed while drawing (e.g. a text layout error).
    #[error("failed to draw {target}: {source}")]
    Draw {
        /// The output path, or "SVG output".
        target: String,
        /// The plotters error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The bundled font could not be parsed; only possible if the crate's asset is corrupt.
    #[error("the bundled font could not be loaded")]
    Font,
}

/// ROC plot: points are (false-accept rate, true-accept rate) in [0, 1]; the chance
/// diagonal is drawn for reference. The caller passes the full title, e.g.
/// "ROC — AUC 0.973", because only it knows the summary numbers.
///
/// Curves with no finite point are left out; an empty `curves` still gives the
/// frame and diagonal, so a run with no data shows as such instead of failing.
pub fn roc_png(path: &Path, title: &str, curves: &[Curve]) -> Result<(), PlotError> {
    render_png(path, &RateCurves::new(RateKind::Roc, title, curves))
}

/// [`roc_png`] as an SVG document, for embedding in a web page.
pub fn roc_svg(title: &str, curves: &[Curve]) -> Result<String, PlotError> {
    render_svg(&RateCurves::new(RateKind::Roc, title, curves))
}

/// DET plot: points are (false-accept rate, false-reject rate); both axes use the
/// normal-deviate (probit) scale with the conventional ticks 0.1 %…40 %, which
/// spreads out the low-error region that matters for authentication.
///
/// The axes span 0.05 %–50 % (the NIST DETware default); rates outside, including
/// 0 and 1, are clamped to the frame. The EER line (y = x) is drawn for reference.
pub fn det_png(path: &Path, title: &str, curves: &[Curve]) -> Result<(), PlotError> {
    render_png(path, &RateCurves::new(RateKind::Det, title, curves))
}

/// Overlaid histograms of genuine and impostor scores on shared bins, with an
/// optional vertical threshold line, to show how well a threshold separates them.
///
/// Non-finite scores are skipped (and counted in the legend); it is an error only
/// when no finite score is left or the range is too wide to bin.
pub fn score_histogram_png(
    path: &Path,
    title: &str,
    genuine: &[f64],
    impostor: &[f64],
    threshold: Option<f64>,
) -> Result<(), PlotError> {
    let figure = ScoreHistogram::new(title, genuine, impostor, threshold)
        .map_err(|reason| invalid(path.display().to_string(), reason))?;
    render_png(path, &figure)
}

/// [`score_histogram_png`] as an SVG document, for embedding in a web page.
pub fn score_histogram_svg(
    title: &str,
    genuine: &[f64],
    impostor: &[f64],
    threshold: Option<f64>,
) -> Result<String, PlotError> {
    let figure = ScoreHistogram::new(title, genuine, impostor, threshold)
        .map_err(|reason| invalid(figure::SVG_TARGET.to_owned(), reason))?;
    render_svg(&figure)
}

/// Counts per bucket as stacked bars (`buckets` are the labels under the axis, thinned
/// out when many); every series needs one count per bucket.
pub fn stacked_bars_svg(
    title: &str,
    buckets: &[String],
    series: &[BarSeries],
) -> Result<String, PlotError> {
    let figure = StackedBars::new(title, buckets, series)
        .map_err(|reason| invalid(figure::SVG_TARGET.to_owned(), reason))?;
    render_svg(&figure)
}

/// Scores over time, coloured by outcome, each with a dash at its threshold. `time_label`
/// turns a `t` into an axis label. Points with a non-finite value are left out; an
/// error only when none is left.
pub fn timeline_svg(
    title: &str,
    points: &[TimelinePoint],
    time_label: &dyn Fn(f64) -> String,
) -> Result<String, PlotError> {
    let figure = Timeline::new(title, points, time_label)
        .map_err(|reason| invalid(figure::SVG_TARGET.to_owned(), reason))?;
    render_svg(&figure)
}

/// A mouse trajectory on a canvas with the screen's aspect ratio: a polyline
/// coloured by speed (blue slow → red fast), drag segments highlighted in
/// magenta and clicks as circles; y grows downward like on the screen.
///
/// `screen` is (width, height) in pixels and must be finite and positive. Points
/// outside the screen are clamped to its edge; non-finite points break the line.
pub fn trajectory_png(
    path: &Path,
    title: &str,
    screen: (f64, f64),
    points: &[TrajectoryPoint],
    clicks: &[(f64, f64)],
) -> Result<(), PlotError> {
    let figure = Trajectory::new(title, screen, points, clicks)
        .map_err(|reason| invalid(path.display().to_string(), reason))?;
    render_png(path, &figure)
}

fn invalid(target: String, reason: String) -> PlotError {
    PlotError::InvalidInput { target, reason }
}
