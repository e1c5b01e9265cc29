//! The agent against a real X server (Xvfb), a real pointerprint server and a pointer
//! driven by xdotool.

mod support;

use std::time::Duration;

use pointerprint_core::{EventKind, Recording};
use pointerprint_formats::{NativeBatch, to_native};
use pointerprint_synth::{MotorStyle, session};
use serde_json::{Value, json};
use support::*;

/// 2,000 moves at 125 Hz, 50 clicks and 10 drags arrive at the server in order, with the
/// X server's own times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_move_click_and_drag_arrives_in_order_on_time() {
    let _one = exclusive().await;
    let x = Xvfb::start(1280, 800);
    let server = TestServer::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let queue = tmp.path().join("queue");
    let mut agent = Agent::start(
        &x.display,
        &[
            "--server",
            &server.base(),
            "--key",
            &server.ingest,
            "--user",
            "alice",
            "--session",
            "fidelity",
            "--queue",
            queue.to_str().unwrap(),
            "--dry-run",
        ],
        &tmp.path().join("agent.log"),
    );
    agent.wait_for_log("capturing the pointer");
    let mut drive = Driver::new(&x);
    let mut moves = 0;
    // 40 rounds of 50 moves, each followed by a click and every fourth by a drag.
    for round in 0..40 {
        let n = 50 - if round % 4 == 0 { 5 } else { 0 };
        drive.moves(n, 125.0, moves);
        moves += n;
        if round % 4 == 0 {
            drive.press();
            drive.moves(5, 125.0, moves);
            moves += 5;
            drive.release();
        }
        drive.press();
        drive.release();
    }
    for _ in 0..10 {
        drive.press();
        drive.release();
    }
    assert_eq!(moves, 2000);
    let status = agent.terminate();
    assert!(status.success(), "{status}");

    let stored = server
        .session("fidelity")
        .await
        .expect("the session arrived");
    let c = compare(&drive.made, &stored);
    eprintln!("{c:?}");
    assert_eq!(c.moves_made, 2000);
    assert_eq!(c.buttons_made, 2 * (50 + 10));
    assert!(
        c.moves_found * 100 >= c.moves_made * 99,
        "{} of {} moves arrived",
        c.moves_found,
        c.moves_made
    );
    assert_eq!(c.buttons_found, c.buttons_made, "every press and release");
    assert!(
        c.worst_time_ms <= 2.0,
        "an event's time was {:.2} ms outside the window it was made in",
        c.worst_time_ms
    );
    // Drags: moves with the button held.
    let drags = stored
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Drag)
        .count();
    assert_eq!(drags, 10 * 5);
    assert_no_duplicates(&stored);
    assert!(stored.events.windows(2).all(|w| w[0].t <= w[1].t));
    let screen = stored.screen.expect("screen size goes with the batches");
    assert_eq!((screen.width, screen.height), (1280.0, 800.0));
    assert!(queue_files(&queue).is_empty(), "the queue drained");
}

fn queue_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with(".batch.json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The server stops while the pointer moves; every event made meanwhile is stored once
/// it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_loses_nothing_and_stores_nothing_twice() {
    let _one = exclusive().await;
    let x = Xvfb::start(1280, 800);
    let mut server = TestServer::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let queue = tmp.path().join("queue");
    let mut agent = Agent::start(
        &x.display,
        &[
            "--server",
            &server.base(),
            "--key",
            &server.ingest,
            "--user",
            "alice",
            "--session",
            "outage",
            "--queue",
            queue.to_str().unwrap(),
            "--dry-run",
        ],
        &tmp.path().join("agent.log"),
    );
    agent.wait_for_log("capturing the pointer");
    let mut drive = Driver::new(&x);
    drive.moves(250, 125.0, 0);
    server.pause().await;
    let outage_start = drive.made.len();
    // 12 s without a server: six batches wait on disk, the sender backs off.
    drive.moves(1500, 125.0, 250);
    let outage = drive.made[outage_start..].to_vec();
    assert!(
        queue_files(&queue).len() >= 4,
        "batches wait on disk during the outage"
    );
    server.resume().await;
    drive.moves(250, 125.0, 1750);
    // Delivered by the running agent (backoff at most 30 s), not by the final flush.
    let delivered = eventually(Duration::from_secs(45), async || {
        queue_files(&queue).is_empty()
            && server
                .session("outage")
                .await
                .is_some_and(|s| compare(&outage, &s).moves_found == outage.len())
    })
    .await;
    let stored = server.session("outage").await.unwrap();
    assert!(
        delivered,
        "{:?} of {} outage moves; {}",
        compare(&outage, &stored),
        outage.len(),
        agent.log_text()
    );
    assert!(agent.terminate().success());
    let stored = server.session("outage").await.unwrap();
    let during = compare(&outage, &stored);
    assert_eq!(during.moves_found, outage.len(), "every move of the outage");
    let all = compare(&drive.made, &stored);
    assert!(all.moves_found * 100 >= all.moves_made * 99);
    assert_no_duplicates(&stored);
}

