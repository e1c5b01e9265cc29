//! The demo's pages: static HTML that calls the demo's JSON endpoints; no build step.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::http::security::content_security_policy;

pub async fn to_index() -> Redirect {
    Redirect::permanent("/demo/")
}

/// A page with its Content-Security-Policy (its own inline script allowed by hash).
fn page(html: &'static str) -> Response {
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            content_security_policy(html),
        )],
        Html(html),
    )
        .into_response()
}

pub async fn index() -> Response {
    page(include_str!("../../../assets/demo/index.html"))
}

pub async fn enrol() -> Response {
    page(include_str!("../../../assets/demo/enrol.html"))
}

pub async fn login() -> Response {
    page(include_str!("../../../assets/demo/login.html"))
}

pub async fn session() -> Response {
    page(include_str!("../../../assets/demo/session.html"))
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
