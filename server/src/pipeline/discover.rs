//! Discovery: `inbox/<show>/ep<NNN>_<YYYY-MM-DD>.mp4` → episodes. Anything that does not fit is reported
//! as skipped with the reason, never silently ignored.

use super::ffmpeg;
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::registry::{NewEpisode, Registry};
use crate::storage::DataRoot;
use app::api::{DiscoverReport, Skipped};
use tokio_util::sync::CancellationToken;

/// Files that may sit beside a video without being reported.
const SIDECARS: [&str; 3] = ["vtt", "srt", "fail-at"];

pub async fn discover(root: &DataRoot, registry: &Registry) -> Result<DiscoverReport> {
    let inbox = root.inbox();
    let mut report = DiscoverReport {
        added: Vec::new(),
        skipped: Vec::new(),
    };
    let mut shows: Vec<_> = std::fs::read_dir(&inbox)
        .map_err(|e| Error::io(&inbox, e))?
        .flatten()
        .collect();
    shows.sort_by_key(|e| e.file_name());
    let never = CancellationToken::new();
    for show in shows {
        let show_name = show.file_name().to_string_lossy().into_owned();
        let rel_show = format!("inbox/{show_name}");
        if !show.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            report.skipped.push(Skipped {
                path: rel_show,
                reason: "not a show folder: put videos in inbox/<show>/".into(),
            });
            continue;
        }
        let mut files: Vec<_> = match std::fs::read_dir(show.path()) {
            Ok(rd) => rd.flatten().collect(),
            Err(e) => {
                report.skipped.push(Skipped {
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
                    report.skipped.push(Skipped { path: rel, reason });
                    continue;
                }
            };
            if !file.file_type().map(|t| t.is_file()).unwrap_or(false) {
                report.skipped.push(Skipped {
                    path: rel,
                    reason: "not a regular file".into(),
                });
                continue;
            }
            // An unreadable video is still an episode: prep will fail it with ffmpeg's reason.
            let duration = ffmpeg::probe_duration(&file.path(), &never).await.ok();
            let added = registry
                .upsert_discovered(&NewEpisode {
                    id: id.to_string(),
                    show: id.show().to_string(),
                    source_path: rel,
                    title: id.to_string(),
                    duration_secs: duration,
                })
                .await?;
            if added {
                report.added.push(id.to_string());
            }
        }
    }
    Ok(report)
}
