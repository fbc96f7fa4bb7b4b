//! Episodes: health, list, discover, detail, cancel, the audit. (Processing lives with cleaning: starting over is a cleanup.)

use super::Studio;
use crate::error::{Error, Result};
use crate::pipeline::discover;
use crate::registry::JobRow;
use app::api::backend::{Actor, EpisodeQuery};
use app::api::{
    ApiError, CleanupRunList, DiscoverReport, EpisodeDetail, EpisodeList, HealthInfo, JobInfo,
};

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
            episode: self.stuck.summary(&row, crate::now_ms()),
            media: self.media(&id).await?,
        })
    }
}

/// Most rows one list call returns; paging covers the rest.
const MAX_PAGE: u32 = 500;

impl Studio {
    /// `/api/health`: the registry is reachable (and which kind it is, without credentials).
    pub async fn health(&self) -> HealthInfo {
        let (status, database) = match self.registry.ping().await {
            Ok(()) => ("ok", self.registry.describe()),
            Err(e) => {
                tracing::error!(error = %e, "health: the registry is not answering");
                (
                    "degraded",
                    "error: the registry is not answering".to_string(),
                )
            }
        };
        HealthInfo {
            status: status.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            database,
            transcriber: Some(crate::pipeline::transcribe::builtin_engine(
                &self.jobs.config().asr_env(),
                self.jobs.config().asr_model,
            )),
        }
    }

    /// One page of episodes, filtered by state and show.
    pub async fn episodes(&self, q: EpisodeQuery) -> Result<EpisodeList> {
        if q.limit == 0 || q.limit > MAX_PAGE {
            return Err(Error::BadRequest(format!("`limit` must be 1..={MAX_PAGE}")));
        }
        let show = q.show.as_deref().filter(|s| !s.is_empty());
        if let Some(s) = show
            && !crate::ids::valid_show(s)
        {
            return Err(Error::BadRequest(format!(
                "`show` `{s}` is not a valid show name"
            )));
        }
        let (rows, total) = self
            .registry
            .list_episodes(q.state, show, q.offset, q.limit)
            .await?;
        let now = crate::now_ms();
        Ok(EpisodeList {
            episodes: rows.iter().map(|r| self.stuck.summary(r, now)).collect(),
            total,
        })
    }

    /// The audit, newest first, optionally of one episode.
    pub async fn cleanup_runs(
        &self,
        episode: Option<String>,
        limit: u32,
    ) -> Result<CleanupRunList> {
        if let Some(e) = &episode {
            crate::ids::EpisodeId::parse(e)?;
        }
        Ok(CleanupRunList {
            runs: self
                .registry
                .list_runs(episode.as_deref(), limit.clamp(1, 1000))
                .await?,
        })
    }
}

impl Studio {
    /// A media file a signed-in user may fetch: only under `outputs/` and `public/`, only real files,
    /// no symlink anywhere on the way. Everything else is the same 404, so probing learns nothing.
    pub fn media_file(&self, rel: &str) -> Result<std::path::PathBuf> {
        if !matches!(rel.split('/').next(), Some("outputs" | "public")) {
            return Err(Error::NotFound("no such file".into()));
        }
        self.no_symlink_path(rel)
    }

    /// Where a relative path is under the data root, when it is plain (no `..`, not absolute) and no
    /// part of it is a symlink; otherwise the same 404.
    pub(super) fn no_symlink_path(&self, rel: &str) -> Result<std::path::PathBuf> {
        use std::path::Component;
        let not_found = || Error::NotFound("no such file".into());
        let path = std::path::Path::new(rel);
        if !path.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(not_found());
        }
        let mut abs = self.root.path().to_path_buf();
        for c in path.components() {
            abs.push(c);
            match std::fs::symlink_metadata(&abs) {
                Ok(m) if !m.file_type().is_symlink() => {}
                _ => return Err(not_found()),
            }
        }
        Ok(abs)
    }
}

/// The episodes for the API, in wire form.
#[async_trait::async_trait]
impl app::api::backend::Episodes for Studio {
    async fn health(&self) -> HealthInfo {
        Studio::health(self).await
    }

    async fn episodes(&self, q: EpisodeQuery) -> Result<EpisodeList, ApiError> {
        Ok(Studio::episodes(self, q).await?)
    }

    async fn episode(&self, id: &str) -> Result<EpisodeDetail, ApiError> {
        Ok(Studio::detail(self, id).await?)
    }

    async fn cancel(&self, actor: &Actor, id: &str) -> Result<JobInfo, ApiError> {
        tracing::info!(actor = %actor.name, episode = %id, "cancel");
        Ok(Studio::cancel(self, id).await?.info())
    }

    async fn cleanup_runs(
        &self,
        episode: Option<String>,
        limit: u32,
    ) -> Result<CleanupRunList, ApiError> {
        Ok(Studio::cleanup_runs(self, episode, limit).await?)
    }
}
