//! The cleanup engine: every cleanup action of DESIGN §5, all through [`DataRoot`]'s one deletion
//! primitive, all audited in `cleanup_runs`, all able to dry-run.
//!
//! Cleanup is driven by the `artifacts` table plus the fixed per-episode directories — never by matching
//! names. A failure to remove one path is reported by path and never stops the rest.

use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::now_ms;
use crate::registry::{ArtifactRow, Registry, RunRecord};
use crate::storage::{DERIVED_ROOTS, DataRoot};
use app::api::{CleanupReport, CleanupResult, EpisodeState, PathError, Stage};
use futures::future::{BoxFuture, FutureExt, Shared};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// Why a cleanup ran; stored with the run and used as the metrics label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Failure,
    Cancel,
    Episode,
    Force,
    Retry,
    DeepClean,
    Schedule,
    Recovery,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Failure => "failure",
            Trigger::Cancel => "cancel",
            Trigger::Episode => "episode",
            Trigger::Force => "force",
            Trigger::Retry => "retry",
            Trigger::DeepClean => "deep-clean",
            Trigger::Schedule => "schedule",
            Trigger::Recovery => "recovery",
        }
    }
}

/// Which derived files of an episode an episode cleanup removes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Keep {
    pub transcripts: bool,
    pub audio: bool,
}

impl Keep {
    pub const NOTHING: Keep = Keep {
        transcripts: false,
        audio: false,
    };
}

/// One path to remove and the registry rows that go with it.
#[derive(Debug, Clone)]
struct Target {
    rel: String,
    artifact_ids: Vec<i64>,
}

#[derive(Default, Debug)]
struct Plan {
    targets: Vec<Target>,
    /// Errors found while planning (e.g. a refused orphan sweep); they make the run partial.
    errors: Vec<PathError>,
    /// Episodes cleaned as a whole: their rows (but the kept kinds) are deleted with one statement
    /// when every one of their paths went, so Deep Clean need not load thousands of rows.
    whole: Vec<WholeEpisode>,
}

#[derive(Debug)]
struct WholeEpisode {
    id: String,
    keep: Keep,
    /// The paths planned for this episode.
    rels: Vec<String>,
}

impl Plan {
    fn merge(&mut self, other: Plan) {
        self.targets.extend(other.targets);
        self.errors.extend(other.errors);
        self.whole.extend(other.whole);
    }
}

type SharedReport = Shared<BoxFuture<'static, Result<CleanupReport, String>>>;

pub struct Cleanup {
    pub root: DataRoot,
    pub registry: Registry,
    stale_after: Duration,
    /// The Deep Clean in flight, per dry-run flag: concurrent callers share it (single-flight).
    deep_inflight: Mutex<HashMap<bool, SharedReport>>,
    /// Runs between their first rename and their purge: their trash must not be purged by others.
    active_runs: Mutex<HashSet<String>>,
    /// Upload temp files being written right now (relative paths); never swept.
    pub uploads_in_flight: Mutex<HashSet<String>>,
}

impl Cleanup {
    pub fn new(root: DataRoot, registry: Registry, stale_after: Duration) -> Arc<Self> {
        Arc::new(Cleanup {
            root,
            registry,
            stale_after,
            deep_inflight: Mutex::new(HashMap::new()),
            active_runs: Mutex::new(HashSet::new()),
            uploads_in_flight: Mutex::new(HashSet::new()),
        })
    }

    /// Cleanup of failed or cancelled attempts: each attempt's files and scratch go, in one audited run.
    pub async fn attempts(
        &self,
        attempts: &[(EpisodeId, i64)],
        trigger: Trigger,
        actor: &str,
        dry_run: bool,
    ) -> Result<CleanupReport> {
        let mut plan = Plan::default();
        for (id, n) in attempts {
            plan.merge(self.attempt_plan(id, *n).await?);
        }
        let (scope, episode) = match attempts {
            [(id, n)] => (format!("episode {id} attempt {n}"), Some(id)),
            many => (format!("{} episodes", many.len()), None),
        };
        let run = self.record(actor, trigger, scope, episode, dry_run);
        let report = self.execute(run, plan).await?;
        if !dry_run && report.errors.is_empty() {
            // Nothing of those attempts is left, so no stage's output exists any more.
            for (id, _) in attempts {
                self.registry.reset_stage(id.as_str()).await?;
            }
        }
        Ok(report)
    }

