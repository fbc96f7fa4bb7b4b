//! The cleanup actions callers ask for. Each is one audited run; real runs own the episodes they clean
//! (claimed before planning, so the plan cannot go stale under a new job).

use super::execute::{ActiveRun, Spec};
use super::plan::{Plan, Target, attempt_plan, episode_paths, episode_plan, whole_episode_plan};
use super::sweep::{Leave, MASS_BYTES, Registered, find_orphans, guard, looks_unmounted};
use super::{Cleanup, Keep, Outcome, RUN_STALE_MS, Trigger, UPLOAD_STALE_MS};
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::registry::Then;
use crate::storage::Purged;
use app::api::{CleanupReport, EpisodeState, PathError};
use std::collections::HashSet;
use std::time::{Duration, SystemTime};

pub use app::api::DeepCleanRequest;

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
        let spec = Spec {
            trigger,
            actor,
            scope,
            episode,
            dry_run,
            then,
            purge_now: false,
        };
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
        let spec = Spec {
            trigger,
            actor,
            scope,
            episode,
            dry_run,
            then,
            purge_now: false,
        };
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
        let spec = Spec {
            trigger: Trigger::Clip,
            actor,
            scope: format!("episode {id} clip {n}"),
            episode: Some(id),
            dry_run,
            then,
            purge_now: false,
        };
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
        let spec = Spec {
            trigger: Trigger::Clip,
            actor,
            scope,
            episode: Some(id),
            dry_run: false,
            then: Then::Release,
            purge_now: false,
        };
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

    /// Server-side Deep Clean. Single-flight through the registry: while one real Deep Clean is live in
    /// any process, other callers wait for it and get its report.
    pub async fn deep_clean(&self, actor: &str, req: DeepCleanRequest) -> Result<CleanupReport> {
        loop {
            let spec = Spec {
                trigger: Trigger::DeepClean,
                actor,
                scope: "all".into(),
                episode: None,
                dry_run: req.dry_run,
                then: Then::Release,
                purge_now: req.purge_now,
            };
            if let Some(run) = self.begin(self.record(spec)).await? {
                return self.deep_clean_run(run, req).await;
            }
            match self.registry.live_deep_clean().await? {
                Some(live) if live.owner_gone(RUN_STALE_MS) => self.recover_run(&live).await?,
                Some(live) => {
                    if let Some(report) = self.wait_for(&live.id).await? {
                        return Ok(report);
                    }
                }
                None => {}
            }
        }
    }

    /// Waits for another caller's run. `None` when its owner died meanwhile (recovered; start anew).
    async fn wait_for(&self, run_id: &str) -> Result<Option<CleanupReport>> {
        loop {
            if let Some(report) = self.registry.run_report(run_id).await? {
                return Ok(Some(report));
            }
            let live = self.registry.live_runs().await?;
            match live.iter().find(|r| r.id == run_id) {
                Some(r) if r.owner_gone(RUN_STALE_MS) => {
                    self.recover_run(r).await?;
                    return Ok(None);
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    async fn deep_clean_run(&self, run: ActiveRun, req: DeepCleanRequest) -> Result<CleanupReport> {
        let started = std::time::Instant::now();
        let run_id = run.record.id.clone();
        let leftovers = if req.dry_run {
            Purged::default()
        } else {
            self.repair_registry().await?;
            self.recover().await?;
            let busy = self.busy_runs().await?;
            let root = self.root.clone();
            tokio::task::spawn_blocking(move || root.purge_all_trash(&busy))
                .await
                .map_err(|e| Error::Internal(format!("trash purge stopped: {e}")))?
        };
        let repaired = started.elapsed();
        let cleaned = self.deep_clean_episodes(&run_id, req.dry_run).await?;
        let claimed = started.elapsed();
        let row_bound = self.registry.max_artifact_id().await?;
        let mut strays: std::collections::HashMap<String, Vec<(i64, String)>> = Default::default();
        for (row, episode, rel) in self
            .registry
            .artifacts_outside_fixed_places(&cleaned)
            .await?
        {
            strays.entry(episode).or_default().push((row, rel));
        }
        let mut plan = Plan::default();
        for raw in &cleaned {
            let Ok(id) = EpisodeId::parse(raw) else {
                continue;
            };
            let mine = strays.remove(raw).unwrap_or_default();
            plan.merge(whole_episode_plan(&self.root, &id, mine, row_bound));
        }
        match self.sweep_into(&mut plan, &run_id, &cleaned, &req).await {
            Ok(()) => {}
            Err(e) => {
                let message = e.to_string();
                self.refuse(
                    run,
                    vec![PathError {
                        path: "orphan sweep".into(),
                        message,
                    }],
                )
                .await?;
                return Err(e);
            }
        }
        plan.targets.extend(self.upload_targets(None).await?);
        tracing::debug!(
            run = %run_id,
            repair_ms = repaired.as_millis() as u64,
            claim_ms = (claimed - repaired).as_millis() as u64,
            plan_ms = (started.elapsed() - claimed).as_millis() as u64,
            targets = plan.targets.len(),
            "deep clean planned"
        );
        let mut outcome = self.execute(run, plan).await?;
        if leftovers.files > 0 || !leftovers.errors.is_empty() {
            super::execute::add_purged(&mut outcome.report, leftovers);
        }
        Ok(outcome.report)
    }

    /// Failed and cancelled episodes no job or other run owns — claimed by this run when it is real; a
    /// dry run plans the same set, plus what its repair step would fail.
    async fn deep_clean_episodes(&self, run_id: &str, dry_run: bool) -> Result<Vec<String>> {
        let mut ids: Vec<String> = self
            .registry
            .episodes_in_states(&[EpisodeState::Failed, EpisodeState::Cancelled])
            .await?
            .into_iter()
            .map(|e| e.id)
            .collect();
        if dry_run {
            ids.extend(self.repair_candidates().await?);
            let live = self.live_episodes().await?;
            let busy: HashSet<String> = self
                .registry
                .episodes_being_cleaned()
                .await?
                .into_iter()
                .collect();
            ids.retain(|e| !live.contains(e) && !busy.contains(e));
            ids.sort();
            ids.dedup();
            return Ok(ids);
        }
        self.registry.claim_free_episodes(run_id, &ids).await
    }

    /// Adds the orphan sweep to `plan`, unless the data root looks unmounted (reported) or the guard stops
    /// it (409 without a matching confirmation; a dry run reports it and shows what would go).
    async fn sweep_into(
        &self,
        plan: &mut Plan,
        run_id: &str,
        cleaned: &[String],
        req: &DeepCleanRequest,
    ) -> Result<()> {
        let excluded: HashSet<String> = cleaned.iter().cloned().collect();
        let owned = self.registry.paths_owned_except(run_id, &excluded).await?;
        if let Some(e) = looks_unmounted(&self.root, &owned) {
            plan.errors.push(e);
            return Ok(());
        }

        let known: Vec<EpisodeId> = self
            .registry
            .episode_ids()
            .await?
            .iter()
            .filter_map(|e| EpisodeId::parse(e).ok())
            .collect();
        let protected = self.protected_paths().await?;
        let covered: HashSet<String> = plan.targets.iter().map(|t| t.rel.clone()).collect();
        let mut reg = Registered {
            owned: &owned,
            owned_bytes: 0,
            known: &known,
        };
        let leave = Leave {
            protected: &protected,
            covered: &covered,
        };
        let root = self.root.clone();
        let found = find_orphans(&root, &reg, &leave);
        // Only the share-of-bytes rule needs the registry's byte total; skip the scan when it cannot apply.
        if found.bytes >= MASS_BYTES {
            reg.owned_bytes = self.registry.artifact_bytes_except(&excluded).await?;
        }
        if let Some(g) = guard(&found, &reg) {
            let how = format!(
                "{} To go ahead, repeat the call with \"confirm_orphans\": {}, \"orphans_digest\": \"{}\" (the file count and the digest of those files).",
                g.reason, g.files, g.digest
            );
            match req.confirm_orphans {
                Some(n) if n == g.files => {
                    if let Some(d) = &req.orphans_digest
                        && *d != g.digest
                    {
                        return Err(Error::Conflict(format!(
                            "the orphans changed since the preview: still {n} files, but not the same ones (digest {} now, {d} confirmed); preview again",
                            g.digest
                        )));
                    }
                }
                // With the digest, the caller confirmed what a preview named: the world changed (409).
                // A bare count that does not match may as well be a typo (400).
                Some(n) if req.orphans_digest.is_some() => {
                    return Err(Error::Conflict(format!(
                        "the orphans changed since the preview: the sweep would remove {} files now, {n} were confirmed; preview again",
                        g.files
                    )));
                }
                Some(n) => {
                    return Err(Error::BadRequest(format!(
                        "`confirm_orphans` is {n} but the sweep would remove {} files now; preview again",
                        g.files
                    )));
                }
                None if req.dry_run => plan.errors.push(PathError {
                    path: "orphan sweep".into(),
                    message: how,
                }),
                None => return Err(Error::Conflict(format!("orphan sweep stopped: {how}"))),
            }
        } else if let Some(n) = req.confirm_orphans {
            if req.orphans_digest.is_some() {
                return Err(Error::Conflict(format!(
                    "the orphans changed since the preview: the sweep would remove {} files now and needs no confirmation ({n} were confirmed); preview again",
                    found.files
                )));
            }
            return Err(Error::BadRequest(format!(
                "`confirm_orphans` is {n} but the sweep needs no confirmation now ({} files); omit it",
                found.files
            )));
        }
        plan.merge(found.plan);
        Ok(())
    }

    /// Places a live job may be writing, and episodes other runs are cleaning: never swept.
    async fn protected_paths(&self) -> Result<Vec<String>> {
        let mut episodes = self.live_episodes().await?;
        episodes.extend(self.registry.episodes_being_cleaned().await?);
        Ok(episodes
            .iter()
            .filter_map(|e| EpisodeId::parse(e).ok())
            .flat_map(|id| episode_paths(&self.root, &id, Keep::NOTHING))
            .collect())
    }

    /// Periodic sweep: stale uploads, abandoned scratch dirs, trash of runs whose owner is gone; then the
    /// storage budget, if one is set.
    pub async fn scheduled(&self) -> Result<Option<CleanupReport>> {
        let swept = self.sweep_scheduled().await?;
        if let Some(o) = self.enforce_budget(false).await? {
            tracing::info!(run = %o.report.run_id, paths = o.report.paths.len(), "storage budget evicted outputs");
        }
        Ok(swept)
    }

    async fn sweep_scheduled(&self) -> Result<Option<CleanupReport>> {
        self.recover().await?;
        let spec = Spec {
            trigger: Trigger::Schedule,
            actor: "scheduler",
            scope: "uploads, work, trash".into(),
            episode: None,
            dry_run: false,
            then: Then::Release,
            purge_now: false,
        };
        let record = self.record(spec);
        let mut plan = Plan::default();
        plan.targets
            .extend(self.upload_targets(Some(self.stale_after)).await?);
        let stale_work = self.stale_work_dirs();
        let busy = self.busy_runs().await?;
        let root = self.root.clone();
        let leftovers = tokio::task::spawn_blocking(move || root.purge_all_trash(&busy))
            .await
            .map_err(|e| Error::Internal(format!("trash purge stopped: {e}")))?;
        if plan.targets.is_empty()
            && stale_work.is_empty()
            && leftovers.files == 0
            && leftovers.errors.is_empty()
        {
            return Ok(None);
        }
        let Some(run) = self.begin(record).await? else {
            return Ok(None);
        };
        // A work dir goes only with its episode claimed, so no job can start writing into it meanwhile.
        let claimed = self
            .registry
            .claim_free_episodes(&run.record.id, &stale_work)
            .await?;
        plan.targets
            .extend(claimed.iter().map(|e| Target::path(format!("work/{e}"))));
        let mut outcome = self.execute(run, plan).await?;
        super::execute::add_purged(&mut outcome.report, leftovers);
        Ok(Some(outcome.report))
    }

    fn stale_work_dirs(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.root.abs("work")) else {
            return vec![];
        };
        entries
            .flatten()
            .filter(|e| older_than(&e.path(), self.stale_after))
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|name| EpisodeId::parse(name).is_ok())
            .collect()
    }

    /// Entries of `uploads/` no live upload owns, optionally only those older than `min_age`.
    async fn upload_targets(&self, min_age: Option<Duration>) -> Result<Vec<Target>> {
        self.registry.forget_stale_uploads(UPLOAD_STALE_MS).await?;
        let busy = self.registry.live_uploads(UPLOAD_STALE_MS).await?;
        let Ok(entries) = std::fs::read_dir(self.root.abs("uploads")) else {
            return Ok(vec![]);
        };
        Ok(entries
            .flatten()
            .filter_map(|e| {
                let rel = format!("uploads/{}", e.file_name().to_str()?);
                let old = min_age.is_none_or(|age| older_than(&e.path(), age));
                (!busy.contains(&rel) && old).then(|| Target::path(rel))
            })
            .collect())
    }

    /// Episodes a queued or running job owns right now.
    async fn live_episodes(&self) -> Result<HashSet<String>> {
        Ok(self
            .registry
            .live_jobs()
            .await?
            .into_iter()
            .map(|j| j.episode)
            .collect())
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
        let spec = Spec {
            trigger,
            actor: "system",
            scope,
            episode: Some(id),
            dry_run: false,
            then: Then::Release,
            purge_now: false,
        };
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

fn older_than(path: &std::path::Path, age: Duration) -> bool {
    std::fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|d| d >= age)
}
