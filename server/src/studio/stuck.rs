//! Stuck detection: a running episode whose progress has not moved for longer than its stage may take.
//!
//! "Moved" is the episode row's `updated_at`, which every progress report, stage end and state change
//! sets — so a stage that reports progress (clips, one per highlight) can run long without being
//! flagged, and one that hangs is flagged after its limit whatever the episode's length. The limits are
//! per stage because a transcription legitimately sits at one percentage far longer than a render.

use crate::registry::EpisodeRow;
use app::api::{EpisodeState, EpisodeSummary, Stage, Stuck};
use std::time::Duration;

/// `--stuck-after`: per-stage limits; stages not named keep their default.
#[derive(Clone, Debug, PartialEq)]
pub struct StuckLimits {
    /// One per stage after `discovered`.
    limits: Vec<(Stage, Duration)>,
}

impl Default for StuckLimits {
    fn default() -> Self {
        let m = |n: u64| Duration::from_secs(n * 60);
        StuckLimits {
            limits: vec![
                (Stage::Prepped, m(15)),
                (Stage::Transcribed, m(60)),
                (Stage::Enriched, m(5)),
                (Stage::Rendered, m(5)),
                (Stage::Clipped, m(20)),
                (Stage::Packaged, m(5)),
            ],
        }
    }
}

impl StuckLimits {
    /// `transcribe=2h,clips=30m`: stage names or their verbs, durations as `--trash-retention` takes them.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut limits = StuckLimits::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (stage, dur) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: expected stage=duration, like transcribe=2h"))?;
            let stage = Stage::parse(stage)
                .filter(|s| *s != Stage::Discovered)
                .ok_or_else(|| format!("`{stage}` is not a pipeline stage"))?;
            let dur = crate::units::parse_duration(dur)?;
            if dur.is_zero() {
                return Err(format!("`{part}`: a limit must be more than 0"));
            }
            for l in limits.limits.iter_mut().filter(|(s, _)| *s == stage) {
                l.1 = dur;
            }
        }
        Ok(limits)
    }

    pub fn limit(&self, stage: Stage) -> Duration {
        self.limits
            .iter()
            .find(|(s, _)| *s == stage)
            .map_or(Duration::from_secs(3600), |(_, d)| *d)
    }

    /// The episode as the API shows it, flagged when it is stuck at `now` (Unix ms).
    pub fn summary(&self, row: &EpisodeRow, now: i64) -> EpisodeSummary {
        let mut s = row.summary();
        s.stuck = self.check(&s, now);
        s
    }

    fn check(&self, s: &EpisodeSummary, now: i64) -> Option<Stuck> {
        if s.state != EpisodeState::Running {
            return None;
        }
        let stage = s.progress.as_ref()?.stage;
        let limit_ms = self.limit(stage).as_millis() as i64;
        let still_ms = now - s.updated_at;
        (still_ms > limit_ms).then_some(Stuck {
            stage,
            still_ms,
            limit_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_per_stage_and_refuse_nonsense() {
        let l = StuckLimits::parse("transcribe=2h, clips=90s").expect("parses");
        assert_eq!(l.limit(Stage::Transcribed), Duration::from_secs(7200));
        assert_eq!(l.limit(Stage::Clipped), Duration::from_secs(90));
        assert_eq!(l.limit(Stage::Prepped), Duration::from_secs(900));
        for bad in [
            "transcribe",
            "nope=1m",
            "prep=0",
            "prep=5x",
            "discovered=1m",
        ] {
            assert!(StuckLimits::parse(bad).is_err(), "{bad}");
        }
    }
}
