//! How long the trash keeps what cleanups removed, and what frees it: retention (`--trash-retention`), a
//! size budget (`--trash-max-gb`), disk pressure (`--trash-min-free-pct`), and people ("Empty trash", a
//! Deep Clean's "purge now"). Expiry and sizes come from the registry, never from file times, so every
//! process sharing the data root agrees on what goes next.

use super::{Cleanup, RUN_HEARTBEAT};
use crate::error::{Error, Result};
use crate::registry::TrashRunRow;
use crate::storage::Purged;
use app::api::{PathError, PurgeReport, TrashState};
use std::time::Duration;

/// A purge or restore whose owner has been silent this long is taken over.
pub(super) const TRASH_STALE_MS: i64 = 30_000;

/// The trash policy in force (README "Undo and the trash").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StoragePolicy {
    /// How long a run's trash stays restorable. Zero: purged before the run answers (no undo).
    pub retention: Duration,
    /// Kept trash beyond this many bytes is purged, oldest run first.
    pub max_bytes: u64,
    /// Free space on the data root's filesystem below this share purges the oldest trash first.
    pub min_free_pct: u8,
    /// The storage budget (`--max-derived-gb`): registered derived bytes beyond it are evicted.
    pub max_derived_bytes: Option<u64>,
}

impl Default for StoragePolicy {
    /// A week to notice a mistake, 20 GB of trash at most, and never below 10 % free disk.
    fn default() -> Self {
        StoragePolicy {
            retention: Duration::from_secs(7 * 24 * 3600),
            max_bytes: 20 * 1_000_000_000,
            min_free_pct: 10,
            max_derived_bytes: None,
        }
    }
}

impl StoragePolicy {
    pub fn retention_ms(&self) -> i64 {
        i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX)
    }
}

/// Why a run's trash was purged; stored with the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PurgeReason {
    Retention,
    Budget,
    Disk,
    /// A purge whose node stopped half-way, finished by another.
    TakenOver,
    /// Asked for by someone ("Empty trash", "Purge now").
    Asked(String),
}

impl PurgeReason {
    fn text(&self) -> String {
        match self {
            PurgeReason::Retention => "retention".into(),
            PurgeReason::Budget => "budget".into(),
            PurgeReason::Disk => "disk".into(),
            PurgeReason::TakenOver => "taken over (the purging node stopped)".into(),
            PurgeReason::Asked(actor) => format!("asked by {actor}"),
        }
    }
}

impl Cleanup {
    /// One pass of the trash keeper: measures what is unmeasured, takes over purges whose owner died,
    /// then purges expired runs, then the oldest runs while the trash is over budget or the disk is short.
    /// Returns the runs purged, with why.
    pub async fn maintain_trash(&self) -> Result<Vec<(String, PurgeReason)>> {
        for id in self.registry.unmeasured_trash().await? {
            self.measure_trash(&id).await?;
        }
        let mut purged = Vec::new();
        let mut oldest_first = Vec::new();
        for run in self.registry.kept_runs().await? {
            let from = run.state();
            let reason = match from {
                TrashState::Purging => PurgeReason::TakenOver,
                TrashState::Kept if run.expires_in_ms.is_some_and(|ms| ms <= 0) => {
                    PurgeReason::Retention
                }
                TrashState::Kept => {
                    oldest_first.push(run);
                    continue;
                }
                _ => continue,
            };
            if self.purge_kept(&run.id, from, &reason).await?.is_some() {
                purged.push((run.id, reason));
            }
        }
        let size = |r: &TrashRunRow| r.trash_bytes.unwrap_or(0).max(0) as u64;
        let mut total: u64 = oldest_first.iter().map(size).sum();
        let mut oldest = oldest_first.into_iter();
        while total > self.policy.max_bytes {
            let Some(run) = oldest.next() else { break };
            total = total.saturating_sub(size(&run));
            self.purge_for(run, PurgeReason::Budget, &mut purged)
                .await?;
        }
        while self.disk_short() {
            let Some(run) = oldest.next() else { break };
            self.purge_for(run, PurgeReason::Disk, &mut purged).await?;
        }
        self.registry.release_stale_restores(TRASH_STALE_MS).await?;
        Ok(purged)
    }

    /// Purges a kept run for `reason`, noting it in `purged` unless another node holds it.
    async fn purge_for(
        &self,
        run: TrashRunRow,
        reason: PurgeReason,
        purged: &mut Vec<(String, PurgeReason)>,
    ) -> Result<()> {
        if self
            .purge_kept(&run.id, TrashState::Kept, &reason)
            .await?
            .is_some()
        {
            purged.push((run.id, reason));
        }
        Ok(())
    }

