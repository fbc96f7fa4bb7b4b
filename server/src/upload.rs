//! `POST /api/upload?show=<show>&name=<file>`: a browser (or curl) puts an episode video or its subtitle
//! sidecar into `inbox/<show>/`.
//!
//! The body is the raw file, streamed to `uploads/<random>.part` — never held in memory — and counted
//! against the configured limit while it arrives. Everything that can be refused is refused before the
//! first byte is written. While it streams, the temp file is registered in
//! [`crate::cleanup::Cleanup::uploads_in_flight`] so no cleanup sweeps it; a client that aborts gets its
//! temp file removed at once, and if the process dies the stale-upload sweep takes it. A finished upload is
//! linked into the inbox without ever replacing an existing file, then discovered.
//!
//! `&dry_run=true&size=<bytes>` runs every check without a body, so a client learns of a refusal (bad
//! name, wrong role, existing file, too large) before it starts sending.

use crate::cleanup::Cleanup;
use crate::http::{AppState, error_response};
use crate::ids::{EpisodeId, valid_show};
use app::api::backend::Actor;
use app::api::{ApiError, ErrorCode, Role, UploadDone};
use axum::Json;
use axum::extract::{Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// Writes to disk in pieces of this size, whatever size the network delivers.
const WRITE_BUFFER: usize = 1 << 20;

#[derive(Debug, serde::Deserialize)]
pub struct UploadQuery {
    show: Option<String>,
    name: Option<String>,
    /// Check everything (role, name, existing file, `size` against the limit) without sending the file,
    /// so a client learns of a refusal before it streams gigabytes.
    #[serde(default)]
    dry_run: bool,
    /// With `dry_run`: the size the client is about to send.
    size: Option<u64>,
}

/// What the query names, validated: the show folder, the file name and the episode it belongs to.
#[derive(Debug)]
struct Target {
    show: String,
    name: String,
    episode: EpisodeId,
}

impl Target {
    fn rel(&self) -> String {
        format!("inbox/{}/{}", self.show, self.name)
    }
}

const EXPECTED: &str = "expected `ep<NNN>_<YYYY-MM-DD>.mp4` (the video) or the same name ending in \
                        `.vtt` or `.srt` (its subtitles), e.g. `ep004_2026-01-04.mp4`";

fn validate(q: UploadQuery) -> Result<Target, ApiError> {
    let show = q.show.unwrap_or_default();
    let name = q.name.unwrap_or_default();
    if show.is_empty() {
        return Err(ApiError::bad_request(
            "missing `show`: upload to /api/upload?show=<show>&name=<file name>",
        ));
    }
    if !valid_show(&show) {
        return Err(ApiError::bad_request(format!(
            "`show` `{}` must be lowercase letters, digits and dashes (at most 64), starting with a letter or digit",
            clip(&show)
        )));
    }
    if name.is_empty() {
        return Err(ApiError::bad_request(format!("missing `name`: {EXPECTED}")));
    }
    // The video itself, or a subtitle sidecar named after it.
    let video_name = if name.ends_with(".mp4") {
        name.clone()
    } else if let Some(stem) = name
        .strip_suffix(".vtt")
        .or_else(|| name.strip_suffix(".srt"))
    {
        format!("{stem}.mp4")
    } else {
        return Err(ApiError::bad_request(format!(
            "`name` `{}` is not an episode file: {EXPECTED}",
            clip(&name)
        )));
    };
    let episode = EpisodeId::from_inbox(&show, &video_name).map_err(|why| {
        ApiError::bad_request(format!(
            "`name` `{}` is not an episode file ({why}): {EXPECTED}",
            clip(&name)
        ))
    })?;
    Ok(Target {
        show,
        name,
        episode,
    })
}

/// Untrusted text shortened for messages.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

pub async fn upload(State(s): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let actor = match s.studio.auth.authenticate(&parts).await {
        Ok(Some(a)) if a.role >= Role::Operator => a,
        Ok(Some(a)) => {
            return error_response(ApiError::forbidden(format!(
                "uploading needs the operator role; `{}` is {}",
                a.name,
                a.role.as_str()
            )));
        }
        Ok(None) => return error_response(ApiError::unauthorized("sign in to upload")),
        Err(e) => return error_response(e.into()),
    };
    let query = match Query::<UploadQuery>::try_from_uri(&parts.uri) {
        Ok(Query(q)) => q,
        Err(e) => return error_response(ApiError::bad_request(format!("bad query: {e}"))),
    };
    let (dry_run, announced) = (query.dry_run, query.size);
    let target = match validate(query) {
        Ok(t) => t,
        Err(e) => return error_response(e),
    };
    if let Some(ct) = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        && ct.starts_with("multipart/")
    {
        return error_response(ApiError::bad_request(
            "send the file's raw bytes as the body (Content-Type: application/octet-stream), not a multipart form",
        ));
    }
    let studio = &s.studio;
    let dest = studio.root.abs(&target.rel());
    if std::fs::symlink_metadata(&dest).is_ok() {
        return error_response(exists(&target));
    }
    let limit = studio.max_upload_bytes;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|_| !dry_run) {
        if n > limit {
            tracing::info!(show = %target.show, name = %target.name, bytes = n, actor = %actor.name, "upload refused: too large");
            return error_response(too_large(limit));
        }
        if n == 0 {
            return error_response(ApiError::bad_request("the upload is empty"));
        }
    }

    if dry_run {
        if announced.is_some_and(|n| n > limit) {
            return error_response(too_large(limit));
        }
        if announced == Some(0) {
            return error_response(ApiError::bad_request("the upload is empty"));
        }
        return Json(UploadDone {
            path: target.rel(),
            bytes: announced.unwrap_or(0),
            episode: target.episode.to_string(),
        })
        .into_response();
    }
    let guard = match InFlight::start(&studio.cleanup) {
        Ok(g) => g,
        Err(e) => return error_response(e),
    };
    tracing::info!(show = %target.show, name = %target.name, declared = ?declared, actor = %actor.name, part = %guard.rel, "upload started");
    let bytes = match receive(body, &guard.abs, limit).await {
        Ok(n) => n,
        Err(e) => {
            // The guard removes the partial file when it goes out of scope.
            tracing::info!(show = %target.show, name = %target.name, actor = %actor.name, error = %e, "upload refused or interrupted");
            return error_response(e);
        }
    };
    if bytes == 0 {
        return error_response(ApiError::bad_request("the upload is empty"));
    }
    match finish(&guard.abs, &dest) {
        Ok(()) => guard.done(),
        Err(e) if e.code() == ErrorCode::Conflict => return error_response(exists(&target)),
        Err(e) => return error_response(e),
    }
    done(&s, &actor, &target, bytes).await
}

