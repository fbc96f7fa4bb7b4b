//! The processing pipeline: seven idempotent stages with real ffmpeg. Every file is written in the
//! attempt's scratch dir (or to a temp name), renamed into place and recorded in `artifacts` with the
//! attempt number, so cleanup always knows exactly what a stage produced.

pub mod child;
pub mod clip_edit;
pub mod cues;
pub mod discover;
pub mod enrich;
pub mod ffmpeg;
pub mod highlights;
pub mod render;
pub mod scratch;
pub mod social;
pub mod space;
pub mod sphinx;
pub mod text;
pub mod transcribe;
pub mod transcript;
pub mod wer;
pub mod whisper;

use crate::error::Error;
use crate::ids::EpisodeId;
use crate::registry::{EpisodeRow, Registry};
use crate::storage::{self, DataRoot};
use app::api::Stage;
use ffmpeg::ToolError;
use std::path::{Path, PathBuf};
use tokio_util::sync::CancellationToken;
use transcript::Cue;

/// Why an attempt stopped before the end.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("cancelled")]
    Cancelled,
    #[error("{stage}: {reason}")]
    Failed { stage: Stage, reason: String },
}

/// Pipeline settings that do not change while the server runs.
#[derive(Clone, Debug, Default)]
pub struct PipelineConfig {
    /// `EWG_FAIL_AT`: fail every attempt at this stage (tests, drills).
    pub fail_at: Option<Stage>,
    /// `EWG_TRANSCRIBE_CMD`: shell command reading `$EWG_AUDIO` and writing WebVTT to `$EWG_VTT`.
    pub transcribe_cmd: Option<String>,
    /// Most clips cut per episode (`EWG_MAX_CLIPS`).
    pub max_clips: usize,
    /// `EWG_CLIP_PRESET`: short (15–30 s), medium (20–60 s, the default) or long (60–120 s) clips.
    pub clip_preset: highlights::Preset,
    /// Keep each attempt's scratch dir after success (benchmarks replay commands that read it).
    pub keep_scratch: bool,
    /// `--transcriber` / `EWG_TRANSCRIBE`: which transcript source the transcribe stage uses.
    pub transcriber: transcribe::Transcriber,
    /// `EWG_DISK_RESERVE_MB`: the registry's reserve in bytes; `None`: a twentieth of the data root's
    /// file system, at most 64 MiB (see [`space`]).
    pub disk_reserve: Option<u64>,
    /// `--asr-model` / `EWG_ASR_MODEL`: the Whisper model of the built-in recognizer.
    pub asr_model: whisper::AsrModel,
    /// The Whisper virtualenv; `None`: [`whisper::env_dir`] (`EWG_ASR_DIR`, else `.tools/asr`).
    pub asr_dir: Option<PathBuf>,
}

impl PipelineConfig {
    /// Where the built-in recognizer's Whisper environment is.
    pub fn asr_env(&self) -> PathBuf {
        self.asr_dir.clone().unwrap_or_else(whisper::env_dir)
    }
}