    /// Automatic cleanup after a failed or cancelled attempt: that attempt's files and scratch go.
    pub async fn attempt(
        &self,
        id: &EpisodeId,
        attempt: i64,
        trigger: Trigger,
        actor: &str,
        dry_run: bool,
    ) -> Result<CleanupReport> {
        self.attempts(&[(id.clone(), attempt)], trigger, actor, dry_run)
            .await
    }

    /// Removes an episode's derived files; transcripts and audio stay unless asked for.
    pub async fn episode(
        &self,
        id: &EpisodeId,
        keep: Keep,
        trigger: Trigger,
        actor: &str,
        dry_run: bool,
    ) -> Result<CleanupReport> {
        let plan = self.episode_plan(id, keep).await?;
        let run = self.record(actor, trigger, format!("episode {id}"), Some(id), dry_run);
        self.execute(run, plan).await
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

    /// Server-side Deep Clean. Single-flight: concurrent calls share one run and one report.
    pub async fn deep_clean(self: &Arc<Self>, actor: &str, dry_run: bool) -> Result<CleanupReport> {
        let fut = {
            let mut inflight = self.deep_inflight.lock().unwrap_or_else(|e| e.into_inner());
            match inflight.get(&dry_run) {
                Some(f) => f.clone(),
                None => {
                    let this = Arc::clone(self);
                    let actor = actor.to_string();
                    let f = async move {
                        let res = this
                            .deep_clean_once(&actor, dry_run)
                            .await
                            .map_err(|e| e.to_string());
                        this.deep_inflight
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&dry_run);
                        res
                    }
                    .boxed()
                    .shared();
                    inflight.insert(dry_run, f.clone());
                    f
                }
            }
        };
        fut.await.map_err(Error::Internal)
    }

    async fn deep_clean_once(&self, actor: &str, dry_run: bool) -> Result<CleanupReport> {
        let started = Instant::now();
        if !dry_run {
            self.repair_registry().await?;
        }
        let repaired = started.elapsed();
        let mut plan = Plan::default();
        for ep in self
            .registry
            .episodes_in_states(&[EpisodeState::Failed, EpisodeState::Cancelled])
            .await?
        {
            let Ok(id) = EpisodeId::parse(&ep.id) else {
                continue;
            };
            plan.merge(self.whole_episode_plan(&id, Keep::NOTHING));
        }
        // Only episodes that stay own files: whatever a cleaned episode registered elsewhere in the
        // derived roots is swept as an orphan, and its rows go with the episode's.
        let owned = self.registry.paths_owned_by_kept_episodes().await?;
        let covered: HashSet<String> = plan.targets.iter().map(|t| t.rel.clone()).collect();
        plan.merge(self.orphan_plan(&owned, &covered).await?);
        plan.targets.extend(self.upload_targets(None));
        // An episode retried since planning began belongs to its new job now: leave it alone.
        let live = self.live_episodes().await?;
        let busy: HashSet<&String> = plan
            .whole
            .iter()
            .filter(|w| live.contains(&w.id))
            .flat_map(|w| &w.rels)
            .collect();
        if !busy.is_empty() {
            let busy: HashSet<String> = busy.into_iter().cloned().collect();
            plan.targets.retain(|t| !busy.contains(&t.rel));
            plan.whole.retain(|w| !live.contains(&w.id));
        }
        tracing::debug!(
            repair_ms = repaired.as_millis() as u64,
            plan_ms = (started.elapsed() - repaired).as_millis() as u64,
            targets = plan.targets.len(),
            "deep clean planned"
        );
        let run = self.record(actor, Trigger::DeepClean, "all".into(), None, dry_run);
        let mut report = self.execute(run, plan).await?;
        if !dry_run {
            // Leftovers of earlier runs that were interrupted, so the trash really ends empty.
            add_purged(&mut report, self.root.purge_all_trash(&self.busy_runs()));
        }
        Ok(report)
    }