async fn done(s: &AppState, actor: &Actor, target: &Target, bytes: u64) -> Response {
    tracing::info!(show = %target.show, name = %target.name, bytes, actor = %actor.name, "upload stored");
    // The file is in place whatever discovery says; a discovery error is reported, not hidden.
    if let Err(e) = s.studio.discover().await {
        tracing::error!(error = %e, "discover after upload failed");
        return error_response(ApiError::internal(format!(
            "stored {} but discovering it failed: {e}",
            target.rel()
        )));
    }
    Json(UploadDone {
        path: target.rel(),
        bytes,
        episode: target.episode.to_string(),
    })
    .into_response()
}

fn exists(t: &Target) -> ApiError {
    ApiError::conflict(format!(
        "{} already exists; files in the inbox are never overwritten (remove it there first)",
        t.rel()
    ))
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "the upload is larger than the limit of {} MB (EWG_MAX_UPLOAD_MB)",
            limit / (1024 * 1024)
        ),
    )
}

/// Streams the body into `part`, refusing it as soon as it passes `limit`. Returns the bytes written.
async fn receive(body: axum::body::Body, part: &Path, limit: u64) -> Result<u64, ApiError> {
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(part)
        .await
        .map_err(|e| io_error("cannot create the upload file", e))?;
    let mut out = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
    let mut stream = body.into_data_stream();
    let mut total: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request(format!(
                "the upload was interrupted after {total} bytes: {e}"
            ))
        })?;
        total += chunk.len() as u64;
        if total > limit {
            return Err(too_large(limit));
        }
        out.write_all(&chunk)
            .await
            .map_err(|e| io_error("writing the upload failed", e))?;
    }
    out.flush()
        .await
        .map_err(|e| io_error("writing the upload failed", e))?;
    Ok(total)
}

