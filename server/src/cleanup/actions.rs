//! The cleanup actions callers ask for about episodes: an attempt, an episode, a clip, an edit. Each is
//! one audited run; real runs own the episodes they clean (claimed before planning, so the plan cannot go
//! stale under a new job). Deep Clean is `deep_clean.rs`, the schedule's pass `schedule.rs`.

use super::execute::{ActiveRun, Spec};
use super::plan::{Plan, Target, attempt_plan, episode_plan};
use super::{Cleanup, Keep, Outcome, Trigger};
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::registry::Then;
use app::api::CleanupReport;

impl Cleanup {
    /// A job's own cleanup of its attempt (failure, cancel): the live job owns the episode, so nothing
    /// is claimed, and the job's end records the stage.
    pub async fn job_attempt(
        &self,
        id: &EpisodeId,
        attempt: i64,
        trigger: Trigger,
    ) -> Result<CleanupReport> {
        let rows = self.registry.artifacts_of(id.as_str()).await?;
        let plan = attempt_plan(&self.root, id, attempt, Keep::NOTHING, rows);
        let scope = format!("episode {id} attempt {attempt}");
        self.for_job(id, trigger, scope, plan).await
    }

    /// A successful attempt's scratch, through the primitive and the audit like any cleanup. The whole
    /// `work/<episode>` goes: one job per episode at a time, so no other attempt's scratch is in use.
    pub async fn scratch(&self, id: &EpisodeId, attempt: i64) -> Result<CleanupReport> {
        let plan = Plan {
            targets: vec![Target::path(self.root.work_dir(id))],
            ..Plan::default()
        };
        let scope = format!("episode {id} attempt {attempt} scratch");
        self.for_job(id, Trigger::Scratch, scope, plan).await
    }

    /// Cleanup of failed or cancelled attempts (retry, recovery): claims every episode (409 if one is
    /// busy), removes each attempt's files but what `keep` keeps, then moves the episodes to `then`.
    pub async fn attempts(
        &self,
        attempts: &[(EpisodeId, i64)],
        keep: Keep,
        trigger: Trigger,
        actor: &str,
        dry_run: bool,
        then: Then,
    ) -> Result<Outcome> {
        let (scope, episode) = match attempts {
            [(id, n)] => (format!("episode {id} attempt {n}"), Some(id)),
            many => (format!("{} episodes", many.len()), None),
        };
        let ids: Vec<EpisodeId> = attempts.iter().map(|(id, _)| id.clone()).collect();
        let spec = Spec::new(trigger, actor, scope)
            .episode(episode)
            .dry_run(dry_run)
            .then(then);
        let run = self.begin_claimed(spec, &ids).await?;
        let mut plan = Plan::default();
        for (id, n) in attempts {
            let rows = self.registry.artifacts_of(id.as_str()).await?;
            plan.merge(attempt_plan(&self.root, id, *n, keep, rows));
        }
        self.execute(run, plan).await
    }

    /// Removes an episode's derived files but what `keep` keeps, then moves it to `then`.
    pub async fn episode(
        &self,
        id: &EpisodeId,
        keep: Keep,
        trigger: Trigger,
        actor: &str,
        dry_run: bool,
        then: Then,
    ) -> Result<Outcome> {
        self.episodes(
            std::slice::from_ref(id),
            keep,
            trigger,
            actor,
            dry_run,
            then,
        )
        .await
    }

    /// [`Self::episode`] for several episodes as one run: all claimed first (409 if one is busy).
    pub async fn episodes(
        &self,
        ids: &[EpisodeId],
        keep: Keep,
        trigger: Trigger,
        actor: &str,
        dry_run: bool,
        then: Then,
    ) -> Result<Outcome> {
        let (scope, episode) = match ids {
            [id] => (format!("episode {id}"), Some(id)),
            many => (format!("{} episodes", many.len()), None),
        };
        let spec = Spec::new(trigger, actor, scope)
            .episode(episode)
            .dry_run(dry_run)
            .then(then);
        let run = self.begin_claimed(spec, ids).await?;
        let mut plan = Plan::default();
        for id in ids {
            let rows = self.registry.artifacts_of(id.as_str()).await?;
            plan.merge(episode_plan(&self.root, id, keep, rows));
        }
        self.execute(run, plan).await
    }

    /// One clip's directory (`clips/<n>/`: its four renditions and thumbnail) and the rows in it. The
    /// episode stays as it is, or with `then` = [`Then::RegenerateClip`] a job to cut it again is queued
    /// by the commit. 404 when the clip has neither a row nor a directory.
    pub async fn clip(
        &self,
        id: &EpisodeId,
        n: u32,
        actor: &str,
        dry_run: bool,
        then: Then,
    ) -> Result<Outcome> {
        self.clip_edit(id, n, actor, dry_run, then, |_| async { Ok(()) })
            .await
    }

