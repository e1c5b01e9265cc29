//! Decisions the request itself must not be able to buy (issue 14, items 1 and 2): input
//! that is not pointer input a hand makes (clicks at one pixel, nothing moving), and screen
//! claims (or rescaled coordinates) that would stretch an impostor's movements into the
//! owner's.

use pointerprint_core::{Button, Event, EventKind, Recording, Screen};
use pointerprint_formats::to_native;
use pointerprint_synth::session;
use serde_json::{Value, json};

use crate::demo::{DemoClient, PASSWORD, alice, train_demo_user};
use crate::support::{TestApp, enrolled, style};

/// `n` clicks at one pixel, 300 ms apart, with no move between them.
fn clicks_at(n: usize, x: f64, y: f64) -> Recording {
    let events = (0..n)
        .flat_map(|i| {
            let t = 1_000.0 + i as f64 * 300.0;
            [
                Event::new(t, x, y, EventKind::Press, Button::Left),
                Event::new(t + 90.0, x, y, EventKind::Release, Button::Left),
            ]
        })
        .collect();
    Recording::new(events)
}

fn inline(user: &str, recording: &Recording) -> Value {
    let native = to_native(recording);
    let mut body = json!({"user_id": user, "events": native.events});
    if let Some(screen) = native.screen {
        body["screen"] = serde_json::to_value(screen).unwrap();
    }
    body
}

