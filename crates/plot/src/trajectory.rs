//! A mouse trajectory drawn as it looked on the screen, for eyeballing what a
//! session's movements, drags and clicks were like.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::TrajectoryPoint;
use crate::figure::{
    AXIS_DESC_FONT, DrawResult, Figure, GRID, LEFT_MARGIN, LEGEND_WIDTH, RIGHT_MARGIN, TICK_FONT,
    TITLE_HEIGHT, TOP_MARGIN, X_LABEL_AREA, Y_LABEL_AREA, chart_builder, with_title,
};
use crate::legend::{self, Entry, Swatch};

/// Largest plotting area; the screen is scaled to fit, keeping its aspect ratio.
const MAX_PLOT: (f64, f64) = (720.0, 540.0);
/// Smallest plotting-area side, so an extreme aspect ratio still leaves room.
const MIN_PLOT_SIDE: f64 = 120.0;
const SCREEN_FILL: RGBColor = RGBColor(248, 248, 248);
const DRAG: RGBColor = RGBColor(220, 0, 220);
const DRAG_ALPHA: f64 = 0.3;
const CLICK: RGBColor = BLACK;
/// Speeds at or above this quantile are drawn full red, so one outlier does not
/// turn the rest of the trajectory blue.
const SPEED_QUANTILE: f64 = 0.95;
/// Speed colours are quantised so runs of similar speed form one polyline: many
/// tiny separately stroked segments leave bumps at every joint.
const SPEED_LEVELS: u8 = 32;

/// A finite sample, clamped onto the screen.
#[derive(Clone, Copy)]
struct Sample {
    x: f64,
    y: f64,
    /// Speed as a fraction of the colour scale, `None` if not finite.
    speed: Option<f64>,
    dragging: bool,
}

/// What a polyline is drawn with.
#[derive(Clone, Copy, PartialEq)]
enum Stroke {
    /// Speed level `0..SPEED_LEVELS`, `None` when the speed is unknown.
    Speed(Option<u8>),
    Drag,
}

pub(crate) struct Trajectory {
    title: String,
    screen: (f64, f64),
    plot: (u32, u32),
    /// `None` marks a non-finite point, where the line is broken.
    samples: Vec<Option<Sample>>,
    clicks: Vec<(f64, f64)>,
    /// The speed drawn full red, shown in the legend.
    speed_scale: f64,
}

impl Trajectory {
    /// Errs with a reason when the screen size is not finite and positive.
    pub(crate) fn new(
        title: &str,
        screen: (f64, f64),
        points: &[TrajectoryPoint],
        clicks: &[(f64, f64)],
    ) -> Result<Self, String> {
        let (width, height) = screen;
        if !(width.is_finite() && height.is_finite() && width > 0.0 && height > 0.0) {
            return Err(format!(
                "screen size must be finite and positive, got {width} x {height}"
            ));
        }
        let on_screen = |x: f64, y: f64| {
            (x.is_finite() && y.is_finite()).then(|| (x.clamp(0.0, width), y.clamp(0.0, height)))
        };
        let speed_scale = speed_scale(points);
        let samples = points
            .iter()
            .map(|p| {
                on_screen(p.x, p.y).map(|(x, y)| Sample {
                    x,
                    y,
                    speed: p
                        .speed
                        .is_finite()
                        .then(|| (p.speed / speed_scale).clamp(0.0, 1.0)),
                    dragging: p.dragging,
                })
            })
            .collect();
        let scale = (MAX_PLOT.0 / width).min(MAX_PLOT.1 / height);
        let side = |len: f64, max: f64| (len * scale).round().clamp(MIN_PLOT_SIDE, max) as u32;
        Ok(Self {
            title: title.to_owned(),
            screen,
            plot: (side(width, MAX_PLOT.0), side(height, MAX_PLOT.1)),
            samples,
            clicks: clicks
                .iter()
                .filter_map(|&(x, y)| on_screen(x, y))
                .collect(),
            speed_scale,
        })
    }

