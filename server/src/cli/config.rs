//! Command-line flags and `EWG_*` environment variables (clap), validated before anything is created,
//! then turned into the plain settings the layers below define ([`Settings`], [`AuthSettings`],
//! [`StoragePolicy`], [`EdgeLimits`], [`PipelineConfig`]): configuration is read here, at the top, and
//! nowhere below.

use crate::auth::AuthSettings;
use crate::cleanup::StoragePolicy;
use crate::pipeline::PipelineConfig;
use crate::studio::{EdgeLimits, Settings};
use crate::units::parse_duration;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "ewg",
    version,
    about = "EWG Studio: episodes in, clips out, cleanup you can trust"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Settings every subcommand shares: where the data and the registry live.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Data root: inbox/, derived outputs, the embedded registry.
    #[arg(long, env = "EWG_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// Registry URL; default: an SQLite file `ewg.db` inside the data dir.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "EWG_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Pipeline jobs this process runs at once; 0 serves the API and UI only (`ewg worker`s run the jobs).
    #[arg(long, env = "EWG_WORKERS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(0..=64))]
    pub workers: u16,
    /// Seconds a job's lease lasts without a heartbeat before the job counts as interrupted.
    #[arg(long, env = "EWG_LEASE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub lease_secs: u64,
    /// Seconds between scheduled cleanups (stale uploads, old work dirs, old trash).
    #[arg(long, env = "EWG_CLEANUP_INTERVAL_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub cleanup_interval_secs: u64,
    /// Age in seconds after which an unfinished upload or orphaned work dir is swept.
    #[arg(long, env = "EWG_STALE_AFTER_SECS", default_value_t = 3600)]
    pub stale_after_secs: u64,
    /// Largest upload accepted, in megabytes.
    #[arg(long, env = "EWG_MAX_UPLOAD_MB", default_value_t = 2048, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_upload_mb: u64,
    /// Mark the session cookie `Secure` (set this when browsers reach the server over HTTPS).
    #[arg(long, env = "EWG_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// The URL browsers use when a reverse proxy sits in front (e.g. `https://studio.example.org`):
    /// login and cookie calls whose Origin is this URL are same-origin even when the proxy rewrites Host.
    #[arg(long, env = "EWG_PUBLIC_URL", value_parser = crate::auth::parse_public_url)]
    pub public_url: Option<String>,
    /// Proxy addresses whose `X-Forwarded-For` / `X-Forwarded-Host` are believed (comma-separated).
    #[arg(
        long = "trusted-proxy",
        env = "EWG_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    #[command(flatten)]
    pub jobs: JobArgs,
    /// Per-stage limits after which a running episode whose progress has not moved is flagged stuck:
    /// `transcribe=2h,clips=30m` (defaults: prep 15m, transcribe 60m, clips 20m, the rest 5m).
    #[arg(long, env = "EWG_STUCK_AFTER", default_value = "", value_parser = crate::studio::StuckLimits::parse)]
    pub stuck_after: crate::studio::StuckLimits,
    #[command(flatten)]
    pub trash: TrashArgs,
    /// Boxed: the largest `Command` variant stays small.
    #[command(flatten)]
    pub edges: Box<EdgeArgs>,
}

/// Bounds on what clients can make the server hold at once: event streams, uploads, who may scrape
/// `/metrics` (README "Configuration").
#[derive(Debug, Clone, Args)]
pub struct EdgeArgs {
    /// Open `/api/events` streams one user (or token) may hold; past it, 429.
    #[arg(long, env = "EWG_EVENTS_PER_USER", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub events_per_user: u32,
    /// Open `/api/events` streams in all; past it, 429.
    #[arg(long, env = "EWG_EVENTS_MAX", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub events_max: u32,
    /// Seconds an open event stream trusts its last session check before asking the registry again: a
    /// revoked session ends the stream within this window.
    #[arg(long, env = "EWG_EVENTS_SESSION_CHECK_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub events_session_check_secs: u64,
    /// Uploads streaming at once; past it, 429.
    #[arg(long, env = "EWG_MAX_UPLOADS", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_uploads: u32,
    /// Free space (MB) an upload must leave on the data root's filesystem; one that would not fit with
    /// this margin is refused with 507.
    #[arg(long, env = "EWG_UPLOAD_MARGIN_MB", default_value_t = 256)]
    pub upload_margin_mb: u64,
    /// Addresses that may scrape `/metrics` without a token (comma-separated, e.g. `127.0.0.1,::1`).
    /// Anyone else needs a bearer API token.
    #[arg(
        long = "metrics-allow",
        env = "EWG_METRICS_ALLOW",
        value_delimiter = ','
    )]
    pub metrics_allow: Vec<std::net::IpAddr>,
}

