//! `/files/<path>`: clips, thumbnails and pages for signed-in users, straight from the data root.
//! Only `outputs/` and `public/`, only real files, no symlinks on the way.

use crate::http::{AppState, error_response};
use app::api::ApiError;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use std::path::Component;
use tower::ServiceExt;

pub async fn serve(State(s): State<AppState>, Path(path): Path<String>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    match s.studio.auth.authenticate(&parts).await {
        Ok(Some(_)) => {}
        Ok(None) => return error_response(ApiError::unauthorized("sign in to see media")),
        Err(e) => return error_response(e.into()),
    }
    let rel = std::path::Path::new(&path);
    let safe = rel.components().all(|c| matches!(c, Component::Normal(_)))
        && matches!(path.split('/').next(), Some("outputs" | "public"));
    if !safe {
        return error_response(ApiError::not_found("no such file"));
    }
    let mut abs = s.studio.root.path().to_path_buf();
    for c in rel.components() {
        abs.push(c);
        match std::fs::symlink_metadata(&abs) {
            Ok(m) if m.file_type().is_symlink() => {
                return error_response(ApiError::not_found("no such file"));
            }
            Ok(_) => {}
            Err(_) => return error_response(ApiError::not_found("no such file")),
        }
    }
    let req = Request::from_parts(parts, body);
    match tower_http::services::ServeFile::new(abs).oneshot(req).await {
        Ok(res) => res.into_response(),
        Err(e) => error_response(ApiError::internal(e.to_string())),
    }
}