    /// Splits the trajectory into polylines of consecutive segments that share a
    /// stroke; `stroke` returns `None` for segments not to draw. Non-finite
    /// samples end a polyline.
    fn polylines(
        &self,
        stroke: impl Fn(&Sample, &Sample) -> Option<Stroke>,
    ) -> Vec<(Stroke, Vec<(f64, f64)>)> {
        let mut lines: Vec<(Stroke, Vec<(f64, f64)>)> = Vec::new();
        let mut previous: Option<(usize, Stroke)> = None;
        for (i, pair) in self.samples.windows(2).enumerate() {
            let (Some(a), Some(b)) = (pair[0], pair[1]) else {
                continue;
            };
            let Some(s) = stroke(&a, &b) else {
                continue;
            };
            let continues = previous.is_some_and(|(j, t)| j + 1 == i && t == s);
            match lines.last_mut() {
                Some((_, line)) if continues => line.push((b.x, b.y)),
                _ => lines.push((s, vec![(a.x, a.y), (b.x, b.y)])),
            }
            previous = Some((i, s));
        }
        lines
    }

    fn legend_entries(&self) -> Vec<Entry> {
        vec![
            Entry {
                label: format!("speed 0 → ≥ {}", short_speed(self.speed_scale)),
                swatch: Swatch::Gradient(speed_colour),
            },
            Entry {
                label: "drag".to_owned(),
                swatch: Swatch::Line(DRAG.mix(DRAG_ALPHA), 10),
            },
            Entry {
                label: "click".to_owned(),
                swatch: Swatch::Circle(CLICK),
            },
        ]
    }
}

/// The speed at [`SPEED_QUANTILE`] of the finite, positive speeds; 1 if there are
/// none, so every segment is then drawn slow.
fn speed_scale(points: &[TrajectoryPoint]) -> f64 {
    let mut speeds: Vec<f64> = points
        .iter()
        .map(|p| p.speed)
        .filter(|s| s.is_finite() && *s > 0.0)
        .collect();
    speeds.sort_by(f64::total_cmp);
    let index = ((speeds.len() as f64 - 1.0) * SPEED_QUANTILE).round() as usize;
    speeds.get(index).copied().unwrap_or(1.0)
}

/// The quantised speed level of a segment, from the mean of its known end speeds.
fn speed_level(a: &Sample, b: &Sample) -> Option<u8> {
    let speed = match (a.speed, b.speed) {
        (Some(sa), Some(sb)) => (sa + sb) / 2.0,
        (Some(s), None) | (None, Some(s)) => s,
        (None, None) => return None,
    };
    Some((speed * f64::from(SPEED_LEVELS - 1)).round() as u8)
}

/// Blue (slow, `t` = 0) through green and yellow to red (fast, `t` = 1).
fn speed_colour(t: f64) -> RGBColor {
    let hue = (1.0 - t.clamp(0.0, 1.0)) * 240.0 / 360.0;
    let (r, g, b) = HSLColor(hue, 0.9, 0.45).to_backend_color().rgb;
    RGBColor(r, g, b)
}

/// Speeds vary from px/ms to px/s depending on the caller, so print compactly.
fn short_speed(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    }
}

