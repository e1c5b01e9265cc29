//! What the HTTP layer reads off requests: JSON bodies with located errors, API keys,
//! cookies.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use cookie::Cookie;
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::app::keys::{Caller, authenticate};
use crate::app::sessions::{Collector, authenticate_collector};
use crate::http::error::{ApiError, body_error};

/// A JSON body, parsed with an error that says where it went wrong; too large a body is 413.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        parse_json(&bytes).map(JsonBody)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request("invalid_json", e.to_string()))
}

/// The bearer token of request headers, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// A collector's credential as clients that cannot set headers send it.
#[derive(serde::Deserialize)]
struct CredentialParams {
    key: Option<String>,
    token: Option<String>,
}

/// The authenticated collector of a request (a session token or an API key, as
/// `Authorization: Bearer`, or as the `token` or `key` query parameter for beacons,
/// WebSockets and the original extension), with the credential it sent so a long-lived
/// connection can check it again. Taken from the request's head, so a body is not read,
/// let alone parsed, before the caller is known. The ingest key is refused from browsers
/// unless `ingest_key_in_browsers` is set.
pub struct Authenticated {
    pub collector: Collector,
    pub credential: String,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let params = Query::<CredentialParams>::try_from_uri(&parts.uri)
            .map(|q| q.0)
            .unwrap_or(CredentialParams {
                key: None,
                token: None,
            });
        let credential = bearer(&parts.headers)
            .map(str::to_string)
            .or(params.token)
            .or(params.key)
            .unwrap_or_default();
        let collector = authenticate_collector(state, Some(&credential)).await?;
        if collector.is_ingest_key()
            && parts.headers.contains_key(header::ORIGIN)
            && !state.config.ingest_key_in_browsers
        {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "ingest_key_not_for_browsers",
                "the ingest key is not accepted from browsers: send with a session token \
                 (POST /v1/sessions from the site's backend)",
            ));
        }
        Ok(Self {
            collector,
            credential,
        })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(authenticate(state, bearer(&parts.headers)).await?)
    }
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
}
