//! What can go wrong while driving the browser.

use std::time::Duration;

/// Every failure of this crate, with enough text to debug a failing test.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error(
        "no Chromium found (tried $POINTERPRINT_CHROMIUM, chromium, chromium-browser, google-chrome on PATH); \
         install Debian's `chromium` package: apt-get install -y chromium"
    )]
    NotInstalled,
    #[error("could not start {binary}: {source}")]
    Spawn {
        binary: String,
        source: std::io::Error,
    },
    #[error("Chromium did not report its DevTools port within {0:?}: {1}")]
    Startup(Duration, String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("DevTools WebSocket: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("the DevTools connection closed")]
    Closed,
    #[error("{method} failed: {message}")]
    Protocol { method: String, message: String },
    #[error("unexpected reply to {method}: {reply}")]
    UnexpectedReply { method: String, reply: String },
    #[error("page script threw: {0}")]
    Script(String),
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(Duration, String),
}
