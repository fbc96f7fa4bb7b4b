//! The application service: every user-facing action, validated, with the rules of DESIGN §5. The HTTP
//! API ([`crate::backend`]) and the CLI ([`crate::cli`]) both call these, so they cannot drift apart.

use crate::auth::Auth;
use crate::cleanup::{Cleanup, Keep, Trigger};
use crate::config::{Common, ServeArgs};
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::jobs::Jobs;
use crate::pipeline::{Pipeline, PipelineConfig, discover};
use crate::registry::{EpisodeRow, JobRow, Registry};
use crate::storage::DataRoot;
use app::api::{CleanupReport, DiscoverReport, EpisodeDetail, EpisodeState};
use std::sync::Arc;
use std::time::Duration;

pub struct Studio {
    pub root: DataRoot,
    pub registry: Registry,
    pub jobs: Arc<Jobs>,
    pub cleanup: Arc<Cleanup>,
    pub auth: Auth,
    /// Largest browser upload accepted (`--max-upload-mb`).
    pub max_upload_bytes: u64,
}

impl Studio {
    /// Opens the data root and the registry, then finishes whatever a crash interrupted.
    pub async fn open(common: &Common, serve: &ServeArgs) -> Result<Arc<Self>> {
        // Refuse a bad URL before creating anything, so a typo leaves no half-made data dir behind.
        if let Some(url) = &common.database_url {
            Registry::check_url(url)?;
        }
        let root = DataRoot::open(&common.data_dir)?;
        let registry = Registry::open(common.database_url.as_deref(), root.path()).await?;
        let cleanup = Cleanup::new(
            root.clone(),
            registry.clone(),
            Duration::from_secs(serve.stale_after_secs),
        );
        let recovered = cleanup.recover().await?;
        if recovered > 0 {
            tracing::warn!(
                runs = recovered,
                "finished cleanup runs interrupted by a crash"
            );
        }
        let mut pipeline = Pipeline {
            root: root.clone(),
            registry: registry.clone(),
            config: PipelineConfig::from_env(),
        };
        // The flag wins over EWG_TRANSCRIBE, which PipelineConfig::from_env reads for `ewg process`.
        if let Some(t) = serve.transcriber {
            pipeline.config.transcriber = t;
        }
        let jobs = Jobs::new(pipeline, Arc::clone(&cleanup), serve.lease());
        Ok(Arc::new(Studio {
            auth: Auth::new(registry.clone(), serve.secure_cookies),
            root,
            registry,
            jobs,
            cleanup,
            max_upload_bytes: serve.max_upload_mb.saturating_mul(1024 * 1024),
        }))
    }

    /// Validates an id (400) and finds its episode (404).
    pub async fn find(&self, id: &str) -> Result<(EpisodeId, EpisodeRow)> {
        let id = EpisodeId::parse(id)?;
        let row = self
            .registry
            .episode(id.as_str())
            .await?
            .ok_or_else(|| Error::UnknownEpisode(id.to_string()))?;
        Ok((id, row))
    }

    async fn refuse_if_live(&self, id: &EpisodeId, what: &str) -> Result<()> {
        if let Some(job) = self.registry.live_job(id.as_str()).await? {
            return Err(Error::Conflict(format!(
                "episode `{id}` has {} job {}; cancel it or use force reprocess before {what}",
                job.state, job.id
            )));
        }
        Ok(())
    }

    pub async fn discover(&self) -> Result<DiscoverReport> {
        discover::discover(&self.root, &self.registry).await
    }

    /// Queues episodes. Every id is checked before anything changes, so a bad request loses nothing.
    pub async fn process(
        &self,
        actor: &str,
        ids: &[String],
        force: bool,
        clear_cache: bool,
    ) -> Result<Vec<JobRow>> {
        if ids.is_empty() {
            return Err(Error::BadRequest(
                "`ids` must name at least one episode".into(),
            ));
        }
        let mut found = Vec::new();
        for raw in ids {
            let (id, row) = self.find(raw).await?;
            if !force {
                self.refuse_if_live(&id, "processing it again").await?;
                if row.state() == EpisodeState::Done {
                    return Err(Error::Conflict(format!(
                        "episode `{id}` is already processed; use force to reprocess it"
                    )));
                }
            }
            found.push((id, row));
        }
        let mut jobs = Vec::new();
        for (id, row) in found {
            let job = if force {
                self.force_reprocess(actor, id.as_str(), false).await?.1
            } else if matches!(row.state(), EpisodeState::Failed | EpisodeState::Cancelled)
                || clear_cache
            {
                // Leftovers of the previous attempt go before the new one starts.
                self.cleanup
                    .attempt(&id, row.attempt, Trigger::Retry, actor, false)
                    .await?;
                Some(self.enqueue(&id, row.attempt + 1, false).await?)
            } else {
                Some(self.enqueue(&id, row.attempt + 1, false).await?)
            };
            jobs.extend(job);
        }
        Ok(jobs)
    }

