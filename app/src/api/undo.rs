//! The contract of undo and storage: what the trash holds, restoring from it, and where the disk goes.
//!
//! A cleanup that keeps its trash answers once everything is out of the live tree; its files wait in
//! `.trash/<run>/` until retention, the trash budget or disk pressure purges them. Until then the run can
//! be restored: files back where they were, their artifact rows back with their original attempt, the
//! episodes back in the state they had before the run.

use super::error::ApiError;
use serde::{Deserialize, Serialize};

/// Where a run's trash stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrashState {
    /// In `.trash/<run>/`, restorable until `expires_at`.
    Kept,
    /// Being purged right now.
    Purging,
    /// Being restored right now.
    Restoring,
    /// Gone from disk; `purge_reason` says why.
    Purged,
    /// Moved back into the live tree by a restore run.
    Restored,
}

impl TrashState {
    pub fn as_str(self) -> &'static str {
        match self {
            TrashState::Kept => "kept",
            TrashState::Purging => "purging",
            TrashState::Restoring => "restoring",
            TrashState::Purged => "purged",
            TrashState::Restored => "restored",
        }
    }
    pub fn parse(s: &str) -> Option<TrashState> {
        [
            TrashState::Kept,
            TrashState::Purging,
            TrashState::Restoring,
            TrashState::Purged,
            TrashState::Restored,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// One cleanup run's trash, as the Trash page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrashRun {
    pub run_id: String,
    pub actor: String,
    pub trigger: super::Trigger,
    pub scope: String,
    pub started_at: i64,
    pub state: TrashState,
    /// Paths the run took out of the live tree (each a file or a whole directory).
    pub paths: i64,
    /// Measured in the trash after the run answered; `None` until then.
    pub files: Option<i64>,
    pub bytes: Option<i64>,
    /// When retention purges it (Unix ms).
    pub expires_at: Option<i64>,
    pub purged_at: Option<i64>,
    /// retention, budget, disk, `taken over (…)` (a purge another node finished), or `asked by <actor>`
    /// (Purge now, Empty trash).
    pub purge_reason: Option<String>,
    /// The restore run that brought it back.
    pub restored_by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrashList {
    /// Newest first: runs still in the trash, then recently purged or restored ones.
    pub runs: Vec<TrashRun>,
    /// Totals of the runs still kept.
    pub kept_runs: i64,
    pub kept_bytes: i64,
    /// The policy in force (`--trash-retention`, `--trash-max-gb`, `--trash-min-free-pct`).
    pub retention_secs: i64,
    pub max_bytes: i64,
    pub min_free_pct: u8,
}

/// The paths one run took, for the expanded row of the Trash page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrashDetail {
    pub run: TrashRun,
    pub paths: Vec<String>,
    /// Episodes whose state the run changed and a full restore puts back.
    pub episodes: Vec<String>,
}

/// `restore`: a run's trash back into the live tree, all of it or only `paths` (each a path the run
/// took, or a file or directory inside one).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RestoreRequest {
    pub run_id: String,
    pub paths: Option<Vec<String>>,
    pub dry_run: bool,
}

impl RestoreRequest {
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.run_id.trim().is_empty() {
            return Err(ApiError::bad_request("`run_id` must name a cleanup run"));
        }
        if let Some(paths) = &self.paths {
            if paths.is_empty() {
                return Err(ApiError::bad_request(
                    "`paths` must name at least one path (or be left out to restore the whole run)",
                ));
            }
            let bad: Vec<&str> = paths
                .iter()
                .map(String::as_str)
                .filter(|p| !is_plain_relative(p))
                .collect();
            if !bad.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "malformed paths (relative to the data root, no `.`, `..` or empty parts): {}",
                    bad.join(", ")
                )));
            }
        }
        Ok(())
    }
}

/// Relative, `/`-separated, only plain parts: what every path in a run's record looks like.
pub fn is_plain_relative(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\0')
        && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

/// What a restore did (or, in a dry run, would do).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RestoreReport {
    /// The restore's own audited run (trigger `restore`).
    pub run_id: String,
    /// The run whose trash was restored.
    pub from_run: String,
    pub dry_run: bool,
    pub paths: Vec<String>,
    pub files: i64,
    pub bytes: i64,
    /// Artifact rows put back, with their original attempt.
    pub rows: i64,
    /// Episodes put back in the state they had before the run.
    pub episodes: Vec<String>,
    /// What of the run is still in the trash after this (a partial restore).
    pub left_in_trash: i64,
}

/// `purge_trash`: one run's trash now, or the whole trash (`run_id` absent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PurgeReport {
    pub runs: Vec<String>,
    pub files: i64,
    pub bytes: i64,
    pub errors: Vec<super::PathError>,
}

/// Bytes in one place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub name: String,
    pub files: i64,
    pub bytes: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpisodeUsage {
    pub id: String,
    pub show: String,
    pub title: String,
    pub bytes: i64,
}

/// Where the disk goes, as `/api/storage` shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StorageReport {
    /// Each derived directory (measured on disk), then `inbox` (sources) and `.trash`.
    pub roots: Vec<Usage>,
    /// Registered derived bytes per show, largest first.
    pub shows: Vec<Usage>,
    /// The episodes with the most registered derived bytes.
    pub largest: Vec<EpisodeUsage>,
    /// Derived bytes in total (every derived directory) and the budget, if one is set.
    pub derived_bytes: i64,
    pub max_derived_bytes: Option<i64>,
    pub trash_runs: i64,
    pub trash_bytes: i64,
    /// The data root's filesystem.
    pub fs_total_bytes: i64,
    pub fs_free_bytes: i64,
    /// What the storage budget would evict now (empty when there is no budget or it is kept).
    pub eviction_preview: Vec<Eviction>,
}

/// One step of the storage budget's eviction: a kind of regenerable artifact of one finished episode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Eviction {
    pub episode: String,
    pub kind: String,
    pub files: i64,
    pub bytes: i64,
}
