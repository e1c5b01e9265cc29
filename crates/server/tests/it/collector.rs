//! The collector SDK in a real Chromium, on a page of another origin: what the page saw is
//! what the service stored, batch by batch and in order, with the events' own times,
//! including the last batch that only `sendBeacon` delivers as the page goes away.

use std::time::Duration;

use pointerprint_browser::{MouseAction, MouseInput, Page, mouse_inputs};
use pointerprint_client::Purpose;
use pointerprint_core::{EventKind, Recording};
use pointerprint_formats::{read_file, session_files};
use pointerprint_synth::MotorStyle;
use serde_json::Value;

use crate::support::TestApp;
use crate::web::{self, Person, VIEWPORT, eval, next_frames, now_s, static_site, wait};

/// A session of `shopper` that the shop's backend opened; its id and token.
async fn shopper_session(app: &TestApp) -> (String, String) {
    let opened = app
        .api(&app.keys.secret)
        .open_session("shopper", Purpose::Continuous, None)
        .await
        .unwrap();
    (opened.session_id, opened.token)
}

/// A page that runs the SDK against the service with a session's token and, independently,
/// notes every pointer event it sees (coalesced moves included) in `window.seen` as
/// [type, t, x, y(, dy)].
fn collector_page(
    app: &TestApp,
    (session_id, token): &(String, String),
    batch_size: usize,
) -> String {
    format!(
        r#"<!doctype html><html><head><title>shop</title></head>
<body style="margin:0;font-family:sans-serif"><h1 style="margin:20px">An ordinary shop page</h1>
<script src="{base}/sdk.js"></script>
<script>
window.seen = [];
const note = (type, e) => seen.push([type, Math.round((performance.timeOrigin + e.timeStamp) * 100) / 100, e.clientX, e.clientY]);
addEventListener('pointermove', (e) => {{
  const list = e.getCoalescedEvents();
  for (const c of list.length ? list : [e]) note('move', c);
}});
addEventListener('pointerdown', (e) => note('down', e));
addEventListener('pointerup', (e) => note('up', e));
addEventListener('wheel', (e) => seen.push(['wheel', Math.round((performance.timeOrigin + e.timeStamp) * 100) / 100, e.clientX, e.clientY, e.deltaY]));
window.delivered = 0;
window.collector = PointerPrint.start({{
  endpoint: '{base}/v1/events', token: '{token}', sessionId: '{session_id}',
  batchSize: {batch_size}, batchMs: 600000,
}}).on('batch', (b) => (delivered += b.events));
</script></body></html>"#,
        base = app.base,
    )
}

fn kind_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Move | EventKind::Drag => "move",
        EventKind::Press => "down",
        EventKind::Release => "up",
        EventKind::Wheel { .. } => "wheel",
    }
}

/// Total wheel turn the page saw (Chromium merges the turns of one frame into one event).
fn wheel_distance(seen: &[Value]) -> f64 {
    seen.iter()
        .filter(|s| s[0] == "wheel")
        .map(|s| s[4].as_f64().unwrap())
        .sum()
}

fn dispatched_wheel(inputs: &[MouseInput]) -> f64 {
    inputs
        .iter()
        .filter_map(|i| match i.action {
            MouseAction::Wheel { dy, .. } => Some(dy),
            _ => None,
        })
        .sum()
}

/// Waits until the page has seen `at_least` events, or until no more arrive.
async fn seen_settles(page: &Page, at_least: usize) -> Vec<Value> {
    let _ = page
        .wait_for(
            &format!("seen.length >= {at_least}"),
            Duration::from_secs(5),
        )
        .await;
    let mut last = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let n = eval(page, "seen.length").await.as_u64().unwrap() as usize;
        if n == last {
            break;
        }
        last = n;
    }
    eval(page, "seen").await.as_array().unwrap().clone()
}