impl PipelineConfig {
    pub fn from_env() -> Self {
        PipelineConfig {
            fail_at: std::env::var("EWG_FAIL_AT")
                .ok()
                .and_then(|s| Stage::parse(&s)),
            transcribe_cmd: std::env::var("EWG_TRANSCRIBE_CMD")
                .ok()
                .filter(|s| !s.trim().is_empty()),
            max_clips: std::env::var("EWG_MAX_CLIPS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(3),
            clip_preset: match std::env::var("EWG_CLIP_PRESET") {
                Ok(v) => highlights::Preset::parse(&v).unwrap_or_else(|| {
                    tracing::warn!(value = %v, "EWG_CLIP_PRESET is not short|medium|long; using medium");
                    highlights::Preset::default()
                }),
                Err(_) => highlights::Preset::default(),
            },
            keep_scratch: false,
            transcriber: transcribe::Transcriber::from_env().unwrap_or_default(),
            disk_reserve: std::env::var("EWG_DISK_RESERVE_MB")
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .map(|mb| mb << 20),
            asr_model: whisper::AsrModel::from_env().unwrap_or_default(),
            asr_dir: None,
        }
    }
}

#[derive(Clone)]
pub struct Pipeline {
    pub root: DataRoot,
    pub registry: Registry,
    pub config: PipelineConfig,
    /// Where attempts write in-flight files: `work/` in the data root, or a node-local `--scratch-dir`.
    pub scratch: scratch::Scratch,
}

/// One attempt at one episode.
struct Attempt<'a> {
    p: &'a Pipeline,
    id: EpisodeId,
    n: i64,
    source: PathBuf,
    scratch: PathBuf,
    duration: f64,
    cancel: CancellationToken,
}

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

    async fn set_progress(&self, id: &EpisodeId, stage: Stage, pct: u8) {
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

/// What to look for in an episode: `--clip-preset` / `--max-clips` (or `EWG_CLIP_PRESET` /
/// `EWG_MAX_CLIPS`), then the show's defaults in `inbox/<show>/show.clips`, then this episode's
/// `<video stem>.clips` (e.g. `preset=long count=5`).
pub fn discovery_for(
    config: &PipelineConfig,
    source: &Path,
    id: &EpisodeId,
) -> highlights::Discovery {
    let mut d = highlights::Discovery {
        preset: config.clip_preset,
        count: config.max_clips,
    };
    let files = [
        source.parent().map(|dir| dir.join("show.clips")),
        Some(source.with_extension("clips")),
    ];
    for file in files.into_iter().flatten() {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let (next, problems) = d.with_settings(&text);
        for problem in problems {
            tracing::warn!(episode = %id, file = %file.display(), "{problem}; ignored");
        }
        d = next;
    }
    d
}

#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error(transparent)]
    Tool(#[from] ToolError),
    #[error(transparent)]
    Store(#[from] Error),
    #[error("{0}")]
    Other(String),
}

type Step<T = ()> = Result<T, StepError>;

impl Attempt<'_> {
    /// The source's size and length, for the space estimate of a stage.
    fn source_facts(&self) -> space::Source {
        space::Source {
            bytes: std::fs::metadata(&self.source).map_or(0, |m| m.len()),
            duration_secs: self.duration,
        }
    }

    /// Moves a finished scratch file into place and records it, in that order, as one step.
    async fn keep(&self, stage: Stage, kind: &str, from: &Path, rel: &str) -> Step {
        let bytes = storage::move_into_place(&self.p.root, from, rel)?;
        self.record(stage, kind, rel, bytes).await
    }

    /// Writes generated bytes atomically into place and records them.
    async fn write(&self, stage: Stage, kind: &str, rel: &str, data: &[u8]) -> Step {
        let bytes = storage::write_atomic(&self.p.root, rel, data)?;
        self.record(stage, kind, rel, bytes).await
    }

    async fn record(&self, stage: Stage, kind: &str, rel: &str, bytes: i64) -> Step {
        self.p
            .registry
            .record_artifact(self.id.as_str(), kind, stage, rel, bytes, self.n)
            .await?;
        Ok(())
    }

    async fn prep(&mut self) -> Step {
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
    async fn loudness(&self) -> Step<Vec<f64>> {
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

    fn discovery(&self) -> highlights::Discovery {
        discovery_for(&self.p.config, &self.source, &self.id)
    }

    fn work_timeout(&self) -> std::time::Duration {
        ffmpeg::work_timeout(Some(self.duration).filter(|d| *d > 0.0))
    }

    async fn enrich(&self, cues: &[Cue], words: &[cues::Word]) -> Step<enrich::Enriched> {
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

    async fn render(&self, e: &enrich::Enriched, cues: &[Cue]) -> Step {
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

    /// Every highlight's clip, in order.
    async fn clips(&self, e: &enrich::Enriched, cues: &[Cue]) -> Step<Vec<String>> {
        let total = e.highlights.len().max(1);
        let mut kept = Vec::new();
        for (i, h) in e.highlights.iter().enumerate() {
            let n = i + 1;
            kept.extend(self.cut_clip(e, h, n as u32, cues).await?);
            self.p
                .set_progress(&self.id, Stage::Clipped, (n * 100 / total) as u8)
                .await;
        }
        Ok(kept)
    }

    /// One highlight: one ffmpeg run makes all four renditions and the thumbnail from a single decode;
    /// the clip's own posts (`posts.json`) are written from its sentences beside them.
    async fn cut_clip(
        &self,
        e: &enrich::Enriched,
        h: &enrich::Highlight,
        n: u32,
        cues: &[Cue],
    ) -> Step<Vec<String>> {
        let mut kept = Vec::new();
        let work = self.scratch.join(format!("clips/{n}"));
        std::fs::create_dir_all(&work).map_err(|e| Error::io(&work, e))?;
        let subs = transcript::window(cues, h.start, h.end);
        std::fs::write(work.join("sub.srt"), transcript::to_srt(&subs))
            .map_err(|e| Error::io(work.join("sub.srt"), e))?;
        let mut cmd = ffmpeg::ffmpeg();
        cmd.current_dir(&work).args([
            "-ss",
            &format!("{:.3}", h.start),
            "-t",
            &format!("{:.3}", h.end - h.start),
        ]);
        ffmpeg::input(&mut cmd, ffmpeg::Input::Video, &self.source);
        cmd.args(["-filter_complex", CLIP_FILTER]);
        for (label, file) in CLIP_OUTPUTS {
            cmd.args(["-map", label, "-map", "0:a?"])
                .args([
                    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                ])
                .args([
                    "-c:a",
                    "aac",
                    "-b:a",
                    "96k",
                    "-movflags",
                    "+faststart",
                    file,
                ]);
        }
        cmd.args(["-map", "[th]", "-frames:v", "1", "-q:v", "4", "thumb.jpg"]);
        let clip_secs = Some(h.end - h.start);
        ffmpeg::run(cmd, &self.cancel, ffmpeg::work_timeout(clip_secs)).await?;
        let dir = self.p.root.clip_dir(&self.id, n);
        for (_, file) in CLIP_OUTPUTS {
            let rel = format!("{dir}/{file}");
            self.keep(Stage::Clipped, "clip", &work.join(file), &rel)
                .await?;
            kept.push(rel);
        }
        self.keep(
            Stage::Clipped,
            "thumbnail",
            &work.join("thumb.jpg"),
            &format!("{dir}/thumb.jpg"),
        )
        .await?;
        let posts = social::clip_posts(e, h, &dir);
        let json =
            serde_json::to_vec_pretty(&posts).map_err(|e| StepError::Other(e.to_string()))?;
        self.write(
            Stage::Clipped,
            "social",
            &format!("{dir}/posts.json"),
            &json,
        )
        .await?;
        Ok(kept)
    }

    async fn package(&self, e: &enrich::Enriched, clips: &[String]) -> Step {
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

/// 16x9 at 640x360 (letterboxed), 9x16 at 360x640 (center crop), each clean and with burned-in
/// subtitles from `sub.srt` in the working directory, plus a 16x9 thumbnail.
const CLIP_FILTER: &str = "[0:v]scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1,split=4[w1][w2][th0][v0];\
[w2]subtitles=sub.srt[w2s];\
[v0]scale=-2:640,crop=360:640,setsar=1,split=2[v1][v2];\
[v2]subtitles=sub.srt[v2s];\
[th0]select=eq(n\\,0)[th]";

const CLIP_OUTPUTS: [(&str, &str); 4] = [
    ("[w1]", "16x9_clean.mp4"),
    ("[w2s]", "16x9_subtitled.mp4"),
    ("[v1]", "9x16_clean.mp4"),
    ("[v2s]", "9x16_subtitled.mp4"),
];
