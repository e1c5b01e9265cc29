//! The HTTP layer: the JSON API (`api/`, one module per endpoint group), the dashboard
//! and the demo site, the extractors they share, and the mapping of application errors to
//! status codes. Handlers parse what a request says into domain values, call the
//! application layer, and turn its answer into a response.
//!
//! Layer rule (checked by `tests/layers.rs`): modules here may import from every layer.

mod api;
mod dashboard;
mod demo;
pub mod error;
mod extract;
mod security;
pub mod serve;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, header};
use axum::routing::{delete, get, post};
use std::time::Duration;

use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::RequestBodyDeadlineLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use api::{
    decisions, events, extension, health, keys, openapi, sdk, sessions, settings, stream, users,
    verify,
};

/// The span of a request in the logs: its method and path, never its query (where
/// beacons, WebSockets and the original extension carry their keys and tokens).
fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
}

pub fn router(state: AppState) -> Router {
    let origins = &state.config.cors_origins;
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    // Cross-origin posting is for the ingest endpoints only: pages and extensions send events.
    let cors = CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]);
    let ingest = Router::new()
        .route("/v1/events", post(events::post))
        .route("/save-mouse-data", post(extension::post))
        .layer(cors);
    let api = Router::new()
        .route("/v1/users", get(users::list))
        .route("/v1/users/{user_id}", get(users::get).delete(users::erase))
        .route("/v1/users/{user_id}/export", get(users::export))
        .route("/v1/users/{user_id}/train", post(users::train))
        .route("/v1/users/{user_id}/reset", post(users::reset))
        .route("/v1/verify", post(verify::post))
        .route("/v1/decisions", get(decisions::list))
        .route("/v1/settings", get(settings::get).put(settings::put))
        .route("/v1/keys", get(keys::list).post(keys::create))
        .route("/v1/keys/{id}", delete(keys::revoke))
        .route("/v1/sessions", post(sessions::open))
        .route(
            "/v1/sessions/{session_id}/feedback",
            post(sessions::feedback),
        )
        .route("/v1/sessions/{session_id}/stream", get(stream::connect))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(openapi::document))
        .route("/sdk.js", get(sdk::script))
        .route("/sdk.mjs", get(sdk::module));
    let api = if state.config.demo {
        api.merge(demo::router())
    } else {
        api
    };
    ingest
        .merge(api)
        .merge(dashboard::router())
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        // A body must arrive whole within this time, however it trickles in.
        .layer(RequestBodyDeadlineLayer::new(Duration::from_secs(
            state.config.body_timeout_secs,
        )))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}
