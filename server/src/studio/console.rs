//! The operator's console: failures grouped by cause (and acted on as a group), what an episode
//! produced as the episode page shows it, and per-clip delete and regenerate.

use super::Studio;
use crate::cleanup::{Keep, Trigger};
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::pipeline::enrich::Enriched;
use crate::pipeline::highlights::{Discovery, Preset};
use crate::pipeline::{social, transcript};
use crate::registry::{ArtifactKind, EpisodeRow, JobRow, Then};
use app::api::backend::Actor;
use app::api::{
    ApiError, CleanFailedRequest, CleanupReport, Clip, ClipFile, ClipPreset, ClipRequest,
    ClipVariant, DiscoverySettings, EpisodeMedia, EpisodeState, FailedSelection, FailureExample,
    FailureGroup, FailureGroupList, HighlightCandidate, SocialPost, Stage, TranscriptLine,
    failure_group_key, failure_signature,
};
use std::collections::BTreeMap;

/// Largest transcript or social post the episode page reads back (a real one is a few hundred KB).
const MAX_TEXT_BYTES: u64 = 8 * 1024 * 1024;

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

    /// What the episode produced, from its registered files as they are on disk now. A file that cannot
    /// be read is left out (and logged): the page shows what is there.
    pub(super) async fn media(&self, id: &EpisodeId) -> Result<EpisodeMedia> {
        let rows = self.registry.artifacts_of(id.as_str()).await?;
        let mut media = EpisodeMedia::default();
        let mut clips: BTreeMap<u32, Clip> = BTreeMap::new();
        let clips_dir = format!("{}/clips/", self.root.outputs_dir(id));
        for row in &rows {
            let url = format!("/files/{}", row.path);
            match row.kind() {
                ArtifactKind::Transcript if row.path.ends_with(".vtt") => {
                    match self.read_text(&row.path) {
                        Ok(text) => {
                            media.transcript = transcript::parse(&text)
                                .into_iter()
                                .map(|c| TranscriptLine {
                                    start: c.start,
                                    end: c.end,
                                    text: c.text,
                                })
                                .collect();
                            media.transcript_empty = media.transcript.is_empty();
                        }
                        Err(e) => {
                            tracing::warn!(episode = %id, error = %e, "transcript unreadable")
                        }
                    }
                }
                ArtifactKind::Transcript if row.path.ends_with(".json") => {
                    match self.read_text(&row.path).map(|t| transcript_origin(&t)) {
                        Ok((engine, note)) => {
                            media.transcript_engine = engine;
                            media.transcript_note = note;
                        }
                        Err(e) => {
                            tracing::warn!(episode = %id, error = %e, "transcript json unreadable")
                        }
                    }
                }
                ArtifactKind::Page => media.page = Some(url),
                ArtifactKind::Enriched => match self.read_text(&row.path) {
                    Ok(text) => match serde_json::from_str::<Enriched>(&text) {
                        Ok(e) => highlight_candidates(&e, &mut media),
                        Err(e) => {
                            tracing::warn!(episode = %id, error = %e, "enrichment unreadable")
                        }
                    },
                    Err(e) => tracing::warn!(episode = %id, error = %e, "enrichment unreadable"),
                },
                ArtifactKind::Social if row.path.starts_with(&clips_dir) => {
                    let Some((n, _)) = clip_file(&row.path, &clips_dir) else {
                        continue;
                    };
                    match self.read_text(&row.path).map(|t| clip_posts(&t)) {
                        Ok(posts) => new_clip(&mut clips, n).posts = posts,
                        Err(e) => {
                            tracing::warn!(episode = %id, error = %e, "clip posts unreadable")
                        }
                    }
                }
                ArtifactKind::Clip | ArtifactKind::Thumbnail => {
                    let Some((n, file)) = clip_file(&row.path, &clips_dir) else {
                        continue;
                    };
                    let clip = new_clip(&mut clips, n);
                    match ClipVariant::from_file(file) {
                        Some(variant) => clip.files.push(ClipFile {
                            variant,
                            url,
                            bytes: row.bytes,
                        }),
                        None if file == "thumb.jpg" => clip.thumb = Some(url),
                        None => {}
                    }
                }
                ArtifactKind::Social => match self.read_text(&row.path).map(|t| social_post(&t)) {
                    Ok(Some(post)) => media.social.push(post),
                    Ok(None) => {
                        tracing::warn!(episode = %id, path = %row.path, "social post unreadable")
                    }
                    Err(e) => tracing::warn!(episode = %id, error = %e, "social post unreadable"),
                },
                _ => {}
            }
        }
        for clip in clips.values_mut() {
            clip.files.sort_by_key(|f| f.variant as u8);
        }
        media.clips = clips.into_values().collect();
        media.social.sort_by(|a, b| a.platform.cmp(&b.platform));
        Ok(media)
    }

    /// A small text file under the data root, read without following a symlink anywhere on the way.
    pub(super) fn read_text(&self, rel: &str) -> Result<String> {
        use std::io::Read;
        use std::os::unix::fs::OpenOptionsExt;
        let abs = self.no_symlink_path(rel)?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&abs)
            .map_err(|e| Error::io(&abs, e))?;
        let mut text = String::new();
        file.take(MAX_TEXT_BYTES)
            .read_to_string(&mut text)
            .map_err(|e| Error::io(&abs, e))?;
        Ok(text)
    }
}

