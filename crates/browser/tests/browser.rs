//! Drives the real headless Chromium; fails (never skips) when none is installed.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pointerprint_browser::{Browser, BrowserError, LaunchOptions, MouseAction, MouseInput, Page};
use pointerprint_core::Button;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Records every pointer event, coalesced ones included, with its page-side time.
const RECORDER: &str = r#"<!doctype html>
<html><body style="margin:0;height:5000px">
<input id="name">
<script>
window.seen = [];
const record = (e) => ({ type: e.type, t: e.timeStamp, x: e.clientX, y: e.clientY,
  button: e.button, buttons: e.buttons, dx: e.deltaX ?? 0, dy: e.deltaY ?? 0 });
addEventListener("pointermove", (e) => {
  const all = e.getCoalescedEvents();
  for (const c of all.length ? all : [e]) seen.push(record(c));
});
for (const type of ["pointerdown", "pointerup", "wheel"]) {
  addEventListener(type, (e) => seen.push(record(e)), { passive: true });
}
console.log("recorder ready");
</script>
</body></html>"#;

/// Serves `html` at every path on 127.0.0.1, one connection at a time is enough.
async fn serve(html: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let favicon = request.starts_with(b"GET /favicon.ico");
                let (status, body) = if favicon {
                    ("404 Not Found", "")
                } else {
                    ("200 OK", html)
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{address}/")
}

/// Taken by every test for its whole run, so one browser runs at a time: with several
/// busy on two cores, Chromium now and then stamped a coalesced move some milliseconds
/// off its given time, and the timing tests failed.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn launch(options: LaunchOptions) -> Browser {
    match Browser::launch(options).await {
        Ok(browser) => browser,
        Err(error) => panic!("cannot run the browser tests: {error}"),
    }
}

async fn recorder_page(browser: &Browser) -> Page {
    let page = browser.new_page().await.unwrap();
    page.goto(&serve(RECORDER).await).await.unwrap();
    page
}

fn now_epoch_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn moves(start: f64, count: usize) -> Vec<MouseInput> {
    let mut t = start;
    (0..count)
        .map(|i| {
            // Gaps of 8 to 16 ms in a fixed, irregular pattern.
            t += (8 + (i * 7919) % 9) as f64 / 1000.0;
            MouseInput {
                action: MouseAction::Move,
                x: 10.0 + (i % 600) as f64,
                y: 20.0 + (i % 300) as f64,
                button: Button::None,
                buttons: 0,
                click_count: 0,
                timestamp: t,
            }
        })
        .collect()
}