impl Default for EdgeArgs {
    fn default() -> Self {
        EdgeArgs {
            events_per_user: 8,
            events_max: 256,
            events_session_check_secs: 15,
            max_uploads: 4,
            upload_margin_mb: 256,
            metrics_allow: Vec::new(),
        }
    }
}

/// The highlight discovery defaults, for `serve` and `worker` alike (the episode page can ask for others
/// per episode).
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct ClipArgs {
    /// Clips cut per episode when it is processed (a show's `show.clips` may override; the episode page
    /// can ask for other counts per episode) [default: 3].
    #[arg(long, env = "EWG_MAX_CLIPS", value_parser = clap::value_parser!(u32).range(0..=50))]
    pub max_clips: Option<u32>,
    /// Clip length preset: short (15–30 s), medium (20–60 s) or long (60–120 s) [default: medium].
    #[arg(long, env = "EWG_CLIP_PRESET", value_parser = parse_clip_preset)]
    pub clip_preset: Option<crate::pipeline::highlights::Preset>,
}

/// How this process runs pipeline jobs, for `serve` and `worker` alike: the transcript source, the
/// recognizer's model, where in-flight files go, the clips looked for, the disk reserve, retries after a
/// dead worker. Their
/// variables are read here (clap's `env`), once: [`JobArgs::pipeline`] hands the pipeline plain settings.
#[derive(Debug, Clone, Default, Args)]
pub struct JobArgs {
    /// Transcript source: sidecar .vtt/.srt, else EWG_TRANSCRIBE_CMD, else the built-in recognizer [default: auto].
    #[arg(long, env = "EWG_TRANSCRIBE", value_enum)]
    pub transcriber: Option<crate::pipeline::transcribe::Transcriber>,
    /// The built-in recognizer's Whisper model: tiny.en, or base (`EWG_ASR_MODEL=base scripts/setup`
    /// installs it) [default: tiny.en].
    #[arg(long, env = "EWG_ASR_MODEL", value_enum)]
    pub asr_model: Option<crate::pipeline::whisper::AsrModel>,
    /// In-flight files of this process's jobs on a node-local disk instead of `work/` in the data root
    /// (README "Many machines").
    #[arg(long, env = "EWG_SCRATCH_DIR")]
    pub scratch_dir: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub clips: ClipArgs,
    /// The registry's reserve on the data root's file system, in MiB (README "Disk space"); default: a
    /// twentieth of the file system, at most 64 MiB.
    #[arg(long, env = "EWG_DISK_RESERVE_MB")]
    pub disk_reserve_mb: Option<u64>,
    /// Shell command for the `command` transcriber: reads `$EWG_AUDIO`, writes WebVTT to `$EWG_VTT`.
    #[arg(long, env = "EWG_TRANSCRIBE_CMD")]
    pub transcribe_cmd: Option<String>,
    /// Times an episode whose worker died mid-job (lease expired) is cleaned and queued again before it
    /// is left failed ("interrupted"). Give every process sharing a registry the same value.
    #[arg(long, env = "EWG_RETRY_INTERRUPTED", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retry_interrupted: u32,
}

impl JobArgs {
    /// The pipeline's settings: these flags over [`PipelineConfig::default`] (what an unset flag means).
    /// `EWG_FAIL_AT` is the one setting read from the environment here rather than by clap.
    pub fn pipeline(&self) -> PipelineConfig {
        let unset = PipelineConfig::default();
        let clips = &self.clips;
        PipelineConfig {
            fail_at: fail_at(),
            // An empty command is no command.
            transcribe_cmd: self.transcribe_cmd.clone().filter(|c| !c.trim().is_empty()),
            max_clips: clips.max_clips.map_or(unset.max_clips, |n| n as usize),
            clip_preset: clips.clip_preset.unwrap_or(unset.clip_preset),
            transcriber: self.transcriber.unwrap_or(unset.transcriber),
            disk_reserve: self.disk_reserve_mb.map(|mb| mb << 20),
            asr_model: self.asr_model.unwrap_or(unset.asr_model),
            ..unset
        }
    }
}

/// `EWG_FAIL_AT`: a drill and test switch, deliberately no flag (it stays out of `--help`). A value that
/// names no stage is ignored.
fn fail_at() -> Option<app::api::Stage> {
    std::env::var("EWG_FAIL_AT")
        .ok()
        .and_then(|s| app::api::Stage::parse(&s))
}

