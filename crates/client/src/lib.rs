//! A typed async client of pointerprint's HTTP API: events, verification, users and
//! training, the audit log, settings, keys, the trust stream (WebSocket), health and
//! metrics. One client for the load generator, the integration tests and anyone
//! integrating the service, so the API's shape is written down once outside the server.
//!
//! Every call returns its answer as a type or a [`ClientError`] that carries the API's
//! error code and message with the HTTP status. [`Client::send_json`] is the one untyped
//! door, for tests that send what the typed calls would never build.

mod error;
mod stream;
mod types;

use std::time::Duration;

use pointerprint_core::Recording;
use pointerprint_formats::to_native;
use reqwest::Url;
use reqwest::header::CONTENT_TYPE;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use error::{ClientError, TransportKind};
pub use reqwest::Method;
pub use stream::TrustStream;
pub use types::{
    Ack, Batch, DecisionRecord, Erased, Health, KeyRecord, Label, LabelledSession, ModelSummary,
    NewKey, OpenSession, OpenedSession, Purpose, Role, Training, TrainingState, TrustUpdate, User,
    Verdict, VerifyRequest,
};

/// How long a `?wait=true` training call may take: the server itself waits up to five
/// minutes, then answers that the job is still running.
const TRAIN_WAIT_TIMEOUT: Duration = Duration::from_secs(3_600);

/// A node's API with one key. Cloning is cheap and shares the connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    key: Option<String>,
}

/// Options for [`Client::builder`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base: String,
    key: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Duration,
}

impl ClientBuilder {
    /// The API key sent as `Authorization: Bearer`.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// The longest a request may take, answer included (none by default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    pub fn build(self) -> Result<Client, ClientError> {
        let base = parse_base(&self.base)?;
        let mut http = reqwest::Client::builder()
            .tcp_nodelay(true)
            .connect_timeout(self.connect_timeout);
        if let Some(timeout) = self.timeout {
            http = http.timeout(timeout);
        }
        Ok(Client {
            http: http.build()?,
            base,
            key: self.key,
        })
    }
}

/// An `http(s)://host[:port][/prefix]` address, without a trailing slash.
fn parse_base(base: &str) -> Result<Url, ClientError> {
    let invalid = || ClientError::InvalidBase(base.to_string());
    let url = Url::parse(base.trim().trim_end_matches('/')).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(invalid());
    }
    Ok(url)
}

impl Client {
    /// A client of the node at `base` (e.g. `http://127.0.0.1:8080`), without a key.
    pub fn new(base: &str) -> Result<Client, ClientError> {
        Client::builder(base).build()
    }

    pub fn builder(base: &str) -> ClientBuilder {
        ClientBuilder {
            base: base.to_string(),
            key: None,
            timeout: None,
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// The same node and connections with another key.
    pub fn with_key(&self, key: impl Into<String>) -> Client {
        Client {
            key: Some(key.into()),
            ..self.clone()
        }
    }

    /// The node's address, without a trailing slash.
    pub fn base(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// The URL of an API path given as segments (each percent-encoded).
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("checked to be a base URL")
            .pop_if_empty()
            .extend(segments);
        url
    }

    fn request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        let request = self.http.request(method, url);
        match &self.key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let response = request.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        if !(200..300).contains(&status) {
            return Err(api_error(status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            status,
            detail: e.to_string(),
        })
    }

    async fn call_json<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        self.call(self.request(method, self.url(segments)).json(body))
            .await
    }

    /// Sends a JSON body that is already serialised (the load generator builds its bodies
    /// before the clock starts).
    async fn call_raw<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: String,
    ) -> Result<T, ClientError> {
        let request = self
            .request(Method::POST, self.url(segments))
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        self.call(request).await
    }

    // Ingest

    /// `POST /v1/events` (a session token, or an ingest key): stored whole or not at all.
    pub async fn post_events(&self, batch: &Batch<'_>) -> Result<Ack, ClientError> {
        self.call_json(Method::POST, &["v1", "events"], batch).await
    }

    /// `POST /v1/events` with a body serialised beforehand.
    pub async fn post_events_json(&self, body: String) -> Result<Ack, ClientError> {
        self.call_raw(&["v1", "events"], body).await
    }

    /// Posts a recording's events as consecutive batches of `batch_size` events, numbered
    /// from 0. Its screen is not sent: the events are taken as already in reference pixels.
    pub async fn post_recording(
        &self,
        user_id: &str,
        session_id: &str,
        recording: &Recording,
        batch_size: usize,
    ) -> Result<Vec<Ack>, ClientError> {
        let native = to_native(recording);
        let mut acks = Vec::new();
        for (seq, events) in native.events.chunks(batch_size.max(1)).enumerate() {
            let batch = Batch {
                user_id,
                session_id,
                seq: seq as u64,
                events,
                screen: None,
            };
            acks.push(self.post_events(&batch).await?);
        }
        Ok(acks)
    }

