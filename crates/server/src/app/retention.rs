//! Keeping data only as long as configured: raw events past the retention period and
//! expired sign-ins are purged, hourly.

use std::time::Duration;

use crate::app::AppState;

/// Purges until `stop` changes.
pub async fn run(app: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        let days = app.cache.settings().retention_days;
        let before = app.store.now_ms() - i64::from(days) * 86_400_000;
        match app.store.purge_events_before(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(events = n, days, "purged raw events past retention"),
            Err(e) => tracing::error!(error = %e, "retention purge failed"),
        }
        if let Err(e) = app.store.purge_web_sessions(app.store.now_ms()).await {
            tracing::error!(error = %e, "purging expired sign-ins failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.changed() => return,
        }
    }
}
