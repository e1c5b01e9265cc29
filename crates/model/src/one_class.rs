//! A cold-start model that needs only the user's own actions: the scaled Manhattan distance
//! of Killourhy & Maxion, per action kind, on robust (median and MAD) statistics.

use pointerprint_core::{FEATURE_COUNT, FeatureVector};
use serde::{Deserialize, Serialize};

/// A feature whose deviation exceeds this many scales counts as this many: one wild feature
/// should not decide alone.
const MAX_DEVIATION: f64 = 6.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OneClass {
    /// Per action kind (index = kind code): per-feature median and scale, if the user has any.
    profiles: Vec<Option<(Vec<f64>, Vec<f64>)>>,
}

impl OneClass {
    pub fn fit(genuine: &[&FeatureVector]) -> Self {
        let profiles = (0..4u8)
            .map(|kind| {
                let rows: Vec<&FeatureVector> = genuine
                    .iter()
                    .copied()
                    .filter(|f| f.kind() as u8 == kind)
                    .collect();
                (rows.len() >= 3).then(|| profile(&rows))
            })
            .collect();
        Self { profiles }
    }

    /// Minus the mean scaled deviation from the user's typical action of the same kind.
    pub fn score(&self, action: &FeatureVector) -> f64 {
        let Some(Some((median, scale))) = self.profiles.get(action.kind() as usize) else {
            return -MAX_DEVIATION;
        };
        let total: f64 = action
            .as_slice()
            .iter()
            .zip(median.iter().zip(scale))
            .map(|(x, (m, s))| ((x - m).abs() / s).min(MAX_DEVIATION))
            .sum();
        -total / FEATURE_COUNT as f64
    }
}

fn profile(rows: &[&FeatureVector]) -> (Vec<f64>, Vec<f64>) {
    let mut column = Vec::with_capacity(rows.len());
    let mut median = Vec::with_capacity(FEATURE_COUNT);
    let mut scale = Vec::with_capacity(FEATURE_COUNT);
    for c in 0..FEATURE_COUNT {
        column.clear();
        column.extend(rows.iter().map(|r| r.0[c]));
        let m = middle(&mut column);
        column.iter_mut().for_each(|v| *v = (*v - m).abs());
        let mad = middle(&mut column);
        median.push(m);
        // A constant feature still needs a positive scale; tie it to the value's magnitude.
        scale.push((1.4826 * mad).max(1e-3 * (1.0 + m.abs())));
    }
    (median, scale)
}

fn middle(values: &mut [f64]) -> f64 {
    let mid = values.len() / 2;
    *values.select_nth_unstable_by(mid, f64::total_cmp).1
}
