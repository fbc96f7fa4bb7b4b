//! The live feed behind `GET /api/events`: what changed in the registry, pushed to every open stream.
//!
//! The registry is the only place that sees every change — a job on another machine writes its progress
//! there, not into this process — so the feed reads it rather than hooking into this process's code
//! paths. One task per server polls while at least one stream is open (and not at all otherwise) and
//! fans the changes out over a broadcast channel: the cost is one pair of reads per tick, however many
//! browsers watch. Each read looks back [`OVERLAP_MS`] and drops what it already sent, so a change
//! written in the same millisecond as a read, or by a node whose clock is a little behind, is still
//! seen exactly once — but never before the feed started: a stream carries what changes after it
//! opened (the page fetched the state before).

use super::StuckLimits;
use crate::now_ms;
use crate::registry::Registry;
use app::api::{CleanupRunSummary, EpisodeSummary, ScanStatus};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// How often the registry is read while someone listens.
const TICK: Duration = Duration::from_millis(250);
/// How far each read looks back.
const OVERLAP_MS: i64 = 5_000;
/// Events a slow stream may fall behind before it is told to resync.
const BACKLOG: usize = 1024;

#[derive(Clone, Debug)]
pub enum LiveEvent {
    Episode(EpisodeSummary),
    Cleanup(CleanupRunSummary),
    /// Pushed by this process's inbox scan itself (a scan is not in the registry).
    Scan(ScanStatus),
}

impl LiveEvent {
    pub fn episode_id(&self) -> Option<&str> {
        match self {
            LiveEvent::Episode(e) => Some(&e.id),
            LiveEvent::Cleanup(_) | LiveEvent::Scan(_) => None,
        }
    }
}

pub struct Live {
    tx: broadcast::Sender<Arc<LiveEvent>>,
    started: Mutex<bool>,
    registry: Registry,
    stuck: StuckLimits,
}

impl Live {
    pub fn new(registry: Registry, stuck: StuckLimits) -> Arc<Self> {
        Arc::new(Live {
            tx: broadcast::channel(BACKLOG).0,
            started: Mutex::new(false),
            registry,
            stuck,
        })
    }

    /// A new listener; the feed starts with the first one.
    pub fn subscribe(self: &Arc<Self>) -> broadcast::Receiver<Arc<LiveEvent>> {
        let rx = self.tx.subscribe();
        let mut started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        if !*started {
            *started = true;
            tokio::spawn(Arc::clone(self).feed());
        }
        rx
    }

    /// Sends an event that is not a registry change to every open stream (none open: dropped).
    pub fn publish(&self, event: LiveEvent) {
        let _ = self.tx.send(Arc::new(event));
    }

    async fn feed(self: Arc<Self>) {
        let mut seen = Seen::default();
        let mut opened = now_ms();
        let mut since = opened;
        loop {
            tokio::time::sleep(TICK).await;
            if self.tx.receiver_count() == 0 {
                // Nobody listens: forget what was sent; the next listener starts from its own start.
                seen = Seen::default();
                opened = now_ms();
                since = opened;
                continue;
            }
            let read_at = now_ms();
            match self.changes(&mut seen, since, read_at).await {
                Ok(events) => {
                    for e in events {
                        // An error only means every listener left since the count above.
                        let _ = self.tx.send(Arc::new(e));
                    }
                    since = (read_at - OVERLAP_MS).max(opened);
                }
                Err(e) => tracing::warn!(error = %e, "live feed: the registry did not answer"),
            }
        }
    }

    /// What changed since `since`, judged (stuck or not) as of `now`.
    async fn changes(
        &self,
        seen: &mut Seen,
        since: i64,
        now: i64,
    ) -> crate::error::Result<Vec<LiveEvent>> {
        let mut out = Vec::new();
        for row in self.registry.episodes_changed_since(since).await? {
            let summary = self.stuck.summary(&row, now);
            let print = format!(
                "{}|{}|{:?}|{}|{}",
                summary.state,
                summary.stage,
                summary.progress.as_ref().map(|p| (p.stage, p.percent)),
                summary.updated_at,
                summary.stuck.is_some()
            );
            if seen.episodes.get(&summary.id) != Some(&print) {
                seen.episodes.insert(summary.id.clone(), print);
                out.push(LiveEvent::Episode(summary));
            }
        }
        for (run, finished, result) in self.registry.runs_changed_since(since).await? {
            let print = format!("{finished:?}|{result:?}|{}|{}", run.files, run.bytes);
            if seen.runs.get(&run.run_id) != Some(&print) {
                seen.runs.insert(run.run_id.clone(), print);
                out.push(LiveEvent::Cleanup(run));
            }
        }
        seen.forget_old();
        Ok(out)
    }
}

/// What was last sent per episode and run.
#[derive(Default)]
struct Seen {
    episodes: HashMap<String, String>,
    runs: HashMap<String, String>,
}

impl Seen {
    /// Runs are many and only ever change for a while; episodes are bounded by the library.
    fn forget_old(&mut self) {
        if self.runs.len() > 10_000 {
            self.runs.clear();
        }
    }
}
