//! The registry: episodes, artifacts, jobs, cleanup runs, users. SQLite (WAL) in the data root by default.
//!
//! Queries are plain SQL kept portable to Postgres (the scale-out registry); each concern lives in its
//! own file as `impl Registry` blocks: `episodes`, `artifacts`, `jobs` (the queue, leases, fenced ends),
//! `runs` (cleanup runs and their owners), `trash` (what kept trash holds), `restore` (what a
//! restore puts back), `ownership` (one owner per episode), `uploads` (uploads in
//! flight), `users` (users, sessions, tokens), `nodes` (the processes sharing the registry, and the data
//! root they must all see), `liveness` (this process's node id and heartbeat, and whether another
//! owner is certainly gone — the one judgement recovery and [`runs`] share).

mod artifacts;
mod episodes;
mod jobs;
pub mod liveness;
mod metrics;
mod nodes;
mod ownership;
mod queue;
mod restore;
mod runs;
mod trash;
mod uploads;
mod users;

pub use artifacts::{ArtifactKind, ArtifactRow, EpisodeBytes};
pub use episodes::{EpisodeRow, NewEpisode};
pub use jobs::{AttemptEnd, Beat, JobKind, JobRow, JobState};
pub use metrics::{DURATION_BUCKETS_MS, DurationHistogram};
pub use ownership::PlannedRows;
pub use restore::{Restored, TrashedEpisode, TrashedRow};
pub use runs::{LiveRun, RunRecord, RunTotals, Then};
pub use trash::{KeepTrash, TrashRunRow};
pub use users::{TokenRow, UserRow};

/// The database's clock in Unix milliseconds. Leases and heartbeats are compared on one clock — the
/// registry's — so processes on machines whose clocks disagree (or jump) still agree on who is alive.
/// One text for both engines: PostgreSQL's migration defines `unixepoch(text)` over `clock_timestamp()`.
pub(crate) const DB_NOW: &str = "CAST(unixepoch('subsec') * 1000 AS BIGINT)";

use crate::error::{Error, Result};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Connection, Executor};
use std::path::Path;
use std::time::Duration;

/// A registry transaction, on whichever engine the URL named.
pub(crate) type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// The two registry engines. Queries are one text for both (`$n` parameters, BIGINT times and flags);
/// where the engines differ — row locks, the notification of new jobs — the code asks [`Registry::engine`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The embedded default: one file in the data root, one machine.
    Sqlite,
    /// A shared server: many `ewg` processes on many machines.
    Postgres,
}

impl Engine {
    /// The engine a URL names, or a 400 that names the URL (without its password).
    pub fn of(url: &str) -> Result<Engine> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Engine::Postgres)
        } else {
            Err(Error::BadRequest(format!(
                "unsupported database URL `{}`: use sqlite://PATH or postgres://USER@HOST/DB",
                redact(url)
            )))
        }
    }
}

#[derive(Clone, Debug)]
pub struct Registry {
    pub(crate) pool: AnyPool,
    engine: Engine,
    /// Kept for PostgreSQL's `LISTEN`, which needs a connection of its own.
    url: std::sync::Arc<str>,
}

impl Registry {
    /// Opens the registry at `url` (default: `sqlite://<data_dir>/ewg.db`) and applies migrations.
    pub async fn open(url: Option<&str>, data_dir: &Path) -> Result<Self> {
        let url = match url {
            Some(u) => u.to_string(),
            None => format!("sqlite://{}", data_dir.join("ewg.db").display()),
        };
        let engine = Engine::of(&url)?;
        install_default_drivers();
        let cannot = |e: sqlx::Error| {
            Error::BadRequest(format!("cannot open database `{}`: {e}", redact(&url)))
        };
        // `after_release`: a connection that comes back to the pool still inside a transaction is closed,
        // never reused. SQLite rolls a transaction back by itself on SQLITE_FULL (or IOERR); sqlx still
        // counts it open, so its later ROLLBACK fails, the count stays at one, and the connection's next
        // "transaction" is a SAVEPOINT whose rollback (`ROLLBACK TO`) leaves the write lock held — every
        // other writer then sees "database is locked" for good. Closing the connection drops its locks.
        let pool = match engine {
            Engine::Sqlite => AnyPoolOptions::new()
                .max_connections(8)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .after_release(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
                .connect(&sqlite_create_url(&url))
                .await
                .map_err(cannot)?,
            Engine::Postgres => AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .after_release(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
                .connect(&url)
                .await
                .map_err(cannot)?,
        };
        match engine {
            Engine::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Engine::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        Ok(Registry {
            pool,
            engine,
            url: url.into(),
        })
    }

    /// A bad URL is refused, and a database server is reached, before anything is created: a typo or an
    /// unreachable server leaves no half-made data dir behind. `None`: the registry is a file in the data
    /// root, opened once the root exists.
    pub async fn open_before_root(url: Option<&str>, data_dir: &Path) -> Result<Option<Self>> {
        match url {
            None => Ok(None),
            Some(url) => match Engine::of(url)? {
                Engine::Sqlite => Ok(None),
                Engine::Postgres => Ok(Some(Self::open(Some(url), data_dir).await?)),
            },
        }
    }

    /// A connection listening for new jobs (`ewg_jobs`), on PostgreSQL; `None` on SQLite.
    pub async fn listen_jobs(&self) -> Result<Option<sqlx::postgres::PgListener>> {
        if self.engine != Engine::Postgres {
            return Ok(None);
        }
        let mut listener = sqlx::postgres::PgListener::connect(&self.url).await?;
        listener.listen("ewg_jobs").await?;
        Ok(Some(listener))
    }

    /// `clause` (`FOR UPDATE`, `FOR UPDATE SKIP LOCKED`) on PostgreSQL; nothing on SQLite, where the
    /// transaction's first write already holds the whole database and the syntax does not exist.
    pub(crate) fn row_lock(&self, clause: &'static str) -> &'static str {
        match self.engine {
            Engine::Sqlite => "",
            Engine::Postgres => clause,
        }
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// A short description for `/api/health`, without credentials.
    pub fn describe(&self) -> String {
        match self.engine {
            Engine::Sqlite => "sqlite ok".into(),
            Engine::Postgres => "postgres ok".into(),
        }
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// `$first, $first+1, …` for an `IN (…)` list of `n` bound values after `first - 1` others.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A SQLite URL that creates its file when missing (the embedded default starts empty).
fn sqlite_create_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Hides a password in a URL before it reaches a log or an error message.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_string(),
    }
}
