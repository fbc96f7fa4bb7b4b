//! A restore's registry half: what a run's trash holds besides files (the artifact rows it deleted, the
//! episodes' state before it), and the one transaction that puts them back. The trash's own states
//! and claims are in `trash.rs`.

use super::{DB_NOW, Registry, Tx, placeholders};
use crate::error::{Error, Result};
use crate::now_ms;

/// An artifact row a run deleted, as it was.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct TrashedRow {
    pub episode: String,
    pub kind: String,
    pub stage: String,
    pub path: String,
    pub bytes: i64,
    pub attempt: i64,
    pub created_at: i64,
}

/// An episode's state before the run changed it.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct TrashedEpisode {
    pub episode: String,
    pub stage: String,
    pub state: String,
    pub failed_stage: Option<String>,
    pub error: Option<String>,
}

/// What a restore commits: the paths that went back, the rows and episodes to put back, and whether
/// anything of the run is left in the trash.
#[derive(Debug)]
pub struct Restored<'a> {
    pub from_run: &'a str,
    pub restore_run: &'a str,
    /// Whole entries moved back (their `trash_paths` rows go).
    pub entries: &'a [String],
    pub rows: &'a [TrashedRow],
    pub episodes: &'a [TrashedEpisode],
    pub anything_left: bool,
    /// The node holding the restore's claim on `from_run`'s trash (the commit's fence).
    pub owner: &'a str,
}

impl Registry {
    pub async fn trashed_rows(&self, run_id: &str) -> Result<Vec<TrashedRow>> {
        Ok(sqlx::query_as(
            "SELECT episode, kind, stage, path, bytes, attempt, created_at FROM trash_rows
             WHERE run_id = $1 ORDER BY path",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn trashed_episodes(&self, run_id: &str) -> Result<Vec<TrashedEpisode>> {
        Ok(sqlx::query_as(
            "SELECT episode, stage, state, failed_stage, error FROM trash_episodes
             WHERE run_id = $1 ORDER BY episode",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A restore's registry half, one transaction: the artifact rows back with their original attempt
    /// (refused if a path is registered again meanwhile), the episodes back in their earlier state, the
    /// run's record trimmed to what is still in the trash, and the run released by the restore.
    ///
    /// Fenced on the restore's claim (`r.owner`): the first statement takes the run's row only while the
    /// claim is still this node's; otherwise nothing is written and the answer is a conflict.
    pub async fn commit_restore(&self, r: &Restored<'_>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        fence_restore(&mut tx, r).await?;
        put_rows_back(&mut tx, r).await?;
        put_episodes_back(&mut tx, r).await?;
        trim_record(&mut tx, r).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The first statement takes the run's row only while the restore's claim is still this node's.
async fn fence_restore(tx: &mut Tx<'_>, r: &Restored<'_>) -> Result<()> {
    let sql = format!(
        "UPDATE cleanup_runs SET trash_heartbeat = {DB_NOW}
             WHERE id = $1 AND trash_owner = $2 AND trash = 'restoring'"
    );
    let mine = sqlx::query(&sql)
        .bind(r.from_run)
        .bind(r.owner)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if mine == 0 {
        return Err(Error::Conflict(format!(
            "the restore's claim on run {}'s trash lapsed and another node took it over; nothing was \
                 recorded",
            r.from_run
        )));
    }
    Ok(())
}

/// The artifact rows back with their original attempt (a path registered again meanwhile fails the
/// insert, and with it the transaction).
async fn put_rows_back(tx: &mut Tx<'_>, r: &Restored<'_>) -> Result<()> {
    for row in r.rows {
        sqlx::query(
            "INSERT INTO artifacts (episode, kind, stage, path, bytes, attempt, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&row.episode)
        .bind(&row.kind)
        .bind(&row.stage)
        .bind(&row.path)
        .bind(row.bytes)
        .bind(row.attempt)
        .bind(row.created_at)
        .execute(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM trash_rows WHERE run_id = $1 AND path = $2")
            .bind(r.from_run)
            .bind(&row.path)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The episodes back in the state they had before the run changed them.
async fn put_episodes_back(tx: &mut Tx<'_>, r: &Restored<'_>) -> Result<()> {
    let now = now_ms();
    for e in r.episodes {
        sqlx::query(
            "UPDATE episodes SET stage = $1, state = $2, failed_stage = $3, error = $4,
                    progress_stage = NULL, progress_percent = NULL, updated_at = $5
                 WHERE id = $6",
        )
        .bind(&e.stage)
        .bind(&e.state)
        .bind(&e.failed_stage)
        .bind(&e.error)
        .bind(now)
        .bind(&e.episode)
        .execute(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM trash_episodes WHERE run_id = $1 AND episode = $2")
            .bind(r.from_run)
            .bind(&e.episode)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The run's record trimmed to what is still in the trash; released by the restore.
async fn trim_record(tx: &mut Tx<'_>, r: &Restored<'_>) -> Result<()> {
    for path in r.entries {
        sqlx::query("DELETE FROM trash_paths WHERE run_id = $1 AND path = $2")
            .bind(r.from_run)
            .bind(path)
            .execute(&mut **tx)
            .await?;
    }
    let (state, by) = if r.anything_left {
        ("kept", None)
    } else {
        ("restored", Some(r.restore_run))
    };
    sqlx::query(
        "UPDATE cleanup_runs SET trash = $1, restored_by = COALESCE($2, restored_by),
                trash_files = NULL, trash_bytes = NULL, trash_owner = NULL, trash_heartbeat = NULL
             WHERE id = $3",
    )
    .bind(state)
    .bind(by)
    .bind(r.from_run)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Registry {
    /// Restores whose owner went silent give their run back to `kept` (what they moved back stays; what
    /// they did not is still in the trash and still recorded).
    pub async fn release_stale_restores(&self, stale_ms: i64) -> Result<u64> {
        let sql = format!(
            "UPDATE cleanup_runs SET trash = 'kept', trash_owner = NULL, trash_heartbeat = NULL,
                trash_files = NULL, trash_bytes = NULL
             WHERE trash = 'restoring' AND trash_heartbeat < {DB_NOW} - $1"
        );
        Ok(sqlx::query(&sql)
            .bind(stale_ms)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}

impl Registry {
    /// Which of `paths` an artifact row holds now.
    pub async fn registered_paths(&self, paths: &[String]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for chunk in paths.chunks(500) {
            let sql = format!(
                "SELECT path FROM artifacts WHERE path IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query_scalar::<_, String>(&sql);
            for p in chunk {
                q = q.bind(p);
            }
            out.extend(q.fetch_all(&self.pool).await?);
        }
        Ok(out)
    }
}
