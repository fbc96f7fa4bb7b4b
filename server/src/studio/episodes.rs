//! Episodes: discover, detail, cancel. (Processing lives with cleaning: starting over is a cleanup.)

use super::Studio;
use crate::error::{Error, Result};
use crate::pipeline::discover;
use crate::registry::JobRow;
use app::api::{DiscoverReport, EpisodeDetail};

impl Studio {
    pub async fn discover(&self) -> Result<DiscoverReport> {
        discover::discover(&self.root, &self.registry).await
    }

    pub async fn cancel(&self, id: &str) -> Result<JobRow> {
        let (id, _) = self.find(id).await?;
        let job = self.registry.live_job(id.as_str()).await?.ok_or_else(|| {
            Error::Conflict(format!("episode `{id}` has no queued or running job"))
        })?;
        self.jobs
            .cancel_and_wait(job.id)
            .await?
            .ok_or_else(|| Error::Internal(format!("job {} vanished", job.id)))
    }

    pub async fn detail(&self, id: &str) -> Result<EpisodeDetail> {
        let (id, row) = self.find(id).await?;
        Ok(EpisodeDetail {
            stages: self.registry.stage_times(id.as_str(), row.attempt).await?,
            artifacts: self
                .registry
                .artifacts_of(id.as_str())
                .await?
                .iter()
                .map(|a| a.to_api())
                .collect(),
            job: self.registry.live_job(id.as_str()).await?.map(|j| j.info()),
            cleanup_runs: self.registry.list_runs(Some(id.as_str()), 20).await?,
            source_path: row.source_path.clone(),
            episode: row.summary(),
        })
    }
}
