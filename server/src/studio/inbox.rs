//! Browser uploads into `inbox/<show>/`: an episode video or its subtitle sidecar.
//!
//! The body is streamed to `uploads/<random>.part` — never held in memory — and counted against the
//! limit while it arrives. Everything that can be refused is refused before the first byte is written.
//! While it streams, the part is an upload lease in the registry ([`crate::cleanup::UploadLease`]), so
//! no sweep in any process takes it; a client that aborts gets its part removed at once, and if the process
//! dies the stale-upload sweep takes it. A finished upload is linked into the inbox without ever replacing
//! an existing file, then discovered.
//!
//! An upload must fit: its declared size (`Content-Length`, or `size` on a dry run) plus
//! `--upload-margin-mb` must be free on the data root's filesystem, else 507 before a byte is written;
//! one without a declared size is refused (507, its part removed) as soon as it would eat into the
//! margin, and a disk that fills anyway answers 507 too.

use super::Studio;
use crate::error::{Error, Result};
use crate::ids::{EpisodeId, valid_show};
use app::api::UploadDone;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use std::path::Path;
use tokio::io::AsyncWriteExt;

/// Writes to disk in pieces of this size, whatever size the network delivers.
const WRITE_BUFFER: usize = 1 << 20;

const EXPECTED: &str = "expected `ep<NNN>_<YYYY-MM-DD>.mp4` (the video) or the same name ending in \
                        `.vtt` or `.srt` (its subtitles), e.g. `ep004_2026-01-04.mp4`";

/// The query of `POST /api/upload`, as sent.
#[derive(Debug, Default, serde::Deserialize)]
pub struct UploadRequest {
    pub show: Option<String>,
    pub name: Option<String>,
    /// Check everything (role, name, existing file, `size` against the limit) without sending the file,
    /// so a client learns of a refusal before it streams gigabytes.
    #[serde(default)]
    pub dry_run: bool,
    /// With `dry_run`: the size the client is about to send.
    pub size: Option<u64>,
}

/// What the query names, validated: the show folder, the file name and the episode it belongs to.
#[derive(Debug)]
pub struct UploadTarget {
    pub show: String,
    pub name: String,
    pub episode: EpisodeId,
}

impl UploadTarget {
    pub fn rel(&self) -> String {
        format!("inbox/{}/{}", self.show, self.name)
    }

    fn done(&self, bytes: u64) -> UploadDone {
        UploadDone {
            path: self.rel(),
            bytes,
            episode: self.episode.to_string(),
        }
    }
}

impl UploadRequest {
    pub fn validate(&self) -> Result<UploadTarget> {
        let show = self.show.clone().unwrap_or_default();
        let name = self.name.clone().unwrap_or_default();
        if show.is_empty() {
            return Err(Error::BadRequest(
                "missing `show`: upload to /api/upload?show=<show>&name=<file name>".into(),
            ));
        }
        if !valid_show(&show) {
            return Err(Error::BadRequest(format!(
                "`show` `{}` must be lowercase letters, digits and dashes (at most 64), starting with a letter or digit",
                clip(&show)
            )));
        }
        if name.is_empty() {
            return Err(Error::BadRequest(format!("missing `name`: {EXPECTED}")));
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
            return Err(Error::BadRequest(format!(
                "`name` `{}` is not an episode file: {EXPECTED}",
                clip(&name)
            )));
        };
        let episode = EpisodeId::from_inbox(&show, &video_name).map_err(|why| {
            Error::BadRequest(format!(
                "`name` `{}` is not an episode file ({why}): {EXPECTED}",
                clip(&name)
            ))
        })?;
        Ok(UploadTarget {
            show,
            name,
            episode,
        })
    }
}

/// Untrusted text shortened for messages.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

impl Studio {
    /// Every refusal that needs no body: an existing file, a declared or announced size over the limit,
    /// an empty upload. A dry run ends here with what the upload would be.
    pub fn check_upload(
        &self,
        req: &UploadRequest,
        target: &UploadTarget,
        declared: Option<u64>,
    ) -> Result<Option<UploadDone>> {
        if std::fs::symlink_metadata(self.root.abs(&target.rel())).is_ok() {
            return Err(exists(target));
        }
        let size = if req.dry_run { req.size } else { declared };
        if size.is_some_and(|n| n > self.max_upload_bytes) {
            return Err(self.too_large());
        }
        if size == Some(0) {
            return Err(Error::BadRequest("the upload is empty".into()));
        }
        if let Some(n) = size
            && let Some(room) = self.upload_room()
            && n > room
        {
            return Err(self.no_room(n));
        }
        Ok(req.dry_run.then(|| target.done(req.size.unwrap_or(0))))
    }