/// The scored candidates for the episode page, each marked with the clip it is cut as. Enrichment
/// written before candidates were kept lists only its highlights.
pub(super) fn highlight_candidates(e: &Enriched, media: &mut EpisodeMedia) {
    let list = if e.candidates.is_empty() {
        &e.highlights
    } else {
        &e.candidates
    };
    media.candidates = list
        .iter()
        .map(|c| HighlightCandidate {
            start: c.start,
            end: c.end,
            score: c.score,
            why: c.why.clone(),
            text: if c.sentences.is_empty() {
                c.text.clone()
            } else {
                c.sentences.join(" ")
            },
            clip: e
                .highlights
                .iter()
                .position(|h| h.start == c.start && h.end == c.end)
                .map(|i| i as u32 + 1),
        })
        .collect();
    media.highlights = e
        .highlights
        .iter()
        .enumerate()
        .map(|(i, h)| HighlightCandidate {
            start: h.start,
            end: h.end,
            score: h.score,
            why: h.why.clone(),
            text: if h.sentences.is_empty() {
                h.text.clone()
            } else {
                h.sentences.join(" ")
            },
            clip: Some(i as u32 + 1),
        })
        .collect();
    media.discovery = Some(settings_of(e.discovery));
    media.highlight_note = e.note.clone();
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

/// `clips/<n>/<file>` under the episode's clips dir: the clip number and the file name.
fn clip_file<'a>(path: &'a str, clips_dir: &str) -> Option<(u32, &'a str)> {
    let (n, file) = path.strip_prefix(clips_dir)?.split_once('/')?;
    Some((n.parse().ok()?, file))
}

fn new_clip(clips: &mut BTreeMap<u32, Clip>, n: u32) -> &mut Clip {
    clips.entry(n).or_insert_with(|| Clip {
        n,
        files: vec![],
        thumb: None,
        posts: vec![],
    })
}

/// A clip's own posts (`clips/<n>/posts.json`, one per platform), or none when unreadable.
fn clip_posts(json: &str) -> Vec<SocialPost> {
    serde_json::from_str::<Vec<social::Post>>(json)
        .map(|posts| posts.into_iter().map(api_post).collect())
        .unwrap_or_default()
}

/// A packaged post, its length counted in characters as platforms do.
fn social_post(json: &str) -> Option<SocialPost> {
    let p: social::Post = serde_json::from_str(json).ok()?;
    Some(api_post(p))
}

fn api_post(p: social::Post) -> SocialPost {
    SocialPost {
        chars: p.text.chars().count() as i64,
        platform: p.platform,
        text: p.text,
        limit: p.limit as i64,
        clip: p.clip.map(|c| format!("/files/{c}")),
    }
}

/// `engine` and `note` of a `transcripts/<id>.json` (the words are not needed for the page).
fn transcript_origin(json: &str) -> (Option<String>, Option<String>) {
    #[derive(serde::Deserialize)]
    struct Origin {
        engine: Option<String>,
        note: Option<String>,
    }
    serde_json::from_str::<Origin>(json)
        .map(|o| (o.engine, o.note))
        .unwrap_or((None, None))
}

/// The discovery settings an enrichment was made with, as the episode page shows them.
pub(super) fn settings_of(d: Discovery) -> DiscoverySettings {
    DiscoverySettings {
        preset: match d.preset {
            Preset::Short => ClipPreset::Short,
            Preset::Medium => ClipPreset::Medium,
            Preset::Long => ClipPreset::Long,
        },
        count: d.count as u32,
    }
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