/// `kill -9` while the server is away: every batch the agent had queued on disk is
/// delivered by the next run, which goes on numbering the same session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_agent_delivers_its_queue_after_a_restart() {
    let _one = exclusive().await;
    let x = Xvfb::start(1280, 800);
    let mut server = TestServer::start().await;
    server.pause().await;
    let tmp = tempfile::tempdir().unwrap();
    let queue = tmp.path().join("queue");
    let (base, key) = (server.base(), server.ingest.clone());
    let args = [
        "--server",
        &base,
        "--key",
        &key,
        "--user",
        "alice",
        "--session",
        "crash",
        "--queue",
        queue.to_str().unwrap(),
        "--dry-run",
    ];
    let mut agent = Agent::start(&x.display, &args, &tmp.path().join("agent1.log"));
    agent.wait_for_log("capturing the pointer");
    assert!(agent.log_text().contains("server unreachable"));
    let mut drive = Driver::new(&x);
    drive.moves(700, 125.0, 0);
    std::thread::sleep(Duration::from_millis(2500));
    agent.kill_9();
    let queued: Vec<NativeBatch> = queue_files(&queue)
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect();
    assert!(queued.len() >= 3, "{} batches queued", queued.len());
    let queued_events: usize = queued.iter().map(|b| b.events.len()).sum();
    assert!(queued_events >= 690, "{queued_events} events queued");

    server.resume().await;
    let mut agent = Agent::start(&x.display, &args, &tmp.path().join("agent2.log"));
    agent.wait_for_log("capturing the pointer");
    drive.moves(200, 125.0, 700);
    assert!(agent.terminate().success());
    let stored = server.session("crash").await.unwrap();
    for batch in &queued {
        let recording = pointerprint_formats::NativeRecording {
            screen: batch.screen,
            events: batch.events.clone(),
        }
        .to_recording();
        for e in &recording.events {
            assert!(
                stored.events.contains(e),
                "queued event {e:?} of batch {} was not delivered",
                batch.seq
            );
        }
    }
    // The second run numbered on from the first: its moves were stored too, not taken
    // for repeats of the first run's batches.
    let second = compare(&drive.made[700..], &stored);
    assert!(
        second.moves_found * 100 >= second.moves_made * 99,
        "{second:?} {}",
        agent_log(&tmp.path().join("agent2.log"))
    );
    assert_no_duplicates(&stored);
}

/// Replays a recording through xdotool at its own pace (times relative to its first event).
fn replay(x: &Xvfb, recording: &Recording) {
    let start = std::time::Instant::now();
    let t0 = recording.events[0].t;
    for e in &recording.events {
        let due = Duration::from_secs_f64(((e.t - t0) / 1000.0).max(0.0));
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        let (px, py) = (e.x.round().to_string(), e.y.round().to_string());
        match e.kind {
            EventKind::Move | EventKind::Drag => x.xdotool(&["mousemove", &px, &py]),
            EventKind::Press => x.xdotool(&["mousemove", &px, &py, "mousedown", "1"]),
            EventKind::Release => x.xdotool(&["mousemove", &px, &py, "mouseup", "1"]),
            EventKind::Wheel { dy, .. } => x.xdotool(&["click", if dy > 0.0 { "5" } else { "4" }]),
        };
    }
}

