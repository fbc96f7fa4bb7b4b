use super::Registry;
use crate::error::{Error, Result};
use crate::now_ms;
use app::api::{EpisodeState, EpisodeSummary, Progress, Stage, StageTime};

#[derive(sqlx::FromRow, Clone, Debug)]
pub struct EpisodeRow {
    pub id: String,
    pub show: String,
    pub source_path: String,
    pub title: String,
    pub duration_secs: Option<f64>,
    pub stage: String,
    pub state: String,
    pub attempt: i64,
    pub failed_stage: Option<String>,
    pub error: Option<String>,
    pub progress_stage: Option<String>,
    pub progress_percent: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl EpisodeRow {
    pub fn state(&self) -> EpisodeState {
        EpisodeState::parse(&self.state).unwrap_or(EpisodeState::Idle)
    }
    pub fn stage(&self) -> Stage {
        Stage::parse(&self.stage).unwrap_or(Stage::Discovered)
    }
    pub fn summary(&self) -> EpisodeSummary {
        let progress = match (&self.progress_stage, self.progress_percent) {
            (Some(s), Some(p)) if self.state().is_active() => {
                Stage::parse(s).map(|stage| Progress {
                    stage,
                    percent: p.clamp(0, 100) as u8,
                })
            }
            _ => None,
        };
        EpisodeSummary {
            id: self.id.clone(),
            show: self.show.clone(),
            title: self.title.clone(),
            stage: self.stage(),
            state: self.state(),
            attempt: self.attempt,
            failed_stage: self.failed_stage.as_deref().and_then(Stage::parse),
            error: self.error.clone(),
            duration_secs: self.duration_secs,
            progress,
            updated_at: self.updated_at,
            stuck: None,
        }
    }
}

pub struct NewEpisode {
    pub id: String,
    pub show: String,
    pub source_path: String,
    pub title: String,
    pub duration_secs: Option<f64>,
}

impl Registry {
    /// Creates an episode or refreshes its source facts. Returns true when it was new. An episode a worker
    /// owns is never touched, and one whose source facts are unchanged is left as it is: a scan must not
    /// move `updated_at` (a failed episode's failure time) to the time of the scan.
    pub async fn upsert_discovered(&self, e: &NewEpisode) -> Result<bool> {
        let now = now_ms();
        let existing = self.episode(&e.id).await?;
        if let Some(row) = &existing
            && row.source_path == e.source_path
            && row.duration_secs == e.duration_secs
        {
            return Ok(false);
        }
        let existed = existing.is_some();
        // A missing duration is the literal NULL, never a bound one: sqlx 0.8.6's `Any` driver binds a
        // NULL `f64` as float4 (its `Real`/`Double` are swapped for nulls), and PostgreSQL keeps the
        // types a statement was first prepared with on a connection, so a later real duration on that
        // connection would be refused. Two statements, each with one type for `$7`.
        let duration = if e.duration_secs.is_some() {
            "$7"
        } else {
            "NULL"
        };
        let sql = format!(
            "INSERT INTO episodes (id, show, source_path, title, duration_secs, created_at, updated_at)
             VALUES ($1, $2, $3, $4, {duration}, $5, $6)
             ON CONFLICT (id) DO UPDATE SET
                source_path = excluded.source_path,
                duration_secs = excluded.duration_secs,
                updated_at = excluded.updated_at
             WHERE episodes.state NOT IN ('queued', 'running')"
        );
        let mut insert = sqlx::query(&sql)
            .bind(&e.id)
            .bind(&e.show)
            .bind(&e.source_path)
            .bind(&e.title)
            .bind(now)
            .bind(now);
        if let Some(d) = e.duration_secs {
            insert = insert.bind(d);
        }
        insert.execute(&self.pool).await?;
        Ok(!existed)
    }

