use std::io::IsTerminal;

use anyhow::Context;
use pointerprint_server::app::accounts::{hash_password, random_password};
use pointerprint_server::app::keys::{hash_token, new_key};
use pointerprint_server::{Application, Config};
use pointerprint_storage::{AccountKind, Role, StorageError};

use crate::args::ServeArgs;

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        // Colour only for a person at a terminal, never into a file or a pipe.
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(data) = args.data {
        config.data_dir = data;
    }
    if let Some(database) = args.database {
        config.database = Some(database);
    }
    if args.no_demo {
        config.demo = false;
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let data = match &config.database {
            Some(url) if url.starts_with("postgres") => "PostgreSQL".to_string(),
            _ => config.data_dir.display().to_string(),
        };
        let demo = config.demo;
        let admin_password = first_start(&config).await?;
        let app = Application::build(config).await?;
        say!(
            "pointerprint is listening on http://127.0.0.1:{} (data in {})",
            app.port(),
            data
        )?;
        match admin_password {
            Some(password) => say!(
                "dashboard: http://127.0.0.1:{}/dashboard (first start: sign in as admin with \
                 password {password}; shown once)",
                app.port()
            ),
            None => say!("dashboard: http://127.0.0.1:{}/dashboard", app.port()),
        }?;
        if demo {
            say!(
                "demo site: http://127.0.0.1:{}/demo/ (off with --no-demo)",
                app.port()
            )?;
        }
        app.run_until(shutdown_signal()).await.context("serving")
    })
}

/// On a fresh database, creates an admin and an ingest key and prints them once, and, if
/// there is no administrator yet, a dashboard account `admin` with a random password, so the
/// service, the dashboard and the demo can be tried at once. Returns that password.
async fn first_start(config: &Config) -> anyhow::Result<Option<String>> {
    let store = pointerprint_server::startup::open_store(config).await?;
    if store.list_keys().await?.is_empty() {
        say!("first start: created these API keys (shown once; only their hashes are stored):")?;
        for role in [Role::Admin, Role::Ingest] {
            let key = new_key(role);
            store
                .create_key("first start", role, &hash_token(&key))
                .await?;
            say!("  {:<6} {key}", role.to_string())?;
        }
    }
    let mut password = None;
    if store.accounts(AccountKind::Admin).await?.is_empty() {
        let new = random_password();
        match store
            .create_account(
                AccountKind::Admin,
                "admin",
                &hash_password(&new),
                store.now_ms(),
            )
            .await
        {
            Ok(_) => password = Some(new),
            // Another node on the same database made it first; its password is the one.
            Err(StorageError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    store.close().await;
    Ok(password)
}

/// Ctrl-C or SIGTERM: stop accepting, finish in-flight requests.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
