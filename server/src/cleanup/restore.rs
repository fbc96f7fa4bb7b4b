//! Undo: a run's trash back into the live tree, as one audited run of its own (trigger `restore`).
//!
//! Everything that can refuse is checked before anything moves: the run (404 unknown, 410 gone), the
//! paths (400 malformed or not in the run), the episodes (owned by this restore like any cleanup, so a
//! live job is a 409 naming it), the places (a path that exists again is a 409 naming it — never
//! overwritten), the trash itself (410 for an entry gone from it). Then the files move back
//! (`RENAME_NOREPLACE`), and one transaction puts back their artifact rows with their original attempt
//! and the episodes' earlier state.

use super::execute::Spec;
use super::plan::is_within;
use super::retention::{TRASH_STALE_MS, gone};
use super::{Cleanup, Trigger};
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::registry::{Restored, TrashedEpisode, TrashedRow};
use crate::storage::DeleteError;
use app::api::{
    CleanupReport, CleanupResult, PathError, RestoreReport, RestoreRequest, TrashState,
};
use std::collections::BTreeSet;

/// One path to move back: where it goes, where it is in the trash, and whether it is a whole entry the
/// run took (its record then goes) or something inside one.
#[derive(Debug, Clone)]
struct Pick {
    path: String,
    stored: String,
    whole: bool,
}

/// What a restore puts back, decided before anything is claimed: the run's trash entries, the picked
/// paths, the artifact rows under them, the episodes whose earlier state comes back.
struct Plan {
    from: String,
    entries: Vec<(String, String)>,
    picks: Vec<Pick>,
    rows: Vec<TrashedRow>,
    episodes: Vec<TrashedEpisode>,
    ids: Vec<EpisodeId>,
}

impl Plan {
    fn spec<'a>(&'a self, actor: &'a str, dry_run: bool) -> Spec<'a> {
        Spec::new(
            Trigger::Restore,
            actor,
            format!("restore of run {}", self.from),
        )
        .episode((self.ids.len() == 1).then(|| &self.ids[0]))
        .dry_run(dry_run)
    }

    /// The answer before anything moved (a dry run's whole answer).
    fn report(&self, restore_id: &str, dry_run: bool, measured: (i64, i64)) -> RestoreReport {
        RestoreReport {
            run_id: restore_id.to_string(),
            from_run: self.from.clone(),
            dry_run,
            paths: self.picks.iter().map(|p| p.path.clone()).collect(),
            files: measured.0,
            bytes: measured.1,
            rows: self.rows.len() as i64,
            episodes: self.episodes.iter().map(|e| e.episode.clone()).collect(),
            left_in_trash: self.entries.len() as i64
                - self.picks.iter().filter(|p| p.whole).count() as i64,
        }
    }
}

impl Cleanup {
    /// Plan → claim and check → move → commit. Nothing moves unless every check passed; a check that
    /// fails gives back the claims and leaves no run behind.
    pub async fn restore(&self, actor: &str, req: RestoreRequest) -> Result<RestoreReport> {
        req.validate()
            .map_err(|e| Error::BadRequest(e.error.message))?;
        let plan = self.plan_restore(&req).await?;
        let run = self
            .begin_claimed(plan.spec(actor, req.dry_run), &plan.ids)
            .await?;
        let restore_id = run.record.id.clone();
        // The claim on the trash is renewed from the moment it is taken (in the checks), so it cannot
        // lapse while the checks measure a large trash.
        let heartbeat = (!req.dry_run).then(|| self.trash_heartbeat(&plan.from));
        let measured = match self.check_restorable(&req, &plan).await {
            Ok(m) => m,
            Err(e) => {
                if let Some(h) = &heartbeat {
                    h.abort();
                }
                self.registry.unclaim_trash(&plan.from, &self.node).await?;
                self.registry.release_episodes(&restore_id).await?;
                self.registry.discard_run(&restore_id).await?;
                return Err(e);
            }
        };
        let mut report = super::report::empty_report(&run.record, vec![]);
        report.files = measured.0;
        report.bytes = measured.1;
        let out = plan.report(&restore_id, req.dry_run, measured);
        if req.dry_run {
            report.paths = out.paths.clone();
            report.result = CleanupResult::Ok;
            self.registry.finish_run(&report, &self.node).await?;
            return Ok(out);
        }
        let moved = self.move_back(&plan.from, &plan.picks, &mut report).await;
        if let Some(h) = heartbeat {
            h.abort();
        }
        self.commit_moved(actor, plan, moved, report, out).await
    }

