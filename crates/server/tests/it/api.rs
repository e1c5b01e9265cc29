//! The service's API over real sockets.

use pointerprint_client::{Purpose, TrustUpdate};
use pointerprint_core::Recording;
use pointerprint_formats::to_native;
use pointerprint_synth::session;
use serde_json::{Value, json};

use crate::support::{TestApp, enrolled, style};

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
    let app = TestApp::spawn().await;
    enrolled(&app, 3).await;
    let mut socket = app.api(&app.keys.ingest).stream("takeover").await.unwrap();
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
    let mut actions = 0;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while let Ok(Some(update)) = tokio::time::timeout_at(deadline, socket.next()).await {
        let update = update.unwrap();
        assert!(update.trust().is_finite(), "{update:?}");
        // Updates come in order: a later one never counts fewer actions.
        assert!(
            update.actions() >= actions,
            "{} actions after {actions}",
            update.actions()
        );
        actions = update.actions();
        if matches!(update, TrustUpdate::Lock { .. }) {
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
    // The verdict's machine-readable reason is documented with its values.
    assert!(doc["components"]["schemas"]["Verdict"]["properties"]["code"].is_object());
    let codes = doc["components"]["schemas"]["ReasonCode"]["enum"].to_string();
    assert!(codes.contains("implausible_input"), "{codes}");
    let (status, health) = app.call(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    // What /metrics counts is checked in tests/metrics.rs, a test binary of its own: the
    // metrics recorder is global to a process, and here other tests ingest at the same time.
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_trained_automatically_once_they_have_enough_events() {
    let app = TestApp::spawn_with(|c| c.auto_train_events = 3_000).await;
    // A second user makes a background population: one enrols through a token of an
    // enrolment session, the other's session is confirmed afterwards.
    app.send_with_token("auto0", Purpose::Enrol, &session(&style(0), 50, 200), 500)
        .await;
    app.send_enrolment("auto1", "auto-1", &session(&style(1), 51, 200), 500)
        .await;
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
