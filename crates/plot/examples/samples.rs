//! Writes one of each plot from synthetic data, to look at how they render:
//!
//! ```text
//! cargo run -p pointerprint-plot --example samples -- /tmp/plot-samples
//! ```

use std::error::Error;
use std::f64::consts::TAU;
use std::path::PathBuf;

use pointerprint_plot::{
    Curve, TrajectoryPoint, det_png, roc_png, roc_svg, score_histogram_png, trajectory_png,
};

fn main() -> Result<(), Box<dyn Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or("plot-samples".into()));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);

    let users: Vec<(String, Vec<f64>, Vec<f64>)> = (1..=4)
        .map(|u| {
            let separation = 1.0 + u as f64 * 0.6;
            let genuine = (0..200).map(|_| rng.normal() + separation).collect();
            let impostor = (0..2000).map(|_| rng.normal()).collect();
            (format!("user {u}"), genuine, impostor)
        })
        .collect();
    let (all_genuine, all_impostor): (Vec<f64>, Vec<f64>) = (
        users.iter().flat_map(|u| u.1.clone()).collect(),
        users.iter().flat_map(|u| u.2.clone()).collect(),
    );

    let roc: Vec<Curve> = std::iter::once(("all users".to_owned(), &all_genuine, &all_impostor))
        .chain(users.iter().map(|(l, g, i)| (l.clone(), g, i)))
        .map(|(label, g, i)| Curve {
            label,
            points: sweep(g, i)
                .into_iter()
                .map(|(far, frr)| (far, 1.0 - frr))
                .collect(),
        })
        .collect();
    let det: Vec<Curve> = roc
        .iter()
        .map(|c| Curve {
            label: c.label.clone(),
            points: c
                .points
                .iter()
                .map(|&(far, tar)| (far, 1.0 - tar))
                .collect(),
        })
        .collect();

    roc_png(&dir.join("roc.png"), "ROC — AUC 0.973", &roc)?;
    det_png(&dir.join("det.png"), "DET — EER 8.4%", &det)?;
    std::fs::write(dir.join("roc.svg"), roc_svg("ROC — AUC 0.973", &roc)?)?;
    score_histogram_png(
        &dir.join("scores.png"),
        "Scores — all users",
        &all_genuine,
        &all_impostor,
        Some(1.4),
    )?;

    // A few strokes across a 1920x1080 screen: accelerate, decelerate, click, drag.
    let mut points = Vec::new();
    let mut clicks = Vec::new();
    let strokes = [
        ((200.0, 900.0), (1400.0, 250.0), false),
        ((1400.0, 250.0), (900.0, 700.0), true),
        ((900.0, 700.0), (1750.0, 950.0), false),
    ];
    for ((x0, y0), (x1, y1), dragging) in strokes {
        let steps = 60;
        for k in 0..=steps {
            let t = k as f64 / steps as f64;
            let ease = (1.0 - (t * TAU / 2.0).cos()) / 2.0;
            let bend = (t * TAU / 2.0).sin() * 80.0;
            points.push(TrajectoryPoint {
                x: x0 + (x1 - x0) * ease + bend,
                y: y0 + (y1 - y0) * ease,
                speed: (t * TAU / 2.0).sin() * 2500.0,
                dragging,
            });
        }
        clicks.push((x1, y1));
    }
    trajectory_png(
        &dir.join("trajectory.png"),
        "Session 17 — user 3",
        (1920.0, 1080.0),
        &points,
        &clicks,
    )?;
    println!("wrote plots to {}", dir.display());
    Ok(())
}

/// (false-accept, false-reject) rates for thresholds at every score, higher = genuine.
fn sweep(genuine: &[f64], impostor: &[f64]) -> Vec<(f64, f64)> {
    let mut thresholds: Vec<f64> = genuine.iter().chain(impostor).copied().collect();
    thresholds.sort_by(f64::total_cmp);
    thresholds
        .iter()
        .step_by(10)
        .map(|&t| {
            let far = impostor.iter().filter(|&&s| s >= t).count() as f64 / impostor.len() as f64;
            let frr = genuine.iter().filter(|&&s| s < t).count() as f64 / genuine.len() as f64;
            (far, frr)
        })
        .collect()
}

/// xorshift64* with Box–Muller: enough randomness for a picture, no dependency.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        (-2.0 * self.uniform().ln()).sqrt() * (TAU * self.uniform()).cos()
    }
}
