//! EWG Studio's server: the registry, the video pipeline, the job queue, the cleanup engine, auth and the
//! HTTP surface. One module per concern; `app` owns the API contract, this crate implements it.

pub mod auth;
pub mod backend;
pub mod cleanup;
pub mod cli;
pub mod config;
pub mod error;
pub mod http;
pub mod ids;
pub mod jobs;
pub mod metrics;
pub mod node;
pub mod pipeline;
pub mod registry;
pub mod storage;
pub mod studio;

/// Unix time in milliseconds: the registry's one time unit (portable across SQLite and Postgres).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
