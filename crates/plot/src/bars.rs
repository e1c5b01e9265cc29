//! Counts per time bucket as stacked bars, one colour per kind (e.g. decisions per hour
//! split into accept, reject and insufficient data).

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::BarSeries;
use crate::figure::{
    AXIS_DESC_FONT, DrawResult, Figure, GRID, LEGEND_WIDTH, TICK_FONT, chart_builder, with_title,
};
use crate::legend::{self, Entry, Swatch};

const SIZE: (u32, u32) = (640, 300);
/// At most this many bucket labels under the axis; the others are left blank.
const MAX_LABELS: usize = 7;

pub(crate) struct StackedBars {
    title: String,
    buckets: Vec<String>,
    series: Vec<BarSeries>,
}

impl StackedBars {
    pub(crate) fn new(
        title: &str,
        buckets: &[String],
        series: &[BarSeries],
    ) -> Result<Self, String> {
        if buckets.is_empty() {
            return Err("no buckets".into());
        }
        if let Some(s) = series.iter().find(|s| s.counts.len() != buckets.len()) {
            return Err(format!(
                "series {} has {} counts for {} buckets",
                s.label,
                s.counts.len(),
                buckets.len()
            ));
        }
        Ok(Self {
            title: title.to_owned(),
            buckets: buckets.to_vec(),
            series: series.to_vec(),
        })
    }

    fn total(&self, bucket: usize) -> u64 {
        self.series.iter().map(|s| s.counts[bucket]).sum()
    }
}

impl Figure for StackedBars {
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = with_title(root, &self.title)?;
        let (chart_area, legend_area) = body.split_horizontally(SIZE.0 - LEGEND_WIDTH);
        let n = self.buckets.len();
        let max = (0..n).map(|b| self.total(b)).max().unwrap_or(0);
        let y_top = max + max / 10 + 1;
        let mut chart =
            chart_builder(&chart_area).build_cartesian_2d(0f64..n as f64, 0u64..y_top)?;
        let every = n.div_ceil(MAX_LABELS).max(1);
        let label = |x: &f64| {
            let i = x.floor() as usize;
            if i < n && i.is_multiple_of(every) && (x - i as f64).abs() < 1e-9 {
                self.buckets[i].clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_labels(n + 1)
            .x_label_formatter(&label)
            .y_labels((y_top as usize + 1).min(6))
            .y_desc("Decisions")
            .label_style(("sans-serif", TICK_FONT))
            .axis_desc_style(("sans-serif", AXIS_DESC_FONT))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .disable_x_mesh()
            .draw()?;
        for bucket in 0..n {
            let mut base = 0u64;
            for s in &self.series {
                let count = s.counts[bucket];
                if count == 0 {
                    continue;
                }
                let (r, g, b) = s.colour;
                let left = bucket as f64 + 0.12;
                let right = bucket as f64 + 0.88;
                chart.draw_series([Rectangle::new(
                    [(left, base), (right, base + count)],
                    RGBColor(r, g, b).filled(),
                )])?;
                base += count;
            }
        }
        let entries: Vec<Entry> = self
            .series
            .iter()
            .map(|s| {
                let (r, g, b) = s.colour;
                Entry {
                    label: format!("{} ({})", s.label, s.counts.iter().sum::<u64>()),
                    swatch: Swatch::Fill(RGBColor(r, g, b).to_rgba()),
                }
            })
            .collect();
        legend::draw(&legend_area, &entries)
    }
}
