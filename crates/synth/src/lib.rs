//! Synthetic mouse recordings of people with distinct, stable motor styles, so that tests,
//! demos and evaluations need no recorded data; and synthetic typists ([`Typist`]) for the
//! keystroke models.
//!
//! A [`MotorStyle`] holds one person's parameters: Fitts-law movement times, the shape and
//! curvature of their submovements, tremor, the mouse's sampling rhythm, click hold times,
//! scroll rhythm, pauses and the mix of actions. [`MotorStyle::from_seed`] draws a person from a
//! population whose traits overlap, as real people's do; [`session`] writes one session of that
//! person, jittered a little per session like day-to-day variation.
//!
//! Everything is deterministic for its seeds. The random streams are ChaCha8, stable across
//! rand versions; results could still differ in the last bits between platforms whose maths
//! libraries round `exp`, `sin` or `powf` differently.

mod hand;
mod motion;
mod random;
mod session;
mod style;
mod typing;

pub use hand::{Hand, Sample};
pub use session::session;
pub use style::MotorStyle;
pub use typing::Typist;

/// `n_users` people drawn from the population, deterministic for `seed`; different seeds give
/// different people.
pub fn population(n_users: usize, seed: u64) -> Vec<MotorStyle> {
    (0..n_users as u64)
        .map(|i| MotorStyle::from_seed(random::mix(seed, i)))
        .collect()
}
