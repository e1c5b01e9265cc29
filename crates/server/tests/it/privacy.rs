//! Erasure leaves nothing (settings, demo account, sign-ins, database files), and a
//! user's data can be exported whole.

use pointerprint_formats::to_native;
use pointerprint_synth::session;
use serde_json::{Value, json};

use crate::demo::{DemoClient, PASSWORD, demo_app, open_session};
use crate::support::{TestApp, enrolled, style};

/// Whether any of the data folder's SQLite files holds `needle`.
fn database_files_contain(app: &TestApp, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for name in ["pointerprint.db", "pointerprint.db-wal"] {
        let path = app.dir.path().join(name);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
            found.push(name.to_string());
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_removes_the_account_the_override_and_every_trace_in_the_files() {
    let app = demo_app().await;
    let user = "demo-zq7erase";
    let mut browser = DemoClient {
        app: &app,
        cookie: None,
    };
    let credentials = json!({"username": "zq7erase", "password": PASSWORD});
    assert_eq!(
        browser.call("register", Some(credentials.clone())).await.0,
        200
    );
    // A batch within the tests' limit of 1,000 events.
    let events = to_native(&session(&style(0), 1, 40)).events[..500].to_vec();
    let enrolment = open_session(&mut browser, "enrol").await;
    for seq in 0..3 {
        let batch = json!({"session_id": enrolment, "seq": seq, "events": events});
        assert_eq!(browser.call("events", Some(batch)).await.0, 202);
    }
    let (_, mut settings) = app.get("/v1/settings", &app.keys.secret).await;
    settings["user_overrides"] = json!({ user: {"fixed": 0.9} });
    let (status, _) = app
        .call(
            reqwest::Method::PUT,
            "/v1/settings",
            Some(&app.keys.admin),
            Some(&settings),
        )
        .await;
    assert_eq!(status, 200);
    assert!(!database_files_contain(&app, "zq7erase").is_empty());

    let (status, reply) = app
        .call(
            reqwest::Method::DELETE,
            &format!("/v1/users/{user}"),
            Some(&app.keys.secret),
            None,
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["erased"]["batches"], 3);

    // The override is gone from the settings...
    let (_, settings) = app.get("/v1/settings", &app.keys.secret).await;
    assert_eq!(settings["user_overrides"], json!({}), "{settings}");
    // ...the account can no longer sign in, and its signed-in browser is signed out...
    assert_eq!(browser.call("me", None).await.0, 401);
    let mut again = DemoClient {
        app: &app,
        cookie: None,
    };
    let attempt = json!({"username": "zq7erase", "password": PASSWORD, "events": events});
    let (status, reply) = again.call("login", Some(attempt)).await;
    assert_eq!(status, 401, "{reply}");
    // ...and neither the database file nor its WAL holds the name any more.
    assert_eq!(
        database_files_contain(&app, "zq7erase"),
        Vec::<String>::new()
    );
    // The name is free for someone new.
    assert_eq!(again.call("register", Some(credentials)).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_holds_what_was_stored_about_the_user() {
    let app = TestApp::spawn_with(|c| c.verify_per_user_per_minute = 0).await;
    enrolled(&app, 2).await;
    let check = session(&style(0), 77, 40);
    app.send_session("user0", "check-77", &check, 500).await;
    let (status, verdict) = app
        .post(
            "/v1/verify",
            &app.keys.secret,
            &json!({"user_id": "user0", "session_id": "check-77"}),
        )
        .await;
    assert_eq!(status, 200, "{verdict}");
    let (_, mut settings) = app.get("/v1/settings", &app.keys.secret).await;
    settings["user_overrides"] = json!({"user0": {"target_far": 0.02}});
    app.call(
        reqwest::Method::PUT,
        "/v1/settings",
        Some(&app.keys.admin),
        Some(&settings),
    )
    .await;

    let (status, export) = app.get("/v1/users/user0/export", &app.keys.secret).await;
    assert_eq!(status, 200, "{export}");
    assert_eq!(export["format"], "pointerprint-user-export/1");
    assert_eq!(export["user_id"], "user0");
    // Every session, event for event as it was sent.
    let sessions = export["sessions"].as_array().unwrap();
    let ids: Vec<&str> = sessions
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["enrol-0-0", "enrol-0-1", "enrol-0-2", "check-77"]);
    let sent = serde_json::to_value(to_native(&check).events).unwrap();
    assert_eq!(sessions[3]["recording"]["events"], sent);
    let first = session(&style(0), 0, 120);
    assert_eq!(
        sessions[0]["recording"]["events"],
        serde_json::to_value(to_native(&first).events).unwrap()
    );
    // Every decision, as the audit log has it.
    let (_, log) = app
        .get("/v1/decisions?user_id=user0", &app.keys.secret)
        .await;
    let logged = &log["decisions"][0];
    let exported = export["decisions"].as_array().unwrap();
    assert_eq!(exported.len(), 1);
    for field in [
        "id",
        "session_id",
        "decision",
        "score",
        "threshold",
        "actions",
        "created_ms",
    ] {
        assert_eq!(exported[0][field], logged[field], "{field}");
    }
    assert_eq!(exported[0]["score"], verdict["score"]);
    // The model's summary and the user's own policy.
    let (_, user) = app.get("/v1/users/user0", &app.keys.secret).await;
    assert_eq!(
        export["model"]["trained_at_ms"],
        user["model"]["trained_at_ms"]
    );
    assert_eq!(
        export["model"]["summary"]["genuine_actions"],
        user["model"]["genuine_actions"]
    );
    assert_eq!(export["threshold_override"], json!({"target_far": 0.02}));
    assert_eq!(export["demo_account"], Value::Null);

    // Only for keys that may read users, and only for users there are.
    assert_eq!(
        app.get("/v1/users/user0/export", &app.keys.ingest).await.0,
        403
    );
    assert_eq!(
        app.get("/v1/users/nobody/export", &app.keys.secret).await.0,
        404
    );
}