    // Verification

    /// `POST /v1/verify` (secret key).
    pub async fn verify(&self, request: &VerifyRequest<'_>) -> Result<Verdict, ClientError> {
        self.call_json(Method::POST, &["v1", "verify"], request)
            .await
    }

    /// Verifies what a stored session has sent so far.
    pub async fn verify_session(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<Verdict, ClientError> {
        self.verify(&VerifyRequest {
            user_id,
            session_id: Some(session_id),
            events: None,
            screen: None,
        })
        .await
    }

    /// `POST /v1/verify` with a body serialised beforehand.
    pub async fn verify_json(&self, body: String) -> Result<Verdict, ClientError> {
        self.call_raw(&["v1", "verify"], body).await
    }

    /// `GET /v1/decisions` (secret key): the audit log, newest first.
    pub async fn decisions(
        &self,
        user_id: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Vec<DecisionRecord>, ClientError> {
        #[derive(serde::Deserialize)]
        struct Decisions {
            decisions: Vec<DecisionRecord>,
        }
        let mut url = self.url(&["v1", "decisions"]);
        {
            let mut query = url.query_pairs_mut();
            if let Some(user_id) = user_id {
                query.append_pair("user_id", user_id);
            }
            if let Some(limit) = limit {
                query.append_pair("limit", &limit.to_string());
            }
        }
        let list: Decisions = self.call(self.request(Method::GET, url)).await?;
        Ok(list.decisions)
    }

    // Users and training

    /// `GET /v1/users` (secret key).
    pub async fn users(&self) -> Result<Vec<User>, ClientError> {
        #[derive(serde::Deserialize)]
        struct Users {
            users: Vec<User>,
        }
        let list: Users = self
            .call(self.request(Method::GET, self.url(&["v1", "users"])))
            .await?;
        Ok(list.users)
    }

    /// `GET /v1/users/{id}` (secret key); `None` for a user the node does not know.
    pub async fn user(&self, user_id: &str) -> Result<Option<User>, ClientError> {
        let request = self.request(Method::GET, self.url(&["v1", "users", user_id]));
        match self.call(request).await {
            Ok(user) => Ok(Some(user)),
            Err(e) if e.code() == Some("not_found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /v1/users/{id}/train` (secret key). With `wait`, answers once the model is
    /// stored ([`TrainingState::Done`]) or the server stopped waiting (`Running`).
    pub async fn train(&self, user_id: &str, wait: bool) -> Result<Training, ClientError> {
        let mut url = self.url(&["v1", "users", user_id, "train"]);
        let mut request = if wait {
            url.query_pairs_mut().append_pair("wait", "true");
            self.request(Method::POST, url).timeout(TRAIN_WAIT_TIMEOUT)
        } else {
            self.request(Method::POST, url)
        };
        request = request.json(&serde_json::json!({}));
        self.call(request).await
    }

    /// `POST /v1/users/{id}/reset` (secret key): enrolment starts over.
    pub async fn reset_user(&self, user_id: &str) -> Result<Erased, ClientError> {
        #[derive(serde::Deserialize)]
        struct Reset {
            reset: Erased,
        }
        let request = self.request(Method::POST, self.url(&["v1", "users", user_id, "reset"]));
        Ok(self.call::<Reset>(request).await?.reset)
    }

    /// `DELETE /v1/users/{id}` (secret key): everything about the user goes.
    pub async fn erase_user(&self, user_id: &str) -> Result<Erased, ClientError> {
        #[derive(serde::Deserialize)]
        struct Erasure {
            erased: Erased,
        }
        let request = self.request(Method::DELETE, self.url(&["v1", "users", user_id]));
        Ok(self.call::<Erasure>(request).await?.erased)
    }

    // Settings and keys

    /// `GET /v1/settings` (secret key). The settings travel as their JSON document, so
    /// this client never holds a stale copy of the policy's fields.
    pub async fn settings(&self) -> Result<Value, ClientError> {
        self.call(self.request(Method::GET, self.url(&["v1", "settings"])))
            .await
    }

    /// `PUT /v1/settings` (admin key): validated, stored, in force on every node.
    pub async fn put_settings(&self, settings: &Value) -> Result<Value, ClientError> {
        self.call_json(Method::PUT, &["v1", "settings"], settings)
            .await
    }

    /// `GET /v1/keys` (admin key).
    pub async fn keys(&self) -> Result<Vec<KeyRecord>, ClientError> {
        #[derive(serde::Deserialize)]
        struct Keys {
            keys: Vec<KeyRecord>,
        }
        let list: Keys = self
            .call(self.request(Method::GET, self.url(&["v1", "keys"])))
            .await?;
        Ok(list.keys)
    }

    /// `POST /v1/keys` (admin key): the new key is in the answer only.
    pub async fn create_key(&self, name: &str, role: Role) -> Result<NewKey, ClientError> {
        self.call_json(
            Method::POST,
            &["v1", "keys"],
            &serde_json::json!({"name": name, "role": role}),
        )
        .await
    }

    /// `DELETE /v1/keys/{id}` (admin key).
    pub async fn revoke_key(&self, id: i64) -> Result<(), ClientError> {
        let request = self.request(Method::DELETE, self.url(&["v1", "keys", &id.to_string()]));
        self.call::<Value>(request).await.map(drop)
    }

    // Collection sessions

    /// `POST /v1/sessions` (secret key): opens a session for a user; a collector sends
    /// its events (and opens its trust stream) with the returned token, e.g. through
    /// [`Client::with_key`].
    pub async fn open_session(
        &self,
        user_id: &str,
        purpose: Purpose,
        ttl_s: Option<u64>,
    ) -> Result<OpenedSession, ClientError> {
        let body = OpenSession {
            user_id,
            purpose,
            ttl_s,
        };
        self.call_json(Method::POST, &["v1", "sessions"], &body)
            .await
    }

    /// `POST /v1/sessions/{id}/feedback` (secret key): whether the session was the user's.
    pub async fn session_feedback(
        &self,
        session_id: &str,
        label: Label,
    ) -> Result<LabelledSession, ClientError> {
        let body = serde_json::json!({ "label": label });
        self.call_json(
            Method::POST,
            &["v1", "sessions", session_id, "feedback"],
            &body,
        )
        .await
    }

    // Continuous authentication

    /// `GET /v1/sessions/{id}/stream` (the session's token, or a secret key; an ingest
    /// key for a session sent with a key): the session's trust as it changes.
    pub async fn stream(&self, session_id: &str) -> Result<TrustStream, ClientError> {
        let mut url = self.url(&["v1", "sessions", session_id, "stream"]);
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .expect("http and ws URLs have the same shape");
        TrustStream::connect(url, self.key.as_deref()).await
    }

    // Operations

    /// `GET /healthz`: 200 only when the node's database answers.
    pub async fn health(&self) -> Result<Health, ClientError> {
        self.call(self.request(Method::GET, self.url(&["healthz"])))
            .await
    }

    /// `GET /metrics`: Prometheus text.
    pub async fn metrics(&self) -> Result<String, ClientError> {
        let response = self
            .request(Method::GET, self.url(&["metrics"]))
            .send()
            .await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        if status != 200 {
            return Err(api_error(status, &bytes));
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Any request to `path` (with its query), with an optional JSON body: the status and
    /// the answer as JSON, or as a JSON string when it is not JSON. Error statuses are
    /// answers here, not errors: for tests of what the API refuses.
    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), ClientError> {
        let url = Url::parse(&format!("{}{path}", self.base()))
            .map_err(|_| ClientError::InvalidBase(format!("{}{path}", self.base())))?;
        let mut request = self.request(method, url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }
}

/// An error status's body as the API's error, or as text when it is not.
fn api_error(status: u16, body: &[u8]) -> ClientError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let detail = parsed.as_ref().map(|v| &v["error"]);
    match detail.and_then(|d| Some((d["code"].as_str()?, d["message"].as_str()?))) {
        Some((code, message)) => ClientError::Api {
            status,
            code: Some(code.to_string()),
            message: message.to_string(),
        },
        None => ClientError::Api {
            status,
            code: None,
            message: String::from_utf8_lossy(body).chars().take(200).collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_are_http_urls_without_a_trailing_slash() {
        let client = Client::new("http://127.0.0.1:8080/").unwrap();
        assert_eq!(client.base(), "http://127.0.0.1:8080");
        assert_eq!(
            client.url(&["v1", "users", "a b/c"]).as_str(),
            "http://127.0.0.1:8080/v1/users/a%20b%2Fc"
        );
        let prefixed = Client::new("https://example.test/pp").unwrap();
        assert_eq!(
            prefixed.url(&["healthz"]).as_str(),
            "https://example.test/pp/healthz"
        );
        for bad in ["ftp://a", "127.0.0.1:8080", "", "mailto:x@y"] {
            assert!(
                matches!(Client::new(bad), Err(ClientError::InvalidBase(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn error_bodies_become_api_errors() {
        let e = api_error(
            400,
            br#"{"error":{"code":"invalid_event","message":"t goes back"}}"#,
        );
        assert_eq!((e.status(), e.code()), (Some(400), Some("invalid_event")));
        assert_eq!(e.to_string(), "HTTP 400 invalid_event: t goes back");
        assert_eq!(e.kind(), "HTTP 400");
        let e = api_error(502, b"<html>bad gateway</html>");
        assert_eq!((e.status(), e.code()), (Some(502), None));
        assert_eq!(e.to_string(), "HTTP 502: <html>bad gateway</html>");
    }
}