    /// The run, the picked paths, and what comes back with them. 404 for an unknown run, 410 for one
    /// whose trash is gone, 409 while another request restores it, 400 for a path not in it.
    async fn plan_restore(&self, req: &RestoreRequest) -> Result<Plan> {
        let from = req.run_id.as_str();
        let record = self.trash_record(from).await?;
        match record.state() {
            TrashState::Kept => {}
            TrashState::Purging | TrashState::Purged | TrashState::Restored => {
                return Err(gone(&record));
            }
            TrashState::Restoring => {
                return Err(Error::Conflict(format!(
                    "run {from}'s trash is being restored by another request"
                )));
            }
        }
        let entries = self.registry.trash_entries(from).await?;
        let picks = pick(&entries, req.paths.as_deref(), from)?;
        let all_rows = self.registry.trashed_rows(from).await?;
        let rows: Vec<TrashedRow> = all_rows
            .iter()
            .filter(|r| picks.iter().any(|p| is_within(&r.path, &p.path)))
            .cloned()
            .collect();
        let episodes = self
            .episodes_to_reset(from, &all_rows, &rows, &picks, &entries)
            .await?;
        let touched: BTreeSet<&str> = rows
            .iter()
            .map(|r| r.episode.as_str())
            .chain(episodes.iter().map(|e| e.episode.as_str()))
            .collect();
        let ids = touched
            .iter()
            .filter_map(|e| EpisodeId::parse(e).ok())
            .collect();
        Ok(Plan {
            from: from.to_string(),
            entries,
            picks,
            rows,
            episodes,
            ids,
        })
    }

