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
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Files that may sit beside a video without being reported (`clips`: highlight settings, the show's
/// `show.clips` or one episode's).
const SIDECARS: [&str; 4] = ["vtt", "srt", "fail-at", "clips"];

/// Counts a scan publishes while it runs (read by the status endpoint and the event stream).
#[derive(Debug, Default)]
pub struct Progress {
    pub seen: AtomicU64,
    /// Set once the inbox has been listed: the files to probe.
    pub total: AtomicU64,
    pub listed: std::sync::atomic::AtomicBool,
    pub probed: AtomicU64,
    pub added: AtomicU64,
    pub skipped: AtomicU64,
}

/// Probes running side by side: ffprobe mostly waits on process start-up and the disk, so a few per
/// core keep the CPU busy, and the bound leaves room for running jobs. One slow file costs at most one
/// [`ffmpeg::PROBE_TIMEOUT`], not one per file.
pub fn parallel_probes() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cores * 4).clamp(4, 32)
}

/// An inbox file that is shaped like an episode, before probing.
struct Candidate {
    id: EpisodeId,
    rel: String,
    path: PathBuf,
}

/// What probing and recording one candidate gave.
enum Found {
    Added(EpisodeId),
    Known,
    Skipped(Skipped),
}

pub async fn discover(root: &DataRoot, registry: &Registry) -> Result<DiscoverReport> {
    let progress = Progress::default();
    discover_with(
        root,
        registry,
        ffmpeg::PROBE_TIMEOUT,
        &progress,
        parallel_probes(),
    )
    .await
}

/// [`discover`] with the probe timeout (tests use a short one) and the probes run at once (the bench
/// compares) as parameters, counting into `progress`.
pub async fn discover_with(
    root: &DataRoot,
    registry: &Registry,
    probe_timeout: Duration,
    progress: &Progress,
    parallel: usize,
) -> Result<DiscoverReport> {
    let (candidates, skipped) = scan(root, progress)?;
    progress
        .skipped
        .store(skipped.len() as u64, Ordering::Relaxed);
    progress
        .total
        .store(candidates.len() as u64, Ordering::Relaxed);
    progress.listed.store(true, Ordering::Relaxed);
    let mut report = DiscoverReport {
        added: Vec::new(),
        skipped,
    };
    let mut found: Vec<Result<Found>> = futures::stream::iter(candidates)
        .map(|c| probe_and_record(c, registry.clone(), probe_timeout))
        .buffer_unordered(parallel.max(1))
        .inspect(|f| {
            progress.probed.fetch_add(1, Ordering::Relaxed);
            match f {
                Ok(Found::Added(_)) => progress.added.fetch_add(1, Ordering::Relaxed),
                Ok(Found::Skipped(_)) => progress.skipped.fetch_add(1, Ordering::Relaxed),
                _ => 0,
            };
        })
        .collect()
        .await;
    let mut added = Vec::new();
    let mut late_skips = Vec::new();
    for f in found.drain(..) {
        match f? {
            Found::Added(id) => added.push(id),
            Found::Known => {}
            Found::Skipped(s) => late_skips.push(s),
        }
    }
    added.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    late_skips.sort_by(|a, b| a.path.cmp(&b.path));
    report.added = added.iter().map(|id| id.to_string()).collect();
    report.skipped.extend(late_skips);
    Ok(report)
}

/// Probes one candidate and records it. Owns its inputs: a stream of futures borrowing from the caller
/// is not `Send` enough for the `async_trait` handlers that call discovery.
async fn probe_and_record(c: Candidate, registry: Registry, timeout: Duration) -> Result<Found> {
    let duration = match probe(c.path, timeout).await {
        Ok(d) => Some(d),
        // A file that hangs its probe would hang prep too: report it instead of queueing it.
        Err(e @ ToolError::TimedOut { .. }) => {
            tracing::warn!(episode = %c.id, path = %c.rel, error = %e, "probe timed out; skipped");
            return Ok(Found::Skipped(Skipped {
                path: c.rel,
                reason: e.to_string(),
            }));
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
    Ok(if added {
        Found::Added(c.id)
    } else {
        Found::Known
    })
}

async fn probe(path: PathBuf, timeout: Duration) -> Result<f64, ToolError> {
    let never = CancellationToken::new();
    ffmpeg::probe_duration(&path, Input::Video, &never, timeout).await
}

/// Episode-shaped files under the inbox, in name order, and everything else with the reason.
fn scan(root: &DataRoot, progress: &Progress) -> Result<(Vec<Candidate>, Vec<Skipped>)> {
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
        progress
            .seen
            .fetch_add(files.len() as u64, Ordering::Relaxed);
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

        let report = discover_with(
            &root,
            &registry,
            Duration::from_secs(60),
            &Progress::default(),
            4,
        )
        .await
        .unwrap();
        assert_eq!(
            report.added,
            ["talk_ep001_2026-01-01", "talk_ep002_2026-01-02"]
        );
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);

        // No ffprobe can start, read and answer in a millisecond: the real timeout path, not a race.
        let progress = Progress::default();
        let report = discover_with(&root, &registry, Duration::from_millis(1), &progress, 4)
            .await
            .unwrap();
        let skipped: Vec<_> = report.skipped.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(skipped, ["inbox/talk/ep001_2026-01-01.mp4"]);
        assert!(
            report.skipped[0].reason.contains("did not finish within"),
            "{:?}",
            report.skipped
        );
        assert_eq!(progress.total.load(Ordering::Relaxed), 2);
        assert_eq!(progress.probed.load(Ordering::Relaxed), 2);
        assert_eq!(progress.skipped.load(Ordering::Relaxed), 1);
    }
}
