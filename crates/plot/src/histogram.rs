//! Genuine vs impostor score histograms on shared bins, so the overlap (the errors
//! a threshold must trade off) is visible at a glance.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::types::{RangedCoordf64, RangedCoordu32};
use plotters::prelude::*;

use crate::figure::{
    AXIS_DESC_FONT, DrawResult, Figure, GRID, LEGEND_WIDTH, TICK_FONT, chart_builder, with_title,
};
use crate::legend::{self, Entry, Swatch};

const SIZE: (u32, u32) = (800, 600);
const GENUINE: RGBColor = RGBColor(31, 119, 180);
const IMPOSTOR: RGBColor = RGBColor(214, 39, 40);
/// Bars are translucent so the overlap region shows both classes.
const FILL_ALPHA: f64 = 0.4;
const MIN_BINS: usize = 10;
const MAX_BINS: usize = 60;

/// Finite scores of one class, binned.
struct Class {
    counts: Vec<u32>,
    /// Number of finite scores binned.
    n: usize,
    /// Number of NaN/infinite scores left out, noted in the legend.
    skipped: usize,
}

pub(crate) struct ScoreHistogram {
    title: String,
    range: Range<f64>,
    genuine: Class,
    impostor: Class,
    threshold: Option<f64>,
}

impl ScoreHistogram {
    /// Bins the scores; errs with a reason when no finite score is given or the
    /// values span more than `f64` can represent.
    pub(crate) fn new(
        title: &str,
        genuine: &[f64],
        impostor: &[f64],
        threshold: Option<f64>,
    ) -> Result<Self, String> {
        let threshold = threshold.filter(|t| t.is_finite());
        let finite = || {
            genuine
                .iter()
                .chain(impostor)
                .copied()
                .filter(|v| v.is_finite())
        };
        let n = finite().count();
        let (low, high) = finite()
            .chain(threshold)
            .fold(None, |acc: Option<(f64, f64)>, v| match acc {
                None => Some((v, v)),
                Some((low, high)) => Some((low.min(v), high.max(v))),
            })
            .filter(|_| n > 0)
            .ok_or("no finite genuine or impostor score")?;
        let range = padded_range(low, high).ok_or("scores span too wide a range to bin")?;
        // An odd count puts the middle of the range, where equal scores sit, in the
        // middle of a bin instead of on an edge.
        let bins = ((n as f64).sqrt().round() as usize).clamp(MIN_BINS, MAX_BINS) | 1;
        Ok(Self {
            title: title.to_owned(),
            genuine: Class::binned(genuine, &range, bins),
            impostor: Class::binned(impostor, &range, bins),
            range,
            threshold,
        })
    }

    fn bin_edges(&self, bin: usize) -> (f64, f64) {
        let bins = self.genuine.counts.len() as f64;
        let width = self.range.end - self.range.start;
        let edge = |i: usize| self.range.start + width * i as f64 / bins;
        (edge(bin), edge(bin + 1))
    }

    fn draw_class<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordu32>>,
        class: &Class,
        colour: RGBColor,
    ) -> DrawResult<DB> {
        let bars = class.counts.iter().enumerate().filter(|(_, c)| **c > 0);
        chart.draw_series(bars.clone().map(|(bin, &count)| {
            let (left, right) = self.bin_edges(bin);
            Rectangle::new([(left, 0), (right, count)], colour.mix(FILL_ALPHA).filled())
        }))?;
        chart.draw_series(bars.map(|(bin, &count)| {
            let (left, right) = self.bin_edges(bin);
            Rectangle::new([(left, 0), (right, count)], colour.stroke_width(1))
        }))?;
        Ok(())
    }

    fn legend_entries(&self) -> Vec<Entry> {
        let class_entry = |name: &str, class: &Class, colour: RGBColor| Entry {
            label: format!("{name} (n={})", class.n),
            swatch: Swatch::Fill(colour.mix(FILL_ALPHA + 0.2)),
        };
        let mut entries = vec![
            class_entry("genuine", &self.genuine, GENUINE),
            class_entry("impostor", &self.impostor, IMPOSTOR),
        ];
        if let Some(t) = self.threshold {
            entries.push(Entry {
                label: format!("threshold {}", short_number(t)),
                swatch: Swatch::Dashed(BLACK),
            });
        }
        let skipped = self.genuine.skipped + self.impostor.skipped;
        if skipped > 0 {
            entries.push(Entry {
                label: format!("{skipped} non-finite scores skipped"),
                swatch: Swatch::Note,
            });
        }
        entries
    }
}

