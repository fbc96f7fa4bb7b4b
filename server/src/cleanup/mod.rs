//! The cleanup engine: every cleanup action, all through the data root's one deletion primitive
//! ([`crate::storage`]), all audited as runs in the registry, all able to dry-run.
//!
//! | file | concern |
//! |---|---|
//! | `actions.rs` | the actions callers ask for about episodes: an attempt, an episode, a clip, an edit |
//! | `deep_clean.rs` | Deep Clean: failed episodes whole, the orphan sweep and its confirmation, single-flight |
//! | `schedule.rs` | the schedule's pass: stale uploads and scratch, dead owners' trash, then the budget |
//! | `plan.rs` | from registry rows and fixed per-episode places to the paths a run removes |
//! | `sweep.rs` | the orphan sweep and the guard against mass deletion |
//! | `execute.rs` | a run's life in order: its row and heartbeat, phase one, the commit, the report |
//! | `take.rs` | phase one: targets moved into the run's trash (or measured), and put back on a refusal |
//! | `commit.rs` | the one-transaction commit (retried), then the trash kept or purged (phase two) |
//! | `report.rs` | a run's report: empty, plus what a purge removed, and the result it adds up to |
//! | `repair.rs` | recovery of runs and jobs whose owner is gone |
//! | `budget.rs` | the storage budget: evicting regenerable artifacts of finished episodes |
//! | `retention.rs` | how long kept trash stays, and what purges it (retention, budget, disk, people) |
//! | `restore.rs` | undo: a run's trash back into the live tree, rows and episode states with it |
//! | `uploads.rs` | uploads in flight, as registry rows with heartbeats |
//!
//! Coordination lives in the registry, never in this process's memory or a request's lifetime:
//! - a run is a row with an owner (this node) and a heartbeat; recovery touches only runs whose
//!   heartbeat expired, and replays the end state they intended ([`crate::registry::Then`]);
//! - a run owns the episodes it cleans (`episodes.cleanup_run`), taken in the transaction that checks no
//!   job is live, so a cleanup and a job never interleave on one episode;
//! - rows go by the ids that were planned, never by episode;
//! - Deep Clean is single-flight through a unique index: at most one live run, whichever process asks.
//!
//! Callers that must survive a disconnecting client run these on a spawned task (see
//! [`crate::studio`]): a run, once started, always reaches its commit and its report.

mod actions;
mod budget;
mod commit;
mod deep_clean;
mod execute;
mod plan;
mod repair;
mod report;
mod restore;
mod retention;
mod schedule;
mod sweep;
mod take;
mod uploads;

pub use deep_clean::DeepCleanRequest;

/// Every fixed place of an episode's derived files (README "Data"), what a whole-episode cleanup removes.
pub fn fixed_places(root: &crate::storage::DataRoot, id: &crate::ids::EpisodeId) -> Vec<String> {
    plan::episode_paths(root, id, Keep::NOTHING)
}
pub use retention::{PurgeReason, StoragePolicy};
pub use sweep::{MASS_FILES, SweepGuard};
pub use uploads::UploadLease;

use crate::registry::Registry;
use crate::storage::DataRoot;
use std::sync::Arc;
use std::time::Duration;

/// How often a live run renews its heartbeat.
const RUN_HEARTBEAT: Duration = Duration::from_secs(2);
/// A run silent for this long has lost its owner (crashed, killed, partitioned): recovery may finish it.
/// Several heartbeats long, so a busy database or a slow disk never makes a live run look dead.
const RUN_STALE_MS: i64 = 20_000;
/// An upload part whose owner has not heartbeated for this long is no longer in flight.
const UPLOAD_STALE_MS: i64 = 30_000;

pub use app::api::Trigger;

/// Whether what a run of this trigger removes waits in the trash, restorable. The pipeline's own
/// cleanups of an attempt (failure, cancel, scratch, recovery) remove partial outputs nobody would want
/// back: they are purged before the run answers, as is a restore's (which removes nothing).
pub fn keeps_trash(trigger: Trigger) -> bool {
    matches!(
        trigger,
        Trigger::Episode
            | Trigger::Force
            | Trigger::Start
            | Trigger::Retry
            | Trigger::DeepClean
            | Trigger::Schedule
            | Trigger::Budget
            | Trigger::CleanFailed
            | Trigger::Clip
    )
}

/// Which derived files of an episode a cleanup leaves in place.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Keep {
    pub transcripts: bool,
    pub audio: bool,
}

impl Keep {
    pub const NOTHING: Keep = Keep {
        transcripts: false,
        audio: false,
    };
    /// What the user chose to keep stays kept: transcripts and audio.
    pub const USER_DATA: Keep = Keep {
        transcripts: true,
        audio: true,
    };
}

pub struct Cleanup {
    pub root: DataRoot,
    pub registry: Registry,
    /// Age after which an unfinished upload or an abandoned work dir is swept by the schedule.
    stale_after: Duration,
    /// This process in the registry (`registry::liveness::node_id`).
    node: String,
    /// How often an episode whose worker died is cleaned and queued again (`--retry-interrupted`).
    retry_interrupted: u32,
    /// How long the trash keeps what runs removed, and what purges it.
    pub policy: StoragePolicy,
}

impl Cleanup {
    pub fn new(
        root: DataRoot,
        registry: Registry,
        stale_after: Duration,
        retry_interrupted: u32,
        policy: StoragePolicy,
    ) -> Arc<Self> {
        Arc::new(Cleanup {
            root,
            registry,
            stale_after,
            node: crate::registry::liveness::node_id().to_string(),
            retry_interrupted,
            policy,
        })
    }
}

/// A finished run and the jobs its end state queued.
#[derive(Debug)]
pub struct Outcome {
    pub report: app::api::CleanupReport,
    pub jobs: Vec<crate::registry::JobRow>,
}
