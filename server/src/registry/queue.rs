//! Reads behind the queue view and the processing history: jobs as an operator sees them, and how long
//! each stage took in recent finished attempts.

use super::Registry;
use super::jobs::JobKind;
use crate::error::Result;
use app::api::{
    AttemptInfo, AttemptKind, AttemptTrigger, JobState, QueuedJob, RunningJob, Stage, StageTiming,
    UnknownWord,
};
use std::collections::BTreeMap;

/// Finished attempts the stage averages are taken over.
const TIMING_SAMPLE: i64 = 50;
/// Attempts an episode's history lists.
const HISTORY_LIMIT: i64 = 50;

#[derive(sqlx::FromRow)]
struct RunningRow {
    id: i64,
    episode: String,
    worker: Option<String>,
    started_at: Option<i64>,
    progress_stage: Option<String>,
    progress_percent: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    id: i64,
    kind: String,
    state: String,
    attempt: i64,
    force: i64,
    error: Option<String>,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
}

impl Registry {
    /// Running jobs in claim order, with the episode's progress.
    pub async fn running_jobs(&self) -> Result<Vec<RunningJob>> {
        let rows: Vec<RunningRow> = sqlx::query_as(
            "SELECT j.id, j.episode, j.worker, j.started_at, e.progress_stage, e.progress_percent
             FROM jobs j JOIN episodes e ON e.id = j.episode WHERE j.state = 'running' ORDER BY j.id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| RunningJob {
                job: r.id,
                episode: r.episode,
                worker: r.worker,
                stage: r.progress_stage.as_deref().and_then(Stage::parse),
                percent: r.progress_percent.map(|p| p.clamp(0, 100) as u8),
                since: r.started_at,
            })
            .collect())
    }

    /// Queued jobs in the order workers claim them (lowest id first).
    pub async fn queued_jobs(&self) -> Result<Vec<QueuedJob>> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT id, episode, created_at FROM jobs WHERE state = 'queued' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .enumerate()
            .map(|(i, (job, episode, queued_at))| QueuedJob {
                job,
                episode,
                position: i as u32 + 1,
                queued_at,
            })
            .collect())
    }

    /// Jobs that ended with `state` at `since` (Unix ms) or later.
    pub async fn jobs_ended_since(&self, state: &str, since: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state = $1 AND finished_at >= $2")
                .bind(state)
                .bind(since)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Average time per stage over the last finished processing attempts: a stage's time is from the
    /// end of the stage before it (or the job's start) to its own end.
    pub async fn stage_timings(&self) -> Result<Vec<StageTiming>> {
        let rows: Vec<(i64, i64, String, i64)> = sqlx::query_as(
            "SELECT j.id, j.started_at, s.stage, s.finished_at
             FROM jobs j JOIN stage_runs s ON s.episode = j.episode AND s.attempt = j.attempt
             WHERE j.id IN (SELECT id FROM jobs WHERE state = 'done' AND kind = 'process'
                            AND started_at IS NOT NULL ORDER BY finished_at DESC LIMIT $1)",
        )
        .bind(TIMING_SAMPLE)
        .fetch_all(&self.pool)
        .await?;
        let mut per_job: BTreeMap<i64, (i64, Vec<(Stage, i64)>)> = BTreeMap::new();
        for (job, started, stage, finished) in rows {
            if let Some(stage) = Stage::parse(&stage) {
                let entry = per_job.entry(job).or_insert((started, Vec::new()));
                entry.1.push((stage, finished));
            }
        }
        let mut sums: BTreeMap<Stage, (i64, u32)> = BTreeMap::new();
        for (started, mut stages) in per_job.into_values() {
            stages.sort_by_key(|(stage, _)| *stage);
            let mut prev = started;
            for (stage, finished) in stages {
                let sum = sums.entry(stage).or_insert((0, 0));
                sum.0 += (finished - prev).max(0);
                sum.1 += 1;
                prev = finished;
            }
        }
        Ok(sums
            .into_iter()
            .map(|(stage, (total, n))| StageTiming {
                stage,
                avg_ms: total / i64::from(n.max(1)),
                samples: n,
            })
            .collect())
    }

    /// An episode's attempts (its jobs), newest first. The trigger is read from the jobs themselves: a
    /// clip job regenerates a clip, a forced one reprocesses, one after a failed or cancelled attempt
    /// retries, anything else starts.
    pub async fn attempts_of(&self, episode: &str) -> Result<Vec<AttemptInfo>> {
        let mut rows: Vec<HistoryRow> = sqlx::query_as(
            "SELECT id, kind, state, attempt, force, error, created_at, started_at, finished_at
             FROM jobs WHERE episode = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(episode)
        .bind(HISTORY_LIMIT)
        .fetch_all(&self.pool)
        .await?;
        rows.reverse();
        let mut out = Vec::with_capacity(rows.len());
        let mut last_process_state: Option<JobState> = None;
        for r in rows {
            // Stored as `process` or `clip:<n>` (the clip it cuts again).
            let kind = match JobKind::parse(&r.kind) {
                Some(JobKind::Process) => AttemptKind::Process,
                Some(JobKind::Clip(_)) => AttemptKind::Clip,
                None => {
                    return Err(UnknownWord {
                        what: "job kind",
                        word: r.kind,
                    }
                    .into());
                }
            };
            let outcome = JobState::try_from(r.state)?;
            let after_failure = matches!(
                last_process_state,
                Some(JobState::Failed | JobState::Cancelled | JobState::Interrupted)
            );
            let trigger = match (kind, r.force != 0) {
                (AttemptKind::Clip, _) => AttemptTrigger::RegenerateClip,
                (_, true) => AttemptTrigger::ForceReprocess,
                _ if after_failure => AttemptTrigger::Retry,
                _ => AttemptTrigger::Start,
            };
            if kind == AttemptKind::Process {
                last_process_state = Some(outcome);
            }
            out.push(AttemptInfo {
                attempt: r.attempt,
                job: r.id,
                kind,
                trigger,
                duration_ms: r.started_at.zip(r.finished_at).map(|(s, f)| (f - s).max(0)),
                outcome,
                queued_at: r.created_at,
                started_at: r.started_at,
                finished_at: r.finished_at,
                error: r.error,
            });
        }
        out.reverse();
        Ok(out)
    }
}