    /// Records what did move back — its rows and, when every pick came back, the episodes' earlier
    /// state — in one transaction, ends the run, and answers. A path that could not move is a 409 that
    /// names it (what did move stays restored and recorded).
    async fn commit_moved(
        &self,
        actor: &str,
        plan: Plan,
        moved: Vec<Pick>,
        mut report: CleanupReport,
        mut out: RestoreReport,
    ) -> Result<RestoreReport> {
        let Plan {
            from,
            entries,
            picks,
            rows,
            episodes,
            ..
        } = plan;
        let restore_id = report.run_id.clone();
        let rows: Vec<TrashedRow> = rows
            .into_iter()
            .filter(|r| moved.iter().any(|p| is_within(&r.path, &p.path)))
            .collect();
        let all_back = moved.len() == picks.len();
        let episodes: Vec<TrashedEpisode> = if all_back { episodes } else { vec![] };
        let whole: Vec<String> = moved
            .iter()
            .filter(|p| p.whole)
            .map(|p| p.path.clone())
            .collect();
        let left = entries.len() - whole.len();
        self.registry
            .commit_restore(&Restored {
                from_run: &from,
                restore_run: &restore_id,
                entries: &whole,
                rows: &rows,
                episodes: &episodes,
                anything_left: left > 0,
                owner: &self.node,
            })
            .await?;
        self.registry.release_episodes(&restore_id).await?;
        if left == 0 {
            self.drop_empty_run_dir(&from).await;
        }
        report.paths = moved.iter().map(|p| p.path.clone()).collect();
        report.result = super::report::result_of(&report);
        self.registry.finish_run(&report, &self.node).await?;
        tracing::info!(run = %restore_id, from_run = %from, actor, paths = moved.len(), rows = rows.len(),
            episodes = episodes.len(), errors = report.errors.len(), "trash restored");
        if !report.errors.is_empty() {
            let failed: Vec<String> = report
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.path, e.message))
                .collect();
            return Err(Error::Conflict(format!(
                "restore {restore_id} moved {} of {} paths back; not restored: {}",
                moved.len(),
                picks.len(),
                failed.join("; ")
            )));
        }
        out.paths = report.paths;
        out.rows = rows.len() as i64;
        out.episodes = episodes.iter().map(|e| e.episode.clone()).collect();
        out.left_in_trash = left as i64;
        Ok(out)
    }

    /// Episodes whose earlier state comes back: all of them on a whole restore; on a partial one, those
    /// whose every registered file the run took is part of it.
    async fn episodes_to_reset(
        &self,
        from: &str,
        all_rows: &[TrashedRow],
        rows: &[TrashedRow],
        picks: &[Pick],
        entries: &[(String, String)],
    ) -> Result<Vec<TrashedEpisode>> {
        let whole_run = picks.iter().filter(|p| p.whole).count() == entries.len();
        Ok(self
            .registry
            .trashed_episodes(from)
            .await?
            .into_iter()
            .filter(|e| {
                whole_run || {
                    let mine = all_rows.iter().filter(|r| r.episode == e.episode).count();
                    mine > 0 && rows.iter().filter(|r| r.episode == e.episode).count() == mine
                }
            })
            .collect())
    }

    /// Everything that must hold before anything moves: no live job (a dry run checks what a real one
    /// claims), the trash claimed for this restore, no place occupied, every entry still in the trash.
    /// Returns the files and bytes that would move.
    async fn check_restorable(&self, req: &RestoreRequest, plan: &Plan) -> Result<(i64, i64)> {
        let (from, ids, picks, rows) = (plan.from.as_str(), &plan.ids, &plan.picks, &plan.rows);
        if req.dry_run {
            for id in ids {
                if let Some(job) = self.registry.live_job(id.as_str()).await? {
                    return Err(Error::Conflict(format!(
                        "episode `{id}` has {} job {}; restore it when the job has ended",
                        job.state, job.id
                    )));
                }
            }
        } else {
            let claimed = self
                .registry
                .claim_trash(
                    from,
                    &self.node,
                    TrashState::Kept,
                    TrashState::Restoring,
                    TRASH_STALE_MS,
                )
                .await?;
            if !claimed {
                return Err(Error::Conflict(format!(
                    "run {from}'s trash is being purged or restored by another request"
                )));
            }
        }
        let trash = self.root.trash(from);
        let mut occupied = Vec::new();
        let mut missing = Vec::new();
        let (mut files, mut bytes) = (0, 0);
        for p in picks {
            match trash.occupied(&p.path) {
                Ok(false) => {}
                Ok(true) => occupied.push(p.path.clone()),
                Err(e) => occupied.push(e.to_string()),
            }
            match trash.measure_stored(&p.stored) {
                Ok(m) => {
                    files += m.files;
                    bytes += m.bytes;
                }
                Err(DeleteError::NotInTrash { .. }) => missing.push(p.path.clone()),
                Err(e) => return Err(Error::Conflict(e.to_string())),
            }
        }
        let paths: Vec<String> = rows.iter().map(|r| r.path.clone()).collect();
        for path in self.registry.registered_paths(&paths).await? {
            if !occupied.iter().any(|o| is_within(&path, o)) {
                occupied.push(format!("{path} (registered again)"));
            }
        }
        if !occupied.is_empty() {
            return Err(Error::Conflict(format!(
                "occupied now, never overwritten (nothing was restored): {}",
                occupied.join(", ")
            )));
        }
        if !missing.is_empty() {
            return Err(Error::Gone(format!(
                "no longer in the trash of run {from} (nothing was restored): {}",
                missing.join(", ")
            )));
        }
        Ok((files, bytes))
    }

    /// A fully restored run leaves only the directories its entries were taken into: they go too.
    async fn drop_empty_run_dir(&self, from: &str) {
        let trash = self.root.trash(from);
        match tokio::task::spawn_blocking(move || trash.purge()).await {
            Ok(p) if p.files == 0 && p.errors.is_empty() => {}
            Ok(p) => tracing::warn!(run = %from, files = p.files, errors = ?p.errors,
                "a fully restored run's trash held more than empty directories"),
            Err(e) => {
                tracing::warn!(run = %from, error = %e, "removing a restored run's trash stopped")
            }
        }
    }

    /// Moves each pick back; one that fails is reported and the rest still go.
    async fn move_back(
        &self,
        from: &str,
        picks: &[Pick],
        report: &mut app::api::CleanupReport,
    ) -> Vec<Pick> {
        let trash = self.root.trash(from);
        let picks = picks.to_vec();
        let done = tokio::task::spawn_blocking(move || {
            let mut moved = Vec::new();
            let mut errors = Vec::new();
            for p in picks {
                match trash.give_back(&p.stored, &p.path) {
                    Ok(()) => moved.push(p),
                    Err(e) => errors.push(PathError {
                        path: p.path.clone(),
                        message: e.to_string(),
                    }),
                }
            }
            (moved, errors)
        })
        .await;
        match done {
            Ok((moved, errors)) => {
                for e in &errors {
                    tracing::warn!(run = %from, path = %e.path, message = %e.message, "not restored");
                }
                report.errors.extend(errors);
                moved
            }
            Err(e) => {
                report.errors.push(PathError {
                    path: format!(".trash/{from}"),
                    message: format!("restore stopped: {e}"),
                });
                vec![]
            }
        }
    }
}

