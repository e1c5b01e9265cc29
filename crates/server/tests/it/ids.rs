//! Ids that try to be paths: refused where they enter, encoded wherever a page puts one
//! in a URL, and destructive dashboard buttons that act only on what they name.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::dashboard::{ADMIN, Admin, PASSWORD, location, spawn_with_admin};
use crate::support::TestApp;

async fn post_batch(app: &TestApp, user: &str, session: &str) -> (u16, Value) {
    let body = json!({"user_id": user, "session_id": session, "seq": 0,
                      "events": [{"type": "move", "t": 1.0, "x": 1, "y": 2}]});
    app.api(&app.keys.ingest)
        .send_json(reqwest::Method::POST, "/v1/events", Some(&body))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_that_would_be_other_paths_or_names_are_refused() {
    let app = TestApp::spawn().await;
    for bad in [
        "%7Aed",
        "x/../../keys/9/revoke?",
        "   ",
        "a b",
        "line\u{2028}separator",
        "evil\u{202E}txt",
        "zero\u{200B}width",
        "..",
        "q?x=1",
        "frag#ment",
    ] {
        let (status, reply) = post_batch(&app, bad, "s1").await;
        assert_eq!(
            (status, reply["error"]["code"].as_str()),
            (400, Some("invalid_id")),
            "user {bad:?}: {reply}"
        );
        let (status, _) = post_batch(&app, "alice", bad).await;
        assert_eq!(status, 400, "session {bad:?}");
    }
    // What people and the demo use goes through.
    for good in ["alice", "user12", "demo-bob", "a.b@example.com", "urn:x:1"] {
        let (status, reply) = post_batch(&app, good, &format!("{good}-1")).await;
        assert_eq!(status, 202, "{good}: {reply}");
    }
    let (_, users) = app.get("/v1/users", &app.keys.secret).await;
    assert_eq!(users["users"].as_array().unwrap().len(), 5, "{users}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_actions_reach_only_the_user_and_key_they_name() {
    let app = spawn_with_admin(|_| {}).await;
    for user in ["zed", "a@b:c"] {
        assert_eq!(post_batch(&app, user, &format!("{user}-s")).await.0, 202);
    }
    let mut admin = Admin::new(&app);
    admin.sign_in(ADMIN, PASSWORD).await;

    // Every link and form target carries the id encoded.
    let (_, users) = admin.get("/dashboard/users").await;
    assert!(
        users.contains("href=\"/dashboard/users/a%40b%3Ac\""),
        "{users}"
    );
    assert!(users.contains("action=\"/dashboard/users/a%40b%3Ac/erase\""));
    assert!(!users.contains("/dashboard/users/a@b:c"));

    // A form whose path decodes to another user than it names (what a planted `%7Aed`
    // made of Erase) asks about the real target instead of erasing it.
    let response = admin
        .post("/dashboard/users/%7Aed/erase", &[("confirm", "%7Aed")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("Erase zed:"), "{page}");
    assert_eq!(app.get("/v1/users/zed", &app.keys.secret).await.0, 200);
    // A form without a confirmation likewise asks (this page works without JavaScript).
    let response = admin.post("/dashboard/users/zed/reset", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("name=\"confirm\" value=\"zed\"")
    );
    assert_eq!(
        app.get("/v1/users/zed", &app.keys.secret).await.1["events"],
        1
    );
    // An id that is a path is refused outright.
    let response = admin
        .post(
            "/dashboard/users/x%2F..%2F..%2Fkeys%2F1%2Frevoke%3F/train",
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // Keys: revoking asks first, and only the key named is revoked.
    let (_, keys) = app.get("/v1/keys", &app.keys.admin).await;
    let ingest = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == "ingest")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/dashboard/keys/{ingest}/revoke");
    let asked = admin.post(&path, &[("confirm", "999")]).await;
    assert_eq!(asked.status(), StatusCode::OK);
    assert_eq!(
        post_batch(&app, "zed", "zed-2").await.0,
        202,
        "key still works"
    );
    let id = ingest.to_string();
    let revoked = admin.post(&path, &[("confirm", id.as_str())]).await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(post_batch(&app, "zed", "zed-3").await.0, 401);

    // Confirmed for the user it names, erase erases.
    let erased = admin
        .post("/dashboard/users/a%40b%3Ac/erase", &[("confirm", "a@b:c")])
        .await;
    assert_eq!(location(&erased), "/dashboard/users?done=erased");
    assert_eq!(app.get("/v1/users/a@b:c", &app.keys.secret).await.0, 404);
    assert_eq!(app.get("/v1/users/zed", &app.keys.secret).await.0, 200);
}