    /// Bytes an upload may take now: the data root's free space less the margin. `None` when the
    /// filesystem cannot say (then nothing is refused for space; a full disk still answers 507).
    fn upload_room(&self) -> Option<u64> {
        match self.root.space() {
            Ok(space) => Some(space.free.saturating_sub(self.upload_margin())),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the data root's free space; uploads are not checked against it");
                None
            }
        }
    }

    fn upload_margin(&self) -> u64 {
        self.edges.upload_margin_bytes
    }

    fn no_room(&self, bytes: u64) -> Error {
        let free = self.root.space().map(|s| s.free).unwrap_or(0);
        Error::InsufficientStorage(format!(
            "the upload ({} MiB) does not fit: the data root's filesystem has {} MiB free and keeps {} MiB in reserve (EWG_UPLOAD_MARGIN_MB); free space (Deep Clean, empty the trash) and try again",
            bytes.div_ceil(1024 * 1024),
            free / (1024 * 1024),
            self.edges.upload_margin_bytes / (1024 * 1024)
        ))
    }

    /// Streams the body into a leased part, links it into the inbox and discovers it.
    pub async fn receive_upload<S, E>(&self, target: &UploadTarget, body: S) -> Result<UploadDone>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let lease = self.cleanup.begin_upload().await?;
        tracing::info!(show = %target.show, name = %target.name, part = %lease.rel(), "upload started");
        let stored = match self.stream_to(body, lease.abs()).await {
            Ok(0) => Err(Error::BadRequest("the upload is empty".into())),
            Ok(bytes) => link_into_inbox(lease.abs(), &self.root.abs(&target.rel()))
                .map(|()| bytes)
                .map_err(|e| match e {
                    Error::Conflict(_) => exists(target),
                    other => other,
                }),
            Err(e) => Err(e),
        };
        let bytes = match stored {
            Ok(bytes) => bytes,
            // Dropping the lease removes the part at once and forgets its row in the background, so
            // the refusal goes out while the client may still be sending.
            Err(e) => return Err(e),
        };
        lease.finish().await;
        tracing::info!(show = %target.show, name = %target.name, bytes, "upload stored");
        // The file is in place whatever discovery says; a discovery error is reported, not hidden.
        self.discover().await.map_err(|e| {
            tracing::error!(error = %e, "discover after upload failed");
            Error::Internal(format!("stored {} but discovering it failed", target.rel()))
        })?;
        Ok(target.done(bytes))
    }

    /// Writes the body to `part`, refusing it as soon as it passes the limit. Returns the bytes written.
    async fn stream_to<S, E>(&self, mut body: S, part: &Path) -> Result<u64>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(part)
            .await
            .map_err(|e| Error::io(part, e))?;
        let mut out = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut total: u64 = 0;
        let room = self.upload_room();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                Error::BadRequest(format!(
                    "the upload was interrupted after {total} bytes: {e}"
                ))
            })?;
            total += chunk.len() as u64;
            if total > self.max_upload_bytes {
                return Err(self.too_large());
            }
            if room.is_some_and(|r| total > r) {
                return Err(self.no_room(total));
            }
            out.write_all(&chunk)
                .await
                .map_err(|e| self.write_failed(part, total, e))?;
        }
        out.flush()
            .await
            .map_err(|e| self.write_failed(part, total, e))?;
        Ok(total)
    }

    /// A full disk is the client's 507, not an internal error.
    fn write_failed(&self, part: &Path, total: u64, e: std::io::Error) -> Error {
        if e.kind() == std::io::ErrorKind::StorageFull {
            tracing::warn!(part = %part.display(), bytes = total, "upload refused: the disk is full");
            return self.no_room(total);
        }
        Error::io(part, e)
    }

    fn too_large(&self) -> Error {
        Error::TooLarge(format!(
            "the upload is larger than the limit of {} MiB (EWG_MAX_UPLOAD_MB)",
            self.max_upload_bytes / (1024 * 1024)
        ))
    }
}

fn exists(t: &UploadTarget) -> Error {
    Error::Conflict(format!(
        "{} already exists; files in the inbox are never overwritten (remove it there first)",
        t.rel()
    ))
}

/// Puts the finished file at `dest` without ever replacing an existing one: a hard link fails if `dest`
/// exists (even when another upload got there a moment earlier), then the temp name goes.
fn link_into_inbox(part: &Path, dest: &Path) -> Result<()> {
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    match std::fs::hard_link(part, dest) {
        Ok(()) => {
            if let Err(e) = std::fs::remove_file(part) {
                tracing::warn!(part = %part.display(), error = %e, "could not remove the upload's temp name; the sweep will");
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(Error::Conflict("already exists".into()))
        }
        // A filesystem without hard links: check, then rename (same filesystem, atomic).
        Err(_) if std::fs::symlink_metadata(dest).is_ok() => {
            Err(Error::Conflict("already exists".into()))
        }
        Err(_) => std::fs::rename(part, dest).map_err(|e| Error::io(dest, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(show: &str, name: &str) -> UploadRequest {
        UploadRequest {
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
            let t = q("talk", name).validate().expect("valid");
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
            let e = q(show, name).validate().expect_err("refused");
            assert!(matches!(e, Error::BadRequest(_)), "{show}/{name}");
            let m = e.to_string();
            assert!(m.contains("show") || m.contains("ep<NNN>"), "{m}");
        }
    }
}
