//! `/files/<path>`: clips, thumbnails and pages for signed-in users, straight from the data root.
//! Only `outputs/` and `public/`, only real files, no symlinks on the way.

use super::AppState;
use super::error::HttpError;
use super::extract::{Caller, Viewer};
use app::api::ApiError;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use std::path::Component;
use tower::ServiceExt;

pub async fn serve(
    State(s): State<AppState>,
    _caller: Caller<Viewer>,
    Path(path): Path<String>,
    req: Request,
) -> Result<Response, HttpError> {
    let not_found = || HttpError(ApiError::not_found("no such file"));
    let rel = std::path::Path::new(&path);
    let safe = rel.components().all(|c| matches!(c, Component::Normal(_)))
        && matches!(path.split('/').next(), Some("outputs" | "public"));
    if !safe {
        return Err(not_found());
    }
    let mut abs = s.studio.root.path().to_path_buf();
    for c in rel.components() {
        abs.push(c);
        match std::fs::symlink_metadata(&abs) {
            Ok(m) if !m.file_type().is_symlink() => {}
            _ => return Err(not_found()),
        }
    }
    match tower_http::services::ServeFile::new(abs).oneshot(req).await {
        Ok(res) => Ok(res.into_response()),
        Err(e) => {
            tracing::error!(error = %e, "serving a file failed");
            Err(HttpError(ApiError::internal("the file could not be read")))
        }
    }
}
