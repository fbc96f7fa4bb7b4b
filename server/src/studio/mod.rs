//! The application service: every user-facing action, validated, with the cleanup rules. Server
//! functions ([`crate::backend`]), the upload and file handlers ([`crate::http`]) and the CLI
//! ([`crate::cli`]) all come in here, so they cannot drift apart.
//!
//! | file | actions |
//! |---|---|
//! | `episodes.rs` | discover, list, detail, process, cancel |
//! | `cleaning.rs` | episode cleanup, force reprocess, retry with cleanup, Deep Clean |
//! | `inbox.rs` | browser uploads into the inbox |
//! | `undo.rs` | the trash, restore, purge on request, and where the disk goes |
//! | `console.rs` | failure groups, an episode's media, per-clip delete and regenerate |
//! | `clips.rs` | clip edits: render a candidate, nudge a clip by a sentence, discover candidates again |
//! | `stuck.rs` | when a running episode counts as stuck |
//! | `live.rs` | the registry's changes as a feed, for the event stream |
//!
//! Actions that change state run [`Studio::detached`]: on a task of their own, so a client that
//! disconnects (its request future dropped) can never stop one half-way.

mod cleaning;
mod clips;
mod console;
mod episodes;
mod inbox;
mod live;
mod stuck;
mod undo;

pub use inbox::{UploadRequest, UploadTarget};
pub use live::{Live, LiveEvent};
pub use stuck::StuckLimits;

use crate::auth::Auth;
use crate::cleanup::Cleanup;
use crate::config::{Common, ServeArgs};
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::jobs::Jobs;
use crate::pipeline::scratch::Scratch;
use crate::pipeline::{Pipeline, PipelineConfig};
use crate::registry::{EpisodeRow, Registry};
use crate::storage::DataRoot;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub struct Studio {
    pub root: DataRoot,
    pub registry: Registry,
    pub jobs: Arc<Jobs>,
    pub cleanup: Arc<Cleanup>,
    pub auth: Auth,
    /// Largest browser upload accepted (`--max-upload-mb`).
    pub max_upload_bytes: u64,
    /// When a running episode counts as stuck (`--stuck-after`).
    pub stuck: StuckLimits,
    /// What changed in the registry, for `GET /api/events`.
    pub live: Arc<Live>,
    /// Caps on event streams and uploads, the upload margin, who may scrape `/metrics`.
    pub edges: crate::config::EdgeArgs,
}

impl Studio {
    /// Opens the data root and the registry, then finishes what a dead owner left (only runs whose owner
    /// is gone: opening beside a live server is safe).
    pub async fn open(common: &Common, serve: &ServeArgs) -> Result<Arc<Self>> {
        let registry = Registry::open_before_root(common).await?;
        let root = DataRoot::open(&common.data_dir)?;
        let registry = match registry {
            Some(r) => r,
            None => Registry::open(common.database_url.as_deref(), root.path()).await?,
        };
        same_root(&root, &registry).await?;
        let cleanup = Cleanup::new(
            root.clone(),
            registry.clone(),
            Duration::from_secs(serve.stale_after_secs),
            serve.retry_interrupted,
            serve.trash.policy(),
        );
        let recovered = cleanup.recover().await?;
        if recovered > 0 {
            tracing::warn!(
                runs = recovered,
                "finished cleanup runs whose owner had stopped"
            );
        }
        let scratch = match &serve.scratch_dir {
            Some(dir) => Scratch::local(dir, crate::node::node_id())?,
            None => Scratch::Shared,
        };
        let mut pipeline = Pipeline {
            root: root.clone(),
            registry: registry.clone(),
            config: PipelineConfig::from_env(),
            scratch,
        };
        // The flag wins over EWG_TRANSCRIBE, which PipelineConfig::from_env reads for `ewg process`.
        if let Some(t) = serve.transcriber {
            pipeline.config.transcriber = t;
        }
        if let Some(m) = serve.asr_model {
            pipeline.config.asr_model = m;
        }
        if let Some(cmd) = serve
            .transcribe_cmd
            .as_ref()
            .filter(|c| !c.trim().is_empty())
        {
            pipeline.config.transcribe_cmd = Some(cmd.clone());
        }
        if let Some(mb) = serve.disk_reserve_mb {
            pipeline.config.disk_reserve = Some(mb << 20);
        }
        if let Some(n) = serve.max_clips {
            pipeline.config.max_clips = n as usize;
        }
        if let Some(p) = serve.clip_preset {
            pipeline.config.clip_preset = p;
        }
        let jobs = Jobs::new(pipeline, Arc::clone(&cleanup), serve.lease());
        Ok(Arc::new(Studio {
            live: Live::new(registry.clone(), serve.stuck_after.clone()),
            auth: Auth::new(registry.clone(), serve),
            root,
            registry,
            jobs,
            cleanup,
            max_upload_bytes: serve.max_upload_mb.saturating_mul(1024 * 1024),
            stuck: serve.stuck_after.clone(),
            edges: serve.edges.as_ref().clone(),
        }))
    }