/// How long cleanups' trash stays restorable, and what purges it early (README "Undo and the trash").
#[derive(Debug, Clone, Args)]
pub struct TrashArgs {
    /// How long a cleanup's trash stays restorable: `30s`, `15m`, `12h`, `7d`; `0` purges at once (no undo).
    #[arg(long = "trash-retention", env = "EWG_TRASH_RETENTION", default_value = "7d", value_parser = parse_duration)]
    pub retention: Duration,
    /// Kept trash beyond this many GB is purged, oldest run first.
    #[arg(long = "trash-max-gb", env = "EWG_TRASH_MAX_GB", default_value_t = 20.0, value_parser = parse_gb)]
    pub max_gb: f64,
    /// Free space on the data root's filesystem below this percentage purges the oldest trash first.
    #[arg(long = "trash-min-free-pct", env = "EWG_TRASH_MIN_FREE_PCT", default_value_t = 10, value_parser = clap::value_parser!(u8).range(0..=90))]
    pub min_free_pct: u8,
    /// Storage budget: when registered derived data exceeds this many GB, the scheduled cleanup evicts
    /// regenerable outputs of finished episodes (restorable from the trash). Off by default.
    #[arg(long = "max-derived-gb", env = "EWG_MAX_DERIVED_GB", value_parser = parse_gb)]
    pub max_derived_gb: Option<f64>,
}

impl Default for TrashArgs {
    fn default() -> Self {
        let p = StoragePolicy::default();
        TrashArgs {
            retention: p.retention,
            max_gb: p.max_bytes as f64 / 1e9,
            min_free_pct: p.min_free_pct,
            max_derived_gb: None,
        }
    }
}

impl TrashArgs {
    pub fn policy(&self) -> StoragePolicy {
        StoragePolicy {
            retention: self.retention,
            max_bytes: (self.max_gb * 1e9) as u64,
            min_free_pct: self.min_free_pct,
            max_derived_bytes: self.max_derived_gb.map(|gb| (gb * 1e9) as u64),
        }
    }
}

fn parse_gb(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "`{s}`: expected a size in GB, 0 or more (e.g. 20 or 0.5)"
        )),
    }
}

/// `ewg worker`: a process that only runs jobs, on any machine that mounts the data root. The job flags
/// are `ewg serve`'s ([`JobArgs`]); their help here is the worker's own, and `--transcribe-cmd` is not
/// listed (a worker has always taken it from `EWG_TRANSCRIBE_CMD` only).
#[derive(Debug, Clone, Args)]
#[command(
    mut_arg("transcriber", |a| a.help("Transcript source [default: auto]")),
    mut_arg("asr_model", |a| a.help("The built-in recognizer's Whisper model [default: tiny.en]")),
    mut_arg("retry_interrupted", |a| a.help("See `ewg serve --retry-interrupted`")),
    mut_arg("scratch_dir", |a| a.help(
        "This worker's in-flight files on its own disk (`<dir>/<node-id>/`), not in the shared data root"
    )),
    mut_arg("transcribe_cmd", |a| a.hide(true)),
)]
pub struct WorkerArgs {
    /// Jobs this worker runs at once.
    #[arg(long, env = "EWG_WORKERS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: u16,
    /// Seconds a job's lease lasts without a heartbeat (use the server's value).
    #[arg(long, env = "EWG_LEASE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub lease_secs: u64,
    #[command(flatten)]
    pub jobs: JobArgs,
    #[command(flatten)]
    pub trash: TrashArgs,
}

impl WorkerArgs {
    /// The settings of a server that runs jobs and answers nothing.
    pub fn as_serve(&self) -> ServeArgs {
        ServeArgs {
            workers: self.workers,
            lease_secs: self.lease_secs,
            jobs: self.jobs.clone(),
            trash: self.trash.clone(),
            ..ServeArgs::default()
        }
    }
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs {
            addr: ([127, 0, 0, 1], 3000).into(),
            workers: 2,
            lease_secs: 30,
            cleanup_interval_secs: 600,
            stale_after_secs: 3600,
            max_upload_mb: 2048,
            secure_cookies: false,
            public_url: None,
            trusted_proxies: Vec::new(),
            jobs: JobArgs::default(),
            stuck_after: crate::studio::StuckLimits::default(),
            trash: TrashArgs::default(),
            edges: Box::default(),
        }
    }
}

