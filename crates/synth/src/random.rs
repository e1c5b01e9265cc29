//! Seeding and the few distributions the synthesiser needs, all infallible.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Exp1, StandardNormal};

/// SplitMix64 finaliser: spreads nearby seeds (0, 1, 2...) over unrelated streams.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Combines two seeds into one, order-sensitively.
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    splitmix(splitmix(a) ^ splitmix(b).rotate_left(23))
}

/// A generator for one purpose (`salt`) of one seed. ChaCha8 is used by name, not `StdRng`,
/// because its output is promised to stay the same across rand versions.
pub(crate) fn rng_for(seed: u64, salt: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(seed, salt))
}

/// A standard normal deviate.
pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

/// A log-normal deviate with the given median and log-scale spread.
pub(crate) fn log_normal(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(rng)).exp()
}

/// An exponential deviate with mean 1.
pub(crate) fn exp1(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(Exp1)
}

/// A Poisson count with small mean `lambda`, capped at `cap` (Knuth's method).
pub(crate) fn poisson(rng: &mut ChaCha8Rng, lambda: f64, cap: u32) -> u32 {
    let limit = (-lambda).exp();
    let mut product: f64 = rng.r#gen();
    let mut k = 0;
    while product > limit && k < cap {
        product *= rng.r#gen::<f64>();
        k += 1;
    }
    k
}