async fn seen(page: &Page) -> Vec<Value> {
    page.evaluate("seen")
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

async fn time_origin_s(page: &Page) -> f64 {
    page.evaluate("performance.timeOrigin")
        .await
        .unwrap()
        .as_f64()
        .unwrap()
        / 1000.0
}

fn input(action: MouseAction, x: f64, button: Button, buttons: u32, timestamp: f64) -> MouseInput {
    let click_count = u32::from(matches!(action, MouseAction::Press | MouseAction::Release));
    MouseInput {
        action,
        x,
        y: 100.0,
        button,
        buttons,
        click_count,
        timestamp,
    }
}

/// Checks the page saw `inputs` (moves only) in order, at their positions, and with the
/// given time gaps: page time minus given time stays the same within 5 ms.
fn assert_moves_match(events: &[Value], inputs: &[MouseInput], time_origin: f64) {
    let moves: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "pointermove")
        .collect();
    assert_eq!(
        moves.len(),
        inputs.len(),
        "every move arrives, none coalesced away"
    );
    let offset = |event: &Value, input: &MouseInput| {
        time_origin + event["t"].as_f64().unwrap() / 1000.0 - input.timestamp
    };
    let first_offset = offset(moves[0], &inputs[0]);
    for (event, input) in moves.iter().zip(inputs) {
        assert_eq!(
            (event["x"].as_f64(), event["y"].as_f64()),
            (Some(input.x), Some(input.y))
        );
        let drift = offset(event, input) - first_offset;
        // The replay runs about two minutes ahead of the clock, so events stamped on arrival
        // would drift by seconds; a loaded machine has stamped a coalesced move 2.2 ms off.
        assert!(
            drift.abs() < 0.005,
            "page time drifts {drift} s from the given time at {event}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_times_follow_the_given_timestamps_not_the_arrival() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let browser = launch(LaunchOptions::default()).await;
    let page = recorder_page(&browser).await;
    let start = now_epoch_s();
    let mut inputs = moves(start, 200);
    inputs[1].x += 0.25; // fractional positions survive
    let end = inputs[199].timestamp;
    let tail = [
        input(MouseAction::Press, 300.0, Button::Left, 1, end + 0.010),
        input(MouseAction::Move, 310.0, Button::None, 1, end + 0.020),
        input(MouseAction::Release, 310.0, Button::Left, 0, end + 0.030),
        input(
            MouseAction::Wheel { dx: 0.0, dy: 120.0 },
            310.0,
            Button::None,
            0,
            end + 0.040,
        ),
    ];
    inputs.extend(tail);
    let began = std::time::Instant::now();
    page.dispatch_mouse(&inputs).await.unwrap();
    // The trajectory spans about 2.4 s; pipelined, it is sent much faster than that,
    // so the page times can only come from the timestamps.
    assert!(
        began.elapsed() < Duration::from_millis(1500),
        "took {:?}",
        began.elapsed()
    );
    page.wait_for(
        "seen.some((e) => e.type === 'wheel')",
        Duration::from_secs(5),
    )
    .await
    .unwrap();

    let events = seen(&page).await;
    let origin = time_origin_s(&page).await;
    let moves: Vec<MouseInput> = inputs
        .iter()
        .copied()
        .filter(|i| i.action == MouseAction::Move)
        .collect();
    assert_moves_match(&events, &moves, origin);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds[199..],
        [
            "pointermove",
            "pointerdown",
            "pointermove",
            "pointerup",
            "wheel"
        ]
    );
    let (down, drag, up, wheel) = (&events[200], &events[201], &events[202], &events[203]);
    assert_eq!(
        (down["button"].as_i64(), down["buttons"].as_i64()),
        (Some(0), Some(1))
    );
    assert_eq!(drag["buttons"].as_i64(), Some(1));
    assert_eq!(
        (up["button"].as_i64(), up["buttons"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(wheel["dy"].as_f64(), Some(120.0));
    let gap_ms = wheel["t"].as_f64().unwrap() - events[199]["t"].as_f64().unwrap();
    assert!(
        (gap_ms - 40.0).abs() < 1.0,
        "wheel came {gap_ms} ms after the last move"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_minute_trajectory_replays_in_seconds_ahead_of_the_clock() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let browser = launch(LaunchOptions::default()).await;
    let page = recorder_page(&browser).await;
    let inputs = moves(now_epoch_s(), 10_000);
    let span = inputs[9_999].timestamp - inputs[0].timestamp;
    assert!(span > 110.0, "the trajectory spans {span} s");
    let began = std::time::Instant::now();
    page.dispatch_mouse(&inputs).await.unwrap();
    let took = began.elapsed();
    assert!(took < Duration::from_secs(30), "took {took:?}");
    page.wait_for("seen.length >= 10000", Duration::from_secs(10))
        .await
        .unwrap();
    let origin = time_origin_s(&page).await;
    assert_moves_match(&seen(&page).await, &inputs, origin);
    // Time may go back afterwards: a second replay starting at the real clock again.
    page.evaluate("seen = []").await.unwrap();
    let again = moves(now_epoch_s(), 50);
    page.dispatch_mouse(&again).await.unwrap();
    page.wait_for("seen.length >= 50", Duration::from_secs(5))
        .await
        .unwrap();
    assert_moves_match(&seen(&page).await, &again, origin);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_evaluate_type_report_console_and_take_screenshots() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let browser = launch(LaunchOptions {
        viewport: (640, 480),
        ..Default::default()
    })
    .await;
    let page = recorder_page(&browser).await;
    assert_eq!(page.evaluate("1 + 2").await.unwrap(), Value::from(3));
    let later =
        "new Promise((done) => setTimeout(() => done({ ok: [innerWidth, innerHeight] }), 10))";
    assert_eq!(
        page.evaluate(later).await.unwrap()["ok"],
        serde_json::json!([640, 480])
    );
    match page.evaluate("throw new Error('broken on purpose')").await {
        Err(BrowserError::Script(text)) => assert!(text.contains("broken on purpose"), "{text}"),
        other => panic!("expected a script error, got {other:?}"),
    }
    page.evaluate("document.querySelector('#name').focus()")
        .await
        .unwrap();
    page.type_text("Ada Lovelace").await.unwrap();
    let typed = page
        .evaluate("document.querySelector('#name').value")
        .await
        .unwrap();
    assert_eq!(typed, "Ada Lovelace");

    page.evaluate("setTimeout(() => { window.late = true; console.warn('late', 42) }, 100)")
        .await
        .unwrap();
    page.wait_for("window.late", Duration::from_secs(5))
        .await
        .unwrap();
    let never = page
        .wait_for("window.never", Duration::from_millis(200))
        .await;
    assert!(matches!(never, Err(BrowserError::Timeout(..))), "{never:?}");
    page.evaluate("setTimeout(() => { throw new Error('uncaught') })")
        .await
        .unwrap();
    page.wait_for("true", Duration::from_secs(1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let console = page.console();
    assert!(
        console.contains(&"log: recorder ready".to_owned()),
        "{console:?}"
    );
    assert!(
        console.contains(&"warning: late 42".to_owned()),
        "{console:?}"
    );
    assert!(
        console
            .iter()
            .any(|line| line.starts_with("exception:") && line.contains("uncaught")),
        "{console:?}"
    );

    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("page.png");
    page.screenshot(&path).await.unwrap();
    let png = std::fs::read(&path).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!(
        (width, height),
        (640, 480),
        "the screenshot has the viewport's size"
    );

    let refused = page.goto("http://127.0.0.1:1/").await;
    assert!(
        matches!(refused, Err(BrowserError::Protocol { .. })),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpacked_extension_runs_its_content_script_on_http_pages() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let extension = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extension");
    let options = LaunchOptions {
        extensions: vec![extension],
        ..Default::default()
    };
    let browser = launch(options).await;
    let page = recorder_page(&browser).await;
    let marked = "document.documentElement.dataset.fixtureExtension === 'loaded'";
    page.wait_for(marked, Duration::from_secs(10))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_browser_ends_its_process_and_profile() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let browser = launch(LaunchOptions::default()).await;
    let pid = browser.pid();
    let profile = browser.profile_dir().to_owned();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    drop(browser);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "process {pid} still runs"
    );
    assert!(!profile.exists(), "{} still exists", profile.display());
}
