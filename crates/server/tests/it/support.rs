//! A server on 127.0.0.1:0 with a fresh data folder each, and a client for it.

use std::path::Path;

use pointerprint_core::Recording;
use pointerprint_formats::to_native;
use pointerprint_server::app::keys::{hash_token, new_key};
use pointerprint_server::{Application, Config};
use pointerprint_storage::Role;
use pointerprint_synth::{MotorStyle, session};
use serde_json::{Value, json};

pub struct TestApp {
    pub base: String,
    pub config: Config,
    pub client: reqwest::Client,
    pub keys: Keys,
    pub dir: tempfile::TempDir,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

#[derive(Clone)]
pub struct Keys {
    pub ingest: String,
    pub secret: String,
    pub admin: String,
}

pub fn config(dir: &Path) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        max_batch_events: 1_000,
        auto_train_events: u64::MAX,
        demo: false,
        ..Config::default()
    }
}

pub async fn create_keys(dir: &Path) -> Keys {
    let store = pointerprint_server::startup::open_store(&config(dir))
        .await
        .unwrap();
    let make = async |role| {
        let key = new_key(role);
        store
            .create_key("test", role, &hash_token(&key))
            .await
            .unwrap();
        key
    };
    Keys {
        ingest: make(Role::Ingest).await,
        secret: make(Role::Secret).await,
        admin: make(Role::Admin).await,
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A server whose configuration `adjust` changes from the tests' default.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let keys = create_keys(dir.path()).await;
        let mut config = config(dir.path());
        adjust(&mut config);
        Self::start(dir, keys, config).await
    }

    pub async fn start(dir: tempfile::TempDir, keys: Keys, config: Config) -> Self {
        let app = Application::build(config.clone()).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        TestApp {
            base,
            client: reqwest::Client::new(),
            keys,
            config,
            dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub async fn restart(mut self) -> Self {
        self.stop.take().unwrap().send(()).unwrap();
        self.task.take().unwrap().await.unwrap().unwrap();
        let (keys, config) = (self.keys.clone(), self.config.clone());
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Self::start(dir, keys, config).await
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(key), Some(body))
            .await
    }

    pub async fn get(&self, path: &str, key: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, Some(key), None).await
    }

    /// Posts a recording as batches of `size` events; returns the number of batches.
    pub async fn send_session(
        &self,
        user: &str,
        session_id: &str,
        recording: &Recording,
        size: usize,
    ) -> usize {
        let native = to_native(recording);
        let events = serde_json::to_value(&native.events).unwrap();
        let events = events.as_array().unwrap();
        for (seq, chunk) in events.chunks(size).enumerate() {
            let body =
                json!({"user_id": user, "session_id": session_id, "seq": seq, "events": chunk});
            let (status, reply) = self.post("/v1/events", &self.keys.ingest, &body).await;
            assert_eq!(status, 202, "{reply}");
            assert_eq!(reply["accepted"], chunk.len());
        }
        events.len().div_ceil(size)
    }
}

pub fn style(i: u64) -> MotorStyle {
    MotorStyle::from_seed(40 + i)
}

/// Enrols `n` synthetic users with three sessions each and trains them all.
pub async fn enrolled(app: &TestApp, n: u64) {
    for u in 0..n {
        for s in 0..3 {
            let rec = session(&style(u), 1000 * u + s, 120);
            app.send_session(&format!("user{u}"), &format!("enrol-{u}-{s}"), &rec, 500)
                .await;
        }
    }
    for u in 0..n {
        let (status, reply) = app
            .post(
                &format!("/v1/users/user{u}/train?wait=true"),
                &app.keys.secret,
                &json!({}),
            )
            .await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply["user"]["enrolled"], true);
    }
}
