//! The demo's pages: static HTML that calls the demo's JSON endpoints; no build step.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

pub async fn to_index() -> Redirect {
    Redirect::permanent("/demo/")
}

pub async fn index() -> Html<&'static str> {
    Html(include_str!("../../../assets/demo/index.html"))
}

pub async fn enrol() -> Html<&'static str> {
    Html(include_str!("../../../assets/demo/enrol.html"))
}

pub async fn login() -> Html<&'static str> {
    Html(include_str!("../../../assets/demo/login.html"))
}

pub async fn session() -> Html<&'static str> {
    Html(include_str!("../../../assets/demo/session.html"))
}

/// The pages' shared style and script.
pub async fn asset(Path(name): Path<String>) -> Response {
    let (kind, body) = match name.as_str() {
        "demo.css" => (
            "text/css; charset=utf-8",
            include_str!("../../../assets/demo/demo.css"),
        ),
        "demo.js" => (
            "text/javascript; charset=utf-8",
            include_str!("../../../assets/demo/demo.js"),
        ),
        _ => return (StatusCode::NOT_FOUND, "no such demo asset").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
