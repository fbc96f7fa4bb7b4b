//! The stages that make one file each: prep (the audio), enrich (title, summary, highlights), render
//! (the episode page) and package (the social posts). Transcribe is in [`super::transcribe`], the clips
//! in [`super::clips`].

use super::transcript::Cue;
use super::{Attempt, Step, StepError, cues, enrich, ffmpeg, render, social};
use app::api::Stage;
use ffmpeg::ToolError;

impl Attempt<'_> {
    pub(super) async fn prep(&mut self) -> Step {
        if !self.source.is_file() {
            return Err(StepError::Other(format!(
                "source video is missing: {}",
                self.source.display()
            )));
        }
        let tmp = self.scratch.join("audio.wav");
        ffmpeg::check_video(&self.source)?;
        let mut cmd = ffmpeg::ffmpeg();
        ffmpeg::input(&mut cmd, ffmpeg::Input::Video, &self.source);
        cmd.args([
            "-vn",
            "-ac",
            "1",
            "-ar",
            "16000",
            "-c:a",
            "pcm_s16le",
            "-f",
            "wav",
        ])
        .arg(&tmp);
        ffmpeg::run(cmd, &self.cancel, self.work_timeout()).await?;
        if self.duration <= 0.0 {
            self.duration = ffmpeg::probe_duration(
                &tmp,
                ffmpeg::Input::Wav,
                &self.cancel,
                ffmpeg::PROBE_TIMEOUT,
            )
            .await?;
        }
        let rel = self.p.root.audio(&self.id);
        self.keep(Stage::Prepped, "audio", &tmp, &rel).await
    }

    /// Momentary loudness every 100 ms (ffmpeg `ebur128` over the prepped audio), for scoring. Loudness
    /// only refines the choice: when it cannot be measured the stage goes on without it (logged).
    pub(super) async fn loudness(&self) -> Step<Vec<f64>> {
        let wav = self.p.root.abs(&self.p.root.audio(&self.id));
        match ffmpeg::loudness(&wav, &self.cancel, self.work_timeout()).await {
            Ok(frames) => Ok(frames),
            Err(ToolError::Cancelled) => Err(StepError::Tool(ToolError::Cancelled)),
            Err(e) => {
                tracing::warn!(episode = %self.id, error = %e, "loudness not measured; highlights scored without it");
                Ok(Vec::new())
            }
        }
    }

    pub(super) async fn enrich(
        &self,
        cues: &[Cue],
        words: &[cues::Word],
    ) -> Step<enrich::Enriched> {
        let discovery = self.discovery();
        let loudness = self.loudness().await?;
        let started = std::time::Instant::now();
        let e = enrich::enrich(&self.id, cues, words, &loudness, self.duration, discovery);
        tracing::info!(
            episode = %self.id,
            highlights = e.highlights.len(),
            candidates = e.candidates.len(),
            note = e.note.as_deref().unwrap_or(""),
            ms = started.elapsed().as_millis() as u64,
            "enriched"
        );
        let json = serde_json::to_vec_pretty(&e).map_err(|e| StepError::Other(e.to_string()))?;
        self.write(
            Stage::Enriched,
            "enriched",
            &self.p.root.enriched(&self.id),
            &json,
        )
        .await?;
        self.p
            .registry
            .set_title(self.id.as_str(), &e.title)
            .await?;
        Ok(e)
    }

    pub(super) async fn render(&self, e: &enrich::Enriched, cues: &[Cue]) -> Step {
        let clips: Vec<_> = (1..=e.highlights.len())
            .map(|n| {
                let dir = self.p.root.clip_dir(&self.id, n as u32);
                (
                    n,
                    format!("/files/{dir}/16x9_subtitled.mp4"),
                    format!("/files/{dir}/thumb.jpg"),
                )
            })
            .collect();
        let html = render::page(e, cues, &clips);
        let rel = format!("{}/index.html", self.p.root.page_dir(&self.id));
        self.write(Stage::Rendered, "page", &rel, html.as_bytes())
            .await
    }

    pub(super) async fn package(&self, e: &enrich::Enriched, clips: &[String]) -> Step {
        // The posts carry the best scored clip and are written from its sentences.
        let best = social::best_clip(e);
        let dir = best.map(|(n, _)| format!("{}/", self.p.root.clip_dir(&self.id, n as u32)));
        let pick = |file: &str| {
            clips
                .iter()
                .find(|c| {
                    dir.as_ref().is_none_or(|d| c.starts_with(d.as_str())) && c.ends_with(file)
                })
                .cloned()
        };
        let vertical = pick("9x16_subtitled.mp4");
        let wide = pick("16x9_subtitled.mp4");
        for (platform, limit) in social::PLATFORMS {
            let clip = match platform {
                "youtube" | "x" | "facebook" => wide.clone(),
                _ => vertical.clone(),
            };
            let post = social::post(platform, limit, e, best.map(|(_, h)| h), clip);
            let json =
                serde_json::to_vec_pretty(&post).map_err(|e| StepError::Other(e.to_string()))?;
            let rel = format!("{}/{platform}.json", self.p.root.social_dir(&self.id));
            self.write(Stage::Packaged, "social", &rel, &json).await?;
        }
        Ok(())
    }
}
