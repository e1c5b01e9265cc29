//! Session scores over time against the threshold each was judged by: how a user's
//! decisions drift, and which ones were close calls.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::figure::{
    AXIS_DESC_FONT, DrawResult, Figure, GRID, LEGEND_WIDTH, TICK_FONT, chart_builder, with_title,
};
use crate::legend::{self, Entry, Swatch};
use crate::{TimelineOutcome, TimelinePoint};

const SIZE: (u32, u32) = (720, 360);
const ACCEPT: RGBColor = RGBColor(44, 160, 44);
const REJECT: RGBColor = RGBColor(214, 39, 40);
const UNDECIDED: RGBColor = RGBColor(127, 127, 127);

pub(crate) struct Timeline<'a> {
    title: String,
    points: Vec<TimelinePoint>,
    span: (f64, f64),
    time_label: &'a dyn Fn(f64) -> String,
}

impl<'a> Timeline<'a> {
    pub(crate) fn new(
        title: &str,
        points: &[TimelinePoint],
        time_label: &'a dyn Fn(f64) -> String,
    ) -> Result<Self, String> {
        let points: Vec<TimelinePoint> = points
            .iter()
            .copied()
            .filter(|p| p.t.is_finite() && p.score.is_finite() && p.threshold.is_finite())
            .collect();
        let (low, high) = points
            .iter()
            .fold(None, |acc: Option<(f64, f64)>, p| match acc {
                None => Some((p.t, p.t)),
                Some((l, h)) => Some((l.min(p.t), h.max(p.t))),
            })
            .ok_or("no finite point")?;
        // A single point (or several at one instant) still gets a span to sit in.
        let pad = ((high - low) * 0.04).max(60_000.0);
        Ok(Self {
            title: title.to_owned(),
            points,
            span: (low - pad, high + pad),
            time_label,
        })
    }
}

fn colour(outcome: TimelineOutcome) -> RGBColor {
    match outcome {
        TimelineOutcome::Accept => ACCEPT,
        TimelineOutcome::Reject => REJECT,
        TimelineOutcome::Undecided => UNDECIDED,
    }
}

impl Figure for Timeline<'_> {
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = with_title(root, &self.title)?;
        let (chart_area, legend_area) = body.split_horizontally(SIZE.0 - LEGEND_WIDTH);
        let mut chart =
            chart_builder(&chart_area).build_cartesian_2d(self.span.0..self.span.1, 0f64..1f64)?;
        chart
            .configure_mesh()
            .x_labels(5)
            .x_label_formatter(&|t| (self.time_label)(*t))
            .y_desc("Score")
            .label_style(("sans-serif", TICK_FONT))
            .axis_desc_style(("sans-serif", AXIS_DESC_FONT))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .draw()?;
        // The threshold of each decision, as a short dash across its point.
        let half = (self.span.1 - self.span.0) / 150.0;
        for p in &self.points {
            let th = p.threshold.clamp(0.0, 1.0);
            chart.draw_series([PathElement::new(
                [(p.t - half, th), (p.t + half, th)],
                BLACK.stroke_width(2),
            )])?;
        }
        chart.draw_series(self.points.iter().map(|p| {
            Circle::new(
                (p.t, p.score.clamp(0.0, 1.0)),
                5,
                colour(p.outcome).filled(),
            )
        }))?;
        let count = |o: TimelineOutcome| self.points.iter().filter(|p| p.outcome == o).count();
        let mut entries = vec![
            Entry {
                label: format!("accepted ({})", count(TimelineOutcome::Accept)),
                swatch: Swatch::Fill(ACCEPT.to_rgba()),
            },
            Entry {
                label: format!("rejected ({})", count(TimelineOutcome::Reject)),
                swatch: Swatch::Fill(REJECT.to_rgba()),
            },
        ];
        let undecided = count(TimelineOutcome::Undecided);
        if undecided > 0 {
            entries.push(Entry {
                label: format!("too few actions ({undecided})"),
                swatch: Swatch::Fill(UNDECIDED.to_rgba()),
            });
        }
        entries.push(Entry {
            label: "threshold".into(),
            swatch: Swatch::Line(BLACK.to_rgba(), 2),
        });
        legend::draw(&legend_area, &entries)
    }
}
