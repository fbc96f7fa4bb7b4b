//! Workers that claim jobs from the durable queue and run the pipeline, with leases, heartbeats and
//! cancellation. A job's outcome always reaches the registry: done, failed (with stage and reason, then
//! failure cleanup) or cancelled (then cleanup of the partial attempt).

use crate::cleanup::{Cleanup, Trigger};
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::pipeline::{Pipeline, StageError};
use crate::registry::{JobRow, Registry};
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
    pub fn new(pipeline: Pipeline, cleanup: Arc<Cleanup>, lease: Duration) -> Arc<Self> {
        Arc::new(Jobs {
            registry: pipeline.registry.clone(),
            pipeline,
            cleanup,
            lease,
            wake: Notify::new(),
            running: Mutex::new(HashMap::new()),
            node: format!("pid{}", std::process::id()),
        })
    }

    /// Starts `n` workers and the lease reaper. They stop when `shutdown` fires.
    pub fn start(self: &Arc<Self>, n: u16, shutdown: CancellationToken) {
        for i in 0..n {
            let this = Arc::clone(self);
            let stop = shutdown.clone();
            let name = format!("{}-w{i}", this.node);
            tokio::spawn(async move { this.worker(name, stop).await });
        }
        let this = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(this.lease / 2) => {}
                }
                if let Err(e) = this.cleanup.repair_registry().await {
                    tracing::error!(error = %e, "lease reaper failed");
                }
            }
        });
    }

    pub fn wake(&self) {
        self.wake.notify_waiters();
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
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                }
                Err(e) => {
                    tracing::error!(worker = %name, error = %e, "could not claim a job");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
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
        let outcome = match self.registry.episode(&job.episode).await {
            Ok(Some(ep)) => self.pipeline.run(&ep, job.attempt, cancel.clone()).await,
            Ok(None) => Err(StageError::Failed {
                stage: app::api::Stage::Prepped,
                reason: "episode vanished from the registry".into(),
            }),
            Err(e) => Err(StageError::Failed {
                stage: app::api::Stage::Prepped,
                reason: e.to_string(),
            }),
        };
        if let Err(e) = self.settle(&job, outcome).await {
            tracing::error!(error = %e, "could not record the job's outcome");
        }
        heartbeat.abort();
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&job.id);
        let _ = done_tx.send(true);
    }

    /// Records how the attempt ended. The failure itself is written first, so a cleanup problem can never
    /// hide it; the job stays live until its cleanup is done, so nobody retries into a half-clean state.
    async fn settle(&self, job: &JobRow, outcome: Result<(), StageError>) -> Result<()> {
        let id = EpisodeId::parse(&job.episode)?;
        match outcome {
            Ok(()) => {
                self.registry
                    .finish_episode(id.as_str(), EpisodeState::Done, None)
                    .await?;
                self.registry.finish_job(job.id, "done", None).await?;
                tracing::info!("job done");
            }
            Err(StageError::Cancelled) => {
                self.registry
                    .finish_episode(id.as_str(), EpisodeState::Cancelled, None)
                    .await?;
                self.clean_attempt(&id, job.attempt, Trigger::Cancel).await;
                self.registry.finish_job(job.id, "cancelled", None).await?;
                tracing::info!("job cancelled");
            }
            Err(StageError::Failed { stage, reason }) => {
                tracing::warn!(%stage, %reason, "job failed");
                self.registry
                    .finish_episode(id.as_str(), EpisodeState::Failed, Some((stage, &reason)))
                    .await?;
                self.clean_attempt(&id, job.attempt, Trigger::Failure).await;
                self.registry
                    .finish_job(job.id, "failed", Some(&reason))
                    .await?;
            }
        }
        Ok(())
    }

    /// Cleans the attempt; when nothing of it is left, the episode's stage goes back to `discovered`
    /// (the stage is what exists on disk, not what once ran).
    async fn clean_attempt(&self, id: &EpisodeId, attempt: i64, trigger: Trigger) {
        match self
            .cleanup
            .attempt(id, attempt, trigger, "system", false)
            .await
        {
            Ok(r) => tracing::info!(
                files = r.files,
                bytes = r.bytes,
                errors = r.errors.len(),
                result = r.result.as_str(),
                "attempt cleaned"
            ),
            Err(e) => tracing::error!(error = %e, "cleanup after the attempt failed"),
        }
    }

    /// Renews the lease while the job runs and relays a cancel flag set by another process.
    fn heartbeat(&self, job_id: i64, cancel: CancellationToken) -> tokio::task::JoinHandle<()> {
        let registry = self.registry.clone();
        let lease = self.lease;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                match registry.heartbeat(job_id, lease.as_millis() as i64).await {
                    Ok(true) => cancel.cancel(),
                    Ok(false) => {}
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
            // Another process runs it: it sees the flag at its next heartbeat.
            let deadline = tokio::time::Instant::now() + self.lease * 2;
            while let Some(j) = self.registry.job(job_id).await? {
                if j.state != "running" || tokio::time::Instant::now() > deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        self.registry.job(job_id).await
    }
}
