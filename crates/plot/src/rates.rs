//! ROC and DET plots: both draw error-rate curves over a fixed frame with a
//! reference line, and differ only in the axes.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use crate::Curve;
use crate::figure::{
    AXIS_DESC_FONT, DrawResult, Figure, GRID, LEGEND_WIDTH, PALETTE, REFERENCE, TICK_FONT,
    chart_builder, with_title,
};
use crate::legend::{self, Entry, Swatch};
use crate::probit::{MAX_RATE, MIN_RATE, ProbitAxis};

const SIZE: (u32, u32) = (800, 600);
/// Most curves drawn with thick lines.
const THICK_LINE_LIMIT: usize = 10;

#[derive(Clone, Copy)]
pub(crate) enum RateKind {
    Roc,
    Det,
}

impl RateKind {
    /// Moves a rate into the visible frame (NaN never gets here).
    fn clamp(self, rate: f64) -> f64 {
        match self {
            RateKind::Roc => rate.clamp(0.0, 1.0),
            RateKind::Det => ProbitAxis::clamp(rate),
        }
    }

    fn y_desc(self) -> &'static str {
        match self {
            RateKind::Roc => "True accept rate",
            RateKind::Det => "False reject rate",
        }
    }

    /// The reference line's end points and legend label.
    fn reference(self) -> ([(f64, f64); 2], &'static str) {
        match self {
            RateKind::Roc => ([(0.0, 0.0), (1.0, 1.0)], "chance"),
            RateKind::Det => (
                [(MIN_RATE, MIN_RATE), (MAX_RATE, MAX_RATE)],
                "EER line (FAR = FRR)",
            ),
        }
    }
}

/// Curves cleaned for drawing: finite points only, clamped into the frame.
pub(crate) struct RateCurves {
    kind: RateKind,
    title: String,
    curves: Vec<Curve>,
}

impl RateCurves {
    pub(crate) fn new(kind: RateKind, title: &str, curves: &[Curve]) -> Self {
        let curves = curves
            .iter()
            .map(|curve| {
                let points: Vec<(f64, f64)> = curve
                    .points
                    .iter()
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .map(|&(x, y)| (kind.clamp(x), kind.clamp(y)))
                    .collect();
                let label = if points.is_empty() {
                    format!("{} (no finite points)", curve.label)
                } else {
                    curve.label.clone()
                };
                Curve { label, points }
            })
            .collect();
        Self {
            kind,
            title: title.to_owned(),
            curves,
        }
    }

    fn draw_chart<DB, X>(&self, area: &DrawingArea<DB, Shift>, x: X, y: X) -> DrawResult<DB>
    where
        DB: DrawingBackend,
        X: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
    {
        let mut chart = chart_builder(area).build_cartesian_2d(x, y)?;
        chart
            .configure_mesh()
            .x_desc("False accept rate")
            .y_desc(self.kind.y_desc())
            .x_labels(11)
            .y_labels(11)
            .label_style(("sans-serif", TICK_FONT))
            .axis_desc_style(("sans-serif", AXIS_DESC_FONT))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .draw()?;

        let (ends, _) = self.kind.reference();
        chart.draw_series(DashedLineSeries::new(ends, 8, 6, REFERENCE.stroke_width(2)))?;

        let width = self.line_width();
        for (curve, colour) in self.curves.iter().zip(PALETTE.iter().cycle()) {
            if let [point] = curve.points[..] {
                // A lone operating point would be an invisible zero-length line.
                chart.draw_series([Circle::new(point, 4, colour.filled())])?;
            } else {
                chart.draw_series(LineSeries::new(
                    curve.points.iter().copied(),
                    colour.stroke_width(width),
                ))?;
            }
        }
        // Frame drawn last so curves along the edges do not hide it.
        let (x, y) = (chart.x_range(), chart.y_range());
        chart.plotting_area().draw(&Rectangle::new(
            [(x.start, y.start), (x.end, y.end)],
            BLACK.stroke_width(1),
        ))?;
        Ok(())
    }

    /// With many curves, thinner lines keep them from merging into a blob.
    fn line_width(&self) -> u32 {
        if self.curves.len() > THICK_LINE_LIMIT {
            1
        } else {
            2
        }
    }

    fn legend_entries(&self) -> Vec<Entry> {
        let (_, reference) = self.kind.reference();
        // A little thicker than the plotted line, so the colour reads at a glance.
        let width = self.line_width() + 1;
        let curves = self
            .curves
            .iter()
            .zip(PALETTE.iter().cycle())
            .map(|(curve, &colour)| Entry {
                label: curve.label.clone(),
                swatch: Swatch::Line(colour.to_rgba(), width),
            });
        let empty_note = self.curves.is_empty().then(|| Entry {
            label: "no curves to show".to_owned(),
            swatch: Swatch::Note,
        });
        std::iter::once(Entry {
            label: reference.to_owned(),
            swatch: Swatch::Dashed(REFERENCE),
        })
        .chain(curves)
        .chain(empty_note)
        .collect()
    }
}

impl Figure for RateCurves {
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = with_title(root, &self.title)?;
        let (chart_area, legend_area) = body.split_horizontally(SIZE.0 - LEGEND_WIDTH);
        match self.kind {
            RateKind::Roc => self.draw_chart(&chart_area, 0.0..1.0, 0.0..1.0)?,
            RateKind::Det => self.draw_chart(&chart_area, ProbitAxis, ProbitAxis)?,
        }
        legend::draw(&legend_area, &self.legend_entries())
    }
}
