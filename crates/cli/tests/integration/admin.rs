//! `pointerprint admin create`, then signing in to the dashboard of `pointerprint serve`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::{BIN, Server};

fn admin_create(data: &Path, username: &str, password: &str) -> Output {
    let mut child = Command::new(BIN)
        .args([
            "admin",
            "create",
            "--password-stdin",
            "--username",
            username,
            "--data",
        ])
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // A refused username ends the process before it reads: the write may then fail.
    let _ = writeln!(child.stdin.take().unwrap(), "{password}");
    child.wait_with_output().unwrap()
}

/// Signs in through the dashboard's form; returns the sign-in answer's status and whether
/// it set a session cookie.
async fn sign_in(base: &str, username: &str, password: &str) -> (u16, bool) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = client
        .get(format!("{base}/dashboard/login"))
        .send()
        .await
        .unwrap();
    let cookie = form.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let html = form.text().await.unwrap();
    let at = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = &html[at..at + html[at..].find('"').unwrap()];
    let answer = client
        .post(format!("{base}/dashboard/login"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={csrf}&username={username}&password={password}"
        ))
        .send()
        .await
        .unwrap();
    let session = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("pp_dashboard="));
    (answer.status().as_u16(), session)
}

#[test]
fn an_administrator_created_on_the_command_line_signs_in_to_the_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();

    let short = admin_create(data, "alice", "short");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 8 characters"));
    let spaced = admin_create(data, "alice smith", "long enough password");
    assert!(!spaced.status.success());

    let created = admin_create(data, "alice", "long enough password");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(String::from_utf8_lossy(&created.stdout).contains("administrator alice created"));
    let again = admin_create(data, "alice", "another password");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    let server = Server::start(data, "serve.log");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        assert_eq!(
            sign_in(&server.base, "alice", "long enough password").await,
            (303, true)
        );
        // The second create changed nothing: its password does not work.
        assert_eq!(
            sign_in(&server.base, "alice", "another password").await,
            (401, false)
        );
    });
}

#[test]
fn a_first_start_prints_a_dashboard_password_that_signs_in_once_made() {
    let dir = tempfile::tempdir().unwrap();
    let first = Server::start(dir.path(), "serve.log");
    let line = first
        .banner
        .iter()
        .find(|l| l.starts_with("dashboard:"))
        .unwrap();
    let password = line
        .split("sign in as admin with password ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no first-start password in {line:?}"))
        .to_string();
    assert_eq!(password.len(), 24, "{line}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        assert_eq!(sign_in(&first.base, "admin", &password).await, (303, true));
        assert_eq!(
            sign_in(&first.base, "admin", "wrong password").await,
            (401, false)
        );
    });
    first.terminate();
    drop(first);

    // Shown once: a restart prints the address only, and the password still works.
    let second = Server::start(dir.path(), "serve-again.log");
    let banner = second.banner.concat();
    assert!(!banner.contains(&password), "{banner}");
    assert!(!banner.contains("first start"), "{banner}");
    runtime.block_on(async {
        assert_eq!(sign_in(&second.base, "admin", &password).await, (303, true));
    });
}
