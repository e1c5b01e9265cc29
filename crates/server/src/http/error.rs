//! The one error shape of the API: `{"error":{"code":"...","message":"..."}}` with a 4xx/5xx.
//! Application errors get their status here, at the edge.

use axum::Json;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::error::{AppError, ErrorKind};
use crate::app::limits::Limited;

/// The body of every error: `{"error": {"code", "message"}}`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // describes the JSON that `ApiError` writes, for the OpenAPI document
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// Machine-readable, e.g. `invalid_json`, `unauthorized`, `not_enrolled`.
    code: String,
    message: String,
}

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A server-side failure: logged in full, answered without internals.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        AppError::internal(error).into()
    }
}

/// The status of each kind of application error.
fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::TooMany => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self::new(status(e.kind), e.code, e.message)
    }
}

impl From<pointerprint_storage::StorageError> for ApiError {
    fn from(e: pointerprint_storage::StorageError) -> Self {
        AppError::from(e).into()
    }
}

impl From<crate::domain::ids::IdError> for ApiError {
    fn from(e: crate::domain::ids::IdError) -> Self {
        AppError::from(e).into()
    }
}

impl From<crate::domain::events::BatchError> for ApiError {
    fn from(e: crate::domain::events::BatchError) -> Self {
        AppError::from(e).into()
    }
}

/// A body that could not be read: too large (413, over the configured limit) or broken.
pub fn body_error(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is over the size limit",
        )
    } else {
        ApiError::bad_request("unreadable_body", e.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

/// A call refused by a rate limit: 429, its error, and `Retry-After` in seconds.
pub fn too_many(limited: Limited) -> Response {
    let mut response = ApiError::from(limited.error).into_response();
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(limited.retry_after_s),
    );
    response
}

/// A query string that does not parse (a word for a number, say): 400 `invalid_query`.
pub fn query_error(e: QueryRejection) -> ApiError {
    ApiError::bad_request("invalid_query", e.body_text())
}

/// A path parameter that does not parse: 400 `invalid_path`.
pub fn path_error(e: PathRejection) -> ApiError {
    ApiError::bad_request("invalid_path", e.body_text())
}
