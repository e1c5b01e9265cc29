//! What the binary writes when its output is not a terminal: no colour codes in logs, and
//! a quiet end when the reader of its standard output goes away (`| head`).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::BIN;

#[test]
fn logs_into_a_file_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "auto_train_events = 1000000000000\ndemo = false\n").unwrap();
    let log_path = dir.path().join("stdout.log");
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "info")
        .stdout(std::fs::File::create(&log_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The "serving" log line follows the banner once the server listens.
    let deadline = Instant::now() + Duration::from_secs(60);
    let log = loop {
        let log = std::fs::read(&log_path).unwrap();
        if String::from_utf8_lossy(&log).contains("serving") {
            break log;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the server stopped: {}",
            String::from_utf8_lossy(&log)
        );
        assert!(Instant::now() < deadline, "no log line in 60 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let text = String::from_utf8_lossy(&log);
    assert!(text.contains("INFO") && text.contains("port"), "{text}");
    assert!(!log.contains(&0x1b), "colour codes in a file: {text:?}");
}

#[test]
fn eval_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "synth",
            "--users",
            "3",
            "--sessions",
            "2",
            "--actions",
            "80",
        ])
        .args(["--tests", "2", "--test-actions", "20", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let d = |p: &str| dir.path().join(p);
    let mut child = Command::new(BIN)
        .arg("eval")
        .arg("--train")
        .arg(d("training_files"))
        .arg("--test")
        .arg(d("test_files"))
        .arg("--labels")
        .arg(d("labels.csv"))
        .arg("--out")
        .arg(d("out"))
        .args(["--iterations", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Like `| head -0`: the reader is gone before the first line.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("error:"), "{stderr}");
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
}
