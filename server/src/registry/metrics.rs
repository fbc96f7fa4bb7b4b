//! Aggregates for `/metrics`, computed by the registry: a scrape reads one row per trigger, however many
//! runs the history holds (before, every finished run was loaded on every scrape).

use super::Registry;
use crate::error::Result;
use sqlx::Row;
use std::fmt::Write;

/// Upper bounds of the cleanup-duration histogram's buckets, in milliseconds.
pub const DURATION_BUCKETS_MS: [i64; 8] = [10, 50, 100, 500, 1000, 5000, 30000, 120000];

/// One trigger's run durations as a Prometheus histogram: cumulative counts per bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationHistogram {
    pub trigger: String,
    /// Runs at or under each bound of [`DURATION_BUCKETS_MS`].
    pub buckets: [i64; DURATION_BUCKETS_MS.len()],
    pub count: i64,
    pub sum_ms: i64,
}

impl Registry {
    /// Finished real runs' durations by trigger, bucketed by the database (`SUM(CASE …)` per bound).
    pub async fn run_duration_histogram(&self) -> Result<Vec<DurationHistogram>> {
        let mut cols = String::new();
        for (i, b) in DURATION_BUCKETS_MS.iter().enumerate() {
            let _ = write!(
                cols,
                ", CAST(COALESCE(SUM(CASE WHEN duration_ms <= {b} THEN 1 ELSE 0 END), 0) AS BIGINT) AS le{i}"
            );
        }
        let sql = format!(
            "SELECT trigger, COUNT(*) AS n, CAST(COALESCE(SUM(duration_ms), 0) AS BIGINT) AS sum_ms{cols}
             FROM cleanup_runs WHERE dry_run = 0 AND phase = 'done' GROUP BY trigger ORDER BY trigger"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut buckets = [0i64; DURATION_BUCKETS_MS.len()];
            for (i, slot) in buckets.iter_mut().enumerate() {
                *slot = r.try_get(format!("le{i}").as_str())?;
            }
            out.push(DurationHistogram {
                trigger: r.try_get("trigger")?,
                buckets,
                count: r.try_get("n")?,
                sum_ms: r.try_get("sum_ms")?,
            });
        }
        Ok(out)
    }
}