    /// Runs an action on its own task and waits for it. Dropping the returned future (a client that went
    /// away) leaves the action running to its end; its outcome is in the registry either way.
    pub async fn detached<T, F, Fut>(self: &Arc<Self>, action: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Studio>) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let task = tokio::spawn(action(Arc::clone(self)));
        task.await
            .map_err(|e| Error::Internal(format!("action stopped: {e}")))?
    }

    /// Validates an id (400) and finds its episode (404).
    pub async fn find(&self, id: &str) -> Result<(EpisodeId, EpisodeRow)> {
        let id = EpisodeId::parse(id)?;
        let row = self
            .registry
            .episode(id.as_str())
            .await?
            .ok_or_else(|| Error::UnknownEpisode(id.to_string()))?;
        Ok((id, row))
    }

    /// The processes sharing the registry (alive = heartbeat within two lease periods).
    pub async fn workers(&self) -> Result<app::api::WorkerList> {
        let alive_ms =
            (self.jobs.lease().as_millis() as i64 * 2).max(crate::node::HEARTBEAT_MS * 3);
        self.registry.workers(alive_ms).await
    }

    async fn refuse_if_live(&self, id: &EpisodeId, what: &str) -> Result<()> {
        if let Some(job) = self.registry.live_job(id.as_str()).await? {
            return Err(Error::Conflict(format!(
                "episode `{id}` has {} job {}; cancel it or use force reprocess before {what}",
                job.state, job.id
            )));
        }
        Ok(())
    }
}

/// Refuses a data dir that is not the root the registry serves: a worker whose share is not mounted sees
/// an empty directory (no id) or another root (another id), and must not process into it. A registry
/// without an id (new, or reset) adopts the root's; a new root and a new registry get a fresh id.
async fn same_root(root: &DataRoot, registry: &Registry) -> Result<()> {
    let here = root.path().display();
    match (root.id()?, registry.root_id().await?) {
        (Some(mine), Some(known)) if mine == known => Ok(()),
        (Some(mine), Some(known)) => Err(Error::BadRequest(format!(
            "data dir {here} is data root {mine}, but this registry serves data root {known}: \
             point --data-dir at the shared data root (is it mounted here?)"
        ))),
        (None, Some(known)) => Err(Error::BadRequest(format!(
            "data dir {here} has no {file}, but this registry serves data root {known}: \
             mount the shared data root and point --data-dir at it",
            file = crate::storage::ROOT_ID_FILE
        ))),
        (Some(mine), None) => registry.adopt_root_id(&mine).await.map(|_| ()),
        (None, None) => {
            let fresh = crate::auth::new_secret()?[..16].to_string();
            let id = registry.adopt_root_id(&fresh).await?;
            root.set_id(&id)
        }
    }
}
