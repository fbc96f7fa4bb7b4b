//! Starting over, cleaning up, Deep Clean. Every real action here is [`Studio::detached`], claims the
//! episodes it changes (see [`crate::cleanup`]), and ends them in one registry transaction.

use super::Studio;
use crate::cleanup::{DeepCleanRequest, Keep, Outcome, Trigger};
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::registry::{EpisodeRow, JobRow, Then};
use app::api::backend::Actor;
use app::api::{
    ApiError, CleanEpisodeRequest, CleanupReport, CleanupResult, EpisodeState, ProcessOutcome,
    ProcessRequest, ReprocessOutcome, ReprocessRequest, RetryOutcome, RetryRequest,
};

impl Studio {
    /// Queues episodes. Every id is checked before anything changes, so a bad request loses nothing.
    pub async fn process(&self, actor: &str, req: ProcessRequest) -> Result<Vec<JobRow>> {
        if req.ids.is_empty() {
            return Err(Error::BadRequest(
                "`ids` must name at least one episode".into(),
            ));
        }
        let mut found = Vec::new();
        for raw in &req.ids {
            let (id, row) = self.find(raw).await?;
            if !req.force {
                self.refuse_if_live(&id, "processing it again").await?;
                if row.state() == EpisodeState::Done {
                    return Err(Error::Conflict(format!(
                        "episode `{id}` is already processed; use force to reprocess it"
                    )));
                }
            }
            found.push((id, row));
        }
        let actor = actor.to_string();
        self.detached(move |s| async move {
            let mut jobs = Vec::new();
            for (id, row) in found {
                if req.force {
                    jobs.extend(s.force_reprocess_now(&actor, &id).await?.1);
                } else {
                    jobs.push(s.start(&actor, &id, &row, req.clear_cache).await?);
                }
            }
            Ok(jobs)
        })
        .await
    }

    /// Queues the next attempt. A failed or cancelled attempt's files go first (and with `clear_cache`,
    /// whatever the last attempt left, but what the user chose to keep); the queueing is part of that
    /// cleanup's commit, and a partial cleanup queues nothing.
    async fn start(
        &self,
        actor: &str,
        id: &EpisodeId,
        row: &EpisodeRow,
        clear_cache: bool,
    ) -> Result<JobRow> {
        let failed = matches!(row.state(), EpisodeState::Failed | EpisodeState::Cancelled);
        if !failed && !clear_cache {
            let job = self
                .registry
                .enqueue(id.as_str(), row.attempt + 1, false)
                .await?;
            tracing::info!(episode = %id, job = job.id, "queued");
            self.jobs.wake();
            return Ok(job);
        }
        // Only a start after a failed or cancelled attempt is a retry: the audit says "start" otherwise.
        let (keep, trigger) = if failed {
            (Keep::NOTHING, Trigger::Retry)
        } else {
            (Keep::USER_DATA, Trigger::Start)
        };
        let outcome = self
            .cleanup
            .attempts(
                &[(id.clone(), row.attempt)],
                keep,
                trigger,
                actor,
                false,
                Then::Requeue,
            )
            .await?;
        self.queued_by(id, outcome).map(|(_, job)| job)
    }

    pub async fn cleanup_episode(
        &self,
        actor: &str,
        req: CleanEpisodeRequest,
    ) -> Result<CleanupReport> {
        let (id, _) = self.find(&req.id).await?;
        let keep = Keep {
            transcripts: !req.include_transcripts,
            audio: !req.include_audio,
        };
        self.refuse_if_live(&id, "cleaning it").await?;
        let actor = actor.to_string();
        self.detached(move |s| async move {
            let outcome = s
                .cleanup
                .episode(
                    &id,
                    keep,
                    Trigger::Episode,
                    &actor,
                    req.dry_run,
                    Then::Reset,
                )
                .await?;
            Ok(outcome.report)
        })
        .await
    }

    /// Stop the running job (waiting until it has stopped), remove everything derived, start over.
    pub async fn force_reprocess(
        &self,
        actor: &str,
        req: ReprocessRequest,
    ) -> Result<(CleanupReport, Option<JobRow>)> {
        let (id, _) = self.find(&req.id).await?;
        let dry_run = req.dry_run;
        let actor = actor.to_string();
        if dry_run {
            let outcome = self
                .cleanup
                .episode(
                    &id,
                    Keep::NOTHING,
                    Trigger::Force,
                    &actor,
                    true,
                    Then::Requeue,
                )
                .await?;
            return Ok((outcome.report, None));
        }
        self.detached(move |s| async move { s.force_reprocess_now(&actor, &id).await })
            .await
    }

