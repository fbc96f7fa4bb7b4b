//! One attempt at one episode: every stage after `discovered` in order, or one clip again; the checks
//! before each stage (cancel, injected failures, disk space), and how an attempt keeps the files it
//! makes (moved or written into place, then recorded).

use super::{Attempt, Pipeline, StageError, Step, StepError, discovery_for, highlights, space};
use super::{enrich, ffmpeg, transcript};
use crate::ids::EpisodeId;
use crate::registry::EpisodeRow;
use crate::storage;
use app::api::Stage;
use ffmpeg::ToolError;
use std::path::{Path, PathBuf};
use tokio_util::sync::CancellationToken;

impl Pipeline {
    /// Runs every stage after `discovered`, in order, for attempt `attempt`. No stage is skipped: a new
    /// attempt always starts from the source video.
    pub async fn run(
        &self,
        ep: &EpisodeRow,
        attempt: i64,
        cancel: CancellationToken,
    ) -> Result<(), StageError> {
        let mut a = self.attempt(ep, attempt, cancel, Stage::Prepped)?;
        let mut cues = Vec::new();
        let mut words = Vec::new();
        let mut enriched = None;
        let mut clips = Vec::new();
        for stage in &Stage::ALL[1..] {
            let stage = *stage;
            if a.cancel.is_cancelled() {
                return Err(StageError::Cancelled);
            }
            self.set_progress(&a.id, stage, 0).await;
            if let Some(reason) = self.injected_failure(&a.source, stage) {
                return Err(StageError::Failed { stage, reason });
            }
            self.admit(
                stage,
                space::estimate(stage, a.source_facts(), self.config.max_clips),
            )
            .map_err(|reason| StageError::Failed { stage, reason })?;
            let res = match stage {
                Stage::Prepped => a.prep().await,
                Stage::Transcribed => a.transcribe().await.map(|(c, w)| (cues, words) = (c, w)),
                Stage::Enriched => a.enrich(&cues, &words).await.map(|e| enriched = Some(e)),
                Stage::Rendered => match &enriched {
                    Some(e) => a.render(e, &cues).await,
                    None => Err(StepError::Other("enrichment missing".into())),
                },
                Stage::Clipped => match &enriched {
                    Some(e) => a.clips(e, &cues).await.map(|c| clips = c),
                    None => Err(StepError::Other("enrichment missing".into())),
                },
                Stage::Packaged => match &enriched {
                    Some(e) => a.package(e, &clips).await,
                    None => Err(StepError::Other("enrichment missing".into())),
                },
                Stage::Discovered => Ok(()),
            };
            match res {
                Ok(()) => {}
                Err(StepError::Tool(ToolError::Cancelled)) => return Err(StageError::Cancelled),
                Err(e) => {
                    return Err(StageError::Failed {
                        stage,
                        reason: space::name_full_disk(e.to_string()),
                    });
                }
            }
            self.registry
                .stage_done(a.id.as_str(), attempt, stage)
                .await
                .map_err(|e| StageError::Failed {
                    stage,
                    reason: space::name_full_disk(e.to_string()),
                })?;
        }
        // Scratch is only for this attempt's in-flight files; everything kept was moved into place. The
        // job removes it through the deletion primitive, audited (`Trigger::Scratch`).
        Ok(())
    }

    /// Cuts clip `n` again from the source, with the transcript and highlights the episode's earlier
    /// attempt left: the clip job of `regenerate_clip`. Every other file stays as it is.
    pub async fn run_clip(
        &self,
        ep: &EpisodeRow,
        attempt: i64,
        n: u32,
        cancel: CancellationToken,
    ) -> Result<(), StageError> {
        let failed = |reason: String| StageError::Failed {
            stage: Stage::Clipped,
            reason,
        };
        let a = self.attempt(ep, attempt, cancel, Stage::Clipped)?;
        self.set_progress(&a.id, Stage::Clipped, 0).await;
        self.admit(
            Stage::Clipped,
            space::estimate(Stage::Clipped, a.source_facts(), 1),
        )
        .map_err(failed)?;
        let read = |rel: String| {
            std::fs::read(self.root.abs(&rel))
                .map_err(|e| failed(format!("cannot read {rel}: {e}")))
        };
        let e: enrich::Enriched = serde_json::from_slice(&read(self.root.enriched(&a.id))?)
            .map_err(|e| failed(format!("enrichment unreadable: {e}")))?;
        let vtt = read(self.root.transcript(&a.id, "vtt"))?;
        let cues = transcript::parse(&String::from_utf8_lossy(&vtt));
        let h = e
            .highlights
            .get((n as usize).wrapping_sub(1))
            .ok_or_else(|| failed(format!("the episode has no highlight {n}")))?;
        match a.cut_clip(&e, h, n, &cues).await {
            Ok(_) => {}
            Err(StepError::Tool(ToolError::Cancelled)) => return Err(StageError::Cancelled),
            Err(e) => return Err(failed(space::name_full_disk(e.to_string()))),
        }
        // The episode's stage stays where the earlier attempt left it (packaged): one clip was redone,
        // not the stages after it, and the clip's rows were recorded fenced like any job's.
        self.set_progress(&a.id, Stage::Clipped, 100).await;
        Ok(())
    }

