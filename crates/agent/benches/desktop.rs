//! The agent's figures for BENCHMARKS.md, on a real X server (Xvfb) and server:
//! - CPU of the agent while xdotool moves the pointer at 125 Hz for 60 s
//!   (utime + stime from /proc/PID/stat over the run);
//! - a 60 s server outage while the pointer moves at 125 Hz: every move made during it is
//!   stored exactly once after the server is back.
//!
//! `cargo bench -p pointerprint-agent --bench desktop` (about 3 minutes).

#[path = "../tests/desktop/support.rs"]
#[allow(dead_code)]
mod support;

use std::time::{Duration, Instant};

use support::*;

/// Clock ticks per second of /proc/PID/stat's times (USER_HZ, 100 on Linux).
const TICKS_PER_S: f64 = 100.0;

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let (utime, stime): (f64, f64) = (fields[11].parse().unwrap(), fields[12].parse().unwrap());
    (utime + stime) / TICKS_PER_S
}

fn agent_args<'a>(server: &'a str, key: &'a str, session: &'a str, queue: &'a str) -> Vec<&'a str> {
    vec![
        "--server",
        server,
        "--key",
        key,
        "--user",
        "bench",
        "--session",
        session,
        "--queue",
        queue,
        "--dry-run",
    ]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let x = Xvfb::start(1280, 800);
    let mut server = TestServer::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let base = server.base();
    let key = server.ingest.clone();

    // CPU at 125 Hz.
    let queue = tmp.path().join("queue-cpu");
    let mut agent = Agent::start(
        &x.display,
        &agent_args(&base, &key, "bench-cpu", queue.to_str().unwrap()),
        &tmp.path().join("cpu.log"),
    );
    agent.wait_for_log("capturing the pointer");
    let pid = agent.child.id();
    let mut drive = Driver::new(&x);
    let (cpu0, t0) = (cpu_seconds(pid), Instant::now());
    drive.moves(7500, 125.0, 0);
    let (cpu1, elapsed) = (cpu_seconds(pid), t0.elapsed().as_secs_f64());
    assert!(agent.terminate().success());
    let stored = server.session("bench-cpu").await.unwrap();
    let c = compare(&drive.made, &stored);
    println!(
        "cpu: {} moves in {elapsed:.1} s ({:.1} Hz): agent used {:.2} s of CPU = {:.2}% of one core; \
         {} of {} moves stored, worst time {:.2} ms outside its window",
        c.moves_made,
        c.moves_made as f64 / elapsed,
        cpu1 - cpu0,
        100.0 * (cpu1 - cpu0) / elapsed,
        c.moves_found,
        c.moves_made,
        c.worst_time_ms
    );

    // A 60 s outage.
    let queue = tmp.path().join("queue-outage");
    let mut agent = Agent::start(
        &x.display,
        &agent_args(&base, &key, "bench-outage", queue.to_str().unwrap()),
        &tmp.path().join("outage.log"),
    );
    agent.wait_for_log("capturing the pointer");
    let mut drive = Driver::new(&x);
    drive.moves(250, 125.0, 0);
    server.pause().await;
    let from = drive.made.len();
    drive.moves(7500, 125.0, 250);
    let outage = drive.made[from..].to_vec();
    server.resume().await;
    let back = Instant::now();
    drive.moves(250, 125.0, 7750);
    let delivered = eventually(Duration::from_secs(90), async || {
        server
            .session("bench-outage")
            .await
            .is_some_and(|s| compare(&outage, &s).moves_found == outage.len())
    })
    .await;
    let caught_up = back.elapsed().as_secs_f64();
    assert!(agent.terminate().success());
    let stored = server.session("bench-outage").await.unwrap();
    assert_no_duplicates(&stored);
    let during = compare(&outage, &stored);
    println!(
        "outage: {} moves made during 60 s without a server, {} stored (each once; delivered={delivered}), \
         queue drained {caught_up:.1} s after the server came back",
        during.moves_made, during.moves_found
    );
}
