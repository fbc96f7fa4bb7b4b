//! "Scan inbox" as a background job: [`Studio::start_scan`] answers at once with the scan's status, the
//! probes run in parallel on a task of their own, and the counts are readable while it runs
//! ([`Studio::scan_status`], `GET /api/scan`) and pushed on the event stream (`scan`). One scan runs
//! at a time per server: starting another while one runs joins it.
//!
//! The CLI (`ewg discover`) and `discover` with `wait` go through the same start and wait for the end.

use super::{LiveEvent, Studio};
use crate::error::{Error, Result};
use crate::pipeline::discover::{self, Progress};
use crate::pipeline::ffmpeg::PROBE_TIMEOUT;
use app::api::backend::Actor;
use app::api::{ApiError, DiscoverReport, ScanState, ScanStatus};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// How often a running scan pushes its counts to the event stream.
const PUBLISH_EVERY: Duration = Duration::from_millis(250);

/// The scan that runs now, or the last one (its result stays readable).
#[derive(Default)]
pub struct Scans {
    current: Mutex<Option<Arc<Scan>>>,
    next: AtomicU64,
}

struct Scan {
    id: String,
    started_at: i64,
    progress: Progress,
    /// `None` while running; the result once finished.
    end: watch::Sender<Option<End>>,
}

#[derive(Clone)]
struct End {
    at: i64,
    result: std::result::Result<DiscoverReport, String>,
}

impl Scan {
    fn status(&self, joined: bool) -> ScanStatus {
        let p = &self.progress;
        let end = self.end.borrow().clone();
        let finished_at = end.as_ref().map(|e| e.at);
        let elapsed_ms = finished_at.unwrap_or_else(crate::now_ms) - self.started_at;
        let probed = p.probed.load(Ordering::Relaxed);
        let mut s = ScanStatus {
            id: self.id.clone(),
            state: ScanState::Running,
            started_at: self.started_at,
            finished_at,
            seen: p.seen.load(Ordering::Relaxed),
            total: p
                .listed
                .load(Ordering::Relaxed)
                .then(|| p.total.load(Ordering::Relaxed)),
            probed,
            added_count: p.added.load(Ordering::Relaxed),
            skipped_count: p.skipped.load(Ordering::Relaxed),
            files_per_sec: probed as f64 * 1000.0 / elapsed_ms.max(1) as f64,
            joined,
            error: None,
            added: Vec::new(),
            skipped: Vec::new(),
        };
        match end.map(|e| e.result) {
            None => {}
            Some(Ok(report)) => {
                s.state = ScanState::Done;
                s.added = report.added;
                s.skipped = report.skipped;
            }
            Some(Err(e)) => {
                s.state = ScanState::Failed;
                s.error = Some(e);
            }
        }
        s
    }

    fn running(&self) -> bool {
        self.end.borrow().is_none()
    }
}

impl Studio {
    /// Starts a scan of the inbox, or joins the one running (`joined` says which), and answers at once.
    pub fn start_scan(self: &Arc<Self>, actor: &str) -> ScanStatus {
        let (scan, joined) = self.begin_scan(actor);
        scan.status(joined)
    }

    fn begin_scan(self: &Arc<Self>, actor: &str) -> (Arc<Scan>, bool) {
        let mut current = self.scans.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(scan) = current.as_ref().filter(|s| s.running()) {
            tracing::info!(actor, scan = %scan.id, "scan already running; joined");
            return (Arc::clone(scan), true);
        }
        let n = self.scans.next.fetch_add(1, Ordering::Relaxed) + 1;
        let scan = Arc::new(Scan {
            id: format!("scan-{n}"),
            started_at: crate::now_ms(),
            progress: Progress::default(),
            end: watch::channel(None).0,
        });
        *current = Some(Arc::clone(&scan));
        tracing::info!(actor, scan = %scan.id, "scan started");
        tokio::spawn(Arc::clone(self).run_scan(Arc::clone(&scan)));
        (scan, false)
    }

    /// The running scan, else the last one; `None` before the first since the server started.
    pub fn scan_status(&self) -> Option<ScanStatus> {
        let current = self.scans.current.lock().unwrap_or_else(|e| e.into_inner());
        current.as_ref().map(|s| s.status(false))
    }

    /// Starts (or joins) a scan and waits for its end: the CLI, and `discover` with `wait`.
    pub async fn scan_and_wait(self: &Arc<Self>, actor: &str) -> Result<ScanStatus> {
        let (scan, joined) = self.begin_scan(actor);
        let mut end = scan.end.subscribe();
        end.wait_for(Option::is_some)
            .await
            .map_err(|_| Error::Internal(format!("{} stopped without an end", scan.id)))?;
        let status = scan.status(joined);
        match &status.error {
            Some(e) => Err(Error::Internal(format!("{} failed: {e}", scan.id))),
            None => Ok(status),
        }
    }

    /// The scan itself, publishing its counts while it runs and its status at the end.
    async fn run_scan(self: Arc<Self>, scan: Arc<Scan>) {
        let publisher = tokio::spawn({
            let (studio, scan) = (Arc::clone(&self), Arc::clone(&scan));
            async move {
                loop {
                    tokio::time::sleep(PUBLISH_EVERY).await;
                    studio.live.publish(LiveEvent::Scan(scan.status(false)));
                }
            }
        });
        let result = discover::discover_with(
            &self.root,
            &self.registry,
            PROBE_TIMEOUT,
            &scan.progress,
            discover::parallel_probes(),
        )
        .await;
        publisher.abort();
        let result = result.map_err(|e| {
            tracing::error!(scan = %scan.id, error = %e, "scan failed");
            e.to_string()
        });
        scan.end.send_replace(Some(End {
            at: crate::now_ms(),
            result,
        }));
        let status = scan.status(false);
        tracing::info!(
            scan = %scan.id,
            probed = status.probed,
            added = status.added_count,
            skipped = status.skipped_count,
            files_per_sec = format!("{:.1}", status.files_per_sec),
            "scan finished"
        );
        self.live.publish(LiveEvent::Scan(status));
    }
}

/// The scan for the API: `wait` answers when it has finished, as a script wants.
#[async_trait::async_trait]
impl app::api::backend::Scanning for Studio {
    async fn discover(&self, actor: &Actor, wait: bool) -> Result<ScanStatus, ApiError> {
        tracing::info!(actor = %actor.name, wait, "discover");
        if wait {
            return Ok(Studio::scan_and_wait(&self.handle()?, &actor.name).await?);
        }
        Ok(Studio::start_scan(&self.handle()?, &actor.name))
    }

    async fn scan_status(&self) -> Result<Option<ScanStatus>, ApiError> {
        Ok(Studio::scan_status(self))
    }
}
