//! A server on 127.0.0.1:0 with a fresh data folder each, and a client for it.

use std::path::Path;

use pointerprint_client::{Client, Label, Purpose, TrainingState};
use pointerprint_core::Recording;
use pointerprint_server::app::keys::{hash_token, new_key};
use pointerprint_server::{Application, Config};
use pointerprint_storage::Role;
use pointerprint_synth::{MotorStyle, session};
use serde_json::Value;

pub struct TestApp {
    pub base: String,
    pub config: Config,
    /// The API client, without a key ([`TestApp::api`] gives one with a key).
    pub api: Client,
    /// Plain HTTP, for what is not the JSON API (pages, preflights, malformed bodies).
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
            api: Client::new(&base).unwrap(),
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

    /// The API client with `key`.
    pub fn api(&self, key: &str) -> Client {
        self.api.with_key(key)
    }

    /// Any request: the status and the answer (JSON, or a JSON string when it is not).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let api = match key {
            Some(key) => self.api(key),
            None => self.api.clone(),
        };
        api.send_json(method, path, body).await.unwrap()
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
        let acks = self
            .api(&self.keys.ingest)
            .post_recording(user, session_id, recording, size)
            .await
            .unwrap();
        let chunks: Vec<usize> = recording.events.chunks(size).map(<[_]>::len).collect();
        for (ack, events) in acks.iter().zip(&chunks) {
            assert_eq!(ack.accepted as usize, *events, "{ack:?}");
        }
        assert_eq!(acks.len(), chunks.len());
        acks.len()
    }

    /// Sends a session with the ingest key, as a trusted collector does, and confirms it
    /// with the backend's `genuine` feedback, so that it trains the user's model.
    pub async fn send_enrolment(
        &self,
        user: &str,
        session_id: &str,
        recording: &Recording,
        size: usize,
    ) {
        self.send_session(user, session_id, recording, size).await;
        let labelled = self
            .api(&self.keys.secret)
            .session_feedback(session_id, Label::Genuine)
            .await
            .unwrap();
        assert!(labelled.trains, "{labelled:?}");
    }

    /// Opens a session for `user` with the secret key, as a site's backend does, and sends
    /// a recording with its token, as a browser does; returns the session's id and token.
    pub async fn send_with_token(
        &self,
        user: &str,
        purpose: Purpose,
        recording: &Recording,
        size: usize,
    ) -> (String, String) {
        let opened = self
            .api(&self.keys.secret)
            .open_session(user, purpose, None)
            .await
            .unwrap();
        self.api(&opened.token)
            .post_recording(user, &opened.session_id, recording, size)
            .await
            .unwrap();
        (opened.session_id, opened.token)
    }
}

pub fn style(i: u64) -> MotorStyle {
    MotorStyle::from_seed(40 + i)
}

/// Enrols `n` synthetic users with three confirmed sessions each and trains them all.
pub async fn enrolled(app: &TestApp, n: u64) {
    for u in 0..n {
        for s in 0..3 {
            let rec = session(&style(u), 1000 * u + s, 120);
            app.send_enrolment(&format!("user{u}"), &format!("enrol-{u}-{s}"), &rec, 500)
                .await;
        }
    }
    for u in 0..n {
        let training = app
            .api(&app.keys.secret)
            .train(&format!("user{u}"), true)
            .await
            .unwrap();
        assert_eq!(training.state, TrainingState::Done, "{training:?}");
        assert!(training.user.is_some_and(|user| user.enrolled));
    }
}
