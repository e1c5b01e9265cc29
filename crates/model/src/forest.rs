//! Extremely randomised trees (Geurts, Ernst & Wehenkel, 2006): a forest to compare the
//! boosted model with. Each tree grows on half the rows; each split draws a few features
//! and one random threshold per feature, and keeps the one that best separates the classes.

use pointerprint_core::{FEATURE_COUNT, FeatureVector};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha12Rng;
use serde::{Deserialize, Serialize};

/// Forest settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestParams {
    pub trees: usize,
    pub max_depth: usize,
    pub min_leaf: usize,
    /// Features drawn per split.
    pub features_per_split: usize,
}

impl Default for ForestParams {
    fn default() -> Self {
        Self {
            trees: 100,
            max_depth: 14,
            min_leaf: 3,
            features_per_split: 8,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum Node {
    Split {
        feature: u16,
        threshold: f64,
        left: u32,
        right: u32,
    },
    /// Weighted share of genuine rows that reached the leaf.
    Leaf(f32),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forest {
    trees: Vec<Vec<Node>>,
}

/// A probability this close to 0 or 1 is as far as a forest's vote is trusted.
const MIN_P: f64 = 0.01;

impl Forest {
    /// Fits on genuine (label true) and impostor rows, the classes weighted to balance.
    pub fn fit(
        genuine: &[&FeatureVector],
        impostor: &[&FeatureVector],
        params: &ForestParams,
        seed: u64,
    ) -> Self {
        let rows: Vec<&FeatureVector> = genuine.iter().chain(impostor).copied().collect();
        let w_neg = genuine.len() as f64 / impostor.len().max(1) as f64;
        let weights: Vec<f64> = (0..rows.len())
            .map(|i| if i < genuine.len() { 1.0 } else { w_neg })
            .collect();
        let mut rng = ChaCha12Rng::seed_from_u64(seed);
        let trees = (0..params.trees)
            .map(|_| {
                let mut sample: Vec<u32> = (0..rows.len() as u32).collect();
                sample.shuffle(&mut rng);
                sample.truncate(rows.len().div_ceil(2));
                let mut grower = Grower {
                    rows: &rows,
                    genuine: genuine.len(),
                    weights: &weights,
                    params,
                    rng: &mut rng,
                    nodes: Vec::new(),
                };
                grower.grow(&mut sample, 0);
                grower.nodes
            })
            .collect();
        Self { trees }
    }

    /// The log-odds of the forest's vote that the action is the user's.
    pub fn score(&self, action: &FeatureVector) -> f64 {
        let sum: f64 = self.trees.iter().map(|t| f64::from(leaf(t, action))).sum();
        let p = (sum / self.trees.len().max(1) as f64).clamp(MIN_P, 1.0 - MIN_P);
        (p / (1.0 - p)).ln()
    }
}

fn leaf(tree: &[Node], action: &FeatureVector) -> f32 {
    let mut i = 0;
    loop {
        match tree[i] {
            Node::Leaf(p) => return p,
            Node::Split {
                feature,
                threshold,
                left,
                right,
            } => {
                i = if action.0[usize::from(feature)] <= threshold {
                    left as usize
                } else {
                    right as usize
                };
            }
        }
    }
}

struct Grower<'a> {
    rows: &'a [&'a FeatureVector],
    /// Rows below this index are genuine.
    genuine: usize,
    weights: &'a [f64],
    params: &'a ForestParams,
    rng: &'a mut ChaCha12Rng,
    nodes: Vec<Node>,
}

impl Grower<'_> {
    /// Grows the subtree of `sample`, returning its root's index.
    fn grow(&mut self, sample: &mut [u32], depth: usize) -> u32 {
        let index = self.nodes.len() as u32;
        let (pos, total) = self.class_weights(sample);
        let p = if total > 0.0 {
            (pos / total) as f32
        } else {
            0.5
        };
        self.nodes.push(Node::Leaf(p));
        if depth >= self.params.max_depth
            || sample.len() < 2 * self.params.min_leaf
            || p == 0.0
            || p == 1.0
        {
            return index;
        }
        let Some((feature, threshold)) = self.best_split(sample, pos, total) else {
            return index;
        };
        let mut split = 0;
        for k in 0..sample.len() {
            if self.rows[sample[k] as usize].0[feature] <= threshold {
                sample.swap(k, split);
                split += 1;
            }
        }
        let (left_rows, right_rows) = sample.split_at_mut(split);
        let left = self.grow(left_rows, depth + 1);
        let right = self.grow(right_rows, depth + 1);
        self.nodes[index as usize] = Node::Split {
            feature: feature as u16,
            threshold,
            left,
            right,
        };
        index
    }

    fn class_weights(&self, sample: &[u32]) -> (f64, f64) {
        sample.iter().fold((0.0, 0.0), |(pos, total), &r| {
            let w = self.weights[r as usize];
            (
                if (r as usize) < self.genuine {
                    pos + w
                } else {
                    pos
                },
                total + w,
            )
        })
    }

    /// The drawn (feature, threshold) with the lowest weighted Gini impurity.
    fn best_split(&mut self, sample: &[u32], pos: f64, total: f64) -> Option<(usize, f64)> {
        let mut best: Option<(f64, usize, f64)> = None;
        for _ in 0..self.params.features_per_split {
            let feature = self.rng.gen_range(0..FEATURE_COUNT);
            let (lo, hi) =
                sample
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
                        let v = self.rows[r as usize].0[feature];
                        (lo.min(v), hi.max(v))
                    });
            if lo >= hi {
                continue;
            }
            let threshold = self.rng.gen_range(lo..hi);
            let (mut lpos, mut ltotal, mut lcount) = (0.0, 0.0, 0);
            for &r in sample {
                if self.rows[r as usize].0[feature] <= threshold {
                    let w = self.weights[r as usize];
                    ltotal += w;
                    lcount += 1;
                    if (r as usize) < self.genuine {
                        lpos += w;
                    }
                }
            }
            if lcount < self.params.min_leaf || sample.len() - lcount < self.params.min_leaf {
                continue;
            }
            let gini = |p: f64, t: f64| {
                if t > 0.0 {
                    t * 2.0 * (p / t) * (1.0 - p / t)
                } else {
                    0.0
                }
            };
            let impurity = gini(lpos, ltotal) + gini(pos - lpos, total - ltotal);
            if best.is_none_or(|(b, _, _)| impurity < b) {
                best = Some((impurity, feature, threshold));
            }
        }
        best.map(|(_, f, t)| (f, t))
    }
}
