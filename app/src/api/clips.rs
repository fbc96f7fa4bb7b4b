//! Clip management from the episode page: render a scored candidate, nudge a clip's start or end by one
//! sentence, and look for candidates again with other discovery settings. Each goes through the
//! per-clip path (`delete_clip` / `regenerate_clip`): an audited run, old files to the trash, a clip job.

use super::error::ApiError;
use super::media::{ClipPreset, DiscoverySettings, HighlightCandidate, MAX_CLIP_COUNT};
use super::types::{CleanupReport, JobInfo};
use serde::{Deserialize, Serialize};

/// `render_candidate`: cut candidate `candidate` (1-based, as the episode page lists them, best first)
/// as a new clip.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CandidateRequest {
    pub episode: String,
    pub candidate: u32,
    pub dry_run: bool,
}

impl CandidateRequest {
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.candidate == 0 {
            return Err(ApiError::bad_request("`candidate` counts from 1"));
        }
        Ok(())
    }
}

/// Which end of a clip a nudge moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClipEdge {
    Start,
    End,
}

/// Which way: one sentence earlier or later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NudgeWay {
    Earlier,
    Later,
}

/// `nudge_clip`: move clip `clip`'s start or end by one sentence. The old clip's files go to the trash
/// (restorable) and the clip is cut again at the new bounds as a new clip number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NudgeRequest {
    pub episode: String,
    pub clip: u32,
    pub edge: ClipEdge,
    pub way: NudgeWay,
    pub dry_run: bool,
}

impl NudgeRequest {
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.clip == 0 {
            return Err(ApiError::bad_request("`clip` counts from 1"));
        }
        Ok(())
    }
}

/// What a render or nudge did (or, dry, would do): the run over the old clip's files, the clip job, and
/// the clip it makes with its bounds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClipEdit {
    pub report: CleanupReport,
    pub job: Option<JobInfo>,
    /// The clip number the job cuts (`clips/<n>/`).
    pub clip: u32,
    pub start: f64,
    pub end: f64,
}

/// `discover_clips`: score the episode's candidates again with this preset and count (the server's
/// defaults, then the show's `show.clips`, for what is left out). Rendered clips stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DiscoverClipsRequest {
    pub episode: String,
    pub preset: Option<ClipPreset>,
    pub count: Option<u32>,
    pub dry_run: bool,
}

impl DiscoverClipsRequest {
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.count.is_some_and(|c| c == 0 || c > MAX_CLIP_COUNT) {
            return Err(ApiError::bad_request(format!(
                "`count` is a number of clips from 1 to {MAX_CLIP_COUNT}"
            )));
        }
        Ok(())
    }
}

/// The candidates found (best first) and what they were looked for with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscoverClipsOutcome {
    pub discovery: DiscoverySettings,
    pub candidates: Vec<HighlightCandidate>,
    pub note: Option<String>,
    pub dry_run: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_refuse_zero_and_out_of_range_counts() {
        let c = CandidateRequest {
            episode: "talk_ep001_2026-01-01".into(),
            candidate: 0,
            dry_run: false,
        };
        assert!(c.validate().is_err());
        let mut d = DiscoverClipsRequest {
            count: Some(0),
            ..Default::default()
        };
        assert!(d.validate().is_err());
        d.count = Some(MAX_CLIP_COUNT + 1);
        assert!(d.validate().is_err());
        d.count = Some(5);
        assert!(d.validate().is_ok());
        for p in ClipPreset::ALL {
            assert_eq!(ClipPreset::parse(p.as_str()), Some(p));
        }
    }
}
