//! The API contract's seam, implemented by the service itself: `app`'s server functions call these
//! through `Arc<dyn Backend>`, and each one is the matching [`Studio`] action with its result put in
//! wire form (jobs as `JobInfo`, errors as `ApiError`). No layer stands between the two: where a
//! method here calls `Studio::x(self, …)` it names the action's own code, not another door.

use super::Studio;
use app::api::backend::{Actor, Backend, EpisodeQuery};
use app::api::*;
use http::request::Parts;

#[async_trait::async_trait]
impl Backend for Studio {
    async fn authenticate(&self, parts: &Parts) -> Result<Option<Actor>, ApiError> {
        Ok(self.auth.authenticate(parts).await?)
    }

    async fn health(&self) -> HealthInfo {
        Studio::health(self).await
    }

    async fn episodes(&self, q: EpisodeQuery) -> Result<EpisodeList, ApiError> {
        Ok(Studio::episodes(self, q).await?)
    }

    async fn episode(&self, id: &str) -> Result<EpisodeDetail, ApiError> {
        Ok(Studio::detail(self, id).await?)
    }

    async fn discover(&self, actor: &Actor, wait: bool) -> Result<ScanStatus, ApiError> {
        tracing::info!(actor = %actor.name, wait, "discover");
        if wait {
            return Ok(Studio::scan_and_wait(&self.handle()?, &actor.name).await?);
        }
        Ok(Studio::start_scan(&self.handle()?, &actor.name))
    }

    async fn scan_status(&self) -> Result<Option<ScanStatus>, ApiError> {
        Ok(Studio::scan_status(self))
    }

    async fn queue(&self) -> Result<QueueView, ApiError> {
        Ok(Studio::queue(self).await?)
    }

    async fn episode_history(&self, id: &str) -> Result<EpisodeHistory, ApiError> {
        Ok(Studio::episode_history(self, id).await?)
    }

    async fn process(
        &self,
        actor: &Actor,
        req: ProcessRequest,
    ) -> Result<ProcessOutcome, ApiError> {
        let jobs = Studio::process(self, &actor.name, req).await?;
        Ok(ProcessOutcome {
            jobs: jobs.iter().map(|j| j.info()).collect(),
        })
    }

    async fn cancel(&self, actor: &Actor, id: &str) -> Result<JobInfo, ApiError> {
        tracing::info!(actor = %actor.name, episode = %id, "cancel");
        Ok(Studio::cancel(self, id).await?.info())
    }

    async fn cleanup_episode(
        &self,
        actor: &Actor,
        req: CleanEpisodeRequest,
    ) -> Result<CleanupReport, ApiError> {
        Ok(Studio::cleanup_episode(self, &actor.name, req).await?)
    }

    async fn force_reprocess(
        &self,
        actor: &Actor,
        req: ReprocessRequest,
    ) -> Result<ReprocessOutcome, ApiError> {
        let (report, job) = Studio::force_reprocess(self, &actor.name, req).await?;
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
        let (report, jobs) = Studio::retry_failed(self, &actor.name, req).await?;
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
        Ok(Studio::deep_clean(self, &actor.name, req).await?)
    }

    async fn cleanup_runs(
        &self,
        episode: Option<String>,
        limit: u32,
    ) -> Result<CleanupRunList, ApiError> {
        Ok(Studio::cleanup_runs(self, episode, limit).await?)
    }

    async fn workers(&self) -> Result<WorkerList, ApiError> {
        Ok(Studio::workers(self).await?)
    }

    async fn failure_groups(&self) -> Result<FailureGroupList, ApiError> {
        Ok(Studio::failure_groups(self).await?)
    }

    async fn cleanup_failed(
        &self,
        actor: &Actor,
        req: CleanFailedRequest,
    ) -> Result<CleanupReport, ApiError> {
        Ok(Studio::cleanup_failed(self, &actor.name, req).await?)
    }

    async fn delete_clip(&self, actor: &Actor, req: ClipRequest) -> Result<ClipOutcome, ApiError> {
        let (report, job) = Studio::clip(self, &actor.name, req, false).await?;
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
        let (report, job) = Studio::clip(self, &actor.name, req, true).await?;
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
        Ok(Studio::render_candidate(self, &actor.name, req).await?)
    }

    async fn nudge_clip(&self, actor: &Actor, req: NudgeRequest) -> Result<ClipEdit, ApiError> {
        Ok(Studio::nudge_clip(self, &actor.name, req).await?)
    }

    async fn discover_clips(
        &self,
        actor: &Actor,
        req: DiscoverClipsRequest,
    ) -> Result<DiscoverClipsOutcome, ApiError> {
        Ok(Studio::discover_clips(self, &actor.name, req).await?)
    }

    async fn trash(&self) -> Result<TrashList, ApiError> {
        Ok(Studio::trash(self).await?)
    }

    async fn trash_paths(&self, run_id: &str) -> Result<TrashDetail, ApiError> {
        Ok(Studio::trash_paths(self, run_id).await?)
    }

    async fn restore(&self, actor: &Actor, req: RestoreRequest) -> Result<RestoreReport, ApiError> {
        Ok(Studio::restore(self, &actor.name, req).await?)
    }

    async fn purge_trash(
        &self,
        actor: &Actor,
        run_id: Option<String>,
    ) -> Result<PurgeReport, ApiError> {
        Ok(Studio::purge_trash(self, &actor.name, run_id).await?)
    }

    async fn storage(&self) -> Result<StorageReport, ApiError> {
        Ok(Studio::storage(self).await?)
    }

    async fn login(
        &self,
        parts: &Parts,
        username: &str,
        password: &str,
    ) -> Result<(SessionUser, String), ApiError> {
        let (actor, cookie) = self.auth.login(parts, username, password).await?;
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
        Ok(self.auth.change_password(&actor.name, current, new).await?)
    }

    async fn logout(&self, parts: &Parts) -> Result<String, ApiError> {
        Ok(self.auth.logout(parts).await?)
    }
}
