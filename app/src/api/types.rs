//! Data that crosses the wire. These types are the API contract shared by the server, the browser app and
//! every other client (curl, scripts), so they are plain serde structs with stable snake_case names.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A show name: the folder under `inbox/` and the first part of every episode id. One rule, shared by
/// the server (ids, uploads, filters) and the browser (the upload form's early check).
pub fn valid_show(show: &str) -> bool {
    !show.is_empty()
        && show.len() <= 64
        && show.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && show
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The date part of an episode id: a real `YYYY-MM-DD` in ASCII digits (one spelling per day).
pub fn valid_episode_date(date: &str) -> bool {
    let b = date.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shaped {
        return false;
    }
    let num =
        |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |n, c| n * 10 + u32::from(c - b'0'));
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1900..=9999).contains(&y) && (1..=days).contains(&d)
}

/// The number part of an episode id: three ASCII digits (`001`…`999`), or more without a leading zero
/// (`1000`, at most nine digits), so a daily show outgrows nothing and every number has one spelling
/// (`0001` would be a second id for `001`).
pub fn valid_episode_number(num: &str) -> bool {
    (3..=9).contains(&num.len())
        && num.bytes().all(|b| b.is_ascii_digit())
        && (num.len() == 3 || !num.starts_with('0'))
}

/// An episode file's stem, `ep<NNN>_<YYYY-MM-DD>`: an episode number ([`valid_episode_number`]) and a
/// real date. The server's ids and the browser's upload check share this one rule.
pub fn valid_episode_stem(stem: &str) -> bool {
    let Some((num, date)) = stem.strip_prefix("ep").and_then(|r| r.split_once('_')) else {
        return false;
    };
    valid_episode_number(num) && valid_episode_date(date)
}

