//! Workers that claim jobs from the durable queue and run the pipeline, with leases, heartbeats and
//! cancellation. A job's outcome always reaches the registry: done, failed (with stage and reason, then
//! failure cleanup) or cancelled (then cleanup of the partial attempt).

use crate::cleanup::{Cleanup, Trigger};
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::pipeline::{Pipeline, StageError};
use crate::registry::{AttemptEnd, Beat, JobKind, JobRow, JobState, Registry};
use app::api::EpisodeState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

struct Running {
    cancel: CancellationToken,
    /// Flips to true when the job has fully stopped (pipeline returned, cleanup done).
    done: watch::Receiver<bool>,
}

pub struct Jobs {
    registry: Registry,
    pipeline: Pipeline,
    cleanup: Arc<Cleanup>,
    lease: Duration,
    wake: Notify,
    running: Mutex<HashMap<i64, Running>>,
    node: String,
}

impl Jobs {
    /// The pipeline's settings (clip defaults, for a discovery asked from the episode page).
    pub fn pipeline_config(&self) -> &crate::pipeline::PipelineConfig {
        &self.pipeline.config
    }

    pub fn new(pipeline: Pipeline, cleanup: Arc<Cleanup>, lease: Duration) -> Arc<Self> {
        Arc::new(Jobs {
            registry: pipeline.registry.clone(),
            pipeline,
            cleanup,
            lease,
            wake: Notify::new(),
            running: Mutex::new(HashMap::new()),
            node: crate::registry::liveness::node_id().to_string(),
        })
    }

