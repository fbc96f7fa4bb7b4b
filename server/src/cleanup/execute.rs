//! A run's life. `begin` writes its row (owner = this node) and starts its heartbeat; `execute` moves every
//! target into `.trash/<run>/` (phase one), commits the registry change in one transaction — planned rows
//! by id, the episodes' end state, their release — then purges the trash (phase two) and stores the report.
//! A crash anywhere leaves a run whose heartbeat stops; `repair` finishes it from the registry.

use super::plan::{Plan, WholeEpisode, is_within};
use super::{Cleanup, Outcome, RUN_HEARTBEAT, RUN_STALE_MS, Trigger};
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::now_ms;
use crate::registry::{KeepTrash, PlannedRows, RunRecord, Then};
use crate::storage::Purged;
use app::api::{CleanupReport, CleanupResult, PathError};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// What a caller asks a run to be.
pub(crate) struct Spec<'a> {
    pub trigger: Trigger,
    pub actor: &'a str,
    pub scope: String,
    pub episode: Option<&'a EpisodeId>,
    pub dry_run: bool,
    pub then: Then,
    /// Free the space before answering even if the trigger keeps its trash (a Deep Clean's "purge now").
    pub purge_now: bool,
}

/// A run this process owns: its record and its heartbeat, which stops when the run is dropped.
pub(crate) struct ActiveRun {
    pub record: RunRecord,
    started: Instant,
    heartbeat: tokio::task::JoinHandle<()>,
    /// The heartbeat's last word on ownership, for phase one to check before every move.
    lease: Arc<Lease>,
}

/// What the heartbeat knows: whether the registry still says the run is ours, and when it last said so.
#[derive(Default)]
struct Lease {
    lost: AtomicBool,
    /// Milliseconds after the run's start of the last renewal the registry accepted.
    renewed_ms: AtomicU64,
}

/// Phase one stops moving files once the last renewal is this old: past it, recovery (which waits for
/// [`RUN_STALE_MS`] of silence on the registry's clock) may have taken the run over, and a file moved
/// after that would be in a trash nobody accounts for.
const MOVE_WITHIN_MS: u64 = (RUN_STALE_MS as u64) / 2;

impl ActiveRun {
    /// Whether this process may still act for the run: not taken over, and renewed recently enough
    /// that no recovery can have judged it dead.
    fn still_ours(&self) -> bool {
        let since = self.started.elapsed().as_millis() as u64;
        !self.lease.lost.load(Ordering::Acquire)
            && since.saturating_sub(self.lease.renewed_ms.load(Ordering::Acquire)) < MOVE_WITHIN_MS
    }
}

impl Drop for ActiveRun {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

impl Cleanup {
    pub(crate) fn record(&self, spec: Spec<'_>) -> RunRecord {
        RunRecord {
            id: new_run_id(),
            actor: spec.actor.to_string(),
            trigger: spec.trigger,
            scope: spec.scope,
            episode: spec.episode.map(|e| e.to_string()),
            dry_run: spec.dry_run,
            then: spec.then,
            keep_trash: super::keeps_trash(spec.trigger)
                && !spec.purge_now
                && !self.policy.retention.is_zero(),
        }
    }

    /// Writes the run's row and starts its heartbeat. `None`: the registry refused a second live Deep
    /// Clean (another caller, maybe another process, is running one).
    pub(crate) async fn begin(&self, record: RunRecord) -> Result<Option<ActiveRun>> {
        if !self.registry.start_run(&record, &self.node).await? {
            return Ok(None);
        }
        if !record.dry_run {
            crate::failpoint::hit("run.begin")?;
        }
        let registry = self.registry.clone();
        let id = record.id.clone();
        let owner = self.node.clone();
        let lease = Arc::new(Lease::default());
        let started = Instant::now();
        let beat = Arc::clone(&lease);
        let heartbeat = tokio::spawn(async move {
            loop {
                tokio::time::sleep(RUN_HEARTBEAT).await;
                match registry.heartbeat_run(&id, &owner).await {
                    Ok(true) => beat
                        .renewed_ms
                        .store(started.elapsed().as_millis() as u64, Ordering::Release),
                    Ok(false) => {
                        tracing::warn!(run = %id, "run taken over by recovery; this process stops acting for it");
                        beat.lost.store(true, Ordering::Release);
                        return;
                    }
                    Err(e) => tracing::warn!(run = %id, error = %e, "run heartbeat failed"),
                }
            }
        });
        Ok(Some(ActiveRun {
            record,
            started,
            heartbeat,
            lease,
        }))
    }

