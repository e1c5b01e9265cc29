//! Synthetic typists: people with a stable, personal rhythm for a fixed text (a password),
//! typing it a little differently each time.
//!
//! A [`Typist`] holds one person's median hold time per key and median key-down to key-down
//! latency per pair of keys, drawn from a population whose rhythms overlap; [`Typist::typing`]
//! writes one typing as a [`KeystrokeSample`], with a per-typing tempo, per-key jitter and an
//! occasional hesitation. Deterministic for its seeds.

use pointerprint_core::keystroke::{KeyId, Keystroke, KeystrokeSample, TextKind};

use crate::random::{log_normal, mix, rng_for};

const POPULATION_SALT: u64 = 0x7970_6973;
const TYPING_SALT: u64 = 0x7479_7069;

/// One person's rhythm for a field of fixed length.
#[derive(Debug, Clone, PartialEq)]
pub struct Typist {
    /// Median hold time of each key (ms).
    holds: Vec<f64>,
    /// Median key-down to next key-down latency of each consecutive pair (ms).
    latencies: Vec<f64>,
}

impl Typist {
    /// A person drawn from the population, deterministic for `seed`, typing a field of
    /// `length` keys (at least 1).
    pub fn from_seed(seed: u64, length: usize) -> Self {
        let rng = &mut rng_for(seed, POPULATION_SALT);
        let length = length.max(1);
        // A personal tempo shared by every key, and a personal profile around it.
        let hold_tempo = log_normal(rng, 95.0, 0.2);
        let latency_tempo = log_normal(rng, 180.0, 0.35);
        let holds = (0..length)
            .map(|_| log_normal(rng, hold_tempo, 0.2))
            .collect();
        let latencies = (1..length)
            .map(|_| log_normal(rng, latency_tempo, 0.45))
            .collect();
        Self { holds, latencies }
    }

    /// One typing of the field, starting at `start` ms (clamped to a real clock); deterministic
    /// for `seed`.
    pub fn typing(&self, seed: u64, start: f64) -> KeystrokeSample {
        let rng = &mut rng_for(mix(seed, self.holds.len() as u64), TYPING_SALT);
        let tempo = log_normal(rng, 1.0, 0.1);
        let mut down = if start.is_finite() {
            start.clamp(0.0, 1e12)
        } else {
            0.0
        };
        let mut strokes = Vec::with_capacity(self.holds.len());
        for (position, hold) in self.holds.iter().enumerate() {
            let hold = log_normal(rng, hold * tempo, 0.15);
            strokes.push(Keystroke {
                key: KeyId::Position(position as u16),
                down,
                up: down + hold,
            });
            if let Some(latency) = self.latencies.get(position) {
                let hesitation = if rand::Rng::gen_bool(rng, 0.03) {
                    3.0
                } else {
                    1.0
                };
                down += log_normal(rng, latency * tempo * hesitation, 0.25);
            }
        }
        let kind = TextKind::Fixed {
            length: self.holds.len() as u16,
        };
        KeystrokeSample::new(kind, strokes)
            .expect("positive, finite, ordered times inside the field always make a sample")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pointerprint_core::keystroke::fixed_text_features;

    #[test]
    fn typings_are_valid_personal_and_repeatable() {
        let a = Typist::from_seed(1, 11);
        let b = Typist::from_seed(2, 11);
        assert_eq!(a, Typist::from_seed(1, 11));
        assert_ne!(a, b);
        let t = a.typing(5, 1000.0);
        assert_eq!(t, a.typing(5, 1000.0));
        let f = fixed_text_features(&t).unwrap();
        assert_eq!(f.len(), 31);
        assert!(f.iter().all(|v| v.is_finite()));
        // A person is closer to their own typings than to another person's.
        let mean = |p: &Typist| -> Vec<f64> {
            let rows: Vec<Vec<f64>> = (0..50)
                .map(|s| fixed_text_features(&p.typing(s, 0.0)).unwrap())
                .collect();
            (0..31)
                .map(|c| rows.iter().map(|r| r[c]).sum::<f64>() / 50.0)
                .collect()
        };
        let (ma, mb) = (mean(&a), mean(&b));
        let dist = |x: &[f64], m: &[f64]| x.iter().zip(m).map(|(p, q)| (p - q).abs()).sum::<f64>();
        let own = fixed_text_features(&a.typing(999, 0.0)).unwrap();
        assert!(dist(&own, &ma) < dist(&own, &mb));
    }
}