/// Navigates away, so the page's last batch can only go by `sendBeacon`, then waits until
/// the service holds `count` events of the session and returns them.
async fn leave_and_collect(
    app: &TestApp,
    page: &Page,
    session_id: &str,
    count: usize,
) -> Recording {
    let state = eval(page, "[seen.length, delivered]").await;
    assert!(
        state[0].as_u64() > state[1].as_u64(),
        "nothing left for the beacon to deliver: [seen, delivered] = {state}"
    );
    page.goto("about:blank").await.unwrap();
    let store = pointerprint_server::startup::open_store(&app.config)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let stored = store.session_events(session_id).await.unwrap();
        let n = stored.as_ref().map_or(0, |s| s.recording.events.len());
        if n >= count || started.elapsed() > web::WAIT {
            assert_eq!(n, count, "events stored after leaving the page");
            store.close().await;
            return stored.unwrap().recording;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The stored events are the page's, one for one, in order, at the same times and places.
/// Times as the SDK keeps them: never before the previous event's (the page clock's jitter
/// can put two moves 0.1 ms out of order).
fn assert_same(stored: &Recording, seen: &[Value]) {
    assert_eq!(stored.events.len(), seen.len());
    let mut latest = f64::NEG_INFINITY;
    for (i, (e, s)) in stored.events.iter().zip(seen).enumerate() {
        latest = latest.max(s[1].as_f64().unwrap());
        let (t, x, y) = (latest, s[2].as_f64().unwrap(), s[3].as_f64().unwrap());
        assert_eq!(kind_name(e.kind), s[0], "event {i}");
        assert!(
            (e.t - t).abs() < 0.011,
            "event {i}: stored t {} seen {t}; seen around: {:?}",
            e.t,
            &seen[i.saturating_sub(3)..(i + 3).min(seen.len())]
        );
        assert!(
            (e.x - x).abs() < 0.011 && (e.y - y).abs() < 0.011,
            "event {i}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_arrive_complete_in_order_with_their_times_and_the_beacon_delivers_the_last() {
    let app = TestApp::spawn().await;
    let shop = shopper_session(&app).await;
    let site = static_site(vec![("/", collector_page(&app, &shop, 40))]).await;
    let browser = web::browser(vec![]).await;
    let page = browser.new_page().await.unwrap();
    page.goto(&format!("{site}/")).await.unwrap();
    wait(&page, "window.collector").await;

    let style = MotorStyle::from_seed(21);
    let mut person = Person::new(&page, &style, 1);
    let targets = [
        (200.0, 150.0),
        (900.0, 600.0),
        (1100.0, 120.0),
        (300.0, 700.0),
        (640.0, 400.0),
    ];
    for (i, &to) in targets.iter().enumerate() {
        person.click_at(to, 30.0).await;
        if i == 2 {
            person.wheel(4).await;
        }
        person.pause();
    }
    let sent = person.sent.clone();
    let wheels = sent
        .iter()
        .filter(|i| matches!(i.action, MouseAction::Wheel { .. }))
        .count();
    let seen = seen_settles(&page, sent.len() - wheels).await;
    // Every dispatched move, press and release reached the page as an event of its own
    // (moves coalesced per frame are recovered by getCoalescedEvents), at the time it was
    // given. Chromium merges wheel turns within a frame into one event: their sum is kept.
    let kind = |a: MouseAction| match a {
        MouseAction::Move => "move",
        MouseAction::Press => "down",
        MouseAction::Release => "up",
        MouseAction::Wheel { .. } => "wheel",
    };
    let pointer_sent: Vec<_> = sent.iter().filter(|i| kind(i.action) != "wheel").collect();
    let pointer_seen: Vec<_> = seen.iter().filter(|s| s[0] != "wheel").collect();
    assert_eq!(
        pointer_seen.len(),
        pointer_sent.len(),
        "pointer events seen vs dispatched"
    );
    for (i, (s, input)) in pointer_seen.iter().zip(&pointer_sent).enumerate() {
        let t = s[1].as_f64().unwrap();
        let given = input.timestamp * 1000.0;
        // Chromium coarsens both `timeOrigin` and `timeStamp` to 100 µs, with jitter,
        // so their sum can land up to three steps from the given time (0.21 ms was seen).
        assert!(
            (t - given).abs() < 0.3,
            "event {i}: page time {t}, given {given}"
        );
        assert_eq!(s[0], kind(input.action), "event {i}");
    }
    assert_eq!(
        wheel_distance(&seen),
        dispatched_wheel(&sent),
        "wheel distance"
    );

    let stored = leave_and_collect(&app, &page, &shop.0, seen.len()).await;
    assert_same(&stored, &seen);
    let (_, user) = app.get("/v1/users/shopper", &app.keys.secret).await;
    assert_eq!(
        user["batches"].as_u64(),
        Some(seen.len().div_ceil(40) as u64),
        "{user}"
    );
    let screen = stored.screen.expect("the screen is reported");
    assert!(
        screen.width > 0.0 && screen.device_pixel_ratio > 0.0,
        "{screen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_human_session_replays_through_the_collector_and_arrives() {
    let dir = web::balabit_dev();
    let user = session_files(&dir.join("test_files"))
        .unwrap()
        .into_iter()
        .find(|f| std::fs::metadata(f).is_ok_and(|m| (40_000..150_000).contains(&m.len())))
        .expect("a balabit-dev test session of 1,000 to 3,000 events");
    let recording = read_file(&user).unwrap().recording;
    let app = TestApp::spawn().await;
    let replay = shopper_session(&app).await;
    let site = static_site(vec![("/", collector_page(&app, &replay, 97))]).await;
    let browser = web::browser(vec![]).await;
    let page = browser.new_page().await.unwrap();
    page.goto(&format!("{site}/")).await.unwrap();
    wait(&page, "window.collector").await;

    let viewport = (f64::from(VIEWPORT.0), f64::from(VIEWPORT.1));
    let inputs = mouse_inputs(&recording, viewport, now_s());
    // Up to and including each wheel turn, then the frames that deliver it (see next_frames).
    for chunk in inputs.split_inclusive(|i| matches!(i.action, MouseAction::Wheel { .. })) {
        page.dispatch_mouse(chunk).await.unwrap();
        next_frames(&page).await;
    }
    let buttons = inputs
        .iter()
        .filter(|i| matches!(i.action, MouseAction::Press | MouseAction::Release))
        .count();
    let seen = seen_settles(&page, buttons).await;
    // Chromium leaves out a move to where the pointer already is; everything else arrives.
    let moves = |v: &[Value]| v.iter().filter(|s| s[0] == "move").count();
    let dispatched_moves = inputs
        .iter()
        .filter(|i| i.action == MouseAction::Move)
        .count();
    assert!(
        moves(&seen) * 10 >= dispatched_moves * 9,
        "{} of {dispatched_moves} moves seen ({})",
        moves(&seen),
        user.display()
    );
    let buttons_seen = seen
        .iter()
        .filter(|s| s[0] == "down" || s[0] == "up")
        .count();
    assert_eq!(buttons_seen, buttons, "presses and releases");
    assert_eq!(
        wheel_distance(&seen),
        dispatched_wheel(&inputs),
        "wheel distance"
    );

    let stored = leave_and_collect(&app, &page, &replay.0, seen.len()).await;
    assert_same(&stored, &seen);
    let drags = |r: &Recording| {
        r.events
            .iter()
            .filter(|e| e.kind == EventKind::Drag)
            .count()
    };
    assert!(drags(&recording) > 0, "pick a session with drags");
    assert_eq!(
        drags(&stored),
        drags(&recording),
        "moves with a button held stay drags"
    );
    // The replay keeps the recording's rhythm: its duration is the session's.
    let span = |r: &Recording| r.events.last().unwrap().t - r.events[0].t;
    let original = span(&recording);
    assert!(
        (span(&stored) - original).abs() < 0.01 * original + 50.0,
        "{} vs {original}",
        span(&stored)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_is_served_small_and_cacheable_as_a_script_and_a_module() {
    let app = TestApp::spawn().await;
    for (path, export) in [("/sdk.js", false), ("/sdk.mjs", true)] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
        assert!(
            header("content-type").starts_with("text/javascript"),
            "{path}"
        );
        assert!(header("cache-control").contains("max-age"), "{path}");
        let body = response.text().await.unwrap();
        assert!(body.contains("PointerPrint"));
        assert_eq!(body.contains("export default"), export, "{path}");
    }
    let source = include_str!("../../assets/sdk.js");
    let minified = minify(source);
    assert!(
        minified.len() < 8 * 1024,
        "{} bytes after minification",
        minified.len()
    );
    assert!(source.len() < 8 * 1024, "{} bytes unminified", source.len());
    // It never listens to the keyboard.
    for word in ["keydown", "keyup", "keypress", "input'", "\"input\""] {
        assert!(!source.contains(word), "the SDK mentions {word}");
    }
}

/// A simple minification: comment lines and indentation dropped, lines joined.
fn minify(source: &str) -> String {
    source
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with("/**"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_posts_are_retried_with_backoff_and_nothing_is_lost_or_reordered() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::Html;
    use axum::routing::{get, post};

    let app = TestApp::spawn().await;
    // A same-origin endpoint that fails the first three posts (503), then forwards to the
    // service: the collector must retry the same batch, and keep the later ones waiting.
    let events_url = format!("{}/v1/events", app.base);
    let flaky = shopper_session(&app).await;
    let page = collector_page(&app, &flaky, 30).replace(&events_url, "/flaky");
    let failures = Arc::new(AtomicUsize::new(0));
    let forward = {
        let client = app.client.clone();
        move |State(failures): State<Arc<AtomicUsize>>, headers: HeaderMap, body: Bytes| {
            let (client, url) = (client.clone(), events_url.clone());
            async move {
                if failures.fetch_add(1, Ordering::SeqCst) < 3 {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                let auth = headers["authorization"].clone();
                let reply = client
                    .post(url)
                    .header("authorization", auth)
                    .body(body)
                    .send()
                    .await;
                StatusCode::from_u16(reply.unwrap().status().as_u16()).unwrap()
            }
        }
    };
    let router = axum::Router::new()
        .route("/", get(move || async move { Html(page) }))
        .route("/flaky", post(forward))
        .with_state(failures.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let browser = web::browser(vec![]).await;
    let page = browser.new_page().await.unwrap();
    page.goto(&format!("{site}/")).await.unwrap();
    wait(&page, "window.collector").await;
    eval(
        &page,
        "window.retries = 0; collector.on('error', (e) => e.retry && retries++)",
    )
    .await;
    let style = MotorStyle::from_seed(22);
    let mut person = Person::new(&page, &style, 1);
    // No post can fail before this: the first batch needs 30 events.
    let started = std::time::Instant::now();
    for to in [(300.0, 300.0), (1000.0, 500.0)] {
        person.click_at(to, 30.0).await;
        person.pause();
    }
    let seen = seen_settles(&page, person.sent.len()).await;
    eval(&page, "collector.flush().then(() => true)").await;
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        eval(&page, "retries").await,
        3,
        "three failed attempts, each retried"
    );
    let store = pointerprint_server::startup::open_store(&app.config)
        .await
        .unwrap();
    let stored = store.session_events(&flaky.0).await.unwrap().unwrap();
    store.close().await;
    assert_same(&stored.recording, &seen);
    assert!(failures.load(Ordering::SeqCst) >= 3 + seen.len().div_ceil(30));
}
