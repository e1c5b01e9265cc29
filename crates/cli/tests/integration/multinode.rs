//! Two `pointerprint serve` processes started together on one PostgreSQL database: a
//! session ingested through node A is verified through node B, a WebSocket on node B hears
//! the trust of events ingested on node A, settings changed on A apply on B, a user erased
//! on A is gone from B's model cache, and a `kill -9` of node A in the middle of ingestion
//! loses no acknowledged batch (each is stored exactly once, as node B shows).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use pointerprint_client::{Client, ClientError, Method};
use pointerprint_formats::to_native;
use pointerprint_storage::testing::TempPostgres;
use pointerprint_synth::{MotorStyle, session};
use serde_json::{Value, json};

use crate::support::{Server, create_key_with};

/// Both nodes must use the same key: it is the database's.
const KEY_HEX: &str = "5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c";

/// The batches (JSON arrays of `size` events) of a synthetic session of `style`.
fn batches(style: &MotorStyle, seed: u64, actions: usize, size: usize) -> Vec<Value> {
    let rec = session(style, seed, actions);
    let events = serde_json::to_value(to_native(&rec).events).unwrap();
    events
        .as_array()
        .unwrap()
        .chunks(size)
        .map(|c| Value::Array(c.to_vec()))
        .collect()
}

