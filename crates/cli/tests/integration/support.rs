//! A real `pointerprint serve` process for the tests that need one.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_pointerprint");

/// Creates an API key of `role` in the data folder and returns it.
pub fn create_key(data: &Path, role: &str) -> String {
    create_key_with(data, role, &[])
}

/// Creates an API key of `role` with these environment variables (e.g. `DATABASE_URL`).
pub fn create_key_with(data: &Path, role: &str, env: &[(&str, &str)]) -> String {
    let out = Command::new(BIN)
        .args(["keys", "create", "--role", role, "--data"])
        .arg(data)
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "keys create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A `pointerprint serve` process on 127.0.0.1 with a free port; killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// What the server printed on standard output up to its dashboard's address.
    pub banner: Vec<String>,
}

impl Server {
    /// Starts the server on `data` (no automatic training, so nothing else uses the CPU; no
    /// demo site, so no synthetic users) and waits for its "listening" line.
    pub fn start(data: &Path, log_name: &str) -> Server {
        Server::start_with(data, log_name, &[])
    }

    /// [`Server::start`] with these environment variables (e.g. `DATABASE_URL`).
    pub fn start_with(data: &Path, log_name: &str, env: &[(&str, &str)]) -> Server {
        let config = data.join("loadtest-config.toml");
        std::fs::write(&config, "auto_train_events = 1000000000000\ndemo = false\n").unwrap();
        let log = std::fs::File::create(data.join(log_name)).unwrap();
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("the server starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = Vec::new();
        let mut port = None;
        // Up to the dashboard's line, printed once the server listens.
        while !banner
            .last()
            .is_some_and(|l: &String| l.starts_with("dashboard:"))
        {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(data.join(log_name)).unwrap_or_default();
                panic!("the server stopped before listening: {log}");
            }
            if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                port = rest
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|p| p.parse::<u16>().ok());
            }
            banner.push(line);
        }
        let port = port.expect("a 'listening on' line before the dashboard's");
        // Keep reading, so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = stdout.read_to_end(&mut sink);
        });
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            banner,
        }
    }

    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// `kill -9`: the process gets no chance to flush or clean up.
    pub fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
