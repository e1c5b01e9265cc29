//! Who is signed in to the demo: a cookie holding a web session token. The cookie is
//! `HttpOnly` and `SameSite=Strict`, so other sites can neither read it nor make the
//! browser send it with their requests; that is the demo's protection against forged
//! posts (beacons cannot carry a CSRF header).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use pointerprint_storage::AccountKind;

use crate::app::AppState;
use crate::app::accounts::{SESSION_MS, web_session};
use crate::app::demo::user_id;
use crate::domain::ids::UserId;
use crate::http::error::ApiError;
use crate::http::extract::cookie;

const COOKIE: &str = "pp_demo";

/// The `Set-Cookie` value that signs a browser in with `token`; `Secure` when the
/// service is reached over HTTPS (see [`over_https`](crate::http::security::over_https)).
pub fn sign_in_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{COOKIE}={token}; Path=/demo; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_MS / 1000
    )
}

/// The `Set-Cookie` value that signs a browser out.
pub fn sign_out_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; Path=/demo; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

/// The session token in a request's cookies, if any.
pub fn token(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, COOKIE)
}

/// A signed-in demo account.
pub struct DemoUser {
    pub username: String,
    pub user_id: UserId,
}

impl FromRequestParts<AppState> for DemoUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let not_signed_in = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "not_signed_in",
                "sign in to the demo first",
            )
        };
        let token = token(&parts.headers).ok_or_else(not_signed_in)?;
        let session = web_session(&state.store, token, state.store.now_ms())
            .await?
            .filter(|s| s.account.kind == AccountKind::Demo)
            .ok_or_else(not_signed_in)?;
        let username = session.account.username;
        Ok(Self {
            user_id: user_id(&username)?,
            username,
        })
    }
}
