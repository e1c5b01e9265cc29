//! Feature vectors laid out the way the learners want them.

use pointerprint_core::{FEATURE_COUNT, FeatureVector};

/// A column-major matrix of action features (forust's layout), built once per fit or predict.
pub(crate) struct ColumnMajor {
    pub data: Vec<f64>,
    pub rows: usize,
}

impl ColumnMajor {
    pub fn new(rows: &[&FeatureVector]) -> Self {
        let n = rows.len();
        let mut data = vec![0.0; n * FEATURE_COUNT];
        for (r, fv) in rows.iter().enumerate() {
            for (c, &v) in fv.as_slice().iter().enumerate() {
                data[c * n + r] = v;
            }
        }
        Self { data, rows: n }
    }

    pub fn as_forust(&self) -> forust_ml::Matrix<'_, f64> {
        forust_ml::Matrix::new(&self.data, self.rows, FEATURE_COUNT)
    }
}
