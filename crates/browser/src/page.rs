//! One tab, driven through its own flattened DevTools session.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::connection::Connection;
use crate::{BrowserError, MouseInput};

/// How long `goto` waits for the load event.
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// A tab. Cheap to keep around; it lives as long as its `Browser`.
pub struct Page {
    connection: Arc<Connection>,
    session: String,
}

impl Page {
    pub(crate) async fn attach(
        connection: Arc<Connection>,
        session: String,
        (width, height): (u32, u32),
    ) -> Result<Self, BrowserError> {
        let viewport = json!({
            "width": width,
            "height": height,
            "deviceScaleFactor": 1,
            "mobile": false,
        });
        let setup = [
            ("Page.enable", json!({})),
            ("Runtime.enable", json!({})),
            ("Emulation.setDeviceMetricsOverride", viewport),
        ];
        connection.call_pipelined(Some(&session), setup).await?;
        Ok(Self {
            connection,
            session,
        })
    }

    async fn call(&self, method: &str, params: Value) -> Result<Value, BrowserError> {
        self.connection
            .call(Some(&self.session), method, params)
            .await
    }

    /// Navigates and waits for the page's load event.
    pub async fn goto(&self, url: &str) -> Result<(), BrowserError> {
        let since = self.connection.event_count(&self.session);
        let reply = self.call("Page.navigate", json!({ "url": url })).await?;
        if let Some(error) = reply["errorText"].as_str() {
            return Err(BrowserError::Protocol {
                method: "Page.navigate".into(),
                message: format!("{url}: {error}"),
            });
        }
        self.connection
            .wait_for_event(&self.session, "Page.loadEventFired", since, LOAD_TIMEOUT)
            .await?;
        Ok(())
    }

    /// Runs `js` in every document this page loads from now on, before the document's own
    /// scripts (e.g. to make `Math.random` repeatable).
    pub async fn add_init_script(&self, js: &str) -> Result<(), BrowserError> {
        self.call(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": js }),
        )
        .await?;
        Ok(())
    }

    /// Evaluates `js` in the page, awaits it if it is a promise, and returns its value as
    /// JSON (`null` for `undefined`). A thrown exception becomes `BrowserError::Script`.
    pub async fn evaluate(&self, js: &str) -> Result<Value, BrowserError> {
        let params = json!({
            "expression": js,
            "awaitPromise": true,
            "returnByValue": true,
            "userGesture": true,
        });
        let reply = self.call("Runtime.evaluate", params).await?;
        if let Some(details) = reply.get("exceptionDetails") {
            let text = details["exception"]["description"]
                .as_str()
                .or(details["text"].as_str())
                .unwrap_or("unknown exception");
            return Err(BrowserError::Script(text.to_owned()));
        }
        Ok(reply["result"]["value"].clone())
    }

    /// Polls the JavaScript condition every 50 ms until it is truthy.
    pub async fn wait_for(&self, condition: &str, timeout: Duration) -> Result<(), BrowserError> {
        let started = Instant::now();
        let check = format!("Boolean({condition})");
        while self.evaluate(&check).await? != Value::Bool(true) {
            if started.elapsed() > timeout {
                return Err(BrowserError::Timeout(timeout, condition.to_owned()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Writes a PNG of the viewport to `path`.
    pub async fn screenshot(&self, path: &Path) -> Result<(), BrowserError> {
        let reply = self
            .call("Page.captureScreenshot", json!({ "format": "png" }))
            .await?;
        let png = reply["data"]
            .as_str()
            .and_then(|data| base64::engine::general_purpose::STANDARD.decode(data).ok())
            .ok_or_else(|| BrowserError::UnexpectedReply {
                method: "Page.captureScreenshot".into(),
                reply: reply.to_string().chars().take(200).collect(),
            })?;
        std::fs::write(path, png)?;
        Ok(())
    }

    /// Types `text` into the focused element, as an input method would (focus it first,
    /// e.g. `page.evaluate("document.querySelector('#name').focus()")`).
    pub async fn type_text(&self, text: &str) -> Result<(), BrowserError> {
        self.call("Input.insertText", json!({ "text": text }))
            .await?;
        Ok(())
    }

    /// Sends the inputs as `Input.dispatchMouseEvent` commands, all written before any
    /// reply is awaited, so Chromium receives them back to back.
    pub async fn dispatch_mouse(&self, inputs: &[MouseInput]) -> Result<(), BrowserError> {
        let commands = inputs
            .iter()
            .map(|input| ("Input.dispatchMouseEvent", input.to_params()));
        self.connection
            .call_pipelined(Some(&self.session), commands)
            .await?;
        Ok(())
    }

    /// Console messages and uncaught exceptions so far, one line each, for debugging a
    /// failing test (`log: hello`, `error: ...`, `exception: ...`).
    pub fn console(&self) -> Vec<String> {
        let methods = ["Runtime.consoleAPICalled", "Runtime.exceptionThrown"];
        self.connection
            .events(&self.session, &methods)
            .iter()
            .map(|event| describe_console_event(&event["method"], &event["params"]))
            .collect()
    }
}

fn describe_console_event(method: &Value, params: &Value) -> String {
    if method == "Runtime.exceptionThrown" {
        let details = &params["exceptionDetails"];
        let text = details["exception"]["description"]
            .as_str()
            .or(details["text"].as_str())
            .unwrap_or("");
        return format!("exception: {text}");
    }
    let args: Vec<String> = params["args"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|arg| match (&arg["value"], arg["description"].as_str()) {
            (Value::String(text), _) => text.clone(),
            (Value::Null, Some(description)) => description.to_owned(),
            (value, _) => value.to_string(),
        })
        .collect();
    format!(
        "{}: {}",
        params["type"].as_str().unwrap_or("log"),
        args.join(" ")
    )
}
