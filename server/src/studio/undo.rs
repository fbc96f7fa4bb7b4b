//! Undo and storage: the trash as the Trash page shows it, restore, purge on request, and where the disk
//! goes. Restore and purge run detached like every state-changing action: a client that goes away never
//! stops one half-way.

use super::Studio;
use crate::error::{Error, Result};
use crate::storage::{DERIVED_ROOTS, INBOX, TRASH};
use app::api::backend::Actor;
use app::api::{
    ApiError, EpisodeUsage, PurgeReport, RestoreReport, RestoreRequest, StorageReport, TrashDetail,
    TrashList, TrashState, Usage,
};

/// How many runs the Trash page lists (all kept ones come first by recency anyway).
const TRASH_LIST_LIMIT: i64 = 200;
/// How many of the largest episodes the storage view names.
const LARGEST: usize = 10;

impl Studio {
    pub async fn trash(&self) -> Result<TrashList> {
        let runs = self.registry.trash_runs(TRASH_LIST_LIMIT).await?;
        let kept = self.registry.kept_runs().await?;
        let policy = self.cleanup.policy;
        Ok(TrashList {
            kept_runs: kept.len() as i64,
            kept_bytes: kept.iter().filter_map(|r| r.trash_bytes).sum(),
            runs: runs.iter().map(|r| r.to_api()).collect(),
            retention_secs: policy.retention.as_secs() as i64,
            max_bytes: i64::try_from(policy.max_bytes).unwrap_or(i64::MAX),
            min_free_pct: policy.min_free_pct,
        })
    }

    /// The paths a run took and the episodes it changed. 404 unknown run, 409 one still running, 410 a
    /// run that kept nothing.
    pub async fn trash_paths(&self, run_id: &str) -> Result<TrashDetail> {
        let run = self.cleanup.trash_record(run_id).await?;
        let paths = self
            .registry
            .trash_entries(run_id)
            .await?
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        let episodes = if run.state() == TrashState::Kept {
            self.registry
                .trashed_episodes(run_id)
                .await?
                .into_iter()
                .map(|e| e.episode)
                .collect()
        } else {
            vec![]
        };
        Ok(TrashDetail {
            run: run.to_api(),
            paths,
            episodes,
        })
    }

    pub async fn restore(&self, actor: &str, req: RestoreRequest) -> Result<RestoreReport> {
        let actor = actor.to_string();
        self.detached(move |s| async move { s.cleanup.restore(&actor, req).await })
            .await
    }

    pub async fn purge_trash(&self, actor: &str, run_id: Option<String>) -> Result<PurgeReport> {
        let actor = actor.to_string();
        self.detached(
            move |s| async move { s.cleanup.purge_trash_now(&actor, run_id.as_deref()).await },
        )
        .await
    }

    /// Derived directories and the inbox measured on disk (through handles, on the data root's mount),
    /// shows and episodes from the registry's artifact sizes, the trash from the registry, free space from
    /// the filesystem.
    pub async fn storage(&self) -> Result<StorageReport> {
        let root = self.root.clone();
        let (roots, space) = tokio::task::spawn_blocking(move || {
            let mut roots: Vec<Usage> = DERIVED_ROOTS
                .iter()
                .chain([&INBOX, &TRASH])
                .map(|name| {
                    let (files, bytes) = root.usage_of(name);
                    Usage {
                        name: name.to_string(),
                        files,
                        bytes,
                    }
                })
                .collect();
            roots.sort_by_key(|u| u.name == INBOX || u.name == TRASH);
            (roots, root.space())
        })
        .await
        .map_err(|e| Error::Internal(format!("measuring storage stopped: {e}")))?;
        let space = space.map_err(|e| Error::io(self.root.path(), e))?;
        let derived_bytes = roots
            .iter()
            .filter(|u| DERIVED_ROOTS.contains(&u.name.as_str()))
            .map(|u| u.bytes)
            .sum();
        let per_episode = self.registry.bytes_per_episode().await?;
        let mut shows: Vec<Usage> = Vec::new();
        for e in &per_episode {
            match shows.iter_mut().find(|u| u.name == e.show) {
                Some(u) => {
                    u.bytes += e.bytes;
                    u.files += e.files;
                }
                None => shows.push(Usage {
                    name: e.show.clone(),
                    files: e.files,
                    bytes: e.bytes,
                }),
            }
        }
        shows.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.name.cmp(&b.name)));
        let mut largest: Vec<EpisodeUsage> = per_episode
            .into_iter()
            .map(|e| EpisodeUsage {
                id: e.id,
                show: e.show,
                title: e.title,
                bytes: e.bytes,
            })
            .collect();
        largest.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.id.cmp(&b.id)));
        largest.truncate(LARGEST);
        let kept = self.registry.kept_runs().await?;
        Ok(StorageReport {
            roots,
            shows,
            largest,
            derived_bytes,
            max_derived_bytes: self
                .cleanup
                .policy
                .max_derived_bytes
                .map(|b| i64::try_from(b).unwrap_or(i64::MAX)),
            trash_runs: kept.len() as i64,
            trash_bytes: kept.iter().filter_map(|r| r.trash_bytes).sum(),
            fs_total_bytes: i64::try_from(space.total).unwrap_or(i64::MAX),
            fs_free_bytes: i64::try_from(space.free).unwrap_or(i64::MAX),
            eviction_preview: self.cleanup.eviction_plan().await?,
        })
    }
}

/// The trash and the storage report, for the API.
#[async_trait::async_trait]
impl app::api::backend::TrashAndStorage for Studio {
    async fn trash(&self) -> Result<TrashList, ApiError> {
        Ok(Studio::trash(self).await?)
    }

    async fn trash_paths(&self, run_id: &str) -> Result<TrashDetail, ApiError> {
        Ok(Studio::trash_paths(self, run_id).await?)
    }

    async fn restore(&self, actor: &Actor, req: RestoreRequest) -> Result<RestoreReport, ApiError> {
        Ok(Studio::restore(self, &actor.name, req).await?)
    }

    async fn purge_trash(
        &self,
        actor: &Actor,
        run_id: Option<String>,
    ) -> Result<PurgeReport, ApiError> {
        Ok(Studio::purge_trash(self, &actor.name, run_id).await?)
    }

    async fn storage(&self) -> Result<StorageReport, ApiError> {
        Ok(Studio::storage(self).await?)
    }
}
