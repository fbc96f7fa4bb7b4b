//! Cleanup runs: the audit of every cleanup, and the registry fact that coordinates them — who executes a
//! run (its owner node and heartbeat), what end state it intends, and the report callers wait for.

use super::{DB_NOW, Registry};
use crate::error::{Error, Result};
use crate::now_ms;
use app::api::{CleanupReport, CleanupResult, CleanupRunSummary, PathError, Trigger};

/// Who asked for a cleanup, why, and over what.
#[derive(Clone, Debug)]
pub struct RunRecord {
    pub id: String,
    pub actor: String,
    pub trigger: Trigger,
    pub scope: String,
    pub episode: Option<String>,
    pub dry_run: bool,
    /// The end state for the episodes this run owns once their files are gone (see [`Then`]).
    pub then: Then,
    /// The run keeps what it removes in the trash for undo (recorded as `trash = 'kept'` by its commit)
    /// instead of purging it before it answers.
    pub keep_trash: bool,
}

/// What happens to the episodes a run owns when it commits. Stored with the run, so recovery can replay
/// it after a crash instead of leaving an episode half-way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then {
    /// Nothing beyond releasing the episodes.
    Release,
    /// Stage back to `discovered`; state and failure stay visible.
    ResetStage,
    /// Idle and `discovered`: a clean slate.
    Reset,
    /// A clean slate and a new queued attempt.
    Requeue,
    /// State and stage stay; a new attempt is queued that cuts clip `n` again (its old files were the
    /// run's to remove).
    RegenerateClip(u32),
}

impl Then {
    /// How the run row stores it.
    pub fn stored(self) -> String {
        match self {
            Then::Release => "release".into(),
            Then::ResetStage => "reset-stage".into(),
            Then::Reset => "reset".into(),
            Then::Requeue => "requeue".into(),
            Then::RegenerateClip(n) => format!("regenerate-clip:{n}"),
        }
    }
    pub fn parse(s: &str) -> Then {
        match s {
            "reset-stage" => Then::ResetStage,
            "reset" => Then::Reset,
            "requeue" => Then::Requeue,
            _ => match s.strip_prefix("regenerate-clip:").map(str::parse) {
                Some(Ok(n)) => Then::RegenerateClip(n),
                _ => Then::Release,
            },
        }
    }
}

/// A run that has not finished, as recovery and single-flight see it.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct LiveRun {
    pub id: String,
    #[sqlx(try_from = "String")]
    pub trigger: Trigger,
    /// `planned` until the registry commit, then `committed` until the purge is done.
    pub phase: String,
    pub owner: Option<String>,
    pub then_action: Option<String>,
    /// `kept` once its commit recorded its trash for undo: recovery then leaves the trash alone.
    pub trash: Option<String>,
    /// Milliseconds since the owner last renewed its heartbeat (database clock).
    pub silent_ms: i64,
}

impl LiveRun {
    /// Its owner stopped: silent past `stale_ms`, or a process of this machine that no longer exists.
    pub fn owner_gone(&self, stale_ms: i64) -> bool {
        self.silent_ms > stale_ms || self.owner.as_deref().is_none_or(super::liveness::is_gone)
    }
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: String,
    actor: String,
    #[sqlx(try_from = "String")]
    trigger: Trigger,
    scope: String,
    dry_run: i64,
    result: Option<String>,
    files: i64,
    bytes: i64,
    errors: i64,
    duration_ms: i64,
    started_at: i64,
    finished_at: Option<i64>,
}

impl RunRow {
    fn summary(self) -> CleanupRunSummary {
        CleanupRunSummary {
            result: parse_result(self.result.as_deref()),
            run_id: self.id,
            actor: self.actor,
            trigger: self.trigger,
            scope: self.scope,
            dry_run: self.dry_run != 0,
            files: self.files,
            bytes: self.bytes,
            errors: self.errors,
            duration_ms: self.duration_ms,
            started_at: self.started_at,
        }
    }
}

