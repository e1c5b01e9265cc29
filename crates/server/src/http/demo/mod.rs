//! The demo site under `/demo/`: enrolment, a login page where the mouse is the second
//! factor, and a continuous session with a live trust meter. Its pages hold no API key:
//! its own endpoints act for the signed-in demo account (a cookie), and store events for
//! that account's user only. On by default; `demo = false` turns it off.

mod api;
mod pages;
mod session;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::security::same_origin;

/// Headers on every demo response: no framing, no sniffing, no referrer to other sites.
/// (Pages add their Content-Security-Policy, see [`pages`].)
const SECURITY_HEADERS: [(HeaderName, &str); 3] = [
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
];

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Refuses a POST or a WebSocket from another site's page: the cookie is SameSite=Strict,
/// and this holds even where a browser or a sibling subdomain would send it anyway.
async fn own_origin_only(request: Request, next: Next) -> Response {
    let changes =
        request.method() == Method::POST || request.headers().contains_key(header::UPGRADE);
    if changes && !same_origin(request.headers()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "foreign_origin",
            "requests to the demo must come from its own pages",
        )
        .into_response();
    }
    next.run(request).await
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/demo", get(pages::to_index))
        .route("/demo/", get(pages::index))
        .route("/demo/enrol", get(pages::enrol))
        .route("/demo/login", get(pages::login))
        .route("/demo/session", get(pages::session))
        .route("/demo/assets/{name}", get(pages::asset))
        .route("/demo/api/register", post(api::register))
        .route("/demo/api/login", post(api::login))
        .route("/demo/api/logout", post(api::logout))
        .route("/demo/api/me", get(api::me))
        .route("/demo/api/sessions", post(api::open_session))
        .route("/demo/api/events", post(api::events))
        .route("/demo/api/train", post(api::train))
        .route("/demo/api/stream/{session_id}", get(api::stream))
        .layer(axum::middleware::from_fn(own_origin_only))
        .layer(axum::middleware::map_response(security_headers))
}
