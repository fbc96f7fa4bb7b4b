//! Clip edits from the episode page, all through the per-clip path of `delete_clip` / `regenerate_clip`:
//! an audited run that owns the episode, the old clip's files to the trash (restorable), the new
//! highlights written while the run owns the episode, and a clip job queued by the run's commit.
//!
//! - render a candidate: appended as a new clip (a dropped clip of the same bounds is cut again);
//! - nudge: the clip's start or end one sentence earlier or later; the old clip goes to the trash and
//!   the new bounds are cut as a new clip, so Undo can put the old one back where it was;
//! - discover again: candidates scored with another preset or count; rendered clips stay.

use super::Studio;
use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use crate::pipeline::clip_edit;
use crate::pipeline::cues::Word;
use crate::pipeline::enrich::{self, Enriched, Highlight};
use crate::pipeline::highlights::{self, Preset};
use crate::pipeline::{discovery_for, ffmpeg, transcript};
use crate::registry::{EpisodeRow, JobRow, Then};
use crate::storage;
use app::api::backend::Actor;
use app::api::{
    ApiError, CandidateRequest, ClipEdit, ClipOutcome, ClipPreset, ClipRequest,
    DiscoverClipsOutcome, DiscoverClipsRequest, EpisodeMedia, NudgeRequest,
};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

