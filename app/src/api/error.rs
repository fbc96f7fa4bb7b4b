//! The one error type every server function returns. It serializes as `{"error": {"code", "message"}}`,
//! and the server derives the HTTP status from `code`, so a failure can never travel as a 200.

use serde::{Deserialize, Serialize};
use server_fn::error::FromServerFnError;
use server_fn::error::ServerFnErrorErr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    /// What was asked for existed once and is gone for good (a purged trash).
    Gone,
    PayloadTooLarge,
    TooManyRequests,
    /// What was sent would not fit in the free space of the server's disk.
    InsufficientStorage,
    Internal,
    /// The browser could not reach the server at all.
    Network,
}

impl ErrorCode {
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::Gone => 410,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::InsufficientStorage => 507,
            ErrorCode::Internal | ErrorCode::Network => 500,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", .error.message)]
pub struct ApiError {
    pub error: ErrorBody,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            error: ErrorBody {
                code,
                message: message.into(),
            },
        }
    }
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, m)
    }
    pub fn unauthorized(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, m)
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, m)
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, m)
    }
    pub fn gone(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Gone, m)
    }
    pub fn internal(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, m)
    }
    pub fn code(&self) -> ErrorCode {
        self.error.code
    }
}

impl FromServerFnError for ApiError {
    type Encoder = super::codec::JsonText;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(m) => ApiError::bad_request(format!("invalid arguments: {m}")),
            // On the server this variant only comes from decoding the caller's arguments.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(m) => {
                ApiError::bad_request(format!("invalid arguments: {m}"))
            }
            ServerFnErrorErr::MissingArg(m) => {
                ApiError::bad_request(format!("missing argument `{m}`"))
            }
            ServerFnErrorErr::Request(m) => ApiError::new(
                ErrorCode::Network,
                format!("could not reach the server: {m}"),
            ),
            other => ApiError::internal(other.to_string()),
        }
    }
}
