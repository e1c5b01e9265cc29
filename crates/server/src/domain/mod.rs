//! The domain layer: the service's rules as plain values and functions, with no I/O, no
//! HTTP and no storage. What a user id is, what settings are valid, how a score becomes a
//! decision, how trust moves with each action, when a user is due for training, which event
//! batches are acceptable.
//!
//! Layer rule (checked by `tests/layers.rs`): modules here import only from `domain`.

pub mod decision;
pub mod enrolment;
pub mod events;
pub mod ids;
pub mod settings;
pub mod trust;
