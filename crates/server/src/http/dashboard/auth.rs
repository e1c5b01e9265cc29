//! Administrators' sign-in for the dashboard: the session cookie, the CSRF check on every
//! posted form, sign-in and sign-out.
//!
//! The cookie holds a random token (the store keeps only its hash, through
//! `crate::app::accounts`); it is HttpOnly, SameSite=Strict, limited to `/dashboard`, and
//! Secure when the service is configured so or the request came over HTTPS. Every POST
//! form carries the session's CSRF token in a `csrf` field; before sign-in, the sign-in
//! form's token is a double-submit cookie.

use askama::Template;
use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::{
    ConnectInfo, FromRequest, FromRequestParts, OptionalFromRequestParts, Request, State,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use pointerprint_storage::{AccountKind, WebSession};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::page::{PageError, render};
use crate::app::AppState;
use crate::app::accounts;
use crate::http::extract::cookie;
use crate::http::security::over_https;

/// The session cookie.
pub const SESSION_COOKIE: &str = "pp_dashboard";
/// The sign-in form's double-submit CSRF cookie.
const LOGIN_CSRF_COOKIE: &str = "pp_dashboard_login";
/// Lifetime of a session cookie; the store ends the session at the same time.
const SESSION_SECONDS: u32 = 12 * 3600;

/// A signed-in administrator.
pub struct Admin {
    pub session: WebSession,
    token: String,
}

impl Admin {
    pub fn username(&self) -> &str {
        &self.session.account.username
    }

    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }

    /// Whether the session is still live (not signed out, not expired): long-lived
    /// responses such as the live feed ask again from time to time.
    pub async fn still_signed_in(&self, state: &AppState) -> bool {
        matches!(
            accounts::web_session(&state.store, &self.token, state.store.now_ms()).await,
            Ok(Some(_))
        )
    }
}

/// What a request without a valid session gets: the sign-in page for a person, 401 for
/// the live feed's script.
pub struct SignInRequired;

impl IntoResponse for SignInRequired {
    fn into_response(self) -> Response {
        Redirect::to("/dashboard/login").into_response()
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = SignInRequired;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, SignInRequired> {
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(SignInRequired)?;
        match accounts::web_session(&state.store, token, state.store.now_ms()).await {
            Ok(Some(session)) if session.account.kind == AccountKind::Admin => Ok(Admin {
                session,
                token: token.to_string(),
            }),
            Ok(_) => Err(SignInRequired),
            Err(e) => {
                tracing::error!(error = %e, "cannot look up a dashboard session");
                Err(SignInRequired)
            }
        }
    }
}

impl OptionalFromRequestParts<AppState> for Admin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(
            <Admin as FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .ok(),
        )
    }
}

/// Equal in time independent of where the strings differ.
fn same_token(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A form posted by a signed-in administrator, whose CSRF token matched. Every
/// state-changing dashboard handler takes its form through this.
pub struct Posted<T> {
    pub admin: Admin,
    pub form: T,
}

/// Why a posted form was refused.
pub enum PostRefused {
    SignIn,
    Csrf,
    Form(String),
}

impl IntoResponse for PostRefused {
    fn into_response(self) -> Response {
        match self {
            PostRefused::SignIn => SignInRequired.into_response(),
            PostRefused::Csrf => (
                StatusCode::FORBIDDEN,
                "The form's security token is missing or out of date. Reload the page and try again.",
            )
                .into_response(),
            PostRefused::Form(m) => (StatusCode::BAD_REQUEST, m).into_response(),
        }
    }
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = PostRefused;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, PostRefused> {
        let (mut parts, body) = request.into_parts();
        let admin = <Admin as FromRequestParts<AppState>>::from_request_parts(&mut parts, state)
            .await
            .map_err(|_| PostRefused::SignIn)?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| PostRefused::Form(e.body_text()))?;
        let token: CsrfField = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| PostRefused::Form(format!("unreadable form: {e}")))?;
        if !same_token(&token.csrf, admin.csrf()) {
            return Err(PostRefused::Csrf);
        }
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| PostRefused::Form(format!("unreadable form: {e}")))?;
        Ok(Posted { admin, form })
    }
}

fn set_cookie(name: &str, value: &str, max_age: u32, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!(
        "{name}={value}; Path=/dashboard; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[derive(Template)]
#[template(path = "dashboard/login.html")]
struct LoginPage {
    csrf: String,
    username: String,
    error: Option<String>,
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    username: String,
    error: Option<String>,
) -> Response {
    let csrf = accounts::random_token();
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let page = LoginPage {
        csrf: csrf.clone(),
        username,
        error,
    };
    let mut response = (status, render(&page)).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF_COOKIE, &csrf, 3600, over_https(state, headers)),
    );
    response
}

/// `GET /dashboard/login`: the sign-in form, or the overview for someone signed in.
pub async fn login_form(
    State(state): State<AppState>,
    admin: Option<Admin>,
    headers: HeaderMap,
) -> Response {
    if admin.is_some() {
        return Redirect::to("/dashboard").into_response();
    }
    login_page(&state, &headers, String::new(), None)
}

#[derive(Deserialize)]
pub struct Credentials {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// `POST /dashboard/login`: checks the password and starts a session. Failures are
/// counted per source address, not per account: after
/// [`SIGN_INS_PER_SOURCE`](crate::app::SIGN_INS_PER_SOURCE) in a while
/// the address must wait, whatever names it tries, so nobody can lock an administrator out
/// by failing in their name, and the answer never tells whether a name exists.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Credentials>,
) -> Result<Response, PageError> {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_token(&form.csrf, expected) {
        return Ok(PostRefused::Csrf.into_response());
    }
    let source = peer.ip();
    if let Err(wait) = state.sign_in_failures.check(&source) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let message = format!(
            "Too many failed sign-ins from your address: try again in {minutes} minute(s)."
        );
        return Ok(login_page(&state, &headers, form.username, Some(message)));
    }
    let now = state.store.now_ms();
    let account = accounts::password_only(
        &state.store,
        AccountKind::Admin,
        &form.username,
        &form.password,
    )
    .await?;
    let Some(account) = account else {
        // Only the take counts; whether this one was the last is told on the next try.
        let _ = state.sign_in_failures.take(&source);
        tracing::info!(%source, "failed dashboard sign-in");
        let message = "Wrong user name or password.".to_string();
        return Ok(login_page(&state, &headers, form.username, Some(message)));
    };
    let (token, _csrf) = accounts::start_web_session(&state.store, &account, now).await?;
    tracing::info!(user = %account.username, "administrator signed in to the dashboard");
    let secure = over_https(&state, &headers);
    let mut response = Redirect::to("/dashboard").into_response();
    let cookies = response.headers_mut();
    cookies.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &token, SESSION_SECONDS, secure),
    );
    cookies.append(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF_COOKIE, "", 0, secure),
    );
    Ok(response)
}

#[derive(Deserialize)]
pub struct Empty {}

/// `POST /dashboard/logout`: ends the session and clears its cookie.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    posted: Posted<Empty>,
) -> Result<Response, PageError> {
    accounts::end_web_session(&state.store, &posted.admin.token).await?;
    let mut response = Redirect::to("/dashboard/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, over_https(&state, &headers)),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; pp_dashboard=tok"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "pp"), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert!(!same_token("", "a"));
    }
}
