//! Starting and stopping one headless Chromium with a throw-away profile.

use std::ffi::{OsStr, OsString};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tempfile::TempDir;

use crate::connection::Connection;
use crate::{BrowserError, Page};

/// How long Chromium may take to open its DevTools port on a busy two-core machine.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// What to launch.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// The viewport of every page in CSS pixels (device scale 1). Chromium's window gets
    /// this size too, but headless Chromium keeps part of the window for an invisible
    /// toolbar, so pages also get an emulated viewport of exactly this size.
    pub viewport: (u32, u32),
    /// Unpacked extension folders (each with a `manifest.json`) to load.
    pub extensions: Vec<PathBuf>,
}

impl Default for LaunchOptions {
    fn default() -> Self {
        Self {
            viewport: (1280, 800),
            extensions: Vec::new(),
        }
    }
}

/// A running headless Chromium. Dropping it kills the process and deletes its profile.
pub struct Browser {
    connection: Arc<Connection>,
    process: Process,
    viewport: (u32, u32),
}

/// The Chromium process and its profile folder, killed and deleted (in that order) on drop.
struct Process {
    child: Child,
    profile: TempDir,
}

impl Browser {
    /// Starts Chromium and connects to it over the DevTools WebSocket.
    pub async fn launch(options: LaunchOptions) -> Result<Self, BrowserError> {
        let binary = find_chromium()?;
        let profile = tempfile::Builder::new()
            .prefix("pointerprint-chromium-")
            .tempdir()?;
        let stderr_path = profile.path().join("chromium-stderr.log");
        let child = Command::new(&binary)
            .args(flags(profile.path(), &options))
            .process_group(0)
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path)?)
            .spawn()
            .map_err(|source| BrowserError::Spawn {
                binary: binary.display().to_string(),
                source,
            })?;
        let mut process = Process { child, profile };
        let url = process.wait_for_devtools_url(&stderr_path).await?;
        let connection = Arc::new(Connection::connect(&url).await?);
        Ok(Self {
            connection,
            process,
            viewport: options.viewport,
        })
    }

    /// Opens a new tab at `about:blank` with its own DevTools session.
    pub async fn new_page(&self) -> Result<Page, BrowserError> {
        let created = self
            .connection
            .call(None, "Target.createTarget", json!({ "url": "about:blank" }))
            .await?;
        let target_id = created["targetId"].clone();
        let attached = self
            .connection
            .call(
                None,
                "Target.attachToTarget",
                json!({ "targetId": target_id, "flatten": true }),
            )
            .await?;
        let session =
            attached["sessionId"]
                .as_str()
                .ok_or_else(|| BrowserError::UnexpectedReply {
                    method: "Target.attachToTarget".into(),
                    reply: attached.to_string(),
                })?;
        Page::attach(self.connection.clone(), session.to_owned(), self.viewport).await
    }

    /// The process id, for tests that check it is gone after drop.
    pub fn pid(&self) -> u32 {
        self.process.child.id()
    }

    /// The throw-away profile folder (`--user-data-dir`), deleted on drop.
    pub fn profile_dir(&self) -> &Path {
        self.process.profile.path()
    }
}

impl Process {
    /// Polls the `DevToolsActivePort` file Chromium writes into its profile once it
    /// listens: the port on the first line, the browser's WebSocket path on the second.
    async fn wait_for_devtools_url(&mut self, stderr: &Path) -> Result<String, BrowserError> {
        let port_file = self.profile.path().join("DevToolsActivePort");
        let started = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&port_file)
                && let Some((port, path)) = text.split_once('\n')
                && path.starts_with("/devtools/browser/")
            {
                return Ok(format!("ws://127.0.0.1:{}{}", port.trim(), path.trim()));
            }
            let exited = self.child.try_wait()?;
            if exited.is_some() || started.elapsed() > STARTUP_TIMEOUT {
                let log = std::fs::read_to_string(stderr).unwrap_or_default();
                let tail: String = log.lines().rev().take(20).collect::<Vec<_>>().join("\n");
                let status = exited.map_or("still running".into(), |s| s.to_string());
                return Err(BrowserError::Startup(
                    STARTUP_TIMEOUT,
                    format!("{status}; stderr ends with:\n{tail}"),
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // The browser leads its own process group (see `launch`): killing the group stops
        // its renderers and helpers too, which could otherwise still write into the
        // profile while it is being deleted.
        if let Ok(group) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: killpg only sends a signal; the group is the one this child leads.
            unsafe { libc::killpg(group, libc::SIGKILL) };
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let profile = self.profile.path();
        for _ in 0..40 {
            if std::fs::remove_dir_all(profile).is_ok() || !profile.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

/// The command-line flags, each for a reason:
fn flags(profile: &Path, options: &LaunchOptions) -> Vec<String> {
    let (width, height) = options.viewport;
    let mut flags = vec![
        // The new headless mode: the full browser, extensions included, without a display.
        "--headless".to_owned(),
        // CI runs as root in a container, where the sandbox cannot start.
        "--no-sandbox".to_owned(),
        // No GPU in CI; software rendering is enough for screenshots.
        "--disable-gpu".to_owned(),
        // No update checks, safe-browsing downloads or first-run pages: tests stay
        // offline and deterministic.
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--no-first-run".to_owned(),
        // Port 0: the OS picks a free port, which Chromium writes to DevToolsActivePort,
        // so parallel tests never collide.
        "--remote-debugging-port=0".to_owned(),
        format!("--user-data-dir={}", profile.display()),
        format!("--window-size={width},{height}"),
    ];
    if !options.extensions.is_empty() {
        let folders: Vec<String> = options
            .extensions
            .iter()
            .map(|folder| folder.display().to_string())
            .collect();
        let folders = folders.join(",");
        flags.push(format!("--load-extension={folders}"));
        flags.push(format!("--disable-extensions-except={folders}"));
    }
    flags
}

/// `$POINTERPRINT_CHROMIUM`, else the first of the usual names on `PATH`.
fn find_chromium() -> Result<PathBuf, BrowserError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    find_chromium_in(std::env::var_os("POINTERPRINT_CHROMIUM"), &path)
}

fn find_chromium_in(chosen: Option<OsString>, path: &OsStr) -> Result<PathBuf, BrowserError> {
    if let Some(binary) = chosen {
        return Ok(PathBuf::from(binary));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .ok_or(BrowserError::NotInstalled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_variable_wins_over_path() {
        let chosen = Some(OsString::from("/opt/chrome/chrome"));
        let found = find_chromium_in(chosen, OsStr::new("/usr/bin")).unwrap();
        assert_eq!(found, PathBuf::from("/opt/chrome/chrome"));
    }

    #[test]
    fn a_browser_on_path_is_found_by_its_usual_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("chromium-browser"), "").unwrap();
        let path = std::env::join_paths(["/nonexistent".as_ref(), dir.path()]).unwrap();
        let found = find_chromium_in(None, &path).unwrap();
        assert_eq!(found, dir.path().join("chromium-browser"));
    }

    #[test]
    fn without_a_browser_the_error_says_what_to_install() {
        let empty = tempfile::tempdir().unwrap();
        let error = find_chromium_in(None, empty.path().as_os_str()).unwrap_err();
        assert!(matches!(error, BrowserError::NotInstalled));
        assert!(
            error.to_string().contains("apt-get install -y chromium"),
            "{error}"
        );
    }
}
