//! The server's error type. Each variant maps to one API error code (and so one HTTP status). Internal
//! details (paths, SQL, OS errors) go to the log under a short random id; the client gets only the id,
//! which is enough for an operator to find the cause.

use crate::ids::InvalidId;
use app::api::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    InvalidId(#[from] InvalidId),
    #[error("{0}")]
    BadRequest(String),
    #[error("no episode `{0}`")]
    UnknownEpisode(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// Existed once, gone for good (a purged trash): 410.
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("too many attempts; try again in {0} s")]
    RateLimited(u64),
    /// A cap on what runs at once is reached (event streams, uploads): 429 with what to do.
    #[error("{0}")]
    TooBusy(String),
    /// Would not fit in the data root's free space: 507.
    #[error("{0}")]
    InsufficientStorage(String),
    #[error("registry error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("registry migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

/// A stored word this build does not know (a row a newer build wrote): the registry is not what this
/// build reads, which only an operator can settle.
impl From<app::api::UnknownWord> for Error {
    fn from(e: app::api::UnknownWord) -> Self {
        Error::Internal(format!("registry: {e}"))
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let code = match &e {
            Error::InvalidId(_) | Error::BadRequest(_) => ErrorCode::BadRequest,
            Error::UnknownEpisode(_) | Error::NotFound(_) => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::Gone(_) => ErrorCode::Gone,
            Error::Unauthorized(_) => ErrorCode::Unauthorized,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::RateLimited(_) | Error::TooBusy(_) => ErrorCode::TooManyRequests,
            Error::InsufficientStorage(_) => ErrorCode::InsufficientStorage,
            Error::TooLarge(_) => ErrorCode::PayloadTooLarge,
            Error::Db(_) | Error::Migrate(_) | Error::Io { .. } | Error::Internal(_) => {
                ErrorCode::Internal
            }
        };
        if code == ErrorCode::Internal {
            return internal_api_error(&e);
        }
        ApiError::new(code, e.to_string())
    }
}

/// Logs an internal failure under a fresh id and returns the plain answer the client gets.
pub fn internal_api_error(cause: &dyn std::fmt::Display) -> ApiError {
    let id = error_id();
    tracing::error!(error_id = %id, error = %cause, "internal error");
    ApiError::internal(format!("internal error (id {id})"))
}

/// Makes any internal `ApiError` safe to send: one built elsewhere with details in its message is
/// logged and replaced. The HTTP layer runs every error answer through this.
pub fn redact(e: ApiError) -> ApiError {
    if e.code() != ErrorCode::Internal || is_redacted(&e.error.message) {
        return e;
    }
    internal_api_error(&e.error.message)
}

fn is_redacted(message: &str) -> bool {
    message
        .strip_prefix("internal error (id ")
        .and_then(|r| r.strip_suffix(')'))
        .is_some_and(|id| id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Eight hex digits: short enough to read out, unique enough to grep for.
fn error_id() -> String {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        b = (crate::now_ms() as u32).to_be_bytes();
    }
    hex::encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_carry_an_id_and_no_details() {
        let e = Error::io(
            "/srv/ewg/data/inbox",
            std::io::Error::other("permission denied"),
        );
        let api = ApiError::from(e);
        assert_eq!(api.code(), ErrorCode::Internal);
        assert!(is_redacted(&api.error.message), "{}", api.error.message);
        assert!(!api.error.message.contains("/srv"));
        assert_eq!(redact(api.clone()), api);
        let leaky = ApiError::internal("SELECT * FROM users: disk I/O error at /var/lib/x");
        let safe = redact(leaky);
        assert!(is_redacted(&safe.error.message), "{}", safe.error.message);
        let plain = ApiError::bad_request("`limit` must be 1..=500");
        assert_eq!(redact(plain.clone()), plain);
    }
}
