//! Service configuration: documented defaults, overridden by a TOML file, then by
//! environment variables, then by command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything `pointerprint serve` can be told at start-up.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on. Default `127.0.0.1:8080`; env `POINTERPRINT_LISTEN`.
    pub listen: SocketAddr,
    /// Folder of the embedded database and the encryption key. Default
    /// `./pointerprint-data`; env `POINTERPRINT_DATA`.
    pub data_dir: PathBuf,
    /// The database: a `postgres://user@host:port/db` URL for several nodes sharing one
    /// PostgreSQL, or an SQLite path or `sqlite://` URL. Default: SQLite in the data
    /// folder (`DATA_DIR/pointerprint.db`); env `DATABASE_URL`.
    pub database: Option<String>,
    /// Encryption key file (64 hex characters, created with mode 0600 on first start).
    /// Default `DATA_DIR/encryption.key`. The key itself may instead come from the env
    /// variable `POINTERPRINT_ENCRYPTION_KEY`.
    pub key_file: Option<PathBuf>,
    /// Largest request body in bytes; larger ones get 413. Default 1 MiB.
    pub max_body_bytes: usize,
    /// Most events in one batch. Default 5,000.
    pub max_batch_events: usize,
    /// Most events sent inline to `/v1/verify` (a whole session at once). Default 50,000.
    pub max_verify_events: usize,
    /// Origins allowed to post events cross-origin (ingest endpoints only); `*` allows any.
    pub cors_origins: Vec<String>,
    /// Users without a model are queued for training once they have sent this many events
    /// (about two minutes of ordinary mouse use). Default 6,000.
    pub auto_train_events: u64,
    /// Serve the demo site under `/demo/` (enrolment, login with the mouse as second
    /// factor, continuous session), and seed synthetic background users for it. Default
    /// on; turn off in production (`demo = false`, or `pointerprint serve --no-demo`).
    pub demo: bool,
    /// Accept the ingest key from browsers (requests with an `Origin` header). Off by
    /// default: a key in a page is everyone's. Browsers send with session tokens (see
    /// `POST /v1/sessions`); the ingest key is for trusted collectors, and what it sends
    /// never trains a model unless the backend labels the session genuine.
    pub ingest_key_in_browsers: bool,
    /// How often an open trust stream checks that its token or key still holds (not
    /// expired, revoked or labelled fraud), in milliseconds; it is closed when not.
    /// Default 5,000.
    pub stream_recheck_ms: u64,
    /// Mark the dashboard's and the demo's cookies Secure even when a request does not say
    /// it came over HTTPS (set this when a TLS proxy in front does not send
    /// `X-Forwarded-Proto`).
    pub secure_cookies: bool,
    /// `POST /v1/verify` calls a minute per user, on each node (0: no limit). Default 10.
    pub verify_per_user_per_minute: u32,
    /// `POST /v1/verify` calls a minute per API key, on each node (0: no limit). Default 600.
    pub verify_per_key_per_minute: u32,
    /// Connections served at once; more are closed as they arrive. Default 1,024.
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers (an idle kept-alive connection
    /// is closed after as long). Default 10.
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's body. Default 30.
    pub body_timeout_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("pointerprint-data"),
            database: None,
            key_file: None,
            max_body_bytes: 1 << 20,
            max_batch_events: 5_000,
            max_verify_events: 50_000,
            cors_origins: vec!["*".into()],
            auto_train_events: 6_000,
            demo: true,
            ingest_key_in_browsers: false,
            stream_recheck_ms: 5_000,
            secure_cookies: false,
            verify_per_user_per_minute: 10,
            verify_per_key_per_minute: 600,
            max_connections: 1_024,
            header_timeout_secs: 10,
            body_timeout_secs: 30,
        }
    }
}

/// A configuration that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {error}", path.display())]
    Parse {
        path: PathBuf,
        error: toml::de::Error,
    },
    #[error("environment variable {name}: {message}")]
    Env { name: &'static str, message: String },
}

impl Config {
    /// Defaults, then `file` if given, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
                    path: path.to_path_buf(),
                    error,
                })?;
                toml::from_str(&text).map_err(|error| ConfigError::Parse {
                    path: path.to_path_buf(),
                    error,
                })?
            }
            None => Config::default(),
        };
        if let Ok(listen) = std::env::var("POINTERPRINT_LISTEN") {
            config.listen = listen.parse().map_err(|e| ConfigError::Env {
                name: "POINTERPRINT_LISTEN",
                message: format!("{listen:?} is not an address: {e}"),
            })?;
        }
        if let Ok(dir) = std::env::var("POINTERPRINT_DATA") {
            config.data_dir = PathBuf::from(dir);
        }
        if let Ok(url) = std::env::var("DATABASE_URL")
            && !url.trim().is_empty()
        {
            config.database = Some(url.trim().to_string());
        }
        Ok(config)
    }

    pub fn key_path(&self) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("encryption.key"))
    }

    /// What the store opens: the configured database, else the data folder's SQLite file.
    pub fn database_target(&self) -> String {
        self.database.clone().unwrap_or_else(|| {
            self.data_dir
                .join("pointerprint.db")
                .to_string_lossy()
                .into_owned()
        })
    }
}
