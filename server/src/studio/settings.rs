//! What the service is set up with. The command line (`cli::config`) parses flags and `EWG_*`
//! variables into these plain structs; nothing below `cli` reads a flag, so the layers below it can be
//! built and tested without clap.

use crate::auth::AuthSettings;
use crate::cleanup::StoragePolicy;
use crate::pipeline::PipelineConfig;
use crate::studio::StuckLimits;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything [`super::Studio::open`] needs.
#[derive(Clone)]
pub struct Settings {
    /// The data root: inbox/, derived outputs, the embedded registry.
    pub data_dir: PathBuf,
    /// The registry's URL; `None`: an SQLite file `ewg.db` in the data root.
    pub database_url: Option<String>,
    /// Age after which an unfinished upload or orphaned work dir is swept.
    pub stale_after: Duration,
    /// Times an interrupted episode is cleaned and queued again before it is left failed.
    pub retry_interrupted: u32,
    /// How long trash stays restorable and what purges it early; the derived-data budget.
    pub storage: StoragePolicy,
    /// In-flight job files on a node-local disk instead of `work/` in the data root.
    pub scratch_dir: Option<PathBuf>,
    /// The stages' settings (transcriber, clips, the disk reserve).
    pub pipeline: PipelineConfig,
    /// How long a job's lease lasts without a heartbeat.
    pub lease: Duration,
    /// When a running episode counts as stuck.
    pub stuck: StuckLimits,
    /// Largest browser upload accepted.
    pub max_upload_bytes: u64,
    /// What one client may hold open at once.
    pub edges: EdgeLimits,
    /// Cookies, the public origin, trusted proxies.
    pub auth: AuthSettings,
}

/// Bounds on what clients can make the server hold at once (README "Configuration").
#[derive(Debug, Clone)]
pub struct EdgeLimits {
    /// Open `/api/events` streams one user (or token) may hold.
    pub events_per_user: u32,
    /// Open `/api/events` streams in all.
    pub events_max: u32,
    /// Uploads streaming at once.
    pub max_uploads: u32,
    /// Free space an upload must leave on the data root's file system, in bytes.
    pub upload_margin_bytes: u64,
    /// Addresses that may scrape `/metrics` without a token.
    pub metrics_allow: Vec<IpAddr>,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        EdgeLimits {
            events_per_user: 8,
            events_max: 256,
            max_uploads: 4,
            upload_margin_bytes: 256 << 20,
            metrics_allow: Vec::new(),
        }
    }
}
