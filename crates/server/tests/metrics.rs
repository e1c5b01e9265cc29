//! What `/metrics` counts, exactly. A test binary of its own: the metrics recorder is
//! global to a process, so in the shared test binary another test's requests would move
//! the same counters while this one looks.

use pointerprint_client::{Batch, Client};
use pointerprint_formats::NativeEvent;
use pointerprint_server::app::keys::{hash_token, new_key};
use pointerprint_server::{Application, Config};
use pointerprint_storage::Role;

/// The value of an unlabelled counter in Prometheus text, 0 before its first increment.
fn counter(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .map_or(0, |value| value.trim().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingested_events_are_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        auto_train_events: u64::MAX,
        demo: false,
        ..Config::default()
    };
    let key = new_key(Role::Ingest);
    let store = pointerprint_server::startup::open_store(&config)
        .await
        .unwrap();
    store
        .create_key("test", Role::Ingest, &hash_token(&key))
        .await
        .unwrap();
    drop(store);
    let app = Application::build(config).await.unwrap();
    let client = Client::builder(&format!("http://127.0.0.1:{}", app.port()))
        .key(key)
        .build()
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));

    const NAME: &str = "pointerprint_events_ingested_total";
    let before = counter(&client.metrics().await.unwrap(), NAME);
    let events: Vec<NativeEvent> = (0..3)
        .map(|i| {
            serde_json::from_value(serde_json::json!({"type": "move", "t": i, "x": i, "y": 1}))
                .unwrap()
        })
        .collect();
    let batch = Batch {
        user_id: "metrics-user",
        session_id: "metrics-session",
        seq: 0,
        events: &events,
        screen: None,
    };
    assert!(!client.post_events(&batch).await.unwrap().duplicate);
    assert_eq!(counter(&client.metrics().await.unwrap(), NAME), before + 3);
    // A repeated batch is acknowledged, not stored, and not counted again.
    assert!(client.post_events(&batch).await.unwrap().duplicate);
    assert_eq!(counter(&client.metrics().await.unwrap(), NAME), before + 3);
    // A refused batch counts nothing.
    let refused = client
        .post_events(&Batch {
            user_id: "",
            ..batch.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("invalid_id"), "{refused}");
    assert_eq!(counter(&client.metrics().await.unwrap(), NAME), before + 3);

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
