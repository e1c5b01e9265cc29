//! Collection sessions and their tokens, against the attacks of issue 14 (items 4 and 5):
//! the public ingest key enrolling or poisoning users, a session's batches or id taken
//! first by someone else, trust streams of others' sessions or outliving their credential,
//! and `/v1/events` reading a body before knowing who sent it.

use std::time::Duration;

use pointerprint_client::{ClientError, Label, Purpose, Role};
use pointerprint_synth::session;
use serde_json::{Value, json};

use crate::support::{TestApp, style};

/// The API error code and status of a failed client call.
fn refusal<T: std::fmt::Debug>(result: Result<T, ClientError>) -> (u16, String) {
    match result {
        Err(ClientError::Api { status, code, .. }) => (status, code.unwrap_or_default()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// The model's count of the user's own actions it was trained on.
async fn genuine_actions(app: &TestApp, user: &str) -> u64 {
    let user = app.api(&app.keys.secret).user(user).await.unwrap().unwrap();
    user.model.expect("a model").genuine_actions
}

/// A batch of one event for `user`'s `session`.
fn batch(user: &str, session: &str, seq: u32) -> Value {
    json!({"user_id": user, "session_id": session, "seq": seq,
           "events": [{"type": "move", "t": 1.0 + f64::from(seq), "x": 1, "y": 2}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_ingest_key_neither_enrols_nor_poisons_a_user() {
    let app = TestApp::spawn_with(|c| c.auto_train_events = 3_000).await;
    let secret = app.api(&app.keys.secret);
    // A background user, enrolled by its site's backend.
    app.send_with_token("other", Purpose::Enrol, &session(&style(2), 7, 200), 500)
        .await;

    // An attacker with the ingest key sends far more than auto-training needs as carol.
    let attacker = session(&style(9), 99, 300);
    assert!(attacker.events.len() > 3_000);
    app.send_session("carol", "attack-carol", &attacker, 500)
        .await;
    let carol = secret.user("carol").await.unwrap().unwrap();
    assert_eq!(
        carol.events as usize,
        attacker.events.len(),
        "stored: {carol:?}"
    );
    // Nothing to train on: not queued automatically, not even on demand.
    assert_eq!(
        refusal(secret.train("carol", true).await),
        (404, "not_found".into())
    );
    assert!(!secret.user("carol").await.unwrap().unwrap().enrolled);

    // Dave enrols through his backend; the attacker's sessions in his name, sent with the
    // ingest key or with a token of a sign-in (verify) session, are stored and never
    // trained on.
    app.send_with_token("dave", Purpose::Enrol, &session(&style(0), 1, 120), 500)
        .await;
    app.send_with_token("dave", Purpose::Enrol, &session(&style(0), 2, 120), 500)
        .await;
    // (Auto-training may have started on the first session: train on both.)
    secret.train("dave", true).await.unwrap();
    secret.train("dave", true).await.unwrap();
    let enrolled_on = genuine_actions(&app, "dave").await;
    for s in 0..2 {
        app.send_session("dave", &format!("attack-dave-{s}"), &attacker, 500)
            .await;
    }
    let (verify_session, _) = app
        .send_with_token("dave", Purpose::Verify, &attacker, 500)
        .await;
    secret.train("dave", true).await.unwrap();
    assert_eq!(genuine_actions(&app, "dave").await, enrolled_on);

    // Feedback decides: a sign-in the backend confirms trains; one it calls fraud never.
    let confirmed = secret
        .session_feedback(&verify_session, Label::Genuine)
        .await
        .unwrap();
    assert!(confirmed.trains && confirmed.purpose == Some(Purpose::Verify));
    let fraud = secret
        .session_feedback("attack-dave-0", Label::Fraud)
        .await
        .unwrap();
    assert!(!fraud.trains && fraud.purpose.is_none());
    assert_eq!(
        refusal(
            secret
                .session_feedback("attack-dave-0", Label::Genuine)
                .await
        ),
        (409, "conflict".into())
    );
    secret.train("dave", true).await.unwrap();
    assert!(genuine_actions(&app, "dave").await > enrolled_on);
    assert_eq!(
        refusal(
            secret
                .session_feedback("no-such-session", Label::Genuine)
                .await
        ),
        (404, "not_found".into())
    );
    // Opening sessions and labelling them is the backend's: not the ingest key's.
    let ingest = app.api(&app.keys.ingest);
    assert_eq!(
        refusal(ingest.open_session("carol", Purpose::Enrol, None).await).0,
        403
    );
    assert_eq!(
        refusal(
            ingest
                .session_feedback("attack-carol", Label::Genuine)
                .await
        )
        .0,
        403
    );
    assert_eq!(
        refusal(secret.open_session("carol", Purpose::Enrol, Some(5)).await),
        (400, "invalid_ttl".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ingest_key_is_refused_from_browsers_unless_configured() {
    for allowed in [false, true] {
        let app = TestApp::spawn_with(|c| c.ingest_key_in_browsers = allowed).await;
        let post = |origin: Option<&str>, key: &str| {
            let body = if key.starts_with("pp_session_") {
                json!({"seq": 0, "events": [{"type": "move", "t": 1.0, "x": 1, "y": 2}]})
            } else {
                batch("erin", "from-a-page", 0)
            };
            let mut request = app
                .client
                .post(format!("{}/v1/events", app.base))
                .bearer_auth(key)
                .json(&body);
            if let Some(origin) = origin {
                request = request.header("Origin", origin);
            }
            async move { request.send().await.unwrap().status().as_u16() }
        };
        let from_page = post(Some("https://shop.example"), &app.keys.ingest).await;
        assert_eq!(from_page, if allowed { 202 } else { 403 });
        assert_eq!(
            post(None, &app.keys.ingest).await,
            202,
            "a trusted collector"
        );
        let opened = app
            .api(&app.keys.secret)
            .open_session("erin", Purpose::Continuous, None)
            .await
            .unwrap();
        assert_eq!(post(Some("https://shop.example"), &opened.token).await, 202);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_writes_its_own_session_and_nobody_else_does() {
    let app = TestApp::spawn().await;
    let secret = app.api(&app.keys.secret);
    let alice = secret
        .open_session("alice", Purpose::Continuous, None)
        .await
        .unwrap();
    let mallory = secret
        .open_session("mallory", Purpose::Continuous, None)
        .await
        .unwrap();
    assert_ne!(alice.session_id, mallory.session_id);
    assert!(alice.token.starts_with("pp_session_") && alice.token.len() == 11 + 64);

    // The attacker sends the owner's next batch numbers first: refused, with the ingest
    // key (in the owner's name or their own) and with a token of their own session.
    for (key, user) in [
        (&app.keys.ingest, "alice"),
        (&app.keys.ingest, "mallory"),
        (&mallory.token, "alice"),
        (&mallory.token, "mallory"),
    ] {
        for seq in 0..3 {
            let (status, reply) = app
                .post("/v1/events", key, &batch(user, &alice.session_id, seq))
                .await;
            assert_eq!(status, 403, "{user}: {reply}");
            let code = reply["error"]["code"].as_str().unwrap();
            assert!(
                code == "token_session" || code == "foreign_session",
                "{reply}"
            );
        }
    }
    // The owner's batches are all stored: none is a "duplicate", none a 409.
    let owner = app.api(&alice.token);
    for seq in 0..3 {
        let body = json!({"seq": seq, "events": [{"type": "move", "t": 10.0 + f64::from(seq), "x": 5, "y": 6}]});
        let (status, reply) = app.post("/v1/events", &alice.token, &body).await;
        assert_eq!(
            (status, reply["duplicate"].as_bool()),
            (202, Some(false)),
            "{reply}"
        );
    }
    let stored = secret.user("alice").await.unwrap().unwrap();
    assert_eq!((stored.events, stored.batches), (3, 3));
    assert!(secret.user("mallory").await.unwrap().is_none());
    // The token names the user and session; what is sent beside it must agree.
    let ack = owner
        .post_recording("alice", &alice.session_id, &session(&style(0), 3, 5), 1_000)
        .await;
    assert!(ack.is_ok(), "{ack:?}");
    let tokens = [&alice.token, &mallory.token];
    for token in tokens {
        let (status, _) = app
            .post(
                "/v1/events",
                token,
                &batch("alice", "some-other-session", 9),
            )
            .await;
        assert_eq!(status, 403);
    }
    // An unknown token is no key.
    let (status, _) = app
        .post(
            "/v1/events",
            &format!("pp_session_{}", "0".repeat(64)),
            &batch("a", "b", 0),
        )
        .await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_streams_open_for_their_own_session_and_close_when_their_credential_ends() {
    let app = TestApp::spawn_with(|c| c.stream_recheck_ms = 100).await;
    let admin = app.api(&app.keys.admin);
    let secret = app.api(&app.keys.secret);
    let alice = secret
        .open_session("alice", Purpose::Continuous, None)
        .await
        .unwrap();
    let mallory = secret
        .open_session("mallory", Purpose::Continuous, None)
        .await
        .unwrap();
    // Another session's token and the ingest key do not open a token session's stream.
    assert_eq!(
        refusal(app.api(&mallory.token).stream(&alice.session_id).await),
        (403, "foreign_session".into())
    );
    assert_eq!(
        refusal(app.api(&app.keys.ingest).stream(&alice.session_id).await),
        (403, "token_session".into())
    );
    let ends_soon = async |mut stream: pointerprint_client::TrustStream| {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(None) => break,
                Ok(Some(Ok(_update))) => {}
                other => panic!("the stream did not end: {other:?}"),
            }
        }
    };

    // Its own token opens it, until the backend calls the session fraud.
    let own = app
        .api(&alice.token)
        .stream(&alice.session_id)
        .await
        .unwrap();
    let backend = secret.stream(&alice.session_id).await.unwrap();
    secret
        .session_feedback(&alice.session_id, Label::Fraud)
        .await
        .unwrap();
    ends_soon(own).await;
    assert_eq!(
        refusal(app.api(&alice.token).stream(&alice.session_id).await).0,
        401
    );

    // A key's stream closes once the key is revoked.
    let trusted = admin.create_key("agent", Role::Ingest).await.unwrap();
    let keyed = app.api(&trusted.key).stream("desktop-1").await.unwrap();
    admin.revoke_key(trusted.record.id).await.unwrap();
    ends_soon(keyed).await;
    // The backend's secret key still holds.
    let mut backend = backend;
    let open = tokio::time::timeout(Duration::from_millis(500), backend.next()).await;
    assert!(open.is_err(), "the backend's stream ended: {open:?}");
}

/// Sends the head of a `POST /v1/events` announcing `length` bytes of body, then only
/// `sent` of them, and returns the status line of the answer, if one comes within 5 s.
async fn answer_to_a_partial_post(app: &TestApp, auth: &str, length: usize, sent: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /v1/events HTTP/1.1\r\nHost: {address}\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {length}\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(sent).await.unwrap();
    let mut answer = vec![0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut answer)).await;
    match read {
        Ok(Ok(n)) => String::from_utf8_lossy(&answer[..n])
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        _ => "no answer".to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_refused_before_their_body_is_read() {
    let app = TestApp::spawn().await;
    // 64 MiB announced, 64 KiB sent: the answer comes without waiting for the rest.
    let start = vec![b'['; 64 << 10];
    for auth in ["", "Authorization: Bearer pp_ingest_unknown\r\n"] {
        let status = answer_to_a_partial_post(&app, auth, 64 << 20, &start).await;
        assert_eq!(status, "HTTP/1.1 401 Unauthorized", "{auth:?}");
    }
    // A whole body that is not even JSON: still 401, not a parse error.
    let response = app
        .client
        .post(format!("{}/v1/events", app.base))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let reply: Value = response.json().await.unwrap();
    assert_eq!(reply["error"]["code"], "unauthorized", "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_mouse_data_keeps_distinct_batches_that_start_in_the_same_millisecond() {
    let app = TestApp::spawn().await;
    let url = format!(
        "{}/save-mouse-data?user_id=olga&session_id=ext&key={}",
        app.base, app.keys.ingest
    );
    let payload = |x: u32| {
        json!([
            {"eventType": "mousemove", "x": x, "y": 20, "timestamp": 1_700_000_000_000.25},
            {"eventType": "mousemove", "x": x + 1, "y": 21, "timestamp": 1_700_000_000_016.5}
        ])
    };
    let mut duplicates = Vec::new();
    for body in [payload(10), payload(500), payload(10)] {
        let response = app.client.post(&url).json(&body).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 202);
        let reply: Value = response.json().await.unwrap();
        duplicates.push(reply["duplicate"].as_bool().unwrap());
    }
    assert_eq!(
        duplicates,
        [false, false, true],
        "a retry is the only duplicate"
    );
    let olga = app
        .api(&app.keys.secret)
        .user("olga")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((olga.batches, olga.events), (2, 4));
}
