//! `pointerprint serve`: the HTTP and WebSocket service that enrols users, trains their
//! models in the background and answers "is this the account's owner?".
//!
//! Three layers, imports going one way (checked by `tests/layers.rs`):
//! - [`domain`]: the rules as plain values and functions (ids, settings, decisions, trust,
//!   enrolment, acceptable batches);
//! - [`app`]: the operations over the store and the caches, used alike by the API, the
//!   dashboard and the demo;
//! - `http`: the JSON API, the dashboard, the demo site, mapping application errors to
//!   status codes.
//!
//! [`startup`] builds them into a running service.
//!
//! Architecture invariant: only this crate knows the HTTP API and its JSON; it talks to the
//! database only through `pointerprint-storage` and to the engine only through the core and
//! model crates.

pub mod app;
pub mod domain;
mod http;
pub mod startup;

pub use app::config::Config;
pub use startup::Application;
