//! The operator's console: failures grouped by cause (and acted on as a group), and per-clip delete and
//! regenerate. What an episode produced, as its page shows it, is `media.rs`.

use super::Studio;
use crate::cleanup::{Keep, Trigger};
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::pipeline::enrich::Enriched;
use crate::registry::{EpisodeRow, JobRow, Then};
use app::api::backend::Actor;
use app::api::{
    ApiError, CleanFailedRequest, CleanupReport, ClipRequest, EpisodeState, FailedSelection,
    FailureExample, FailureGroup, FailureGroupList, Stage, failure_group_key, failure_signature,
};
use std::collections::BTreeMap;

impl Studio {
    /// Failed episodes grouped by stage and normalised error, largest group first.
    pub async fn failure_groups(&self) -> Result<FailureGroupList> {
        let failed = self
            .registry
            .episodes_in_states(&[EpisodeState::Failed])
            .await?;
        let mut groups: BTreeMap<String, FailureGroup> = BTreeMap::new();
        let mut rows: Vec<&EpisodeRow> = failed.iter().collect();
        rows.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
        for row in rows {
            let (stage, error) = failure_of(row);
            let signature = failure_signature(&error);
            let key = failure_group_key(stage, &signature);
            let g = groups.entry(key.clone()).or_insert_with(|| FailureGroup {
                key,
                stage,
                signature,
                count: 0,
                episodes: vec![],
                example: FailureExample {
                    episode: row.id.clone(),
                    error: error.clone(),
                    failed_at: row.updated_at,
                },
            });
            g.count += 1;
            g.episodes.push(row.id.clone());
        }
        let mut groups: Vec<FailureGroup> = groups.into_values().collect();
        groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
        Ok(FailureGroupList {
            failed: failed.len() as i64,
            groups,
        })
    }

    /// The failed episodes a selection names: the ids (each must be failed: 409 otherwise), the
    /// group's (404 for a group no failed episode is in), or every failed one — and, when the caller
    /// says what it previewed, exactly those (409 naming who joined and who left otherwise).
    pub(super) async fn failed_rows(
        &self,
        mut select: FailedSelection,
    ) -> Result<Vec<(EpisodeId, EpisodeRow)>> {
        select
            .validate()
            .map_err(|e| Error::BadRequest(e.to_string()))?;
        let previewed = select.previewed.take();
        let what = match &select.group {
            Some(_) => "the group",
            None if select.ids.is_some() => "the selection",
            None => "the failed episodes",
        };
        let rows = self.resolve_failed(select).await;
        let Some(previewed) = previewed else {
            return rows;
        };
        let now: Vec<String> = match &rows {
            Ok(rows) => rows.iter().map(|(id, _)| id.to_string()).collect(),
            // A group nobody is in any more: every previewed episode left.
            Err(Error::NotFound(_)) => vec![],
            Err(_) => return rows,
        };
        if let Some(diff) = app::api::selection_changed(&now, &previewed) {
            tracing::info!(%diff, "group action refused: the selection changed since the preview");
            return Err(Error::Conflict(format!(
                "{what} changed since the preview: {diff}; preview again"
            )));
        }
        rows
    }

    async fn resolve_failed(
        &self,
        select: FailedSelection,
    ) -> Result<Vec<(EpisodeId, EpisodeRow)>> {
        if let Some(ids) = select.ids {
            let mut rows = Vec::new();
            for raw in &ids {
                let (id, row) = self.find(raw).await?;
                if row.state() != EpisodeState::Failed {
                    return Err(Error::Conflict(format!(
                        "episode `{id}` is {}, not failed",
                        row.state()
                    )));
                }
                rows.push((id, row));
            }
            return Ok(rows);
        }
        let failed = self
            .registry
            .episodes_in_states(&[EpisodeState::Failed])
            .await?;
        let rows: Vec<(EpisodeId, EpisodeRow)> = failed
            .into_iter()
            .filter(|r| match &select.group {
                Some(key) => {
                    let (stage, error) = failure_of(r);
                    failure_group_key(stage, &failure_signature(&error)) == *key
                }
                None => true,
            })
            .filter_map(|r| EpisodeId::parse(&r.id).ok().map(|id| (id, r)))
            .collect();
        if let Some(key) = &select.group
            && rows.is_empty()
        {
            return Err(Error::NotFound(format!(
                "no failure group `{key}` (it may have been retried or cleaned already)"
            )));
        }
        Ok(rows)
    }