/// A node's API with `key`, patient enough for training and a node's death.
fn node(base: &str, key: &str) -> Client {
    Client::builder(base)
        .key(key)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

async fn post(node: &Client, path: &str, body: &Value) -> Result<(u16, Value), ClientError> {
    node.send_json(Method::POST, path, Some(body)).await
}

async fn events(node: &Client, user: &str, session_id: &str, seq: usize, events: &Value) {
    let body = json!({"user_id": user, "session_id": session_id, "seq": seq, "events": events});
    let (status, reply) = post(node, "/v1/events", &body).await.unwrap();
    assert_eq!(status, 202, "{reply}");
}

async fn stored_events(node: &Client, user: &str) -> u64 {
    node.user(user).await.unwrap().expect("a known user").events
}

/// The next text message of a WebSocket, as JSON, within `within`.
async fn next_message<S>(ws: &mut S, within: Duration) -> Option<Value>
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    loop {
        let message = tokio::time::timeout(within, ws.next()).await.ok()??.ok()?;
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).ok();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_postgres_and_survive_losing_one() {
    let pg = TempPostgres::new();
    let env = [
        ("DATABASE_URL", pg.url()),
        ("POINTERPRINT_ENCRYPTION_KEY", KEY_HEX),
    ];
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let key = create_key_with(dir_a.path(), "secret", &env);
    let admin_key = create_key_with(dir_a.path(), "admin", &env);
    // Started together on a database without an administrator: both come up, and exactly
    // one of them makes (and prints) the first-start dashboard account.
    let (node_a, node_b) = std::thread::scope(|s| {
        let a = s.spawn(|| Server::start_with(dir_a.path(), "serve-a.log", &env));
        let b = s.spawn(|| Server::start_with(dir_b.path(), "serve-b.log", &env));
        (a.join().unwrap(), b.join().unwrap())
    });
    let printed_password = |node: &Server| node.banner.concat().contains("sign in as admin");
    assert_eq!(
        [printed_password(&node_a), printed_password(&node_b)]
            .iter()
            .filter(|&&p| p)
            .count(),
        1
    );
    let (a, b) = (node_a.base.clone(), node_b.base.clone());
    let (node_a_api, node_b_api) = (node(&a, &key), node(&b, &key));

    // Enrolment through node A, confirmed and training asked of node B: whichever node's
    // worker claims the job, B answers when the model is stored.
    let style = MotorStyle::from_seed(11);
    for s in 0..3u64 {
        let session_id = format!("enrol-{s}");
        for (seq, batch) in batches(&style, 100 + s, 80, 500).iter().enumerate() {
            events(&node_a_api, "alice", &session_id, seq, batch).await;
        }
        node_b_api
            .session_feedback(&session_id, pointerprint_client::Label::Genuine)
            .await
            .unwrap();
    }
    let (status, reply) = post(&node_b_api, "/v1/users/alice/train?wait=true", &json!({}))
        .await
        .unwrap();
    assert_eq!(status, 200, "{reply}");

    // A live session: its WebSocket on node B, its events through node A.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!(
        "ws://{}/v1/sessions/live-1/stream?key={key}",
        b.trim_start_matches("http://")
    ))
    .await
    .unwrap();
    let live = batches(&style, 200, 60, 100);
    for (seq, batch) in live.iter().enumerate() {
        events(&node_a_api, "alice", "live-1", seq, batch).await;
    }
    let mut pushed_actions = Vec::new();
    while let Some(update) = next_message(&mut ws, Duration::from_secs(10)).await {
        assert!(
            matches!(update["type"].as_str(), Some("trust" | "lock")),
            "{update}"
        );
        let actions = update["actions"].as_u64().unwrap();
        pushed_actions.push(actions);
        if pushed_actions.len() >= 2 && actions >= 40 {
            break;
        }
    }
    assert!(
        pushed_actions.len() >= 2 && *pushed_actions.last().unwrap() >= 40,
        "node B pushed trust for the events node A ingested: {pushed_actions:?}"
    );

    // The session ingested through A, verified through B.
    let (status, verdict) = post(
        &node_b_api,
        "/v1/verify",
        &json!({"user_id": "alice", "session_id": "live-1"}),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{verdict}");
    assert!(
        matches!(verdict["decision"].as_str(), Some("accept" | "reject")),
        "{verdict}"
    );
    assert!(verdict["actions"].as_u64().unwrap() >= 40, "{verdict}");

    // Settings replaced through node A are in force on node B.
    let (admin_a, admin_b) = (node(&a, &admin_key), node(&b, &admin_key));
    let mut settings = admin_a.settings().await.unwrap();
    settings["min_actions"] = json!(7777);
    admin_a.put_settings(&settings).await.unwrap();
    let mut seen_on_b = Value::Null;
    for _ in 0..50 {
        seen_on_b = admin_b.settings().await.unwrap();
        if seen_on_b["min_actions"] == 7777 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen_on_b["min_actions"], 7777, "{seen_on_b}");

    // Erased through node A: node B, which has the model cached, no longer verifies.
    node_a_api.erase_user("alice").await.unwrap();
    let inline = json!({"user_id": "alice", "events": live[0]});
    let mut status = 0;
    for _ in 0..50 {
        status = post(&node_b_api, "/v1/verify", &inline).await.unwrap().0;
        if status == 409 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 409, "node B still verifies an erased user");

    // Clients stream through node A; node A is killed in the middle of it.
    let acked: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let unacked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for c in 0..6u64 {
        let node_a_api = node_a_api.clone();
        let (acked, unacked, stop) = (acked.clone(), unacked.clone(), stop.clone());
        let pool = batches(&MotorStyle::from_seed(20 + c), 300 + c, 200, 50);
        tasks.push(tokio::spawn(async move {
            let user = format!("stream-{}", c % 3);
            let session_id = format!("stream-session-{c}");
            for seq in 0.. {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let body = json!({"user_id": user, "session_id": session_id, "seq": seq,
                                  "events": pool[seq % pool.len()]});
                match post(&node_a_api, "/v1/events", &body).await {
                    Ok((202, reply)) => {
                        assert_eq!(reply["duplicate"], false, "{reply}");
                        acked.lock().unwrap().push((user.clone(), body));
                    }
                    Ok((status, reply)) => panic!("batch {seq} of client {c}: {status} {reply}"),
                    // Node A is gone: this batch may or may not have been stored.
                    Err(_) => {
                        let n = body["events"].as_array().unwrap().len() as u64;
                        unacked.lock().unwrap().push((user, n));
                        return;
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let before_kill = acked.lock().unwrap().len();
    assert!(before_kill > 10, "only {before_kill} batches acknowledged");
    node_a.kill_9();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let unacked = std::mem::take(&mut *unacked.lock().unwrap());
    assert_eq!(unacked.len(), 6, "every client was cut off mid-stream");

    // Node B sees every acknowledged event, each once (in-flight ones at most once).
    for u in 0..3 {
        let user = format!("stream-{u}");
        let acknowledged: u64 = acked
            .iter()
            .filter(|(w, _)| *w == user)
            .map(|(_, body)| body["events"].as_array().unwrap().len() as u64)
            .sum();
        let in_flight: u64 = unacked
            .iter()
            .filter(|(w, _)| *w == user)
            .map(|(_, n)| n)
            .sum();
        let stored = stored_events(&node_b_api, &user).await;
        assert!(
            stored >= acknowledged && stored <= acknowledged + in_flight,
            "{user}: {stored} events stored, {acknowledged} acknowledged, {in_flight} in flight"
        );
    }
    for (_, body) in &acked {
        let (status, reply) = post(&node_b_api, "/v1/events", body).await.unwrap();
        assert_eq!(status, 202, "{reply}");
        assert_eq!(
            reply["duplicate"], true,
            "batch {} of {} was acknowledged by node A but node B does not have it",
            body["seq"], body["session_id"]
        );
    }
    eprintln!(
        "{} batches acknowledged by node A before kill -9, all stored once",
        acked.len()
    );
    drop(node_b);
}
