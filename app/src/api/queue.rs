//! Wire types of the background inbox scan, the queue view and an episode's processing history.

use super::types::{Skipped, Stage};
use serde::{Deserialize, Serialize};

/// Where a scan of the inbox is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanState {
    Running,
    Done,
    Failed,
}

/// A scan of the inbox (`POST /api/discover` starts one or joins the running one and answers at once;
/// `GET /api/scan` and the `scan` event report it). Counts grow while it runs; `added` and `skipped`
/// list the files once it has finished.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanStatus {
    /// `scan-<n>`, per server process.
    pub id: String,
    pub state: ScanState,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// Files listed in the inbox so far.
    pub seen: u64,
    /// Episode-shaped files to probe (known once the inbox has been listed).
    pub total: Option<u64>,
    /// Of `total`, probed and recorded.
    pub probed: u64,
    /// New episodes so far.
    pub added_count: u64,
    /// Files not taken so far (bad names, probes past their timeout).
    pub skipped_count: u64,
    /// Probed files per second since the start.
    pub files_per_sec: f64,
    /// True when this request found the scan already running and joined it.
    #[serde(default)]
    pub joined: bool,
    /// Why a failed scan stopped.
    pub error: Option<String>,
    /// When done: the new episodes' ids (natural order).
    #[serde(default)]
    pub added: Vec<String>,
    /// When done: every file not taken, with the reason.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
}

impl ScanStatus {
    pub fn running(&self) -> bool {
        self.state == ScanState::Running
    }
}

/// A job a worker is running now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunningJob {
    pub job: i64,
    pub episode: String,
    /// The node running it.
    pub worker: Option<String>,
    /// The stage in progress (the progress bar's) and how far along it is.
    pub stage: Option<Stage>,
    pub percent: Option<u8>,
    /// When the job started (registry clock, ms).
    pub since: Option<i64>,
}

/// A job waiting for a slot, in the order workers take them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueuedJob {
    pub job: i64,
    pub episode: String,
    /// 1 = next.
    pub position: u32,
    pub queued_at: i64,
}

/// How long a stage took on average over recent finished attempts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageTiming {
    pub stage: Stage,
    pub avg_ms: i64,
    /// Attempts the average is over.
    pub samples: u32,
}

/// `queue`: what runs where, what waits, and a rough estimate of when the queue is empty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueView {
    pub running: Vec<RunningJob>,
    pub queued: Vec<QueuedJob>,
    /// Job slots on live nodes.
    pub slots: i64,
    pub done_today: i64,
    pub failed_today: i64,
    /// Per stage, from the last finished attempts (empty until one has finished).
    pub stage_timings: Vec<StageTiming>,
    /// Milliseconds until the queue should be empty; `None` without timings or without a slot.
    pub eta_ms: Option<i64>,
}

super::words::word_enum! {
    /// What an attempt's job did.
    pub enum AttemptKind {
        /// The whole pipeline.
        Process => "process",
        /// One clip cut again.
        Clip => "clip",
    }
}

super::words::word_enum! {
    /// Why an attempt started, as the history reads it (a job records its kind and force flag, and
    /// what came before it tells a retry from a start).
    pub enum AttemptTrigger {
        Start => "start",
        /// After a failed, cancelled or interrupted attempt.
        Retry => "retry",
        ForceReprocess => "force reprocess",
        RegenerateClip => "regenerate clip",
    }
}

/// One attempt at processing an episode (one job).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptInfo {
    pub attempt: i64,
    pub job: i64,
    pub kind: AttemptKind,
    pub trigger: AttemptTrigger,
    /// Where its job is: queued, running, or how it ended.
    pub outcome: super::JobState,
    pub queued_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
}

/// `episode_history`: the episode's attempts, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpisodeHistory {
    pub attempts: Vec<AttemptInfo>,
}