    /// Starts `n` workers and the lease reaper. They stop when `shutdown` fires.
    pub fn start(self: &Arc<Self>, n: u16, shutdown: CancellationToken) {
        for _ in 0..n {
            let this = Arc::clone(self);
            let stop = shutdown.clone();
            // Every slot claims as the node: `jobs.worker` says which process runs a job.
            let name = this.node.clone();
            tokio::spawn(async move { this.worker(name, stop).await });
        }
        if n > 0 {
            self.listen(shutdown.clone());
        }
        let this = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(this.lease / 2) => {}
                }
                // The reserve first: on a full disk the reaper's own writes need the room it gives back.
                let pipeline = this.pipeline.clone();
                let _ = tokio::task::spawn_blocking(move || pipeline.keep_reserve()).await;
                if let Err(e) = this.cleanup.repair_registry().await {
                    tracing::error!(error = %e, "lease reaper failed");
                }
            }
        });
    }

    pub fn wake(&self) {
        self.wake.notify_waiters();
    }

    /// Resolves once no job runs in this process (after `shutdown`, nothing new starts).
    pub async fn drained(&self) {
        loop {
            let waiting: Vec<watch::Receiver<bool>> = self
                .running
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .values()
                .map(|r| r.done.clone())
                .collect();
            if waiting.is_empty() {
                return;
            }
            for mut done in waiting {
                let _ = done.wait_for(|d| *d).await;
            }
        }
    }

    /// The pipeline settings these workers run with.
    pub fn config(&self) -> &crate::pipeline::PipelineConfig {
        &self.pipeline.config
    }

    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// On PostgreSQL, wakes this process's idle workers when any process queues a job (`NOTIFY`), so
    /// they sleep instead of polling. A lost connection is re-made; meanwhile the slow poll covers.
    fn listen(self: &Arc<Self>, shutdown: CancellationToken) {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                let mut listener = match this.registry.listen_jobs().await {
                    Ok(Some(l)) => l,
                    Ok(None) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for new jobs; polling");
                        tokio::select! {
                            _ = shutdown.cancelled() => return,
                            _ = tokio::time::sleep(Duration::from_secs(5)) => continue,
                        }
                    }
                };
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        n = listener.recv() => match n {
                            Ok(_) => this.wake(),
                            Err(e) => {
                                tracing::warn!(error = %e, "job notifications lost; reconnecting");
                                break;
                            }
                        },
                    }
                }
            }
        });
    }

    async fn worker(self: Arc<Self>, name: String, shutdown: CancellationToken) {
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            let lease_ms = self.lease.as_millis() as i64;
            match self.registry.claim_job(&name, lease_ms).await {
                Ok(Some(job)) => {
                    let span = tracing::info_span!("job", job = job.id, episode = %job.episode, attempt = job.attempt);
                    self.run(job).instrument(span).await;
                }
                Ok(None) => {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(self.idle_poll()) => {}
                    }
                }
                Err(e) => {
                    tracing::error!(worker = %name, error = %e, "could not claim a job");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// How long an idle worker sleeps before looking again. On PostgreSQL a `NOTIFY` wakes it first, so
    /// the poll is only a safety net; SQLite has no notifications across processes.
    fn idle_poll(&self) -> Duration {
        match self.registry.engine() {
            crate::registry::Engine::Sqlite => Duration::from_millis(500),
            crate::registry::Engine::Postgres => Duration::from_secs(5),
        }
    }

    async fn run(&self, job: JobRow) {
        let cancel = CancellationToken::new();
        let (done_tx, done_rx) = watch::channel(false);
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                job.id,
                Running {
                    cancel: cancel.clone(),
                    done: done_rx,
                },
            );
        let heartbeat = self.heartbeat(job.id, cancel.clone());
        tracing::info!("job started");
        let outcome = match (self.registry.episode(&job.episode).await, job.kind()) {
            (Ok(Some(ep)), Some(JobKind::Process)) => {
                self.pipeline.run(&ep, job.attempt, cancel.clone()).await
            }
            (Ok(Some(ep)), Some(JobKind::Clip(n))) => {
                self.pipeline
                    .run_clip(&ep, job.attempt, n, cancel.clone())
                    .await
            }
            (Ok(Some(_)), None) => Err(StageError::Failed {
                stage: app::api::Stage::Prepped,
                reason: format!("unknown job kind `{}` (a newer build's?)", job.kind),
            }),
            (Ok(None), _) => Err(StageError::Failed {
                stage: app::api::Stage::Prepped,
                reason: "episode vanished from the registry".into(),
            }),
            (Err(e), _) => Err(StageError::Failed {
                stage: app::api::Stage::Prepped,
                reason: e.to_string(),
            }),
        };
        self.settle_surely(&job, outcome).await;
        if !self.pipeline.config.keep_scratch
            && let Ok(id) = EpisodeId::parse(&job.episode)
        {
            self.pipeline.scratch.drop_attempt(&id, job.attempt);
        }
        heartbeat.abort();
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&job.id);
        let _ = done_tx.send(true);
    }

    /// [`Self::settle`], again and again until the registry takes it: an outcome must not be lost to a
    /// full disk, a busy database or a refused write. A full disk gives the registry's reserve back at
    /// once. After a few lease periods the job is left to the reaper (whose fenced writes make any late
    /// one of ours a no-op), so a registry that never recovers cannot hold a worker forever.
    async fn settle_surely(&self, job: &JobRow, outcome: Result<(), StageError>) {
        let give_up = tokio::time::Instant::now() + self.lease * 4 + Duration::from_secs(30);
        let mut delay = Duration::from_millis(200);
        loop {
            let again = match &outcome {
                Ok(()) => Ok(()),
                Err(StageError::Cancelled) => Err(StageError::Cancelled),
                Err(StageError::Failed { stage, reason }) => Err(StageError::Failed {
                    stage: *stage,
                    reason: reason.clone(),
                }),
            };
            let Err(e) = self.settle(job, again).await else {
                return;
            };
            if crate::pipeline::space::release_reserve_if_full(&self.pipeline.root, &e.to_string())
            {
                tracing::warn!("the registry's disk is full: gave its reserve back");
            }
            if tokio::time::Instant::now() >= give_up {
                tracing::error!(error = %e, "could not record the job's outcome; leaving it to the lease reaper");
                return;
            }
            tracing::warn!(error = %e, retry_ms = delay.as_millis() as u64, "could not record the job's outcome; retrying");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// Records how the attempt ended. Every write is fenced on this job still running, so a job the
    /// reaper ended (its lease lapsed in a stall) changes nothing. Success ends in one transaction; a
    /// failure or cancel is written first (a cleanup problem can never hide it) and the job stays live
    /// until its cleanup is done, so nobody retries into a half-clean state.
    async fn settle(&self, job: &JobRow, outcome: Result<(), StageError>) -> Result<()> {
        let id = EpisodeId::parse(&job.episode)?;
        let (state, end_state, failed) = match &outcome {
            Ok(()) => {
                if !self.pipeline.config.keep_scratch {
                    self.clean(&id, job.attempt, Trigger::Scratch).await;
                }
                let end = AttemptEnd {
                    episode_state: EpisodeState::Done,
                    failed: None,
                };
                if self
                    .registry
                    .end_job(job, JobState::Done, None, Some(&end), false)
                    .await?
                {
                    tracing::info!("job done");
                } else {
                    tracing::warn!("job finished after losing its episode; nothing recorded");
                }
                return Ok(());
            }
            Err(StageError::Cancelled) => (JobState::Cancelled, EpisodeState::Cancelled, None),
            Err(StageError::Failed { stage, reason }) => {
                tracing::warn!(%stage, %reason, "job failed");
                (
                    JobState::Failed,
                    EpisodeState::Failed,
                    Some((*stage, reason.as_str())),
                )
            }
        };
        let end = AttemptEnd {
            episode_state: end_state,
            failed,
        };
        if !self.registry.record_outcome(job, &end).await? {
            tracing::warn!("job lost its episode before it ended; leaving it to its new owner");
            return Ok(());
        }
        // Between the two writes that end a failed job: the recovery tests die here (`crash`).
        let _ = crate::failpoint::hit("job.after_outcome");
        let trigger = if state == JobState::Cancelled {
            Trigger::Cancel
        } else {
            Trigger::Failure
        };
        let clean = self.clean(&id, job.attempt, trigger).await;
        // A clip job's failure takes only its own clip: the rest of the episode is still on disk, so
        // the stage stays what it was.
        let reset_stage = clean && !matches!(job.kind(), Some(JobKind::Clip(_)));
        self.registry
            .end_job(job, state, failed.map(|(_, r)| r), None, reset_stage)
            .await?;
        tracing::info!(state = state.as_str(), "job ended");
        Ok(())
    }

    /// Cleans the attempt (or its scratch). True when nothing of it is left, so the episode's stage can
    /// go back to `discovered` (the stage is what exists on disk, not what once ran).
    async fn clean(&self, id: &EpisodeId, attempt: i64, trigger: Trigger) -> bool {
        let res = match trigger {
            Trigger::Scratch => self.cleanup.scratch(id, attempt).await,
            _ => self.cleanup.job_attempt(id, attempt, trigger).await,
        };
        match res {
            Ok(r) => {
                tracing::info!(
                    trigger = trigger.as_str(),
                    files = r.files,
                    bytes = r.bytes,
                    errors = r.errors.len(),
                    result = r.result.as_str(),
                    "attempt cleaned"
                );
                r.errors.is_empty()
            }
            Err(e) => {
                tracing::error!(error = %e, "cleanup after the attempt failed");
                false
            }
        }
    }

    /// Renews the lease while the job runs. A cancel flag set by any process, or the loss of the job to
    /// the reaper, stops it: a job that is no longer ours must not keep writing.
    fn heartbeat(&self, job_id: i64, cancel: CancellationToken) -> tokio::task::JoinHandle<()> {
        let registry = self.registry.clone();
        let lease = self.lease;
        tokio::spawn(async move {
            let mut renewed = tokio::time::Instant::now();
            loop {
                tokio::time::sleep(lease / 3).await;
                match registry.heartbeat(job_id, lease.as_millis() as i64).await {
                    Ok(Beat::Alive) => renewed = tokio::time::Instant::now(),
                    Ok(Beat::CancelRequested) => cancel.cancel(),
                    Ok(Beat::Lost) => {
                        tracing::warn!(job = job_id, "job lost its lease; stopping it");
                        cancel.cancel();
                        return;
                    }
                    // Past its lease without a renewal the job may already be another's: it stops
                    // rather than keep writing on a lease it cannot prove (its end writes are fenced).
                    Err(e) if renewed.elapsed() >= lease => {
                        tracing::warn!(job = job_id, error = %e, "no heartbeat for a whole lease; stopping the job");
                        cancel.cancel();
                        return;
                    }
                    Err(e) => tracing::warn!(job = job_id, error = %e, "heartbeat failed"),
                }
            }
        })
    }

    /// Cancels a job and waits until it has fully stopped, its ffmpeg killed and its attempt cleaned.
    pub async fn cancel_and_wait(&self, job_id: i64) -> Result<Option<JobRow>> {
        self.registry.request_cancel(job_id).await?;
        let running = {
            let map = self.running.lock().unwrap_or_else(|e| e.into_inner());
            map.get(&job_id).map(|r| (r.cancel.clone(), r.done.clone()))
        };
        if let Some((cancel, mut done)) = running {
            cancel.cancel();
            let _ = tokio::time::timeout(Duration::from_secs(60), done.wait_for(|d| *d))
                .await
                .map_err(|_| Error::Internal(format!("job {job_id} did not stop within 60 s")))?;
        } else {
            // Another process (maybe on another machine) runs it: it sees the flag at its next heartbeat,
            // stops, cleans its attempt and ends the job. If it died instead, its lease lapses and a
            // reaper ends the job; either way the job leaves `running`.
            let deadline = tokio::time::Instant::now() + self.lease * 2 + Duration::from_secs(60);
            loop {
                let job = self.registry.job(job_id).await?;
                match &job {
                    Some(j) if j.state() == JobState::Running => {
                        if tokio::time::Instant::now() > deadline {
                            return Err(Error::Conflict(format!(
                                "job {job_id} on node {} has not stopped yet; it was asked to",
                                j.worker.as_deref().unwrap_or("?")
                            )));
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    _ => return Ok(job),
                }
            }
        }
        self.registry.job(job_id).await
    }
}
