//! Browser-test helpers: a headless Chromium, a small static site on another origin, and a
//! synthetic person's hand that drives the real mouse to what a page shows.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use pointerprint_browser::{Browser, LaunchOptions, MouseAction, MouseInput, Page};
use pointerprint_core::Button;
use pointerprint_synth::{Hand, MotorStyle};
use serde_json::Value;

pub const VIEWPORT: (u32, u32) = (1280, 800);
pub const WAIT: Duration = Duration::from_secs(20);

pub async fn browser(extensions: Vec<PathBuf>) -> Browser {
    let options = LaunchOptions {
        viewport: VIEWPORT,
        extensions,
    };
    Browser::launch(options)
        .await
        .unwrap_or_else(|e| panic!("cannot launch Chromium: {e}"))
}

/// Where screenshots go: `target/test-artifacts/`.
pub fn artifact(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

pub async fn screenshot(page: &Page, name: &str) {
    page.screenshot(&artifact(name)).await.unwrap();
}

/// Serves fixed HTML pages at `path`s on 127.0.0.1:0, an origin other than the service's;
/// returns its base URL. The server lives as long as the test's runtime.
pub async fn static_site(pages: Vec<(&'static str, String)>) -> String {
    let mut router = Router::new();
    for (path, html) in pages {
        router = router.route(path, get(move || async move { Html(html) }));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

pub fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Evaluates `js`, panicking with the page's console on a script error.
pub async fn eval(page: &Page, js: &str) -> Value {
    match page.evaluate(js).await {
        Ok(v) => v,
        Err(e) => panic!("{js}: {e}\nconsole: {:#?}", page.console()),
    }
}

pub async fn wait(page: &Page, condition: &str) {
    if let Err(e) = page.wait_for(condition, WAIT).await {
        panic!("{e}\nconsole: {:#?}", page.console());
    }
}

/// Waits for two frames of the page. Chromium hands wheel events to the page a frame
/// later than mouse moves, so moves dispatched (ahead of real time) right after a wheel
/// turn would reach the page before it; waiting keeps the page's order the given order.
pub async fn next_frames(page: &Page) {
    let frames =
        "new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))";
    eval(page, frames).await;
}

/// A synthetic person at the mouse of one page. Input times follow the person's own
/// clock, which starts at the real time and runs ahead of it: Chromium stamps each event
/// with the time given (see pointerprint-browser), so a minute of movement is dispatched
/// in a fraction of a second and still recorded with human timing.
pub struct Person<'p> {
    pub page: &'p Page,
    hand: Hand,
    pos: (f64, f64),
    /// The person's clock, seconds since the UNIX epoch.
    clock: f64,
    /// Every input dispatched so far, in order.
    pub sent: Vec<MouseInput>,
}

impl<'p> Person<'p> {
    pub fn new(page: &'p Page, style: &MotorStyle, session_seed: u64) -> Self {
        Self::with_hand(page, Hand::new(style, session_seed))
    }

    pub fn with_hand(page: &'p Page, hand: Hand) -> Self {
        Self {
            page,
            hand,
            pos: (f64::from(VIEWPORT.0) / 2.0, f64::from(VIEWPORT.1) / 2.0),
            clock: now_s(),
            sent: Vec::new(),
        }
    }

    async fn send(&mut self, inputs: &[MouseInput]) {
        self.page.dispatch_mouse(inputs).await.unwrap();
        self.sent.extend_from_slice(inputs);
    }

    fn input(&self, action: MouseAction, button: Button, buttons: u32) -> MouseInput {
        let click_count = u32::from(matches!(action, MouseAction::Press | MouseAction::Release));
        MouseInput {
            action,
            x: self.pos.0,
            y: self.pos.1,
            button,
            buttons,
            click_count,
            timestamp: self.clock,
        }
    }

    /// A pause between actions: the clock moves on (never behind the real clock).
    pub fn pause(&mut self) {
        self.clock = self.clock.max(now_s()) + self.hand.pause_ms() / 1000.0;
    }

    /// Moves to a target of size `width` at `to`, with `buttons` held (a drag if not 0).
    async fn move_to(&mut self, to: (f64, f64), width: f64, buttons: u32) {
        let path = self.hand.move_to(self.pos, to, width, buttons != 0);
        let start = self.clock;
        let mut inputs = Vec::with_capacity(path.len());
        for sample in path {
            // A mouse reports whole pixels (device pixel ratio 1 here).
            self.pos = (
                sample.x.round().clamp(0.0, f64::from(VIEWPORT.0) - 1.0),
                sample.y.round().clamp(0.0, f64::from(VIEWPORT.1) - 1.0),
            );
            self.clock = start + sample.t / 1000.0;
            // Chromium treats a move as a drag only when it names the held button.
            let held = if buttons == 0 {
                Button::None
            } else {
                Button::Left
            };
            inputs.push(self.input(MouseAction::Move, held, buttons));
        }
        self.send(&inputs).await;
    }

    /// The centre and size of the first element matching `selector`, in the viewport.
    pub async fn locate(&self, selector: &str) -> ((f64, f64), f64) {
        let js = format!(
            "(() => {{ const r = document.querySelector({selector:?}).getBoundingClientRect();
                      return [r.left + r.width / 2, r.top + r.height / 2, Math.min(r.width, r.height)]; }})()"
        );
        let v = eval(self.page, &js).await;
        let n = |i: usize| v[i].as_f64().unwrap();
        ((n(0), n(1)), n(2))
    }

    async fn press_release(&mut self) {
        self.clock += self.hand.dwell_ms() / 1000.0;
        let press = self.input(MouseAction::Press, Button::Left, 1);
        self.clock += self.hand.hold_ms() / 1000.0;
        let release = self.input(MouseAction::Release, Button::Left, 0);
        self.send(&[press, release]).await;
    }

    /// Points at the element and clicks it, as the person would.
    pub async fn click(&mut self, selector: &str) {
        let (centre, size) = self.locate(selector).await;
        self.click_at(centre, size).await;
    }

    /// Points at a target of size `width` at `to` and clicks it.
    pub async fn click_at(&mut self, to: (f64, f64), width: f64) {
        self.move_to(to, width, 0).await;
        self.press_release().await;
    }

    /// Clicks a target that goes away when hit, trying again after a miss.
    pub async fn hit(&mut self, selector: &str) {
        assert!(
            self.try_hit(selector, 4).await,
            "{selector} was not hit in four tries"
        );
    }

    /// Clicks a target that goes away when hit, up to `tries` times; whether it went.
    pub async fn try_hit(&mut self, selector: &str, tries: usize) -> bool {
        let (first, _) = self.locate(selector).await;
        for _ in 0..tries {
            self.click(selector).await;
            self.pause();
            let gone = format!(
                "(() => {{ const e = document.querySelector({selector:?}); if (!e) return true;
                          const r = e.getBoundingClientRect();
                          return Math.abs(r.left + r.width / 2 - {}) > 0.5 || Math.abs(r.top + r.height / 2 - {}) > 0.5; }})()",
                first.0, first.1
            );
            if eval(self.page, &gone).await == Value::Bool(true) {
                return true;
            }
        }
        false
    }

    /// Drags the element `item` onto the element `onto`.
    pub async fn drag(&mut self, item: &str, onto: &str) {
        let (grab, size) = self.locate(item).await;
        self.move_to(grab, size, 0).await;
        self.clock += self.hand.dwell_ms() / 1000.0;
        let press = self.input(MouseAction::Press, Button::Left, 1);
        self.send(&[press]).await;
        self.clock += 0.12;
        let (drop, size) = self.locate(onto).await;
        self.move_to(drop, size / 2.0, 1).await;
        self.clock += self.hand.dwell_ms() / 2000.0;
        let release = self.input(MouseAction::Release, Button::Left, 0);
        self.send(&[release]).await;
    }

    /// Turns the wheel `notches` times over where the pointer is, in one flick.
    pub async fn wheel(&mut self, notches: usize) {
        let mut inputs = Vec::with_capacity(notches);
        for _ in 0..notches {
            let (px, gap) = self.hand.wheel_notch();
            self.clock += gap / 1000.0;
            inputs.push(self.input(MouseAction::Wheel { dx: 0.0, dy: px }, Button::None, 0));
        }
        self.send(&inputs).await;
        next_frames(self.page).await;
    }

    /// Moves into the element without clicking.
    pub async fn hover(&mut self, selector: &str) {
        let (centre, size) = self.locate(selector).await;
        self.move_to(centre, size.max(80.0), 0).await;
    }
}

/// The folder of the balabit-dev data set: `$POINTERPRINT_DATASETS/balabit-dev`, else
/// `../shared/datasets/balabit-dev` beside the repository. Missing, it fails the test.
pub fn balabit_dev() -> PathBuf {
    let root = std::env::var_os("POINTERPRINT_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets"));
    let dir = root.join("balabit-dev");
    assert!(
        dir.join("test_files").is_dir(),
        "the balabit-dev data set is missing at {} (set POINTERPRINT_DATASETS to the folder that holds it)",
        dir.display()
    );
    dir
}