    async fn enqueue(&self, id: &EpisodeId, attempt: i64, force: bool) -> Result<JobRow> {
        let job = self.registry.enqueue(id.as_str(), attempt, force).await?;
        tracing::info!(episode = %id, job = job.id, attempt, "queued");
        self.jobs.wake();
        Ok(job)
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

    pub async fn cleanup_episode(
        &self,
        actor: &str,
        id: &str,
        keep: Keep,
        dry_run: bool,
    ) -> Result<CleanupReport> {
        let (id, _) = self.find(id).await?;
        self.refuse_if_live(&id, "cleaning it").await?;
        let report = self
            .cleanup
            .episode(&id, keep, Trigger::Episode, actor, dry_run)
            .await?;
        if !dry_run {
            self.registry.reset_episode(id.as_str()).await?;
        }
        Ok(report)
    }

    /// Stop the running job (waiting until it has stopped), remove everything derived, start over.
    pub async fn force_reprocess(
        &self,
        actor: &str,
        id: &str,
        dry_run: bool,
    ) -> Result<(CleanupReport, Option<JobRow>)> {
        let (id, _) = self.find(id).await?;
        if dry_run {
            let report = self
                .cleanup
                .episode(&id, Keep::NOTHING, Trigger::Force, actor, true)
                .await?;
            return Ok((report, None));
        }
        if let Some(job) = self.registry.live_job(id.as_str()).await? {
            tracing::info!(episode = %id, job = job.id, "force reprocess: stopping the running job first");
            self.jobs.cancel_and_wait(job.id).await?;
        }
        let report = self
            .cleanup
            .episode(&id, Keep::NOTHING, Trigger::Force, actor, false)
            .await?;
        self.registry.reset_episode(id.as_str()).await?;
        let attempt = self.find(id.as_str()).await?.1.attempt + 1;
        let job = self.enqueue(&id, attempt, true).await?;
        Ok((report, Some(job)))
    }

    /// Clean each failed attempt, verify nothing of it remains and no job is live, then requeue.
    pub async fn retry_failed(
        &self,
        actor: &str,
        ids: Option<Vec<String>>,
        dry_run: bool,
    ) -> Result<(CleanupReport, Vec<JobRow>)> {
        let rows = match ids {
            Some(ids) if ids.is_empty() => {
                return Err(Error::BadRequest(
                    "`ids` is empty; omit it to retry all failed".into(),
                ));
            }
            Some(ids) => {
                let mut rows = Vec::new();
                for raw in &ids {
                    let (id, row) = self.find(raw).await?;
                    if row.state() != EpisodeState::Failed {
                        return Err(Error::Conflict(format!(
                            "episode `{id}` is {}, not failed",
                            row.state()
                        )));
                    }
                    rows.push((id, row));
                }
                rows
            }
            None => self
                .registry
                .episodes_in_states(&[EpisodeState::Failed])
                .await?
                .into_iter()
                .filter_map(|r| EpisodeId::parse(&r.id).ok().map(|id| (id, r)))
                .collect(),
        };
        for (id, _) in &rows {
            self.refuse_if_live(id, "retrying it").await?;
        }
        let attempts: Vec<_> = rows.iter().map(|(id, r)| (id.clone(), r.attempt)).collect();
        let report = self
            .cleanup
            .attempts(&attempts, Trigger::Retry, actor, dry_run)
            .await?;
        if dry_run {
            return Ok((report, vec![]));
        }
        let mut jobs = Vec::new();
        for (id, row) in rows {
            if let Err(why) = self.cleanup.verify_attempt_gone(&id, row.attempt).await {
                return Err(Error::Conflict(format!(
                    "retry of `{id}` stopped: cleanup could not be verified ({why})"
                )));
            }
            self.refuse_if_live(&id, "retrying it").await?;
            jobs.push(self.enqueue(&id, row.attempt + 1, false).await?);
        }
        Ok((report, jobs))
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
