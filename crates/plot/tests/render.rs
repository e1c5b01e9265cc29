//! Every plot writes a real PNG of the expected size with visible content, and
//! hostile input gives an error or a plot, never a panic.

use std::path::Path;

use pointerprint_plot::{
    Curve, PlotError, TrajectoryPoint, det_png, roc_png, roc_svg, score_histogram_png,
    score_histogram_svg, trajectory_png,
};
use proptest::prelude::*;

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
const TITLE_BAND: u32 = 48;

/// A decoded RGB image.
struct Image {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Image {
    fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y * self.width + x) as usize * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Pixels in rows `rows` that are not white.
    fn ink(&self, rows: std::ops::Range<u32>) -> usize {
        rows.flat_map(|y| (0..self.width).map(move |x| (x, y)))
            .filter(|&(x, y)| self.pixel(x, y) != [255, 255, 255])
            .count()
    }

    /// Pixels that are clearly coloured (not grey), i.e. data rather than text or grid.
    fn coloured(&self) -> usize {
        self.rgb
            .chunks(3)
            .filter(|p| p.iter().max().unwrap_or(&0) - p.iter().min().unwrap_or(&0) > 60)
            .count()
    }
}

/// Checks the PNG signature and decodes the file.
fn read_png(path: &Path) -> Image {
    let bytes = std::fs::read(path).expect("plot file exists");
    assert_eq!(bytes[..8], PNG_SIGNATURE, "{} is not a PNG", path.display());
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("valid PNG header");
    let mut rgb = vec![0; reader.output_buffer_size().expect("sane size")];
    let info = reader.next_frame(&mut rgb).expect("valid PNG data");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    rgb.truncate(info.buffer_size());
    Image {
        width: info.width,
        height: info.height,
        rgb,
    }
}

/// Asserts a non-blank plot: a rendered title, drawn content and coloured data.
fn assert_plot(image: &Image, size: (u32, u32)) {
    assert_eq!((image.width, image.height), size);
    assert!(image.ink(0..TITLE_BAND) > 200, "title text missing");
    let total = (image.width * image.height) as usize;
    assert!(
        image.ink(TITLE_BAND..image.height) > total / 100,
        "plot nearly blank"
    );
    assert!(image.coloured() > 500, "no coloured data drawn");
}

/// Binormal ROC points (FAR, TAR) traced from a smooth family of curves.
fn roc_curves() -> Vec<Curve> {
    (1..=3)
        .map(|k| Curve {
            label: format!("user {k}"),
            points: (0..=50)
                .map(|i| {
                    let far = f64::from(i) / 50.0;
                    (far, far.powf(1.0 / (1.0 + f64::from(k))))
                })
                .collect(),
        })
        .collect()
}

fn det_curves() -> Vec<Curve> {
    roc_curves()
        .into_iter()
        .map(|c| Curve {
            label: c.label,
            points: c
                .points
                .iter()
                .map(|&(far, tar)| (far, 1.0 - tar))
                .collect(),
        })
        .collect()
}

fn scores() -> (Vec<f64>, Vec<f64>) {
    let genuine = (0..300)
        .map(|i| 0.6 + 0.3 * (f64::from(i) * 0.37).sin())
        .collect();
    let impostor = (0..900)
        .map(|i| 0.3 + 0.25 * (f64::from(i) * 0.11).cos())
        .collect();
    (genuine, impostor)
}

fn trajectory() -> (Vec<TrajectoryPoint>, Vec<(f64, f64)>) {
    let points = (0..200)
        .map(|i| {
            let t = f64::from(i) / 199.0;
            TrajectoryPoint {
                x: 100.0 + 1600.0 * t,
                y: 900.0 - 700.0 * t * t,
                speed: (t * std::f64::consts::PI).sin() * 3000.0,
                dragging: (0.4..0.6).contains(&t),
            }
        })
        .collect();
    (points, vec![(100.0, 900.0), (1700.0, 200.0)])
}

#[test]
fn roc_png_renders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("roc.png");
    roc_png(&path, "ROC — AUC 0.973", &roc_curves()).expect("roc plot");
    assert_plot(&read_png(&path), (800, 600));
}

#[test]
fn det_png_renders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("det.png");
    det_png(&path, "DET — EER 12.0%", &det_curves()).expect("det plot");
    assert_plot(&read_png(&path), (800, 600));
}