/// The owner works, then a stranger takes the mouse: the server says lock, the agent runs
/// the lock command, and after it the agent starts a new session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_at_the_desktop_runs_the_lock_command() {
    let _one = exclusive().await;
    let server = TestServer::start().await;
    let client = reqwest::Client::new();
    // Three synthetic users enrolled and trained through the API.
    let style = |i: u64| MotorStyle::from_seed(40 + i);
    for u in 0..3u64 {
        for s in 0..3 {
            post_session(
                &client,
                &server,
                &format!("user{u}"),
                &format!("enrol-{u}-{s}"),
                &session(&style(u), 1000 * u + s, 120),
            )
            .await;
            confirm_genuine(&client, &server, &format!("enrol-{u}-{s}")).await;
        }
        let reply = client
            .post(format!(
                "{}/v1/users/user{u}/train?wait=true",
                server.base()
            ))
            .bearer_auth(&server.secret)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
    }
    let owner = session(&style(0), 4242, 20);
    let stranger = session(&style(1), 4343, 60);
    let screen = owner.screen.unwrap();

    // The browser path: the same events posted as the collector would.
    let mut whole = owner.clone();
    let shift = owner.events.last().unwrap().t + 1000.0 - stranger.events[0].t;
    whole.events.extend(stranger.events.iter().map(|e| {
        let mut e = *e;
        e.t += shift;
        e
    }));
    let browser_actions = lock_actions_of_direct_post(&client, &server, &whole).await;

    let x = Xvfb::start(screen.width as u32, screen.height as u32);
    let tmp = tempfile::tempdir().unwrap();
    let locked = tmp.path().join("locked");
    let config = tmp.path().join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "server = \"{}\"\nkey = \"{}\"\nuser = \"user0\"\nsession = \"desk\"\nqueue = \"{}\"\n\
             lock_command = 'echo \"$POINTERPRINT_ACTIONS $POINTERPRINT_SESSION\" >> {}'\nbatch_ms = 500\n",
            server.base(),
            server.ingest,
            tmp.path().join("queue").display(),
            locked.display()
        ),
    )
    .unwrap();
    let mut agent = Agent::start(
        &x.display,
        &["--config", config.to_str().unwrap()],
        &tmp.path().join("agent.log"),
    );
    agent.wait_for_log("capturing the pointer");
    replay(&x, &whole);
    let ran = eventually(Duration::from_secs(20), async || locked.exists()).await;
    assert!(ran, "no lock: {}", agent.log_text());
    // The stranger goes on in the new session and may be locked out again: the first line
    // is the first lock.
    let written = std::fs::read_to_string(&locked).unwrap();
    let mut fields = written.lines().next().unwrap().split_whitespace();
    let actions: usize = fields.next().unwrap().parse().unwrap();
    assert_eq!(fields.next(), Some("desk"));
    assert!(
        actions <= browser_actions + 2,
        "the agent path locked after {actions} actions, the browser path after {browser_actions}"
    );
    // After the lock (no logind here, so at once) the agent starts a new session; the
    // stranger's replay may have been locked out of that one too, so the pointer's next
    // moves go to the newest.
    agent.wait_for_log("a new session starts");
    std::thread::sleep(Duration::from_secs(2));
    let log = agent.log_text();
    let new_session = log
        .lines()
        .rfind(|l| l.contains("a new session starts"))
        .and_then(|l| l.split("session=").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .map(str::to_string)
        .unwrap();
    let mut drive = Driver::new(&x);
    drive.moves(100, 125.0, 0);
    assert!(agent.terminate().success());
    let next = server
        .session(&new_session)
        .await
        .expect("the new session arrived");
    assert!(compare(&drive.made, &next).moves_found >= 99);
    eprintln!("lock after {actions} actions (browser path: {browser_actions})");
}

async fn post_session(
    client: &reqwest::Client,
    server: &TestServer,
    user: &str,
    session_id: &str,
    recording: &Recording,
) {
    let events = serde_json::to_value(to_native(recording).events).unwrap();
    for (seq, chunk) in events.as_array().unwrap().chunks(200).enumerate() {
        let body = json!({"user_id": user, "session_id": session_id, "seq": seq, "events": chunk});
        let reply = client
            .post(format!("{}/v1/events", server.base()))
            .bearer_auth(&server.ingest)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 202);
    }
}

