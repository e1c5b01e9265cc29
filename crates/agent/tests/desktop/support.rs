//! What the desktop tests run for real: an Xvfb display, a pointerprint server on
//! 127.0.0.1, the agent binary, and xdotool moving the pointer.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pointerprint_core::{EventKind, Recording};
use pointerprint_server::app::keys::{hash_token, new_key};
use pointerprint_server::{Application, Config};
use pointerprint_storage::Role;

pub const AGENT: &str = env!("CARGO_BIN_EXE_pointerprint-agent");

/// One desktop test at a time: each drives a pointer at a set rate and checks event times
/// to the millisecond, which two shared cores cannot promise for several at once.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().await
}

pub fn wall_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

/// An Xvfb display of its own; killed when dropped.
pub struct Xvfb {
    child: Child,
    pub display: String,
}

impl Xvfb {
    pub fn start(width: u32, height: u32) -> Xvfb {
        let base = 300 + (std::process::id() % 400);
        for n in base..base + 200 {
            if Path::new(&format!("/tmp/.X{n}-lock")).exists() {
                continue;
            }
            let display = format!(":{n}");
            let mut child = Command::new("Xvfb")
                .args([&display, "-screen", "0", &format!("{width}x{height}x24")])
                .args(["-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb runs (Debian's xvfb package; .ci/run installs it)");
            let socket = format!("/tmp/.X11-unix/X{n}");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if Path::new(&socket).exists() {
                    return Xvfb { child, display };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("no free X display for Xvfb");
    }

    /// Runs one xdotool command to completion; returns the wall-clock window in which the
    /// X server handled it (xdotool syncs with the server before it exits).
    pub fn xdotool(&self, args: &[&str]) -> (f64, f64) {
        let before = wall_ms();
        let status = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .status()
            .expect("xdotool runs (Debian's xdotool package; .ci/run installs it)");
        let after = wall_ms();
        assert!(status.success(), "xdotool {args:?}");
        (before, after)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A pointerprint server in this process, on 127.0.0.1, with a data folder that outlives
/// its restarts.
pub struct TestServer {
    /// Kept for its lifetime: the data folder goes when the server does.
    _dir: tempfile::TempDir,
    pub config: Config,
    pub ingest: String,
    pub secret: String,
    pub port: u16,
    running: Option<(
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<std::io::Result<()>>,
    )>,
}

impl TestServer {
    /// A fresh server on a free port.
    pub async fn start() -> TestServer {
        TestServer::start_on(0).await
    }

    /// A fresh server that will listen on `port` (0: any free one).
    pub async fn start_on(port: u16) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            listen: format!("127.0.0.1:{port}").parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            auto_train_events: u64::MAX,
            demo: false,
            ..Config::default()
        };
        let store = pointerprint_server::startup::open_store(&config)
            .await
            .unwrap();
        let make = async |role| {
            let key = new_key(role);
            store
                .create_key("test", role, &hash_token(&key))
                .await
                .unwrap();
            key
        };
        let ingest = make(Role::Ingest).await;
        let secret = make(Role::Secret).await;
        drop(store);
        let mut server = TestServer {
            _dir: dir,
            config,
            ingest,
            secret,
            port,
            running: None,
        };
        server.resume().await;
        server
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts (again) on the same port and data.
    pub async fn resume(&mut self) {
        assert!(self.running.is_none());
        let app = Application::build(self.config.clone()).await.unwrap();
        self.port = app.port();
        self.config.listen = format!("127.0.0.1:{}", self.port).parse().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        self.running = Some((stop, task));
    }

    /// Stops the server: the port refuses connections until [`resume`](Self::resume).
    pub async fn pause(&mut self) {
        let (stop, task) = self.running.take().unwrap();
        stop.send(()).unwrap();
        task.await.unwrap().unwrap();
    }

    /// Everything the server stored for a session, in `seq` order.
    pub async fn session(&self, session_id: &str) -> Option<Recording> {
        let store = pointerprint_server::startup::open_store(&self.config)
            .await
            .unwrap();
        store
            .session_events(session_id)
            .await
            .unwrap()
            .map(|s| s.recording)
    }
}

/// The agent binary, with its log in a file; killed when dropped.
pub struct Agent {
    pub child: Child,
    pub log: PathBuf,
}

impl Agent {
    pub fn start(display: &str, args: &[&str], log: &Path) -> Agent {
        let child = Command::new(AGENT)
            .args(args)
            .env("DISPLAY", display)
            .env("RUST_LOG", "pointerprint_agent=debug")
            .env_remove("XDG_SESSION_ID")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .expect("the agent starts");
        Agent {
            child,
            log: log.to_path_buf(),
        }
    }

    /// Waits until the agent's log has `text` (it says so once capturing has started).
    pub fn wait_for_log(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.log_text().contains(text) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the agent stopped ({status}): {}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no {text:?} in the agent's log: {}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the agent ignores SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -9`: no chance to flush anything.
    pub fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A pointer event the test made, and when the X server handled it.
#[derive(Debug, Clone, Copy)]
pub struct Made {
    pub kind: Kind,
    pub x: f64,
    pub y: f64,
    pub window: (f64, f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Move,
    Press,
    Release,
}

fn kind_of(kind: EventKind) -> Option<Kind> {
    match kind {
        EventKind::Move | EventKind::Drag => Some(Kind::Move),
        EventKind::Press => Some(Kind::Press),
        EventKind::Release => Some(Kind::Release),
        EventKind::Wheel { .. } => None,
    }
}

/// Drives the pointer through xdotool, one command per event, and keeps what it made.
pub struct Driver<'a> {
    pub x: &'a Xvfb,
    pub made: Vec<Made>,
    pos: (i32, i32),
}

impl<'a> Driver<'a> {
    pub fn new(x: &'a Xvfb) -> Driver<'a> {
        let mut d = Driver {
            x,
            made: Vec::new(),
            pos: (0, 0),
        };
        d.move_to(5, 5);
        d.made.clear();
        d
    }

    pub fn move_to(&mut self, x: i32, y: i32) {
        let window = self
            .x
            .xdotool(&["mousemove", &x.to_string(), &y.to_string()]);
        self.pos = (x, y);
        self.push(Kind::Move, window);
    }

    pub fn press(&mut self) {
        let window = self.x.xdotool(&["mousedown", "1"]);
        self.push(Kind::Press, window);
    }

    pub fn release(&mut self) {
        let window = self.x.xdotool(&["mouseup", "1"]);
        self.push(Kind::Release, window);
    }

    fn push(&mut self, kind: Kind, window: (f64, f64)) {
        self.made.push(Made {
            kind,
            x: f64::from(self.pos.0),
            y: f64::from(self.pos.1),
            window,
        });
    }

    /// `n` moves at `hz` along a Lissajous path (every position differs from the last, so
    /// every move is a real motion), from deadlines fixed in advance so the rate holds.
    pub fn moves(&mut self, n: usize, hz: f64, start: usize) {
        let period = Duration::from_secs_f64(1.0 / hz);
        let t0 = Instant::now();
        for i in 0..n {
            let k = (start + i) as f64;
            let x = 400.0 + 300.0 * (k * 0.031).sin() + (k % 7.0);
            let y = 300.0 + 200.0 * (k * 0.047).cos() + (k % 5.0);
            let (x, y) = (x as i32, y as i32);
            let (x, y) = if (x, y) == self.pos {
                (x + 1, y)
            } else {
                (x, y)
            };
            self.move_to(x, y);
            let next = t0 + period * (i as u32 + 1);
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    }
}

/// How the events made compare with the events stored.
#[derive(Debug, Default)]
pub struct Comparison {
    pub moves_made: usize,
    pub moves_found: usize,
    pub buttons_made: usize,
    pub buttons_found: usize,
    /// Largest distance of a found event's time from the window it was made in, ms.
    pub worst_time_ms: f64,
}

/// Finds the made events, in order, in the stored ones (same kind and position, times
/// compared with the window each was made in).
pub fn compare(made: &[Made], stored: &Recording) -> Comparison {
    let mut c = Comparison::default();
    let mut next = 0;
    for m in made {
        match m.kind {
            Kind::Move => c.moves_made += 1,
            _ => c.buttons_made += 1,
        }
        let found = stored.events[next..]
            .iter()
            .position(|e| kind_of(e.kind) == Some(m.kind) && e.x == m.x && e.y == m.y);
        let Some(offset) = found else { continue };
        let e = &stored.events[next + offset];
        next += offset + 1;
        match m.kind {
            Kind::Move => c.moves_found += 1,
            _ => c.buttons_found += 1,
        }
        let off = if e.t < m.window.0 {
            m.window.0 - e.t
        } else if e.t > m.window.1 {
            e.t - m.window.1
        } else {
            0.0
        };
        c.worst_time_ms = c.worst_time_ms.max(off);
    }
    c
}

/// Fails if an event was stored twice (same kind, time and place).
pub fn assert_no_duplicates(stored: &Recording) {
    let mut seen = std::collections::HashSet::new();
    for e in &stored.events {
        let key = (
            format!("{:?}", e.kind),
            e.t.to_bits(),
            e.x.to_bits(),
            e.y.to_bits(),
        );
        assert!(seen.insert(key), "stored twice: {e:?}");
    }
}

/// Polls `check` every 100 ms until it holds or `limit` passes.
pub async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}
