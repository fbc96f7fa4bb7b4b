use super::Registry;
use crate::error::{Error, Result};
use crate::now_ms;
use app::api::JobInfo;

#[derive(sqlx::FromRow, Clone, Debug)]
pub struct JobRow {
    pub id: i64,
    pub episode: String,
    pub kind: String,
    pub state: String,
    pub attempt: i64,
    pub force: bool,
    pub worker: Option<String>,
    pub lease_until: Option<i64>,
    pub cancel_requested: bool,
    pub error: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl JobRow {
    pub fn info(&self) -> JobInfo {
        JobInfo {
            id: self.id,
            episode: self.episode.clone(),
            state: self.state.clone(),
            attempt: self.attempt,
            created_at: self.created_at,
        }
    }
}

impl Registry {
    /// Queues attempt `attempt` of an episode and marks the episode queued, atomically. The partial unique
    /// index refuses a second live job for the same episode; that surfaces as a 409 naming the live job.
    pub async fn enqueue(&self, episode: &str, attempt: i64, force: bool) -> Result<JobRow> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query_as::<_, JobRow>(
            "INSERT INTO jobs (episode, state, attempt, force, created_at) VALUES (?, 'queued', ?, ?, ?)
             RETURNING *",
        )
        .bind(episode)
        .bind(attempt)
        .bind(force)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let job = match inserted {
            Ok(job) => job,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                drop(tx);
                let live = self.live_job(episode).await?;
                return Err(Error::Conflict(match live {
                    Some(j) => {
                        format!("episode `{episode}` already has job {} ({})", j.id, j.state)
                    }
                    None => format!("episode `{episode}` already has a live job"),
                }));
            }
            Err(e) => return Err(e.into()),
        };
        sqlx::query(
            "UPDATE episodes SET state = 'queued', attempt = ?, stage = 'discovered', failed_stage = NULL,
                error = NULL, progress_stage = NULL, progress_percent = NULL, updated_at = ? WHERE id = ?",
        )
        .bind(attempt)
        .bind(now)
        .bind(episode)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(job)
    }

    pub async fn job(&self, id: i64) -> Result<Option<JobRow>> {
        Ok(sqlx::query_as("SELECT * FROM jobs WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn live_job(&self, episode: &str) -> Result<Option<JobRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM jobs WHERE episode = ? AND state IN ('queued', 'running') ORDER BY id DESC LIMIT 1",
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

    /// Claims the oldest queued job for `worker` with a lease. (Postgres: `FOR UPDATE SKIP LOCKED`.)
    pub async fn claim_job(&self, worker: &str, lease_ms: i64) -> Result<Option<JobRow>> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let job: Option<JobRow> = sqlx::query_as(
            "UPDATE jobs SET state = 'running', worker = ?, lease_until = ?, started_at = ?
             WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1) AND state = 'queued'
             RETURNING *",
        )
        .bind(worker)
        .bind(now + lease_ms)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(job) = &job {
            sqlx::query("UPDATE episodes SET state = 'running', updated_at = ? WHERE id = ?")
                .bind(now)
                .bind(&job.episode)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(job)
    }

    /// Extends a running job's lease. Returns whether someone asked for it to be cancelled.
    pub async fn heartbeat(&self, job_id: i64, lease_ms: i64) -> Result<bool> {
        sqlx::query("UPDATE jobs SET lease_until = ? WHERE id = ? AND state = 'running'")
            .bind(now_ms() + lease_ms)
            .bind(job_id)
            .execute(&self.pool)
            .await?;
        let cancel: Option<bool> =
            sqlx::query_scalar("SELECT cancel_requested FROM jobs WHERE id = ?")
                .bind(job_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(cancel.unwrap_or(true))
    }

    pub async fn finish_job(&self, job_id: i64, state: &str, error: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE jobs SET state = ?, error = ?, finished_at = ?, lease_until = NULL WHERE id = ?")
            .bind(state)
            .bind(error)
            .bind(now_ms())
            .bind(job_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Cancels a queued job outright (no worker owns it) or flags a running one. Returns the job as it is now.
    pub async fn request_cancel(&self, job_id: i64) -> Result<Option<JobRow>> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let queued = sqlx::query(
            "UPDATE jobs SET state = 'cancelled', cancel_requested = 1, finished_at = ? WHERE id = ? AND state = 'queued'",
        )
        .bind(now)
        .bind(job_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if queued == 1 {
            sqlx::query(
                "UPDATE episodes SET state = 'cancelled', updated_at = ? WHERE id = (SELECT episode FROM jobs WHERE id = ?)",
            )
            .bind(now)
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND state = 'running'")
                .bind(job_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.job(job_id).await
    }

    /// Running jobs whose worker stopped renewing the lease: the worker died.
    pub async fn expired_jobs(&self) -> Result<Vec<JobRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM jobs WHERE state = 'running' AND (lease_until IS NULL OR lease_until < ?)",
        )
        .bind(now_ms())
        .fetch_all(&self.pool)
        .await?)
    }
}