/// Pixel positions print as integers ("200", not "200.0") unless the screen is
/// so small that ticks fall between pixels.
fn pixel_label(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

impl Figure for Trajectory {
    fn size(&self) -> (u32, u32) {
        (
            LEFT_MARGIN + Y_LABEL_AREA + self.plot.0 + RIGHT_MARGIN + LEGEND_WIDTH,
            TITLE_HEIGHT + TOP_MARGIN + self.plot.1 + X_LABEL_AREA,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = with_title(root, &self.title)?;
        let (chart_area, legend_area) = body.split_horizontally(self.size().0 - LEGEND_WIDTH);
        let (width, height) = self.screen;
        // A reversed y range puts y = 0 at the top, as on a screen.
        let mut chart = chart_builder(&chart_area).build_cartesian_2d(0.0..width, height..0.0)?;
        chart.plotting_area().fill(&SCREEN_FILL)?;
        chart
            .configure_mesh()
            .x_desc("x (px)")
            .y_desc("y (px)")
            // About one label per 90 px across and 60 px down, so narrow screens
            // do not run labels together.
            .x_labels((self.plot.0 / 90).max(2) as usize)
            .y_labels((self.plot.1 / 60).max(2) as usize)
            .x_label_formatter(&pixel_label)
            .y_label_formatter(&pixel_label)
            .label_style(("sans-serif", TICK_FONT))
            .axis_desc_style(("sans-serif", AXIS_DESC_FONT))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .draw()?;

        // Drags first, as a wide translucent band under the speed-coloured line.
        let drags = self.polylines(|a, b| (a.dragging && b.dragging).then_some(Stroke::Drag));
        let moves = self.polylines(|a, b| Some(Stroke::Speed(speed_level(a, b))));
        chart.draw_series(drags.into_iter().chain(moves).map(|(stroke, line)| {
            let style = match stroke {
                Stroke::Drag => DRAG.mix(DRAG_ALPHA).stroke_width(10),
                Stroke::Speed(Some(level)) => {
                    speed_colour(f64::from(level) / f64::from(SPEED_LEVELS - 1)).stroke_width(2)
                }
                Stroke::Speed(None) => GRID.stroke_width(2),
            };
            PathElement::new(line, style)
        }))?;
        chart.draw_series(
            self.clicks
                .iter()
                .map(|&point| Circle::new(point, 7, CLICK.stroke_width(2))),
        )?;
        chart.plotting_area().draw(&Rectangle::new(
            [(0.0, 0.0), (width, height)],
            BLACK.stroke_width(1),
        ))?;
        legend::draw(&legend_area, &self.legend_entries())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(x: f64, speed: f64, dragging: bool) -> TrajectoryPoint {
        TrajectoryPoint {
            x,
            y: 10.0,
            speed,
            dragging,
        }
    }

    #[test]
    fn polylines_join_runs_and_break_at_gaps() {
        let points = [
            point(0.0, 1.0, true),
            point(1.0, 1.0, true),
            point(2.0, 1.0, false),
            point(f64::NAN, 1.0, false),
            point(4.0, 1.0, false),
            point(5.0, 1.0, false),
        ];
        let trajectory = Trajectory::new("", (100.0, 100.0), &points, &[]).expect("valid screen");
        let moves = trajectory.polylines(|a, b| Some(Stroke::Speed(speed_level(a, b))));
        let lengths: Vec<usize> = moves.iter().map(|(_, line)| line.len()).collect();
        assert_eq!(lengths, [3, 2]);
        let drags = trajectory.polylines(|a, b| (a.dragging && b.dragging).then_some(Stroke::Drag));
        assert_eq!(drags.len(), 1);
        assert_eq!(drags[0].1.len(), 2);
    }

    #[test]
    fn speed_scale_ignores_outliers_and_bad_values() {
        let mut points: Vec<TrajectoryPoint> =
            (1..=100).map(|s| point(0.0, s as f64, false)).collect();
        points.push(point(0.0, f64::NAN, false));
        points.push(point(0.0, 1e9, false));
        assert_eq!(speed_scale(&points), 96.0);
        assert_eq!(speed_scale(&[]), 1.0);
    }

    #[test]
    fn plot_keeps_screen_aspect() {
        let trajectory = Trajectory::new("", (1920.0, 1080.0), &[], &[]).expect("valid screen");
        assert_eq!(trajectory.plot, (720, 405));
        let tall = Trajectory::new("", (1.0, 1e9), &[], &[]).expect("valid screen");
        assert_eq!(tall.plot, (120, 540));
    }
}
