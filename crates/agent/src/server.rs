//! Talking to the pointerprint server: posting queued batches, and the session's trust
//! WebSocket.

use std::time::Duration;

use futures_util::StreamExt;
use serde::Deserialize;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};

use crate::config::Server;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot reach the server at {base}: {reason}")]
    Unreachable { base: String, reason: String },
    #[error(
        "the server at {base} refused the key (HTTP {status}): give an ingest key made by \
         `pointerprint keys create --role ingest`"
    )]
    WrongKey { base: String, status: u16 },
}

/// What became of one post.
#[derive(Debug, PartialEq)]
pub enum Posted {
    /// Stored now, or earlier (`duplicate`): either way the batch can go.
    Accepted { duplicate: bool },
    /// Refused for good (a 4xx other than 401, 403, 408 and 429): bad data is not worth
    /// sending again, as the browser collector decides.
    Refused { status: u16, message: String },
    /// Worth retrying later: no answer, a 5xx, 408 or 429, or a refused key (the key may
    /// be fixed; the batch is the user's data and is kept).
    Retry { reason: String },
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    server: Server,
}

#[derive(Deserialize)]
struct Ack {
    #[serde(default)]
    duplicate: bool,
}

impl Client {
    pub fn new(server: Server) -> Client {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client without TLS always builds");
        Client { http, server }
    }

    pub fn base(&self) -> &str {
        &self.server.base
    }

    /// Posts one batch body to `POST /v1/events`.
    pub async fn post_batch(&self, body: Vec<u8>) -> Posted {
        let reply = self
            .http
            .post(format!("{}/v1/events", self.server.base))
            .bearer_auth(&self.server.key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                return Posted::Retry {
                    reason: format!("no answer from {}: {e}", self.server.base),
                };
            }
        };
        let status = reply.status().as_u16();
        let text = reply.text().await.unwrap_or_default();
        match status {
            200..=299 => Posted::Accepted {
                duplicate: serde_json::from_str::<Ack>(&text).is_ok_and(|a| a.duplicate),
            },
            401 | 403 => Posted::Retry {
                reason: ServerError::WrongKey {
                    base: self.server.base.clone(),
                    status,
                }
                .to_string(),
            },
            408 | 429 => Posted::Retry {
                reason: format!("HTTP {status}: {text}"),
            },
            400..=499 => Posted::Refused {
                status,
                message: text,
            },
            _ => Posted::Retry {
                reason: format!("HTTP {status}: {text}"),
            },
        }
    }

    /// Whether the server answers and takes the key: its health, then the trust socket
    /// of a session (which needs an ingest key), without sending any data.
    pub async fn probe(&self) -> Result<(), ServerError> {
        let unreachable = |reason: String| ServerError::Unreachable {
            base: self.server.base.clone(),
            reason,
        };
        let health = self
            .http
            .get(format!("{}/healthz", self.server.base))
            .send()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if !health.status().is_success() {
            return Err(unreachable(format!(
                "/healthz answered HTTP {}",
                health.status().as_u16()
            )));
        }
        match self.trust_socket("pointerprint-agent-check").await {
            Ok(mut socket) => {
                let _ = socket.close(None).await;
                Ok(())
            }
            Err(SocketError::Status(status))
                if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN =>
            {
                Err(ServerError::WrongKey {
                    base: self.server.base.clone(),
                    status: status.as_u16(),
                })
            }
            Err(e) => Err(unreachable(e.to_string())),
        }
    }

    /// Opens `GET /v1/sessions/{id}/stream` with the key in the Authorization header.
    pub async fn trust_socket(&self, session_id: &str) -> Result<Socket, SocketError> {
        let ws_base = self.server.base.replacen("http://", "ws://", 1);
        let url = format!(
            "{ws_base}/v1/sessions/{}/stream",
            utf8_percent_encode(session_id)
        );
        let mut request = url
            .into_client_request()
            .map_err(|e| SocketError::Other(e.to_string()))?;
        let auth = HeaderValue::from_str(&format!("Bearer {}", self.server.key))
            .map_err(|_| SocketError::Other("the key is not a valid header value".into()))?;
        request.headers_mut().insert("authorization", auth);
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(socket),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(SocketError::Status(response.status()))
            }
            Err(e) => Err(SocketError::Other(e.to_string())),
        }
    }
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("the trust socket was refused with HTTP {0}")]
    Status(StatusCode),
    #[error("{0}")]
    Other(String),
}

/// A `lock` the server pushed for a session.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Lock {
    pub trust: f64,
    pub actions: u64,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Update {
    Trust {},
    Lock(Lock),
    #[serde(other)]
    Other,
}

/// Reads trust updates until a `lock` (returned) or the socket ends (`None`).
pub async fn next_lock(socket: &mut Socket) -> Option<Lock> {
    while let Some(Ok(message)) = socket.next().await {
        let Ok(text) = message.to_text() else {
            continue;
        };
        match serde_json::from_str::<Update>(text) {
            Ok(Update::Lock(lock)) => return Some(lock),
            Ok(Update::Trust {}) => tracing::debug!(update = text, "trust"),
            Ok(Update::Other) | Err(_) => {}
        }
    }
    None
}

/// Percent-encodes everything but unreserved characters, for a path segment.
fn utf8_percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