/// Who may do what. Ordered: every role can do what the roles before it can.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Pipeline stages in processing order; an episode's `stage` is the last one it completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Discovered,
    Prepped,
    Transcribed,
    Enriched,
    Rendered,
    Clipped,
    Packaged,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Discovered,
        Stage::Prepped,
        Stage::Transcribed,
        Stage::Enriched,
        Stage::Rendered,
        Stage::Clipped,
        Stage::Packaged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Discovered => "discovered",
            Stage::Prepped => "prepped",
            Stage::Transcribed => "transcribed",
            Stage::Enriched => "enriched",
            Stage::Rendered => "rendered",
            Stage::Clipped => "clipped",
            Stage::Packaged => "packaged",
        }
    }

    /// The stage while it runs (`clipping`): what the stage column and the progress bar both say of a
    /// running episode, so neither contradicts the other.
    pub fn doing(self) -> &'static str {
        match self {
            Stage::Discovered => "discovering",
            Stage::Prepped => "prepping",
            Stage::Transcribed => "transcribing",
            Stage::Enriched => "enriching",
            Stage::Rendered => "rendering",
            Stage::Clipped => "clipping",
            Stage::Packaged => "packaging",
        }
    }

    /// Accepts both the stage name and the verb that produces it (`prep` → `prepped`), because fault
    /// injection files and `EWG_FAIL_AT` are written by people.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "discovered" | "discover" => Some(Stage::Discovered),
            "prepped" | "prep" => Some(Stage::Prepped),
            "transcribed" | "transcribe" => Some(Stage::Transcribed),
            "enriched" | "enrich" => Some(Stage::Enriched),
            "rendered" | "render" => Some(Stage::Rendered),
            "clipped" | "clips" | "clip" => Some(Stage::Clipped),
            "packaged" | "package" => Some(Stage::Packaged),
            _ => None,
        }
    }

    /// The stage after this one, if any.
    pub fn next(self) -> Option<Stage> {
        let i = Stage::ALL.iter().position(|s| *s == self)?;
        Stage::ALL.get(i + 1).copied()
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpisodeState {
    Idle,
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl EpisodeState {
    pub const ALL: [EpisodeState; 6] = [
        EpisodeState::Idle,
        EpisodeState::Queued,
        EpisodeState::Running,
        EpisodeState::Done,
        EpisodeState::Failed,
        EpisodeState::Cancelled,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            EpisodeState::Idle => "idle",
            EpisodeState::Queued => "queued",
            EpisodeState::Running => "running",
            EpisodeState::Done => "done",
            EpisodeState::Failed => "failed",
            EpisodeState::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        EpisodeState::ALL.into_iter().find(|v| v.as_str() == s)
    }
    /// True while a worker owns (or is about to own) the episode.
    pub fn is_active(self) -> bool {
        matches!(self, EpisodeState::Queued | EpisodeState::Running)
    }
}

impl fmt::Display for EpisodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthInfo {
    pub status: String,
    pub version: String,
    pub database: String,
    /// The built-in recognizer this server would transcribe with: `whisper tiny.en`, `whisper base`, or
    /// `pocketsphinx (fallback: …why Whisper is not usable)`; `none: …` when neither is installed.
    /// Absent from servers that predate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcriber: Option<String>,
}

/// A running episode whose progress has not moved for longer than its stage's limit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stuck {
    pub stage: Stage,
    /// How long its progress has stood still.
    pub still_ms: i64,
    /// The limit for that stage (`--stuck-after`).
    pub limit_ms: i64,
}

/// Live progress of a running episode: the stage being worked on and how far it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub stage: Stage,
    pub percent: u8,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpisodeSummary {
    pub id: String,
    pub show: String,
    pub title: String,
    pub stage: Stage,
    pub state: EpisodeState,
    pub attempt: i64,
    pub failed_stage: Option<Stage>,
    pub error: Option<String>,
    pub duration_secs: Option<f64>,
    pub progress: Option<Progress>,
    pub updated_at: i64,
    /// Running, but its progress has not moved for longer than its stage's limit.
    #[serde(default)]
    pub stuck: Option<Stuck>,
}

impl EpisodeSummary {
    /// Where the episode is, in one word: the stage being worked on while it runs (`clipping`, the
    /// progress bar's stage), else the last stage finished (`rendered`).
    pub fn stage_label(&self) -> &'static str {
        match &self.progress {
            Some(p) if self.state.is_active() => p.stage.doing(),
            _ => self.stage.as_str(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpisodeList {
    pub episodes: Vec<EpisodeSummary>,
    pub total: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    pub kind: String,
    /// Relative to the data root.
    pub path: String,
    pub bytes: i64,
    pub attempt: i64,
    pub created_at: i64,
}

/// When each stage of the current attempt finished.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageTime {
    pub stage: Stage,
    pub finished_at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobInfo {
    pub id: i64,
    pub episode: String,
    pub state: super::JobState,
    pub attempt: i64,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpisodeDetail {
    pub episode: EpisodeSummary,
    pub source_path: String,
    pub stages: Vec<StageTime>,
    pub artifacts: Vec<Artifact>,
    pub job: Option<JobInfo>,
    pub cleanup_runs: Vec<CleanupRunSummary>,
    /// The transcript, the rendered page, the clips and the social posts, as they are on disk now.
    #[serde(default)]
    pub media: super::media::EpisodeMedia,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// The answer of `POST /api/upload`: where the file landed, its size and the episode it belongs to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UploadDone {
    /// Relative to the data root: `inbox/<show>/<name>`.
    pub path: String,
    pub bytes: u64,
    pub episode: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscoverReport {
    pub added: Vec<String>,
    pub skipped: Vec<Skipped>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessOutcome {
    pub jobs: Vec<JobInfo>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CleanupResult {
    Ok,
    Partial,
    Failed,
    /// A run in the audit that has not finished yet (the live feed announces runs as they start).
    Running,
}

impl CleanupResult {
    pub fn as_str(self) -> &'static str {
        match self {
            CleanupResult::Ok => "ok",
            CleanupResult::Partial => "partial",
            CleanupResult::Failed => "failed",
            CleanupResult::Running => "running",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PathError {
    pub path: String,
    pub message: String,
}

/// What a cleanup did (or, for a dry run, would do).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CleanupReport {
    pub run_id: String,
    pub trigger: super::Trigger,
    pub dry_run: bool,
    pub result: CleanupResult,
    pub files: i64,
    pub bytes: i64,
    pub errors: Vec<PathError>,
    pub duration_ms: i64,
    /// What was (or would be) removed, relative to the data root.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Set when the run keeps what it removed in the trash, restorable until then (Unix ms): the answer
    /// comes once everything is out of the live tree, so `files`/`bytes` count only what was freed
    /// already (nothing), and the Trash page shows the measured size.
    #[serde(default)]
    pub kept_until: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReprocessOutcome {
    pub report: CleanupReport,
    pub job: Option<JobInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetryOutcome {
    pub report: CleanupReport,
    pub jobs: Vec<JobInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CleanupRunSummary {
    pub run_id: String,
    pub actor: String,
    pub trigger: super::Trigger,
    pub scope: String,
    pub dry_run: bool,
    pub result: CleanupResult,
    pub files: i64,
    pub bytes: i64,
    pub errors: i64,
    pub duration_ms: i64,
    pub started_at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CleanupRunList {
    pub runs: Vec<CleanupRunSummary>,
}

super::words::word_enum! {
    /// What a process sharing the registry was started as.
    pub enum NodeRole {
        /// `ewg serve`: the API, and jobs when it has worker slots.
        Serve => "serve",
        /// `ewg worker`: jobs only.
        Worker => "worker",
    }
}

/// One `ewg serve` or `ewg worker` process sharing the registry, as `/api/workers` shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// `host-pid-random`: the owner recorded on its jobs and cleanup runs.
    pub id: String,
    pub role: NodeRole,
    pub host: String,
    /// Jobs it runs at once (0: it only serves the API).
    pub slots: i64,
    /// Heartbeat current (within the lease) and not stopped.
    pub alive: bool,
    /// Milliseconds since its last heartbeat (registry clock).
    pub silent_ms: i64,
    pub started_at: i64,
    /// Set when it shut down cleanly.
    pub stopped_at: Option<i64>,
    /// Episodes it is processing now.
    pub running: Vec<String>,
    pub jobs_done: i64,
    pub jobs_failed: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerList {
    /// Live nodes first, then the most recently seen.
    pub nodes: Vec<NodeInfo>,
    /// Jobs waiting for a free slot anywhere.
    pub queued: i64,
}

/// The signed-in user, as the browser sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionUser {
    pub username: String,
    pub role: Role,
}

#[cfg(test)]
mod episode_name_tests {
    use super::*;

    #[test]
    fn one_spelling_per_episode_file() {
        for ok in [
            "ep001_2026-01-31",
            "ep999_2024-02-29",
            "ep1000_2026-01-31",
            "ep123456789_2026-01-31",
        ] {
            assert!(valid_episode_stem(ok), "{ok}");
        }
        for bad in [
            "ep01_2026-01-31",
            "ep001_2026-+1-+1",
            "ep+01_2026-01-31",
            "ep001_2026-02-30",
            "ep001_2025-02-29",
            "ep００1_2026-01-31",
            "ep001_2026-01-31x",
            "x001_2026-01-31",
            "ep0001_2026-01-31",
            "ep01000_2026-01-31",
            "ep1234567890_2026-01-31",
        ] {
            assert!(!valid_episode_stem(bad), "{bad}");
        }
    }
}