fn assert_implausible(verdict: &Value) {
    assert_eq!(
        (verdict["decision"].as_str(), verdict["code"].as_str()),
        (Some("reject"), Some("implausible_input")),
        "{verdict}"
    );
    assert!(
        verdict["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("not plausible pointer input")),
        "{verdict}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicks_without_movement_are_implausible_input_wherever_they_are_sent() {
    // Many verifications of one user: the rate limit (tested on its own) is off.
    let app = TestApp::spawn_with(|c| {
        c.demo = true;
        c.verify_per_user_per_minute = 0;
    })
    .await;
    let mut carol = DemoClient::new(&app);
    let (status, body) = carol
        .call(
            "register",
            Some(json!({"username": "carol", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    train_demo_user(&app, "demo-carol", &alice()).await;
    // The model works: the owner's own mouse is accepted.
    let (status, verdict) = app
        .post(
            "/v1/verify",
            &app.keys.secret,
            &inline("demo-carol", &session(&alice(), 4_000, 30)),
        )
        .await;
    assert_eq!(
        (status, verdict["decision"].as_str()),
        (200, Some("accept")),
        "{verdict}"
    );
    assert_eq!(verdict["code"], "score_at_or_above_threshold");

    for (n, x, y) in [(100, 640.0, 400.0), (30, 211.0, 733.0)] {
        let forged = clicks_at(n, x, y);
        // Inline.
        let (status, verdict) = app
            .post(
                "/v1/verify",
                &app.keys.secret,
                &inline("demo-carol", &forged),
            )
            .await;
        assert_eq!(status, 200, "{verdict}");
        assert_implausible(&verdict);
        assert_eq!(verdict["actions"], n, "{verdict}");
        // Stored, then verified by its session id.
        let session_id = format!("forged-{n}");
        app.send_session("demo-carol", &session_id, &forged, 500)
            .await;
        let (status, verdict) = app
            .post(
                "/v1/verify",
                &app.keys.secret,
                &json!({"user_id": "demo-carol", "session_id": session_id}),
            )
            .await;
        assert_eq!(status, 200, "{verdict}");
        assert_implausible(&verdict);
        // The demo's sign-in, with the right password.
        let mut stranger = DemoClient::new(&app);
        let events = to_native(&forged).events;
        let (status, body) = stranger
            .call(
                "login",
                Some(json!({"username": "carol", "password": PASSWORD, "events": events})),
            )
            .await;
        // The unauthenticated page gets the coarse answer only; the log below says why.
        assert_eq!(
            (
                status,
                body["decision"].as_str(),
                body["signed_in"].as_bool()
            ),
            (200, Some("reject"), Some(false)),
            "{body}"
        );
        assert!(body.get("score").is_none(), "{body}");
        assert!(stranger.cookie.is_none(), "a forged mouse signs nobody in");
    }
    // Every one of them is in the audit log, as rejections.
    let (_, log) = app
        .get(
            "/v1/decisions?user_id=demo-carol&limit=10",
            &app.keys.secret,
        )
        .await;
    let implausible = log["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["decision"] == "reject"
                && d["reasons"][0]
                    .as_str()
                    .is_some_and(|r| r.contains("implausible") || r.contains("not plausible"))
        })
        .count();
    assert_eq!(implausible, 6, "{log}");
}

/// The same events with every position multiplied by `k`, claiming `screen`.
fn rescaled(recording: &Recording, k: f64, screen: Option<Screen>) -> Recording {
    let mut r = recording.clone();
    for e in &mut r.events {
        e.x *= k;
        e.y *= k;
    }
    r.screen = screen;
    r
}

fn claim(width: f64, height: f64) -> Option<Screen> {
    Some(Screen {
        width,
        height,
        device_pixel_ratio: 1.0,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_claim_cannot_turn_an_impostor_into_the_owner() {
    // Many verifications of one user: the rate limit (tested on its own) is off.
    let app = TestApp::spawn_with(|c| c.verify_per_user_per_minute = 0).await;
    enrolled(&app, 4).await;
    let mut impostors = 0;
    for claimed in 0..4u64 {
        for actor in (0..4u64).filter(|&a| a != claimed) {
            let user = format!("user{claimed}");
            let true_session = session(&style(actor), 7_000 + 10 * claimed + actor, 40);
            let (status, verdict) = app
                .post(
                    "/v1/verify",
                    &app.keys.secret,
                    &inline(&user, &true_session),
                )
                .await;
            assert_eq!(status, 200, "{verdict}");
            if verdict["decision"] != "reject" {
                continue;
            }
            impostors += 1;
            let true_screen = true_session
                .screen
                .expect("synthetic sessions have a screen");
            let (w, h) = (true_screen.width, true_screen.height);
            // Claims no screen has: refused outright.
            for screen in [
                claim(1e-5, 1e-5),
                claim(1e-300, 1e-300),
                claim(0.0, 0.0),
                claim(-w, h),
            ] {
                let forged = rescaled(&true_session, 1.0, screen);
                let (status, reply) = app
                    .post("/v1/verify", &app.keys.secret, &inline(&user, &forged))
                    .await;
                assert_eq!(
                    (status, reply["error"]["code"].as_str()),
                    (400, Some("invalid_screen")),
                    "{screen:?}: {reply}"
                );
            }
            // Valid claims with positions to match (preprocessing's rescaling undoes the
            // factor), a screen far larger than the positions, one the positions do not fit
            // (ignored), and positions blown up with no claim (the plausibility gate's speed
            // limit): never an accept.
            for (k, screen) in [
                (5.5, claim(w * 5.5, h * 5.5)),
                (0.25, claim(w * 0.25, h * 0.25)),
                (2.0, claim(w * 2.0, h * 2.0)),
                (1.0, claim(16_384.0, 16_384.0)),
                (1.0, claim(320.0, 240.0)),
                (5.5, None),
            ] {
                let forged = rescaled(&true_session, k, screen);
                let (status, reply) = app
                    .post("/v1/verify", &app.keys.secret, &inline(&user, &forged))
                    .await;
                assert!(
                    status == 400 || (status == 200 && reply["decision"] != "accept"),
                    "{user} accepted actor {actor} with positions x{k} on {screen:?}: {reply}"
                );
            }
        }
    }
    assert!(
        impostors >= 10,
        "only {impostors} impostor sessions were rejected"
    );
}

/// The trust updates that arrive until the stream is quiet for a second.
async fn updates_until_quiet(
    socket: &mut pointerprint_client::TrustStream,
) -> Vec<pointerprint_client::TrustUpdate> {
    let mut got = Vec::new();
    while let Ok(Some(update)) =
        tokio::time::timeout(std::time::Duration::from_secs(1), socket.next()).await
    {
        got.push(update.unwrap());
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_continuous_window_without_movement_moves_no_trust() {
    let app = TestApp::spawn().await;
    enrolled(&app, 3).await;
    let mut socket = app.api(&app.keys.ingest).stream("idle").await.unwrap();
    let owner = session(&style(0), 5151, 30);
    app.send_session("user0", "idle", &owner, 1_000).await;
    // A few of someone else's actions take trust below full (so a change either way shows).
    let mut other = session(&style(1), 5252, 4);
    let start = owner.events.last().unwrap().t + 2_000.0;
    for e in &mut other.events {
        e.t += start;
    }
    let body = json!({"user_id": "user0", "session_id": "idle", "seq": 400, "events": to_native(&other).events});
    assert_eq!(app.post("/v1/events", &app.keys.ingest, &body).await.0, 202);
    let before = updates_until_quiet(&mut socket).await;
    let before = before.last().expect("a trust update for the owner's work");
    assert!(
        (1.0..99.0).contains(&before.trust())
            && !matches!(before, pointerprint_client::TrustUpdate::Lock { .. }),
        "{before:?}"
    );
    // Then a batch of clicks at one spot and nothing moving: neither a forgery to raise
    // trust nor an owner to lock out.
    let mut clicks = clicks_at(60, 500.0, 500.0);
    for e in &mut clicks.events {
        e.t += other.events.last().unwrap().t + 2_000.0;
    }
    let native = to_native(&clicks).events;
    let body = json!({"user_id": "user0", "session_id": "idle", "seq": 500, "events": native});
    assert_eq!(app.post("/v1/events", &app.keys.ingest, &body).await.0, 202);
    let after = updates_until_quiet(&mut socket).await;
    let after = after.last().expect("an update for the clicks");
    assert!(
        !matches!(after, pointerprint_client::TrustUpdate::Lock { .. }),
        "{after:?}"
    );
    assert_eq!(after.trust(), before.trust(), "{before:?} -> {after:?}");
    assert!(
        after.actions() > before.actions(),
        "{before:?} -> {after:?}"
    );
}
