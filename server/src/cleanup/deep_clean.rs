//! Deep Clean: every failed or cancelled episode removed whole, the orphan sweep (behind its guard), the
//! uploads nobody finished and the trash of runs whose owner is gone, as one single-flight run.

use super::execute::{ActiveRun, Spec};
use super::plan::{Plan, episode_paths, whole_episode_plan};
use super::sweep::{
    Leave, MASS_BYTES, Registered, SweepGuard, find_orphans, guard, looks_unmounted,
};
use super::{Cleanup, Keep, RUN_STALE_MS, Trigger};
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::storage::Purged;
use app::api::{CleanupReport, EpisodeState, PathError};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

pub use app::api::DeepCleanRequest;

impl Cleanup {
    /// Server-side Deep Clean. Single-flight through the registry: while one real Deep Clean is live in
    /// any process, other callers wait for it and get its report.
    pub async fn deep_clean(&self, actor: &str, req: DeepCleanRequest) -> Result<CleanupReport> {
        loop {
            let spec = Spec::new(Trigger::DeepClean, actor, "all")
                .dry_run(req.dry_run)
                .purge_now(req.purge_now);
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
        let mut plan = self.whole_episodes_plan(&cleaned).await?;
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
            super::report::add_purged(&mut outcome.report, leftovers);
        }
        Ok(outcome.report)
    }

    /// Every cleaned episode removed whole: its fixed places, and its rows registered outside them.
    async fn whole_episodes_plan(&self, cleaned: &[String]) -> Result<Plan> {
        let row_bound = self.registry.max_artifact_id().await?;
        let mut strays: HashMap<String, Vec<(i64, String)>> = HashMap::new();
        for (row, episode, rel) in self
            .registry
            .artifacts_outside_fixed_places(cleaned)
            .await?
        {
            strays.entry(episode).or_default().push((row, rel));
        }
        let mut plan = Plan::default();
        for raw in cleaned {
            let Ok(id) = EpisodeId::parse(raw) else {
                continue;
            };
            let mine = strays.remove(raw).unwrap_or_default();
            plan.merge(whole_episode_plan(&self.root, &id, mine, row_bound));
        }
        Ok(plan)
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

        let known = self.known_episodes().await?;
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
        let found = find_orphans(&self.root, &reg, &leave);
        // Only the share-of-bytes rule needs the registry's byte total; skip the scan when it cannot apply.
        if found.bytes >= MASS_BYTES {
            reg.owned_bytes = self.registry.artifact_bytes_except(&excluded).await?;
        }
        match guard(&found, &reg) {
            Some(g) => confirmed(&g, req, plan)?,
            None => no_confirmation_needed(found.files, req)?,
        }
        plan.merge(found.plan);
        Ok(())
    }

    /// Every registered episode, as ids (a malformed one is left out).
    async fn known_episodes(&self) -> Result<Vec<EpisodeId>> {
        Ok(self
            .registry
            .episode_ids()
            .await?
            .iter()
            .filter_map(|e| EpisodeId::parse(e).ok())
            .collect())
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
}

/// A sweep the guard stopped goes ahead only when the caller confirmed this very sweep: the count, and
/// the digest when it has one. A dry run without a confirmation reports the stop and still shows what
/// would go.
fn confirmed(g: &SweepGuard, req: &DeepCleanRequest, plan: &mut Plan) -> Result<()> {
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
    Ok(())
}

/// A sweep the guard lets through needs no confirmation: one given anyway was for another sweep (409
/// with a digest: the orphans changed since the preview; 400 for a bare count).
fn no_confirmation_needed(files: i64, req: &DeepCleanRequest) -> Result<()> {
    let Some(n) = req.confirm_orphans else {
        return Ok(());
    };
    if req.orphans_digest.is_some() {
        return Err(Error::Conflict(format!(
            "the orphans changed since the preview: the sweep would remove {files} files now and needs no confirmation ({n} were confirmed); preview again"
        )));
    }
    Err(Error::BadRequest(format!(
        "`confirm_orphans` is {n} but the sweep needs no confirmation now ({files} files); omit it"
    )))
}
