//! `POST /api/upload?show=<show>&name=<file>`: the raw file as the body (see [`crate::studio`]'s inbox
//! for what is accepted and how it is kept safe). `&dry_run=true&size=<bytes>` runs every check without
//! a body, so a client learns of a refusal before it starts sending. At most `--max-uploads` stream at
//! once (429 past it); one that would not fit in the free space is refused with 507.

use super::AppState;
use super::error::HttpError;
use super::extract::{Caller, Operator};
use crate::studio::UploadRequest;
use app::api::{ApiError, UploadDone};
use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};

pub async fn upload(
    State(s): State<AppState>,
    caller: Caller<Operator>,
    query: Result<Query<UploadRequest>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<UploadDone>, HttpError> {
    let Query(req) = query.map_err(|e| ApiError::bad_request(format!("bad query: {e}")))?;
    let target = req.validate()?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if content_type.is_some_and(|ct| ct.starts_with("multipart/")) {
        return Err(ApiError::bad_request(
            "send the file's raw bytes as the body (Content-Type: application/octet-stream), not a multipart form",
        )
        .into());
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let actor = &caller.actor.name;
    if let Some(preview) = s.studio.check_upload(&req, &target, declared).inspect_err(|e| {
        tracing::info!(show = %target.show, name = %target.name, %actor, error = %e, "upload refused");
    })? {
        return Ok(Json(preview));
    }
    // Held until the body is stored or refused (or the client goes away and the request is dropped).
    let _slot = s.limits.start_upload().inspect_err(|e| {
        tracing::info!(show = %target.show, name = %target.name, %actor, error = %e, "upload refused");
    })?;
    let done = s
        .studio
        .receive_upload(&target, body.into_data_stream())
        .await
        .inspect_err(|e| {
            tracing::info!(show = %target.show, name = %target.name, %actor, error = %e, "upload refused or interrupted");
        })?;
    Ok(Json(done))
}
