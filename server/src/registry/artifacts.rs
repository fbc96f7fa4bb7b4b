use super::Registry;
use crate::error::Result;
use crate::now_ms;
use app::api::{Artifact, Stage};
use std::collections::HashSet;

#[derive(sqlx::FromRow, Clone, Debug)]
pub struct ArtifactRow {
    pub id: i64,
    pub episode: String,
    pub kind: String,
    pub stage: String,
    pub path: String,
    pub bytes: i64,
    pub attempt: i64,
    pub created_at: i64,
}

impl ArtifactRow {
    pub fn to_api(&self) -> Artifact {
        Artifact {
            kind: self.kind.clone(),
            path: self.path.clone(),
            bytes: self.bytes,
            attempt: self.attempt,
            created_at: self.created_at,
        }
    }
}

impl Registry {
    /// Records a file a stage has just renamed into place. The path is unique: a newer attempt's file at
    /// the same path takes the row over.
    pub async fn record_artifact(
        &self,
        episode: &str,
        kind: &str,
        stage: Stage,
        path: &str,
        bytes: i64,
        attempt: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO artifacts (episode, kind, stage, path, bytes, attempt, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (path) DO UPDATE SET episode = excluded.episode, kind = excluded.kind,
                stage = excluded.stage, bytes = excluded.bytes, attempt = excluded.attempt,
                created_at = excluded.created_at",
        )
        .bind(episode)
        .bind(kind)
        .bind(stage.as_str())
        .bind(path)
        .bind(bytes)
        .bind(attempt)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn artifacts_of(&self, episode: &str) -> Result<Vec<ArtifactRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM artifacts WHERE episode = ? ORDER BY id")
                .bind(episode)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Paths registered by episodes that Deep Clean keeps (not failed or cancelled): what the orphan
    /// sweep must leave alone.
    pub async fn paths_owned_by_kept_episodes(&self) -> Result<HashSet<String>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT a.path FROM artifacts a JOIN episodes e ON e.id = a.episode
             WHERE e.state NOT IN ('failed', 'cancelled')",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Deletes every row of an episode except those of the given kinds.
    pub async fn delete_episode_artifacts(&self, episode: &str, keep_kinds: &[&str]) -> Result<()> {
        let keep = |i: usize| keep_kinds.get(i).copied().unwrap_or("");
        sqlx::query("DELETE FROM artifacts WHERE episode = ? AND kind NOT IN (?, ?)")
            .bind(episode)
            .bind(keep(0))
            .bind(keep(1))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn artifact_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM artifacts")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Deletes the rows of removed files, in one transaction, in chunks the database accepts.
    pub async fn delete_artifacts(&self, ids: &[i64]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for chunk in ids.chunks(5000) {
            let marks = vec!["?"; chunk.len()].join(",");
            let sql = format!("DELETE FROM artifacts WHERE id IN ({marks})");
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
