//! The demo site under `/demo/`: enrolment, a login page where the mouse is the second
//! factor, and a continuous session with a live trust meter. Its pages hold no API key:
//! its own endpoints act for the signed-in demo account (a cookie), and store events for
//! that account's user only. On by default; `demo = false` turns it off.

mod api;
mod pages;
mod session;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

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
}
