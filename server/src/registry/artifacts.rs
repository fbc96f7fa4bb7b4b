use super::{Registry, placeholders};
use crate::error::{Error, Result};
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

/// What a registered file is. Stored as text; an unknown spelling (a newer build's kind) reads as
/// [`ArtifactKind::Other`], which no keep-rule protects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArtifactKind {
    Audio,
    Transcript,
    Enriched,
    Page,
    Clip,
    Thumbnail,
    Social,
    Other,
}

impl ArtifactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Audio => "audio",
            ArtifactKind::Transcript => "transcript",
            ArtifactKind::Enriched => "enriched",
            ArtifactKind::Page => "page",
            ArtifactKind::Clip => "clip",
            ArtifactKind::Thumbnail => "thumbnail",
            ArtifactKind::Social => "social",
            ArtifactKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> ArtifactKind {
        [
            ArtifactKind::Audio,
            ArtifactKind::Transcript,
            ArtifactKind::Enriched,
            ArtifactKind::Page,
            ArtifactKind::Clip,
            ArtifactKind::Thumbnail,
            ArtifactKind::Social,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .unwrap_or(ArtifactKind::Other)
    }
}

impl ArtifactRow {
    pub fn kind(&self) -> ArtifactKind {
        ArtifactKind::parse(&self.kind)
    }

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
    /// the same path takes the row over. Fenced: only while attempt `attempt`'s job is running, so a job
    /// that lost its episode (reaped, cancelled elsewhere) cannot register files any more.
    pub async fn record_artifact(
        &self,
        episode: &str,
        kind: &str,
        stage: Stage,
        path: &str,
        bytes: i64,
        attempt: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        self.hold_running_job(&mut tx, episode, attempt).await?;
        let n = sqlx::query(
            "INSERT INTO artifacts (episode, kind, stage, path, bytes, attempt, created_at)
             SELECT $1, $2, $3, $4, $5, $6, $7
             WHERE EXISTS (SELECT 1 FROM jobs WHERE episode = $8 AND attempt = $9 AND state = 'running')
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
        .bind(episode)
        .bind(attempt)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::Conflict(format!(
                "attempt {attempt} of `{episode}` no longer owns the episode; {path} not recorded"
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records the new size of a registered file a cleanup run rewrote in place (a clip edit's new
    /// highlights). Fenced: only while `run_id` owns the episode, so no job can be writing it.
    pub async fn rewritten_by_run(
        &self,
        episode: &str,
        path: &str,
        bytes: i64,
        run_id: &str,
    ) -> Result<()> {
        let n = sqlx::query(
            "UPDATE artifacts SET bytes = $1 WHERE episode = $2 AND path = $3
               AND EXISTS (SELECT 1 FROM episodes WHERE id = $4 AND cleanup_run = $5)",
        )
        .bind(bytes)
        .bind(episode)
        .bind(path)
        .bind(episode)
        .bind(run_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::Conflict(format!(
                "run {run_id} does not own `{episode}` or {path} is not registered; nothing recorded"
            )));
        }
        Ok(())
    }

    pub async fn artifacts_of(&self, episode: &str) -> Result<Vec<ArtifactRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM artifacts WHERE episode = $1 ORDER BY id")
                .bind(episode)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Every registered path except those of `excluded` episodes: what the orphan sweep must leave alone
    /// when the run removes the excluded episodes anyway.
    pub async fn paths_owned_except(
        &self,
        run_id: &str,
        excluded: &HashSet<String>,
    ) -> Result<HashSet<String>> {
        // A real run has claimed the episodes it removes: let the database skip their rows.
        // `episode IN (…)` lets the index on artifacts(episode) skip the claimed episodes' rows.
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT episode, path FROM artifacts WHERE episode IN
                (SELECT id FROM episodes WHERE cleanup_run IS NULL OR cleanup_run <> $1)",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter(|(e, _)| !excluded.contains(e))
            .map(|(_, p)| p)
            .collect())
    }

    /// Every row of the given episodes, in one query (Deep Clean plans hundreds of episodes at once).
    pub async fn artifacts_of_many(&self, episodes: &[String]) -> Result<Vec<ArtifactRow>> {
        let mut out = Vec::new();
        for chunk in episodes.chunks(500) {
            let marks = placeholders(1, chunk.len());
            // Only what planning reads: Deep Clean loads tens of thousands of these at once.
            let sql = format!(
                "SELECT id, episode, kind, '' AS stage, path, 0 AS bytes, attempt, 0 AS created_at
                 FROM artifacts WHERE episode IN ({marks}) ORDER BY id"
            );
            let mut q = sqlx::query_as(&sql);
            for e in chunk {
                q = q.bind(e);
            }
            out.extend(q.fetch_all(&self.pool).await?);
        }
        Ok(out)
    }

    pub async fn artifact_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM artifacts")
            .fetch_one(&self.pool)
            .await?)
    }
}

impl Registry {
    /// Bytes registered by every episode except `excluded` (the guard's measure of the derived tree).
    pub async fn artifact_bytes_except(&self, excluded: &HashSet<String>) -> Result<i64> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT episode, CAST(SUM(bytes) AS BIGINT) FROM artifacts GROUP BY episode",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter(|(e, _)| !excluded.contains(e))
            .map(|(_, b)| b)
            .sum())
    }
}