    async fn force_reprocess_now(
        &self,
        actor: &str,
        id: &EpisodeId,
    ) -> Result<(CleanupReport, Option<JobRow>)> {
        if let Some(job) = self.registry.live_job(id.as_str()).await? {
            tracing::info!(episode = %id, job = job.id, "force reprocess: stopping the running job first");
            self.jobs.cancel_and_wait(job.id).await?;
        }
        let outcome = self
            .cleanup
            .episode(
                id,
                Keep::NOTHING,
                Trigger::Force,
                actor,
                false,
                Then::Requeue,
            )
            .await?;
        let (report, job) = self.queued_by(id, outcome)?;
        Ok((report, Some(job)))
    }

    /// Clean each failed attempt, verify nothing of it remains and no job is live, then requeue.
    pub async fn retry_failed(
        &self,
        actor: &str,
        req: RetryRequest,
    ) -> Result<(CleanupReport, Vec<JobRow>)> {
        let dry_run = req.dry_run;
        let rows = self.failed_rows(req.select).await?;
        for (id, _) in &rows {
            self.refuse_if_live(id, "retrying it").await?;
        }
        let actor = actor.to_string();
        self.detached(move |s| async move {
            let attempts: Vec<_> = rows.iter().map(|(id, r)| (id.clone(), r.attempt)).collect();
            let outcome = s
                .cleanup
                .attempts(
                    &attempts,
                    Keep::NOTHING,
                    Trigger::Retry,
                    &actor,
                    dry_run,
                    Then::ResetStage,
                )
                .await?;
            if dry_run {
                return Ok((outcome.report, vec![]));
            }
            let mut jobs = Vec::new();
            for (id, row) in rows {
                if let Err(why) = s.cleanup.verify_attempt_gone(&id, row.attempt).await {
                    return Err(Error::Conflict(format!(
                        "retry of `{id}` stopped: cleanup could not be verified ({why})"
                    )));
                }
                jobs.push(
                    s.registry
                        .enqueue(id.as_str(), row.attempt + 1, false)
                        .await?,
                );
            }
            s.jobs.wake();
            Ok((outcome.report, jobs))
        })
        .await
    }

    /// The job a cleanup's commit queued (its end state was `Requeue`), with the workers woken — or, when
    /// the cleanup left something behind and so queued nothing, a 409 saying why.
    fn queued_by(&self, id: &EpisodeId, outcome: Outcome) -> Result<(CleanupReport, JobRow)> {
        let Some(job) = outcome.jobs.into_iter().next() else {
            return Err(not_queued(id, &outcome.report));
        };
        tracing::info!(episode = %id, job = job.id, run = %outcome.report.run_id, "cleaned and queued");
        self.jobs.wake();
        Ok((outcome.report, job))
    }

    pub async fn deep_clean(&self, actor: &str, req: DeepCleanRequest) -> Result<CleanupReport> {
        req.validate()
            .map_err(|e| Error::BadRequest(e.to_string()))?;
        let actor = actor.to_string();
        self.detached(move |s| async move { s.cleanup.deep_clean(&actor, req).await })
            .await
    }
}

/// A cleanup that left something behind does not start the episode over; the caller learns why.
fn not_queued(id: &EpisodeId, report: &CleanupReport) -> Error {
    let left: Vec<String> = report
        .errors
        .iter()
        .map(|e| format!("{}: {}", e.path, e.message))
        .collect();
    let what = if report.result == CleanupResult::Ok {
        "the episode changed meanwhile".to_string()
    } else {
        left.join("; ")
    };
    Error::Conflict(format!(
        "episode `{id}` was not queued: its cleanup (run {}) was {} — {what}",
        report.run_id,
        report.result.as_str()
    ))
}

/// Processing and starting over for the API: the actions above, their jobs in wire form.
#[async_trait::async_trait]
impl app::api::backend::Cleaning for Studio {
    async fn process(
        &self,
        actor: &Actor,
        req: ProcessRequest,
    ) -> Result<ProcessOutcome, ApiError> {
        let jobs = Studio::process(self, &actor.name, req).await?;
        let jobs = jobs.iter().map(JobRow::info).collect();
        Ok(ProcessOutcome { jobs })
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
        let job = job.as_ref().map(JobRow::info);
        Ok(ReprocessOutcome { report, job })
    }

    async fn retry_failed(
        &self,
        actor: &Actor,
        req: RetryRequest,
    ) -> Result<RetryOutcome, ApiError> {
        let (report, jobs) = Studio::retry_failed(self, &actor.name, req).await?;
        let jobs = jobs.iter().map(JobRow::info).collect();
        Ok(RetryOutcome { report, jobs })
    }

    async fn deep_clean(
        &self,
        actor: &Actor,
        req: DeepCleanRequest,
    ) -> Result<CleanupReport, ApiError> {
        Ok(Studio::deep_clean(self, &actor.name, req).await?)
    }
}