    /// Periodic sweep: stale uploads, abandoned scratch dirs, trash of interrupted runs.
    pub async fn scheduled(&self) -> Result<Option<CleanupReport>> {
        let mut plan = Plan::default();
        plan.targets
            .extend(self.upload_targets(Some(self.stale_after)));
        let live = self.live_episodes().await?;
        if let Ok(entries) = std::fs::read_dir(self.root.abs("work")) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !live.contains(&name) && older_than(&e.path(), self.stale_after) {
                    plan.targets.push(Target {
                        rel: format!("work/{name}"),
                        artifact_ids: vec![],
                    });
                }
            }
        }
        let leftovers = self.root.purge_all_trash(&self.busy_runs());
        if plan.targets.is_empty() && leftovers.files == 0 && leftovers.errors.is_empty() {
            return Ok(None);
        }
        let run = self.record(
            "scheduler",
            Trigger::Schedule,
            "uploads, work, trash".into(),
            None,
            false,
        );
        let mut report = self.execute(run, plan).await?;
        add_purged(&mut report, leftovers);
        Ok(Some(report))
    }

    /// On start (and before Deep Clean): finish runs a crash interrupted, so the registry matches the disk.
    pub async fn recover(&self) -> Result<usize> {
        let unfinished = self.registry.unfinished_runs().await?;
        for run_id in &unfinished {
            let purged = self.root.trash(run_id).purge();
            let dropped = self.drop_rows_of_missing_files().await?;
            let errors: Vec<PathError> = purged
                .errors
                .into_iter()
                .map(|(path, message)| PathError { path, message })
                .collect();
            tracing::warn!(run = %run_id, dropped_rows = dropped, "completed a cleanup run interrupted by a crash");
            let result = if errors.is_empty() {
                CleanupResult::Ok
            } else {
                CleanupResult::Partial
            };
            self.registry
                .finish_run(run_id, result, 0, 0, &errors, 0)
                .await?;
        }
        Ok(unfinished.len())
    }

    /// Jobs whose worker died (lease expired) become failed "interrupted" episodes, cleaned. Episodes
    /// marked queued/running without any live job are failed the same way.
    pub async fn repair_registry(&self) -> Result<usize> {
        let mut repaired = 0;
        for job in self.registry.expired_jobs().await? {
            self.registry
                .finish_job(
                    job.id,
                    "interrupted",
                    Some("interrupted: the worker stopped"),
                )
                .await?;
            self.fail_interrupted(&job.episode, job.attempt).await?;
            repaired += 1;
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

    async fn fail_interrupted(&self, episode: &str, attempt: i64) -> Result<()> {
        let stage = self
            .registry
            .episode(episode)
            .await?
            .and_then(|e| e.progress_stage.as_deref().and_then(Stage::parse))
            .unwrap_or(Stage::Prepped);
        self.registry
            .finish_episode(episode, EpisodeState::Failed, Some((stage, "interrupted")))
            .await?;
        if let Ok(id) = EpisodeId::parse(episode) {
            let report = self
                .attempt(&id, attempt, Trigger::Recovery, "system", false)
                .await?;
            tracing::warn!(episode, files = report.files, "interrupted attempt cleaned");
        }
        Ok(())
    }

    // ---- planning ----

    async fn attempt_plan(&self, id: &EpisodeId, attempt: i64) -> Result<Plan> {
        let scratch = self.root.attempt_dir(id, attempt);
        let rows = self.registry.artifacts_of(id.as_str()).await?;
        let mut plan = Plan::default();
        plan.targets.push(Target {
            rel: scratch,
            artifact_ids: vec![],
        });
        plan.targets.extend(
            rows.into_iter()
                .filter(|r| r.attempt == attempt)
                .map(|r| Target {
                    rel: r.path,
                    artifact_ids: vec![r.id],
                }),
        );
        Ok(plan)
    }

    /// Every per-episode directory and fixed file of `id`, with its rows deleted by episode.
    fn whole_episode_plan(&self, id: &EpisodeId, keep: Keep) -> Plan {
        let rels = self.episode_paths(id, keep);
        Plan {
            targets: rels
                .iter()
                .map(|rel| Target {
                    rel: rel.clone(),
                    artifact_ids: vec![],
                })
                .collect(),
            errors: vec![],
            whole: vec![WholeEpisode {
                id: id.to_string(),
                keep,
                rels,
            }],
        }
    }

    /// The fixed places an episode's derived files live (DESIGN §2), minus what `keep` keeps.
    fn episode_paths(&self, id: &EpisodeId, keep: Keep) -> Vec<String> {
        let mut rels: Vec<String> = self.root.episode_dirs(id).into_iter().collect();
        rels.push(self.root.enriched(id));
        if !keep.transcripts {
            rels.extend(["vtt", "srt", "txt", "json"].map(|e| self.root.transcript(id, e)));
        }
        if !keep.audio {
            rels.push(self.root.audio(id));
        }
        rels
    }

    async fn episode_plan(&self, id: &EpisodeId, keep: Keep) -> Result<Plan> {
        let rows = self.registry.artifacts_of(id.as_str()).await?;
        Ok(self.episode_plan_from(id, keep, rows))
    }

    /// The plan for one episode from its artifact rows (loaded by the caller, possibly in bulk).
    fn episode_plan_from(&self, id: &EpisodeId, keep: Keep, rows: Vec<ArtifactRow>) -> Plan {
        let kept = |r: &ArtifactRow| {
            (keep.transcripts && r.kind == "transcript") || (keep.audio && r.kind == "audio")
        };
        // Whole per-episode directories first: one rename each, and unregistered leftovers go too.
        let mut targets: Vec<Target> = self
            .episode_paths(id, keep)
            .into_iter()
            .map(|rel| Target {
                rel,
                artifact_ids: vec![],
            })
            .collect();
        for row in rows.into_iter().filter(|r| !kept(r)) {
            match targets.iter_mut().find(|t| is_within(&row.path, &t.rel)) {
                Some(t) => t.artifact_ids.push(row.id),
                None => targets.push(Target {
                    rel: row.path,
                    artifact_ids: vec![row.id],
                }),
            }
        }
        Plan {
            targets,
            errors: vec![],
            whole: vec![],
        }
    }

    /// Files in derived roots that no artifact row owns and no live job may be writing.
    /// `covered`: paths this run already removes; the sweep does not descend into them.
    async fn orphan_plan(
        &self,
        owned: &HashSet<String>,
        covered: &HashSet<String>,
    ) -> Result<Plan> {
        if let Some(reason) = self.looks_unmounted(owned) {
            return Ok(Plan {
                targets: vec![],
                errors: vec![PathError {
                    path: self.root.path().display().to_string(),
                    message: reason,
                }],
                whole: vec![],
            });
        }
        let mut protected = Vec::new();
        for job in self.registry.live_jobs().await? {
            if let Ok(id) = EpisodeId::parse(&job.episode) {
                protected.extend(self.root.episode_dirs(&id));
                protected.push(self.root.audio(&id));
                protected.push(self.root.enriched(&id));
                protected
                    .extend(["vtt", "srt", "txt", "json"].map(|e| self.root.transcript(&id, e)));
            }
        }
        let mut out = Vec::new();
        for top in DERIVED_ROOTS.iter().filter(|r| **r != "uploads") {
            let keep = SweepRules {
                owned,
                protected: &protected,
                covered,
            };
            sweep_dir(&self.root, top, &keep, &mut out, true);
        }
        Ok(Plan {
            targets: out
                .into_iter()
                .map(|rel| Target {
                    rel,
                    artifact_ids: vec![],
                })
                .collect(),
            errors: vec![],
            whole: vec![],
        })
    }

    /// The registry lists files, yet none of a sample exists: the data root is probably not mounted.
    /// Sweeping "orphans" then would be sweeping the wrong disk, so refuse.
    fn looks_unmounted(&self, owned: &HashSet<String>) -> Option<String> {
        if owned.is_empty() {
            return None;
        }
        let sample: Vec<&String> = owned.iter().take(64).collect();
        let present = sample
            .iter()
            .filter(|p| std::fs::symlink_metadata(self.root.abs(p)).is_ok())
            .count();
        (present == 0).then(|| {
            format!(
                "orphan sweep refused: the registry lists {} files but none of {} sampled exists; is the data root mounted?",
                owned.len(),
                sample.len()
            )
        })
    }

    /// Entries of `uploads/` not being written right now, optionally only those older than `min_age`.
    fn upload_targets(&self, min_age: Option<Duration>) -> Vec<Target> {
        let busy = self
            .uploads_in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Ok(entries) = std::fs::read_dir(self.root.abs("uploads")) else {
            return vec![];
        };
        entries
            .flatten()
            .filter_map(|e| {
                let rel = format!("uploads/{}", e.file_name().to_string_lossy());
                let old = min_age.is_none_or(|age| older_than(&e.path(), age));
                (!busy.contains(&rel) && old).then_some(Target {
                    rel,
                    artifact_ids: vec![],
                })
            })
            .collect()
    }

    /// Deletes registry rows whose file is gone (after a crash mid-run), so the registry matches the disk.
    async fn drop_rows_of_missing_files(&self) -> Result<usize> {
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, path FROM artifacts")
            .fetch_all(&self.registry.pool)
            .await?;
        let missing: Vec<i64> = rows
            .into_iter()
            .filter(|(_, p)| std::fs::symlink_metadata(self.root.abs(p)).is_err())
            .map(|(id, _)| id)
            .collect();
        self.registry.delete_artifacts(&missing).await?;
        Ok(missing.len())
    }

    // ---- execution ----

    fn record(
        &self,
        actor: &str,
        trigger: Trigger,
        scope: String,
        episode: Option<&EpisodeId>,
        dry_run: bool,
    ) -> RunRecord {
        RunRecord {
            id: new_run_id(),
            actor: actor.to_string(),
            trigger: trigger.as_str().to_string(),
            scope,
            episode: episode.map(|e| e.to_string()),
            dry_run,
        }
    }

    /// Deletes a wholly cleaned episode's rows: in one statement when all its paths went, else all but
    /// the rows of files under a path that could not be removed.
    async fn drop_episode_rows(&self, w: &WholeEpisode, failed: &[String]) -> Result<()> {
        let stuck: Vec<&String> = failed
            .iter()
            .filter(|f| w.rels.iter().any(|r| is_within(f, r)))
            .collect();
        let kept_kinds: Vec<&str> = [(w.keep.transcripts, "transcript"), (w.keep.audio, "audio")]
            .into_iter()
            .filter_map(|(k, kind)| k.then_some(kind))
            .collect();
        if stuck.is_empty() {
            return self
                .registry
                .delete_episode_artifacts(&w.id, &kept_kinds)
                .await;
        }
        let ids: Vec<i64> = self
            .registry
            .artifacts_of(&w.id)
            .await?
            .into_iter()
            .filter(|r| !kept_kinds.contains(&r.kind.as_str()))
            .filter(|r| !stuck.iter().any(|f| is_within(&r.path, f)))
            .map(|r| r.id)
            .collect();
        self.registry.delete_artifacts(&ids).await
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

    fn busy_runs(&self) -> HashSet<String> {
        self.active_runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Two phases: move every target into `.trash/<run>/`, commit the registry change, purge the trash.
    async fn execute(&self, run: RunRecord, plan: Plan) -> Result<CleanupReport> {
        let started = Instant::now();
        self.registry.start_run(&run).await?;
        self.active_runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(run.id.clone());
        let trash = self.root.trash(&run.id);
        let mut report = CleanupReport {
            run_id: run.id.clone(),
            trigger: run.trigger.clone(),
            dry_run: run.dry_run,
            result: CleanupResult::Ok,
            files: 0,
            bytes: 0,
            errors: plan.errors,
            duration_ms: 0,
            paths: vec![],
        };
        let mut drop_ids = Vec::new();
        let mut seen = HashSet::new();
        for t in plan.targets {
            if !seen.insert(t.rel.clone()) {
                continue;
            }
            let res = if run.dry_run {
                trash.measure(&t.rel).map(|m| {
                    report.files += m.files;
                    report.bytes += m.bytes;
                    m.existed
                })
            } else {
                trash.take(&t.rel)
            };
            match res {
                Ok(existed) => {
                    if existed {
                        report.paths.push(t.rel);
                    }
                    drop_ids.extend(t.artifact_ids);
                }
                Err(message) => {
                    tracing::warn!(run = %run.id, path = %t.rel, %message, "cleanup could not remove a path");
                    report.errors.push(PathError {
                        path: t.rel,
                        message,
                    });
                }
            }
        }
        let moved = started.elapsed();
        if !run.dry_run {
            // Failpoint for the crash-recovery test: die between phase one (rename) and the registry commit.
            if std::env::var_os("EWG_FAILPOINT_CRASH_AFTER_TRASH").is_some() {
                std::process::abort();
            }
            // Once everything is in the trash, the registry commit and the purge are independent: a
            // crash during either leaves trash and rows that `recover` reconciles. So they overlap.
            let failed: Vec<String> = report.errors.iter().map(|e| e.path.clone()).collect();
            let purge = tokio::task::spawn_blocking(move || trash.purge());
            let rows = async {
                self.registry.delete_artifacts(&drop_ids).await?;
                for w in &plan.whole {
                    self.drop_episode_rows(w, &failed).await?;
                }
                Ok::<_, Error>(())
            };
            let (db, purged) = tokio::join!(rows, purge);
            if let Err(e) = db {
                report.errors.push(PathError {
                    path: "registry".into(),
                    message: e.to_string(),
                });
            }
            match purged {
                Ok(p) => add_purged(&mut report, p),
                Err(e) => report.errors.push(PathError {
                    path: format!(".trash/{}", run.id),
                    message: format!("purge stopped: {e}"),
                }),
            }
            tracing::debug!(
                run = %run.id,
                move_ms = moved.as_millis() as u64,
                commit_and_purge_ms = (started.elapsed() - moved).as_millis() as u64,
                "cleanup phases"
            );
        }
        self.active_runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&run.id);
        report.result = match (
            report.errors.is_empty(),
            report.files > 0 || !report.paths.is_empty(),
        ) {
            (true, _) => CleanupResult::Ok,
            (false, true) => CleanupResult::Partial,
            (false, false) => CleanupResult::Failed,
        };
        report.duration_ms = started.elapsed().as_millis() as i64;
        self.registry
            .finish_run(
                &run.id,
                report.result,
                report.files,
                report.bytes,
                &report.errors,
                report.duration_ms,
            )
            .await?;
        tracing::info!(
            run = %run.id, trigger = %run.trigger, scope = %run.scope, actor = %run.actor, dry_run = run.dry_run,
            files = report.files, bytes = report.bytes, errors = report.errors.len(),
            duration_ms = report.duration_ms, "cleanup run finished"
        );
        Ok(report)
    }
}

fn add_purged(report: &mut CleanupReport, purged: crate::storage::Purged) {
    report.files += purged.files;
    report.bytes += purged.bytes;
    report.errors.extend(
        purged
            .errors
            .into_iter()
            .map(|(path, message)| PathError { path, message }),
    );
}

/// `path` is `dir` or inside it (component-wise, not a substring: `talk-1` is not within `talk`).
fn is_within(path: &str, dir: &str) -> bool {
    path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Collects orphans under `rel`. Returns true when something under it must stay; a directory holding
/// nothing to keep is reported as one target instead of file by file.
/// What the orphan sweep must leave alone.
struct SweepRules<'a> {
    /// Paths registered in `artifacts`.
    owned: &'a HashSet<String>,
    /// Directories and files a live job may be writing.
    protected: &'a [String],
    /// Paths this run removes anyway.
    covered: &'a HashSet<String>,
}

fn sweep_dir(
    root: &DataRoot,
    rel: &str,
    k: &SweepRules,
    out: &mut Vec<String>,
    is_top: bool,
) -> bool {
    let Ok(entries) = std::fs::read_dir(root.abs(rel)) else {
        return true;
    };
    let mut keep = false;
    let mut local = Vec::new();
    for e in entries.flatten() {
        let child = format!("{rel}/{}", e.file_name().to_string_lossy());
        // A covered path counts as kept so its parents are not swept as empty "orphans".
        if k.covered.contains(&child) || k.protected.iter().any(|p| is_within(&child, p)) {
            keep = true;
            continue;
        }
        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir {
            let mut sub = Vec::new();
            if sweep_dir(root, &child, k, &mut sub, false) {
                keep = true;
                local.extend(sub);
            } else {
                local.push(child);
            }
        } else if k.owned.contains(&child) {
            keep = true;
        } else {
            local.push(child);
        }
    }
    if keep || is_top {
        out.extend(local);
        true
    } else {
        false
    }
}

fn older_than(path: &std::path::Path, age: Duration) -> bool {
    std::fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|d| d >= age)
}

/// Sortable and unique: time first, then randomness.
fn new_run_id() -> String {
    let mut rnd = [0u8; 4];
    let _ = getrandom::fill(&mut rnd);
    format!("{}-{}", now_ms(), hex::encode(rnd))
}
