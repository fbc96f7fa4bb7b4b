//! The server's error type. Each variant maps to one API error code (and so one HTTP status); internal
//! details are logged, not leaked.

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
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("too many attempts; try again in {0} s")]
    RateLimited(u64),
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

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let code = match &e {
            Error::InvalidId(_) | Error::BadRequest(_) => ErrorCode::BadRequest,
            Error::UnknownEpisode(_) | Error::NotFound(_) => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::Unauthorized(_) => ErrorCode::Unauthorized,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::RateLimited(_) => ErrorCode::TooManyRequests,
            Error::TooLarge(_) => ErrorCode::PayloadTooLarge,
            Error::Db(_) | Error::Migrate(_) | Error::Io { .. } | Error::Internal(_) => {
                ErrorCode::Internal
            }
        };
        if code == ErrorCode::Internal {
            tracing::error!(error = %e, "internal error");
        }
        ApiError::new(code, e.to_string())
    }
}
