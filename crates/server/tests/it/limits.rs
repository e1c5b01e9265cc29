//! Limits over real sockets: verify calls per user and per key, the demo's second factor
//! as a counted attempt whatever its outcome, Argon2 off the async workers, trust streams
//! that leave nothing behind, the connection cap and read deadlines, and pages that
//! cannot be made to fail by their numbers.

use std::time::{Duration, Instant};

use pointerprint_formats::to_native;
use pointerprint_synth::session;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::dashboard::{Admin, PASSWORD as ADMIN_PASSWORD, spawn_with_admin};
use crate::demo::{DemoClient, PASSWORD, alice, demo_app, enrol_by_api, mallory};
use crate::support::TestApp;

fn verify_body(user: &str) -> Value {
    json!({"user_id": user, "events": [{"type": "move", "t": 1.0, "x": 1, "y": 2}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_is_limited_per_user_and_per_key_with_retry_after() {
    let app = TestApp::spawn_with(|c| {
        c.verify_per_user_per_minute = 3;
        c.verify_per_key_per_minute = 5;
    })
    .await;
    let call = async |user: &str| {
        let response = app
            .client
            .post(format!("{}/v1/verify", app.base))
            .bearer_auth(&app.keys.secret)
            .json(&verify_body(user))
            .send()
            .await
            .unwrap();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        (status, body["error"]["code"].clone(), retry_after)
    };
    // A prober of one user's score gets three answers a minute (these users have no model:
    // a probe is a probe whatever it gets back).
    for _ in 0..3 {
        let (status, code, _) = call("victim").await;
        assert_eq!((status, code), (409, json!("not_enrolled")));
    }
    let (status, code, retry_after) = call("victim").await;
    assert_eq!((status, code), (429, json!("rate_limited")));
    assert!(
        retry_after.is_some_and(|s| (1..=20).contains(&s)),
        "{retry_after:?}"
    );
    // Other users are not held up by it, up to what the key may do in all.
    for user in ["other", "third"] {
        assert_eq!(call(user).await.0, 409);
    }
    let (status, code, retry_after) = call("fourth").await;
    assert_eq!((status, code), (429, json!("rate_limited")));
    assert!(retry_after.is_some(), "the key's limit says when, too");
    // Another key has its own allowance (the user's is still spent).
    let other_key = app.api(&app.keys.admin);
    let (status, _) = other_key
        .send_json(
            reqwest::Method::POST,
            "/v1/verify",
            Some(&verify_body("fifth")),
        )
        .await
        .unwrap();
    assert_eq!(status, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_undecided_demo_sign_in_counts_and_no_score_is_shown() {
    let app = demo_app().await;
    let mut carol = DemoClient {
        app: &app,
        cookie: None,
    };
    enrol_by_api(&mut carol, "carol").await;
    // Someone with the password probes with too little movement to decide: each answer
    // is coarse, and each counts towards the lock-out.
    let mut prober = DemoClient {
        app: &app,
        cookie: None,
    };
    for n in 1..=5u64 {
        let events = to_native(&session(&mallory(), 900 + n, 2)).events;
        let attempt = json!({"username": "carol", "password": PASSWORD, "events": events});
        let (status, body) = prober.call("login", Some(attempt)).await;
        if status == 200 {
            assert_eq!(body["decision"], "insufficient_data", "attempt {n}: {body}");
            assert_eq!(body["signed_in"], false);
            for hidden in ["score", "threshold", "reasons"] {
                assert!(
                    body.get(hidden).is_none(),
                    "attempt {n} shows {hidden}: {body}"
                );
            }
            assert_eq!(body.get("locked_until_ms").is_some(), n == 5, "{body}");
        } else {
            // Refused as input at all (implausible): a failed factor just the same.
            assert_eq!(status, 400, "attempt {n}: {body}");
        }
    }
    // Five undecided attempts locked the account: even its owner waits now.
    let events = to_native(&session(&alice(), 950, 30)).events;
    let attempt = json!({"username": "carol", "password": PASSWORD, "events": events});
    let (status, body) = carol.call("login", Some(attempt)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("account_locked")),
        "{body}"
    );
}

/// Medians of `/healthz` round trips, in milliseconds, while `load` runs.
async fn healthz_median_ms(app: &TestApp, samples: usize) -> f64 {
    let mut times = Vec::new();
    for _ in 0..samples {
        let start = Instant::now();
        let response = app
            .client
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_hashing_does_not_stall_other_requests() {
    let app = demo_app().await;
    let quiet = healthz_median_ms(&app, 10).await;
    // Sixteen clients keep failing sign-ins (each an Argon2 computation).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut storm = Vec::new();
    for i in 0..16 {
        let (client, base, stop) = (app.client.clone(), app.base.clone(), stop.clone());
        storm.push(tokio::spawn(async move {
            let mut attempts = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let body = json!({"username": format!("nobody{i}"), "password": "wrong password"});
                let response = client
                    .post(format!("{base}/demo/api/login"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
                attempts += 1;
            }
            attempts
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let busy = healthz_median_ms(&app, 30).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut attempts = 0;
    for task in storm {
        attempts += task.await.unwrap();
    }
    eprintln!("healthz median: {quiet:.1} ms quiet, {busy:.1} ms beside {attempts} sign-ins");
    assert!(attempts >= 16, "the storm ran: {attempts}");
    assert!(
        busy < 100.0,
        "healthz took {busy:.1} ms (quiet: {quiet:.1} ms)"
    );
}

/// What `/healthz` says of the trust streams this node follows.
async fn trust_streams(app: &TestApp) -> u64 {
    app.api.health().await.unwrap().trust_streams
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_trust_streams_leave_nothing_behind() {
    let app = TestApp::spawn().await;
    let api = app.api(&app.keys.ingest);
    // Streams opened and closed, by a close frame or by dropping the connection.
    let mut open = Vec::new();
    for i in 0..20 {
        open.push(api.stream(&format!("watched-{i}")).await.unwrap());
    }
    assert_eq!(trust_streams(&app).await, 20);
    drop(open);
    // Upgrades whose connection is gone before the switch completes: the handler that
    // would leave the session never runs.
    let port = app.base.rsplit(':').next().unwrap().to_string();
    for i in 0..20 {
        let mut socket = TcpStream::connect(format!("127.0.0.1:{port}"))
            .await
            .unwrap();
        let request = format!(
            "GET /v1/sessions/aborted-{i}/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
             Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            app.keys.ingest
        );
        socket.write_all(request.as_bytes()).await.unwrap();
        socket.set_zero_linger().unwrap();
        drop(socket);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut left = trust_streams(&app).await;
    while left > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = trust_streams(&app).await;
    }
    assert_eq!(left, 0, "sessions still followed after every stream closed");
}

/// Whether the server closed `socket` (end of stream or reset) within `within`, having
/// answered nothing.
async fn closed_without_answer(socket: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 256];
    match tokio::time::timeout(within, socket.read(&mut buffer)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(n)) => panic!(
            "the server answered: {}",
            String::from_utf8_lossy(&buffer[..n])
        ),
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_capped_and_slow_clients_cut_off() {
    let app = TestApp::spawn_with(|c| {
        c.max_connections = 4;
        c.header_timeout_secs = 1;
        c.body_timeout_secs = 1;
    })
    .await;
    let address = app.base.trim_start_matches("http://").to_string();
    // Four clients connect and say nothing: they hold every slot.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(&address).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A fifth is closed at once.
    let mut fifth = TcpStream::connect(&address).await.unwrap();
    assert!(
        closed_without_answer(&mut fifth, Duration::from_millis(500)).await,
        "a connection over the cap was kept"
    );
    // The silent ones are cut off when their headers do not come.
    for socket in &mut idle {
        assert!(
            closed_without_answer(socket, Duration::from_secs(3)).await,
            "a silent connection was kept past the header deadline"
        );
    }
    // Headers sent a byte at a time miss the deadline as well.
    let mut trickle = TcpStream::connect(&address).await.unwrap();
    let started = Instant::now();
    let mut cut = false;
    for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
        if trickle.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !cut {
        cut = closed_without_answer(&mut trickle, Duration::from_secs(2)).await;
    }
    assert!(
        cut,
        "trickled headers were waited for {:?}",
        started.elapsed()
    );
    // A body that stops coming is answered (and the connection freed) after its deadline.
    let mut slow_body = TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /v1/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"user_id\"",
        app.keys.secret
    );
    slow_body.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(4), slow_body.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "a stalled body held its connection");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "{answer}"
    );
    // And the server serves as before.
    assert_eq!(app.api.health().await.unwrap().status, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_sign_ups_leave_the_settings_alone() {
    let app = demo_app().await;
    for name in ["anna", "bert", "cleo"] {
        let mut client = DemoClient {
            app: &app,
            cookie: None,
        };
        let body = json!({"username": name, "password": PASSWORD});
        assert_eq!(client.call("register", Some(body)).await.0, 200);
    }
    let (status, settings) = app.get("/v1/settings", &app.keys.secret).await;
    assert_eq!(status, 200);
    assert_eq!(settings["user_overrides"], json!({}), "{settings}");
    assert_eq!(settings["demo_threshold"], json!({"target_far": 0.05}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn override_keys_must_be_user_ids_so_the_settings_form_still_saves() {
    let app = spawn_with_admin(|_| {}).await;
    let (_, before) = app.get("/v1/settings", &app.keys.secret).await;
    for bad in ["", "two words", "x/../y", "line\u{2028}break"] {
        let mut settings = before.clone();
        settings["user_overrides"] = json!({ bad: {"fixed": 0.5} });
        let (status, reply) = app
            .call(
                reqwest::Method::PUT,
                "/v1/settings",
                Some(&app.keys.admin),
                Some(&settings),
            )
            .await;
        assert_eq!(
            (status, reply["error"]["code"].as_str()),
            (400, Some("invalid_settings")),
            "{bad:?}: {reply}"
        );
    }
    assert_eq!(app.get("/v1/settings", &app.keys.secret).await.1, before);
    // The dashboard's form, as it shows the settings, saves them unchanged.
    let mut admin = Admin::new(&app);
    admin.sign_in(crate::dashboard::ADMIN, ADMIN_PASSWORD).await;
    let (status, page) = admin.get("/dashboard/settings").await;
    assert_eq!(status, StatusCode::OK);
    let value = |name: &str| {
        let at = page.find(&format!("name=\"{name}\"")).unwrap();
        let at = at + page[at..].find("value=\"").unwrap() + 7;
        page[at..at + page[at..].find('"').unwrap()].to_string()
    };
    let fields = [
        ("policy", "target_far".to_string()),
        ("value", value("value")),
        ("overrides", String::new()),
        ("demo_policy", value("demo_policy")),
        ("min_actions", value("min_actions")),
        ("lockout_trust", value("lockout_trust")),
        ("retention_days", value("retention_days")),
        ("action", "save".to_string()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = admin.post("/dashboard/settings", &fields).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get("/v1/settings", &app.keys.secret).await.1, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_table_comes_in_pages_and_page_numbers_cannot_break_a_page() {
    let app = spawn_with_admin(|_| {}).await;
    let ingest = app.api(&app.keys.ingest);
    for u in 0..120 {
        let body = json!({"user_id": format!("u{u:03}"), "session_id": format!("s{u}"), "seq": 0,
                          "events": [{"type": "move", "t": 1.0, "x": 1, "y": 2}]});
        let (status, reply) = ingest
            .send_json(reqwest::Method::POST, "/v1/events", Some(&body))
            .await
            .unwrap();
        assert_eq!(status, 202, "{reply}");
    }
    let mut admin = Admin::new(&app);
    admin.sign_in(crate::dashboard::ADMIN, ADMIN_PASSWORD).await;
    let rows = |page: &str| page.matches("<tr data-user=").count();
    let (status, first) = admin.get("/dashboard/users").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&first), 50);
    assert!(first.contains("Users 1–50 of 120") && first.contains("u000"));
    assert!(first.contains("href=\"/dashboard/users?page=1\""));
    let (_, last) = admin.get("/dashboard/users?page=2").await;
    assert_eq!(rows(&last), 20);
    assert!(last.contains("u119") && !last.contains("id=\"users-next\""));
    // Past the end, however far, is the last page.
    for page in ["3", "18446744073709551615"] {
        let (status, body) = admin.get(&format!("/dashboard/users?page={page}")).await;
        assert_eq!((status, rows(&body)), (StatusCode::OK, 20), "page {page}");
    }
    // The log likewise, with an overflowing page number.
    for page in ["0", "5", "368934881474191032", "18446744073709551615"] {
        let (status, body) = admin.get(&format!("/dashboard/log?page={page}")).await;
        assert_eq!(status, StatusCode::OK, "log page {page}: {body}");
        assert!(body.contains("No decision matches."), "{body}");
    }
    // A number that is no number is refused, not served.
    let (status, _) = admin
        .get("/dashboard/log?page=99999999999999999999999")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
