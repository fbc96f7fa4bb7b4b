//! The registry: episodes, artifacts, jobs, cleanup runs, users. SQLite (WAL) in the data root by default.
//!
//! Queries are plain SQL kept portable to Postgres (the scale-out registry); each concern lives in its
//! own file as `impl Registry` blocks: `episodes`, `artifacts`, `jobs` (the queue, leases, fenced ends),
//! `runs` (cleanup runs and their owners), `ownership` (one owner per episode), `uploads` (uploads in
//! flight), `users` (users, sessions, tokens).

mod artifacts;
mod episodes;
mod jobs;
mod ownership;
mod runs;
mod uploads;
mod users;

pub use artifacts::{ArtifactKind, ArtifactRow};
pub use episodes::{EpisodeRow, NewEpisode};
pub use jobs::{AttemptEnd, Beat, JobRow, JobState};
pub use ownership::PlannedRows;
pub use runs::{LiveRun, RunRecord, RunTotals, Then};
pub use users::UserRow;

/// The database's clock in Unix milliseconds. Leases and heartbeats are compared on one clock — the
/// registry's — so processes on machines whose clocks disagree (or jump) still agree on who is alive.
pub(crate) const DB_NOW: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

use crate::error::{Error, Result};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Registry {
    pub(crate) pool: SqlitePool,
    url: String,
}

impl Registry {
    /// Opens the registry at `url` (default: `sqlite://<data_dir>/ewg.db`) and applies migrations.
    pub async fn open(url: Option<&str>, data_dir: &Path) -> Result<Self> {
        let url = match url {
            Some(u) => u.to_string(),
            None => format!("sqlite://{}", data_dir.join("ewg.db").display()),
        };
        Self::check_url(&url)?;
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(|e| {
                Error::BadRequest(format!("invalid database URL `{}`: {e}", redact(&url)))
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|e| {
                Error::BadRequest(format!("cannot open database `{}`: {e}", redact(&url)))
            })?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Registry { pool, url })
    }

    /// Refuses URLs this build cannot open, naming them (without a password).
    pub fn check_url(url: &str) -> Result<()> {
        if url.starts_with("sqlite:") {
            return Ok(());
        }
        Err(Error::BadRequest(format!(
            "unsupported database URL `{}`: this build supports sqlite:// URLs",
            redact(url)
        )))
    }

    /// A short description for `/api/health`, without credentials.
    pub fn describe(&self) -> String {
        let kind = self.url.split(':').next().unwrap_or("unknown");
        format!("{kind} ok")
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// `?, ?, …` for an `IN (…)` list of `n` bound values.
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

/// Hides a password in a URL before it reaches a log or an error message.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_string(),
    }
}
