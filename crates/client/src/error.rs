//! What can go wrong talking to a node: the API said no, the network failed, or the answer
//! was not what the API promises.

use std::fmt;

/// Why a call did not get the answer it asked for.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node answered with an error status. `code` and `message` are the API's
    /// `{"error":{"code","message"}}`; an answer of another shape (a proxy's page, say) has
    /// no code and its body, cut short, as the message.
    #[error("HTTP {status}{}: {message}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
    Api {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// No answer: the connection, the request or the body failed. (The cause is part of
    /// the message, not a separate source, so an error chain prints it once.)
    #[error("{kind}: {}", with_causes(error))]
    Transport {
        kind: TransportKind,
        error: reqwest::Error,
    },
    /// A success status with a body that is not the documented JSON.
    #[error("HTTP {status}: unexpected answer: {detail}")]
    Decode { status: u16, detail: String },
    /// The trust stream's WebSocket failed.
    #[error("WebSocket: {0}")]
    WebSocket(Box<tokio_tungstenite::tungstenite::Error>),
    /// The node's address is not an `http://` or `https://` URL.
    #[error("{0:?} is not an http:// or https:// URL")]
    InvalidBase(String),
}

/// An error and its causes on one line: reqwest's own message names only the request.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// How a request failed without an answer, for counting failures by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TransportKind {
    Timeout,
    Connect,
    Body,
    Request,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Timeout => "timeout",
            TransportKind::Connect => "connect",
            TransportKind::Body => "body",
            TransportKind::Request => "request",
        })
    }
}

impl ClientError {
    /// The HTTP status of an API error or an undecodable answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } | ClientError::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The API's error code (`invalid_event`, `not_found`, ...), if the node gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// A short class for summaries: `HTTP 500`, `transport (timeout)`, ...
    pub fn kind(&self) -> String {
        match self {
            ClientError::Api { status, .. } | ClientError::Decode { status, .. } => {
                format!("HTTP {status}")
            }
            ClientError::Transport { kind, .. } => format!("transport ({kind})"),
            ClientError::WebSocket(_) => "WebSocket".to_string(),
            ClientError::InvalidBase(_) => "invalid URL".to_string(),
        }
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(error: reqwest::Error) -> Self {
        let kind = if error.is_timeout() {
            TransportKind::Timeout
        } else if error.is_connect() {
            TransportKind::Connect
        } else if error.is_body() || error.is_decode() {
            TransportKind::Body
        } else {
            TransportKind::Request
        };
        ClientError::Transport { kind, error }
    }
}

impl From<tokio_tungstenite::tungstenite::Error> for ClientError {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        ClientError::WebSocket(Box::new(e))
    }
}
