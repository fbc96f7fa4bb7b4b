//! Recovery: finishing what a dead owner left. Everything here is decided from the registry, so running
//! it beside a live server (a CLI command, a second process) is safe: a run whose owner still heartbeats,
//! or a job whose lease is current, is never touched.

use super::report::{add_purged, empty_report, result_of};
use super::{Cleanup, Keep, RUN_STALE_MS, Trigger};
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::registry::{LiveRun, PlannedRows, RunRecord, Then};
use app::api::{EpisodeState, Stage};
use std::collections::HashSet;

impl Cleanup {
    /// Finishes every run whose owner has gone silent. Returns how many it finished.
    pub async fn recover(&self) -> Result<usize> {
        let mut n = 0;
        for run in self.registry.live_runs().await? {
            if run.owner_gone(RUN_STALE_MS) {
                self.recover_run(&run).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Runs still owned by a live process, and runs whose trash is kept for undo: their trash is not
    /// a leftover to purge.
    pub(crate) async fn busy_runs(&self) -> Result<HashSet<String>> {
        let mut busy = self.registry.runs_holding_trash().await?;
        busy.extend(
            self.registry
                .live_runs()
                .await?
                .into_iter()
                .filter(|r| !r.owner_gone(RUN_STALE_MS))
                .map(|r| r.id),
        );
        Ok(busy)
    }

    /// Replays the end of an interrupted run: its trash purged, the rows of its episodes' files that are
    /// gone deleted, the end state it intended applied (unless its commit already happened), real counts.
    /// A run whose commit already recorded its trash for undo keeps it: only its report is missing.
    pub(crate) async fn recover_run(&self, run: &LiveRun) -> Result<()> {
        // Take the run over first, fenced: from here on its old owner's heartbeat, commit and finish
        // change nothing, even if it was only paused and wakes up now. The pid shortcut counts as
        // certain death; otherwise the owner must still be silent on the registry's clock.
        let certain = run
            .owner
            .as_deref()
            .is_some_and(crate::registry::liveness::is_gone);
        let token = format!("recovery:{}:{}", self.node, super::execute::new_token());
        let stale = (!certain).then_some(RUN_STALE_MS);
        if !self
            .registry
            .take_over_run(&run.id, run.owner.as_deref(), &token, stale)
            .await?
        {
            tracing::info!(run = %run.id, "run not taken over: its owner is back, or another process has it");
            return Ok(());
        }
        let purged = if run.trash.as_deref() == Some("kept") {
            crate::storage::Purged::default()
        } else {
            tokio::task::spawn_blocking({
                let trash = self.root.trash(&run.id);
                move || trash.purge()
            })
            .await
            .map_err(|e| Error::Internal(format!("purge of {} stopped: {e}", run.id)))?
        };
        if run.phase == "planned" {
            let episodes = self.registry.episodes_of_run(&run.id).await?;
            let gone: Vec<i64> = self
                .registry
                .artifacts_of_many(&episodes)
                .await?
                .into_iter()
                .filter(|a| std::fs::symlink_metadata(self.root.abs(&a.path)).is_err())
                .map(|a| a.id)
                .collect();
            let then = Then::parse(run.then_action.as_deref().unwrap_or(""));
            let rows = PlannedRows {
                ids: &gone,
                ..PlannedRows::default()
            };
            self.registry
                .commit_run(&run.id, &token, &rows, then)
                .await?;
        }
        let record = RunRecord {
            id: run.id.clone(),
            actor: "recovery".into(),
            trigger: run.trigger,
            scope: String::new(),
            episode: None,
            dry_run: false,
            then: Then::Release,
            keep_trash: false,
        };
        let mut report = empty_report(&record, vec![]);
        add_purged(&mut report, purged);
        report.result = result_of(&report);
        self.registry.finish_run(&report, &token).await?;
        tracing::warn!(run = %run.id, owner = ?run.owner, silent_ms = run.silent_ms, files = report.files,
            "finished a cleanup run whose owner stopped");
        Ok(())
    }

    /// Jobs whose lease expired (database clock) become interrupted, their episodes failed and their
    /// attempts cleaned; episodes shown queued or running without any live job are failed the same way.
    pub async fn repair_registry(&self) -> Result<usize> {
        let mut repaired = 0;
        for job in self.registry.expired_jobs().await? {
            if self
                .registry
                .interrupt_job(job.id, "interrupted: the worker stopped")
                .await?
            {
                self.fail_interrupted(&job.episode, job.attempt).await?;
                repaired += 1;
            }
        }
        for ep in self
            .registry
            .episodes_in_states(&[EpisodeState::Queued, EpisodeState::Running])
            .await?
        {
            if self.registry.live_job(&ep.id).await?.is_none() {
                self.fail_interrupted(&ep.id, ep.attempt).await?;
                repaired += 1;
            }
        }
        Ok(repaired)
    }

    /// Episodes [`Self::repair_registry`] would fail now (a dry run plans them like failed ones).
    pub(crate) async fn repair_candidates(&self) -> Result<Vec<String>> {
        let mut out: Vec<String> = self
            .registry
            .expired_jobs()
            .await?
            .into_iter()
            .map(|j| j.episode)
            .collect();
        for ep in self
            .registry
            .episodes_in_states(&[EpisodeState::Queued, EpisodeState::Running])
            .await?
        {
            if self.registry.live_job(&ep.id).await?.is_none() {
                out.push(ep.id);
            }
        }
        Ok(out)
    }

    async fn fail_interrupted(&self, episode: &str, attempt: i64) -> Result<()> {
        let stage = self
            .registry
            .episode(episode)
            .await?
            .and_then(|e| e.progress_stage.as_deref().and_then(Stage::parse))
            .unwrap_or(Stage::Prepped);
        // A failure the job recorded itself keeps its reason; only a still-live episode becomes
        // "interrupted".
        self.registry
            .fail_interrupted(episode, attempt, stage)
            .await?;
        let Ok(id) = EpisodeId::parse(episode) else {
            return Ok(());
        };
        // A worker that died is no verdict on the episode: with `--retry-interrupted N` its attempt is
        // cleaned and a fresh one queued, up to N times, before the failure is left for a person.
        let interruptions = self.registry.interruptions(episode).await?;
        let then = if interruptions <= i64::from(self.retry_interrupted) && interruptions > 0 {
            Then::Requeue
        } else {
            Then::ResetStage
        };
        match self
            .attempts(
                &[(id, attempt)],
                Keep::NOTHING,
                Trigger::Recovery,
                "system",
                false,
                then,
            )
            .await
        {
            Ok(o) => tracing::warn!(
                episode,
                files = o.report.files,
                requeued = o.jobs.len(),
                "interrupted attempt cleaned"
            ),
            // Someone else owns the episode now (a new job, another run): theirs to finish.
            Err(Error::Conflict(why)) => {
                tracing::info!(episode, %why, "interrupted attempt left to its new owner")
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }
}