/// Tells the server, as the site's backend would, that a session sent with the ingest key
/// was the user's: only such sessions (or ones opened for enrolment) train a model.
async fn confirm_genuine(client: &reqwest::Client, server: &TestServer, session_id: &str) {
    let reply = client
        .post(format!(
            "{}/v1/sessions/{session_id}/feedback",
            server.base()
        ))
        .bearer_auth(&server.secret)
        .json(&json!({"label": "genuine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200, "{:?}", reply.text().await);
}

/// The number of actions after which the server locks a session posted directly, 200
/// events a batch as the collector sends them.
async fn lock_actions_of_direct_post(
    client: &reqwest::Client,
    server: &TestServer,
    recording: &Recording,
) -> usize {
    use futures_util::StreamExt;
    let url = format!(
        "{}/v1/sessions/direct/stream?key={}",
        server.base().replace("http", "ws"),
        server.ingest
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    post_session(client, server, "user0", "direct", recording).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, socket.next()).await {
        let update: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        if update["type"] == "lock" {
            return update["actions"].as_u64().unwrap() as usize;
        }
    }
    panic!("the browser path never locked");
}

fn agent_log(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn run_agent(display: &str, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(AGENT)
        .args(args)
        .env("DISPLAY", display)
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", "/nonexistent")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Bad configuration gets a clear message and its own exit code; `--check` says what works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_and_bad_configuration_say_what_is_wrong() {
    let _one = exclusive().await;
    let x = Xvfb::start(1024, 768);
    let server = TestServer::start().await;
    let (base, key) = (server.base(), server.ingest.clone());
    let tmp = tempfile::tempdir().unwrap();
    let queue = tmp.path().join("q");
    let queue = queue.to_str().unwrap();

    let (code, text) = run_agent(
        &x.display,
        &["--check", "--user", "u", "--server", &base, "--key", &key],
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("capture: ok") && text.contains("1024x768"),
        "{text}"
    );
    assert!(text.contains("keyboard: never recorded"), "{text}");
    assert!(text.contains("accepts the key"), "{text}");

    let (code, text) = run_agent(
        &x.display,
        &[
            "--check",
            "--user",
            "u",
            "--server",
            &base,
            "--key",
            "pp_ingest_wrong",
        ],
    );
    assert_eq!(code, 5, "{text}");
    assert!(text.contains("refused the key"), "{text}");
    // A run with a wrong key stops at once rather than queueing data that will never go.
    let (code, text) = run_agent(
        &x.display,
        &[
            "--user",
            "u",
            "--server",
            &base,
            "--key",
            "pp_ingest_wrong",
            "--queue",
            queue,
        ],
    );
    assert_eq!(code, 5, "{text}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nobody = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (code, text) = run_agent(
        &x.display,
        &["--check", "--user", "u", "--server", &nobody, "--key", &key],
    );
    assert_eq!(code, 4, "{text}");
    assert!(text.contains("cannot reach the server"), "{text}");

    let (code, text) = run_agent(":9999", &["--check", "--user", "u"]);
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("cannot open the X display"), "{text}");

    let (code, text) = run_agent(&x.display, &["--server", &base, "--key", &key]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("no user"), "{text}");
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "user = \"u\"\nbatch_ms = 5\n").unwrap();
    let (code, text) = run_agent(
        &x.display,
        &["--config", bad.to_str().unwrap(), "--record", "/dev/null"],
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("batch_ms"), "{text}");
}

/// Typing is invisible to the agent: only pointer events reach the recording.
#[tokio::test]
async fn the_keyboard_is_never_recorded() {
    let _one = exclusive().await;
    let x = Xvfb::start(800, 600);
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("rec.json");
    let mut agent = Agent::start(
        &x.display,
        &["--user", "u", "--record", file.to_str().unwrap()],
        &tmp.path().join("agent.log"),
    );
    agent.wait_for_log("capturing the pointer");
    x.xdotool(&["type", "--delay", "5", "secret password"]);
    x.xdotool(&["key", "Return", "ctrl+a"]);
    x.xdotool(&["mousemove", "100", "100", "click", "1"]);
    assert!(agent.terminate().success());
    let recording: pointerprint_formats::NativeRecording =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let kinds: Vec<String> = recording
        .events
        .iter()
        .map(|e| {
            serde_json::to_value(e).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(kinds, ["move", "down", "up"]);
}