    pub async fn episode(&self, id: &str) -> Result<Option<EpisodeRow>> {
        Ok(sqlx::query_as("SELECT * FROM episodes WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn list_episodes(
        &self,
        state: Option<EpisodeState>,
        show: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<EpisodeRow>, i64)> {
        let state = state.map(|s| s.as_str());
        // `LENGTH(id)` before `id`: within a show only the episode number's digits change the length, so
        // this is natural order (ep999 before ep1000; numbers past three digits have no leading zero).
        // Two statements on purpose: `COUNT(*) OVER ()` in the page query makes SQLite materialise every
        // matching row before the LIMIT, which measured 3x slower under load.
        let rows = sqlx::query_as(
            "SELECT * FROM episodes
             WHERE ($1 IS NULL OR state = $2) AND ($3 IS NULL OR show = $4)
             ORDER BY show, LENGTH(id), id LIMIT $5 OFFSET $6",
        )
        .bind(state)
        .bind(state)
        .bind(show)
        .bind(show)
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM episodes WHERE ($1 IS NULL OR state = $2) AND ($3 IS NULL OR show = $4)",
        )
        .bind(state)
        .bind(state)
        .bind(show)
        .bind(show)
        .fetch_one(&self.pool)
        .await?;
        Ok((rows, total))
    }

    pub async fn episodes_in_states(&self, states: &[EpisodeState]) -> Result<Vec<EpisodeRow>> {
        let mut out = Vec::new();
        for s in states {
            let rows: Vec<EpisodeRow> = sqlx::query_as(
                "SELECT * FROM episodes WHERE state = $1 ORDER BY show, LENGTH(id), id",
            )
            .bind(s.as_str())
            .fetch_all(&self.pool)
            .await?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Episodes changed at `since` (Unix ms) or later, and every running one (whose stuck flag can change
    /// with time alone): the live feed's view of the registry.
    pub async fn episodes_changed_since(&self, since: i64) -> Result<Vec<EpisodeRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM episodes WHERE updated_at >= $1 OR state = 'running' ORDER BY updated_at, id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn episode_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM episodes")
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn set_progress(&self, id: &str, stage: Stage, percent: u8) -> Result<()> {
        sqlx::query(
            "UPDATE episodes SET progress_stage = $1, progress_percent = $2, updated_at = $3
             WHERE id = $4 AND state = 'running'",
        )
        .bind(stage.as_str())
        .bind(i64::from(percent))
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records that `stage` of `attempt` completed. Fenced like every write a job makes: only while that
    /// attempt's job is running.
    pub async fn stage_done(&self, id: &str, attempt: i64, stage: Stage) -> Result<()> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        self.hold_running_job(&mut tx, id, attempt).await?;
        let n = sqlx::query(
            "UPDATE episodes SET stage = $1, updated_at = $2 WHERE id = $3 AND attempt = $4
               AND EXISTS (SELECT 1 FROM jobs WHERE episode = $5 AND attempt = $6 AND state = 'running')",
        )
        .bind(stage.as_str())
        .bind(now)
        .bind(id)
        .bind(attempt)
        .bind(id)
        .bind(attempt)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::Conflict(format!(
                "attempt {attempt} of `{id}` no longer owns the episode"
            )));
        }
        sqlx::query(
            "INSERT INTO stage_runs (episode, attempt, stage, finished_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (episode, attempt, stage) DO UPDATE SET finished_at = excluded.finished_at",
        )
        .bind(id)
        .bind(attempt)
        .bind(stage.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_title(&self, id: &str, title: &str) -> Result<()> {
        sqlx::query("UPDATE episodes SET title = $1 WHERE id = $2 AND state = 'running'")
            .bind(title)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Fails an episode whose job was interrupted — only if it still shows that attempt as live, so a
    /// failure the job recorded itself (and its reason) is never overwritten.
    pub async fn fail_interrupted(&self, id: &str, attempt: i64, stage: Stage) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE episodes SET state = 'failed', failed_stage = $1, error = 'interrupted',
                progress_stage = NULL, progress_percent = NULL, updated_at = $2
             WHERE id = $3 AND attempt = $4 AND state IN ('queued', 'running')",
        )
        .bind(stage.as_str())
        .bind(now_ms())
        .bind(id)
        .bind(attempt)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn stage_times(&self, id: &str, attempt: i64) -> Result<Vec<StageTime>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT stage, finished_at FROM stage_runs WHERE episode = $1 AND attempt = $2 ORDER BY finished_at",
        )
        .bind(id)
        .bind(attempt)
        .fetch_all(&self.pool)
        .await?;
        let mut times: Vec<StageTime> = rows
            .into_iter()
            .filter_map(|(s, t)| {
                Stage::parse(&s).map(|stage| StageTime {
                    stage,
                    finished_at: t,
                })
            })
            .collect();
        // Pipeline order: stages finishing within the same millisecond must not look reordered.
        times.sort_by_key(|t| t.stage);
        Ok(times)
    }
}

impl Registry {
    /// Every episode id the registry knows.
    pub async fn episode_ids(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT id FROM episodes ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_scan_keeps_the_failure_time_of_a_failed_episode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = Registry::open(None, dir.path()).await.expect("registry");
        let id = "talk_ep001_2026-01-01";
        let found = NewEpisode {
            id: id.into(),
            show: "talk".into(),
            source_path: "inbox/talk/ep001_2026-01-01.mp4".into(),
            title: id.into(),
            duration_secs: Some(4.0),
        };
        assert!(reg.upsert_discovered(&found).await.expect("new"));
        reg.enqueue(id, 1, false).await.expect("enqueue");
        let job = reg
            .claim_job("t", 60_000)
            .await
            .expect("claim")
            .expect("job");
        assert!(
            reg.fail_interrupted(id, job.attempt, Stage::Prepped)
                .await
                .expect("fail")
        );
        let failed = reg.episode(id).await.expect("row").expect("episode");
        assert_eq!(failed.state, "failed");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;

        assert!(!reg.upsert_discovered(&found).await.expect("again"));
        let after = reg.episode(id).await.expect("row").expect("episode");
        assert_eq!(
            after.updated_at, failed.updated_at,
            "the scan moved the failure time"
        );
        assert_eq!(after.state, "failed");

        // A source that changed (a new upload under the same name) is refreshed.
        let changed = NewEpisode {
            duration_secs: Some(9.0),
            ..found
        };
        assert!(!reg.upsert_discovered(&changed).await.expect("changed"));
        let refreshed = reg.episode(id).await.expect("row").expect("episode");
        assert_eq!(refreshed.duration_secs, Some(9.0));
        assert!(refreshed.updated_at > failed.updated_at);
    }
}