    /// Ends a run that will move nothing (its claims or the guard refused it), recording why.
    pub(crate) async fn refuse(
        &self,
        run: ActiveRun,
        errors: Vec<PathError>,
    ) -> Result<CleanupReport> {
        self.registry.release_episodes(&run.record.id).await?;
        let mut report = empty_report(&run.record, errors);
        report.result = CleanupResult::Failed;
        report.duration_ms = run.started.elapsed().as_millis() as i64;
        self.registry.finish_run(&report, &self.node).await?;
        Ok(report)
    }

    /// Both phases and the commit.
    pub(crate) async fn execute(&self, run: ActiveRun, plan: Plan) -> Result<Outcome> {
        let record = &run.record;
        let mut report = empty_report(record, plan.errors);
        let (mut drop_ids, taken) = self.take_all(&run, plan.targets, &mut report);
        let whole = self
            .whole_rows(&plan.wholes, &report, &mut drop_ids)
            .await?;
        let moved = run.started.elapsed();
        let mut jobs = Vec::new();
        if record.dry_run {
            self.registry.release_episodes(&record.id).await?;
        } else {
            // Failpoints for the recovery tests: die, or stop (SIGSTOP, until a SIGCONT) past the run's
            // lease, between phase one and the registry commit.
            if std::env::var_os("EWG_FAILPOINT_CRASH_AFTER_TRASH").is_some() {
                std::process::abort();
            }
            // Between two steps: only `crash` and `stop` mean something here.
            let _ = crate::failpoint::hit("run.after_trash");
            if std::env::var_os("EWG_FAILPOINT_STOP_AFTER_TRASH").is_some() {
                // SAFETY: raise has no memory-safety preconditions.
                unsafe { libc::raise(libc::SIGSTOP) };
            }
            let then = partial_end(record, &report);
            // Only empty directories taken (e.g. `work/<episode>` left by a finished attempt): nothing to
            // restore, so the run is not a trash run. It stays audited like any other run.
            let keep = (record.keep_trash
                && !taken.is_empty()
                && self.root.trash(&record.id).holds_files())
            .then(|| KeepTrash {
                retention_ms: self.policy.retention_ms(),
                taken: &taken,
            });
            let kept = keep.is_some();
            let rows = PlannedRows {
                ids: &drop_ids,
                whole_episodes: &whole,
                row_bound: plan.row_bound,
                keep,
            };
            let committed = if kept {
                self.commit_keeping(record, &rows, then, &taken, &mut report)
                    .await
            } else {
                self.commit_and_purge(record, &rows, then, &taken, &mut report)
                    .await
            };
            match committed {
                Committed::Yes(queued) => jobs = queued,
                Committed::RolledBack => {
                    if let Err(e) = self.registry.release_episodes(&record.id).await {
                        // Its episodes stay owned: recovery releases them once the registry works.
                        return Err(self.left_to_recovery(run, report, e));
                    }
                }
                Committed::TakenOver(why) => return Err(Error::Conflict(why)),
                Committed::LeftToRecovery => {
                    let e = crate::error::Error::Internal("commit refused".into());
                    return Err(self.left_to_recovery(run, report, e));
                }
            }
        }
        report.result = result_of(&report);
        report.duration_ms = run.started.elapsed().as_millis() as i64;

        tracing::debug!(
            run = %record.id,
            move_ms = moved.as_millis() as u64,
            commit_and_purge_ms = (run.started.elapsed() - moved).as_millis() as u64,
            "cleanup phases"
        );
        if !record.dry_run {
            crate::failpoint::hit("run.finish")?;
        }
        if !self.registry.finish_run(&report, &self.node).await? {
            return Err(Error::Conflict(format!(
                "cleanup run {} was taken over by recovery while this process was silent; its outcome is \
                 recovery's (see the run's report)",
                record.id
            )));
        }
        tracing::info!(
            run = %record.id, trigger = %record.trigger, scope = %record.scope, actor = %record.actor,
            dry_run = record.dry_run, files = report.files, bytes = report.bytes,
            errors = report.errors.len(), duration_ms = report.duration_ms, "cleanup run finished"
        );
        Ok(Outcome { report, jobs })
    }

    /// A run that could not end: it is not marked done (it did not happen as planned), its heartbeat
    /// stops, and recovery finishes it from the registry once its owner is judged gone. The caller gets
    /// the failure, never a report that claims success.
    fn left_to_recovery(
        &self,
        run: ActiveRun,
        report: CleanupReport,
        e: crate::error::Error,
    ) -> crate::error::Error {
        drop(run);
        let what: Vec<String> = report
            .errors
            .iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect();
        tracing::error!(run = %report.run_id, error = %e, "cleanup run left for recovery");
        crate::error::Error::Internal(format!(
            "cleanup run {} could not be committed and is left for recovery: {}",
            report.run_id,
            what.join("; ")
        ))
    }

