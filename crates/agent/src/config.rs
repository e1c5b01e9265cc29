//! The agent's configuration: a TOML file, then flags, checked into [`Settings`] before
//! anything runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use serde::Deserialize;

/// The lock command on Linux when none is configured: logind tells the session's screen
/// locker (GNOME, KDE, xfce, light-locker, xss-lock...) to lock.
pub const DEFAULT_LOCK_COMMAND: &str = "loginctl lock-session";
/// Longest user or session id the server accepts.
const MAX_ID_LEN: usize = 128;

/// Flags; each overrides the same key of the configuration file.
#[derive(Debug, Default, Parser)]
#[command(
    name = "pointerprint-agent",
    version,
    about = "Records pointer dynamics from the whole desktop, sends them to a pointerprint \
             server, and locks the screen when the server's trust in the user falls. Never \
             records the keyboard."
)]
pub struct Args {
    /// Base URL of the pointerprint server, e.g. http://auth.example.com:8080.
    #[arg(long)]
    pub server: Option<String>,
    /// Ingest API key (`pointerprint keys create --role ingest`).
    #[arg(long)]
    pub key: Option<String>,
    /// The user whose desktop this is.
    #[arg(long)]
    pub user: Option<String>,
    /// Session id of the first session (default: random); a new one follows every unlock.
    #[arg(long)]
    pub session: Option<String>,
    /// Command run (through `sh -c`) when the server says lock [default: loginctl lock-session].
    #[arg(long)]
    pub lock_command: Option<String>,
    /// Only log a lock, run no command.
    #[arg(long)]
    pub dry_run: bool,
    /// Folder of the queue of unsent batches [default: $XDG_STATE_HOME/pointerprint-agent/queue].
    #[arg(long)]
    pub queue: Option<PathBuf>,
    /// Also write everything captured to this file, in pointerprint's native format.
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Configuration file [default: $XDG_CONFIG_HOME/pointerprint-agent/config.toml if present].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// X display [default: $DISPLAY].
    #[arg(long)]
    pub display: Option<String>,
    /// Check that capture works on this desktop (and that the server and key work, if
    /// given), then exit.
    #[arg(long)]
    pub check: bool,
}

/// The configuration file: the same keys as the flags, plus the limits.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub server: Option<String>,
    pub key: Option<String>,
    pub user: Option<String>,
    pub session: Option<String>,
    pub lock_command: Option<String>,
    pub dry_run: Option<bool>,
    pub queue: Option<PathBuf>,
    pub record: Option<PathBuf>,
    pub display: Option<String>,
    /// Largest queue on disk, in MiB (default 64).
    pub max_queue_mib: Option<u64>,
    /// A batch is cut at this many events (default 200, as the browser collector)...
    pub batch_size: Option<usize>,
    /// ...or this often (default 2000 ms), whichever comes first.
    pub batch_ms: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// Where the batches go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// `http://host:port`, no trailing slash.
    pub base: String,
    pub key: String,
}

/// What a `lock` from the server does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockAction {
    Command(String),
    DryRun,
}

/// A checked configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: Option<Server>,
    pub user: String,
    pub session: Option<String>,
    pub lock: LockAction,
    pub queue_dir: PathBuf,
    pub max_queue_bytes: u64,
    pub record: Option<PathBuf>,
    pub display: Option<String>,
    pub batch_size: usize,
    pub batch_interval: Duration,
    pub check: bool,
}

impl Settings {
    /// Reads the configuration file (the one named, or the default one if it exists) and
    /// lays the flags over it.
    pub fn load(args: Args) -> Result<Settings, ConfigError> {
        let file = match args.config.clone().or_else(default_config_file) {
            Some(path) => read_file(&path)?,
            None => File::default(),
        };
        Settings::from_parts(args, file)
    }

