//! The JSON API under `/v1`, and the operations endpoints: one module per endpoint group.

pub mod decisions;
pub mod events;
pub mod extension;
pub mod health;
pub mod keys;
pub mod openapi;
pub mod sdk;
pub mod sessions;
pub mod settings;
pub mod stream;
pub mod users;
pub mod verify;
