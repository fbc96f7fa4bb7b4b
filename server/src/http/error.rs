//! One error type that is a response: the API's JSON envelope with the status of its code.

use crate::error::Error;
use app::api::ApiError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An [`ApiError`] as an HTTP response. Handlers return `Result<_, HttpError>` and use `?` on the
/// domain's [`Error`] (whose conversion logs internal causes).
#[derive(Debug)]
pub struct HttpError(pub ApiError);

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> Self {
        HttpError(e)
    }
}

impl From<Error> for HttpError {
    fn from(e: Error) -> Self {
        HttpError(e.into())
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let e = crate::error::redact(self.0);
        let status =
            StatusCode::from_u16(e.code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(e)).into_response()
    }
}

pub fn error_response(e: ApiError) -> Response {
    HttpError(e).into_response()
}