    /// Cleans the selected failed episodes in one run and sets them back to idle: what the user chose
    /// to keep (transcripts, audio) stays, everything else derived goes to the trash.
    pub async fn cleanup_failed(
        &self,
        actor: &str,
        req: CleanFailedRequest,
    ) -> Result<CleanupReport> {
        let rows = self.failed_rows(req.select).await?;
        for (id, _) in &rows {
            self.refuse_if_live(id, "cleaning it").await?;
        }
        let ids: Vec<EpisodeId> = rows.into_iter().map(|(id, _)| id).collect();
        let (actor, dry_run) = (actor.to_string(), req.dry_run);
        self.detached(move |s| async move {
            let outcome = s
                .cleanup
                .episodes(
                    &ids,
                    Keep::USER_DATA,
                    Trigger::CleanFailed,
                    &actor,
                    dry_run,
                    Then::Reset,
                )
                .await?;
            Ok(outcome.report)
        })
        .await
    }

    /// Deletes one clip's files, or (`regenerate`) deletes them and queues a job that cuts the clip
    /// again. 404 for an unknown episode or clip, 409 naming the job while the episode is processed.
    pub async fn clip(
        &self,
        actor: &str,
        req: ClipRequest,
        regenerate: bool,
    ) -> Result<(CleanupReport, Option<JobRow>)> {
        req.validate()
            .map_err(|e| Error::BadRequest(e.to_string()))?;
        let (id, row) = self.find(&req.episode).await?;
        self.refuse_if_live(
            &id,
            if regenerate {
                "regenerating a clip"
            } else {
                "deleting a clip"
            },
        )
        .await?;
        let n = req.clip;
        if regenerate {
            self.can_regenerate(&id, &row, n)?;
        }
        let then = if regenerate {
            Then::RegenerateClip(n)
        } else {
            Then::Release
        };
        let (actor, dry_run) = (actor.to_string(), req.dry_run);
        self.detached(move |s| async move {
            let outcome = s.cleanup.clip(&id, n, &actor, dry_run, then).await?;
            if !regenerate || dry_run {
                return Ok((outcome.report, None));
            }
            let Some(job) = outcome.jobs.into_iter().next() else {
                return Err(Error::Conflict(format!(
                    "clip {n} of `{id}` was not queued: its cleanup (run {}) was {}",
                    outcome.report.run_id,
                    outcome.report.result.as_str()
                )));
            };
            tracing::info!(episode = %id, job = job.id, clip = n, "clip queued to be cut again");
            s.jobs.wake();
            Ok((outcome.report, Some(job)))
        })
        .await
    }

    /// A clip is cut from the episode's highlights and transcript: both must be there, and the
    /// highlight must exist (404 otherwise).
    fn can_regenerate(&self, id: &EpisodeId, row: &EpisodeRow, n: u32) -> Result<()> {
        let enriched = self.read_text(&self.root.enriched(id)).map_err(|_| {
            Error::Conflict(format!(
                "episode `{id}` has no highlights yet ({}): process it first",
                row.state()
            ))
        })?;
        let highlights = serde_json::from_str::<Enriched>(&enriched)
            .map(|e| e.highlights.len())
            .unwrap_or(0);
        if n as usize > highlights {
            return Err(Error::NotFound(format!(
                "episode `{id}` has no clip {n} (it has {highlights})"
            )));
        }
        if self.read_text(&self.root.transcript(id, "vtt")).is_err() {
            return Err(Error::Conflict(format!(
                "episode `{id}` has no transcript to subtitle clip {n} with: process it first"
            )));
        }
        Ok(())
    }
}

/// The stage and message of a failed episode as grouped: an episode failed without a recorded stage or
/// message (an old registry) still lands in a group.
fn failure_of(row: &EpisodeRow) -> (Stage, String) {
    let stage = row
        .failed_stage
        .as_deref()
        .and_then(Stage::parse)
        .unwrap_or(Stage::Prepped);
    let error = row
        .error
        .clone()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "no reason recorded".into());
    (stage, error)
}

/// Failure groups and cleaning a selection of failed episodes, for the API.
#[async_trait::async_trait]
impl app::api::backend::Failures for Studio {
    async fn failure_groups(&self) -> Result<FailureGroupList, ApiError> {
        Ok(Studio::failure_groups(self).await?)
    }

    async fn cleanup_failed(
        &self,
        actor: &Actor,
        req: CleanFailedRequest,
    ) -> Result<CleanupReport, ApiError> {
        Ok(Studio::cleanup_failed(self, &actor.name, req).await?)
    }
}
