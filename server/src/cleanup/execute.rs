//! A run's life, in the order it happens: `begin` writes its row (owner = this node) and starts its
//! heartbeat; `execute` moves every target into `.trash/<run>/` (phase one, `take.rs`), commits the
//! registry change in one transaction — planned rows by id, the episodes' end state, their release — then
//! keeps the trash for undo or purges it (phase two, `commit.rs`), and `finish` stores the report
//! (`report.rs`). A crash anywhere leaves a run whose heartbeat stops; `repair` finishes it from the
//! registry.

use super::commit::Committed;
use super::plan::Plan;
use super::report::{empty_report, result_of};
use super::{Cleanup, Outcome, RUN_HEARTBEAT, RUN_STALE_MS, Trigger};
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::now_ms;
use crate::registry::{JobRow, PlannedRows, RunRecord, Then};
use app::api::{CleanupReport, CleanupResult, PathError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

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

impl<'a> Spec<'a> {
    /// A real run about no one episode, that releases what it claimed when it ends and keeps its trash
    /// as its trigger does; the methods below change one of these.
    pub fn new(trigger: Trigger, actor: &'a str, scope: impl Into<String>) -> Self {
        Spec {
            trigger,
            actor,
            scope: scope.into(),
            episode: None,
            dry_run: false,
            then: Then::Release,
            purge_now: false,
        }
    }

    /// The episode the run is about (its history lists the run).
    pub fn episode(self, episode: Option<&'a EpisodeId>) -> Self {
        Spec { episode, ..self }
    }

    pub fn dry_run(self, dry_run: bool) -> Self {
        Spec { dry_run, ..self }
    }

    /// The state the run's episodes end in.
    pub fn then(self, then: Then) -> Self {
        Spec { then, ..self }
    }

    pub fn purge_now(self, purge_now: bool) -> Self {
        Spec { purge_now, ..self }
    }
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
    pub(super) fn still_ours(&self) -> bool {
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

    /// Both phases and the commit, then the report.
    pub(crate) async fn execute(&self, run: ActiveRun, plan: Plan) -> Result<Outcome> {
        let record = &run.record;
        let mut report = empty_report(record, plan.errors);
        let (mut drop_ids, taken) = self.take_all(&run, plan.targets, &mut report);
        let whole = self
            .whole_rows(&plan.wholes, &report, &mut drop_ids)
            .await?;
        let moved = run.started.elapsed();
        let jobs = if record.dry_run {
            self.registry.release_episodes(&record.id).await?;
            Vec::new()
        } else {
            // Between two steps, so only `crash` and `stop` mean something here: the recovery tests die,
            // or stop (SIGSTOP, until a SIGCONT) past the run's lease, before the registry commit.
            let _ = crate::failpoint::hit("run.after_trash");
            let rows = PlannedRows {
                ids: &drop_ids,
                whole_episodes: &whole,
                row_bound: plan.row_bound,
                keep: None,
            };
            match self.commit_taken(record, rows, &taken, &mut report).await {
                Committed::Yes(queued) => queued,
                Committed::RolledBack => {
                    if let Err(e) = self.registry.release_episodes(&record.id).await {
                        // Its episodes stay owned: recovery releases them once the registry works.
                        return Err(self.left_to_recovery(run, report, e));
                    }
                    Vec::new()
                }
                Committed::TakenOver(why) => return Err(Error::Conflict(why)),
                Committed::LeftToRecovery => {
                    let e = Error::Internal("commit refused".into());
                    return Err(self.left_to_recovery(run, report, e));
                }
            }
        };
        self.finish(run, report, jobs, moved).await
    }

    /// Stores the report of a run that reached its end, unless recovery took the run over meanwhile.
    async fn finish(
        &self,
        run: ActiveRun,
        mut report: CleanupReport,
        jobs: Vec<JobRow>,
        moved: Duration,
    ) -> Result<Outcome> {
        let record = &run.record;
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
