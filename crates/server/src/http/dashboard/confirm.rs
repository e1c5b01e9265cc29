//! Destructive actions (erase, reset, revoke) are carried out only when the posted form
//! names what it acts on: its `confirm` field must equal the id in the path. Otherwise the
//! administrator is asked first, on a page of its own that works without JavaScript. A
//! form whose target was altered on the way (a path that decodes to another id than the
//! page showed) therefore asks about the real target instead of acting on it.

use askama::Template;
use axum::response::Response;
use serde::Deserialize;

use super::auth::Admin;
use super::page::{Chrome, render};

/// The `confirm` field of a destructive form.
#[derive(Deserialize)]
pub struct Confirmation {
    #[serde(default)]
    confirm: String,
}

impl Confirmation {
    /// Whether the form was confirmed for `target` (the id in the path, as parsed).
    pub fn confirms(&self, target: &str) -> bool {
        self.confirm == target
    }
}

/// What the confirmation page asks.
pub struct Question {
    pub title: &'static str,
    pub text: String,
    /// Where the confirmed form posts (already URL-encoded).
    pub action: String,
    /// The `confirm` value that carries the action out.
    pub target: String,
    pub button: &'static str,
    /// Where "Cancel" leads (already URL-encoded).
    pub cancel: String,
}

#[derive(Template)]
#[template(path = "dashboard/confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    question: Question,
}

/// The page that asks `question` before anything is done.
pub fn ask(admin: &Admin, active: &'static str, question: Question) -> Response {
    render(&ConfirmPage {
        chrome: Chrome::new(admin, active),
        question,
    })
}
