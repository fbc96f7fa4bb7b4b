//! `/files/<path>`: clips, thumbnails and pages for signed-in users, straight from the data root (which
//! paths may be served is [`crate::studio::Studio::media_file`]'s decision).

use super::AppState;
use super::error::HttpError;
use super::extract::{Caller, Viewer};
use app::api::ApiError;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;

pub async fn serve(
    State(s): State<AppState>,
    _caller: Caller<Viewer>,
    Path(path): Path<String>,
    req: Request,
) -> Result<Response, HttpError> {
    let abs = s.studio.media_file(&path)?;
    match tower_http::services::ServeFile::new(abs).oneshot(req).await {
        Ok(res) => Ok(res.into_response()),
        Err(e) => {
            tracing::error!(error = %e, "serving a file failed");
            Err(HttpError(ApiError::internal("the file could not be read")))
        }
    }
}
