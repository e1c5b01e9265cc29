//! The service over real sockets: a server on 127.0.0.1:0 with a fresh data folder each.

use std::path::Path;

use pointerprint_core::Recording;
use pointerprint_formats::to_native;
use pointerprint_server::{Application, Config, hash_key, new_key};
use pointerprint_storage::Role;
use pointerprint_synth::{MotorStyle, session};
use serde_json::{Value, json};

struct TestApp {
    base: String,
    config: Config,
    client: reqwest::Client,
    keys: Keys,
    dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

#[derive(Clone)]
struct Keys {
    ingest: String,
    secret: String,
    admin: String,
}

fn config(dir: &Path) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        max_batch_events: 1_000,
        auto_train_events: u64::MAX,
        ..Config::default()
    }
}

async fn create_keys(dir: &Path) -> Keys {
    let store = pointerprint_server::startup::open_store(&config(dir))
        .await
        .unwrap();
    let make = async |role| {
        let key = new_key(role);
        store
            .create_key("test", role, &hash_key(&key))
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
    async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A server whose configuration `adjust` changes from the tests' default.
    async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let keys = create_keys(dir.path()).await;
        let mut config = config(dir.path());
        adjust(&mut config);
        Self::start(dir, keys, config).await
    }

    async fn start(dir: tempfile::TempDir, keys: Keys, config: Config) -> Self {
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

    async fn restart(mut self) -> Self {
        self.stop.take().unwrap().send(()).unwrap();
        self.task.take().unwrap().await.unwrap().unwrap();
        let (keys, config) = (self.keys.clone(), self.config.clone());
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Self::start(dir, keys, config).await
    }

    async fn call(
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

    async fn post(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(key), Some(body))
            .await
    }

    async fn get(&self, path: &str, key: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, Some(key), None).await
    }

    /// Posts a recording as batches of `size` events; returns the number of batches.
    async fn send_session(
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

fn style(i: u64) -> MotorStyle {
    MotorStyle::from_seed(40 + i)
}

/// Enrols `n` synthetic users with three sessions each and trains them all.
async fn enrolled(app: &TestApp, n: u64) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genuine_users_are_accepted_and_others_rejected() {
    let app = TestApp::spawn().await;
    enrolled(&app, 4).await;
    let (mut accepted, mut rejected) = (0, 0);
    for claimed in 0..4u64 {
        for actor in 0..4u64 {
            let rec = session(&style(actor), 9_000 + 10 * claimed + actor, 40);
            let events = serde_json::to_value(to_native(&rec).events).unwrap();
            let body = json!({"user_id": format!("user{claimed}"), "events": events});
            let (status, verdict) = app.post("/v1/verify", &app.keys.secret, &body).await;
            assert_eq!(status, 200, "{verdict}");
            let decision = verdict["decision"].as_str().unwrap();
            if claimed == actor && decision == "accept" {
                accepted += 1;
            }
            if claimed != actor && decision == "reject" {
                rejected += 1;
            }
            assert!(verdict["reasons"].as_array().is_some_and(|r| !r.is_empty()));
        }
    }
    assert!(accepted >= 3, "genuine accepted {accepted}/4");
    assert!(rejected >= 11, "impostors rejected {rejected}/12");

    // A stored session verifies by id, and every decision is in the audit log.
    let rec = session(&style(2), 777, 40);
    app.send_session("user2", "live-2", &rec, 100).await;
    let (status, verdict) = app
        .post(
            "/v1/verify",
            &app.keys.secret,
            &json!({"user_id": "user2", "session_id": "live-2"}),
        )
        .await;
    assert_eq!(status, 200, "{verdict}");
    assert_eq!(verdict["decision"], "accept");
    let (_, log) = app
        .get("/v1/decisions?user_id=user2&limit=3", &app.keys.secret)
        .await;
    let log = log["decisions"].as_array().unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0]["session_id"], "live-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_error_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let ingest = app.keys.ingest.clone();
    let ok_event = json!({"type": "move", "t": 1.0, "x": 1, "y": 2});
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"user_id": "u", "session_id": "s", "seq": 0, "events": [{"type": "move", "t": "soon", "x": 1, "y": 2}]}),
            400,
            "invalid_json",
        ),
        (
            json!({"user_id": "u", "session_id": "s", "seq": 0, "events": [{"type": "move", "t": -5, "x": 1, "y": 2}]}),
            400,
            "invalid_json",
        ),
        (
            json!({"user_id": "u", "session_id": "s", "seq": 0, "events": [{"type": "teleport", "t": 1, "x": 1, "y": 2}]}),
            400,
            "invalid_json",
        ),
        (
            json!({"user_id": "u", "session_id": "s", "seq": -1, "events": [ok_event]}),
            400,
            "invalid_json",
        ),
        (
            json!({"user_id": "u", "session_id": "s", "seq": 0, "events": [{"type": "move", "t": 1, "x": 1e300, "y": 2}]}),
            400,
            "invalid_event",
        ),
        (
            json!({"user_id": "u", "session_id": "s", "seq": 0, "events": [{"type": "move", "t": 9, "x": 1, "y": 2}, ok_event]}),
            400,
            "invalid_event",
        ),
        (
            json!({"user_id": "x".repeat(129), "session_id": "s", "seq": 0, "events": [ok_event]}),
            400,
            "invalid_id",
        ),
        (
            json!({"user_id": "a\u{7}b", "session_id": "s", "seq": 0, "events": [ok_event]}),
            400,
            "invalid_id",
        ),
        (
            json!({"user_id": "u", "session_id": "", "seq": 0, "events": [ok_event]}),
            400,
            "invalid_id",
        ),
        (
            json!({"user_id": "u", "session_id": "s", "seq": 0, "events": vec![ok_event.clone(); 1001]}),
            413,
            "too_many_events",
        ),
    ];
    for (body, status, code) in cases {
        let (got, reply) = app.post("/v1/events", &ingest, &body).await;
        assert_eq!(
            (got, reply["error"]["code"].as_str()),
            (status, Some(code)),
            "{reply}"
        );
        assert!(!reply["error"]["message"].as_str().unwrap().is_empty());
    }
    // Malformed JSON and an oversized body.
    for (body, status, code) in [
        ("{\"user_id\": ", 400, "invalid_json"),
        ("[1,2", 400, "invalid_json"),
    ] {
        let resp = app
            .client
            .post(format!("{}/v1/events", app.base))
            .bearer_auth(&ingest)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status);
        let reply: Value = resp.json().await.unwrap();
        assert_eq!(reply["error"]["code"], code);
    }
    let huge = "x".repeat(1100 * 1024);
    let resp = app
        .client
        .post(format!("{}/v1/events", app.base))
        .bearer_auth(&ingest)
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    let reply: Value = resp.json().await.unwrap();
    assert_eq!(reply["error"]["code"], "body_too_large");

    let (status, users) = app.get("/v1/users", &app.keys.secret).await;
    assert_eq!(status, 200);
    assert_eq!(
        users["users"].as_array().unwrap().len(),
        0,
        "nothing may be stored: {users}"
    );
    // The server still serves.
    let (status, _) = app.call(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_roles_are_enforced() {
    let app = TestApp::spawn().await;
    let (status, reply) = app
        .call(reqwest::Method::GET, "/v1/users", None, None)
        .await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _) = app.get("/v1/users", "pp_secret_not-a-key").await;
    assert_eq!(status, 401);
    let (status, reply) = app.get("/v1/users", &app.keys.ingest).await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, _) = app.get("/v1/users", &app.keys.secret).await;
    assert_eq!(status, 200);
    let (status, _) = app
        .call(
            reqwest::Method::PUT,
            "/v1/settings",
            Some(&app.keys.secret),
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, 403);

    // An admin makes a key, it works, is revoked, and no longer works.
    let (status, made) = app
        .post(
            "/v1/keys",
            &app.keys.admin,
            &json!({"name": "web", "role": "secret"}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let key = made["key"].as_str().unwrap().to_string();
    assert_eq!(app.get("/v1/users", &key).await.0, 200);
    let id = made["record"]["id"].as_i64().unwrap();
    let (status, _) = app
        .call(
            reqwest::Method::DELETE,
            &format!("/v1/keys/{id}"),
            Some(&app.keys.admin),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, reply) = app.get("/v1/users", &key).await;
    assert_eq!(status, 401, "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_erasure_restart_and_encryption() {
    let app = TestApp::spawn().await;
    let marker: f64 = 987_654.25;
    let body = json!({"user_id": "alice", "session_id": "s1", "seq": 0,
        "events": [{"type": "move", "t": 1.0, "x": marker, "y": 5.5}, {"type": "move", "t": 2.0, "x": 3, "y": 4}]});
    for _ in 0..2 {
        let (status, reply) = app.post("/v1/events", &app.keys.ingest, &body).await;
        assert_eq!(status, 202, "{reply}");
    }
    let (_, user) = app.get("/v1/users/alice", &app.keys.secret).await;
    assert_eq!(user["events"], 2, "a repeated batch is stored once: {user}");
    assert_eq!(user["enrolled"], false);

    // The database holds no plaintext coordinates.
    for entry in std::fs::read_dir(app.dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(6).any(|w| w == b"987654"));
        assert!(!bytes.windows(8).any(|w| w == marker.to_le_bytes()));
    }

    // Everything survives a restart on the same folder.
    let app = app.restart().await;
    let (status, user) = app.get("/v1/users/alice", &app.keys.secret).await;
    assert_eq!((status, user["events"].as_u64()), (200, Some(2)), "{user}");

    let (status, erased) = app
        .call(
            reqwest::Method::DELETE,
            "/v1/users/alice",
            Some(&app.keys.secret),
            None,
        )
        .await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["erased"]["events"], 2);
    assert_eq!(erased["erased"]["batches"], 1);
    let (status, _) = app.get("/v1/users/alice", &app.keys.secret).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extension_endpoint_accepts_the_original_payload_with_a_key_parameter() {
    let app = TestApp::spawn().await;
    let url = format!(
        "{}/save-mouse-data?user_id=bob&session_id=ext1&key={}",
        app.base, app.keys.ingest
    );
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", "chrome-extension://abcdef")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert!(
        preflight
            .headers()
            .contains_key("access-control-allow-origin")
    );
    let payload = json!([
        {"eventType": "mousemove", "x": 10, "y": 20, "timestamp": 1_700_000_000_000u64, "button": 0, "altKey": false, "ctrlKey": false, "shiftKey": false},
        {"eventType": "click", "x": 11, "y": 21, "timestamp": 1_700_000_000_100u64, "button": 0},
        {"eventType": "scroll", "scrollX": 0, "scrollY": 120, "timestamp": 1_700_000_000_200u64}
    ]);
    let resp = app.client.post(&url).json(&payload).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    let (_, user) = app.get("/v1/users/bob", &app.keys.secret).await;
    assert_eq!(user["events"], 4, "{user}");
    let bad = app
        .client
        .post(&url)
        .json(&json!([{"eventType": "keydown", "timestamp": 1}]))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let anonymous = format!("{}/save-mouse-data?user_id=bob&session_id=ext2", app.base);
    assert_eq!(
        app.client
            .post(&anonymous)
            .json(&payload)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_validated_and_take_effect() {
    let app = TestApp::spawn().await;
    let (status, settings) = app.get("/v1/settings", &app.keys.secret).await;
    assert_eq!(status, 200);
    assert_eq!(settings["threshold"]["target_far"], 0.01);
    let mut changed = settings.clone();
    changed["threshold"] = json!({"fixed": 1.5});
    let (status, reply) = app
        .call(
            reqwest::Method::PUT,
            "/v1/settings",
            Some(&app.keys.admin),
            Some(&changed),
        )
        .await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (400, Some("invalid_settings")),
        "{reply}"
    );
    changed["threshold"] = json!({"fixed": 1.0});
    changed["retention_days"] = json!(30);
    let (status, _) = app
        .call(
            reqwest::Method::PUT,
            "/v1/settings",
            Some(&app.keys.admin),
            Some(&changed),
        )
        .await;
    assert_eq!(status, 200);
    let app = app.restart().await;
    let (_, settings) = app.get("/v1/settings", &app.keys.secret).await;
    assert_eq!(settings["threshold"]["fixed"], 1.0);
    assert_eq!(settings["retention_days"], 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continuous_session_locks_out_a_stranger() {
    use futures_util::StreamExt;
    let app = TestApp::spawn().await;
    enrolled(&app, 3).await;
    let url = format!(
        "{}/v1/sessions/takeover/stream?key={}",
        app.base.replace("http", "ws"),
        app.keys.ingest
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    // The owner works for a while, then someone else takes the mouse.
    let owner = session(&style(0), 4242, 20);
    app.send_session("user0", "takeover", &owner, 400).await;
    let stranger = session(&style(1), 4343, 60);
    let shifted = Recording {
        events: stranger
            .events
            .iter()
            .map(|e| {
                let mut e = *e;
                e.t += owner.events.last().unwrap().t + 1000.0;
                e
            })
            .collect(),
        screen: stranger.screen,
    };
    let native = serde_json::to_value(to_native(&shifted).events).unwrap();
    for (i, chunk) in native.as_array().unwrap().chunks(100).enumerate() {
        let body =
            json!({"user_id": "user0", "session_id": "takeover", "seq": 1000 + i, "events": chunk});
        assert_eq!(app.post("/v1/events", &app.keys.ingest, &body).await.0, 202);
    }
    let mut locked = false;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, socket.next()).await {
        let update: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        assert!(update["trust"].as_f64().is_some(), "{update}");
        if update["type"] == "lock" {
            locked = true;
            break;
        }
    }
    assert!(locked, "the stranger was never locked out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_endpoints_answer() {
    let app = TestApp::spawn().await;
    let (status, doc) = app
        .call(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/v1/events",
        "/save-mouse-data",
        "/v1/verify",
        "/v1/users/{user_id}",
        "/v1/settings",
        "/v1/decisions",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"]["Verdict"].is_object());
    let (status, health) = app.call(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    // Metrics count what was ingested.
    let body = json!({"user_id": "m", "session_id": "m1", "seq": 0, "events": [{"type": "move", "t": 1, "x": 1, "y": 1}]});
    assert_eq!(app.post("/v1/events", &app.keys.ingest, &body).await.0, 202);
    let (status, metrics) = app.call(reqwest::Method::GET, "/metrics", None, None).await;
    assert_eq!(status, 200);
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains("pointerprint_events_ingested_total"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_trained_automatically_once_they_have_enough_events() {
    let app = TestApp::spawn_with(|c| c.auto_train_events = 3_000).await;
    // A second user makes a background population.
    for u in 0..2 {
        let rec = session(&style(u), 50 + u, 200);
        app.send_session(&format!("auto{u}"), &format!("auto-{u}"), &rec, 500)
            .await;
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (_, user) = app.get("/v1/users/auto0", &app.keys.secret).await;
        if user["enrolled"] == true {
            assert!(user["actions"].as_u64().unwrap() > 100, "{user}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never trained: {user}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
