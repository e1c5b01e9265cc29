//! `pointerprint serve`: the HTTP and WebSocket service that enrols users, trains their
//! models in the background and answers "is this the account's owner?".
//!
//! Architecture invariant: only this crate knows the HTTP API and its JSON; it talks to the
//! database only through `pointerprint-storage` and to the engine only through the core and
//! model crates.

pub mod accounts;
pub mod auth;
pub mod config;
mod dashboard;
mod demo;
pub mod error;
pub mod ids;
mod ingest;
mod live;
mod notifications;
mod routes;
pub mod settings;
pub mod startup;
mod state;
mod trust;
mod verify;
mod worker;

pub use config::Config;
pub use startup::{Application, hash_key, new_key};