impl Registry {
    /// The newest artifact id: a plan's snapshot bound (rows recorded later are never the plan's).
    pub async fn max_artifact_id(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM artifacts")
                .fetch_one(&self.pool)
                .await?
                .unwrap_or(0),
        )
    }

    /// Rows of `episodes` whose file lies outside the episode's fixed places (README "Data"), as
    /// (id, episode, path). Everything else of a wholly removed episode is covered by its directories,
    /// so Deep Clean never loads those rows one by one.
    pub async fn artifacts_outside_fixed_places(
        &self,
        episodes: &[String],
    ) -> Result<Vec<(i64, String, String)>> {
        let mut out = Vec::new();
        for chunk in episodes.chunks(500) {
            let marks = placeholders(1, chunk.len());
            // Each episode's directory prefixes are built once (a few hundred rows), then every row is
            // compared against them, the most common place first so the check stops early.
            let sql = format!(
                "WITH p AS (
                    SELECT id,
                        'outputs/' || show || '/' || substr(id, length(id) - 9, 4) || '/' || id || '/' AS o,
                        'public/shows/' || show || '/' || id || '/' AS pg,
                        'work/' || id || '/' AS w,
                        'social/' || id || '/' AS so
                    FROM episodes WHERE id IN ({marks}))
                 SELECT a.id, a.episode, a.path FROM p JOIN artifacts a ON a.episode = p.id
                 WHERE NOT (
                    substr(a.path, 1, length(p.o)) = p.o
                    OR substr(a.path, 1, length(p.pg)) = p.pg
                    OR substr(a.path, 1, length(p.w)) = p.w
                    OR substr(a.path, 1, length(p.so)) = p.so
                    OR a.path IN ('audio/' || p.id || '.wav', 'enriched/' || p.id || '.json',
                        'transcripts/' || p.id || '.vtt', 'transcripts/' || p.id || '.srt',
                        'transcripts/' || p.id || '.txt', 'transcripts/' || p.id || '.json'))
                 ORDER BY a.id"
            );
            let mut q = sqlx::query_as(&sql);
            for e in chunk {
                q = q.bind(e);
            }
            out.extend(q.fetch_all(&self.pool).await?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::EpisodeId;
    use crate::storage::DataRoot;

    #[tokio::test]
    async fn rows_outside_fixed_places_are_exactly_those_the_plan_cannot_cover() {
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = Registry::open(None, dir.path()).await.expect("registry");
        let id = "talk-1_ep001_2026-01-01";
        reg.upsert_discovered(&crate::registry::NewEpisode {
            id: id.into(),
            show: "talk-1".into(),
            source_path: "inbox/talk-1/ep001_2026-01-01.mp4".into(),
            title: id.into(),
            duration_secs: None,
        })
        .await
        .expect("episode");
        reg.enqueue(id, 1, false).await.expect("enqueue");
        reg.claim_job("t", 60_000)
            .await
            .expect("claim")
            .expect("job");
        let root = DataRoot::open(&dir.path().join("data")).expect("root");
        let ep = EpisodeId::parse(id).expect("id");
        let mut inside: Vec<String> = crate::cleanup::fixed_places(&root, &ep)
            .into_iter()
            .map(|p| {
                if p.contains('.') {
                    p
                } else {
                    format!("{p}/x/y.bin")
                }
            })
            .collect();
        inside.sort();
        let outside = [
            "outputs/talk-1/2025/talk-1_ep001_2026-01-01/a.mp4",
            "outputs/talk/2026/talk-1_ep001_2026-01-01/a.mp4",
            "social/talk-1_ep001_2026-01-011/a.json",
            "audio/talk-1_ep001_2026-01-01.wav.bak",
            "work/talk-1_ep001_2026-01-01",
        ];
        for p in inside.iter().map(String::as_str).chain(outside) {
            reg.record_artifact(id, "clip", app::api::Stage::Clipped, p, 1, 1)
                .await
                .expect("row");
        }
        let found: Vec<String> = reg
            .artifacts_outside_fixed_places(&[id.to_string()])
            .await
            .expect("query")
            .into_iter()
            .map(|(_, _, p)| p)
            .collect();
        assert_eq!(found, outside, "inside: {inside:?}");
        assert!(reg.max_artifact_id().await.expect("max") >= 12);
    }
}

/// An episode's registered derived files, for the storage view.
#[derive(sqlx::FromRow, Debug)]
pub struct EpisodeBytes {
    pub id: String,
    pub show: String,
    pub title: String,
    pub files: i64,
    pub bytes: i64,
}

impl Registry {
    /// Registered files and bytes per episode (episodes with none are left out).
    pub async fn bytes_per_episode(&self) -> Result<Vec<EpisodeBytes>> {
        Ok(sqlx::query_as(
            "SELECT e.id, e.show, e.title, CAST(COUNT(a.id) AS BIGINT) AS files,
                CAST(SUM(a.bytes) AS BIGINT) AS bytes
             FROM episodes e JOIN artifacts a ON a.episode = e.id
             GROUP BY e.id, e.show, e.title",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

/// One kind of artifact of one finished, unowned episode: a unit the storage budget can evict.
#[derive(sqlx::FromRow, Debug)]
pub struct EvictableGroup {
    pub episode: String,
    pub kind: String,
    pub files: i64,
    pub bytes: i64,
    /// When the episode last changed (its processing finished): older goes first.
    pub finished_at: i64,
}

impl Registry {
    /// Registered derived bytes in total.
    pub async fn derived_bytes(&self) -> Result<i64> {
        let total: Option<i64> =
            sqlx::query_scalar("SELECT CAST(SUM(bytes) AS BIGINT) FROM artifacts")
                .fetch_one(&self.pool)
                .await?;
        Ok(total.unwrap_or(0))
    }

    /// Artifacts of done episodes that no job and no run owns, by episode and kind.
    pub async fn evictable_groups(&self) -> Result<Vec<EvictableGroup>> {
        Ok(sqlx::query_as(
            "SELECT a.episode, a.kind, CAST(COUNT(*) AS BIGINT) AS files,
                CAST(SUM(a.bytes) AS BIGINT) AS bytes, MAX(e.updated_at) AS finished_at
             FROM artifacts a JOIN episodes e ON e.id = a.episode
             WHERE e.state = 'done' AND e.cleanup_run IS NULL
               AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.episode = e.id AND j.state IN ('queued', 'running'))
             GROUP BY a.episode, a.kind",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
