//! The API contract's implementation: translates between `app`'s wire types and [`Studio`].

use crate::cleanup::{DeepCleanRequest, Keep};
use crate::studio::{CleanEpisode, ProcessRequest, Studio};
use app::api::backend::{Actor, Backend, EpisodeQuery};
use app::api::*;
use http::request::Parts;
use std::sync::Arc;

/// Most rows one list call returns; paging covers the rest.
const MAX_PAGE: u32 = 500;

pub struct StudioBackend(pub Arc<Studio>);

#[async_trait::async_trait]
impl Backend for StudioBackend {
    async fn authenticate(&self, parts: &Parts) -> Result<Option<Actor>, ApiError> {
        Ok(self.0.auth.authenticate(parts).await?)
    }

    async fn health(&self) -> HealthInfo {
        let database = match self.0.registry.ping().await {
            Ok(()) => self.0.registry.describe(),
            Err(e) => format!("error: {e}"),
        };
        HealthInfo {
            status: if database.starts_with("error") {
                "degraded"
            } else {
                "ok"
            }
            .into(),
            version: env!("CARGO_PKG_VERSION").into(),
            database,
        }
    }

    async fn episodes(&self, q: EpisodeQuery) -> Result<EpisodeList, ApiError> {
        if q.limit == 0 || q.limit > MAX_PAGE {
            return Err(ApiError::bad_request(format!(
                "`limit` must be 1..={MAX_PAGE}"
            )));
        }
        let show = q.show.as_deref().filter(|s| !s.is_empty());
        if let Some(s) = show
            && !crate::ids::valid_show(s)
        {
            return Err(ApiError::bad_request(format!(
                "`show` `{s}` is not a valid show name"
            )));
        }
        let (rows, total) = self
            .0
            .registry
            .list_episodes(q.state, show, q.offset, q.limit)
            .await?;
        Ok(EpisodeList {
            episodes: rows.iter().map(|r| r.summary()).collect(),
            total,
        })
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
        ids: Vec<String>,
        force: bool,
        clear_cache: bool,
    ) -> Result<ProcessOutcome, ApiError> {
        let req = ProcessRequest {
            ids,
            force,
            clear_cache,
        };
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
        id: &str,
        include_transcripts: bool,
        include_audio: bool,
        dry_run: bool,
    ) -> Result<CleanupReport, ApiError> {
        let keep = Keep {
            transcripts: !include_transcripts,
            audio: !include_audio,
        };
        let req = CleanEpisode {
            id: id.to_string(),
            keep,
            dry_run,
        };
        Ok(self.0.cleanup_episode(&actor.name, req).await?)
    }

    async fn force_reprocess(
        &self,
        actor: &Actor,
        id: &str,
        dry_run: bool,
    ) -> Result<ReprocessOutcome, ApiError> {
        let (report, job) = self.0.force_reprocess(&actor.name, id, dry_run).await?;
        Ok(ReprocessOutcome {
            report,
            job: job.map(|j| j.info()),
        })
    }

    async fn retry_failed(
        &self,
        actor: &Actor,
        ids: Option<Vec<String>>,
        dry_run: bool,
    ) -> Result<RetryOutcome, ApiError> {
        let (report, jobs) = self.0.retry_failed(&actor.name, ids, dry_run).await?;
        Ok(RetryOutcome {
            report,
            jobs: jobs.iter().map(|j| j.info()).collect(),
        })
    }

    async fn deep_clean(
        &self,
        actor: &Actor,
        dry_run: bool,
        confirm_orphans: Option<i64>,
    ) -> Result<CleanupReport, ApiError> {
        let req = DeepCleanRequest {
            dry_run,
            confirm_orphans,
        };
        Ok(self.0.deep_clean(&actor.name, req).await?)
    }

    async fn cleanup_runs(
        &self,
        episode: Option<String>,
        limit: u32,
    ) -> Result<CleanupRunList, ApiError> {
        if let Some(e) = &episode {
            crate::ids::EpisodeId::parse(e).map_err(crate::error::Error::from)?;
        }
        let limit = limit.clamp(1, 1000);
        Ok(CleanupRunList {
            runs: self.0.registry.list_runs(episode.as_deref(), limit).await?,
        })
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