    fn attempt(
        &self,
        ep: &EpisodeRow,
        attempt: i64,
        cancel: CancellationToken,
        stage: Stage,
    ) -> Result<Attempt<'_>, StageError> {
        let id = EpisodeId::parse(&ep.id).map_err(|e| StageError::Failed {
            stage,
            reason: e.to_string(),
        })?;
        let scratch = self.scratch.attempt(&self.root, &id, attempt);
        std::fs::create_dir_all(&scratch).map_err(|e| StageError::Failed {
            stage,
            reason: format!("cannot create scratch dir: {e}"),
        })?;
        Ok(Attempt {
            p: self,
            source: self.root.abs(&ep.source_path),
            duration: ep.duration_secs.unwrap_or(0.0),
            id,
            n: attempt,
            scratch,
            cancel,
        })
    }

    pub(super) async fn set_progress(&self, id: &EpisodeId, stage: Stage, pct: u8) {
        if let Err(e) = self.registry.set_progress(id.as_str(), stage, pct).await {
            tracing::warn!(episode = %id, error = %e, "could not record progress");
        }
    }

    /// `EWG_FAIL_AT`, or a `<video>.fail-at` / `<video stem>.fail-at` sidecar naming a stage.
    fn injected_failure(&self, source: &Path, stage: Stage) -> Option<String> {
        if self.config.fail_at == Some(stage) {
            return Some(format!("injected failure (EWG_FAIL_AT={stage})"));
        }
        let mut with_ext = source.as_os_str().to_owned();
        with_ext.push(".fail-at");
        for sidecar in [PathBuf::from(with_ext), source.with_extension("fail-at")] {
            if let Ok(s) = std::fs::read_to_string(&sidecar)
                && Stage::parse(&s) == Some(stage)
            {
                return Some(format!(
                    "injected failure ({} names {stage})",
                    sidecar.file_name()?.to_string_lossy()
                ));
            }
        }
        None
    }
}

impl Attempt<'_> {
    /// The source's size and length, for the space estimate of a stage.
    pub(super) fn source_facts(&self) -> space::Source {
        space::Source {
            bytes: std::fs::metadata(&self.source).map_or(0, |m| m.len()),
            duration_secs: self.duration,
        }
    }

    /// Moves a finished scratch file into place and records it, in that order, as one step.
    pub(super) async fn keep(&self, stage: Stage, kind: &str, from: &Path, rel: &str) -> Step {
        let bytes = storage::move_into_place(&self.p.root, from, rel)?;
        self.record(stage, kind, rel, bytes).await
    }

    /// Writes generated bytes atomically into place and records them.
    pub(super) async fn write(&self, stage: Stage, kind: &str, rel: &str, data: &[u8]) -> Step {
        let bytes = storage::write_atomic(&self.p.root, rel, data)?;
        self.record(stage, kind, rel, bytes).await
    }

    pub(super) async fn record(&self, stage: Stage, kind: &str, rel: &str, bytes: i64) -> Step {
        self.p
            .registry
            .record_artifact(self.id.as_str(), kind, stage, rel, bytes, self.n)
            .await?;
        Ok(())
    }

    pub(super) fn discovery(&self) -> highlights::Discovery {
        discovery_for(&self.p.config, &self.source, &self.id)
    }

    pub(super) fn work_timeout(&self) -> std::time::Duration {
        ffmpeg::work_timeout(Some(self.duration).filter(|d| *d > 0.0))
    }
}