fn io_error(what: &str, e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "{what}");
    ApiError::internal(format!("{what}: {e}"))
}

/// Puts the finished file at `dest` without ever replacing an existing one: a hard link fails if `dest`
/// exists (even when another upload got there a moment earlier), then the temp name goes.
fn finish(part: &Path, dest: &Path) -> Result<(), ApiError> {
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| io_error("cannot create the show folder in the inbox", e))?;
    }
    match std::fs::hard_link(part, dest) {
        Ok(()) => {
            if let Err(e) = std::fs::remove_file(part) {
                tracing::warn!(part = %part.display(), error = %e, "could not remove the upload's temp name; the sweep will");
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(ApiError::conflict("already exists"))
        }
        // A filesystem without hard links: check, then rename (same filesystem, atomic).
        Err(_) if std::fs::symlink_metadata(dest).is_ok() => {
            Err(ApiError::conflict("already exists"))
        }
        Err(_) => std::fs::rename(part, dest)
            .map_err(|e| io_error("cannot move the upload into the inbox", e)),
    }
}

/// One upload's temp file, registered as in flight while it exists. Dropping it — on success, on error,
/// or when the connection goes away and the request future is dropped — unregisters it and removes the
/// temp file unless it was moved into the inbox.
struct InFlight {
    cleanup: Arc<Cleanup>,
    rel: String,
    abs: PathBuf,
    finished: bool,
}

impl InFlight {
    fn start(cleanup: &Arc<Cleanup>) -> Result<Self, ApiError> {
        let mut raw = [0u8; 12];
        getrandom::fill(&mut raw)
            .map_err(|e| ApiError::internal(format!("no randomness for a temp name: {e}")))?;
        let rel = format!("uploads/{}.part", hex::encode(raw));
        let abs = cleanup.root.abs(&rel);
        if let Some(dir) = abs.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| io_error("cannot create the uploads folder", e))?;
        }
        cleanup
            .uploads_in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(rel.clone());
        Ok(InFlight {
            cleanup: Arc::clone(cleanup),
            rel,
            abs,
            finished: false,
        })
    }

    fn done(mut self) {
        self.finished = true;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.finished {
            match std::fs::remove_file(&self.abs) {
                Ok(()) => tracing::info!(part = %self.rel, "removed an unfinished upload"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(part = %self.rel, error = %e, "could not remove an unfinished upload; the sweep will")
                }
            }
        }
        self.cleanup
            .uploads_in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.rel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(show: &str, name: &str) -> UploadQuery {
        UploadQuery {
            show: Some(show.into()),
            name: Some(name.into()),
            dry_run: false,
            size: None,
        }
    }

    #[test]
    fn accepts_videos_and_their_sidecars() {
        for name in [
            "ep004_2026-01-04.mp4",
            "ep004_2026-01-04.vtt",
            "ep004_2026-01-04.srt",
        ] {
            let t = validate(q("talk", name)).unwrap();
            assert_eq!(t.episode.as_str(), "talk_ep004_2026-01-04");
            assert_eq!(t.rel(), format!("inbox/talk/{name}"));
        }
    }

    #[test]
    fn refuses_everything_else_with_the_expected_shape() {
        for (show, name) in [
            ("talk", "holiday.mp4"),
            ("talk", "ep004_2026-01-04.mov"),
            ("talk", "ep004_2026-02-30.mp4"),
            ("talk", "../ep004_2026-01-04.mp4"),
            ("talk", "x/ep004_2026-01-04.mp4"),
            ("talk", "ep004_2026-01-04.fail-at"),
            ("talk", ""),
            ("Talk", "ep004_2026-01-04.mp4"),
            ("../inbox", "ep004_2026-01-04.mp4"),
            ("", "ep004_2026-01-04.mp4"),
        ] {
            let e = validate(q(show, name)).unwrap_err();
            assert_eq!(e.code(), ErrorCode::BadRequest, "{show}/{name}");
            let m = e.to_string();
            assert!(m.contains("show") || m.contains("ep<NNN>"), "{m}");
        }
    }
}
