//! `pointerprint loadtest` against a real `pointerprint serve` process.

use std::process::{Command, Output};

use crate::support::{BIN, Server, create_key};

fn loadtest(server: &Server, key: &str, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["loadtest", "--nodes", &server.base, "--key", key])
        .args(extra)
        .output()
        .expect("the binary runs")
}

/// Two sessions for two seconds, with a small enrolment so it stays quick.
const SHORT: &[&str] = &[
    "--sessions",
    "2",
    "--duration",
    "2",
    "--users",
    "2",
    "--enrol-sessions",
    "2",
    "--enrol-actions",
    "60",
    "--rate",
    "300",
    "--batch",
    "50",
    "--verify-every",
    "0.5",
];

#[test]
fn a_short_load_test_stores_every_acknowledged_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(dir.path(), "secret");
    let server = Server::start(dir.path(), "serve.log");

    let out = loadtest(&server, &key, SHORT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(" 0 missing, 0 extra"), "{stdout}");
    assert!(stdout.contains("errors        none"), "{stdout}");
    assert!(stdout.contains("result        OK"), "{stdout}");
    assert!(
        stdout.contains("2 users (2 enrolled and trained for this run)"),
        "{stdout}"
    );
    // 2 sessions × 300 events/s × 2 s, in 50-event batches: about 24 batches.
    let acknowledged: u64 = stdout
        .lines()
        .find_map(|l| {
            l.strip_prefix("ingested")?
                .split(" batches")
                .next()?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!((16..=24).contains(&acknowledged), "{stdout}");
    for needle in ["p50", "p99", "ingest", "verify calls", "events/s"] {
        assert!(stdout.contains(needle), "{needle}: {stdout}");
    }

    // Verify calls with a fixed-size session sent inline, reusing the trained users.
    let run_id = stdout
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("pointerprint load test, run "))
        .unwrap()
        .to_string();
    let mut inline = SHORT.to_vec();
    inline.extend(["--session-events", "500", "--run-id", &run_id]);
    let out = loadtest(&server, &key, &inline);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("0 enrolled and trained for this run"),
        "{stdout}"
    );
    assert!(stdout.contains("500 events inline"), "{stdout}");
    assert!(stdout.contains(" 0 missing, 0 extra"), "{stdout}");
    assert!(!stdout.contains("verify calls  0 "), "{stdout}");
}

#[test]
fn a_load_test_with_a_wrong_key_fails() {
    let dir = tempfile::tempdir().unwrap();
    let _key = create_key(dir.path(), "secret");
    let server = Server::start(dir.path(), "serve.log");
    let out = loadtest(&server, "pp_secret_not-a-key", SHORT);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("401"), "{stderr}");
}