    fn disk_short(&self) -> bool {
        match self.root.space() {
            Ok(space) => space.free_pct() < f64::from(self.policy.min_free_pct),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the data root's free space");
                false
            }
        }
    }

    /// Purges one kept run's trash (or all of them) now, for `actor`. 404 unknown run; 410 a run whose
    /// trash is gone already; 409 one being restored.
    pub async fn purge_trash_now(&self, actor: &str, run_id: Option<&str>) -> Result<PurgeReport> {
        let runs: Vec<(String, TrashState)> = match run_id {
            Some(id) => {
                let run = self.trash_record(id).await?;
                match run.state() {
                    from @ (TrashState::Kept | TrashState::Purging) => vec![(run.id, from)],
                    TrashState::Restoring => {
                        return Err(Error::Conflict(format!(
                            "run {id}'s trash is being restored; try again when it has finished"
                        )));
                    }
                    TrashState::Purged | TrashState::Restored => return Err(gone(&run)),
                }
            }
            None => self
                .registry
                .kept_runs()
                .await?
                .into_iter()
                .filter(|r| r.state() != TrashState::Restoring)
                .map(|r| (r.id.clone(), r.state()))
                .collect(),
        };
        let reason = PurgeReason::Asked(actor.to_string());
        let mut report = PurgeReport {
            runs: vec![],
            files: 0,
            bytes: 0,
            errors: vec![],
        };
        for (id, from) in runs {
            if let Some(p) = self.purge_kept(&id, from, &reason).await? {
                report.files += p.files;
                report.bytes += p.bytes;
                report.errors.extend(
                    p.errors
                        .into_iter()
                        .map(|(path, message)| PathError { path, message }),
                );
                report.runs.push(id);
            }
        }
        tracing::info!(
            actor,
            runs = report.runs.len(),
            files = report.files,
            bytes = report.bytes,
            "trash purged on request"
        );
        Ok(report)
    }

    /// The trash record of a run: 404 for an unknown run, 410 for a run that kept nothing.
    pub(crate) async fn trash_record(&self, id: &str) -> Result<TrashRunRow> {
        match self.registry.trash_run(id).await? {
            None => Err(Error::NotFound(format!("no cleanup run `{id}`"))),
            Some((_, Some(row))) => Ok(row),
            Some((phase, None)) if phase != "done" => Err(Error::Conflict(format!(
                "run {id} is still running; its trash is not settled yet"
            ))),
            Some(_) => Err(Error::Gone(format!(
                "run {id} kept nothing in the trash (a dry run, nothing removed, or a cleanup of a failed \
                 or cancelled attempt, which is purged at once)"
            ))),
        }
    }

    /// Measures a kept run's trash and records it (after the run answered, or when that measurement died
    /// with its process).
    pub(super) async fn measure_trash(&self, run_id: &str) -> Result<()> {
        let trash = self.root.trash(run_id);
        let (files, bytes) = tokio::task::spawn_blocking(move || trash.size())
            .await
            .map_err(|e| Error::Internal(format!("measuring trash stopped: {e}")))?;
        self.registry.set_trash_size(run_id, files, bytes).await
    }

    /// Purges a run's trash if this node can take it from `from`; `None` when another node holds it.
    async fn purge_kept(
        &self,
        run_id: &str,
        from: TrashState,
        reason: &PurgeReason,
    ) -> Result<Option<Purged>> {
        let claimed = self
            .registry
            .claim_trash(
                run_id,
                &self.node,
                from,
                TrashState::Purging,
                TRASH_STALE_MS,
            )
            .await?;
        if !claimed {
            return Ok(None);
        }
        let heartbeat = self.trash_heartbeat(run_id);
        let trash = self.root.trash(run_id);
        let purged = tokio::task::spawn_blocking(move || trash.purge()).await;
        heartbeat.abort();
        let purged =
            purged.map_err(|e| Error::Internal(format!("purge of {run_id} stopped: {e}")))?;
        let errors: Vec<PathError> = purged
            .errors
            .iter()
            .map(|(path, message)| PathError {
                path: path.clone(),
                message: message.clone(),
            })
            .collect();
        let mine = self
            .registry
            .trash_purged(
                run_id,
                &self.node,
                &reason.text(),
                purged.files,
                purged.bytes,
                &errors,
            )
            .await?;
        if !mine {
            tracing::warn!(run = %run_id, "purge claim taken over by another node while purging; its record is theirs");
            return Ok(None);
        }
        tracing::info!(run = %run_id, reason = %reason.text(), files = purged.files, bytes = purged.bytes,
            errors = errors.len(), "trash purged");
        Ok(Some(purged))
    }

    /// Renews this node's claim on a purge or restore until aborted.
    pub(super) fn trash_heartbeat(&self, run_id: &str) -> tokio::task::JoinHandle<()> {
        let registry = self.registry.clone();
        let (id, node) = (run_id.to_string(), self.node.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RUN_HEARTBEAT).await;
                match registry.heartbeat_trash(&id, &node).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => tracing::warn!(run = %id, error = %e, "trash heartbeat failed"),
                }
            }
        })
    }
}

/// 410 for a run whose trash is gone, saying when and why.
pub(super) fn gone(run: &TrashRunRow) -> Error {
    match run.state() {
        TrashState::Restored => Error::Gone(format!(
            "run {}'s trash was restored already (by run {})",
            run.id,
            run.restored_by.as_deref().unwrap_or("?")
        )),
        _ => Error::Gone(format!(
            "run {}'s trash was purged ({}); nothing is left to restore",
            run.id,
            run.purge_reason.as_deref().unwrap_or("purged")
        )),
    }
}
