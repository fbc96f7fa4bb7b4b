//! The durable job queue. Leases use the database's clock (`DB_NOW`), so a process whose clock jumps
//! cannot steal or keep a job; a job's end is one transaction, fenced on the job still being `running`.

use super::{DB_NOW, Engine, Registry};
use crate::error::Result;
use crate::now_ms;
use app::api::{EpisodeState, JobInfo, Stage};

#[derive(sqlx::FromRow, Clone, Debug)]
pub struct JobRow {
    pub id: i64,
    pub episode: String,
    pub kind: String,
    pub state: String,
    pub attempt: i64,
    pub worker: Option<String>,
    pub lease_until: Option<i64>,
    pub error: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

pub use app::api::JobState;

/// What a job does: a whole attempt, or one clip cut again (the rest of the episode stays).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    Process,
    Clip(u32),
}

impl JobKind {
    pub fn stored(self) -> String {
        match self {
            JobKind::Process => "process".into(),
            JobKind::Clip(n) => format!("clip:{n}"),
        }
    }
    /// An unknown spelling (a newer build's kind) is `None`: a worker must not guess what it means.
    pub fn parse(s: &str) -> Option<JobKind> {
        match s {
            "process" => Some(JobKind::Process),
            _ => s.strip_prefix("clip:")?.parse().ok().map(JobKind::Clip),
        }
    }
}

impl JobRow {
    pub fn state(&self) -> JobState {
        JobState::parse(&self.state).unwrap_or(JobState::Interrupted)
    }
    pub fn kind(&self) -> Option<JobKind> {
        JobKind::parse(&self.kind)
    }

    pub fn info(&self) -> JobInfo {
        JobInfo {
            id: self.id,
            episode: self.episode.clone(),
            state: self.state(),
            attempt: self.attempt,
            created_at: self.created_at,
        }
    }
}

/// What a heartbeat learned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Beat {
    Alive,
    /// Someone (maybe another process) asked for the job to stop.
    CancelRequested,
    /// The job is no longer ours (the reaper ended it): stop, and write nothing more.
    Lost,
}

/// How an attempt ended, for [`Registry::end_job`] and [`Registry::record_outcome`].
pub struct AttemptEnd<'a> {
    pub episode_state: EpisodeState,
    pub failed: Option<(Stage, &'a str)>,
}

impl Registry {
    /// Queues attempt `attempt` of an episode and marks the episode queued, atomically. A second live
    /// job, or a cleanup run owning the episode, is a 409 naming it.
    pub async fn enqueue(&self, episode: &str, attempt: i64, force: bool) -> Result<JobRow> {
        let mut tx = self.pool.begin().await?;
        let job = self
            .enqueue_in(&mut tx, episode, attempt, force, JobKind::Process)
            .await?;
        tx.commit().await?;
        self.notify_jobs().await;
        Ok(job)
    }

    /// Wakes the workers of every process sleeping on an empty queue (PostgreSQL `NOTIFY`; a worker on
    /// SQLite polls). Best effort: a worker that misses it finds the job at its next poll.
    pub async fn notify_jobs(&self) {
        if self.engine() == Engine::Postgres
            && let Err(e) = sqlx::query("SELECT pg_notify('ewg_jobs', '')")
                .execute(&self.pool)
                .await
        {
            tracing::warn!(error = %e, "could not notify workers of a new job");
        }
    }

    pub async fn job(&self, id: i64) -> Result<Option<JobRow>> {
        Ok(sqlx::query_as("SELECT * FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn live_job(&self, episode: &str) -> Result<Option<JobRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM jobs WHERE episode = $1 AND state IN ('queued', 'running') ORDER BY id DESC LIMIT 1",
        )
        .bind(episode)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn live_jobs(&self) -> Result<Vec<JobRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Claims the oldest queued job for `worker` with a lease on the database's clock.
    pub async fn claim_job(&self, worker: &str, lease_ms: i64) -> Result<Option<JobRow>> {
        let now = now_ms();
        if self.engine() == Engine::Postgres {
            // One statement, one round trip: the job and its episode change together (a data-modifying
            // CTE is one atomic statement), where a transaction would cost BEGIN, two updates and COMMIT.
            let sql = format!(
                "WITH j AS (
                    UPDATE jobs SET state = 'running', worker = $1, lease_until = {DB_NOW} + $2, started_at = $3
                    WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1
                                FOR UPDATE SKIP LOCKED)
                      AND state = 'queued'
                    RETURNING *
                 ), e AS (
                    UPDATE episodes SET state = 'running', updated_at = $3 WHERE id IN (SELECT episode FROM j)
                 )
                 SELECT * FROM j"
            );
            return Ok(sqlx::query_as(&sql)
                .bind(worker)
                .bind(lease_ms)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?);
        }
        let mut tx = self.pool.begin().await?;
        // SQLite runs one writer at a time, so the oldest queued job is simply taken. On PostgreSQL many
        // claimers run at once: each skips the rows another has locked instead of queueing behind it.
        let skip_locked = self.row_lock("FOR UPDATE SKIP LOCKED");
        let sql = format!(
            "UPDATE jobs SET state = 'running', worker = $1, lease_until = {DB_NOW} + $2, started_at = $3
             WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1 {skip_locked})
               AND state = 'queued'
             RETURNING *"
        );
        let job: Option<JobRow> = sqlx::query_as(&sql)
            .bind(worker)
            .bind(lease_ms)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(job) = &job {
            sqlx::query("UPDATE episodes SET state = 'running', updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&job.episode)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(job)
    }

    /// Extends a running job's lease, and tells whether it should stop.
    pub async fn heartbeat(&self, job_id: i64, lease_ms: i64) -> Result<Beat> {
        let sql = format!(
            "UPDATE jobs SET lease_until = {DB_NOW} + $1 WHERE id = $2 AND state = 'running'
             RETURNING cancel_requested"
        );
        let cancel: Option<i64> = sqlx::query_scalar(&sql)
            .bind(lease_ms)
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match cancel {
            None => Beat::Lost,
            Some(0) => Beat::Alive,
            Some(_) => Beat::CancelRequested,
        })
    }

