//! One owner per episode: a live job or one cleanup run, never both, decided inside the transaction that
//! enqueues a job or starts a cleanup. Both transactions begin by locking the episode's row — in SQLite the
//! first statement is a write, which takes the database's write lock; on PostgreSQL an explicit
//! `FOR UPDATE` — so they serialise per episode, and the checks that follow are new statements that see
//! the other's commit. (A check folded into the locking `UPDATE` would not: on PostgreSQL its sub-select
//! keeps the snapshot from before the wait.)

use super::Tx;
use super::runs::Then;
use super::{Engine, JobKind, JobRow, Registry, placeholders};
use crate::error::{Error, Result};
use crate::now_ms;

/// The registry rows a run's commit deletes: the planned ids, and every row up to the plan's snapshot
/// bound of the episodes it removed whole.
#[derive(Debug, Default)]
pub struct PlannedRows<'a> {
    pub ids: &'a [i64],
    pub whole_episodes: &'a [String],
    pub row_bound: i64,
    /// Set when the run keeps its trash: what a restore needs is recorded in the same commit.
    pub keep: Option<super::KeepTrash<'a>>,
}

impl Registry {
    /// Gives `episode` to `run_id` if no job is live on it and no other run owns it. Returns why not.
    async fn try_claim(
        &self,
        tx: &mut Tx<'_>,
        run_id: &str,
        episode: &str,
    ) -> Result<Option<String>> {
        self.lock_episodes(tx, std::slice::from_ref(&episode.to_string()))
            .await?;
        let n = sqlx::query(
            "UPDATE episodes SET cleanup_run = $1 WHERE id = $2 AND (cleanup_run IS NULL OR cleanup_run = $3)
               AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.episode = episodes.id
                               AND jobs.state IN ('queued', 'running'))",
        )
        .bind(run_id)
        .bind(episode)
        .bind(run_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if n == 1 {
            return Ok(None);
        }
        let job: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, state FROM jobs WHERE episode = $1 AND state IN ('queued', 'running')",
        )
        .bind(episode)
        .fetch_optional(&mut **tx)
        .await?;
        let run: Option<Option<String>> =
            sqlx::query_scalar("SELECT cleanup_run FROM episodes WHERE id = $1")
                .bind(episode)
                .fetch_optional(&mut **tx)
                .await?;
        Ok(Some(match (job, run) {
            (Some((id, state)), _) => format!("episode `{episode}` has {state} job {id}"),
            (None, Some(Some(r))) => format!("episode `{episode}` is being cleaned by run {r}"),
            (None, Some(None)) => format!("episode `{episode}` changed while it was claimed"),
            (None, None) => format!("no episode `{episode}`"),
        }))
    }

    /// All or nothing: `run_id` owns every episode, or none and a 409 names the job or run in the way.
    pub async fn claim_episodes(&self, run_id: &str, episodes: &[String]) -> Result<()> {
        // One order for every claimer, so two runs claiming overlapping sets cannot deadlock.
        let mut episodes = episodes.to_vec();
        episodes.sort();
        let mut tx = self.pool.begin().await?;
        for e in &episodes {
            if let Some(why) = self.try_claim(&mut tx, run_id, e).await? {
                tx.rollback().await?;
                return Err(Error::Conflict(format!(
                    "{why}; cancel it or use force reprocess first"
                )));
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Claims the episodes that are free and skips the busy ones (Deep Clean leaves those alone). One
    /// statement per chunk: the same check as [`Self::claim_episodes`], for hundreds of episodes at once.
    pub async fn claim_free_episodes(
        &self,
        run_id: &str,
        episodes: &[String],
    ) -> Result<Vec<String>> {
        let mut claimed = Vec::new();
        for chunk in episodes.chunks(500) {
            let sql = format!(
                "UPDATE episodes SET cleanup_run = $1 WHERE id IN ({}) AND cleanup_run IS NULL
                   AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.episode = episodes.id
                                   AND jobs.state IN ('queued', 'running'))
                 RETURNING id",
                placeholders(2, chunk.len())
            );
            let mut tx = self.pool.begin().await?;
            self.lock_episodes(&mut tx, chunk).await?;
            let mut q = sqlx::query_scalar::<_, String>(&sql).bind(run_id);
            for e in chunk {
                q = q.bind(e);
            }
            claimed.extend(q.fetch_all(&mut *tx).await?);
            tx.commit().await?;
        }
        claimed.sort();
        Ok(claimed)
    }

    /// Locks episode rows for the rest of the transaction, in id order. SQLite needs nothing here: the
    /// transaction's first write holds the whole database.
    pub(super) async fn lock_episodes(&self, tx: &mut Tx<'_>, episodes: &[String]) -> Result<()> {
        if self.engine() == Engine::Sqlite || episodes.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "SELECT id FROM episodes WHERE id IN ({}) ORDER BY id {}",
            placeholders(1, episodes.len()),
            self.row_lock("FOR UPDATE")
        );
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for e in episodes {
            q = q.bind(e);
        }
        q.fetch_all(&mut **tx).await?;
        Ok(())
    }

    /// Episodes `run_id` owns.
    pub async fn episodes_of_run(&self, run_id: &str) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM episodes WHERE cleanup_run = $1 ORDER BY id")
                .bind(run_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Episodes some cleanup run owns right now.
    pub async fn episodes_being_cleaned(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM episodes WHERE cleanup_run IS NOT NULL")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// The commit of a run, one transaction: the planned rows go (by id, and whole episodes up to the
    /// plan's bound), the episodes it owns reach the end state `then` and are released, and the run is
    /// marked committed. Returns the jobs a `Requeue` queued.
    ///
    /// Fenced on `owner`: the first statement takes the run row (a row lock on PostgreSQL, the write lock
    /// on SQLite) only while it is still planned and `owner`'s; otherwise nothing is written and the
    /// answer is a conflict that says the run was taken over.
    pub async fn commit_run(
        &self,
        run_id: &str,
        owner: &str,
        rows: &PlannedRows<'_>,
        then: Then,
    ) -> Result<Vec<JobRow>> {
        let mut tx = self.pool.begin().await?;
        fence_commit(&mut tx, run_id, owner).await?;
        if let Some(keep) = &rows.keep {
            self.keep_trash_in(
                &mut tx,
                run_id,
                keep,
                rows.ids,
                (rows.whole_episodes, rows.row_bound),
            )
            .await?;
        }
        delete_planned(&mut tx, rows).await?;
        let jobs = self.settle_owned(&mut tx, run_id, then).await?;
        tx.commit().await?;
        if !jobs.is_empty() {
            self.notify_jobs().await;
        }
        Ok(jobs)
    }

    /// Brings every episode the run owns to `then` and releases it; queues the job a `Requeue` or a
    /// clip regeneration asks for (a force run's job is a force job).
    async fn settle_owned(&self, tx: &mut Tx<'_>, run_id: &str, then: Then) -> Result<Vec<JobRow>> {
        let owned: Vec<(String, i64)> =
            sqlx::query_as("SELECT id, attempt FROM episodes WHERE cleanup_run = $1")
                .bind(run_id)
                .fetch_all(&mut **tx)
                .await?;
        let trigger: Option<String> =
            sqlx::query_scalar("SELECT trigger FROM cleanup_runs WHERE id = $1")
                .bind(run_id)
                .fetch_optional(&mut **tx)
                .await?;
        let force = trigger.as_deref() == Some("force");
        let mut jobs = Vec::new();
        for (episode, attempt) in &owned {
            apply_then(tx, episode, then).await?;
            sqlx::query("UPDATE episodes SET cleanup_run = NULL WHERE id = $1")
                .bind(episode)
                .execute(&mut **tx)
                .await?;
            let kind = match then {
                Then::Requeue => Some(JobKind::Process),
                Then::RegenerateClip(n) => Some(JobKind::Clip(n)),
                _ => None,
            };
            if let Some(kind) = kind {
                jobs.push(
                    self.enqueue_in(tx, episode, attempt + 1, force, kind)
                        .await?,
                );
            }
        }
        Ok(jobs)
    }

    /// Lets go of every episode a run owns without changing them (a dry run, a refused run).
    pub async fn release_episodes(&self, run_id: &str) -> Result<()> {
        sqlx::query("UPDATE episodes SET cleanup_run = NULL WHERE cleanup_run = $1")
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// The commit's first statement takes the run row (a row lock on PostgreSQL, the write lock on SQLite)
/// only while it is still planned and `owner`'s; otherwise nothing is written.
async fn fence_commit(tx: &mut Tx<'_>, run_id: &str, owner: &str) -> Result<()> {
    let mine = sqlx::query(
        "UPDATE cleanup_runs SET phase = 'committed' WHERE id = $1 AND owner = $2 AND phase = 'planned'",
    )
    .bind(run_id)
    .bind(owner)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if mine == 0 {
        return Err(Error::Conflict(format!(
            "cleanup run {run_id} is no longer this process's to commit: recovery took it over"
        )));
    }
    Ok(())
}

/// The planned artifact rows go: by id, and whole episodes' rows up to the plan's bound (rows added
/// after the plan stay).
async fn delete_planned(tx: &mut Tx<'_>, rows: &PlannedRows<'_>) -> Result<()> {
    for chunk in rows.ids.chunks(5000) {
        let sql = format!(
            "DELETE FROM artifacts WHERE id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        q.execute(&mut **tx).await?;
    }
    for chunk in rows.whole_episodes.chunks(500) {
        let sql = format!(
            "DELETE FROM artifacts WHERE id <= $1 AND episode IN ({})",
            placeholders(2, chunk.len())
        );
        let mut q = sqlx::query(&sql).bind(rows.row_bound);
        for e in chunk {
            q = q.bind(e);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

async fn apply_then(tx: &mut Tx<'_>, episode: &str, then: Then) -> Result<()> {
    let sql = match then {
        Then::Release | Then::RegenerateClip(_) => return Ok(()),
        Then::ResetStage => "UPDATE episodes SET stage = 'discovered', updated_at = $1 WHERE id = $2",
        Then::Reset | Then::Requeue => {
            "UPDATE episodes SET stage = 'discovered', state = 'idle', failed_stage = NULL, error = NULL,
                progress_stage = NULL, progress_percent = NULL, updated_at = $1 WHERE id = $2"
        }
    };
    sqlx::query(sql)
        .bind(now_ms())
        .bind(episode)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Registry {
    /// Queues attempt `attempt` inside an open transaction: the job row and the episode's `queued` state
    /// together, refused (409) while a cleanup run owns the episode or another job is live. The episode row
    /// is locked first, so what the refusal names is what stood in the way.
    pub(super) async fn enqueue_in(
        &self,
        tx: &mut Tx<'_>,
        episode: &str,
        attempt: i64,
        force: bool,
        kind: JobKind,
    ) -> Result<JobRow> {
        self.lock_episodes(tx, std::slice::from_ref(&episode.to_string()))
            .await?;
        mark_queued(tx, episode, attempt, kind).await?;
        refuse_live_job(tx, episode).await?;
        if let JobKind::Clip(_) = kind {
            carry_finished_stages(tx, episode, attempt).await?;
        }
        let inserted = sqlx::query_as::<_, JobRow>(
            "INSERT INTO jobs (episode, kind, state, attempt, force, created_at)
             VALUES ($1, $2, 'queued', $3, $4, $5) RETURNING *",
        )
        .bind(episode)
        .bind(kind.stored())
        .bind(attempt)
        .bind(i64::from(force))
        .bind(now_ms())
        .fetch_one(&mut **tx)
        .await;
        match inserted {
            Ok(job) => Ok(job),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Error::Conflict(
                format!("episode `{episode}` already has a live job"),
            )),
            Err(e) => Err(e.into()),
        }
    }
}

/// The episode's `queued` state for `attempt`, refused (409 naming the run) while a cleanup run owns it.
/// A whole run starts from nothing; a clip job builds on what is there, so stage and state stay what the
/// files say until it ends.
async fn mark_queued(tx: &mut Tx<'_>, episode: &str, attempt: i64, kind: JobKind) -> Result<()> {
    let sql = match kind {
        JobKind::Process => {
            "UPDATE episodes SET state = 'queued', attempt = $1, stage = 'discovered', failed_stage = NULL,
                error = NULL, progress_stage = NULL, progress_percent = NULL, updated_at = $2
             WHERE id = $3 AND cleanup_run IS NULL"
        }
        JobKind::Clip(_) => {
            "UPDATE episodes SET state = 'queued', attempt = $1, failed_stage = NULL, error = NULL,
                progress_stage = NULL, progress_percent = NULL, updated_at = $2
             WHERE id = $3 AND cleanup_run IS NULL"
        }
    };
    let updated = sqlx::query(sql)
        .bind(attempt)
        .bind(now_ms())
        .bind(episode)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if updated > 0 {
        return Ok(());
    }
    let run: Option<Option<String>> =
        sqlx::query_scalar("SELECT cleanup_run FROM episodes WHERE id = $1")
            .bind(episode)
            .fetch_optional(&mut **tx)
            .await?;
    Err(match run {
        Some(Some(r)) => Error::Conflict(format!(
            "episode `{episode}` is being cleaned by run {r}; try again when it has finished"
        )),
        _ => Error::UnknownEpisode(episode.to_string()),
    })
}

/// Checked before the insert: after a failed statement PostgreSQL accepts nothing more in the
/// transaction. The episode row is locked by then, so no other enqueue can slip in between; the unique
/// index stays as the last word.
async fn refuse_live_job(tx: &mut Tx<'_>, episode: &str) -> Result<()> {
    let live: Option<(i64, String)> = sqlx::query_as(
        "SELECT id, state FROM jobs WHERE episode = $1 AND state IN ('queued', 'running')",
    )
    .bind(episode)
    .fetch_optional(&mut **tx)
    .await?;
    match live {
        Some((id, state)) => Err(Error::Conflict(format!(
            "episode `{episode}` already has job {id} ({state})"
        ))),
        None => Ok(()),
    }
}

/// A clip job's attempt carries the stages the previous one finished: only one clip is redone.
async fn carry_finished_stages(tx: &mut Tx<'_>, episode: &str, attempt: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO stage_runs (episode, attempt, stage, finished_at)
         SELECT episode, $1, stage, finished_at FROM stage_runs WHERE episode = $2 AND attempt = $3
         ON CONFLICT (episode, attempt, stage) DO NOTHING",
    )
    .bind(attempt)
    .bind(episode)
    .bind(attempt - 1)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