/// A run without a result has not finished: it is running (or its owner died and recovery will finish
/// it), never "failed" before it has.
fn parse_result(s: Option<&str>) -> CleanupResult {
    match s {
        None => CleanupResult::Running,
        Some("ok") => CleanupResult::Ok,
        Some("partial") => CleanupResult::Partial,
        Some(_) => CleanupResult::Failed,
    }
}

impl Registry {
    /// Records a run as started by `owner`. A second live real Deep Clean is refused by the database
    /// (`Ok(false)`), whichever process asks.
    pub async fn start_run(&self, run: &RunRecord, owner: &str) -> Result<bool> {
        let sql = format!(
            "INSERT INTO cleanup_runs (id, actor, trigger, scope, episode, dry_run, phase, started_at, owner,
                heartbeat_at, then_action)
             VALUES ($1, $2, $3, $4, $5, $6, 'planned', $7, $8, {DB_NOW}, $9)"
        );
        let res = sqlx::query(&sql)
            .bind(&run.id)
            .bind(&run.actor)
            .bind(run.trigger.as_str())
            .bind(&run.scope)
            .bind(&run.episode)
            .bind(i64::from(run.dry_run))
            .bind(now_ms())
            .bind(owner)
            .bind(run.then.stored())
            .execute(&self.pool)
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Renews a run's heartbeat. `false` when the run is no longer `owner`'s (recovery took it over) or
    /// no longer live: the owner must stop at once.
    pub async fn heartbeat_run(&self, id: &str, owner: &str) -> Result<bool> {
        let sql = format!(
            "UPDATE cleanup_runs SET heartbeat_at = {DB_NOW} WHERE id = $1 AND owner = $2 AND phase <> 'done'"
        );
        let n = sqlx::query(&sql)
            .bind(id)
            .bind(owner)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Recovery's claim on a run whose owner is gone: the owner token becomes `new_owner` (unique, never
    /// reused), so every later write of the old owner — its heartbeat, commit and finish are conditional
    /// on its token — changes nothing. Only while the run is still `seen_owner`'s and, unless the owner
    /// is certainly dead (`stale_ms` = `None`), still silent past `stale_ms` on the registry's clock: a
    /// heartbeat that arrived since the owner was judged wins. `false`: someone else has it.
    pub async fn take_over_run(
        &self,
        id: &str,
        seen_owner: Option<&str>,
        new_owner: &str,
        stale_ms: Option<i64>,
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE cleanup_runs SET owner = $1, heartbeat_at = {DB_NOW}
             WHERE id = $2 AND phase <> 'done' AND COALESCE(owner, '') = $3
               AND ($4 < 0 OR {DB_NOW} - COALESCE(heartbeat_at, 0) > $5)"
        );
        let stale = stale_ms.unwrap_or(-1);
        let n = sqlx::query(&sql)
            .bind(new_owner)
            .bind(id)
            .bind(seen_owner.unwrap_or(""))
            .bind(stale)
            .bind(stale)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Finishes a run with its report. Fenced: conditional on the run still being live and `owner`'s, so
    /// an owner that recovery took over (paused past its lease, say) cannot overwrite that outcome.
    /// `false`: it was not ours any more, and nothing was written.
    pub async fn finish_run(&self, report: &CleanupReport, owner: &str) -> Result<bool> {
        let json = serde_json::to_string(report).map_err(|e| Error::Internal(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            // Added, not set: a kept trash purged between the commit and this line counted its files.
            "UPDATE cleanup_runs SET phase = 'done', result = $1, files = files + $2, bytes = bytes + $3,
                errors = errors + $4,
                duration_ms = $5, finished_at = $6, report = $7
             WHERE id = $8 AND phase <> 'done' AND owner = $9",
        )
        .bind(report.result.as_str())
        .bind(report.files)
        .bind(report.bytes)
        .bind(report.errors.len() as i64)
        .bind(report.duration_ms)
        .bind(now_ms())
        .bind(&json)
        .bind(&report.run_id)
        .bind(owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            insert_errors(&mut tx, &report.run_id, &report.errors).await?;
        }
        tx.commit().await?;
        if n == 0 {
            tracing::warn!(run = %report.run_id, owner, "run no longer ours: its report was not recorded");
        }
        Ok(n == 1)
    }

    /// Runs not finished yet, with how long their owner has been silent.
    pub async fn live_runs(&self) -> Result<Vec<LiveRun>> {
        let sql = format!(
            "SELECT id, trigger, phase, owner, then_action, trash,
                {DB_NOW} - COALESCE(heartbeat_at, 0) AS silent_ms
             FROM cleanup_runs WHERE phase <> 'done' ORDER BY started_at"
        );
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }

    /// The live real Deep Clean, if any.
    pub async fn live_deep_clean(&self) -> Result<Option<LiveRun>> {
        Ok(self
            .live_runs()
            .await?
            .into_iter()
            .find(|r| r.trigger == Trigger::DeepClean))
    }

    /// The report of a finished run (`None` while it runs).
    pub async fn run_report(&self, id: &str) -> Result<Option<CleanupReport>> {
        let row: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT phase, report FROM cleanup_runs WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            None => Err(Error::NotFound(format!("no cleanup run `{id}`"))),
            Some((phase, _)) if phase != "done" => Ok(None),
            Some((_, Some(json))) => serde_json::from_str(&json)
                .map(Some)
                .map_err(|e| Error::Internal(format!("stored report of {id}: {e}"))),
            Some((_, None)) => Err(Error::Internal(format!(
                "run {id} finished without a report"
            ))),
        }
    }

    pub async fn list_runs(
        &self,
        episode: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CleanupRunSummary>> {
        let rows: Vec<RunRow> = sqlx::query_as(
            "SELECT id, actor, trigger, scope, dry_run, result, files, bytes, errors, duration_ms, started_at,
                finished_at
             FROM cleanup_runs WHERE ($1 IS NULL OR episode = $2) ORDER BY started_at DESC, id DESC LIMIT $3",
        )
        .bind(episode)
        .bind(episode)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(RunRow::summary).collect())
    }

    /// Runs that started or finished at `since` (Unix ms) or later, with when they finished: the live
    /// feed's view of the audit.
    pub async fn runs_changed_since(
        &self,
        since: i64,
    ) -> Result<Vec<(CleanupRunSummary, Option<i64>, Option<String>)>> {
        let rows: Vec<RunRow> = sqlx::query_as(
            "SELECT id, actor, trigger, scope, dry_run, result, files, bytes, errors, duration_ms, started_at,
                finished_at
             FROM cleanup_runs WHERE started_at >= $1 OR finished_at >= $2 ORDER BY started_at, id",
        )
        .bind(since)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let (finished, result) = (r.finished_at, r.result.clone());
                (r.summary(), finished, result)
            })
            .collect())
    }

    /// Totals per trigger and result for `/metrics`.
    pub async fn run_totals(&self) -> Result<Vec<RunTotals>> {
        Ok(sqlx::query_as(
            "SELECT trigger, COALESCE(result, 'unfinished') AS result, COUNT(*) AS runs,
                CAST(COALESCE(SUM(files), 0) AS BIGINT) AS files, CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS bytes,
                CAST(COALESCE(SUM(errors), 0) AS BIGINT) AS errors, CAST(COALESCE(SUM(duration_ms), 0) AS BIGINT) AS duration_ms
             FROM cleanup_runs WHERE dry_run = 0 GROUP BY trigger, result ORDER BY trigger",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

/// One line of `/metrics` cleanup totals.
#[derive(sqlx::FromRow, Debug)]
pub struct RunTotals {
    pub trigger: String,
    pub result: String,
    pub runs: i64,
    pub files: i64,
    pub bytes: i64,
    pub errors: i64,
    pub duration_ms: i64,
}

async fn insert_errors(tx: &mut super::Tx<'_>, run_id: &str, errors: &[PathError]) -> Result<()> {
    for e in errors {
        sqlx::query("INSERT INTO cleanup_errors (run_id, path, message) VALUES ($1, $2, $3)")
            .bind(run_id)
            .bind(&e.path)
            .bind(&e.message)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Registry {
    /// Deletes the row of a run that was refused before it planned or moved anything.
    pub async fn discard_run(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM cleanup_runs WHERE id = $1 AND phase = 'planned'")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