#[test]
fn score_histogram_png_renders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("scores.png");
    let (genuine, impostor) = scores();
    score_histogram_png(&path, "Scores", &genuine, &impostor, Some(0.5)).expect("histogram");
    assert_plot(&read_png(&path), (800, 600));
}

#[test]
fn trajectory_png_renders_with_screen_aspect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("trajectory.png");
    let (points, clicks) = trajectory();
    trajectory_png(&path, "Session 1", (1920.0, 1080.0), &points, &clicks).expect("trajectory");
    // 720x405 plotting area (16:9) plus label areas, margins, title and legend.
    assert_plot(&read_png(&path), (1048, 517));
}

#[test]
fn parent_directories_are_created() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a/b/c/roc.png");
    roc_png(&path, "ROC", &roc_curves()).expect("roc plot");
    assert_eq!((read_png(&path).width, read_png(&path).height), (800, 600));
}

#[test]
fn png_does_not_depend_on_extension() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("roc.jpg");
    roc_png(&path, "ROC", &roc_curves()).expect("roc plot");
    assert_eq!(read_png(&path).width, 800);
}

#[test]
fn degenerate_inputs_still_plot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let single = [Curve {
        label: "one point".into(),
        points: vec![(0.1, 0.9)],
    }];
    let corners = [Curve {
        label: "rates of 0 and 1".into(),
        points: vec![(0.0, 1.0), (0.0, 0.0), (1.0, 0.0)],
    }];
    roc_png(&dir.path().join("empty.png"), "ROC", &[]).expect("empty roc");
    roc_png(&dir.path().join("single.png"), "ROC", &single).expect("single point");
    det_png(&dir.path().join("det.png"), "DET", &corners).expect("clamped det");
    let equal = dir.path().join("equal.png");
    score_histogram_png(&equal, "Equal", &[0.5; 20], &[0.5; 20], Some(0.5)).expect("equal");
    assert_eq!(read_png(&equal).width, 800);
    trajectory_png(&dir.path().join("t.png"), "", (800.0, 600.0), &[], &[]).expect("empty");
}

#[test]
fn extreme_magnitudes_plot_or_err() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.png");
    let score_sets: [&[f64]; 6] = [
        &[-1e300, 1e300],
        &[1e-300, 2e-300],
        &[0.0, 1e-150],
        &[f64::MAX],
        &[-f64::MAX, f64::MAX],
        &[f64::MIN_POSITIVE, 5e-324],
    ];
    for scores in score_sets {
        let _ = score_histogram_png(&path, "x", scores, scores, Some(f64::MAX));
    }
    for screen in [(1e300, 1e300), (1e-300, 1e-10), (5e-324, 1.0), (1.0, 1e9)] {
        let point = TrajectoryPoint {
            x: 1e308,
            y: -1e308,
            speed: f64::MAX,
            dragging: true,
        };
        trajectory_png(&path, "x", screen, &[point, point], &[(f64::MAX, 0.0)])
            .expect("finite positive screens plot");
    }
}

#[test]
fn many_curves_fit_the_legend() {
    let dir = tempfile::tempdir().expect("tempdir");
    let curves: Vec<Curve> = (0..60)
        .map(|k| Curve {
            label: format!("a rather long user label number {k}"),
            points: vec![(0.0, 0.0), (0.1, 0.5 + f64::from(k) / 200.0), (1.0, 1.0)],
        })
        .collect();
    let path = dir.path().join("many.png");
    roc_png(&path, "ROC — 60 users", &curves).expect("roc plot");
    assert_plot(&read_png(&path), (800, 600));
}

#[test]
fn unusable_input_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("scores.png");
    let err = score_histogram_png(&path, "S", &[f64::NAN], &[], None).expect_err("no data");
    assert!(matches!(err, PlotError::InvalidInput { .. }));
    assert!(err.to_string().contains("scores.png"), "{err}");
    assert!(!path.exists());

    let err = trajectory_png(&path, "T", (0.0, f64::NAN), &[], &[]).expect_err("bad screen");
    assert!(err.to_string().contains("screen size"), "{err}");
}

#[test]
fn unwritable_path_names_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = roc_png(dir.path(), "ROC", &roc_curves()).expect_err("a directory");
    assert!(matches!(err, PlotError::Write { .. }));
    assert!(err.to_string().contains(&dir.path().display().to_string()));
}