    /// Episodes removed whole whose every fixed place went: their rows go by the plan's bound. One with a
    /// place that could not be removed keeps the rows under that place; its other rows go by id.
    async fn whole_rows(
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

    /// Phase one (or its measurement in a dry run). Returns the artifact ids whose files are gone, and
    /// `(path, stored)` for every entry moved into the trash.
    fn take_all(
        &self,
        run: &ActiveRun,
        targets: Vec<super::plan::Target>,
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
            if !record.dry_run
                && let Err(e) = crate::failpoint::hit("run.take")
            {
                report.errors.push(PathError {
                    path: t.rel,
                    message: e.to_string(),
                });
                continue;
            }
            if !record.dry_run && !run.still_ours() {
                report.errors.push(PathError {
                    path: t.rel,
                    message:
                        "not moved: this run's ownership could not be confirmed (no heartbeat \
                              renewal for 10 s); left for recovery"
                            .into(),
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

    /// The commit of a run that keeps its trash: the registry records what a restore needs, and the
    /// answer comes now, with everything out of the live tree. The trash is measured afterwards.
    async fn commit_keeping(
        &self,
        record: &RunRecord,
        rows: &PlannedRows<'_>,
        then: Then,
        taken: &[(String, String)],
        report: &mut CleanupReport,
    ) -> Committed {
        let jobs = match self.commit(record, rows, then).await {
            Ok(jobs) => jobs,
            Err(Error::Conflict(why)) => return Committed::TakenOver(why),
            Err(e) => return self.undo_phase_one(record, taken, report, e),
        };
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
        Committed::Yes(jobs)
    }

    /// The commit, then the purge. Never the other way round, nor overlapped: a commit the registry
    /// refuses must find every file still in the trash, to put it back.
    async fn commit_and_purge(
        &self,
        record: &RunRecord,
        rows: &PlannedRows<'_>,
        then: Then,
        taken: &[(String, String)],
        report: &mut CleanupReport,
    ) -> Committed {
        let jobs = match self.commit(record, rows, then).await {
            Ok(jobs) => jobs,
            Err(Error::Conflict(why)) => return Committed::TakenOver(why),
            Err(e) => return self.undo_phase_one(record, taken, report, e),
        };
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
        Committed::Yes(jobs)
    }

    /// The registry commit, tried three times: a busy database or a pool timeout passes, and a full disk
    /// gets the registry's reserve back before the next try.
    async fn commit(
        &self,
        record: &RunRecord,
        rows: &PlannedRows<'_>,
        then: Then,
    ) -> Result<Vec<crate::registry::JobRow>> {
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

    /// The registry refused the commit: every file goes back where it was, so the rows that still say
    /// it exists are true again, and the run ends as a failure that changed nothing. A file that cannot
    /// go back (something took its place) stays in the trash; then the run is left live for recovery,
    /// whose replay deletes the rows of what is gone once the registry takes writes again.
    fn undo_phase_one(
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

/// How a run's commit went.
enum Committed {
    Yes(Vec<crate::registry::JobRow>),
    /// Refused, and phase one undone: the run ends as a failure and lets its episodes go.
    RolledBack,
    /// Refused with files still in the trash: the run stays live for recovery to finish.
    LeftToRecovery,
    /// Recovery took the run over while this process was silent: its trash and its outcome are
    /// recovery's, and this process touches neither.
    TakenOver(String),
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

pub(crate) fn empty_report(record: &RunRecord, errors: Vec<PathError>) -> CleanupReport {
    CleanupReport {
        run_id: record.id.clone(),
        trigger: record.trigger,
        dry_run: record.dry_run,
        result: CleanupResult::Ok,
        files: 0,
        bytes: 0,
        errors,
        duration_ms: 0,
        paths: vec![],
        kept_until: None,
    }
}

pub(crate) fn result_of(report: &CleanupReport) -> CleanupResult {
    match (
        report.errors.is_empty(),
        report.files > 0 || !report.paths.is_empty(),
    ) {
        (true, _) => CleanupResult::Ok,
        (false, true) => CleanupResult::Partial,
        (false, false) => CleanupResult::Failed,
    }
}

pub(crate) fn add_purged(report: &mut CleanupReport, purged: Purged) {
    report.files += purged.files;
    report.bytes += purged.bytes;
    report.errors.extend(
        purged
            .errors
            .into_iter()
            .map(|(path, message)| PathError { path, message }),
    );
}

/// Eight random hex digits: owner tokens of recovery takeovers are never reused.
pub(crate) fn new_token() -> String {
    let mut rnd = [0u8; 4];
    let _ = getrandom::fill(&mut rnd);
    hex::encode(rnd)
}

/// Sortable and unique: time first, then randomness.
fn new_run_id() -> String {
    let mut rnd = [0u8; 4];
    let _ = getrandom::fill(&mut rnd);
    format!("{}-{}", now_ms(), hex::encode(rnd))
}