    /// [`Self::clip`], with `prepare` run once the episode is claimed and before anything moves (real
    /// runs only): a clip edit writes the episode's new highlights there, so no job can read them
    /// half-made and the clip job the commit queues reads them whole. A failed `prepare` refuses the
    /// request: the run is discarded and nothing moved.
    pub async fn clip_edit<F, Fut>(
        &self,
        id: &EpisodeId,
        n: u32,
        actor: &str,
        dry_run: bool,
        then: Then,
        prepare: F,
    ) -> Result<Outcome>
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = Result<()>>,
    {
        let spec = Spec::new(Trigger::Clip, actor, format!("episode {id} clip {n}"))
            .episode(Some(id))
            .dry_run(dry_run)
            .then(then);
        let run = self.begin_claimed(spec, std::slice::from_ref(id)).await?;
        if !dry_run && let Err(e) = prepare(run.record.id.clone()).await {
            self.registry.release_episodes(&run.record.id).await?;
            self.registry.discard_run(&run.record.id).await?;
            return Err(e);
        }
        let dir = self.root.clip_dir(id, n);
        let rows = self.registry.artifacts_of(id.as_str()).await?;
        let artifact_ids: Vec<i64> = rows
            .iter()
            .filter(|r| super::plan::is_within(&r.path, &dir))
            .map(|r| r.id)
            .collect();
        let exists = std::fs::symlink_metadata(self.root.abs(&dir)).is_ok();
        if artifact_ids.is_empty() && !exists && then == Then::Release {
            // Nothing to delete is not a run that happened: the request is refused.
            self.registry.release_episodes(&run.record.id).await?;
            self.registry.discard_run(&run.record.id).await?;
            return Err(Error::NotFound(format!("episode `{id}` has no clip {n}")));
        }
        let plan = Plan {
            targets: vec![Target {
                rel: dir,
                artifact_ids,
            }],
            ..Plan::default()
        };
        self.execute(run, plan).await
    }

    /// An audited run that moves nothing and owns the episode while `prepare` rewrites one of its files
    /// (new highlight candidates): no job can start or read meanwhile.
    pub async fn edit_episode<F, Fut>(
        &self,
        id: &EpisodeId,
        scope: String,
        actor: &str,
        prepare: F,
    ) -> Result<Outcome>
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = Result<()>>,
    {
        let spec = Spec::new(Trigger::Clip, actor, scope).episode(Some(id));
        let run = self.begin_claimed(spec, std::slice::from_ref(id)).await?;
        if let Err(e) = prepare(run.record.id.clone()).await {
            self.registry.release_episodes(&run.record.id).await?;
            self.registry.discard_run(&run.record.id).await?;
            return Err(e);
        }
        self.execute(run, Plan::default()).await
    }

    /// True when nothing of `attempt` remains: no registry row, no scratch directory.
    pub async fn verify_attempt_gone(&self, id: &EpisodeId, attempt: i64) -> Result<(), String> {
        let rows = self
            .registry
            .artifacts_of(id.as_str())
            .await
            .map_err(|e| e.to_string())?;
        if let Some(row) = rows.iter().find(|r| r.attempt == attempt) {
            return Err(format!(
                "{} of attempt {attempt} is still registered",
                row.path
            ));
        }
        let scratch = self.root.attempt_dir(id, attempt);
        if std::fs::symlink_metadata(self.root.abs(&scratch)).is_ok() {
            return Err(format!("{scratch} still exists"));
        }
        Ok(())
    }

    /// A real run on behalf of the episode's live job, which owns the episode: nothing is claimed, and
    /// the job's own end records the episode's state.
    async fn for_job(
        &self,
        id: &EpisodeId,
        trigger: Trigger,
        scope: String,
        plan: Plan,
    ) -> Result<CleanupReport> {
        let spec = Spec::new(trigger, "system", scope).episode(Some(id));
        let run = self.begin_owned(spec).await?;
        Ok(self.execute(run, plan).await?.report)
    }

    /// A run over episodes their live job owns (the job's own cleanup).
    async fn begin_owned(&self, spec: Spec<'_>) -> Result<ActiveRun> {
        self.begin(self.record(spec))
            .await?
            .ok_or_else(|| Error::Internal("a cleanup run could not be recorded".into()))
    }

    /// A run that owns `ids` (real runs) before it plans; 409 naming the job or run in the way.
    pub(super) async fn begin_claimed(
        &self,
        spec: Spec<'_>,
        ids: &[EpisodeId],
    ) -> Result<ActiveRun> {
        let dry_run = spec.dry_run;
        let run = self.begin_owned(spec).await?;
        if dry_run {
            return Ok(run);
        }
        let raw: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        if let Err(e) = self.registry.claim_episodes(&run.record.id, &raw).await {
            // Nothing was planned or moved: the request is refused, not a run that happened.
            self.registry.discard_run(&run.record.id).await?;
            return Err(e);
        }
        Ok(run)
    }
}
