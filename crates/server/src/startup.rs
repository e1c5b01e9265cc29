//! Building the service: storage, settings, router, background tasks, and the listener.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use pointerprint_storage::{Cipher, Store};
use tokio::net::TcpListener;

use crate::app::config::Config;
use crate::app::{App, AppState};
use crate::domain::settings::Settings;
use crate::http::serve::ConnectionLimits;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data folder {}: {error}", path.display())]
    DataDir {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("cannot listen on {addr}: {error}")]
    Listen {
        addr: SocketAddr,
        error: std::io::Error,
    },
    #[error(transparent)]
    Storage(#[from] pointerprint_storage::StorageError),
    #[error("POINTERPRINT_ENCRYPTION_KEY must be 64 hex characters")]
    BadKey,
    #[error("stored settings are unreadable: {0}")]
    Settings(String),
}

/// A started service, bound to its port, not yet serving.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// The other nodes' news, subscribed to before serving so none is missed.
    notifications: pointerprint_storage::Subscription,
}

/// The encryption key: from `POINTERPRINT_ENCRYPTION_KEY` if set, else the key file
/// (created with mode 0600 on first start).
pub fn cipher(config: &Config) -> Result<Cipher, StartError> {
    match std::env::var("POINTERPRINT_ENCRYPTION_KEY") {
        Ok(hex_key) => {
            let bytes = hex::decode(hex_key.trim()).map_err(|_| StartError::BadKey)?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| StartError::BadKey)?;
            Ok(Cipher::new(key))
        }
        Err(_) => Ok(Cipher::load_or_create(&config.key_path())?),
    }
}

/// Opens the database of `config`, creating the data folder (home of the key file and of
/// the default SQLite database) if needed.
pub async fn open_store(config: &Config) -> Result<Store, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|error| StartError::DataDir {
        path: config.data_dir.clone(),
        error,
    })?;
    let cipher = cipher(config)?;
    Ok(Store::open(&config.database_target(), cipher).await?)
}

fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may be installed already (several apps in one test process).
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

impl Application {
    /// Opens storage, loads settings and binds the listener.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let store = open_store(&config).await?;
        let settings = match store.settings().await? {
            Some(json) => {
                serde_json::from_str(&json).map_err(|e| StartError::Settings(e.to_string()))?
            }
            None => Settings::default(),
        };
        if config.demo {
            crate::app::demo::seed::background_population(&store).await?;
        }
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|error| StartError::Listen {
                    addr: config.listen,
                    error,
                })?;
        let notifications = crate::app::notifications::subscribe(&store).await?;
        let state = Arc::new(App::new(store, config, settings, metrics_handle()));
        Ok(Self {
            listener,
            state,
            notifications,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map_or(0, |a| a.port())
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and stops the
    /// background tasks.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let port = self.port();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(crate::app::worker::run(self.state.clone(), stop_rx.clone()));
        let sweeper = tokio::spawn(crate::app::retention::run(
            self.state.clone(),
            stop_rx.clone(),
        ));
        let listener = tokio::spawn(crate::app::notifications::run(
            self.state.clone(),
            self.notifications,
            stop_rx,
        ));
        let app = crate::http::router(self.state.clone());
        let state = self.state.clone();
        let shutdown = async move {
            shutdown.await;
            state.live.close();
        };
        tracing::info!(port, "serving");
        let limits = ConnectionLimits {
            max_connections: self.state.config.max_connections,
            header_timeout: Duration::from_secs(self.state.config.header_timeout_secs),
        };
        let served = crate::http::serve::serve(self.listener, app, limits, shutdown).await;
        let _ = stop_tx.send(true);
        let _ = worker.await;
        let _ = sweeper.await;
        let _ = listener.await;
        served
    }
}
