//! The administrators' web dashboard under `/dashboard`: pages rendered on the server
//! (askama templates in `templates/dashboard/`), a little embedded JavaScript for the live
//! feed and the trajectory replay, no build step.
//!
//! Every page needs a signed-in administrator (`auth`); every action is a POST form with a
//! CSRF token and calls the same functions as the JSON API.

mod assets;
mod auth;
mod confirm;
mod format;
mod live;
mod log;
mod overview;
mod page;
mod settings;
mod users;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};

use crate::app::AppState;

/// Headers on every dashboard response: no framing, no inline scripts, nothing cached.
const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    ),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
    (header::CACHE_CONTROL, "no-store"),
];

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(overview::page))
        .route("/dashboard/login", get(auth::login_form).post(auth::login))
        .route("/dashboard/logout", post(auth::logout))
        .route("/dashboard/live", get(live::events))
        .route("/dashboard/log", get(log::page))
        .route("/dashboard/log.csv", get(log::csv))
        .route("/dashboard/users", get(users::list))
        .route("/dashboard/users/{user_id}", get(users::page))
        .route("/dashboard/users/{user_id}/train", post(users::train))
        .route("/dashboard/users/{user_id}/reset", post(users::reset))
        .route("/dashboard/users/{user_id}/erase", post(users::erase))
        .route(
            "/dashboard/sessions/{session_id}/trajectory",
            get(users::trajectory),
        )
        .route(
            "/dashboard/settings",
            get(settings::page).post(settings::save),
        )
        .route("/dashboard/keys", post(settings::create))
        .route("/dashboard/keys/{id}/revoke", post(settings::revoke))
        .route("/dashboard/static/{file}", get(assets::get))
        .layer(axum::middleware::map_response(security_headers))
}