    /// The fence of a job's writes on PostgreSQL: the running job of `episode`'s `attempt` is row-locked
    /// for the rest of `tx`, so the lease reaper's `interrupt_job` waits for this transaction (or this
    /// one finds the job no longer running) instead of both reading "running" at once. `false`: the job
    /// is not running. On SQLite a write transaction already excludes every other writer, and the
    /// statements' own `EXISTS` fence is atomic: nothing to lock.
    pub(crate) async fn hold_running_job(
        &self,
        tx: &mut super::Tx<'_>,
        episode: &str,
        attempt: i64,
    ) -> Result<bool> {
        if self.engine() != Engine::Postgres {
            return Ok(true);
        }
        let held: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE episode = $1 AND attempt = $2 AND state = 'running' FOR UPDATE",
        )
        .bind(episode)
        .bind(attempt)
        .fetch_optional(&mut **tx)
        .await?;
        Ok(held.is_some())
    }

    /// Records the episode's outcome while the job stays live (its failure cleanup still has to run).
    /// Fenced: `false` when the job is no longer running, and then nothing was written.
    pub async fn record_outcome(&self, job: &JobRow, end: &AttemptEnd<'_>) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        if !self
            .hold_running_job(&mut tx, &job.episode, job.attempt)
            .await?
        {
            return Ok(false);
        }
        let n = sqlx::query(
            "UPDATE episodes SET state = $1, failed_stage = $2, error = $3, progress_stage = NULL,
                progress_percent = NULL, updated_at = $4
             WHERE id = $5 AND attempt = $6
               AND EXISTS (SELECT 1 FROM jobs WHERE id = $7 AND state = 'running')",
        )
        .bind(end.episode_state.as_str())
        .bind(end.failed.map(|(s, _)| s.as_str()))
        .bind(end.failed.map(|(_, e)| e))
        .bind(now_ms())
        .bind(&job.episode)
        .bind(job.attempt)
        .bind(job.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    /// The end of a job, one transaction: the episode's outcome (unless already recorded with
    /// [`Self::record_outcome`]), its stage reset when the attempt's files are gone, and the job's final
    /// state. Fenced on the job still running: `false` when the reaper got there first.
    pub async fn end_job(
        &self,
        job: &JobRow,
        state: JobState,
        error: Option<&str>,
        outcome: Option<&AttemptEnd<'_>>,
        reset_stage: bool,
    ) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let ended = sqlx::query(
            "UPDATE jobs SET state = $1, error = $2, finished_at = $3, lease_until = NULL
             WHERE id = $4 AND state = 'running'",
        )
        .bind(state.as_str())
        .bind(error)
        .bind(now)
        .bind(job.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if ended == 0 {
            return Ok(false);
        }
        if let Some(end) = outcome {
            sqlx::query(
                "UPDATE episodes SET state = $1, failed_stage = $2, error = $3, progress_stage = NULL,
                    progress_percent = NULL, updated_at = $4 WHERE id = $5 AND attempt = $6",
            )
            .bind(end.episode_state.as_str())
            .bind(end.failed.map(|(s, _)| s.as_str()))
            .bind(end.failed.map(|(_, e)| e))
            .bind(now)
            .bind(&job.episode)
            .bind(job.attempt)
            .execute(&mut *tx)
            .await?;
        }
        if reset_stage {
            sqlx::query(
                "UPDATE episodes SET stage = 'discovered', updated_at = $1 WHERE id = $2 AND attempt = $3",
            )
            .bind(now)
            .bind(&job.episode)
            .bind(job.attempt)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Marks a job whose worker is gone as interrupted (reaper and recovery only).
    pub async fn interrupt_job(&self, job_id: i64, why: &str) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE jobs SET state = 'interrupted', error = $1, finished_at = $2, lease_until = NULL
             WHERE id = $3 AND state = 'running'",
        )
        .bind(why)
        .bind(now_ms())
        .bind(job_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Cancels a queued job outright (no worker owns it) or flags a running one. Returns the job as it is now.
    pub async fn request_cancel(&self, job_id: i64) -> Result<Option<JobRow>> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let queued = sqlx::query(
            "UPDATE jobs SET state = 'cancelled', cancel_requested = 1, finished_at = $1 WHERE id = $2 AND state = 'queued'",
        )
        .bind(now)
        .bind(job_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if queued == 1 {
            sqlx::query(
                "UPDATE episodes SET state = 'cancelled', updated_at = $1 WHERE id = (SELECT episode FROM jobs WHERE id = $2)",
            )
            .bind(now)
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query("UPDATE jobs SET cancel_requested = 1 WHERE id = $1 AND state = 'running'")
                .bind(job_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.job(job_id).await
    }

    /// How many of an episode's jobs ended because their worker stopped.
    pub async fn interruptions(&self, episode: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE episode = $1 AND state = 'interrupted'",
        )
        .bind(episode)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Running jobs whose worker stopped renewing the lease (database clock): the worker died or stalled.
    pub async fn expired_jobs(&self) -> Result<Vec<JobRow>> {
        let sql = format!(
            "SELECT * FROM jobs WHERE state = 'running' AND (lease_until IS NULL OR lease_until < {DB_NOW})"
        );
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }
}
