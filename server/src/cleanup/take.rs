//! Phase one of a run: every target moved into `.trash/<run>/` (measured instead, in a dry run), each
//! move only while the run is still this process's; and phase one undone, file by file, when the registry
//! refuses the commit.

use super::Cleanup;
use super::commit::Committed;
use super::execute::ActiveRun;
use super::plan::Target;
use crate::registry::RunRecord;
use app::api::{CleanupReport, PathError};
use std::collections::HashSet;

impl Cleanup {
    /// Phase one (or its measurement in a dry run). Returns the artifact ids whose files are gone, and
    /// `(path, stored)` for every entry moved into the trash.
    pub(super) fn take_all(
        &self,
        run: &ActiveRun,
        targets: Vec<Target>,
        report: &mut CleanupReport,
    ) -> (Vec<i64>, Vec<(String, String)>) {
        let record = &run.record;
        let trash = self.root.trash(&record.id);
        let mut drop_ids = Vec::new();
        let mut taken = Vec::new();
        let mut seen = HashSet::new();
        for t in targets {
            if !seen.insert(t.rel.clone()) {
                continue;
            }
            if let Some(message) = may_not_move(run) {
                report.errors.push(PathError {
                    path: t.rel,
                    message,
                });
                continue;
            }
            let res = if record.dry_run {
                trash.measure(&t.rel).map(|m| {
                    report.files += m.files;
                    report.bytes += m.bytes;
                    m.existed
                })
            } else {
                trash.take(&t.rel).map(|stored| match stored {
                    Some(stored) => {
                        taken.push((t.rel.clone(), stored));
                        true
                    }
                    None => false,
                })
            };
            match res {
                Ok(existed) => {
                    if existed {
                        report.paths.push(t.rel);
                    }
                    drop_ids.extend(t.artifact_ids);
                }
                Err(message) => {
                    tracing::warn!(run = %record.id, path = %t.rel, %message, "cleanup could not remove a path");
                    report.errors.push(PathError {
                        path: t.rel,
                        message,
                    });
                }
            }
        }
        (drop_ids, taken)
    }

    /// The registry refused the commit: every file goes back where it was, so the rows that still say
    /// it exists are true again, and the run ends as a failure that changed nothing. A file that cannot
    /// go back (something took its place) stays in the trash; then the run is left live for recovery,
    /// whose replay deletes the rows of what is gone once the registry takes writes again.
    pub(super) fn undo_phase_one(
        &self,
        record: &RunRecord,
        taken: &[(String, String)],
        report: &mut CleanupReport,
        e: crate::error::Error,
    ) -> Committed {
        tracing::error!(run = %record.id, error = %e, "the registry refused the cleanup's commit; putting its files back");
        let trash = self.root.trash(&record.id);
        let mut stuck = 0;
        for (rel, stored) in taken {
            if let Err(why) = trash.give_back(stored, rel) {
                stuck += 1;
                report.errors.push(PathError {
                    path: rel.clone(),
                    message: format!("could not be put back from the trash: {why}"),
                });
            }
        }
        if stuck == 0 {
            // Only the empty directories of `.trash/<run>` are left: nothing to keep for a run that
            // changed nothing.
            let _ = trash.purge();
        }
        report.paths.clear();
        report.files = 0;
        report.bytes = 0;
        let message = if stuck == 0 {
            format!(
                "the registry refused the commit ({e}); every file was put back, nothing changed"
            )
        } else {
            format!(
                "the registry refused the commit ({e}); {stuck} path(s) stay in the trash until recovery \
                 finishes the run"
            )
        };
        report.errors.push(PathError {
            path: "registry".into(),
            message,
        });
        if stuck == 0 {
            Committed::RolledBack
        } else {
            Committed::LeftToRecovery
        }
    }
}

/// Why a real run may not move its next target now, if it may not: an injected failure (failpoint
/// `run.take`), or ownership it can no longer vouch for. A dry run moves nothing and is always allowed.
fn may_not_move(run: &ActiveRun) -> Option<String> {
    if run.record.dry_run {
        return None;
    }
    if let Err(e) = crate::failpoint::hit("run.take") {
        return Some(e.to_string());
    }
    if !run.still_ours() {
        return Some(
            "not moved: this run's ownership could not be confirmed (no heartbeat \
             renewal for 10 s); left for recovery"
                .into(),
        );
    }
    None
}
