use super::Registry;
use crate::error::Result;
use crate::now_ms;
use app::api::{CleanupResult, CleanupRunSummary, PathError};

/// Who asked for a cleanup, why, and over what.
#[derive(Clone, Debug)]
pub struct RunRecord {
    pub id: String,
    pub actor: String,
    pub trigger: String,
    pub scope: String,
    pub episode: Option<String>,
    pub dry_run: bool,
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: String,
    actor: String,
    trigger: String,
    scope: String,
    dry_run: bool,
    result: Option<String>,
    files: i64,
    bytes: i64,
    errors: i64,
    duration_ms: i64,
    started_at: i64,
}

fn parse_result(s: Option<&str>) -> CleanupResult {
    match s {
        Some("ok") => CleanupResult::Ok,
        Some("partial") => CleanupResult::Partial,
        _ => CleanupResult::Failed,
    }
}

impl Registry {
    pub async fn start_run(&self, run: &RunRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO cleanup_runs (id, actor, trigger, scope, episode, dry_run, phase, started_at)
             VALUES (?, ?, ?, ?, ?, ?, 'planned', ?)",
        )
        .bind(&run.id)
        .bind(&run.actor)
        .bind(&run.trigger)
        .bind(&run.scope)
        .bind(&run.episode)
        .bind(run.dry_run)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn finish_run(
        &self,
        id: &str,
        result: CleanupResult,
        files: i64,
        bytes: i64,
        errors: &[PathError],
        duration_ms: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE cleanup_runs SET phase = 'done', result = ?, files = ?, bytes = ?, errors = ?,
                duration_ms = ?, finished_at = ? WHERE id = ?",
        )
        .bind(result.as_str())
        .bind(files)
        .bind(bytes)
        .bind(errors.len() as i64)
        .bind(duration_ms)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        for e in errors {
            sqlx::query("INSERT INTO cleanup_errors (run_id, path, message) VALUES (?, ?, ?)")
                .bind(id)
                .bind(&e.path)
                .bind(&e.message)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Runs a crash interrupted before they finished.
    pub async fn unfinished_runs(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM cleanup_runs WHERE phase <> 'done' ORDER BY started_at",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn list_runs(
        &self,
        episode: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CleanupRunSummary>> {
        let rows: Vec<RunRow> = sqlx::query_as(
            "SELECT id, actor, trigger, scope, dry_run, result, files, bytes, errors, duration_ms, started_at
             FROM cleanup_runs WHERE (? IS NULL OR episode = ?) ORDER BY started_at DESC, id DESC LIMIT ?",
        )
        .bind(episode)
        .bind(episode)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| CleanupRunSummary {
                result: parse_result(r.result.as_deref()),
                run_id: r.id,
                actor: r.actor,
                trigger: r.trigger,
                scope: r.scope,
                dry_run: r.dry_run,
                files: r.files,
                bytes: r.bytes,
                errors: r.errors,
                duration_ms: r.duration_ms,
                started_at: r.started_at,
            })
            .collect())
    }

    /// Totals per trigger for `/metrics`: (trigger, result, runs, files, bytes, errors, duration_ms).
    pub async fn run_totals(&self) -> Result<Vec<(String, String, i64, i64, i64, i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT trigger, COALESCE(result, 'unfinished'), COUNT(*), COALESCE(SUM(files), 0),
                COALESCE(SUM(bytes), 0), COALESCE(SUM(errors), 0), COALESCE(SUM(duration_ms), 0)
             FROM cleanup_runs WHERE dry_run = 0 GROUP BY trigger, result ORDER BY trigger",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
