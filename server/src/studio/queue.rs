//! The queue view (what runs on which worker, what waits, counts, a rough ETA) and an episode's
//! processing history (its attempts with their trigger, duration and outcome).

use super::Studio;
use crate::error::Result;
use app::api::{ApiError, EpisodeHistory, QueueView, RunningJob, StageTiming, WorkerList};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

impl Studio {
    pub async fn queue(&self) -> Result<QueueView> {
        let running = self.registry.running_jobs().await?;
        let queued = self.registry.queued_jobs().await?;
        let slots: i64 = self
            .workers()
            .await?
            .nodes
            .iter()
            .filter(|n| n.alive)
            .map(|n| n.slots)
            .sum();
        let since = crate::now_ms() - DAY_MS;
        let stage_timings = self.registry.stage_timings().await?;
        let eta_ms = eta(
            &stage_timings,
            &running,
            queued.len(),
            slots,
            crate::now_ms(),
        );
        Ok(QueueView {
            done_today: self.registry.jobs_ended_since("done", since).await?,
            failed_today: self.registry.jobs_ended_since("failed", since).await?,
            running,
            queued,
            slots,
            stage_timings,
            eta_ms,
        })
    }

    pub async fn episode_history(&self, id: &str) -> Result<EpisodeHistory> {
        let (id, _) = self.find(id).await?;
        Ok(EpisodeHistory {
            attempts: self.registry.attempts_of(id.as_str()).await?,
        })
    }
}

/// When the queue should be empty: what the running jobs have left of an average attempt, plus an
/// average attempt per queued job, shared over the slots. `None` when nothing has finished yet (no
/// timings) or no slot is online; `Some(0)` when there is nothing to do.
fn eta(
    timings: &[StageTiming],
    running: &[RunningJob],
    queued: usize,
    slots: i64,
    now: i64,
) -> Option<i64> {
    if running.is_empty() && queued == 0 {
        return Some(0);
    }
    if timings.is_empty() || slots <= 0 {
        return None;
    }
    let attempt: i64 = timings.iter().map(|t| t.avg_ms).sum();
    let left: i64 = running
        .iter()
        .map(|r| (attempt - (now - r.since.unwrap_or(now))).max(0))
        .sum();
    Some((left + attempt * queued as i64) / slots)
}

/// The queue, the workers and each episode's attempts, for the API.
#[async_trait::async_trait]
impl app::api::backend::Work for Studio {
    async fn queue(&self) -> Result<QueueView, ApiError> {
        Ok(Studio::queue(self).await?)
    }

    async fn episode_history(&self, id: &str) -> Result<EpisodeHistory, ApiError> {
        Ok(Studio::episode_history(self, id).await?)
    }

    async fn workers(&self) -> Result<WorkerList, ApiError> {
        Ok(Studio::workers(self).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::Stage;

    fn timing(stage: Stage, avg_ms: i64) -> StageTiming {
        StageTiming {
            stage,
            avg_ms,
            samples: 3,
        }
    }

    fn running(since: i64) -> RunningJob {
        RunningJob {
            job: 1,
            episode: "a_ep001_2026-01-01".into(),
            worker: None,
            stage: None,
            percent: None,
            since: Some(since),
        }
    }

    #[test]
    fn eta_is_the_work_left_shared_over_the_slots() {
        let t = [timing(Stage::Prepped, 1_000), timing(Stage::Clipped, 3_000)];
        // One attempt takes 4 s: one running for 1 s has 3 s left, two queued add 8 s, over 2 slots.
        assert_eq!(eta(&t, &[running(9_000)], 2, 2, 10_000), Some(5_500));
        // A job past the average has nothing left (not a negative time).
        assert_eq!(eta(&t, &[running(0)], 0, 1, 10_000), Some(0));
        assert_eq!(eta(&t, &[], 0, 0, 10_000), Some(0), "nothing to do");
        assert_eq!(eta(&[], &[], 3, 1, 10_000), None, "no timings yet");
        assert_eq!(eta(&t, &[], 3, 0, 10_000), None, "no slot online");
    }
}
