//! The action classifiers a user model can be built on.

use forust_ml::GradientBooster;
use forust_ml::objective::ObjectiveType;
use pointerprint_core::FeatureVector;
use serde::{Deserialize, Serialize};

use crate::forest::Forest;
use crate::matrix::ColumnMajor;
use crate::one_class::OneClass;

/// Which learner a model is built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Learner {
    /// Gradient-boosted trees separating the user from a background population.
    Boosted,
    /// Extremely randomised trees against a background population, for comparison.
    Forest,
    /// Distance from the user's own typical actions; needs no population (cold start).
    OneClass,
}

impl std::str::FromStr for Learner {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "boosted" => Ok(Self::Boosted),
            "one-class" => Ok(Self::OneClass),
            other => Err(format!(
                "unknown learner {other:?}: expected boosted or one-class"
            )),
        }
    }
}

/// Gradient boosting settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoostedParams {
    pub iterations: usize,
    pub learning_rate: f32,
    pub max_depth: usize,
    pub min_leaf_weight: f32,
    pub subsample: f32,
    /// Histogram bins per feature: fewer bins train faster and lose little on these features.
    pub bins: u16,
}

impl Default for BoostedParams {
    fn default() -> Self {
        Self {
            iterations: 150,
            learning_rate: 0.1,
            max_depth: 5,
            min_leaf_weight: 5.0,
            subsample: 0.8,
            bins: 64,
        }
    }
}

/// A fitted action classifier. Its raw score is higher for actions more like the user's.
pub(crate) enum Fitted {
    Boosted(Box<GradientBooster>),
    Forest(Forest),
    OneClass(OneClass),
}

impl Fitted {
    /// Fits a boosted model: label 1 for the user's actions, 0 for others', with weights.
    pub fn boosted(
        genuine: &[&FeatureVector],
        impostor: &[&FeatureVector],
        params: &BoostedParams,
        seed: u64,
    ) -> Result<Self, forust_ml::errors::ForustError> {
        let rows: Vec<&FeatureVector> = genuine.iter().chain(impostor).copied().collect();
        let x = ColumnMajor::new(&rows);
        let mut y = vec![1.0; genuine.len()];
        y.resize(genuine.len() + impostor.len(), 0.0);
        // Balance the classes whatever the sample sizes.
        let w_neg = genuine.len() as f64 / impostor.len().max(1) as f64;
        let mut w = vec![1.0; genuine.len()];
        w.resize(y.len(), w_neg);
        let mut booster = GradientBooster::default()
            .set_objective_type(ObjectiveType::LogLoss)
            .set_iterations(params.iterations)
            .set_learning_rate(params.learning_rate)
            .set_max_depth(params.max_depth)
            .set_min_leaf_weight(params.min_leaf_weight)
            .set_subsample(params.subsample)
            .set_nbins(params.bins)
            .set_parallel(false)
            .set_seed(seed);
        booster.fit(&x.as_forust(), &y, &w, None)?;
        Ok(Self::Boosted(Box::new(booster)))
    }

    /// One raw score per action.
    pub fn scores(&self, actions: &[&FeatureVector]) -> Vec<f64> {
        if actions.is_empty() {
            return Vec::new();
        }
        match self {
            Fitted::Boosted(b) => {
                let x = ColumnMajor::new(actions);
                b.predict(&x.as_forust(), false)
            }
            Fitted::Forest(f) => actions.iter().map(|a| f.score(a)).collect(),
            Fitted::OneClass(m) => actions.iter().map(|a| m.score(a)).collect(),
        }
    }
}
