//! Durability of the real `pointerprint serve` process: a `kill -9` while batches are being
//! ingested loses no acknowledged batch, and SIGTERM lets the request in flight finish.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pointerprint_client::{Client, ClientError, Method};
use pointerprint_formats::to_native;
use pointerprint_synth::{MotorStyle, session};
use serde_json::{Value, json};

use crate::support::{Server, create_key};

/// Batches of `size` events (as JSON arrays) of a synthetic person.
fn event_batches(seed: u64, size: usize) -> Vec<Value> {
    let rec = session(&MotorStyle::from_seed(seed), seed, 200);
    let events = serde_json::to_value(to_native(&rec).events).unwrap();
    events
        .as_array()
        .unwrap()
        .chunks(size)
        .filter(|c| c.len() == size)
        .map(|c| Value::Array(c.to_vec()))
        .collect()
}

/// A batch the server answered 202 (not duplicate) to.
struct Acked {
    user: String,
    body: Value,
    events: u64,
}

async fn post(node: &Client, path: &str, body: &Value) -> Result<(u16, Value), ClientError> {
    node.send_json(Method::POST, path, Some(body)).await
}

async fn stored_events(node: &Client, user: &str) -> u64 {
    node.user(user).await.unwrap().expect("a known user").events
}

/// The server's API with `key`.
fn api(base: &str, key: &str) -> Client {
    Client::builder(base)
        .key(key)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_ingest_loses_no_acknowledged_batch() {
    const CLIENTS: usize = 8;
    const USERS: usize = 3;
    const BATCH: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(dir.path(), "secret");
    let server = Server::start(dir.path(), "serve-1.log");
    let client = api(&server.base, &key);

    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    // Per client: the events of the batch that was in flight when the connection broke.
    let unacked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let client = client.clone();
        let (acked, unacked, stop) = (acked.clone(), unacked.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let user = format!("durable-{}", c % USERS);
            let session_id = format!("durable-session-{c}");
            let batches = event_batches(c as u64 + 1, BATCH);
            for seq in 0.. {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let body = json!({"user_id": user, "session_id": session_id, "seq": seq,
                                  "events": batches[seq % batches.len()]});
                match post(&client, "/v1/events", &body).await {
                    Ok((202, reply)) => {
                        assert_eq!(reply["duplicate"], false, "{reply}");
                        assert_eq!(reply["accepted"], BATCH);
                        acked.lock().unwrap().push(Acked {
                            user: user.clone(),
                            body,
                            events: BATCH as u64,
                        });
                    }
                    Ok((status, reply)) => panic!("batch {seq} of client {c}: {status} {reply}"),
                    // The server is gone: this batch may or may not have been stored.
                    Err(_) => {
                        unacked.lock().unwrap().push((user, BATCH as u64));
                        return;
                    }
                }
            }
        }));
    }

    // Let the clients ingest for a while, then kill the server in the middle of it.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let before_kill = acked.lock().unwrap().len();
    assert!(
        before_kill > 20,
        "only {before_kill} batches acknowledged in 1 s"
    );
    let dead_port = server.port();
    server.kill_9();
    let deadline = Instant::now() + Duration::from_secs(30);
    while unacked.lock().unwrap().len() < CLIENTS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    // Every client was cut off in the middle of posting.
    assert_eq!(unacked.lock().unwrap().len(), CLIENTS);
    assert!(TcpStream::connect(("127.0.0.1", dead_port)).is_err());

    let server = Server::start(dir.path(), "serve-2.log");
    let client = api(&server.base, &key);
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let unacked = std::mem::take(&mut *unacked.lock().unwrap());
    for u in 0..USERS {
        let user = format!("durable-{u}");
        let acknowledged: u64 = acked
            .iter()
            .filter(|a| a.user == user)
            .map(|a| a.events)
            .sum();
        let in_flight: u64 = unacked
            .iter()
            .filter(|(w, _)| *w == user)
            .map(|(_, n)| n)
            .sum();
        let stored = stored_events(&client, &user).await;
        assert!(
            stored >= acknowledged && stored <= acknowledged + in_flight,
            "{user}: {stored} events stored, {acknowledged} acknowledged, {in_flight} in flight"
        );
    }
    // The exact check: every acknowledged batch is there, so posting it again is a duplicate.
    for a in &acked {
        let (status, reply) = post(&client, "/v1/events", &a.body).await.unwrap();
        assert_eq!(status, 202, "{reply}");
        assert_eq!(
            reply["duplicate"], true,
            "batch {} of {} was acknowledged before the kill but is not stored",
            a.body["seq"], a.body["session_id"]
        );
    }
    eprintln!(
        "{} batches acknowledged before kill -9 ({before_kill} after 1 s), all stored",
        acked.len()
    );
}

/// Reads an HTTP/1.1 response (the server closes the connection after it, being shut down,
/// or we stop at the end of the body) and returns the status and body.
fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).unwrap();
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = &text[..end];
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if text.len() >= end + 4 + length || n == 0 {
                let status = head.split(' ').nth(1).unwrap().parse().unwrap();
                return (status, text[end + 4..].to_string());
            }
        }
        assert!(n > 0, "the connection closed before a response: {text}");
    }
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(dir.path(), "secret");
    let server = Server::start(dir.path(), "serve-1.log");
    let body = json!({"user_id": "graceful", "session_id": "graceful-1", "seq": 0,
                      "events": event_batches(9, 400)[0]})
    .to_string();
    let (first, second) = body.as_bytes().split_at(body.len() / 2);

    // A slow upload: headers and half the body, then SIGTERM, then the rest.
    let mut stream = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(first).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    server.terminate();
    std::thread::sleep(Duration::from_millis(500));
    let mut server = server;
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server exited with a request in flight"
    );
    // No new connection is served meanwhile.
    let refused = TcpStream::connect(("127.0.0.1", server.port())).map_or(true, |mut s| {
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut b = [0u8; 16];
        !matches!(s.read(&mut b), Ok(n) if n > 0)
    });
    assert!(refused, "a new connection was served after SIGTERM");

    stream.write_all(second).unwrap();
    stream.flush().unwrap();
    let (status, reply) = read_response(&mut stream);
    assert_eq!(status, 202, "{reply}");
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["accepted"], 400);
    assert_eq!(reply["duplicate"], false);

    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    drop(server);

    // And the batch is stored: posting it again is a duplicate.
    let server = Server::start(dir.path(), "serve-2.log");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let body: Value = serde_json::from_str(&body).unwrap();
    let (status, reply) = runtime
        .block_on(post(&api(&server.base, &key), "/v1/events", &body))
        .unwrap();
    assert_eq!(status, 202, "{reply}");
    assert_eq!(reply["duplicate"], true, "{reply}");
}
