//! Uploads in flight. While a client streams a file into `uploads/<random>.part`, a registry row with a
//! heartbeat says so, and every sweep in every process skips that part. The lease removes its part and
//! its row when dropped unfinished — on error, or when the client goes away and the request is dropped;
//! if the process dies, the heartbeat stops and the stale-upload sweep takes the part.

use super::{Cleanup, RUN_HEARTBEAT};
use crate::error::{Error, Result};
use crate::registry::Registry;
use std::path::PathBuf;

pub struct UploadLease {
    registry: Registry,
    rel: String,
    abs: PathBuf,
    heartbeat: tokio::task::JoinHandle<()>,
    finished: bool,
}

impl Cleanup {
    /// Registers a new upload part (name random, never reused) before its first byte is written.
    pub async fn begin_upload(&self) -> Result<UploadLease> {
        let mut raw = [0u8; 12];
        getrandom::fill(&mut raw)
            .map_err(|e| Error::Internal(format!("no randomness for a temp name: {e}")))?;
        let rel = format!("uploads/{}.part", hex::encode(raw));
        let abs = self.root.abs(&rel);
        if let Some(dir) = abs.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        self.registry.begin_upload(&rel, &self.node).await?;
        let registry = self.registry.clone();
        let part = rel.clone();
        let heartbeat = tokio::spawn(async move {
            loop {
                tokio::time::sleep(RUN_HEARTBEAT).await;
                if let Err(e) = registry.heartbeat_upload(&part).await {
                    tracing::warn!(%part, error = %e, "upload heartbeat failed");
                }
            }
        });
        Ok(UploadLease {
            registry: self.registry.clone(),
            rel,
            abs,
            heartbeat,
            finished: false,
        })
    }
}

impl UploadLease {
    pub fn rel(&self) -> &str {
        &self.rel
    }
    pub fn abs(&self) -> &std::path::Path {
        &self.abs
    }

    /// The part became an inbox file: nothing to remove, only the row to forget.
    pub async fn finish(mut self) {
        self.finished = true;
        self.heartbeat.abort();
        if let Err(e) = self.registry.end_upload(&self.rel).await {
            tracing::warn!(part = %self.rel, error = %e, "could not forget a finished upload");
        }
    }
}

impl Drop for UploadLease {
    fn drop(&mut self) {
        self.heartbeat.abort();
        if self.finished {
            return;
        }
        match std::fs::remove_file(&self.abs) {
            Ok(()) => tracing::info!(part = %self.rel, "removed an unfinished upload"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(part = %self.rel, error = %e, "could not remove an unfinished upload; the sweep will")
            }
        }
        let registry = self.registry.clone();
        let part = std::mem::take(&mut self.rel);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = registry.end_upload(&part).await {
                    tracing::warn!(%part, error = %e, "could not forget an unfinished upload");
                }
            });
        }
    }
}
