//! The API contract's implementation: translates between `app`'s wire types and [`Studio`].

use crate::studio::Studio;
use app::api::backend::{Actor, Backend, EpisodeQuery};
use app::api::*;
use http::request::Parts;
use std::sync::Arc;

pub struct StudioBackend(pub Arc<Studio>);

#[async_trait::async_trait]
impl Backend for StudioBackend {
    async fn authenticate(&self, parts: &Parts) -> Result<Option<Actor>, ApiError> {
        Ok(self.0.auth.authenticate(parts).await?)
    }

    async fn health(&self) -> HealthInfo {
        self.0.health().await
    }

    async fn episodes(&self, q: EpisodeQuery) -> Result<EpisodeList, ApiError> {
        Ok(self.0.episodes(q).await?)
    }

    async fn episode(&self, id: &str) -> Result<EpisodeDetail, ApiError> {
        Ok(self.0.detail(id).await?)
    }

    async fn discover(&self, actor: &Actor) -> Result<DiscoverReport, ApiError> {
        tracing::info!(actor = %actor.name, "discover");
        Ok(self.0.discover().await?)
    }

    async fn process(
        &self,
        actor: &Actor,
        req: ProcessRequest,
    ) -> Result<ProcessOutcome, ApiError> {
        let jobs = self.0.process(&actor.name, req).await?;
        Ok(ProcessOutcome {
            jobs: jobs.iter().map(|j| j.info()).collect(),
        })
    }

    async fn cancel(&self, actor: &Actor, id: &str) -> Result<JobInfo, ApiError> {
        tracing::info!(actor = %actor.name, episode = %id, "cancel");
        Ok(self.0.cancel(id).await?.info())
    }

    async fn cleanup_episode(
        &self,
        actor: &Actor,
        req: CleanEpisodeRequest,
    ) -> Result<CleanupReport, ApiError> {
        Ok(self.0.cleanup_episode(&actor.name, req).await?)
    }

    async fn force_reprocess(
        &self,
        actor: &Actor,
        req: ReprocessRequest,
    ) -> Result<ReprocessOutcome, ApiError> {
        let (report, job) = self.0.force_reprocess(&actor.name, req).await?;
        Ok(ReprocessOutcome {
            report,
            job: job.map(|j| j.info()),
        })
    }

    async fn retry_failed(
        &self,
        actor: &Actor,
        req: RetryRequest,
    ) -> Result<RetryOutcome, ApiError> {
        let (report, jobs) = self.0.retry_failed(&actor.name, req).await?;
        Ok(RetryOutcome {
            report,
            jobs: jobs.iter().map(|j| j.info()).collect(),
        })
    }

    async fn deep_clean(
        &self,
        actor: &Actor,
        req: DeepCleanRequest,
    ) -> Result<CleanupReport, ApiError> {
        Ok(self.0.deep_clean(&actor.name, req).await?)
    }

    async fn cleanup_runs(
        &self,
        episode: Option<String>,
        limit: u32,
    ) -> Result<CleanupRunList, ApiError> {
        Ok(self.0.cleanup_runs(episode, limit).await?)
    }

    async fn workers(&self) -> Result<WorkerList, ApiError> {
        Ok(self.0.workers().await?)
    }

    async fn failure_groups(&self) -> Result<FailureGroupList, ApiError> {
        Ok(self.0.failure_groups().await?)
    }

    async fn cleanup_failed(
        &self,
        actor: &Actor,
        req: CleanFailedRequest,
    ) -> Result<CleanupReport, ApiError> {
        Ok(self.0.cleanup_failed(&actor.name, req).await?)
    }

    async fn delete_clip(&self, actor: &Actor, req: ClipRequest) -> Result<ClipOutcome, ApiError> {
        let (report, job) = self.0.clip(&actor.name, req, false).await?;
        Ok(ClipOutcome {
            report,
            job: job.map(|j| j.info()),
        })
    }

    async fn regenerate_clip(
        &self,
        actor: &Actor,
        req: ClipRequest,
    ) -> Result<ClipOutcome, ApiError> {
        let (report, job) = self.0.clip(&actor.name, req, true).await?;
        Ok(ClipOutcome {
            report,
            job: job.map(|j| j.info()),
        })
    }

    async fn render_candidate(
        &self,
        actor: &Actor,
        req: CandidateRequest,
    ) -> Result<ClipEdit, ApiError> {
        Ok(self.0.render_candidate(&actor.name, req).await?)
    }

    async fn nudge_clip(&self, actor: &Actor, req: NudgeRequest) -> Result<ClipEdit, ApiError> {
        Ok(self.0.nudge_clip(&actor.name, req).await?)
    }

    async fn discover_clips(
        &self,
        actor: &Actor,
        req: DiscoverClipsRequest,
    ) -> Result<DiscoverClipsOutcome, ApiError> {
        Ok(self.0.discover_clips(&actor.name, req).await?)
    }

    async fn trash(&self) -> Result<TrashList, ApiError> {
        Ok(self.0.trash().await?)
    }

    async fn trash_paths(&self, run_id: &str) -> Result<TrashDetail, ApiError> {
        Ok(self.0.trash_paths(run_id).await?)
    }

    async fn restore(&self, actor: &Actor, req: RestoreRequest) -> Result<RestoreReport, ApiError> {
        Ok(self.0.restore(&actor.name, req).await?)
    }

    async fn purge_trash(
        &self,
        actor: &Actor,
        run_id: Option<String>,
    ) -> Result<PurgeReport, ApiError> {
        Ok(self.0.purge_trash(&actor.name, run_id).await?)
    }

    async fn storage(&self) -> Result<StorageReport, ApiError> {
        Ok(self.0.storage().await?)
    }

    async fn login(
        &self,
        parts: &Parts,
        username: &str,
        password: &str,
    ) -> Result<(SessionUser, String), ApiError> {
        let (actor, cookie) = self.0.auth.login(parts, username, password).await?;
        Ok((
            SessionUser {
                username: actor.name,
                role: actor.role,
            },
            cookie,
        ))
    }

    async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
    ) -> Result<String, ApiError> {
        Ok(self
            .0
            .auth
            .change_password(&actor.name, current, new)
            .await?)
    }

    async fn logout(&self, parts: &Parts) -> Result<String, ApiError> {
        Ok(self.0.auth.logout(parts).await?)
    }
}
