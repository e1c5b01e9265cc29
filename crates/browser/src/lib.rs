//! A small Chrome DevTools Protocol client for integration tests (docs TODO).

mod connection;
mod error;
mod launch;
mod mouse;
mod page;

pub use error::BrowserError;
pub use launch::{Browser, LaunchOptions};
pub use mouse::{MouseAction, MouseInput, mouse_inputs};
pub use page::Page;
