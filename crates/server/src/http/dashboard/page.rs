//! What every dashboard page shares: the frame around it, rendering, and errors shown as
//! pages.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::auth::Admin;
use crate::http::error::ApiError;

/// The frame of every signed-in page: navigation, who is signed in, the sign-out form.
pub struct Chrome {
    pub username: String,
    pub csrf: String,
    /// The navigation entry to highlight: `overview`, `log`, `users` or `settings`.
    pub active: &'static str,
}

impl Chrome {
    pub fn new(admin: &Admin, active: &'static str) -> Self {
        Self {
            username: admin.username().to_string(),
            csrf: admin.csrf().to_string(),
            active,
        }
    }
}

/// A rendered template, or a plain 500 if the template failed (which tests catch).
pub fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "dashboard template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "page rendering failed").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
}

/// An error shown to the administrator as a page with the API's status and message.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            status: self.0.status.as_u16(),
            message: &self.0.message,
        };
        (self.0.status, render(&page)).into_response()
    }
}
