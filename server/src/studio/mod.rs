//! The application service: every user-facing action, validated, with the cleanup rules. Server
//! functions, the upload and file handlers ([`crate::http`]) and the CLI ([`crate::cli`]) all come in
//! here, so they cannot drift apart. `app`'s API contract is cut into narrow role traits
//! (`app::api::backend`); each file below implements its area's trait right after the actions, so an
//! action's HTTP form and its code sit in one file (the trait methods only put results in wire form).
//!
//! | file | actions | role trait |
//! |---|---|---|
//! | `episodes.rs` | discover, list, detail, cancel, cleanup history | `Episodes` |
//! | `scan.rs` | "Scan inbox" as a background job: one at a time, progress while it runs | `Scanning` |
//! | `queue.rs` | the queue view (running per worker, queued, ETA), workers, an episode's attempts | `Work` |
//! | `cleaning.rs` | process, episode cleanup, force reprocess, retry with cleanup, Deep Clean | `Cleaning` |
//! | `console.rs` | failure groups and their cleanup, per-clip delete and regenerate | `Failures` |
//! | `media.rs` | an episode's media as its page shows it: transcript, page, candidates, clips, posts | |
//! | `clips.rs` | clip edits: delete, cut again, render a candidate, nudge by a sentence, discover again | `ClipEditing` |
//! | `undo.rs` | the trash, restore, purge on request, and where the disk goes | `TrashAndStorage` |
//! | `accounts.rs` | sign-in and sessions; users and API tokens for `ewg user` / `ewg token` | `Sessions` |
//! | `inbox.rs` | browser uploads into the inbox | (an HTTP handler) |
//! | `stuck.rs` | when a running episode counts as stuck | |
//! | `settings.rs` | what the service is set up with (filled in by `cli`) | |
//! | `live.rs` | the registry's changes as a feed, for the event stream | |
//!
//! Actions that change state run [`Studio::detached`]: on a task of their own, so a client that
//! disconnects (its request future dropped) can never stop one half-way.

mod accounts;
mod cleaning;
mod clips;
mod console;
mod episodes;
mod inbox;
mod live;
mod media;
mod queue;
mod scan;
mod settings;
mod stuck;
mod undo;

pub use inbox::{UploadRequest, UploadTarget};
pub use live::{Live, LiveEvent};
pub use settings::{EdgeLimits, Settings};
pub use stuck::StuckLimits;

use crate::auth::Auth;
use crate::cleanup::Cleanup;
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::jobs::Jobs;
use crate::pipeline::Pipeline;
use crate::pipeline::scratch::Scratch;
use crate::registry::{EpisodeRow, Registry};
use crate::storage::DataRoot;
use std::future::Future;
use std::sync::{Arc, Weak};

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
    pub edges: EdgeLimits,
    /// This service's own handle: an action called through `&self` (as the API's role traits call
    /// it) can still run [`Studio::detached`].
    me: Weak<Studio>,
    /// The inbox scan running now, or the last one.
    pub scans: scan::Scans,
}

impl Studio {
    /// Opens the data root and the registry, then finishes what a dead owner left (only runs whose owner
    /// is gone: opening beside a live server is safe).
    pub async fn open(settings: &Settings) -> Result<Arc<Self>> {
        let url = settings.database_url.as_deref();
        let registry = Registry::open_before_root(url, &settings.data_dir).await?;
        let root = DataRoot::open(&settings.data_dir)?;
        let registry = match registry {
            Some(r) => r,
            None => Registry::open(url, root.path()).await?,
        };
        same_root(&root, &registry).await?;
        let cleanup = Cleanup::new(
            root.clone(),
            registry.clone(),
            settings.stale_after,
            settings.retry_interrupted,
            settings.storage,
        );
        let recovered = cleanup.recover().await?;
        if recovered > 0 {
            tracing::warn!(
                runs = recovered,
                "finished cleanup runs whose owner had stopped"
            );
        }
        let scratch = match &settings.scratch_dir {
            Some(dir) => Scratch::local(dir, crate::registry::liveness::node_id())?,
            None => Scratch::Shared,
        };
        let pipeline = Pipeline {
            root: root.clone(),
            registry: registry.clone(),
            config: settings.pipeline.clone(),
            scratch,
        };
        let jobs = Jobs::new(pipeline, Arc::clone(&cleanup), settings.lease);
        Ok(Arc::new_cyclic(|me| Studio {
            me: me.clone(),
            live: Live::new(registry.clone(), settings.stuck.clone()),
            auth: Auth::new(registry.clone(), &settings.auth),
            root,
            registry,
            jobs,
            cleanup,
            max_upload_bytes: settings.max_upload_bytes,
            stuck: settings.stuck.clone(),
            edges: settings.edges.clone(),
            scans: scan::Scans::default(),
        }))
    }

    /// Runs an action on its own task and waits for it. Dropping the returned future (a client that went
    /// away) leaves the action running to its end; its outcome is in the registry either way.
    pub async fn detached<T, F, Fut>(&self, action: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Studio>) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let task = tokio::spawn(action(self.handle()?));
        task.await
            .map_err(|e| Error::Internal(format!("action stopped: {e}")))?
    }

    /// This service as an owned handle, for work that outlives the call that starts it.
    pub(crate) fn handle(&self) -> Result<Arc<Studio>> {
        self.me
            .upgrade()
            .ok_or_else(|| Error::Internal("the service is shutting down".into()))
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
        let alive_ms = (self.jobs.lease().as_millis() as i64 * 2)
            .max(crate::registry::liveness::HEARTBEAT_MS * 3);
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