#[test]
fn svg_variants_share_the_drawing() {
    let roc = roc_svg("ROC — AUC 0.973", &roc_curves()).expect("roc svg");
    assert!(roc.starts_with("<svg") && roc.contains("ROC — AUC 0.973"));
    assert!(roc.contains("False accept rate") && roc.contains("user 3"));
    let (genuine, impostor) = scores();
    let hist = score_histogram_svg("Scores", &genuine, &impostor, None).expect("histogram svg");
    assert!(hist.contains("Sessions") && hist.contains("<rect"));
}

/// Any f64, with NaN, infinities, huge and tiny values well represented.
fn wild() -> impl Strategy<Value = f64> {
    prop_oneof![
        proptest::num::f64::ANY,
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(1.0),
        -2.0..2.0,
    ]
}

fn wild_curves() -> impl Strategy<Value = Vec<Curve>> {
    prop::collection::vec(
        (".{0,40}", prop::collection::vec((wild(), wild()), 0..20))
            .prop_map(|(label, points)| Curve { label, points }),
        0..5,
    )
}

proptest! {
    // Each case renders a full plot, so keep the count modest.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn rate_plots_never_panic(curves in wild_curves(), title in ".{0,60}") {
        let dir = tempfile::tempdir().expect("tempdir");
        let _ = roc_svg(&title, &curves);
        let _ = det_png(&dir.path().join("det.png"), &title, &curves);
    }

    #[test]
    fn histograms_never_panic(
        genuine in prop::collection::vec(wild(), 0..50),
        impostor in prop::collection::vec(wild(), 0..50),
        threshold in proptest::option::of(wild()),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let _ = score_histogram_svg("scores", &genuine, &impostor, threshold);
        let _ = score_histogram_png(&dir.path().join("s.png"), "scores", &genuine, &impostor, threshold);
    }

    #[test]
    fn trajectories_never_panic(
        screen in (wild(), wild()),
        points in prop::collection::vec((wild(), wild(), wild(), any::<bool>()), 0..40),
        clicks in prop::collection::vec((wild(), wild()), 0..5),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let points: Vec<TrajectoryPoint> = points
            .into_iter()
            .map(|(x, y, speed, dragging)| TrajectoryPoint { x, y, speed, dragging })
            .collect();
        let _ = trajectory_png(&dir.path().join("t.png"), "t", screen, &points, &clicks);
    }
}

#[test]
fn dashboard_svgs_draw_counts_and_timelines() {
    use pointerprint_plot::{
        BarSeries, TimelineOutcome, TimelinePoint, stacked_bars_svg, timeline_svg,
    };
    let buckets: Vec<String> = (0..24).map(|h| format!("{h:02}:00")).collect();
    let series = vec![
        BarSeries {
            label: "accept".into(),
            colour: (44, 160, 44),
            counts: (0..24).collect(),
        },
        BarSeries {
            label: "reject".into(),
            colour: (214, 39, 40),
            counts: vec![1; 24],
        },
    ];
    let svg = stacked_bars_svg("Decisions per hour", &buckets, &series).expect("bars");
    assert!(svg.starts_with("<svg") && svg.contains("accept (276)") && svg.contains("00:00"));
    let short = vec![BarSeries {
        label: "x".into(),
        colour: (0, 0, 0),
        counts: vec![1],
    }];
    assert!(stacked_bars_svg("bad", &buckets, &short).is_err());

    let points: Vec<TimelinePoint> = (0..10)
        .map(|i| TimelinePoint {
            t: 1e12 + f64::from(i) * 3.6e6,
            score: f64::from(i) / 10.0,
            threshold: 0.5,
            outcome: if i >= 5 {
                TimelineOutcome::Accept
            } else {
                TimelineOutcome::Reject
            },
        })
        .collect();
    let svg = timeline_svg("Scores", &points, &|t| {
        format!("t{:.0}", (t - 1e12) / 3.6e6)
    })
    .expect("timeline");
    assert!(svg.contains("accepted (5)") && svg.contains("rejected (5)"));
    let nan = [TimelinePoint {
        t: f64::NAN,
        ..points[0]
    }];
    assert!(timeline_svg("none", &nan, &|t| t.to_string()).is_err());
}
