//! The trash as registry facts: which runs keep what they removed, until when, how big, and what a
//! restore needs to put back (the paths taken, the artifact rows deleted, the episodes' earlier state).
//!
//! A run's trash moves `kept → purging → purged` or `kept → restoring → restored` (or back to `kept`
//! after a partial restore). Each step is one conditional update, so two processes never purge and
//! restore the same run at once; the owner of a step heartbeats, and a silent one's step is taken over.

use super::{DB_NOW, Registry, Tx, placeholders};
use crate::error::Result;
use crate::now_ms;
use app::api::{PathError, TrashRun, TrashState};
use std::collections::HashSet;

/// What a run that keeps its trash records in its commit.
#[derive(Debug)]
pub struct KeepTrash<'a> {
    /// How long it stays restorable.
    pub retention_ms: i64,
    /// `(path, stored)`: where each taken entry was, and its name under `.trash/<run>/`.
    pub taken: &'a [(String, String)],
}

#[derive(sqlx::FromRow, Clone, Debug)]
pub struct TrashRunRow {
    pub id: String,
    pub actor: String,
    #[sqlx(try_from = "String")]
    pub trigger: app::api::Trigger,
    pub scope: String,
    pub started_at: i64,
    pub trash: String,
    pub trash_files: Option<i64>,
    pub trash_bytes: Option<i64>,
    pub expires_at: Option<i64>,
    pub purged_at: Option<i64>,
    pub purge_reason: Option<String>,
    pub restored_by: Option<String>,
    pub paths: i64,
    /// Milliseconds until expiry on the database clock (negative: expired).
    pub expires_in_ms: Option<i64>,
}

impl TrashRunRow {
    pub fn state(&self) -> TrashState {
        TrashState::parse(&self.trash).unwrap_or(TrashState::Purged)
    }
    pub fn to_api(&self) -> TrashRun {
        TrashRun {
            run_id: self.id.clone(),
            actor: self.actor.clone(),
            trigger: self.trigger,
            scope: self.scope.clone(),
            started_at: self.started_at,
            state: self.state(),
            paths: self.paths,
            files: self.trash_files,
            bytes: self.trash_bytes,
            expires_at: self.expires_at,
            purged_at: self.purged_at,
            purge_reason: self.purge_reason.clone(),
            restored_by: self.restored_by.clone(),
        }
    }
}

const RUN_COLUMNS: &str =
    "id, actor, trigger, scope, started_at, trash, trash_files, trash_bytes, expires_at,
    purged_at, purge_reason, restored_by,
    (SELECT COUNT(*) FROM trash_paths p WHERE p.run_id = cleanup_runs.id) AS paths";

