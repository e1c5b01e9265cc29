//! A small Chrome DevTools Protocol client that drives a real headless Chromium, for the
//! integration tests of other crates (the demo site, the collector, the dashboard).
//!
//! ```no_run
//! # async fn demo() -> Result<(), pointerprint_browser::BrowserError> {
//! use pointerprint_browser::{Browser, LaunchOptions};
//! let browser = Browser::launch(LaunchOptions::default()).await?;
//! let page = browser.new_page().await?;
//! page.goto("http://127.0.0.1:8080/").await?;
//! let title = page.evaluate("document.title").await?;
//! # Ok(()) }
//! ```
//!
//! **Finding and launching.** The binary is `$POINTERPRINT_CHROMIUM`, else `chromium`,
//! `chromium-browser` or `google-chrome` on `PATH`; without one, launching fails with a
//! message to install Debian's `chromium` package (tests fail, they never skip). Each
//! browser gets a fresh temporary `--user-data-dir` and the flags `--headless` (the full
//! browser without a display), `--no-sandbox` (CI runs as root in a container),
//! `--disable-gpu`, `--disable-background-networking`, `--disable-component-update`,
//! `--no-first-run` (offline, deterministic) and `--remote-debugging-port=0` (a free
//! port, read back from the profile's `DevToolsActivePort` file). Dropping the
//! [`Browser`] kills the process and deletes the profile.
//!
//! **Extensions.** In Chromium 156 headless, `--load-extension=DIR` together with
//! `--disable-extensions-except=DIR` loads an unpacked MV3 extension, and its content
//! scripts run on ordinary `http://127.0.0.1` pages ([`LaunchOptions::extensions`]).
//! (Branded Google Chrome ignores `--load-extension` since version 137; Debian's
//! Chromium does not.)
//!
//! **Mouse timestamps.** [`Page::dispatch_mouse`] writes all `Input.dispatchMouseEvent`
//! commands before awaiting any reply, each with its [`MouseInput::timestamp`] (seconds
//! since the UNIX epoch). Measured on Chromium 156: the page's `event.timeStamp` (plus
//! `performance.timeOrigin`) equals the given timestamp to within the page clock's
//! resolution (100 µs steps, jittered: usually 0.1 ms, rarely 0.2–0.3 ms), not the
//! arrival time; positions keep their fractions; order is kept.
//! Chromium accepts timestamps ahead of the real clock: a 2-minute trajectory of 10,000
//! moves is dispatched in about a second and the page still sees every move at its
//! given time, and a later replay may start back at the real clock. So replays start at
//! "now" and may run ahead. Caveats for page code: only `pointermove` with
//! `getCoalescedEvents()` sees every move; `mousemove` (and the `pointermove` event
//! itself) fires about once per frame of real time, so a fast replay of 200 moves
//! produced only 3 `mousemove` events. `performance.now()` and `Date.now()` inside a
//! handler give the arrival time, not the event's.
//!
//! [`mouse_inputs`] turns a `pointerprint_core::Recording` into such inputs.

mod connection;
mod error;
mod launch;
mod mouse;
mod page;

pub use error::BrowserError;
pub use launch::{Browser, LaunchOptions};
pub use mouse::{MouseAction, MouseInput, mouse_inputs};
pub use page::Page;