impl Studio {
    /// Cuts candidate `req.candidate` (1-based, best first) as a clip. 404 no such candidate, 409 when
    /// it is a clip already (with files) or the episode is busy.
    pub async fn render_candidate(&self, actor: &str, req: CandidateRequest) -> Result<ClipEdit> {
        req.validate()
            .map_err(|e| Error::BadRequest(e.to_string()))?;
        let (id, row) = self.find(&req.episode).await?;
        self.refuse_if_live(&id, "rendering a candidate").await?;
        let (e, raw) = self.enrichment(&id, &row)?;
        let list = if e.candidates.is_empty() {
            &e.highlights
        } else {
            &e.candidates
        };
        let k = req.candidate as usize;
        let c = k
            .checked_sub(1)
            .and_then(|i| list.get(i))
            .cloned()
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "episode `{id}` has no candidate {k} (it has {})",
                    list.len()
                ))
            })?;
        let (n, new) = self.clip_for(&id, &e, c.clone(), &format!("candidate {k}"))?;
        let new = new.map(|e| (e, raw));
        tracing::info!(episode = %id, candidate = k, clip = n, dry_run = req.dry_run, "render a candidate");
        self.edit(id, n, n, c, new, actor, req.dry_run).await
    }

    /// Moves clip `req.clip`'s start or end one sentence earlier or later. 400 when it cannot move that
    /// way (the episode's first or last sentence, nothing left), 404 no such clip.
    pub async fn nudge_clip(&self, actor: &str, req: NudgeRequest) -> Result<ClipEdit> {
        req.validate()
            .map_err(|e| Error::BadRequest(e.to_string()))?;
        let (id, row) = self.find(&req.episode).await?;
        self.refuse_if_live(&id, "nudging a clip").await?;
        let (e, raw) = self.enrichment(&id, &row)?;
        let n = req.clip;
        let h = (n as usize)
            .checked_sub(1)
            .and_then(|i| e.highlights.get(i))
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "episode `{id}` has no clip {n} (it has {})",
                    e.highlights.len()
                ))
            })?;
        let (cues, words) = self.stored_transcript(&id)?;
        let duration = row.duration_secs.unwrap_or(0.0);
        let mut s = clip_edit::sentences(&cues, &words, highlights::PAUSE_SECS, duration);
        if !clip_edit::holds_sentences(&s, h) {
            // Cut between words (an episode with few pauses): its sentences are the words' runs.
            s = clip_edit::sentences(&cues, &words, 0.0, duration);
        }
        let moved = clip_edit::nudge(&s, h, n, req.edge, req.way, duration)
            .map_err(|why| Error::BadRequest(format!("episode `{id}`: {why}")))?;
        let (m, new) = self.clip_for(&id, &e, moved.clone(), &format!("clip {n} nudged"))?;
        let new = new.map(|e| (e, raw));
        tracing::info!(episode = %id, clip = n, into = m, start = moved.start, end = moved.end, dry_run = req.dry_run, "nudge a clip");
        self.edit(id, n, m, moved, new, actor, req.dry_run).await
    }

    /// Scores the candidates again with the request's preset and count (the server's and show's
    /// settings for what it leaves out). The rendered clips keep their numbers and files.
    pub async fn discover_clips(
        &self,
        actor: &str,
        req: DiscoverClipsRequest,
    ) -> Result<DiscoverClipsOutcome> {
        req.validate()
            .map_err(|e| Error::BadRequest(e.to_string()))?;
        let (id, row) = self.find(&req.episode).await?;
        self.refuse_if_live(&id, "looking for clips again").await?;
        let (old, raw) = self.enrichment(&id, &row)?;
        let (cues, words) = self.stored_transcript(&id)?;
        let config = self.jobs.pipeline_config();
        let mut d = discovery_for(config, &self.root.abs(&row.source_path), &id);
        if let Some(p) = req.preset {
            d.preset = preset_of(p);
        }
        if let Some(c) = req.count {
            d.count = c as usize;
        }
        let duration = row.duration_secs.unwrap_or(0.0);
        let loudness = self.loudness(&id, duration).await;
        let fresh = enrich::enrich(&id, &cues, &words, &loudness, duration, d);
        let merged = clip_edit::rediscovered(&old, fresh);
        if !req.dry_run {
            let (actor, scope) = (actor.to_string(), format!("episode {id} candidates"));
            let e = merged.clone();
            self.detached(move |s| async move {
                let prepare = |run: String| {
                    let s = Arc::clone(&s);
                    let id = id.clone();
                    async move { s.write_enrichment(&id, &e, &raw, &run).await }
                };
                s.cleanup.edit_episode(&id, scope, &actor, prepare).await
            })
            .await?;
        }
        let mut media = EpisodeMedia::default();
        super::media::highlight_candidates(&merged, &mut media);
        Ok(DiscoverClipsOutcome {
            discovery: super::media::settings_of(merged.discovery),
            candidates: media.candidates,
            note: merged.note,
            dry_run: req.dry_run,
        })
    }

    /// The clip number a highlight is cut as, and the enrichment to write when it is a new clip. A clip
    /// of the same bounds is cut again when its files are gone (dropped), refused (409) when they are
    /// there.
    fn clip_for(
        &self,
        id: &EpisodeId,
        e: &Enriched,
        h: Highlight,
        what: &str,
    ) -> Result<(u32, Option<Enriched>)> {
        if let Some(n) = clip_edit::clip_of(e, &h) {
            let dir = self.root.abs(&self.root.clip_dir(id, n));
            if std::fs::symlink_metadata(&dir).is_ok() {
                return Err(Error::Conflict(format!(
                    "{what} of `{id}` is clip {n} already ({:.1}–{:.1} s)",
                    h.start, h.end
                )));
            }
            return Ok((n, None));
        }
        let mut new = e.clone();
        new.highlights.push(h);
        Ok((new.highlights.len() as u32, Some(new)))
    }

    /// One run over clip `trashed`'s files whose commit queues the job that cuts clip `clip`; `new`
    /// highlights are written once the run owns the episode.
    #[allow(clippy::too_many_arguments)]
    async fn edit(
        &self,
        id: EpisodeId,
        trashed: u32,
        clip: u32,
        h: Highlight,
        new: Option<(Enriched, String)>,
        actor: &str,
        dry_run: bool,
    ) -> Result<ClipEdit> {
        let actor = actor.to_string();
        self.detached(move |s| async move {
            let prepare = |run: String| {
                let s = Arc::clone(&s);
                let id = id.clone();
                async move {
                    match new {
                        Some((e, read)) => s.write_enrichment(&id, &e, &read, &run).await,
                        None => Ok(()),
                    }
                }
            };
            let then = Then::RegenerateClip(clip);
            let outcome = s
                .cleanup
                .clip_edit(&id, trashed, &actor, dry_run, then, prepare)
                .await?;
            let job = outcome.jobs.into_iter().next();
            if !dry_run && job.is_none() {
                return Err(Error::Conflict(format!(
                    "clip {clip} of `{id}` was not queued: its run {} was {}",
                    outcome.report.run_id,
                    outcome.report.result.as_str()
                )));
            }
            if job.is_some() {
                s.jobs.wake();
            }
            Ok(ClipEdit {
                report: outcome.report,
                job: job.map(|j| j.info()),
                clip,
                start: h.start,
                end: h.end,
            })
        })
        .await
    }

    /// The episode's enrichment, and its text as read; 409 when it has none yet (process it first).
    fn enrichment(&self, id: &EpisodeId, row: &EpisodeRow) -> Result<(Enriched, String)> {
        let text = self.read_text(&self.root.enriched(id)).map_err(|_| {
            Error::Conflict(format!(
                "episode `{id}` has no highlights yet ({}): process it first",
                row.state()
            ))
        })?;
        let e = serde_json::from_str(&text).map_err(|e| {
            Error::Conflict(format!(
                "episode `{id}`'s highlights are unreadable ({e}): process it again"
            ))
        })?;
        Ok((e, text))
    }

    /// The cues (`.vtt`) and the recognizer's timed words (`.json`, none for subtitles) as stored; 409
    /// when there is no transcript to cut or subtitle a clip with.
    fn stored_transcript(&self, id: &EpisodeId) -> Result<(Vec<transcript::Cue>, Vec<Word>)> {
        let vtt = self
            .read_text(&self.root.transcript(id, "vtt"))
            .map_err(|_| {
                Error::Conflict(format!(
                    "episode `{id}` has no transcript to cut clips by: process it first"
                ))
            })?;
        #[derive(serde::Deserialize)]
        struct Words {
            #[serde(default)]
            words: Vec<Word>,
        }
        let words = self
            .read_text(&self.root.transcript(id, "json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Words>(&t).ok())
            .map(|w| w.words)
            .unwrap_or_default();
        Ok((transcript::parse(&vtt), words))
    }

    /// Momentary loudness of the prepped audio, or none (scoring goes on without it, as in the stage).
    async fn loudness(&self, id: &EpisodeId, duration: f64) -> Vec<f64> {
        let wav = self.root.abs(&self.root.audio(id));
        let timeout = ffmpeg::work_timeout(Some(duration));
        match ffmpeg::loudness(&wav, &CancellationToken::new(), timeout).await {
            Ok(frames) => frames,
            Err(e) => {
                tracing::warn!(episode = %id, error = %e, "loudness not measured; candidates scored without it");
                Vec::new()
            }
        }
    }

    /// Writes the new highlights in place and records their size, while run `run` owns the episode. 409
    /// when they changed since `read` was read (another edit came first: nothing is overwritten); a
    /// refused record puts the old file back.
    async fn write_enrichment(
        &self,
        id: &EpisodeId,
        e: &Enriched,
        read: &str,
        run: &str,
    ) -> Result<()> {
        let rel = self.root.enriched(id);
        let old =
            std::fs::read(self.root.abs(&rel)).map_err(|e| Error::io(self.root.abs(&rel), e))?;
        if old != read.as_bytes() {
            return Err(Error::Conflict(format!(
                "episode `{id}`'s highlights changed while this edit was prepared (another edit came first); look again and retry"
            )));
        }
        let json = serde_json::to_vec_pretty(e).map_err(|e| Error::Internal(e.to_string()))?;
        let bytes = storage::write_atomic(&self.root, &rel, &json)?;
        if let Err(err) = self
            .registry
            .rewritten_by_run(id.as_str(), &rel, bytes, run)
            .await
        {
            storage::write_atomic(&self.root, &rel, &old)?;
            return Err(err);
        }
        Ok(())
    }
}

fn preset_of(p: ClipPreset) -> Preset {
    match p {
        ClipPreset::Short => Preset::Short,
        ClipPreset::Medium => Preset::Medium,
        ClipPreset::Long => Preset::Long,
    }
}

/// One clip at a time, for the API (deleting and cutting a clip again are `Studio::clip`, with the
/// console's per-clip actions).
#[async_trait::async_trait]
impl app::api::backend::ClipEditing for Studio {
    async fn delete_clip(&self, actor: &Actor, req: ClipRequest) -> Result<ClipOutcome, ApiError> {
        let (report, job) = Studio::clip(self, &actor.name, req, false).await?;
        let job = job.as_ref().map(JobRow::info);
        Ok(ClipOutcome { report, job })
    }

    async fn regenerate_clip(
        &self,
        actor: &Actor,
        req: ClipRequest,
    ) -> Result<ClipOutcome, ApiError> {
        let (report, job) = Studio::clip(self, &actor.name, req, true).await?;
        let job = job.as_ref().map(JobRow::info);
        Ok(ClipOutcome { report, job })
    }

    async fn render_candidate(
        &self,
        actor: &Actor,
        req: CandidateRequest,
    ) -> Result<ClipEdit, ApiError> {
        Ok(Studio::render_candidate(self, &actor.name, req).await?)
    }

    async fn nudge_clip(&self, actor: &Actor, req: NudgeRequest) -> Result<ClipEdit, ApiError> {
        Ok(Studio::nudge_clip(self, &actor.name, req).await?)
    }

    async fn discover_clips(
        &self,
        actor: &Actor,
        req: DiscoverClipsRequest,
    ) -> Result<DiscoverClipsOutcome, ApiError> {
        Ok(Studio::discover_clips(self, &actor.name, req).await?)
    }
}
