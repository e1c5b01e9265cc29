//! The trust stream of a continuous session: a WebSocket the node pushes updates on.

use futures_util::StreamExt;
use reqwest::Url;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::{ClientError, TrustUpdate};

/// An open trust stream; [`TrustStream::next`] waits for the next update.
#[derive(Debug)]
pub struct TrustStream {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

impl TrustStream {
    pub(crate) async fn connect(url: Url, key: Option<&str>) -> Result<TrustStream, ClientError> {
        let mut request = url.as_str().into_client_request()?;
        if let Some(key) = key {
            let value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                ClientError::InvalidBase("a key that is not a header value".to_string())
            })?;
            request.headers_mut().insert("authorization", value);
        }
        // A refused upgrade is the API's error answer, with its status and code.
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| match e {
                tokio_tungstenite::tungstenite::Error::Http(response) => crate::api_error(
                    response.status().as_u16(),
                    response.body().as_deref().unwrap_or_default(),
                ),
                e => e.into(),
            })?;
        Ok(TrustStream { socket })
    }

    /// The next update; `None` once the node closed the stream.
    pub async fn next(&mut self) -> Option<Result<TrustUpdate, ClientError>> {
        loop {
            match self.socket.next().await? {
                Ok(Message::Text(text)) => {
                    return Some(serde_json::from_str(text.as_str()).map_err(|e| {
                        ClientError::Decode {
                            status: 101,
                            detail: format!("{e}: {}", text.as_str()),
                        }
                    }));
                }
                Ok(Message::Close(_)) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(e.into())),
            }
        }
    }

    /// Closes the stream politely.
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.socket.close(None).await?;
        Ok(())
    }
}