impl ServeArgs {
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs)
    }

    /// The service's settings: these flags (their `EWG_*` variables included) over the data root and
    /// registry of `common`.
    pub fn settings(&self, common: &Common) -> Settings {
        Settings {
            data_dir: common.data_dir.clone(),
            database_url: common.database_url.clone(),
            stale_after: Duration::from_secs(self.stale_after_secs),
            retry_interrupted: self.jobs.retry_interrupted,
            storage: self.trash.policy(),
            scratch_dir: self.jobs.scratch_dir.clone(),
            pipeline: self.jobs.pipeline(),
            lease: self.lease(),
            stuck: self.stuck_after.clone(),
            max_upload_bytes: self.max_upload_mb.saturating_mul(1024 * 1024),
            edges: self.edges.limits(),
            auth: AuthSettings {
                secure_cookies: self.secure_cookies,
                public_origin: self.public_url.clone(),
                trusted_proxies: self.trusted_proxies.clone(),
                session_check: Duration::from_secs(self.edges.events_session_check_secs),
            },
        }
    }
}

impl EdgeArgs {
    pub fn limits(&self) -> EdgeLimits {
        EdgeLimits {
            events_per_user: self.events_per_user,
            events_max: self.events_max,
            max_uploads: self.max_uploads,
            upload_margin_bytes: self.upload_margin_mb.saturating_mul(1024 * 1024),
            metrics_allow: self.metrics_allow.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server and the workers (the default).
    Serve(ServeArgs),
    /// Run jobs only (no HTTP), beside `ewg serve` on this or another machine: same registry
    /// (`--database-url postgres://…`), same data root (a shared mount, any path).
    Worker(WorkerArgs),
    /// Scan inbox/ for new episodes.
    Discover,
    /// Queue episodes for processing and wait until they finish.
    Process {
        ids: Vec<String>,
        #[arg(long)]
        force: bool,
    },
    /// Clean one episode's derived files.
    Clean {
        id: String,
        #[arg(long)]
        include_transcripts: bool,
        #[arg(long)]
        include_audio: bool,
        #[arg(long)]
        dry_run: bool,
    },
    /// Clean and requeue failed episodes (all when no id and no group is given).
    Retry {
        ids: Vec<String>,
        /// One failure group's key (see `ewg failures`).
        #[arg(long, conflicts_with = "ids")]
        group: Option<String>,
        /// The episodes the preview showed (comma-separated, e.g. the group's `episodes` from
        /// `ewg failures`): refused when the selection names others now.
        #[arg(long, value_delimiter = ',')]
        previewed: Option<Vec<String>>,
        #[arg(long)]
        dry_run: bool,
    },
    /// Failed episodes grouped by stage and cause, largest group first.
    Failures,
    /// Server-side Deep Clean: repair the registry, clean failed episodes, sweep orphans, purge leftover
    /// trash. What it removes stays restorable for `--trash-retention` unless `--purge-now`.
    DeepClean {
        #[arg(long)]
        dry_run: bool,
        /// Free the space at once (no undo).
        #[arg(long)]
        purge_now: bool,
        /// When the orphan guard stopped a sweep: the orphan file count from the preview, to go ahead.
        #[arg(long, value_parser = clap::value_parser!(i64).range(0..))]
        confirm_orphans: Option<i64>,
        /// With `--confirm-orphans`: the digest the guard named, so a sweep whose files changed since the
        /// preview is refused instead of removing files nobody saw.
        #[arg(long, requires = "confirm_orphans")]
        orphans_digest: Option<String>,
    },
    /// Put a cleanup run's trash back: files where they were, their rows, the episodes' earlier state.
    Restore {
        /// The cleanup run (see `ewg trash`).
        run: String,
        /// Only these paths (each one the run took, or inside one).
        #[arg(long = "path")]
        paths: Vec<String>,
        #[arg(long)]
        dry_run: bool,
    },
    /// List the trash: runs kept for undo (and recently purged or restored ones), with the policy.
    Trash {
        /// Purge this run's trash now, or `all` ("Empty trash").
        #[arg(long)]
        purge: Option<String>,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens for scripts and other clients.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is read from stdin, or generated and printed once when stdin is a terminal
    /// or empty.
    Add {
        name: String,
        #[arg(long, conflicts_with = "role")]
        admin: bool,
        #[arg(long, value_parser = ["viewer", "operator", "admin"], default_value = "viewer")]
        role: String,
    },
    /// Set a new password (stdin, or generated and printed once); ends all of the user's sessions.
    Passwd { name: String },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; prints it alone on stdout.
    Create {
        #[arg(long, value_parser = ["viewer", "operator", "admin"])]
        role: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Revoke a token by its id.
    Revoke { id: i64 },
    /// List tokens (never their secrets).
    List,
}

fn parse_clip_preset(s: &str) -> Result<crate::pipeline::highlights::Preset, String> {
    crate::pipeline::highlights::Preset::parse(s)
        .ok_or_else(|| format!("`{s}` is not a clip preset: short, medium or long"))
}