impl Class {
    fn binned(scores: &[f64], range: &Range<f64>, bins: usize) -> Self {
        let mut counts = vec![0u32; bins];
        let width = range.end - range.start;
        let mut n = 0;
        for &score in scores.iter().filter(|v| v.is_finite()) {
            // `as usize` saturates, and the index is clamped, so rounding at the
            // top edge cannot go out of bounds.
            let bin = (((score - range.start) / width * bins as f64) as usize).min(bins - 1);
            counts[bin] = counts[bin].saturating_add(1);
            n += 1;
        }
        Self {
            counts,
            n,
            skipped: scores.len() - n,
        }
    }
}

/// The x range: the data span with a small margin, widened around the value when
/// all scores are (nearly) equal so the bars have a width. `None` when the span
/// overflows `f64`.
fn padded_range(low: f64, high: f64) -> Option<Range<f64>> {
    let magnitude = low.abs().max(high.abs());
    let span = high - low;
    let pad = if span > magnitude * 1e-9 && span > 1e-200 {
        span * 0.03
    } else {
        (magnitude * 0.05).max(0.5)
    };
    let (start, end) = (low - pad, high + pad);
    (start.is_finite() && end.is_finite() && (end - start).is_finite()).then_some(start..end)
}

/// Formats a threshold compactly: four significant decimals for ordinary
/// magnitudes, scientific notation otherwise.
fn short_number(v: f64) -> String {
    if v == 0.0 || (1e-3..1e5).contains(&v.abs()) {
        let fixed = format!("{v:.4}");
        fixed.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        format!("{v:.3e}")
    }
}

impl Figure for ScoreHistogram {
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = with_title(root, &self.title)?;
        let (chart_area, legend_area) = body.split_horizontally(SIZE.0 - LEGEND_WIDTH);
        let max_count = self
            .genuine
            .counts
            .iter()
            .chain(&self.impostor.counts)
            .copied()
            .max()
            .unwrap_or(0);
        // Headroom above the tallest bar, so it does not touch the frame.
        let y_top = max_count.saturating_add(max_count / 10).saturating_add(1);

        let mut chart =
            chart_builder(&chart_area).build_cartesian_2d(self.range.clone(), 0u32..y_top)?;
        chart
            .configure_mesh()
            .x_desc("Score")
            .y_desc("Sessions")
            .label_style(("sans-serif", TICK_FONT))
            .axis_desc_style(("sans-serif", AXIS_DESC_FONT))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .draw()?;

        self.draw_class(&mut chart, &self.impostor, IMPOSTOR)?;
        self.draw_class(&mut chart, &self.genuine, GENUINE)?;
        if let Some(t) = self.threshold {
            chart.draw_series(DashedLineSeries::new(
                [(t, 0), (t, y_top)],
                8,
                5,
                BLACK.stroke_width(2),
            ))?;
        }
        legend::draw(&legend_area, &self.legend_entries())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_scores_get_a_usable_range() {
        let range = padded_range(0.7, 0.7).expect("finite");
        assert!(range.start < 0.7 && range.end > 0.7);
        assert!(padded_range(-f64::MAX, f64::MAX).is_none());
    }

    #[test]
    fn binning_keeps_every_finite_score() {
        let range = padded_range(0.0, 1.0).expect("finite");
        let class = Class::binned(&[0.0, 0.5, 1.0, f64::NAN, f64::INFINITY], &range, 10);
        assert_eq!(class.counts.iter().sum::<u32>(), 3);
        assert_eq!((class.n, class.skipped), (3, 2));
    }

    #[test]
    fn thresholds_print_short() {
        assert_eq!(short_number(0.53200000001), "0.532");
        assert_eq!(short_number(0.0), "0");
        assert_eq!(short_number(-2.5), "-2.5");
        assert_eq!(short_number(1.5e-7), "1.500e-7");
    }
}
