//! A real run's commit, once phase one is done: the registry change in one transaction (tried three
//! times), then either the trash kept for undo or phase two, the purge. A commit the registry refuses
//! puts phase one back ([`Cleanup::undo_phase_one`]).

use super::plan::{WholeEpisode, is_within};
use super::report::add_purged;
use super::{Cleanup, Trigger};
use crate::error::{Error, Result};
use crate::now_ms;
use crate::registry::{JobRow, KeepTrash, PlannedRows, RunRecord, Then};
use app::api::{CleanupReport, PathError};

/// How a run's commit went.
pub(super) enum Committed {
    Yes(Vec<JobRow>),
    /// Refused, and phase one undone: the run ends as a failure and lets its episodes go.
    RolledBack,
    /// Refused with files still in the trash: the run stays live for recovery to finish.
    LeftToRecovery,
    /// Recovery took the run over while this process was silent: its trash and its outcome are
    /// recovery's, and this process touches neither.
    TakenOver(String),
}

impl Cleanup {
    /// Episodes removed whole whose every fixed place went: their rows go by the plan's bound. One with a
    /// place that could not be removed keeps the rows under that place; its other rows go by id.
    pub(super) async fn whole_rows(
        &self,
        wholes: &[WholeEpisode],
        report: &CleanupReport,
        drop_ids: &mut Vec<i64>,
    ) -> Result<Vec<String>> {
        let mut clean = Vec::new();
        for w in wholes {
            let stuck: Vec<&str> = report
                .errors
                .iter()
                .map(|e| e.path.as_str())
                .filter(|f| w.rels.iter().any(|r| is_within(f, r) || is_within(r, f)))
                .collect();
            if stuck.is_empty() {
                clean.push(w.id.clone());
                continue;
            }
            for row in self.registry.artifacts_of(&w.id).await? {
                let placed = w.rels.iter().any(|r| is_within(&row.path, r));
                if placed
                    && !stuck
                        .iter()
                        .any(|f| is_within(&row.path, f) || is_within(f, &row.path))
                {
                    drop_ids.push(row.id);
                }
            }
        }
        Ok(clean)
    }

    /// Commits what phase one took (`rows`, `taken`): keeping the trash when the run keeps it and took
    /// files, purging it otherwise.
    pub(super) async fn commit_taken<'a>(
        &self,
        record: &RunRecord,
        mut rows: PlannedRows<'a>,
        taken: &'a [(String, String)],
        report: &mut CleanupReport,
    ) -> Committed {
        let then = partial_end(record, report);
        // Only empty directories taken (e.g. `work/<episode>` left by a finished attempt): nothing to
        // restore, so the run is not a trash run. It stays audited like any other run.
        rows.keep =
            (record.keep_trash && !taken.is_empty() && self.root.trash(&record.id).holds_files())
                .then(|| KeepTrash {
                    retention_ms: self.policy.retention_ms(),
                    taken,
                });
        // The commit first, in both cases. Never the purge before it, nor overlapped: a commit the
        // registry refuses must find every file still in the trash, to put it back.
        let jobs = match self.commit(record, &rows, then).await {
            Ok(jobs) => jobs,
            Err(Error::Conflict(why)) => return Committed::TakenOver(why),
            Err(e) => return self.undo_phase_one(record, taken, report, e),
        };
        if rows.keep.is_some() {
            self.keep_run_trash(record, report);
        } else {
            self.purge_run_trash(record, report).await;
        }
        Committed::Yes(jobs)
    }

    /// A run that keeps its trash answers now, with everything out of the live tree: the registry
    /// recorded what a restore needs, and the trash is measured afterwards.
    fn keep_run_trash(&self, record: &RunRecord, report: &mut CleanupReport) {
        report.kept_until = Some(now_ms() + self.policy.retention_ms());
        let (registry, trash, id) = (
            self.registry.clone(),
            self.root.trash(&record.id),
            record.id.clone(),
        );
        tokio::spawn(async move {
            let Ok((files, bytes)) = tokio::task::spawn_blocking(move || trash.size()).await else {
                return;
            };
            if let Err(e) = registry.set_trash_size(&id, files, bytes).await {
                tracing::warn!(run = %id, error = %e, "recording the trash size failed");
            }
        });
    }

    /// A committed run that keeps nothing: its trash is purged before it answers.
    async fn purge_run_trash(&self, record: &RunRecord, report: &mut CleanupReport) {
        // Between two steps: only `crash` and `stop` mean something here.
        let _ = crate::failpoint::hit("run.after_commit");
        let trash = self.root.trash(&record.id);
        match tokio::task::spawn_blocking(move || trash.purge()).await {
            Ok(p) => add_purged(report, p),
            Err(e) => report.errors.push(PathError {
                path: format!(".trash/{}", record.id),
                message: format!("purge stopped: {e}"),
            }),
        }
    }

    /// The registry commit, tried three times: a busy database or a pool timeout passes, and a full disk
    /// gets the registry's reserve back before the next try.
    async fn commit(
        &self,
        record: &RunRecord,
        rows: &PlannedRows<'_>,
        then: Then,
    ) -> Result<Vec<JobRow>> {
        let mut tries = 0;
        loop {
            tries += 1;
            let committed = match crate::failpoint::hit("run.commit") {
                Ok(()) => {
                    self.registry
                        .commit_run(&record.id, &self.node, rows, then)
                        .await
                }
                Err(e) => Err(e),
            };
            match committed {
                // Taken over: not ours to retry, and not ours to undo (recovery replays the run).
                Err(e @ Error::Conflict(_)) => return Err(e),
                Ok(jobs) => return Ok(jobs),
                Err(e) if tries >= 3 => return Err(e),
                Err(e) => {
                    tracing::warn!(run = %record.id, error = %e, tries, "cleanup commit refused; trying again");
                    crate::pipeline::space::release_reserve_if_full(&self.root, &e.to_string());
                    tokio::time::sleep(std::time::Duration::from_millis(300 * tries)).await;
                }
            }
        }
    }
}

/// A partial cleanup never queues anything: the report says what is left and the caller says why
/// nothing was queued. The episode still reaches the state its files are in — a force reprocess that
/// could not remove everything leaves it idle; a retry leaves the failure visible with the stage reset.
fn partial_end(record: &RunRecord, report: &CleanupReport) -> Then {
    match record.then {
        _ if report.errors.is_empty() => record.then,
        Then::Requeue if record.trigger == Trigger::Force => Then::Reset,
        Then::Requeue => Then::ResetStage,
        Then::RegenerateClip(_) => Then::Release,
        other => other,
    }
}
