//! The schedule's periodic pass: uploads nobody finished, abandoned scratch directories, trash of runs
//! whose owner is gone, then the storage budget.

use super::execute::Spec;
use super::plan::{Plan, Target};
use super::{Cleanup, Trigger, UPLOAD_STALE_MS};
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use app::api::CleanupReport;
use std::time::{Duration, SystemTime};

impl Cleanup {
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
        let spec = Spec::new(Trigger::Schedule, "scheduler", "uploads, work, trash");
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
        super::report::add_purged(&mut outcome.report, leftovers);
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
    pub(super) async fn upload_targets(&self, min_age: Option<Duration>) -> Result<Vec<Target>> {
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
}

fn older_than(path: &std::path::Path, age: Duration) -> bool {
    std::fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|d| d >= age)
}