/// The picks for `paths` (all entries when absent): each must be an entry the run took or lie inside one
/// (400 naming those that do not); one inside another is restored with it.
fn pick(entries: &[(String, String)], paths: Option<&[String]>, run: &str) -> Result<Vec<Pick>> {
    let Some(paths) = paths else {
        return Ok(entries
            .iter()
            .map(|(path, stored)| Pick {
                path: path.clone(),
                stored: stored.clone(),
                whole: true,
            })
            .collect());
    };
    // Malformed paths were refused by `RestoreRequest::validate`; a plain path outside every entry is
    // "not in the run" below.
    let mut picks: Vec<Pick> = Vec::new();
    let mut unknown = Vec::new();
    let mut wanted: Vec<&String> = paths.iter().collect();
    wanted.sort();
    wanted.dedup();
    for p in wanted {
        if picks.iter().any(|q| is_within(p, &q.path)) {
            continue;
        }
        match entries.iter().find(|(path, _)| is_within(p, path)) {
            Some((path, stored)) => picks.push(Pick {
                path: p.clone(),
                stored: format!("{stored}{}", &p[path.len()..]),
                whole: p == path,
            }),
            None => unknown.push(p.as_str()),
        }
    }
    if !unknown.is_empty() {
        return Err(Error::BadRequest(format!(
            "not in run {run}'s trash: {}",
            unknown.join(", ")
        )));
    }
    Ok(picks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<(String, String)> {
        vec![
            ("outputs/ep1".into(), "outputs/ep1".into()),
            ("audio/ep1.wav".into(), "audio/ep1.wav.~1".into()),
        ]
    }

    #[test]
    fn picks_are_entries_or_inside_one() {
        let all = pick(&entries(), None, "r").unwrap();
        assert_eq!(all.len(), 2);
        assert!(all.iter().all(|p| p.whole));
        let some = pick(
            &entries(),
            Some(&["outputs/ep1/a.mp4".into(), "audio/ep1.wav".into()]),
            "r",
        )
        .unwrap();
        assert_eq!(some[0].stored, "audio/ep1.wav.~1");
        assert!(some[0].whole);
        assert_eq!(some[1].stored, "outputs/ep1/a.mp4");
        assert!(!some[1].whole);
        // A path inside another pick goes with it.
        let nested = pick(
            &entries(),
            Some(&["outputs/ep1".into(), "outputs/ep1/a.mp4".into()]),
            "r",
        )
        .unwrap();
        assert_eq!(nested.len(), 1);
    }

    #[test]
    fn paths_outside_the_run_or_malformed_are_named() {
        let err = pick(&entries(), Some(&["outputs/ep2".into()]), "r").unwrap_err();
        assert!(err.to_string().contains("outputs/ep2"), "{err}");
        // `outputs/ep10` is not inside `outputs/ep1`.
        assert!(pick(&entries(), Some(&["outputs/ep10".into()]), "r").is_err());
        let malformed = RestoreRequest {
            run_id: "r".into(),
            paths: Some(vec!["outputs/ep1/../../inbox".into()]),
            dry_run: false,
        };
        let err = malformed.validate().unwrap_err();
        assert!(err.to_string().contains("malformed"), "{err}");
    }
}
