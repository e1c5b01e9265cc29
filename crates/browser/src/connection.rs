//! One DevTools WebSocket, shared by the browser and its pages: a writer task sends
//! commands in order, a reader task resolves replies by id and records events by session.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::BrowserError;

type Reply = Result<Value, BrowserError>;

/// Replies not yet received, and every event seen so far, keyed by session id ("" is
/// the browser itself). Events are kept so a waiter never misses one that came early.
#[derive(Default)]
struct State {
    pending: HashMap<u64, (String, oneshot::Sender<Reply>)>,
    events: HashMap<String, Vec<Value>>,
    closed: bool,
}

pub(crate) struct Connection {
    outgoing: mpsc::UnboundedSender<Message>,
    state: Arc<Mutex<State>>,
    event_arrived: Arc<Notify>,
    next_id: AtomicU64,
    tasks: [JoinHandle<()>; 2],
}

impl Connection {
    pub(crate) async fn connect(url: &str) -> Result<Self, BrowserError> {
        let (socket, _) = tokio_tungstenite::connect_async(url).await?;
        let (mut sink, mut stream) = socket.split();
        let (outgoing, mut queue) = mpsc::unbounded_channel::<Message>();
        let writer = tokio::spawn(async move {
            while let Some(message) = queue.recv().await {
                if sink.send(message).await.is_err() {
                    break;
                }
            }
        });
        let state = Arc::new(Mutex::new(State::default()));
        let event_arrived = Arc::new(Notify::new());
        let reader = {
            let state = state.clone();
            let event_arrived = event_arrived.clone();
            tokio::spawn(async move {
                while let Some(Ok(message)) = stream.next().await {
                    if let Message::Text(text) = message
                        && let Ok(value) = serde_json::from_str::<Value>(&text)
                    {
                        dispatch(&state, &event_arrived, value);
                    }
                }
                let mut state = state.lock().unwrap();
                state.closed = true;
                for (_, (_, reply)) in state.pending.drain() {
                    let _ = reply.send(Err(BrowserError::Closed));
                }
                drop(state);
                event_arrived.notify_waiters();
            })
        };
        Ok(Self {
            outgoing,
            state,
            event_arrived,
            next_id: AtomicU64::new(1),
            tasks: [reader, writer],
        })
    }

    /// Sends one command and waits for its reply.
    pub(crate) async fn call(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, BrowserError> {
        let mut replies = self.call_pipelined(session, [(method, params)]).await?;
        Ok(replies.remove(0))
    }

    /// Writes every command before awaiting any reply, so the browser handles them
    /// back to back instead of one round trip each. Replies come back in command order.
    pub(crate) async fn call_pipelined<'a>(
        &self,
        session: Option<&str>,
        commands: impl IntoIterator<Item = (&'a str, Value)>,
    ) -> Result<Vec<Value>, BrowserError> {
        let mut receivers = Vec::new();
        for (method, params) in commands {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            let (reply, receiver) = oneshot::channel();
            {
                let mut state = self.state.lock().unwrap();
                if state.closed {
                    return Err(BrowserError::Closed);
                }
                state.pending.insert(id, (method.to_owned(), reply));
            }
            let mut command = json!({ "id": id, "method": method, "params": params });
            if let Some(session) = session {
                command["sessionId"] = json!(session);
            }
            self.outgoing
                .send(Message::text(command.to_string()))
                .map_err(|_| BrowserError::Closed)?;
            receivers.push(receiver);
        }
        let mut replies = Vec::with_capacity(receivers.len());
        for receiver in receivers {
            replies.push(receiver.await.map_err(|_| BrowserError::Closed)??);
        }
        Ok(replies)
    }

    /// How many events the session has received so far.
    pub(crate) fn event_count(&self, session: &str) -> usize {
        let state = self.state.lock().unwrap();
        state.events.get(session).map_or(0, Vec::len)
    }

    /// The session's events whose method is one of `methods`, oldest first.
    pub(crate) fn events(&self, session: &str, methods: &[&str]) -> Vec<Value> {
        let state = self.state.lock().unwrap();
        let Some(events) = state.events.get(session) else {
            return Vec::new();
        };
        events
            .iter()
            .filter(|event| methods.contains(&event["method"].as_str().unwrap_or("")))
            .cloned()
            .collect()
    }

    /// Waits for the first `method` event of the session at or after index `since`.
    pub(crate) async fn wait_for_event(
        &self,
        session: &str,
        method: &str,
        since: usize,
        timeout: Duration,
    ) -> Result<Value, BrowserError> {
        let search = async {
            loop {
                let notified = self.event_arrived.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                {
                    let state = self.state.lock().unwrap();
                    let found = state.events.get(session).and_then(|events| {
                        events
                            .iter()
                            .skip(since)
                            .find(|event| event["method"] == method)
                    });
                    if let Some(event) = found {
                        return Ok(event.clone());
                    }
                    if state.closed {
                        return Err(BrowserError::Closed);
                    }
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, search)
            .await
            .map_err(|_| BrowserError::Timeout(timeout, format!("event {method}")))?
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn dispatch(state: &Mutex<State>, event_arrived: &Notify, message: Value) {
    let mut state = state.lock().unwrap();
    if let Some(id) = message["id"].as_u64() {
        if let Some((method, reply)) = state.pending.remove(&id) {
            let result = match message.get("error") {
                Some(error) => {
                    let mut text = error["message"].as_str().unwrap_or("unknown").to_owned();
                    if let Some(data) = error["data"].as_str() {
                        text = format!("{text}: {data}");
                    }
                    Err(BrowserError::Protocol {
                        method,
                        message: text,
                    })
                }
                None => Ok(message["result"].clone()),
            };
            let _ = reply.send(result);
        }
    } else if message.get("method").is_some() {
        let session = message["sessionId"].as_str().unwrap_or("").to_owned();
        state.events.entry(session).or_default().push(message);
        drop(state);
        event_arrived.notify_waiters();
    }
}
