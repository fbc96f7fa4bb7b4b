//! EWG Studio's server: the registry, the video pipeline, the job queue, the cleanup engine, auth and the
//! HTTP surface. `app` owns the API contract (types, server-function signatures); this crate implements it.
//!
//! How a request travels: `http/` (router, error contract, `Caller<Role>` extractor) or a server function
//! in `app` (through `app`'s role traits, which [`studio`] implements itself) → [`studio`] (the one way in:
//! validation, detached actions)
//! → [`cleanup`] / [`jobs`] / [`pipeline`] → [`registry`] (SQL) and [`storage`] (the deletion primitive).
//! The CLI ([`cli`]) enters at [`studio`] too.
//!
//! | module | concern |
//! |---|---|
//! | [`studio`] | the application service every front end calls; it implements `app`'s API contract, one role trait per area, beside each area's actions |
//! | [`cleanup`] | cleanup actions, planning, orphan sweep and guard, run execution, recovery, upload leases |
//! | [`storage`] | the data root and the deletion primitive (directory handles, no links, no mounts) |
//! | [`registry`] | sqlx queries, one text for SQLite and PostgreSQL: episodes, artifacts, jobs, runs, ownership, uploads, users, nodes; this process's node id and liveness |
//! | [`jobs`] | workers, leases, heartbeats, fenced job ends, cancellation |
//! | [`pipeline`] | the stages, ffmpeg, transcription, child processes |
//! | [`auth`] | passwords, sessions, tokens, login limits, Origin checks |
//! | [`http`] | the axum router and its handlers |
//! | [`cli`] | the `ewg` command line; its flags ([`cli::config`]) become the settings the layers below define |
//! | [`failpoint`] | `EWG_FAILPOINTS`: fault injection at each step of a cleanup run and a job's end, for `it::faults` and the recovery tests; only with the `testing` feature (nothing in a production build) |
//! | [`ids`], [`error`], [`metrics`], [`units`] | episode ids, the error type, `/metrics`, durations as written |
//!
//! The design rules (what may delete what, who owns an episode, what survives a crash) are stated in the
//! README ("How cleanup stays trustworthy") and in the module docs of [`cleanup`] and [`storage`].

pub mod auth;
pub mod cleanup;
pub mod cli;
pub mod error;
pub mod failpoint;
pub mod http;
pub mod ids;
pub mod jobs;
pub mod metrics;
pub mod pipeline;
pub mod registry;
pub mod storage;
pub mod studio;
pub mod units;

/// Unix time in milliseconds: the registry's one time unit (portable across SQLite and Postgres).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