    pub fn from_parts(args: Args, file: File) -> Result<Settings, ConfigError> {
        let invalid = |m: String| ConfigError::Invalid(m);
        let user = args.user.or(file.user).ok_or_else(|| {
            invalid("no user: give --user or `user` in the configuration file".into())
        })?;
        check_id("user", &user).map_err(invalid)?;
        let session = args.session.or(file.session);
        if let Some(session) = &session {
            check_id("session", session).map_err(invalid)?;
        }
        let server = match (args.server.or(file.server), args.key.or(file.key)) {
            (Some(url), Some(key)) => Some(Server {
                base: server_base(&url).map_err(invalid)?,
                key,
            }),
            (Some(_), None) => {
                return Err(invalid(
                    "a server needs an ingest key: give --key or `key` in the configuration file"
                        .into(),
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "a key without a server: give --server or `server`".into(),
                ));
            }
            (None, None) => None,
        };
        let record = args.record.or(file.record);
        if server.is_none() && record.is_none() && !args.check {
            return Err(invalid(
                "nowhere to send events: give --server and --key, or --record FILE".into(),
            ));
        }
        let dry_run = args.dry_run || file.dry_run.unwrap_or(false);
        let lock = if dry_run {
            LockAction::DryRun
        } else {
            let command = args
                .lock_command
                .or(file.lock_command)
                .unwrap_or_else(|| DEFAULT_LOCK_COMMAND.to_string());
            if command.trim().is_empty() {
                return Err(invalid(
                    "the lock command is empty; use --dry-run to only log a lock".into(),
                ));
            }
            LockAction::Command(command)
        };
        let queue_dir = args
            .queue
            .or(file.queue)
            .or_else(default_queue_dir)
            .ok_or_else(|| invalid("no queue folder: give --queue (HOME is not set)".into()))?;
        let max_queue_mib = file.max_queue_mib.unwrap_or(64);
        let batch_size = file.batch_size.unwrap_or(200);
        let batch_ms = file.batch_ms.unwrap_or(2000);
        if max_queue_mib == 0 {
            return Err(invalid("max_queue_mib must be at least 1".into()));
        }
        if !(1..=5000).contains(&batch_size) {
            return Err(invalid(format!(
                "batch_size must be 1 to 5000 (the server's default limit), got {batch_size}"
            )));
        }
        if !(100..=60_000).contains(&batch_ms) {
            return Err(invalid(format!(
                "batch_ms must be 100 to 60000, got {batch_ms}"
            )));
        }
        Ok(Settings {
            server,
            user,
            session,
            lock,
            queue_dir,
            max_queue_bytes: max_queue_mib.saturating_mul(1 << 20),
            record,
            display: args.display.or(file.display),
            batch_size,
            batch_interval: Duration::from_millis(batch_ms),
            check: args.check,
        })
    }
}

fn read_file(path: &Path) -> Result<File, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn xdg(var: &str, fallback: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(fallback)))
}

fn default_config_file() -> Option<PathBuf> {
    xdg("XDG_CONFIG_HOME", ".config")
        .map(|d| d.join("pointerprint-agent/config.toml"))
        .filter(|p| p.exists())
}

fn default_queue_dir() -> Option<PathBuf> {
    xdg("XDG_STATE_HOME", ".local/state").map(|d| d.join("pointerprint-agent/queue"))
}

/// The server's base URL: `http://host[:port]`, no path, no trailing slash.
fn server_base(url: &str) -> Result<String, String> {
    let base = url.trim().trim_end_matches('/');
    if base.starts_with("https://") {
        return Err(format!(
            "{url}: this build of the agent speaks plain HTTP only; reach an HTTPS server \
             through a local tunnel (e.g. `stunnel` or `ssh -L`) and give its http:// address"
        ));
    }
    let Some(rest) = base.strip_prefix("http://") else {
        return Err(format!(
            "{url}: the server must be an http:// URL, e.g. http://127.0.0.1:8080"
        ));
    };
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err(format!(
            "{url}: give the server's base URL only (scheme, host, port), e.g. http://127.0.0.1:8080"
        ));
    }
    Ok(base.to_string())
}

fn check_id(what: &str, id: &str) -> Result<(), String> {
    if id.is_empty() || id.chars().count() > MAX_ID_LEN {
        return Err(format!("{what} must be 1 to {MAX_ID_LEN} characters"));
    }
    if id.chars().any(char::is_control) {
        return Err(format!("{what} must not contain control characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::parse_from(std::iter::once("pointerprint-agent").chain(list.iter().copied()))
    }

    #[test]
    fn flags_override_the_file() {
        let file: File = toml::from_str(
            "server = \"http://file:1\"\nkey = \"k\"\nuser = \"alice\"\nbatch_ms = 500\n",
        )
        .unwrap();
        let s = Settings::from_parts(
            args(&["--server", "http://flag:2/", "--queue", "/tmp/q"]),
            file,
        )
        .unwrap();
        let server = s.server.unwrap();
        assert_eq!(server.base, "http://flag:2");
        assert_eq!(server.key, "k");
        assert_eq!(s.user, "alice");
        assert_eq!(s.batch_interval, Duration::from_millis(500));
        assert_eq!(
            s.lock,
            LockAction::Command(DEFAULT_LOCK_COMMAND.to_string())
        );
    }

    #[test]
    fn bad_configuration_is_refused_with_a_reason() {
        let refuse = |list: &[&str], file: &str| {
            let file: File = toml::from_str(file).unwrap();
            Settings::from_parts(args(list), file)
                .unwrap_err()
                .to_string()
        };
        assert!(refuse(&["--server", "http://a:1", "--key", "k"], "").contains("no user"));
        assert!(refuse(&["--user", "u", "--server", "http://a:1"], "").contains("ingest key"));
        assert!(refuse(&["--user", "u"], "").contains("nowhere to send"));
        assert!(
            refuse(&["--user", "u", "--key", "k", "--server", "https://a"], "")
                .contains("plain HTTP")
        );
        assert!(refuse(&["--user", "u", "--key", "k", "--server", "a:80"], "").contains("http://"));
        assert!(refuse(&["--user", "u", "--record", "f"], "batch_size = 0").contains("batch_size"));
        assert!(
            refuse(&["--user", "u", "--record", "f", "--lock-command", " "], "").contains("empty")
        );
        let typo: Result<File, _> = toml::from_str("sever = \"http://a\"");
        assert!(typo.unwrap_err().to_string().contains("sever"));
    }
}