impl Registry {
    /// Inside a run's commit, before its rows go and its episodes change: records what a restore needs.
    pub(super) async fn keep_trash_in(
        &self,
        tx: &mut Tx<'_>,
        run_id: &str,
        keep: &KeepTrash<'_>,
        row_ids: &[i64],
        whole: (&[String], i64),
    ) -> Result<()> {
        let sql = format!(
            "UPDATE cleanup_runs SET trash = 'kept', expires_at = {DB_NOW} + $1 WHERE id = $2"
        );
        sqlx::query(&sql)
            .bind(keep.retention_ms)
            .bind(run_id)
            .execute(&mut **tx)
            .await?;
        for chunk in keep.taken.chunks(300) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("($1, ${}, ${})", 2 + 2 * i, 3 + 2 * i))
                .collect();
            let sql = format!(
                "INSERT INTO trash_paths (run_id, path, stored) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(run_id);
            for (path, stored) in chunk {
                q = q.bind(path).bind(stored);
            }
            q.execute(&mut **tx).await?;
        }
        const COPY: &str = "INSERT INTO trash_rows (run_id, episode, kind, stage, path, bytes, attempt, created_at)
            SELECT $1, episode, kind, stage, path, bytes, attempt, created_at FROM artifacts";
        for chunk in row_ids.chunks(5000) {
            let sql = format!("{COPY} WHERE id IN ({})", placeholders(2, chunk.len()));
            let mut q = sqlx::query(&sql).bind(run_id);
            for id in chunk {
                q = q.bind(id);
            }
            q.execute(&mut **tx).await?;
        }
        let (episodes, bound) = whole;
        for chunk in episodes.chunks(500) {
            // A row both planned by id and inside a whole episode is copied once.
            let sql = format!(
                "{COPY} WHERE id <= $2 AND episode IN ({}) AND id NOT IN
                    (SELECT a.id FROM artifacts a JOIN trash_rows t ON t.run_id = $1 AND t.path = a.path)",
                placeholders(3, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(run_id).bind(bound);
            for e in chunk {
                q = q.bind(e);
            }
            q.execute(&mut **tx).await?;
        }
        sqlx::query(
            "INSERT INTO trash_episodes (run_id, episode, stage, state, failed_stage, error)
             SELECT $1, id, stage, state, failed_stage, error FROM episodes WHERE cleanup_run = $1",
        )
        .bind(run_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Runs with a trash record, newest first.
    pub async fn trash_runs(&self, limit: i64) -> Result<Vec<TrashRunRow>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS}, expires_at - {DB_NOW} AS expires_in_ms FROM cleanup_runs
             WHERE trash IS NOT NULL ORDER BY started_at DESC, id DESC LIMIT $1"
        );
        Ok(sqlx::query_as(&sql)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Runs whose trash is still on disk (kept, or mid purge or restore), oldest first.
    pub async fn kept_runs(&self) -> Result<Vec<TrashRunRow>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS}, expires_at - {DB_NOW} AS expires_in_ms FROM cleanup_runs
             WHERE trash IN ('kept', 'purging', 'restoring') ORDER BY started_at, id"
        );
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }

    /// One run as the trash sees it; `None`: no such run.
    pub async fn trash_run(&self, id: &str) -> Result<Option<(String, Option<TrashRunRow>)>> {
        let phase: Option<String> =
            sqlx::query_scalar("SELECT phase FROM cleanup_runs WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(phase) = phase else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {RUN_COLUMNS}, expires_at - {DB_NOW} AS expires_in_ms FROM cleanup_runs
             WHERE id = $1 AND trash IS NOT NULL"
        );
        let row = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(Some((phase, row)))
    }

    /// Ids of runs whose trash directory must be left alone by the sweep of leftovers.
    pub async fn runs_holding_trash(&self) -> Result<HashSet<String>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM cleanup_runs WHERE trash IN ('kept', 'purging', 'restoring')",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().collect())
    }

    /// `(path, stored)` of every entry a run took.
    pub async fn trash_entries(&self, run_id: &str) -> Result<Vec<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT path, stored FROM trash_paths WHERE run_id = $1 ORDER BY path")
                .bind(run_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Takes a run's trash from `from` to `to` for `node`. A step whose owner has been silent for
    /// `stale_ms` may be taken over. `false`: someone else holds it, or it is not in `from`.
    pub async fn claim_trash(
        &self,
        run_id: &str,
        node: &str,
        from: TrashState,
        to: TrashState,
        stale_ms: i64,
    ) -> Result<bool> {
        // Taking over a step (from == to) needs its owner silent; a move from another state needs only
        // that state.
        let from_ok = if from == to {
            "1 = 0 AND trash = $4"
        } else {
            "trash = $4"
        };
        let sql = format!(
            "UPDATE cleanup_runs SET trash = $1, trash_owner = $2, trash_heartbeat = {DB_NOW}
             WHERE id = $3 AND ({from_ok} OR (trash = $1 AND trash_heartbeat < {DB_NOW} - $5))"
        );
        let n = sqlx::query(&sql)
            .bind(to.as_str())
            .bind(node)
            .bind(run_id)
            .bind(from.as_str())
            .bind(stale_ms)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Renews the claim on a purge or restore; `false` once another node took it over.
    pub async fn heartbeat_trash(&self, run_id: &str, node: &str) -> Result<bool> {
        let sql = format!(
            "UPDATE cleanup_runs SET trash_heartbeat = {DB_NOW} WHERE id = $1 AND trash_owner = $2
                AND trash IN ('purging', 'restoring')"
        );
        let n = sqlx::query(&sql)
            .bind(run_id)
            .bind(node)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Puts a restore's claim back (nothing moved, or something left).
    pub async fn unclaim_trash(&self, run_id: &str, node: &str) -> Result<()> {
        sqlx::query(
            "UPDATE cleanup_runs SET trash = 'kept', trash_owner = NULL, trash_heartbeat = NULL
             WHERE id = $1 AND trash_owner = $2 AND trash = 'restoring'",
        )
        .bind(run_id)
        .bind(node)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Size of a run's trash, measured after it answered.
    pub async fn set_trash_size(&self, run_id: &str, files: i64, bytes: i64) -> Result<()> {
        sqlx::query("UPDATE cleanup_runs SET trash_files = $1, trash_bytes = $2 WHERE id = $3 AND trash = 'kept'")
            .bind(files)
            .bind(bytes)
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A purge has happened: the run's row says so and counts what was freed; what a restore would
    /// have needed goes. Files that could not be unlinked are the run's errors. Fenced on the purge's
    /// claim (`owner`): `false` when another node took it over, and then nothing was written.
    pub async fn trash_purged(
        &self,
        run_id: &str,
        owner: &str,
        reason: &str,
        files: i64,
        bytes: i64,
        errors: &[PathError],
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let mine = sqlx::query(
            "UPDATE cleanup_runs SET trash = 'purged', purged_at = $1, purge_reason = $2,
                files = files + $3, bytes = bytes + $4, errors = errors + $5,
                trash_owner = NULL, trash_heartbeat = NULL
             WHERE id = $6 AND trash_owner = $7 AND trash = 'purging'",
        )
        .bind(now_ms())
        .bind(reason)
        .bind(files)
        .bind(bytes)
        .bind(errors.len() as i64)
        .bind(run_id)
        .bind(owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if mine == 0 {
            return Ok(false);
        }
        for e in errors {
            sqlx::query("INSERT INTO cleanup_errors (run_id, path, message) VALUES ($1, $2, $3)")
                .bind(run_id)
                .bind(&e.path)
                .bind(&e.message)
                .execute(&mut *tx)
                .await?;
        }
        for table in ["trash_rows", "trash_episodes"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE run_id = $1"))
                .bind(run_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Kept runs not measured yet (their measurement died with their process).
    pub async fn unmeasured_trash(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM cleanup_runs WHERE trash = 'kept' AND trash_bytes IS NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
