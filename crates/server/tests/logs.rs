//! What the service writes to its debug log. A test binary of its own: the log subscriber
//! is global to a process (a thread's own subscriber misses what callsites cached while
//! other tests ran).

use pointerprint_server::app::keys::{hash_token, new_key};
use pointerprint_server::{Application, Config};
use pointerprint_storage::Role;

/// What the service logs, kept in memory.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_tokens_in_a_query_stay_out_of_the_debug_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        auto_train_events: u64::MAX,
        demo: false,
        ..Config::default()
    };
    let (ingest, secret) = (new_key(Role::Ingest), new_key(Role::Secret));
    let store = pointerprint_server::startup::open_store(&config)
        .await
        .unwrap();
    for (key, role) in [(&ingest, Role::Ingest), (&secret, Role::Secret)] {
        store
            .create_key("test", role, &hash_token(key))
            .await
            .unwrap();
    }
    drop(store);
    let app = Application::build(config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let opened = pointerprint_client::Client::new(&base)
        .unwrap()
        .with_key(&secret)
        .open_session("lena", pointerprint_client::Purpose::Continuous, None)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let batch = serde_json::json!({"user_id": "lena", "session_id": "keyed", "seq": 0,
        "events": [{"type": "move", "t": 1.0, "x": 1, "y": 2}]});
    for credential in [format!("key={ingest}"), format!("token={}", opened.token)] {
        let url = format!("{base}/v1/events?{credential}");
        let status = http.post(url).json(&batch).send().await.unwrap().status();
        // The token's own session is another: 403, logged all the same.
        assert!(matches!(status.as_u16(), 202 | 403), "{status}");
    }
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("/v1/events"),
        "the requests were logged: {log}"
    );
    assert!(!log.contains(&ingest), "{log}");
    assert!(!log.contains(opened.token.as_str()), "{log}");
}
