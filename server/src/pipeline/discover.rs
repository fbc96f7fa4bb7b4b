//! Discovery: `inbox/<show>/ep<NNN>_<YYYY-MM-DD>.mp4` → episodes. Anything that does not fit is reported
//! as skipped with the reason, never silently ignored.

use super::ffmpeg::{self, Input, ToolError};
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::registry::{NewEpisode, Registry};
use crate::storage::DataRoot;
use app::api::{DiscoverReport, Skipped};
use futures::StreamExt;
use std::path::PathBuf;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Files that may sit beside a video without being reported (`clips`: highlight settings, the show's
/// `show.clips` or one episode's).
const SIDECARS: [&str; 4] = ["vtt", "srt", "fail-at", "clips"];

/// Probes run side by side so one slow file costs at most one [`ffmpeg::PROBE_TIMEOUT`], not one per file;
/// small enough to leave the CPU to running jobs.
const PARALLEL_PROBES: usize = 4;

/// An inbox file that is shaped like an episode, before probing.
struct Candidate {
    id: EpisodeId,
    rel: String,
    path: PathBuf,
}

pub async fn discover(root: &DataRoot, registry: &Registry) -> Result<DiscoverReport> {
    discover_with(root, registry, ffmpeg::PROBE_TIMEOUT).await
}

/// [`discover`] with the probe timeout as a parameter (tests use a short one).
pub async fn discover_with(
    root: &DataRoot,
    registry: &Registry,
    probe_timeout: Duration,
) -> Result<DiscoverReport> {
    let (candidates, skipped) = scan(root)?;
    let mut report = DiscoverReport {
        added: Vec::new(),
        skipped,
    };
    let paths: Vec<PathBuf> = candidates.iter().map(|c| c.path.clone()).collect();
    let probes: Vec<_> = futures::stream::iter(paths)
        .map(move |path| probe(path, probe_timeout))
        .buffered(PARALLEL_PROBES)
        .collect()
        .await;
    for (c, probe) in candidates.into_iter().zip(probes) {
        let duration = match probe {
            Ok(d) => Some(d),
            // A file that hangs its probe would hang prep too: report it instead of queueing it.
            Err(e @ ToolError::TimedOut { .. }) => {
                tracing::warn!(episode = %c.id, path = %c.rel, error = %e, "probe timed out; skipped");
                report.skipped.push(Skipped {
                    path: c.rel,
                    reason: e.to_string(),
                });
                continue;
            }
            // A refused or unreadable video is still an episode: prep fails it with the reason.
            Err(e) => {
                tracing::info!(episode = %c.id, path = %c.rel, error = %e, "probe failed");
                None
            }
        };
        let added = registry
            .upsert_discovered(&NewEpisode {
                id: c.id.to_string(),
                show: c.id.show().to_string(),
                source_path: c.rel,
                title: c.id.to_string(),
                duration_secs: duration,
            })
            .await?;
        if added {
            report.added.push(c.id.to_string());
        }
    }
    Ok(report)
}

/// Owns its inputs: a stream of futures borrowing from the caller is not `Send` enough for the
/// `async_trait` handlers that call discovery.
async fn probe(path: PathBuf, timeout: Duration) -> Result<f64, ToolError> {
    let never = CancellationToken::new();
    ffmpeg::probe_duration(&path, Input::Video, &never, timeout).await
}

/// Episode-shaped files under the inbox, in name order, and everything else with the reason.
fn scan(root: &DataRoot) -> Result<(Vec<Candidate>, Vec<Skipped>)> {
    let mut candidates = Vec::new();
    let mut skipped = Vec::new();
    let inbox = root.inbox();
    let mut shows: Vec<_> = std::fs::read_dir(&inbox)
        .map_err(|e| Error::io(&inbox, e))?
        .flatten()
        .collect();
    shows.sort_by_key(|e| e.file_name());
    for show in shows {
        let show_name = show.file_name().to_string_lossy().into_owned();
        let rel_show = format!("inbox/{show_name}");
        if !show.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            skipped.push(Skipped {
                path: rel_show,
                reason: "not a show folder: put videos in inbox/<show>/".into(),
            });
            continue;
        }
        let mut files: Vec<_> = match std::fs::read_dir(show.path()) {
            Ok(rd) => rd.flatten().collect(),
            Err(e) => {
                skipped.push(Skipped {
                    path: rel_show,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        files.sort_by_key(|e| e.file_name());
        for file in files {
            let name = file.file_name().to_string_lossy().into_owned();
            let rel = format!("{rel_show}/{name}");
            if SIDECARS
                .iter()
                .any(|ext| name.ends_with(&format!(".{ext}")))
            {
                continue;
            }
            let id = match EpisodeId::from_inbox(&show_name, &name) {
                Ok(id) => id,
                Err(reason) => {
                    skipped.push(Skipped { path: rel, reason });
                    continue;
                }
            };
            if !file.file_type().map(|t| t.is_file()).unwrap_or(false) {
                skipped.push(Skipped {
                    path: rel,
                    reason: "not a regular file".into(),
                });
                continue;
            }
            candidates.push(Candidate {
                id,
                rel,
                path: file.path(),
            });
        }
    }
    Ok((candidates, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_video(path: &std::path::Path) {
        let ok = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi"])
            .args(["-i", "testsrc2=size=64x36:rate=10:duration=1"])
            .args([
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
            ])
            .arg(path)
            .status()
            .unwrap()
            .success();
        assert!(ok, "ffmpeg could not make the test video");
    }

    /// A probe that outlives its timeout is reported with the reason and blocks neither discovery nor
    /// the other files; a refused playlist is still an episode (prep fails it with the reason).
    #[tokio::test]
    async fn slow_probes_are_skipped_with_a_reason_and_playlists_stay_episodes() {
        let dir = tempfile::tempdir().unwrap();
        let show = dir.path().join("inbox/talk");
        std::fs::create_dir_all(&show).unwrap();
        write_video(&show.join("ep001_2026-01-01.mp4"));
        std::fs::write(show.join("ep002_2026-01-02.mp4"), "#EXTM3U\nx.ts\n").unwrap();
        let root = DataRoot::open(dir.path()).unwrap();
        let registry = Registry::open(None, dir.path()).await.unwrap();

        let report = discover_with(&root, &registry, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(
            report.added,
            ["talk_ep001_2026-01-01", "talk_ep002_2026-01-02"]
        );
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);

        // No ffprobe can start, read and answer in a millisecond: the real timeout path, not a race.
        let report = discover_with(&root, &registry, Duration::from_millis(1))
            .await
            .unwrap();
        let skipped: Vec<_> = report.skipped.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(skipped, ["inbox/talk/ep001_2026-01-01.mp4"]);
        assert!(
            report.skipped[0].reason.contains("did not finish within"),
            "{:?}",
            report.skipped
        );
    }
}
