//! Disk space as a resource the pipeline manages. A stage starts only when the data root can hold what it
//! will write (estimated from the source) and still keep the registry's reserve
//! ([`crate::storage::RESERVE_FILE`]); otherwise it fails at once with a reason that says so, before
//! ffmpeg runs into ENOSPC half-way. A stage that hits ENOSPC anyway (another writer filled the disk)
//! fails with a reason that names the full disk, like any other failure: its partial files are removed
//! by the failure cleanup.
//!
//! The reserve is kept by [`Pipeline::keep_reserve`], which the job reaper calls every half lease: it is
//! given back when free space drops under a quarter of it — so the registry can record the failures and
//! the cleanup can commit — and made again once there is room for it twice over.

use super::Pipeline;
use app::api::Stage;

/// Largest reserve made by default; a smaller file system gets a twentieth of its size.
const DEFAULT_RESERVE_MAX: u64 = 64 << 20;
/// Room every stage keeps beyond its estimate (page, JSON, thumbnails, the registry's own rows).
const STAGE_MARGIN: u64 = 1 << 20;
/// The prep stage's 16 kHz mono 16-bit PCM.
const WAV_BYTES_PER_SEC: f64 = 32_000.0;
/// Four renditions of a clip, each at most the source's own bitrate (they are smaller: 640x360 at
/// `veryfast`), so four times the source's bytes per second is a safe bound.
const CLIP_RENDITIONS: f64 = 4.0;
/// Longest clip the estimate assumes when the episode is longer.
const CLIP_SECS: f64 = 120.0;

/// What a run of the pipeline knows about its source when it estimates.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    pub bytes: u64,
    pub duration_secs: f64,
}

/// Bytes `stage` will write for `source`, at most (an estimate, documented in the README).
pub fn estimate(stage: Stage, source: Source, max_clips: usize) -> u64 {
    let secs = source.duration_secs.max(1.0);
    let per_sec = source.bytes as f64 / secs;
    let bytes = match stage {
        Stage::Prepped => secs * WAV_BYTES_PER_SEC,
        Stage::Clipped => per_sec * secs.min(CLIP_SECS) * CLIP_RENDITIONS * max_clips.max(1) as f64,
        // Text: transcripts, enrichment, the page, posts: small next to the margin.
        _ => 0.0,
    };
    bytes as u64 + STAGE_MARGIN
}

/// The reserve a file system of `total` bytes keeps: `configured`, or a twentieth of it up to 64 MiB.
pub fn reserve_size(total: u64, configured: Option<u64>) -> u64 {
    configured.unwrap_or((total / 20).min(DEFAULT_RESERVE_MAX))
}

/// True when an error's text says the disk (or the registry's file system) is full.
pub fn says_disk_full(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("no space left on device")
        || m.contains("os error 28")
        || m.contains("database or disk is full")
        || m.contains("disk full")
}

/// Gives the registry's reserve back at once when `error` says the disk is full (the write that failed
/// can then be tried again). True when it did.
pub fn release_reserve_if_full(root: &crate::storage::DataRoot, error: &str) -> bool {
    says_disk_full(error) && root.release_reserve()
}

/// A stage's failure reason, with the full disk named first when that is what stopped it.
pub fn name_full_disk(reason: String) -> String {
    if says_disk_full(&reason) && !reason.starts_with("disk full") {
        format!("disk full: {reason}")
    } else {
        reason
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

impl Pipeline {
    /// `Err(reason)` when `stage` would not fit: it needs `need` bytes and must leave the reserve whole
    /// (a reserve given back under pressure still counts, so work never eats the room it needs).
    pub(super) fn admit(&self, stage: Stage, need: u64) -> Result<(), String> {
        let Ok(space) = self.root.space() else {
            return Ok(()); // no statvfs: the write itself will say
        };
        let reserve = reserve_size(space.total, self.config.disk_reserve);
        let missing = reserve.saturating_sub(self.root.reserve_held());
        if space.free >= need.saturating_add(missing) {
            return Ok(());
        }
        Err(format!(
            "disk full: the data root has {} free; {stage} needs about {} and the registry's reserve {} \
             more. Free space (empty the trash, remove old outputs) and retry",
            mb(space.free),
            mb(need),
            mb(missing)
        ))
    }

    /// Gives the reserve back under pressure, makes it again when there is room: the job reaper calls
    /// this every half lease. Returns what it did, for the log.
    pub fn keep_reserve(&self) -> Option<&'static str> {
        let space = self.root.space().ok()?;
        let want = reserve_size(space.total, self.config.disk_reserve);
        let held = self.root.reserve_held();
        if held > 0 && space.free < want / 4 {
            if self.root.release_reserve() {
                tracing::warn!(
                    free = space.free,
                    reserve = held,
                    "disk nearly full: gave the registry's reserve back to the file system"
                );
                return Some("released");
            }
        } else if want > 0 && held < want && space.free >= (want - held) + want {
            match self.root.make_reserve(want) {
                Ok(()) => return Some("made"),
                Err(e) => tracing::warn!(error = %e, "could not make the registry's reserve"),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_grow_with_the_source_and_never_drop_under_the_margin() {
        let src = Source {
            bytes: 10_000_000,
            duration_secs: 100.0,
        };
        assert_eq!(estimate(Stage::Enriched, src, 3), STAGE_MARGIN);
        assert_eq!(estimate(Stage::Prepped, src, 3), 3_200_000 + STAGE_MARGIN);
        assert_eq!(estimate(Stage::Clipped, src, 3), 120_000_000 + STAGE_MARGIN);
        assert_eq!(reserve_size(2 << 30, None), 64 << 20);
        assert_eq!(reserve_size(40 << 20, None), 2 << 20);
        assert_eq!(reserve_size(40 << 20, Some(5)), 5);
    }

    #[test]
    fn a_full_disk_is_named_whatever_said_it() {
        for m in [
            "ffmpeg: [out#0/mp4] Error writing trailer: No space left on device",
            "work/x/audio.wav: No space left on device (os error 28)",
            "registry error: error returned from database: (code: 13) database or disk is full",
        ] {
            assert!(name_full_disk(m.into()).starts_with("disk full: "), "{m}");
        }
        assert_eq!(
            name_full_disk("moov atom not found".into()),
            "moov atom not found"
        );
        assert_eq!(name_full_disk("disk full: x".into()), "disk full: x");
    }
}
